// Package blocking runs blocking system calls that have no file descriptor to
// wait on (SysV msgrcv, msgsnd, semop and semtimedop; POSIX sem_clockwait) so
// that they honour a context, can be ended by closing their object, and
// survive signals.
//
// The kernel never restarts these calls after a signal handler runs: they fail
// with EINTR. Go's runtime (preemption) and os/signal deliver signals to any
// thread, so a plain call fails spuriously. Call retries EINTR with the time left
// recomputed, and uses the same property to end a call: when its context is
// done, or Calls.Close runs, it sends a signal to the thread blocked in the
// call, which then returns EINTR and sees why. The signal is SIGURG (the
// runtime's own preemption signal, harmless to Go code) while the program
// leaves it to Go; if the program ignores it (signal.Ignore), SIGRTMAX-3,
// whose handler this package installs and which does nothing. Nothing polls
// while no call is ended; each blocked call holds one OS thread, as any
// blocking cgo call does.
//
// Calls.Do first tries the call without blocking when its context can end:
// a call that can proceed at once then locks no thread and allocates nothing.
// Calls.Close finds the threads blocked on its object from /proc (the system
// call each sleeps in and its first argument), so that no call pays to
// register its thread: being closable costs a call two atomic additions.
package blocking

import (
	"context"
	"errors"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/goipc/ipc/internal/errs"
)

const (
	// NoTimeout is the timeout passed to a call when the context has no deadline.
	NoTimeout time.Duration = -1
	// Immediately is the timeout Calls.Do passes to its first attempt: the
	// call must not block, and fails with the errno Do was given instead.
	Immediately time.Duration = 0
)

// Call runs call, which performs one blocking system call and returns its error,
// until it returns something other than EINTR or ctx is done. call receives the
// time left before ctx's deadline, or NoTimeout. When ctx ends first, Call returns
// errs.FromContext(ctx): an error matching os.ErrDeadlineExceeded for a passed
// deadline, ctx.Err() otherwise.
func Call(ctx context.Context, call func(timeout time.Duration) error) error {
	return (*Calls)(nil).Do(ctx, 0, call)
}

// Calls tracks the calls in progress on one object, so that Close can end
// them. Close finds the threads of those that are blocked by what they are
// blocked in (/proc/self/task/*/syscall): one of Syscalls, with Arg0 as its
// first argument (a System V id, say). So a call registers nothing but a
// count, and one that cannot be cancelled pins no thread: the price of
// being closable is two atomic additions. Set the fields before the first Do.
// The zero value works too: its Close interrupts every thread of the process
// that is in a system call (the calls of this package retry; others may see
// EINTR), as Close does anyway when the calls have not returned after a tenth
// of a second.
type Calls struct {
	Syscalls []uintptr // the system calls (unix.SYS_MSGRCV...) the calls block in
	Arg0     uintptr   // their first argument, the object's id or address

	closed   atomic.Bool
	inflight atomic.Int64  // calls inside Do
	mu       sync.Mutex    // guards drained
	drained  chan struct{} // made by Close while calls are in Do, closed when the last returns
}

