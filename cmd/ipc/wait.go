package main

// The one rule of every verb that may block: no --timeout waits as long as
// it takes; --timeout D gives up after D (exit 3); --timeout 0, like --nowait,
// does not wait at all and exits 4 when there is nothing to take yet.

import (
	"context"
	"syscall"
	"time"

	"github.com/goipc/ipc/internal/cli"
	"github.com/goipc/ipc/internal/errs"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

// waitFlags are --timeout (or file recv's --wait) and, where the verb has it,
// --nowait, of one command.
type waitFlags struct {
	cmd     *cobra.Command
	name    string // "timeout" or "wait"
	timeout time.Duration
	nowait  bool
}

// addWait adds --timeout to c with usage what, and --nowait when nowaitUsage
// is not empty. Giving both is a usage error, checked before c runs.
func addWait(c *cobra.Command, what, nowaitUsage string) *waitFlags {
	w := &waitFlags{cmd: c, name: "timeout"}
	zero := "0: do not wait (exit 4 if nothing is there)"
	if nowaitUsage != "" {
		zero = "0: the same as --nowait"
	}
	c.Flags().DurationVar(&w.timeout, w.name, 0, what+" (exit 3); "+zero+"; default: wait forever")
	if nowaitUsage != "" {
		c.Flags().BoolVar(&w.nowait, "nowait", false, nowaitUsage+"; the same as --timeout 0")
	}
	pre := c.PreRunE
	c.PreRunE = func(cmd *cobra.Command, a []string) error {
		if w.nowait && cmd.Flags().Changed(w.name) {
			return cli.Usagef("--nowait and --%s %v conflict: --nowait means do not wait at all", w.name, w.timeout)
		}
		if pre != nil {
			return pre(cmd, a)
		}
		return nil
	}
	return w
}

// addClientWait is addWait for a client, which always waits for its echo
// (clientWait refuses --timeout 0), and says so in its usage.
func addClientWait(c *cobra.Command, what string) *waitFlags {
	w := addWait(c, what, "")
	c.Flags().Lookup(w.name).Usage = what + " (exit 3); a client always waits for the echo, so not 0; default: wait forever"
	return w
}

// noWait says whether the call must not wait: --nowait or --timeout 0.
func (w *waitFlags) noWait() bool {
	return w.nowait || (w.cmd.Flags().Changed(w.name) && w.timeout == 0)
}

// deadline is when waiting ends; zero when it never does (or must not start:
// see noWait).
func (w *waitFlags) deadline() time.Time {
	if w.timeout <= 0 {
		return time.Time{}
	}
	return time.Now().Add(w.timeout)
}

// context bounds a blocking call by the deadline.
func (w *waitFlags) context() (context.Context, context.CancelFunc) {
	if end := w.deadline(); !end.IsZero() {
		return context.WithDeadline(context.Background(), end)
	}
	return context.Background(), func() {}
}

// readyNow says whether c (a listener, a socket, a signalfd, a FIFO) has
// something to take at once: what a verb that must not wait checks before the
// call that would wait.
func readyNow(c syscall.Conn) (bool, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return false, err
	}
	var revents int16
	var perr error
	if err := rc.Control(func(fd uintptr) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		for {
			if _, perr = unix.Poll(fds, 0); perr != unix.EINTR {
				break
			}
		}
		revents = fds[0].Revents
	}); err != nil {
		return false, err
	}
	return revents&unix.POLLIN != 0, errs.Syscall("poll", perr)
}

// nothingYet is the exit-4 error of a verb without --nowait that was told
// not to wait (--timeout 0) and finds nothing: op on object, and what it
// lacked.
func nothingYet(op, object, what string) error {
	return emptyError{err: errs.Path(op, object, syscall.EAGAIN), what: what, timeoutOnly: true}
}
