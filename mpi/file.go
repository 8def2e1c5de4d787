package mpi

// #include <stdlib.h>
// #include "shim.h"
import "C"

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"unsafe"
)

// The error classes of MPI-IO.
const (
	ErrFile                 Class = C.MPI_ERR_FILE                  // a bad file handle
	ErrNotSame              Class = C.MPI_ERR_NOT_SAME              // a collective call's arguments differ between processes
	ErrAmode                Class = C.MPI_ERR_AMODE                 // a bad access mode
	ErrUnsupportedDatarep   Class = C.MPI_ERR_UNSUPPORTED_DATAREP   // a data representation the library lacks
	ErrUnsupportedOperation Class = C.MPI_ERR_UNSUPPORTED_OPERATION // such as a seek on a sequential file
	ErrNoSuchFile           Class = C.MPI_ERR_NO_SUCH_FILE          // also matches fs.ErrNotExist
	ErrFileExists           Class = C.MPI_ERR_FILE_EXISTS           // also matches fs.ErrExist
	ErrBadFile              Class = C.MPI_ERR_BAD_FILE              // a bad file name
	ErrAccess               Class = C.MPI_ERR_ACCESS                // permission denied; also matches fs.ErrPermission
	ErrNoSpace              Class = C.MPI_ERR_NO_SPACE
	ErrQuota                Class = C.MPI_ERR_QUOTA
	ErrReadOnly             Class = C.MPI_ERR_READ_ONLY
	ErrFileInUse            Class = C.MPI_ERR_FILE_IN_USE
	ErrDupDatarep           Class = C.MPI_ERR_DUP_DATAREP
	ErrConversion           Class = C.MPI_ERR_CONVERSION
	ErrIO                   Class = C.MPI_ERR_IO // any other I/O failure
)

func init() {
	for c, name := range map[Class]string{
		ErrFile: "MPI_ERR_FILE", ErrNotSame: "MPI_ERR_NOT_SAME", ErrAmode: "MPI_ERR_AMODE",
		ErrUnsupportedDatarep: "MPI_ERR_UNSUPPORTED_DATAREP", ErrUnsupportedOperation: "MPI_ERR_UNSUPPORTED_OPERATION",
		ErrNoSuchFile: "MPI_ERR_NO_SUCH_FILE", ErrFileExists: "MPI_ERR_FILE_EXISTS", ErrBadFile: "MPI_ERR_BAD_FILE",
		ErrAccess: "MPI_ERR_ACCESS", ErrNoSpace: "MPI_ERR_NO_SPACE", ErrQuota: "MPI_ERR_QUOTA",
		ErrReadOnly: "MPI_ERR_READ_ONLY", ErrFileInUse: "MPI_ERR_FILE_IN_USE", ErrDupDatarep: "MPI_ERR_DUP_DATAREP",
		ErrConversion: "MPI_ERR_CONVERSION", ErrIO: "MPI_ERR_IO",
	} {
		classNames[c] = name
	}
}

// AccessMode says how Open opens a file (MPI_MODE_*): exactly one of
// ModeReadOnly, ModeWriteOnly and ModeReadWrite, or'ed with any of the
// others that fit it.
type AccessMode int

// The access modes of MPI_File_open.
const (
	ModeReadOnly      AccessMode = C.MPI_MODE_RDONLY
	ModeWriteOnly     AccessMode = C.MPI_MODE_WRONLY
	ModeReadWrite     AccessMode = C.MPI_MODE_RDWR
	ModeCreate        AccessMode = C.MPI_MODE_CREATE          // create the file if it does not exist
	ModeExcl          AccessMode = C.MPI_MODE_EXCL            // with ModeCreate: fail if it exists
	ModeDeleteOnClose AccessMode = C.MPI_MODE_DELETE_ON_CLOSE // delete the file at Close
	ModeUniqueOpen    AccessMode = C.MPI_MODE_UNIQUE_OPEN     // no one else opens the file meanwhile
	ModeSequential    AccessMode = C.MPI_MODE_SEQUENTIAL      // the file is read or written only in sequence
	ModeAppend        AccessMode = C.MPI_MODE_APPEND          // the file pointers start at the end
)

