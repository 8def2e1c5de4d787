package posix_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/inventory"
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
	done, cancel := context.WithCancel(ctx)
	cancel()
	_, _, doneErr := q.Receive(done, buf) // closed wins over a done context
	for what, err := range map[string]error{
		"Send": q.Send(ctx, nil, 0), "Receive": recvErr, "Attr": attrErr, "Receive(done)": doneErr,
		"Notify": q.Notify(make(chan *posix.MessageQueue)), "SetDeadline": q.SetDeadline(time.Now()),
	} {
		if !errors.Is(err, os.ErrClosed) {
			t.Errorf("%s after Close: %v, want os.ErrClosed", what, err)
		}
	}
}

// parked waits until n Send or Receive calls wait, on lines lines (a queue's
// receivers, or its senders): the first of each on the runtime poller, the
// others for their turn.
func parked(t testing.TB, n, lines int) {
	t.Helper()
	testutil.WaitGoroutines(t, lines, "IO wait", "posix.(*MessageQueue).lead(")
	testutil.WaitGoroutines(t, n-lines, "select", "posix.(*MessageQueue).awaitTurn(")
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
	parked(t, 2*n, 2)
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
	other := make(chan received, 1)
	receiving(context.Background(), q, other)
	ctx, cancel := context.WithCancel(context.Background())
	cancelled := make(chan received, 1)
	receiving(ctx, q, cancelled)
	parked(t, 2, 1)
	// Started last, and not waited for: its deadline may pass before it parks.
	timeout := make(chan received, 1)
	tctx, stop := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer stop()
	receiving(tctx, q, timeout)

	start := time.Now()
	cancel()
	err := (<-cancelled).err
	if woke := time.Since(start); !errors.Is(err, context.Canceled) || woke > 50*time.Millisecond {
		t.Fatalf("cancelled Receive returned %v after %v, want context.Canceled within a few ms", err, woke)
	}
	t.Logf("cancel woke its Receive in %v", time.Since(start))
	err = (<-timeout).err
	if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Receive past its deadline: %v, want os.ErrDeadlineExceeded", err)
	}
	select {
	case got := <-other:
		t.Fatalf("a waiter with no deadline returned: %+v", got)
	default:
	}
	if err := q.Send(context.Background(), []byte("late"), 0); err != nil {
		t.Fatal(err)
	}
	if got := <-other; got != (received{"late", nil}) {
		t.Fatalf("the remaining waiter got %+v, want the message", got)
	}
}

// received is the outcome of a Receive that receiving started.
type received struct {
	msg string
	err error
}

// receiving starts a Receive on q with ctx; its outcome goes to out.
func receiving(ctx context.Context, q *posix.MessageQueue, out chan<- received) {
	go func() {
		buf := make([]byte, q.MessageSize())
		n, _, err := q.Receive(ctx, buf)
		out <- received{string(buf[:n]), err}
	}()
}

// TestQueueDescriptorsBounded: each waiting goroutine used to dup the queue's
// descriptor and keep it until Close, so 200 cancelled waiters left 200
// descriptors open. The queue holds one, and one more while calls wait on
// the poller, however many.
func TestQueueDescriptorsBounded(t *testing.T) {
	q := newQueue(t, 1, 8)
	before := testutil.OpenFiles(t)
	const waiters = 200
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan received, waiters)
	for range waiters {
		receiving(ctx, q, out)
	}
	parked(t, waiters, 1)
	if n := testutil.OpenFiles(t); n > before+1 {
		t.Errorf("%d goroutines waiting on a queue: %d descriptors open, %d before", waiters, n, before)
	}
	cancel()
	for range waiters {
		if err := testutil.Recv(t, out).err; !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled Receive: %v", err)
		}
	}
	if n := testutil.OpenFiles(t); n > before {
		t.Errorf("after %d cancelled Receives: %d descriptors open, %d before", waiters, n, before)
	}
}

