package mpi

// #include "shim.h"
//
// // Completing a request neither keeps the pointers it gets nor calls back
// // into Go (this package starts no nonblocking reduction whose Go operator
// // MPI's progress could run), so the statuses stay on the stack. Starting
// // one keeps the buffer: goipc_isend and goipc_irecv escape.
// #cgo nocallback goipc_isend
// #cgo nocallback goipc_irecv
// #cgo noescape MPI_Wait
// #cgo nocallback MPI_Wait
// #cgo noescape MPI_Test
// #cgo nocallback MPI_Test
// #cgo noescape MPI_Cancel
// #cgo nocallback MPI_Cancel
// #cgo noescape MPI_Waitall
// #cgo nocallback MPI_Waitall
// #cgo noescape MPI_Waitany
// #cgo nocallback MPI_Waitany
// #cgo noescape MPI_Testall
// #cgo nocallback MPI_Testall
import "C"

import (
	"context"
	"runtime"
	"time"
	"unsafe"

	"github.com/goipc/ipc/internal/sched"
)

// Request is a nonblocking operation in flight (MPI_Request). Its buffer is
// pinned (runtime.Pinner) and must not be touched until Wait, Test or one of
// WaitAll, WaitAny, TestAll reports it complete; a completed Request is inert
// and completing it again returns an empty Status. Each Isend or Irecv
// allocates its Request; a loop that starts many should use Requests.
//
// A Request belongs to one goroutine at a time.
type Request struct {
	r      C.MPI_Request
	pin    runtime.Pinner
	pinned bool // the buffer is pinned: false for an empty one and once complete
	long   bool // the buffer is large enough for Wait to call sched.AfterLongCall
}

// newRequest returns a Request whose buffer p is pinned from before MPI gets
// it until the request completes.
func newRequest(p unsafe.Pointer, large bool) *Request {
	req := &Request{r: C.goipc_request_null, long: large}
	if p != nil {
		req.pin.Pin(p)
		req.pinned = true
	}
	return req
}

// started returns r if MPI accepted the call (rc), or unpins its buffer.
func (r *Request) started(op string, rc C.int) (*Request, error) {
	if err := check(op, rc); err != nil {
		r.done()
		return nil, err
	}
	return r, nil
}

// Isend starts sending buf (MPI_Isend).
func Isend[T Type](c *Comm, buf []T, dest, tag int) (*Request, error) {
	h, err := c.handle("MPI_Isend")
	if err != nil {
		return nil, err
	}
	p, n, err := buffer("MPI_Isend", buf)
	if err != nil {
		return nil, err
	}
	req := newRequest(p, long(buf))
	return req.started("MPI_Isend", C.goipc_isend((*C.uint8_t)(p), n, C.int(typeIndex[T]()), C.int(dest), C.int(tag), commArg(h), &req.r))
}

// Irecv starts receiving into buf (MPI_Irecv).
func Irecv[T Type](c *Comm, buf []T, source, tag int) (*Request, error) {
	h, err := c.handle("MPI_Irecv")
	if err != nil {
		return nil, err
	}
	p, n, err := buffer("MPI_Irecv", buf)
	if err != nil {
		return nil, err
	}
	req := newRequest(p, long(buf))
	return req.started("MPI_Irecv", C.goipc_irecv((*C.uint8_t)(p), n, C.int(typeIndex[T]()), C.int(source), C.int(tag), commArg(h), &req.r))
}

// RecvContext is Recv that gives up when ctx is done: it posts the receive,
// cancels it and returns ctx.Err() if ctx ends first. See Request.WaitContext
// for how it waits.
func RecvContext[T Type](ctx context.Context, c *Comm, buf []T, source, tag int) (Status, error) {
	if err := ctx.Err(); err != nil {
		return Status{}, err
	}
	r, err := Irecv(c, buf, source, tag)
	if err != nil {
		return Status{}, err
	}
	return r.WaitContext(ctx)
}

func (r *Request) done() {
	if r.pinned {
		r.pin.Unpin()
		r.pinned = false
	}
}

func (r *Request) usable(op string) error {
	if r == nil {
		return closed(op, "request is nil")
	}
	return running(op)
}

// Wait blocks the calling thread until r completes (MPI_Wait).
func (r *Request) Wait() (Status, error) {
	if err := r.usable("MPI_Wait"); err != nil {
		return Status{}, err
	}
	var st C.MPI_Status
	rc := C.MPI_Wait(&r.r, &st)
	r.done()
	if r.long {
		sched.AfterLongCall()
	}
	return newStatus(&st), check("MPI_Wait", rc)
}

