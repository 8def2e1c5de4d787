package sysv

import (
	"cmp"
	"context"
	"errors"
	"math"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/goipc/ipc/internal/blocking"
	"github.com/goipc/ipc/internal/errs"
	"github.com/goipc/ipc/internal/sched"
)

// MessageQueue is a System V message queue (msgget). Its methods are safe
// for concurrent use.
type MessageQueue struct {
	object
	// maxBytes caches the capacity, to refuse a message that could never
	// fit (msgsnd would wait for it forever) without a stat per Send.
	maxBytes atomic.Uint64
}

// QueueStat is a queue's status (msgctl IPC_STAT).
type QueueStat struct {
	Perm
	Messages    uint64 // messages queued
	Bytes       uint64 // bytes queued
	MaxBytes    uint64 // capacity in bytes; Set can change it
	LastSendPID int
	LastRecvPID int
	SendTime    time.Time // last msgsnd; zero if none
	RecvTime    time.Time // last msgrcv; zero if none
}

// MsgFlag changes how Send and Receive behave.
type MsgFlag int

const (
	// NoWait fails at once instead of blocking: Send with EAGAIN when the
	// queue is full, Receive with ENOMSG when no message matches (IPC_NOWAIT).
	NoWait MsgFlag = ipcNowait
	// Except makes Receive take the first message whose type is not the one
	// given, which must be positive (MSG_EXCEPT).
	Except MsgFlag = msgExcept
	// NoError makes Receive truncate a message longer than the buffer
	// instead of failing with E2BIG (MSG_NOERROR); the rest is lost.
	NoError MsgFlag = msgNoerror
)

// OpenQueue finds the queue of key, or creates it with flag Create (and
// fails if it exists with Create|Exclusive). perm applies only to a queue
// this call creates, and exactly: the umask does not change it. Key
// IPCPrivate needs Create: it always makes a new queue (open an existing
// private one with OpenQueueByID). Opening needs no permission on the queue:
// each call needs what the kernel asks of it (Send write, Receive read), so a
// process that may only write to a queue (mode 0622, say) opens it and sends.
func OpenQueue(key Key, flag Flag, perm os.FileMode) (*MessageQueue, error) {
	f, err := getFlags(key, flag, perm, Create|Exclusive)
	if err != nil {
		return nil, openErr("msgget", key, err)
	}
	id, err := msgget(key, f)
	if err != nil {
		return nil, openErr("msgget", key, err)
	}
	q := &MessageQueue{object: object{kind: kindQueue, key: key, id: id}}
	st, err := msgctlStat(id)
	switch {
	case err == nil:
		q.maxBytes.Store(st.MaxBytes)
	case errors.Is(err, syscall.EACCES): // may not read the status: Send cannot check the capacity
		q.maxBytes.Store(math.MaxUint64)
	default:
		return nil, openErr("msgctl", key, err)
	}
	q.watch()
	return q, nil
}

// OpenQueueByID opens the queue whose id is id, as ipcs prints it and
// MessageQueue.ID returns: the way to reach a queue made with IPCPrivate, or
// whose key is unknown (sysv_ipc's MessageQueue by id, C's msgsnd on a known
// id). It fails with an error matching fs.ErrNotExist if no queue has the id.
func OpenQueueByID(id int) (*MessageQueue, error) {
	st, readable, err := statID("msgctl", kindQueue, id, msgctlStat)
	if err != nil {
		return nil, err
	}
	q := &MessageQueue{object: object{kind: kindQueue, key: st.Key, id: id, byID: true}}
	q.maxBytes.Store(st.MaxBytes)
	if !readable { // Send cannot check the capacity
		q.maxBytes.Store(math.MaxUint64)
	}
	q.watch()
	return q, nil
}

// Send queues data as one message of type mtype (> 0). It blocks while the
// queue is full, until ctx ends, unless flags has NoWait. A message larger than
// kernel.msgmax or than the queue's MaxBytes fails with EINVAL and a hint
// naming the limit (checked before the call: msgsnd would wait forever for a
// message larger than the queue). Send allocates nothing, and locks no thread
// unless it has to wait with a context that can end.
func (q *MessageQueue) Send(ctx context.Context, mtype int64, data []byte, flags MsgFlag) error {
	if err := q.obj().check("msgsnd"); err != nil {
		return err
	}
	if mtype <= 0 {
		return q.fail("msgsnd", errs.Invalid("message type %d is not positive", mtype))
	}
	if flags&^NoWait != 0 {
		return q.fail("msgsnd", errs.Invalid("Send takes only the NoWait flag"))
	}
	if uint64(len(data)) > q.maxBytes.Load() {
		if err := q.fits(len(data)); err != nil {
			return q.fail("msgsnd", err)
		}
	}
	var err error
	if flags&NoWait != 0 {
		if err = msgsnd(q.id, mtype, data, int(flags)); errors.Is(err, syscall.EAGAIN) {
			err = cmp.Or(q.fits(len(data)), err)
		}
	} else {
		err = q.calls.Do(ctx, syscall.EAGAIN, func(timeout time.Duration) error {
			if timeout == blocking.Immediately {
				return msgsnd(q.id, mtype, data, ipcNowait)
			}
			// Before waiting for room, check the capacity again: another
			// process may have lowered it (IPC_SET) below this message
			// since it was cached, and msgsnd would then wait forever.
			if err := msgsnd(q.id, mtype, data, ipcNowait); !errors.Is(err, syscall.EAGAIN) {
				return err
			}
			if err := q.fits(len(data)); err != nil {
				return err
			}
			return msgsnd(q.id, mtype, data, 0)
		})
	}
	sched.Tick() // see internal/sched
	if errors.Is(err, syscall.EINVAL) {
		err = errs.LimitHint(err, "message size", int64(len(data)), "kernel/msgmax")
	}
	return q.fail("msgsnd", err)
}

