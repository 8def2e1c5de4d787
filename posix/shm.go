package posix

/*
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h> // shm_open
*/
import "C"

import (
	"os"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/goipc/ipc/internal/errs"
	"github.com/goipc/ipc/mmap"
)

// ShmOptions says how OpenSharedMemory opens a segment. The zero value opens
// an existing segment for reading and writing.
type ShmOptions struct {
	ReadOnly  bool        // open O_RDONLY: only read-only mappings
	Create    bool        // create the segment if it does not exist
	Exclusive bool        // with Create: fail with fs.ErrExist if it exists; needs Create (EINVAL)
	Mode      os.FileMode // permissions of a new segment, whatever the umask; 0 means 0600 unless ModeSet
	ModeSet   bool        // use Mode even when it is 0 (mode 0000)

	// Size of a new segment, in bytes. An existing segment keeps its size
	// unless Truncate is set, which sets it to Size.
	Size     int64
	Truncate bool
}

// SharedMemory is an open POSIX shared memory segment (the descriptor of
// shm_open) and at most one mapping of it (package mmap's). Its methods are
// safe for concurrent use; the bytes of the mapping are shared with every
// process that maps the segment, so access to them needs a protocol of its
// own (a Semaphore, for instance).
type SharedMemory struct {
	name string

	mu       sync.Mutex
	f        *os.File // nil once closed
	readOnly bool
	mapping  *mmap.Mapping // nil when unmapped
	writable bool          // the mapping's access
}

// OpenSharedMemory opens, or with opts.Create creates, the segment name
// ("/name"; a name without the slash gets one, so names that Python's
// multiprocessing.shared_memory reports work as they are). A nil opts opens
// an existing segment for reading and writing. A segment this call creates or
// truncates gets its memory at once (see Resize).
func OpenSharedMemory(name string, opts *ShmOptions) (*SharedMemory, error) {
	if opts == nil {
		opts = &ShmOptions{}
	}
	name, err := segmentName("shm_open", name)
	if err != nil {
		return nil, err
	}
	perm, err := permOf(opts.Mode, opts.ModeSet)
	if err != nil {
		return nil, errs.Path("shm_open", name, err)
	}
	switch {
	case opts.Size < 0:
		return nil, errs.Path("shm_open", name, errs.Invalid("negative size %d", opts.Size))
	case opts.ReadOnly && (opts.Truncate || opts.Create):
		return nil, errs.Path("shm_open", name, errs.Invalid("a read-only segment cannot be created or resized"))
	}
	flags := unix.O_RDWR
	if opts.ReadOnly {
		flags = unix.O_RDONLY
	}
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	fd := -1
	created, err := createOrOpen(opts.Create, opts.Exclusive, func(extra int) error {
		r, err := C.shm_open(cname, C.int(flags|extra|unix.O_CLOEXEC), C.mode_t(perm))
		if r < 0 {
			return err
		}
		fd = int(r)
		return nil
	})
	if err != nil {
		return nil, errs.Path("shm_open", name, err)
	}
	// The *os.File closes the descriptor if m is dropped unclosed. It leaves
	// the mapping alone: a slice of it may still be in use.
	f := os.NewFile(uintptr(fd), name)
	fail := func(err error) (*SharedMemory, error) {
		if created {
			C.shm_unlink(cname)
		}
		f.Close()
		return nil, err
	}
	if created {
		if err := f.Chmod(os.FileMode(perm)); err != nil { // shm_open applied the umask
			return fail(err)
		}
	}
	if created || opts.Truncate {
		if err := setSize(f, opts.Size); err != nil {
			return fail(err)
		}
	}
	return &SharedMemory{name: name, f: f, readOnly: opts.ReadOnly}, nil
}

// setSize makes segment f size bytes long. It shrinks with ftruncate; it
// grows with mmap.Grow, which allocates the memory (fallocate), so that a
// store into a mapping never meets a full /dev/shm, which would kill the
// program with SIGBUS. A size that the segment's file system or the machine
// cannot hold fails before anything is allocated.
func setSize(f *os.File, size int64) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if size <= fi.Size() {
		return errs.Path("ftruncate", f.Name(), f.Truncate(size))
	}
	st := fi.Sys().(*syscall.Stat_t)
	need := size - st.Blocks*512 // what the segment does not hold yet
	var fs unix.Statfs_t
	rc, err := f.SyscallConn()
	if err == nil {
		rc.Control(func(fd uintptr) { err = unix.Fstatfs(int(fd), &fs) })
	}
	if err != nil {
		return errs.Path("fstatfs", f.Name(), err)
	}
	// A tmpfs without a size limit says it has no blocks.
	if free := int64(fs.Bavail) * fs.Bsize; fs.Blocks > 0 && need > free {
		return errs.Path("fallocate", f.Name(), errs.Hint(syscall.ENOSPC,
			"%d more bytes > %d bytes free in /dev/shm", need, free))
	}
	if err := errs.FitsInMemory("fallocate", f.Name(), need); err != nil {
		return err
	}
	return mmap.Grow(f, size)
}

// Name returns the segment's name, with its leading slash ("" for a nil or
// zero SharedMemory).
func (m *SharedMemory) Name() string {
	if m == nil {
		return ""
	}
	return m.name
}

