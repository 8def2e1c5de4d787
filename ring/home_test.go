package ring_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/goipc/ipc/ring"
)

// TestSendGoesHome: a Go or C send to an empty ring whose tail is past the
// start of the data area puts a pad marker at tail and the record at the
// start, when it fits before tail's offset, and stays at tail when it does
// not; every receiver, Go, C and Python, skips the marker and takes the
// message whole.
func TestSendGoesHome(t *testing.T) {
	const capacity = 1024
	msg := makeMessage(1, 0, 40) // 23 bytes: a record of 32
	for _, c := range []struct {
		name      string
		before    int // bytes sent and received first: tail's offset is size(before)
		recordOff int // where the record must land
	}{
		{"home", 100, 0},  // size(100) = 112 >= 32
		{"stays", 16, 24}, // size(16) = 24 < 32
	} {
		for _, sender := range []string{"go", "c"} {
			for _, receiver := range []string{"go", "c", "python"} {
				t.Run(fmt.Sprintf("%s/%s-to-%s", c.name, sender, receiver), func(t *testing.T) {
					r := newRing(t, capacity)
					mem := rawRing(t, r.Name())
					if err := r.TrySend(make([]byte, c.before)); err != nil {
						t.Fatal(err)
					}
					if _, err := r.TryReceive(make([]byte, c.before)); err != nil {
						t.Fatal(err)
					}
					tail := (8 + c.before + 7) &^ 7
					if sender == "go" {
						if err := r.TrySend(msg); err != nil {
							t.Fatal(err)
						}
					} else if out, err := peerCmd(t, sender, "/dev/shm"+r.Name(), "send", "1", "1", "40").CombinedOutput(); err != nil {
						t.Fatalf("%s send: %v %s", sender, err, out)
					}
					wantTail := uint64(tail + 32)
					if c.recordOff == 0 {
						wantTail = capacity + 32
						if got := binary.NativeEndian.Uint32(mem[256+tail:]); got != 0xffffffff {
							t.Errorf("the word at tail's offset %d is %#x, want the pad marker", tail, got)
						}
					}
					if got := word64(mem, 72).Load(); got != wantTail {
						t.Errorf("tail %d, want %d", got, wantTail)
					}
					if got := binary.NativeEndian.Uint32(mem[256+c.recordOff:]); got != uint32(len(msg)) {
						t.Errorf("the length at offset %d is %d, want %d", c.recordOff, got, len(msg))
					}
					receive(t, r, receiver, msg)
				})
			}
		}
	}
}

// receive takes one message from r with a receiver of kind go, c or
// python, which must be want.
func receive(t *testing.T, r *ring.Ring, kind string, want []byte) {
	t.Helper()
	if kind == "go" {
		buf := make([]byte, r.MaxMessage())
		n, err := r.Receive(context.Background(), buf)
		if err != nil {
			t.Fatal(err)
		}
		if string(buf[:n]) != string(want) {
			t.Fatalf("received %q, want %q", buf[:n], want)
		}
		return
	}
	out, err := peerCmd(t, kind, "/dev/shm"+r.Name(), "recv", "1").CombinedOutput()
	if err != nil || string(out) != "ready\n1 0\nok 1\n" {
		t.Fatalf("%s recv: %v %q, want the message 1 0", kind, err, out)
	}
}
