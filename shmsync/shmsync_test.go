package shmsync_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/inventory/inventorytest"
	"github.com/goipc/ipc/mmap"
	"github.com/goipc/ipc/shmsync"
)

// kills is how many times TestHolderKilled kills a holder of each kind (C
// and Go): `make test` runs the default, the full run is
// go test -run TestHolderKilled ./shmsync/ -kills 1000.
var kills = flag.Int("kills", 100, "holders TestHolderKilled kills, per kind of holder")

func TestMain(m *testing.M) {
	inventorytest.Main(m, map[string]func([]string) error{
		"hold":  childHold,
		"count": childCount,
	})
}

// region is the tests' layout of shared memory, the same as
// csrc/shmsync_peer.c's: a mutex, a cond, and words the lock protects.
type region struct {
	m    *mmap.Mapping
	mu   *shmsync.Mutex
	cond *shmsync.Cond
	// count is what the counters add to; a and b are equal outside the lock,
	// inside is 1 while someone holds it, flag is the cond's condition.
	count, a, b, inside, flag *int64
}

const (
	mutexOff = 0
	condOff  = 64
	wordsOff = 128
)

func init() {
	if shmsync.MutexSize > condOff || shmsync.CondSize > wordsOff-condOff {
		panic("the test region's layout does not fit this platform's pthread types")
	}
}

// newRegion maps fresh shared memory (a memfd) and initialises the mutex and
// the cond in Go, or with initC in C (shmsync_peer init).
func newRegion(t testing.TB, initC bool) *region {
	t.Helper()
	m, err := mmap.Shared(4096)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	if initC {
		cmd := exec.Command(peer(t), "init")
		cmd.ExtraFiles = []*os.File{m.File()}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("shmsync_peer init: %v %s", err, out)
		}
		r, err := attach(m)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	mem := m.Bytes()
	if _, err := shmsync.NewMutex(mem[mutexOff:]); err != nil {
		t.Fatal(err)
	}
	if _, err := shmsync.NewCond(mem[condOff:]); err != nil {
		t.Fatal(err)
	}
	r, err := attach(m)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// attach finds the region's objects in m, initialised by another process.
func attach(m *mmap.Mapping) (*region, error) {
	mem := m.Bytes()
	mu, err := shmsync.MutexAt(mem[mutexOff:])
	if err != nil {
		return nil, err
	}
	cond, err := shmsync.CondAt(mem[condOff:])
	if err != nil {
		return nil, err
	}
	word := func(i int) *int64 { return (*int64)(unsafe.Pointer(&mem[wordsOff+8*i])) }
	return &region{m, mu, cond, word(0), word(1), word(2), word(3), word(4)}, nil
}

func peer(t testing.TB) string { return testutil.BuildC(t, "shmsync_peer", "-pthread") }

// lock locks r's mutex and repairs what a dead holder left: b catches up
// with a, nobody is inside. It reports whether the owner had died.
func (r *region) lock(ctx context.Context) (ownerDied bool, err error) {
	err = r.mu.Lock(ctx)
	if errors.Is(err, shmsync.ErrOwnerDead) {
		*r.b, *r.inside = *r.a, 0
		return true, r.mu.Consistent()
	}
	return false, err
}

func TestOwnership(t *testing.T) {
	r := newRegion(t, false)
	if err := r.mu.Lock(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !r.mu.Holding() {
		t.Fatal("Holding is false right after Lock")
	}
	if err := r.mu.Lock(context.Background()); !errors.Is(err, syscall.EDEADLK) {
		t.Errorf("second Lock by the holder: %v, want EDEADLK", err)
	}
	other := make(chan [3]any)
	go func() {
		other <- [3]any{r.mu.Holding(), r.mu.TryLock(), r.mu.Unlock()}
	}()
	got := <-other
	if got[0].(bool) {
		t.Error("Holding is true in a goroutine that did not lock")
	}
	if err, _ := got[1].(error); !errors.Is(err, syscall.EBUSY) {
		t.Errorf("TryLock from another goroutine: %v, want EBUSY", err)
	}
	if err, _ := got[2].(error); !errors.Is(err, syscall.EPERM) {
		t.Errorf("Unlock from another goroutine: %v, want EPERM", err)
	}
	if err := r.mu.Consistent(); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("Consistent on a mutex whose owner lives: %v, want EINVAL", err)
	}
	if err := r.mu.Unlock(); err != nil {
		t.Fatal(err)
	}
	if err := r.mu.Unlock(); !errors.Is(err, syscall.EPERM) {
		t.Errorf("second Unlock: %v, want EPERM", err)
	}
	if err := r.mu.TryLock(); err != nil {
		t.Fatalf("TryLock of a free mutex: %v", err)
	}
	if err := r.mu.Unlock(); err != nil {
		t.Fatal(err)
	}
}

func TestLockContext(t *testing.T) {
	r := newRegion(t, false)
	held, release, released := make(chan struct{}), make(chan struct{}), make(chan error)
	go func() {
		if err := r.mu.Lock(context.Background()); err != nil {
			released <- err
			return
		}
		close(held)
		<-release
		released <- r.mu.Unlock()
	}()
	<-held

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := r.mu.Lock(ctx); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Lock past its deadline: %v, want os.ErrDeadlineExceeded", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	locked := make(chan error)
	go func() {
		err := r.mu.Lock(ctx)
		if err == nil || r.mu.Holding() {
			err = fmt.Errorf("Lock returned %v and left the goroutine holding", err)
		}
		locked <- err
	}()
	testutil.WaitGoroutines(t, 1, "syscall", "shmsync.(*Mutex).Lock") // waiting in C
	cancel()
	if err := <-locked; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Lock: %v, want context.Canceled", err)
	}
	close(release)
	if err := <-released; err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), testutil.Timeout)
	defer cancel()
	if err := r.mu.Lock(ctx); err != nil {
		t.Fatalf("Lock with a deadline of a free mutex: %v", err)
	}
	r.mu.Unlock()
}

