package ring_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"syscall"
	"testing"

	"github.com/goipc/ipc/internal/testutil"
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

// TestSendSkipsHomePad: the padding of a send that went home holds the
// rest of the data area until a receiver passes it; a Go or C send that
// then finds the ring full skips the pad marker at head, as a receive
// would, instead of waiting for a receiver, and every receiver, Go, C and
// Python, takes both messages in order.
func TestSendSkipsHomePad(t *testing.T) {
	const capacity = 1024
	first, second := makeMessage(1, 0, 200), makeMessage(1, 1, 200) // 23 and 60 bytes: records of 32 and 72
	for _, sender := range []string{"go", "c"} {
		for _, receiver := range []string{"go", "c", "python"} {
			t.Run(fmt.Sprintf("%s-to-%s", sender, receiver), func(t *testing.T) {
				r := newRing(t, capacity)
				mem := rawRing(t, r.Name())
				// Empty, at 64: first goes home, which leaves 64 - 32 bytes
				// before the pad marker, too few for second.
				if err := r.TrySend(make([]byte, 50)); err != nil {
					t.Fatal(err)
				}
				if _, err := r.TryReceive(make([]byte, 50)); err != nil {
					t.Fatal(err)
				}
				if sender == "go" {
					for _, m := range [][]byte{first, second} {
						if err := r.TrySend(m); err != nil {
							t.Fatalf("TrySend of %d bytes: %v", len(m), err)
						}
					}
				} else { // a C send that waited for a receiver would time out
					testutil.Start(t, peerCmd(t, sender, "/dev/shm"+r.Name(), "send", "1", "2", "200")).MustSucceed()
				}
				if head, tail := word64(mem, 64).Load(), word64(mem, 72).Load(); head != capacity || tail != capacity+32+72 {
					t.Errorf("head %d, tail %d, want %d and %d", head, tail, capacity, capacity+32+72)
				}
				receive(t, r, receiver, first, second)
			})
		}
	}
}

// receive takes len(want) messages from r with a receiver of kind go, c or
// python, which must be want, in order: test messages 1 0, 1 1 and so on
// (makeMessage) for c and python.
func receive(t *testing.T, r *ring.Ring, kind string, want ...[]byte) {
	t.Helper()
	if kind == "go" {
		buf := make([]byte, r.MaxMessage())
		for _, w := range want {
			n, err := r.Receive(context.Background(), buf)
			if err != nil {
				t.Fatal(err)
			}
			if string(buf[:n]) != string(w) {
				t.Fatalf("received %q, want %q", buf[:n], w)
			}
		}
		return
	}
	lines := "ready\n"
	for i := range want {
		lines += fmt.Sprintf("1 %d\n", i)
	}
	lines += fmt.Sprintf("ok %d\n", len(want))
	out, err := peerCmd(t, kind, "/dev/shm"+r.Name(), "recv", strconv.Itoa(len(want))).CombinedOutput()
	if err != nil || string(out) != lines {
		t.Fatalf("%s recv: %v %q, want %q", kind, err, out, lines)
	}
}

// TestPythonSendSkipsHomePad: a Python sender, which never goes home
// itself, also passes the pad marker that a Go sender going home left at
// head when it needs the room, instead of waiting for a receiver; and Stat
// does not count that pad as used.
func TestPythonSendSkipsHomePad(t *testing.T) {
	const capacity = 1024
	first, second := makeMessage(1, 0, 200), makeMessage(1, 1, 200) // records of 32 and 72
	r := newRing(t, capacity)
	mem := rawRing(t, r.Name())
	if err := r.TrySend(make([]byte, 50)); err != nil { // empty at 64: the next send goes home
		t.Fatal(err)
	}
	if _, err := r.TryReceive(make([]byte, 50)); err != nil {
		t.Fatal(err)
	}
	if err := r.TrySend(first); err != nil {
		t.Fatal(err)
	}
	if st, err := r.Stat(); err != nil || st.Used != 32 || st.Messages != 1 {
		t.Errorf("Stat after going home: %+v, %v; want 1 message, 32 bytes used", st, err)
	}
	// Python sends 1 0 (32 bytes: fits before the pad) and 1 1 (72: only
	// once the pad is passed).
	testutil.Start(t, peerCmd(t, "python", "/dev/shm"+r.Name(), "send", "1", "2", "200")).MustSucceed()
	if head, tail := word64(mem, 64).Load(), word64(mem, 72).Load(); head != capacity || tail != capacity+32+32+72 {
		t.Errorf("head %d, tail %d, want %d and %d", head, tail, capacity, capacity+32+32+72)
	}
	receive(t, r, "go", first, first, second)
}

// TestSendAfterFullPassesHomePad: a Ring whose last send found the ring
// full looks at head and tail before it locks, and must not take the
// padding of a sender that went home since for a full ring: the send skips
// it under the lock and fits.
func TestSendAfterFullPassesHomePad(t *testing.T) {
	const capacity = 1024
	r := newRing(t, capacity)
	other, err := ring.Open(r.Name(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	try := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	receive := func(n int) {
		t.Helper()
		for range n {
			_, err := other.TryReceive(make([]byte, other.MaxMessage()))
			try(err)
		}
	}
	try(other.TrySend(make([]byte, 504))) // records of 512 and 408: tail 920
	try(other.TrySend(make([]byte, 400)))
	if err := r.TrySend(make([]byte, 200)); !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("TrySend of 200 bytes to a ring with 104 free: %v, want EAGAIN", err)
	}
	receive(2)
	try(other.TrySend(make([]byte, 100))) // empty at 920: home, then empty at 1136
	receive(1)
	try(other.TrySend(make([]byte, 8))) // empty at 112 of its lap: home, behind a pad of 912
	try(r.TrySend(make([]byte, 200)))
	if st, err := r.Stat(); err != nil || st.Messages != 2 || st.Used != 16+208 {
		t.Errorf("Stat: %+v, %v; want 2 messages, %d bytes used", st, err, 16+208)
	}
}
