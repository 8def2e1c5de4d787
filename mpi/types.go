package mpi

// #include "shim.h"
import "C"

import (
	"math"
	"math/bits"
	"reflect"
	"unsafe"
)

// Type is any Go element type a buffer may hold. Basic types map to a
// predefined MPI datatype, exactly, so that a C or Python peer using the
// matching type sees the same values:
//
//	int8..int64, uint8..uint64  MPI_INT8_T..MPI_INT64_T, MPI_UINT8_T..MPI_UINT64_T
//	int, uint, uintptr          the 64-bit (or, on 32-bit platforms, 32-bit) fixed-size type
//	float32, float64            MPI_FLOAT, MPI_DOUBLE
//	complex64, complex128       MPI_C_FLOAT_COMPLEX, MPI_C_DOUBLE_COMPLEX
//	bool                        MPI_C_BOOL
//	Loc[float32|float64|int32|int64]  MPI_FLOAT_INT, MPI_DOUBLE_INT, MPI_2INT, MPI_LONG_INT
//
// byte is uint8 in Go, so []byte travels as MPI_UINT8_T, which Open MPI and
// MPICH deliver bit for bit to a peer receiving MPI_BYTE or MPI_CHAR.
// Named types (type Celsius float64) map as their underlying type.
//
// Structs and fixed-size arrays of these (nested to any depth) map to a struct
// datatype with the Go layout, which is the C layout of the same fields
// (see TypeOf); a field tagged `mpi:"-"` is left out of it. Pointers, slices,
// strings, maps, channels, functions and interfaces cannot travel: a call on
// a buffer of a type holding one returns an error matching ErrType and
// syscall.EINVAL before reaching MPI, even in a field tagged `mpi:"-"`
// (cgo forbids passing C memory that holds Go pointers).
type Type = any

// Loc is a value with the rank (or any index) it came from: the pair type that
// MinLoc and MaxLoc reduce. Its layout is the C struct MPI defines for it.
type Loc[T float32 | float64 | int32 | int64] struct {
	Value T
	Index int32
}

// Indexes into C.goipc_types, in the order of shim.c.
const (
	tInt8 = iota
	tInt16
	tInt32
	tInt64
	tUint8
	tUint16
	tUint32
	tUint64
	tFloat
	tDouble
	tComplex64
	tComplex128
	tBool
	tByte
	tFloatInt
	tDoubleInt
	t2Int
	tLongInt
	tInvalid // MPI_DATATYPE_NULL: a Go type MPI cannot describe
)

// kindIndex maps the kind of a basic Type to its entry in C.goipc_types; int,
// uint and uintptr take the fixed-size type of their width.
var kindIndex = [...]int{
	reflect.Int8: tInt8, reflect.Int16: tInt16, reflect.Int32: tInt32, reflect.Int64: tInt64,
	reflect.Uint8: tUint8, reflect.Uint16: tUint16, reflect.Uint32: tUint32, reflect.Uint64: tUint64,
	reflect.Int: tInt32 + bits.UintSize/64, reflect.Uint: tUint32 + bits.UintSize/64,
	reflect.Uintptr: tUint32 + bits.UintSize/64,
	reflect.Float32: tFloat, reflect.Float64: tDouble,
	reflect.Complex64: tComplex64, reflect.Complex128: tComplex128, reflect.Bool: tBool,
}

// typeIndex returns T's entry in C.goipc_types. It is on the path of every
// Send and Recv, so it allocates nothing and, for any type but the common
// basic ones below, costs one lookup in the table of types met before
// (structtype.go), the same for a struct as for uint16; only the first call
// that meets T reflects over it. A type MPI cannot describe gives tInvalid,
// which buffer reports.
//
// The element types most buffers hold come first, by comparing T's type
// word with theirs, one direct branch each. The table's chain of dependent
// loads took 4ns, and a type switch, though faster in a loop of its own,
// jumps through a table on the type's hash, which stalled after every cgo
// call: in a loop of Sends to ProcNull under perf, typeIndex took 11.7% of
// the samples with the switch and 6.3% with the compares (the crossing's
// runtime code 52-55%), on a path where Go's whole cost is measured against
// a crossing.
func typeIndex[T Type]() int {
	if i := commonIndex[T](); i >= 0 {
		return i
	}
	if i, ok := derived.known.Load().lookup(typeKey[T]()); ok {
		return i
	}
	return firstIndex[T]()
}

// commonIndex is typeIndex for the common element types, and -1 for the
// others. It makes no call, so that it inlines into the calls on a
// message's path (p2pType): a call there, even one that returns at once,
// makes its caller keep every argument on the stack across it.
func commonIndex[T Type]() int {
	switch typeKey[T]() {
	case keyByte:
		return tUint8
	case keyFloat64:
		return tDouble
	case keyInt32:
		return tInt32
	case keyInt64:
		return tInt64
	case keyFloat32:
		return tFloat
	case keyInt:
		return tInt32 + bits.UintSize/64
	}
	return -1
}

// The type words of the element types typeIndex tries first.
var (
	keyByte, keyFloat64, keyInt32 = typeKey[byte](), typeKey[float64](), typeKey[int32]()
	keyInt64, keyFloat32, keyInt  = typeKey[int64](), typeKey[float32](), typeKey[int]()
)

func datatype[T Type]() C.MPI_Datatype { return C.goipc_types[typeIndex[T]()] }

var typeNames = [...]string{"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
	"float32", "float64", "complex64", "complex128", "bool", "byte",
	"Loc[float32]", "Loc[float64]", "Loc[int32]", "Loc[int64]", "invalid"}

// typeName names the Go type behind an entry of C.goipc_types.
func typeName(i int) string {
	if i < len(typeNames) {
		return typeNames[i]
	}
	return derivedName(i)
}

// buffer returns the address and MPI count of s, or an error when the count
// does not fit MPI's int or MPI cannot describe T. An empty slice gives a nil
// address and count 0.
func buffer[T Type](op string, s []T) (unsafe.Pointer, C.int, error) {
	if typeIndex[T]() == tInvalid {
		return nil, 0, typeError[T](op)
	}
	n, err := count(op, len(s))
	if err != nil || n == 0 {
		return nil, 0, err
	}
	return unsafe.Pointer(unsafe.SliceData(s)), n, nil
}

// count converts a Go length to MPI's int count.
func count(op string, n int) (C.int, error) {
	if n > math.MaxInt32 {
		return 0, invalid(op, ErrCount, "count %d exceeds MPI's int range", n)
	}
	return C.int(n), nil
}
