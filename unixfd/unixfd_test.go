package unixfd_test

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/inventory/inventorytest"
	"github.com/goipc/ipc/unixfd"
)

func TestMain(m *testing.M) { inventorytest.Main(m, nil) }

// rawPair returns a socket pair as files, one to stay blocking for a child.
func rawPair(t *testing.T) (a, b *os.File) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b = os.NewFile(uintptr(fds[0]), "socket"), os.NewFile(uintptr(fds[1]), "socket")
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func connOf(t *testing.T, f *os.File) *net.UnixConn {
	t.Helper()
	c, err := net.FileConn(f) // a descriptor of its own, non-blocking
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.UnixConn)
}

func tempFile(t *testing.T, content string) *os.File {
	t.Helper()
	path := filepath.Join(t.TempDir(), "passed")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func readAll(t *testing.T, f *os.File) string {
	t.Helper()
	b := make([]byte, 4096)
	n, err := f.ReadAt(b, 0)
	if err != nil && n == 0 {
		t.Fatal(err)
	}
	return string(b[:n])
}

func TestPassFiles(t *testing.T) {
	a, b := testutil.SocketPair(t)
	one, two := tempFile(t, "first file"), tempFile(t, "second file")
	if err := unixfd.PassCredentials(b, true); err != nil {
		t.Fatal(err)
	}
	if err := unixfd.Send(a, []byte("two files"), one, two); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	msg, err := unixfd.Receive(b, buf, 4)
	if err != nil {
		t.Fatal(err)
	}
	if string(buf[:msg.N]) != "two files" || len(msg.Files) != 2 {
		t.Fatalf("received %q and %d files", buf[:msg.N], len(msg.Files))
	}
	for i, want := range []string{"first file", "second file"} {
		if got := readAll(t, msg.Files[i]); got != want {
			t.Errorf("file %d holds %q, want %q", i, got, want)
		}
		msg.Files[i].Close()
	}
	if c := msg.Credentials; c == nil || c.PID != os.Getpid() || c.UID != os.Getuid() || c.GID != os.Getgid() {
		t.Errorf("credentials %+v, want this process's", c)
	}
}

// TestTruncated: more descriptors than the receiver made room for is a
// clear error, and none of them stays open in the receiver.
func TestTruncated(t *testing.T) {
	a, b := testutil.SocketPair(t)
	f := tempFile(t, "x")
	before := testutil.OpenFiles(t)
	if err := unixfd.Send(a, []byte("three"), f, f, f); err != nil {
		t.Fatal(err)
	}
	msg, err := unixfd.Receive(b, make([]byte, 16), 1)
	if !errors.Is(err, unixfd.ErrTruncated) || !strings.Contains(err.Error(), "more than the 1 descriptors") {
		t.Fatalf("Receive with room for 1 of 3 descriptors: %v, want ErrTruncated", err)
	}
	if len(msg.Files) != 0 || testutil.OpenFiles(t) != before {
		t.Errorf("a truncated Receive left %d files, %d descriptors open (%d before)", len(msg.Files), testutil.OpenFiles(t), before)
	}
	if _, err := unixfd.Receive(b, nil, 300); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("Receive with room for 300: %v, want EINVAL", err)
	}
}

// TestTruncatedAtFileLimit: descriptors that the kernel cannot install
// (the receiver at its open-file limit) fail with ErrTruncated that names
// the limit, not the sender, which passed no more than there was room for.
func TestTruncatedAtFileLimit(t *testing.T) {
	a, b := testutil.SocketPair(t)
	f := tempFile(t, "x")
	if err := unixfd.Send(a, []byte("two"), f, f); err != nil {
		t.Fatal(err)
	}
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	low, err := unix.Dup(0) // the lowest free descriptor: a limit there admits none
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(low)
	tight := lim
	tight.Cur = uint64(low)
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &tight); err != nil {
		t.Skipf("cannot lower RLIMIT_NOFILE: %v", err)
	}
	msg, err := unixfd.Receive(b, make([]byte, 16), 2)
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(err, unixfd.ErrTruncated) || !strings.Contains(err.Error(), "RLIMIT_NOFILE") {
		t.Errorf("Receive at the open-file limit: %v, want ErrTruncated naming RLIMIT_NOFILE", err)
	}
	if len(msg.Files) != 0 {
		t.Errorf("a truncated Receive returned %d files", len(msg.Files))
	}
}

