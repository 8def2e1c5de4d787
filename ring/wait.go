package ring

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/goipc/ipc/internal/errs"
)

// Waiting. A call that cannot go on now tries, which tells the seq that goes
// with what it saw, and if it still cannot, spins in the shim for up to r.spin watching head and tail
// (yielding the CPU now and then), then sleeps until seq moves. Of the goroutines of one Ring that
// sleep, one at a time (the sleeper) sleeps on the futex, holding the only
// OS thread, and wakes the others, which park on a channel: cancellation and
// Close reach them at once, and they cost no thread. A single waiter is woken
// by the kernel directly, without a second hand-off.

// waitSet is the goroutines of a Ring asleep until seq moves from at.
type waitSet struct {
	mu       sync.Mutex
	at       uint32        // the seq every waiter of gen saw
	gen      chan struct{} // closed when seq moves from at
	waiters  int           // in gen
	sleeping bool          // a waiter sleeps on the futex
}

// wait makes attempt a until it is done or fails, waiting for seq to move
// between tries, until ctx is done or the ring is closed. A try with looks 0
// tries once and, when it cannot go on, returns seen, the seq that goes
// with what it saw (read under the lock, or before a hint): a change after
// that moves seq from seen, so a sleep on it is never too late; a try with
// spinLooks spins in the shim, watching the ring spinLooks times, as long
// as r.spin lasts, with a sched_yield between spins (not runtime.Gosched:
// the peer may wait for this very CPU), as csrc/goipc_ring.h does. A spin
// that ends unready is followed by a try with looks 0 before sleeping: a
// spin never waits for the lock, and the ring may be ready with seq
// unmoved since.
//
// A receive that spins spins first: its spin looks at head and tail once,
// as a try would, then watches the mark at head, and a message that is
// there is taken in the same crossing. The clock is read only once a spin
// failed.
func (r *Ring) wait(ctx context.Context, a *attempt) error {
	if ctx == nil {
		// Refused before any try, ready ring or not: a nil ctx panicked
		// once the call had to wait, between enter and exit, which left
		// the call counted in flight and Close waiting for it for good.
		return errs.NilContext()
	}
	var spinUntil time.Time
	looks := 0
	if a.receive && r.spin > 0 {
		looks = spinLooks
	}
	for {
		done, seen, err := r.try(ctx, a, looks)
		if done || err != nil {
			return err
		}
		if r.guard.faulted() {
			return errTruncated
		}
		if err := ended(ctx); err != nil {
			return err
		}
		if r.isClosed() {
			return os.ErrClosed
		}
		if r.spin > 0 {
			now := time.Now()
			if spinUntil.IsZero() {
				spinUntil = now.Add(r.spin)
			}
			if now.Before(spinUntil) {
				if looks > 0 {
					unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
				}
				looks = spinLooks
				continue
			}
		}
		if looks > 0 {
			looks = 0
			continue
		}
		if err := r.sleep(ctx, seen); err != nil {
			return err
		}
	}
}

// An attempt is what a waiting call tries: a send of msg, or a receive into
// buf, which sets n; or a batch.
type attempt struct {
	msg, buf []byte
	receive  bool
	n        int

	// A batch (batch.go): the messages of SendBatch, or the buffers and
	// lengths of ReceiveBatch, of which n are done.
	batch      bool
	msgs, bufs [][]byte
	lens       []int
}

// try makes a once, as trySend or tryReceive does for looks.
func (r *Ring) try(ctx context.Context, a *attempt, looks int) (done bool, seen uint32, err error) {
	if a.batch {
		return r.tryBatch(ctx, a, looks)
	}
	if !a.receive {
		return r.trySend(ctx, a.msg, looks)
	}
	a.n, done, seen, err = r.tryReceive(ctx, a.buf, looks)
	return done, seen, err
}

// spinLooks is how many looks at the ring a spin in the shim makes, a
// pause apart: some microseconds, less than the 20µs after which the
// runtime may hand the thread's P to another.
const spinLooks = 128

// ended is the error of a ctx that is done or past its deadline, else nil.
func ended(ctx context.Context) error {
	if ctx.Done() == nil {
		return nil
	}
	if err := errs.FromContext(ctx); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return errs.ErrTimeout
	}
	return nil
}

