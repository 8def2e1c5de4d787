package mpi

// #include "shim.h"
//
// // Completing a request neither keeps the pointers it gets nor calls back
// // into Go (this package starts no nonblocking reduction whose Go operator
// // MPI's progress could run), so the statuses stay on the stack. Starting
// // one keeps the buffer: goipc_isend and goipc_irecv escape.
// #cgo nocallback goipc_isend
// #cgo noescape goipc_isend_copy
// #cgo nocallback goipc_isend_copy
// #cgo nocallback goipc_irecv
// #cgo noescape goipc_wait
// #cgo nocallback goipc_wait
// #cgo noescape goipc_test
// #cgo nocallback goipc_test
// #cgo noescape MPI_Cancel
// #cgo nocallback MPI_Cancel
// #cgo noescape goipc_waitall
// #cgo nocallback goipc_waitall
// #cgo noescape MPI_Waitany
// #cgo nocallback MPI_Waitany
// #cgo noescape MPI_Testall
// #cgo nocallback MPI_Testall
import "C"

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/goipc/ipc/internal/errs"
	"github.com/goipc/ipc/internal/sched"
)

// Request is a nonblocking operation in flight (MPI_Request). Its buffer is
// pinned (runtime.Pinner) and belongs to MPI until Wait, Test or one of
// WaitAll, WaitAny, TestAll reports it complete. A completed Request is
// inert: completing it again returns at once, with an empty Status, without
// reaching MPI. Free releases it; a freed Request's methods return an error
// matching os.ErrClosed. Each Isend or Irecv allocates its Request;
// IsendInto and IrecvInto start an operation in a Request the caller owns,
// new (the zero Request) or completed, so that a loop of one message at a
// time allocates nothing; Requests and Persistents do the same for windows
// of many.
//
// A Request that is dropped before it completes is not garbage: MPI still
// owns its buffer. The package keeps it (and its buffer) until it completes
// or Finalize, which refuses to run while it is unfinished (see "Lifetimes"
// in the package documentation).
//
// A Request belongs to one goroutine at a time, and must not be copied (go
// vet reports copies): an active one is on a list by its address.
type Request struct {
	link   link // on requestList while active, or freed before it completed
	_      noCopy
	r      C.MPI_Request
	pin    runtime.Pinner
	copy   unsafe.Pointer // C memory holding what a small Isend sends, instead of a pin
	peer   int32          // the destination or source, for Finalize's report
	tag    int32
	state  requestState
	kind   requestKind
	pinned bool // the buffer is pinned: false for an empty one and once complete
	long   bool // the buffer is large enough for Wait to call sched.AfterLongCall
	listed bool // already in the array of the WaitAll, WaitAny or TestAll being prepared
}

// requestState is where a Request is in its life. The zero state is that of
// a Request that no call has started an operation in: new, for IsendInto or
// IrecvInto, or made outside this package.
type requestState uint8

const (
	requestZero   requestState = iota
	requestActive              // started: MPI owns the buffer
	requestDone                // completed, inert
	requestFreed               // released by Free, perhaps while MPI still finishes it
)

// requestKind says what MPI_Cancel does to a request, which is what
// WaitContext needs when its context ends.
type requestKind uint8

const (
	kindRecv requestKind = iota // cancellable until matched; a Wait after MPI_Cancel always returns
	kindSend                    // MPI_Cancel may do nothing (Open MPI never cancels a send)
	// The others are neither cancelled nor freed while unfinished.
	kindColl // a nonblocking collective, which the standard forbids cancelling or freeing
	kindRMA  // Rput, Rget, Raccumulate, RgetAccumulate: peer is the target
	kindFile // a nonblocking file operation
)

// newRequest returns a Request whose buffer p is pinned from before MPI gets
// it until the request completes. kind, peer and tag describe it in
// Finalize's report of unfinished requests.
func newRequest(kind requestKind, p unsafe.Pointer, large bool, peer, tag C.int) *Request {
	return new(Request).prepare(kind, p, large, peer, tag)
}

