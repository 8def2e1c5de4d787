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
*/
import "C"

import (
	"context"
	"fmt"
	"math"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/goipc/ipc/internal/errs"
	"github.com/goipc/ipc/internal/sched"
)

// MaxPriority is one more than the highest message priority (MQ_PRIO_MAX).
const MaxPriority = 32768

// QueueOptions says how OpenQueue opens a message queue. The zero value opens
// an existing queue for sending and receiving.
type QueueOptions struct {
	Access    Access      // ReadWrite, ReadOnly (receive) or WriteOnly (send)
	Create    bool        // create the queue if it does not exist
	Exclusive bool        // with Create: fail with fs.ErrExist if it exists; needs Create (EINVAL)
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
// descriptor can be polled. The calls themselves use a descriptor that the
// poller does not watch, and the calls that wait a second one, a dup that
// is made when the first of them waits and closed when the last stops (see
// waitFile): while it is in the poller's epoll set, every message sent or
// received wakes the thread that sleeps in epoll_wait, whoever waits for
// what. The queue holds those descriptors however many goroutines wait;
// see line for how they take turns.
type MessageQueue struct {
	name     string
	msgsize  int // fixed when the queue was created
	nonblock atomic.Bool
	f        *os.File        // the descriptor, non-blocking, kept out of the poller
	rc       syscall.RawConn // f's, for the calls that try
	fd       int             // f's descriptor, for calls made holding mu while not closed
	w        *os.File        // the dup of fd in the poller, while a call waits there; guarded by mu
	wrc      syscall.RawConn // w's
	rdl, wdl atomic.Int64    // deadlines of SetReadDeadline and SetWriteDeadline, Unix ns; 0 for none
	calls    sync.Pool       // *call, reused so that a call allocates nothing

	mu         sync.Mutex
	closed     atomic.Bool   // set under mu; read without it by calls that begin
	done       chan struct{} // closed by Close: wakes the calls waiting in line
	recv, send line          // the calls waiting for a message and for room
	notify     *notifier
}

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
		// Blocking for now, so that os.NewFile keeps it out of the poller.
		r, err := C.goipc_mq_open(cname, C.int(flags|extra|unix.O_CLOEXEC), C.uint(perm), attr)
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
	a, err := getattr(fd)
	if err != nil {
		unix.Close(fd)
		return nil, errs.Path("mq_getattr", name, err)
	}
	q := &MessageQueue{name: name, msgsize: int(a.mq_msgsize), fd: fd, done: make(chan struct{})}
	q.f = os.NewFile(uintptr(fd), name) // blocking: not in the poller
	q.rc, _ = q.f.SyscallConn()         // fails only for a nil file
	// Then non-blocking, as the calls want it and the dup that waits on the
	// poller (waitFile) inherits it: O_NONBLOCK belongs to the open file.
	if err := unix.SetNonblock(fd, true); err != nil {
		q.f.Close()
		return nil, errs.Path("fcntl O_NONBLOCK", name, err)
	}
	q.nonblock.Store(opts.Nonblocking)
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

// Name returns the queue's name, with its leading slash ("" for a nil or zero
// MessageQueue).
func (q *MessageQueue) Name() string {
	if q == nil {
		return ""
	}
	return q.name
}

// opened fails for a nil or zero MessageQueue, which has no descriptor.
func (q *MessageQueue) opened(op string) error {
	if q == nil || q.f == nil {
		return errs.NotOpen(op, "posix.MessageQueue")
	}
	return nil
}

// MessageSize returns the size of the largest message the queue takes, which
// is the least buffer Receive accepts (0 for a nil or zero MessageQueue).
func (q *MessageQueue) MessageSize() int {
	if q == nil {
		return 0
	}
	return q.msgsize
}

// Send adds data to the queue with priority (0 to MaxPriority-1; higher
// priorities are received first). When the queue is full it waits until there
// is room, ctx is done or the write deadline passes, unless the queue is
// non-blocking. It allocates nothing unless it waits on the poller.
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
	c := q.newCall(ctx, &q.send)
	c.buf, c.prio = data, C.uint(priority)
	err := q.run(c, op)
	q.calls.Put(c.reset())
	sched.Tick() // see internal/sched
	return err
}

// Receive takes the oldest message of the highest priority into buf, which
// must hold at least MessageSize bytes, and returns its length and priority.
// When the queue is empty it waits until a message arrives, ctx is done or the
// read deadline passes, unless the queue is non-blocking. It allocates nothing
// unless it waits on the poller.
func (q *MessageQueue) Receive(ctx context.Context, buf []byte) (n int, priority uint, err error) {
	const op = "mq_receive"
	if err := q.opened(op); err != nil {
		return 0, 0, err
	}
	if len(buf) < q.msgsize {
		return 0, 0, errs.Path(op, q.name, errs.Hint(syscall.EMSGSIZE, "buffer of %d bytes < queue message size %d", len(buf), q.msgsize))
	}
	c := q.newCall(ctx, &q.recv)
	c.buf = buf
	err = q.run(c, op)
	n, priority = c.n, uint(c.prio)
	q.calls.Put(c.reset())
	sched.Tick() // see internal/sched
	if err != nil {
		return 0, 0, err
	}
	return n, priority, nil
}

