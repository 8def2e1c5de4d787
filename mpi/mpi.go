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

	"github.com/goipc/ipc/internal/sched"
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
	provided ThreadLevel
	tagUB    int          // MPI_TAG_UB, the largest tag
	empty    C.MPI_Status // the status MPI gives a request that is already complete
)

// Init initialises MPI (MPI_Init_thread) asking for the thread level want,
// and returns the level the library provides, which may be lower or higher.
//
// MPI ties its "main thread" to the OS thread that called Init, while Go moves
// goroutines between threads. Init therefore locks the calling goroutine to
// its thread (runtime.LockOSThread) until Finalize, which must come from the
// same goroutine. Unless the library provides ThreadSerialized or
// ThreadMultiple, every MPI call must come from that goroutine too, and a
// call from any other returns an error (MPI_Is_thread_main) instead of
// breaking MPI's rules. With ThreadSerialized any goroutine may call MPI,
// one at a time; with ThreadMultiple any goroutine, concurrently.
//
// Init sets MPI_ERRORS_RETURN on World and Self, so that failures come back
// as *Error values instead of aborting the job.
//
// A rank that may run on one CPU only (launchers bind ranks to cores) gets
// GOMAXPROCS 2 from Init, unless the GOMAXPROCS environment variable is
// set: with a single P, the Go scheduler takes the P of a goroutine that
// waits in a long MPI call and wakes a thread for it on the rank's only
// CPU, which cost 8KiB messages a third to a half of their bandwidth (see
// Performance). Call runtime.GOMAXPROCS after Init to choose otherwise.
func Init(want ThreadLevel) (ThreadLevel, error) {
	initMu.Lock()
	defer initMu.Unlock()
	switch state.Load() {
	case stateRunning:
		return 0, closed("MPI_Init_thread", "MPI was already initialised")
	case stateFinalized:
		return 0, closed("MPI_Init_thread", "MPI has been finalized and cannot be initialised again")
	}
	if want < ThreadSingle || want > ThreadMultiple {
		return 0, invalid("MPI_Init_thread", ErrArg, "unknown thread level %d", int(want))
	}
	runtime.LockOSThread()
	var got C.int
	if err := check("MPI_Init_thread", C.goipc_init(C.int(want), &got)); err != nil {
		runtime.UnlockOSThread()
		return 0, err
	}
	provided = ThreadLevel(got)
	sched.SpareP()
	tagUB = int(C.goipc_tag_ub())
	empty = C.goipc_empty_status()
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

// TagUB returns the largest tag the library accepts (the MPI_TAG_UB
// attribute of World; at least 32767), or 0 before Init. Calls given a tag
// above it, or a rank or tag outside int32, fail before reaching MPI.
func TagUB() int { return tagUB }

// Finalize shuts MPI down (MPI_Finalize). Every rank must call it, from the
// goroutine that called Init, after completing its requests: with a Request
// or a Requests set still unfinished (neither completed nor freed) it returns
// an error matching ErrPending that names them, and MPI keeps running, so that
// they can still be completed and Finalize called again. MPI cannot be
// initialised again.
func Finalize() error {
	initMu.Lock()
	defer initMu.Unlock()
	if err := running("MPI_Finalize"); err != nil {
		return err
	}
	if C.goipc_main_thread_ok() == 0 {
		return invalid("MPI_Finalize", ErrOther, "called from a goroutine other than the one that called Init (MPI finalizes on its main thread)")
	}
	if err := unfinished(); err != nil {
		return err
	}
	state.Store(stateFinalized)
	freeDerived()
	freePersistents()
	err := check("MPI_Finalize", C.MPI_Finalize())
	releaseFreed()
	runtime.UnlockOSThread()
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

// running returns an error unless MPI may be called now from this thread.
// Below ThreadSerialized that costs a cgo call to check the thread; the hot
// calls check it inside their C wrappers instead, and call ready.
func running(op string) error {
	if err := ready(op); err != nil {
		return err
	}
	if provided < ThreadSerialized && C.goipc_thread_ok() == 0 {
		return check(op, C.GOIPC_ERR_THREAD)
	}
	return nil
}

// ready returns an error unless MPI is running.
func ready(op string) error {
	switch state.Load() {
	case stateRunning:
		return nil
	case stateNew:
		return closed(op, "MPI is not initialised (call mpi.Init first)")
	}
	return closed(op, "MPI has been finalized")
}

// Wtime returns MPI's wall clock (MPI_Wtime) as a duration since an arbitrary
// point in the past, or 0 outside Init..Finalize, where MPI has no clock.
func Wtime() time.Duration {
	if ready("MPI_Wtime") != nil {
		return 0
	}
	return time.Duration(float64(C.MPI_Wtime()) * 1e9)
}

// Wtick returns the resolution of Wtime (MPI_Wtick), or 0 outside
// Init..Finalize.
func Wtick() time.Duration {
	if ready("MPI_Wtick") != nil {
		return 0
	}
	return time.Duration(float64(C.MPI_Wtick()) * 1e9)
}

// Abort asks the MPI runtime to terminate every process of comm's job (of
// World's for a nil, zero or freed comm) with the given exit code
// (MPI_Abort). It does not return unless MPI fails to
// abort, in which case the process exits with code.
func Abort(comm *Comm, code int) {
	if ready("MPI_Abort") != nil {
		os.Exit(code)
	}
	c := C.goipc_comm_world
	if comm.usable("MPI_Abort") == nil {
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
