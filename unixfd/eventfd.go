package unixfd

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/goipc/ipc/internal/errs"
)

// An EventFD is a Linux eventfd: a 64-bit counter in the kernel that works
// as a doorbell between threads and processes. Add rings it; Wait sleeps
// until the counter is not zero, on Go's runtime poller: a thousand
// goroutines waiting on a thousand EventFDs hold no thread. C passes the
// same descriptor to eventfd_read and eventfd_write, or poll and read.
type EventFD struct {
	f *os.File
}

// NewEventFD creates an eventfd holding initial (eventfd with EFD_NONBLOCK
// and EFD_CLOEXEC). With semaphore, each Wait takes 1 from the counter
// instead of all of it (EFD_SEMAPHORE).
func NewEventFD(initial uint32, semaphore bool) (*EventFD, error) {
	flags := unix.EFD_NONBLOCK | unix.EFD_CLOEXEC
	if semaphore {
		flags |= unix.EFD_SEMAPHORE
	}
	fd, err := unix.Eventfd(uint(initial), flags)
	if err != nil {
		return nil, errs.Syscall("eventfd", err)
	}
	return &EventFD{os.NewFile(uintptr(fd), "eventfd")}, nil
}

// EventFDFromFile returns an EventFD on a descriptor of its own of the
// eventfd that f holds (inherited or passed); f stays the caller's. It puts
// the eventfd into non-blocking mode for the runtime poller: the flag
// belongs to the open file, so f, and a C process that made the eventfd
// blocking and shares it, see their reads of a zero counter fail with
// EAGAIN from then on (poll for POLLIN first, as with NewEventFD's).
func EventFDFromFile(f *os.File) (*EventFD, error) {
	var fd int
	err := control(f, "dup", func(old int) (err error) {
		fd, err = unix.FcntlInt(uintptr(old), unix.F_DUPFD_CLOEXEC, 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	if link, _ := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd)); link != "anon_inode:[eventfd]" {
		unix.Close(fd)
		return nil, errs.Path("eventfd", f.Name(), errs.Invalid("not an eventfd (%s)", link))
	}
	// Non-blocking, so that os.NewFile puts it on the runtime poller. The
	// flag belongs to the open file, which other processes may share:
	// goipc's own EventFDs are non-blocking from the start.
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, errs.Path("fcntl O_NONBLOCK", f.Name(), err)
	}
	return &EventFD{os.NewFile(uintptr(fd), f.Name())}, nil
}

// Add adds n to the counter, waking the waiters. It waits (on the poller)
// while the counter would overflow. The counter holds at most 2^64-2, so an
// n of 2^64-1 (math.MaxUint64) fails with an error matching syscall.EINVAL.
func (e *EventFD) Add(n uint64) error {
	if e == nil || e.f == nil {
		return errs.NotMade("eventfd write", "unixfd.EventFD", "NewEventFD or EventFDFromFile")
	}
	if n == math.MaxUint64 {
		return errs.Path("write", e.f.Name(), errs.Invalid("n of 2^64-1: an eventfd counts to 2^64-2 at most"))
	}
	var b [8]byte
	binary.NativeEndian.PutUint64(b[:], n)
	_, err := e.f.Write(b[:])
	return err
}

// Wait waits until the counter is not zero and returns it, leaving zero (or,
// for a semaphore, returns 1 and takes 1). It honours the deadline set with
// SetDeadline (an error matching os.ErrDeadlineExceeded) and returns an error
// matching os.ErrClosed when Close ends it.
func (e *EventFD) Wait() (uint64, error) {
	if e == nil || e.f == nil {
		return 0, errs.NotMade("eventfd read", "unixfd.EventFD", "NewEventFD or EventFDFromFile")
	}
	var b [8]byte
	if _, err := e.f.Read(b[:]); err != nil {
		return 0, err
	}
	return binary.NativeEndian.Uint64(b[:]), nil
}

// SetDeadline bounds every Wait and Add in progress and to come; the zero
// time removes the bound.
func (e *EventFD) SetDeadline(t time.Time) error {
	if e == nil || e.f == nil {
		return errs.NotMade("eventfd set deadline", "unixfd.EventFD", "NewEventFD or EventFDFromFile")
	}
	err := e.f.SetDeadline(t)
	if err != nil && !errors.Is(err, os.ErrNoDeadline) {
		// The other failure is a closed file, whose error ("use of closed
		// file") does not match os.ErrClosed.
		return errs.Closed("eventfd set deadline", e.f.Name())
	}
	return err
}

// File returns the descriptor, to pass to another process (ExtraFiles,
// Send); it stays owned by e. It is nil for a nil or zero EventFD.
func (e *EventFD) File() *os.File {
	if e == nil {
		return nil
	}
	return e.f
}

// Close closes the descriptor and wakes the calls waiting on it. It is safe
// to call twice.
func (e *EventFD) Close() error {
	if e == nil || e.f == nil {
		return nil
	}
	if err := e.f.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
		return err
	}
	return nil
}
