package errs_test

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/goipc/ipc/internal/errs"
)

// A cause given to the cancel function is reported, and the error still
// matches context.Canceled, as the docs of every blocking call promise.
func TestFromContextKeepsCause(t *testing.T) {
	cause := errors.New("shutting down")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(cause)
	err := errs.FromContext(ctx)
	if !errors.Is(err, context.Canceled) || !errors.Is(err, cause) {
		t.Errorf("FromContext after cancel(cause) = %v; want it to match context.Canceled and the cause", err)
	}

	ctx, stop := context.WithTimeoutCause(context.Background(), time.Nanosecond, cause)
	defer stop()
	<-ctx.Done()
	err = errs.FromContext(ctx)
	if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, cause) {
		t.Errorf("FromContext after a deadline with a cause = %v; want it to match os.ErrDeadlineExceeded, context.DeadlineExceeded and the cause", err)
	}
}

func TestFromContextPlain(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := errs.FromContext(ctx); err != context.Canceled {
		t.Errorf("FromContext after cancel() = %v, want context.Canceled itself", err)
	}
	ctx, stop := context.WithTimeout(context.Background(), time.Nanosecond)
	defer stop()
	<-ctx.Done()
	if err := errs.FromContext(ctx); err != errs.ErrTimeout {
		t.Errorf("FromContext after a deadline = %v, want ErrTimeout", err)
	}
}

// TestAlsoClosed: the error keeps its own identity and message and matches
// os.ErrClosed besides.
func TestAlsoClosed(t *testing.T) {
	if errs.AlsoClosed(nil) != nil {
		t.Error("AlsoClosed(nil) is not nil")
	}
	err := errs.AlsoClosed(net.ErrClosed)
	if !errors.Is(err, os.ErrClosed) || !errors.Is(err, net.ErrClosed) || err.Error() != net.ErrClosed.Error() {
		t.Errorf("AlsoClosed(net.ErrClosed) = %q: matches os.ErrClosed %v, net.ErrClosed %v", err, errors.Is(err, os.ErrClosed), errors.Is(err, net.ErrClosed))
	}
}
