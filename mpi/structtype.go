package mpi

// #include "shim.h"
import "C"

import (
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"unsafe"
)

// The datatypes of the Go types met so far: a basic or Loc type maps to its
// predefined entry of C.goipc_types; a struct or array type is built by
// reflection the first time a call meets it, committed and stored in
// C.goipc_types after the predefined types. Either way the type is then
// published in a table keyed by its type descriptor, which every later call
// reads with one atomic load and no lock, and which costs the same for a
// struct as for float64 (BenchmarkTypeIndex). Finalize releases the built
// datatypes. A type that cannot be built is remembered with its error.
var derived struct {
	known atomic.Pointer[typeTable] // published, read without a lock
	mu    sync.Mutex                // serialises adding and guards the rest
	names []string                  // by index - C.GOIPC_NTYPES
	errs  map[reflect.Type]error
}

// typeKey identifies T without reflection: the type word of an interface
// holding a *T, a descriptor the linker makes once per type.
func typeKey[T any]() unsafe.Pointer {
	e := any((*T)(nil))
	return (*[2]unsafe.Pointer)(unsafe.Pointer(&e))[0]
}

// typeTable is an open-addressed hash table from typeKey to an entry of
// C.goipc_types, at most half full, never changed once published: adding a
// type publishes a copy.
type typeTable struct {
	slots []typeSlot // a power of two of them
	n     int
}

type typeSlot struct {
	key unsafe.Pointer
	i   int
}

// slot is where the search for key starts (Fibonacci hashing of the address).
func (tt *typeTable) slot(key unsafe.Pointer) uint64 {
	return uint64(uintptr(key)) * 0x9e3779b97f4a7c15 >> 32 & uint64(len(tt.slots)-1)
}

func (tt *typeTable) lookup(key unsafe.Pointer) (int, bool) {
	if tt == nil {
		return 0, false
	}
	mask := uint64(len(tt.slots) - 1)
	for h := tt.slot(key); ; h = (h + 1) & mask {
		switch s := tt.slots[h]; s.key {
		case key:
			return s.i, true
		case nil:
			return 0, false
		}
	}
}

// with returns a copy of tt holding key at entry i, and those of tt's
// entries that keep says to keep.
func (tt *typeTable) with(key unsafe.Pointer, i int, keep func(i int) bool) *typeTable {
	var old []typeSlot
	if tt != nil {
		old = tt.slots
	}
	size := 16
	for tt != nil && size < 2*(tt.n+1) {
		size *= 2
	}
	next := &typeTable{slots: make([]typeSlot, size)}
	put := func(s typeSlot) {
		mask := uint64(size - 1)
		h := next.slot(s.key)
		for next.slots[h].key != nil {
			h = (h + 1) & mask
		}
		next.slots[h] = s
		next.n++
	}
	for _, s := range old {
		if s.key != nil && keep(s.i) {
			put(s)
		}
	}
	if key != nil {
		put(typeSlot{key, i})
	}
	return next
}

func keepAll(int) bool { return true }

// firstIndex finds T's entry the first time a call meets T, building its
// datatype if it needs one, and publishes it.
func firstIndex[T Type]() int {
	t := reflect.TypeFor[T]()
	k := t.Kind()
	i := tInvalid
	if int(k) < len(kindIndex) && (kindIndex[k] != 0 || k == reflect.Int8) {
		i = kindIndex[k]
	} else if k == reflect.Struct {
		switch any((*T)(nil)).(type) {
		case *Loc[float32]:
			i = tFloatInt
		case *Loc[float64]:
			i = tDoubleInt
		case *Loc[int32]:
			i = t2Int
		case *Loc[int64]:
			i = tLongInt
		}
	}
	key := typeKey[T]()
	derived.mu.Lock()
	defer derived.mu.Unlock()
	if j, ok := derived.known.Load().lookup(key); ok {
		return j // another goroutine was first
	}
	if i == tInvalid {
		if i = buildDerived(t); i == tInvalid {
			return i
		}
	}
	derived.known.Store(derived.known.Load().with(key, i, keepAll))
	return i
}

func derivedName(i int) string {
	derived.mu.Lock()
	defer derived.mu.Unlock()
	if j := i - C.GOIPC_NTYPES; j >= 0 && j < len(derived.names) {
		return derived.names[j]
	}
	return fmt.Sprintf("datatype %d", i)
}

// typeError explains why MPI cannot carry T.
func typeError[T Type](op string) error {
	t := reflect.TypeFor[T]()
	derived.mu.Lock()
	err := derived.errs[t]
	derived.mu.Unlock()
	if err == nil {
		if err := running(op); err != nil {
			return err
		}
		err = fmt.Errorf("%v cannot be described to MPI", t)
	}
	return invalid(op, ErrType, "%v", err)
}

// errUnsupported is a Go type no MPI datatype can describe.
type errUnsupported struct {
	path string
	t    reflect.Type
}

func (e errUnsupported) Error() string {
	return fmt.Sprintf("%s is a %v (%v), which MPI cannot describe: only numbers, bool, and arrays and structs of them travel",
		e.path, e.t, e.t.Kind())
}