var modeNames = []struct {
	m    AccessMode
	name string
}{
	{ModeReadOnly, "ModeReadOnly"}, {ModeWriteOnly, "ModeWriteOnly"}, {ModeReadWrite, "ModeReadWrite"},
	{ModeCreate, "ModeCreate"}, {ModeExcl, "ModeExcl"}, {ModeDeleteOnClose, "ModeDeleteOnClose"},
	{ModeUniqueOpen, "ModeUniqueOpen"}, {ModeSequential, "ModeSequential"}, {ModeAppend, "ModeAppend"},
}

// String names the flags of m: "ModeWriteOnly|ModeCreate".
func (m AccessMode) String() string {
	var names []string
	rest := m
	for _, n := range modeNames {
		if m&n.m != 0 {
			names = append(names, n.name)
			rest &^= n.m
		}
	}
	if rest != 0 || len(names) == 0 {
		names = append(names, "AccessMode("+strconv.Itoa(int(rest))+")")
	}
	return strings.Join(names, "|")
}

// checkMode refuses the combinations the standard makes erroneous, which the
// libraries do not all catch.
func checkMode(op string, m AccessMode) error {
	known := AccessMode(0)
	for _, n := range modeNames {
		known |= n.m
	}
	rw := 0
	for _, a := range []AccessMode{ModeReadOnly, ModeWriteOnly, ModeReadWrite} {
		if m&a != 0 {
			rw++
		}
	}
	switch {
	case m&^known != 0:
		return invalid(op, ErrAmode, "unknown access mode bits in %v", m)
	case rw != 1:
		return invalid(op, ErrAmode, "access mode %v: exactly one of ModeReadOnly, ModeWriteOnly and ModeReadWrite", m)
	case m&ModeReadOnly != 0 && m&(ModeCreate|ModeExcl) != 0:
		return invalid(op, ErrAmode, "access mode %v: a read-only file cannot be created", m)
	case m&ModeReadWrite != 0 && m&ModeSequential != 0:
		return invalid(op, ErrAmode, "access mode %v: a sequential file is read or written, not both", m)
	}
	return nil
}

// DataRep is a data representation of a file's view (SetView): how the
// elements are laid out in the file.
type DataRep string

// The data representations every MPI library has.
const (
	Native     DataRep = "native"     // the bytes as they are in memory: numpy.fromfile reads them
	Internal   DataRep = "internal"   // the library's own, portable between its builds
	External32 DataRep = "external32" // big-endian IEEE, portable between libraries
)

// fileState is where a File is in its life; the zero state is that of a
// File this package did not make.
type fileState uint8

const (
	fileZero fileState = iota
	fileOpen
	fileClosed
)

// File is a file opened by every process of a communicator (MPI_File), read
// and written through MPI-IO: independently (Read, Write, ReadAt, WriteAt),
// collectively (ReadAll, WriteAll, ReadAtAll, WriteAtAll, and ReadOrdered,
// WriteOrdered through the shared file pointer), or without blocking (Iread,
// Iwrite, IreadAt, IwriteAt and their All forms). Offsets and counts are in
// elements: etypes of the file's view (SetView; bytes until one is set).
//
// Close closes it, collectively, after every nonblocking operation on it has
// completed. A File returns errors (MPI_ERRORS_RETURN, MPI-IO's default);
// a nil, zero or closed File returns errors matching os.ErrClosed.
//
// A File may be used from several goroutines when the thread level allows
// it (see Init), but Close and SetView must not race with its use, and a
// nonblocking call on f must not race with the completion of another of
// f's requests (starting one looks at those started before, to forget the
// completed ones).
type File struct {
	f     C.MPI_File
	state fileState
	path  string
	mode  AccessMode
	etype int // the size of the view's etype in bytes, for ReaderAt and WriterAt

	mu      sync.Mutex
	pending []*Request // nonblocking operations started on the file, for Close to check
}

