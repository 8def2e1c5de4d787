package mpi

// #include "shim.h"
import "C"

import (
	"fmt"
	"unsafe"
)

// The neighbor collectives exchange data along a communicator's topology
// (CartCreate, DistGraphCreateAdjacent, GraphCreate): a process receives one
// block from each source neighbor and sends one to each destination, in the
// topology's order. A Cartesian grid's neighbors are, per dimension, the
// process behind and the one ahead (CartShift by 1); blocks for ProcNull
// neighbors at an open edge are neither sent nor written. Blocks may be
// empty. The I forms start the same exchange and return a Request, which
// keeps the buffers (and the count arrays) pinned until it completes.

// neighborGather holds the checked arguments of a neighbor allgather.
type neighborGather struct {
	h        C.MPI_Comm
	sp, rp   unsafe.Pointer
	n        C.int
	t        C.MPI_Datatype
	rcc, rcd []C.int
	large    bool
}

// neighborBuffers checks what every neighbor collective takes: a topology,
// and send and receive buffers that do not overlap.
func neighborBuffers[S, R Type](fn string, c *Comm, send []S, recv []R) (h C.MPI_Comm, in, out int, sp, rp unsafe.Pointer, err error) {
	if h, in, out, err = c.neighbors(fn); err != nil {
		return
	}
	if sp, _, err = buffer(fn, send); err != nil {
		return
	}
	if rp, _, err = buffer(fn, recv); err != nil {
		return
	}
	err = disjoint(fn, send, recv, "")
	return
}

func neighborGatherArgs[T Type](fn string, c *Comm, send, recv []T, v bool, counts, displs []int) (a neighborGather, err error) {
	var in int
	if a.h, in, _, a.sp, a.rp, err = neighborBuffers(fn, c, send, recv); err != nil {
		return a, err
	}
	a.n = C.int(len(send))
	if v {
		if a.rcc, a.rcd, err = blockLayout(fn, "receive", "neighbors", in, counts, displs, len(recv)); err != nil {
			return a, err
		}
	} else if err = lengths(fn, "receive", len(recv), in*len(send)); err != nil {
		return a, err
	}
	a.t, a.large = datatype[T](), long(recv)
	return a, nil
}

// NeighborAllgather sends send to every destination neighbor and receives
// one block of len(send) elements from each source neighbor into recv, in
// order (MPI_Neighbor_allgather).
func NeighborAllgather[T Type](c *Comm, send, recv []T) error {
	const fn = "MPI_Neighbor_allgather"
	a, err := neighborGatherArgs(fn, c, send, recv, false, nil, nil)
	if err != nil {
		return err
	}
	return check(fn, C.MPI_Neighbor_allgather(a.sp, a.n, a.t, a.rp, a.n, a.t, a.h))
}

// IneighborAllgather starts a NeighborAllgather (MPI_Ineighbor_allgather).
func IneighborAllgather[T Type](c *Comm, send, recv []T) (*Request, error) {
	const fn = "MPI_Ineighbor_allgather"
	a, err := neighborGatherArgs(fn, c, send, recv, false, nil, nil)
	if err != nil {
		return nil, err
	}
	return startColl(fn, a.large, func(r *C.MPI_Request) C.int {
		return C.MPI_Ineighbor_allgather(a.sp, a.n, a.t, a.rp, a.n, a.t, a.h, r)
	}, a.sp, a.rp)
}

// NeighborAllgatherv is NeighborAllgather with a count per source neighbor:
// neighbor i's block lands at displs[i] (packed when displs is nil)
// (MPI_Neighbor_allgatherv).
func NeighborAllgatherv[T Type](c *Comm, send, recv []T, counts, displs []int) error {
	const fn = "MPI_Neighbor_allgatherv"
	a, err := neighborGatherArgs(fn, c, send, recv, true, counts, displs)
	if err != nil {
		return err
	}
	return check(fn, C.MPI_Neighbor_allgatherv(a.sp, a.n, a.t, a.rp, ptr(a.rcc), ptr(a.rcd), a.t, a.h))
}

// IneighborAllgatherv starts a NeighborAllgatherv (MPI_Ineighbor_allgatherv).
func IneighborAllgatherv[T Type](c *Comm, send, recv []T, counts, displs []int) (*Request, error) {
	const fn = "MPI_Ineighbor_allgatherv"
	a, err := neighborGatherArgs(fn, c, send, recv, true, counts, displs)
	if err != nil {
		return nil, err
	}
	return startColl(fn, a.large, func(r *C.MPI_Request) C.int {
		return C.MPI_Ineighbor_allgatherv(a.sp, a.n, a.t, a.rp, ptr(a.rcc), ptr(a.rcd), a.t, a.h, r)
	}, a.sp, a.rp, cptr(a.rcc), cptr(a.rcd))
}

