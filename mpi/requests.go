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
// it pinned until then, and the caller must not touch it. No handle to a
// single operation ever leaves the set, so none can outlive its round:
// Status(i) reads what the last WaitAll left. A set dropped with operations
// unfinished is kept, as a Request is, and Finalize refuses to run until a
// WaitAll completes them.
//
// The zero Requests is an empty set, ready to use. A Requests belongs to one
// goroutine at a time and must not be copied (go vet reports copies).
type Requests struct {
	link   link // on setList while Len > 0
	_      noCopy
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

// noCopy makes go vet's copylocks check report a copied Requests: the set is
// on a list by its address.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

// add checks an Add call's arguments, pins the buffer and makes room for
// the operation's handle; the caller then starts the operation into the
// handle r, with T's datatype t.
func add[T Type](op string, rs *Requests, c *Comm, buf []T, peer, tag int) (t C.int, r *C.uint8_t, err error) {
	if rs == nil {
		return 0, nil, nilHandle(op, ErrRequest, "request set")
	}
	if t, err = p2pType(op, c, buf, peer, tag); err != nil {
		return 0, nil, err
	}
	if p := unsafe.Pointer(bytes(buf)); p != nil && p != rs.last {
		rs.pin.Pin(p)
		rs.last = p
	}
	rs.hs = append(rs.hs, C.goipc_request_null)
	return t, reqArg(&rs.hs[len(rs.hs)-1]), nil
}

// started puts the set on the list of unfinished operations with its first
// one, or drops the handle of an operation MPI refused, whose buffer stays
// pinned until the WaitAll that the set's other operations need, if any.
func (rs *Requests) started(op string, rc C.int) error {
	if err := check(op, rc); err != nil {
		rs.hs = rs.hs[:len(rs.hs)-1]
		if len(rs.hs) == 0 {
			rs.empty()
		}
		return err
	}
	if len(rs.hs) == 1 {
		setList.insert(&rs.link)
	}
	return nil
}

// empty releases the set once it has no operation left.
func (rs *Requests) empty() {
	rs.pin.Unpin()
	rs.last = nil
	setList.remove(&rs.link)
}

func (rs *Requests) test() {
	n := len(rs.hs)
	if n == 0 {
		return
	}
	if cap(rs.st) < n {
		rs.st = make([]C.MPI_Status, n)
	}
	rs.st = rs.st[:n]
	var flag C.int
	if C.MPI_Testall(C.int(n), &rs.hs[0], &flag, &rs.st[0]) == C.MPI_SUCCESS && flag != 0 {
		rs.hs = rs.hs[:0]
		rs.empty()
	}
}

// AddIsend starts sending buf to dest (MPI_Isend) as one more operation of
// rs.
func AddIsend[T Type](rs *Requests, c *Comm, buf []T, dest, tag int) error {
	t, r, err := add("MPI_Isend", rs, c, buf, dest, tag)
	if err != nil {
		return err
	}
	return rs.started("MPI_Isend", C.goipc_isend(bytes(buf), C.int(len(buf)), t, C.int(dest), C.int(tag), commArg(c.c), r))
}

// AddIrecv starts receiving into buf from source (MPI_Irecv) as one more
// operation of rs.
func AddIrecv[T Type](rs *Requests, c *Comm, buf []T, source, tag int) error {
	t, r, err := add("MPI_Irecv", rs, c, buf, source, tag)
	if err != nil {
		return err
	}
	return rs.started("MPI_Irecv", C.goipc_irecv(bytes(buf), C.int(len(buf)), t, C.int(source), C.int(tag), commArg(c.c), r))
}

// WaitAll blocks the calling thread until every operation of rs has completed
// (MPI_Waitall), then unpins their buffers and empties rs. If some failed,
// the error is ErrInStatus and Status(i).Err says which (a round of one
// returns its own error); any that MPI left pending (MPI_ERR_PENDING) stay in
// rs, pinned, for another WaitAll.
func (rs *Requests) WaitAll() error {
	if rs == nil {
		return nilHandle("MPI_Waitall", ErrRequest, "request set")
	}
	if err := ready("MPI_Waitall"); err != nil {
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
		rs.rc = C.goipc_wait(reqArg(&rs.hs[0]), &rs.st[0])
	default:
		rs.rc = C.goipc_waitall(C.int(n), reqArg(&rs.hs[0]), &rs.st[0])
	}
	for _, h := range rs.hs {
		if h != C.goipc_request_null {
			return check("MPI_Waitall", rs.rc)
		}
	}
	rs.hs = rs.hs[:0]
	rs.empty()
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
	if rs == nil {
		return Status{Source: Undefined, Tag: Undefined, Err: nilHandle("MPI_Waitall", ErrRequest, "request set")}
	}
	if i < 0 || i >= len(rs.st) {
		return Status{Source: Undefined, Tag: Undefined, Err: invalid("MPI_Waitall", ErrArg, "no status %d in the request set", i)}
	}
	st := newStatus(&rs.st[i])
	// MPI cannot look up an error class outside Init..Finalize.
	if rs.rc != C.MPI_SUCCESS && ready("MPI_Error_class") == nil && mpiClass(rs.rc) == ErrInStatus {
		st.Err = check("MPI_Waitall", rs.st[i].MPI_ERROR)
	}
	return st
}
