package main

import (
	"fmt"
	"testing"

	"github.com/goipc/ipc/mpi/mpitest"
)

// serialChecksum is the stencil computed on one grid, without MPI, as the
// reference the ranks' result must equal to the last digit.
func serialChecksum(n, steps int) string {
	u, next := make([][]float64, n), make([][]float64, n)
	for i := range u {
		u[i], next[i] = make([]float64, n), make([]float64, n)
	}
	for j := range n {
		u[0][j], next[0][j] = 1, 1
	}
	for range steps {
		for i := 1; i < n-1; i++ {
			for j := 1; j < n-1; j++ {
				next[i][j] = (u[i-1][j] + u[i+1][j] + u[i][j-1] + u[i][j+1]) / 4
			}
		}
		u, next = next, u
	}
	sum := 0.0
	for i := range u {
		for _, x := range u[i] {
			sum += x
		}
	}
	return fmt.Sprintf("checksum %.12e\n", sum)
}

// TestStencil checks that the checksum is the serial one for 1, 2 and 4
// ranks (grids of 1x1, 2x1 and 2x2), and for a grid that does not split
// evenly.
func TestStencil(t *testing.T) {
	want := serialChecksum(64, 100)
	for _, n := range []int{1, 2, 4} {
		t.Run(fmt.Sprint(n, " ranks"), func(t *testing.T) {
			if r := mpitest.Must(t, env, mpidemo(n, "stencil")); r.Stdout != want {
				t.Fatalf("printed %q, want %q", r.Stdout, want)
			}
		})
	}
	t.Run("uneven", func(t *testing.T) {
		if r, want := mpitest.Must(t, env, mpidemo(4, "stencil", "--n", "7", "--steps", "3")), serialChecksum(7, 3); r.Stdout != want {
			t.Fatalf("printed %q, want %q", r.Stdout, want)
		}
	})
}
