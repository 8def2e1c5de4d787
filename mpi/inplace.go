package mpi

// #include "shim.h"
//
// // MPI_IN_PLACE as the send (or, for Scatter, the receive) buffer: Go
// // cannot hold Open MPI's (void *)1.
// static int goipc_allgather_in_place(void *r, int n, MPI_Datatype t, MPI_Comm c) {
//	return MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, r, n, t, c);
// }
// static int goipc_alltoall_in_place(void *r, int n, MPI_Datatype t, MPI_Comm c) {
//	return MPI_Alltoall(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, r, n, t, c);
// }
// static int goipc_gather_in_place(void *b, int n, MPI_Datatype t, int root, int isRoot, MPI_Comm c) {
//	if (isRoot)
//		return MPI_Gather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, b, n, t, root, c);
//	return MPI_Gather(b, n, t, NULL, 0, MPI_DATATYPE_NULL, root, c);
// }
// static int goipc_scatter_in_place(void *b, int n, MPI_Datatype t, int root, int isRoot, MPI_Comm c) {
//	if (isRoot)
//		return MPI_Scatter(b, n, t, MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, root, c);
//	return MPI_Scatter(NULL, 0, MPI_DATATYPE_NULL, b, n, t, root, c);
// }
import "C"

import "unsafe"

// The collectives that MPI lets work in place (MPI_IN_PLACE), as calls of
// their own: each takes one buffer, which holds the input and receives the
// result.

// AllreduceInPlace is Allreduce with buf as both send and receive buffer.
func AllreduceInPlace[T Type](c *Comm, buf []T, op *Op) error { return Allreduce(c, buf, buf, op) }

// ReduceInPlace is Reduce where the root's buf is both its contribution and
// the result; elsewhere buf is the contribution.
func ReduceInPlace[T Type](c *Comm, buf []T, op *Op, root int) error {
	return Reduce(c, buf, buf, op, root)
}

// ScanInPlace is Scan with buf as both send and receive buffer.
func ScanInPlace[T Type](c *Comm, buf []T, op *Op) error { return Scan(c, buf, buf, op) }

// ExscanInPlace is Exscan with buf as both send and receive buffer.
func ExscanInPlace[T Type](c *Comm, buf []T, op *Op) error { return Exscan(c, buf, buf, op) }

// blocks returns the size of one of c's Size equal blocks of buf.
func (c *Comm) blocks(fn string, n int) (C.int, error) {
	if n%c.size != 0 {
		return 0, invalid(fn, ErrCount, "buffer of %d elements is not %d equal blocks", n, c.size)
	}
	return count(fn, n/c.size)
}

// AllgatherInPlace is Allgather where every process's contribution is
// already block Rank of buf, which holds Size equal blocks.
func AllgatherInPlace[T Type](c *Comm, buf []T) error {
	const fn = "MPI_Allgather"
	h, err := c.handle(fn)
	if err != nil {
		return err
	}
	p, _, err := buffer(fn, buf)
	if err != nil {
		return err
	}
	n, err := c.blocks(fn, len(buf))
	if err != nil {
		return err
	}
	return check(fn, C.goipc_allgather_in_place(p, n, datatype[T](), h))
}

// AlltoallInPlace is Alltoall where buf holds Size equal blocks: block j is
// sent to rank j and replaced by what rank j sent.
func AlltoallInPlace[T Type](c *Comm, buf []T) error {
	const fn = "MPI_Alltoall"
	h, err := c.handle(fn)
	if err != nil {
		return err
	}
	p, _, err := buffer(fn, buf)
	if err != nil {
		return err
	}
	n, err := c.blocks(fn, len(buf))
	if err != nil {
		return err
	}
	return check(fn, C.goipc_alltoall_in_place(p, n, datatype[T](), h))
}

// rootedInPlace is the body of GatherInPlace and ScatterInPlace: at the
// root, buf holds Size blocks, its own in place; elsewhere, one block.
func rootedInPlace[T Type](fn string, c *Comm, buf []T, root int,
	call func(p unsafe.Pointer, n C.int, t C.MPI_Datatype, root, isRoot C.int, h C.MPI_Comm) C.int) error {
	h, err := c.handle(fn)
	if err != nil {
		return err
	}
	if err := c.checkRoot(fn, root); err != nil {
		return err
	}
	p, n, err := buffer(fn, buf)
	if err != nil {
		return err
	}
	isRoot := C.int(0)
	if c.rank == root {
		isRoot = 1
		if n, err = c.blocks(fn, len(buf)); err != nil {
			return err
		}
	}
	return check(fn, call(p, n, datatype[T](), C.int(root), isRoot, h))
}

// GatherInPlace is Gather where the root's buf holds Size equal blocks, its
// own contribution already block root; elsewhere buf is the contribution.
func GatherInPlace[T Type](c *Comm, buf []T, root int) error {
	return rootedInPlace("MPI_Gather", c, buf, root, func(p unsafe.Pointer, n C.int, t C.MPI_Datatype, root, isRoot C.int, h C.MPI_Comm) C.int {
		return C.goipc_gather_in_place(p, n, t, root, isRoot, h)
	})
}

// ScatterInPlace is Scatter where the root's buf holds Size equal blocks and
// keeps its own block root; elsewhere buf receives one block.
func ScatterInPlace[T Type](c *Comm, buf []T, root int) error {
	return rootedInPlace("MPI_Scatter", c, buf, root, func(p unsafe.Pointer, n C.int, t C.MPI_Datatype, root, isRoot C.int, h C.MPI_Comm) C.int {
		return C.goipc_scatter_in_place(p, n, t, root, isRoot, h)
	})
}
