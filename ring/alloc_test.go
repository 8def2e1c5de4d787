package ring_test

import (
	"testing"

	"github.com/goipc/ipc/internal/testutil"
)

var msg0 = []byte("zero allocations")

// Send, Receive and SendReceive that proceed at once (room in the ring, a
// message in it), and TrySend and TryReceive, allocate nothing, whatever the
// context.
func TestNoAllocs(t *testing.T) {
	r, other := newRing(t, 4096), newRing(t, 4096)
	if err := other.TrySend(msg0); err != nil {
		t.Fatal(err)
	}
	msg, buf := msg0, make([]byte, 64)
	received := func(n int, err error) {
		if err != nil || n != len(msg) {
			t.Fatal(n, err)
		}
	}
	paths := map[string]func(){
		"TrySend+TryReceive": func() {
			if err := r.TrySend(msg); err != nil {
				t.Fatal(err)
			}
			received(r.TryReceive(buf))
		},
	}
	for name, ctx := range testutil.Contexts(t) {
		paths["Send+Receive with "+name] = func() {
			if err := r.Send(ctx, msg); err != nil {
				t.Fatal(err)
			}
			received(r.Receive(ctx, buf))
		}
		paths["SendReceive on one ring with "+name] = func() { received(r.SendReceive(ctx, msg, r, buf)) }
		paths["SendReceive on two rings with "+name] = func() { // a message in other, as found
			received(r.SendReceive(ctx, msg, other, buf))
			received(other.SendReceive(ctx, msg, r, buf))
		}
	}
	testutil.NoAllocs(t, paths)
}
