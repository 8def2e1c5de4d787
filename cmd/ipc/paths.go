package main

// Opening paths in directories that other users share. The walk-through's
// defaults live in /tmp, where anyone may create a name first: a symbolic link
// to a file of root's, or a file of their own that root then writes through.
// Linux refuses both itself when fs.protected_symlinks and fs.protected_regular
// are set; these checks apply the same rules when they are not.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/goipc/ipc/internal/cli"
	"github.com/goipc/ipc/internal/errs"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

// allowForeign is --allow-foreign: write through a file that another user
// owns in a sticky, world-writable directory.
var allowForeign bool

// foreignFlag adds --allow-foreign to a command that writes to a path.
func foreignFlag(c *cobra.Command) {
	c.Flags().BoolVar(&allowForeign, "allow-foreign", false,
		"write even to a file another user owns in a sticky, world-writable directory such as /tmp")
}

// guardPath lstats path and refuses what protected_symlinks and
// protected_regular refuse where the directory is sticky and world-writable:
// following a symbolic link whose owner is neither the caller nor the
// directory's owner, and, when writing, opening a file of such an owner
// (unless --allow-foreign). It returns the entry's FileInfo, nil when path is
// missing. An entry the caller or the directory's owner owns cannot be
// replaced by anyone else there, so what is checked is what is opened.
func guardPath(op, path string, writing bool) (fs.FileInfo, error) {
	if err := guardDirs(op, path); err != nil {
		return nil, err
	}
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, errs.Path(op, path, errors.Unwrap(err))
	}
	dir := filepath.Dir(path)
	di, err := os.Stat(dir)
	if err != nil {
		return nil, errs.Path(op, path, errors.Unwrap(err))
	}
	if di.Mode()&fs.ModeSticky == 0 || di.Mode().Perm()&0o002 == 0 {
		return fi, nil
	}
	owner, dirOwner := fi.Sys().(*syscall.Stat_t).Uid, di.Sys().(*syscall.Stat_t).Uid
	if owner == uint32(os.Geteuid()) || owner == dirOwner {
		return fi, nil
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return nil, foreignLink(op, path, owner, dir)
	case writing && !allowForeign && fi.Mode()&(fs.ModeDir|fs.ModeSocket) == 0:
		return nil, errs.Path(op, path, errs.Hint(syscall.EACCES,
			"owned by uid %d in the sticky, world-writable directory %s; --allow-foreign writes it anyway", owner, dir))
	}
	return fi, nil
}

// guardDirs applies guardPath's rule for links to the directories on the
// way to path: a link of another user's in /tmp that stands for a directory
// would lead a write anywhere just as well. (The kernel's rule is the same
// for every link it follows.)
func guardDirs(op, path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return errs.Path(op, path, errors.Unwrap(err))
	}
	for i := 1; i < len(abs); i++ {
		if abs[i] != '/' {
			continue
		}
		dir := abs[:i]
		fi, err := os.Lstat(dir)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			continue // what is missing or wrong, the open reports
		}
		parent := filepath.Dir(dir)
		pi, err := os.Stat(parent)
		if err != nil || pi.Mode()&fs.ModeSticky == 0 || pi.Mode().Perm()&0o002 == 0 {
			continue
		}
		owner := fi.Sys().(*syscall.Stat_t).Uid
		if owner != uint32(os.Geteuid()) && owner != pi.Sys().(*syscall.Stat_t).Uid {
			return foreignLink(op, dir, owner, parent)
		}
	}
	return nil
}

// foreignLink is the error of a link that guardPath does not follow.
func foreignLink(op, link string, owner uint32, dir string) error {
	return errs.Path(op, link, errs.Hint(syscall.EACCES,
		"a symbolic link owned by uid %d in the sticky, world-writable directory %s: not followed, as fs.protected_symlinks would not", owner, dir))
}

// openGuarded opens path with flag after guardPath, creating it (exclusively,
// so that what was checked is what is opened) when it is missing and flag has
// O_CREATE, and refuses it unless it is a file of type want, saying why (a
// clause such as "mmap write stores into regular files"). The open never
// blocks: a FIFO or a device is refused or bounded by its caller, never waited
// for here. created says whether this call made the file.
func openGuarded(op, path string, flag int, perm fs.FileMode, want fs.FileMode, why string) (f *os.File, created bool, err error) {
	writing := flag&(os.O_WRONLY|os.O_RDWR) != 0
	fi, err := guardPath(op, path, writing)
	if err != nil {
		return nil, false, err
	}
	if fi != nil && fi.Mode()&fs.ModeSymlink == 0 && fi.Mode().Type() != want {
		return nil, false, notKind(op, path, fi.Mode(), want, why) // not opened: a socket cannot be, a device need not
	}
	flag |= syscall.O_NONBLOCK
	switch {
	case fi == nil && flag&os.O_CREATE != 0:
		flag |= os.O_EXCL | syscall.O_NOFOLLOW
		created = true
	case fi == nil || fi.Mode()&fs.ModeSymlink == 0:
		flag = flag&^os.O_CREATE | syscall.O_NOFOLLOW
	default:
		flag &^= os.O_CREATE // a link guardPath allows: follow it
	}
	f, err = os.OpenFile(path, flag, perm)
	if err != nil {
		err = errors.Unwrap(err)
		if st, serr := os.Stat(path); errors.Is(err, syscall.ENXIO) && serr == nil && st.Mode().Type() != want {
			return nil, false, notKind(op, path, st.Mode(), want, why) // a link to a socket
		}
		if errors.Is(err, syscall.ELOOP) || (created && errors.Is(err, syscall.EEXIST)) {
			err = errs.Hint(err, "the path changed while it was opened")
		}
		return nil, false, errs.Path(op, path, err)
	}
	st, err := f.Stat()
	if err == nil && st.Mode().Type() != want {
		err = notKind(op, path, st.Mode(), want, why)
	}
	if err == nil && created {
		err = errs.Path("chmod", path, errors.Unwrap(f.Chmod(perm))) // open applied the umask
	}
	if err == nil {
		// Regular files ignore O_NONBLOCK, but mapping or reading a device
		// must not see it.
		err = errs.Path(op, path, clearNonblock(f))
	}
	if err != nil {
		f.Close()
		if created {
			os.Remove(path)
		}
		return nil, false, err
	}
	return f, created, nil
}

// openReading opens path read-only and without blocking (a FIFO opens at
// once), after guardPath: it follows a symbolic link only where guardPath
// allowed that one, so that what was checked is what is opened.
func openReading(op, path string) (*os.File, error) {
	fi, err := guardPath(op, path, false)
	if err != nil {
		return nil, err
	}
	flag := os.O_RDONLY | syscall.O_NONBLOCK
	if fi == nil || fi.Mode()&fs.ModeSymlink == 0 {
		flag |= syscall.O_NOFOLLOW
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		err = errors.Unwrap(err)
		if errors.Is(err, syscall.ELOOP) {
			err = errs.Hint(err, "the path changed while it was opened")
		}
		return nil, errs.Path(op, path, err)
	}
	return f, nil
}

// notKind is the error of a path whose file, of mode m, is not of type want,
// with why the clause that says what the verb takes.
func notKind(op, path string, m, want fs.FileMode, why string) error {
	return errs.Path(op, path, fmt.Errorf("not a %s (it is a %s): %s", cli.FileKinds[want], cli.FileKind(m), why))
}

// clearNonblock turns O_NONBLOCK off on f, which openGuarded opened with it.
func clearNonblock(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = unix.SetNonblock(int(fd), false) }); err != nil {
		return err
	}
	return serr
}
