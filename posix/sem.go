package posix

/*
#define _GNU_SOURCE // sem_clockwait
#include <fcntl.h>
#include <limits.h>
#include <semaphore.h>
#include <stdlib.h>
#include <time.h>

// sem_open is variadic: cgo cannot call it directly.
static sem_t *goipc_sem_open(const char *name, int oflag, unsigned mode, unsigned value) {
	return sem_open(name, oflag, (mode_t)mode, value);
}

#cgo nocallback sem_post
#cgo nocallback sem_trywait
#cgo nocallback sem_getvalue
*/
import "C"

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/goipc/ipc/internal/blocking"
	"github.com/goipc/ipc/internal/errs"
	"github.com/goipc/ipc/internal/sched"
)

// SemaphoreSize is the number of bytes an unnamed semaphore takes in shared
// memory (sizeof(sem_t)); it must be 8-byte aligned.
const SemaphoreSize = C.sizeof_sem_t

// MaxSemaphoreValue is the highest value a semaphore holds (SEM_VALUE_MAX).
const MaxSemaphoreValue = C.SEM_VALUE_MAX

// SemOptions says how OpenSemaphore opens a named semaphore. The zero value
// opens an existing one.
type SemOptions struct {
	Create    bool        // create the semaphore if it does not exist
	Exclusive bool        // with Create: fail with fs.ErrExist if it exists; needs Create (EINVAL)
	Mode      os.FileMode // permissions of a new semaphore, whatever the umask; 0 means 0600 unless ModeSet
	ModeSet   bool        // use Mode even when it is 0 (mode 0000)
	Value     uint        // initial value of a new semaphore
}

// Semaphore is a POSIX semaphore (sem_t *): a named one from OpenSemaphore, or
// an unnamed process-shared one in shared memory from InitSemaphore or
// SemaphoreAt. Its methods are safe for concurrent use.
//
// A semaphore gives the kernel no descriptor to poll, so a goroutine waiting
// in Wait holds an OS thread until it returns; cancellation and Close wake it
// at once, by a signal to that thread (see internal/blocking), not by polling.
type Semaphore struct {
	name string // "" for an unnamed semaphore
	sem  *C.sem_t

	// Calls hold mu shared; Close takes it exclusively, after waking the
	// waiters through closing, so that sem_close never frees a semaphore in use.
	mu      sync.RWMutex
	closed  atomic.Bool
	closing context.Context
	cancel  context.CancelFunc
	cleanup runtime.Cleanup // sem_close if a named semaphore is dropped unclosed
}

func newSemaphore(name string, sem *C.sem_t) *Semaphore {
	s := &Semaphore{name: name, sem: sem}
	s.closing, s.cancel = context.WithCancel(context.Background())
	return s
}

// OpenSemaphore opens, or with opts.Create creates, the named semaphore name
// ("/name"; a name without the slash gets one). glibc keeps it as the file
// /dev/shm/sem.name. A nil opts opens an existing semaphore.
func OpenSemaphore(name string, opts *SemOptions) (*Semaphore, error) {
	if opts == nil {
		opts = &SemOptions{}
	}
	name, err := canonical("sem_open", name, nameMax-len(semPrefix))
	if err != nil {
		return nil, err
	}
	perm, err := permOf(opts.Mode, opts.ModeSet)
	if err != nil {
		return nil, errs.Path("sem_open", name, err)
	}
	if opts.Value > MaxSemaphoreValue {
		return nil, errs.Path("sem_open", name, errs.Invalid("value %d > SEM_VALUE_MAX %d", opts.Value, MaxSemaphoreValue))
	}
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var sem *C.sem_t
	created, err := createOrOpen(opts.Create, opts.Exclusive, func(extra int) error {
		r, err := C.goipc_sem_open(cname, C.int(extra), C.uint(perm), C.uint(opts.Value))
		if r == nil { // SEM_FAILED
			return err
		}
		sem = r
		return nil
	})
	if err != nil {
		return nil, errs.Path("sem_open", name, err)
	}
	if created {
		// sem_open applied the umask to the file glibc made for it.
		if err := os.Chmod(semFile(name), os.FileMode(perm)); err != nil {
			C.sem_close(sem)
			C.sem_unlink(cname)
			return nil, err
		}
	}
	s := newSemaphore(name, sem)
	s.cleanup = runtime.AddCleanup(s, func(sem *C.sem_t) { C.sem_close(sem) }, sem)
	return s, nil
}

// Stat returns the file glibc keeps for a named semaphore in /dev/shm: its
// owner, permissions and times (Sys() is a *syscall.Stat_t).
func (s *Semaphore) Stat() (os.FileInfo, error) {
	if err := s.enter("stat"); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	if s.name == "" {
		return nil, errs.Syscall("stat", errs.Invalid("an unnamed semaphore has no file"))
	}
	return os.Stat(semFile(s.name))
}

