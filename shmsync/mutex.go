package shmsync

import (
	"context"
	"runtime"
	"syscall"
	"time"
	"unsafe"

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

// cancelSlice bounds each wait of a Lock or Wait whose context can be
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
// held: always Unlock.
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
	return p, nil
}

// Lock waits until the calling goroutine holds m, or ctx is done; the
// goroutine then stays on its OS thread until Unlock. It returns nil, or an
// error matching ErrOwnerDead with the lock held (repair, then Consistent),
// or ErrNotRecoverable, os.ErrDeadlineExceeded for a passed deadline,
// ctx.Err() when cancelled. A context that can be cancelled is looked at
// every 10ms while the lock is held by someone else; the waiting goroutine
// holds an OS thread all along, as every blocking pthread call does.
func (m *Mutex) Lock(ctx context.Context) error {
	cancelled := false
	err := m.lock("pthread_mutex_lock", func() syscall.Errno {
		if ctx.Done() == nil {
			return mutexLock(m.m, -1)
		}
		for {
			wait, ok := slice(ctx)
			if !ok {
				cancelled = true
				return syscall.ETIMEDOUT
			}
			if e := mutexLock(m.m, wait); e != syscall.ETIMEDOUT {
				return e
			}
		}
	})
	if cancelled {
		return ended(ctx)
	}
	return err
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
		return errs.NotOpen(op, "shmsync.Mutex")
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
		return errs.NotOpen("pthread_mutex_unlock", "shmsync.Mutex")
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
		return errs.NotOpen("pthread_mutex_consistent", "shmsync.Mutex")
	}
	return errs.Syscall("pthread_mutex_consistent", notHolder(mutexConsistent(m.m)))
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
