package mpi

// #include "shim.h"
import "C"

import (
	"unsafe"
)

// The collectives below must be called by every process of the communicator,
// in the same order. Buffers that MPI reads only at the root (or writes only
// at the root) may be nil elsewhere. Buffer lengths are checked against each
// other and the communicator's size before the call. Empty buffers are legal
// MPI: an Allgather of nothing from every rank completes with nothing.
//
// A send buffer and a receive buffer that share memory are refused before
// the call, on every rank that uses both: MPI forbids them, and they gave
// wrong results or hung. To work in place instead, see InPlace.

// InPlace returns the buffer that asks a collective to work in place
// (MPI_IN_PLACE), where MPI allows it:
//
//   - Reduce at the root, Allreduce, Scan, Exscan: as send; the data is in
//     recv and the result replaces it. The same slice as send and recv also
//     means in place.
//   - ReduceScatterBlock: as send; recv holds Size blocks and the result
//     replaces the first.
//   - Gather and Gatherv at the root, Allgather and Allgatherv on every rank:
//     as send; the rank's own block of recv is its contribution.
//   - Scatter and Scatterv at the root: as recv; the root's block stays in
//     send.
//   - Alltoall and Alltoallv on every rank: as send, with nil send counts and
//     displacements for Alltoallv; the blocks are taken from recv and
//     replaced.
//
// MPI asks that the collectives without a root (Allgather, Alltoall...) work
// in place on every rank or on none. InPlace is an empty slice that no other
// slice equals; passed anywhere else it is an empty buffer.
func InPlace[T Type]() []T { return unsafe.Slice((*T)(inPlaceAddr), 0) }

// inPlaceAddr is the address InPlace's slices hold: C memory, so that no Go
// object is ever mistaken for it.
var inPlaceAddr = unsafe.Pointer(&C.goipc_in_place[0])

func inPlace[T Type](s []T) bool { return unsafe.Pointer(unsafe.SliceData(s)) == inPlaceAddr }

// disjoint refuses a send and a receive buffer that share memory.
func disjoint[S, R Type](fn string, send []S, recv []R, hint string) error {
	size := func(n int, t uintptr) uintptr { return uintptr(n) * t }
	ps, pr := uintptr(unsafe.Pointer(unsafe.SliceData(send))), uintptr(unsafe.Pointer(unsafe.SliceData(recv)))
	ns, nr := size(len(send), unsafe.Sizeof(*new(S))), size(len(recv), unsafe.Sizeof(*new(R)))
	if ns > 0 && nr > 0 && ps < pr+nr && pr < ps+ns {
		return invalid(fn, ErrBuffer, "send and receive buffers overlap%s", hint)
	}
	return nil
}

// inPlaceHint is disjoint's hint for the collectives that can work in place.
func inPlaceHint[T Type](what string) string {
	return " (to work in place, pass mpi.InPlace[" + typeName(typeIndex[T]()) + "]() as the " + what + " buffer)"
}

// Barrier waits until every process of c has entered it (MPI_Barrier).
func Barrier(c *Comm) error {
	h, err := c.handle("MPI_Barrier")
	if err != nil {
		return err
	}
	return check("MPI_Barrier", C.MPI_Barrier(h))
}

// checkRoot validates a root rank before a rooted collective.
func (c *Comm) checkRoot(op string, root int) error {
	if root < 0 || root >= c.size {
		return invalid(op, ErrRoot, "root %d is not a rank of a communicator of %d", root, c.size)
	}
	return nil
}

// lengths checks that recv holds exactly want elements.
func lengths(op, what string, got, want int) error {
	if got != want {
		return invalid(op, ErrCount, "%s buffer has %d elements, want %d", what, got, want)
	}
	return nil
}

// Bcast copies buf from root to every other process (MPI_Bcast).
func Bcast[T Type](c *Comm, buf []T, root int) error {
	h, p, n, err := bcastArgs("MPI_Bcast", c, buf, root)
	if err != nil {
		return err
	}
	return check("MPI_Bcast", C.MPI_Bcast(p, n, datatype[T](), C.int(root), h))
}

