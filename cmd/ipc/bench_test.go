package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goipc/ipc/cmd/ipc/internal/bench"
	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/inventory"
)

// benchPeers lays out a directory as `make build` does (bench_peer, mpidemo,
// openmpi/mpi_bench) with the peers built for this test, and returns the
// --bin and --csrc flags that point ipc bench at it. MPI's programs are
// built only where Open MPI is installed; without them the mpi rows must
// name the reason.
func benchPeers(t *testing.T) []string {
	t.Helper()
	bin := t.TempDir()
	link := func(target, name string) {
		os.MkdirAll(filepath.Dir(filepath.Join(bin, name)), 0o755)
		if err := os.Symlink(target, filepath.Join(bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	link(testutil.BuildC(t, "bench_peer", "-lrt", "-pthread"), "bench_peer")
	if flags, err := exec.Command("pkg-config", "--cflags", "--libs", "ompi-c").Output(); err == nil {
		link(testutil.BuildC(t, "mpi_bench", strings.Fields(string(flags))...), "openmpi/mpi_bench")
		mpidemo := filepath.Join(bin, "mpidemo")
		build := exec.Command("go", "build", "-o", mpidemo, "../mpidemo")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build mpidemo: %v\n%s", err, out)
		}
	} else if testutil.Strict() {
		t.Fatalf("Open MPI is not installed (pkg-config ompi-c: %v)", err)
	}
	return []string{"--bin", bin, "--csrc", filepath.Join(testutil.RepoRoot(), "csrc")}
}

// The fields every result carries, as ../../shared/CLI.md names them.
var benchFields = []string{"mechanism", "size", "peer", "placement", "mode", "p50_ns", "p99_ns",
	"p999_ns", "max_ns", "msgs_per_s", "cpu_ns_per_msg", "rounds"}

func TestBenchQuickJSON(t *testing.T) {
	testutil.RequirePython(t, "sysv_ipc")
	out := mustBench(t, append(benchPeers(t), "bench", "--quick", "--json")...)
	var doc struct {
		Machine map[string]any   `json:"machine"`
		Results []map[string]any `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("bench --json printed no JSON object: %v\n%s", err, out)
	}
	for _, k := range []string{"cpu", "cores", "kernel", "go"} {
		if doc.Machine[k] == nil || doc.Machine[k] == "" {
			t.Errorf("machine has no %q: %v", k, doc.Machine)
		}
	}
	type key struct{ mech, peer string }
	seen, measured := map[key]bool{}, map[key]bool{}
	for _, r := range doc.Results {
		for _, f := range benchFields {
			if _, ok := r[f]; !ok {
				t.Errorf("result %v has no field %q", r, f)
			}
		}
		if r["error"] != nil {
			t.Errorf("%s with the %s peer failed: %v", r["mechanism"], r["peer"], r["error"])
			continue
		}
		if r["placement"] != "cross" || r["mode"] != "latency" {
			t.Errorf("--quick measured %v %v, want cross latency", r["placement"], r["mode"])
		}
		k := key{r["mechanism"].(string), r["peer"].(string)}
		if reason, _ := r["skipped"].(string); reason != "" {
			if k.peer == "go" && k.mech != "mpi" {
				t.Errorf("%s with the Go peer was skipped: %s", k.mech, reason)
			}
			seen[k] = true
			continue
		}
		p50, p99, p999, maxNS := r["p50_ns"].(float64), r["p99_ns"].(float64), r["p999_ns"].(float64), r["max_ns"].(float64)
		if !(0 < p50 && p50 <= p99 && p99 <= p999 && p999 <= maxNS) || r["msgs_per_s"].(float64) <= 0 {
			t.Errorf("%s/%s: figures out of order or missing: %v", k.mech, k.peer, r)
		}
		if rounds := r["rounds"].([]any); len(rounds) != 2 {
			t.Errorf("%s/%s: %d rounds, --quick makes 2", k.mech, k.peer, len(rounds))
		}
		if cpu, _ := r["cpu_ns_per_msg"].(float64); cpu <= 0 && k.mech != "mpi" {
			t.Errorf("%s/%s: no CPU time per message: %v", k.mech, k.peer, r["cpu_ns_per_msg"])
		}
		seen[k], measured[k] = true, true
	}
	// The ring and eventfd speak to every peer: none may skip.
	for _, m := range []string{"ring", "eventfd"} {
		for _, p := range []string{"go", "c", "python"} {
			if seen[key{m, p}] && !measured[key{m, p}] {
				t.Errorf("%s with the %s peer was skipped, want figures", m, p)
			}
		}
	}
	for _, m := range bench.Names() {
		for _, p := range []string{"go", "c", "python"} {
			if !seen[key{m, p}] {
				t.Errorf("%s has no result with the %s peer (neither figures nor a reason to skip)", m, p)
			}
		}
	}
}

// Named mechanisms with default sizes: a doorbell runs at 0 and a queue
// clips a default above its limit, rather than refusing the defaults.
func TestBenchNamedWithDefaultSizes(t *testing.T) {
	for _, args := range [][]string{{"posix-sem", "--quick"}, {"sysv-msg", "--count", "20", "--rounds", "1"}} {
		out := mustBench(t, append([]string{"bench", "--peers", "go", "--json"}, args...)...)
		var doc struct{ Results []bench.Result }
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("ipc bench %v: %v\n%s", args, err, out)
		}
		var sizes []int
		for _, r := range doc.Results {
			if r.Messages == 0 {
				t.Errorf("ipc bench %v: %s %d not measured: %s%s", args, r.Mechanism, r.Size, r.Skipped, r.Error)
			}
			sizes = append(sizes, r.Size)
		}
		want := []int{0}
		if args[0] == "sysv-msg" {
			limit, _ := mustLimit(t, "sysv-msg")
			want = []int{64, 4096, limit} // 64KiB clipped to kernel.msgmax
		}
		if !slices.Equal(sizes, want) {
			t.Errorf("ipc bench %v measured sizes %v, want %v", args, sizes, want)
		}
	}
}

func mustLimit(t *testing.T, name string) (int, string) {
	t.Helper()
	m, err := bench.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return m.Limit()
}

func TestBenchBadInput(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing", "chart.png")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"bench", "bogus"}, 2, `unknown mechanism "bogus"`},
		{[]string{"bench", "posix-mq", "--sizes", "64KiB"}, 2, "above posix-mq's limit"},
		{[]string{"bench", "sysv-msg", "--sizes", "1MiB"}, 2, "above sysv-msg's limit"},
		{[]string{"bench", "posix-sem", "--sizes", "64"}, 2, "carries no payload"},
		{[]string{"bench", "ring", "--sizes", "32MiB"}, 2, "above ring's limit"},
		{[]string{"bench", "eventfd", "--sizes", "64"}, 2, "carries no payload"},
		{[]string{"bench", "--sizes", "0"}, 2, "invalid --sizes"},
		{[]string{"bench", "--mode", "fast"}, 2, "invalid --mode"},
		{[]string{"bench", "--placement", "left"}, 2, "invalid --placement"},
		{[]string{"bench", "--peers", "go,rust"}, 2, "invalid --peers"},
		{[]string{"bench", "--count", "0"}, 2, "--count"},
		{[]string{"bench", "pipe", "--count", "9000000000000000000", "--rounds", "1"}, 2, "at most 1000000000"},
		{[]string{"bench", "pipe", "fifo", "pipe"}, 2, `mechanism "pipe" is named twice`},
		{[]string{"bench", "pipe", "--sizes", "4096,64,4KiB"}, 2, "4096 bytes is given twice"},
		{[]string{"bench", "--chart", "chart.jpg"}, 2, "must end in .png or .svg"},
		{[]string{"bench", "--quick", "--chart", missing}, 1, "no such file or directory"},
	} {
		stdout, stderr, code := runIPC(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) || stdout != "" {
			t.Errorf("ipc %s: exit %d, stderr %q, stdout %q; want exit %d, an error with %q and nothing measured",
				strings.Join(tc.args, " "), code, stderr, stdout, tc.code, tc.want)
		}
	}
}

// TestBenchPeerDies: a peer killed in the middle of an exchange fails its
// row with the reason, how the peer ended, rather than what that did to the
// initiator's side ("aborted", "file already closed").
func TestBenchPeerDies(t *testing.T) {
	for _, mech := range []string{"posix-shm", "sysv-msg"} {
		cmd := ipcCommand(append(benchPeers(t), "bench", mech, "--peers", "go", "--count", "20", "--rounds", "1", "--sizes", "64")...)
		cmd.Env = append(cmd.Env, stallPeerEnv+"="+mech+":die")
		out, err := cmd.CombinedOutput()
		if code := cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(string(out), "FAILED: the peer ended mid-exchange (signal: killed)") {
			t.Errorf("bench %s with a peer that dies: %v, exit %d, output:\n%s\nwant exit 1 and a row that says the peer was killed", mech, err, code, out)
		}
	}
}

// TestBenchInterrupt stops a run with SIGINT while it measures its second
// mechanism: the first one's figures are printed, and no object is left.
// The second mechanism's Go peer stalls (stallPeerEnv), so the run is still
// measuring it when SIGINT comes, on a fast machine or a loaded one. With
// real peers the test raced the machine's speed: on two loaded cores (load
// 14) posix-sem's 20000 messages alone took 129 s with the race-built Go
// peer, past the 30 s wait for the segment; fewer messages, and a fast
// machine could end sysv-shm between two looks for it. A peer that stalls
// before it says ready must not hold the interrupt up either.
func TestBenchInterrupt(t *testing.T) {
	t.Run("exchanging", func(t *testing.T) { benchInterrupt(t, "sysv-shm") })
	t.Run("before ready", func(t *testing.T) { benchInterrupt(t, "sysv-shm:before-ready") })
}

// benchInterrupt interrupts a run of posix-sem and sysv-shm while sysv-shm's
// Go peer stalls as stallPeerEnv's value stall says.
func benchInterrupt(t *testing.T, stall string) {
	cmd := ipcCommand(append(benchPeers(t), "bench", "posix-sem", "sysv-shm", "--peers", "go,c",
		"--count", "200", "--rounds", "1", "--json")...)
	cmd.Env = append(cmd.Env, stallPeerEnv+"="+stall)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	t.Cleanup(func() { cmd.Process.Kill() })
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// posix-sem is done once the sysv-shm segment exists, which stays
	// while its peer stalls. A run that ends before says why, rather than
	// leaving the wait to time out.
	testutil.WaitUntil(t, func() bool {
		select {
		case err := <-done:
			t.Fatalf("ipc bench ended before its System V segment appeared: %v\nstderr: %s\nstdout: %s", err, stderr.String(), stdout.String())
		default:
		}
		return slices.ContainsFunc(benchObjects(t, pid), func(o inventory.Object) bool {
			return o.Kind == inventory.SysvShm
		})
	}, "System V segment of ipc bench %d", pid)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := testutil.Recv(t, done)
	if code := cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(stderr.String(), "interrupted") {
		t.Fatalf("interrupted bench: %v, exit %d, stderr %q; want exit 1 and interrupted", err, code, stderr.String())
	}
	var doc struct{ Results []bench.Result }
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
		t.Fatalf("interrupted bench printed no JSON: %v\n%s", err, stdout.String())
	}
	measured := map[string]int{}
	for _, r := range doc.Results {
		if r.Messages > 0 {
			measured[r.Mechanism]++
		}
	}
	if measured["posix-sem"] != 2 || measured["sysv-shm"] != 0 {
		t.Errorf("interrupted bench printed %d measured posix-sem rows and %d sysv-shm ones, want 2 (go, c) and 0 (interrupted): %+v",
			measured["posix-sem"], measured["sysv-shm"], doc.Results)
	}
	if left := benchObjects(t, pid); len(left) > 0 {
		t.Errorf("interrupted bench left %d objects behind: %+v", len(left), left)
	}
	if tmp, _ := filepath.Glob(filepath.Join(os.TempDir(), fmt.Sprintf("ipc-bench-%d-*", pid))); len(tmp) > 0 {
		t.Errorf("interrupted bench left its directory behind: %v", tmp)
	}
}

// mustBench runs `ipc args...`, fails the test unless it exits 0, and
// checks that it left no object behind.
func mustBench(t *testing.T, args ...string) string {
	t.Helper()
	cmd := ipcCommand(args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// A whole --quick run starts a hundred peers and MPI's jobs, which on
	// a loaded machine takes longer than testutil.Timeout: it is bounded
	// by the test's own deadline instead, past which SIGINT makes ipc bench
	// stop and remove its objects.
	limit := 5 * time.Minute
	if d, ok := t.Deadline(); ok {
		limit = min(limit, time.Until(d)-testutil.Timeout)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("ipc %v: %v\nstderr: %s", args, err, stderr.String())
		}
	case <-time.After(limit):
		cmd.Process.Signal(syscall.SIGINT)
		testutil.Recv(t, done)
		t.Fatalf("ipc %v did not finish within %v\nstderr: %s", args, limit, stderr.String())
	}
	if left := benchObjects(t, cmd.Process.Pid); len(left) > 0 {
		t.Errorf("ipc %v left %d objects behind: %+v", args, len(left), left)
	}
	return stdout.String()
}

// benchObjects lists the IPC objects that the ipc bench process pid named:
// POSIX names ipc-bench-PID-N, System V keys derived from them.
func benchObjects(t *testing.T, pid int) []inventory.Object {
	t.Helper()
	prefix := fmt.Sprintf("ipc-bench-%d-", pid)
	keys := map[int64]bool{}
	for n := 1; n <= 1000; n++ {
		keys[bench.KeyOf(fmt.Sprint(prefix, n))] = true
	}
	objs, err := inventory.List()
	if err != nil {
		t.Fatal(err)
	}
	var mine []inventory.Object
	for _, o := range objs {
		if strings.Contains(o.Name, prefix) || keys[o.Key] {
			mine = append(mine, o)
		}
	}
	return mine
}