// neighborExchange holds the checked arguments of a neighbor alltoall(v).
type neighborExchange struct {
	h                  C.MPI_Comm
	sp, rp             unsafe.Pointer
	n                  C.int // alltoall: elements per block
	t                  C.MPI_Datatype
	scc, scd, rcc, rcd []C.int
	large              bool
}

func neighborExchangeArgs[T Type](fn string, c *Comm, send []T, sendCounts, sendDispls []int, recv []T, recvCounts, recvDispls []int, v bool) (a neighborExchange, err error) {
	var in, out int
	if a.h, in, out, a.sp, a.rp, err = neighborBuffers(fn, c, send, recv); err != nil {
		return a, err
	}
	a.t, a.large = datatype[T](), long(recv) || long(send)
	if v {
		if a.scc, a.scd, err = blockLayout(fn, "send", "neighbors", out, sendCounts, sendDispls, len(send)); err != nil {
			return a, err
		}
		a.rcc, a.rcd, err = blockLayout(fn, "receive", "neighbors", in, recvCounts, recvDispls, len(recv))
		return a, err
	}
	// Equal blocks: out of them to send, in of the same size to receive.
	if out == 0 || len(send)%out != 0 {
		if out == 0 && len(send) == 0 {
			return a, lengths(fn, "receive", len(recv), 0)
		}
		return a, invalid(fn, ErrCount, "send buffer of %d elements is not %d equal blocks", len(send), out)
	}
	block := len(send) / out
	a.n = C.int(block)
	return a, lengths(fn, "receive", len(recv), in*block)
}

// NeighborAlltoall sends block j of send to destination neighbor j and
// receives block i of recv from source neighbor i, blocks of equal size
// (MPI_Neighbor_alltoall).
func NeighborAlltoall[T Type](c *Comm, send, recv []T) error {
	const fn = "MPI_Neighbor_alltoall"
	a, err := neighborExchangeArgs(fn, c, send, nil, nil, recv, nil, nil, false)
	if err != nil {
		return err
	}
	return check(fn, C.MPI_Neighbor_alltoall(a.sp, a.n, a.t, a.rp, a.n, a.t, a.h))
}

// IneighborAlltoall starts a NeighborAlltoall (MPI_Ineighbor_alltoall).
func IneighborAlltoall[T Type](c *Comm, send, recv []T) (*Request, error) {
	const fn = "MPI_Ineighbor_alltoall"
	a, err := neighborExchangeArgs(fn, c, send, nil, nil, recv, nil, nil, false)
	if err != nil {
		return nil, err
	}
	return startColl(fn, a.large, func(r *C.MPI_Request) C.int {
		return C.MPI_Ineighbor_alltoall(a.sp, a.n, a.t, a.rp, a.n, a.t, a.h, r)
	}, a.sp, a.rp)
}

// NeighborAlltoallv is NeighborAlltoall with a count and displacement per
// neighbor on both sides (MPI_Neighbor_alltoallv).
func NeighborAlltoallv[T Type](c *Comm, send []T, sendCounts, sendDispls []int, recv []T, recvCounts, recvDispls []int) error {
	const fn = "MPI_Neighbor_alltoallv"
	a, err := neighborExchangeArgs(fn, c, send, sendCounts, sendDispls, recv, recvCounts, recvDispls, true)
	if err != nil {
		return err
	}
	return check(fn, C.MPI_Neighbor_alltoallv(a.sp, ptr(a.scc), ptr(a.scd), a.t, a.rp, ptr(a.rcc), ptr(a.rcd), a.t, a.h))
}

// IneighborAlltoallv starts a NeighborAlltoallv (MPI_Ineighbor_alltoallv).
func IneighborAlltoallv[T Type](c *Comm, send []T, sendCounts, sendDispls []int, recv []T, recvCounts, recvDispls []int) (*Request, error) {
	const fn = "MPI_Ineighbor_alltoallv"
	a, err := neighborExchangeArgs(fn, c, send, sendCounts, sendDispls, recv, recvCounts, recvDispls, true)
	if err != nil {
		return nil, err
	}
	return startColl(fn, a.large, func(r *C.MPI_Request) C.int {
		return C.MPI_Ineighbor_alltoallv(a.sp, ptr(a.scc), ptr(a.scd), a.t, a.rp, ptr(a.rcc), ptr(a.rcd), a.t, a.h, r)
	}, a.sp, a.rp, cptr(a.scc), cptr(a.scd), cptr(a.rcc), cptr(a.rcd))
}

