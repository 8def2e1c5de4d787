package shmsync

import (
	"context"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/goipc/ipc/internal/blocking"
	"github.com/goipc/ipc/internal/errs"
)

// MutexSize and CondSize are the bytes a Mutex and a Cond occupy in shared
// memory: sizeof(pthread_mutex_t) and sizeof(pthread_cond_t) of this
// platform's C library (40 and 48 on x86-64 glibc).
const (
	MutexSize = mutexSize
	CondSize  = condSize
)

// Align is the alignment the memory of a Mutex or Cond needs.
const Align = 8

// ErrOwnerDead is what Lock, TryLock and Cond.Wait return, wrapped, when the
// previous holder died holding the lock: the caller now holds it, repairs what
// the holder may have left half done, and calls Consistent. It is
// syscall.EOWNERDEAD.
var ErrOwnerDead error = syscall.EOWNERDEAD

// ErrNotRecoverable is what Lock returns, wrapped, once a holder that got
// ErrOwnerDead unlocked without calling Consistent: the mutex is unusable
// until some process initialises it again (NewMutex). It is
// syscall.ENOTRECOVERABLE.
var ErrNotRecoverable error = syscall.ENOTRECOVERABLE

// cancelSlice bounds each wait of a Wait whose context can be
// cancelled: the pthread calls have deadlines but no way to be interrupted
// (glibc retries EINTR), so the call wakes at least this often to look at the
// context.
const cancelSlice = 10 * time.Millisecond

// A Mutex is a robust, process-shared pthread mutex in shared memory, which C
// programs lock with pthread_mutex_lock on the same bytes.
//
// A pthread mutex is held by an OS thread, not by a goroutine. Lock therefore
// locks the calling goroutine to its thread (runtime.LockOSThread) until
// Unlock: the goroutine that locked is the holder, and only it can Unlock,
// Consistent or Wait; from any other goroutine those calls fail with an error
// matching syscall.EPERM, and a second Lock by the holder fails with
// syscall.EDEADLK. A holder goroutine that returns without Unlock ends its
// thread (the runtime's rule for a locked goroutine), and the next Lock
// returns ErrOwnerDead, as when a process dies holding the lock; but on the
// main thread, which the runtime parks instead of ending, the lock stays
// held, and any goroutine may be on the main thread unless the main
// goroutine locked itself to it in an init function (see the package
// documentation): always Unlock.
type Mutex struct {
	m   *mutexT
	mem []byte // keeps the caller's slice, and so its mapping, reachable
}

// NewMutex initialises a robust, process-shared, error-checking mutex in the
// first MutexSize bytes of mem (pthread_mutex_init) and returns it. mem must
// be shared memory that no process is using as a mutex at the time: a mapping
// (mmap, POSIX or System V shared memory), not Go memory. The mutex lives as
// long as the memory; there is nothing to destroy.
func NewMutex(mem []byte) (*Mutex, error) {
	p, err := place("pthread_mutex_init", mem, MutexSize)
	if err != nil {
		return nil, err
	}
	m := &Mutex{mutexOf(p), mem}
	if e := mutexInit(m.m); e != 0 {
		return nil, errs.Syscall("pthread_mutex_init", e)
	}
	return m, nil
}

// MutexAt returns the mutex that another process (or NewMutex) initialised
// at the start of mem. It fails with an error matching syscall.EINVAL when
// the bytes are not a robust, process-shared mutex.
func MutexAt(mem []byte) (*Mutex, error) {
	p, err := place("shmsync.MutexAt", mem, MutexSize)
	if err != nil {
		return nil, err
	}
	m := &Mutex{mutexOf(p), mem}
	if e := mutexChecks(m.m); e != 0 {
		return nil, errs.Syscall("shmsync.MutexAt", errs.Hint(e, "not an initialised robust process-shared mutex"))
	}
	return m, nil
}

// place checks that mem can hold size bytes of a pthread object and returns
// its start.
func place(op string, mem []byte, size int) (unsafe.Pointer, error) {
	if len(mem) < size {
		return nil, errs.Syscall(op, errs.Invalid("%d bytes, want at least %d", len(mem), size))
	}
	p := unsafe.Pointer(unsafe.SliceData(mem))
	if uintptr(p)%Align != 0 {
		return nil, errs.Syscall(op, errs.Invalid("address %#x is not %d-byte aligned", uintptr(p), Align))
	}
	if err := sharedWritable(uintptr(p), size); err != nil {
		return nil, errs.Syscall(op, err)
	}
	return p, nil
}

