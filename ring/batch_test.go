package ring_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/ring"
)

// batchOf returns n messages, the i-th of i%50 bytes of i, and n buffers of
// size bytes with their lengths.
func batchOf(n, size int) (msgs, bufs [][]byte, lens []int) {
	for i := range n {
		msgs = append(msgs, bytes.Repeat([]byte{byte(i)}, i%50))
		bufs = append(bufs, make([]byte, size))
	}
	return msgs, bufs, make([]int, n)
}

// checkBatch fails t unless bufs[:n], as lens says, hold msgs[from:from+n].
func checkBatch(t *testing.T, msgs, bufs [][]byte, lens []int, from, n int) {
	t.Helper()
	for i := range n {
		if got := bufs[i][:lens[i]]; !bytes.Equal(got, msgs[from+i]) {
			t.Fatalf("message %d: %d bytes of %v, want %d of %d", from+i, lens[i], got[:min(len(got), 4)], len(msgs[from+i]), byte(from+i))
		}
	}
}

// A batch of more messages than one crossing carries goes whole and in
// order, as separate messages: Receive takes them one by one, and
// ReceiveBatch as many as it has buffers.
func TestBatch(t *testing.T) {
	r := newRing(t, 4096)
	ctx := context.Background()
	msgs, bufs, lens := batchOf(40, 64)
	if n, err := r.SendBatch(ctx, msgs); n != len(msgs) || err != nil {
		t.Fatalf("SendBatch of %d: %d, %v", len(msgs), n, err)
	}
	if st, err := r.Stat(); err != nil || st.Messages != len(msgs) {
		t.Fatalf("after SendBatch of %d, the ring holds %d messages (%v)", len(msgs), st.Messages, err)
	}
	k, err := r.Receive(ctx, bufs[0])
	if err != nil {
		t.Fatal(err)
	}
	lens[0] = k
	checkBatch(t, msgs, bufs, lens, 0, 1)
	n, err := r.ReceiveBatch(ctx, bufs[:30], lens)
	if n != 30 || err != nil {
		t.Fatalf("ReceiveBatch of 30 of 39 queued: %d, %v", n, err)
	}
	checkBatch(t, msgs, bufs, lens, 1, n)
	if n, err = r.TryReceiveBatch(bufs, lens); n != 9 || err != nil {
		t.Fatalf("TryReceiveBatch into 40 buffers, 9 queued: %d, %v", n, err)
	}
	checkBatch(t, msgs, bufs, lens, 31, n)
	if n, err := r.TryReceiveBatch(bufs, lens); n != 0 || !errors.Is(err, syscall.EAGAIN) {
		t.Errorf("TryReceiveBatch of an empty ring: %d, %v, want EAGAIN", n, err)
	}
	if n, err := r.TrySendBatch(nil); n != 0 || err != nil {
		t.Errorf("TrySendBatch of nothing: %d, %v", n, err)
	}
	if n, err := r.ReceiveBatch(ctx, nil, nil); n != 0 || err != nil {
		t.Errorf("ReceiveBatch into no buffers: %d, %v", n, err)
	}
}

// TrySendBatch sends what fits and says how many; then EAGAIN.
func TestTrySendBatchPartial(t *testing.T) {
	r := newRing(t, 256)
	msgs := make([][]byte, 6)
	for i := range msgs {
		msgs[i] = bytes.Repeat([]byte{byte(i)}, 56) // 64-byte records: 4 fill the ring
	}
	if n, err := r.TrySendBatch(msgs); n != 4 || err != nil {
		t.Fatalf("TrySendBatch of 6 into room for 4: %d, %v", n, err)
	}
	if n, err := r.TrySendBatch(msgs[4:]); n != 0 || !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("TrySendBatch into a full ring: %d, %v, want EAGAIN", n, err)
	}
	_, bufs, lens := batchOf(6, 64)
	if n, err := r.TryReceiveBatch(bufs, lens); n != 4 || err != nil {
		t.Fatalf("TryReceiveBatch: %d, %v", n, err)
	}
	checkBatch(t, msgs, bufs, lens, 0, 4)
}