// semFile is where glibc keeps the named semaphore name.
func semFile(name string) string { return "/dev/shm/" + semPrefix + name[1:] }

// InitSemaphore makes an unnamed, process-shared semaphore with value in mem
// (sem_init with pshared), which must be at least SemaphoreSize bytes of
// shared memory, 8-byte aligned, that every process using it maps (a
// SharedMemory mapping, for instance). Exactly one process initialises it;
// the others use SemaphoreAt. It is valid as long as mem is mapped.
// Memory not mapped for writing (a ReadOnly mapping), or not shared (a Go
// slice, a private mapping), is refused with EINVAL.
func InitSemaphore(mem []byte, value uint) (*Semaphore, error) {
	sem, err := semaphoreIn(mem)
	if err != nil {
		return nil, errs.Syscall("sem_init", err)
	}
	if value > MaxSemaphoreValue {
		return nil, errs.Syscall("sem_init", errs.Invalid("value %d > SEM_VALUE_MAX %d", value, MaxSemaphoreValue))
	}
	if r, err := C.sem_init(sem, 1, C.uint(value)); r < 0 {
		return nil, errs.Syscall("sem_init", err)
	}
	return newSemaphore("", sem), nil
}

// SemaphoreAt uses the unnamed semaphore that another process initialised
// with InitSemaphore (or sem_init in C) in shared memory mem.
func SemaphoreAt(mem []byte) (*Semaphore, error) {
	sem, err := semaphoreIn(mem)
	if err != nil {
		return nil, errs.Syscall("sem_t", err)
	}
	return newSemaphore("", sem), nil
}

func semaphoreIn(mem []byte) (*C.sem_t, error) {
	p := unsafe.Pointer(unsafe.SliceData(mem))
	switch {
	case len(mem) < SemaphoreSize:
		return nil, errs.Invalid("%d bytes of memory < sizeof(sem_t) %d", len(mem), SemaphoreSize)
	case uintptr(p)%8 != 0:
		return nil, errs.Invalid("semaphore memory at %p is not 8-byte aligned", p)
	}
	first, last := mapping(uintptr(p)), mapping(uintptr(p)+SemaphoreSize-1)
	switch {
	case !strings.HasPrefix(first, "rw") || !strings.HasPrefix(last, "rw"):
		// sem_init, sem_post and the waits store into it: a read-only (or
		// unmapped) page would kill the program with SIGSEGV.
		return nil, errs.Invalid("semaphore memory at %p is not mapped for writing (a ReadOnly mapping, or one already unmapped?)", p)
	case first[3] != 's' || last[3] != 's':
		// Private memory (Go's or C's heap, a Private mapping) is this
		// process's alone: no other process would ever see a post.
		return nil, errs.Invalid("semaphore memory at %p is not shared memory (Go heap or a private mapping?); use a SharedMemory mapping or mmap.Shared", p)
	}
	return (*C.sem_t)(p), nil
}

// mapping returns the permissions of the page of address a as /proc/self/maps
// gives them ("start-end rw-s ..." in hexadecimal): "rw-s" for shared memory
// mapped for writing, "" where nothing is mapped; "rw-s" when maps cannot be
// read, to let the call decide.
func mapping(a uintptr) string {
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return "rw-s"
	}
	for line := range strings.Lines(string(maps)) {
		span, rest, _ := strings.Cut(line, " ")
		lo, hi, _ := strings.Cut(span, "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 == nil && err2 == nil && uint64(a) >= start && uint64(a) < end && len(rest) >= 4 {
			return rest[:4]
		}
	}
	return ""
}

// Name returns the semaphore's name with its leading slash, or "" for an
// unnamed one (and for a nil or zero Semaphore).
func (s *Semaphore) Name() string {
	if s == nil {
		return ""
	}
	return s.name
}

func (s *Semaphore) path() string {
	switch {
	case s == nil || s.sem == nil:
		return "(not open)"
	case s.name == "":
		return "(unnamed semaphore)"
	}
	return s.name
}

// enter starts a call; it fails once Close has begun, and for a nil or zero
// Semaphore, whose sem_t pointer is nil. The caller calls s.mu.RUnlock when
// done.
func (s *Semaphore) enter(op string) error {
	if s == nil || s.sem == nil {
		return errs.NotOpen(op, "posix.Semaphore")
	}
	s.mu.RLock()
	if s.closed.Load() {
		s.mu.RUnlock()
		return errs.Closed(op, s.path())
	}
	return nil
}

