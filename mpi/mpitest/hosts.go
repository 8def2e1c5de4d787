package mpitest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/goipc/ipc/internal/testutil"
)

// Hosts are test hosts that testhosts/testhosts brought up for one test: a
// head, where mpiexec runs, and nodes, each its own network, UTS, IPC and
// mount namespace, reached by the launchers through an ssh stand-in.
type Hosts struct {
	Dir     string   // the run's directory: hostfile, machinefile, ssh, ...
	Nodes   []string // the nodes' host names, in hostfile order
	Offline string   // a name every host resolves but no host answers
	script  string
}

// Script is the repository's test-host script.
func Script() string { return filepath.Join(testutil.RepoRoot(), "testhosts", "testhosts") }

// StartHosts brings up n nodes of slots slots each for the test, and tears
// them down at cleanup; up are more flags for `testhosts up` ("-o"). Without
// root or namespaces it skips with the reason, or fails the test under
// testutil.Strict.
func StartHosts(t testing.TB, n, slots int, up ...string) *Hosts {
	t.Helper()
	if _, err := exec.LookPath(Mpiexec); err != nil {
		testutil.Unavailable(t, "%s: %v", Mpiexec, err)
	}
	if os.Geteuid() != 0 {
		hostsUnavailable(t, "test hosts need root (network namespaces, links and mounts)")
	}
	if out, err := exec.Command("unshare", "--net", "--uts", "--ipc", "--mount", "true").CombinedOutput(); err != nil {
		hostsUnavailable(t, "test hosts need namespaces: unshare: %v %s", err, strings.TrimSpace(string(out)))
	}
	h := &Hosts{script: Script()}
	cmd := exec.Command(h.script, append([]string{"up", "-n", fmt.Sprint(n), "-s", fmt.Sprint(slots)}, up...)...)
	// The script's stdin is its lifeline: closing it tears the hosts down.
	// If this process dies first, SIGTERM runs the script's teardown.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	lifeline, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := testutil.Start(t, cmd)
	t.Cleanup(func() {
		lifeline.Close()
		if _, err := p.Wait(); err != nil {
			t.Errorf("testhosts teardown: %v\n%s", err, p.Stderr())
		}
	})
	line := p.Line()
	dir, ok := strings.CutPrefix(line, "ready ")
	if !ok {
		t.Fatalf("testhosts up printed %q, want \"ready DIR\"; stderr:\n%s", line, p.Stderr())
	}
	h.Dir = dir
	h.Nodes = strings.Fields(h.read(t, "hosts"))
	h.Offline = strings.TrimSpace(h.read(t, "offline"))
	return h
}

func hostsUnavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if testutil.Strict() {
		t.Fatalf(format+" (GOIPC_STRICT=1)", args...)
	}
	t.Skipf(format, args...)
}

func (h *Hosts) read(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(h.Dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Path is a file of the run's directory: "hostfile", "machinefile", "ssh".
func (h *Hosts) Path(name string) string { return filepath.Join(h.Dir, name) }

// On returns a command that runs argv on host ("head" or a node), with the
// caller's environment, as a shell on that host would.
func (h *Hosts) On(host string, argv ...string) *exec.Cmd {
	return exec.Command(h.script, append([]string{"exec", h.Dir, host}, argv...)...)
}

// Command returns the command line that runs apps across the hosts: mpiexec
// on the head, with the flags that reach the nodes (hostFlags) and forward
// the environment variables named in env.
func (h *Hosts) Command(env []string, apps ...App) []string {
	return append([]string{h.script, "exec", h.Dir, "head"}, command(hostFlags(h, env), apps)...)
}

// Run runs a job across the hosts, as Run does on this machine.
func (h *Hosts) Run(t testing.TB, env []string, apps ...App) Result {
	t.Helper()
	return run(t, h.Command(env, apps...), append(append(append([]string(nil), Env...), hostEnv(t.TempDir())...), env...))
}

// Must runs a job across the hosts and fails the test unless all ranks exit
// 0, or the job met MPICH's known deadlock in MPI_Finalize (finalizeHang),
// which is logged: then the caller's checks of the output still decide.
func (h *Hosts) Must(t testing.TB, env []string, apps ...App) Result {
	t.Helper()
	r := h.Run(t, env, apps...)
	if finalizeHang(r) {
		t.Logf("the job timed out, after its output: MPICH's deadlock in MPI_Finalize (see finalizeHang)\n%s", r.Stderr)
		r.Stdout = withoutTimeoutNotice(r.Stdout) // the ranks' output is what the caller checks
		return r
	}
	return must(t, r, h.Command(env, apps...))
}

// Leftovers lists the processes still running on any host, the hosts' own
// init aside: after a job has ended there must be none.
func (h *Hosts) Leftovers(t testing.TB) []string {
	t.Helper()
	out, err := exec.Command(h.script, "ps", h.Dir).Output()
	if err != nil {
		t.Fatalf("testhosts ps: %v", err)
	}
	return strings.FieldsFunc(string(out), func(r rune) bool { return r == '\n' })
}

// NoLeftovers fails the test if a process of an ended job still runs on a
// host after testutil.Timeout: a daemon may take a moment to notice that its
// job is gone.
func (h *Hosts) NoLeftovers(t testing.TB) {
	t.Helper()
	left := &leftovers{}
	testutil.WaitUntil(t, func() bool { left.procs = h.Leftovers(t); return len(left.procs) == 0 },
		"end of the job's processes on the hosts; still running:\n%v\n", left)
}

// leftovers prints the processes last seen, when the wait fails.
type leftovers struct{ procs []string }

func (l *leftovers) String() string { return strings.Join(l.procs, "\n") }

// envNames returns the names of env's NAME=value entries.
func envNames(env []string) []string {
	var names []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		names = append(names, name)
	}
	return names
}

// timeoutNotice ends the line Hydra prints, among the ranks' output, when
// MPIEXEC_TIMEOUT ends a job: "[mpiexec@HOST] APPLICATION TIMED OUT, ...".
const timeoutNotice = "APPLICATION TIMED OUT"

// withoutTimeoutNotice removes Hydra's timeout line from a job's stdout,
// leaving what the ranks printed.
func withoutTimeoutNotice(stdout string) string {
	var kept []string
	for _, line := range strings.SplitAfter(stdout, "\n") {
		if !(strings.HasPrefix(line, "[mpiexec@") && strings.Contains(line, timeoutNotice)) {
			kept = append(kept, line)
		}
	}
	return strings.Join(kept, "")
}