// Open opens path on every process of c (MPI_File_open), collectively: every
// process passes the same path and mode. info may carry hints (such as
// "cb_buffer_size" or "striping_unit") or be nil. A file that Open creates
// gets permissions 0600, whatever the umask: MPI creates it with 0666 less
// the umask and rank 0 of c, which creates it in both libraries, narrows
// them after the call.
func Open(c *Comm, path string, mode AccessMode, info *Info) (*File, error) {
	const op = "MPI_File_open"
	h, err := c.handle(op)
	if err != nil {
		return nil, err
	}
	if err := checkMode(op, mode); err != nil {
		return nil, err
	}
	if path == "" || strings.IndexByte(path, 0) >= 0 {
		return nil, invalid(op, ErrBadFile, "file name %q: not empty, no NUL", path)
	}
	in, err := infoArg(op, info)
	if err != nil {
		return nil, err
	}
	creating := false
	if mode&ModeCreate != 0 && c.Rank() == 0 {
		_, err := os.Lstat(path)
		creating = errors.Is(err, fs.ErrNotExist)
	}
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	var fh C.MPI_File
	if err := fileError(op, path, C.MPI_File_open(h, cp, C.int(mode), in, &fh)); err != nil {
		return nil, err
	}
	f := &File{f: fh, state: fileOpen, path: path, mode: mode, etype: 1}
	if err := f.check("MPI_File_set_errhandler", C.MPI_File_set_errhandler(fh, C.goipc_errors_return)); err != nil {
		C.MPI_File_close(&f.f)
		return nil, err
	}
	if creating {
		// A path with a file-system prefix ("ufs:/tmp/x") is not one the
		// os package finds: it keeps MPI's permissions.
		os.Chmod(path, 0o600)
	}
	return f, nil
}

// Delete deletes the file path (MPI_File_delete); a file still open
// elsewhere may or may not be deleted, as the library decides. A missing
// file gives an error matching ErrNoSuchFile and fs.ErrNotExist. info may be
// nil.
func Delete(path string, info *Info) error {
	const op = "MPI_File_delete"
	if err := running(op); err != nil {
		return err
	}
	if path == "" || strings.IndexByte(path, 0) >= 0 {
		return invalid(op, ErrBadFile, "file name %q: not empty, no NUL", path)
	}
	in, err := infoArg(op, info)
	if err != nil {
		return err
	}
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	return fileError(op, path, C.MPI_File_delete(cp, in))
}

// fileError is check for the calls on a file: the message names the file,
// and the classes that say the file is missing, exists already, or may not
// be accessed also match fs.ErrNotExist, fs.ErrExist and fs.ErrPermission.
func fileError(op, path string, rc C.int) error {
	if rc == C.MPI_SUCCESS {
		return nil
	}
	e, ok := mpiError(op, rc).(*Error)
	if !ok {
		return mpiError(op, rc)
	}
	e.Msg = path + ": " + e.Msg
	switch e.Class {
	case ErrNoSuchFile:
		e.cause = fs.ErrNotExist
	case ErrFileExists:
		e.cause = fs.ErrExist
	case ErrAccess:
		e.cause = fs.ErrPermission
	}
	return e
}

func (f *File) check(op string, rc C.int) error { return fileError(op, f.path, rc) }

// notOpen is the error of a nil or zero File: it matches os.ErrInvalid, as
// every handle this package did not make does, and os.ErrClosed, as a File
// that was never opened is not open.
var notOpen = errors.Join(os.ErrInvalid, os.ErrClosed)

// handle returns the C file, or an error if MPI may not be called now or f
// is nil, zero or closed.
func (f *File) handle(op string) (C.MPI_File, error) {
	if f == nil || f.state == fileZero {
		return C.goipc_file_null, &Error{Op: op, Class: ErrFile, Msg: "nil or zero File (not made by Open)", cause: notOpen}
	}
	if f.state == fileClosed {
		return C.goipc_file_null, closed(op, f.path+": file is closed")
	}
	return f.f, running(op)
}

// Path returns the name f was opened with, or "" for a nil or zero File.
func (f *File) Path() string {
	if f == nil {
		return ""
	}
	return f.path
}

// Mode returns the access mode f was opened with (MPI_File_get_amode, kept
// from Open), or 0 for a nil or zero File.
func (f *File) Mode() AccessMode {
	if f == nil {
		return 0
	}
	return f.mode
}

// Close closes f (MPI_File_close), collectively, and deletes the file if it
// was opened with ModeDeleteOnClose. While a nonblocking operation on f is
// unfinished it returns an error matching ErrPending and leaves f open: the
// standard makes closing then erroneous. It is nil-safe, and a second Close
// returns nil at once. After Finalize it returns an error matching
// os.ErrClosed. A File never closed is closed by Open MPI's Finalize, and
// by MPICH's not at all (see "Parallel I/O" in the package documentation).
func (f *File) Close() error {
	const op = "MPI_File_close"
	if f == nil || f.state != fileOpen {
		return nil
	}
	if err := running(op); err != nil {
		return err
	}
	if n := f.unfinished(); n > 0 {
		return &Error{Op: op, Class: ErrPending, Msg: f.path + ": " + plural(n, "nonblocking operation") + " unfinished: Wait or Test them first"}
	}
	if err := f.check(op, C.MPI_File_close(&f.f)); err != nil {
		return err
	}
	f.state = fileClosed
	return nil
}