// Test reports whether r has completed, without blocking (MPI_Test).
func (r *Request) Test() (Status, bool, error) {
	if err := r.usable("MPI_Test"); err != nil {
		return Status{}, false, err
	}
	var st C.MPI_Status
	var flag C.int
	if err := check("MPI_Test", C.MPI_Test(&r.r, &flag, &st)); err != nil {
		r.done()
		return Status{}, false, err
	}
	if flag == 0 {
		return Status{}, false, nil
	}
	r.done()
	return newStatus(&st), true, nil
}

// Cancel asks MPI to cancel r (MPI_Cancel); r must still be completed with
// Wait or Test, whose Status then says whether it was Cancelled. Receives can
// be cancelled until they match a message; Open MPI and MPICH do not cancel
// sends that have left.
func (r *Request) Cancel() error {
	if err := r.usable("MPI_Cancel"); err != nil {
		return err
	}
	if r.r == C.goipc_request_null {
		return nil
	}
	return check("MPI_Cancel", C.MPI_Cancel(&r.r))
}

// Polling bounds for WaitContext: MPI has no way to wake a thread blocked in
// MPI_Wait, so it tests the request, first immediately, then sleeping between
// tests for a time that doubles up to maxPoll.
const (
	spinTests = 100
	minPoll   = 10 * time.Microsecond
	maxPoll   = time.Millisecond
)

// WaitContext is Wait that returns ctx.Err() once ctx is done, after
// cancelling r and waiting for the cancellation to complete. A message that
// arrived before the cancellation is still delivered, with a nil error.
//
// With a context that can never be done it is Wait. Otherwise it polls
// MPI_Test: a hundred times back to back, for the latency of a message that is
// about to arrive, then sleeping between tests, 10µs at first and doubling up
// to 1ms, so a long wait costs neither a core nor a blocked thread; a message
// that arrives after a long wait is seen up to 1ms late.
func (r *Request) WaitContext(ctx context.Context) (Status, error) {
	if ctx.Done() == nil || r == nil {
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
			if err := r.Cancel(); err != nil {
				return Status{}, err
			}
			st, err := r.Wait()
			if err == nil && st.Cancelled() {
				err = ctx.Err()
			}
			return st, err
		case <-timer.C:
		}
		if st, ok, err := r.Test(); ok || err != nil {
			return st, err
		}
		timer.Reset(wait)
	}
}

// handles copies the C handles of reqs (nil counts as completed) into an
// array MPI can take.
func handles(reqs []*Request) []C.MPI_Request {
	hs := make([]C.MPI_Request, len(reqs))
	for i, r := range reqs {
		hs[i] = C.goipc_request_null
		if r != nil {
			hs[i] = r.r
		}
	}
	return hs
}

// settle copies the handles back after a multiple-completion call and
// unpins the buffers of the requests that completed.
func settle(reqs []*Request, hs []C.MPI_Request) {
	for i, r := range reqs {
		if r != nil {
			r.r = hs[i]
			if r.r == C.goipc_request_null {
				r.done()
			}
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
// Status.Err says which.
func WaitAll(reqs ...*Request) ([]Status, error) {
	if err := running("MPI_Waitall"); err != nil || len(reqs) == 0 {
		return nil, err
	}
	hs := handles(reqs)
	cst := make([]C.MPI_Status, len(reqs))
	rc := C.MPI_Waitall(C.int(len(hs)), &hs[0], &cst[0])
	settle(reqs, hs)
	sched.AfterLongCall()
	return statuses("MPI_Waitall", rc, cst), check("MPI_Waitall", rc)
}

// WaitAny waits until one of reqs completes (MPI_Waitany) and returns its
// index, or Undefined if none was still active.
func WaitAny(reqs ...*Request) (int, Status, error) {
	if err := running("MPI_Waitany"); err != nil || len(reqs) == 0 {
		return Undefined, Status{}, err
	}
	hs := handles(reqs)
	var idx C.int
	var st C.MPI_Status
	rc := C.MPI_Waitany(C.int(len(hs)), &hs[0], &idx, &st)
	settle(reqs, hs)
	return int(idx), newStatus(&st), check("MPI_Waitany", rc)
}

// TestAll reports whether every request has completed (MPI_Testall), and if
// so their statuses; otherwise none of them is completed by the call.
func TestAll(reqs ...*Request) ([]Status, bool, error) {
	if err := running("MPI_Testall"); err != nil || len(reqs) == 0 {
		return nil, len(reqs) == 0, err
	}
	hs := handles(reqs)
	cst := make([]C.MPI_Status, len(reqs))
	var flag C.int
	rc := C.MPI_Testall(C.int(len(hs)), &hs[0], &flag, &cst[0])
	settle(reqs, hs)
	if flag == 0 && rc == C.MPI_SUCCESS {
		return nil, false, nil
	}
	return statuses("MPI_Testall", rc, cst), true, check("MPI_Testall", rc)
}
