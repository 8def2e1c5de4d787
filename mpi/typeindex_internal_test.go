package mpi

import (
	"reflect"
	"testing"
)

type benchParticle struct {
	ID   int32
	Pos  [3]float64
	Name [8]byte
}

var indexSink int

// BenchmarkTypeIndex measures what finding an element type's datatype costs
// on every call: a predefined type against a struct type already in the
// cache (published here by hand, without MPI), the lookup that replaces
// reflecting over the struct.
//
//	go test -run '^$' -bench TypeIndex ./mpi
func BenchmarkTypeIndex(b *testing.B) {
	b.Run("float64", func(b *testing.B) {
		for b.Loop() {
			indexSink = typeIndex[float64]()
		}
	})
	b.Run("struct", func(b *testing.B) {
		saved := derived.index.Load()
		defer derived.index.Store(saved)
		derived.index.Store(saved.with(reflect.TypeFor[benchParticle](), tInvalid+1))
		for b.Loop() {
			indexSink = typeIndex[benchParticle]()
		}
		if indexSink != tInvalid+1 {
			b.Fatalf("typeIndex = %d", indexSink)
		}
	})
}
