package posix

/*
#cgo LDFLAGS: -lrt
#include <fcntl.h>
#include <mqueue.h>
#include <stdlib.h>
#include <sys/stat.h>

// mq_open is variadic: cgo cannot call it directly.
static mqd_t goipc_mq_open(const char *name, int oflag, unsigned mode, struct mq_attr *attr) {
	return mq_open(name, oflag, (mode_t)mode, attr);
}

#cgo noescape mq_send
#cgo nocallback mq_send
#cgo noescape mq_receive
#cgo nocallback mq_receive
*/
import "C"

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/goipc/ipc/internal/errs"
)

// MaxPriority is one more than the highest message priority (MQ_PRIO_MAX).
const MaxPriority = 32768

// QueueOptions says how OpenQueue opens a message queue. The zero value opens
// an existing queue for sending and receiving.
type QueueOptions struct {
	Access    Access      // ReadWrite, ReadOnly (receive) or WriteOnly (send)
	Create    bool        // create the queue if it does not exist
	Exclusive bool        // with Create: fail with fs.ErrExist if it exists
	Mode      os.FileMode // permissions of a new queue, whatever the umask; 0 means 0600 unless ModeSet
	ModeSet   bool        // use Mode even when it is 0 (mode 0000)

	// Capacity (mq_maxmsg) and MessageSize (mq_msgsize) of a new queue; 0
	// takes the system defaults fs.mqueue.msg_default and msgsize_default.
	// They have no effect on an existing queue.
	Capacity    int
	MessageSize int

	// Nonblocking makes Send and Receive return an error matching
	// syscall.EAGAIN instead of waiting (O_NONBLOCK); see SetNonblocking.
	Nonblocking bool
}

// QueueAttr is the state of a queue (struct mq_attr).
type QueueAttr struct {
	Capacity    int  // most messages the queue holds (mq_maxmsg)
	MessageSize int  // largest message, in bytes (mq_msgsize)
	Messages    int  // messages queued now (mq_curmsgs)
	Nonblocking bool // this handle's Send and Receive do not wait
}

// MessageQueue is an open POSIX message queue (mqd_t). Its methods are safe
// for concurrent use.
//
// Blocking calls wait on Go's runtime poller, not in the kernel: a Linux queue
// descriptor can be polled. Each goroutine that waits uses a descriptor of its
// own (a dup of the first, made when needed and kept until Close), so that
// deadlines and cancellation act on that goroutine alone.
type MessageQueue struct {
	name     string
	msgsize  int // fixed when the queue was created
	nonblock atomic.Bool

	mu       sync.Mutex
	closed   bool
	idle     []*endpoint // descriptors free for a call
	all      []*endpoint // every descriptor, closed by Close
	rdl, wdl time.Time   // deadlines set with SetReadDeadline and SetWriteDeadline
	notify   *notifier
}

// endpoint is one descriptor of the queue, used by one call at a time. The
// arguments and results of that call live here, so that the callbacks given to
// the runtime poller are method values built once, not closures built per call.
type endpoint struct {
	q              *MessageQueue
	fd             int // valid until q is closed: only Close closes f
	f              *os.File
	rc             syscall.RawConn
	recvFn, sendFn func(fd uintptr) bool

	// The call in progress, touched only by the goroutine that took e.
	ctx   context.Context
	stop  func() bool // stops the cancellation hook
	buf   []byte
	prio  C.uint
	n     int
	errno syscall.Errno
	wait  bool
	spin  spinner
	dl    time.Time // the call's deadline when it began, for the spin
	gen   uint64    // copy of call, for the cancellation hook

	// Guarded by q.mu.
	call      uint64 // counts the calls made on e
	busy      bool
	writing   bool
	ctxDL     time.Time // deadline of the call's context
	fileDL    time.Time // deadline set on f
	cancelled bool      // the call's context is done: keep fileDL in the past
}

// past is a deadline that has passed: setting it wakes a waiting goroutine.
var past = time.Unix(1, 0)

