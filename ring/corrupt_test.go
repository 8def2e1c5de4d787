package ring_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/posix"
	"github.com/goipc/ipc/ring"
)

// rawRing maps the named ring's memory, for a test that writes its header
// as a buggy or hostile process would.
func rawRing(t *testing.T, name string) []byte {
	t.Helper()
	shm, err := posix.OpenSharedMemory(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shm.Close() })
	mem, err := shm.Map(posix.ReadWrite)
	if err != nil {
		t.Fatal(err)
	}
	return mem
}

func word64(mem []byte, off int) *atomic.Uint64 { return (*atomic.Uint64)(unsafe.Pointer(&mem[off])) }

// The positions (head, tail) that no sends and receives can leave: tail
// more than the capacity past head, tail behind head, a position off the
// 8-byte grid. Each must fail every call with an error matching
// syscall.EBADMSG in Go, C and Python, not read as a full ring (a Send
// would wait forever) or as records.
var corruptPositions = []struct {
	name       string
	head, tail uint64
}{
	{"tail past capacity", 0, 256 + 8},
	{"tail behind head", 16, 8},
	{"tail off the grid", 0, 12},
	{"head and tail off the grid, at the end", 255, 255}, // its mark would be past the data area
}

func TestCorruptPositions(t *testing.T) {
	for _, c := range corruptPositions {
		t.Run(c.name, func(t *testing.T) {
			r := newRing(t, 256)
			mem := rawRing(t, r.Name())
			corrupt := func() { // again before each peer: a buggy one may move them
				word64(mem, 64).Store(c.head)
				word64(mem, 72).Store(c.tail)
			}
			corrupt()
			if err := r.TrySend([]byte("x")); !errors.Is(err, syscall.EBADMSG) {
				t.Errorf("TrySend: %v, want EBADMSG", err)
			}
			// A Send that took the ring for full would wait until the deadline.
			ctx, cancel := context.WithTimeout(context.Background(), testutil.Timeout)
			defer cancel()
			if err := r.Send(ctx, []byte("x")); !errors.Is(err, syscall.EBADMSG) {
				t.Errorf("Send: %v, want EBADMSG", err)
			} else if !strings.Contains(err.Error(), fmt.Sprintf("head %d, tail %d", c.head, c.tail)) {
				t.Errorf("Send: %v, want the positions in the message", err)
			}
			if _, err := r.TryReceive(make([]byte, 256)); !errors.Is(err, syscall.EBADMSG) {
				t.Errorf("TryReceive: %v, want EBADMSG", err)
			}
			if st, err := r.Stat(); !errors.Is(err, syscall.EBADMSG) || st != (ring.Stats{}) {
				t.Errorf("Stat: %+v, %v; want EBADMSG and zero Stats", st, err)
			}
			for _, kind := range []string{"c", "python"} {
				for _, args := range [][]string{{"send", "1", "1", "0"}, {"recv", "1"}} {
					corrupt()
					ctx, cancel := context.WithTimeout(context.Background(), testutil.Timeout)
					defer cancel()
					cmd := peerCmd(t, kind, append([]string{"/dev/shm" + r.Name()}, args...)...)
					out, err := exec.CommandContext(ctx, cmd.Path, cmd.Args[1:]...).CombinedOutput()
					var exit *exec.ExitError
					if ctx.Err() != nil || !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(string(out), "ad message") {
						t.Errorf("%s peer %s: %v (context %v): %s; want exit status 1 for EBADMSG (Bad message)", kind, args[0], err, ctx.Err(), out)
					}
				}
			}
		})
	}
}

// TestCapacityErrors: a capacity the layout cannot take is refused before
// anything is created, with the reason, not blamed on a system call.
func TestCapacityErrors(t *testing.T) {
	for c, want := range map[int64]string{
		100:     "Options.Capacity 100 is not a multiple of 8: 96 or 104 would do",
		8:       "Options.Capacity 8 is below the minimum, MinCapacity (64)",
		-64:     "below the minimum",
		1 << 41: "above the maximum, MaxCapacity (1 TiB)",
	} {
		_, err := ring.New(&ring.Options{Capacity: c})
		if !errors.Is(err, syscall.EINVAL) || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "ring create") {
			t.Errorf("New with capacity %d: %v, want EINVAL: ring create ...: %s", c, err, want)
		}
		name := "/" + testutil.Name("ring")
		_, err = ring.Open(name, &ring.Options{Create: true, Capacity: c})
		if !errors.Is(err, syscall.EINVAL) || !strings.Contains(err.Error(), want) {
			t.Errorf("Open with capacity %d: %v, want EINVAL: %s", c, err, want)
		}
		if err := ring.Unlink(name); err == nil {
			t.Errorf("Open with capacity %d created %s", c, name)
		}
	}
}

