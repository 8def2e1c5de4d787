package ring_test

import (
	"testing"

	"github.com/goipc/ipc/internal/testutil"
)

// Send and Receive that proceed at once (room in the ring, a message in it),
// and TrySend and TryReceive, allocate nothing, whatever the context.
func TestNoAllocs(t *testing.T) {
	r := newRing(t, 4096)
	msg, buf := []byte("zero allocations"), make([]byte, 64)
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
	}
	testutil.NoAllocs(t, paths)
}
