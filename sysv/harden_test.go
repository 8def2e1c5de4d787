package sysv_test

import (
	"context"
	"errors"
	"io/fs"
	"math"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/sysv"
)

// Close ends the calls blocked on the handle, with os.ErrClosed, whatever
// their context; then Remove, the usual last step, still works.
func TestCloseWakesBlockedCalls(t *testing.T) {
	q, full, s := newQueue(t), fullQueue(t), newSemSet(t, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 6)
	for _, c := range []context.Context{context.Background(), ctx} {
		go func() { done <- third(q.Receive(c, make([]byte, 8), 0, 0)) }()
		go func() { done <- full.Send(c, 1, []byte("x"), 0) }()
		go func() { done <- s.Op(c, sysv.SemOp{Delta: -1}) }()
	}
	testutil.WaitInKernel(t, 2, "do_msgrcv")
	testutil.WaitInKernel(t, 2, "do_msgsnd")
	waitWaiting(t, s, 0, 2)
	for _, h := range []interface{ Close() error }{q, full, s} {
		if err := h.Close(); err != nil {
			t.Fatal(err)
		}
	}
	for range 6 {
		if err := testutil.Recv(t, done); !errors.Is(err, os.ErrClosed) {
			t.Errorf("call blocked when Close ran returned %v, want os.ErrClosed", err)
		}
	}
	for _, h := range []interface{ Remove() error }{q, full, s} {
		if err := h.Remove(); err != nil {
			t.Errorf("Remove after Close: %v", err)
		}
	}
	if _, err := sysv.OpenQueue(q.Key(), 0, 0); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenQueue after Close and Remove: %v, want fs.ErrNotExist", err)
	}
	m := newSegment(t, 4096)
	m.Close()
	if err := m.Remove(); err != nil {
		t.Errorf("segment Remove after Close: %v", err)
	}
}

// A removed id is stale: the kernel may give it to a newer object, so a
// second Remove must not reach IPC_RMID, whether Close came before, between
// or not at all. After Close, Remove, Remove used to remove the id again.
func TestRemoveOnce(t *testing.T) {
	for _, order := range []string{"Remove Remove", "Close Remove Remove", "Remove Close Remove"} {
		handles := map[string]interface {
			Close() error
			Remove() error
		}{"queue": newQueue(t), "segment": newSegment(t, 4096), "set": newSemSet(t, 1)}
		for kind, h := range handles {
			var err error
			for i, step := range strings.Fields(order) {
				if step == "Close" {
					h.Close()
				} else if err = h.Remove(); i == 0 && err != nil {
					t.Fatalf("%s %s: first Remove: %v", order, kind, err)
				}
			}
			if !errors.Is(err, syscall.EIDRM) || !strings.Contains(err.Error(), "was removed") {
				t.Errorf("%s of a %s: %v, want EIDRM without a system call", order, kind, err)
			}
		}
	}
}

// An object that another handle (or process) removed no longer exists:
// calls on the handles left fail with an error matching fs.ErrNotExist, as
// opening it would (they used to match EINVAL alone).
func TestRemovedElsewhereNotExist(t *testing.T) {
	q, s, m := newQueue(t), newSemSet(t, 1), newSegment(t, 4096)
	q2, err := sysv.OpenQueueByID(q.ID())
	if err != nil {
		t.Fatal(err)
	}
	s2, err := sysv.OpenSemaphoreSetByID(s.ID())
	if err != nil {
		t.Fatal(err)
	}
	m2, err := sysv.OpenSharedMemoryByID(m.ID())
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []interface{ Remove() error }{q, s, m} {
		if err := h.Remove(); err != nil {
			t.Fatal(err)
		}
	}
	_, attachErr := m2.Attach(0)
	for call, err := range map[string]error{
		"Send":   q2.Send(context.Background(), 1, []byte("x"), sysv.NoWait),
		"Op":     s2.Op(context.Background(), sysv.SemOp{Delta: 1}),
		"Attach": attachErr,
	} {
		if !errors.Is(err, fs.ErrNotExist) || !errors.Is(err, syscall.EINVAL) {
			t.Errorf("%s on a handle of a removed object: %v, want fs.ErrNotExist and EINVAL", call, err)
		}
	}
}

// A program that ignores SIGURG still has its Receive keep its deadline, be
// cancelled and be ended by Close.
func TestIgnoringSIGURG(t *testing.T) {
	q := newQueue(t)
	p := testutil.Start(t, testutil.Child("ignore-urg", q.Key().String()))
	p.Expect("ok")
	p.MustSucceed()
}

// A deadline centuries away is no deadline: the calls wait instead of
// timing out at once.
func TestFarDeadline(t *testing.T) {
	q, s := newQueue(t), newSemSet(t, 1)
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(math.MaxInt64))
	defer cancel()
	done := make(chan error, 2)
	go func() { done <- third(q.Receive(ctx, make([]byte, 8), 0, 0)) }()
	go func() { done <- s.Op(ctx, sysv.SemOp{Delta: -1}) }()
	testutil.WaitInKernel(t, 1, "do_msgrcv")
	waitWaiting(t, s, 0, 1)
	send(t, q, 1, "x")
	if err := s.Op(context.Background(), sysv.SemOp{Delta: 1}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := testutil.Recv(t, done); err != nil {
			t.Errorf("call with a deadline 292 years away: %v, want it to wait and succeed", err)
		}
	}
}