// track remembers a nonblocking operation on f, and forgets those that
// have completed.
func (f *File) track(r *Request) {
	f.mu.Lock()
	f.pending = append(deleteDone(f.pending), r)
	f.mu.Unlock()
}

// unfinished returns how many of f's nonblocking operations are still active.
func (f *File) unfinished() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending = deleteDone(f.pending)
	return len(f.pending)
}

func deleteDone(rs []*Request) []*Request {
	out := rs[:0]
	for _, r := range rs {
		if r.state == requestActive {
			out = append(out, r)
		}
	}
	clear(rs[len(out):])
	return out
}

// SetView sets what f's process sees of the file (MPI_File_set_view),
// collectively: from disp bytes on, the file is filetype repeated, of which
// this process sees the etypes filetype holds (its holes belong to others).
// Offsets and counts of later calls count etypes; datarep is how they are
// laid out in the file. Both datatypes must be committed (TypeOf's are);
// info may be nil. Every process passes the same etype and datarep. The
// view resets both file pointers to 0.
func (f *File) SetView(disp int64, etype, filetype *Datatype, datarep DataRep, info *Info) error {
	const op = "MPI_File_set_view"
	h, err := f.handle(op)
	if err != nil {
		return err
	}
	if disp < 0 {
		return invalid(op, ErrArg, "displacement %d is negative", disp)
	}
	e, err := etype.handle(op)
	if err != nil {
		return err
	}
	ft, err := filetype.handle(op)
	if err != nil {
		return err
	}
	if !etype.committed || !filetype.committed {
		return invalid(op, ErrType, "the etype and the filetype must be committed (call Commit)")
	}
	if datarep == "" || len(datarep) >= C.MPI_MAX_DATAREP_STRING || strings.IndexByte(string(datarep), 0) >= 0 {
		return invalid(op, ErrUnsupportedDatarep, "data representation %q", datarep)
	}
	in, err := infoArg(op, info)
	if err != nil {
		return err
	}
	cd := C.CString(string(datarep))
	defer C.free(unsafe.Pointer(cd))
	if err := f.check(op, C.MPI_File_set_view(h, C.MPI_Offset(disp), e, ft, cd, in)); err != nil {
		return err
	}
	f.etype = etype.size
	return nil
}

// How a data call uses the file, for the checks that precede it.
type ioKind uint8

const (
	reads    ioKind = 1 << iota // reads the file: not on a ModeWriteOnly one
	writes                      // writes it: not on a ModeReadOnly one
	explicit                    // at an explicit offset: not on a ModeSequential file
)

// ioArgs is what a data call passes to MPI.
type ioArgs struct {
	fh  C.MPI_File
	off C.MPI_Offset
	p   unsafe.Pointer
	n   C.int
	t   C.MPI_Datatype
}

// args checks a data call on f of buf at off (for the explicit-offset
// calls) before MPI sees it.
func args[T Type](op string, f *File, buf []T, how ioKind, off int64) (ioArgs, error) {
	h, err := f.handle(op)
	if err != nil {
		return ioArgs{}, err
	}
	switch {
	case how&reads != 0 && f.mode&ModeWriteOnly != 0:
		return ioArgs{}, invalid(op, ErrAccess, "%s: the file is open write-only", f.path)
	case how&writes != 0 && f.mode&ModeReadOnly != 0:
		return ioArgs{}, invalid(op, ErrReadOnly, "%s: the file is open read-only", f.path)
	case how&explicit != 0 && f.mode&ModeSequential != 0:
		return ioArgs{}, invalid(op, ErrUnsupportedOperation, "%s: a ModeSequential file has no explicit offsets", f.path)
	case off < 0:
		return ioArgs{}, invalid(op, ErrArg, "offset %d is negative", off)
	}
	p, n, err := buffer(op, buf)
	if err != nil {
		return ioArgs{}, err
	}
	return ioArgs{fh: h, off: C.MPI_Offset(off), p: p, n: n, t: datatype[T]()}, nil
}

