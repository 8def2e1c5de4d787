package posix_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/posix"
)

func TestQueuePriorityOrderAndAttr(t *testing.T) {
	q := newQueue(t, 4, 16)
	ctx := context.Background()
	for i, p := range []uint{1, 7, 3} {
		if err := q.Send(ctx, []byte(fmt.Sprint("m", i)), p); err != nil {
			t.Fatal(err)
		}
	}
	a, err := q.Attr()
	if err != nil || a.Capacity != 4 || a.MessageSize != 16 || a.Messages != 3 || a.Nonblocking {
		t.Fatalf("Attr() = %+v, %v; want capacity 4, size 16, 3 messages, blocking", a, err)
	}
	buf := make([]byte, 16)
	for _, want := range []string{"7 m1", "3 m2", "1 m0"} {
		n, p, err := q.Receive(ctx, buf)
		if got := fmt.Sprint(p, " ", string(buf[:n])); err != nil || got != want {
			t.Fatalf("Receive = %q, %v; want %q", got, err, want)
		}
	}
	if _, _, err := q.TryReceive(buf); !isErrno(err, syscall.EAGAIN) {
		t.Fatalf("TryReceive on an empty queue: %v, want EAGAIN", err)
	}
	q.SetNonblocking(true)
	if _, _, err := q.Receive(ctx, buf); !isErrno(err, syscall.EAGAIN) {
		t.Fatalf("non-blocking Receive on an empty queue: %v, want EAGAIN", err)
	}
	if a, _ := q.Attr(); !a.Nonblocking {
		t.Fatal("Attr does not report non-blocking")
	}
}