// TestGoroutineExitsHolding: a holder goroutine that returns without Unlock
// ends its thread, and the next Lock learns that the owner died; Unlock
// without Consistent then makes the mutex unrecoverable.
func TestGoroutineExitsHolding(t *testing.T) {
	r := newRegion(t, false)
	exitHolding(t, r.mu)
	done := make(chan error)
	ctx, cancel := context.WithTimeout(context.Background(), testutil.Timeout)
	defer cancel()
	if err := r.mu.Lock(ctx); !errors.Is(err, shmsync.ErrOwnerDead) {
		t.Fatalf("Lock after the holder's goroutine exited: %v, want ErrOwnerDead", err)
	}
	if err := r.mu.Unlock(); err != nil { // without Consistent
		t.Fatal(err)
	}
	if err := r.mu.Lock(ctx); !errors.Is(err, shmsync.ErrNotRecoverable) {
		t.Fatalf("Lock after an unrepaired owner death: %v, want ErrNotRecoverable", err)
	}
	if err := r.mu.TryLock(); !errors.Is(err, shmsync.ErrNotRecoverable) {
		t.Fatalf("TryLock of an unrecoverable mutex: %v, want ErrNotRecoverable", err)
	}
	if r.mu.Holding() {
		t.Error("ErrNotRecoverable left the goroutine holding")
	}
	go func() { done <- r.mu.Lock(ctx) }() // must not wait for a holder that TryLock left
	if err := <-done; !errors.Is(err, shmsync.ErrNotRecoverable) {
		t.Fatalf("Lock of an unrecoverable mutex in another goroutine: %v, want ErrNotRecoverable", err)
	}
}

