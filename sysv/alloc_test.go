package sysv_test

import (
	"context"
	"testing"
	"time"

	"github.com/goipc/ipc/sysv"
)

// contexts are the kinds of context a call may get: one that cannot end,
// one that can be cancelled, one with a deadline.
func contexts(t testing.TB) map[string]context.Context {
	cancellable, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	timed, stop := context.WithTimeout(context.Background(), time.Hour)
	t.Cleanup(stop)
	return map[string]context.Context{"Background": context.Background(), "WithCancel": cancellable, "WithTimeout": timed}
}

// Send, Receive and Op that proceed at once allocate nothing, whatever the
// context. With a context that can end, waiting would allocate (the waker
// that interrupts the call) and lock the thread: no allocation shows that
// they did not take that path.
func TestNoAllocs(t *testing.T) {
	q, s := newQueue(t), newSemSet(t, 1)
	msg, buf := make([]byte, 4096), make([]byte, 4096)
	for name, ctx := range contexts(t) {
		allocs := testing.AllocsPerRun(100, func() {
			if err := q.Send(ctx, 1, msg, 0); err != nil {
				t.Fatal(err)
			}
			if _, _, err := q.Receive(ctx, buf, 1, 0); err != nil {
				t.Fatal(err)
			}
			if err := s.Op(ctx, sysv.SemOp{Delta: 1}); err != nil {
				t.Fatal(err)
			}
			if err := s.Op(ctx, sysv.SemOp{Delta: -1}); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("with %s, Send+Receive+2 Op allocate %v times, want 0", name, allocs)
		}
	}
}
