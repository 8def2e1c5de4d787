package mmap

import (
	"errors"
	"io"
	"io/fs"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/goipc/ipc/internal/errs"
)

// Mode says how a mapping may be used and whether writes reach the file.
type Mode int

const (
	// ReadOnly maps for reading (PROT_READ, MAP_SHARED): it sees every write
	// other processes make to the file.
	ReadOnly Mode = iota
	// ReadWrite maps for reading and writing (MAP_SHARED): writes reach the
	// file and every process that maps it. The file must be open O_RDWR.
	ReadWrite
	// Private maps copy-on-write (MAP_PRIVATE): writes stay in this mapping and
	// never reach the file. A read-only file is enough.
	Private
)

func (m Mode) String() string {
	switch m {
	case ReadOnly:
		return "ReadOnly"
	case ReadWrite:
		return "ReadWrite"
	case Private:
		return "Private"
	}
	return "Mode(" + strconv.Itoa(int(m)) + ")"
}

// prot and flags are the mmap arguments of a valid mode.
func (m Mode) prot() (prot, flags int) {
	switch m {
	case ReadOnly:
		return unix.PROT_READ, unix.MAP_SHARED
	case ReadWrite:
		return unix.PROT_READ | unix.PROT_WRITE, unix.MAP_SHARED
	}
	return unix.PROT_READ | unix.PROT_WRITE, unix.MAP_PRIVATE
}

var pageSize = int64(os.Getpagesize())

// A Mapping is a file, part of a file, or anonymous shared memory mapped into
// this process. Its methods are safe for concurrent use; Close and Remap wait
// for ReadAt and WriteAt calls in progress.
type Mapping struct {
	mu    sync.RWMutex
	base  []byte // the whole mapping as mmap returned it, from a page boundary; nil once closed
	data  []byte // what the caller asked for: base[delta:]
	delta int64  // offset of data in base: the file offset modulo the page size
	off   int64  // file offset of data[0]
	mode  Mode
	file  *os.File // a descriptor of our own, for Remap and File
	anon  bool     // memory from Shared: Remap grows the memfd
	name  string   // for errors
}

// Map maps length bytes of f from offset, which need not be page aligned. The
// range must lie inside the file. Map does not take ownership of f: the caller
// closes it when it likes, the mapping keeps a descriptor of its own.
func Map(f *os.File, mode Mode, offset, length int64) (*Mapping, error) {
	if f == nil {
		return nil, errs.Syscall("mmap", errs.Invalid("nil *os.File"))
	}
	name := f.Name()
	if mode < ReadOnly || mode > Private {
		return nil, errs.Path("mmap", name, errs.Invalid("unknown mode %d (want ReadOnly, ReadWrite or Private)", mode))
	}
	if offset < 0 || length <= 0 {
		return nil, errs.Path("mmap", name, errs.Invalid("offset %d, length %d: want offset >= 0 and length > 0", offset, length))
	}
	m := &Mapping{mode: mode, off: offset, name: name}
	err := control(f, func(fd int) error {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			return errs.Syscall("fstat", err)
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			return syscall.EISDIR
		case unix.S_IFREG:
			if offset >= st.Size || length > st.Size-offset {
				return errs.Invalid("offset %d + length %d is past the end of the %d-byte file", offset, length, st.Size)
			}
		}
		return m.mmap(fd, length)
	})
	if err != nil {
		return nil, errs.Path("mmap", name, err)
	}
	return m, nil
}

