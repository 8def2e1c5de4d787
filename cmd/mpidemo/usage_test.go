package main

import (
	"strings"
	"testing"

	"github.com/goipc/ipc/internal/testutil"
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

// In a job of two programs (MPMD), the one with the bad command line says
// so even when it is not rank 0, and the job ends: the other program's
// ranks do not wait for it forever (Hydra ends no job for a rank's exit
// status before MPI_Init) nor end without a word (Open MPI).
func TestUsageErrorMPMD(t *testing.T) {
	for _, bad := range []int{0, 1} {
		apps := []mpitest.App{mpidemo(1, "pingpong", "--iters", "10"), mpidemo(1, "pingpong", "--iters", "10")}
		apps[bad] = mpidemo(1, "pingpong", "--iters", "lots")
		r := mpitest.Run(t, env, apps...)
		const want = `mpidemo: invalid --iters "lots": want a whole number`
		if r.Err == nil || strings.Count(r.Stderr, want) != 1 {
			t.Errorf("bad command line in app %d of 2: %v, stderr:\n%s\nwant %q once", bad, r.Err, r.Stderr, want)
		}
	}
}

// --iters and --window are bounded, in mpidemo and in its C twin alike: a
// count near the int's end overflowed warm-up plus iterations (the table
// printed -0.00 us), and a window of 10^11 requests made MPICH assert.
func TestBenchFlagBounds(t *testing.T) {
	c := testutil.BuildC(t, "mpi_bench", mpitest.CFlags(t)...)
	for _, args := range [][]string{
		{"pingpong", "--iters", "9000000000000000000"},
		{"bw", "--iters", "9000000000000000000"},
		{"bw", "--window", "100000000000"},
	} {
		args = append(args, "--sizes", "8")
		for i, app := range []mpitest.App{mpidemo(2, args...), {N: 2, Argv: append([]string{c}, args...)}} {
			r := mpitest.Run(t, env, app)
			// The C twin says why, then calls MPI_Abort, after which
			// Hydra may drop what it printed.
			said := strings.Contains(r.Stderr, "1 to 1000000000") || (i == 1 && mpitest.Impl == "mpich")
			if r.Err == nil || !said || strings.Contains(r.Stdout, "size (B)") {
				t.Errorf("%v: %v, stdout %q, stderr:\n%s\nwant a usage error and no table", app.Argv, r.Err, r.Stdout, r.Stderr)
			}
		}
	}
}

// Help asked of every rank is printed once, by rank 0, and the job exits 0.
func TestHelpOnce(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"pi", "--help"}, {"help", "types"}} {
		r := mpitest.Must(t, env, mpidemo(3, args...))
		if n := strings.Count(r.Stdout, "Usage:"); n != 1 {
			t.Errorf("3 ranks, %v: help printed %d times, want once:\n%s", args, n, r.Stdout)
		}
	}
}

// Help asked of one program of an MPMD job (mpiexec -n 1 mpidemo pi : -n 1
// mpidemo --help) is printed by it, and the job ends: the other program's
// ranks waited for the help rank forever under both launchers (it exited
// before MPI_Init).
func TestHelpMPMD(t *testing.T) {
	for _, at := range []int{0, 1} {
		apps := []mpitest.App{mpidemo(1, "pi", "--intervals", "10"), mpidemo(1, "pi", "--intervals", "10")}
		apps[at] = mpidemo(1, "pi", "--help")
		r := mpitest.Run(t, env, apps...)
		if r.Err != nil && strings.Contains(r.Err.Error(), "hung") {
			t.Fatalf("help in app %d of 2: %v\nstdout:\n%s", at, r.Err, r.Stdout)
		}
		if n := strings.Count(r.Stdout, "Usage:"); n != 1 || strings.Contains(r.Stdout, "pi is approximately") {
			t.Errorf("help in app %d of 2 (%v): help printed %d times, want once and no pi:\n%s\nstderr:\n%s", at, r.Err, n, r.Stdout, r.Stderr)
		}
	}
}