// lock locks m.mu for a call on the descriptor. It fails, leaving m unlocked,
// after Close and for a nil or zero SharedMemory.
func (m *SharedMemory) lock(op string) error {
	if m == nil || m.name == "" {
		return errs.NotOpen(op, "posix.SharedMemory")
	}
	m.mu.Lock()
	if m.f == nil {
		m.mu.Unlock()
		return errs.Closed(op, m.name)
	}
	return nil
}

// Size returns the segment's current size in bytes (another process may have
// resized it).
func (m *SharedMemory) Size() (int64, error) {
	fi, err := m.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// Stat returns the segment's file in /dev/shm: owner, permissions, size and
// times (Sys() is a *syscall.Stat_t). It asks the descriptor, so it works
// after Unlink too.
func (m *SharedMemory) Stat() (os.FileInfo, error) {
	if err := m.lock("fstat"); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	return m.f.Stat()
}

// Map maps the whole segment, ReadOnly or ReadWrite, and returns its bytes.
// A segment has one mapping at a time: map it again only after Unmap. The
// slice is valid until Unmap, Resize or Close; touching it after that faults.
// Writes are seen at once by every process that maps the segment.
func (m *SharedMemory) Map(access Access) ([]byte, error) {
	if err := m.lock("mmap"); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	switch {
	case m.mapping != nil:
		return nil, errs.Path("mmap", m.name, errs.Invalid("already mapped; Unmap first"))
	case access != ReadOnly && access != ReadWrite:
		return nil, errs.Path("mmap", m.name, errs.Invalid("map access must be ReadOnly or ReadWrite"))
	case access == ReadWrite && m.readOnly:
		return nil, errs.Path("mmap", m.name, errs.Invalid("segment opened read-only cannot be mapped read-write"))
	}
	return m.mapLocked(access == ReadWrite)
}

func (m *SharedMemory) mapLocked(writable bool) ([]byte, error) {
	fi, err := m.f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() == 0 {
		return nil, errs.Path("mmap", m.name, errs.Invalid("the segment is empty (size 0); Resize it first"))
	}
	mode := mmap.ReadOnly
	if writable {
		mode = mmap.ReadWrite
	}
	mapping, err := mmap.Map(m.f, mode, 0, fi.Size())
	if err != nil {
		return nil, err
	}
	m.mapping, m.writable = mapping, writable
	return mapping.Bytes(), nil
}

// Bytes returns the current mapping, or nil when the segment is not mapped.
func (m *SharedMemory) Bytes() []byte {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.mapping.Bytes() // nil for a nil mapping
}

// Unmap removes the mapping; slices of it become invalid.
func (m *SharedMemory) Unmap() error {
	if err := m.lock("munmap"); err != nil {
		return err
	}
	defer m.mu.Unlock()
	return m.unmapLocked()
}

func (m *SharedMemory) unmapLocked() error {
	err := m.mapping.Close() // nil for a nil mapping
	m.mapping = nil
	return err
}

// Resize sets the segment's size. Bytes past the old end read as zero. A
// mapping is replaced by one of the new size, with the same access, and
// returned; the old slice becomes invalid.
//
// Growing allocates the new memory at once (fallocate), and a size beyond the
// free space of /dev/shm fails with an error matching syscall.ENOSPC, so that
// a store into the mapping cannot fault later. (A segment that ftruncate
// alone grew, as Python and most C programs do, gets its pages when they are
// first touched, and a full /dev/shm then kills the process with SIGBUS.)
func (m *SharedMemory) Resize(size int64) ([]byte, error) {
	if err := m.lock("ftruncate"); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	switch {
	case size < 0:
		return nil, errs.Path("ftruncate", m.name, errs.Invalid("negative size %d", size))
	case m.readOnly:
		return nil, errs.Path("ftruncate", m.name, errs.Invalid("segment opened read-only cannot be resized"))
	}
	mapped, writable := m.mapping != nil, m.writable
	if err := m.unmapLocked(); err != nil {
		return nil, err
	}
	if err := setSize(m.f, size); err != nil {
		return nil, err
	}
	if !mapped || size == 0 {
		return nil, nil
	}
	return m.mapLocked(writable)
}

// Close unmaps the segment and closes its descriptor; slices of the mapping
// become invalid. The segment stays until Unlink. Close is safe to call twice
// and on nil.
func (m *SharedMemory) Close() error {
	if m == nil || m.name == "" {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.f == nil {
		return nil
	}
	err := m.unmapLocked()
	if cerr := m.f.Close(); err == nil {
		err = cerr
	}
	m.f = nil
	return err
}

// Unlink removes the segment's name; see UnlinkSharedMemory.
func (m *SharedMemory) Unlink() error {
	if m == nil || m.name == "" {
		return errs.NotOpen("shm_unlink", "posix.SharedMemory")
	}
	return UnlinkSharedMemory(m.name)
}

// UnlinkSharedMemory removes the segment name. Processes that have it open or
// mapped keep using it; its memory is freed when the last one lets go.
func UnlinkSharedMemory(name string) error {
	if _, err := segmentName("shm_unlink", name); err != nil {
		return err
	}
	return unlink("shm_unlink", name, nameMax, func(n *C.char) (C.int, error) {
		r, err := C.shm_unlink(n)
		return r, err
	})
}