// transfer makes a blocking data call and returns how many elements of T
// it read or wrote.
func transfer[T Type](op string, f *File, buf []T, how ioKind, off int64, call func(a *ioArgs, st *C.MPI_Status) C.int) (int, error) {
	a, err := args(op, f, buf, how, off)
	if err != nil {
		return 0, err
	}
	var st C.MPI_Status
	if err := f.check(op, call(&a, &st)); err != nil {
		return 0, err
	}
	if a.n == 0 {
		return 0, nil
	}
	return elements(&st, a.t), nil
}

// elements returns the number of whole elements of t a data call moved: a
// read that meets the end of the file moves fewer than it asked for, maybe
// part of one.
func elements(st *C.MPI_Status, t C.MPI_Datatype) int {
	var bytes, size C.MPI_Count
	C.MPI_Get_elements_x(st, C.goipc_types[tByte], &bytes)
	C.MPI_Type_size_x(t, &size)
	if bytes <= 0 || size <= 0 {
		return 0
	}
	return int(bytes / size)
}

// start starts a nonblocking data call; the Request pins buf until it
// completes, and f remembers it for Close.
func start[T Type](op string, f *File, buf []T, how ioKind, off int64, call func(a *ioArgs, r *C.MPI_Request) C.int) (*Request, error) {
	a, err := args(op, f, buf, how, off)
	if err != nil {
		return nil, err
	}
	req, err := startKind(op, kindFile, long(buf), func(r *C.MPI_Request) C.int { return call(&a, r) }, a.p)
	if err != nil {
		return nil, err
	}
	f.track(req)
	return req, nil
}

// Read reads len(buf) elements at f's individual file pointer and moves it
// past them (MPI_File_read), and returns how many it read: fewer at the end
// of the file, and 0, with a nil error, past it.
func Read[T Type](f *File, buf []T) (int, error) {
	return transfer("MPI_File_read", f, buf, reads, 0, func(a *ioArgs, st *C.MPI_Status) C.int {
		return C.MPI_File_read(a.fh, a.p, a.n, a.t, st)
	})
}

// Write writes buf at f's individual file pointer and moves it past them
// (MPI_File_write), and returns how many elements it wrote.
func Write[T Type](f *File, buf []T) (int, error) {
	return transfer("MPI_File_write", f, buf, writes, 0, func(a *ioArgs, st *C.MPI_Status) C.int {
		return C.MPI_File_write(a.fh, a.p, a.n, a.t, st)
	})
}

// ReadAt is Read at offset off of the view, in etypes, leaving the file
// pointers alone (MPI_File_read_at).
func ReadAt[T Type](f *File, buf []T, off int64) (int, error) {
	return transfer("MPI_File_read_at", f, buf, reads|explicit, off, func(a *ioArgs, st *C.MPI_Status) C.int {
		return C.MPI_File_read_at(a.fh, a.off, a.p, a.n, a.t, st)
	})
}

// WriteAt is Write at offset off of the view, in etypes (MPI_File_write_at).
func WriteAt[T Type](f *File, buf []T, off int64) (int, error) {
	return transfer("MPI_File_write_at", f, buf, writes|explicit, off, func(a *ioArgs, st *C.MPI_Status) C.int {
		return C.MPI_File_write_at(a.fh, a.off, a.p, a.n, a.t, st)
	})
}

// ReadAll is Read by every process of f's communicator together
// (MPI_File_read_all), which lets MPI merge their pieces into large
// accesses (two-phase I/O). A process with nothing to read passes an empty
// buf.
func ReadAll[T Type](f *File, buf []T) (int, error) {
	return transfer("MPI_File_read_all", f, buf, reads, 0, func(a *ioArgs, st *C.MPI_Status) C.int {
		return C.MPI_File_read_all(a.fh, a.p, a.n, a.t, st)
	})
}

// WriteAll is Write by every process together (MPI_File_write_all).
func WriteAll[T Type](f *File, buf []T) (int, error) {
	return transfer("MPI_File_write_all", f, buf, writes, 0, func(a *ioArgs, st *C.MPI_Status) C.int {
		return C.MPI_File_write_all(a.fh, a.p, a.n, a.t, st)
	})
}

// ReadAtAll is ReadAt by every process together (MPI_File_read_at_all).
func ReadAtAll[T Type](f *File, buf []T, off int64) (int, error) {
	return transfer("MPI_File_read_at_all", f, buf, reads|explicit, off, func(a *ioArgs, st *C.MPI_Status) C.int {
		return C.MPI_File_read_at_all(a.fh, a.off, a.p, a.n, a.t, st)
	})
}