// bcastArgs checks a broadcast's arguments.
func bcastArgs[T Type](fn string, c *Comm, buf []T, root int) (h C.MPI_Comm, p unsafe.Pointer, n C.int, err error) {
	if h, err = c.handle(fn); err != nil {
		return
	}
	if err = c.checkRoot(fn, root); err != nil {
		return
	}
	p, n, err = buffer(fn, buf)
	return
}

// reduction returns the communicator and operator handles every reduction
// starts with.
func reduction[T Type](fn string, c *Comm, op *Op) (C.MPI_Comm, C.MPI_Op, error) {
	h, err := c.handle(fn)
	if err != nil {
		return h, C.goipc_op_null, err
	}
	o, err := opHandle[T](fn, op)
	return h, o, err
}

// reduceArgs prepares the buffers of a reduction: recv must match send in
// length. InPlace, or the same slice for both, means in place, which the C
// side turns into MPI_IN_PLACE.
func reduceArgs[T Type](fn string, send, recv []T) (sp, rp unsafe.Pointer, n C.int, err error) {
	same := len(send) > 0 && unsafe.SliceData(send) == unsafe.SliceData(recv)
	if same && len(recv) != len(send) {
		return nil, nil, 0, lengths(fn, "receive", len(recv), len(send))
	}
	if same || inPlace(send) {
		rp, n, err = buffer(fn, recv)
		return inPlaceAddr, rp, n, err
	}
	if sp, n, err = buffer(fn, send); err != nil {
		return
	}
	if err = lengths(fn, "receive", len(recv), len(send)); err != nil {
		return
	}
	if err = disjoint(fn, send, recv, inPlaceHint[T]("send")); err != nil {
		return
	}
	return sp, unsafe.Pointer(unsafe.SliceData(recv)), n, nil
}

// rootOnly refuses InPlace on a rank other than the root.
func rootOnly[T Type](fn, what string, buf []T, c *Comm, root int) error {
	if inPlace(buf) && c.rank != root {
		return invalid(fn, ErrBuffer, "InPlace as the %s buffer is for the root (%d) only", what, root)
	}
	return nil
}

// Reduce combines send from every process with op into recv at root
// (MPI_Reduce).
func Reduce[T Type](c *Comm, send, recv []T, op *Op, root int) error {
	h, o, err := reduction[T]("MPI_Reduce", c, op)
	if err != nil {
		return err
	}
	sp, rp, n, err := rootReduceArgs("MPI_Reduce", c, send, recv, root)
	if err != nil {
		return err
	}
	return check("MPI_Reduce", C.goipc_reduce(sp, rp, n, datatype[T](), o, C.int(root), h))
}

// rootReduceArgs prepares the buffers of a Reduce: recv (and InPlace) only
// at the root.
func rootReduceArgs[T Type](fn string, c *Comm, send, recv []T, root int) (sp, rp unsafe.Pointer, n C.int, err error) {
	if err = c.checkRoot(fn, root); err != nil {
		return
	}
	if err = rootOnly(fn, "send", send, c, root); err != nil {
		return
	}
	if c.rank == root {
		return reduceArgs(fn, send, recv)
	}
	sp, n, err = buffer(fn, send)
	return
}

// reduceAll runs the reductions whose result lands on every process.
func reduceAll[T Type](fn string, c *Comm, send, recv []T, op *Op,
	call func(sp, rp unsafe.Pointer, n C.int, t C.MPI_Datatype, o C.MPI_Op, h C.MPI_Comm) C.int) error {
	h, o, err := reduction[T](fn, c, op)
	if err != nil {
		return err
	}
	sp, rp, n, err := reduceArgs(fn, send, recv)
	if err != nil {
		return err
	}
	return check(fn, call(sp, rp, n, datatype[T](), o, h))
}

// Allreduce combines send from every process with op into recv on every
// process (MPI_Allreduce).
func Allreduce[T Type](c *Comm, send, recv []T, op *Op) error {
	return reduceAll("MPI_Allreduce", c, send, recv, op, func(sp, rp unsafe.Pointer, n C.int, t C.MPI_Datatype, o C.MPI_Op, h C.MPI_Comm) C.int {
		return C.goipc_allreduce(sp, rp, n, t, o, h)
	})
}

