package posix_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"math"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/posix"
)

func newSemaphore(t testing.TB, value uint) *posix.Semaphore {
	t.Helper()
	s, err := posix.OpenSemaphore("/"+testutil.Name("sem"), &posix.SemOptions{Create: true, Exclusive: true, Value: value})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		if err := s.Unlink(); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Error(err)
		}
	})
	return s
}

func TestSemaphoreNamed(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	s := newSemaphore(t, 1)
	fi, err := os.Stat("/dev/shm/sem." + strings.TrimPrefix(s.Name(), "/"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("glibc's file: %v, %v; want mode 0600", fi, err)
	}
	if err := s.TryWait(); err != nil {
		t.Fatal(err)
	}
	if err := s.TryWait(); !isErrno(err, syscall.EAGAIN) {
		t.Fatalf("TryWait at zero: %v, want EAGAIN", err)
	}
	// A second handle on the same semaphore sees the posts.
	s2, err := posix.OpenSemaphore(s.Name(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	for range 3 {
		if err := s2.Post(); err != nil {
			t.Fatal(err)
		}
	}
	if v, err := s.Value(); err != nil || v != 3 {
		t.Fatalf("Value = %d, %v; want 3", v, err)
	}
	if err := s.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := posix.OpenSemaphore(s.Name(), &posix.SemOptions{Create: true, Exclusive: true}); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("exclusive create of an existing semaphore: %v", err)
	}
}

func TestSemaphoreWaitWakes(t *testing.T) {
	s := newSemaphore(t, 0)
	start := time.Now() // before the deadline is fixed: a preemption between the two would make Wait look early
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	err := s.Wait(ctx)
	if took := time.Since(start); !errors.Is(err, os.ErrDeadlineExceeded) || took < 30*time.Millisecond || took > 500*time.Millisecond {
		t.Fatalf("Wait with a 30ms deadline: %v after %v", err, took)
	}

	ctx, cancel = context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Wait(ctx) }()
	waitWaiters(t, s, 1)
	start = time.Now()
	cancel()
	if err := testutil.Recv(t, errc); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Wait: %v", err)
	}
	t.Logf("cancel woke Wait in %v", time.Since(start))

	// A post from another goroutine wakes a waiter with no deadline.
	go func() { errc <- s.Wait(context.Background()) }()
	waitWaiters(t, s, 1)
	s.Post()
	if err := testutil.Recv(t, errc); err != nil {
		t.Fatalf("Wait woken by Post: %v", err)
	}

	// Close wakes waiters and waits for them before sem_close.
	for range 3 {
		go func() { errc <- s.Wait(context.Background()) }()
	}
	waitWaiters(t, s, 3)
	s.Close()
	for range 3 {
		if err := testutil.Recv(t, errc); !errors.Is(err, os.ErrClosed) {
			t.Fatalf("Wait woken by Close: %v", err)
		}
	}
	_, valueErr := s.Value()
	for what, err := range map[string]error{"Post": s.Post(), "TryWait": s.TryWait(), "Wait": s.Wait(context.Background()), "Value": valueErr} {
		if !errors.Is(err, os.ErrClosed) {
			t.Errorf("%s after Close: %v, want os.ErrClosed", what, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// A deadline centuries away is a long wait, not an absolute time that wraps
// into the past and times out at once.
func TestSemaphoreFarDeadline(t *testing.T) {
	s := newSemaphore(t, 0)
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(math.MaxInt64))
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- s.Wait(ctx) }()
	waitWaiters(t, s, 1)
	if err := s.Post(); err != nil {
		t.Fatal(err)
	}
	if err := testutil.Recv(t, errc); err != nil {
		t.Fatalf("Wait with a deadline 292 years away, woken by Post: %v", err)
	}
}

// waitWaiters waits until n calls wait in sem_clockwait on the named
// semaphore s, as the waiter count glibc keeps in the semaphore shows (the
// high half of its first 64-bit word). /proc cannot show it: those threads
// sleep in a futex, as the runtime's idle threads do.
func waitWaiters(t *testing.T, s *posix.Semaphore, n int) {
	t.Helper()
	file := "/dev/shm/sem." + strings.TrimPrefix(s.Name(), "/")
	testutil.WaitUntil(t, func() bool {
		b, err := os.ReadFile(file)
		if err != nil || len(b) < 8 {
			t.Fatalf("read %s: %v", file, err)
		}
		return binary.NativeEndian.Uint64(b)>>32 == uint64(n)
	}, "%d waiters on %s", n, s.Name())
}

func TestSemaphoreBadInput(t *testing.T) {
	for _, name := range []string{"", "/x/y", "/" + strings.Repeat("s", 252)} {
		if _, err := posix.OpenSemaphore(name, &posix.SemOptions{Create: true}); !isErrno(err, syscall.EINVAL) {
			t.Errorf("OpenSemaphore(%q) = %v, want EINVAL", name, err)
		}
	}
	if _, err := posix.OpenSemaphore("/"+testutil.Name("sem-big"), &posix.SemOptions{Create: true, Value: posix.MaxSemaphoreValue + 1}); !isErrno(err, syscall.EINVAL) {
		t.Errorf("value above SEM_VALUE_MAX: %v", err)
	}
	if _, err := posix.OpenSemaphore("/"+testutil.Name("sem-missing"), nil); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("opening a missing semaphore: %v", err)
	}
	if _, err := posix.InitSemaphore(make([]byte, 8), 0); !isErrno(err, syscall.EINVAL) {
		t.Errorf("InitSemaphore in 8 bytes: %v", err)
	}
	m := newShm(t, 4096)
	mem, _ := m.Map(posix.ReadWrite)
	if _, err := posix.SemaphoreAt(mem[3:]); !isErrno(err, syscall.EINVAL) {
		t.Errorf("misaligned SemaphoreAt: %v", err)
	}
	var nilS *posix.Semaphore
	if err := nilS.Close(); err != nil {
		t.Errorf("nil Close: %v", err)
	}
}

// An unnamed semaphore in memory this process may not write would kill it
// with SIGSEGV in sem_init or the first wait; InitSemaphore and SemaphoreAt
// used to accept a ReadOnly mapping, or one already unmapped.
func TestSemaphoreMemoryNotWritable(t *testing.T) {
	m := newShm(t, 4096)
	mem, err := m.Map(posix.ReadOnly)
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string) {
		t.Helper()
		if _, err := posix.InitSemaphore(mem, 0); !isErrno(err, syscall.EINVAL) {
			t.Errorf("InitSemaphore in %s: %v, want EINVAL", what, err)
		}
		if _, err := posix.SemaphoreAt(mem); !isErrno(err, syscall.EINVAL) {
			t.Errorf("SemaphoreAt in %s: %v, want EINVAL", what, err)
		}
	}
	check("a ReadOnly mapping")
	if err := m.Unmap(); err != nil {
		t.Fatal(err)
	}
	check("unmapped memory")
	// A Go slice is writable but this process's alone: a post would reach
	// no one, and C would keep a pointer into Go's heap.
	mem = make([]byte, 2*posix.SemaphoreSize)
	check("a Go slice")
	if mem, err = m.Map(posix.ReadWrite); err != nil {
		t.Fatal(err)
	}
	if _, err := posix.InitSemaphore(mem, 0); err != nil {
		t.Errorf("InitSemaphore in a ReadWrite mapping: %v", err)
	}
}

