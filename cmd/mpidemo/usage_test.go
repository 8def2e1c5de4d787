package main

import (
	"strings"
	"testing"

	"github.com/goipc/ipc/mpi/mpitest"
)

// A bad command line is said once, by rank 0, naming the flag and the value,
// however many ranks see it; every rank still exits 2.
func TestUsageErrorOnce(t *testing.T) {
	r := mpitest.Run(t, env, mpidemo(3, "pingpong", "--iters", "lots"))
	const want = `mpidemo: invalid --iters "lots": want a whole number`
	if r.Err == nil || strings.Count(r.Stderr, want) != 1 || strings.Contains(r.Stderr, "strconv") {
		t.Fatalf("3 ranks, --iters lots: %v, stderr:\n%s\nwant %q once", r.Err, r.Stderr, want)
	}
}
