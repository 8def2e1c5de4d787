package mpi

// #include "shim.h"
import "C"

import (
	"math"
	"unsafe"
)

// Datatype is an MPI datatype (MPI_Datatype): a layout of elements in
// memory. TypeOf gives the one a Go type maps to; Contiguous, Vector, Hvector,
// Indexed, Hindexed, IndexedBlock, Subarray, Struct and Resized build new ones
// from others. A new datatype can serve as a building block at once, but
// must be committed (Commit) before a message uses it (through Buf), and
// belongs to the caller, who releases it with Free. A datatype built from
// another does not depend on it: the building block may be freed first.
//
// Size and extents are read once, when the datatype is made.
type Datatype struct {
	d         C.MPI_Datatype
	shared    bool // predefined or TypeOf's cached type: Free leaves it alone
	committed bool

	size               int
	lb, extent         int
	trueLB, trueExtent int
}

// TypeOf returns the datatype of Go type T (see Type): predefined for the
// basic types, a struct datatype with T's layout for structs and arrays,
// built once per type and cached. It is committed, and Free leaves it alone.
func TypeOf[T Type]() (*Datatype, error) {
	i := typeIndex[T]()
	if i == tInvalid {
		return nil, typeError[T]("MPI_Type_create_struct")
	}
	if err := running("MPI_Type_size"); err != nil {
		return nil, err
	}
	return newDatatype("MPI_Type_size", C.goipc_types[i], true, true)
}

// newDatatype wraps a handle and reads its size and extents.
func newDatatype(op string, d C.MPI_Datatype, shared, committed bool) (*Datatype, error) {
	dt := &Datatype{d: d, shared: shared, committed: committed}
	var size C.MPI_Count
	var lb, ext, tlb, text C.MPI_Count
	err := check(op, C.MPI_Type_size_x(d, &size))
	if err == nil {
		err = check(op, C.MPI_Type_get_extent_x(d, &lb, &ext))
	}
	if err == nil {
		err = check(op, C.MPI_Type_get_true_extent_x(d, &tlb, &text))
	}
	if err != nil {
		if !shared {
			C.MPI_Type_free(&dt.d)
		}
		return nil, err
	}
	dt.size, dt.lb, dt.extent, dt.trueLB, dt.trueExtent = int(size), int(lb), int(ext), int(tlb), int(text)
	return dt, nil
}

func (dt *Datatype) handle(op string) (C.MPI_Datatype, error) {
	if dt == nil || isZero(dt.d) {
		return C.goipc_types[tInvalid], nilHandle(op, ErrType, "datatype")
	}
	if dt.d == C.goipc_types[tInvalid] {
		return C.goipc_types[tInvalid], closed(op, "datatype is freed")
	}
	return dt.d, running(op)
}

// Size returns the number of bytes of data in one element of dt, gaps
// excluded (MPI_Type_size), or 0 once dt is freed.
func (dt *Datatype) Size() int {
	if _, err := dt.handle(""); err != nil {
		return 0
	}
	return dt.size
}

// Extent returns dt's lower bound and extent in bytes (MPI_Type_get_extent):
// consecutive elements of dt start extent bytes apart.
func (dt *Datatype) Extent() (lb, extent int) {
	if _, err := dt.handle(""); err != nil {
		return 0, 0
	}
	return dt.lb, dt.extent
}

// TrueExtent returns the offset of the first byte dt touches and the span of
// bytes it touches (MPI_Type_get_true_extent), which Resized does not change.
func (dt *Datatype) TrueExtent() (lb, extent int) {
	if _, err := dt.handle(""); err != nil {
		return 0, 0
	}
	return dt.trueLB, dt.trueExtent
}

// Commit makes dt usable in communication (MPI_Type_commit). Committing twice
// does nothing.
func (dt *Datatype) Commit() error {
	h, err := dt.handle("MPI_Type_commit")
	if err != nil || dt.committed {
		return err
	}
	if err := check("MPI_Type_commit", C.MPI_Type_commit(&h)); err != nil {
		return err
	}
	dt.d, dt.committed = h, true
	return nil
}

