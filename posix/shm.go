package posix

/*
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
*/
import "C"

import (
	"os"
	"runtime"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/goipc/ipc/internal/errs"
)

// ShmOptions says how OpenSharedMemory opens a segment. The zero value opens
// an existing segment for reading and writing.
type ShmOptions struct {
	ReadOnly  bool        // open O_RDONLY: only read-only mappings
	Create    bool        // create the segment if it does not exist
	Exclusive bool        // with Create: fail with fs.ErrExist if it exists
	Mode      os.FileMode // permissions of a new segment, whatever the umask; 0 means 0600 unless ModeSet
	ModeSet   bool        // use Mode even when it is 0 (mode 0000)

	// Size of a new segment, in bytes. An existing segment keeps its size
	// unless Truncate is set, which sets it to Size.
	Size     int64
	Truncate bool
}

// SharedMemory is an open POSIX shared memory segment (the descriptor of
// shm_open) and at most one mapping of it. Its methods are safe for concurrent
// use; the bytes of the mapping are shared with every process that maps the
// segment, so access to them needs a protocol of its own (a Semaphore, for
// instance).
type SharedMemory struct {
	name string

	mu       sync.Mutex
	fd       int // -1 once closed
	readOnly bool
	data     []byte // the mapping, nil when unmapped
	writable bool
	cleanup  runtime.Cleanup // closes fd if m is dropped unclosed
}

// OpenSharedMemory opens, or with opts.Create creates, the segment name
// ("/name"; a name without the slash gets one, so names that Python's
// multiprocessing.shared_memory reports work as they are). A nil opts opens
// an existing segment for reading and writing.
func OpenSharedMemory(name string, opts *ShmOptions) (*SharedMemory, error) {
	if opts == nil {
		opts = &ShmOptions{}
	}
	name, err := canonical("shm_open", name, nameMax)
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
	fail := func(op string, err error) (*SharedMemory, error) {
		if created {
			C.shm_unlink(cname)
		}
		unix.Close(fd)
		return nil, errs.Path(op, name, err)
	}
	if created {
		if err := unix.Fchmod(fd, perm); err != nil { // shm_open applied the umask
			return fail("fchmod", err)
		}
	}
	if created || opts.Truncate {
		if err := unix.Ftruncate(fd, opts.Size); err != nil {
			return fail("ftruncate", err)
		}
	}
	m := &SharedMemory{name: name, fd: fd, readOnly: opts.ReadOnly}
	// A safety net for a forgotten Close. It leaves the mapping alone: a
	// slice of it may still be in use.
	m.cleanup = runtime.AddCleanup(m, func(fd int) { unix.Close(fd) }, fd)
	return m, nil
}

// Name returns the segment's name, with its leading slash.
func (m *SharedMemory) Name() string { return m.name }

// lock locks m.mu for a call on the descriptor. It fails, leaving m unlocked,
// after Close and for a nil or zero SharedMemory (whose fd 0 is not a segment
// but standard input).
func (m *SharedMemory) lock(op string) error {
	if m == nil || m.name == "" {
		return errs.NotOpen(op, "posix.SharedMemory")
	}
	m.mu.Lock()
	if m.fd < 0 {
		m.mu.Unlock()
		return errs.Closed(op, m.name)
	}
	return nil
}

// Size returns the segment's current size in bytes (another process may have
// resized it).
func (m *SharedMemory) Size() (int64, error) {
	if err := m.lock("fstat"); err != nil {
		return 0, err
	}
	defer m.mu.Unlock()
	var st unix.Stat_t
	if err := unix.Fstat(m.fd, &st); err != nil {
		return 0, errs.Path("fstat", m.name, err)
	}
	return st.Size, nil
}

// Stat returns the segment's file in /dev/shm: owner, permissions, size and
// times (Sys() is a *syscall.Stat_t).
func (m *SharedMemory) Stat() (os.FileInfo, error) {
	if err := m.lock("stat"); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	return os.Stat("/dev/shm" + m.name)
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
	case m.data != nil:
		return nil, errs.Path("mmap", m.name, errs.Invalid("already mapped; Unmap first"))
	case access != ReadOnly && access != ReadWrite:
		return nil, errs.Path("mmap", m.name, errs.Invalid("map access must be ReadOnly or ReadWrite"))
	case access == ReadWrite && m.readOnly:
		return nil, errs.Path("mmap", m.name, errs.Invalid("segment opened read-only cannot be mapped read-write"))
	}
	return m.mapLocked(access == ReadWrite)
}

func (m *SharedMemory) mapLocked(writable bool) ([]byte, error) {
	var st unix.Stat_t
	if err := unix.Fstat(m.fd, &st); err != nil {
		return nil, errs.Path("fstat", m.name, err)
	}
	if st.Size == 0 {
		return nil, errs.Path("mmap", m.name, errs.Invalid("the segment is empty (size 0); Resize it first"))
	}
	prot := unix.PROT_READ
	if writable {
		prot |= unix.PROT_WRITE
	}
	data, err := unix.Mmap(m.fd, 0, int(st.Size), prot, unix.MAP_SHARED)
	if err != nil {
		return nil, errs.Path("mmap", m.name, err)
	}
	m.data, m.writable = data, writable
	return data, nil
}

// Bytes returns the current mapping, or nil when the segment is not mapped.
func (m *SharedMemory) Bytes() []byte {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.data
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
	if m.data == nil {
		return nil
	}
	err := unix.Munmap(m.data)
	m.data = nil
	return errs.Path("munmap", m.name, err)
}

// Resize sets the segment's size (ftruncate). Bytes past the old end read as
// zero. A mapping is replaced by one of the new size, with the same access, and
// returned; the old slice becomes invalid.
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
	mapped, writable := m.data != nil, m.writable
	if err := m.unmapLocked(); err != nil {
		return nil, err
	}
	if err := unix.Ftruncate(m.fd, size); err != nil {
		return nil, errs.Path("ftruncate", m.name, err)
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
	if m.fd < 0 {
		return nil
	}
	m.cleanup.Stop()
	err := m.unmapLocked()
	if cerr := unix.Close(m.fd); err == nil && cerr != nil {
		err = errs.Path("close", m.name, cerr)
	}
	m.fd = -1
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
	return unlink("shm_unlink", name, nameMax, func(n *C.char) (C.int, error) {
		r, err := C.shm_unlink(n)
		return r, err
	})
}