// A drop-box queue (mode 0622): a user who may write but not read opens it
// and sends, as C's msgget and msgsnd let it.
func TestWriteOnlySender(t *testing.T) {
	testutil.RequireRoot(t)
	q := newQueue(t)
	st, err := q.Stat()
	if err != nil {
		t.Fatal(err)
	}
	st.Mode = 0o622
	if err := q.Set(st); err != nil {
		t.Fatal(err)
	}
	cmd := testutil.AsNobody(testutil.Runnable(t, testutil.Child("drop-box", q.Key().String())))
	if out, err := cmd.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "sent" {
		t.Fatalf("sender as nobody: %v\n%s", err, out)
	}
	if got := receive(t, q, 0, 0); got != "1:from uid 65534" {
		t.Errorf("received %q, want nobody's message", got)
	}
}

// Objects are reached by id, as ipcs prints it: the way to share one made
// with IPCPrivate.
func TestOpenByID(t *testing.T) {
	q, err := sysv.OpenQueue(sysv.IPCPrivate, sysv.Create, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Remove()
	byID, err := sysv.OpenQueueByID(q.ID())
	if err != nil {
		t.Fatal(err)
	}
	send(t, byID, 3, "by id")
	if got := receive(t, q, 0, 0); got != "3:by id" {
		t.Errorf("received %q through the key's handle, want what the id's handle sent", got)
	}

	m, err := sysv.OpenSharedMemory(sysv.IPCPrivate, 4096, sysv.Create, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Remove()
	mem, err := m.Attach(0)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Detach(mem)
	copy(mem, "shared")
	mByID, err := sysv.OpenSharedMemoryByID(m.ID())
	if err != nil {
		t.Fatal(err)
	}
	defer mByID.Close()
	if mem2, err := mByID.Attach(sysv.ReadOnly); err != nil || string(mem2[:6]) != "shared" || mByID.Size() != 4096 {
		t.Errorf("segment by id: Attach = %q, %v, Size %d; want the 4096 bytes written", mem2[:min(6, len(mem2))], err, mByID.Size())
	}

	s, err := sysv.OpenSemaphoreSet(sysv.IPCPrivate, 2, sysv.Create, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Remove()
	sByID, err := sysv.OpenSemaphoreSetByID(s.ID())
	if err != nil {
		t.Fatal(err)
	}
	if err := sByID.Op(context.Background(), sysv.SemOp{Num: 1, Delta: 5}); err != nil || sByID.Count() != 2 {
		t.Fatalf("Op by id: %v, Count %d", err, sByID.Count())
	}
	if v, err := s.Value(1); err != nil || v != 5 {
		t.Errorf("value after an Op by id = %d, %v; want 5", v, err)
	}

	for what, err := range map[string]error{
		"queue":   second(sysv.OpenQueueByID(math.MaxInt32)),
		"segment": second(sysv.OpenSharedMemoryByID(math.MaxInt32)),
		"set":     second(sysv.OpenSemaphoreSetByID(math.MaxInt32)),
	} {
		if !errors.Is(err, fs.ErrNotExist) || !errors.Is(err, syscall.EINVAL) {
			t.Errorf("%s by an id no object has: %v, want fs.ErrNotExist and EINVAL", what, err)
		}
	}
	for what, err := range map[string]error{
		"negative": second(sysv.OpenQueueByID(-1)),
		"too big":  second(sysv.OpenSemaphoreSetByID(math.MaxInt32 + 1)),
	} {
		if !errors.Is(err, syscall.EINVAL) {
			t.Errorf("id %s: %v, want EINVAL", what, err)
		}
	}
}

// Key 0 (IPCPrivate) without Create used to make a new object (mode 0000)
// that no one could find, and leak it.
func TestPrivateKeyNeedsCreate(t *testing.T) {
	for what, err := range map[string]error{
		"queue":   second(sysv.OpenQueue(sysv.IPCPrivate, 0, 0)),
		"segment": second(sysv.OpenSharedMemory(sysv.IPCPrivate, 0, 0, 0)),
		"set":     second(sysv.OpenSemaphoreSet(sysv.IPCPrivate, 1, 0, 0)),
	} {
		if !errors.Is(err, syscall.EINVAL) || !strings.Contains(err.Error(), "IPCPrivate") || strings.Contains(err.Error(), "larger than") {
			t.Errorf("%s of key 0 without Create: %v, want EINVAL saying what key 0 means", what, err)
		}
	}
	if k, err := sysv.ParseKey("0"); err != nil || k != sysv.IPCPrivate {
		t.Errorf("ParseKey(0) = %v, %v; want IPCPrivate", k, err)
	}
}

// Operations that no value can satisfy would wait forever: refused.
func TestImpossibleOps(t *testing.T) {
	s := newSemSet(t, 2)
	if err := s.SetValues([]int{3, 0}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for name, ops := range map[string][]sysv.SemOp{
		"-32768":            {{Delta: math.MinInt16}},
		"zero then -1":      {{Delta: 0}, {Delta: -1}},
		"two -20000":        {{Delta: -20000}, {Delta: -20000}},
		"+1 then zero":      {{Delta: 1}, {Delta: 0}},
		"above the maximum": {{Delta: 20000}, {Delta: 20000}},
	} {
		if err := s.Op(ctx, ops...); !errors.Is(err, syscall.EINVAL) || !strings.Contains(err.Error(), "never") {
			t.Errorf("%s: %v, want EINVAL saying it can never succeed", name, err)
		}
	}
	// Possible ones still run: -3 then +1 on semaphore 0, and waiting for 0 on
	// semaphore 1 before adding to it.
	if err := s.Op(ctx, sysv.SemOp{Delta: -3}, sysv.SemOp{Delta: 1}, sysv.SemOp{Num: 1, Delta: 0}, sysv.SemOp{Num: 1, Delta: 2}); err != nil {
		t.Fatal(err)
	}
	if vals, err := s.Values(); err != nil || vals[0] != 1 || vals[1] != 2 {
		t.Errorf("Values = %v, %v; want [1 2]", vals, err)
	}
}

// A process that does not hold the mutex cannot unlock it: if it could, the
// holder's death would unlock it a second time and let two processes in.
func TestMutexNonHolderUnlock(t *testing.T) {
	m, p := heldByChild(t)
	if err := m.Unlock(); !errors.Is(err, syscall.EPERM) || !strings.Contains(err.Error(), "held by process") {
		t.Fatalf("Unlock by a process that does not hold the mutex: %v, want EPERM naming the holder", err)
	}
	p.Cmd.Process.Kill()
	p.Wait()
	other, err := sysv.OpenMutex(m.Set().Key(), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := m.TryLock(); !ok || err != nil {
		t.Fatalf("TryLock after the holder died = %v, %v; want true", ok, err)
	}
	if ok, err := other.TryLock(); ok || err != nil {
		t.Fatalf("a second TryLock = %v, %v; want false: the mutex is taken", ok, err)
	}
	if err := other.Unlock(); err != nil { // the same process holds it
		t.Fatal(err)
	}
}

// A creator killed right after semget leaves a set that nothing
// initialised: openers must find an unlocked mutex, not wait forever.
func TestMutexCreatorKilled(t *testing.T) {
	key := sysv.Key(testutil.Key())
	p := testutil.Start(t, testutil.Child("sem-create", key.String()))
	p.Expect("created")
	p.Cmd.Process.Kill()
	p.Wait()
	lockUnlock(t, newMutex(t, key), "a set whose creator was killed")
}

// Every exported method of a nil or zero handle fails with os.ErrInvalid
// (Close succeeds) and none panics: ID, Key, Size, Count and Mutex.Set did.
func TestNilAndZeroHandles(t *testing.T) {
	for _, h := range []any{
		(*sysv.MessageQueue)(nil), &sysv.MessageQueue{},
		(*sysv.SharedMemory)(nil), &sysv.SharedMemory{},
		(*sysv.SemaphoreSet)(nil), &sysv.SemaphoreSet{},
		(*sysv.Mutex)(nil), &sysv.Mutex{},
	} {
		for _, r := range testutil.CallEvery(h) {
			switch {
			case r.Panic != nil:
				t.Errorf("%T(%v).%s panicked: %v", h, h, r.Method, r.Panic)
			case r.Method == "Close" && r.Err != nil:
				t.Errorf("%T.Close: %v, want nil", h, r.Err)
			case r.Method != "Close" && r.Err != nil && !errors.Is(r.Err, os.ErrInvalid):
				t.Errorf("%T.%s: %v, want os.ErrInvalid", h, r.Method, r.Err)
			}
		}
	}
	if id := (*sysv.MessageQueue)(nil).ID(); id != -1 {
		t.Errorf("ID of a nil queue = %d, want -1 (id 0 is some other object's)", id)
	}
}

// A nil context is bad input, refused with EINVAL before any call; it used to
// be a nil dereference.
func TestNilContext(t *testing.T) {
	q, s := newQueue(t), newSemSet(t, 1)
	m, err := s.Mutex(0)
	if err != nil {
		t.Fatal(err)
	}
	var nilCtx context.Context
	_, _, receiveErr := q.Receive(nilCtx, make([]byte, 8), 0, 0)
	for call, err := range map[string]error{
		"Send":    q.Send(nilCtx, 1, []byte("x"), 0),
		"Receive": receiveErr,
		"Op":      s.Op(nilCtx, sysv.SemOp{Delta: 1}),
		"Lock":    m.Lock(nilCtx),
	} {
		if !errors.Is(err, syscall.EINVAL) || !strings.Contains(err.Error(), "nil context") {
			t.Errorf("%s with a nil context: %v, want EINVAL", call, err)
		}
	}
}
