package sysv

import (
	"errors"
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/goipc/ipc/internal/errs"
)

// SharedMemory is a System V shared memory segment (shmget). Its methods are
// safe for concurrent use; the memory itself is shared with other processes
// and needs their agreement (a semaphore, say) on who writes when.
type SharedMemory struct {
	object
	size int

	mu       sync.Mutex
	attached map[unsafe.Pointer]int // address -> length of each Attach not yet detached
}

// SegmentStat is a segment's status (shmctl IPC_STAT).
type SegmentStat struct {
	Perm
	Size       int // bytes
	Attached   int // attachments in all processes
	CreatorPID int
	LastPID    int       // last shmat or shmdt
	AttachTime time.Time // zero if never
	DetachTime time.Time // zero if never
}

// AttachFlag changes how Attach maps the segment.
type AttachFlag int

// ReadOnly maps the segment read-only (SHM_RDONLY); writing to it faults.
const ReadOnly AttachFlag = shmRdonly

// OpenSharedMemory finds the segment of key, or creates one of size bytes
// with flag Create (Create|Exclusive fails if it exists). size may be 0 to open
// an existing segment of any size; a larger size than the segment's fails. flag
// may add HugeTLB and NoReserve. perm applies only to a segment this call
// creates, and exactly: the umask does not change it. Key IPCPrivate needs
// Create (open an existing private segment with OpenSharedMemoryByID).
func OpenSharedMemory(key Key, size int, flag Flag, perm os.FileMode) (*SharedMemory, error) {
	f, err := getFlags(key, flag, perm, Create|Exclusive|HugeTLB|NoReserve)
	switch {
	case err != nil:
	case size < 0:
		err = errs.Invalid("negative size %d", size)
	case size == 0 && flag&Create != 0:
		err = errs.Invalid("size 0: a segment to create needs a size")
	}
	if err != nil {
		return nil, openErr("shmget", key, err)
	}
	id, err := shmget(key, size, f)
	if errors.Is(err, syscall.EINVAL) {
		err = errs.LimitHint(err, "size", int64(size), "kernel/shmmax")
		if _, hinted := err.(*errs.Hinted); !hinted && flag&Exclusive == 0 {
			err = errs.Hint(err, "size %d is larger than the existing segment of this key", size)
		}
	}
	if errors.Is(err, syscall.ENOMEM) {
		// The kernel says only ENOMEM for both: no free huge page, or more
		// than memory and swap (without NoReserve).
		if v, ok := errs.Sysctl("vm/nr_hugepages"); ok && flag&HugeTLB != 0 {
			err = errs.Hint(err, "HugeTLB takes huge pages the kernel has reserved: vm.nr_hugepages %d", v)
		} else if fit := errs.FitsInMemory("shmget", key.String(), int64(size)); fit != nil {
			return nil, fit
		}
	}
	if err != nil {
		return nil, openErr("shmget", key, err)
	}
	st, err := shmctlStat(id)
	if err != nil && !errors.Is(err, syscall.EACCES) { // unreadable: Attach will say so
		return nil, openErr("shmctl", key, err)
	}
	return &SharedMemory{object: object{kind: kindSegment, key: key, id: id}, size: st.Size}, nil
}

// OpenSharedMemoryByID opens the segment whose id is id, as ipcs prints it
// and SharedMemory.ID returns (sysv_ipc's attach(id)): the way to reach a
// segment made with IPCPrivate. It fails with an error matching
// fs.ErrNotExist if no segment has the id.
func OpenSharedMemoryByID(id int) (*SharedMemory, error) {
	st, _, err := statID("shmctl", kindSegment, id, shmctlStat)
	if err != nil {
		return nil, err
	}
	return &SharedMemory{object: object{kind: kindSegment, key: st.Key, id: id, byID: true}, size: st.Size}, nil
}

// ID returns the kernel's identifier of the segment (as ipcs prints it), or
// -1 for a nil or zero m.
func (m *SharedMemory) ID() int { return m.obj().ident() }

