package mpi

// #include "shim.h"
import "C"

import (
	"fmt"
	"os"
	"sync"
	"unsafe"
)

// Op is a reduction operator (MPI_Op): one of the predefined ones below or
// one made from a Go function by NewOp.
type Op struct {
	o     C.MPI_Op
	name  string
	slot  int     // NewOp's trampoline slot; -1 for a predefined operator
	typ   int     // the element type NewOp's function takes
	takes opTypes // the basic types a predefined operator is defined on; 0 for any
}

func predefined(i int, name string, takes opTypes) *Op {
	return &Op{o: C.goipc_ops[i], name: name, slot: -1, takes: takes}
}

// opTypes is a set of the groups of basic types that MPI defines its
// predefined operators on (MPI 4.0, 6.9.2).
type opTypes uint8

const (
	opInt opTypes = 1 << iota
	opFloat
	opComplex
	opLogical
	opByte
	opPair
)

// opGroup returns the group of the basic type at index i of C.goipc_types,
// or 0 for a derived type.
func opGroup(i int) opTypes {
	switch {
	case i <= tUint64:
		return opInt
	case i <= tDouble:
		return opFloat
	case i <= tComplex128:
		return opComplex
	case i == tBool:
		return opLogical
	case i == tByte:
		return opByte
	case i <= tLongInt:
		return opPair
	}
	return 0
}

// definedOn returns an error unless o is defined on elements of the type at
// index i. MPI checks this too, but not always: MPICH 4.0.2 accepts MPI_MAXLOC,
// MPI_BAND or MPI_LAND on a double in MPI_Accumulate, and then hangs in the
// closing Fence or fails an assertion. A derived type (a struct) is left to
// MPI, as are operators made by NewOp, which opHandle checks, and Replace and
// NoOp, which take every type.
func (o *Op) definedOn(fn string, i int) error {
	g := opGroup(i)
	if o.takes == 0 || g == 0 || o.takes&g != 0 {
		return nil
	}
	var takes string
	switch o.takes {
	case opInt | opFloat | opComplex:
		takes = "integers, floating-point and complex numbers"
	case opInt | opFloat:
		takes = "integers and floating-point numbers"
	case opInt | opLogical:
		takes = "integers and bool"
	case opInt | opByte:
		takes = "integers and bytes"
	case opPair:
		takes = "Loc pairs"
	}
	return invalid(fn, ErrOp, "%s is not defined on %s: it takes %s", o.name, typeName(i), takes)
}

// The predefined operators, in the order of shim.c. Which element types each
// accepts is MPI's rule: arithmetic on numbers (Min and Max not on complex
// ones), logical ones on integers and bool, bitwise ones on integers, MinLoc
// and MaxLoc on Loc. Reductions and accumulates check it before MPI, with an
// ErrOp error, for the basic types; a struct type is left to MPI.
var (
	Sum    = predefined(0, "MPI_SUM", opInt|opFloat|opComplex)
	Prod   = predefined(1, "MPI_PROD", opInt|opFloat|opComplex)
	Min    = predefined(2, "MPI_MIN", opInt|opFloat)
	Max    = predefined(3, "MPI_MAX", opInt|opFloat)
	Land   = predefined(4, "MPI_LAND", opInt|opLogical)
	Lor    = predefined(5, "MPI_LOR", opInt|opLogical)
	Lxor   = predefined(6, "MPI_LXOR", opInt|opLogical)
	Band   = predefined(7, "MPI_BAND", opInt|opByte)
	Bor    = predefined(8, "MPI_BOR", opInt|opByte)
	Bxor   = predefined(9, "MPI_BXOR", opInt|opByte)
	MinLoc = predefined(10, "MPI_MINLOC", opPair)
	MaxLoc = predefined(11, "MPI_MAXLOC", opPair)
)

func (o *Op) String() string {
	if o == nil {
		return "<nil>"
	}
	if o.name == "" {
		return "<zero>"
	}
	return o.name
}

