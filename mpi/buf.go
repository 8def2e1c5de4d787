package mpi

// #include "shim.h"
import "C"

import "github.com/goipc/ipc/internal/sched"

// The calls below take a Buf (a slice seen through a committed datatype)
// where the generic ones take a slice. They are the same MPI calls.

// SendBuf is Send of a Buf (MPI_Send).
func SendBuf(c *Comm, b Buf, dest, tag int) error {
	h, err := c.handle("MPI_Send")
	if err != nil {
		return err
	}
	p, n, t, err := b.args("MPI_Send")
	if err != nil {
		return err
	}
	d, tg, err := rankTag("MPI_Send", dest, tag)
	if err != nil {
		return err
	}
	rc := C.MPI_Send(p, n, t, d, tg, h)
	if b.bytes >= longCall {
		sched.AfterLongCall()
	}
	return check("MPI_Send", rc)
}

// RecvBuf is Recv into a Buf (MPI_Recv).
func RecvBuf(c *Comm, b Buf, source, tag int) (Status, error) {
	h, err := c.handle("MPI_Recv")
	if err != nil {
		return Status{}, err
	}
	p, n, t, err := b.args("MPI_Recv")
	if err != nil {
		return Status{}, err
	}
	s, tg, err := rankTag("MPI_Recv", source, tag)
	if err != nil {
		return Status{}, err
	}
	var st C.MPI_Status
	rc := C.MPI_Recv(p, n, t, s, tg, h, &st)
	if b.bytes >= longCall {
		sched.AfterLongCall()
	}
	return newStatus(&st), check("MPI_Recv", rc)
}

// SendrecvBuf is Sendrecv of Bufs (MPI_Sendrecv): the halo exchange of a
// stencil code in one call.
func SendrecvBuf(c *Comm, send Buf, dest, sendTag int, recv Buf, source, recvTag int) (Status, error) {
	const op = "MPI_Sendrecv"
	h, err := c.handle(op)
	if err != nil {
		return Status{}, err
	}
	sp, sn, stype, err := send.args(op)
	if err != nil {
		return Status{}, err
	}
	rp, rn, rtype, err := recv.args(op)
	if err != nil {
		return Status{}, err
	}
	d, stg, err := rankTag(op, dest, sendTag)
	if err != nil {
		return Status{}, err
	}
	s, rtg, err := rankTag(op, source, recvTag)
	if err != nil {
		return Status{}, err
	}
	var st C.MPI_Status
	rc := C.MPI_Sendrecv(sp, sn, stype, d, stg, rp, rn, rtype, s, rtg, h, &st)
	return newStatus(&st), check(op, rc)
}

// IsendBuf is Isend of a Buf (MPI_Isend); the slice is pinned until the
// Request completes.
func IsendBuf(c *Comm, b Buf, dest, tag int) (*Request, error) {
	h, err := c.handle("MPI_Isend")
	if err != nil {
		return nil, err
	}
	p, n, t, err := b.args("MPI_Isend")
	if err != nil {
		return nil, err
	}
	d, tg, err := rankTag("MPI_Isend", dest, tag)
	if err != nil {
		return nil, err
	}
	req := newRequest(kindSend, p, b.bytes >= longCall, d, tg)
	return req.started(check("MPI_Isend", C.MPI_Isend(p, n, t, d, tg, h, &req.r)))
}

// IrecvBuf is Irecv into a Buf (MPI_Irecv); the slice is pinned until the
// Request completes.
func IrecvBuf(c *Comm, b Buf, source, tag int) (*Request, error) {
	h, err := c.handle("MPI_Irecv")
	if err != nil {
		return nil, err
	}
	p, n, t, err := b.args("MPI_Irecv")
	if err != nil {
		return nil, err
	}
	s, tg, err := rankTag("MPI_Irecv", source, tag)
	if err != nil {
		return nil, err
	}
	req := newRequest(kindRecv, p, b.bytes >= longCall, s, tg)
	return req.started(check("MPI_Irecv", C.MPI_Irecv(p, n, t, s, tg, h, &req.r)))
}

// BcastBuf is Bcast of a Buf (MPI_Bcast).
func BcastBuf(c *Comm, b Buf, root int) error {
	h, err := c.handle("MPI_Bcast")
	if err != nil {
		return err
	}
	if err := c.checkRoot("MPI_Bcast", root); err != nil {
		return err
	}
	p, n, t, err := b.args("MPI_Bcast")
	if err != nil {
		return err
	}
	return check("MPI_Bcast", C.MPI_Bcast(p, n, t, C.int(root), h))
}

// CountOf returns the number of elements of dt in the message s describes,
// or Undefined if it is not a whole number of them (MPI_Get_count).
func CountOf(s Status, dt *Datatype) int {
	t, err := dt.handle("MPI_Get_count")
	if err != nil {
		return Undefined
	}
	var n C.int
	C.MPI_Get_count(&s.raw, t, &n)
	return int(n)
}