// Wait decrements the semaphore, waiting while it is zero until ctx is done,
// or Close is called, whichever comes first.
func (s *Semaphore) Wait(ctx context.Context) error {
	const op = "sem_wait"
	sched.Tick() // see internal/sched
	if err := s.enter(op); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	if ctx == nil {
		return errs.Path(op, s.path(), errs.NilContext())
	}
	if C.sem_trywait(s.sem) == 0 {
		return nil
	}
	if ctx.Err() != nil {
		return errs.Path(op, s.path(), errs.FromContext(ctx))
	}
	dl, _ := ctx.Deadline()
	for spin := (spinner{}); spin.again(dl); {
		if C.sem_trywait(s.sem) == 0 {
			spin.done()
			return nil
		}
	}
	// Wake on Close as well as on ctx.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.closing, cancel)
	defer stop()

	err := blocking.Call(wctx, func(timeout time.Duration) error {
		// sem_wait is restarted after a signal (SA_RESTART) and so could not
		// be cancelled; sem_clockwait with a time limit returns EINTR. The
		// monotonic clock makes the limit immune to changes of the wall clock.
		forever := timeout == blocking.NoTimeout
		if forever {
			timeout = 24 * time.Hour
		}
		abs := blocking.MonotonicDeadline(timeout) // saturates: a deadline centuries away must not wrap
		ts := C.struct_timespec{tv_sec: C.time_t(abs.Sec), tv_nsec: C.long(abs.Nsec)}
		r, err := C.sem_clockwait(s.sem, C.CLOCK_MONOTONIC, &ts)
		switch {
		case r == 0:
			return nil
		case err == syscall.ETIMEDOUT && forever:
			return syscall.EINTR // no deadline: wait again
		case err == syscall.ETIMEDOUT:
			return errs.ErrTimeout
		}
		return err
	})
	switch {
	case err == nil:
		return nil
	case s.closed.Load():
		return errs.Closed(op, s.path())
	case ctx.Err() != nil:
		return errs.Path(op, s.path(), errs.FromContext(ctx))
	}
	return errs.Path(op, s.path(), err)
}

// TryWait decrements the semaphore if it is above zero, and otherwise fails
// at once with an error matching syscall.EAGAIN.
func (s *Semaphore) TryWait() error {
	const op = "sem_trywait"
	if err := s.enter(op); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	if r, err := C.sem_trywait(s.sem); r < 0 {
		return errs.Path(op, s.path(), err)
	}
	return nil
}

// Post increments the semaphore, waking one waiter.
func (s *Semaphore) Post() error {
	const op = "sem_post"
	sched.Tick() // see internal/sched
	if err := s.enter(op); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	if r, err := C.sem_post(s.sem); r < 0 {
		if err == syscall.EOVERFLOW {
			err = errs.Hint(err, "value at SEM_VALUE_MAX %d", MaxSemaphoreValue)
		}
		return errs.Path(op, s.path(), err)
	}
	return nil
}

// Value returns the semaphore's current value.
func (s *Semaphore) Value() (int, error) {
	const op = "sem_getvalue"
	if err := s.enter(op); err != nil {
		return 0, err
	}
	defer s.mu.RUnlock()
	var v C.int
	if r, err := C.sem_getvalue(s.sem, &v); r < 0 {
		return 0, errs.Path(op, s.path(), err)
	}
	return int(v), nil
}

// Close wakes every goroutine waiting in Wait with an error matching
// os.ErrClosed, then releases the semaphore (sem_close for a named one; an
// unnamed one stays in its memory). A named semaphore stays until Unlink.
// Close is safe to call twice and on nil.
func (s *Semaphore) Close() error {
	if s == nil || s.sem == nil || s.closed.Swap(true) {
		return nil
	}
	s.cancel()
	s.mu.Lock() // wait for the calls in progress to return
	defer s.mu.Unlock()
	if s.name == "" {
		return nil
	}
	s.cleanup.Stop()
	if r, err := C.sem_close(s.sem); r < 0 {
		return errs.Path("sem_close", s.name, err)
	}
	return nil
}

// Unlink removes a named semaphore's name; see UnlinkSemaphore.
func (s *Semaphore) Unlink() error {
	if s == nil || s.sem == nil {
		return errs.NotOpen("sem_unlink", "posix.Semaphore")
	}
	if s.name == "" {
		return errs.Syscall("sem_unlink", errs.Invalid("an unnamed semaphore has no name to remove"))
	}
	return UnlinkSemaphore(s.name)
}

// UnlinkSemaphore removes the named semaphore name. Processes that have it
// open keep using it.
func UnlinkSemaphore(name string) error {
	return unlink("sem_unlink", name, nameMax-len(semPrefix), func(n *C.char) (C.int, error) {
		r, err := C.sem_unlink(n)
		return r, err
	})
}

func (s *Semaphore) String() string { return fmt.Sprintf("semaphore %s", s.path()) }
