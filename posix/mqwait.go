package posix

/*
#include <mqueue.h>

#cgo noescape mq_send
#cgo nocallback mq_send
#cgo noescape mq_receive
#cgo nocallback mq_receive
*/
import "C"

import (
	"context"
	"os"
	"slices"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/goipc/ipc/internal/errs"
)

// How calls wait on a queue.
//
// A call first tries the system call on the queue's descriptor. When it
// would block (EAGAIN) it joins its line: the calls waiting to receive, or
// those waiting to send. The first in line, the leader, waits on the runtime
// poller with its own deadline set on the waiting descriptor (waitFile); the
// others wait on a channel of their own, with their own context and
// deadline, for their turn.
// When the leader returns, for any reason, the next call leads. So a message
// wakes one waiting goroutine, as the kernel wakes one thread blocked in
// mq_receive, and the queue holds two descriptors however many goroutines
// wait. (A descriptor per waiter, duplicated, would be one more epoll
// registration that every message wakes, and one more open file.) A
// cancellation or a deadline reaches one call alone: the leader's through the
// descriptor's deadline, the others' through their channel. Close wakes the
// leaders by closing the waiting descriptor and the others by q.done.

// line is the calls of one direction that wait; guarded by the queue's mu,
// except waiting.
type line struct {
	leader  *call         // waits on the poller, or nil
	queue   []*call       // wait for their turn, oldest first
	waiting atomic.Int32  // the calls in line, leader included; read without mu
	changed chan struct{} // closed when the deadline changes, for the calls in line to re-read it
	fileDL  time.Time     // the deadline set on the descriptor for this direction
}

// call is one Send or Receive: arguments, results and place in line. Calls
// are recycled (MessageQueue.calls) with the callbacks given to the poller,
// method values made once, so that a call allocates nothing.
type call struct {
	q     *MessageQueue
	l     *line
	ctx   context.Context
	buf   []byte
	prio  C.uint
	n     int
	errno syscall.Errno // of the last attempt; EAGAIN when it would block
	spin  spinner
	wake  chan struct{} // a token when the call becomes its line's leader
	timer *time.Timer   // the queue's deadline, while the call waits in line

	attempt            func(fd uintptr) bool // recvFn or sendFn
	recvFn, sendFn     func(fd uintptr) bool
	tryFn              func(fd uintptr)
	leading, cancelled bool      // guarded by q.mu
	gen                uint64    // counts the waits, for the cancellation hook; guarded by q.mu
	ctxDL              time.Time // the context's deadline, while the call waits
}

// newCall returns a call of q on line l, recycled if it can be.
func (q *MessageQueue) newCall(ctx context.Context, l *line) *call {
	c, _ := q.calls.Get().(*call)
	if c == nil {
		c = &call{q: q, wake: make(chan struct{}, 1)}
		c.recvFn, c.sendFn, c.tryFn = c.recv, c.send, c.try
	}
	c.ctx, c.l, c.attempt = ctx, l, c.recvFn
	if l == &q.send {
		c.attempt = c.sendFn
	}
	return c
}

// reset drops what the call referred to, before it is recycled.
func (c *call) reset() *call {
	c.ctx, c.buf, c.n, c.errno = nil, nil, 0, 0
	return c
}

// recv and send try the system call once (again after EINTR): true when it is
// done, false when it would block, as the poller's callbacks answer.
func (c *call) recv(fd uintptr) bool {
	for {
		n, err := C.mq_receive(C.mqd_t(fd), (*C.char)(unsafe.Pointer(unsafe.SliceData(c.buf))), C.size_t(len(c.buf)), &c.prio)
		if n >= 0 {
			c.n, c.errno = int(n), 0
			return true
		}
		if c.failed(err) {
			return c.errno != syscall.EAGAIN
		}
	}
}

func (c *call) send(fd uintptr) bool {
	for {
		r, err := C.mq_send(C.mqd_t(fd), (*C.char)(unsafe.Pointer(unsafe.SliceData(c.buf))), C.size_t(len(c.buf)), c.prio)
		if r == 0 {
			c.errno = 0
			return true
		}
		if c.failed(err) {
			return c.errno != syscall.EAGAIN
		}
	}
}

// failed records the errno of a failed attempt; false means EINTR, try again.
func (c *call) failed(err error) bool {
	errno, _ := err.(syscall.Errno)
	switch errno {
	case syscall.EINTR:
		return false
	case 0:
		errno = syscall.EIO
	}
	c.errno = errno
	return true
}

func (c *call) try(fd uintptr) { c.attempt(fd) }