// waitFlag is the flag that keeps a call from blocking when the timeout
// blocking gives is Immediately.
func waitFlag(timeout time.Duration) int {
	if timeout == blocking.Immediately {
		return ipcNowait
	}
	return 0
}

// ID returns the kernel's identifier of the queue (as ipcs prints it), or -1
// for a nil or zero q.
func (q *MessageQueue) ID() int { return q.obj().ident() }

// Key returns the key the queue was opened by (for one opened by id, the key
// its status gives, IPCPrivate if it may not be read).
func (q *MessageQueue) Key() Key { return q.obj().keyOf() }

// obj is q's object, nil for a nil q, so that check fails rather than panics.
func (q *MessageQueue) obj() *object {
	if q == nil {
		return nil
	}
	return &q.object
}

// fits refreshes the cached capacity and fails if a message of size bytes
// exceeds it: the kernel would not refuse it but wait forever for room.
func (q *MessageQueue) fits(size int) error {
	st, err := msgctlStat(q.id)
	if errors.Is(err, syscall.EACCES) {
		return nil // may not read the capacity: let the kernel decide
	}
	if err != nil {
		return err
	}
	q.maxBytes.Store(st.MaxBytes)
	if uint64(size) > st.MaxBytes {
		return errs.Hint(syscall.EINVAL, "message size %d > the queue's max bytes %d", size, st.MaxBytes)
	}
	return nil
}

// Receive takes one message into buf and returns its length and type. mtype
// selects as msgrcv does: 0 takes the first message, > 0 the first of that
// type (with Except, the first of any other type), < 0 the first of the lowest
// type <= -mtype. A message longer than buf fails with E2BIG and stays queued,
// unless flags has NoError, which truncates it. Receive blocks until a message
// matches or ctx ends, unless flags has NoWait. If the queue is removed
// meanwhile it fails with EIDRM. Receive allocates nothing, and locks no
// thread unless it has to wait with a context that can end.
func (q *MessageQueue) Receive(ctx context.Context, buf []byte, mtype int64, flags MsgFlag) (n int, typ int64, err error) {
	if err := q.obj().check("msgrcv"); err != nil {
		return 0, 0, err
	}
	if flags&^(NoWait|Except|NoError) != 0 {
		return 0, 0, q.fail("msgrcv", errs.Invalid("unsupported flags %#x", int(flags)))
	}
	if flags&Except != 0 && mtype <= 0 {
		return 0, 0, q.fail("msgrcv", errs.Invalid("Except needs a positive type, not %d", mtype))
	}
	if flags&NoWait != 0 {
		n, typ, err = msgrcv(q.id, buf, mtype, int(flags))
	} else {
		err = q.calls.Do(ctx, syscall.ENOMSG, func(timeout time.Duration) error {
			n, typ, err = msgrcv(q.id, buf, mtype, int(flags)|waitFlag(timeout))
			return err
		})
	}
	sched.Tick() // see internal/sched
	if errors.Is(err, syscall.E2BIG) {
		err = errs.Hint(err, "message longer than the %d-byte buffer; it stays queued (MSG_NOERROR truncates it)", len(buf))
	}
	if err != nil {
		return 0, 0, q.fail("msgrcv", err)
	}
	return n, typ, nil
}

// Stat returns the queue's status.
func (q *MessageQueue) Stat() (QueueStat, error) {
	if err := q.obj().check("msgctl"); err != nil {
		return QueueStat{}, err
	}
	st, err := msgctlStat(q.id)
	return st, q.fail("msgctl", err)
}

// Set changes the owner (UID, GID), the permission bits (Mode) and the
// capacity (MaxBytes) to those of s, as IPC_SET does; start from Stat. Only
// root can raise MaxBytes above kernel.msgmnb.
func (q *MessageQueue) Set(s QueueStat) error {
	if err := q.obj().check("msgctl"); err != nil {
		return err
	}
	if s.MaxBytes == 0 {
		return q.fail("msgctl", errs.Invalid("MaxBytes is 0 (start from Stat)"))
	}
	if err := s.valid(); err != nil {
		return q.fail("msgctl", err)
	}
	err := msgctlSet(q.id, s)
	if err == nil {
		q.maxBytes.Store(s.MaxBytes)
	}
	if errors.Is(err, syscall.EPERM) {
		err = errs.LimitHint(err, "max bytes", int64(s.MaxBytes), "kernel/msgmnb")
	}
	return q.fail("msgctl", err)
}

// Remove destroys the queue (IPC_RMID): queued messages are lost, and calls
// blocked on it in any process fail with EIDRM. It works after Close too.
func (q *MessageQueue) Remove() error {
	return q.obj().remove("msgctl", func() error { return msgctl(q.id, ipcRmid, nil) })
}

// Close makes q unusable: later calls fail with an error matching
// os.ErrClosed, and so do Send and Receive calls blocked on q, which Close
// ends and waits for. The queue itself stays until Remove, which still works
// on q. It is safe to call twice and on nil.
func (q *MessageQueue) Close() error {
	if q != nil {
		q.close()
	}
	return nil
}
