package mpi

// #include "shim.h"
//
// // Setting up keeps the buffer and the request's address only for the call
// // (the handle is a value); starting keeps neither the array nor its handles.
// #cgo nocallback goipc_send_init
// #cgo nocallback goipc_recv_init
// #cgo noescape goipc_startall
// #cgo nocallback goipc_startall
import "C"

import "fmt"

// Persistents is a set of persistent sends and receives that run in rounds,
// as a C program keeps an array of requests from MPI_Send_init and
// MPI_Recv_init for MPI_Startall and MPI_Waitall: AddSendInit and AddRecvInit
// set each operation up once, StartAll starts a round of all of them in one
// call (MPI_Startall) and WaitAll completes it in one (MPI_Waitall). A round
// therefore crosses into C twice however many operations it holds, and
// allocates nothing; a windowed bandwidth loop of 64 messages makes 2 cgo
// calls a round instead of Requests' 65.
//
// Ownership: the buffer of each operation belongs to MPI from the Add call
// that sets it up until Free; the caller may touch it only between rounds,
// after WaitAll and before the next StartAll. The set keeps every buffer
// pinned until Free (operations that follow each other on one buffer pin it
// once). No handle to a single operation leaves the set: Status(i) reads what
// the last WaitAll left. Operations are added only between rounds.
//
// A set never freed stays set up, and its buffers pinned, until Finalize,
// which frees it, or refuses to run (ErrPending) while a round of it is
// unfinished, as it does for a Persistent.
//
// The zero Persistents is an empty set, ready to use. A Persistents belongs
// to one goroutine at a time and must not be copied (go vet reports copies).
type Persistents struct {
	link link // on persistentsList from its first operation to Free
	_    noCopy
	batch
	active bool // a round is started and not yet completed
}

var persistentsList list // of Persistents

// Len returns the number of operations set up in ps.
func (ps *Persistents) Len() int {
	if ps == nil {
		return 0
	}
	return len(ps.hs)
}

// Active reports whether a round of ps has started and WaitAll has not yet
// completed it.
func (ps *Persistents) Active() bool { return ps != nil && ps.active }

// setUp is addTo for an Add call of a Persistents set, which must be
// between rounds; its buffers stay pinned until Free.
func setUp[T Type](op string, ps *Persistents, c *Comm, buf []T, peer, tag int) (t C.int, r *C.uint8_t, err error) {
	if ps == nil {
		return 0, nil, nilSet(op, "persistent request set")
	}
	if ps.active {
		return 0, nil, invalid(op, ErrRequest, "the set is in a round: WaitAll before adding to it")
	}
	return addTo(op, &ps.batch, c, buf, peer, tag)
}

// release unpins the buffers of a set that has no operation left.
func (ps *Persistents) release() {
	ps.hs = ps.hs[:0]
	ps.unpinAll()
	persistentsList.remove(&ps.link)
}

// AddSendInit sets up a persistent send of buf to dest (MPI_Send_init) as
// one more operation of ps; StartAll starts it with the others.
func AddSendInit[T Type](ps *Persistents, c *Comm, buf []T, dest, tag int) error {
	t, r, err := setUp("MPI_Send_init", ps, c, buf, dest, tag)
	if err != nil {
		return err
	}
	return ps.added(check("MPI_Send_init", C.goipc_send_init(bytes(buf), C.int(len(buf)), t, C.int(dest), C.int(tag), commArg(c.c), r)), &persistentsList, &ps.link)
}

// AddRecvInit sets up a persistent receive into buf from source
// (MPI_Recv_init) as one more operation of ps.
func AddRecvInit[T Type](ps *Persistents, c *Comm, buf []T, source, tag int) error {
	t, r, err := setUp("MPI_Recv_init", ps, c, buf, source, tag)
	if err != nil {
		return err
	}
	return ps.added(check("MPI_Recv_init", C.goipc_recv_init(bytes(buf), C.int(len(buf)), t, C.int(source), C.int(tag), commArg(c.c), r)), &persistentsList, &ps.link)
}