// WriteAtAll is WriteAt by every process together (MPI_File_write_at_all).
func WriteAtAll[T Type](f *File, buf []T, off int64) (int, error) {
	return transfer("MPI_File_write_at_all", f, buf, writes|explicit, off, func(a *ioArgs, st *C.MPI_Status) C.int {
		return C.MPI_File_write_at_all(a.fh, a.off, a.p, a.n, a.t, st)
	})
}

// ReadShared reads at the file pointer that every process of f shares,
// moving it past what it read (MPI_File_read_shared): concurrent calls of
// several processes each get a different piece, in no set order.
func ReadShared[T Type](f *File, buf []T) (int, error) {
	return transfer("MPI_File_read_shared", f, buf, reads, 0, func(a *ioArgs, st *C.MPI_Status) C.int {
		return C.MPI_File_read_shared(a.fh, a.p, a.n, a.t, st)
	})
}

// WriteShared writes at the shared file pointer (MPI_File_write_shared):
// a log that several processes append to.
func WriteShared[T Type](f *File, buf []T) (int, error) {
	return transfer("MPI_File_write_shared", f, buf, writes, 0, func(a *ioArgs, st *C.MPI_Status) C.int {
		return C.MPI_File_write_shared(a.fh, a.p, a.n, a.t, st)
	})
}

// ReadOrdered is ReadShared by every process together, their pieces in rank
// order (MPI_File_read_ordered).
func ReadOrdered[T Type](f *File, buf []T) (int, error) {
	return transfer("MPI_File_read_ordered", f, buf, reads, 0, func(a *ioArgs, st *C.MPI_Status) C.int {
		return C.MPI_File_read_ordered(a.fh, a.p, a.n, a.t, st)
	})
}

// WriteOrdered is WriteShared by every process together, their pieces in
// rank order (MPI_File_write_ordered).
func WriteOrdered[T Type](f *File, buf []T) (int, error) {
	return transfer("MPI_File_write_ordered", f, buf, writes, 0, func(a *ioArgs, st *C.MPI_Status) C.int {
		return C.MPI_File_write_ordered(a.fh, a.p, a.n, a.t, st)
	})
}

// The nonblocking data calls start what the blocking ones do and return a
// Request, which pins buf until it completes: buf is MPI's until then. Its
// Status gives the count (Count[T]). Both Open MPI 4.1 and MPICH 4.0 have
// every one of them, the All forms included (MPI 3.1). A File cannot be
// closed while one is unfinished; the Requests can be neither freed nor
// cancelled, only completed.

// Iread starts a Read (MPI_File_iread).
func Iread[T Type](f *File, buf []T) (*Request, error) {
	return start("MPI_File_iread", f, buf, reads, 0, func(a *ioArgs, r *C.MPI_Request) C.int {
		return C.MPI_File_iread(a.fh, a.p, a.n, a.t, r)
	})
}

// Iwrite starts a Write (MPI_File_iwrite).
func Iwrite[T Type](f *File, buf []T) (*Request, error) {
	return start("MPI_File_iwrite", f, buf, writes, 0, func(a *ioArgs, r *C.MPI_Request) C.int {
		return C.MPI_File_iwrite(a.fh, a.p, a.n, a.t, r)
	})
}

// IreadAt starts a ReadAt (MPI_File_iread_at).
func IreadAt[T Type](f *File, buf []T, off int64) (*Request, error) {
	return start("MPI_File_iread_at", f, buf, reads|explicit, off, func(a *ioArgs, r *C.MPI_Request) C.int {
		return C.MPI_File_iread_at(a.fh, a.off, a.p, a.n, a.t, r)
	})
}

// IwriteAt starts a WriteAt (MPI_File_iwrite_at).
func IwriteAt[T Type](f *File, buf []T, off int64) (*Request, error) {
	return start("MPI_File_iwrite_at", f, buf, writes|explicit, off, func(a *ioArgs, r *C.MPI_Request) C.int {
		return C.MPI_File_iwrite_at(a.fh, a.off, a.p, a.n, a.t, r)
	})
}

// IreadAll starts a ReadAll (MPI_File_iread_all), collectively.
func IreadAll[T Type](f *File, buf []T) (*Request, error) {
	return start("MPI_File_iread_all", f, buf, reads, 0, func(a *ioArgs, r *C.MPI_Request) C.int {
		return C.MPI_File_iread_all(a.fh, a.p, a.n, a.t, r)
	})
}

