package mpi

// #include <stdlib.h>
// #include "shim.h"
import "C"

import (
	"sync"
	"unsafe"
)

// The send modes beside Send and Ssend: buffered (Bsend, which copies into
// the buffer BufferAttach gave MPI and returns), ready (Rsend, legal only
// when the receive is already posted) and their nonblocking forms.

// sendArgs checks a send's arguments.
func sendArgs[T Type](op string, c *Comm, buf []T, dest, tag int) (h C.MPI_Comm, p unsafe.Pointer, n, d, tg C.int, err error) {
	if h, err = c.handle(op); err != nil {
		return
	}
	if p, n, err = buffer(op, buf); err != nil {
		return
	}
	d, tg, err = rankTag(op, dest, tag)
	return
}

// Bsend sends buf in buffered mode (MPI_Bsend): MPI copies it into the
// buffer attached with BufferAttach and returns at once. A message the
// buffer could not hold even empty (its packed size plus BsendOverhead
// exceeds the buffer's), or any without a buffer, fails with ErrBuffer
// before MPI; one larger than the space still free fails as the library
// reports it (MPICH: ErrBuffer).
func Bsend[T Type](c *Comm, buf []T, dest, tag int) error {
	h, p, n, d, tg, err := sendArgs("MPI_Bsend", c, buf, dest, tag)
	if err == nil {
		err = bsendRoom("MPI_Bsend", n, datatype[T](), h)
	}
	if err != nil {
		return err
	}
	return check("MPI_Bsend", C.MPI_Bsend(p, n, datatype[T](), d, tg, h))
}

// bsendRoom refuses a buffered message that the attached buffer could not
// hold even empty. MPICH refuses it too, but Open MPI sends a small one
// without touching the buffer, and a larger one fails only later.
func bsendRoom(op string, n C.int, t C.MPI_Datatype, h C.MPI_Comm) error {
	var packed C.int
	if err := check(op, C.MPI_Pack_size(n, t, h, &packed)); err != nil {
		return err
	}
	bsend.Lock()
	attached, size := bsend.p != nil, bsend.size
	bsend.Unlock()
	if need := int(packed) + BsendOverhead; need > size {
		if !attached {
			return invalid(op, ErrBuffer, "no buffer is attached for buffered sends (BufferAttach first)")
		}
		return invalid(op, ErrBuffer, "a message of %d bytes needs %d bytes (BsendOverhead more) of the %d attached", packed, need, size)
	}
	return nil
}

// Rsend sends buf in ready mode (MPI_Rsend): the matching receive must
// already be posted, which the caller guarantees (a message that finds none
// is an error, or lost).
func Rsend[T Type](c *Comm, buf []T, dest, tag int) error {
	h, p, n, d, tg, err := sendArgs("MPI_Rsend", c, buf, dest, tag)
	if err != nil {
		return err
	}
	return check("MPI_Rsend", C.MPI_Rsend(p, n, datatype[T](), d, tg, h))
}

// istart starts a nonblocking send of one of the modes.
func istart[T Type](op string, c *Comm, buf []T, dest, tag int,
	call func(p unsafe.Pointer, n C.int, t C.MPI_Datatype, d, tg C.int, h C.MPI_Comm, r *C.MPI_Request) C.int) (*Request, error) {
	h, p, n, d, tg, err := sendArgs(op, c, buf, dest, tag)
	if err != nil {
		return nil, err
	}
	req := newRequest(kindSend, p, long(buf), d, tg)
	hr := C.goipc_request_null // not &req.r: cgo would check the whole Request
	rc := call(p, n, datatype[T](), d, tg, h, &hr)
	req.r = hr
	return req.started(check(op, rc))
}

// Issend starts a synchronous send (MPI_Issend): the Request completes once
// the receiver has started to receive.
func Issend[T Type](c *Comm, buf []T, dest, tag int) (*Request, error) {
	return istart("MPI_Issend", c, buf, dest, tag, func(p unsafe.Pointer, n C.int, t C.MPI_Datatype, d, tg C.int, h C.MPI_Comm, r *C.MPI_Request) C.int {
		return C.MPI_Issend(p, n, t, d, tg, h, r)
	})
}

