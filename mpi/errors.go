package mpi

// #include "shim.h"
import "C"

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"unsafe"

	"github.com/goipc/ipc/internal/sched"
)

// Error is every error this package returns: an MPI call that failed (Code is
// the MPI error code and Msg what MPI_Error_string says of it), or bad input
// caught before any MPI call (Code 0; such errors also match syscall.EINVAL),
// a nil or zero handle (these also match os.ErrInvalid), or use of a freed
// object or of MPI outside Init..Finalize (these also match os.ErrClosed).
//
// errors.Is(err, mpi.ErrTruncate) tests the class; errors.As(err, &e) with
// e *mpi.Error gives the details.
type Error struct {
	Op    string // the MPI function, such as "MPI_Recv"
	Class Class  // the MPI error class
	Code  int    // the MPI error code, 0 when the package caught the error
	Msg   string
	cause error // syscall.EINVAL, os.ErrInvalid or os.ErrClosed for errors caught here
}

func (e *Error) Error() string {
	if e == nil {
		return "mpi: <nil>"
	}
	return "mpi: " + e.Op + ": " + e.Msg
}

// Is matches the error's class: errors.Is(err, mpi.ErrRank).
func (e *Error) Is(target error) bool {
	c, ok := target.(Class)
	return ok && e != nil && c == e.Class
}

func (e *Error) Unwrap() error {
	if e == nil {
		return nil
	}
	return e.cause
}

// Class is an MPI error class. The values come from the library's mpi.h, so
// they differ between Open MPI and MPICH; compare with the named classes.
type Class int

// The MPI error classes a Go program is likely to test for.
const (
	ErrBuffer   Class = C.MPI_ERR_BUFFER
	ErrCount    Class = C.MPI_ERR_COUNT
	ErrType     Class = C.MPI_ERR_TYPE
	ErrTag      Class = C.MPI_ERR_TAG
	ErrComm     Class = C.MPI_ERR_COMM
	ErrRank     Class = C.MPI_ERR_RANK
	ErrRequest  Class = C.MPI_ERR_REQUEST
	ErrRoot     Class = C.MPI_ERR_ROOT
	ErrGroup    Class = C.MPI_ERR_GROUP
	ErrOp       Class = C.MPI_ERR_OP
	ErrArg      Class = C.MPI_ERR_ARG
	ErrTruncate Class = C.MPI_ERR_TRUNCATE
	ErrOther    Class = C.MPI_ERR_OTHER
	ErrIntern   Class = C.MPI_ERR_INTERN
	ErrPending  Class = C.MPI_ERR_PENDING
	ErrInStatus Class = C.MPI_ERR_IN_STATUS
	ErrUnknown  Class = C.MPI_ERR_UNKNOWN
)

var classNames = map[Class]string{
	ErrBuffer: "MPI_ERR_BUFFER", ErrCount: "MPI_ERR_COUNT", ErrType: "MPI_ERR_TYPE", ErrTag: "MPI_ERR_TAG",
	ErrComm: "MPI_ERR_COMM", ErrRank: "MPI_ERR_RANK", ErrRequest: "MPI_ERR_REQUEST", ErrRoot: "MPI_ERR_ROOT",
	ErrGroup: "MPI_ERR_GROUP", ErrOp: "MPI_ERR_OP", ErrArg: "MPI_ERR_ARG", ErrTruncate: "MPI_ERR_TRUNCATE",
	ErrOther: "MPI_ERR_OTHER", ErrIntern: "MPI_ERR_INTERN", ErrPending: "MPI_ERR_PENDING",
	ErrInStatus: "MPI_ERR_IN_STATUS", ErrUnknown: "MPI_ERR_UNKNOWN",
}

// Error returns the class's name, so that a Class is itself a target for
// errors.Is.
func (c Class) Error() string {
	if s, ok := classNames[c]; ok {
		return s
	}
	return fmt.Sprintf("MPI error class %d", int(c))
}