// prepare is newRequest for a Request that is new or complete, which it
// leaves so until started: one whose start MPI refuses is as it was.
func (r *Request) prepare(kind requestKind, p unsafe.Pointer, large bool, peer, tag C.int) *Request {
	r.r, r.kind, r.long, r.peer, r.tag = C.goipc_request_null, kind, large, int32(peer), int32(tag)
	if p != nil {
		r.pin.Pin(p)
		r.pinned = true
	}
	return r
}

// ownRequests holds the completed Requests of the calls that start and
// complete one inside themselves (RecvContext), which no caller ever sees,
// for such calls to use again instead of allocating.
var ownRequests = sync.Pool{New: func() any { return new(Request) }}

// started returns r, now active, if MPI accepted the call that started it
// (err is its check), or releases its buffer.
func (r *Request) started(err error) (*Request, error) {
	if err != nil {
		r.release()
		return nil, err
	}
	r.state = requestActive
	requestList.insert(&r.link)
	return r, nil
}

// release gives back what r holds for MPI: the pin of its buffer, or the
// copy of a small send.
func (r *Request) release() {
	if r.pinned {
		r.pin.Unpin()
		r.pinned = false
	}
	if r.copy != nil {
		copies.put(r.copy)
		r.copy = nil
	}
}

// settle records that MPI completed r if it has set the handle to
// MPI_REQUEST_NULL: the buffer is the caller's again.
func (r *Request) settle() {
	if r.state == requestActive && r.r == C.goipc_request_null {
		r.release()
		requestList.remove(&r.link)
		r.state = requestDone
	}
}

// active reports whether r has an operation for MPI to complete, or why it
// cannot be used. An active Request needs no check that MPI is running:
// Finalize refuses to run while one is.
func (r *Request) active(op string) (bool, error) {
	if r != nil && r.state == requestActive {
		return true, nil
	}
	_, err := r.inactive(op)
	return false, err
}

// emptyStatus is the Status of a request that was already complete.
func emptyStatus() Status { return newStatus(&empty) }

// Isend starts sending buf (MPI_Isend). A message of at most 256 bytes is
// copied in the call, and MPI sends the copy; the buffer still belongs to MPI
// until the Request completes, as the standard says.
func Isend[T Type](c *Comm, buf []T, dest, tag int) (*Request, error) {
	return isend(new(Request), c, buf, dest, tag)
}

// IsendInto is Isend that starts the send in r, a Request the caller owns,
// instead of allocating one: a loop that sends one message at a time keeps
// one Request and allocates nothing. r must be inactive: new (the zero
// Request) or completed by Wait, Test or one of WaitAll, WaitAny, TestAll,
// which IsendInto then makes active again. It refuses, without touching r or
// what it is sending, a nil r (os.ErrInvalid), an r still active
// (syscall.EINVAL: complete it first) and a freed one (os.ErrClosed).
//
// Starting a completed Request again is the caller's decision, as it is in
// C: a Wait after it waits for the new operation, so whoever still held r
// from the last one must be done with it.
func IsendInto[T Type](r *Request, c *Comm, buf []T, dest, tag int) error {
	if err := r.reusable("MPI_Isend"); err != nil {
		return err
	}
	_, err := isend(r, c, buf, dest, tag)
	return err
}

// isend is Isend into req, new or complete.
func isend[T Type](req *Request, c *Comm, buf []T, dest, tag int) (*Request, error) {
	t := C.int(commonIndex[T]())
	if !p2pOK(c, len(buf), dest, tag, t) {
		var err error
		if t, err = p2pType("MPI_Isend", c, buf, dest, tag); err != nil {
			return nil, err
		}
	}
	p := bytes(buf)
	if size := uintptr(len(buf)) * unsafe.Sizeof(*new(T)); p != nil && size <= C.GOIPC_COPY {
		req.prepare(kindSend, nil, false, C.int(dest), C.int(tag))
		req.copy = copies.get()
		var rc C.int
		C.goipc_isend_copy(p, C.size_t(size), C.int(len(buf)), t, C.int(dest), C.int(tag), commArg(c.c), reqArg(&req.r), (*C.uint8_t)(req.copy), &rc)
		return req.started(checkCounted("MPI_Isend", rc))
	}
	req.prepare(kindSend, unsafe.Pointer(p), long(buf), C.int(dest), C.int(tag))
	return req.started(checkCounted("MPI_Isend", C.goipc_isend(p, C.int(len(buf)), t, C.int(dest), C.int(tag), commArg(c.c), reqArg(&req.r))))
}

