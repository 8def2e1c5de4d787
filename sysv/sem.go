package sysv

import (
	"context"
	"errors"
	"math"
	"os"
	"slices"
	"syscall"
	"time"

	"github.com/goipc/ipc/internal/errs"
	"github.com/goipc/ipc/internal/sched"
)

// SemaphoreSet is a System V semaphore set (semget): Count semaphores, each
// a value from 0 to 32767, changed atomically together by Op. Its methods are
// safe for concurrent use.
type SemaphoreSet struct {
	object
	count int
}

// SemStat is a set's status (semctl IPC_STAT).
type SemStat struct {
	Perm
	Count  int       // semaphores in the set
	OpTime time.Time // last semop; zero if none
}

// SemOp is one operation of Op, laid out as C's struct sembuf. Delta > 0 adds
// to semaphore Num; Delta < 0 waits until the value is at least -Delta and
// subtracts it; Delta == 0 waits until the value is 0.
type SemOp struct {
	Num   uint16
	Delta int16
	Flags SemFlag
}

// SemFlag changes one operation of Op.
type SemFlag int16

const (
	// SemNoWait makes Op fail with EAGAIN instead of waiting (IPC_NOWAIT).
	SemNoWait SemFlag = ipcNowait
	// SemUndo makes the kernel revert the operation when this process exits,
	// even by a crash (SEM_UNDO).
	SemUndo SemFlag = semUndo
)

// SemValueMax is the largest value a semaphore holds (SEMVMX).
const SemValueMax = 32767

// OpenSemaphoreSet finds the set of key, or creates one of n semaphores
// (all 0) with flag Create (Create|Exclusive fails if it exists). n may be 0 to
// open an existing set of any size; a larger n than the set's fails. perm
// applies only to a set this call creates, and exactly: the umask does not
// change it. Key IPCPrivate needs Create (open an existing private set with
// OpenSemaphoreSetByID). Opening needs no permission on the set, only the
// calls do: Op needs write permission to change values and read permission
// to wait for zero.
func OpenSemaphoreSet(key Key, n int, flag Flag, perm os.FileMode) (*SemaphoreSet, error) {
	f, err := getFlags(key, flag, perm, Create|Exclusive)
	switch {
	case err != nil:
	case n < 0:
		err = errs.Invalid("negative number of semaphores %d", n)
	case n > math.MaxInt32: // semget takes a C int: it would see the low bits
		err = semLimitHint(syscall.EINVAL, "semaphores", int64(n), 0, "semmsl")
	case n == 0 && flag&Create != 0:
		err = errs.Invalid("a set to create needs at least one semaphore")
	}
	if err != nil {
		return nil, openErr("semget", key, err)
	}
	id, err := semget(key, n, f)
	if errors.Is(err, syscall.EINVAL) {
		err = semLimitHint(err, "semaphores", int64(n), 0, "semmsl")
		if _, hinted := err.(*errs.Hinted); !hinted && flag&Exclusive == 0 {
			err = errs.Hint(err, "the existing set of this key has fewer than %d semaphores (n 0 opens a set of any size)", n)
		}
	}
	if err != nil {
		return nil, openErr("semget", key, err)
	}
	s := &SemaphoreSet{object: object{kind: kindSemSet, key: key, id: id}}
	st, err := semctlStat(id)
	switch {
	case err == nil:
		s.count = st.Count
	case !errors.Is(err, syscall.EACCES): // unreadable: the count stays unknown, the kernel checks numbers
		return nil, openErr("semctl", key, err)
	}
	s.watch()
	return s, nil
}

// OpenSemaphoreSetByID opens the set whose id is id, as ipcs prints it and
// SemaphoreSet.ID returns (sysv_ipc's Semaphore by id). It fails with an error
// matching fs.ErrNotExist if no set has the id.
func OpenSemaphoreSetByID(id int) (*SemaphoreSet, error) {
	st, _, err := statID("semctl", kindSemSet, id, semctlStat)
	if err != nil {
		return nil, err
	}
	s := &SemaphoreSet{object: object{kind: kindSemSet, key: st.Key, id: id, byID: true}, count: st.Count}
	s.watch()
	return s, nil
}

// Count returns the number of semaphores in the set; 0 for a nil or zero s,
// and for a set whose status this process may not read.
func (s *SemaphoreSet) Count() int {
	if s == nil {
		return 0
	}
	return s.count
}

