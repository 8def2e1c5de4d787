// Package errs builds the errors that goipc returns.
//
// Every error keeps the errno it came from, so errors.Is(err, fs.ErrNotExist),
// fs.ErrExist and fs.ErrPermission work as they do for package os (syscall.Errno
// implements that mapping). Named objects get *os.PathError, objects known only
// by id get *os.SyscallError, and a failure that a system limit explains carries
// a hint naming the limit and its current value.
package errs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Path wraps err as *os.PathError{Op, Path, Err}; nil stays nil.
func Path(op, path string, err error) error {
	if err == nil {
		return nil
	}
	return &os.PathError{Op: op, Path: path, Err: err}
}

// Syscall wraps err as *os.SyscallError; nil stays nil.
func Syscall(op string, err error) error {
	if err == nil {
		return nil
	}
	return &os.SyscallError{Syscall: op, Err: err}
}

// Hinted is an error with an explanation appended to its message, for example
// "message too long (message size 9000 > kernel.msgmax 8192)". It unwraps to the
// original error, so errors.Is still sees the errno.
type Hinted struct {
	Err  error
	Hint string
}

func (e *Hinted) Error() string { return e.Err.Error() + " (" + e.Hint + ")" }
func (e *Hinted) Unwrap() error { return e.Err }

// Hint returns err with a hint appended; nil stays nil, and an empty hint
// returns err unchanged.
func Hint(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	hint := fmt.Sprintf(format, args...)
	if hint == "" {
		return err
	}
	return &Hinted{Err: err, Hint: hint}
}

// NotExist is Hint for an errno that means, in its context, that the object
// asked for does not exist (EINVAL for a System V id no object has): the error
// keeps the errno and matches fs.ErrNotExist too.
func NotExist(err error, format string, args ...any) error {
	return &notExist{Hinted{Err: err, Hint: fmt.Sprintf(format, args...)}}
}

type notExist struct{ Hinted }

func (e *notExist) Is(target error) bool { return target == fs.ErrNotExist }

// AlsoClosed returns err, the error of an object found closed, matching
// os.ErrClosed too, as this module's closed objects do (net's errors match
// net.ErrClosed only). nil stays nil.
func AlsoClosed(err error) error {
	if err == nil {
		return nil
	}
	return &alsoClosed{err}
}

type alsoClosed struct{ err error }

func (e *alsoClosed) Error() string        { return e.err.Error() }
func (e *alsoClosed) Unwrap() error        { return e.err }
func (e *alsoClosed) Is(target error) bool { return target == os.ErrClosed }

// Invalid reports bad input detected before any system call. It matches
// syscall.EINVAL (what the kernel would have said) and reads as the reason.
func Invalid(format string, args ...any) error {
	return &Hinted{Err: syscall.EINVAL, Hint: fmt.Sprintf(format, args...)}
}

// PermOnly refuses a mode with bits other than rwx for all, before the call
// that would drop them (IPC objects keep only those) or make a setuid file.
// It names the mode in octal too: %v shows no trace of C's 04000.
func PermOnly(mode fs.FileMode) error {
	if mode&^fs.ModePerm != 0 {
		return Invalid("mode %#o (%v) has bits other than permissions (0777)", uint32(mode), mode)
	}
	return nil
}

// NilContext is the error for a nil context.Context, which the context
// package forbids: a clear EINVAL rather than a nil dereference.
func NilContext() error {
	return Invalid("nil context.Context; pass context.Background() for none")
}

// Expired is the error of a call whose time ran out. When ctx's deadline is
// the one that passed, ctx's timer ends ctx any moment now, and only then
// is its cause known (context.WithTimeoutCause): Expired waits for that and
// returns FromContext(ctx). For another deadline (a queue's own) it returns
// ErrTimeout.
func Expired(ctx context.Context) error {
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		if done := ctx.Done(); done != nil {
			<-done
			return FromContext(ctx)
		}
	}
	return ErrTimeout
}