// Lock waits until the calling goroutine holds m, or ctx is done; the
// goroutine then stays on its OS thread until Unlock. It returns nil, or an
// error matching ErrOwnerDead with the lock held (repair, then Consistent),
// or ErrNotRecoverable, os.ErrDeadlineExceeded for a passed deadline,
// ctx.Err() when cancelled. With a context that can end, it sleeps on the
// lock's futex until the lock changes hands or ctx ends (see the package
// documentation); the waiting goroutine holds an OS thread all along, as
// every blocking pthread call does.
func (m *Mutex) Lock(ctx context.Context) error {
	if ctx == nil && m != nil && m.m != nil {
		return errs.Syscall("pthread_mutex_lock", errs.NilContext())
	}
	var cancelled error
	err := m.lock("pthread_mutex_lock", func() syscall.Errno {
		if ctx.Done() == nil {
			return mutexLock(m.m, -1)
		}
		if mutexPI(m.m) {
			// A priority-inheritance mutex (which C may have made) hands
			// itself on in the kernel to FUTEX_LOCK_PI waiters only: wait
			// in glibc's calls, in slices.
			for {
				wait, ok := slice(ctx)
				if !ok {
					cancelled = ended(ctx)
					return syscall.ETIMEDOUT
				}
				if e := mutexLock(m.m, wait); e != syscall.ETIMEDOUT {
					return e
				}
			}
		}
		word, waited := m.word(), false
		for {
			// Take it if it is free (or its owner died): glibc does the
			// taking, and the robust list with it.
			if e := mutexLock(m.m, 0); e != syscall.ETIMEDOUT {
				if waited && (e == 0 || e == syscall.EOWNERDEAD) {
					// Taking it cleared the waiters bit of the others
					// asleep, if any: set it again, so that Unlock wakes
					// one, as glibc's lock does after a wait.
					word.Or(futexWaiters)
				}
				return e
			}
			// Sleep on the lock word as glibc's waiters do (the bit tells
			// the holder's unlock, or the kernel when the holder dies, to
			// wake one), but in a futex wait that the end of ctx
			// interrupts: glibc's own waits retry EINTR.
			v := word.Load()
			if v&futexTIDMask == 0 { // free, or its holder died since: take it
				continue
			}
			if v&futexWaiters == 0 && !word.CompareAndSwap(v, v|futexWaiters) {
				continue
			}
			waited = true
			if err := blocking.Call(ctx, func(timeout time.Duration) error { return futexWait(word, v|futexWaiters, timeout) }); err != nil {
				cancelled = err
				return syscall.ETIMEDOUT
			}
		}
	})
	if cancelled != nil {
		return cancelled
	}
	return err
}

// futexWaiters is glibc's FUTEX_WAITERS bit of a mutex's lock word: some
// thread sleeps, or is about to, waiting for the lock.
const futexWaiters = 1 << 31

// futexTIDMask is the holder's thread id in the lock word; the bit between
// is FUTEX_OWNER_DIED, which the kernel sets in a word it empties of a dead
// holder: such a lock is free, and no one will wake a waiter for it.
const futexTIDMask = 1<<30 - 1

const futexWaitOp = 0 // FUTEX_WAIT, from linux/futex.h

// word is the mutex's lock word, the futex its waiters sleep on.
func (m *Mutex) word() *atomic.Uint32 { return (*atomic.Uint32)(unsafe.Pointer(mutexWord(m.m))) }

// futexWait sleeps while *word is val (FUTEX_WAIT on a shared futex), for
// at most timeout: nil when woken, when the word changed, or after an hour
// with blocking.NoTimeout (a wait needs a timeout to fail with EINTR when a
// signal comes: without one, the kernel restarts it); errs.ErrTimeout when
// timeout passed; EINTR when a signal came.
func futexWait(word *atomic.Uint32, val uint32, timeout time.Duration) error {
	limit := timeout
	if timeout == blocking.NoTimeout {
		limit = time.Hour
	}
	ts := unix.NsecToTimespec(int64(limit))
	_, _, e := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(word)), futexWaitOp, uintptr(val),
		uintptr(unsafe.Pointer(&ts)), 0, 0)
	switch {
	case e == syscall.ETIMEDOUT && timeout != blocking.NoTimeout:
		return errs.ErrTimeout
	case e == syscall.EINTR:
		return e
	}
	return nil
}

