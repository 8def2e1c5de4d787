package mpi_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/inventory/inventorytest"
	"github.com/goipc/ipc/mpi/mpitest"
)

// The children are MPI programs: the test binary re-executed by mpiexec as
// every rank of a job.
var children = map[string]func([]string) error{
	"basic":      childBasic,
	"p2p":        childP2P,
	"coll":       childColl,
	"python":     childPython,
	"abort":      childAbort,
	"exit":       childExit,
	"hang":       childHang,
	"procnull":   childProcNull,
	"unfinished": childUnfinished,
	"finalized":  childFinalized,
	"bwsame":     childBandwidthSameRanks,
	"procs":      childProcs,
}

func TestMain(m *testing.M) {
	// The Examples run MPI as singletons, which Open MPI as root refuses
	// without these.
	for _, kv := range mpitest.Env {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
	skipExamples()
	inventorytest.Main(m, children)
}

// job runs the child function name as every rank of an n-rank job (plus any
// extra MPMD apps) and returns its output, failing the test if a rank fails.
func job(t *testing.T, name string, n int, extra ...mpitest.App) mpitest.Result {
	t.Helper()
	return mpitest.Must(t, childEnv(name), append([]mpitest.App{{N: n, Argv: []string{os.Args[0]}}}, extra...)...)
}

// childEnv is the environment that makes the test binary run child name:
// what testutil.Child adds to ours.
func childEnv(name string) []string {
	return testutil.Child(name).Env[len(os.Environ()):]
}

// expectChecks fails the test unless rank 0 reported every check of suite.
func expectChecks(t *testing.T, r mpitest.Result, suite []check) {
	t.Helper()
	for _, c := range suite {
		if !strings.Contains(r.Stdout, "ok "+c.name+"\n") {
			t.Errorf("check %q did not report; stdout:\n%s\nstderr:\n%s", c.name, r.Stdout, r.Stderr)
		}
	}
}

func TestBasicOneRank(t *testing.T) {
	expectChecks(t, job(t, "basic", 1), slices.Concat(basicChecks, misuseChecks))
}

func TestPointToPointTwoRanks(t *testing.T) {
	expectChecks(t, job(t, "p2p", 2), slices.Concat(p2pChecks, requestChecks, inPlaceChecks))
}

func TestCollectivesFourRanks(t *testing.T) {
	expectChecks(t, job(t, "coll", 4), slices.Concat(collChecks, aliasChecks))
}

// TestMixedWithPython runs a Go rank and a Python mpi4py rank in one job: the
// Go types must arrive as the numpy types of the same MPI datatypes.
func TestMixedWithPython(t *testing.T) {
	if mpitest.Impl != "openmpi" {
		t.Skip("Debian's mpi4py is built against Open MPI")
	}
	py := testutil.RequirePython(t, "mpi4py", "numpy")
	script := testutil.RepoRoot() + "/csrc/mpi_types.py"
	r := job(t, "python", 1, mpitest.App{N: 1, Argv: []string{py, script}})
	for _, want := range pythonTypes {
		if !strings.Contains(r.Stdout, "python ok "+want+"\n") {
			t.Errorf("python rank did not confirm %s; stdout:\n%s", want, r.Stdout)
		}
	}
	if !strings.Contains(r.Stdout, "go ok allreduce 42\n") {
		t.Errorf("no allreduce across Go and Python; stdout:\n%s", r.Stdout)
	}
}

// TestAbort checks that Abort ends the whole job with its code, even while
// another rank is blocked. The last rank aborts.
func TestAbort(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "aborting")
	r := mpitest.Run(t, childEnv("abort"), mpitest.App{N: 2, Argv: []string{os.Args[0], marker}})
	if r.Err == nil || strings.Contains(r.Err.Error(), "hung") {
		t.Fatalf("job after Abort: %v, want a non-zero exit\nstdout:\n%s\nstderr:\n%s", r.Err, r.Stdout, r.Stderr)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("the last rank did not reach Abort (%v); stdout:\n%s\nstderr:\n%s", err, r.Stdout, r.Stderr)
	}
}

// TestHungJobKilled checks the harness: a job that never finishes is killed
// after the timeout and reported as hung.
func TestHungJobKilled(t *testing.T) {
	defer func(d time.Duration) { mpitest.Timeout = d }(mpitest.Timeout)
	mpitest.Timeout = 3 * time.Second
	r := mpitest.Run(t, childEnv("hang"), mpitest.App{N: 2, Argv: []string{os.Args[0]}})
	if r.Err == nil || !strings.Contains(r.Err.Error(), "hung") {
		t.Fatalf("hung job: err %v, want it killed as hung", r.Err)
	}
	if !strings.Contains(r.Stdout, "waiting\n") {
		t.Fatalf("the ranks did not start; stdout:\n%s\nstderr:\n%s", r.Stdout, r.Stderr)
	}
}
