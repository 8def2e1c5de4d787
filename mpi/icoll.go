package mpi

// #include "shim.h"
import "C"

import "unsafe"

// startColl starts a nonblocking collective: it pins what MPI keeps until
// completion (buffers, and the count, displacement and datatype arrays of
// the v and w forms), then makes the call.
func startColl(op string, large bool, call func(r *C.MPI_Request) C.int, keep ...unsafe.Pointer) (*Request, error) {
	req := newRequest(nil, large)
	for _, p := range keep {
		if p != nil {
			req.pin.Pin(p)
			req.pinned = true
		}
	}
	// Not &req.r: cgo would check the whole Request, whose Pinner holds Go
	// pointers, as it cannot see that the pointer is to one field.
	h := C.goipc_request_null
	rc := call(&h)
	req.r = h
	return req.started(op, rc)
}

// The addresses of arrays to pin, nil for empty ones.
func cptr(v []C.int) unsafe.Pointer {
	if len(v) == 0 {
		return nil
	}
	return unsafe.Pointer(&v[0])
}

func aptrP(v []C.MPI_Aint) unsafe.Pointer {
	if len(v) == 0 {
		return nil
	}
	return unsafe.Pointer(&v[0])
}

func tptrP(v []C.MPI_Datatype) unsafe.Pointer {
	if len(v) == 0 {
		return nil
	}
	return unsafe.Pointer(&v[0])
}