// slice returns how long the next wait of a call with a cancellable ctx may
// last: cancelSlice, or less before ctx's deadline. ok is false once ctx is
// done or its deadline passed.
func slice(ctx context.Context) (wait time.Duration, ok bool) {
	if ctx.Err() != nil {
		return 0, false
	}
	wait = cancelSlice
	if d, has := ctx.Deadline(); has {
		if wait = min(wait, time.Until(d)); wait <= 0 {
			return 0, false
		}
	}
	return wait, true
}

// ended is the error of a call whose ctx slice found done: the context's, or
// a timeout when the deadline passed before the context saw it.
func ended(ctx context.Context) error {
	if err := errs.FromContext(ctx); err != nil {
		return err
	}
	return errs.ErrTimeout
}

// TryLock locks m if no one holds it, without waiting. It returns nil or an
// error matching ErrOwnerDead when the goroutine now holds the lock (and is
// on its thread until Unlock), an error matching syscall.EBUSY when someone
// else holds it.
func (m *Mutex) TryLock() error {
	// A lock with a deadline already past, not pthread_mutex_trylock: glibc
	// 2.36's trylock of an unrecoverable mutex returns ENOTRECOVERABLE but
	// leaves the mutex locked by the caller, and everyone else waiting.
	return m.lock("pthread_mutex_trylock", func() syscall.Errno {
		if e := mutexLock(m.m, 0); e != syscall.ETIMEDOUT {
			return e
		}
		return syscall.EBUSY
	})
}

// lock runs acquire on the calling goroutine's locked thread and keeps the
// thread locked when the mutex was acquired (also with EOWNERDEAD).
func (m *Mutex) lock(op string, acquire func() syscall.Errno) error {
	if m == nil || m.m == nil {
		return errs.NotMade(op, "shmsync.Mutex", "NewMutex or MutexAt")
	}
	runtime.LockOSThread()
	e := acquire()
	if e != 0 && e != syscall.EOWNERDEAD {
		runtime.UnlockOSThread()
	}
	if e == syscall.EDEADLK {
		return errs.Syscall(op, errs.Hint(e, "this goroutine holds the lock already"))
	}
	return errs.Syscall(op, errno(e))
}

// Holding reports whether the calling goroutine holds m.
func (m *Mutex) Holding() bool {
	if m == nil || m.m == nil {
		return false
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return mutexHolding(m.m)
}

// Unlock releases m, which the calling goroutine must hold, and unlocks the
// goroutine from its thread. From another goroutine it fails with an error
// matching syscall.EPERM and changes nothing. Unlocking after ErrOwnerDead
// without Consistent makes the mutex unusable (ErrNotRecoverable).
func (m *Mutex) Unlock() error {
	if m == nil || m.m == nil {
		return errs.NotMade("pthread_mutex_unlock", "shmsync.Mutex", "NewMutex or MutexAt")
	}
	// The holder is locked to its thread: any other goroutine runs on
	// another, which mutexUnlock turns away.
	if e := mutexUnlock(m.m); e != 0 {
		return errs.Syscall("pthread_mutex_unlock", notHolder(e))
	}
	runtime.UnlockOSThread()
	return nil
}

// Consistent marks m consistent again after Lock returned ErrOwnerDead and
// the caller repaired the data the lock protects. Only the holder may call
// it; otherwise it fails with an error matching syscall.EPERM, and on a
// mutex whose owner did not die with syscall.EINVAL.
func (m *Mutex) Consistent() error {
	if m == nil || m.m == nil {
		return errs.NotMade("pthread_mutex_consistent", "shmsync.Mutex", "NewMutex or MutexAt")
	}
	e := mutexConsistent(m.m)
	if e == syscall.EINVAL {
		return errs.Syscall("pthread_mutex_consistent", errs.Hint(e, "the lock is consistent: its owner did not die (Consistent follows ErrOwnerDead)"))
	}
	return errs.Syscall("pthread_mutex_consistent", notHolder(e))
}

// notHolder explains EPERM; other results pass as they are.
func notHolder(e syscall.Errno) error {
	if e == syscall.EPERM {
		return errs.Hint(e, "this goroutine does not hold the lock")
	}
	return errno(e)
}

// errno turns a pthread result into an error: nil for 0.
func errno(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}