// reusable reports why r cannot have an operation started in it: nil,
// still active, or freed.
func (r *Request) reusable(op string) error {
	if r != nil && (r.state == requestZero || r.state == requestDone) {
		return nil
	}
	return r.notReusable(op)
}

func (r *Request) notReusable(op string) error {
	switch {
	case r == nil:
		return nilSet(op, "request")
	case r.state == requestActive:
		return invalid(op, ErrRequest, "request is still active (%v): complete it with Wait or Test before starting another operation in it", r)
	}
	return closed(op, "request was freed")
}

// copies are blocks of GOIPC_COPY bytes of C memory for small Isends, kept
// for reuse for the life of the process: one is malloc'd only when all are
// in use, so there are as many as small Isends were ever active at once.
var copies copyPool

type copyPool struct {
	mu   lock
	free []unsafe.Pointer
}

func (cp *copyPool) get() unsafe.Pointer {
	cp.mu.lock()
	n := len(cp.free)
	if n == 0 {
		cp.mu.unlock()
		return C.malloc(C.GOIPC_COPY)
	}
	b := cp.free[n-1]
	cp.free = cp.free[:n-1]
	cp.mu.unlock()
	return b
}

func (cp *copyPool) put(b unsafe.Pointer) {
	cp.mu.lock()
	cp.free = append(cp.free, b)
	cp.mu.unlock()
}

// Irecv starts receiving into buf (MPI_Irecv).
func Irecv[T Type](c *Comm, buf []T, source, tag int) (*Request, error) {
	return irecv(new(Request), c, buf, source, tag)
}

// IrecvInto is Irecv that starts the receive in r, a Request the caller
// owns, as IsendInto starts a send: r must be new or completed, and a nil,
// active or freed r is refused in the same way.
func IrecvInto[T Type](r *Request, c *Comm, buf []T, source, tag int) error {
	if err := r.reusable("MPI_Irecv"); err != nil {
		return err
	}
	_, err := irecv(r, c, buf, source, tag)
	return err
}

// irecv is Irecv into req, new or complete.
func irecv[T Type](req *Request, c *Comm, buf []T, source, tag int) (*Request, error) {
	t := C.int(commonIndex[T]())
	if !p2pOK(c, len(buf), source, tag, t) {
		var err error
		if t, err = p2pType("MPI_Irecv", c, buf, source, tag); err != nil {
			return nil, err
		}
	}
	p := bytes(buf)
	req.prepare(kindRecv, unsafe.Pointer(p), long(buf), C.int(source), C.int(tag))
	return req.started(checkCounted("MPI_Irecv", C.goipc_irecv(p, C.int(len(buf)), t, C.int(source), C.int(tag), commArg(c.c), reqArg(&req.r))))
}

// reqArg passes the address of request handles to the wrappers of shim.h,
// which take it as uint8_t * so that cgo does not check the handles (see
// shim.h).
func reqArg(r *C.MPI_Request) *C.uint8_t { return (*C.uint8_t)(unsafe.Pointer(r)) }

// RecvContext is Recv that gives up when ctx is done: it posts the receive,
// cancels it and returns the context's error if ctx ends first (see
// Request.WaitContext for the error and for how it waits).
func RecvContext[T Type](ctx context.Context, c *Comm, buf []T, source, tag int) (Status, error) {
	if ctx == nil {
		return Status{}, nilContext("MPI_Recv")
	}
	if ctx.Err() != nil {
		return Status{}, errs.FromContext(ctx)
	}
	// The Request never leaves this call: once complete, which a receive
	// always is when WaitContext returns unless MPI failed to cancel it, it
	// goes back to the pool, so that a receive allocates nothing.
	own := ownRequests.Get().(*Request)
	r, err := irecv(own, c, buf, source, tag)
	if err != nil {
		ownRequests.Put(own)
		return Status{}, err
	}
	st, err := r.WaitContext(ctx)
	if r.state == requestDone {
		ownRequests.Put(r)
	}
	return st, err
}

