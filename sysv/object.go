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

	"golang.org/x/sys/unix"

	"github.com/goipc/ipc/internal/blocking"
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
func getFlags(key Key, flag Flag, perm os.FileMode, allowed Flag) (int, error) {
	if key == IPCPrivate && flag&Create == 0 {
		// The get calls would make a new object no one can find, and leak it.
		return 0, errs.Invalid("key 0 (IPCPrivate) names no object: pass Create to make a new private one, or open an existing one by id")
	}
	if flag&^allowed != 0 {
		return 0, errs.Invalid("unsupported flags %#x", int(flag&^allowed))
	}
	if flag&Exclusive != 0 && flag&Create == 0 {
		return 0, errs.Invalid("Exclusive needs Create")
	}
	if err := errs.PermOnly(perm); err != nil {
		return 0, err
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

// valid checks the owner and mode that Set gives. The kernel's ids are 32
// bits: a larger one would arrive cut to its low bits, another user (2^32 is
// root); of the mode it keeps the rwx bits and drops the rest silently.
func (p Perm) valid() error {
	if p.UID < 0 || p.UID >= math.MaxUint32 || p.GID < 0 || p.GID >= math.MaxUint32 { // (uid_t)-1 is no one
		return errs.Invalid("owner %d:%d out of range", p.UID, p.GID)
	}
	return errs.PermOnly(p.Mode)
}

// object is what the three kinds share: the id, the key it was found by,
// whether it is still usable, and the calls blocked on it, for Close to end.
type object struct {
	kind  string // "queue", "segment", "semaphore set", for messages
	key   Key
	id    int
	byID  bool // opened by id: errors name the id
	state atomic.Int32
	// gone is set by the Remove that succeeded (or is under way), whatever
	// state says: after Close too, the id is stale and may name a newer object.
	gone  atomic.Bool
	calls blocking.Calls
}

const (
	open int32 = iota
	closed
	removed
)

// name is how errors name the object: its key, or its id when private.
func (o *object) name() string {
	if o.key == IPCPrivate || o.byID {
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
		return o.removedErr(op)
	}
	return nil
}

// removedErr is the error of using the object after Remove.
func (o *object) removedErr(op string) error {
	return errs.Path(op, o.name(), errs.Hint(syscall.EIDRM, "this %s was removed", o.kind))
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
		err = errs.NotExist(err, "the %s no longer exists", o.kind)
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

// ident returns the kernel's identifier, -1 for a nil or zero handle (id 0
// belongs to some other object).
func (o *object) ident() int {
	if o == nil || o.kind == "" {
		return -1
	}
	return o.id
}

// keyOf returns the key, IPCPrivate for a nil handle.
func (o *object) keyOf() Key {
	if o == nil {
		return IPCPrivate
	}
	return o.key
}

// close marks the Go value unusable and ends the calls blocked on it, which
// fail with an error matching os.ErrClosed; the kernel object stays.
func (o *object) close() {
	o.state.Store(closed)
	o.calls.Close()
}

// The system calls that blocked calls of each kind sleep in, with the id as
// first argument: how Close finds their threads (see blocking.Calls).
var (
	queueSyscalls = []uintptr{unix.SYS_MSGRCV, unix.SYS_MSGSND}
	semSyscalls   = []uintptr{unix.SYS_SEMOP, unix.SYS_SEMTIMEDOP}
)

// watch tells o's calls where its blocked calls sleep; the Open functions
// run it before they return o.
func (o *object) watch() {
	o.calls.Arg0 = uintptr(o.id)
	switch o.kind {
	case kindQueue:
		o.calls.Syscalls = queueSyscalls
	case kindSemSet:
		o.calls.Syscalls = semSyscalls
	}
}

// remove runs rm (IPC_RMID) unless the object was removed already. It works
// after Close: removing is what a program does last, and Close must not make
// it impossible.
func (o *object) remove(op string, rm func() error) error {
	if o == nil || o.kind == "" {
		return o.check(op)
	}
	if !o.gone.CompareAndSwap(false, true) {
		return o.removedErr(op)
	}
	if err := rm(); err != nil {
		o.gone.Store(false)
		return o.fail(op, err)
	}
	o.state.CompareAndSwap(open, removed)
	return nil
}

// statID runs the IPC_STAT (stat) that an open by id begins with, after
// refusing an id no object can have. readable is false when the object
// exists but this process may not read its status, which the calls it may
// make do not need; an id that no object of the kind has (EINVAL, EIDRM)
// fails with an error matching fs.ErrNotExist.
func statID[S any](op, kind string, id int, stat func(id int) (S, error)) (st S, readable bool, err error) {
	name := "id " + strconv.Itoa(id)
	if id < 0 || id > math.MaxInt32 {
		return st, false, errs.Path(op, name, errs.Invalid("id %d out of range [0, %d]", id, math.MaxInt32))
	}
	st, err = stat(id)
	switch {
	case err == nil:
		return st, true, nil
	case errors.Is(err, syscall.EACCES):
		return st, false, nil
	case errors.Is(err, syscall.EINVAL), errors.Is(err, syscall.EIDRM):
		err = errs.NotExist(err, "no %s has id %d", kind, id)
	}
	return st, false, errs.Path(op, name, err)
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
