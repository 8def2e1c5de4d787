package mpi

import "testing"

// TestLong checks the threshold in bytes, whatever the element type.
func TestLong(t *testing.T) {
	for i, c := range []struct {
		got, want bool
	}{
		{long(make([]byte, longCall)), true},
		{long(make([]byte, longCall-1)), false},
		{long(make([]float64, longCall/8)), true},
		{long(make([]Loc[float64], longCall/16)), true},
		{long(make([]int32, longCall/8)), false},
		{long([]complex128(nil)), false},
	} {
		if c.got != c.want {
			t.Errorf("case %d: long = %v, want %v", i, c.got, c.want)
		}
	}
}