// Wait blocks the calling thread until r completes (MPI_Wait).
//
// The Status is the named result that MPI writes into, as Recv's is: a
// local Status returned was copied whole to a temporary first, whose wide
// loads stalled on MPI's narrow stores (perf annotate, about 5ns).
func (r *Request) Wait() (st Status, err error) {
	if r == nil || r.state != requestActive { // active(), inlined
		return r.inactive("MPI_Wait")
	}
	var rc C.int
	C.goipc_wait(reqArg(&r.r), &st.raw, &rc)
	r.settle()
	if r.long {
		sched.AfterLongCall()
	}
	st.fill()
	return st, checkCounted("MPI_Wait", rc)
}

// inactive is what a completion call returns for a request it need not give
// MPI: an empty Status for a completed one, or the reason it cannot be used.
func (r *Request) inactive(op string) (Status, error) {
	switch {
	case r == nil:
		return Status{}, nilHandle(op, ErrRequest, "request")
	case r.state == requestZero:
		return Status{}, unstarted(op, "request")
	case r.state == requestFreed:
		return Status{}, closed(op, "request was freed")
	}
	return emptyStatus(), nil
}

// Test reports whether r has completed, without blocking (MPI_Test).
// Its Status is a named result for the reason Wait's is.
func (r *Request) Test() (st Status, done bool, err error) {
	if r == nil || r.state != requestActive {
		st, err := r.inactive("MPI_Test")
		return st, err == nil, err
	}
	var flag C.int
	var rc C.int
	C.goipc_test(reqArg(&r.r), &flag, &st.raw, &rc)
	r.settle()
	if err := checkCounted("MPI_Test", rc); err != nil || flag == 0 {
		return Status{}, false, err
	}
	st.fill()
	return st, true, nil
}

// Cancel asks MPI to cancel r (MPI_Cancel); r must still be completed with
// Wait or Test, whose Status then says whether it was Cancelled. Receives can
// be cancelled until they match a message; Open MPI does not cancel sends,
// and MPICH only some. Cancelling a completed request does nothing; an
// unfinished nonblocking collective cannot be cancelled (an EINVAL error),
// nor, in this package, an unfinished one-sided (Rput, Rget...) or file
// (Iread, Iwrite...) request.
func (r *Request) Cancel() error {
	if ok, err := r.active("MPI_Cancel"); !ok || err != nil {
		return err
	}
	if err := r.collective("MPI_Cancel"); err != nil {
		return err
	}
	if err := running("MPI_Cancel"); err != nil {
		return err
	}
	return check("MPI_Cancel", C.MPI_Cancel(&r.r))
}

// collective refuses to free or cancel an unfinished nonblocking collective,
// which the standard makes erroneous: it must be completed. The package
// treats the one-sided and file requests alike.
func (r *Request) collective(op string) error {
	if r.kind >= kindColl {
		return invalid(op, ErrRequest, "an unfinished %s can be neither freed nor cancelled: Wait or Test it", r.what())
	}
	return nil
}

// what names the kind of operation r is: "nonblocking collective".
func (r *Request) what() string {
	switch r.kind {
	case kindRMA:
		return "one-sided request"
	case kindFile:
		return "nonblocking file operation"
	}
	return "nonblocking collective"
}

// Free releases r (MPI_Request_free). It is nil-safe and idempotent, and
// completes nothing: freeing an unfinished request gives up its result while
// MPI finishes the operation by itself, so its buffer stays MPI's, pinned and
// untouchable, until Finalize (the standard's advice is to free only sends
// that the program knows were received, by a reply say, and to Cancel and
// Wait a receive instead). An unfinished nonblocking collective cannot be
// freed, as the standard says: Free refuses it (EINVAL) and it must be
// completed; it refuses an unfinished one-sided or file request too.
func (r *Request) Free() error {
	if r == nil || r.state == requestFreed {
		return nil
	}
	if r.state == requestActive {
		if err := r.collective("MPI_Request_free"); err != nil {
			return err
		}
		if err := running("MPI_Request_free"); err != nil {
			return err
		}
		if err := check("MPI_Request_free", C.MPI_Request_free(&r.r)); err != nil {
			return err
		}
	}
	r.state = requestFreed // an unfinished one stays listed, for Finalize to unpin
	return nil
}