// TestSemaphoreUnnamedAcrossProcesses puts a process-shared semaphore in
// shared memory; a child process writes a message and posts it.
func TestSemaphoreUnnamedAcrossProcesses(t *testing.T) {
	m := newShm(t, 4096)
	mem, err := m.Map(posix.ReadWrite)
	if err != nil {
		t.Fatal(err)
	}
	ping, err := posix.InitSemaphore(mem[pingAt:], 0)
	if err != nil {
		t.Fatal(err)
	}
	defer ping.Close()
	if _, err := posix.InitSemaphore(mem[pongAt:], 0); err != nil {
		t.Fatal(err)
	}
	if err := ping.Unlink(); !isErrno(err, syscall.EINVAL) {
		t.Errorf("Unlink of an unnamed semaphore: %v", err)
	}
	child := testutil.Start(t, testutil.Child("shm-poster", m.Name(), "through shared memory"))
	ctx, cancel := context.WithTimeout(context.Background(), testutil.Timeout)
	defer cancel()
	if err := ping.Wait(ctx); err != nil {
		t.Fatalf("Wait for the child's post: %v; child stderr: %s", err, child.Stderr())
	}
	child.MustSucceed()
	if got := string(mem[dataAt : dataAt+21]); got != "through shared memory" {
		t.Fatalf("read %q", got)
	}
}

// TestSemaphoreStatAfterClose: Stat after Close must say closed.
func TestSemaphoreStatAfterClose(t *testing.T) {
	s := newSemaphore(t, 0)
	s.Close()
	if _, err := s.Stat(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Stat after Close: %v, want os.ErrClosed", err)
	}
}

func second[T any](_ T, err error) error { return err }

// Wait's own time limit is ctx's deadline; when it runs out, the error keeps
// the cause of context.WithTimeoutCause, as every other call does (it was
// lost when sem_clockwait returned before ctx's timer ended ctx).
func TestSemaphoreDeadlineKeepsCause(t *testing.T) {
	s := newSemaphore(t, 0)
	cause := errors.New("the cause")
	for range 20 {
		ctx, cancel := context.WithTimeoutCause(context.Background(), time.Millisecond, cause)
		err := s.Wait(ctx)
		cancel()
		if !errors.Is(err, cause) || !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Wait past a deadline with a cause: %v, want os.ErrDeadlineExceeded and the cause", err)
		}
	}
}
