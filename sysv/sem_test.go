package sysv_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/sysv"
)

func TestSemaphoreSet(t *testing.T) {
	s := newSemSet(t, 3)
	if s.Count() != 3 {
		t.Fatalf("Count = %d", s.Count())
	}
	if err := s.SetValues([]int{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// Atomic: the second operation cannot proceed, so neither happens.
	err := s.Op(ctx, sysv.SemOp{Num: 0, Delta: -1}, sysv.SemOp{Num: 1, Delta: -5, Flags: sysv.SemNoWait})
	if !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("Op that would block with SemNoWait: %v, want EAGAIN", err)
	}
	if err := s.Op(ctx, sysv.SemOp{Num: 0, Delta: -1}, sysv.SemOp{Num: 2, Delta: 4}); err != nil {
		t.Fatal(err)
	}
	vals, err := s.Values()
	if err != nil || !slices.Equal(vals, []int{0, 2, 7}) {
		t.Fatalf("Values = %v, %v; want [0 2 7]", vals, err)
	}
	if v, err := s.Value(2); err != nil || v != 7 {
		t.Fatalf("Value(2) = %d, %v", v, err)
	}
	if pid, err := s.LastPID(0); err != nil || pid != os.Getpid() {
		t.Fatalf("LastPID = %d, %v; want %d", pid, err, os.Getpid())
	}
	st, err := s.Stat()
	if err != nil || st.Count != 3 || st.Mode != 0o600 || st.OpTime.IsZero() {
		t.Fatalf("Stat = %+v, %v", st, err)
	}
	st.Mode = 0o660
	if err := s.Set(st.Perm); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.Stat(); st.Mode != 0o660 {
		t.Fatalf("mode after Set %v, want 0660", st.Mode)
	}
}

func TestSemaphoreBadInput(t *testing.T) {
	s := newSemSet(t, 2)
	ctx := context.Background()
	for name, err := range map[string]error{
		"no ops":        s.Op(ctx),
		"num too big":   s.Op(ctx, sysv.SemOp{Num: 2, Delta: 1}),
		"bad flags":     s.Op(ctx, sysv.SemOp{Num: 0, Delta: 1, Flags: 1}),
		"value":         s.SetValue(0, 40000),
		"negative":      s.SetValue(0, -1),
		"num negative":  s.SetValue(-1, 0),
		"values length": s.SetValues([]int{1}),
		"open n < 0":    second(sysv.OpenSemaphoreSet(1, -1, 0, 0)),
		"create n 0":    second(sysv.OpenSemaphoreSet(1, 0, sysv.Create, 0o600)),
		"mutex num":     second(s.Mutex(5)),
	} {
		if !errors.Is(err, syscall.EINVAL) {
			t.Errorf("%s: %v, want EINVAL", name, err)
		}
	}
	s.Close()
	if err := s.Op(ctx, sysv.SemOp{Num: 0, Delta: 1}); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Op after Close: %v, want os.ErrClosed", err)
	}
}

// TestSemaphoreSetCountOutOfRange: semget takes the count as a C int; 2^32+1
// used to reach it as 1 and create a set of one semaphore.
func TestSemaphoreSetCountOutOfRange(t *testing.T) {
	s, err := sysv.OpenSemaphoreSet(sysv.Key(testutil.Key()), 1<<32+1, sysv.Create|sysv.Exclusive, 0o600)
	if err == nil {
		s.Remove()
		t.Fatalf("created a set of %d semaphores for 2^32+1", s.Count())
	}
	if !errors.Is(err, syscall.EINVAL) {
		t.Errorf("2^32+1 semaphores: %v, want EINVAL", err)
	}
}

func TestSemaphoreLimitHints(t *testing.T) {
	_, err := sysv.OpenSemaphoreSet(sysv.IPCPrivate, 1<<20, sysv.Create, 0o600)
	if !errors.Is(err, syscall.EINVAL) || !strings.Contains(err.Error(), "> kernel.sem semmsl") {
		t.Errorf("a set above semmsl: %v, want EINVAL naming semmsl", err)
	}
	s := newSemSet(t, 1)
	// semget says only EINVAL when the key's set is smaller than n.
	_, err = sysv.OpenSemaphoreSet(s.Key(), 2, 0, 0)
	if !errors.Is(err, syscall.EINVAL) || !strings.Contains(err.Error(), "fewer than 2 semaphores") {
		t.Errorf("opening a set of 1 with n 2: %v, want EINVAL saying the set is smaller", err)
	}
	ops := make([]sysv.SemOp, 100000)
	for i := range ops {
		ops[i].Delta = 1
	}
	err = s.Op(context.Background(), ops...)
	if !errors.Is(err, syscall.E2BIG) || !strings.Contains(err.Error(), "operations 100000 > kernel.sem semopm") {
		t.Errorf("Op with 100000 operations: %v, want E2BIG naming semopm", err)
	}
}

