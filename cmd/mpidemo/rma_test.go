package main

import (
	"fmt"
	"testing"

	"github.com/goipc/ipc/mpi/mpitest"
)

// TestRMA runs `mpidemo rma` on one node: the counter is count*S*(S+1)/2 and
// the shared sum is 0+1+...+S-1, printed once.
func TestRMA(t *testing.T) {
	for _, c := range []struct{ ranks, count int }{{1, 100}, {2, 100}, {4, 7}, {4, 0}} {
		args := []string{"rma"}
		if c.count != 100 {
			args = append(args, "--count", fmt.Sprint(c.count))
		}
		r := mpitest.Must(t, env, mpidemo(c.ranks, args...))
		s := c.ranks
		want := fmt.Sprintf("counter %d\nshared sum %d\n", c.count*s*(s+1)/2, s*(s-1)/2)
		if r.Stdout != want {
			t.Errorf("%d ranks, %v: stdout\n%s\nwant\n%s\nstderr:\n%s", c.ranks, args, r.Stdout, want, r.Stderr)
		}
	}
}
