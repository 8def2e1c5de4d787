package posix

import (
	"context"
	"testing"

	"github.com/goipc/ipc/internal/testutil"
)

// TestYieldsFirstOnOneCPU checks that only a lone Receive of a process that
// may run on one CPU lets the CPU go before its first try, and that oneCPU
// sees the process pinned after it started.
func TestYieldsFirstOnOneCPU(t *testing.T) {
	name := "/" + testutil.Name("mq-yield")
	q, err := OpenQueue(name, &QueueOptions{Create: true, Capacity: 1, MessageSize: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close(); UnlinkQueue(name) })
	recv, send := q.newCall(context.Background(), &q.recv), q.newCall(context.Background(), &q.send)

	check := func(pinned bool) {
		t.Helper()
		affinityDue.Store(0) // ask the kernel again now
		if got := q.yieldsFirst(recv); got != pinned {
			t.Errorf("pinned %v: a lone Receive yields first: %v", pinned, got)
		}
		if q.yieldsFirst(send) {
			t.Errorf("pinned %v: a Send yields first", pinned)
		}
	}
	if !oneCPU() {
		check(false)
	}
	restore, err := testutil.PinProcess(-1)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { restore(); affinityDue.Store(0) }()
	check(true)

	q.recv.waiting.Add(1) // another Receive waits: a message would wake it
	defer q.recv.waiting.Add(-1)
	if q.yieldsFirst(recv) {
		t.Error("a Receive yields first while another waits")
	}
}