// TestQueueOutOfPollerUntilWaited: a queue's descriptor used to stay in the
// runtime poller's epoll set from Open to Close, so that every message sent
// or received woke the thread asleep in epoll_wait (there is one as soon as
// any goroutine of the process waits on the poller), which cost a ping-pong
// on one CPU four times C's round trip. The queue is in the set only while
// a call waits there.
func TestQueueOutOfPollerUntilWaited(t *testing.T) {
	q := newQueue(t, 1, 8)
	ctx := context.Background()
	buf := make([]byte, 8)
	if err := q.Send(ctx, []byte("x"), 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := q.Receive(ctx, buf); err != nil {
		t.Fatal(err)
	}
	if n := inPoller(t, q.Name()); n != 0 {
		t.Fatalf("after Send and Receive that did not wait: %d descriptors of %s in the poller, want 0", n, q.Name())
	}
	out := make(chan received, 1)
	receiving(ctx, q, out)
	parked(t, 1, 1)
	if n := inPoller(t, q.Name()); n != 1 {
		t.Fatalf("with a Receive waiting: %d descriptors of %s in the poller, want 1", n, q.Name())
	}
	if err := q.Send(ctx, []byte("y"), 0); err != nil {
		t.Fatal(err)
	}
	if r := testutil.Recv(t, out); r.err != nil || r.msg != "y" {
		t.Fatalf("waiting Receive: %q, %v", r.msg, r.err)
	}
	if n := inPoller(t, q.Name()); n != 0 {
		t.Fatalf("once the Receive returned: %d descriptors of %s in the poller, want 0", n, q.Name())
	}
}

// inPoller counts the descriptors of queue name in this process's epoll sets
// (the "tfd" lines of /proc/self/fdinfo of each eventpoll descriptor).
func inPoller(t *testing.T, name string) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, fd := range fds {
		if link, _ := os.Readlink("/proc/self/fd/" + fd.Name()); link != "anon_inode:[eventpoll]" {
			continue
		}
		info, err := os.ReadFile("/proc/self/fdinfo/" + fd.Name())
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(info), "\n") {
			var tfd int
			if _, err := fmt.Sscanf(line, "tfd: %d", &tfd); err != nil {
				continue
			}
			if link, _ := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", tfd)); link == name {
				n++
			}
		}
	}
	return n
}

// TestQueueWakesOneWaiter counts the mq_timedreceive calls (under strace) of
// a child with 50 goroutines waiting on a queue while 200 messages arrive one
// at a time. Every waiter used to wake for every message: about 50 calls per
// message, where the kernel wakes one blocked mq_receive.
func TestQueueWakesOneWaiter(t *testing.T) {
	strace, err := exec.LookPath("strace")
	if err != nil {
		testutil.Unavailable(t, "strace counts the child's system calls: %v", err)
	}
	const waiters, messages = 50, 200
	q := newQueue(t, 10, 16)
	summary := filepath.Join(t.TempDir(), "strace")
	child := testutil.Child("mq-pool", q.Name(), strconv.Itoa(waiters), strconv.Itoa(messages))
	child.Args = append([]string{strace, "-f", "--seccomp-bpf", "-qq", "-c", "-o", summary, "-e", "trace=mq_timedreceive", "--"}, child.Args...)
	child.Path = strace
	p := testutil.Start(t, child)
	p.Expect("ready")
	pid := tracee(t, p.Cmd.Process.Pid)
	for range messages {
		idle(t, pid) // every waiter waits again
		if err := q.Send(context.Background(), []byte("m"), 0); err != nil {
			t.Fatal(err)
		}
		p.Expect("got")
	}
	p.MustSucceed()
	out, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	calls := -1
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) >= 5 && f[len(f)-1] == "mq_timedreceive" {
			calls, _ = strconv.Atoi(f[3])
		}
	}
	t.Logf("%d messages to %d waiters: %d mq_timedreceive calls", messages, waiters, calls)
	// One that receives, one by the receiver coming back, the tries of the
	// next leader's spin (20 us: one or two under strace, each call of which
	// stops the child) and one by that leader when it waits on the poller;
	// and each waiter's first. Far fewer than one a waiter.
	if limit := 6*messages + 2*waiters; calls < 0 || calls > limit {
		t.Fatalf("%d mq_timedreceive calls for %d messages to %d waiters, want at most %d; strace -c:\n%s", calls, messages, waiters, limit, out)
	}
}

