package mpi

// #include "shim.h"
//
// // The nonblocking collectives that can work in place take the buffer
// // that Go passes as mpi.InPlace through GOIPC_IN_PLACE (see shim.h).
// #define IP GOIPC_IN_PLACE
// static int goipc_ireduce(const void *s, void *r, int n, MPI_Datatype t, MPI_Op o, int root, MPI_Comm c, MPI_Request *q) {
//	return MPI_Ireduce(IP(s), r, n, t, o, root, c, q);
// }
// static int goipc_iallreduce(const void *s, void *r, int n, MPI_Datatype t, MPI_Op o, MPI_Comm c, MPI_Request *q) {
//	return MPI_Iallreduce(IP(s), r, n, t, o, c, q);
// }
// static int goipc_iscan(const void *s, void *r, int n, MPI_Datatype t, MPI_Op o, MPI_Comm c, MPI_Request *q) {
//	return MPI_Iscan(IP(s), r, n, t, o, c, q);
// }
// static int goipc_iexscan(const void *s, void *r, int n, MPI_Datatype t, MPI_Op o, MPI_Comm c, MPI_Request *q) {
//	return MPI_Iexscan(IP(s), r, n, t, o, c, q);
// }
// static int goipc_ireduce_scatter_block(const void *s, void *r, int n, MPI_Datatype t, MPI_Op o, MPI_Comm c, MPI_Request *q) {
//	return MPI_Ireduce_scatter_block(IP(s), r, n, t, o, c, q);
// }
// static int goipc_igather(const void *s, int n, void *r, MPI_Datatype t, int root, MPI_Comm c, MPI_Request *q) {
//	return MPI_Igather(IP(s), n, t, r, n, t, root, c, q);
// }
// static int goipc_igatherv(const void *s, int n, void *r, const int *rc, const int *rd, MPI_Datatype t, int root, MPI_Comm c, MPI_Request *q) {
//	return MPI_Igatherv(IP(s), n, t, r, rc, rd, t, root, c, q);
// }
// static int goipc_iscatter(const void *s, int n, void *r, MPI_Datatype t, int root, MPI_Comm c, MPI_Request *q) {
//	return MPI_Iscatter(s, n, t, (void *)IP(r), n, t, root, c, q);
// }
// static int goipc_iscatterv(const void *s, const int *sc, const int *sd, void *r, int n, MPI_Datatype t, int root, MPI_Comm c, MPI_Request *q) {
//	return MPI_Iscatterv(s, sc, sd, t, (void *)IP(r), n, t, root, c, q);
// }
// static int goipc_iallgather(const void *s, int n, void *r, MPI_Datatype t, MPI_Comm c, MPI_Request *q) {
//	return MPI_Iallgather(IP(s), n, t, r, n, t, c, q);
// }
// static int goipc_iallgatherv(const void *s, int n, void *r, const int *rc, const int *rd, MPI_Datatype t, MPI_Comm c, MPI_Request *q) {
//	return MPI_Iallgatherv(IP(s), n, t, r, rc, rd, t, c, q);
// }
// static int goipc_ialltoall(const void *s, int n, void *r, MPI_Datatype t, MPI_Comm c, MPI_Request *q) {
//	return MPI_Ialltoall(IP(s), n, t, r, n, t, c, q);
// }
// static int goipc_ialltoallv(const void *s, const int *sc, const int *sd, void *r, const int *rc, const int *rd, MPI_Datatype t, MPI_Comm c, MPI_Request *q) {
//	return MPI_Ialltoallv(IP(s), sc, sd, t, r, rc, rd, t, c, q);
// }
import "C"

import "unsafe"

// startColl starts a nonblocking collective: it pins what MPI keeps until
// completion (buffers, and the count, displacement and datatype arrays of
// the v and w forms), then makes the call.
func startColl(op string, large bool, call func(r *C.MPI_Request) C.int, keep ...unsafe.Pointer) (*Request, error) {
	return startKind(op, kindColl, large, call, keep...)
}