// Do is Call for calls on c's object, and returns os.ErrClosed once Close has
// run, also from a call that was blocked. When wouldBlock is not 0 and ctx
// can end, call is first run with timeout Immediately and must then fail
// with wouldBlock rather than block: only then does Do lock a thread and
// arrange to be woken. A nil *Calls tracks nothing (Call uses one). A nil ctx
// is refused with errs.NilContext.
func (c *Calls) Do(ctx context.Context, wouldBlock syscall.Errno, call func(timeout time.Duration) error) error {
	if ctx == nil {
		return errs.NilContext()
	}
	if c != nil {
		// Counted before closed is read, as Close sets closed before it
		// reads the count: one of the two sees the other.
		c.inflight.Add(1)
		defer c.leave()
	}
	if c.isClosed() {
		return os.ErrClosed
	}
	if ctx.Done() == nil { // cannot be cancelled: no thread to pin, nothing to allocate
		for {
			if err := call(NoTimeout); !errors.Is(err, syscall.EINTR) {
				return err
			}
			if c.isClosed() {
				return os.ErrClosed
			}
		}
	}
	if wouldBlock != 0 {
		if _, err := timeLeft(ctx); err != nil {
			return err
		}
		if err := call(Immediately); !errors.Is(err, wouldBlock) && !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
	return c.wait(ctx, call)
}

// wait runs call where the end of ctx can interrupt it: on a locked thread
// that a waker signals.
func (c *Calls) wait(ctx context.Context, call func(timeout time.Duration) error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	w := &waker{tid: gettid(), returned: make(chan struct{}), stopped: make(chan struct{})}
	stop := context.AfterFunc(ctx, w.wake)
	defer func() {
		close(w.returned)
		if !stop() { // the waker started: wait until it stops signalling this thread
			<-w.stopped
		}
	}()
	for {
		if c.isClosed() {
			return os.ErrClosed
		}
		timeout, err := timeLeft(ctx)
		if err != nil {
			return err
		}
		switch err := call(timeout); {
		case err == errs.ErrTimeout: // the call's time, ctx's deadline, ran out
			return errs.Expired(ctx)
		case !errors.Is(err, syscall.EINTR):
			return err
		}
	}
}

// timeLeft returns the time left before ctx's deadline (NoTimeout without
// one), or the error to return when ctx is done.
func timeLeft(ctx context.Context) (time.Duration, error) {
	if ctx.Err() != nil {
		return 0, errs.FromContext(ctx)
	}
	d, ok := ctx.Deadline()
	if !ok {
		return NoTimeout, nil
	}
	// time.Until saturates: a deadline centuries away is a long timeout,
	// never a negative one.
	if left := time.Until(d); left > 0 {
		return left, nil
	}
	return 0, errs.Expired(ctx)
}

func (c *Calls) isClosed() bool { return c != nil && c.closed.Load() }

// leave records that a call returned, and tells a waiting Close when it was
// the last.
func (c *Calls) leave() {
	if c.inflight.Add(-1) == 0 && c.closed.Load() {
		c.mu.Lock()
		if c.drained != nil {
			close(c.drained)
			c.drained = nil
		}
		c.mu.Unlock()
	}
}

// Close makes every later Do return os.ErrClosed, and ends the calls blocked
// in Do, which return os.ErrClosed too. It returns once they have returned,
// which takes microseconds. It is safe to call more than once.
func (c *Calls) Close() {
	c.closed.Store(true)
	c.mu.Lock()
	if c.inflight.Load() == 0 {
		c.mu.Unlock()
		return
	}
	if c.drained == nil {
		c.drained = make(chan struct{})
	}
	drained := c.drained
	c.mu.Unlock()
	rounds := 0
	repeat(drained, func() error {
		syscalls := c.Syscalls
		if rounds++; rounds > 10 {
			// Still not drained after a tenth of a second: the calls sleep
			// where Syscalls does not say (a C library that multiplexes
			// through ipc(2), say). Interrupt every call; ours see Close.
			syscalls = nil
		}
		for _, tid := range blockedThreads(syscalls, c.Arg0) {
			interrupt(tid)
		}
		return nil
	})
}

// blockedThreads returns the threads of this process blocked in one of
// syscalls with first argument arg0 (/proc/PID/task/TID/syscall reads "NR
// ARG0 ... SP PC" while a thread is in a system call), or in any system call
// if syscalls is empty. A thread the kernel says nothing about is included:
// interrupting another call does no harm, missing ours would hang Close.
func blockedThreads(syscalls []uintptr, arg0 uintptr) []int {
	tasks, _ := os.ReadDir("/proc/self/task")
	var tids []int
	for _, task := range tasks {
		tid, err := strconv.Atoi(task.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/self/task/" + task.Name() + "/syscall")
		if err == nil && !inCall(strings.Fields(string(b)), syscalls, arg0) {
			continue
		}
		tids = append(tids, tid)
	}
	return tids
}

// inCall reports whether the fields of a thread's syscall file show it in
// one of syscalls (any, if empty) with first argument arg0. A running thread
// reads "running", one outside a system call "-1 SP PC".
func inCall(f []string, syscalls []uintptr, arg0 uintptr) bool {
	if len(f) < 2 || f[0] == "-1" {
		return false
	}
	if len(syscalls) == 0 {
		return true
	}
	nr, err1 := strconv.ParseUint(f[0], 10, 64)
	a0, err2 := strconv.ParseUint(strings.TrimPrefix(f[1], "0x"), 16, 64)
	return err1 == nil && err2 == nil && uintptr(a0) == arg0 && slices.Contains(syscalls, uintptr(nr))
}

// waker interrupts the thread blocked in a call once the context is done.
type waker struct {
	tid      int
	returned chan struct{} // closed when the call returns
	stopped  chan struct{} // closed when wake stops signalling
}

func (w *waker) wake() {
	defer close(w.stopped)
	repeat(w.returned, func() error { return interrupt(w.tid) })
}

// repeat runs signal until done is closed or signal fails, with a growing
// pause: a signal that lands just before its thread enters the kernel is lost,
// so it is sent again until the call has returned.
func repeat(done <-chan struct{}, signal func() error) {
	for delay := 100 * time.Microsecond; ; delay = min(2*delay, 20*time.Millisecond) {
		if signal() != nil {
			return
		}
		t := time.NewTimer(delay)
		select {
		case <-done:
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// MonotonicDeadline returns the CLOCK_MONOTONIC time timeout from now, as
// calls that take an absolute time want (sem_clockwait, pthread_cond_clockwait).
// It saturates at the largest time instead of overflowing: a deadline
// centuries away must wait, not time out at once.
func MonotonicDeadline(timeout time.Duration) unix.Timespec {
	var now unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &now)
	if timeout <= 0 {
		return now
	}
	if ns := now.Nano(); int64(timeout) <= math.MaxInt64-ns {
		return unix.NsecToTimespec(ns + int64(timeout))
	}
	return unix.NsecToTimespec(math.MaxInt64) // 292 years after boot: the kernel's largest time
}