// mmap maps length bytes of fd from m.off, from the page boundary below it,
// and takes a descriptor of its own.
func (m *Mapping) mmap(fd int, length int64) error {
	start := m.off &^ (pageSize - 1)
	m.delta = m.off - start
	if length > math.MaxInt-m.delta {
		return errs.Invalid("length %d is too large to map", length)
	}
	prot, flags := m.mode.prot()
	base, err := unix.Mmap(fd, start, int(m.delta+length), prot, flags)
	switch {
	case errors.Is(err, unix.EACCES) && m.mode == ReadWrite:
		return errs.Hint(err, "ReadWrite needs the file open for reading and writing")
	case errors.Is(err, unix.EACCES):
		return errs.Hint(err, "mapping needs the file open for reading")
	case errors.Is(err, unix.EPERM) && m.mode == ReadWrite:
		return errs.Hint(err, "a memfd sealed against writing (F_SEAL_WRITE, F_SEAL_FUTURE_WRITE) maps only ReadOnly")
	case errors.Is(err, unix.ENODEV):
		return errs.Hint(err, "this kind of file cannot be mapped")
	case err != nil:
		return err
	}
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		unix.Munmap(base)
		return errs.Syscall("dup", err)
	}
	m.base, m.data = base, base[m.delta:]
	m.file = os.NewFile(uintptr(dup), m.name)
	return nil
}

