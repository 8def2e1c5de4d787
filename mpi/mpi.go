package mpi

// #include <stdlib.h>
// #include "shim.h"
import "C"

import (
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// ThreadLevel is the thread support MPI provides (MPI_THREAD_*).
type ThreadLevel int

// The thread levels, weakest first.
const (
	ThreadSingle     ThreadLevel = C.MPI_THREAD_SINGLE
	ThreadFunneled   ThreadLevel = C.MPI_THREAD_FUNNELED
	ThreadSerialized ThreadLevel = C.MPI_THREAD_SERIALIZED
	ThreadMultiple   ThreadLevel = C.MPI_THREAD_MULTIPLE
)

func (l ThreadLevel) String() string {
	switch l {
	case ThreadSingle:
		return "single"
	case ThreadFunneled:
		return "funneled"
	case ThreadSerialized:
		return "serialized"
	case ThreadMultiple:
		return "multiple"
	}
	return "ThreadLevel(" + strconv.Itoa(int(l)) + ")"
}

// The life of MPI in this process: it is initialised at most once and cannot
// be used again after Finalize.
const (
	stateNew int32 = iota
	stateRunning
	stateFinalized
)

var (
	state    atomic.Int32
	initMu   sync.Mutex // serialises Init and Finalize
	locked   bool       // Init locked the calling goroutine to its thread
	provided ThreadLevel
)

// Init initialises MPI (MPI_Init_thread) asking for the thread level want,
// and returns the level the library provides, which may be lower or higher.
//
// MPI ties its "main thread" to the OS thread that called Init, while Go moves
// goroutines between threads. Unless the library provides ThreadSerialized or
// ThreadMultiple, Init therefore locks the calling goroutine to its thread
// (runtime.LockOSThread) until Finalize, and every MPI call must then come from
// that goroutine. With ThreadSerialized any goroutine may call MPI, one at a
// time; with ThreadMultiple any goroutine, concurrently.
//
// Init sets MPI_ERRORS_RETURN on World and Self, so that failures come back
// as *Error values instead of aborting the job.
func Init(want ThreadLevel) (ThreadLevel, error) {
	initMu.Lock()
	defer initMu.Unlock()
	if state.Load() != stateNew {
		return 0, closed("MPI_Init_thread", "MPI was already initialised")
	}
	if want < ThreadSingle || want > ThreadMultiple {
		return 0, invalid("MPI_Init_thread", ErrArg, "unknown thread level %d", int(want))
	}
	runtime.LockOSThread()
	var got C.int
	if err := check("MPI_Init_thread", C.MPI_Init_thread(nil, nil, C.int(want), &got)); err != nil {
		runtime.UnlockOSThread()
		return 0, err
	}
	provided = ThreadLevel(got)
	locked = provided < ThreadSerialized
	if !locked {
		runtime.UnlockOSThread()
	}
	state.Store(stateRunning)
	for _, c := range []C.MPI_Comm{C.goipc_comm_world, C.goipc_comm_self} {
		if err := check("MPI_Comm_set_errhandler", C.MPI_Comm_set_errhandler(c, C.goipc_errors_return)); err != nil {
			return provided, err
		}
	}
	if err := world.fill(); err != nil {
		return provided, err
	}
	return provided, self.fill()
}

// Provided returns the thread level Init obtained.
func Provided() ThreadLevel { return provided }

// Finalize shuts MPI down (MPI_Finalize). Every rank must call it, from the
// goroutine that called Init when the level is below ThreadSerialized, after
// completing its requests. MPI cannot be initialised again.
func Finalize() error {
	initMu.Lock()
	defer initMu.Unlock()
	if state.Load() != stateRunning {
		return closed("MPI_Finalize", "MPI is not running")
	}
	state.Store(stateFinalized)
	freeDerived()
	err := check("MPI_Finalize", C.MPI_Finalize())
	if locked {
		runtime.UnlockOSThread()
	}
	return err
}

// Initialized reports whether Init has been called (MPI_Initialized); it stays
// true after Finalize, as in MPI.
func Initialized() bool {
	var flag C.int
	C.MPI_Initialized(&flag)
	return flag != 0
}

// Finalized reports whether Finalize has completed (MPI_Finalized).
func Finalized() bool {
	var flag C.int
	C.MPI_Finalized(&flag)
	return flag != 0
}

// running returns an error unless MPI may be called now.
func running(op string) error {
	switch state.Load() {
	case stateRunning:
		return nil
	case stateNew:
		return closed(op, "MPI is not initialised (call mpi.Init first)")
	}
	return closed(op, "MPI has been finalized")
}

// Wtime returns MPI's wall clock (MPI_Wtime) as a duration since an arbitrary
// point in the past.
func Wtime() time.Duration { return time.Duration(float64(C.MPI_Wtime()) * 1e9) }

// Wtick returns the resolution of Wtime (MPI_Wtick).
func Wtick() time.Duration { return time.Duration(float64(C.MPI_Wtick()) * 1e9) }

// Abort asks the MPI runtime to terminate every process of comm's job with
// the given exit code (MPI_Abort). It does not return unless MPI fails to
// abort, in which case the process exits with code.
func Abort(comm *Comm, code int) {
	if running("MPI_Abort") != nil {
		os.Exit(code)
	}
	c := C.goipc_comm_world
	if comm != nil && comm.c != C.goipc_comm_null {
		c = comm.c
	}
	C.MPI_Abort(c, C.int(code))
	C.exit(C.int(code))
}

// ProcessorName returns the name of the host this rank runs on
// (MPI_Get_processor_name).
func ProcessorName() (string, error) {
	if err := running("MPI_Get_processor_name"); err != nil {
		return "", err
	}
	var buf [C.MPI_MAX_PROCESSOR_NAME]C.char
	var n C.int
	if err := check("MPI_Get_processor_name", C.MPI_Get_processor_name(&buf[0], &n)); err != nil {
		return "", err
	}
	return C.GoStringN((*C.char)(unsafe.Pointer(&buf[0])), n), nil
}

// LibraryVersion returns the MPI library's own description of itself
// (MPI_Get_library_version); it may span several lines.
func LibraryVersion() (string, error) {
	var buf [C.MPI_MAX_LIBRARY_VERSION_STRING]C.char
	var n C.int
	if err := check("MPI_Get_library_version", C.MPI_Get_library_version(&buf[0], &n)); err != nil {
		return "", err
	}
	return C.GoStringN((*C.char)(unsafe.Pointer(&buf[0])), n), nil
}

// Version returns the version of the MPI standard the library implements.
func Version() (major, minor int) {
	var a, b C.int
	C.MPI_Get_version(&a, &b)
	return int(a), int(b)
}