// Key returns the key the segment was opened by (for one opened by id, the
// key its status gives, IPCPrivate if it may not be read).
func (m *SharedMemory) Key() Key { return m.obj().keyOf() }

// obj is m's object, nil for a nil m, so that check fails rather than panics.
func (m *SharedMemory) obj() *object {
	if m == nil {
		return nil
	}
	return &m.object
}

// Size returns the segment's size in bytes: 0 for a nil or zero m, and for a
// segment whose status this process may not read (it may not attach it either).
func (m *SharedMemory) Size() int {
	if m == nil {
		return 0
	}
	return m.size
}

// Attach maps the segment into this process (shmat) and returns its memory.
// The slice is valid until Detach or Close; touching it afterwards crashes the
// program. Each Attach is a separate mapping, to be detached on its own.
func (m *SharedMemory) Attach(flags AttachFlag) ([]byte, error) {
	if err := m.obj().check("shmat"); err != nil {
		return nil, err
	}
	if flags&^ReadOnly != 0 {
		return nil, m.fail("shmat", errs.Invalid("unsupported flags %#x", int(flags)))
	}
	size := m.size
	if size == 0 { // the open could not read the status: the mode has changed since, or shmat fails too
		st, err := shmctlStat(m.id)
		if err != nil {
			return nil, m.fail("shmat", err)
		}
		size = st.Size
	}
	p, err := shmat(m.id, int(flags))
	if err != nil {
		return nil, m.fail("shmat", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.state.Load() == closed { // Close ran meanwhile and missed this one
		shmdt(p)
		return nil, errs.Closed("shmat", m.name())
	}
	if m.attached == nil {
		m.attached = make(map[unsafe.Pointer]int)
	}
	m.attached[p] = size
	return unsafe.Slice((*byte)(p), size), nil
}

// Detach unmaps memory that Attach returned (shmdt). It also works after
// Remove, which destroys the segment only once every attachment is gone.
func (m *SharedMemory) Detach(b []byte) error {
	if err := m.obj().check("shmdt"); err != nil && !errors.Is(err, syscall.EIDRM) {
		return err
	}
	p := unsafe.Pointer(unsafe.SliceData(b))
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.attached[p]; !ok || len(b) == 0 {
		return m.fail("shmdt", errs.Invalid("not memory that Attach returned, or already detached"))
	}
	if err := shmdt(p); err != nil {
		return m.fail("shmdt", err)
	}
	delete(m.attached, p)
	return nil
}

// Stat returns the segment's status.
func (m *SharedMemory) Stat() (SegmentStat, error) {
	if err := m.obj().check("shmctl"); err != nil {
		return SegmentStat{}, err
	}
	st, err := shmctlStat(m.id)
	return st, m.fail("shmctl", err)
}

// Set changes the owner (UID, GID) and permission bits (Mode) to those of p
// (IPC_SET); start from Stat.
func (m *SharedMemory) Set(p Perm) error {
	if err := m.obj().check("shmctl"); err != nil {
		return err
	}
	if err := p.valid(); err != nil {
		return m.fail("shmctl", err)
	}
	return m.fail("shmctl", shmctlSet(m.id, p))
}

// Remove marks the segment for destruction (IPC_RMID): the kernel frees it
// when the last process detaches. Memory already attached stays usable until
// detached. It works after Close too.
func (m *SharedMemory) Remove() error {
	return m.obj().remove("shmctl", func() error { return shmctl(m.id, ipcRmid, nil) })
}

// Close detaches every mapping that Attach returned and not yet detached, so
// their slices become invalid, and makes m unusable: later calls fail with an
// error matching os.ErrClosed. The segment stays until Remove, which still
// works on m. It is safe to call twice and on nil.
func (m *SharedMemory) Close() error {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.state.Load() == closed {
		return nil
	}
	var first error
	for p := range m.attached {
		if err := shmdt(p); err != nil && first == nil {
			first = m.fail("shmdt", err)
		}
	}
	m.attached = nil
	m.state.Store(closed)
	return first
}
