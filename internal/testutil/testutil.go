// Package testutil holds what goipc's tests share: unique object names and keys,
// child processes (the test binary re-executed, foreign peers in C and Python),
// and waits for calls to block (WaitInKernel, WaitGoroutines) in place of
// sleeps. It sits below every package of the module and imports none of them:
// the check that a test binary leaves no IPC object behind needs package
// inventory, so it lives in inventory/inventorytest, whose Main wraps this
// package's.
package testutil

import (
	"bufio"
	"bytes"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// childEnv names the child function a re-executed test binary runs.
const childEnv = "GOIPC_TEST_CHILD"

// Main is the body of a package's TestMain (through inventorytest.Main, which
// adds the leak check). When the binary was started by Child it runs the named
// child function with the arguments Child gave, and exits 1 with the error on
// stderr if it fails. Otherwise it runs the tests, removes the C programs
// BuildC compiled, then runs each check: one that returns an error fails the
// binary.
func Main(m *testing.M, children map[string]func(args []string) error, checks ...func() error) {
	if name := os.Getenv(childEnv); name != "" {
		child, ok := children[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "testutil: no child function %q\n", name)
			os.Exit(2)
		}
		if err := child(os.Args[1:]); err != nil {
			fmt.Fprintf(os.Stderr, "child %s: %v\n", name, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	removeOrphanBuilds()
	code := m.Run()
	if err := removeBuilds(); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		code = 1
	}
	for _, check := range checks {
		if err := check(); err != nil {
			fmt.Fprintln(os.Stderr, "FAIL:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// Child returns a command that re-executes the test binary to run the child
// function name (registered with Main) with args.
func Child(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	// A child built with -race would otherwise sleep a second at exit
	// (GORACE atexit_sleep_ms defaults to 1000); the caller's GORACE still wins.
	cmd.Env = append(os.Environ(), childEnv+"="+name, "GORACE=atexit_sleep_ms=0 "+os.Getenv("GORACE"))
	return cmd
}

var (
	tag     = fmt.Sprintf("gt%d", os.Getpid())
	counter atomic.Uint32
)

// Name returns a name unique to this test process and call, such as
// "goipc-gt1234-queue-7", for POSIX objects, files and sockets. Leaks finds
// the objects that carry it.
func Name(what string) string {
	return fmt.Sprintf("goipc-%s-%s-%d", tag, what, counter.Add(1))
}

// keyBase puts this process's keys in a range of their own: 0x7c, 16 bits of
// the pid, then a counter.
var keyBase = 0x7c000000 | int64(os.Getpid()&0xffff)<<8

// Key returns a System V key unique to this test process (256 before reuse).
func Key() int64 { return keyBase | int64(counter.Add(1)&0xff) }

// Mine reports whether name or key came from this process's Name or Key.
func Mine(name string, key int64) bool {
	return strings.Contains(name, "-"+tag+"-") || key&^0xff == keyBase
}

// Strict reports whether missing foreign peers (Python modules, compilers, MPI)
// fail the tests instead of skipping them. `make test` and CI set GOIPC_STRICT=1.
func Strict() bool { return os.Getenv("GOIPC_STRICT") == "1" }

// Unavailable skips the test, or fails it under Strict, because a peer is
// missing.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...) + " (make deps installs it)"
	if Strict() {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Python is Debian's interpreter, the one the python3-* packages serve.
const Python = "/usr/bin/python3"

// RequirePython makes sure Python can import modules, or skips (fails under
// Strict), and returns the interpreter's path.
func RequirePython(t testing.TB, modules ...string) string {
	t.Helper()
	args := []string{"-c", strings.Join(append([]string{"import sys"}, importsOf(modules)...), "; ")}
	if out, err := exec.Command(Python, args...).CombinedOutput(); err != nil {
		Unavailable(t, "%s cannot import %s: %v %s", Python, strings.Join(modules, ", "), err, bytes.TrimSpace(out))
	}
	return Python
}

func importsOf(modules []string) []string {
	var s []string
	for _, m := range modules {
		s = append(s, "import "+m)
	}
	return s
}

// RepoRoot is the directory that holds go.mod.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

var (
	built sync.Map // source path + flags -> *buildResult

	// buildDir holds every program BuildC compiled in this process; Main
	// removes it after the tests.
	buildDir struct {
		once sync.Once
		path string
		err  error
	}
)

type buildResult struct {
	once sync.Once
	path string
	err  error
}

// BuildC compiles csrc/NAME.c (with extra compiler arguments such as "-lrt")
// once per test process and returns the executable's path. The executable
// lasts until the tests of the process end.
func BuildC(t testing.TB, name string, extra ...string) string {
	t.Helper()
	if _, err := exec.LookPath("cc"); err != nil {
		Unavailable(t, "no C compiler: %v", err)
	}
	buildDir.once.Do(func() { buildDir.path, buildDir.err = os.MkdirTemp("", fmt.Sprintf("%s%d-", buildPrefix, os.Getpid())) })
	if buildDir.err != nil {
		t.Fatal(buildDir.err)
	}
	src := filepath.Join(RepoRoot(), "csrc", name+".c")
	key := src + "\x00" + strings.Join(extra, "\x00")
	v, _ := built.LoadOrStore(key, &buildResult{})
	r := v.(*buildResult)
	r.once.Do(func() {
		// The same program built with other flags gets a directory of its
		// own, and keeps its name: tests and peers may look for it.
		dir := filepath.Join(buildDir.path, fmt.Sprintf("%08x", crc32.ChecksumIEEE([]byte(key))))
		if r.err = os.Mkdir(dir, 0o700); r.err != nil {
			return
		}
		r.path = filepath.Join(dir, name)
		args := append([]string{"-O2", "-Wall", "-o", r.path, src}, extra...)
		if out, err := exec.Command("cc", args...).CombinedOutput(); err != nil {
			r.err = fmt.Errorf("cc %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	})
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.path
}

// buildPrefix begins the name of BuildC's directory, which goes on with the
// test process's PID.
const buildPrefix = "goipc-csrc-"

// removeOrphanBuilds removes the build directories of test processes that
// ended without removing theirs (killed, or a test timeout's panic).
func removeOrphanBuilds() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), buildPrefix+"*"))
	for _, dir := range dirs {
		pid, _, _ := strings.Cut(strings.TrimPrefix(filepath.Base(dir), buildPrefix), "-")
		if n, err := strconv.Atoi(pid); err != nil || syscall.Kill(n, 0) == syscall.ESRCH {
			os.RemoveAll(dir) // a name without a PID is an older build's
		}
	}
}

// removeBuilds removes what BuildC compiled.
func removeBuilds() error {
	if buildDir.path == "" {
		return nil
	}
	return os.RemoveAll(buildDir.path)
}

// RequireRoot skips a test that needs root, such as one that runs a child as
// nobody.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("requires root to run a child as another user")
	}
}

// AsNobody makes cmd run as user and group nobody (65534).
func AsNobody(cmd *exec.Cmd) *exec.Cmd {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Credential = &syscall.Credential{Uid: 65534, Gid: 65534}
	return cmd
}

// Runnable copies cmd's program to a directory every user may enter and
// points cmd there: go test keeps its binary in a private directory, which a
// child run AsNobody could not execute. The copy goes at cleanup.
func Runnable(t testing.TB, cmd *exec.Cmd) *exec.Cmd {
	t.Helper()
	dir, err := os.MkdirTemp("", "goipc-bin-")
	if err == nil {
		t.Cleanup(func() { os.RemoveAll(dir) })
		err = os.Chmod(dir, 0o755)
	}
	var bin []byte
	if err == nil {
		bin, err = os.ReadFile(cmd.Path)
	}
	path := filepath.Join(dir, filepath.Base(cmd.Path))
	if err == nil {
		err = os.WriteFile(path, bin, 0o755)
	}
	if err != nil {
		t.Fatalf("copy %s for other users: %v", cmd.Path, err)
	}
	cmd.Path, cmd.Args[0], cmd.Dir = path, path, dir
	return cmd
}

// Proc is a started child process whose stdout the test reads line by line
// and whose stderr is kept for failure messages. It is killed at cleanup.
type Proc struct {
	Cmd    *exec.Cmd
	t      testing.TB
	lines  chan string
	stderr lockedBuffer
	done   chan struct{}
	err    error
}

// Timeout bounds every wait on a child, so a hung child fails the test with
// its output instead of hanging it.
const Timeout = 30 * time.Second

// Start starts cmd and returns it as a Proc.
func Start(t testing.TB, cmd *exec.Cmd) *Proc {
	t.Helper()
	p := &Proc{Cmd: cmd, t: t, lines: make(chan string, 1024), done: make(chan struct{})}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = &p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		for range p.lines { // unblock the reader if the buffer is full
		}
		<-p.done
	})
	return p
}

// Line returns the next line the child printed; it fails the test if the child
// exits or Timeout passes first.
func (p *Proc) Line() string {
	p.t.Helper()
	select {
	case line, ok := <-p.lines:
		if !ok {
			<-p.done
			p.t.Fatalf("%s exited (%v) before printing a line; stderr:\n%s", p.Cmd.Path, p.err, p.stderr.String())
		}
		return line
	case <-time.After(Timeout):
		p.t.Fatalf("%s printed nothing for %v; stderr:\n%s", p.Cmd.Path, Timeout, p.stderr.String())
	}
	return ""
}

// Expect reads the next line and fails the test unless it is want.
func (p *Proc) Expect(want string) {
	p.t.Helper()
	if got := p.Line(); got != want {
		p.t.Fatalf("%s printed %q, want %q; stderr:\n%s", p.Cmd.Path, got, want, p.stderr.String())
	}
}

// Wait waits for the child to exit, up to Timeout, and returns the rest of its
// stdout and its exit error. It reads the lines as they come: a child that
// prints more than the buffer holds would otherwise never be reaped.
func (p *Proc) Wait() (rest []string, err error) {
	p.t.Helper()
	timeout := time.After(Timeout)
	lines := p.lines
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				lines = nil // all read; the exit status follows
				continue
			}
			rest = append(rest, line)
		case <-p.done: // the lines are closed by now: take what is buffered
			for line := range p.lines {
				rest = append(rest, line)
			}
			return rest, p.err
		case <-timeout:
			p.Cmd.Process.Kill()
			p.t.Fatalf("%s did not exit within %v; stderr:\n%s", p.Cmd.Path, Timeout, p.stderr.String())
		}
	}
}

// MustSucceed waits for the child and fails the test unless it exited 0.
func (p *Proc) MustSucceed() []string {
	p.t.Helper()
	rest, err := p.Wait()
	if err != nil {
		p.t.Fatalf("%s: %v; stderr:\n%s", strings.Join(p.Cmd.Args, " "), err, p.stderr.String())
	}
	return rest
}

// Stderr returns what the child wrote to stderr so far.
func (p *Proc) Stderr() string { return p.stderr.String() }

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var _ io.Writer = (*lockedBuffer)(nil)