// tracee returns the process that strace, process pid, runs.
func tracee(t *testing.T, pid int) int {
	var child int
	testutil.WaitUntil(t, func() bool {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
		_, err := fmt.Sscan(string(b), &child)
		return err == nil
	}, "child of strace %d", pid)
	return child
}

// idle waits until every thread of process pid sleeps (state S): none runs
// or is ready to.
func idle(t *testing.T, pid int) {
	testutil.WaitUntil(t, func() bool {
		stats, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
		for _, f := range stats {
			b, _ := os.ReadFile(f)
			// pid (comm) state ...: the state follows the last ')'.
			if i := bytes.LastIndexByte(b, ')'); i < 0 || !bytes.HasPrefix(b[i:], []byte(") S")) {
				return false
			}
		}
		return len(stats) > 0
	}, "threads of process %d all asleep", pid)
}

// TestQueueLeaderCancelled cancels the call that waits on the poller (the
// first in line): the next call in line takes over and gets the message.
func TestQueueLeaderCancelled(t *testing.T) {
	q := newQueue(t, 1, 8)
	ctx, cancel := context.WithCancel(context.Background())
	first, second := make(chan received, 1), make(chan received, 1)
	receiving(ctx, q, first)
	parked(t, 1, 1)
	receiving(context.Background(), q, second)
	parked(t, 2, 1)
	cancel()
	if err := testutil.Recv(t, first).err; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled first waiter: %v, want context.Canceled", err)
	}
	if err := q.Send(context.Background(), []byte("next"), 0); err != nil {
		t.Fatal(err)
	}
	if got := testutil.Recv(t, second); got != (received{"next", nil}) {
		t.Fatalf("second waiter got %+v, want the message", got)
	}
}

// TestQueueSendersTakeTurns: goroutines waiting to send on a full queue take
// turns as receivers do; each message taken lets one of them send.
func TestQueueSendersTakeTurns(t *testing.T) {
	q := newQueue(t, 1, 8)
	ctx := context.Background()
	if err := q.Send(ctx, []byte("first"), 0); err != nil {
		t.Fatal(err)
	}
	const senders = 5
	errc := make(chan error, senders)
	for i := range senders {
		go func() { errc <- q.Send(ctx, []byte(strconv.Itoa(i)), 0) }()
	}
	parked(t, senders, 1)
	got := map[string]bool{}
	buf := make([]byte, 8)
	for range senders + 1 {
		n, _, err := q.Receive(ctx, buf)
		if err != nil {
			t.Fatal(err)
		}
		got[string(buf[:n])] = true
	}
	for range senders {
		if err := testutil.Recv(t, errc); err != nil {
			t.Fatalf("waiting Send: %v", err)
		}
	}
	if len(got) != senders+1 {
		t.Fatalf("received %v, want the first message and one from each sender", got)
	}
}

// TestQueueWaitersChurn: receivers whose short deadlines pass all the time,
// in line and on the poller, while a sender sends; every message arrives
// once, none is lost to a turn handed over as a deadline passed.
func TestQueueWaitersChurn(t *testing.T) {
	q := newQueue(t, 4, 8)
	const receivers, messages = 12, 300
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := make(map[string]int)
	done := make(chan struct{})
	for i := range receivers {
		wg.Go(func() {
			buf := make([]byte, 8)
			for {
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%4)*200*time.Microsecond)
				n, _, err := q.Receive(ctx, buf)
				cancel()
				switch {
				case err == nil:
					mu.Lock()
					seen[string(buf[:n])]++
					if len(seen) == messages {
						close(done)
					}
					mu.Unlock()
				case errors.Is(err, os.ErrClosed):
					return
				case !errors.Is(err, os.ErrDeadlineExceeded):
					t.Errorf("Receive: %v", err)
					return
				}
			}
		})
	}
	for i := range messages {
		if err := q.Send(context.Background(), []byte(strconv.Itoa(i)), 0); err != nil {
			t.Fatal(err)
		}
	}
	testutil.Recv(t, done)
	q.Close()
	wg.Wait()
	for m, k := range seen {
		if k != 1 {
			t.Errorf("message %s received %d times", m, k)
		}
	}
}

