package mpi

// #include "shim.h"
import "C"

import "unsafe"

// The one-sided operations below take a Buf at the origin (a slice seen
// through a committed datatype) and a Target: a layout at the target too, such
// as a column of a matrix or one field of every struct of a window. They are
// the same MPI calls as Put, Get and Accumulate.

// Target is where an operation on a Buf lands: Count elements of the
// committed datatype Type from displacement Disp of rank Rank's window (the
// target_rank, target_disp, target_count and target_datatype of MPI_Put).
// Disp counts the window's elements, or is an address in a dynamic window
// (see Disp). Type may be another layout than the origin's, as long as both
// hold the same basic elements in the same number.
type Target struct {
	Rank, Disp, Count int
	Type              *Datatype
}

// args checks t against w: the rank, and, except in a dynamic window whose
// memory only the target knows, that every byte t touches lies in the
// target's window. It fills in the target's part of a and returns the bytes
// of data t holds.
func (t Target) args(op string, w *Win, a *bufArgs) (int, error) {
	var err error
	if a.r, _, err = w.target(op, t.Rank, 0, 0); err != nil {
		return 0, err
	}
	if a.tt, err = t.Type.handle(op); err != nil {
		return 0, err
	}
	if a.tn, err = nonNeg(op, "target count", t.Count); err != nil {
		return 0, err
	}
	a.d = C.MPI_Aint(t.Disp)
	switch {
	case t.Rank == ProcNull:
		err = t.Type.fits(op, "target", 0, t.Count, int(^uint(0)>>1))
	case w.dynamic:
		if t.Disp < 0 {
			return 0, invalid(op, ErrRMARange, "negative address %d in a dynamic window", t.Disp)
		}
		err = t.Type.fits(op, "target", 0, t.Count, int(^uint(0)>>1))
	case t.Disp < 0 || t.Disp > int(w.sizes[t.Rank]):
		return 0, invalid(op, ErrRMARange, "displacement %d is outside rank %d's window of %d", t.Disp, t.Rank, w.sizes[t.Rank])
	default:
		size := int(w.sizes[t.Rank]) * w.unit
		if err = t.Type.fits(op, "target", t.Disp*w.unit, t.Count, size); err != nil && err.(*Error).Class == ErrBuffer {
			err = invalid(op, ErrRMARange, "%s (rank %d's window)", err.(*Error).Msg, t.Rank)
		}
	}
	return t.Count * t.Type.size, err
}

// rmaBufArgs checks the window, the origin or result Buf and the Target of
// an operation: the two must carry as many bytes of data.
func rmaBufArgs(op string, w *Win, b Buf, t Target) (h C.MPI_Win, a bufArgs, err error) {
	if h, err = w.handle(op); err != nil {
		return h, a, err
	}
	if a.p, a.n, a.t, err = b.args(op); err != nil {
		return h, a, err
	}
	bytes, err := t.args(op, w, &a)
	if err != nil {
		return h, a, err
	}
	if bytes != b.bytes {
		return h, a, invalid(op, ErrType, "the origin holds %d bytes of data and the target %d", b.bytes, bytes)
	}
	return h, a, nil
}

// bufArgs are what MPI takes for an operation on a Buf and a Target.
type bufArgs struct {
	p     unsafe.Pointer
	n, tn C.int
	t, tt C.MPI_Datatype
	r     C.int
	d     C.MPI_Aint
}

// PutBuf writes origin into the target's window, laid out as t says
// (MPI_Put). origin's slice is MPI's until the epoch completes, as with Put.
func PutBuf(w *Win, origin Buf, t Target) error {
	const op = "MPI_Put"
	h, a, err := rmaBufArgs(op, w, origin, t)
	if err != nil {
		return err
	}
	if err := check(op, C.MPI_Put(a.p, a.n, a.t, a.r, a.d, a.tn, a.tt, h)); err != nil {
		return err
	}
	w.pin(a.r, a.p)
	return nil
}

// GetBuf reads the target's elements that t lays out into result (MPI_Get),
// when the epoch completes, as with Get.
func GetBuf(w *Win, result Buf, t Target) error {
	const op = "MPI_Get"
	h, a, err := rmaBufArgs(op, w, result, t)
	if err != nil {
		return err
	}
	if err := check(op, C.MPI_Get(a.p, a.n, a.t, a.r, a.d, a.tn, a.tt, h)); err != nil {
		return err
	}
	w.pin(a.r, a.p)
	return nil
}

// AccumulateBuf combines origin into the target's elements that t lays out,
// with the predefined operator o (MPI_Accumulate). MPI requires both
// datatypes to be built from one basic type, the operator's.
func AccumulateBuf(w *Win, origin Buf, t Target, o *Op) error {
	const op = "MPI_Accumulate"
	h, a, err := rmaBufArgs(op, w, origin, t)
	if err != nil {
		return err
	}
	// The basic type under a derived datatype is not known here: MPI checks
	// the operator against it.
	co, err := accumulateOp(op, o, tInvalid)
	if err != nil {
		return err
	}
	if err := check(op, C.MPI_Accumulate(a.p, a.n, a.t, a.r, a.d, a.tn, a.tt, co, h)); err != nil {
		return err
	}
	w.pin(a.r, a.p)
	return nil
}