// A message too long for the ring fails the batch before anything is sent;
// one too long for its buffer stays, ending the batch before it, and fails
// the next call as Receive fails.
func TestBatchTooLong(t *testing.T) {
	r := newRing(t, 256)
	ctx := context.Background()
	if n, err := r.SendBatch(ctx, [][]byte{{1}, make([]byte, r.MaxMessage()+1)}); n != 0 || !errors.Is(err, syscall.EINVAL) {
		t.Errorf("SendBatch with a message over MaxMessage: %d, %v, want EINVAL", n, err)
	}
	if n, err := r.TrySendBatch([][]byte{make([]byte, r.MaxMessage()+1)}); n != 0 || !errors.Is(err, syscall.EINVAL) {
		t.Errorf("TrySendBatch of a message over MaxMessage: %d, %v, want EINVAL", n, err)
	}
	if st, _ := r.Stat(); st.Messages != 0 {
		t.Fatalf("a failed batch left %d messages", st.Messages)
	}
	msgs := [][]byte{make([]byte, 8), make([]byte, 100), make([]byte, 8)}
	if n, err := r.SendBatch(ctx, msgs); n != 3 || err != nil {
		t.Fatal(n, err)
	}
	bufs, lens := [][]byte{make([]byte, 64), make([]byte, 64)}, make([]int, 2)
	if n, err := r.ReceiveBatch(ctx, bufs, lens); n != 1 || err != nil || lens[0] != 8 {
		t.Fatalf("ReceiveBatch before a message too long for its buffer: %d (%d bytes), %v, want 1", n, lens[0], err)
	}
	if n, err := r.ReceiveBatch(ctx, bufs, lens); n != 0 || !errors.Is(err, syscall.EMSGSIZE) {
		t.Fatalf("ReceiveBatch of a message too long for the first buffer: %d, %v, want EMSGSIZE", n, err)
	}
	bufs[0] = make([]byte, 100)
	if n, err := r.ReceiveBatch(ctx, bufs, lens); n != 2 || err != nil || lens[0] != 100 || lens[1] != 8 {
		t.Fatalf("ReceiveBatch after EMSGSIZE, with room: %d (%v), %v", n, lens, err)
	}
	if n, err := r.ReceiveBatch(ctx, bufs, lens[:1]); n != 0 || !errors.Is(err, syscall.EINVAL) {
		t.Errorf("ReceiveBatch with fewer lengths than buffers: %d, %v, want EINVAL", n, err)
	}
}

