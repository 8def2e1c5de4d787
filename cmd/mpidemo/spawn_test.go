package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/mpi/mpitest"
)

// TestSpawn runs `mpidemo spawn` from jobs of 1, 2 and 4 ranks: the merged
// communicator holds the parents and the children, and only its rank 0
// prints. MPICH 4.0's ch4:ucx device has no dynamic processes: the job must
// fail with that reason, said once (every rank said it).
func TestSpawn(t *testing.T) {
	for _, c := range []struct{ ranks, children int }{{1, 2}, {2, 1}, {4, 3}} {
		args := []string{"spawn"}
		if c.children != 2 {
			args = append(args, "--children", fmt.Sprint(c.children))
		}
		if mpitest.Impl == "mpich" {
			r := mpitest.Run(t, env, mpidemo(c.ranks, args...))
			if r.Err == nil || strings.Count(r.Stderr, "no dynamic processes") != 1 {
				t.Errorf("%d ranks under MPICH: %v, stderr\n%s\nwant a failure that says why, once", c.ranks, r.Err, r.Stderr)
			}
			continue
		}
		r := mpitest.Must(t, env, mpidemo(c.ranks, args...))
		if want := fmt.Sprintf("spawned %d, merged size %d\n", c.children, c.ranks+c.children); r.Stdout != want {
			t.Errorf("%d ranks, %v: stdout\n%s\nwant\n%s\nstderr:\n%s", c.ranks, args, r.Stdout, want, r.Stderr)
		}
	}
}

// TestSpawnUsage: --children outside 1..1024 is a usage error, before MPI
// starts (so the binary runs alone here).
func TestSpawnUsage(t *testing.T) {
	for _, n := range []string{"0", "-1", "1025"} {
		out, err := testutil.Child("mpidemo", "spawn", "--children", n).CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), "--children must be between 1 and 1024") {
			t.Errorf("--children %s: %v, output\n%s\nwant exit 2 and the range", n, err, out)
		}
	}
}

// TestSpawnOversubscribes spawns more children than the machine has cores
// from a job that may not oversubscribe (no --oversubscribe, no
// OMPI_MCA_rmaps_base_oversubscribe): without the Info map_by
// ":OVERSUBSCRIBE" that mpidemo passes, Open MPI 4.1 waits for slots forever.
func TestSpawnOversubscribes(t *testing.T) {
	if mpitest.Impl == "mpich" {
		t.Skip("MPICH 4.0's ch4:ucx device spawns nothing (TestSpawn checks its error)")
	}
	n := runtime.NumCPU() + 2
	cmd := exec.Command(mpitest.Mpiexec, "-n", "1", os.Args[0], "spawn", "--children", fmt.Sprint(n))
	for _, kv := range slices.Concat(os.Environ(), mpitest.Env, env) {
		if !strings.HasPrefix(kv, "OMPI_MCA_rmaps_base_oversubscribe=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	p := testutil.Start(t, cmd)
	p.Expect(fmt.Sprintf("spawned %d, merged size %d", n, n+1))
	p.MustSucceed()
}