// IwriteAll starts a WriteAll (MPI_File_iwrite_all), collectively.
func IwriteAll[T Type](f *File, buf []T) (*Request, error) {
	return start("MPI_File_iwrite_all", f, buf, writes, 0, func(a *ioArgs, r *C.MPI_Request) C.int {
		return C.MPI_File_iwrite_all(a.fh, a.p, a.n, a.t, r)
	})
}

// IreadAtAll starts a ReadAtAll (MPI_File_iread_at_all), collectively.
func IreadAtAll[T Type](f *File, buf []T, off int64) (*Request, error) {
	return start("MPI_File_iread_at_all", f, buf, reads|explicit, off, func(a *ioArgs, r *C.MPI_Request) C.int {
		return C.MPI_File_iread_at_all(a.fh, a.off, a.p, a.n, a.t, r)
	})
}

// IwriteAtAll starts a WriteAtAll (MPI_File_iwrite_at_all), collectively.
func IwriteAtAll[T Type](f *File, buf []T, off int64) (*Request, error) {
	return start("MPI_File_iwrite_at_all", f, buf, writes|explicit, off, func(a *ioArgs, r *C.MPI_Request) C.int {
		return C.MPI_File_iwrite_at_all(a.fh, a.off, a.p, a.n, a.t, r)
	})
}

// Seek moves f's individual file pointer to offset etypes from the start of
// the view, the pointer, or the end, as whence says (io.SeekStart...), and
// returns where it is now (MPI_File_seek, MPI_File_get_position).
func (f *File) Seek(offset int64, whence int) (int64, error) {
	const op = "MPI_File_seek"
	h, w, err := f.seekArgs(op, offset, whence)
	if err != nil {
		return 0, err
	}
	if err := f.check(op, C.MPI_File_seek(h, C.MPI_Offset(offset), w)); err != nil {
		return 0, err
	}
	var pos C.MPI_Offset
	err = f.check("MPI_File_get_position", C.MPI_File_get_position(h, &pos))
	return int64(pos), err
}

// SeekShared is Seek of the shared file pointer (MPI_File_seek_shared),
// collectively: every process passes the same offset and whence. It does
// not return the position: MPI_File_get_position_shared, called right
// after, gave ranks other than 0 a wrong one in both libraries (0 instead
// of the end of what WriteOrdered wrote) in this package's tests, though the
// pointer itself was right.
func (f *File) SeekShared(offset int64, whence int) error {
	const op = "MPI_File_seek_shared"
	h, w, err := f.seekArgs(op, offset, whence)
	if err != nil {
		return err
	}
	return f.check(op, C.MPI_File_seek_shared(h, C.MPI_Offset(offset), w))
}

// seekArgs checks a seek of f. A negative offset from the start is refused
// here: Open MPI 4.1 reports it as MPI_ERR_OTHER ("known error not in list").
func (f *File) seekArgs(op string, offset int64, whence int) (C.MPI_File, C.int, error) {
	h, err := f.handle(op)
	if err != nil {
		return h, 0, err
	}
	if f.mode&ModeSequential != 0 {
		return h, 0, invalid(op, ErrUnsupportedOperation, "%s: a ModeSequential file cannot seek", f.path)
	}
	switch whence {
	case io.SeekStart:
		if offset < 0 {
			return h, 0, invalid(op, ErrArg, "offset %d is negative", offset)
		}
		return h, C.MPI_SEEK_SET, nil
	case io.SeekCurrent:
		return h, C.MPI_SEEK_CUR, nil
	case io.SeekEnd:
		return h, C.MPI_SEEK_END, nil
	}
	return h, 0, invalid(op, ErrArg, "whence %d is not io.SeekStart, io.SeekCurrent or io.SeekEnd", whence)
}

// call runs one call on f's handle.
func (f *File) call(op string, fn func(h C.MPI_File) C.int) error {
	h, err := f.handle(op)
	if err != nil {
		return err
	}
	return f.check(op, fn(h))
}

// Size returns the size of the file in bytes (MPI_File_get_size).
func (f *File) Size() (int64, error) {
	var n C.MPI_Offset
	err := f.call("MPI_File_get_size", func(h C.MPI_File) C.int { return C.MPI_File_get_size(h, &n) })
	return int64(n), err
}

// sizeArg checks the size of SetSize and Preallocate.
func sizeArg(op string, size int64) error {
	if size < 0 {
		return invalid(op, ErrArg, "size %d is negative", size)
	}
	return nil
}

