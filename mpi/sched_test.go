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
// passes through the scheduler: check, which every call's result goes
// through, counts the calls, and within 64 calls of YieldEvery having passed
// since the last yield, yields. With one P, another goroutine runs only when
// the looping one yields (or when sysmon preempts it, which it does no
// sooner than 10ms into its tick).
func TestCheckYields(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	runtime.Gosched() // a fresh tick, and the last yield before start
	var ran atomic.Bool
	go ran.Store(true)
	start, late := time.Now(), 0
	for !ran.Load() {
		due := time.Since(start) > sched.YieldEvery
		if err := check("MPI_Send", 0); err != nil {
			t.Fatal(err)
		}
		if due {
			if late++; late > 64 {
				t.Fatalf("%d calls after %v without a yield", late, sched.YieldEvery)
			}
		}
	}
}
