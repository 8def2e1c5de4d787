package mpi

import (
	"testing"
	"unsafe"
)

type benchParticle struct {
	ID   int32
	Pos  [3]float64
	Name [8]byte
}

var indexSink int

// BenchmarkTypeIndex measures what finding an element type's datatype costs
// on every call: a predefined type against a struct type already in the
// table (published here by hand, without MPI), alone and among 200 other
// types, the lookup that replaces reflecting over the struct. float64 is
// found before the table (typeIndex's switch) and costs least; the struct
// cases cost the same, with or without the others; none allocates.
//
//	go test -run '^$' -bench TypeIndex -benchmem ./mpi
func BenchmarkTypeIndex(b *testing.B) {
	b.Run("float64", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			indexSink = typeIndex[float64]()
		}
	})
	struct_ := func(others int) func(b *testing.B) {
		return func(b *testing.B) {
			b.ReportAllocs()
			saved := derived.known.Load()
			defer derived.known.Store(saved)
			tt := saved
			fake := make([]byte, others)
			for i := range fake {
				tt = tt.with(unsafe.Pointer(&fake[i]), tInvalid+2+i, keepAll)
			}
			derived.known.Store(tt.with(typeKey[benchParticle](), tInvalid+1, keepAll))
			for b.Loop() {
				indexSink = typeIndex[benchParticle]()
			}
			if indexSink != tInvalid+1 {
				b.Fatalf("typeIndex = %d", indexSink)
			}
		}
	}
	b.Run("struct", struct_(0))
	b.Run("struct-among-200", struct_(200))
}

// TestTypeTable checks the table typeIndex reads: every key added is found
// at its entry through growth, a key never added is not, and a filtered copy
// keeps exactly the entries asked for.
func TestTypeTable(t *testing.T) {
	keys := make([]int64, 300)
	var tt *typeTable
	if _, ok := tt.lookup(unsafe.Pointer(&keys[0])); ok {
		t.Fatal("found a key in the nil table")
	}
	for i := range keys[:len(keys)-1] {
		tt = tt.with(unsafe.Pointer(&keys[i]), i, keepAll)
		if tt.n > len(tt.slots)/2 {
			t.Fatalf("%d types in %d slots", tt.n, len(tt.slots))
		}
	}
	for i := range keys[:len(keys)-1] {
		if got, ok := tt.lookup(unsafe.Pointer(&keys[i])); !ok || got != i {
			t.Fatalf("key %d: got %d, %v", i, got, ok)
		}
	}
	if _, ok := tt.lookup(unsafe.Pointer(&keys[len(keys)-1])); ok {
		t.Fatal("found a key never added")
	}
	even := tt.with(nil, 0, func(i int) bool { return i%2 == 0 })
	for i := range keys[:len(keys)-1] {
		if _, ok := even.lookup(unsafe.Pointer(&keys[i])); ok != (i%2 == 0) {
			t.Fatalf("filtered table: key %d found %v", i, ok)
		}
	}
	if typeKey[benchParticle]() == typeKey[struct {
		ID   int32
		Pos  [3]float64
		Name [8]byte
	}]() || typeKey[float64]() != typeKey[float64]() {
		t.Fatal("typeKey does not tell types apart")
	}
}

// TestCommonIndex checks that the fast path of the calls on a message's path
// gives each common type the entry that reflecting over it gives, and -1 (so
// the full lookup) for the others.
func TestCommonIndex(t *testing.T) {
	type celsius float64
	for _, c := range []struct {
		name         string
		common, full int
	}{
		{"byte", commonIndex[byte](), firstIndex[byte]()},
		{"float64", commonIndex[float64](), firstIndex[float64]()},
		{"int32", commonIndex[int32](), firstIndex[int32]()},
		{"int64", commonIndex[int64](), firstIndex[int64]()},
		{"float32", commonIndex[float32](), firstIndex[float32]()},
		{"int", commonIndex[int](), firstIndex[int]()},
	} {
		if c.common != c.full || c.common < 0 {
			t.Errorf("commonIndex[%s] = %d, reflection gives %d", c.name, c.common, c.full)
		}
	}
	if i := commonIndex[uint16](); i != -1 {
		t.Errorf("commonIndex[uint16] = %d, want -1", i)
	}
	if i := commonIndex[celsius](); i != -1 {
		t.Errorf("commonIndex[celsius] = %d, want -1 (a named type takes the table)", i)
	}
}
