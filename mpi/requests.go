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
	link link // on setList while Len > 0
	_    noCopy
	batch
}

// batch is what Requests and Persistents share: the handles of a round's
// operations, contiguous as MPI_Waitall takes them, the statuses of the last
// round, and the pins of the operations' buffers.
type batch struct {
	hs     []C.MPI_Request
	st     []C.MPI_Status // the statuses of the last WaitAll
	rc     C.int          // what the last WaitAll returned
	pin    runtime.Pinner
	last   unsafe.Pointer // the buffer pinned last, which needs no second pin
	rounds uint32         // rounds completed, for sched.AfterLongCall
}

// addTo checks the arguments of an operation to add to b, pins its buffer,
// unless the operation before used it too, and makes room for its handle;
// the caller then starts or sets up the operation into the handle r, with
// T's datatype t, and passes what MPI returned to added.
func addTo[T Type](op string, b *batch, c *Comm, buf []T, peer, tag int) (t C.int, r *C.uint8_t, err error) {
	if t = C.int(commonIndex[T]()); !p2pOK(c, len(buf), peer, tag, t) {
		if t, err = p2pType(op, c, buf, peer, tag); err != nil {
			return 0, nil, err
		}
	}
	if p := unsafe.Pointer(bytes(buf)); p != nil && p != b.last {
		b.pin.Pin(p)
		b.last = p
	}
	b.hs = append(b.hs, C.goipc_request_null)
	return t, reqArg(&b.hs[len(b.hs)-1]), nil
}

// added puts the set, by its link l, on ls with its first operation, or
// drops the handle of one that MPI refused (err is the call's check), whose
// buffer stays pinned while the set has other operations.
func (b *batch) added(err error, ls *list, l *link) error {
	if err != nil {
		b.hs = b.hs[:len(b.hs)-1]
		if len(b.hs) == 0 {
			b.unpinAll()
			ls.remove(l)
		}
		return err
	}
	if len(b.hs) == 1 {
		ls.insert(l)
	}
	return nil
}

// unpinAll releases the buffers of every operation.
func (b *batch) unpinAll() {
	b.pin.Unpin()
	b.last = nil
}

// statuses makes room for the statuses of the set's n operations.
func (b *batch) statuses() []C.MPI_Status {
	n := len(b.hs)
	if cap(b.st) < n {
		b.st = make([]C.MPI_Status, n)
	}
	b.st = b.st[:n]
	return b.st
}

// waitAll completes every operation (MPI_Waitall), in one cgo call.
func (b *batch) waitAll() {
	st := b.statuses()
	b.rc = C.MPI_SUCCESS
	switch len(b.hs) {
	case 0:
	case 1: // Open MPI's MPI_Waitall costs more for one request than MPI_Wait
		C.goipc_wait(reqArg(&b.hs[0]), &st[0], &b.rc)
		if b.rc == C.GOIPC_DUE { // endRound looks at the clock for rounds
			b.rc = C.MPI_SUCCESS
		}
	default:
		C.goipc_waitall(C.int(len(b.hs)), reqArg(&b.hs[0]), &st[0], &b.rc)
	}
}

// testAll is waitAll that does not block (MPI_Testall), for Finalize.
func (b *batch) testAll() bool {
	if len(b.hs) == 0 {
		return true
	}
	st := b.statuses()
	var flag C.int
	return C.MPI_Testall(C.int(len(b.hs)), &b.hs[0], &flag, &st[0]) == C.MPI_SUCCESS && flag != 0
}

// endRound lets the scheduler in now and then (see sched.AfterLongCall) after
// a round of n operations. Reading the clock would cost a round of one a
// tenth more: look every 16th round, or after every round of 16 operations
// or more.
func (b *batch) endRound(n int) {
	if b.rounds++; n >= 16 || b.rounds%16 == 0 {
		sched.AfterLongCall()
	}
}

// status is Status(i) of a set, from the statuses of its last round.
func (b *batch) status(i int) Status {
	if i < 0 || i >= len(b.st) {
		return Status{Source: Undefined, Tag: Undefined, Err: invalid("MPI_Waitall", ErrArg, "no status %d in the request set", i)}
	}
	st := newStatus(&b.st[i])
	// MPI cannot look up an error class outside Init..Finalize.
	if b.rc != C.MPI_SUCCESS && ready("MPI_Error_class") == nil && mpiClass(b.rc) == ErrInStatus {
		st.Err = check("MPI_Waitall", b.st[i].MPI_ERROR)
	}
	return st
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

// add is addTo for an Add call of a Requests set, whose buffers stay pinned
// until the WaitAll that completes them.
func add[T Type](op string, rs *Requests, c *Comm, buf []T, peer, tag int) (t C.int, r *C.uint8_t, err error) {
	if rs == nil {
		return 0, nil, nilSet(op, "request set")
	}
	return addTo(op, &rs.batch, c, buf, peer, tag)
}

// started is added for the list of sets with unfinished operations.
func (rs *Requests) started(op string, rc C.int) error {
	return rs.added(checkCounted(op, rc), &setList, &rs.link)
}

// empty releases the set once it has no operation left.
func (rs *Requests) empty() {
	rs.unpinAll()
	setList.remove(&rs.link)
}

func (rs *Requests) test() {
	if len(rs.hs) > 0 && rs.testAll() {
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
		return nilSet("MPI_Waitall", "request set")
	}
	if err := ready("MPI_Waitall"); err != nil {
		return err
	}
	n := len(rs.hs)
	rs.waitAll()
	for _, h := range rs.hs {
		if h != C.goipc_request_null {
			return check("MPI_Waitall", rs.rc)
		}
	}
	rs.hs = rs.hs[:0]
	rs.empty()
	rs.endRound(n)
	return check("MPI_Waitall", rs.rc)
}

// CancelAll asks MPI to cancel every operation of rs (MPI_Cancel on each),
// as Request.Cancel does: WaitAll must still complete them, and Status(i)
// then says which were Cancelled. It is the way out of a round whose
// receives no message will match, which WaitAll would wait for forever and
// Finalize refuse. Receives can be cancelled until they match a message;
// Open MPI cancels no send. An empty set does nothing.
func (rs *Requests) CancelAll() error {
	if rs == nil {
		return nilSet("MPI_Cancel", "request set")
	}
	return rs.cancelAll()
}

// cancelAll asks MPI to cancel each operation of b that is still active.
func (b *batch) cancelAll() error {
	if len(b.hs) == 0 {
		return nil
	}
	if err := running("MPI_Cancel"); err != nil {
		return err
	}
	for i := range b.hs {
		if b.hs[i] == C.goipc_request_null {
			continue
		}
		if err := check("MPI_Cancel", C.MPI_Cancel(&b.hs[i])); err != nil {
			return err
		}
	}
	return nil
}

// Status returns the status of operation i (in the order the Add calls
// started them) as the last WaitAll left it.
func (rs *Requests) Status(i int) Status {
	if rs == nil {
		return Status{Source: Undefined, Tag: Undefined, Err: nilSet("MPI_Waitall", "request set")}
	}
	return rs.status(i)
}
