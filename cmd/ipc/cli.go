package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"github.com/goipc/ipc/internal/cli"
	"github.com/goipc/ipc/internal/errs"
)

// Exit statuses, as ../../shared/CLI.md fixes them.
const (
	exitError   = 1
	exitTimeout = 3
	exitEmpty   = 4
)

// emptyError is a call told not to wait (--nowait or --timeout 0) that found
// nothing to take, or with full set no room for a message in it: exit status 4.
type emptyError struct {
	err  error
	full string // what was full ("queue", "ring"), for a send
	what string // what was missing, when more precise than "nothing to take"
	// timeoutOnly: the verb has no --nowait, so only --timeout 0 said so
	timeoutOnly bool
}

func (e emptyError) Error() string {
	what := e.what
	switch {
	case e.full != "":
		what = "the " + e.full + " is full"
	case what == "":
		what = "nothing to take"
	}
	reason := what + ", and --nowait (or --timeout 0) says not to wait"
	if e.timeoutOnly {
		reason = what + ", and --timeout 0 says not to wait"
	}
	var pe *os.PathError
	var se *os.SyscallError
	switch { // the errno's text, "resource temporarily unavailable", says less
	case errors.As(e.err, &pe):
		return pe.Op + " " + pe.Path + ": " + reason
	case errors.As(e.err, &se):
		return se.Syscall + ": " + reason
	}
	return reason
}
func (e emptyError) Unwrap() error { return e.err }

// restated is an errno said in the command line's words, where the errno's
// own text would mislead; it still matches the errno.
type restated struct {
	errno  syscall.Errno
	reason string
}

func (e restated) Error() string { return e.reason }
func (e restated) Unwrap() error { return e.errno }

// openMade is a sender's open of a queue or ring, which with create
// creates it: exclusively first, so that made tells whether this call made
// it (and may remove it again when the message cannot go).
func openMade[T any](create bool, open func(exclusive bool) (T, error)) (obj T, made bool, err error) {
	if obj, err = open(create); !create || !errors.Is(err, fs.ErrExist) {
		return obj, create && err == nil, err
	}
	obj, err = open(false)
	return obj, false, err
}

// nowait turns the EAGAIN of a non-blocking call into an emptyError.
func nowait(err error) error {
	if errors.Is(err, syscall.EAGAIN) {
		return emptyError{err: err}
	}
	return err
}

// nowaitFull is nowait for a send that found what (a "queue", a "ring")
// full.
func nowaitFull(err error, what string) error {
	if errors.Is(err, syscall.EAGAIN) {
		return emptyError{err: err, full: what}
	}
	return err
}

func exitCode(err error) int {
	var empty emptyError
	switch {
	case errors.As(err, &empty):
		return exitEmpty
	case errors.Is(err, os.ErrDeadlineExceeded):
		return exitTimeout
	}
	return exitError
}

