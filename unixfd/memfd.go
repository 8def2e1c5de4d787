package unixfd

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/goipc/ipc/internal/errs"
	"github.com/goipc/ipc/mmap"
)

// Seals are the seals of a memfd (fcntl F_ADD_SEALS, F_GET_SEALS).
type Seals int

const (
	SealSeal   Seals = unix.F_SEAL_SEAL   // no more seals may be added
	SealShrink Seals = unix.F_SEAL_SHRINK // the file cannot get shorter
	SealGrow   Seals = unix.F_SEAL_GROW   // the file cannot get longer
	SealWrite  Seals = unix.F_SEAL_WRITE  // the contents cannot change
)

// SealAll is the seals of a buffer handed over for good: fixed size and
// contents, and no seal can be taken back or added.
const SealAll = SealShrink | SealGrow | SealWrite | SealSeal

func (s Seals) String() string {
	var names []string
	for _, n := range []struct {
		s    Seals
		name string
	}{{SealShrink, "shrink"}, {SealGrow, "grow"}, {SealWrite, "write"}, {SealSeal, "seal"}} {
		if s&n.s != 0 {
			names = append(names, n.name)
		}
	}
	// Seals this package has no name for (F_SEAL_FUTURE_WRITE, F_SEAL_EXEC
	// and any newer) show as a number rather than vanish.
	if rest := s &^ (SealShrink | SealGrow | SealWrite | SealSeal); rest != 0 {
		names = append(names, fmt.Sprintf("%#x", int(rest)))
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, "|")
}

// NewMemfd creates an anonymous file in memory that accepts seals
// (memfd_create with MFD_ALLOW_SEALING and MFD_CLOEXEC); name, of at
// most 249 bytes, shows in /proc/PID/fd only. Fill it (Write, Truncate, or a mapping that is
// unmapped before SealWrite), seal it, and pass it.
func NewMemfd(name string) (*os.File, error) {
	switch {
	case len(name) > memfdNameMax:
		return nil, errs.Path("memfd_create", name, errs.Invalid("name is %d bytes; the kernel allows %d", len(name), memfdNameMax))
	case strings.IndexByte(name, 0) >= 0:
		return nil, errs.Path("memfd_create", name, errs.Invalid("a name may not hold a NUL byte"))
	}
	fd, err := unix.MemfdCreate(name, unix.MFD_ALLOW_SEALING|unix.MFD_CLOEXEC)
	if err != nil {
		return nil, errs.Path("memfd_create", name, err)
	}
	return os.NewFile(uintptr(fd), "memfd:"+name), nil
}

// memfdNameMax is the kernel's MFD_NAME_MAX_LEN: NAME_MAX less "memfd:".
const memfdNameMax = 255 - len("memfd:")

// AddSeals adds seals to the memfd f. SealWrite fails with an error
// matching syscall.EBUSY while a writable shared mapping of f exists.
func AddSeals(f *os.File, s Seals) error {
	return control(f, "fcntl F_ADD_SEALS", func(fd int) error {
		_, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, int(s))
		return err
	})
}

// SealsOf returns the seals of f; a file that is not a memfd fails with an
// error matching syscall.EINVAL.
func SealsOf(f *os.File) (Seals, error) {
	var s Seals
	err := control(f, "fcntl F_GET_SEALS", func(fd int) error {
		v, err := unix.FcntlInt(uintptr(fd), unix.F_GET_SEALS, 0)
		if err == unix.EINVAL {
			return errs.Hint(err, "not a memfd: only memfds (and other tmpfs files) carry seals")
		}
		s = Seals(v)
		return err
	})
	return s, err
}

// MapSealed maps the memfd f read-only after checking that it carries the
// seals need, and at least SealShrink: a file that cannot shrink cannot be
// truncated under the mapping, so touching the mapping can never raise the
// SIGBUS that a truncated shared file causes. A file without them fails
// with an error matching syscall.EPERM that names the missing seals, before
// anything is mapped. An empty memfd fails with an error matching
// syscall.EINVAL: there is nothing to map. The mapping is the caller's to
// Close.
func MapSealed(f *os.File, need Seals) (*mmap.Mapping, error) {
	need |= SealShrink
	have, err := SealsOf(f)
	if err != nil {
		return nil, err
	}
	if missing := need &^ have; missing != 0 {
		return nil, errs.Path("map sealed", f.Name(), errs.Hint(unix.EPERM, "the memfd lacks the seals %v (it has %v)", missing, have))
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() == 0 {
		// mmap cannot map 0 bytes; say why in this package's terms.
		return nil, errs.Path("map sealed", f.Name(), errs.Invalid("the memfd is empty: fill it (Write, Truncate) before sealing it"))
	}
	return mmap.Map(f, mmap.ReadOnly, 0, fi.Size())
}

// control runs fn on f's descriptor and names op and f in its error.
func control(f *os.File, op string, fn func(fd int) error) error {
	if f == nil {
		return errs.NotOpen(op, "os.File")
	}
	raw, err := f.SyscallConn()
	if err != nil {
		return errs.Path(op, f.Name(), err)
	}
	var ferr error
	if err := raw.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		// Control fails only for a closed file, with an error of its own
		// ("use of closed file") that does not match os.ErrClosed.
		return errs.Closed(op, f.Name())
	}
	return errs.Path(op, f.Name(), ferr)
}
