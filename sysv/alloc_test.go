package sysv_test

import (
	"testing"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/sysv"
)

// Send, Receive, Op and the Mutex's Lock and Unlock that proceed at once
// allocate nothing, whatever the context. With a context that can end,
// waiting would allocate (the waker that interrupts the call) and lock the
// thread: no allocation shows that they did not take that path.
func TestNoAllocs(t *testing.T) {
	q, s := newQueue(t), newSemSet(t, 2)
	m, err := s.Mutex(1)
	if err != nil {
		t.Fatal(err)
	}
	msg, buf := make([]byte, 4096), make([]byte, 4096)
	paths := map[string]func(){}
	for name, ctx := range testutil.Contexts(t) {
		paths["Send+Receive with "+name] = func() {
			if err := q.Send(ctx, 1, msg, 0); err != nil {
				t.Fatal(err)
			}
			if _, _, err := q.Receive(ctx, buf, 1, 0); err != nil {
				t.Fatal(err)
			}
		}
		paths["Op up+down with "+name] = func() {
			if err := s.Op(ctx, sysv.SemOp{Delta: 1}); err != nil {
				t.Fatal(err)
			}
			if err := s.Op(ctx, sysv.SemOp{Delta: -1}); err != nil {
				t.Fatal(err)
			}
		}
		paths["Mutex Lock+Unlock with "+name] = func() {
			if err := m.Lock(ctx); err != nil {
				t.Fatal(err)
			}
			if err := m.Unlock(); err != nil {
				t.Fatal(err)
			}
		}
	}
	paths["Mutex TryLock+Unlock"] = func() {
		if ok, err := m.TryLock(); !ok || err != nil {
			t.Fatal(ok, err)
		}
		if err := m.Unlock(); err != nil {
			t.Fatal(err)
		}
	}
	testutil.NoAllocs(t, paths)
}
