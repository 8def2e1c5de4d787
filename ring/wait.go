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

// Waiting. A call that cannot go on now reads seq, tries, and if it still
// cannot, spins for up to r.spin watching seq (yielding the CPU between
// looks), then sleeps until seq moves. The goroutines of one Ring that
// sleep share one notifier goroutine, which alone sleeps on the futex (and
// so holds the only OS thread); they park on a channel, so cancellation and
// Close reach them at once and cost no thread.

// waitSet is the goroutines of a Ring asleep until seq moves from at.
type waitSet struct {
	mu      sync.Mutex
	at      uint32        // the seq every waiter of gen saw
	gen     chan struct{} // closed when seq moves from at
	waiters int           // in gen
	stopped chan struct{} // closed when the running notifier returns; nil when none runs
}

// wait runs try until it reports done or fails, waiting for seq to move
// between tries, until ctx is done or the ring is closed.
func (r *Ring) wait(ctx context.Context, try func() (bool, error)) error {
	var spinUntil time.Time
	for {
		seen := r.h.seq.Load()
		if done, err := try(); done || err != nil {
			return err
		}
		if err := ended(ctx); err != nil {
			return err
		}
		if r.closed.Load() {
			return os.ErrClosed
		}
		if r.spin > 0 {
			now := time.Now()
			if spinUntil.IsZero() {
				spinUntil = now.Add(r.spin)
			}
			if now.Before(spinUntil) {
				r.spinWhile(seen, spinUntil)
				continue
			}
		}
		if err := r.sleep(ctx, seen); err != nil {
			return err
		}
	}
}

// spinWhile watches seq until it moves from seen or the time is up, with a
// sched_yield (not runtime.Gosched: the peer may wait for this very CPU)
// every spinYield looks, as csrc/goipc_ring.h does.
func (r *Ring) spinWhile(seen uint32, until time.Time) {
	for i := 1; r.h.seq.Load() == seen; i++ {
		if i%spinYield == 0 {
			if !time.Now().Before(until) {
				return
			}
			unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
		}
	}
}

// spinYield is how many looks at seq a spin makes between yields.
const spinYield = 1024

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
	if r.closed.Load() {
		w.mu.Unlock()
		return os.ErrClosed
	}
	if r.h.seq.Load() != seen {
		w.mu.Unlock()
		return nil
	}
	if w.waiters > 0 && w.at != seen {
		// seq moved since the waiters of gen looked: they try again.
		close(w.gen)
		w.waiters = 0
	}
	if w.waiters == 0 {
		w.at, w.gen = seen, make(chan struct{})
	}
	w.waiters++
	gen := w.gen
	if w.stopped == nil {
		w.stopped = make(chan struct{})
		go r.notify(w.stopped)
	}
	w.mu.Unlock()

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

// notify sleeps on the futex for the waitSet while it has waiters, and
// wakes them when seq moves.
func (r *Ring) notify(stopped chan struct{}) {
	w := &r.waits
	for {
		w.mu.Lock()
		if w.waiters == 0 || r.closed.Load() {
			w.stopped = nil
			w.mu.Unlock()
			close(stopped)
			return
		}
		at := w.at
		w.mu.Unlock()

		r.sleepOnFutex(at)

		w.mu.Lock()
		if w.waiters > 0 && r.h.seq.Load() != w.at {
			close(w.gen)
			w.waiters = 0
		}
		w.mu.Unlock()
	}
}

// sleepOnFutex sleeps while seq holds at, for at most sleepLimitMs, counted
// among the ring's sleepers (which the count, changed under the lock, tells
// every sender and receiver to wake).
func (r *Ring) sleepOnFutex(at uint32) {
	asleep := false
	r.locked(func() (bool, error) {
		if r.h.seq.Load() == at {
			r.h.sleepers.Add(1)
			asleep = true
		}
		return false, nil
	})
	if !asleep {
		return
	}
	futexWait(r.h.seq, at, sleepLimitMs*time.Millisecond)
	r.locked(func() (bool, error) {
		r.h.sleepers.Add(^uint32(0))
		return false, nil
	})
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
