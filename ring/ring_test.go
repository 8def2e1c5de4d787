package ring_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/inventory/inventorytest"
	"github.com/goipc/ipc/posix"
	"github.com/goipc/ipc/ring"
)

func TestMain(m *testing.M) {
	inventorytest.Main(m, map[string]func([]string) error{
		"send":      childSend,
		"sendbatch": childSendBatch,
		"recv":      childRecv,
		"echo":      childEcho,
		"drain":     childDrain,
	})
}

// newRing creates a named ring removed at cleanup.
func newRing(t testing.TB, capacity int64) *ring.Ring {
	t.Helper()
	name := "/" + testutil.Name("ring")
	r, err := ring.Open(name, &ring.Options{Create: true, Exclusive: true, Capacity: capacity})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.Close()
		ring.Unlink(name)
	})
	return r
}

func TestSendReceive(t *testing.T) {
	r := newRing(t, 256)
	ctx := context.Background()
	if got, want := r.MaxMessage(), 120; got != want {
		t.Errorf("MaxMessage of a 256-byte ring: %d, want %d", got, want)
	}
	buf := make([]byte, r.MaxMessage())
	// Two records of up to a quarter of the ring, and the padding before
	// one, always fit.
	msgOf := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, i%(r.Capacity()/4-4+1)) }
	if err := r.Send(ctx, msgOf(0)); err != nil {
		t.Fatal(err)
	}
	// One message stays queued while sizes wrap around the end many times,
	// with padding and without.
	for i := 1; i < 500; i++ {
		if err := r.Send(ctx, msgOf(i)); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		n, err := r.Receive(ctx, buf)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf[:n], msgOf(i-1)) {
			t.Fatalf("message %d: %d bytes of %v, want %d", i-1, n, buf[:min(n, 4)], len(msgOf(i-1)))
		}
	}
	st, err := r.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if st.Messages != 1 || st.Used != (len(msgOf(499))+8+7)/8*8 {
		t.Errorf("Stat %+v: want the one message queued", st)
	}
}

// TestOrder: messages come out whole and in order, through every wrap.
func TestOrder(t *testing.T) {
	r := newRing(t, 512)
	buf := make([]byte, r.MaxMessage())
	next := 0
	for i := range 2000 {
		msg := []byte(fmt.Sprintf("%d:%s", i, strings.Repeat("x", i%200)))
		for {
			err := r.TrySend(msg)
			if err == nil {
				break
			}
			if !errors.Is(err, syscall.EAGAIN) {
				t.Fatal(err)
			}
			n, err := r.TryReceive(buf)
			if err != nil {
				t.Fatalf("TryReceive of a full ring: %v", err)
			}
			checkOrder(t, buf[:n], &next)
		}
	}
	for {
		n, err := r.TryReceive(buf)
		if errors.Is(err, syscall.EAGAIN) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		checkOrder(t, buf[:n], &next)
	}
	if next != 2000 {
		t.Fatalf("received %d messages, want 2000", next)
	}
}

func checkOrder(t *testing.T, got []byte, next *int) {
	t.Helper()
	want := fmt.Sprintf("%d:%s", *next, strings.Repeat("x", *next%200))
	if string(got) != want {
		t.Fatalf("message %d: got %q, want %q", *next, got, want)
	}
	*next++
}

func TestBadInput(t *testing.T) {
	r := newRing(t, 256)
	if err := r.Send(context.Background(), make([]byte, r.MaxMessage()+1)); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("Send of a message too long: %v, want EINVAL", err)
	}
	if err := r.TrySend([]byte("twelve bytes")); err != nil {
		t.Fatal(err)
	}
	if _, err := r.TryReceive(make([]byte, 5)); !errors.Is(err, syscall.EMSGSIZE) {
		t.Errorf("TryReceive into a short buffer: %v, want EMSGSIZE", err)
	}
	buf := make([]byte, 12)
	if n, err := r.TryReceive(buf); err != nil || string(buf[:n]) != "twelve bytes" {
		t.Errorf("the message a short buffer refused: %q, %v; want it still queued", buf[:n], err)
	}
	if _, err := r.TryReceive(buf); !errors.Is(err, syscall.EAGAIN) {
		t.Errorf("TryReceive of an empty ring: %v, want EAGAIN", err)
	}
	for _, c := range []int64{8, 100, -64} {
		if _, err := ring.New(&ring.Options{Capacity: c}); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("New with capacity %d: %v, want EINVAL", c, err)
		}
	}
	if _, err := ring.Open("/"+testutil.Name("absent"), nil); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open of a missing ring: %v, want fs.ErrNotExist", err)
	}
	name := "/" + testutil.Name("excl")
	named, err := ring.Open(name, &ring.Options{Create: true, Capacity: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer ring.Unlink(name)
	defer named.Close()
	if _, err := ring.Open(name, &ring.Options{Exclusive: true}); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("Open with Exclusive but not Create: %v, want EINVAL (it would open the existing ring)", err)
	}
	var nilRing *ring.Ring
	if err := nilRing.TrySend(nil); !errors.Is(err, os.ErrInvalid) {
		t.Errorf("TrySend on nil: %v, want os.ErrInvalid", err)
	}
}