// buildDerived builds, commits and stores the datatype of a struct or array
// type t, returning its entry of C.goipc_types or tInvalid; the caller holds
// derived.mu.
func buildDerived(t reflect.Type) int {
	if _, failed := derived.errs[t]; failed {
		return tInvalid
	}
	if running("MPI_Type_create_struct") != nil {
		return tInvalid // not remembered: it may work once MPI runs
	}
	i := C.GOIPC_NTYPES + len(derived.names)
	dt, err := buildTop(t)
	if err == nil && i >= C.GOIPC_MAXTYPES {
		C.MPI_Type_free(&dt)
		err = fmt.Errorf("%v: more than %d Go types sent through MPI", t, C.GOIPC_MAXTYPES-C.GOIPC_NTYPES)
	}
	if err != nil {
		if derived.errs == nil {
			derived.errs = map[reflect.Type]error{}
		}
		derived.errs[t] = err
		return tInvalid
	}
	C.goipc_types[i] = dt
	derived.names = append(derived.names, t.String())
	return i
}

// buildTop makes the committed datatype of a struct or array type t.
func buildTop(t reflect.Type) (C.MPI_Datatype, error) {
	p, err := describe(t, t.String())
	if err != nil {
		return nullDatatype(), err
	}
	if p.n == 0 {
		return nullDatatype(), fmt.Errorf("%v has no field MPI can carry", t)
	}
	dt := p.t
	if p.n != 1 || !p.owned {
		// A bare array of a basic type: n contiguous elements.
		if err := check("MPI_Type_contiguous", C.MPI_Type_contiguous(C.int(p.n), p.t, &dt)); err != nil {
			p.free()
			return nullDatatype(), err
		}
		p.free()
	}
	if err := check("MPI_Type_commit", C.MPI_Type_commit(&dt)); err != nil {
		C.MPI_Type_free(&dt)
		return nullDatatype(), err
	}
	return dt, nil
}

func nullDatatype() C.MPI_Datatype { return C.goipc_types[tInvalid] }

// part is what a Go type contributes to its parent: n elements of datatype t
// (a block of a struct datatype); owned means t is a derived type to free
// once the parent is built. n is 0 for a zero-length array.
type part struct {
	t     C.MPI_Datatype
	n     int
	owned bool
}

func (p part) free() {
	if p.owned {
		C.MPI_Type_free(&p.t)
	}
}

// describe maps a Go type to a part; path names it in errors ("Particle.Pos").
func describe(t reflect.Type, path string) (part, error) {
	k := t.Kind()
	if int(k) < len(kindIndex) && (kindIndex[k] != 0 || k == reflect.Int8) {
		return part{t: C.goipc_types[kindIndex[k]], n: 1}, nil
	}
	switch k {
	case reflect.Array:
		e, err := describe(t.Elem(), path+"[]")
		if err != nil || t.Len() == 0 || e.n == 0 {
			e.free()
			return part{}, err
		}
		if !e.owned {
			return part{t: e.t, n: e.n * t.Len()}, nil // a run of one basic type
		}
		var dt C.MPI_Datatype
		err = check("MPI_Type_contiguous", C.MPI_Type_contiguous(C.int(t.Len()), e.t, &dt))
		e.free()
		return part{t: dt, n: 1, owned: true}, err
	case reflect.Struct:
		return describeStruct(t, path)
	}
	return part{}, errUnsupported{path, t}
}

// describeStruct builds the struct datatype of t from its fields at their Go
// offsets, resized to the Go size so that consecutive elements of a slice
// (padding included) follow each other as they do in memory.
func describeStruct(t reflect.Type, path string) (part, error) {
	var (
		lens  []C.int
		disps []C.MPI_Aint
		types []C.MPI_Datatype
		parts []part
	)
	defer func() {
		for _, p := range parts {
			p.free()
		}
	}()
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Tag.Get("mpi") == "-" {
			// MPI never touches a skipped field, but cgo forbids passing C
			// Go memory that holds Go pointers.
			if hasPointers(f.Type) {
				return part{}, fmt.Errorf("%s.%s is skipped but holds Go pointers (%v), which no memory passed to MPI may hold", path, f.Name, f.Type)
			}
			continue
		}
		p, err := describe(f.Type, path+"."+f.Name)
		if err != nil {
			return part{}, err
		}
		parts = append(parts, p)
		if p.n == 0 {
			continue
		}
		lens = append(lens, C.int(p.n))
		disps = append(disps, C.MPI_Aint(f.Offset))
		types = append(types, p.t)
	}
	if len(lens) == 0 {
		return part{}, nil
	}
	var st, dt C.MPI_Datatype
	if err := check("MPI_Type_create_struct", C.MPI_Type_create_struct(C.int(len(lens)), &lens[0], &disps[0], &types[0], &st)); err != nil {
		return part{}, err
	}
	err := check("MPI_Type_create_resized", C.MPI_Type_create_resized(st, 0, C.MPI_Aint(t.Size()), &dt))
	C.MPI_Type_free(&st)
	return part{t: dt, n: 1, owned: true}, err
}

// freeDerived releases the datatypes built from Go types, before
// MPI_Finalize: MPICH reports those still alive as leaks.
func freeDerived() {
	derived.mu.Lock()
	defer derived.mu.Unlock()
	for i := range derived.names {
		C.MPI_Type_free(&C.goipc_types[C.GOIPC_NTYPES+i])
	}
	derived.names = nil
	// Go types keep their predefined entries; built ones are gone.
	derived.known.Store(derived.known.Load().with(nil, 0, func(i int) bool { return i < C.GOIPC_NTYPES }))
}

// hasPointers reports whether values of t hold Go pointers.
func hasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Array:
		return t.Len() > 0 && hasPointers(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if hasPointers(t.Field(i).Type) {
				return true
			}
		}
		return false
	case reflect.Pointer, reflect.Slice, reflect.String, reflect.Map, reflect.Chan, reflect.Func,
		reflect.Interface, reflect.UnsafePointer:
		return true
	}
	return false
}