// Free releases dt (MPI_Type_free). It is nil-safe and idempotent, leaves
// predefined and TypeOf datatypes alone, and may be called while operations
// that use dt are pending: MPI keeps it until they complete.
func (dt *Datatype) Free() error {
	if dt == nil || dt.shared || isZero(dt.d) || dt.d == C.goipc_types[tInvalid] || ready("MPI_Type_free") != nil {
		return nil
	}
	// From the wrong thread, say so: the datatype stays allocated.
	if err := running("MPI_Type_free"); err != nil {
		return err
	}
	return check("MPI_Type_free", C.MPI_Type_free(&dt.d))
}

// derive runs a constructor on old's handle and wraps what it made.
func derive(op string, old *Datatype, make func(o C.MPI_Datatype, nt *C.MPI_Datatype) C.int) (*Datatype, error) {
	o, err := old.handle(op)
	if err != nil {
		return nil, err
	}
	var nt C.MPI_Datatype
	if err := check(op, make(o, &nt)); err != nil {
		return nil, err
	}
	return newDatatype(op, nt, false, false)
}

// nonNeg is cint for counts and lengths, which cannot be negative.
func nonNeg(op, what string, v int) (C.int, error) {
	if v < 0 {
		return 0, invalid(op, ErrArg, "%s %d is negative", what, v)
	}
	return cint(op, what, v)
}

// span multiplies the absolute values of a byte count's factors, saturating
// at math.MaxInt, past which MPI's own arithmetic on displacements wraps.
func span(factors ...int) int {
	p := 1
	for _, v := range factors {
		if v == math.MinInt {
			return math.MaxInt
		}
		if v = abs(v); v != 0 && p > math.MaxInt/v {
			return math.MaxInt
		}
		p *= v
	}
	return p
}

// spanSum adds two spans, saturating as span does.
func spanSum(a, b int) int {
	if a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}

// elemSpan is the bytes one element of dt reaches from its start.
func (dt *Datatype) elemSpan() int {
	if dt == nil {
		return 0
	}
	return max(span(dt.extent), spanSum(span(dt.trueLB), span(dt.trueExtent)))
}

// reach refuses a datatype whose elements would lie more than math.MaxInt
// bytes apart: MPI would compute its extent with wrapping arithmetic, into a
// type that claims to touch bytes it does not.
func reach(op string, bytes int) error {
	if bytes == math.MaxInt {
		return invalid(op, ErrArg, "the datatype would span more than 2⁶³ bytes, past which MPI's displacements wrap around")
	}
	return nil
}

// blocksReach is the span of blocks of old elements at displacements in
// units of unit bytes.
func blocksReach(blocklens, displs []int, unit int, old *Datatype) int {
	r := 0
	for i, d := range displs {
		bl := 1
		if blocklens != nil {
			bl = blocklens[i]
		}
		r = max(r, spanSum(span(d, unit), span(bl, old.elemSpan())))
	}
	return r
}