// ID returns the kernel's identifier of the set (as ipcs prints it), or -1
// for a nil or zero s.
func (s *SemaphoreSet) ID() int { return s.obj().ident() }

// Key returns the key the set was opened by (for one opened by id, the key
// its status gives, IPCPrivate if it may not be read).
func (s *SemaphoreSet) Key() Key { return s.obj().keyOf() }

// Op applies ops atomically (semop): either all of them or, until they all
// can, none. It blocks until then or until ctx ends (semtimedop with the time
// left), unless an operation has SemNoWait. More operations than kernel.sem's
// semopm fail with E2BIG and a hint, and operations that could never all
// succeed (Delta -32768: no value is that large) with EINVAL, before the
// call. Op allocates nothing, and locks no thread unless it has to wait with a
// context that can end.
func (s *SemaphoreSet) Op(ctx context.Context, ops ...SemOp) error {
	if err := s.obj().check("semop"); err != nil {
		return err
	}
	if err := s.validate(ops); err != nil {
		return s.fail("semop", err)
	}
	nowait := false
	for _, op := range ops {
		nowait = nowait || op.Flags&SemNoWait != 0
	}
	// semtimedop with timeout Immediately (0) fails with EAGAIN at once.
	err := s.calls.Do(ctx, syscall.EAGAIN, func(timeout time.Duration) error {
		err := semtimedop(s.id, ops, int64(timeout))
		if timeout > 0 && !nowait && errors.Is(err, syscall.EAGAIN) {
			return errs.ErrTimeout // semtimedop's time ran out
		}
		return err
	})
	sched.Tick() // see internal/sched
	if errors.Is(err, syscall.E2BIG) {
		err = semLimitHint(err, "operations", int64(len(ops)), 2, "semopm")
	}
	return s.fail("semop", err)
}

// obj is s's object, nil for a nil s, so that check fails rather than panics.
func (s *SemaphoreSet) obj() *object {
	if s == nil {
		return nil
	}
	return &s.object
}

// fastOps is how many operations the kernel handles without allocating
// (SEMOPM_FAST); past it, Op reads kernel.sem's semopm first.
const fastOps = 64

func (s *SemaphoreSet) validate(ops []SemOp) error {
	if len(ops) == 0 {
		return errs.Invalid("no operations")
	}
	if len(ops) > fastOps { // before the quadratic checks below
		if semopm, ok := semLimit(2); ok && int64(len(ops)) > semopm {
			return errs.Hint(syscall.E2BIG, "operations %d > kernel.sem semopm %d", len(ops), semopm)
		}
	}
	for i, op := range ops {
		if s.count > 0 && int(op.Num) >= s.count {
			return errs.Invalid("semaphore %d out of range: the set has %d", op.Num, s.count)
		}
		if op.Flags&^(SemNoWait|SemUndo) != 0 {
			return errs.Invalid("unsupported flags %#x", int(op.Flags))
		}
		if !slices.ContainsFunc(ops[:i], func(o SemOp) bool { return o.Num == op.Num }) {
			if err := satisfiable(ops[i:], op.Num); err != nil {
				return err
			}
		}
	}
	return nil
}

// satisfiable fails if the operations of ops on semaphore num can succeed
// from no starting value: the kernel applies them in order, each Delta < 0
// needing the value to be at least -Delta, each Delta 0 needing it 0, each
// Delta > 0 leaving it at most SemValueMax (ERANGE otherwise). Op would wait
// forever for such a set of operations.
func satisfiable(ops []SemOp, num uint16) error {
	low, high, sum := 0, SemValueMax, 0 // the starting values that work, and the change so far
	for _, op := range ops {
		if op.Num != num {
			continue
		}
		switch d := int(op.Delta); {
		case d < 0:
			low = max(low, -d-sum)
		case d == 0:
			low, high = max(low, -sum), min(high, -sum)
		default:
			high = min(high, SemValueMax-sum-d)
		}
		sum += int(op.Delta)
	}
	if low > high {
		return errs.Invalid("the operations on semaphore %d can never succeed: no value from 0 to %d satisfies them", num, SemValueMax)
	}
	return nil
}

