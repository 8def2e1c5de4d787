package sysv

import (
	"encoding/binary"
	"math"
	"testing"
)

// FuzzSatisfiable checks satisfiable against the kernel's rule applied to
// every starting value: the operations on one semaphore succeed from v when,
// in order, each Delta < 0 finds at least -Delta, each Delta 0 finds 0, and
// no value exceeds SemValueMax.
func FuzzSatisfiable(f *testing.F) {
	seed := func(deltas ...int16) []byte {
		b := make([]byte, 2*len(deltas))
		for i, d := range deltas {
			binary.LittleEndian.PutUint16(b[2*i:], uint16(d))
		}
		return b
	}
	f.Add(seed(math.MinInt16))
	f.Add(seed(0, -1))
	f.Add(seed(-1, 0))
	f.Add(seed(0, 1))
	f.Add(seed(-20000, -20000))
	f.Add(seed(20000, 20000))
	f.Add(seed(-3, 1, 0))
	f.Add(seed(5, -5, 0, 32767))
	f.Fuzz(func(t *testing.T, b []byte) {
		var ops []SemOp
		for i := 0; i+1 < len(b) && len(ops) < 8; i += 2 {
			ops = append(ops, SemOp{Delta: int16(binary.LittleEndian.Uint16(b[i:]))})
		}
		want := false
		for v := 0; v <= SemValueMax && !want; v++ {
			want = succeedsFrom(v, ops)
		}
		if got := satisfiable(ops, 0) == nil; got != want {
			t.Fatalf("satisfiable(%v) accepts them: %v; some starting value makes them succeed: %v", ops, got, want)
		}
	})
}

// succeedsFrom applies ops to value v as the kernel does (perform_atomic_semop).
func succeedsFrom(v int, ops []SemOp) bool {
	for _, op := range ops {
		d := int(op.Delta)
		if d == 0 && v != 0 || v+d < 0 || v+d > SemValueMax {
			return false
		}
		v += d
	}
	return true
}
