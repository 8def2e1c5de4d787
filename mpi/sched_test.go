package mpi

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goipc/ipc/internal/sched"
)

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

// TestCheckYields checks that a goroutine whose every call is short still
// passes through the scheduler within a few YieldEvery: check, which every
// call's result goes through, counts the calls and yields when one is due.
// With one P, another goroutine runs only when the looping one yields (or
// when sysmon preempts it, which it does no sooner than 10ms into its tick).
func TestCheckYields(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	runtime.Gosched() // a fresh tick: sysmon leaves it alone for 10ms
	var ran atomic.Bool
	go ran.Store(true)
	start := time.Now()
	for !ran.Load() {
		if err := check("MPI_Send", 0); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 3*sched.YieldEvery {
			t.Fatalf("the loop of checks did not yield in %v (every %v wanted)", d, sched.YieldEvery)
		}
	}
}