// sleep parks the goroutine until seq moves from seen (or may have: a wake
// can be early), ctx is done or the ring closed.
func (r *Ring) sleep(ctx context.Context, seen uint32) error {
	w := &r.waits
	w.mu.Lock()
	if r.isClosed() {
		w.mu.Unlock()
		return os.ErrClosed
	}
	if r.h.seq.Load() != seen {
		w.mu.Unlock()
		return nil
	}
	if w.waiters > 0 && w.at != seen {
		w.wakeAll() // seq moved since they looked: they try again
	}
	if w.waiters == 0 {
		w.at, w.gen = seen, make(chan struct{})
	}
	w.waiters++
	gen := w.gen
	sleeper := !w.sleeping
	w.sleeping = true
	w.mu.Unlock()

	if sleeper {
		return r.sleepFor(ctx, seen)
	}
	select {
	case <-gen:
		return nil
	case <-r.done:
		return os.ErrClosed
	case <-ctx.Done():
		w.mu.Lock()
		if w.gen == gen {
			w.waiters--
		}
		w.mu.Unlock()
		return errs.FromContext(ctx)
	}
}

// wakeAll wakes the waiters of gen; w.mu is held.
func (w *waitSet) wakeAll() {
	if w.waiters > 0 {
		close(w.gen)
		w.waiters = 0
	}
}

// sleepFor is the sleeper's part: it sleeps on the futex until seq moves
// from seen, ctx is done or the ring closed, then wakes every waiter (which
// try again; one of them sleeps next).
func (r *Ring) sleepFor(ctx context.Context, seen uint32) error {
	// A cancellation moves seq, under the lock, so that the futex wait
	// returns however close to it the cancellation came (a wake-up alone
	// could come just before the wait and be lost); the other waiters, in
	// every process, look again and go back to sleep.
	moved := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(moved)
		if r.locked(nil, func() (bool, error) { return true, nil }) != nil {
			futexWake(r.h.seq) // the lock stays taken: the loop below looks at least once a second
		}
	})
	for r.h.seq.Load() == seen && ctx.Err() == nil && !r.isClosed() && !r.guard.faulted() {
		limit := sleepLimitMs * time.Millisecond
		if d, ok := ctx.Deadline(); ok {
			if limit = min(limit, time.Until(d)); limit <= 0 {
				break
			}
		}
		r.sleepOnFutex(ctx, seen, limit)
	}
	if !stop() {
		<-moved // it touches the ring: let it finish before Close may unmap
	}
	w := &r.waits
	w.mu.Lock()
	w.sleeping = false
	w.wakeAll()
	w.mu.Unlock()
	if r.isClosed() {
		return os.ErrClosed
	}
	return ended(ctx)
}

// sleepOnFutex sleeps while seq holds at, for at most limit, counted
// among the ring's sleepers (which the count, changed under the lock, tells
// every sender and receiver to wake). It does not sleep if the lock stays
// taken until ctx ends; if it stays taken for a slice after the sleep, the
// count is left to the next locked (Ring.owed).
func (r *Ring) sleepOnFutex(ctx context.Context, at uint32, limit time.Duration) {
	asleep := false
	r.locked(ctx, func() (bool, error) {
		if r.h.seq.Load() == at {
			r.h.sleepers.Add(1)
			asleep = true
		}
		return false, nil
	})
	if !asleep {
		return
	}
	futexWait(r.h.seq, at, limit)
	if r.locked(nil, func() (bool, error) {
		r.h.sleepers.Add(^uint32(0))
		return false, nil
	}) != nil {
		r.owed.Add(1)
	}
}

// The futex operations, from linux/futex.h, on a shared (not private) futex.
const (
	futexWaitOp = 0
	futexWakeOp = 1
)

// futexWait sleeps while *word == val, for at most d (FUTEX_WAIT on a shared
// futex: any process that maps the word wakes it).
func futexWait(word *atomic.Uint32, val uint32, d time.Duration) {
	ts := unix.NsecToTimespec(int64(d))
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(word)), futexWaitOp, uintptr(val),
		uintptr(unsafe.Pointer(&ts)), 0, 0)
}

// futexWake wakes every thread of every process asleep on word.
func futexWake(word *atomic.Uint32) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(word)), futexWakeOp, uintptr(1<<31-1), 0, 0, 0)
}