// String describes r: "a send to rank 1 tag 5".
func (r *Request) String() string {
	switch {
	case r == nil:
		return "<nil>"
	case r.state == requestZero:
		return "<zero>"
	case r.kind == kindSend:
		return fmt.Sprintf("a send to %s tag %s", peerName(int(r.peer)), tagName(int(r.tag)))
	case r.kind == kindRecv:
		return fmt.Sprintf("a receive from %s tag %s", peerName(int(r.peer)), tagName(int(r.tag)))
	case r.kind == kindRMA:
		return fmt.Sprintf("a one-sided operation on %s", peerName(int(r.peer)))
	case r.kind == kindFile:
		return "a file operation"
	}
	return "a collective"
}

// Polling bounds for WaitContext: MPI has no way to wake a thread blocked in
// MPI_Wait, so it tests the request, first immediately, then sleeping between
// tests for a time that doubles up to maxPoll.
const (
	spinTests = 100
	minPoll   = 10 * time.Microsecond
	maxPoll   = time.Millisecond
)

// WaitContext is Wait that returns the context's error once ctx is done:
// for a passed deadline an error matching both os.ErrDeadlineExceeded and
// context.DeadlineExceeded, as the other packages' blocking calls return,
// and context.Canceled (with the cause, if any) for a cancellation.
//
// With a context that can never be done it is Wait. Otherwise it polls
// MPI_Test: a hundred times back to back, for the latency of a message that is
// about to arrive, then sleeping between tests, 10µs at first and doubling up
// to 1ms, so a long wait costs neither a core nor a blocked thread; a message
// that arrives after a long wait is seen up to 1ms late.
//
// When ctx ends, WaitContext cancels r (MPI_Cancel). A receive is then
// always complete when it returns: with the context's error, or with a nil
// error if a message matched before the cancellation (it is delivered). A
// send may be beyond cancelling (Open MPI never cancels one, however long no
// receiver takes it): if a last Test does not complete it, WaitContext
// returns the context's error and leaves r active with the cancellation
// requested, its buffer still MPI's. The caller must then end it like any
// other unfinished request: Wait or Test it (it completes when a receiver
// takes the message, or when MPI honours the cancellation,
// Status.Cancelled), or Free it.
func (r *Request) WaitContext(ctx context.Context) (Status, error) {
	if ctx == nil {
		return Status{}, nilContext("MPI_Wait")
	}
	if ok, err := r.active("MPI_Wait"); !ok || err != nil || ctx.Done() == nil {
		return r.Wait()
	}
	for range spinTests {
		if st, ok, err := r.Test(); ok || err != nil {
			return st, err
		}
	}
	timer := time.NewTimer(minPoll)
	defer timer.Stop()
	for wait := minPoll; ; wait = min(2*wait, maxPoll) {
		select {
		case <-ctx.Done():
			return r.giveUp(ctx)
		case <-timer.C:
		}
		if st, ok, err := r.Test(); ok || err != nil {
			return st, err
		}
		timer.Reset(wait)
	}
}

// nilContext refuses a nil context, which would otherwise panic on first use
// with the request left active.
func nilContext(op string) error {
	return invalid(op, ErrArg, "nil context (use context.Background())")
}

// giveUp ends a WaitContext whose context is done, as its documentation says.
func (r *Request) giveUp(ctx context.Context) (Status, error) {
	if r.kind >= kindColl {
		return Status{}, errs.FromContext(ctx)
	}
	if err := r.Cancel(); err != nil {
		return Status{}, err
	}
	var st Status
	var err error
	done := true
	if r.kind == kindRecv {
		st, err = r.Wait()
	} else {
		st, done, err = r.Test()
	}
	if err == nil && (!done || st.Cancelled()) {
		err = errs.FromContext(ctx)
	}
	return st, err
}

