package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"time"

	"github.com/goipc/ipc/internal/cli"
	"github.com/goipc/ipc/internal/errs"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

const defaultFIFO = "/tmp/named_pipe"

func init() {
	group := &cobra.Command{
		Use:   "fifo",
		Short: "Pass a message through a named pipe (FIFO)",
		Long: `A FIFO is a pipe with a name in the filesystem, so unrelated processes can
open it. As in the walk-through, opening blocks until the other side opens too:
send waits for a reader, recv waits for a writer, then reads until the writer
closes. Either side creates the FIFO when PATH (default ` + defaultFIFO + `) is
missing, and refuses a PATH that is something else. The FIFO stays until rm.`,
	}
	mode := modeValue(0o600)
	var sendWait, recvWait *waitFlags
	var in *payload
	var asJSON bool

	send := &cobra.Command{
		Use:   "send [PATH] MSG",
		Short: "Write MSG into the FIFO, waiting for a reader to open it",
		RunE: func(cmd *cobra.Command, a []string) error {
			a, msg, err := in.split(a)
			if err != nil {
				return err
			}
			path := optionalPath(a, defaultFIFO)
			f, err := openFIFO(path, os.O_WRONLY, fs.FileMode(mode), sendWait, "reader")
			if err != nil {
				return err
			}
			defer f.Close()
			if _, err := f.Write(msg); err != nil {
				return fileErr("write", path, err)
			}
			return fileErr("close", path, f.Close())
		},
	}
	recv := &cobra.Command{
		Use:   "recv [PATH]",
		Short: "Print what a writer puts into the FIFO, waiting for one to open it",
		Args:  cli.Args(cobra.RangeArgs(0, 1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			path := optionalPath(a, defaultFIFO)
			if err := checkStdout(); err != nil {
				return err
			}
			f, err := openFIFO(path, os.O_RDONLY, fs.FileMode(mode), recvWait, "writer")
			if err != nil {
				return err
			}
			defer f.Close()
			return streamPayload(cmd.OutOrStdout(), f, asJSON, map[string]any{"path": path}, func(err error) error {
				return fileErr("read", path, err)
			})
		},
	}
	for _, c := range []*cobra.Command{send, recv} {
		c.Flags().Var(&mode, "mode", "permission bits of a FIFO this creates, whatever the umask")
	}
	sendWait = addWait(send, "give up waiting for a reader, or for room, after this long", "")
	recvWait = addWait(recv, "give up waiting for a writer, or for its data, after this long", "")
	foreignFlag(send)
	in = payloadFlag(send, 0, 1)
	jsonFlag(recv, &asJSON)
	group.AddCommand(send, recv)
	namedVerbs(group, fs.ModeNamedPipe, defaultFIFO)
	rootCmd.AddCommand(group)

	addDemo("fifo", func(d *demo) demoPlan {
		path := d.tempPath("")
		msg := "hello through a FIFO"
		return demoPlan{
			message:  msg,
			receiver: []string{"fifo", "recv", path},
			sender:   func(int) []string { return []string{"fifo", "send", path, msg} },
			ready:    true,
		}
	})
}

// openFIFO creates the FIFO at path if it is missing, tells a waiting demo it
// is ready, and opens it, which waits until a peer opens the other end, as
// long as w allows; the file it returns keeps w's deadline. It refuses what is
// not a FIFO, and a link or a FIFO that guardPath refuses.
func openFIFO(path string, flag int, mode fs.FileMode, w *waitFlags, peer string) (*os.File, error) {
	if err := guardDirs("open", path); err != nil { // before mkfifo makes anything there
		return nil, err
	}
	switch err := unix.Mkfifo(path, uint32(mode)); {
	case err == nil:
		if err := os.Chmod(path, mode); err != nil { // mkfifo applies the umask
			return nil, errs.Path("chmod", path, errors.Unwrap(err))
		}
	case err != syscall.EEXIST:
		return nil, errs.Path("mkfifo", path, err)
	}
	fi, err := guardPath("open", path, flag != os.O_RDONLY)
	if err == nil && fi == nil {
		err = errs.Path("open", path, syscall.ENOENT) // removed since mkfifo
	}
	if err != nil {
		return nil, err
	}
	if fi.Mode()&fs.ModeSymlink == 0 {
		flag |= syscall.O_NOFOLLOW // the entry checked is the one opened
	} else if fi, err = os.Stat(path); err != nil {
		return nil, errs.Path("open", path, errors.Unwrap(err))
	}
	if fi.Mode().Type() != fs.ModeNamedPipe {
		return nil, errs.Path("open", path, fmt.Errorf("not a FIFO (it is a %s): ipc fifo reads and writes only FIFOs", cli.FileKind(fi.Mode())))
	}
	if w.noWait() {
		return openFIFONow(path, flag, peer)
	}
	notifyReady("a %s to open %s", peer, path)

	// open(2) of a FIFO sleeps in the kernel and cannot be interrupted from Go.
	// On timeout the goroutine is left blocked; the command exits right after.
	type opened struct {
		f   *os.File
		err error
	}
	done := make(chan opened, 1)
	go func() {
		f, err := os.OpenFile(path, flag, 0)
		done <- opened{f, err}
	}()
	var expired <-chan time.Time
	end := w.deadline()
	if !end.IsZero() {
		t := time.NewTimer(time.Until(end))
		defer t.Stop()
		expired = t.C
	}
	select {
	case o := <-done:
		if o.err != nil {
			return nil, o.err
		}
		o.f.SetDeadline(end)
		return o.f, nil
	case <-expired:
		return nil, errs.Path("open", path, errs.Hint(errs.ErrTimeout, "no %s opened the FIFO in time", peer))
	}
}

// openFIFONow opens the FIFO without waiting for the peer: a writer finds no
// reader at once (ENXIO), a reader checks that a writer has put data in.
func openFIFONow(path string, flag int, peer string) (*os.File, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ENXIO) {
		return nil, nothingYet("open", path, "no "+peer+" has the FIFO open")
	}
	if err != nil {
		return nil, err
	}
	if flag&(os.O_WRONLY|os.O_RDWR) == 0 {
		if ready, err := readyNow(f); err != nil || !ready {
			f.Close()
			if err == nil {
				err = nothingYet("read", path, "no "+peer+" has put data in the FIFO")
			}
			return nil, err
		}
	}
	return f, nil
}