// OpenQueue opens, or with opts.Create creates, the queue name ("/name"; a
// name without the slash gets one). A nil opts opens an existing queue for
// reading and writing.
func OpenQueue(name string, opts *QueueOptions) (*MessageQueue, error) {
	if opts == nil {
		opts = &QueueOptions{}
	}
	name, err := canonical("mq_open", name, nameMax)
	if err != nil {
		return nil, err
	}
	flags, err := opts.Access.openFlag()
	if err != nil {
		return nil, errs.Path("mq_open", name, err)
	}
	perm, err := permOf(opts.Mode, opts.ModeSet)
	if err != nil {
		return nil, errs.Path("mq_open", name, err)
	}
	if opts.Capacity < 0 || opts.MessageSize < 0 || (opts.Capacity == 0) != (opts.MessageSize == 0) {
		return nil, errs.Path("mq_open", name, errs.Invalid(
			"capacity %d and message size %d must both be positive, or both 0 for the system defaults",
			opts.Capacity, opts.MessageSize))
	}
	var attr *C.struct_mq_attr
	if opts.Capacity > 0 {
		attr = &C.struct_mq_attr{mq_maxmsg: C.long(opts.Capacity), mq_msgsize: C.long(opts.MessageSize)}
	}

	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	fd := -1
	created, err := createOrOpen(opts.Create, opts.Exclusive, func(extra int) error {
		// The descriptor is always non-blocking: waiting is the poller's job.
		r, err := C.goipc_mq_open(cname, C.int(flags|extra|unix.O_NONBLOCK|unix.O_CLOEXEC), C.uint(perm), attr)
		if r < 0 {
			return err
		}
		fd = int(r)
		return nil
	})
	if err != nil {
		return nil, errs.Path("mq_open", name, openHint(err, opts))
	}
	if created {
		// mq_open applied the umask; the caller's mode is the mode.
		if err := unix.Fchmod(fd, perm); err != nil {
			unix.Close(fd)
			return nil, errs.Path("fchmod", name, err)
		}
	}
	var a C.struct_mq_attr
	if r, err := C.mq_getattr(C.mqd_t(fd), &a); r < 0 {
		unix.Close(fd)
		return nil, errs.Path("mq_getattr", name, err)
	}
	q := &MessageQueue{name: name, msgsize: int(a.mq_msgsize)}
	q.nonblock.Store(opts.Nonblocking)
	q.addEndpoint(fd)
	return q, nil
}

// openHint explains an mq_open failure by the limit that caused it.
func openHint(err error, opts *QueueOptions) error {
	switch err {
	case syscall.EINVAL:
		capacity, size := int64(opts.Capacity), int64(opts.MessageSize)
		if capacity == 0 {
			capacity, _ = errs.Sysctl("fs/mqueue/msg_default")
			size, _ = errs.Sysctl("fs/mqueue/msgsize_default")
		}
		if h := errs.LimitHint(err, "capacity", capacity, "fs/mqueue/msg_max"); h != err {
			return h
		}
		return errs.LimitHint(err, "message size", size, "fs/mqueue/msgsize_max")
	case syscall.ENOSPC:
		if max, ok := errs.Sysctl("fs/mqueue/queues_max"); ok {
			return errs.Hint(err, "fs.mqueue.queues_max %d queues reached", max)
		}
	case syscall.EMFILE:
		var lim unix.Rlimit
		if unix.Getrlimit(unix.RLIMIT_MSGQUEUE, &lim) == nil {
			return errs.Hint(err, "RLIMIT_MSGQUEUE %d bytes, or RLIMIT_NOFILE, reached", lim.Cur)
		}
	}
	return err
}

// addEndpoint wraps fd for the poller; the caller holds q.mu or owns q alone.
func (q *MessageQueue) addEndpoint(fd int) *endpoint {
	e := &endpoint{q: q, fd: fd, f: os.NewFile(uintptr(fd), q.name)}
	e.rc, _ = e.f.SyscallConn() // fails only for a nil file
	e.recvFn, e.sendFn = e.recv, e.send
	q.all = append(q.all, e)
	q.idle = append(q.idle, e)
	return e
}

// Name returns the queue's name, with its leading slash.
func (q *MessageQueue) Name() string { return q.name }