// TestVersion1Refused: a ring of the older layout (positions on a line of
// their own, records without marks) is refused by Go, C and Python alike,
// and Go says why, rather than read its positions where the lock now is.
func TestVersion1Refused(t *testing.T) {
	r := newRing(t, 256)
	(*atomic.Uint32)(unsafe.Pointer(&rawRing(t, r.Name())[4])).Store(1)
	if _, err := ring.Open(r.Name(), nil); !errors.Is(err, syscall.EINVAL) || !strings.Contains(err.Error(), "ring version 1, this program speaks 2: the layout changed") {
		t.Errorf("Open of a version 1 ring: %v, want EINVAL saying the layout changed", err)
	}
	for kind, want := range map[string]string{"c": "attach: Invalid argument", "python": "ring version 1"} {
		out, err := peerCmd(t, kind, "/dev/shm"+r.Name(), "recv", "1").CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(string(out), want) {
			t.Errorf("%s peer on a version 1 ring: %v: %s; want exit status 1 and %q", kind, err, out, want)
		}
	}
}

// TestStaleMark: a mark at the head of an empty ring, as a sender killed
// between storing its record's mark and tail leaves it, is only a hint: a
// receiver spinning in Go, or waiting in C, takes the next message sent,
// whole, and never the bytes under the mark.
func TestStaleMark(t *testing.T) {
	r := newRing(t, 256)
	mem := rawRing(t, r.Name())
	staleMark := func(pos int) { // mark(pos) = lap + 1 = 1, over a record never published
		binary.NativeEndian.PutUint32(mem[256+pos:], 200)
		(*atomic.Uint32)(unsafe.Pointer(&mem[256+pos+4])).Store(1)
	}
	staleMark(0)
	rx, err := ring.Open(r.Name(), &ring.Options{Spin: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	got := make(chan error, 1)
	go func() {
		buf := make([]byte, rx.MaxMessage())
		n, err := rx.Receive(context.Background(), buf)
		if err == nil && string(buf[:n]) != "x" {
			err = fmt.Errorf("received %q, want %q", buf[:n], "x")
		}
		got <- err
	}()
	testutil.WaitUntil(t, func() bool { return testutil.Parked("syscall", "ring._Cfunc_ring_receive") == 1 }, "the receiver spinning")
	if err := r.TrySend([]byte("x")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(testutil.Timeout):
		t.Fatal("the spinning receiver did not take the message")
	}

	staleMark(16) // the head now
	c := testutil.Start(t, peerCmd(t, "c", "/dev/shm"+r.Name(), "recv", "1"))
	c.Expect("ready")
	if err := r.TrySend(makeMessage(1, 0, 40)); err != nil {
		t.Fatal(err)
	}
	c.Expect("1 0")
	c.Expect("ok 1")
	c.MustSucceed()
}

// TestCorruptRecordBatch: a record whose length is out of bounds fails
// ReceiveBatch with EBADMSG and leaves lens[0] at 0, not at the corrupt
// length, which a caller slicing bufs[0][:lens[0]] would trip on; Stat
// fails with nothing else.
func TestCorruptRecordBatch(t *testing.T) {
	r := newRing(t, 256)
	if err := r.TrySend([]byte("x")); err != nil {
		t.Fatal(err)
	}
	binary.NativeEndian.PutUint32(rawRing(t, r.Name())[256:], 1<<30) // the first record's length
	bufs, lens := [][]byte{make([]byte, 64)}, []int{7}
	if _, err := r.ReceiveBatch(context.Background(), bufs, lens); !errors.Is(err, syscall.EBADMSG) || lens[0] != 0 {
		t.Errorf("ReceiveBatch of a corrupt record: %v, lens[0] %d; want EBADMSG and 0", err, lens[0])
	}
	// Stat's walk stops there: no half-filled Stats beside the error.
	if st, err := r.Stat(); !errors.Is(err, syscall.EBADMSG) || st != (ring.Stats{}) {
		t.Errorf("Stat of a ring with a corrupt record: %+v, %v; want EBADMSG and zero Stats", st, err)
	}
}