func peer(t *testing.T) string { return testutil.BuildC(t, "unixfd_peer") }

// TestWithC: Go passes a file to C, which reads it; C passes a sealed memfd
// to Go, which checks the seals, maps it and reads it; the kernel vouches
// for the C sender's pid.
func TestWithC(t *testing.T) {
	af, bf := rawPair(t)
	a := connOf(t, af)
	cmd := exec.Command(peer(t), "recvfd")
	cmd.ExtraFiles = []*os.File{bf}
	p := testutil.Start(t, cmd)
	if err := unixfd.Send(a, []byte("from Go"), tempFile(t, "contents seen by C")); err != nil {
		t.Fatal(err)
	}
	p.Expect("from Go")
	p.Expect("contents seen by C")
	p.MustSucceed()

	af, bf = rawPair(t)
	a = connOf(t, af)
	if err := unixfd.PassCredentials(a, true); err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command(peer(t), "sendsealed")
	cmd.ExtraFiles = []*os.File{bf}
	p = testutil.Start(t, cmd)
	buf := make([]byte, 16)
	msg, err := unixfd.Receive(a, buf, 1)
	if err != nil {
		t.Fatal(err)
	}
	p.MustSucceed()
	if string(buf[:msg.N]) != "memfd" || len(msg.Files) != 1 {
		t.Fatalf("received %q and %d files", buf[:msg.N], len(msg.Files))
	}
	defer msg.Files[0].Close()
	if msg.Credentials == nil || msg.Credentials.PID != cmd.Process.Pid {
		t.Errorf("credentials %+v, want pid %d", msg.Credentials, cmd.Process.Pid)
	}
	m, err := unixfd.MapSealed(msg.Files[0], unixfd.SealAll)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if string(m.Bytes()) != "sealed by C" {
		t.Errorf("the sealed memfd holds %q", m.Bytes())
	}
}

// TestWithPython: Python's socket.send_fds passes a file to Go.
func TestWithPython(t *testing.T) {
	py := testutil.RequirePython(t)
	af, bf := rawPair(t)
	a := connOf(t, af)
	path := filepath.Join(t.TempDir(), "from-python")
	if err := os.WriteFile(path, []byte("opened by Python"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "-c", `
import socket, sys, os
s = socket.socket(fileno=3)
f = os.open(sys.argv[1], os.O_RDONLY)
socket.send_fds(s, [b"python"], [f])
`, path)
	cmd.ExtraFiles = []*os.File{bf}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("python: %v %s", err, out)
	}
	buf := make([]byte, 16)
	msg, err := unixfd.Receive(a, buf, 1)
	if err != nil {
		t.Fatal(err)
	}
	if string(buf[:msg.N]) != "python" || len(msg.Files) != 1 || readAll(t, msg.Files[0]) != "opened by Python" {
		t.Fatalf("received %q and %d files", buf[:msg.N], len(msg.Files))
	}
	msg.Files[0].Close()
}

