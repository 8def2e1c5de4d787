package ring_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/ring"
)

// opOf is the operation an error of the package names: the half of a
// SendReceive that failed.
func opOf(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Op
	}
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Syscall
	}
	return ""
}

// queued is how many messages r holds.
func queued(t *testing.T, r *ring.Ring) int {
	t.Helper()
	st, err := r.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return st.Messages
}

// copies takes every message out of r and counts those equal to msg.
func copies(t *testing.T, r *ring.Ring, msg []byte) int {
	t.Helper()
	buf, found := make([]byte, r.MaxMessage()), 0
	for {
		n, err := r.TryReceive(buf)
		if errors.Is(err, syscall.EAGAIN) {
			return found
		}
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(buf[:n], msg) {
			found++
		}
	}
}

// TestSendReceiveEcho: a client's SendReceive against an echo peer in
// another process, Go (answering with SendReceive itself) or C, spinning
// and sleeping: every reply is the request, whole, and at the end both
// rings are empty (no message sent twice or lost).
func TestSendReceiveEcho(t *testing.T) {
	ringC := testutil.BuildC(t, "ring_peer", "-pthread")
	for _, peer := range []string{"go", "c"} {
		for _, spin := range []time.Duration{time.Millisecond, -1} {
			spinNs := "0"
			if spin > 0 {
				spinNs = "1000000"
			}
			t.Run(peer+"/spin="+spinNs, func(t *testing.T) {
				var rings [2]*ring.Ring
				for i := range rings {
					r, err := ring.New(&ring.Options{Capacity: 4096, Spin: spin})
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { r.Close() })
					rings[i] = r
				}
				ping, pong := rings[0], rings[1]
				cmd := testutil.Child("echo", spinNs, "sendreceive")
				if peer == "c" {
					cmd = exec.Command(ringC, "/proc/self/fd/3", "echo", "/proc/self/fd/4", spinNs)
				}
				cmd.ExtraFiles = []*os.File{ping.File(), pong.File()}
				p := testutil.Start(t, cmd)
				p.Expect("ready")
				buf := make([]byte, pong.MaxMessage())
				ctx := context.Background()
				for i := range uint32(2000) {
					msg := makeMessage(1, i, uint32(ping.MaxMessage()-12))
					n, err := ping.SendReceive(ctx, msg, pong, buf)
					if err != nil {
						t.Fatalf("round trip %d: %v", i, err)
					}
					if !bytes.Equal(buf[:n], msg) {
						t.Fatalf("round trip %d: a reply of %d bytes, want the %d sent", i, n, len(msg))
					}
				}
				if err := ping.Send(ctx, nil); err != nil {
					t.Fatal(err)
				}
				p.MustSucceed()
				if a, b := queued(t, ping), queued(t, pong); a != 0 || b != 0 {
					t.Errorf("after the echo, %d and %d messages left in the rings, want none", a, b)
				}
			})
		}
	}
}

