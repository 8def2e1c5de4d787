package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/inventory/inventorytest"
	"github.com/goipc/ipc/mpi/mpitest"
)

// The test binary re-executes itself as mpidemo, under mpiexec or alone.
func TestMain(m *testing.M) {
	inventorytest.Main(m, map[string]func([]string) error{
		"mpidemo": func(args []string) error {
			rootCmd.SetArgs(args)
			main()
			return nil
		},
	})
}

// mpidemo is an App running this binary as mpidemo with args.
func mpidemo(n int, args ...string) mpitest.App {
	return mpitest.App{N: n, Argv: append([]string{os.Args[0]}, args...)}
}

var env = testutil.Child("mpidemo").Env[len(os.Environ()):]

// classicLines matches the example's three lines, whoever prints them.
var (
	drew     = regexp.MustCompile(`(?m)^Process 1 drew the number (\S+)$`)
	received = regexp.MustCompile(`(?m)^Process 0 received the number (\S+)$`)
)

// checkClassic verifies the classic example's output: rank 0 starts at 0.0
// and receives exactly what rank 1 drew, printed the same way.
func checkClassic(t *testing.T, r mpitest.Result) {
	t.Helper()
	d, g := drew.FindStringSubmatch(r.Stdout), received.FindStringSubmatch(r.Stdout)
	if !strings.Contains(r.Stdout, "Process 0 before receiving has the number 0.0\n") || d == nil || g == nil {
		t.Fatalf("output is not the classic example's:\n%s\nstderr:\n%s", r.Stdout, r.Stderr)
	}
	if x, err := strconv.ParseFloat(d[1], 64); err != nil || x < 0 || x >= 1 || d[1] != g[1] {
		t.Fatalf("rank 1 drew %q, rank 0 received %q", d[1], g[1])
	}
}

func TestClassic(t *testing.T) {
	checkClassic(t, mpitest.Must(t, env, mpidemo(3)))
}

func TestClassicNeedsTwoRanks(t *testing.T) {
	r := mpitest.Run(t, env, mpidemo(1))
	if r.Err == nil || !strings.Contains(r.Stderr, "mpidemo: needs at least 2 ranks, the job has 1") {
		t.Fatalf("one rank: %v, stderr:\n%s", r.Err, r.Stderr)
	}
}

// TestClassicWithC pairs a Go rank with csrc/mpi_classic.c, in both roles.
func TestClassicWithC(t *testing.T) {
	peer := testutil.BuildC(t, "mpi_classic", mpitest.CFlags(t)...)
	c := mpitest.App{N: 1, Argv: []string{peer}}
	t.Run("go receives", func(t *testing.T) { checkClassic(t, mpitest.Must(t, env, mpidemo(1), c)) })
	t.Run("go sends", func(t *testing.T) { checkClassic(t, mpitest.Must(t, env, c, mpidemo(1))) })
}

// TestClassicWithPython pairs a Go rank with csrc/mpi_classic.py (mpi4py), in
// both roles.
func TestClassicWithPython(t *testing.T) {
	if mpitest.Impl != "openmpi" {
		t.Skip("Debian's mpi4py is built against Open MPI")
	}
	py := mpitest.App{N: 1, Argv: []string{testutil.RequirePython(t, "mpi4py", "numpy"),
		filepath.Join(testutil.RepoRoot(), "csrc", "mpi_classic.py")}}
	t.Run("go receives", func(t *testing.T) { checkClassic(t, mpitest.Must(t, env, mpidemo(1), py)) })
	t.Run("go sends", func(t *testing.T) { checkClassic(t, mpitest.Must(t, env, py, mpidemo(1))) })
}

func TestRing(t *testing.T) { checkRing(t, mpitest.Must(t, env, mpidemo(4, "ring")), 4) }

// checkRing verifies an n-rank ring: rank r gets the sum of the ranks before
// it, and rank 0 the sum of all.
func checkRing(t *testing.T, r mpitest.Result, n int) {
	t.Helper()
	want := []string{fmt.Sprintf("Process 0 received token %d from process %d: the sum of all ranks", n*(n-1)/2, n-1)}
	for i := 1; i < n; i++ {
		want = append(want, fmt.Sprintf("Process %d received token %d from process %d", i, i*(i-1)/2, i-1))
	}
	for _, w := range want {
		if !strings.Contains(r.Stdout, w+"\n") {
			t.Errorf("missing %q in:\n%s", w, r.Stdout)
		}
	}
}

func TestPi(t *testing.T) { checkPi(t, mpitest.Must(t, env, mpidemo(4, piArgs...)), 4) }

var piArgs = []string{"pi", "--intervals", "100000"}

// checkPi verifies pi from piArgs on n ranks.
func checkPi(t *testing.T, r mpitest.Result, n int) {
	t.Helper()
	m := regexp.MustCompile(fmt.Sprintf(`pi is approximately (\S+), error (\S+) \(100000 intervals, %d ranks`, n)).FindStringSubmatch(r.Stdout)
	if m == nil {
		t.Fatalf("no result in:\n%s", r.Stdout)
	}
	if e, _ := strconv.ParseFloat(m[2], 64); !strings.HasPrefix(m[1], "3.14159265") || e > 1e-10 {
		t.Fatalf("pi %s, error %s", m[1], m[2])
	}
}

