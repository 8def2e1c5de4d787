package sysv_test

import (
	"context"
	"testing"

	"github.com/goipc/ipc/sysv"
)

// Send, Receive and Op with a caller's buffer and context.Background
// allocate nothing.
func TestNoAllocs(t *testing.T) {
	q, s := newQueue(t), newSemSet(t, 1)
	ctx := context.Background()
	msg, buf := make([]byte, 4096), make([]byte, 4096)
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
		t.Errorf("Send+Receive+2 Op allocate %v times, want 0", allocs)
	}
}