// exitHolding locks mu in a goroutine that then returns, ending its thread.
// The main thread is never ended (the runtime parks it forever instead): a
// goroutine that finds itself there keeps it, until exitHolding returns, so
// that the next one runs elsewhere.
func exitHolding(t *testing.T, mu *shmsync.Mutex) {
	t.Helper()
	release := make(chan struct{})
	defer close(release)
	for range 2 {
		locked := make(chan error)
		go func() {
			runtime.LockOSThread()
			if unix.Gettid() == os.Getpid() {
				locked <- errMainThread
				<-release
				runtime.UnlockOSThread()
				return
			}
			locked <- mu.Lock(context.Background()) // and return, locked
		}()
		if err := <-locked; err != errMainThread {
			if err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatal("two goroutines ran on the main thread")
}

var errMainThread = errors.New("on the main thread")

// TestConsistent: a process that exits holding the lock makes TryLock
// return ErrOwnerDead; a holder that repairs and calls Consistent leaves a
// mutex that works as before; a non-holder may not call Consistent.
func TestConsistent(t *testing.T) {
	r := newRegion(t, false)
	die := exec.Command(peer(t), "die")
	die.ExtraFiles = []*os.File{r.m.File()}
	if out, err := die.CombinedOutput(); err != nil {
		t.Fatalf("shmsync_peer die: %v %s", err, out)
	}
	if err := r.mu.Consistent(); !errors.Is(err, syscall.EPERM) {
		t.Errorf("Consistent by a non-holder: %v, want EPERM", err)
	}
	if err := r.mu.TryLock(); !errors.Is(err, shmsync.ErrOwnerDead) {
		t.Fatalf("TryLock after the holder died: %v, want ErrOwnerDead", err)
	}
	if err := r.mu.Consistent(); err != nil {
		t.Fatal(err)
	}
	if err := r.mu.Unlock(); err != nil {
		t.Fatal(err)
	}
	if err := r.mu.Lock(context.Background()); err != nil {
		t.Fatalf("Lock after Consistent: %v", err)
	}
	if err := r.mu.Consistent(); !errors.Is(err, syscall.EINVAL) || !strings.Contains(err.Error(), "did not die") {
		t.Errorf("Consistent of a lock whose owner did not die: %v, want EINVAL saying so", err)
	}
	r.mu.Unlock()
}

func TestBadMemory(t *testing.T) {
	m, err := mmap.Shared(4096)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	mem := m.Bytes()
	for _, c := range []struct {
		name string
		mem  []byte
	}{
		{"short", mem[:shmsync.MutexSize-1]},
		{"misaligned", mem[1:]},
		{"zeros", mem},
	} {
		if _, err := shmsync.MutexAt(c.mem); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("MutexAt(%s): %v, want EINVAL", c.name, err)
		}
	}
	if _, err := shmsync.NewCond(mem[:shmsync.CondSize-1]); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("NewCond of short memory: %v, want EINVAL", err)
	}
	var nilMutex *shmsync.Mutex
	if err := nilMutex.Lock(context.Background()); !errors.Is(err, os.ErrInvalid) || !strings.Contains(err.Error(), "NewMutex or MutexAt") {
		t.Errorf("Lock of a nil Mutex: %v, want os.ErrInvalid naming NewMutex or MutexAt", err)
	}
	var nilCond *shmsync.Cond
	if err := nilCond.Signal(); !errors.Is(err, os.ErrInvalid) || !strings.Contains(err.Error(), "NewCond or CondAt") {
		t.Errorf("Signal of a nil Cond: %v, want os.ErrInvalid naming NewCond or CondAt", err)
	}
}

// TestLockSleepsUntilUnlock: a Lock whose context can be cancelled sleeps
// on the lock's futex until the holder unlocks, rather than waking every
// few milliseconds to look at its context: its thread hardly switches out,
// however long the holder holds. The holder holds while a program copies 8
// GB, far longer than a polling wait's slices (10ms); one program, whose
// end sends one SIGCHLD (which may land on the waiter's thread and wake it).
func TestLockSleepsUntilUnlock(t *testing.T) {
	r := newRegion(t, false)
	if err := r.mu.Lock(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tid, locked := make(chan int), make(chan error)
	go func() {
		runtime.LockOSThread() // Lock keeps this thread: its id stays the waiter's
		defer runtime.UnlockOSThread()
		tid <- unix.Gettid()
		err := r.mu.Lock(ctx)
		if err == nil {
			err = r.mu.Unlock()
		}
		locked <- err
	}()
	waiter := <-tid
	task := fmt.Sprintf("/proc/self/task/%d/", waiter)
	testutil.WaitUntil(t, func() bool { // in Lock's futex wait, and asleep there
		b, _ := os.ReadFile(task + "wchan")
		return testutil.Parked("syscall", "shmsync.futexWait") == 1 && strings.HasPrefix(string(b), "futex")
	}, "the waiter asleep on the lock's futex")
	switches := func() int {
		b, _ := os.ReadFile(task + "status")
		_, after, _ := strings.Cut(string(b), "voluntary_ctxt_switches:")
		n, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(after, "\n", 2)[0]))
		return n
	}
	before := switches()
	if out, err := exec.Command("dd", "if=/dev/zero", "of=/dev/null", "bs=1M", "count=8000").CombinedOutput(); err != nil {
		t.Fatalf("dd: %v %s", err, out)
	}
	woke := switches() - before
	if err := r.mu.Unlock(); err != nil {
		t.Fatal(err)
	}
	if err := <-locked; err != nil {
		t.Fatal(err)
	}
	if woke > 5 {
		t.Errorf("the waiting Lock woke %d times while the holder held the lock, want it asleep", woke)
	}
}