// TestNotARing: memory that does not hold a ring of this version is
// refused, with the reason.
func TestNotARing(t *testing.T) {
	f, err := os.CreateTemp("", "goipc-notring-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	f.Truncate(4096)
	header := func(off int64, b ...byte) {
		if _, err := f.WriteAt(b, off); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		poke func()
		want string
	}{
		{func() {}, "creator is still initialising"},
		{func() { header(0, 1, 2, 3, 4) }, "not a ring (magic 0x4030201"},
		{func() { header(0, 'r', 'i', 'n', 'g', 1) }, "ring version 1, this program speaks 2: the layout changed"},
		{func() { header(0, 'r', 'i', 'n', 'g', 3) }, "ring version 3, this program speaks 2"},
	} {
		c.poke()
		if _, err := ring.FromFile(f, nil); !errors.Is(err, syscall.EINVAL) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("FromFile: %v, want EINVAL: %s", err, c.want)
		}
	}
}

func TestDeadline(t *testing.T) {
	r := newRing(t, 64)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := r.Receive(ctx, make([]byte, 64)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Receive past its deadline: %v, want os.ErrDeadlineExceeded", err)
	}
	for r.TrySend(make([]byte, 20)) == nil { // fill it
	}
	ctx, cancel = context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Send(ctx, make([]byte, 20)) }()
	waitSleepers(t, r, 1) // the Send sleeps on the futex
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Send: %v, want context.Canceled", err)
	}
}

