package shmsync_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/mmap"
	"github.com/goipc/ipc/shmsync"
)

// TestCondAtUninitialised: CondAt, like MutexAt, refuses bytes that are not
// a process-shared condition variable. Zeroed memory is glibc's
// PTHREAD_COND_INITIALIZER, a private condition variable whose wake-ups
// never reach another process, so waiting on it there would hang.
func TestCondAtUninitialised(t *testing.T) {
	m, err := mmap.Shared(4096)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := shmsync.CondAt(m.Bytes()); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("CondAt of zeroed memory: %v, want EINVAL", err)
	}
	if _, err := shmsync.NewCond(m.Bytes()); err != nil {
		t.Fatal(err)
	}
	if _, err := shmsync.CondAt(m.Bytes()); err != nil {
		t.Fatalf("CondAt of an initialised condition variable: %v", err)
	}
}

// TestCondWaitNotRecoverable: a waiter whose mutex became unrecoverable
// while it waited (a holder died, and the next locker unlocked without
// Consistent) gets ErrNotRecoverable from Wait without the mutex, and its
// goroutine must not stay locked to its thread: Lock locked it, and no
// Unlock will ever come to undo that.
func TestCondWaitNotRecoverable(t *testing.T) {
	r := newRegion(t, false)
	waited := make(chan error)
	after := make(chan struct{})
	go func() {
		if err := r.mu.Lock(context.Background()); err != nil {
			waited <- err
			return
		}
		waited <- nil // holding: the dying peer below waits for Wait to release the lock
		// A context that cannot end: one pthread_cond_wait, woken only
		// by the Broadcast below.
		err := r.cond.Wait(context.Background(), r.mu)
		waited <- err
		<-after // parked here while the test reads its stack
	}()
	if err := <-waited; err != nil {
		t.Fatal(err)
	}
	die := exec.Command(peer(t), "die") // locks once Wait released the mutex, exits holding it
	die.ExtraFiles = []*os.File{r.m.File()}
	if out, err := die.CombinedOutput(); err != nil {
		t.Fatalf("shmsync_peer die: %v %s", err, out)
	}
	if err := r.mu.Lock(context.Background()); !errors.Is(err, shmsync.ErrOwnerDead) {
		t.Fatalf("Lock after the holder died: %v, want ErrOwnerDead", err)
	}
	if err := r.cond.Broadcast(); err != nil {
		t.Fatal(err)
	}
	if err := r.mu.Unlock(); err != nil { // without Consistent: unrecoverable
		t.Fatal(err)
	}
	err := <-waited
	defer close(after)
	if !errors.Is(err, shmsync.ErrNotRecoverable) {
		t.Fatalf("Wait on a mutex made unrecoverable: %v, want ErrNotRecoverable", err)
	}
	// Parked on <-after (the state reads "chan receive, locked to thread"
	// for a goroutine locked to its thread).
	testutil.WaitUntil(t, func() bool { return testutil.Parked("chan receive", "TestCondWaitNotRecoverable") == 1 },
		"the waiter parked after Wait")
	if testutil.Parked("chan receive, locked to thread", "TestCondWaitNotRecoverable") != 0 {
		t.Errorf("the goroutine whose Wait failed with ErrNotRecoverable stays locked to its thread")
	}
}

// TestLockPriorityInheritance: a priority-inheritance mutex that C made is
// handed on by the kernel to FUTEX_LOCK_PI waiters only; a Lock whose
// context can end must still get it when its holder unlocks.
func TestLockPriorityInheritance(t *testing.T) {
	m, err := mmap.Shared(4096)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	cmd := exec.Command(peer(t), "init-pi")
	cmd.ExtraFiles = []*os.File{m.File()}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("shmsync_peer init-pi: %v %s", err, out)
	}
	mu, err := shmsync.MutexAt(m.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if err := mu.Lock(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testutil.Timeout)
	defer cancel()
	locked := make(chan error)
	go func() {
		err := mu.Lock(ctx)
		if err == nil {
			err = mu.Unlock()
		}
		locked <- err
	}()
	testutil.WaitGoroutines(t, 1, "syscall", "shmsync.(*Mutex).Lock") // waiting
	if err := mu.Unlock(); err != nil {
		t.Fatal(err)
	}
	if err := <-locked; err != nil {
		t.Fatalf("Lock of a priority-inheritance mutex its holder released: %v", err)
	}
}

