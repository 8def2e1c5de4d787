package mpi_test

import (
	"cmp"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/mpi"
	"github.com/goipc/ipc/mpi/mpitest"
)

// TestInitSpareP checks that Init gives a rank bound to one CPU a second P,
// and leaves GOMAXPROCS alone when the environment sets it or the rank has
// more CPUs (and more Ps). Rank 0 runs under taskset on one CPU; rank 1
// where the launcher puts it (Open MPI binds it to a core, MPICH does not).
func TestInitSpareP(t *testing.T) {
	taskset, err := exec.LookPath("taskset")
	if err != nil {
		testutil.Unavailable(t, "taskset: %v", err)
	}
	for _, env := range []string{"", "GOMAXPROCS=1"} {
		apps := []mpitest.App{{N: 1, Argv: []string{taskset, "-c", "0", os.Args[0]}}, {N: 1, Argv: []string{os.Args[0]}}}
		r := mpitest.Must(t, append(childEnv("procs"), strings.Fields(env)...), apps...)
		label := cmp.Or(env, "GOMAXPROCS unset")
		for _, line := range r.Lines() {
			var rank, cpus, before, after int
			if _, err := fmt.Sscanf(line, "rank %d cpus %d gomaxprocs %d %d", &rank, &cpus, &before, &after); err != nil {
				t.Fatalf("%s: bad line %q in\n%s", label, line, r.Stdout)
			}
			want := before
			if env == "" && (before == 1 || cpus == 1) {
				want = 2
			}
			if after != want {
				t.Errorf("%s: rank %d on %d CPUs: GOMAXPROCS %d before Init, %d after, want %d", label, rank, cpus, before, after, want)
			}
			if rank == 0 && (cpus != 1 || before != 1 && env == "") {
				t.Errorf("%s: rank 0 under taskset has %d CPUs and GOMAXPROCS %d, want 1 and 1", label, cpus, before)
			}
		}
		if !strings.Contains(r.Stdout, "rank 0 ") || !strings.Contains(r.Stdout, "rank 1 ") {
			t.Errorf("%s: a rank did not report:\n%s", label, r.Stdout)
		}
	}
}

// childProcs prints the rank's CPUs after Init and GOMAXPROCS before and
// after it, for TestInitSpareP.
func childProcs([]string) error {
	before := runtime.GOMAXPROCS(0)
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		return err
	}
	var cpus unix.CPUSet
	if err := unix.SchedGetaffinity(0, &cpus); err != nil {
		return err
	}
	fmt.Printf("rank %d cpus %d gomaxprocs %d %d\n", mpi.World().Rank(), cpus.Count(), before, runtime.GOMAXPROCS(0))
	return mpi.Finalize()
}