// handles copies the C handles of reqs into an array MPI can take: nil and
// completed requests become MPI_REQUEST_NULL, which MPI treats as complete.
// An unfinished request listed twice is refused: MPI would complete and
// free it once, then use the freed handle.
func handles(op string, reqs []*Request) ([]C.MPI_Request, error) {
	if err := running(op); err != nil {
		return nil, err
	}
	hs := make([]C.MPI_Request, len(reqs))
	var err error
	for i, r := range reqs {
		hs[i] = C.goipc_request_null
		if r == nil {
			continue
		}
		switch r.state {
		case requestZero:
			err = unstarted(op, fmt.Sprintf("request (index %d)", i))
		case requestFreed:
			err = closed(op, fmt.Sprintf("request %d was freed", i))
		case requestActive:
			if r.listed {
				err = invalid(op, ErrRequest, "request %d is listed twice (MPI would use it after freeing it)", i)
			}
			r.listed, hs[i] = true, r.r
		}
		if err != nil {
			break
		}
	}
	for _, r := range reqs {
		if r != nil {
			r.listed = false
		}
	}
	return hs, err
}

// settleAll copies the handles back after a multiple-completion call and
// settles the requests that completed.
func settleAll(reqs []*Request, hs []C.MPI_Request) {
	for i, r := range reqs {
		if r != nil && r.state == requestActive {
			r.r = hs[i]
			r.settle()
		}
	}
}

// statuses converts the C statuses; with ErrInStatus each carries its own
// request's error.
func statuses(op string, rc C.int, cst []C.MPI_Status) []Status {
	// One class lookup, and none when the call succeeded: each is a cgo call.
	inStatus := rc != C.MPI_SUCCESS && mpiClass(rc) == ErrInStatus
	out := make([]Status, len(cst))
	for i := range cst {
		out[i] = newStatus(&cst[i])
		if inStatus {
			out[i].Err = check(op, cst[i].MPI_ERROR)
		}
	}
	return out
}

func mpiClass(rc C.int) Class {
	var class C.int
	C.MPI_Error_class(rc, &class)
	return Class(class)
}

// WaitAll waits for every request to complete (MPI_Waitall) and returns their
// statuses in order. If some failed, the error is ErrInStatus and each
// Status.Err says which. A nil or completed request counts as complete; an
// unfinished one listed twice is an error, before any is waited for.
func WaitAll(reqs ...*Request) ([]Status, error) {
	if len(reqs) == 0 {
		return nil, ready("MPI_Waitall")
	}
	hs, err := handles("MPI_Waitall", reqs)
	if err != nil {
		return nil, err
	}
	cst := make([]C.MPI_Status, len(reqs))
	var rc C.int
	C.goipc_waitall(C.int(len(hs)), reqArg(&hs[0]), &cst[0], &rc)
	settleAll(reqs, hs)
	sched.AfterLongCall()
	return statuses("MPI_Waitall", rc, cst), check("MPI_Waitall", rc)
}

// WaitAny waits until one of reqs completes (MPI_Waitany) and returns its
// index, or Undefined if none was still active.
func WaitAny(reqs ...*Request) (int, Status, error) {
	if len(reqs) == 0 {
		return Undefined, Status{}, ready("MPI_Waitany")
	}
	hs, err := handles("MPI_Waitany", reqs)
	if err != nil {
		return Undefined, Status{}, err
	}
	var idx C.int
	var st C.MPI_Status
	rc := C.MPI_Waitany(C.int(len(hs)), &hs[0], &idx, &st)
	settleAll(reqs, hs)
	return int(idx), newStatus(&st), check("MPI_Waitany", rc)
}

// TestAll reports whether every request has completed (MPI_Testall), and if
// so their statuses; otherwise none of them is completed by the call.
func TestAll(reqs ...*Request) ([]Status, bool, error) {
	if len(reqs) == 0 {
		return nil, true, ready("MPI_Testall")
	}
	hs, err := handles("MPI_Testall", reqs)
	if err != nil {
		return nil, false, err
	}
	cst := make([]C.MPI_Status, len(reqs))
	var flag C.int
	rc := C.MPI_Testall(C.int(len(hs)), &hs[0], &flag, &cst[0])
	settleAll(reqs, hs)
	if flag == 0 && rc == C.MPI_SUCCESS {
		return nil, false, nil
	}
	return statuses("MPI_Testall", rc, cst), true, check("MPI_Testall", rc)
}

// link puts a Request or a Requests set on a list of those whose buffers
// MPI owns, from the call that starts an operation until its completion.
// The lists keep them reachable: a dropped one is never collected, so its
// buffer stays valid for MPI to finish with, and its runtime.Pinner never
// reaches the garbage collector still pinning (which panics, in the
// collector, naming nothing of MPI). Finalize reports what is left on them.
//
// A link is the first field of its owner, so that an entry converts back to
// it without a pointer of its own to store (each store is a write barrier
// while the collector runs).
type link struct{ prev, next *link }