// opened fails for a nil or zero MessageQueue, which has no descriptor.
func (q *MessageQueue) opened(op string) error {
	if q == nil || q.name == "" {
		return errs.NotOpen(op, "posix.MessageQueue")
	}
	return nil
}

// MessageSize returns the size of the largest message the queue takes, which
// is the least buffer Receive accepts.
func (q *MessageQueue) MessageSize() int { return q.msgsize }

// Send adds data to the queue with priority (0 to MaxPriority-1; higher
// priorities are received first). When the queue is full it waits until there
// is room, ctx is done or the write deadline passes, unless the queue is
// non-blocking. It allocates nothing when ctx cannot be cancelled.
func (q *MessageQueue) Send(ctx context.Context, data []byte, priority uint) error {
	const op = "mq_send"
	if err := q.opened(op); err != nil {
		return err
	}
	if len(data) > q.msgsize {
		return errs.Path(op, q.name, errs.Hint(syscall.EMSGSIZE, "message of %d bytes > queue message size %d", len(data), q.msgsize))
	}
	if priority >= MaxPriority {
		return errs.Path(op, q.name, errs.Invalid("priority %d >= MQ_PRIO_MAX %d", priority, MaxPriority))
	}
	e, err := q.begin(ctx, op, true)
	if err != nil {
		return err
	}
	e.buf, e.prio = data, C.uint(priority)
	err = e.rc.Write(e.sendFn)
	return q.finish(e, op, err)
}

// Receive takes the oldest message of the highest priority into buf, which
// must hold at least MessageSize bytes, and returns its length and priority.
// When the queue is empty it waits until a message arrives, ctx is done or the
// read deadline passes, unless the queue is non-blocking. It allocates nothing
// when ctx cannot be cancelled.
func (q *MessageQueue) Receive(ctx context.Context, buf []byte) (n int, priority uint, err error) {
	const op = "mq_receive"
	if err := q.opened(op); err != nil {
		return 0, 0, err
	}
	if len(buf) < q.msgsize {
		return 0, 0, errs.Path(op, q.name, errs.Hint(syscall.EMSGSIZE, "buffer of %d bytes < queue message size %d", len(buf), q.msgsize))
	}
	e, err := q.begin(ctx, op, false)
	if err != nil {
		return 0, 0, err
	}
	e.buf = buf
	err = e.rc.Read(e.recvFn)
	n, priority = e.n, uint(e.prio)
	if err = q.finish(e, op, err); err != nil {
		return 0, 0, err
	}
	return n, priority, nil
}

// TrySend is Send that never waits: a full queue gives an error matching
// syscall.EAGAIN.
func (q *MessageQueue) TrySend(data []byte, priority uint) error {
	return q.Send(nonblocking, data, priority)
}

// TryReceive is Receive that never waits: an empty queue gives an error
// matching syscall.EAGAIN.
func (q *MessageQueue) TryReceive(buf []byte) (n int, priority uint, err error) {
	return q.Receive(nonblocking, buf)
}

// nonblocking is a context that marks a call that must not wait.
var nonblocking = context.WithValue(context.Background(), nonblockingKey{}, true)

type nonblockingKey struct{}

// begin takes an endpoint for one call and sets its deadline.
func (q *MessageQueue) begin(ctx context.Context, op string, writing bool) (*endpoint, error) {
	if ctx.Done() != nil && ctx.Err() != nil {
		return nil, errs.Path(op, q.name, errs.FromContext(ctx))
	}
	ctxDL, _ := ctx.Deadline()

	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return nil, errs.Closed(op, q.name)
	}
	var e *endpoint
	if n := len(q.idle); n > 0 {
		e = q.idle[n-1]
		q.idle = q.idle[:n-1]
	} else {
		// Every descriptor is in use: another goroutine waits on each.
		fd, err := unix.FcntlInt(uintptr(q.all[0].fd), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			return nil, errs.Path("dup", q.name, err)
		}
		e = q.addEndpoint(fd)
		q.idle = q.idle[:len(q.idle)-1]
	}
	e.call++
	e.busy, e.writing, e.ctxDL, e.cancelled = true, writing, ctxDL, false
	e.gen, e.ctx, e.stop, e.errno, e.n, e.spin = e.call, ctx, nil, 0, 0, spinner{}
	e.wait = ctx != nonblocking && !q.nonblock.Load()
	if err := e.updateDeadline(); err != nil {
		q.idle = append(q.idle, e)
		e.busy = false
		return nil, errs.Path(op, q.name, err)
	}
	e.dl = e.fileDL
	return e, nil
}

