// Package blocking runs blocking system calls that have no file descriptor to
// wait on (SysV msgrcv, msgsnd, semop and semtimedop; POSIX sem_timedwait) so
// that they honour a context and survive signals.
//
// The kernel never restarts these calls after a signal handler runs: they fail
// with EINTR. Go's runtime (preemption) and os/signal deliver signals to any
// thread, so a plain call fails spuriously. Call retries EINTR with the time left
// recomputed, and uses the same property for cancellation: when the context is
// done it sends SIGURG (the runtime's own preemption signal, harmless to Go code)
// to the thread blocked in the call, which then returns EINTR and sees the
// context. No polling happens while nothing is cancelled; each blocked call holds
// one OS thread, as any blocking cgo call does.
package blocking

import (
	"context"
	"errors"
	"os"
	"runtime"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/goipc/ipc/internal/errs"
)

// NoTimeout is the timeout passed to a call when the context has no deadline.
const NoTimeout time.Duration = -1

// Call runs call, which performs one blocking system call and returns its error,
// until it returns something other than EINTR or ctx is done. call receives the
// time left before ctx's deadline, or NoTimeout. When ctx ends first, Call returns
// errs.FromContext(ctx): an error matching os.ErrDeadlineExceeded for a passed
// deadline, ctx.Err() otherwise.
func Call(ctx context.Context, call func(timeout time.Duration) error) error {
	if ctx.Done() == nil { // cannot be cancelled: no thread to pin, nothing to allocate
		for {
			if err := call(NoTimeout); !errors.Is(err, syscall.EINTR) {
				return err
			}
		}
	}

	// The call must run on the thread the waker signals.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	w := &waker{tid: unix.Gettid(), returned: make(chan struct{}), stopped: make(chan struct{})}
	stop := context.AfterFunc(ctx, w.wake)
	defer func() {
		close(w.returned)
		if !stop() { // the waker started: wait until it stops signalling this thread
			<-w.stopped
		}
	}()

	for {
		if ctx.Err() != nil {
			return errs.FromContext(ctx)
		}
		timeout := NoTimeout
		if d, ok := ctx.Deadline(); ok {
			if timeout = time.Until(d); timeout <= 0 {
				return errs.ErrTimeout
			}
		}
		if err := call(timeout); !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// waker interrupts the thread blocked in a call once the context is done. The
// signal may land just before the thread enters the kernel and be lost, so it
// is repeated, with backoff, until the call has returned.
type waker struct {
	tid      int
	returned chan struct{} // closed when Call returns
	stopped  chan struct{} // closed when wake stops signalling
}

func (w *waker) wake() {
	defer close(w.stopped)
	pid := os.Getpid()
	for delay := 100 * time.Microsecond; ; delay = min(2*delay, 20*time.Millisecond) {
		if err := unix.Tgkill(pid, w.tid, unix.SIGURG); err != nil {
			return
		}
		t := time.NewTimer(delay)
		select {
		case <-w.returned:
			t.Stop()
			return
		case <-t.C:
		}
	}
}