// Closed is the error for use of an object after Close; it matches os.ErrClosed.
// An object without a path (a zero value, which counts as closed) gets
// "op: file already closed", not a PathError's "op : ...".
func Closed(op, path string) error {
	if path == "" {
		return Syscall(op, os.ErrClosed)
	}
	return Path(op, path, os.ErrClosed)
}

// NotOpen is the error for a method called on a nil or zero-value handle,
// which no Open function made (typ names it, "posix.Semaphore"). It matches
// os.ErrInvalid, as a method of a nil *os.File does.
func NotOpen(op, typ string) error { return NotMade(op, typ, "an Open function") }

// NotMade is NotOpen for a type whose makers have other names: by says
// which ("NewMutex or MutexAt").
func NotMade(op, typ, by string) error {
	return Syscall(op, &Hinted{Err: os.ErrInvalid, Hint: "nil or zero " + typ + ": not made by " + by})
}

// timeout is returned when a deadline passes. It matches both
// os.ErrDeadlineExceeded (the convention of package os and net) and
// context.DeadlineExceeded (when the deadline came from a context).
type timeout struct{}

func (timeout) Error() string   { return "i/o timeout" }
func (timeout) Timeout() bool   { return true }
func (timeout) Temporary() bool { return true }
func (timeout) Is(target error) bool {
	return target == os.ErrDeadlineExceeded || target == context.DeadlineExceeded
}

// ErrTimeout matches os.ErrDeadlineExceeded and context.DeadlineExceeded.
var ErrTimeout error = timeout{}

// FromContext turns a context's error into the error a blocking call returns:
// ErrTimeout for a passed deadline, context.Canceled otherwise. When the
// context ended with a cause (context.WithCancelCause, WithTimeoutCause), the
// error carries it too and matches both: errors.Is(err, context.Canceled) and
// errors.Is(err, cause) hold.
func FromContext(ctx context.Context) error {
	err := ctx.Err()
	if errors.Is(err, context.DeadlineExceeded) {
		err = ErrTimeout
	}
	if cause := context.Cause(ctx); cause != nil && cause != ctx.Err() {
		return &withCause{err: err, cause: cause}
	}
	return err
}

// withCause is a context's error together with the cause it ended with.
type withCause struct{ err, cause error }

func (e *withCause) Error() string   { return e.err.Error() + ": " + e.cause.Error() }
func (e *withCause) Unwrap() []error { return []error{e.err, e.cause} }

// Sysctl reads an integer kernel parameter such as "kernel/msgmax" or
// "fs/mqueue/msg_max" from /proc/sys. ok is false when it cannot be read.
func Sysctl(name string) (value int64, ok bool) {
	b, err := os.ReadFile("/proc/sys/" + name)
	if err != nil {
		return 0, false
	}
	fields := strings.Fields(string(b))
	if len(fields) == 0 {
		return 0, false
	}
	v, err := strconv.ParseInt(fields[0], 10, 64)
	return v, err == nil
}

// LimitHint explains a failure by a kernel limit: when want exceeds the limit
// read from /proc/sys/name it returns err with "what want > limit.name value"
// appended; otherwise err unchanged.
func LimitHint(err error, what string, want int64, name string) error {
	limit, ok := Sysctl(name)
	if !ok || want <= limit {
		return err
	}
	return Hint(err, "%s %d > %s %d", what, want, strings.ReplaceAll(name, "/", "."), limit) // dotted, as sysctl(8) names it
}

// FitsInMemory fails with ENOMEM, naming op and path, when n bytes exceed the
// machine's RAM and swap: asked for more, the kernel would let the OOM killer
// end other programs rather than refuse. It says nothing when sysinfo fails.
func FitsInMemory(op, path string, n int64) error {
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) != nil {
		return nil
	}
	if room := (uint64(si.Totalram) + uint64(si.Totalswap)) * uint64(si.Unit); n > 0 && uint64(n) > room {
		return Path(op, path, Hint(syscall.ENOMEM, "%d bytes > %d bytes of RAM and swap", n, room))
	}
	return nil
}