// TestCloseWakes: Close wakes every local waiter with os.ErrClosed; and a
// hundred waiting goroutines share one thread asleep in the kernel.
func TestCloseWakes(t *testing.T) {
	name := "/" + testutil.Name("ring")
	r, err := ring.Open(name, &ring.Options{Create: true, Exclusive: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ring.Unlink(name)
	const n = 100
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := r.Receive(context.Background(), make([]byte, 16))
			errs <- err
		}()
	}
	// One sleeps on the futex, the others wait for it on a channel.
	testutil.WaitGoroutines(t, n-1, "select", "ring.(*Ring).Receive")
	waitSleepers(t, r, 1)
	if st, err := r.Stat(); err != nil || st.Sleepers != 1 {
		t.Errorf("%d threads of this process sleep on the ring (%v), want 1", st.Sleepers, err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for range n {
		if err := <-errs; !errors.Is(err, os.ErrClosed) {
			t.Fatalf("Receive woken by Close: %v, want os.ErrClosed", err)
		}
	}
	if err := r.TrySend([]byte("x")); !errors.Is(err, os.ErrClosed) {
		t.Errorf("TrySend after Close: %v, want os.ErrClosed", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// waitSleepers waits until n threads sleep on r's futex.
func waitSleepers(t *testing.T, r *ring.Ring, n int) {
	t.Helper()
	testutil.WaitUntil(t, func() bool {
		st, err := r.Stat()
		return err == nil && st.Sleepers == n
	}, "%d sleepers on the ring", n)
}

func spinOf(ns int64) time.Duration {
	if ns <= 0 {
		return -1
	}
	return time.Duration(ns)
}

// TestManyWaiters: goroutines that wait while one of them sleeps on the
// futex all get a message once messages come, from this process or another.
func TestManyWaiters(t *testing.T) {
	r := newRing(t, 4096)
	const n = 50
	got := make(chan string, n)
	for range n {
		go func() {
			buf := make([]byte, 64)
			k, err := r.Receive(context.Background(), buf)
			if err != nil {
				got <- err.Error()
				return
			}
			got <- string(buf[:k])
		}()
	}
	testutil.WaitGoroutines(t, n-1, "select", "ring.(*Ring).Receive")
	waitSleepers(t, r, 1)
	path := "/dev/shm" + r.Name()
	sender := testutil.Start(t, peerCmd(t, "c", path, "send", "7", strconv.Itoa(n/2), "0"))
	sender.Expect("ready")
	sender.MustSucceed()
	for i := range n - n/2 {
		if err := r.Send(context.Background(), []byte(fmt.Sprint("local ", i))); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	for range n {
		select {
		case m := <-got:
			if seen[m] {
				t.Fatalf("message %q came twice", m)
			}
			seen[m] = true
		case <-time.After(testutil.Timeout):
			t.Fatalf("%d of %d waiters got a message", len(seen), n)
		}
	}
}

// TestSpinEndsWithATry: a message that arrives while another holds the lock
// for the whole of a receiver's spin is taken as soon as the lock is free.
// A spin never waits for the lock, so it may end with the message there and
// seq unmoved since it looked; the receiver must then try once more,
// waiting for the lock, rather than sleep on seq (for up to a second).
func TestSpinEndsWithATry(t *testing.T) {
	r := newRing(t, 256)
	rx, err := ring.Open(r.Name(), &ring.Options{Spin: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	shm, err := posix.OpenSharedMemory(r.Name(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer shm.Close()
	mem, err := shm.Map(posix.ReadWrite)
	if err != nil {
		t.Fatal(err)
	}
	word := func(off int) *atomic.Uint32 { return (*atomic.Uint32)(unsafe.Pointer(&mem[off])) }
	lock := lockRing(t, mem)
	defer lock.Unlock() // on failure, before rx.Close, which waits for the receiver
	got := make(chan error, 1)
	go func() {
		buf := make([]byte, 16)
		n, err := rx.Receive(context.Background(), buf)
		if err == nil && string(buf[:n]) != "x" {
			err = fmt.Errorf("received %q, want %q", buf[:n], "x")
		}
		got <- err
	}()
	// A receiver inside the shim with the ring empty is spinning; on a busy
	// machine its spin may be over before this goroutine looks, and it
	// waits for the lock already (FUTEX_WAITERS, the high bit of the lock
	// word, the mutex's first): either way it must take what is sent now.
	testutil.WaitUntil(t, func() bool {
		return testutil.Parked("syscall", "ring._Cfunc_ring_receive") == 1 || word(88).Load()&(1<<31) != 0
	}, "the receiver spinning or waiting for the lock")
	// Send "x" by the layout's rules, holding the lock: a record of 16
	// bytes at the start of the data area with its mark (lap 0, plus one),
	// tail, then seq.
	word(256).Store(1)
	mem[264] = 'x'
	word(260).Store(1)
	(*atomic.Uint64)(unsafe.Pointer(&mem[72])).Store(16)
	word(80).Add(1)
	// The spin is over once the receiver waits for the lock: glibc sets
	// FUTEX_WAITERS in the lock word (the mutex's first) when one does.
	testutil.WaitUntil(t, func() bool { return word(88).Load()&(1<<31) != 0 }, "a waiter for the lock")
	if err := lock.Unlock(); err != nil {
		t.Fatal(err)
	}
	testutil.WaitUntil(t, func() bool {
		select {
		case err := <-got:
			if err != nil {
				t.Fatal(err)
			}
			return true
		default:
		}
		if word(84).Load() != 0 {
			t.Fatal("the receiver sleeps on seq with a message in the ring")
		}
		return false
	}, "the message received")
}

// Every method of a nil or zero Ring answers without a panic: accessors
// with zero values, calls with an error matching os.ErrInvalid, Close with
// nil.
func TestNilAndZeroRing(t *testing.T) {
	for name, r := range map[string]*ring.Ring{"nil": nil, "zero": {}} {
		if r.Name() != "" || r.Capacity() != 0 || r.MaxMessage() != 0 || r.File() != nil {
			t.Errorf("%s ring: Name %q, Capacity %d, MaxMessage %d, File %v; want zero values",
				name, r.Name(), r.Capacity(), r.MaxMessage(), r.File())
		}
		_, statErr := r.Stat()
		_, tryRecvErr := r.TryReceive(make([]byte, 8))
		_, recvErr := r.Receive(context.Background(), make([]byte, 8))
		for call, err := range map[string]error{
			"Send": r.Send(context.Background(), []byte("x")), "TrySend": r.TrySend([]byte("x")),
			"Receive": recvErr, "TryReceive": tryRecvErr, "Stat": statErr,
		} {
			if !errors.Is(err, os.ErrInvalid) {
				t.Errorf("%s ring: %s = %v, want an error matching os.ErrInvalid", name, call, err)
			}
		}
		if err := r.Close(); err != nil {
			t.Errorf("%s ring: Close = %v", name, err)
		}
	}
}

// TestOpenEmpty: a shared memory object of that name that holds nothing
// yet (another process's shm_open before its ftruncate, or a stranger's) is
// refused with the reason, Create or not (with Create, after waiting for a
// maker that never comes), and left alone.
func TestOpenEmpty(t *testing.T) {
	name := "/" + testutil.Name("ring")
	shm, err := posix.OpenSharedMemory(name, &posix.ShmOptions{Create: true, Exclusive: true})
	if err != nil {
		t.Fatal(err)
	}
	defer shm.Unlink()
	defer shm.Close()
	for _, opts := range []*ring.Options{nil, {Create: true}} {
		if _, err := ring.Open(name, opts); !errors.Is(err, syscall.EINVAL) || !strings.Contains(err.Error(), "still making: try again") {
			t.Errorf("Open(%+v) of an empty object: %v, want EINVAL: ... try again", opts, err)
		}
	}
	if size, err := shm.Size(); err != nil || size != 0 {
		t.Errorf("the empty object after Open: %d bytes, %v; want it left empty", size, err)
	}
}

// TestOpenCreateRace: processes (here goroutines) that start together and
// each Open the same ring with Create all get it, although all but one find
// it being made by another: none is told to try again.
func TestOpenCreateRace(t *testing.T) {
	for range 20 {
		name := "/" + testutil.Name("race")
		const n = 8
		results := make(chan error, n)
		for range n {
			go func() {
				r, err := ring.Open(name, &ring.Options{Create: true})
				if err == nil {
					err = r.Close()
				}
				results <- err
			}()
		}
		for range n {
			if err := <-results; err != nil {
				t.Errorf("Open with Create among %d at once: %v", n, err)
			}
		}
		if err := ring.Unlink(name); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSendAfterFull: a send that found the ring full makes the next one
// look at head and tail before it locks; that look must see the room a
// receive made, and must not take corrupt positions for a full ring.
func TestSendAfterFull(t *testing.T) {
	r := newRing(t, 256)
	msg, buf := make([]byte, 50), make([]byte, r.MaxMessage())
	sent := 0
	for ; r.TrySend(msg) == nil; sent++ {
	}
	if err := r.TrySend(msg); !errors.Is(err, syscall.EAGAIN) || sent != 4 {
		t.Fatalf("after %d sends: %v, want 4 sends of 64-byte records, then EAGAIN", sent, err)
	}
	if _, err := r.TryReceive(buf); err != nil {
		t.Fatal(err)
	}
	if err := r.TrySend(msg); err != nil {
		t.Fatalf("TrySend after a receive made room: %v", err)
	}
	if err := r.TrySend(msg); !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("TrySend to a full ring: %v, want EAGAIN", err)
	}
	mem := rawRing(t, r.Name())
	word64(mem, 64).Store(0)
	word64(mem, 72).Store(512) // tail past capacity: neither full nor empty
	if err := r.TrySend(msg); !errors.Is(err, syscall.EBADMSG) {
		t.Errorf("TrySend with corrupt positions after a full ring: %v, want EBADMSG", err)
	}
}

// TestNilContext: every waiting call with a nil context fails with EINVAL
// before it sends or takes anything, whether the ring is ready or it would
// have to wait, and Close then returns. A nil context used to panic once a
// call had to wait, leaving the call counted in flight, so that Close
// waited for it for good.
func TestNilContext(t *testing.T) {
	// Not newRing: its cleanup's Close would wait for good after a panic.
	r, err := ring.New(&ring.Options{Capacity: 256})
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, r.MaxMessage())
	calls := map[string]func() error{
		"Send":         func() error { return r.Send(nil, []byte("x")) },
		"SendBatch":    func() error { _, err := r.SendBatch(nil, [][]byte{[]byte("x")}); return err },
		"Receive":      func() error { _, err := r.Receive(nil, buf); return err },
		"ReceiveBatch": func() error { _, err := r.ReceiveBatch(nil, [][]byte{buf}, []int{0}); return err },
		"SendReceive":  func() error { _, err := r.SendReceive(nil, []byte("x"), r, buf); return err },
	}
	panicked := false
	call := func(state, name string) {
		t.Helper()
		var err error
		func() {
			defer func() {
				if p := recover(); p != nil {
					err, panicked = fmt.Errorf("panic: %v", p), true
				}
			}()
			err = calls[name]()
		}()
		if !errors.Is(err, syscall.EINVAL) {
			t.Errorf("%s ring: %s with a nil context: %v, want an error matching EINVAL", state, name, err)
		}
	}
	// Empty: the receives would wait.
	call("an empty", "Receive")
	call("an empty", "ReceiveBatch")
	if panicked {
		t.Fatal("the ring is not closed: Close would wait for the calls that panicked")
	}
	if err := r.TrySend([]byte("queued")); err != nil {
		t.Fatal(err)
	}
	for name := range calls {
		call("a ready", name)
	}
	if st, err := r.Stat(); err != nil || st.Messages != 1 {
		t.Errorf("after the calls with a nil context: %d messages queued (%v), want the 1 there was", st.Messages, err)
	}
	if n, err := r.TryReceive(buf); err != nil || string(buf[:n]) != "queued" {
		t.Errorf("TryReceive: %q, %v; want \"queued\"", buf[:n], err)
	}
	// Full: the sends would wait.
	for r.TrySend([]byte("x")) == nil {
	}
	call("a full", "Send")
	call("a full", "SendBatch")
	call("a full", "SendReceive")
	if panicked {
		t.Fatal("the ring is not closed: Close would wait for the calls that panicked")
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}