// check turns an MPI return code into nil or an *Error. It also counts the
// call towards the goroutine's next yield (sched.CallDue; "Performance" in
// doc.go says why every call must).
func check(op string, rc C.int) error {
	if rc == C.MPI_SUCCESS && !sched.CallDue() {
		return nil
	}
	return mpiError(op, rc)
}

// checkCounted is check for the code of a call that counted itself in C
// (GOIPC_COUNTED in shim.h), which is GOIPC_DUE for a success after which
// to yield if the clock says so.
func checkCounted(op string, rc C.int) error {
	if rc == C.MPI_SUCCESS {
		return nil
	}
	return mpiError(op, rc)
}

// mpiError is check's slow path, kept out of line so that the calls that
// succeed stay cheap: an error, or the call after which to yield if due.
//
//go:noinline
func mpiError(op string, rc C.int) error {
	if rc == C.MPI_SUCCESS || rc == C.GOIPC_DUE {
		sched.AfterLongCall()
		return nil
	}
	if rc == C.GOIPC_ERR_THREAD {
		return invalid(op, ErrOther, "called from a thread other than the one that called Init, at thread level %v (call MPI only from Init's goroutine, or ask Init for ThreadSerialized)", provided)
	}
	e := &Error{Op: op, Code: int(rc), Class: Class(rc), Msg: fmt.Sprintf("MPI error %d", int(rc))}
	var class C.int
	if C.MPI_Error_class(rc, &class) == C.MPI_SUCCESS {
		e.Class = Class(class)
	}
	var buf [C.MPI_MAX_ERROR_STRING]C.char
	var n C.int
	if C.MPI_Error_string(rc, &buf[0], &n) == C.MPI_SUCCESS && n > 0 {
		e.Msg = oneLine(C.GoStringN((*C.char)(unsafe.Pointer(&buf[0])), n))
	}
	return e
}

// oneLine shortens MPICH's error stacks ("Invalid rank, error stack:\n" then a
// line per internal function) to the summary and the innermost detail:
// "Invalid rank (Invalid rank has value 3 but must be nonnegative and less than 1)",
// and the detail alone when it only repeats the summary.
func oneLine(msg string) string {
	lines := strings.Split(strings.TrimSpace(msg), "\n")
	head, _ := strings.CutSuffix(lines[0], ", error stack:")
	if len(lines) == 1 {
		return head
	}
	// Each line of the stack is "function(line)....: detail".
	last := lines[len(lines)-1]
	if i := strings.Index(last, ":"); i >= 0 {
		last = strings.TrimSpace(last[i+1:])
	}
	if last == head || last == "" {
		return head
	}
	return head + " (" + last + ")"
}

// invalid reports bad input caught before the MPI call.
func invalid(op string, class Class, format string, args ...any) error {
	return &Error{Op: op, Class: class, Msg: fmt.Sprintf(format, args...), cause: syscall.EINVAL}
}

// nilHandle reports a nil or zero handle: one this package did not make.
func nilHandle(op string, class Class, what string) error {
	return &Error{Op: op, Class: class, Msg: "nil or zero " + what + " (not made by this package)", cause: os.ErrInvalid}
}

// unstarted reports a new Request given to a completion call: it has no
// operation to complete until IsendInto or IrecvInto starts one.
func unstarted(op, what string) error {
	return &Error{Op: op, Class: ErrRequest, Msg: what + " never started (a new Request: IsendInto or IrecvInto starts one)", cause: os.ErrInvalid}
}

// nilSet reports a nil pointer to a set whose zero value is ready to use
// (Requests, Persistents), which nilHandle's "or zero" would misdescribe.
func nilSet(op, what string) error {
	return &Error{Op: op, Class: ErrRequest, Msg: "nil " + what, cause: os.ErrInvalid}
}

// isZero reports whether h is the zero value of its C handle type (a nil
// pointer in Open MPI, 0 in MPICH), which no MPI call returns: the handle
// of a zero Go value, never set by this package.
func isZero[H comparable](h H) bool {
	var zero H
	return h == zero
}

// closed reports use of a freed object or of MPI outside Init..Finalize.
func closed(op, what string) error {
	return &Error{Op: op, Class: ErrOther, Msg: what, cause: os.ErrClosed}
}
