package blocking_test

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/goipc/ipc/internal/blocking"
	"github.com/goipc/ipc/internal/testutil"
)

// pause blocks in the kernel until a signal handler runs, then fails with
// EINTR: the behaviour of msgrcv and semop that Call exists for.
func pause(time.Duration) error { return unix.Pause() }

func TestCancelWakesBlockedCall(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- blocking.Call(ctx, pause) }()
	testutil.WaitInKernel(t, 1, "__do_sys_pause") // so cancel must interrupt a blocked call
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Call returned %v, want context.Canceled", err)
		}
		if d := time.Since(start); d > 100*time.Millisecond {
			t.Errorf("Call returned %v after cancel, want well under 100ms", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Call still blocked 5s after cancel")
	}
}

func TestDeadlineIsTimeout(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	var got time.Duration
	err := blocking.Call(ctx, func(timeout time.Duration) error {
		got = timeout
		return unix.Pause()
	})
	if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Call returned %v, want a timeout matching os.ErrDeadlineExceeded and context.DeadlineExceeded", err)
	}
	if got <= 0 || got > 20*time.Millisecond {
		t.Errorf("call got timeout %v, want the time left (0, 20ms]", got)
	}
}

// A signal storm (os/signal handlers run on any thread) must never surface
// as EINTR: each interrupted call is retried with the time left.
func TestSignalStormRetried(t *testing.T) {
	testutil.SignalStorm(t, 0)
	calls, eintrs := 0, 0
	err := blocking.Call(context.Background(), func(time.Duration) error {
		calls++
		if calls < 50 {
			// sleep in the kernel; a signal makes it EINTR
			ts := unix.Timespec{Nsec: int64(time.Millisecond)}
			if err := unix.Nanosleep(&ts, nil); errors.Is(err, syscall.EINTR) {
				eintrs++
				return err
			}
			return syscall.EINTR // count the call as interrupted either way
		}
		return nil
	})
	if err != nil || calls != 50 {
		t.Fatalf("Call = %v after %d calls, want nil after 50", err, calls)
	}
	t.Logf("%d of 49 sleeps were interrupted by the storm", eintrs)
}

func TestOtherErrorsReturned(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := blocking.Call(ctx, func(time.Duration) error { return syscall.EIDRM }); err != syscall.EIDRM {
		t.Fatalf("Call = %v, want EIDRM", err)
	}
}