func (s *SemaphoreSet) checkNum(op string, num int) error {
	if err := s.obj().check(op); err != nil {
		return err
	}
	if num < 0 || num > math.MaxUint16 || s.count > 0 && num >= s.count {
		return s.fail(op, errs.Invalid("semaphore %d out of range: the set has %d", num, s.count))
	}
	return nil
}

// ctl runs a semctl command on semaphore num.
func (s *SemaphoreSet) ctl(num, cmd, val int) (int, error) {
	if err := s.checkNum("semctl", num); err != nil {
		return 0, err
	}
	r, err := semctlVal(s.id, num, cmd, val)
	return r, s.fail("semctl", err)
}

// Value returns semaphore num's value (GETVAL).
func (s *SemaphoreSet) Value(num int) (int, error) { return s.ctl(num, getVal, 0) }

// SetValue sets semaphore num to v (SETVAL), waking the processes that wait
// for it and clearing every process's undo adjustment of it.
func (s *SemaphoreSet) SetValue(num, v int) error {
	if err := s.obj().check("semctl"); err != nil {
		return err
	}
	if v < 0 || v > SemValueMax {
		return s.fail("semctl", errs.Invalid("value %d out of range [0, %d]", v, SemValueMax))
	}
	_, err := s.ctl(num, setVal, v)
	return err
}

// size returns the number of semaphores, from the status if the open could
// not read it: GETALL and SETALL take an array of exactly that many.
func (s *SemaphoreSet) size() (int, error) {
	if s.count > 0 {
		return s.count, nil
	}
	st, err := semctlStat(s.id)
	return st.Count, err
}

// Values returns every semaphore's value (GETALL).
func (s *SemaphoreSet) Values() ([]int, error) {
	if err := s.obj().check("semctl"); err != nil {
		return nil, err
	}
	n, err := s.size()
	if err != nil {
		return nil, s.fail("semctl", err)
	}
	raw := make([]uint16, n)
	if err := semctlArray(s.id, getAll, raw); err != nil {
		return nil, s.fail("semctl", err)
	}
	vals := make([]int, len(raw))
	for i, v := range raw {
		vals[i] = int(v)
	}
	return vals, nil
}

// SetValues sets every semaphore at once (SETALL); len(vals) must be Count.
func (s *SemaphoreSet) SetValues(vals []int) error {
	if err := s.obj().check("semctl"); err != nil {
		return err
	}
	n, err := s.size()
	if err != nil {
		return s.fail("semctl", err)
	}
	if len(vals) != n {
		return s.fail("semctl", errs.Invalid("%d values for a set of %d", len(vals), n))
	}
	raw := make([]uint16, len(vals))
	for i, v := range vals {
		if v < 0 || v > SemValueMax {
			return s.fail("semctl", errs.Invalid("value %d out of range [0, %d]", v, SemValueMax))
		}
		raw[i] = uint16(v)
	}
	return s.fail("semctl", semctlArray(s.id, setAll, raw))
}

// Waiting returns how many processes wait for semaphore num to increase
// (GETNCNT) and to become zero (GETZCNT).
func (s *SemaphoreSet) Waiting(num int) (increase, zero int, err error) {
	if increase, err = s.ctl(num, getNcnt, 0); err != nil {
		return 0, 0, err
	}
	zero, err = s.ctl(num, getZcnt, 0)
	return increase, zero, err
}

// LastPID returns the process that last operated on semaphore num (GETPID).
func (s *SemaphoreSet) LastPID(num int) (int, error) { return s.ctl(num, getPid, 0) }

// Stat returns the set's status.
func (s *SemaphoreSet) Stat() (SemStat, error) {
	if err := s.obj().check("semctl"); err != nil {
		return SemStat{}, err
	}
	st, err := semctlStat(s.id)
	return st, s.fail("semctl", err)
}

// Set changes the owner (UID, GID) and permission bits (Mode) to those of p
// (IPC_SET); start from Stat.
func (s *SemaphoreSet) Set(p Perm) error {
	if err := s.obj().check("semctl"); err != nil {
		return err
	}
	if err := p.valid(); err != nil {
		return s.fail("semctl", err)
	}
	return s.fail("semctl", semctlSet(s.id, p))
}

// Remove destroys the set (IPC_RMID); operations waiting on it in any process
// fail with EIDRM. It works after Close too.
func (s *SemaphoreSet) Remove() error {
	return s.obj().remove("semctl", func() error { _, err := semctlVal(s.id, 0, ipcRmid, 0); return err })
}

