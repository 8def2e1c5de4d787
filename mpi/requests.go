package mpi

// #include "shim.h"
import "C"

import (
	"runtime"
	"unsafe"

	"github.com/goipc/ipc/internal/sched"
)

// Requests is a set of nonblocking operations that the caller owns and uses
// round after round, as a windowed bandwidth loop does: AddIsend and AddIrecv
// start operations in it, WaitAll completes them all (MPI_Waitall) and
// empties it for the next round. Once its arrays have grown to the largest
// round, a round allocates nothing (runtime.Pinner keeps five buffers without
// allocating), and operations that follow each other on the same buffer pin
// it once.
//
// Ownership: the buffer of each operation belongs to MPI from the Add call
// that starts it until a WaitAll leaves the set empty (Len 0); the set keeps
// it pinned until then, and the caller must neither touch it nor let the set
// go before. No
// handle to a single operation ever leaves the set, so none can outlive its
// round: Status(i) reads what the last WaitAll left.
//
// The zero Requests is an empty set, ready to use. A Requests belongs to one
// goroutine at a time and must not be copied.
type Requests struct {
	hs     []C.MPI_Request
	st     []C.MPI_Status // the statuses of the last WaitAll
	rc     C.int          // what the last WaitAll returned
	pin    runtime.Pinner
	last   unsafe.Pointer // the buffer pinned last, which needs no second pin
	rounds uint32         // rounds completed, for sched.AfterLongCall
}

// Len returns the number of operations started since the last WaitAll that
// completed them.
func (rs *Requests) Len() int {
	if rs == nil {
		return 0
	}
	return len(rs.hs)
}

// add checks an Add call's arguments and pins the buffer; the caller then
// starts the operation into the handle it returns.
func add[T Type](op string, rs *Requests, c *Comm, buf []T) (C.MPI_Comm, *C.uint8_t, C.int, *C.MPI_Request, error) {
	if rs == nil {
		return C.goipc_comm_null, nil, 0, nil, closed(op, "request set is nil")
	}
	h, err := c.handle(op)
	if err != nil {
		return h, nil, 0, nil, err
	}
	p, n, err := buffer(op, buf)
	if err != nil {
		return h, nil, 0, nil, err
	}
	if p != nil && p != rs.last {
		rs.pin.Pin(p)
		rs.last = p
	}
	rs.hs = append(rs.hs, C.goipc_request_null)
	return h, (*C.uint8_t)(p), n, &rs.hs[len(rs.hs)-1], nil
}

// started drops the handle of an operation MPI refused. Its buffer stays
// pinned until the WaitAll that the set's other operations need, if any.
func (rs *Requests) started(op string, rc C.int) error {
	if err := check(op, rc); err != nil {
		rs.hs = rs.hs[:len(rs.hs)-1]
		if len(rs.hs) == 0 {
			rs.unpin()
		}
		return err
	}
	return nil
}

func (rs *Requests) unpin() {
	rs.pin.Unpin()
	rs.last = nil
}

// AddIsend starts sending buf to dest (MPI_Isend) as one more operation of
// rs.
func AddIsend[T Type](rs *Requests, c *Comm, buf []T, dest, tag int) error {
	h, p, n, r, err := add("MPI_Isend", rs, c, buf)
	if err != nil {
		return err
	}
	return rs.started("MPI_Isend", C.goipc_isend(p, n, C.int(typeIndex[T]()), C.int(dest), C.int(tag), commArg(h), r))
}

// AddIrecv starts receiving into buf from source (MPI_Irecv) as one more
// operation of rs.
func AddIrecv[T Type](rs *Requests, c *Comm, buf []T, source, tag int) error {
	h, p, n, r, err := add("MPI_Irecv", rs, c, buf)
	if err != nil {
		return err
	}
	return rs.started("MPI_Irecv", C.goipc_irecv(p, n, C.int(typeIndex[T]()), C.int(source), C.int(tag), commArg(h), r))
}

// WaitAll blocks the calling thread until every operation of rs has completed
// (MPI_Waitall), then unpins their buffers and empties rs. If some failed,
// the error is ErrInStatus and Status(i).Err says which (a round of one
// returns its own error); any that MPI left pending (MPI_ERR_PENDING) stay in
// rs, pinned, for another WaitAll.
func (rs *Requests) WaitAll() error {
	if rs == nil {
		return closed("MPI_Waitall", "request set is nil")
	}
	if err := running("MPI_Waitall"); err != nil {
		return err
	}
	n := len(rs.hs)
	if cap(rs.st) < n {
		rs.st = make([]C.MPI_Status, n)
	}
	rs.st = rs.st[:n]
	rs.rc = C.MPI_SUCCESS
	switch n {
	case 0:
	case 1: // Open MPI's MPI_Waitall costs more for one request than MPI_Wait
		rs.rc = C.MPI_Wait(&rs.hs[0], &rs.st[0])
	default:
		rs.rc = C.MPI_Waitall(C.int(n), &rs.hs[0], &rs.st[0])
	}
	for _, h := range rs.hs {
		if h != C.goipc_request_null {
			return check("MPI_Waitall", rs.rc)
		}
	}
	rs.hs = rs.hs[:0]
	rs.unpin()
	// Reading the clock would cost a round of one a tenth more: look every
	// 16th round, or after every round of 16 operations or more.
	if rs.rounds++; n >= 16 || rs.rounds%16 == 0 {
		sched.AfterLongCall()
	}
	return check("MPI_Waitall", rs.rc)
}

// Status returns the status of operation i (in the order the Add calls
// started them) as the last WaitAll left it.
func (rs *Requests) Status(i int) Status {
	if rs == nil || i < 0 || i >= len(rs.st) {
		return Status{Source: Undefined, Tag: Undefined, Err: invalid("MPI_Waitall", ErrArg, "no status %d in the request set", i)}
	}
	st := newStatus(&rs.st[i])
	if rs.rc != C.MPI_SUCCESS && mpiClass(rs.rc) == ErrInStatus {
		st.Err = check("MPI_Waitall", rs.st[i].MPI_ERROR)
	}
	return st
}