var (
	_ = [1]int{}[unsafe.Offsetof(Request{}.link)] // link must come first
	_ = [1]int{}[unsafe.Offsetof(Requests{}.link)]
	_ = [1]int{}[unsafe.Offsetof(Persistents{}.link)]
)

// list is a circular list of links around its sentinel. Only ThreadMultiple
// lets two goroutines start or complete operations at once, so only then is
// it locked: below it, the calls that change the lists come one at a time
// (below ThreadSerialized, the C wrappers refuse any other thread before a
// list is touched), and a round of Requests costs no lock.
type list struct {
	mu   lock
	head link
}

// lock is a mutex taken only at ThreadMultiple, the one level at which two
// goroutines may start or complete operations at once.
type lock struct{ mu sync.Mutex }

func (l *lock) lock() {
	if provided == ThreadMultiple {
		l.mu.Lock()
	}
}

func (l *lock) unlock() {
	if provided == ThreadMultiple {
		l.mu.Unlock()
	}
}

var (
	requestList list // of Request
	setList     list // of Requests
)

func (ls *list) insert(l *link) {
	ls.mu.lock()
	if ls.head.next == nil {
		ls.head.next, ls.head.prev = &ls.head, &ls.head
	}
	l.prev, l.next = ls.head.prev, &ls.head
	ls.head.prev.next = l
	ls.head.prev = l
	ls.mu.unlock()
}

// remove takes l off ls if it is on it. It reads l.next under the lock: an
// insert of another entry writes the next of the last one, which l may be.
func (ls *list) remove(l *link) {
	ls.mu.lock()
	if l.next != nil {
		l.prev.next, l.next.prev = l.next, l.prev
		l.prev, l.next = nil, nil
	}
	ls.mu.unlock()
}

// entries returns the owners of the entries of ls, in the order they were
// started, for Finalize to go through without the lock held (it removes
// some).
func entries[T Request | Requests | Persistents](ls *list) []*T {
	ls.mu.lock()
	defer ls.mu.unlock()
	var out []*T
	for l := ls.head.next; l != nil && l != &ls.head; l = l.next {
		out = append(out, (*T)(unsafe.Pointer(l)))
	}
	return out
}

// unfinished returns an error naming the requests that are neither complete
// nor freed, for Finalize, after completing those that MPI has finished: a
// dropped Request whose message has gone or come is no longer in the way.
func unfinished() error {
	var what []string
	for _, r := range entries[Request](&requestList) {
		if r.state == requestActive {
			r.Test()
		}
		if r.state == requestActive {
			what = append(what, r.String())
		}
	}
	for _, rs := range entries[Requests](&setList) {
		rs.test()
		if n := len(rs.hs); n > 0 {
			what = append(what, "a Requests set of "+plural(n, "operation"))
		}
	}
	what = append(what, activePersistents()...)
	what = append(what, activeSets()...)
	if len(what) == 0 {
		return nil
	}
	const show = 5
	n, more := len(what), ""
	if n > show {
		more = fmt.Sprintf(" and %d more", n-show)
		what = what[:show]
	}
	return &Error{Op: "MPI_Finalize", Class: ErrPending, Msg: fmt.Sprintf("%s still unfinished (%s%s): Wait, Test or Free them first",
		plural(n, "request"), strings.Join(what, "; "), more)}
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// releaseFreed unpins the buffers of requests freed while unfinished, and
// gives back their copies, which MPI has finished with once it has finalized.
func releaseFreed() {
	for _, r := range entries[Request](&requestList) {
		r.release()
		requestList.remove(&r.link)
	}
}

// peerName names a rank as String shows it, the special ones by name.
func peerName(rank int) string {
	switch rank {
	case ProcNull:
		return "ProcNull"
	case AnySource:
		return "AnySource"
	}
	return fmt.Sprintf("rank %d", rank)
}

// tagName is a tag as String shows it: AnyTag by name.
func tagName(tag int) string {
	if tag == AnyTag {
		return "AnyTag"
	}
	return strconv.Itoa(tag)
}
