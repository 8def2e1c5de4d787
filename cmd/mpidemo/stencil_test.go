package main

import (
	"fmt"
	"strings"
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

// TestStencilTooSmall: a grid with fewer points a side than the ranks split
// it into is an error every rank knows: rank 0 says it once and the job ends
// without MPI_Abort, whose noise (and, under Hydra, loss of what the rank
// printed) would hide it.
func TestStencilTooSmall(t *testing.T) {
	r := mpitest.Run(t, env, mpidemo(2, "stencil", "--n", "1"))
	const want = "mpidemo: rank 0: a grid of 1 points a side cannot be split 2 x 1"
	if r.Err == nil || strings.Count(r.Stderr, "cannot be split") != 1 || !strings.Contains(r.Stderr, want) ||
		strings.Contains(strings.ToLower(r.Stderr), "mpi_abort") {
		t.Fatalf("stencil --n 1 on 2 ranks: %v, stderr:\n%s\nwant %q once, and no MPI_Abort", r.Err, r.Stderr, want)
	}
}

// TestStencilBounds: a grid of more than 1GiB is a usage error; one far
// beyond memory crashed the rank with the Go runtime's stack trace.
func TestStencilBounds(t *testing.T) {
	for _, n := range []string{"0", "11586", "100000"} {
		r := mpitest.Run(t, env, mpidemo(1, "stencil", "--n", n, "--steps", "1"))
		const want = "mpidemo: --n must be between 1 and 11585 (a grid of at most 1GiB)"
		if r.Err == nil || !strings.Contains(r.Stderr, want) || strings.Contains(r.Stderr, "goroutine") {
			t.Errorf("--n %s: %v, stderr:\n%.2000s\nwant %q", n, r.Err, r.Stderr, want)
		}
	}
}