// SetSize truncates or extends the file to size bytes (MPI_File_set_size),
// collectively: every process passes the same size.
func (f *File) SetSize(size int64) error {
	const op = "MPI_File_set_size"
	if err := sizeArg(op, size); err != nil {
		return err
	}
	return f.call(op, func(h C.MPI_File) C.int { return C.MPI_File_set_size(h, C.MPI_Offset(size)) })
}

// Preallocate makes sure the first size bytes of the file have storage
// (MPI_File_preallocate), collectively, growing it to size bytes if it is
// smaller.
func (f *File) Preallocate(size int64) error {
	const op = "MPI_File_preallocate"
	if err := sizeArg(op, size); err != nil {
		return err
	}
	return f.call(op, func(h C.MPI_File) C.int { return C.MPI_File_preallocate(h, C.MPI_Offset(size)) })
}

// Sync writes what this process wrote to the storage device and makes what
// the others synced visible to it (MPI_File_sync), collectively: with a
// Barrier between the writers' Sync and the readers', the readers see the
// writes even without atomic mode.
func (f *File) Sync() error {
	return f.call("MPI_File_sync", func(h C.MPI_File) C.int { return C.MPI_File_sync(h) })
}

// SetAtomicity turns atomic mode on or off (MPI_File_set_atomicity),
// collectively: in atomic mode, the writes of one process are seen whole by
// the others' conflicting accesses, at once.
func (f *File) SetAtomicity(atomic bool) error {
	flag := C.int(0)
	if atomic {
		flag = 1
	}
	return f.call("MPI_File_set_atomicity", func(h C.MPI_File) C.int { return C.MPI_File_set_atomicity(h, flag) })
}

// Atomicity reports whether atomic mode is on (MPI_File_get_atomicity).
func (f *File) Atomicity() (bool, error) {
	var flag C.int
	err := f.call("MPI_File_get_atomicity", func(h C.MPI_File) C.int { return C.MPI_File_get_atomicity(h, &flag) })
	return flag != 0, err
}

// Info returns the hints in effect on f (MPI_File_get_info), the library's
// own among them, as a new Info the caller frees.
func (f *File) Info() (*Info, error) {
	in := &Info{}
	if err := f.call("MPI_File_get_info", func(h C.MPI_File) C.int { return C.MPI_File_get_info(h, &in.i) }); err != nil {
		return nil, err
	}
	return in, nil
}

// maxChunk bounds one MPI call of ReaderAt and WriterAt, whose slices may
// hold more bytes than MPI's int count.
const maxChunk = 1 << 30

// ReaderAt returns f as an io.ReaderAt: ReadAt(p, off) reads len(p) bytes at
// byte offset off of the view independently (MPI_File_read_at), returning
// io.EOF when the file ends first. The view's etype must be one byte wide
// (it is until SetView). Parallel ReadAt calls need ThreadMultiple.
func (f *File) ReaderAt() io.ReaderAt { return fileBytes{f} }

// WriterAt returns f as an io.WriterAt: WriteAt(p, off) writes p at byte
// offset off of the view independently (MPI_File_write_at). As ReaderAt, it
// needs a byte-wide etype.
func (f *File) WriterAt() io.WriterAt { return fileBytes{f} }

type fileBytes struct{ f *File }

func (b fileBytes) ReadAt(p []byte, off int64) (int, error) {
	return b.each("MPI_File_read_at", p, off, ReadAt[byte])
}

func (b fileBytes) WriteAt(p []byte, off int64) (int, error) {
	return b.each("MPI_File_write_at", p, off, WriteAt[byte])
}

// each moves p in chunks MPI can count, and reports a short read as io.EOF.
func (b fileBytes) each(op string, p []byte, off int64, call func(*File, []byte, int64) (int, error)) (int, error) {
	if _, err := b.f.handle(op); err != nil {
		return 0, err
	}
	if b.f.etype != 1 {
		return 0, invalid(op, ErrType, "%s: the view's etype is %d bytes wide; byte I/O needs a byte etype", b.f.path, b.f.etype)
	}
	done := 0
	for done < len(p) {
		chunk := p[done:min(len(p), done+maxChunk)]
		n, err := call(b.f, chunk, off+int64(done))
		done += n
		if err != nil {
			return done, err
		}
		if n < len(chunk) {
			return done, io.EOF
		}
	}
	return done, nil
}
