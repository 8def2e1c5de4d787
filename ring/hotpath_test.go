package ring_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/ring"
	"github.com/goipc/ipc/shmsync"
)

// TestSpinOnTakenLockStaysInUserSpace: a receiver that spins on a ring
// with a message in it while another holds the lock tries the lock again
// and again without entering the kernel: glibc would set FUTEX_WAITERS, the
// high bit of the lock word (the mutex's first), for a try that waited
// there, even with a deadline already past, and the holder's unlock would
// enter the kernel too, to wake no one (a syscall on each side for every
// collision of two processes streaming through one ring).
func TestSpinOnTakenLockStaysInUserSpace(t *testing.T) {
	r := newRing(t, 256)
	if err := r.TrySend([]byte("x")); err != nil {
		t.Fatal(err)
	}
	rx, err := ring.Open(r.Name(), &ring.Options{Spin: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	mem := rawRing(t, r.Name())
	lockWord := (*atomic.Uint32)(unsafe.Pointer(&mem[88]))
	lock := lockRing(t, mem)
	defer lock.Unlock() // on failure, before rx.Close, which waits for the receiver
	tid, got := make(chan int, 1), make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		tid <- unix.Gettid()
		buf := make([]byte, 16)
		n, err := rx.Receive(context.Background(), buf)
		if err == nil && string(buf[:n]) != "x" {
			err = fmt.Errorf("received %q, want %q", buf[:n], "x")
		}
		got <- err
	}()
	// Each of the receiver's looks tries the lock: once it has spun a
	// while in user space, it has tried it thousands of times.
	stat := fmt.Sprintf("/proc/self/task/%d/stat", testutil.Recv(t, tid))
	testutil.WaitUntil(t, func() bool { return userTicks(t, stat) >= 10 }, "the receiver spinning for 10 ticks of user time")
	if w := lockWord.Load(); w&(1<<31) != 0 {
		t.Errorf("lock word %#x: a spinning receiver waited for the lock in the kernel", w)
	}
	if err := lock.Unlock(); err != nil {
		t.Fatal(err)
	}
	if err := testutil.Recv(t, got); err != nil {
		t.Fatal(err)
	}
}

// lockRing takes the lock of the ring mapped at mem, as another process
// would, and returns it, held.
func lockRing(t *testing.T, mem []byte) *shmsync.Mutex {
	t.Helper()
	lock, err := shmsync.MutexAt(mem[88:])
	if err != nil {
		t.Fatal(err)
	}
	if err := lock.Lock(context.Background()); err != nil {
		t.Fatal(err)
	}
	return lock
}

// userTicks is the user time of the thread whose /proc stat file is stat,
// in clock ticks (utime, the 14th field: the 12th after the command's ")").
func userTicks(t *testing.T, stat string) int {
	b, err := os.ReadFile(stat)
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	n, err := strconv.Atoi(fields[11])
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCloseDuringCalls: Close, with goroutines in every kind of call on the
// ring, waits for the calls in the shim before it unmaps (a call that
// touched unmapped memory would kill the process), and every call after it
// fails with an error matching os.ErrClosed.
func TestCloseDuringCalls(t *testing.T) {
	r, err := ring.New(&ring.Options{Capacity: 4096})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	msg := []byte("in flight")
	calls := map[string]func(buf []byte) error{
		"TrySend":    func([]byte) error { return r.TrySend(msg) },
		"TryReceive": func(buf []byte) error { _, err := r.TryReceive(buf); return err },
		"Send":       func([]byte) error { return r.Send(ctx, msg) },
		"Receive":    func(buf []byte) error { _, err := r.Receive(ctx, buf); return err },
		"SendReceive": func(buf []byte) error {
			_, err := r.SendReceive(ctx, msg, r, buf)
			return err
		},
	}
	var made atomic.Int64
	ended := make(chan error, len(calls))
	for name, call := range calls {
		go func() {
			buf := make([]byte, 64)
			for {
				made.Add(1)
				err := call(buf)
				if errors.Is(err, os.ErrClosed) {
					ended <- nil
					return
				}
				if err != nil && !errors.Is(err, syscall.EAGAIN) {
					ended <- fmt.Errorf("%s: %w", name, err)
					return
				}
			}
		}()
	}
	testutil.WaitUntil(t, func() bool { return made.Load() > 10000 }, "10000 calls made")
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	for range calls {
		if err := testutil.Recv(t, ended); err != nil {
			t.Error(err)
		}
	}
}