// A batch that waits reports what it did when ctx ends or the ring closes.
func TestBatchWaits(t *testing.T) {
	r := newRing(t, 256)
	msgs := make([][]byte, 6)
	for i := range msgs {
		msgs[i] = make([]byte, 56)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if n, err := r.SendBatch(ctx, msgs); n != 4 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("SendBatch of 6 into room for 4, past its deadline: %d, %v, want 4, os.ErrDeadlineExceeded", n, err)
	}
	_, bufs, lens := batchOf(8, 64)
	if n, err := r.TryReceiveBatch(bufs, lens); n != 4 || err != nil {
		t.Fatal(n, err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	done := make(chan error)
	go func() { _, err := r.ReceiveBatch(ctx, bufs, lens); done <- err }()
	waitSleepers(t, r, 1)
	cancel()
	if err := testutil.Recv(t, done); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ReceiveBatch: %v, want context.Canceled", err)
	}
	// A waiting receive takes a batch sent meanwhile.
	go func() {
		n, err := r.ReceiveBatch(context.Background(), bufs, lens)
		done <- errors.Join(err, checkN(n, 3))
	}()
	waitSleepers(t, r, 1)
	if n, err := r.TrySendBatch(msgs[:3]); n != 3 || err != nil {
		t.Fatal(n, err)
	}
	if err := testutil.Recv(t, done); err != nil {
		t.Errorf("ReceiveBatch woken by a batch: %v", err)
	}
	go func() { _, err := r.ReceiveBatch(context.Background(), bufs, lens); done <- err }()
	waitSleepers(t, r, 1)
	r.Close()
	if err := testutil.Recv(t, done); !errors.Is(err, os.ErrClosed) {
		t.Errorf("ReceiveBatch woken by Close: %v, want os.ErrClosed", err)
	}
	if n, err := r.SendBatch(context.Background(), msgs); n != 0 || !errors.Is(err, os.ErrClosed) {
		t.Errorf("SendBatch after Close: %d, %v, want os.ErrClosed", n, err)
	}
	var zero *ring.Ring
	if _, err := zero.TryReceiveBatch(bufs, lens); err == nil {
		t.Error("TryReceiveBatch on a nil ring succeeded")
	}
}

func checkN(n, want int) error {
	if n != want {
		return fmt.Errorf("%d messages, want %d", n, want)
	}
	return nil
}

// Two goroutines stream batches through a small ring, which fills and
// wraps: every message comes once, in order, whole.
func TestBatchStream(t *testing.T) {
	r := newRing(t, 1024)
	const total = 5000
	msgs, _, _ := batchOf(total, 0)
	sent := make(chan error, 1)
	go func() {
		for i := 0; i < total; i += 37 {
			if _, err := r.SendBatch(context.Background(), msgs[i:min(i+37, total)]); err != nil {
				sent <- err
				return
			}
		}
		sent <- nil
	}()
	_, bufs, lens := batchOf(20, 64)
	for got := 0; got < total; {
		n, err := r.ReceiveBatch(context.Background(), bufs, lens)
		if err != nil || n == 0 {
			t.Fatal(n, err)
		}
		checkBatch(t, msgs, bufs, lens, got, n)
		got += n
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
}

// Batches that proceed at once allocate nothing.
func TestBatchNoAllocs(t *testing.T) {
	r := newRing(t, 4096)
	msgs, bufs, lens := batchOf(20, 64)
	cancellable, cancel := context.WithCancel(context.Background())
	defer cancel()
	sendReceive := func(ctx context.Context) func() {
		return func() {
			if n, err := r.SendBatch(ctx, msgs); n != len(msgs) || err != nil {
				t.Fatal(n, err)
			}
			if n, err := r.ReceiveBatch(ctx, bufs, lens); n != len(msgs) || err != nil {
				t.Fatal(n, err)
			}
		}
	}
	testutil.NoAllocs(t, map[string]func(){
		"SendBatch+ReceiveBatch":                      sendReceive(context.Background()),
		"SendBatch+ReceiveBatch, cancellable context": sendReceive(cancellable),
	})
}

// childSendBatch is the Go peer's sendbatch mode, send's with SendBatch:
// PATH sendbatch ID N MAXLEN (N 0: forever), batches of 10 messages.
func childSendBatch(args []string) error {
	r, err := openPath(args[0])
	if err != nil {
		return err
	}
	defer r.Close()
	id, n, maxlen := atoi(args[2]), atoi(args[3]), atoi(args[4])
	const size = 10
	batch := make([][]byte, 0, size)
	for i := uint32(0); n == 0 || i < n; i++ {
		if batch = append(batch, makeMessage(id, i, maxlen)); len(batch) == size || i+1 == n {
			if _, err := r.SendBatch(context.Background(), batch); err != nil {
				return err
			}
			if i < size {
				fmt.Println("ready")
			}
			batch = batch[:0]
		}
	}
	return nil
}

// TestBatchInterop: batches from Go reach C, Python and Go receivers, which
// take them one by one and check each.
func TestBatchInterop(t *testing.T) {
	const n, maxlen, capacity = 300, 300, 1024
	for _, receiver := range []string{"go", "c", "python"} {
		t.Run("go-batch-to-"+receiver, func(t *testing.T) {
			path := makeRing(t, "go", capacity)
			recv := testutil.Start(t, peerCmd(t, receiver, path, "recv", strconv.Itoa(n)))
			recv.Expect("ready")
			send := testutil.Start(t, peerCmd(t, "go", path, "sendbatch", "7", strconv.Itoa(n), strconv.Itoa(maxlen)))
			send.Expect("ready")
			send.MustSucceed()
			for i := range n {
				recv.Expect(fmt.Sprintf("7 %d", i))
			}
			recv.Expect(fmt.Sprintf("ok %d", n))
			recv.MustSucceed()
		})
	}
}
