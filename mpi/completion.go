package mpi

// #include "shim.h"
import "C"

// WaitSome waits until at least one of reqs completes (MPI_Waitsome) and
// returns the indexes of all that completed, with their statuses; none when
// no request was still active.
func WaitSome(reqs ...*Request) ([]int, []Status, error) {
	return some("MPI_Waitsome", reqs, func(n C.int, hs *C.MPI_Request, out *C.int, idx *C.int, st *C.MPI_Status) C.int {
		return C.MPI_Waitsome(n, hs, out, idx, st)
	})
}

// TestSome returns the indexes and statuses of the requests of reqs that
// have completed, without blocking (MPI_Testsome); none may have.
func TestSome(reqs ...*Request) ([]int, []Status, error) {
	return some("MPI_Testsome", reqs, func(n C.int, hs *C.MPI_Request, out *C.int, idx *C.int, st *C.MPI_Status) C.int {
		return C.MPI_Testsome(n, hs, out, idx, st)
	})
}

func some(op string, reqs []*Request, call func(n C.int, hs *C.MPI_Request, out *C.int, idx *C.int, st *C.MPI_Status) C.int) ([]int, []Status, error) {
	if len(reqs) == 0 {
		return nil, nil, ready(op)
	}
	hs, err := handles(op, reqs)
	if err != nil {
		return nil, nil, err
	}
	idx := make([]C.int, len(reqs))
	cst := make([]C.MPI_Status, len(reqs))
	var out C.int
	rc := call(C.int(len(hs)), &hs[0], &out, &idx[0], &cst[0])
	settleAll(reqs, hs)
	if out == C.MPI_UNDEFINED || out <= 0 {
		return nil, nil, check(op, rc)
	}
	return goInts(idx[:out]), statuses(op, rc, cst[:out]), check(op, rc)
}

// TestAny reports whether one of reqs has completed, without blocking
// (MPI_Testany), and if so its index and status; the index is Undefined,
// with ok true, when none was still active.
func TestAny(reqs ...*Request) (index int, st Status, ok bool, err error) {
	const op = "MPI_Testany"
	if len(reqs) == 0 {
		return Undefined, Status{}, true, ready(op)
	}
	hs, err := handles(op, reqs)
	if err != nil {
		return Undefined, Status{}, false, err
	}
	var idx, flag C.int
	var cst C.MPI_Status
	rc := C.MPI_Testany(C.int(len(hs)), &hs[0], &idx, &flag, &cst)
	settleAll(reqs, hs)
	if err := check(op, rc); err != nil || flag == 0 {
		return Undefined, Status{}, false, err
	}
	return int(idx), newStatus(&cst), true, nil
}

// Status reports whether r has completed and, if so, its status, without
// completing it (MPI_Request_get_status): r stays to be completed by Wait,
// Test or the like, which return the same status.
func (r *Request) Status() (Status, bool, error) {
	if ok, _ := r.active("MPI_Request_get_status"); !ok {
		st, err := r.inactive("MPI_Request_get_status")
		return st, err == nil, err
	}
	if err := running("MPI_Request_get_status"); err != nil {
		return Status{}, false, err
	}
	var flag C.int
	var st C.MPI_Status
	if err := check("MPI_Request_get_status", C.MPI_Request_get_status(r.r, &flag, &st)); err != nil || flag == 0 {
		return Status{}, false, err
	}
	return newStatus(&st), true, nil
}

// Improbe is Mprobe that does not wait (MPI_Improbe): ok reports whether it
// matched a message, which only Mrecv can then receive.
func Improbe(c *Comm, source, tag int) (m *Message, st Status, ok bool, err error) {
	h, err := c.handle("MPI_Improbe")
	if err != nil {
		return nil, Status{}, false, err
	}
	s, t, err := rankTag("MPI_Improbe", source, tag)
	if err != nil {
		return nil, Status{}, false, err
	}
	m = &Message{}
	var flag C.int
	var cst C.MPI_Status
	if err := check("MPI_Improbe", C.MPI_Improbe(s, t, h, &flag, &m.m, &cst)); err != nil || flag == 0 {
		return nil, Status{}, false, err
	}
	return m, newStatus(&cst), true, nil
}