// Scan leaves in recv on rank i the reduction of send over ranks 0..i
// (MPI_Scan).
func Scan[T Type](c *Comm, send, recv []T, op *Op) error {
	return reduceAll("MPI_Scan", c, send, recv, op, func(sp, rp unsafe.Pointer, n C.int, t C.MPI_Datatype, o C.MPI_Op, h C.MPI_Comm) C.int {
		return C.goipc_scan(sp, rp, n, t, o, h)
	})
}

// Exscan leaves in recv on rank i the reduction of send over ranks 0..i-1
// (MPI_Exscan); recv on rank 0 is left as it was.
func Exscan[T Type](c *Comm, send, recv []T, op *Op) error {
	return reduceAll("MPI_Exscan", c, send, recv, op, func(sp, rp unsafe.Pointer, n C.int, t C.MPI_Datatype, o C.MPI_Op, h C.MPI_Comm) C.int {
		return C.goipc_exscan(sp, rp, n, t, o, h)
	})
}

// ReduceScatterBlock reduces send (Size blocks of len(recv) elements) over
// all processes and leaves block i in recv on rank i
// (MPI_Reduce_scatter_block). With InPlace as send, recv holds the Size
// blocks and block i replaces its first.
func ReduceScatterBlock[T Type](c *Comm, send, recv []T, op *Op) error {
	const fn = "MPI_Reduce_scatter_block"
	h, o, err := reduction[T](fn, c, op)
	if err != nil {
		return err
	}
	rp, n, err := buffer(fn, recv)
	if err != nil {
		return err
	}
	sp := inPlaceAddr
	if inPlace(send) {
		if len(recv)%c.size != 0 {
			return invalid(fn, ErrCount, "in place, the receive buffer of %d elements is not %d equal blocks", len(recv), c.size)
		}
		n /= C.int(c.size)
	} else {
		if err := lengths(fn, "send", len(send), c.size*len(recv)); err != nil {
			return err
		}
		if err := disjoint(fn, send, recv, inPlaceHint[T]("send")); err != nil {
			return err
		}
		sp = unsafe.Pointer(unsafe.SliceData(send))
	}
	return check(fn, C.goipc_reduce_scatter_block(sp, rp, n, datatype[T](), o, h))
}

// rooted holds the checked arguments of a gather or scatter: own is this
// rank's part (n elements; inPlaceAddr in place), all the root's whole buffer
// (nil elsewhere), laid out by counts and displacements cc and cd in the v
// variants.
type rooted struct {
	h        C.MPI_Comm
	own, all unsafe.Pointer
	n        C.int
	cc, cd   []C.int
}

// rootedArgs checks a gather's or a scatter's buffers before the call. Without
// v, every part has len(own) elements and all holds Size of them; with v, part
// i has counts[i] elements at displs[i] (packed when displs is nil). InPlace
// as own at the root means the root's part is its block of all.
func rootedArgs[T Type](fn string, c *Comm, root int, own, all []T, ownWhat, allWhat string, v bool, counts, displs []int) (a rooted, err error) {
	if a.h, err = c.handle(fn); err != nil {
		return a, err
	}
	if err = c.checkRoot(fn, root); err != nil {
		return a, err
	}
	if err = rootOnly(fn, ownWhat, own, c, root); err != nil {
		return a, err
	}
	mine := inPlace(own)
	switch {
	case mine:
		a.own = inPlaceAddr
	case v:
		a.own, a.n, err = buffer(fn, own)
	default:
		a.own, a.n, err = buffer(fn, own)
	}
	if err != nil || c.rank != root {
		return a, err
	}
	switch {
	case v:
		if a.cc, a.cd, err = c.layout(fn, allWhat, counts, displs, len(all)); err != nil {
			return a, err
		}
		if mine {
			a.n = a.cc[root]
		} else if err = lengths(fn, ownWhat, len(own), counts[root]); err != nil {
			return a, err
		}
	case mine:
		if len(all) == 0 || len(all)%c.size != 0 {
			return a, invalid(fn, ErrCount, "in place, the %s buffer of %d elements is not %d equal blocks", allWhat, len(all), c.size)
		}
		if a.n, err = count(fn, len(all)/c.size); err != nil {
			return a, err
		}
	default:
		if err = lengths(fn, allWhat, len(all), c.size*len(own)); err != nil {
			return a, err
		}
	}
	if !mine {
		if err = disjoint(fn, own, all, inPlaceHint[T](ownWhat)); err != nil {
			return a, err
		}
	}
	a.all = unsafe.Pointer(unsafe.SliceData(all))
	return a, nil
}