// TrySend is Send that never waits: a full queue gives an error matching
// syscall.EAGAIN. Deadlines do not apply to it.
func (q *MessageQueue) TrySend(data []byte, priority uint) error {
	return q.Send(nonblocking, data, priority)
}

// TryReceive is Receive that never waits: an empty queue gives an error
// matching syscall.EAGAIN. Deadlines do not apply to it: a queued message is
// received even after the read deadline.
func (q *MessageQueue) TryReceive(buf []byte) (n int, priority uint, err error) {
	return q.Receive(nonblocking, buf)
}

// nonblocking is a context that marks a call that must not wait.
var nonblocking = context.WithValue(context.Background(), nonblockingKey{}, true)

type nonblockingKey struct{}

// SetNonblocking switches whether Send and Receive wait (O_NONBLOCK as seen by
// this handle; the descriptor itself is always non-blocking). On a nil or zero
// MessageQueue it does nothing: every call fails anyway.
func (q *MessageQueue) SetNonblocking(nonblocking bool) {
	if q.opened("") == nil {
		q.nonblock.Store(nonblocking)
	}
}

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
	const op = "set deadline"
	if err := q.opened(op); err != nil {
		return err
	}
	ns := deadlineNano(t)
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed.Load() {
		return errs.Closed(op, q.name)
	}
	if read {
		q.rdl.Store(ns)
		q.deadlineChanged(&q.recv)
	}
	if write {
		q.wdl.Store(ns)
		q.deadlineChanged(&q.send)
	}
	return nil
}

// deadlineNano is t as the Unix nanoseconds of the deadline words, 0 for
// none. It saturates, since t.UnixNano is undefined outside the years 1678 to
// 2262: a deadline centuries away waits, one centuries ago has passed.
func deadlineNano(t time.Time) int64 {
	switch {
	case t.IsZero():
		return 0
	case t.Before(time.Unix(0, 1)):
		return 1
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// withFD runs f on the descriptor of the open queue, holding q.mu.
func (q *MessageQueue) withFD(op string, f func(fd int) error) error {
	if err := q.opened(op); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed.Load() {
		return errs.Closed(op, q.name)
	}
	return errs.Path(op, q.name, f(q.fd))
}

// getattr is mq_getattr on fd.
func getattr(fd int) (C.struct_mq_attr, error) {
	var a C.struct_mq_attr
	if r, err := C.mq_getattr(C.mqd_t(fd), &a); r < 0 {
		return a, err
	}
	return a, nil
}

// queued is the number of messages on the queue of descriptor fd.
func queued(fd int) (int, error) {
	a, err := getattr(fd)
	return int(a.mq_curmsgs), err
}

// Attr returns the queue's capacity, message size and current number of
// messages, and whether this handle is non-blocking.
func (q *MessageQueue) Attr() (QueueAttr, error) {
	var a C.struct_mq_attr
	err := q.withFD("mq_getattr", func(fd int) (err error) {
		a, err = getattr(fd)
		return err
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
// permissions and change time (Sys() is a *syscall.Stat_t). It asks the
// descriptor, so it works after Unlink too.
func (q *MessageQueue) Stat() (os.FileInfo, error) {
	var fi os.FileInfo
	err := q.withFD("fstat", func(int) error {
		var err error
		fi, err = q.f.Stat()
		return err
	})
	return fi, err
}

// Close closes the queue and wakes every goroutine waiting in Send or Receive
// with an error matching os.ErrClosed. The queue itself stays until Unlink.
// Close is safe to call twice and on nil.
func (q *MessageQueue) Close() error {
	if q.opened("") != nil {
		return nil
	}
	q.mu.Lock()
	if q.closed.Load() {
		q.mu.Unlock()
		return nil
	}
	q.closed.Store(true)
	close(q.done) // wakes the calls waiting in line, which need not leave it one by one
	q.recv.queue, q.send.queue = nil, nil
	n := q.notify
	q.notify = nil
	w := q.w
	q.w, q.wrc = nil, nil
	q.mu.Unlock()

	// Closing the waiting file evicts it from the poller, which wakes the
	// calls waiting there.
	if w != nil {
		w.Close()
	}
	err := q.f.Close()
	if n != nil {
		n.close()
	}
	return errs.Path("mq_close", q.name, err)
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