func TestSeals(t *testing.T) {
	f, err := unixfd.NewMemfd("test")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write([]byte("filled, then sealed")); err != nil {
		t.Fatal(err)
	}
	if _, err := unixfd.MapSealed(f, 0); !errors.Is(err, syscall.EPERM) || !strings.Contains(err.Error(), "lacks the seals shrink") {
		t.Fatalf("MapSealed of an unsealed memfd: %v, want EPERM naming the seals", err)
	}
	if err := unixfd.AddSeals(f, unixfd.SealAll); err != nil {
		t.Fatal(err)
	}
	if s, err := unixfd.SealsOf(f); err != nil || s != unixfd.SealAll {
		t.Fatalf("SealsOf: %v %v, want %v", s, err, unixfd.SealAll)
	}
	if err := f.Truncate(4); !errors.Is(err, syscall.EPERM) {
		t.Errorf("Truncate of a sealed memfd: %v, want EPERM", err)
	}
	if _, err := f.WriteAt([]byte("X"), 0); !errors.Is(err, syscall.EPERM) {
		t.Errorf("write to a sealed memfd: %v, want EPERM", err)
	}
	m, err := unixfd.MapSealed(f, unixfd.SealAll)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if string(m.Bytes()) != "filled, then sealed" {
		t.Errorf("mapped %q", m.Bytes())
	}
	if _, err := unixfd.SealsOf(tempFile(t, "plain")); !errors.Is(err, syscall.EINVAL) || !strings.Contains(err.Error(), "not a memfd") {
		t.Errorf("SealsOf a regular file: %v, want EINVAL saying it is not a memfd", err)
	}
}

func TestEventFD(t *testing.T) {
	e, err := unixfd.NewEventFD(0, false)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	e.Add(2)
	e.Add(3)
	if n, err := e.Wait(); n != 5 || err != nil {
		t.Fatalf("Wait after Add(2), Add(3): %d, %v; want 5", n, err)
	}
	e.SetDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := e.Wait(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Wait past its deadline: %v", err)
	}
	e.SetDeadline(time.Time{})

	// A C process rings it.
	cmd := exec.Command(peer(t), "eventfd", "42")
	cmd.ExtraFiles = []*os.File{e.File()}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("unixfd_peer eventfd: %v %s", err, out)
	}
	if n, err := e.Wait(); n != 42 || err != nil {
		t.Fatalf("Wait after C added 42: %d, %v", n, err)
	}

	s, err := unixfd.NewEventFD(2, true)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for range 2 {
		if n, err := s.Wait(); n != 1 || err != nil {
			t.Fatalf("semaphore Wait: %d, %v; want 1", n, err)
		}
	}
	if _, err := unixfd.EventFDFromFile(tempFile(t, "x")); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("EventFDFromFile of a regular file: %v, want EINVAL", err)
	}
	inherited, err := unixfd.EventFDFromFile(e.File())
	if err != nil {
		t.Fatal(err)
	}
	defer inherited.Close()
	e.Add(7)
	if n, err := inherited.Wait(); n != 7 || err != nil {
		t.Fatalf("Wait on a second descriptor of the eventfd: %d, %v", n, err)
	}
}

// TestEventFDWaitersHoldNoThread: 200 goroutines waiting on 200 eventfds
// park on the poller; Close wakes each with os.ErrClosed.
func TestEventFDWaitersHoldNoThread(t *testing.T) {
	const n = 200
	before := testutil.Threads(t)
	efds := make([]*unixfd.EventFD, n)
	errs := make(chan error, n)
	for i := range efds {
		e, err := unixfd.NewEventFD(0, false)
		if err != nil {
			t.Fatal(err)
		}
		efds[i] = e
		go func() {
			_, err := e.Wait()
			errs <- err
		}()
	}
	testutil.WaitGoroutines(t, n, "IO wait", "unixfd.(*EventFD).Wait")
	if after := testutil.Threads(t); after-before > 10 {
		t.Errorf("%d waiting goroutines took %d threads (from %d to %d)", n, after-before, before, after)
	}
	for _, e := range efds {
		e.Close()
	}
	for range n {
		if err := <-errs; !errors.Is(err, os.ErrClosed) {
			t.Fatalf("Wait ended by Close: %v, want os.ErrClosed", err)
		}
	}
}