// writePayload prints a received message: the bytes and one newline, or with
// asJSON one object with the data and the metadata fields in meta.
func writePayload(w io.Writer, data []byte, asJSON bool, meta map[string]any) error {
	if !asJSON {
		if _, err := w.Write(data); err != nil {
			return err
		}
		_, err := io.WriteString(w, "\n")
		return err
	}
	obj := make(map[string]any, len(meta)+1)
	for k, v := range meta {
		obj[k] = v
	}
	if utf8.Valid(data) {
		obj["data"] = string(data)
	} else {
		obj["data_b64"] = base64.StdEncoding.EncodeToString(data)
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// badInput is the usage error of a parser's errs.Invalid: its reason alone,
// "unknown kind "x" (want ...)", without the errno's "invalid argument".
func badInput(err error) error {
	var h *errs.Hinted
	if errors.As(err, &h) && errors.Is(h.Err, syscall.EINVAL) {
		msg := strings.Replace(err.Error(), h.Error(), h.Hint, 1)
		return cli.Usage(errors.New(msg))
	}
	return cli.Usage(err)
}

// checkStdout fails, before anything is taken from a queue, when stdout
// cannot take a message at all: closed, or open only for reading. (A full
// disk shows only when written to: deliver handles that.) The Go runtime puts
// /dev/null, opened read-write, on a standard descriptor that was closed when
// the program started; a shell's >/dev/null opens it write-only, a discard
// the user asked for.
func checkStdout() error {
	// From here on a write to a pipe whose reader has gone fails with EPIPE,
	// which deliver can answer, instead of the Go runtime's SIGPIPE, which
	// would end the program with the message taken. (Notify, not Ignore:
	// children do not inherit it.)
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	fl, err := unix.FcntlInt(1, unix.F_GETFL, 0)
	var out, null unix.Stat_t
	switch {
	case err != nil:
		return errs.Path("write", "stdout", errs.Hint(err, "stdout is closed; nothing was taken"))
	case fl&unix.O_ACCMODE == unix.O_RDWR && unix.Fstat(1, &out) == nil && unix.Stat("/dev/null", &null) == nil &&
		out.Mode&unix.S_IFMT == unix.S_IFCHR && out.Rdev == null.Rdev:
		return errs.Path("write", "stdout", errs.Hint(syscall.EBADF, "stdout was closed when ipc started; nothing was taken"))
	case fl&unix.O_ACCMODE == unix.O_RDONLY:
		return errs.Path("write", "stdout", errs.Hint(syscall.EBADF, "stdout is open only for reading; nothing was taken"))
	case readerGone(1):
		return errs.Path("write", "stdout", errs.Hint(syscall.EPIPE, "stdout is a pipe that no one reads any more; nothing was taken"))
	}
	return nil
}

// readerGone says whether fd is a pipe or socket whose reading end is closed:
// poll reports an error on it.
func readerGone(fd int) bool {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
	for {
		_, err := unix.Poll(fds, 0)
		if err != unix.EINTR {
			return err == nil && fds[0].Revents&unix.POLLERR != 0
		}
	}
}

// deliver prints a message taken from a queue as writePayload does. When
// stdout fails, the message must not be lost: putBack queues it again, and
// the error says so, or that putting it back failed too. where names the
// queue and the place the message gets there.
func deliver(w io.Writer, data []byte, asJSON bool, meta map[string]any, where string, putBack func() error) error {
	err := writePayload(w, data, asJSON, meta)
	if err == nil {
		return nil
	}
	return undoTake(err, putBack, "the message was put back on "+where,
		"putting the message back on "+where+" failed too, so it is lost")
}

// undoTake is the error of a write to stdout that failed after something was
// taken: undo gives it back, and the error says done, or failed and why.
func undoTake(err error, undo func() error, done, failed string) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err // "write /dev/stdout" says less than "write stdout"
	}
	werr := errs.Path("write", "stdout", err)
	if uerr := undo(); uerr != nil {
		return fmt.Errorf("%w; %s: %v", werr, failed, uerr)
	}
	return fmt.Errorf("%w; %s", werr, done)
}

// cString returns data up to its first NUL byte: what `read` prints without
// --length, the C-string convention of the walk-through's demos.
func cString(data []byte) []byte {
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return data[:i]
	}
	return data
}

// modeValue is a permission flag in octal, 0600 by default.
type modeValue uint32

func (m *modeValue) String() string { return fmt.Sprintf("%#o", uint32(*m)) }
func (m *modeValue) Type() string   { return "mode" }
func (m *modeValue) Set(v string) error {
	n, err := strconv.ParseUint(v, 8, 32)
	if err != nil || n > 0o777 {
		return fmt.Errorf("invalid mode %q (want octal permission bits such as 0600 or 644)", v)
	}
	*m = modeValue(n)
	return nil
}

// readyEnv names the descriptor a receiver writes to once it is ready for a
// sender, so that `ipc demo` synchronises on an event rather than a sleep.
const readyEnv = "IPC_READY_FD"

// notifyReady tells whoever started this process, if anyone, that the receiver
// is listening or waiting, and a person at a terminal what it waits for (a
// phrase such as "a message on /foo"); scripts see nothing on stderr.
func notifyReady(format string, args ...any) {
	if isTerminal(os.Stderr) {
		fmt.Fprintf(os.Stderr, "ipc: waiting for "+format+" (Ctrl-C to stop)\n", args...)
	}
	fd, err := strconv.Atoi(os.Getenv(readyEnv))
	if err != nil {
		return
	}
	os.Unsetenv(readyEnv)
	f := os.NewFile(uintptr(fd), "ready")
	f.Write([]byte{'\n'})
	f.Close()
}

// isTerminal says whether f is a terminal.
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