// Gather collects send from every process, in rank order, into recv at root,
// which holds Size times len(send) elements (MPI_Gather).
func Gather[T Type](c *Comm, send, recv []T, root int) error {
	a, err := rootedArgs("MPI_Gather", c, root, send, recv, "send", "receive", false, nil, nil)
	if err != nil {
		return err
	}
	return check("MPI_Gather", C.goipc_gather(a.own, a.n, a.all, a.n, datatype[T](), C.int(root), a.h))
}

// Scatter sends block i of send (Size blocks of len(recv) elements) at root
// to rank i's recv (MPI_Scatter).
func Scatter[T Type](c *Comm, send, recv []T, root int) error {
	a, err := rootedArgs("MPI_Scatter", c, root, recv, send, "receive", "send", false, nil, nil)
	if err != nil {
		return err
	}
	return check("MPI_Scatter", C.goipc_scatter(a.all, a.n, a.own, a.n, datatype[T](), C.int(root), a.h))
}

// Allgather is Gather with the result on every process (MPI_Allgather).
func Allgather[T Type](c *Comm, send, recv []T) error {
	// Every rank receives the whole, as a root does.
	a, err := rootedArgs("MPI_Allgather", c, c.Rank(), send, recv, "send", "receive", false, nil, nil)
	if err != nil {
		return err
	}
	return check("MPI_Allgather", C.goipc_allgather(a.own, a.n, a.all, a.n, datatype[T](), a.h))
}

// Alltoall sends block j of send to rank j, which stores it as block i of its
// recv, for every pair (MPI_Alltoall). Both hold Size equal blocks.
func Alltoall[T Type](c *Comm, send, recv []T) error {
	a, err := alltoallArgs("MPI_Alltoall", c, send, recv)
	if err != nil {
		return err
	}
	return check("MPI_Alltoall", C.goipc_alltoall(a.sp, a.n, a.rp, a.n, a.t, a.h))
}

// exchange holds the checked arguments of an alltoall: n elements a block.
type exchange struct {
	h      C.MPI_Comm
	sp, rp unsafe.Pointer
	n      C.int
	t      C.MPI_Datatype
}

// alltoallArgs checks that send (or recv, in place) holds Size equal blocks
// and recv as many.
func alltoallArgs[T Type](fn string, c *Comm, send, recv []T) (a exchange, err error) {
	if a.h, err = c.handle(fn); err != nil {
		return a, err
	}
	sp, all, what := inPlaceAddr, recv, "receive" // in place, the blocks are recv's
	if !inPlace(send) {
		if err := lengths(fn, "receive", len(recv), len(send)); err != nil {
			return a, err
		}
		if err := disjoint(fn, send, recv, inPlaceHint[T]("send")); err != nil {
			return a, err
		}
		sp, all, what = unsafe.Pointer(unsafe.SliceData(send)), send, "send"
	}
	_, n, err := buffer(fn, all)
	if err != nil {
		return a, err
	}
	if len(all)%c.size != 0 {
		return a, invalid(fn, ErrCount, "%s buffer of %d elements is not %d equal blocks", what, len(all), c.size)
	}
	a.sp, a.rp, a.n, a.t = sp, unsafe.Pointer(unsafe.SliceData(recv)), n/C.int(c.size), datatype[T]()
	return a, nil
}

// layout checks the per-rank counts and displacements of a v-collective
// against a buffer of buflen elements. Nil displs packs the blocks one after
// the other.
func (c *Comm) layout(fn, what string, counts, displs []int, buflen int) (cc, cd []C.int, err error) {
	return blockLayout(fn, what, "ranks", c.size, counts, displs, buflen)
}

