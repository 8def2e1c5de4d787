package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
	"unsafe"

	"github.com/goipc/ipc/internal/cli"
	"github.com/goipc/ipc/internal/errs"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

const defaultFile = "/tmp/shared_file"

func init() {
	group := &cobra.Command{
		Use:   "file",
		Short: "Pass a message through a regular file, replaced atomically",
		Long: `The simplest exchange of the walk-through: the sender writes a file, the
receiver reads it. send writes a temporary file in the same directory and
renames it over PATH, so a reader sees the old message or the new one, never
half of one. PATH defaults to ` + defaultFile + `.`,
	}

	mode := modeValue(0o600)
	var in *payload
	send := &cobra.Command{
		Use:   "send [PATH] MSG",
		Short: "Write MSG to PATH atomically (temporary file + rename)",
		RunE: func(cmd *cobra.Command, a []string) error {
			a, msg, err := in.split(a)
			if err != nil {
				return err
			}
			path := optionalPath(a, defaultFile)
			fi, err := guardPath("write", path, true)
			if err != nil {
				return err
			}
			// The rename would replace whatever is there: a FIFO, a socket,
			// /dev/null itself. A symbolic link is replaced, not followed.
			if fi != nil && fi.IsDir() { // "/" too, whose name CreateTemp cannot take
				return errs.Path("write", path, syscall.EISDIR)
			}
			if fi != nil && fi.Mode().Type()&^fs.ModeSymlink != 0 {
				return errs.Path("write", path, fmt.Errorf("not a regular file (it is a %s): file send replaces regular files (ipc fifo send writes FIFOs)", cli.FileKind(fi.Mode())))
			}
			return writeAtomic(path, msg, fs.FileMode(mode))
		},
	}
	send.Flags().Var(&mode, "mode", "permission bits of the file, whatever the umask")
	foreignFlag(send)
	in = payloadFlag(send, 0, 1)

	var wait time.Duration
	var asJSON bool
	recv := &cobra.Command{
		Use:   "recv [PATH]",
		Short: "Print the contents of PATH, waiting up to --wait for it to appear",
		Args:  cli.Args(cobra.RangeArgs(0, 1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			path := optionalPath(a, defaultFile)
			f, err := openRegular("open", path)
			if errors.Is(err, fs.ErrNotExist) && wait > 0 {
				f, err = waitForFile(path, wait)
			}
			if err != nil {
				return err
			}
			defer f.Close()
			return streamPayload(cmd.OutOrStdout(), f, asJSON, map[string]any{"path": path}, func(err error) error {
				return fileErr("read", path, err)
			})
		},
	}
	jsonFlag(recv, &asJSON)
	recv.Flags().DurationVar(&wait, "wait", 0, "wait this long for a missing file to be written (exit 3 when it is not)")

	group.AddCommand(send, recv)
	namedVerbs(group, 0, defaultFile)
	rootCmd.AddCommand(group)

	addDemo("file", func(d *demo) demoPlan {
		path := d.tempPath("")
		d.cleanup(func() {
			// A sender interrupted before its rename leaves its temporary file.
			tmps, _ := filepath.Glob(filepath.Join(filepath.Dir(path), tempPattern(path)))
			for _, tmp := range tmps {
				os.Remove(tmp)
			}
		})
		msg := "hello through a file"
		return demoPlan{
			message:  msg,
			receiver: []string{"file", "recv", path, "--wait", demoTimeout.String()},
			sender:   func(int) []string { return []string{"file", "send", path, msg} },
			ready:    true,
		}
	})
}

// writeAtomic replaces path with data: readers see the whole old file or the
// whole new one. The temporary file lives in path's directory, because rename
// is atomic only within one filesystem.
func writeAtomic(path string, data []byte, mode fs.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), tempPattern(path))
	if err != nil {
		return errs.Path("create", path, errors.Unwrap(err))
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(mode) // CreateTemp's 0600 is subject to the umask
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		err = errors.Unwrap(err)
		if fi, serr := os.Stat(path); errors.Is(err, fs.ErrExist) && serr == nil && fi.IsDir() {
			err = syscall.EISDIR // what os.Rename reports as EEXIST
		}
		return errs.Path("write", path, err)
	}
	return nil
}

// openRegular opens path for reading, refusing anything but a regular file:
// recv reads a message that has an end, never a FIFO or a device, which could
// block the open or never end.
func openRegular(op, path string) (*os.File, error) {
	f, _, err := openGuarded(op, path, os.O_RDONLY, 0, 0, "file recv reads regular files (ipc fifo recv reads FIFOs)")
	return f, err
}

// tempPattern names writeAtomic's temporary files for path: hidden, beside
// it, and short enough for NAME_MAX whatever the length of path's own name
// (CreateTemp puts up to 20 digits in place of the *).
func tempPattern(path string) string {
	const room = unix.NAME_MAX - len("..") - 20 - len(".tmp")
	base := filepath.Base(path)
	if len(base) > room {
		base = base[:room]
	}
	return "." + base + ".*.tmp"
}

// waitForFile waits until path is complete, at most d, and returns it open. An inotify watch on the directory wakes it when a file is renamed
// into place or closed after writing, so it never polls; a writer that does
// not use rename is read once it closes the file.
func waitForFile(path string, d time.Duration) (*os.File, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, errs.Syscall("inotify_init1", err)
	}
	events := os.NewFile(uintptr(fd), "inotify") // non-blocking: the runtime poller waits
	defer events.Close()
	if _, err := unix.InotifyAddWatch(fd, filepath.Dir(path), unix.IN_MOVED_TO|unix.IN_CLOSE_WRITE|unix.IN_ONLYDIR); err != nil {
		return nil, errs.Path("wait", path, err)
	}
	events.SetReadDeadline(time.Now().Add(d))
	notifyReady("%s to be written", path)
	name := []byte(filepath.Base(path))
	buf := make([]byte, 64*(unix.SizeofInotifyEvent+unix.NAME_MAX+1))
	for {
		// Checked after the watch exists, so a file written meanwhile is seen.
		f, err := openRegular("open", path)
		if !errors.Is(err, fs.ErrNotExist) {
			return f, err
		}
		for seen := false; !seen; {
			n, err := events.Read(buf)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return nil, errs.Path("wait", path, errs.Hint(errs.ErrTimeout, "nothing written there within %v", d))
			}
			if err != nil {
				return nil, errs.Path("wait", path, err)
			}
			for b := buf[:n]; len(b) >= unix.SizeofInotifyEvent; {
				ev := (*unix.InotifyEvent)(unsafe.Pointer(&b[0]))
				evName := b[unix.SizeofInotifyEvent : unix.SizeofInotifyEvent+int(ev.Len)]
				seen = seen || bytes.Equal(bytes.TrimRight(evName, "\x00"), name)
				b = b[unix.SizeofInotifyEvent+int(ev.Len):]
			}
		}
	}
}
