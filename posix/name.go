package posix

import (
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/goipc/ipc/internal/errs"
)

// nameMax is NAME_MAX, the longest name the kernel accepts for a queue or a
// /dev/shm file, not counting the leading slash.
const nameMax = 255

// semPrefix is what glibc puts before a semaphore's name in /dev/shm.
const semPrefix = "sem."

// canonical checks a POSIX IPC name before any call and returns it with its
// leading slash. A name without the slash is accepted and given one, as Python's
// multiprocessing.shared_memory and posix_ipc do, so that objects made there
// are reachable by the name they report. max is the longest name allowed after
// the slash.
func canonical(op, name string, max int) (string, error) {
	base := strings.TrimPrefix(name, "/")
	switch {
	case base == "":
		return "", errs.Path(op, name, errs.Invalid("empty name (want /NAME)"))
	case strings.Contains(base, "/"):
		return "", errs.Path(op, name, errs.Invalid("a name may hold no slash after the leading one"))
	case base == "." || base == "..":
		return "", errs.Path(op, name, errs.Invalid("%q is not a valid name", base))
	case strings.IndexByte(base, 0) >= 0:
		return "", errs.Path(op, name, errs.Invalid("a name may not hold a NUL byte"))
	case len(base) > max:
		return "", errs.Path(op, name, errs.Invalid("name of %d bytes > NAME_MAX %d", len(base), max))
	}
	return "/" + base, nil
}

// segmentName is canonical for a shared memory segment's name. glibc keeps
// the semaphore /X in /dev/shm as the file sem.X, which shm_open("/sem.X")
// finds too: such a segment would be the semaphore's memory, and unlinking it
// would remove the semaphore.
func segmentName(op, name string) (string, error) {
	name, err := canonical(op, name, nameMax)
	if sem, ok := strings.CutPrefix(name, "/"+semPrefix); ok && err == nil {
		return "", errs.Path(op, name, errs.Invalid("the name of semaphore /%s's memory (glibc keeps semaphores in /dev/shm as sem.NAME)", sem))
	}
	return name, err
}

// createMode is the permission of new objects when the caller gives none.
const createMode os.FileMode = 0o600

// permOf returns the permission bits of a new object: mode, or createMode
// when mode is 0 and the caller did not say it meant 0 (set).
func permOf(mode os.FileMode, set bool) (uint32, error) {
	if mode == 0 && !set {
		mode = createMode
	}
	if err := errs.PermOnly(mode); err != nil {
		return 0, err
	}
	return uint32(mode.Perm()), nil
}

// Access says how an object is opened or mapped.
type Access int

const (
	ReadWrite Access = iota // read and write (the zero value)
	ReadOnly                // read or receive only
	WriteOnly               // write or send only (message queues)
)

func (a Access) openFlag() (int, error) {
	switch a {
	case ReadWrite:
		return unix.O_RDWR, nil
	case ReadOnly:
		return unix.O_RDONLY, nil
	case WriteOnly:
		return unix.O_WRONLY, nil
	}
	return 0, errs.Invalid("unknown access mode %d", int(a))
}

// createOrOpen runs the usual dance that tells whether this call created the
// object (and so must set its mode regardless of the umask): try O_CREAT|O_EXCL;
// when the object exists and the caller did not ask for exclusivity, open it
// without O_CREAT, and retry if it vanished in between.
func createOrOpen(create, exclusive bool, open func(flags int) error) (created bool, err error) {
	if exclusive && !create {
		// Without it, Exclusive would be ignored (as O_EXCL without
		// O_CREAT), and an open meant to make a new object would reach an
		// old one.
		return false, errs.Invalid("Exclusive needs Create")
	}
	if !create {
		return false, open(0)
	}
	for {
		err = open(unix.O_CREAT | unix.O_EXCL)
		if err != syscall.EEXIST || exclusive {
			return err == nil, err
		}
		if err = open(0); err != syscall.ENOENT {
			return false, err
		}
	}
}