// TestQueueDeadlineWakesEveryWaiter: a read deadline set while several calls
// wait ends them all, the one on the poller and those in line.
func TestQueueDeadlineWakesEveryWaiter(t *testing.T) {
	q := newQueue(t, 1, 8)
	const waiters = 5
	out := make(chan received, waiters)
	for range waiters {
		receiving(context.Background(), q, out)
	}
	parked(t, waiters, 1)
	q.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	for range waiters {
		if err := testutil.Recv(t, out).err; !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Receive after the read deadline: %v, want os.ErrDeadlineExceeded", err)
		}
	}
}

// TestQueueTryIgnoresDeadlines: TrySend and TryReceive never wait, so the
// queue's deadlines do not concern them; TryReceive used to time out after
// the read deadline although a message was queued.
func TestQueueTryIgnoresDeadlines(t *testing.T) {
	q := newQueue(t, 1, 8)
	q.SetDeadline(time.Now().Add(-time.Second))
	if err := q.TrySend([]byte("queued"), 0); err != nil {
		t.Fatalf("TrySend after the write deadline: %v", err)
	}
	buf := make([]byte, 8)
	if _, _, err := q.Receive(context.Background(), buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Receive after the read deadline: %v, want os.ErrDeadlineExceeded", err)
	}
	if n, _, err := q.TryReceive(buf); err != nil || string(buf[:n]) != "queued" {
		t.Fatalf("TryReceive after the read deadline = %q, %v; want the queued message", buf[:n], err)
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
	parked(t, 1, 1)
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

// TestQueueDeadlinesOutOfRange: deadlines beyond the years Unix nanoseconds
// hold (1678 to 2262) saturate. A read deadline 292 years away used to wrap
// into the past and time out at once, and one in 1600 into the 22nd century.
func TestQueueDeadlinesOutOfRange(t *testing.T) {
	q := newQueue(t, 1, 8)
	buf := make([]byte, 8)
	q.SetReadDeadline(time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC))
	errc := make(chan error, 1)
	go func() { _, _, err := q.Receive(context.Background(), buf); errc <- err }()
	if err := testutil.Recv(t, errc); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Receive with a read deadline in 1600: %v, want os.ErrDeadlineExceeded", err)
	}
	q.SetReadDeadline(time.Now().Add(math.MaxInt64))
	go func() { _, _, err := q.Receive(context.Background(), buf); errc <- err }()
	parked(t, 1, 1)
	if err := q.TrySend([]byte("late"), 0); err != nil {
		t.Fatal(err)
	}
	if err := testutil.Recv(t, errc); err != nil {
		t.Fatalf("Receive with a read deadline 292 years away, then a message: %v", err)
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
	parked(t, queues*perQueue, queues)
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

// TestZeroAllocs checks that the fast paths, calls that proceed at once,
// allocate nothing, whatever the context: with one that can end, only a call
// that has to wait on the poller allocates (context.AfterFunc).
func TestZeroAllocs(t *testing.T) {
	if testutil.RaceEnabled {
		t.Skip("calls are recycled through a sync.Pool, which the race detector makes drop them")
	}
	q := newQueue(t, 4, 64)
	s := newSemaphore(t, 0)
	msg, buf := []byte("zero allocations"), make([]byte, 64)
	receive := func(recv func() (int, uint, error)) {
		if n, _, err := recv(); err != nil || n != len(msg) {
			t.Fatal(n, err)
		}
	}
	paths := map[string]func(){
		"TrySend+TryReceive": func() {
			if err := q.TrySend(msg, 3); err != nil {
				t.Fatal(err)
			}
			receive(func() (int, uint, error) { return q.TryReceive(buf) })
		},
		"Semaphore Post+TryWait": func() {
			if err := s.Post(); err != nil {
				t.Fatal(err)
			}
			if err := s.TryWait(); err != nil {
				t.Fatal(err)
			}
		},
	}
	for name, ctx := range testutil.Contexts(t) {
		paths["Send+Receive with "+name] = func() {
			if err := q.Send(ctx, msg, 3); err != nil {
				t.Fatal(err)
			}
			receive(func() (int, uint, error) { return q.Receive(ctx, buf) })
		}
		paths["Semaphore Post+Wait with "+name] = func() {
			if err := s.Post(); err != nil {
				t.Fatal(err)
			}
			if err := s.Wait(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	testutil.NoAllocs(t, paths)
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
	if err := q.Notify(ch); !isErrno(err, syscall.EBUSY) || !strings.Contains(err.Error(), "registered already") {
		t.Fatalf("second registration: %v, want EBUSY saying q is registered already", err)
	}
	other, err := posix.OpenQueue(q.Name(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Notify(ch); !isErrno(err, syscall.EBUSY) || !strings.Contains(err.Error(), "another") {
		t.Errorf("registration by another handle: %v, want EBUSY naming another registration", err)
	}
	other.Close() // ends q's registration too, which q makes again at once
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

// TestQueueNotifyRearmRounds: every Notify(nil) ends a registration, and the
// kernel sends its cookie to the notification socket; a Notify waits in
// mq_notify for room there. Some hundred Notify(ch), Notify(nil) rounds used
// to fill the socket while its reader waited for the queue's lock, which the
// waiting Notify held: the queue hung, Close too. After them, a notification
// still arrives.
func TestQueueNotifyRearmRounds(t *testing.T) {
	q := newQueue(t, 4, 16)
	ch := make(chan *posix.MessageQueue, 1)
	done := make(chan error, 1)
	go func() {
		for range 5000 {
			if err := q.Notify(ch); err != nil {
				done <- err
				return
			}
			if err := q.Notify(nil); err != nil {
				done <- err
				return
			}
		}
		done <- q.Notify(ch)
	}()
	if err := testutil.Recv(t, done); err != nil {
		t.Fatalf("Notify rounds: %v", err)
	}
	if err := q.TrySend([]byte("wake"), 0); err != nil {
		t.Fatal(err)
	}
	if got := testutil.Recv(t, ch); got != q {
		t.Fatalf("notification after the rounds: %v, want the queue", got)
	}
}

// TestQueueNotifySurvivesOtherClose: the kernel ends a registration when the
// process closes any descriptor of the queue, and the "removed" notice it
// sends was dropped, so the registration vanished silently. Now it is made
// again, and a message from C still reaches the channel.
func TestQueueNotifySurvivesOtherClose(t *testing.T) {
	peer := testutil.BuildC(t, "posix_mq_peer", "-lrt")
	q := newQueue(t, 4, 16)
	closers := []struct {
		name  string
		close func() error
	}{
		{"another MessageQueue", func() error {
			other, err := posix.OpenQueue(q.Name(), nil)
			if err != nil {
				return err
			}
			return other.Close()
		}},
		{"os.Open of /dev/mqueue/NAME", func() error {
			f, err := os.Open(inventory.MqueueDir + q.Name())
			if err != nil {
				return err
			}
			return f.Close()
		}},
		{"inventory.List", func() error {
			_, err := inventory.List(inventory.PosixMQ)
			return err
		}},
	}
	ch := make(chan *posix.MessageQueue, 1)
	for _, c := range closers {
		if err := q.Notify(ch); err != nil {
			t.Fatal(err)
		}
		if err := c.close(); err != nil {
			t.Fatal(c.name, err)
		}
		if out, err := exec.Command(peer, "send", q.Name(), "0:hello").CombinedOutput(); err != nil {
			t.Fatalf("C sender: %v %s", err, out)
		}
		if got := testutil.Recv(t, ch); got != q {
			t.Fatalf("after %s: notified %v, want the queue", c.name, got)
		}
		if _, _, err := q.TryReceive(make([]byte, 16)); err != nil {
			t.Fatal(err)
		}
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