// userOps holds the Go functions behind the C trampolines, by slot.
var userOps struct {
	sync.RWMutex
	fns [C.GOIPC_USER_OPS]func(in, inout unsafe.Pointer, n int)
}

// NewOp makes a reduction operator from fn (MPI_Op_create), which must
// combine in into inout element by element: inout[i] = in[i] ⊕ inout[i]. MPI
// may apply it in any grouping, and in any order when commutative is true. The
// operator works only on slices of T; it may run on any thread, must not call
// MPI and must not panic (a panic aborts the job). At most 32 operators made
// by NewOp exist at once; Free releases one.
func NewOp[T Type](fn func(in, inout []T), commutative bool) (*Op, error) {
	if err := running("MPI_Op_create"); err != nil {
		return nil, err
	}
	if fn == nil {
		return nil, invalid("MPI_Op_create", ErrOp, "nil function")
	}
	// An operator on a type MPI cannot describe could never be used, and
	// would hold one of the slots until freed.
	if typeIndex[T]() == tInvalid {
		return nil, typeError[T]("MPI_Op_create")
	}
	userOps.Lock()
	defer userOps.Unlock()
	slot := -1
	for i, f := range userOps.fns {
		if f == nil {
			slot = i
			break
		}
	}
	if slot < 0 {
		return nil, invalid("MPI_Op_create", ErrOp, "all %d operator slots are in use (Free unused operators)", len(userOps.fns))
	}
	op := &Op{name: "user operator", slot: slot, typ: typeIndex[T]()}
	commute := C.int(0)
	if commutative {
		commute = 1
	}
	if err := check("MPI_Op_create", C.goipc_op_create(C.int(slot), commute, &op.o)); err != nil {
		return nil, err
	}
	userOps.fns[slot] = func(in, inout unsafe.Pointer, n int) {
		fn(unsafe.Slice((*T)(in), n), unsafe.Slice((*T)(inout), n))
	}
	return op, nil
}

// goipcUserOp is the only way back from C into Go, and MPI takes it only
// inside the blocking reductions. The point-to-point and completion calls are
// marked nocallback on that ground: a nonblocking reduction with a Go
// operator would let any of them run it during progress, and would need
// those marks removed.
//
//export goipcUserOp
func goipcUserOp(slot C.int, in, inout unsafe.Pointer, n C.int) {
	defer func() {
		if e := recover(); e != nil {
			fmt.Fprintf(os.Stderr, "mpi: user operator panicked: %v\n", e)
			C.MPI_Abort(C.goipc_comm_world, 1)
		}
	}()
	userOps.RLock()
	fn := userOps.fns[slot]
	userOps.RUnlock()
	fn(in, inout, int(n))
}

// handle returns the C operator for a reduction over T.
func opHandle[T Type](fn string, o *Op) (C.MPI_Op, error) {
	if o == nil || isZero(o.o) {
		return C.goipc_op_null, nilHandle(fn, ErrOp, "operator")
	}
	if o.o == C.goipc_op_null {
		return C.goipc_op_null, closed(fn, "operator was freed")
	}
	if o.slot >= 0 && o.typ != typeIndex[T]() {
		return o.o, invalid(fn, ErrOp, "operator was made for %s, not %s", typeName(o.typ), typeName(typeIndex[T]()))
	}
	return o.o, o.definedOn(fn, typeIndex[T]())
}

// Free releases an operator made by NewOp (MPI_Op_free); it is nil-safe and
// idempotent, and does nothing to the predefined operators.
func (o *Op) Free() error {
	if o == nil || o.slot < 0 || isZero(o.o) || o.o == C.goipc_op_null {
		return nil
	}
	if err := running("MPI_Op_free"); err != nil {
		return err
	}
	err := check("MPI_Op_free", C.MPI_Op_free(&o.o))
	userOps.Lock()
	userOps.fns[o.slot] = nil
	userOps.Unlock()
	return err
}
