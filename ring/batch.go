package ring

import (
	"context"
	"syscall"

	"github.com/goipc/ipc/internal/errs"
)

// SendBatch sends msgs in order, each as its own message, as many Sends
// would, but appends as many as fit under one taking of the ring's lock (up
// to 32 a call into the shim): the way to stream small messages, whose cost
// is the lock's cache line moving between processes more than the copy.
// Each message is published as Send publishes it, so a receiver of any
// implementation takes them one by one, and a sender killed mid-batch has
// sent a prefix of msgs, every message of it whole.
//
// It waits while the ring is full, until ctx is done or the ring is closed,
// and returns how many messages went: len(msgs), or fewer with the error
// (msgs[n:] were not sent). A message longer than MaxMessage fails the call
// at once with an error matching syscall.EINVAL, before anything is sent.
func (r *Ring) SendBatch(ctx context.Context, msgs [][]byte) (n int, err error) {
	return r.sendBatch(ctx, msgs, true)
}

// TrySendBatch sends, as SendBatch does, the messages of msgs that fit now
// and returns how many went; when not even the first fits it fails with an
// error matching syscall.EAGAIN. It waits for the lock as TrySend does.
func (r *Ring) TrySendBatch(msgs [][]byte) (n int, err error) {
	return r.sendBatch(context.Background(), msgs, false)
}

func (r *Ring) sendBatch(ctx context.Context, msgs [][]byte, wait bool) (int, error) {
	const op = "ring send"
	if err := r.enter(op); err != nil {
		return 0, err
	}
	for i, msg := range msgs {
		if len(msg) > r.MaxMessage() {
			return 0, r.exit(op, errs.Invalid("message %d of the batch: %d bytes > the ring's maximum %d: nothing sent", i, len(msg), r.MaxMessage()))
		}
	}
	a := attempt{msgs: msgs, batch: true}
	return r.batch(ctx, op, &a, wait)
}

// ReceiveBatch takes up to len(bufs) messages, oldest first, the i-th into
// bufs[i], setting lens[i] to its length, under one taking of the ring's
// lock (up to 32 a call into the shim), and returns how many it took. It
// waits, as Receive does, only while the ring is empty: it returns as soon
// as it took at least one, with what was there. lens must be at least as
// long as bufs.
//
// A first message longer than bufs[0] stays in the ring and the call fails
// with an error matching syscall.EMSGSIZE, as Receive does, with lens[0]
// set to its length (a corrupt record, EBADMSG, sets it to 0); a later one
// that is longer than its buffer ends the batch before it, without an error,
// and the next call meets it first.
func (r *Ring) ReceiveBatch(ctx context.Context, bufs [][]byte, lens []int) (n int, err error) {
	return r.receiveBatch(ctx, bufs, lens, true)
}

// TryReceiveBatch takes, as ReceiveBatch does, the messages there are now;
// when the ring is empty it fails with an error matching syscall.EAGAIN. It
// waits for the lock as TrySend does.
func (r *Ring) TryReceiveBatch(bufs [][]byte, lens []int) (n int, err error) {
	return r.receiveBatch(context.Background(), bufs, lens, false)
}

func (r *Ring) receiveBatch(ctx context.Context, bufs [][]byte, lens []int, wait bool) (int, error) {
	const op = "ring receive"
	if err := r.enter(op); err != nil {
		return 0, err
	}
	if len(lens) < len(bufs) {
		return 0, r.exit(op, errs.Invalid("%d lengths for %d buffers", len(lens), len(bufs)))
	}
	a := attempt{bufs: bufs, lens: lens, receive: true, batch: true}
	return r.batch(ctx, op, &a, wait)
}

// batch makes the batch attempt a, waiting or trying once, as the call op
// that enter began.
func (r *Ring) batch(ctx context.Context, op string, a *attempt, wait bool) (int, error) {
	var err error
	switch {
	case len(a.msgs) == 0 && len(a.bufs) == 0:
	case wait:
		err = r.wait(ctx, a)
	default:
		var done bool
		done, _, err = r.tryBatch(nil, a, 0)
		err = again(done || a.n > 0, err)
	}
	return a.n, r.exit(op, err)
}

// tryBatch goes on with the batch a, of which a.n messages are done, as
// trySend or tryReceive does for looks, one crossing into the shim for each
// batchMax messages: a send is done when all went, a receive when it took
// any (after the first crossing, it takes only what is there at once).
func (r *Ring) tryBatch(ctx context.Context, a *attempt, looks int) (done bool, seen uint32, err error) {
	for {
		var k int
		var e syscall.Errno
		cross := func(looks int) syscall.Errno {
			if a.receive {
				k, seen, e = ringReceiveBatch(r.base, r.capacity, a.bufs[a.n:], a.lens[a.n:], looks, &r.next)
			} else {
				k, seen, e = ringSendBatch(r.base, r.capacity, a.msgs[a.n:], looks)
			}
			return e
		}
		if a.n > 0 && a.receive {
			looks = lockSoon
		}
		cross(firstLooks(looks))
		if e == syscall.EBUSY && looks == 0 {
			if _, err := r.waitForLock(ctx, func() syscall.Errno { return cross(0) }); err != nil {
				return false, 0, err
			}
		}
		whole := k == min(batchMax, max(len(a.msgs), len(a.bufs))-a.n)
		a.n += k
		if a.receive {
			switch {
			case whole && a.n < len(a.bufs):
				continue
			case a.n > 0:
				return true, seen, nil
			}
			_, done, err = r.receiveResult(a.lens[0], e, len(a.bufs[0]))
			if e == syscall.EBADMSG {
				a.lens[0] = 0 // the record's length is corrupt: the error says it
			}
			return done, seen, err
		}
		if k > 0 || (e == syscall.EAGAIN && looks == 0) {
			r.full.Store(!whole) // under the lock: room for the batch or not
		}
		if e != 0 || !whole || a.n == len(a.msgs) {
			_, err = r.sendResult(e)
			return a.n == len(a.msgs), seen, err
		}
	}
}