// Open maps the whole of the file at path. It opens the file read-only for
// ReadOnly and Private, and read-write for ReadWrite.
func Open(path string, mode Mode) (*Mapping, error) {
	// O_NONBLOCK: a FIFO opened for reading would wait for a writer, where
	// mapAll refuses it; regular files ignore the flag.
	flag := os.O_RDONLY | unix.O_NONBLOCK
	if mode == ReadWrite {
		flag = os.O_RDWR | unix.O_NONBLOCK
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return mapAll(f, mode)
}

// Inherit maps the whole of f for reading and writing: in a child process, the
// descriptor of Shared memory (or of a file) that the parent passed it, for
// example os.NewFile(3, "shared") for the first of exec.Cmd.ExtraFiles. The
// caller may close f afterwards.
func Inherit(f *os.File) (*Mapping, error) { return mapAll(f, ReadWrite) }

func mapAll(f *os.File, mode Mode) (*Mapping, error) {
	if f == nil {
		return Map(nil, mode, 0, 0)
	}
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	switch {
	case st.Mode().IsRegular() && st.Size() == 0:
		return nil, errs.Path("mmap", f.Name(), errs.Invalid("the file is empty and mmap cannot map 0 bytes (Create or Grow gives it a size)"))
	case st.Size() == 0:
		return nil, errs.Path("mmap", f.Name(), errs.Invalid("not a regular file or shared memory (mode %v): it has no size to map whole", st.Mode()))
	}
	return Map(f, mode, 0, st.Size())
}

// Create opens path for reading and writing, creating it with mode perm
// (exactly perm, whatever the umask; permission bits only) when it does not
// exist, makes it at least size bytes long (zeros; an existing larger file
// keeps its size and content) and maps its first size bytes ReadWrite. When
// it fails, a file it created is removed.
func Create(path string, size int64, perm fs.FileMode) (*Mapping, error) {
	f, err := CreateFile(path, size, perm)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Map(f, ReadWrite, 0, size)
}

// CreateFile is Create without the mapping: it returns the file, open for
// reading and writing and at least size bytes long, for Map to map part of it.
func CreateFile(path string, size int64, perm fs.FileMode) (*os.File, error) {
	if size <= 0 {
		return nil, errs.Path("create", path, errs.Invalid("size %d: want a positive size", size))
	}
	if err := errs.PermOnly(perm); err != nil {
		return nil, errs.Path("create", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
	created := err == nil
	if created {
		err = f.Chmod(perm) // open applied the umask
	} else if errors.Is(err, fs.ErrExist) {
		f, err = os.OpenFile(path, os.O_RDWR, 0)
	}
	if err == nil {
		err = Grow(f, size)
	}
	if err != nil {
		if f != nil {
			f.Close()
		}
		if created { // a failed Create leaves no empty file behind
			os.Remove(path)
		}
		return nil, err
	}
	return f, nil
}

// Grow makes f at least size bytes long, filling with zeros, and never
// shrinks it. It allocates the blocks (fallocate) where the file system can, so
// that a write through a mapping cannot meet a full disk, which would be a
// SIGBUS; elsewhere it extends the file with ftruncate.
func Grow(f *os.File, size int64) error {
	if f == nil {
		return errs.Syscall("grow", errs.Invalid("nil *os.File"))
	}
	if size < 0 {
		return errs.Path("grow", f.Name(), errs.Invalid("negative size %d", size))
	}
	if size == 0 {
		return nil
	}
	err := control(f, func(fd int) error {
		err := unix.Fallocate(fd, 0, 0, size)
		if !errors.Is(err, unix.EOPNOTSUPP) {
			return errs.Syscall("fallocate", err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil || st.Size >= size {
			return errs.Syscall("fstat", err)
		}
		return errs.Syscall("ftruncate", unix.Ftruncate(fd, size))
	})
	return errs.Path("grow", f.Name(), err)
}

// Shared returns size bytes of anonymous shared memory, zeroed, that other
// processes can map too: it lives in a memfd (memfd_create), whose descriptor
// File returns. A child started with that file in exec.Cmd.ExtraFiles maps the
// same memory with Inherit. (Memory from MAP_SHARED|MAP_ANONYMOUS would reach
// only a forked child, and Go starts children with fork+exec.) The memory lives
// as long as some process maps it or holds the descriptor.
func Shared(size int64) (*Mapping, error) {
	const name = "memfd:goipc-mmap"
	if size <= 0 {
		return nil, errs.Path("mmap", name, errs.Invalid("size %d: want a positive size", size))
	}
	fd, err := unix.MemfdCreate("goipc-mmap", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, errs.Path("memfd_create", name, err)
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	if err := growMemory(f, size); err != nil {
		return nil, err
	}
	m, err := Map(f, ReadWrite, 0, size)
	if m != nil {
		m.anon = true
	}
	return m, err
}

// growMemory is Grow for the memfd of Shared memory. A memfd has no size
// limit, and fallocate fills it with pages of RAM that belong to no process:
// asked for more than the machine has, it would run until the OOM killer had
// killed other programs. So a size beyond RAM and swap fails before the call.
func growMemory(f *os.File, size int64) error {
	if err := errs.FitsInMemory("grow", f.Name(), size); err != nil {
		return err
	}
	return Grow(f, size)
}

// control runs fn with f's descriptor, which stays open while fn runs.
func control(f *os.File, fn func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return os.ErrClosed // Control fails only for a closed file, with an error of its own
	}
	return ferr
}

// rlock read-locks m for a call; for a nil m it fails, and locks nothing.
func (m *Mapping) rlock(op string) error {
	if m == nil {
		return errs.NotOpen(op, "mmap.Mapping")
	}
	m.mu.RLock()
	return nil
}

// Len returns the length of the mapping in bytes, 0 once closed.
func (m *Mapping) Len() int {
	if m == nil {
		return 0
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.data)
}

// Bytes returns the mapped memory. The slice is valid only until Close or
// Remap: touching it afterwards crashes the program (SIGSEGV). A fault while
// reading or writing it, as when another process truncates the file, is a
// SIGBUS that kills the program: only ReadAt and WriteAt turn faults into
// errors.
func (m *Mapping) Bytes() []byte {
	if m == nil {
		return nil
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.data
}

// File returns the descriptor the mapping holds (the memfd of Shared memory),
// to pass to a child in exec.Cmd.ExtraFiles. It stays owned by the mapping and
// is closed by Close; nil once closed.
func (m *Mapping) File() *os.File {
	if m == nil {
		return nil
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.base == nil { // closed: a closed *os.File would fail later, in exec
		return nil
	}
	return m.file
}

// ReadAt copies from the mapping at off into p, as io.ReaderAt does: fewer
// bytes than len(p) only at the end of the mapping, with io.EOF. A memory fault
// (the file was truncated under the mapping) is an error matching
// syscall.EFAULT, not a crash.
func (m *Mapping) ReadAt(p []byte, off int64) (int, error) {
	if err := m.rlock("read"); err != nil {
		return 0, err
	}
	defer m.mu.RUnlock()
	if err := m.check("read", off); err != nil || len(p) == 0 {
		return 0, err
	}
	if off >= int64(len(m.data)) {
		return 0, io.EOF
	}
	n := min(len(p), len(m.data)-int(off))
	if err := safeCopy(p[:n], m.data[off:]); err != nil {
		return 0, errs.Path("read", m.name, err)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// WriteAt copies p into the mapping at off, as io.WriterAt does. A mapping does
// not grow: a write that does not fit writes nothing and fails. A memory fault
// is an error matching syscall.EFAULT, as for ReadAt.
func (m *Mapping) WriteAt(p []byte, off int64) (int, error) {
	if err := m.rlock("write"); err != nil {
		return 0, err
	}
	defer m.mu.RUnlock()
	if err := m.check("write", off); err != nil {
		return 0, err
	}
	if m.mode == ReadOnly {
		return 0, errs.Path("write", m.name, errs.Hint(syscall.EACCES, "the mapping is ReadOnly"))
	}
	if int64(len(p)) > int64(len(m.data))-off {
		return 0, errs.Path("write", m.name, errs.Invalid("%d bytes at offset %d do not fit in the %d-byte mapping", len(p), off, len(m.data)))
	}
	if err := safeCopy(m.data[off:], p); err != nil {
		return 0, errs.Path("write", m.name, err)
	}
	return len(p), nil
}

// check validates the state and offset of a call; m.mu is held.
func (m *Mapping) check(op string, off int64) error {
	if m.base == nil {
		return errs.Closed(op, m.name)
	}
	if off < 0 {
		return errs.Path(op, m.name, errs.Invalid("negative offset %d", off))
	}
	return nil
}

// safeCopy copies src to dst and turns a memory fault into an error: with
// SetPanicOnFault the runtime panics on a SIGBUS or SIGSEGV in this goroutine
// instead of crashing, and the panic is recovered here.
func safeCopy(dst, src []byte) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		fault, ok := r.(interface{ Addr() uintptr })
		if !ok {
			panic(r)
		}
		err = errs.Hint(syscall.EFAULT, "memory fault at %#x: was the file truncated under the mapping?", fault.Addr())
	}()
	copy(dst, src)
	return nil
}

// Remap changes the length of the mapping to length bytes (mremap), in place
// or by moving it: slices from Bytes and pointers from AtomicInt64 and
// AtomicUint32 are invalid afterwards. A file mapping stays inside the file
// (Grow the file first); Shared memory grows its memfd as needed.
func (m *Mapping) Remap(length int64) error {
	if m == nil {
		return errs.NotOpen("mremap", "mmap.Mapping")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.base == nil {
		return errs.Closed("mremap", m.name)
	}
	if length <= 0 || length > math.MaxInt-m.delta {
		return errs.Path("mremap", m.name, errs.Invalid("length %d: want a positive length", length))
	}
	if m.anon {
		if err := growMemory(m.file, m.off+length); err != nil {
			return err
		}
	}
	st, err := m.file.Stat()
	if err != nil {
		return err
	}
	if st.Mode().IsRegular() && length > st.Size()-m.off {
		return errs.Path("mremap", m.name, errs.Invalid("offset %d + length %d is past the end of the %d-byte file", m.off, length, st.Size()))
	}
	base, err := unix.Mremap(m.base, int(m.delta+length), unix.MREMAP_MAYMOVE)
	if err != nil {
		return errs.Path("mremap", m.name, err)
	}
	m.base, m.data = base, base[m.delta:]
	return nil
}

// Close unmaps the memory and closes the mapping's descriptor. Slices from
// Bytes and pointers from AtomicInt64 and AtomicUint32 are invalid afterwards:
// touching them crashes the program. Close is idempotent and nil-safe; other
// methods then fail with an error matching os.ErrClosed.
func (m *Mapping) Close() error {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.base == nil {
		return nil
	}
	err := unix.Munmap(m.base)
	m.base, m.data = nil, nil
	cerr := m.file.Close()
	if err != nil {
		return errs.Path("munmap", m.name, err)
	}
	return cerr
}