// table parses a benchmark's rows: size and figure.
func table(t testing.TB, out string) map[int]float64 {
	t.Helper()
	rows := map[int]float64{}
	for size, vs := range sizedRows(t, out) {
		rows[size] = vs[len(vs)-1]
	}
	return rows
}

// sizedRows parses the lines "SIZE FIGURE" of a benchmark's output (its
// table, or its samples), by size in the order they came.
func sizedRows(t testing.TB, out string) map[int][]float64 {
	t.Helper()
	rows := map[int][]float64{}
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		if len(f) != 2 || strings.HasPrefix(line, "#") {
			continue
		}
		size, err1 := strconv.Atoi(f[0])
		v, err2 := strconv.ParseFloat(f[1], 64)
		if err1 != nil || err2 != nil || v <= 0 {
			t.Fatalf("bad row %q in:\n%s", line, out)
		}
		rows[size] = append(rows[size], v)
	}
	return rows
}

// TestPingpongWithC runs Go's pingpong against the C baseline's: the same
// protocol, so each rank can be either.
func TestPingpongWithC(t *testing.T) {
	peer := testutil.BuildC(t, "mpi_bench", mpitest.CFlags(t)...)
	r := mpitest.Must(t, env, mpidemo(1, pingpongArgs...), mpitest.App{N: 1, Argv: append([]string{peer}, pingpongArgs...)})
	if !strings.HasPrefix(r.Stdout, "# mpidemo pingpong: Go, ") {
		t.Fatalf("rank 0 is not Go's:\n%s", r.Stdout)
	}
	checkLatencyTable(t, r)
}

var pingpongArgs = []string{"pingpong", "--sizes", "0,8,4KiB,1MiB", "--iters", "50"}

// checkLatencyTable verifies the table of pingpongArgs. Only its shape is
// checked: times depend on the machine's load (busy-polling ranks on shared
// cores take milliseconds a message).
func checkLatencyTable(t *testing.T, r mpitest.Result) {
	t.Helper()
	rows := table(t, r.Stdout)
	for _, size := range []int{0, 8, 4 << 10, 1 << 20} {
		if _, ok := rows[size]; !ok || len(rows) != 4 {
			t.Fatalf("latency table %v, want a row for each of 0, 8, 4KiB and 1MiB:\n%s", rows, r.Stdout)
		}
	}
}

func TestBandwidth(t *testing.T) {
	for _, args := range [][]string{bwArgs, bwPersistentArgs} {
		checkBandwidthTable(t, mpitest.Must(t, env, mpidemo(3, args...)))
	}
}

var (
	bwArgs           = []string{"bw", "--sizes", "1KiB,64KiB", "--iters", "10", "--window", "8"}
	bwPersistentArgs = append(bwArgs[:len(bwArgs):len(bwArgs)], "--persistent")
)

// TestBandwidthWithC runs Go's bw against the C baseline's, both ways round,
// with a call per message and with persistent requests: each pattern is the
// same protocol in both programs, so each rank can be either.
func TestBandwidthWithC(t *testing.T) {
	peer := testutil.BuildC(t, "mpi_bench", mpitest.CFlags(t)...)
	for _, args := range [][]string{bwArgs, bwPersistentArgs} {
		c := mpitest.App{N: 1, Argv: append([]string{peer}, args...)}
		checkBandwidthTable(t, mpitest.Must(t, env, mpidemo(1, args...), c))
		checkBandwidthTable(t, mpitest.Must(t, env, c, mpidemo(1, args...)))
	}
}

func checkBandwidthTable(t *testing.T, r mpitest.Result) {
	t.Helper()
	if rows := table(t, r.Stdout); len(rows) != 2 || rows[64<<10] == 0 || rows[1<<10] == 0 {
		t.Fatalf("bandwidth table %v, want rows for 1KiB and 64KiB:\n%s", rows, r.Stdout)
	}
}

// TestStdoutFull: a rank whose standard output fails (a full disk, here
// /dev/full) says so on stderr and exits 1, not 0 with its results lost.
// The binary runs alone, a singleton MPI process.
func TestStdoutFull(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip(err)
	}
	defer full.Close()
	cmd := testutil.Child("mpidemo", "pi", "--intervals", "1000")
	cmd.Env = append(append(cmd.Env, mpitest.Env...), "OMPI_MCA_orte_tmpdir_base="+t.TempDir())
	cmd.Stdout = full
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(stderr.String(), "mpidemo: write stdout: no space left on device") {
		t.Errorf("mpidemo pi > /dev/full: %v, stderr %q; want exit 1 saying the write failed", err, stderr.String())
	}
}

// TestUsage runs mpidemo without mpiexec: bad command lines exit 2 before MPI
// starts.
func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"bogus"}, {"pingpong", "--sizes", "8,x"}, {"bw", "--iters", "0"}, {"pi", "--intervals", "-1"}, {"types", "--count", "-1"}, {"stencil", "--n", "0"}, {"rma", "--count", "-1"}} {
		cmd := testutil.Child("mpidemo", args...)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.HasPrefix(string(out), "mpidemo: ") {
			t.Errorf("mpidemo %v: %v, output %q; want exit 2 with a message", args, err, out)
		}
	}
}