func TestQueueModeIgnoresUmask(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	for _, mode := range []os.FileMode{0, 0o644} {
		name := "/" + testutil.Name("mq-mode")
		q, err := posix.OpenQueue(name, &posix.QueueOptions{Create: true, Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		defer posix.UnlinkQueue(name)
		defer q.Close()
		fi, err := q.Stat()
		want := mode
		if want == 0 {
			want = 0o600
		}
		if err != nil || fi.Mode().Perm() != want {
			t.Fatalf("mode %v: Stat = %v, %v; want %v", mode, fi.Mode(), err, want)
		}
		// Opening an existing queue leaves its mode alone.
		q2, err := posix.OpenQueue(name[1:], &posix.QueueOptions{Create: true, Mode: 0o666})
		if err != nil {
			t.Fatal(err)
		}
		fi, _ = q2.Stat()
		q2.Close()
		if fi.Mode().Perm() != want {
			t.Fatalf("reopen changed mode to %v", fi.Mode())
		}
	}
}

func TestQueueBadInput(t *testing.T) {
	for _, name := range []string{"", "/", "/a/b", "a/b", "/..", "/" + strings.Repeat("x", 256), "/nul\x00"} {
		if _, err := posix.OpenQueue(name, &posix.QueueOptions{Create: true}); !isErrno(err, syscall.EINVAL) {
			t.Errorf("OpenQueue(%q) = %v, want EINVAL", name, err)
		}
	}
	if _, err := posix.OpenQueue("/"+testutil.Name("mq-missing"), nil); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("opening a missing queue: %v, want ErrNotExist", err)
	}
	for _, o := range []posix.QueueOptions{{Capacity: 5}, {Capacity: -1, MessageSize: -1}, {Access: 9}, {Mode: os.ModeDir | 0o600}} {
		o.Create = true
		if _, err := posix.OpenQueue("/"+testutil.Name("mq-bad"), &o); !isErrno(err, syscall.EINVAL) {
			t.Errorf("OpenQueue(%+v) = %v, want EINVAL", o, err)
		}
	}
	// A limit the kernel enforces even for root gets a hint naming the limit.
	_, err := posix.OpenQueue("/"+testutil.Name("mq-huge"), &posix.QueueOptions{Create: true, Capacity: 1 << 20, MessageSize: 16})
	if !isErrno(err, syscall.EINVAL) || !strings.Contains(err.Error(), "fs.mqueue.msg_max") {
		t.Errorf("capacity 1<<20: %v, want EINVAL naming fs.mqueue.msg_max", err)
	}

	// RLIMIT_MSGQUEUE binds root too: lower it for this process a moment.
	var lim unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_MSGQUEUE, &lim)
	small := lim
	small.Cur = 1000
	if err := unix.Setrlimit(unix.RLIMIT_MSGQUEUE, &small); err != nil {
		t.Fatal(err)
	}
	_, err = posix.OpenQueue("/"+testutil.Name("mq-rlimit"), &posix.QueueOptions{Create: true, Capacity: 4, MessageSize: 1024})
	unix.Setrlimit(unix.RLIMIT_MSGQUEUE, &lim)
	if !isErrno(err, syscall.EMFILE) || !strings.Contains(err.Error(), "RLIMIT_MSGQUEUE 1000") {
		t.Errorf("a queue above RLIMIT_MSGQUEUE: %v, want EMFILE naming the limit", err)
	}

	q := newQueue(t, 2, 8)
	ctx := context.Background()
	if err := q.Send(ctx, []byte("keep me"), 1); err != nil {
		t.Fatal(err)
	}
	if err := q.Send(ctx, make([]byte, 9), 0); !isErrno(err, syscall.EMSGSIZE) {
		t.Errorf("oversized Send: %v, want EMSGSIZE", err)
	}
	if err := q.Send(ctx, nil, posix.MaxPriority); !isErrno(err, syscall.EINVAL) {
		t.Errorf("priority MQ_PRIO_MAX: %v, want EINVAL", err)
	}
	if _, _, err := q.Receive(ctx, make([]byte, 7)); !isErrno(err, syscall.EMSGSIZE) || !strings.Contains(err.Error(), "< queue message size 8") {
		t.Errorf("short buffer: %v, want EMSGSIZE before the call", err)
	}
	// Nothing queued was lost on the way.
	buf := make([]byte, 8)
	if n, p, err := q.Receive(ctx, buf); err != nil || string(buf[:n]) != "keep me" || p != 1 {
		t.Fatalf("Receive = %q %d %v, want the message sent before", buf[:n], p, err)
	}
	wo, err := posix.OpenQueue(q.Name(), &posix.QueueOptions{Access: posix.WriteOnly})
	if err != nil {
		t.Fatal(err)
	}
	defer wo.Close()
	if _, _, err := wo.TryReceive(buf); !isErrno(err, syscall.EBADF) || !strings.Contains(err.Error(), "Access") {
		t.Errorf("Receive on a write-only queue: %v, want EBADF with a hint", err)
	}
	if err := posix.UnlinkQueue("/" + testutil.Name("mq-missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("UnlinkQueue of a missing queue: %v", err)
	}
}

func TestQueueClosed(t *testing.T) {
	q := newQueue(t, 2, 8)
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if err := q.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	var nilQ *posix.MessageQueue
	if err := nilQ.Close(); err != nil {
		t.Fatalf("nil Close: %v", err)
	}
	ctx := context.Background()
	buf := make([]byte, 8)
	_, _, recvErr := q.Receive(ctx, buf)
	_, attrErr := q.Attr()
	for what, err := range map[string]error{
		"Send": q.Send(ctx, nil, 0), "Receive": recvErr, "Attr": attrErr,
		"Notify": q.Notify(make(chan *posix.MessageQueue)), "SetDeadline": q.SetDeadline(time.Now()),
	} {
		if !errors.Is(err, os.ErrClosed) {
			t.Errorf("%s after Close: %v, want os.ErrClosed", what, err)
		}
	}
}

// TestQueueNotOpen: a nil or zero MessageQueue has no descriptor; its methods
// used to panic (nil dereference, index out of range).
func TestQueueNotOpen(t *testing.T) {
	ctx := context.Background()
	for what, q := range map[string]*posix.MessageQueue{"nil": nil, "zero": {}} {
		_, _, recvErr := q.Receive(ctx, nil)
		for op, err := range map[string]error{
			"Send":        q.Send(ctx, nil, 0),
			"Receive":     recvErr,
			"TrySend":     q.TrySend(nil, 0),
			"Attr":        second(q.Attr()),
			"Stat":        second(q.Stat()),
			"Notify":      q.Notify(nil),
			"SetDeadline": q.SetDeadline(time.Now()),
			"Unlink":      q.Unlink(),
		} {
			if !errors.Is(err, os.ErrInvalid) {
				t.Errorf("%s %s: %v, want os.ErrInvalid", what, op, err)
			}
		}
		if err := q.Close(); err != nil {
			t.Errorf("%s Close: %v", what, err)
		}
	}
}

// parked waits until n Send or Receive calls wait on the runtime poller.
func parked(t *testing.T, n int) {
	t.Helper()
	testutil.WaitGoroutines(t, n, "IO wait", "posix.(*MessageQueue).")
}

func TestQueueCloseWakesEveryWaiter(t *testing.T) {
	full, empty := newQueue(t, 1, 8), newQueue(t, 1, 8)
	if err := full.Send(context.Background(), []byte("x"), 0); err != nil {
		t.Fatal(err)
	}
	const n = 20
	errc := make(chan error, 2*n)
	for range n {
		go func() {
			_, _, err := empty.Receive(context.Background(), make([]byte, 8))
			errc <- err
		}()
		go func() { errc <- full.Send(context.Background(), []byte("y"), 0) }()
	}
	parked(t, 2*n)
	full.Close()
	empty.Close()
	for range 2 * n {
		select {
		case err := <-errc:
			if !errors.Is(err, os.ErrClosed) {
				t.Fatalf("waiter woken by Close: %v, want os.ErrClosed", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Close left a waiter blocked")
		}
	}
}

// TestQueueCancelWakesOnlyItsCall checks that cancelling one waiter's context,
// or its deadline passing, wakes it promptly and leaves the others waiting.
func TestQueueCancelWakesOnlyItsCall(t *testing.T) {
	q := newQueue(t, 2, 8)
	other := make(chan string, 1)
	go func() {
		buf := make([]byte, 8)
		n, _, err := q.Receive(context.Background(), buf)
		other <- fmt.Sprint(string(buf[:n]), err)
	}()

	ctx, cancel := context.WithCancel(context.Background())
	cancelled := make(chan error, 1)
	go func() {
		_, _, err := q.Receive(ctx, make([]byte, 8))
		cancelled <- err
	}()
	parked(t, 2)
	// Started last, and not waited for: its deadline may pass before it parks.
	timeout := make(chan error, 1)
	go func() {
		ctx, stop := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer stop()
		_, _, err := q.Receive(ctx, make([]byte, 8))
		timeout <- err
	}()

	start := time.Now()
	cancel()
	err := <-cancelled
	if woke := time.Since(start); !errors.Is(err, context.Canceled) || woke > 50*time.Millisecond {
		t.Fatalf("cancelled Receive returned %v after %v, want context.Canceled within a few ms", err, woke)
	}
	t.Logf("cancel woke its Receive in %v", time.Since(start))
	err = <-timeout
	if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Receive past its deadline: %v, want os.ErrDeadlineExceeded", err)
	}
	select {
	case got := <-other:
		t.Fatalf("a waiter with no deadline returned: %s", got)
	default:
	}
	if err := q.Send(context.Background(), []byte("late"), 0); err != nil {
		t.Fatal(err)
	}
	if got := <-other; got != "late<nil>" {
		t.Fatalf("the remaining waiter got %q, want the message", got)
	}
}

func TestQueueObjectDeadlines(t *testing.T) {
	q := newQueue(t, 1, 8)
	ctx := context.Background()
	if err := q.Send(ctx, []byte("full"), 0); err != nil {
		t.Fatal(err)
	}
	// A blocked Send and a blocked Receive (on another queue handle would be
	// needed for both to block, so use two queues' worth of roles: the queue
	// is full, so Send blocks; a read deadline must not wake it).
	sendErr := make(chan error, 1)
	go func() { sendErr <- q.Send(ctx, []byte("more"), 0) }()
	parked(t, 1)
	q.SetReadDeadline(time.Now().Add(-time.Second))
	buf := make([]byte, 8)
	// The read deadline has passed: Receive fails though a message is there.
	if _, _, err := q.Receive(ctx, buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Receive after its deadline: %v", err)
	}
	select {
	case err := <-sendErr:
		t.Fatalf("a read deadline woke a Send: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	start := time.Now()
	q.SetWriteDeadline(time.Now().Add(10 * time.Millisecond))
	if err := <-sendErr; !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Send after the write deadline: %v", err)
	}
	t.Logf("write deadline 10ms: Send returned after %v", time.Since(start))
	q.SetDeadline(time.Time{})
	if n, _, err := q.Receive(ctx, buf); err != nil || string(buf[:n]) != "full" {
		t.Fatalf("Receive with deadlines cleared: %q %v", buf[:n], err)
	}
}

// TestQueueThreads blocks 10,000 goroutines in Receive and checks that they
// hold no OS threads: they wait on the runtime poller.
func TestQueueThreads(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 goroutines")
	}
	const queues, perQueue = 4, 2500
	before := testutil.Threads(t)
	var wg sync.WaitGroup
	var qs []*posix.MessageQueue
	errc := make(chan error, queues*perQueue)
	for range queues {
		q := newQueue(t, 1, 8)
		qs = append(qs, q)
		for range perQueue {
			wg.Go(func() {
				_, _, err := q.Receive(context.Background(), make([]byte, 8))
				errc <- err
			})
		}
	}
	parked(t, queues*perQueue)
	after := testutil.Threads(t)
	t.Logf("threads: %d before, %d with %d goroutines blocked in Receive", before, after, queues*perQueue)
	if after-before >= 50 {
		t.Errorf("%d goroutines blocked in Receive added %d threads, want < 50", queues*perQueue, after-before)
	}
	for _, q := range qs {
		q.Close()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if !errors.Is(err, os.ErrClosed) {
			t.Fatalf("Receive woken by Close: %v", err)
		}
	}
}

func TestQueueZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	q := newQueue(t, 4, 64)
	msg, buf := []byte("zero allocations"), make([]byte, 64)
	ctx := context.Background()
	allocs := testing.AllocsPerRun(1000, func() {
		if err := q.Send(ctx, msg, 3); err != nil {
			t.Fatal(err)
		}
		if n, _, err := q.Receive(ctx, buf); err != nil || n != len(msg) {
			t.Fatal(n, err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Send+Receive allocate %v times, want 0", allocs)
	}
}

// TestQueueCPeer exchanges messages with priorities with a C program.
func TestQueueCPeer(t *testing.T) {
	peer := testutil.BuildC(t, "posix_mq_peer", "-lrt")
	q := newQueue(t, 8, 64)
	ctx := context.Background()
	for _, m := range []struct {
		p   uint
		msg string
	}{{2, "two"}, {9, "nine"}, {0, "zero"}, {9, "nine again"}} {
		if err := q.Send(ctx, []byte(m.msg), m.p); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(peer, "recv", q.Name(), "4").CombinedOutput()
	if want := "9 nine\n9 nine again\n2 two\n0 zero\n"; err != nil || string(out) != want {
		t.Fatalf("C receiver printed %q (%v), want %q", out, err, want)
	}
	if out, err := exec.Command(peer, "send", q.Name(), "1:low", "30000:high", "5:mid").CombinedOutput(); err != nil {
		t.Fatalf("C sender: %v %s", err, out)
	}
	buf := make([]byte, 64)
	for _, want := range []string{"30000 high", "5 mid", "1 low"} {
		n, p, err := q.Receive(ctx, buf)
		if got := fmt.Sprint(p, " ", string(buf[:n])); err != nil || got != want {
			t.Fatalf("Receive from C = %q %v, want %q", got, err, want)
		}
	}
}

// TestQueueNotify checks that a message from another process on an empty
// queue reaches the Notify channel once, and that Notify(nil) cancels.
func TestQueueNotify(t *testing.T) {
	peer := testutil.BuildC(t, "posix_mq_peer", "-lrt")
	q := newQueue(t, 4, 16)
	ch := make(chan *posix.MessageQueue, 1)
	if err := q.Notify(ch); err != nil {
		t.Fatal(err)
	}
	if err := q.Notify(ch); !isErrno(err, syscall.EBUSY) {
		t.Fatalf("second registration: %v, want EBUSY", err)
	}
	send := func(msg string) {
		if out, err := exec.Command(peer, "send", q.Name(), "0:"+msg).CombinedOutput(); err != nil {
			t.Fatalf("C sender: %v %s", err, out)
		}
	}
	send("hello")
	select {
	case got := <-ch:
		if got != q {
			t.Fatalf("notified %v, want the queue", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no notification")
	}
	// One-shot: drain, send again, nothing arrives until re-armed.
	q.TryReceive(make([]byte, 16))
	send("again")
	q.TryReceive(make([]byte, 16))
	if err := q.Notify(ch); err != nil {
		t.Fatal(err)
	}
	if err := q.Notify(nil); err != nil {
		t.Fatal(err)
	}
	send("after cancel")
	if err := q.Notify(ch); err != nil { // re-arm, the queue is not empty now: no event yet
		t.Fatal(err)
	}
	select {
	case <-ch:
		t.Fatal("a notification arrived that was not due")
	case <-time.After(50 * time.Millisecond):
	}
	q.TryReceive(make([]byte, 16))
	send("last")
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("no notification after re-arming")
	}
}

// TestQueueSenderKilled kills a sender with SIGKILL in mid-stream: every
// message whose Send returned arrives, once and in order.
func TestQueueSenderKilled(t *testing.T) {
	q := newQueue(t, 4, 16)
	child := testutil.Child("mq-sender", q.Name())
	stdout, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer child.Wait()
	defer child.Process.Kill()

	var got []int
	buf := make([]byte, 16)
	ctx := context.Background()
	lines := bufio.NewScanner(stdout)
	lastSent := -1
	for lastSent < 200 {
		n, _, err := q.Receive(ctx, buf)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := strconv.Atoi(string(buf[:n]))
		got = append(got, v)
		for lastSent < v-4 && lines.Scan() { // keep the reader near the sender
			fmt.Sscanf(lines.Text(), "sent %d", &lastSent)
		}
	}
	child.Process.Kill()
	child.Wait()
	for lines.Scan() {
		fmt.Sscanf(lines.Text(), "sent %d", &lastSent)
	}
	for {
		n, _, err := q.TryReceive(buf)
		if err != nil {
			break
		}
		v, _ := strconv.Atoi(string(buf[:n]))
		got = append(got, v)
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("message %d is %d: lost or duplicated (got %v)", i, v, got)
		}
	}
	if len(got) <= lastSent {
		t.Fatalf("sender reported %d sent, only %d arrived", lastSent+1, len(got))
	}
	t.Logf("sender killed after %d reported sends; %d messages arrived", lastSent+1, len(got))
}