// deadline is the queue's deadline for the call's direction; zero for none.
func (c *call) deadline() time.Time {
	dl := &c.q.rdl
	if c.l == &c.q.send {
		dl = &c.q.wdl
	}
	if ns := dl.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

// earlier returns the earlier of two deadlines, zero meaning none.
func earlier(a, b time.Time) time.Time {
	if a.IsZero() || !b.IsZero() && b.Before(a) {
		return b
	}
	return a
}

// run makes call c: at once if it can, waiting in line if it must and may.
func (q *MessageQueue) run(c *call, op string) error {
	if q.closed.Load() { // before the context: a closed queue says so
		return errs.Closed(op, q.name)
	}
	if c.ctx == nil {
		return errs.Path(op, q.name, errs.NilContext())
	}
	wait := c.ctx != nonblocking && !q.nonblock.Load()
	var dl time.Time
	if wait {
		if c.ctx.Done() != nil && c.ctx.Err() != nil {
			return errs.Path(op, q.name, errs.FromContext(c.ctx))
		}
		ctxDL, _ := c.ctx.Deadline()
		if dl = earlier(c.deadline(), ctxDL); !dl.IsZero() && !time.Now().Before(dl) {
			return errs.Path(op, q.name, errs.Expired(c.ctx))
		}
	}
	if wait && q.yieldsFirst(c) {
		yieldCPU()
	}
	if err := q.rc.Control(c.tryFn); err != nil {
		return q.failure(op, err)
	}
	if c.errno != syscall.EAGAIN || !wait {
		return q.outcome(c, op)
	}
	// Spin only while no other call waits: a message for this direction
	// would wake one of those, and this call's spin would be lost CPU.
	if c.l.waiting.Load() == 0 {
		if done, err := q.spin(c, dl); done {
			if err != nil {
				return q.failure(op, err)
			}
			return q.outcome(c, op)
		}
	}
	return q.wait(c, op)
}

// yieldsFirst reports whether c, a call that may wait, lets the CPU go before
// its first try: a Receive that no other call waits with, on one CPU. In a
// request and reply exchange the peer that this process's request woke is
// about to answer, and on a shared CPU it cannot before this thread lets go;
// a try before then is a system call that fails (and the spin's first
// sched_yield comes next anyway). A peer on another CPU costs the yield, a
// system call that returns at once, and so does a message already queued: a
// receiver that drains a queue on one CPU makes a sched_yield per message.
// With other calls waiting, a message would wake one of those: see the
// spin's condition below.
func (q *MessageQueue) yieldsFirst(c *call) bool {
	return c.l == &q.recv && c.l.waiting.Load() == 0 && oneCPU()
}

// spin tries c's call again until it is done (true) or its spin runs out
// (false, or the deadline dl passes; see spinner); err is the poller's
// refusal, when the queue was closed.
func (q *MessageQueue) spin(c *call, dl time.Time) (done bool, err error) {
	defer c.spin.done()
	for c.spin = (spinner{}); c.spin.again(dl); {
		if err := q.rc.Control(c.tryFn); err != nil {
			return true, err
		}
		if c.errno != syscall.EAGAIN {
			return true, nil
		}
	}
	return false, nil
}

// wait puts c in line and returns when it is done.
func (q *MessageQueue) wait(c *call, op string) error {
	l := c.l
	c.ctxDL, _ = c.ctx.Deadline()
	q.mu.Lock()
	if q.closed.Load() {
		q.mu.Unlock()
		return errs.Closed(op, q.name)
	}
	c.gen++
	c.cancelled = false
	l.waiting.Add(1)
	if l.leader == nil {
		l.leader, c.leading = c, true
	} else {
		l.queue = append(l.queue, c)
	}
	queued := !c.leading // once q.mu is let go, a leader leaving may set it
	q.mu.Unlock()

	err := q.awaitTurn(c)
	if err == nil {
		err = q.lead(c, queued)
	}

	q.mu.Lock()
	q.leave(c)
	closed := q.closed.Load()
	q.mu.Unlock()
	switch {
	case err == nil:
		return q.outcome(c, op)
	case closed:
		return errs.Closed(op, q.name)
	case c.ctx.Err() != nil:
		return errs.Path(op, q.name, errs.FromContext(c.ctx))
	case os.IsTimeout(err):
		return errs.Path(op, q.name, errs.Expired(c.ctx))
	}
	return errs.Path(op, q.name, err)
}

// awaitTurn waits until c leads its line (nil), or its context is done, the
// queue's deadline passes or the queue is closed (the error that ended it).
func (q *MessageQueue) awaitTurn(c *call) error {
	defer func() {
		if c.timer != nil {
			c.timer.Stop()
		}
	}()
	for {
		q.mu.Lock()
		leading := c.leading
		if !leading && c.l.changed == nil {
			c.l.changed = make(chan struct{})
		}
		changed := c.l.changed
		q.mu.Unlock()
		if leading {
			return nil
		}
		var expired <-chan time.Time
		if dl := c.deadline(); !dl.IsZero() {
			d := time.Until(dl)
			if d <= 0 {
				return errs.ErrTimeout
			}
			if c.timer == nil {
				c.timer = time.NewTimer(d)
			} else {
				c.timer.Reset(d)
			}
			expired = c.timer.C
		}
		select {
		case <-c.wake:
		case <-changed:
		case <-expired: // checked again on the next turn of the loop
		case <-c.ctx.Done():
			return c.ctx.Err()
		case <-q.done:
			return os.ErrClosed
		}
	}
}

// lead waits on the poller until c's call is done, with c's deadline on the
// descriptor and c's context hooked to move that deadline into the past. A
// call that waited in line (queued) first spins, as a lone call does before
// it waits (run): its turn came because the leader before it got a message,
// and in a request and reply exchange the next comes within microseconds,
// sooner than the poller could wake it. Only a leader spins, so the message
// it gets is its own.
func (q *MessageQueue) lead(c *call, queued bool) error {
	if queued {
		if done, err := q.spin(c, earlier(c.deadline(), c.ctxDL)); done {
			return err
		}
	}
	q.mu.Lock()
	if q.closed.Load() {
		q.mu.Unlock()
		return os.ErrClosed
	}
	l, gen := c.l, c.gen // c is recycled: the hook may run after its call
	wrc, err := q.waitFile()
	if err == nil {
		err = q.setFileDeadline(l)
	}
	q.mu.Unlock()
	if err != nil {
		return err
	}
	if c.ctx.Done() != nil {
		stop := context.AfterFunc(c.ctx, func() {
			q.mu.Lock()
			defer q.mu.Unlock()
			if l.leader == c && c.gen == gen && !q.closed.Load() { // still this call
				c.cancelled = true
				q.setFileDeadline(l)
			}
		})
		defer stop()
	}
	if c.l == &q.send {
		return wrc.Write(c.attempt)
	}
	return wrc.Read(c.attempt)
}

// waitFile returns the descriptor that the leaders wait on in the poller,
// made if no leader had it: a dup of the queue's, so the same open file, in
// the poller for as long as a line has a leader (leave closes it). q.mu is
// held, and the queue is open.
func (q *MessageQueue) waitFile() (syscall.RawConn, error) {
	if q.w != nil {
		return q.wrc, nil
	}
	fd, err := unix.FcntlInt(uintptr(q.fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	q.w = os.NewFile(uintptr(fd), q.name) // non-blocking: in the poller
	q.wrc, _ = q.w.SyscallConn()
	q.recv.fileDL, q.send.fileDL = time.Time{}, time.Time{} // a new file has no deadlines
	return q.wrc, nil
}

// leave takes c out of its line and hands the lead on if c had it; q.mu is
// held.
func (q *MessageQueue) leave(c *call) {
	l := c.l
	l.waiting.Add(-1)
	if !c.leading {
		if i := slices.Index(l.queue, c); i >= 0 { // not if Close emptied the line
			l.queue = slices.Delete(l.queue, i, i+1)
		}
		return
	}
	c.leading = false
	select {
	case <-c.wake: // the token of a turn c did not take
	default:
	}
	l.leader = nil
	defer q.dropWaitFile()
	if len(l.queue) > 0 {
		next := l.queue[0]
		l.queue = slices.Delete(l.queue, 0, 1)
		l.leader, next.leading = next, true
		next.wake <- struct{}{}
	}
}

// dropWaitFile closes the waiting descriptor when no line has a leader
// left, so that messages stop waking the poller's thread; q.mu is held. Not
// while a notification is armed: closing any descriptor of the queue ends
// the registration (see Notify), which would be made again each time.
func (q *MessageQueue) dropWaitFile() {
	if q.w != nil && q.recv.leader == nil && q.send.leader == nil && !q.notify.armed() {
		q.w.Close()
		q.w, q.wrc = nil, nil
	}
}

// setFileDeadline puts the deadline of l's leader on the descriptor: the
// earlier of its context's and the queue's, or the past once its context is
// done. q.mu is held.
func (q *MessageQueue) setFileDeadline(l *line) error {
	c := l.leader
	if c == nil {
		return nil
	}
	dl := earlier(c.deadline(), c.ctxDL)
	if c.cancelled {
		dl = past
	}
	if q.w == nil || dl.Equal(l.fileDL) { // no file yet: waitFile sets it
		return nil
	}
	l.fileDL = dl
	if l == &q.send {
		return q.w.SetWriteDeadline(dl)
	}
	return q.w.SetReadDeadline(dl)
}

// past is a deadline that has passed: setting it wakes a waiting goroutine.
var past = time.Unix(1, 0)

// deadlineChanged makes the calls waiting on l see the queue's new deadline;
// q.mu is held.
func (q *MessageQueue) deadlineChanged(l *line) {
	q.setFileDeadline(l)
	if l.changed != nil {
		close(l.changed)
		l.changed = nil
	}
}

// outcome turns the errno of c's last attempt into its error.
func (q *MessageQueue) outcome(c *call, op string) error {
	switch c.errno {
	case 0:
		return nil
	case syscall.EBADF:
		return errs.Path(op, q.name, errs.Hint(c.errno, "the queue was not opened for this: see QueueOptions.Access"))
	}
	return errs.Path(op, q.name, c.errno)
}

// failure is the error of a call the poller refused: the queue was closed.
func (q *MessageQueue) failure(op string, err error) error {
	if q.closed.Load() {
		return errs.Closed(op, q.name)
	}
	return errs.Path(op, q.name, err)
}
