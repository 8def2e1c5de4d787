package sysv

import (
	"errors"
	"math"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/goipc/ipc/internal/errs"
)

// Flag says how Open functions find or create an object, as the flags of
// msgget, shmget and semget do.
type Flag int

const (
	// Create creates the object if the key names none (IPC_CREAT).
	Create Flag = ipcCreat
	// Exclusive, with Create, fails with an error matching fs.ErrExist if
	// the object already exists (IPC_EXCL).
	Exclusive Flag = ipcExcl
	// HugeTLB backs a shared memory segment with huge pages (SHM_HUGETLB);
	// the size must be a multiple of the huge page size.
	HugeTLB Flag = shmHugetlb
	// NoReserve does not reserve swap for a segment (SHM_NORESERVE).
	NoReserve Flag = shmNoreserve
)

// DefaultMode is the permission the ipc command gives objects it creates.
const DefaultMode os.FileMode = 0o600

// getFlags builds the flags of a get call. The permission bits are passed as
// they are: unlike open(2), msgget, shmget and semget do not apply the umask
// (the kernel copies them into ipc_perm.mode), so 0600 stays 0600 whatever the
// umask is; TestModeIgnoresUmask checks it.
func getFlags(flag Flag, perm os.FileMode, allowed Flag) (int, error) {
	if flag&^allowed != 0 {
		return 0, errs.Invalid("unsupported flags %#x", int(flag&^allowed))
	}
	if flag&Exclusive != 0 && flag&Create == 0 {
		return 0, errs.Invalid("Exclusive needs Create")
	}
	if perm&^os.ModePerm != 0 {
		return 0, errs.Invalid("mode %v has bits other than permissions", perm)
	}
	return int(flag) | int(perm), nil
}

// Perm is the ownership and permission part of an object's status (struct
// ipc_perm), and when it last changed.
type Perm struct {
	Key        Key
	UID, GID   int // owner
	CreatorUID int
	CreatorGID int
	Mode       os.FileMode // permission bits
	ChangeTime time.Time   // last IPC_SET or creation
}

// valid checks the owner that Set gives. The kernel's ids are 32 bits: a
// larger one would arrive cut to its low bits, another user (2^32 is root).
func (p Perm) valid() error {
	if p.UID < 0 || p.UID >= math.MaxUint32 || p.GID < 0 || p.GID >= math.MaxUint32 { // (uid_t)-1 is no one
		return errs.Invalid("owner %d:%d out of range", p.UID, p.GID)
	}
	return nil
}

// object is what the three kinds share: the id, the key it was found by, and
// whether it is still usable.
type object struct {
	kind  string // "queue", "segment", "semaphore set", for messages
	key   Key
	id    int
	state atomic.Int32
}

const (
	open int32 = iota
	closed
	removed
)

// name is how errors name the object: its key, or its id when private.
func (o *object) name() string {
	if o.key == IPCPrivate {
		return "id " + strconv.Itoa(o.id)
	}
	return o.key.String()
}

// check returns the error for using the object after Close or Remove, or
// through a nil or zero handle: o is nil for a nil one (see the obj methods),
// and a zero one has no kind and must not act on id 0, another object's.
func (o *object) check(op string) error {
	if o == nil || o.kind == "" {
		return errs.NotOpen(op, "sysv handle")
	}
	switch o.state.Load() {
	case closed:
		return errs.Closed(op, o.name())
	case removed:
		return errs.Path(op, o.name(), errs.Hint(syscall.EIDRM, "this %s was removed", o.kind))
	}
	return nil
}

// fail wraps an error from the kernel, explaining the errnos that mean the
// object went away.
func (o *object) fail(op string, err error) error {
	if err == nil {
		return nil
	}
	switch errno, _ := err.(syscall.Errno); { // a bare errno: not yet explained
	case errno == syscall.EIDRM:
		err = errs.Hint(err, "the %s was removed while this call waited", o.kind)
	case errno == syscall.EINVAL && !o.exists():
		err = errs.Hint(err, "the %s no longer exists", o.kind)
	}
	return errs.Path(op, o.name(), err)
}

// exists asks the kernel whether the id is still valid (msgctl and friends
// fail with EINVAL for a removed id, as the failed call did).
func (o *object) exists() bool {
	var err error
	switch o.kind {
	case kindQueue:
		_, err = msgctlStat(o.id)
	case kindSegment:
		_, err = shmctlStat(o.id)
	case kindSemSet:
		_, err = semctlStat(o.id)
	}
	return !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.EIDRM)
}

const (
	kindQueue   = "queue"
	kindSegment = "segment"
	kindSemSet  = "semaphore set"
)

// ID returns the kernel's identifier of the object (as ipcs prints it).
func (o *object) ID() int { return o.id }

// Key returns the key the object was opened by.
func (o *object) Key() Key { return o.key }

// close marks the Go value unusable; the kernel object stays.
func (o *object) close() { o.state.Store(closed) }

// remove runs rm (IPC_RMID) unless the object is closed or already removed.
func (o *object) remove(op string, rm func() error) error {
	if err := o.check(op); err != nil {
		return err
	}
	if err := rm(); err != nil {
		return o.fail(op, err)
	}
	o.state.Store(removed)
	return nil
}

// semLimit reads one field of /proc/sys/kernel/sem ("semmsl semmns semopm
// semmni"); errs.Sysctl reads only the first.
func semLimit(field int) (int64, bool) {
	b, err := os.ReadFile("/proc/sys/kernel/sem")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if field >= len(f) {
		return 0, false
	}
	v, err := strconv.ParseInt(f[field], 10, 64)
	return v, err == nil
}

// semLimitHint explains err by a kernel/sem field when want exceeds it.
func semLimitHint(err error, what string, want int64, field int, limit string) error {
	if v, ok := semLimit(field); ok && want > v {
		return errs.Hint(err, "%s %d > kernel.sem %s %d", what, want, limit, v)
	}
	return err
}

// openErr wraps a get call's failure.
func openErr(op string, key Key, err error) error {
	return errs.Path(op, key.String(), err)
}
