package blocking_test

import (
	"context"
	"errors"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/goipc/ipc/internal/blocking"
	"github.com/goipc/ipc/internal/errs"
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

// ignoreEnv makes the test binary, re-executed by inChild, ignore signals
// before it runs one test: signal.Ignore lasts for the whole process.
const ignoreEnv = "GOIPC_BLOCKING_IGNORE"

// inChild runs test name in a re-executed test binary that first ignored
// SIGURG ("SIGURG") or every signal ("all"), and fails if it fails.
func inChild(t *testing.T, name, ignore string) {
	cmd := exec.Command(os.Args[0], "-test.run=^"+name+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), ignoreEnv+"="+ignore, "GORACE=atexit_sleep_ms=0 "+os.Getenv("GORACE"))
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+name) {
		t.Fatalf("%s with %s ignored: %v\n%s", name, ignore, err, out)
	}
}

// ignoring applies the child's signal.Ignore and reports whether this is the
// child; the parent runs the test in children instead.
func ignoring(t *testing.T) bool {
	switch os.Getenv(ignoreEnv) {
	case "":
		inChild(t, t.Name(), "SIGURG")
		inChild(t, t.Name(), "all")
		return false
	case "SIGURG":
		signal.Ignore(syscall.SIGURG)
	case "all":
		signal.Ignore()
	}
	if !signal.Ignored(syscall.SIGURG) {
		t.Fatal("SIGURG is not ignored")
	}
	return true
}

// A program that ignores SIGURG (the signal that interrupts a blocked call
// by default) still has its calls cancelled, and their deadlines kept.
func TestCancelWithSIGURGIgnored(t *testing.T) {
	if !ignoring(t) {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- blocking.Call(ctx, pause) }()
	testutil.WaitInKernel(t, 1, "__do_sys_pause")
	cancel()
	if err := testutil.Recv(t, done); !errors.Is(err, context.Canceled) {
		t.Fatalf("Call returned %v, want context.Canceled", err)
	}

	ctx, stop := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer stop()
	go func() { done <- blocking.Call(ctx, pause) }()
	if err := testutil.Recv(t, done); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Call past its deadline returned %v, want os.ErrDeadlineExceeded", err)
	}

	var calls blocking.Calls
	go func() { done <- calls.Do(context.Background(), 0, pause) }()
	testutil.WaitInKernel(t, 1, "__do_sys_pause")
	calls.Close()
	if err := testutil.Recv(t, done); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Do after Close returned %v, want os.ErrClosed", err)
	}
}

// A deadline centuries away (time.Now().Add(math.MaxInt64)) is a long
// timeout: the call gets it and waits, instead of timing out at once.
func TestFarDeadlineWaits(t *testing.T) {
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(math.MaxInt64))
	defer cancel()
	const century = 100 * 365 * 24 * time.Hour
	for name, call := range map[string]func(func(time.Duration) error) error{
		"Call": func(f func(time.Duration) error) error { return blocking.Call(ctx, f) },
		"Do":   func(f func(time.Duration) error) error { return new(blocking.Calls).Do(ctx, syscall.EAGAIN, f) },
	} {
		var got []time.Duration
		err := call(func(timeout time.Duration) error {
			if got = append(got, timeout); timeout == blocking.Immediately {
				return syscall.EAGAIN // would block: Do goes on to wait
			}
			return nil
		})
		if err != nil || got[len(got)-1] < 2*century {
			t.Errorf("%s with a deadline 292 years away = %v, the call got timeouts %v; want nil after a timeout of centuries", name, err, got)
		}
	}
	now := blocking.MonotonicDeadline(0)
	if far := blocking.MonotonicDeadline(math.MaxInt64); far.Nano() <= now.Nano()+int64(2*century) {
		t.Errorf("MonotonicDeadline(MaxInt64) = %v, now %v: want the far future, not an overflow", far, now)
	}
}

// Close ends a call blocked without a context that can end, and later calls
// fail at once without reaching the system call.
func TestCallsClose(t *testing.T) {
	var calls blocking.Calls
	done := make(chan error, 2)
	for range 2 {
		go func() { done <- calls.Do(context.Background(), 0, pause) }()
	}
	testutil.WaitInKernel(t, 2, "__do_sys_pause")
	calls.Close()
	for range 2 {
		if err := testutil.Recv(t, done); !errors.Is(err, os.ErrClosed) {
			t.Fatalf("blocked Do after Close returned %v, want os.ErrClosed", err)
		}
	}
	reached := false
	err := calls.Do(context.Background(), 0, func(time.Duration) error { reached = true; return nil })
	if !errors.Is(err, os.ErrClosed) || reached {
		t.Fatalf("Do after Close = %v (call reached: %v), want os.ErrClosed without the call", err, reached)
	}
	calls.Close() // twice is fine
}

// When the call can proceed at once, Do with a context that can end neither
// allocates nor waits: its first attempt, which must not block, succeeds.
func TestDoFastPath(t *testing.T) {
	var calls blocking.Calls
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	var timeouts []time.Duration
	call := func(timeout time.Duration) error {
		if len(timeouts) < cap(timeouts) {
			timeouts = append(timeouts, timeout)
		}
		return nil
	}
	timeouts = make([]time.Duration, 0, 1)
	if allocs := testing.AllocsPerRun(100, func() {
		if err := calls.Do(ctx, syscall.EAGAIN, call); err != nil {
			t.Fatal(err)
		}
	}); allocs != 0 {
		t.Errorf("Do of a call that proceeds at once allocates %v times, want 0", allocs)
	}
	if timeouts[0] != blocking.Immediately {
		t.Errorf("the first attempt got timeout %v, want Immediately", timeouts[0])
	}
}

// When the calls do not sleep where Syscalls says, Close still ends them,
// if later: it then interrupts every thread in a system call.
func TestCallsCloseWrongSyscalls(t *testing.T) {
	calls := blocking.Calls{Syscalls: []uintptr{unix.SYS_MSGRCV}, Arg0: 1 << 40}
	done := make(chan error, 1)
	go func() { done <- calls.Do(context.Background(), 0, pause) }()
	testutil.WaitInKernel(t, 1, "__do_sys_pause")
	calls.Close()
	if err := testutil.Recv(t, done); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("blocked Do after Close returned %v, want os.ErrClosed", err)
	}
}

// A call whose own time limit, ctx's deadline, ran out (semtimedop,
// sem_clockwait) ends with ctx's error and its cause, though ctx's timer may
// not have ended ctx yet: context.WithTimeoutCause's cause used to be lost.
func TestDeadlineKeepsCause(t *testing.T) {
	cause := errors.New("the cause")
	for range 20 {
		ctx, cancel := context.WithTimeoutCause(context.Background(), time.Millisecond, cause)
		err := blocking.Call(ctx, func(timeout time.Duration) error {
			ts := unix.NsecToTimespec(int64(timeout))
			unix.Nanosleep(&ts, nil)
			return errs.ErrTimeout
		})
		cancel()
		if !errors.Is(err, cause) || !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Call past a deadline with a cause: %v, want os.ErrDeadlineExceeded and the cause", err)
		}
	}
}