func TestSemaphoreTimeoutAndCancel(t *testing.T) {
	s := newSemSet(t, 1)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := s.Op(ctx, sysv.SemOp{Delta: -1})
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Op past its deadline: %v, want os.ErrDeadlineExceeded", err)
	}
	if d := time.Since(start); d < 20*time.Millisecond || d > 120*time.Millisecond {
		t.Errorf("Op with a 20ms deadline returned after %v", d)
	}

	ctx, cancel = context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Op(ctx, sysv.SemOp{Delta: -1}) }()
	waitWaiting(t, s, 0, 1)
	start = time.Now()
	cancel()
	err = <-done
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("Op returned %v after cancel, want < 100ms", d)
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Op: %v, want context.Canceled", err)
	}
	if v, _ := s.Value(0); v != 0 {
		t.Fatalf("value after a cancelled Op is %d, want 0", v)
	}
}

// waitWaiting waits until n operations wait for semaphore num to increase.
func waitWaiting(t *testing.T, s *sysv.SemaphoreSet, num, n int) {
	t.Helper()
	testutil.WaitUntil(t, func() bool {
		inc, _, err := s.Waiting(num)
		if err != nil {
			t.Fatal(err)
		}
		return inc == n
	}, "%d waiters on semaphore %d", n, num)
}

func TestSemaphoreRemoveWakesWaiter(t *testing.T) {
	s := newSemSet(t, 1)
	done := make(chan error, 1)
	go func() { done <- s.Op(context.Background(), sysv.SemOp{Delta: -1}) }()
	waitWaiting(t, s, 0, 1)
	other, err := sysv.OpenSemaphoreSet(s.Key(), 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	other.Remove()
	if err := <-done; !errors.Is(err, syscall.EIDRM) {
		t.Fatalf("waiting Op after Remove: %v, want EIDRM", err)
	}
}

func TestMutex(t *testing.T) {
	key := sysv.Key(testutil.Key())
	m, err := sysv.OpenMutex(key, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Set().Remove() })
	again, err := sysv.OpenMutex(key, 0o600) // opens the same, still unlocked
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Lock(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ok, err := again.TryLock(); ok || err != nil {
		t.Fatalf("TryLock of a locked mutex = %v, %v", ok, err)
	}
	if err := m.Unlock(); err != nil {
		t.Fatal(err)
	}
	if err := m.Unlock(); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("Unlock of an unlocked mutex: %v, want EINVAL", err)
	}
	if ok, err := again.TryLock(); !ok || err != nil {
		t.Fatalf("TryLock of an unlocked mutex = %v, %v", ok, err)
	}
	again.Unlock()
}

// lockUnlock locks m, failing if that takes more than testutil.Timeout, and
// unlocks it.
func lockUnlock(t *testing.T, m *sysv.Mutex, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testutil.Timeout)
	defer cancel()
	if err := m.Lock(ctx); err != nil {
		t.Fatalf("Lock of %s: %v", what, err)
	}
	if err := m.Unlock(); err != nil {
		t.Fatal(err)
	}
}

// newMutex opens the mutex of key, removed at cleanup.
func newMutex(t *testing.T, key sysv.Key) *sysv.Mutex {
	t.Helper()
	m, err := sysv.OpenMutex(key, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Set().Remove() })
	return m
}

// heldByChild returns a new mutex and the child process that holds it.
func heldByChild(t *testing.T) (*sysv.Mutex, *testutil.Proc) {
	t.Helper()
	key := sysv.Key(testutil.Key())
	m := newMutex(t, key)
	p := testutil.Start(t, testutil.Child("mutex-hold", key.String()))
	p.Expect("locked")
	return m, p
}