// updateDeadline sets on e's descriptor the earlier of its call's context
// deadline and the queue's deadline; the caller holds q.mu.
func (e *endpoint) updateDeadline() error {
	dl := e.q.rdl
	if e.writing {
		dl = e.q.wdl
	}
	if !e.ctxDL.IsZero() && (dl.IsZero() || e.ctxDL.Before(dl)) {
		dl = e.ctxDL
	}
	if e.cancelled {
		dl = past
	}
	if dl.Equal(e.fileDL) {
		return nil
	}
	e.fileDL = dl
	return e.f.SetDeadline(dl)
}

// hook makes the done context of the call in progress wake it, by moving its
// descriptor's deadline into the past. It runs in the poller callback the first
// time the call would wait, so that calls that never wait pay nothing.
func (e *endpoint) hook() {
	if e.stop != nil || e.ctx.Done() == nil {
		return
	}
	gen := e.gen
	e.stop = context.AfterFunc(e.ctx, func() {
		e.q.mu.Lock()
		defer e.q.mu.Unlock()
		if e.call == gen && e.busy && !e.q.closed { // still the same call
			e.cancelled = true
			e.updateDeadline()
		}
	})
}

// finish ends the call on e, returns e to the idle list and turns the outcome
// into an error.
func (q *MessageQueue) finish(e *endpoint, op string, err error) error {
	e.spin.done()
	if e.stop != nil {
		e.stop()
	}
	ctx, errno := e.ctx, e.errno
	e.ctx, e.buf = nil, nil

	q.mu.Lock()
	closed := q.closed
	e.busy = false
	e.call++ // a cancellation hook still running now sees another call
	if !closed {
		q.idle = append(q.idle, e)
	}
	q.mu.Unlock()

	switch {
	case err == nil && errno == 0:
		return nil
	case closed:
		return errs.Closed(op, q.name)
	case err == nil && errno == syscall.EBADF:
		return errs.Path(op, q.name, errs.Hint(errno, "the queue was not opened for this: see QueueOptions.Access"))
	case err == nil:
		return errs.Path(op, q.name, errno)
	case ctx.Err() != nil:
		return errs.Path(op, q.name, errs.FromContext(ctx))
	case os.IsTimeout(err):
		return errs.Path(op, q.name, errs.ErrTimeout)
	}
	return errs.Path(op, q.name, err)
}

// recv and send run inside the poller: true ends the call, false waits until
// the descriptor is ready and runs them again.
func (e *endpoint) recv(fd uintptr) bool {
	for {
		n, err := C.mq_receive(C.mqd_t(fd), (*C.char)(unsafe.Pointer(unsafe.SliceData(e.buf))), C.size_t(len(e.buf)), &e.prio)
		if n >= 0 {
			e.n = int(n)
			return true
		}
		if e.retry(err) {
			continue
		}
		return e.errno != 0
	}
}

func (e *endpoint) send(fd uintptr) bool {
	for {
		r, err := C.mq_send(C.mqd_t(fd), (*C.char)(unsafe.Pointer(unsafe.SliceData(e.buf))), C.size_t(len(e.buf)), e.prio)
		if r == 0 {
			return true
		}
		if e.retry(err) {
			continue
		}
		return e.errno != 0
	}
}

// retry classifies a failed call: true to call again now (EINTR, or EAGAIN
// while the call spins); otherwise it records errno, except EAGAIN when the
// call may wait on the poller (then e.errno stays 0).
func (e *endpoint) retry(err error) bool {
	errno, _ := err.(syscall.Errno)
	switch {
	case errno == syscall.EINTR:
		return true
	case errno == syscall.EAGAIN && e.wait:
		if e.spin.again(e.dl) {
			return true
		}
		e.hook()
		return false
	case errno == 0:
		errno = syscall.EIO
	}
	e.errno = errno
	return false
}