// Close makes s unusable: later calls fail with an error matching
// os.ErrClosed, and so do Op calls blocked on s, which Close ends and waits
// for. The set stays until Remove, which still works on s. It is safe to call
// twice and on nil.
func (s *SemaphoreSet) Close() error {
	if s != nil {
		s.close()
	}
	return nil
}

// Mutex is a lock on one semaphore of a set, shared between processes: 0
// means unlocked, 1 locked. A new set's semaphores are 0, so a set is a valid
// unlocked mutex from the moment semget creates it: no initialisation step
// exists that a creator could die in the middle of, leaving a set that hangs
// its openers. Lock waits for 0 and adds 1 with SEM_UNDO, so the kernel
// unlocks the mutex if its holder dies, even by kill -9. Only the process
// that holds the mutex may unlock it (any of its goroutines, as with
// sync.Mutex); the kernel's record of the last process to operate on the
// semaphore (GETPID) says which one that is.
type Mutex struct {
	set *SemaphoreSet
	num uint16
}

// OpenMutex opens the semaphore set of key as a Mutex on its semaphore 0,
// creating a one-semaphore set, unlocked, if none exists.
func OpenMutex(key Key, perm os.FileMode) (*Mutex, error) {
	set, err := OpenSemaphoreSet(key, 1, Create, perm)
	if err != nil {
		return nil, err
	}
	return &Mutex{set: set}, nil
}

// Mutex returns a Mutex on semaphore num, which is unlocked while its value
// is 0, as every semaphore of a new set is.
func (s *SemaphoreSet) Mutex(num int) (*Mutex, error) {
	if err := s.checkNum("semop", num); err != nil {
		return nil, err
	}
	return &Mutex{set: s, num: uint16(num)}, nil
}

// Set returns the semaphore set the mutex lives in, to Close or Remove it;
// nil for a nil m.
func (m *Mutex) Set() *SemaphoreSet {
	if m == nil {
		return nil
	}
	return m.set
}

// sem returns the set and number of m's semaphore; a nil m has no set, so
// that Op fails rather than m.num panics.
func (m *Mutex) sem() (*SemaphoreSet, uint16) {
	if m == nil {
		return nil, 0
	}
	return m.set, m.num
}

// Lock waits until the mutex is unlocked and takes it, or until ctx ends.
func (m *Mutex) Lock(ctx context.Context) error {
	set, num := m.sem()
	return set.Op(ctx, SemOp{Num: num, Delta: 0}, SemOp{Num: num, Delta: 1, Flags: SemUndo})
}

// TryLock takes the mutex if it is unlocked and reports whether it did.
func (m *Mutex) TryLock() (bool, error) {
	set, num := m.sem()
	err := set.Op(context.Background(), SemOp{Num: num, Delta: 0, Flags: SemNoWait}, SemOp{Num: num, Delta: 1, Flags: SemUndo})
	if errors.Is(err, syscall.EAGAIN) {
		return false, nil
	}
	return err == nil, err
}

// Unlock releases the mutex. Unlocking a mutex that is not locked fails with
// an error matching syscall.EINVAL, and one that another process holds with
// one matching syscall.EPERM: released by someone else, it would be taken
// twice once the kernel undid its holder's lock.
func (m *Mutex) Unlock() error {
	set, num := m.sem()
	v, err := set.Value(int(num))
	if err != nil {
		return err
	}
	if v == 0 {
		return errs.Path("semop", set.name(), errs.Invalid("unlock of an unlocked mutex"))
	}
	if holder, err := set.LastPID(int(num)); err != nil {
		return err
	} else if holder != os.Getpid() {
		return errs.Path("semop", set.name(), errs.Hint(syscall.EPERM, "the mutex is held by process %d, not this one", holder))
	}
	// Only this process can have changed the value since: it holds the lock.
	// NoWait all the same, so that a concurrent Unlock of ours fails instead
	// of waiting for the next Lock.
	err = set.Op(context.Background(), SemOp{Num: num, Delta: -1, Flags: SemUndo | SemNoWait})
	if errors.Is(err, syscall.EAGAIN) {
		return errs.Path("semop", set.name(), errs.Invalid("unlock of an unlocked mutex"))
	}
	return err
}
