package ring_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/ring"
	"github.com/goipc/ipc/unixfd"
)

// TestAnonymousRing: a memfd ring reaches a C child by inheritance (its
// descriptor 3) and another handle by descriptor passing over a Unix socket;
// messages sent on one handle arrive on the others.
func TestAnonymousRing(t *testing.T) {
	r, err := ring.New(&ring.Options{Capacity: 1024})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()

	cmd := peerCmd(t, "c", "/proc/self/fd/3", "recv", "3")
	cmd.ExtraFiles = []*os.File{r.File()}
	p := testutil.Start(t, cmd)
	p.Expect("ready")
	for i := range 3 {
		if err := r.Send(ctx, makeMessage(9, uint32(i), 100)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		p.Expect(fmt.Sprintf("9 %d", i))
	}
	p.Expect("ok 3")
	p.MustSucceed()

	a, b := testutil.SocketPair(t)
	if err := unixfd.Send(a, []byte("ring"), r.File()); err != nil {
		t.Fatal(err)
	}
	msg, err := unixfd.Receive(b, make([]byte, 8), 1)
	if err != nil {
		t.Fatal(err)
	}
	passed, err := ring.FromFile(msg.Files[0], nil)
	msg.Files[0].Close()
	if err != nil {
		t.Fatal(err)
	}
	defer passed.Close()
	if err := passed.Send(ctx, []byte("through the passed descriptor")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, r.MaxMessage())
	n, err := r.TryReceive(buf)
	if err != nil || string(buf[:n]) != "through the passed descriptor" {
		t.Fatalf("received %q, %v", buf[:n], err)
	}
}
