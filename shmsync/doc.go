// Package shmsync puts locks and condition variables in shared memory: a
// robust, process-shared pthread mutex and a process-shared pthread condition
// variable, laid out exactly as C's pthread_mutex_t and pthread_cond_t, so a
// Go process and C processes (or Python through ctypes) lock the same bytes.
//
// # What it maps to
//
//   - NewMutex: pthread_mutex_init with PTHREAD_PROCESS_SHARED,
//     PTHREAD_MUTEX_ROBUST and PTHREAD_MUTEX_ERRORCHECK. MutexAt uses a mutex
//     that another process initialised (robust and process-shared; any type).
//   - Lock: pthread_mutex_lock, or when the context can end
//     pthread_mutex_clocklock (CLOCK_MONOTONIC, a deadline already past) to
//     take a free lock and FUTEX_WAIT on its lock word while it is taken. TryLock: clocklock with a deadline already
//     past (glibc 2.36's pthread_mutex_trylock of an unrecoverable mutex
//     leaves it locked). Unlock, Consistent: pthread_mutex_unlock,
//     pthread_mutex_consistent.
//   - NewCond: pthread_cond_init with PTHREAD_PROCESS_SHARED; CondAt uses
//     one that another process initialised (process-shared). Wait:
//     pthread_cond_wait or pthread_cond_clockwait. Signal, Broadcast:
//     pthread_cond_signal, pthread_cond_broadcast.
//
// The memory can be any shared mapping: package mmap's Shared memory (a memfd)
// or a mapped file, POSIX or System V shared memory, mapped read-write. It
// must not be Go memory, which other processes cannot see and the garbage
// collector may free: NewMutex, MutexAt, NewCond and CondAt refuse memory
// that /proc/self/maps shows private (Go memory among it) or not writable
// (which C would write only to die of SIGSEGV), with an error matching
// syscall.EINVAL. The mutex and the condition variable take MutexSize and CondSize bytes at an
// 8-byte boundary; they live as long as the memory and need no destruction.
// The handles keep the slice they were given and are valid while its mapping
// is: after the memory is unmapped, using them crashes the program.
//
// # Threads and goroutines
//
// A pthread mutex belongs to the OS thread that locked it, and the kernel
// marks it "owner died" when that thread ends. Lock and TryLock therefore
// lock the calling goroutine to its thread (runtime.LockOSThread) until
// Unlock, so that the goroutine that locked is, for its whole critical
// section, the thread that holds the lock. Consequently:
//
//   - Unlock, Consistent and Cond.Wait from a goroutine that does not hold the
//     mutex fail with an error matching syscall.EPERM and change nothing.
//   - A second Lock by the holding goroutine fails with syscall.EDEADLK
//     instead of deadlocking.
//   - A goroutine that returns while holding the lock ends its thread (the
//     runtime ends the thread of a goroutine that exits locked to it), and the
//     next Lock returns ErrOwnerDead, as when a process dies holding it;
//     except on the process's main thread, which the runtime never ends but
//     parks for good: the lock then stays held until the process exits.
//     Which goroutine runs there is the scheduler's choice: any may, while
//     the main goroutine waits. A program that counts on ErrOwnerDead for
//     such goroutines keeps them off it by locking the main goroutine to
//     the main thread (func init() { runtime.LockOSThread() } in package
//     main). Unlock before returning.
//   - A goroutine waiting in Lock or Wait holds an OS thread, as any blocking
//     pthread call does: a thousand goroutines waiting for one lock are a
//     thousand threads. Serialise a process's goroutines with a sync.Mutex
//     first where that matters (package ring does).
//
// # Dead holders
//
// When the holder dies, the next Lock (or TryLock, or Wait as it takes the
// mutex back) returns an error matching ErrOwnerDead, with the lock held.
// The caller repairs what the dead holder may have left half done, then calls
// Consistent and goes on. Unlocking without Consistent makes the mutex
// unrecoverable: every later Lock fails with ErrNotRecoverable until some
// process initialises it again, and a Wait that was waiting meanwhile returns
// ErrNotRecoverable without the mutex (and releases the goroutine's thread).
// This is POSIX's robust mutex, and a C holder and a Go holder die alike.
//
// # Cancellation
//
// glibc's pthread waits retry EINTR, so no signal can interrupt them. A Lock
// whose context can end takes the mutex with glibc when it is free, and
// otherwise sleeps on the mutex's lock word itself, as glibc's waiters do
// (it sets the FUTEX_WAITERS bit, so that the holder's unlock, or the kernel
// when the holder dies, wakes it), in a futex wait that the end of the
// context interrupts (package internal/blocking signals the thread); once it
// has the lock it sets the bit again, as glibc does after a wait, so that no
// other sleeper is forgotten. It wakes only when the lock changes hands or the
// context ends. (A priority-inheritance mutex, which C can make, is handed on
// by the kernel to its own kind of waiter only: Lock waits for one in glibc's
// calls, in slices of 10ms.) A Wait whose context can end still waits in slices of at most
// 10ms and looks at the context between them: the thread sleeps on a futex
// inside glibc's condition variable (a group's signal count, in a protocol
// glibc rewrote in 2.25 and keeps private), and waking it from outside would
// take writing that protocol too. A context that cannot end (such as
// context.Background) waits in one glibc call. Deadlines return errors
// matching os.ErrDeadlineExceeded, cancellation ctx.Err(). Wait, like
// pthread_cond_wait, may return nil without a signal (at the end of a slice,
// too): call it in a loop that checks the condition.
//
// # Limits
//
// The layout is the C library's: Go and C share a mutex only when they use
// the same libc (glibc here). A condition variable has no robust form in
// POSIX: a waiter killed inside Wait may take a later Signal with it, while
// Broadcast still wakes every live waiter.
package shmsync
