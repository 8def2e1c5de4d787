package shmsync

import (
	"context"
	"runtime"
	"syscall"

	"github.com/goipc/ipc/internal/errs"
)

// A Cond is a process-shared pthread condition variable in shared memory,
// used with a Mutex: C programs wait on and signal the same bytes with
// pthread_cond_wait and pthread_cond_signal.
type Cond struct {
	c   *condT
	mem []byte
}

// NewCond initialises a process-shared condition variable in the first
// CondSize bytes of mem (pthread_cond_init), shared memory that no process is
// using as one at the time, and returns it.
func NewCond(mem []byte) (*Cond, error) {
	p, err := place("pthread_cond_init", mem, CondSize)
	if err != nil {
		return nil, err
	}
	c := &Cond{condOf(p), mem}
	if e := condInit(c.c); e != 0 {
		return nil, errs.Syscall("pthread_cond_init", e)
	}
	return c, nil
}

// CondAt returns the condition variable that another process (or NewCond)
// initialised at the start of mem. It fails with an error matching
// syscall.EINVAL when the bytes are not a process-shared condition variable
// (zeroed memory is a private one, whose wake-ups would not reach other
// processes).
func CondAt(mem []byte) (*Cond, error) {
	p, err := place("shmsync.CondAt", mem, CondSize)
	if err != nil {
		return nil, err
	}
	c := &Cond{condOf(p), mem}
	if e := condChecks(c.c); e != 0 {
		return nil, errs.Syscall("shmsync.CondAt", errs.Hint(e, "not an initialised process-shared condition variable"))
	}
	return c, nil
}

// Wait atomically unlocks m, which the calling goroutine must hold, and
// waits until Signal or Broadcast wakes it or ctx is done; it returns holding
// m again, except with ErrNotRecoverable. It returns nil, an error matching
// ErrOwnerDead when m's holder died meanwhile (repair, then m.Consistent),
// ErrNotRecoverable when a locker repaired nothing after such a death (the
// goroutine then holds neither m nor its thread: do not Unlock),
// os.ErrDeadlineExceeded for a passed deadline, ctx.Err() when cancelled, or
// syscall.EPERM when the goroutine does not hold m.
//
// As pthread_cond_wait may, Wait can return nil without a signal: call it in
// a loop that checks the condition. With a context that can be cancelled it
// does so at least every 10ms, when it looks at the context; it never waits
// again on its own, which could miss a signal that came meanwhile.
func (c *Cond) Wait(ctx context.Context, m *Mutex) error {
	if c == nil || c.c == nil {
		return errs.NotMade("pthread_cond_wait", "shmsync.Cond", "NewCond or CondAt")
	}
	if !m.Holding() {
		return errs.Syscall("pthread_cond_wait", notHolder(syscall.EPERM))
	}
	if ctx == nil {
		return errs.Syscall("pthread_cond_wait", errs.NilContext()) // m stays held
	}
	if ctx.Done() == nil {
		return errs.Syscall("pthread_cond_wait", errno(m.retaken(condWait(c.c, m.m))))
	}
	wait, ok := slice(ctx)
	if !ok {
		return ended(ctx)
	}
	e := m.retaken(condWaitFor(c.c, m.m, wait))
	if e == syscall.ETIMEDOUT {
		if _, ok := slice(ctx); !ok {
			return ended(ctx)
		}
		return nil // the slice ended: a spurious wake-up
	}
	return errs.Syscall("pthread_cond_wait", errno(e))
}

// retaken ends a wait that returned e: a wait that could not take m back
// (ErrNotRecoverable) leaves the goroutine without the lock, so the thread
// that Lock locked it to is released here, as Unlock would have.
func (m *Mutex) retaken(e syscall.Errno) syscall.Errno {
	if e != 0 && !mutexHolding(m.m) {
		runtime.UnlockOSThread()
	}
	return e
}

// Signal wakes one goroutine or thread waiting on c, in any process.
func (c *Cond) Signal() error {
	if c == nil || c.c == nil {
		return errs.NotMade("pthread_cond_signal", "shmsync.Cond", "NewCond or CondAt")
	}
	return errs.Syscall("pthread_cond_signal", errno(condSignal(c.c)))
}

// Broadcast wakes every goroutine and thread waiting on c, in any process.
func (c *Cond) Broadcast() error {
	if c == nil || c.c == nil {
		return errs.NotMade("pthread_cond_broadcast", "shmsync.Cond", "NewCond or CondAt")
	}
	return errs.Syscall("pthread_cond_broadcast", errno(condBroadcast(c.c)))
}