// blockLayout checks n blocks' counts and displacements (nil packs them)
// against a buffer of buflen elements; each block belongs to one of n ranks
// or neighbors (who).
func blockLayout(fn, what, who string, n int, counts, displs []int, buflen int) (cc, cd []C.int, err error) {
	if len(counts) != n {
		return nil, nil, invalid(fn, ErrCount, "%s counts: %d entries for %d %s", what, len(counts), n, who)
	}
	if displs != nil && len(displs) != n {
		return nil, nil, invalid(fn, ErrCount, "%s displacements: %d entries for %d %s", what, len(displs), n, who)
	}
	cc, cd = make([]C.int, n), make([]C.int, n)
	next := 0
	for i, n := range counts {
		d := next
		if displs != nil {
			d = displs[i]
		}
		if n < 0 || d < 0 || d+n > buflen {
			return nil, nil, invalid(fn, ErrCount, "%s block %d (displacement %d, count %d) is outside a buffer of %d", what, i, d, n, buflen)
		}
		if _, err := count(fn, d); err != nil {
			return nil, nil, err
		}
		cc[i], cd[i] = C.int(n), C.int(d)
		next = d + n
	}
	return cc, cd, nil
}

// Gatherv is Gather with a count per rank: rank i's send lands in recv at
// displs[i] (or packed in rank order when displs is nil) at root (MPI_Gatherv).
func Gatherv[T Type](c *Comm, send, recv []T, counts, displs []int, root int) error {
	a, err := rootedArgs("MPI_Gatherv", c, root, send, recv, "send", "receive", true, counts, displs)
	if err != nil {
		return err
	}
	return check("MPI_Gatherv", C.goipc_gatherv(a.own, a.n, a.all, ptr(a.cc), ptr(a.cd), datatype[T](), C.int(root), a.h))
}

// Scatterv is Scatter with a count per rank: rank i receives counts[i]
// elements from send at displs[i] (MPI_Scatterv).
func Scatterv[T Type](c *Comm, send []T, counts, displs []int, recv []T, root int) error {
	a, err := rootedArgs("MPI_Scatterv", c, root, recv, send, "receive", "send", true, counts, displs)
	if err != nil {
		return err
	}
	return check("MPI_Scatterv", C.goipc_scatterv(a.all, ptr(a.cc), ptr(a.cd), a.own, a.n, datatype[T](), C.int(root), a.h))
}

// Allgatherv is Gatherv with the result on every process (MPI_Allgatherv).
func Allgatherv[T Type](c *Comm, send, recv []T, counts, displs []int) error {
	a, err := rootedArgs("MPI_Allgatherv", c, c.Rank(), send, recv, "send", "receive", true, counts, displs)
	if err != nil {
		return err
	}
	return check("MPI_Allgatherv", C.goipc_allgatherv(a.own, a.n, a.all, ptr(a.cc), ptr(a.cd), datatype[T](), a.h))
}

// Alltoallv is Alltoall with a count and displacement per rank on both sides
// (MPI_Alltoallv).
func Alltoallv[T Type](c *Comm, send []T, sendCounts, sendDispls []int, recv []T, recvCounts, recvDispls []int) error {
	const fn = "MPI_Alltoallv"
	h, err := c.handle(fn)
	if err != nil {
		return err
	}
	rc, rd, err := c.layout(fn, "receive", recvCounts, recvDispls, len(recv))
	if err != nil {
		return err
	}
	sp, sc, sd := inPlaceAddr, rc, rd // in place, the blocks are recv's
	if inPlace(send) {
		if sendCounts != nil || sendDispls != nil {
			return invalid(fn, ErrCount, "in place, the send counts and displacements must be nil (the receive layout is used)")
		}
	} else {
		if sc, sd, err = c.layout(fn, "send", sendCounts, sendDispls, len(send)); err != nil {
			return err
		}
		if err := disjoint(fn, send, recv, inPlaceHint[T]("send")); err != nil {
			return err
		}
		sp = unsafe.Pointer(unsafe.SliceData(send))
	}
	return check(fn, C.goipc_alltoallv(sp, ptr(sc), ptr(sd), unsafe.Pointer(unsafe.SliceData(recv)), ptr(rc), ptr(rd), datatype[T](), h))
}

// ptr returns the address of a C int array's first element, or nil.
func ptr(v []C.int) *C.int {
	if len(v) == 0 {
		return nil
	}
	return &v[0]
}