// cintSlice converts a list of ints for MPI, each checked as cint (or, for
// counts, nonNeg) does.
func cintSlice(op, what string, v []int, nonNegative bool) ([]C.int, error) {
	out := make([]C.int, len(v))
	for i, x := range v {
		conv := cint
		if nonNegative {
			conv = nonNeg
		}
		c, err := conv(op, what, x)
		if err != nil {
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}

func aints(v []int) []C.MPI_Aint {
	out := make([]C.MPI_Aint, len(v))
	for i, x := range v {
		out[i] = C.MPI_Aint(x)
	}
	return out
}

// Contiguous returns the datatype of n consecutive elements of old
// (MPI_Type_contiguous).
func Contiguous(n int, old *Datatype) (*Datatype, error) {
	cn, err := nonNeg("MPI_Type_contiguous", "count", n)
	if err == nil {
		err = reach("MPI_Type_contiguous", span(n, old.elemSpan()))
	}
	if err != nil {
		return nil, err
	}
	return derive("MPI_Type_contiguous", old, func(o C.MPI_Datatype, nt *C.MPI_Datatype) C.int {
		return C.MPI_Type_contiguous(cn, o, nt)
	})
}

// Vector returns the datatype of count blocks of blocklen elements of old,
// the starts of consecutive blocks stride elements apart (MPI_Type_vector):
// a column of a row-major matrix is Vector(rows, 1, cols, float64).
func Vector(count, blocklen, stride int, old *Datatype) (*Datatype, error) {
	const op = "MPI_Type_vector"
	cc, err1 := nonNeg(op, "count", count)
	cb, err2 := nonNeg(op, "block length", blocklen)
	cs, err3 := cint(op, "stride", stride)
	err4 := reach(op, spanSum(span(count, stride, old.elemSpan()), span(blocklen, old.elemSpan())))
	if err := firstErr(err1, err2, err3, err4); err != nil {
		return nil, err
	}
	return derive(op, old, func(o C.MPI_Datatype, nt *C.MPI_Datatype) C.int {
		return C.MPI_Type_vector(cc, cb, cs, o, nt)
	})
}

// Hvector is Vector with the stride in bytes (MPI_Type_create_hvector).
func Hvector(count, blocklen, strideBytes int, old *Datatype) (*Datatype, error) {
	const op = "MPI_Type_create_hvector"
	cc, err1 := nonNeg(op, "count", count)
	cb, err2 := nonNeg(op, "block length", blocklen)
	err3 := reach(op, spanSum(span(count, strideBytes), span(blocklen, old.elemSpan())))
	if err := firstErr(err1, err2, err3); err != nil {
		return nil, err
	}
	return derive(op, old, func(o C.MPI_Datatype, nt *C.MPI_Datatype) C.int {
		return C.MPI_Type_create_hvector(cc, cb, C.MPI_Aint(strideBytes), o, nt)
	})
}

// blocks checks the block lengths and displacements of the indexed
// constructors, which must pair up.
func blocks(op string, blocklens, displs []int) ([]C.int, error) {
	if len(blocklens) != len(displs) {
		return nil, invalid(op, ErrArg, "%d block lengths for %d displacements", len(blocklens), len(displs))
	}
	if _, err := nonNeg(op, "number of blocks", len(blocklens)); err != nil {
		return nil, err
	}
	return cintSlice(op, "block length", blocklens, true)
}

// Indexed returns the datatype of blocks of old: block i has blocklens[i]
// elements and starts displs[i] elements from the start (MPI_Type_indexed).
func Indexed(blocklens, displs []int, old *Datatype) (*Datatype, error) {
	const op = "MPI_Type_indexed"
	bl, err := blocks(op, blocklens, displs)
	if err != nil {
		return nil, err
	}
	ds, err := cintSlice(op, "displacement", displs, false)
	if err == nil {
		err = reach(op, blocksReach(blocklens, displs, old.elemSpan(), old))
	}
	if err != nil {
		return nil, err
	}
	return derive(op, old, func(o C.MPI_Datatype, nt *C.MPI_Datatype) C.int {
		return C.MPI_Type_indexed(C.int(len(bl)), ptr(bl), ptr(ds), o, nt)
	})
}

// Hindexed is Indexed with the displacements in bytes
// (MPI_Type_create_hindexed).
func Hindexed(blocklens, displBytes []int, old *Datatype) (*Datatype, error) {
	const op = "MPI_Type_create_hindexed"
	bl, err := blocks(op, blocklens, displBytes)
	if err == nil {
		err = reach(op, blocksReach(blocklens, displBytes, 1, old))
	}
	if err != nil {
		return nil, err
	}
	ds := aints(displBytes)
	return derive(op, old, func(o C.MPI_Datatype, nt *C.MPI_Datatype) C.int {
		return C.MPI_Type_create_hindexed(C.int(len(bl)), ptr(bl), aptr(ds), o, nt)
	})
}

// IndexedBlock is Indexed with every block blocklen elements long
// (MPI_Type_create_indexed_block).
func IndexedBlock(blocklen int, displs []int, old *Datatype) (*Datatype, error) {
	const op = "MPI_Type_create_indexed_block"
	cb, err := nonNeg(op, "block length", blocklen)
	if err != nil {
		return nil, err
	}
	ds, err := cintSlice(op, "displacement", displs, false)
	if err == nil {
		err = reach(op, spanSum(blocksReach(nil, displs, old.elemSpan(), old), span(blocklen, old.elemSpan())))
	}
	if err != nil {
		return nil, err
	}
	return derive(op, old, func(o C.MPI_Datatype, nt *C.MPI_Datatype) C.int {
		return C.MPI_Type_create_indexed_block(C.int(len(ds)), cb, ptr(ds), o, nt)
	})
}

// Order is the order of a multidimensional array's elements in memory.
type Order int

// Row-major (C, Go) and column-major (Fortran) order.
const (
	OrderC       Order = C.MPI_ORDER_C
	OrderFortran Order = C.MPI_ORDER_FORTRAN
)

// Subarray returns the datatype of the block of subsizes elements starting
// at starts in an array of sizes elements of old, laid out in order
// (MPI_Type_create_subarray). Its extent is the whole array's, so the
// datatype describes the block in place.
func Subarray(sizes, subsizes, starts []int, order Order, old *Datatype) (*Datatype, error) {
	const op = "MPI_Type_create_subarray"
	n := len(sizes)
	if n == 0 || len(subsizes) != n || len(starts) != n {
		return nil, invalid(op, ErrArg, "sizes, subsizes and starts need one entry per dimension, have %d, %d, %d",
			len(sizes), len(subsizes), len(starts))
	}
	if order != OrderC && order != OrderFortran {
		return nil, invalid(op, ErrArg, "unknown order %d", int(order))
	}
	for i := range n {
		if sizes[i] < 1 || subsizes[i] < 1 {
			return nil, invalid(op, ErrArg, "dimension %d: size %d and subsize %d must both be at least 1", i, sizes[i], subsizes[i])
		}
		if starts[i] < 0 || starts[i]+subsizes[i] > sizes[i] {
			return nil, invalid(op, ErrArg, "dimension %d: block of %d at %d does not fit in %d", i, subsizes[i], starts[i], sizes[i])
		}
	}
	cs, err1 := cintSlice(op, "size", sizes, true)
	cb, err2 := cintSlice(op, "subsize", subsizes, true)
	ct, err3 := cintSlice(op, "start", starts, true)
	err4 := reach(op, span(append(sizes[:n:n], old.elemSpan())...))
	if err := firstErr(err1, err2, err3, err4); err != nil {
		return nil, err
	}
	return derive(op, old, func(o C.MPI_Datatype, nt *C.MPI_Datatype) C.int {
		return C.MPI_Type_create_subarray(C.int(n), &cs[0], &cb[0], &ct[0], C.int(order), o, nt)
	})
}

// Struct returns the datatype of blocks of several datatypes: block i is
// blocklens[i] elements of types[i] at displBytes[i] bytes from the start
// (MPI_Type_create_struct). TypeOf builds one from a Go struct type.
func Struct(blocklens, displBytes []int, types []*Datatype) (*Datatype, error) {
	const op = "MPI_Type_create_struct"
	bl, err := blocks(op, blocklens, displBytes)
	if err != nil {
		return nil, err
	}
	if len(types) != len(bl) {
		return nil, invalid(op, ErrArg, "%d datatypes for %d blocks", len(types), len(bl))
	}
	ts := make([]C.MPI_Datatype, len(types))
	for i, t := range types {
		if ts[i], err = t.handle(op); err != nil {
			return nil, err
		}
		if err := reach(op, spanSum(span(displBytes[i]), span(blocklens[i], t.elemSpan()))); err != nil {
			return nil, err
		}
	}
	ds := aints(displBytes)
	var nt C.MPI_Datatype
	var tp *C.MPI_Datatype
	if len(ts) > 0 {
		tp = &ts[0]
	}
	if err := check(op, C.MPI_Type_create_struct(C.int(len(bl)), ptr(bl), aptr(ds), tp, &nt)); err != nil {
		return nil, err
	}
	return newDatatype(op, nt, false, false)
}

// Resized returns old with its lower bound and extent set to lb and extent
// bytes (MPI_Type_create_resized): how far apart consecutive elements start.
func Resized(old *Datatype, lb, extent int) (*Datatype, error) {
	if err := reach("MPI_Type_create_resized", spanSum(span(lb), span(extent))); err != nil {
		return nil, err
	}
	return derive("MPI_Type_create_resized", old, func(o C.MPI_Datatype, nt *C.MPI_Datatype) C.int {
		return C.MPI_Type_create_resized(o, C.MPI_Aint(lb), C.MPI_Aint(extent), nt)
	})
}

func aptr(v []C.MPI_Aint) *C.MPI_Aint {
	if len(v) == 0 {
		return nil
	}
	return &v[0]
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Buf is count elements of a committed datatype laid over a Go slice, from
// its first element: mpi4py's [array, count, datatype] buffer spec, for
// layouts a slice's own element type does not give (a column, a block of a
// grid). BufOf checks that every byte the elements touch lies in the slice,
// so a message cannot write outside Go memory. A Buf borrows the slice: it
// must not be used after the slice is, nor the datatype freed before the
// calls that use it return.
type Buf struct {
	p     unsafe.Pointer
	n     C.int
	dt    *Datatype
	bytes int
}

// BufOf returns the Buf of count elements of dt over s.
func BufOf[T Type](s []T, count int, dt *Datatype) (Buf, error) {
	const op = "buffer"
	if _, err := dt.handle(op); err != nil {
		return Buf{}, err
	}
	if typeIndex[T]() == tInvalid {
		return Buf{}, typeError[T](op)
	}
	n, err := nonNeg(op, "count", count)
	if err != nil {
		return Buf{}, err
	}
	if err := dt.fits(op, "slice", 0, count, len(s)*int(unsafe.Sizeof(*new(T)))); err != nil {
		return Buf{}, err
	}
	return Buf{p: unsafe.Pointer(unsafe.SliceData(s)), n: n, dt: dt, bytes: count * dt.size}, nil
}

func abs(v int) int { return max(v, -v) }

// fits checks that count elements of dt from offset bytes into a buffer of
// have bytes touch only bytes of the buffer.
func (dt *Datatype) fits(op, what string, offset, count, have int) error {
	if !dt.committed {
		return invalid(op, ErrType, "%s: datatype is not committed (call Commit)", what)
	}
	if count == 0 || dt.trueExtent == 0 {
		return nil
	}
	// Bounds that no slice reaches (one is under 2⁴⁸ bytes) are refused
	// before the sums below, which they would overflow into range; MPICH
	// reports a true extent that overflowed as negative.
	const far = 1 << 60
	if offset < 0 || offset > have || dt.trueExtent < 0 || dt.trueExtent > have || dt.trueLB < -far || dt.trueLB > far ||
		count > 1 && (dt.extent < -far || dt.extent > far || abs(dt.extent) > (have-dt.trueExtent)/(count-1)) {
		return invalid(op, ErrBuffer, "%s: %d elements of the datatype (extent %d, true extent %d at %d) do not fit in the %d bytes of the buffer",
			what, count, dt.extent, dt.trueExtent, dt.trueLB, have)
	}
	// The elements start extent bytes apart; each touches
	// [trueLB, trueLB+trueExtent) from its start.
	first, last := offset+dt.trueLB, offset+dt.trueLB+dt.trueExtent
	if step := (count - 1) * dt.extent; step < 0 {
		first += step
	} else {
		last += step
	}
	if first < 0 || last > have {
		return invalid(op, ErrBuffer, "%s: %d elements of the datatype touch bytes [%d, %d), outside the %d bytes of the buffer", what, count, first, last, have)
	}
	return nil
}

// args returns what an MPI call takes for b.
func (b Buf) args(op string) (unsafe.Pointer, C.int, C.MPI_Datatype, error) {
	t, err := b.dt.handle(op)
	return b.p, b.n, t, err
}