// StartAll starts a round of every operation of ps (MPI_Startall), in one
// call; ps must not be active. Starting an empty set does nothing.
func (ps *Persistents) StartAll() error {
	if ps == nil {
		return nilSet("MPI_Startall", "persistent request set")
	}
	if ps.active {
		return invalid("MPI_Startall", ErrRequest, "the set's round is still active: WaitAll first")
	}
	if err := ready("MPI_Startall"); err != nil || len(ps.hs) == 0 {
		return err
	}
	var rc C.int
	C.goipc_startall(C.int(len(ps.hs)), reqArg(&ps.hs[0]), &rc)
	if err := check("MPI_Startall", rc); err != nil {
		return err
	}
	ps.active = true
	return nil
}

// WaitAll blocks the calling thread until the round of ps completes
// (MPI_Waitall), in one call; the operations stay set up for the next
// StartAll. Waiting on a set that is not active returns nil at once. If some
// operations failed, the error is ErrInStatus and Status(i).Err says which;
// the round stays active while MPI reports any of them pending
// (MPI_ERR_PENDING), for another WaitAll to complete.
func (ps *Persistents) WaitAll() error {
	if ps == nil {
		return nilSet("MPI_Waitall", "persistent request set")
	}
	if !ps.active {
		return nil
	}
	if err := ready("MPI_Waitall"); err != nil {
		return err
	}
	ps.waitAll()
	ps.active = ps.rc != C.MPI_SUCCESS && ps.pending()
	ps.endRound(len(ps.hs))
	return check("MPI_Waitall", ps.rc)
}

// CancelAll asks MPI to cancel every operation of ps's round (MPI_Cancel on
// each), as Persistent.Cancel does: WaitAll must still complete the round,
// Status(i) then says which were Cancelled, and the operations stay set up
// for the next StartAll. It is the way out of a round whose receives no
// message will match, which WaitAll would wait for forever, Free refuse and
// Finalize too. A set not in a round does nothing.
func (ps *Persistents) CancelAll() error {
	if ps == nil {
		return nilSet("MPI_Cancel", "persistent request set")
	}
	if !ps.active {
		return nil
	}
	return ps.cancelAll()
}

// pending reports whether a failed WaitAll left operations unfinished
// (MPI_ERR_PENDING in their status), which stay active.
func (ps *Persistents) pending() bool {
	if len(ps.hs) == 1 || mpiClass(ps.rc) != ErrInStatus {
		return false
	}
	for _, st := range ps.st {
		if st.MPI_ERROR != C.MPI_SUCCESS && mpiClass(st.MPI_ERROR) == ErrPending {
			return true
		}
	}
	return false
}

// Status returns the status of operation i (in the order the Add calls set
// them up) as the last WaitAll left it.
func (ps *Persistents) Status(i int) Status {
	if ps == nil {
		return Status{Source: Undefined, Tag: Undefined, Err: nilSet("MPI_Waitall", "persistent request set")}
	}
	return ps.status(i)
}

// Free releases every operation of ps (MPI_Request_free) and unpins their
// buffers, leaving an empty set that can be used again. It is nil-safe and
// idempotent; a set in a round is refused (EINVAL): WaitAll first.
func (ps *Persistents) Free() error {
	if ps == nil || len(ps.hs) == 0 {
		return nil
	}
	if ps.active {
		return invalid("MPI_Request_free", ErrRequest, "the set's round is active: WaitAll first")
	}
	if err := running("MPI_Request_free"); err != nil {
		return err
	}
	ps.free()
	return nil
}

// free releases the operations, which none of the library's errors can keep
// from being freed.
func (ps *Persistents) free() {
	for i := range ps.hs {
		C.MPI_Request_free(&ps.hs[i])
	}
	ps.release()
}

// activeSets tests, for Finalize, the sets whose round is unfinished, and
// names those still unfinished.
func activeSets() []string {
	var what []string
	for _, ps := range entries[Persistents](&persistentsList) {
		if ps.active && ps.testAll() {
			ps.active = false
		}
		if ps.active {
			what = append(what, fmt.Sprintf("a Persistents set of %s in a round", plural(len(ps.hs), "operation")))
		}
	}
	return what
}

// freeSets frees, before MPI_Finalize, the sets never freed.
func freeSets() {
	for _, ps := range entries[Persistents](&persistentsList) {
		ps.free()
	}
}