// Block is one neighbor's part of a NeighborAlltoallw: Count elements of a
// committed Type, Offset bytes from the start of the buffer.
type Block struct {
	Count  int
	Offset int
	Type   *Datatype
}

// wBlocks checks the blocks of an alltoallw against a buffer of have bytes.
func wBlocks(fn, what string, n int, blocks []Block, have int) (cc []C.int, cd []C.MPI_Aint, ct []C.MPI_Datatype, err error) {
	if len(blocks) != n {
		return nil, nil, nil, invalid(fn, ErrCount, "%d %s blocks for %d neighbors", len(blocks), what, n)
	}
	cc, cd, ct = make([]C.int, n), make([]C.MPI_Aint, n), make([]C.MPI_Datatype, n)
	for i, b := range blocks {
		if ct[i], err = b.Type.handle(fn); err != nil {
			return nil, nil, nil, err
		}
		if cc[i], err = nonNeg(fn, "count", b.Count); err != nil {
			return nil, nil, nil, err
		}
		if err = b.Type.fits(fn, fmt.Sprintf("%s block %d", what, i), b.Offset, b.Count, have); err != nil {
			return nil, nil, nil, err
		}
		cd[i] = C.MPI_Aint(b.Offset)
	}
	return cc, cd, ct, nil
}

// neighborW holds the checked arguments of a neighbor alltoallw.
type neighborW struct {
	h      C.MPI_Comm
	sp, rp unsafe.Pointer
	sc, rc []C.int
	sd, rd []C.MPI_Aint
	st, rt []C.MPI_Datatype
	large  bool
}

func neighborWArgs[S, R Type](fn string, c *Comm, send []S, sendBlocks []Block, recv []R, recvBlocks []Block) (a neighborW, err error) {
	var in, out int
	if a.h, in, out, a.sp, a.rp, err = neighborBuffers(fn, c, send, recv); err != nil {
		return a, err
	}
	sbytes, rbytes := len(send)*int(unsafe.Sizeof(*new(S))), len(recv)*int(unsafe.Sizeof(*new(R)))
	if a.sc, a.sd, a.st, err = wBlocks(fn, "send", out, sendBlocks, sbytes); err != nil {
		return a, err
	}
	a.rc, a.rd, a.rt, err = wBlocks(fn, "receive", in, recvBlocks, rbytes)
	a.large = sbytes >= longCall || rbytes >= longCall
	return a, err
}

// NeighborAlltoallw is NeighborAlltoall with a datatype, a count and a byte
// offset per neighbor on both sides (MPI_Neighbor_alltoallw): the halo
// exchange of a grid whose rows and columns are different datatypes over the
// one array. Every block must lie within its buffer.
func NeighborAlltoallw[S, R Type](c *Comm, send []S, sendBlocks []Block, recv []R, recvBlocks []Block) error {
	const fn = "MPI_Neighbor_alltoallw"
	a, err := neighborWArgs(fn, c, send, sendBlocks, recv, recvBlocks)
	if err != nil {
		return err
	}
	return check(fn, C.MPI_Neighbor_alltoallw(a.sp, ptr(a.sc), aptr(a.sd), tptr(a.st), a.rp, ptr(a.rc), aptr(a.rd), tptr(a.rt), a.h))
}

// IneighborAlltoallw starts a NeighborAlltoallw (MPI_Ineighbor_alltoallw).
func IneighborAlltoallw[S, R Type](c *Comm, send []S, sendBlocks []Block, recv []R, recvBlocks []Block) (*Request, error) {
	const fn = "MPI_Ineighbor_alltoallw"
	a, err := neighborWArgs(fn, c, send, sendBlocks, recv, recvBlocks)
	if err != nil {
		return nil, err
	}
	return startColl(fn, a.large, func(r *C.MPI_Request) C.int {
		return C.MPI_Ineighbor_alltoallw(a.sp, ptr(a.sc), aptr(a.sd), tptr(a.st), a.rp, ptr(a.rc), aptr(a.rd), tptr(a.rt), a.h, r)
	}, a.sp, a.rp, cptr(a.sc), aptrP(a.sd), tptrP(a.st), cptr(a.rc), aptrP(a.rd), tptrP(a.rt))
}

func tptr(v []C.MPI_Datatype) *C.MPI_Datatype {
	if len(v) == 0 {
		return nil
	}
	return &v[0]
}