// SetNonblocking switches whether Send and Receive wait (O_NONBLOCK as seen by
// this handle; the descriptor itself is always non-blocking).
func (q *MessageQueue) SetNonblocking(nonblocking bool) { q.nonblock.Store(nonblocking) }

// SetDeadline sets the read and write deadlines, as net.Conn does.
func (q *MessageQueue) SetDeadline(t time.Time) error {
	return q.setDeadline(t, true, true)
}

// SetReadDeadline sets the time after which Receive, waiting or not yet
// called, fails with an error matching os.ErrDeadlineExceeded; zero means
// none. A call's context deadline applies too, whichever comes first.
func (q *MessageQueue) SetReadDeadline(t time.Time) error { return q.setDeadline(t, true, false) }

// SetWriteDeadline is SetReadDeadline for Send.
func (q *MessageQueue) SetWriteDeadline(t time.Time) error { return q.setDeadline(t, false, true) }

func (q *MessageQueue) setDeadline(t time.Time, read, write bool) error {
	if err := q.opened("set deadline"); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return errs.Closed("set deadline", q.name)
	}
	if read {
		q.rdl = t
	}
	if write {
		q.wdl = t
	}
	for _, e := range q.all {
		if e.busy && (e.writing && write || !e.writing && read) {
			e.updateDeadline()
		}
	}
	return nil
}

// withFD runs f on a descriptor of the open queue, holding q.mu.
func (q *MessageQueue) withFD(op string, f func(fd int) error) error {
	if err := q.opened(op); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return errs.Closed(op, q.name)
	}
	return errs.Path(op, q.name, f(q.all[0].fd))
}

// Attr returns the queue's capacity, message size and current number of
// messages, and whether this handle is non-blocking.
func (q *MessageQueue) Attr() (QueueAttr, error) {
	var a C.struct_mq_attr
	err := q.withFD("mq_getattr", func(fd int) error {
		if r, err := C.mq_getattr(C.mqd_t(fd), &a); r < 0 {
			return err
		}
		return nil
	})
	if err != nil {
		return QueueAttr{}, err
	}
	return QueueAttr{
		Capacity:    int(a.mq_maxmsg),
		MessageSize: int(a.mq_msgsize),
		Messages:    int(a.mq_curmsgs),
		Nonblocking: q.nonblock.Load(),
	}, nil
}

// Stat returns the file the mqueue file system shows for the queue: its owner,
// permissions and change time (Sys() is a *syscall.Stat_t).
func (q *MessageQueue) Stat() (os.FileInfo, error) {
	var fi os.FileInfo
	err := q.withFD("fstat", func(int) error {
		var err error
		fi, err = q.all[0].f.Stat()
		return err
	})
	return fi, err
}

// Close closes the queue and wakes every goroutine waiting in Send or Receive
// with an error matching os.ErrClosed. The queue itself stays until Unlink.
// Close is safe to call twice and on nil.
func (q *MessageQueue) Close() error {
	if q == nil {
		return nil
	}
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil
	}
	q.closed = true
	all, n := q.all, q.notify
	q.all, q.idle, q.notify = nil, nil, nil
	q.mu.Unlock()

	var first error
	for _, e := range all {
		// Closing a file evicts it from the poller, which wakes its waiter.
		if err := e.f.Close(); err != nil && first == nil {
			first = errs.Path("mq_close", q.name, err)
		}
	}
	if n != nil {
		n.close()
	}
	return first
}

// Unlink removes the queue's name; see UnlinkQueue.
func (q *MessageQueue) Unlink() error {
	if err := q.opened("mq_unlink"); err != nil {
		return err
	}
	return UnlinkQueue(q.name)
}

// UnlinkQueue removes the queue name. Processes that have it open keep using
// it; the queue is destroyed when the last one closes it.
func UnlinkQueue(name string) error {
	return unlink("mq_unlink", name, nameMax, func(n *C.char) (C.int, error) {
		r, err := C.mq_unlink(n)
		return r, err
	})
}

func (a QueueAttr) String() string {
	return fmt.Sprintf("capacity %d, message size %d, %d queued", a.Capacity, a.MessageSize, a.Messages)
}