// startKind is startColl for a request of another kind (a file operation).
func startKind(op string, kind requestKind, large bool, call func(r *C.MPI_Request) C.int, keep ...unsafe.Pointer) (*Request, error) {
	req := newRequest(kind, nil, large, 0, 0)
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
	return req.started(check(op, rc))
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

// The nonblocking collectives: each starts the blocking call's operation,
// after the same checks, and returns a Request; every process must start
// them in the same order. MPI owns the buffers (and for the v forms the
// count and displacement arrays, which the Request keeps) until the Request
// completes; they are pinned until then, and must not be touched.
//
// Reduction operators made by NewOp cannot be used: MPI would call the Go
// function from inside Wait or Test, which this package's completion calls
// do not allow (they are marked nocallback for speed).

// Ibarrier starts a barrier (MPI_Ibarrier): the Request completes once every
// process has started it.
func Ibarrier(c *Comm) (*Request, error) {
	h, err := c.handle("MPI_Ibarrier")
	if err != nil {
		return nil, err
	}
	return startColl("MPI_Ibarrier", false, func(r *C.MPI_Request) C.int { return C.MPI_Ibarrier(h, r) })
}

// Ibcast starts a Bcast (MPI_Ibcast).
func Ibcast[T Type](c *Comm, buf []T, root int) (*Request, error) {
	const fn = "MPI_Ibcast"
	h, p, n, err := bcastArgs(fn, c, buf, root)
	if err != nil {
		return nil, err
	}
	t := datatype[T]()
	return startColl(fn, long(buf), func(r *C.MPI_Request) C.int { return C.MPI_Ibcast(p, n, t, C.int(root), h, r) }, p)
}

// ireduction is reduction for the nonblocking forms, which cannot take an
// operator made by NewOp.
func ireduction[T Type](fn string, c *Comm, op *Op) (C.MPI_Comm, C.MPI_Op, error) {
	h, o, err := reduction[T](fn, c, op)
	if err == nil && op.slot >= 0 {
		err = invalid(fn, ErrOp, "an operator made by NewOp works only in blocking reductions")
	}
	return h, o, err
}

// Ireduce starts a Reduce (MPI_Ireduce); the same slice for send and recv
// reduces in place.
func Ireduce[T Type](c *Comm, send, recv []T, op *Op, root int) (*Request, error) {
	const fn = "MPI_Ireduce"
	h, o, err := ireduction[T](fn, c, op)
	if err != nil {
		return nil, err
	}
	sp, rp, n, err := rootReduceArgs(fn, c, send, recv, root)
	if err != nil {
		return nil, err
	}
	t := datatype[T]()
	return startColl(fn, long(send), func(r *C.MPI_Request) C.int {
		return C.goipc_ireduce(sp, rp, n, t, o, C.int(root), h, r)
	}, sp, rp)
}

// ireduceAll starts the reductions whose result lands on every process.
func ireduceAll[T Type](fn string, c *Comm, send, recv []T, op *Op,
	call func(sp, rp unsafe.Pointer, n C.int, t C.MPI_Datatype, o C.MPI_Op, h C.MPI_Comm, r *C.MPI_Request) C.int) (*Request, error) {
	a, err := allReduceArgs(fn, c, send, recv, op)
	if err != nil {
		return nil, err
	}
	return startColl(fn, long(send), func(r *C.MPI_Request) C.int { return call(a.sp, a.rp, a.n, a.t, a.o, a.h, r) }, a.sp, a.rp)
}

// allReduced holds the checked arguments of a nonblocking or persistent
// reduction whose result lands on every process.
type allReduced struct {
	h      C.MPI_Comm
	o      C.MPI_Op
	sp, rp unsafe.Pointer
	n      C.int
	t      C.MPI_Datatype
}

func allReduceArgs[T Type](fn string, c *Comm, send, recv []T, op *Op) (a allReduced, err error) {
	if a.h, a.o, err = ireduction[T](fn, c, op); err != nil {
		return a, err
	}
	a.sp, a.rp, a.n, err = reduceArgs(fn, send, recv)
	a.t = datatype[T]()
	return a, err
}

// Iallreduce starts an Allreduce (MPI_Iallreduce): the way to overlap a
// global sum with computation.
func Iallreduce[T Type](c *Comm, send, recv []T, op *Op) (*Request, error) {
	return ireduceAll("MPI_Iallreduce", c, send, recv, op, func(sp, rp unsafe.Pointer, n C.int, t C.MPI_Datatype, o C.MPI_Op, h C.MPI_Comm, r *C.MPI_Request) C.int {
		return C.goipc_iallreduce(sp, rp, n, t, o, h, r)
	})
}

// Iscan starts a Scan (MPI_Iscan).
func Iscan[T Type](c *Comm, send, recv []T, op *Op) (*Request, error) {
	return ireduceAll("MPI_Iscan", c, send, recv, op, func(sp, rp unsafe.Pointer, n C.int, t C.MPI_Datatype, o C.MPI_Op, h C.MPI_Comm, r *C.MPI_Request) C.int {
		return C.goipc_iscan(sp, rp, n, t, o, h, r)
	})
}

// Iexscan starts an Exscan (MPI_Iexscan).
func Iexscan[T Type](c *Comm, send, recv []T, op *Op) (*Request, error) {
	return ireduceAll("MPI_Iexscan", c, send, recv, op, func(sp, rp unsafe.Pointer, n C.int, t C.MPI_Datatype, o C.MPI_Op, h C.MPI_Comm, r *C.MPI_Request) C.int {
		return C.goipc_iexscan(sp, rp, n, t, o, h, r)
	})
}

// IreduceScatterBlock starts a ReduceScatterBlock
// (MPI_Ireduce_scatter_block).
func IreduceScatterBlock[T Type](c *Comm, send, recv []T, op *Op) (*Request, error) {
	const fn = "MPI_Ireduce_scatter_block"
	h, o, err := ireduction[T](fn, c, op)
	if err != nil {
		return nil, err
	}
	rp, n, err := buffer(fn, recv)
	if err != nil {
		return nil, err
	}
	if err := lengths(fn, "send", len(send), c.size*len(recv)); err != nil {
		return nil, err
	}
	sp, t := unsafe.Pointer(unsafe.SliceData(send)), datatype[T]()
	return startColl(fn, long(send), func(r *C.MPI_Request) C.int {
		return C.goipc_ireduce_scatter_block(sp, rp, n, t, o, h, r)
	}, sp, rp)
}

// startRooted starts a gather or scatter whose arguments rootedArgs checked.
func startRooted(fn string, a rooted, large bool, call func(r *C.MPI_Request) C.int) (*Request, error) {
	return startColl(fn, large, call, a.own, a.all, cptr(a.cc), cptr(a.cd))
}

// Igather starts a Gather (MPI_Igather).
func Igather[T Type](c *Comm, send, recv []T, root int) (*Request, error) {
	const fn = "MPI_Igather"
	a, err := rootedArgs(fn, c, root, send, recv, "send", "receive", false, nil, nil)
	if err != nil {
		return nil, err
	}
	t := datatype[T]()
	return startRooted(fn, a, long(recv), func(r *C.MPI_Request) C.int {
		return C.goipc_igather(a.own, a.n, a.all, t, C.int(root), a.h, r)
	})
}

// Igatherv starts a Gatherv (MPI_Igatherv).
func Igatherv[T Type](c *Comm, send, recv []T, counts, displs []int, root int) (*Request, error) {
	const fn = "MPI_Igatherv"
	a, err := rootedArgs(fn, c, root, send, recv, "send", "receive", true, counts, displs)
	if err != nil {
		return nil, err
	}
	t := datatype[T]()
	return startRooted(fn, a, long(recv), func(r *C.MPI_Request) C.int {
		return C.goipc_igatherv(a.own, a.n, a.all, ptr(a.cc), ptr(a.cd), t, C.int(root), a.h, r)
	})
}

// Iscatter starts a Scatter (MPI_Iscatter).
func Iscatter[T Type](c *Comm, send, recv []T, root int) (*Request, error) {
	const fn = "MPI_Iscatter"
	a, err := rootedArgs(fn, c, root, recv, send, "receive", "send", false, nil, nil)
	if err != nil {
		return nil, err
	}
	t := datatype[T]()
	return startRooted(fn, a, long(send), func(r *C.MPI_Request) C.int {
		return C.goipc_iscatter(a.all, a.n, a.own, t, C.int(root), a.h, r)
	})
}

// Iscatterv starts a Scatterv (MPI_Iscatterv).
func Iscatterv[T Type](c *Comm, send []T, counts, displs []int, recv []T, root int) (*Request, error) {
	const fn = "MPI_Iscatterv"
	a, err := rootedArgs(fn, c, root, recv, send, "receive", "send", true, counts, displs)
	if err != nil {
		return nil, err
	}
	t := datatype[T]()
	return startRooted(fn, a, long(send), func(r *C.MPI_Request) C.int {
		return C.goipc_iscatterv(a.all, ptr(a.cc), ptr(a.cd), a.own, a.n, t, C.int(root), a.h, r)
	})
}

// Iallgather starts an Allgather (MPI_Iallgather).
func Iallgather[T Type](c *Comm, send, recv []T) (*Request, error) {
	const fn = "MPI_Iallgather"
	a, err := rootedArgs(fn, c, c.Rank(), send, recv, "send", "receive", false, nil, nil)
	if err != nil {
		return nil, err
	}
	t := datatype[T]()
	return startRooted(fn, a, long(recv), func(r *C.MPI_Request) C.int {
		return C.goipc_iallgather(a.own, a.n, a.all, t, a.h, r)
	})
}

// Iallgatherv starts an Allgatherv (MPI_Iallgatherv).
func Iallgatherv[T Type](c *Comm, send, recv []T, counts, displs []int) (*Request, error) {
	const fn = "MPI_Iallgatherv"
	a, err := rootedArgs(fn, c, c.Rank(), send, recv, "send", "receive", true, counts, displs)
	if err != nil {
		return nil, err
	}
	t := datatype[T]()
	return startRooted(fn, a, long(recv), func(r *C.MPI_Request) C.int {
		return C.goipc_iallgatherv(a.own, a.n, a.all, ptr(a.cc), ptr(a.cd), t, a.h, r)
	})
}

// Ialltoall starts an Alltoall (MPI_Ialltoall).
func Ialltoall[T Type](c *Comm, send, recv []T) (*Request, error) {
	const fn = "MPI_Ialltoall"
	a, err := alltoallArgs(fn, c, send, recv)
	if err != nil {
		return nil, err
	}
	return startColl(fn, long(send), func(r *C.MPI_Request) C.int {
		return C.goipc_ialltoall(a.sp, a.n, a.rp, a.t, a.h, r)
	}, a.sp, a.rp)
}

// Ialltoallv starts an Alltoallv (MPI_Ialltoallv).
func Ialltoallv[T Type](c *Comm, send []T, sendCounts, sendDispls []int, recv []T, recvCounts, recvDispls []int) (*Request, error) {
	const fn = "MPI_Ialltoallv"
	h, err := c.handle(fn)
	if err != nil {
		return nil, err
	}
	sc, sd, err := c.layout(fn, "send", sendCounts, sendDispls, len(send))
	if err != nil {
		return nil, err
	}
	rc, rd, err := c.layout(fn, "receive", recvCounts, recvDispls, len(recv))
	if err != nil {
		return nil, err
	}
	t := datatype[T]()
	sp, rp := unsafe.Pointer(unsafe.SliceData(send)), unsafe.Pointer(unsafe.SliceData(recv))
	return startColl(fn, long(send) || long(recv), func(r *C.MPI_Request) C.int {
		return C.goipc_ialltoallv(sp, ptr(sc), ptr(sd), rp, ptr(rc), ptr(rd), t, h, r)
	}, sp, rp, cptr(sc), cptr(sd), cptr(rc), cptr(rd))
}