// Ibsend starts a buffered send (MPI_Ibsend), with Bsend's limits.
func Ibsend[T Type](c *Comm, buf []T, dest, tag int) (*Request, error) {
	h, _, n, _, _, err := sendArgs("MPI_Ibsend", c, buf, dest, tag)
	if err == nil {
		err = bsendRoom("MPI_Ibsend", n, datatype[T](), h)
	}
	if err != nil {
		return nil, err
	}
	return istart("MPI_Ibsend", c, buf, dest, tag, func(p unsafe.Pointer, n C.int, t C.MPI_Datatype, d, tg C.int, h C.MPI_Comm, r *C.MPI_Request) C.int {
		return C.MPI_Ibsend(p, n, t, d, tg, h, r)
	})
}

// Irsend starts a ready-mode send (MPI_Irsend).
func Irsend[T Type](c *Comm, buf []T, dest, tag int) (*Request, error) {
	return istart("MPI_Irsend", c, buf, dest, tag, func(p unsafe.Pointer, n C.int, t C.MPI_Datatype, d, tg C.int, h C.MPI_Comm, r *C.MPI_Request) C.int {
		return C.MPI_Irsend(p, n, t, d, tg, h, r)
	})
}

// SendrecvReplace sends buf to dest and receives into the same buf from
// source (MPI_Sendrecv_replace), as a ring shift does.
func SendrecvReplace[T Type](c *Comm, buf []T, dest, sendTag, source, recvTag int) (Status, error) {
	const op = "MPI_Sendrecv_replace"
	h, p, n, d, stg, err := sendArgs(op, c, buf, dest, sendTag)
	if err != nil {
		return Status{}, err
	}
	s, rtg, err := rankTag(op, source, recvTag)
	if err != nil {
		return Status{}, err
	}
	var st C.MPI_Status
	rc := C.MPI_Sendrecv_replace(p, n, datatype[T](), d, stg, s, rtg, h, &st)
	return newStatus(&st), check(op, rc)
}

// BsendOverhead is the room MPI needs in the attached buffer beyond the
// bytes of each buffered message (MPI_BSEND_OVERHEAD).
const BsendOverhead = C.MPI_BSEND_OVERHEAD

// The buffer of the buffered sends: C memory, since MPI keeps it until
// BufferDetach.
var bsend struct {
	sync.Mutex
	p    unsafe.Pointer
	size int
}

// BufferAttach gives MPI a buffer of size bytes for the buffered sends
// (MPI_Buffer_attach); the package allocates it in C memory. One buffer can
// be attached at a time.
func BufferAttach(size int) error {
	const op = "MPI_Buffer_attach"
	n, err := nonNeg(op, "size", size)
	if err != nil {
		return err
	}
	if err := running(op); err != nil {
		return err
	}
	bsend.Lock()
	defer bsend.Unlock()
	if bsend.p != nil {
		return invalid(op, ErrBuffer, "a buffer of %d bytes is already attached (BufferDetach first)", bsend.size)
	}
	p := C.malloc(C.size_t(max(size, 1)))
	if p == nil {
		return invalid(op, ErrBuffer, "cannot allocate %d bytes", size)
	}
	if err := check(op, C.MPI_Buffer_attach(p, n)); err != nil {
		C.free(p)
		return err
	}
	bsend.p, bsend.size = p, size
	return nil
}

// BufferDetach takes back the buffer of BufferAttach (MPI_Buffer_detach),
// after waiting until every buffered message in it has been sent, frees it,
// and returns its size. Without an attached buffer it returns 0 and nil.
func BufferDetach() (int, error) {
	const op = "MPI_Buffer_detach"
	if err := running(op); err != nil {
		return 0, err
	}
	bsend.Lock()
	defer bsend.Unlock()
	if bsend.p == nil {
		return 0, nil
	}
	var addr unsafe.Pointer
	var n C.int
	if err := check(op, C.MPI_Buffer_detach(unsafe.Pointer(&addr), &n)); err != nil {
		return 0, err
	}
	C.free(bsend.p)
	size := bsend.size
	bsend.p, bsend.size = nil, 0
	return size, nil
}