// TestSendReceiveSameRing: from may be the ring sent on, and msg and buf the
// same memory: msg goes out before the next message comes in. With room and
// a message there, it is one cgo call.
func TestSendReceiveSameRing(t *testing.T) {
	r := newRing(t, 256)
	ctx := context.Background()
	if err := r.Send(ctx, []byte("first")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n := copy(buf, "second, longer")
	calls := runtime.NumCgoCall()
	n, err := r.SendReceive(ctx, buf[:n], r, buf)
	if calls = runtime.NumCgoCall() - calls; calls != 1 {
		t.Errorf("SendReceive made %d cgo calls, want 1", calls)
	}
	if err != nil || string(buf[:n]) != "first" {
		t.Fatalf("SendReceive on one ring: %q, %v; want the message queued before", buf[:n], err)
	}
	if n, err := r.TryReceive(buf); err != nil || string(buf[:n]) != "second, longer" {
		t.Errorf("the message sent from the buffer received into: %q, %v", buf[:n], err)
	}
}

// TestSendReceiveHalves: each way SendReceive fails names the half that
// failed, and msg is in the ring sent on exactly when the send half
// succeeded: never twice, never lost.
func TestSendReceiveHalves(t *testing.T) {
	ctx := context.Background()
	msg, buf := []byte("request"), make([]byte, 64)
	shortly := func(t *testing.T) context.Context {
		ctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		t.Cleanup(cancel)
		return ctx
	}
	for _, c := range []struct {
		name string
		// setup readies the rings and returns what to send and receive
		// into, and with what context; undo, if any, repairs after.
		setup  func(t *testing.T, to, from *ring.Ring) (context.Context, []byte, []byte)
		check  func(t *testing.T, to, from *ring.Ring)
		want   error
		op     string // "ring send": nothing sent; "ring receive": msg sent
		detail string
	}{
		{"message too long", func(t *testing.T, to, from *ring.Ring) (context.Context, []byte, []byte) {
			return ctx, make([]byte, to.MaxMessage()+1), buf
		}, nil, syscall.EINVAL, "ring send", "maximum"},
		{"closed ring to receive from", func(t *testing.T, to, from *ring.Ring) (context.Context, []byte, []byte) {
			from.Close()
			return ctx, msg, buf
		}, nil, os.ErrClosed, "ring send", "nothing sent"},
		{"full until the deadline", func(t *testing.T, to, from *ring.Ring) (context.Context, []byte, []byte) {
			for to.TrySend(make([]byte, 100)) == nil {
			}
			return shortly(t), bytes.Repeat([]byte("x"), 100), buf
		}, nil, os.ErrDeadlineExceeded, "ring send", ""},
		{"nothing to receive until the deadline", func(t *testing.T, to, from *ring.Ring) (context.Context, []byte, []byte) {
			return shortly(t), msg, buf
		}, nil, os.ErrDeadlineExceeded, "ring receive", ""},
		{"buffer too short", func(t *testing.T, to, from *ring.Ring) (context.Context, []byte, []byte) {
			if err := from.TrySend([]byte("a reply too long")); err != nil {
				t.Fatal(err)
			}
			return ctx, msg, buf[:4]
		}, func(t *testing.T, to, from *ring.Ring) {
			if n, err := from.TryReceive(buf); err != nil || string(buf[:n]) != "a reply too long" {
				t.Errorf("the reply a short buffer refused: %q, %v; want it still queued", buf[:n], err)
			}
		}, syscall.EMSGSIZE, "ring receive", "stays in the ring"},
		{"corrupt positions of the ring to send on", func(t *testing.T, to, from *ring.Ring) (context.Context, []byte, []byte) {
			mem := rawRing(t, to.Name())
			word64(mem, 64).Store(16)
			word64(mem, 72).Store(8)
			return ctx, msg, buf
		}, func(t *testing.T, to, from *ring.Ring) {
			mem := rawRing(t, to.Name())
			word64(mem, 64).Store(0)
			word64(mem, 72).Store(0)
		}, syscall.EBADMSG, "ring send", "corrupt ring"},
		{"corrupt positions of the ring to receive from", func(t *testing.T, to, from *ring.Ring) (context.Context, []byte, []byte) {
			word64(rawRing(t, from.Name()), 72).Store(12)
			return ctx, msg, buf
		}, nil, syscall.EBADMSG, "ring receive", "corrupt ring"},
		{"ring to receive from truncated", func(t *testing.T, to, from *ring.Ring) (context.Context, []byte, []byte) {
			if err := os.Truncate("/dev/shm"+from.Name(), 0); err != nil {
				t.Fatal(err)
			}
			return ctx, msg, buf
		}, nil, syscall.EFAULT, "ring receive", "truncated"},
	} {
		t.Run(c.name, func(t *testing.T) {
			to, from := newRing(t, 256), newRing(t, 256)
			ctx, msg, buf := c.setup(t, to, from)
			_, err := to.SendReceive(ctx, msg, from, buf)
			if !errors.Is(err, c.want) || opOf(err) != c.op || !strings.Contains(err.Error(), c.detail) {
				t.Errorf("SendReceive: %v; want %v from %q, saying %q", err, c.want, c.op, c.detail)
			}
			if c.check != nil {
				c.check(t, to, from)
			}
			if sent := copies(t, to, msg); sent != map[string]int{"ring send": 0, "ring receive": 1}[c.op] {
				t.Errorf("%d copies of the message sent on a failure of %q", sent, c.op)
			}
		})
	}
	to := newRing(t, 256)
	for name, from := range map[string]*ring.Ring{"nil": nil, "zero": {}} {
		if _, err := to.SendReceive(ctx, msg, from, buf); !errors.Is(err, os.ErrInvalid) || opOf(err) != "ring send" ||
			!strings.Contains(err.Error(), "nothing sent") {
			t.Errorf("SendReceive from a %s ring: %v, want os.ErrInvalid from ring send, saying nothing was sent", name, err)
		}
	}
	if sent := copies(t, to, msg); sent != 0 {
		t.Errorf("%d copies of the message sent with nothing to receive from", sent)
	}
	closed := newRing(t, 256)
	closed.Close()
	var nilRing *ring.Ring
	for name, r := range map[string]*ring.Ring{"nil": nilRing, "closed": closed} {
		if _, err := r.SendReceive(ctx, msg, newRing(t, 256), buf); !errors.Is(err, os.ErrInvalid) && !errors.Is(err, os.ErrClosed) || opOf(err) != "ring send" {
			t.Errorf("SendReceive on a %s ring: %v, want os.ErrInvalid or os.ErrClosed from ring send", name, err)
		}
	}
}

// TestSendReceiveWaits: the send half waits for room as Send does, and the
// receive half for a message as Receive does; Close of the ring received
// from wakes it with os.ErrClosed, the request sent once.
func TestSendReceiveWaits(t *testing.T) {
	to, from := newRing(t, 256), newRing(t, 256)
	filler, msg := []byte("filler"), []byte("request")
	for to.TrySend(filler) == nil {
	}
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	buf := make([]byte, 64)
	go func() {
		n, err := to.SendReceive(context.Background(), msg, from, buf)
		done <- result{n, err}
	}()
	waitSleepers(t, to, 1) // the send half, asleep on the full ring
	if _, err := to.TryReceive(make([]byte, 64)); err != nil {
		t.Fatal(err)
	}
	waitSleepers(t, from, 1) // the receive half, asleep on the empty one
	if err := from.TrySend([]byte("reply")); err != nil {
		t.Fatal(err)
	}
	if r := testutil.Recv(t, done); r.err != nil || string(buf[:r.n]) != "reply" {
		t.Fatalf("SendReceive that waited for room, then for the reply: %q, %v", buf[:r.n], r.err)
	}
	if sent := copies(t, to, msg); sent != 1 {
		t.Errorf("%d copies of the request sent, want 1", sent)
	}

	go func() {
		n, err := to.SendReceive(context.Background(), msg, from, buf)
		done <- result{n, err}
	}()
	waitSleepers(t, from, 1)
	from.Close()
	if r := testutil.Recv(t, done); !errors.Is(r.err, os.ErrClosed) || opOf(r.err) != "ring receive" {
		t.Errorf("SendReceive waiting on a ring closed meanwhile: %v, want os.ErrClosed from ring receive", r.err)
	}
	if sent := copies(t, to, msg); sent != 1 {
		t.Errorf("%d copies of the request sent, want 1", sent)
	}
}

// TestSendReceiveLockTaken: when the lock of the ring sent on is held (here
// by another goroutine, as another process would), the one crossing that
// never waits for it gives way to Send, which waits; msg goes once.
func TestSendReceiveLockTaken(t *testing.T) {
	r := newRing(t, 256)
	release := holdLock(t, rawRing(t, r.Name()))
	done := make(chan error, 1)
	buf := make([]byte, 64)
	go func() {
		n, err := r.SendReceive(context.Background(), []byte("once"), r, buf)
		if err == nil && string(buf[:n]) != "once" {
			err = errors.New("received " + string(buf[:n]))
		}
		done <- err
	}()
	testutil.WaitUntil(t, func() bool { return testutil.Parked("syscall", "ring.(*Ring).Send") == 1 },
		"SendReceive waiting for the lock in Send")
	release()
	if err := testutil.Recv(t, done); err != nil {
		t.Fatalf("SendReceive of a message to its own ring, the lock taken: %v", err)
	}
	if n := queued(t, r); n != 0 {
		t.Errorf("%d messages left, want 0: sent twice", n)
	}
}

// TestSendReceiveTruncatedSender: the ring sent on is truncated, so the
// send of the one crossing faults after the receive half is under way; the
// message the call took from the other ring is not lost with the error.
func TestSendReceiveTruncatedSender(t *testing.T) {
	r, from := newRing(t, 64<<10), newRing(t, 64<<10)
	want := []byte("the reply that must not be lost")
	if err := from.TrySend(want); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate("/dev/shm"+r.Name(), 4096); err != nil { // header kept, data gone
		t.Fatal(err)
	}
	buf := make([]byte, from.MaxMessage())
	n, err := r.SendReceive(context.Background(), make([]byte, 8000), from, buf)
	if !errors.Is(err, syscall.EFAULT) || opOf(err) != "ring send" {
		t.Fatalf("SendReceive on a truncated ring: %v (op %q), want EFAULT from ring send", err, opOf(err))
	}
	if got := queued(t, from); n != len(want) || !bytes.Equal(buf[:n], want) || got != 0 {
		t.Errorf("SendReceive returned %d bytes %q with the error, %d left in from; want the message %q taken", n, buf[:n], got, want)
	}
}