// TestNilContext: Lock and Wait with a nil context fail with EINVAL and
// change nothing (Wait returns still holding the mutex) instead of
// panicking, which Lock did on the goroutine's locked thread, leaving the
// goroutine locked to it.
func TestNilContext(t *testing.T) {
	mem, err := mmap.Shared(4096)
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	mu, err := shmsync.NewMutex(mem.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	cond, err := shmsync.NewCond(mem.Bytes()[64:])
	if err != nil {
		t.Fatal(err)
	}
	var lockErr error
	func() {
		defer func() {
			if p := recover(); p != nil {
				lockErr = fmt.Errorf("panic: %v", p)
			}
		}()
		lockErr = mu.Lock(nil)
	}()
	if !errors.Is(lockErr, syscall.EINVAL) || mu.Holding() {
		t.Errorf("Lock(nil): %v, holding %v; want an error matching EINVAL, not holding", lockErr, mu.Holding())
	}
	if err := mu.Lock(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := cond.Wait(nil, mu); !errors.Is(err, syscall.EINVAL) || !mu.Holding() {
		t.Errorf("Wait(nil, m): %v, holding %v; want an error matching EINVAL, holding", err, mu.Holding())
	}
	if err := mu.Unlock(); err != nil {
		t.Fatal(err)
	}
}

// TestUnfitMemory: memory that /proc/self/maps shows read-only, or private
// (Go memory), is refused with EINVAL by NewMutex, MutexAt, NewCond and
// CondAt. NewMutex and NewCond on a read-only mapping killed the program
// with SIGSEGV inside pthread_mutex_init; MutexAt and CondAt accepted a
// read-only view of a live mutex, whose Lock then did; Go memory was
// accepted though no other process ever sees it.
func TestUnfitMemory(t *testing.T) {
	calls := map[string]func([]byte) error{
		"NewMutex": func(b []byte) error { _, err := shmsync.NewMutex(b); return err },
		"MutexAt":  func(b []byte) error { _, err := shmsync.MutexAt(b); return err },
		"NewCond":  func(b []byte) error { _, err := shmsync.NewCond(b[64:]); return err },
		"CondAt":   func(b []byte) error { _, err := shmsync.CondAt(b[64:]); return err },
	}
	goMemory := make([]uint64, 512) // 8-byte aligned
	private := unsafe.Slice((*byte)(unsafe.Pointer(&goMemory[0])), 4096)
	for name, call := range calls {
		if err := call(private); !errors.Is(err, syscall.EINVAL) || !strings.Contains(err.Error(), "private") {
			t.Errorf("%s of Go memory: %v, want EINVAL saying it is private", name, err)
		}
	}
	// A live mutex and condition variable, seen through a read-only mapping
	// of the same file.
	f, err := os.CreateTemp(t.TempDir(), "region")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(4096); err != nil {
		t.Fatal(err)
	}
	rw, err := mmap.Map(f, mmap.ReadWrite, 0, 4096)
	if err != nil {
		t.Fatal(err)
	}
	defer rw.Close()
	if _, err := shmsync.NewMutex(rw.Bytes()); err != nil {
		t.Fatal(err)
	}
	if _, err := shmsync.NewCond(rw.Bytes()[64:]); err != nil {
		t.Fatal(err)
	}
	ro, err := mmap.Map(f, mmap.ReadOnly, 0, 4096)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	for name, call := range calls {
		if err := call(ro.Bytes()); !errors.Is(err, syscall.EINVAL) || !strings.Contains(err.Error(), "not writable") {
			t.Errorf("%s of a read-only mapping: %v, want EINVAL saying it is not writable", name, err)
		}
	}
}
