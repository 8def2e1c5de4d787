package sched

import (
	"testing"
	"time"
)

// TestAfterLongCall checks that long calls yield at most once per YieldEvery.
func TestAfterLongCall(t *testing.T) {
	lastYield.Store(int64(-YieldEvery))
	AfterLongCall()
	first := lastYield.Load()
	if first < 0 {
		t.Fatal("the first long call did not yield")
	}
	AfterLongCall()
	if got := lastYield.Load(); got != first && time.Duration(got-first) < YieldEvery {
		t.Fatalf("yielded again after %v, sooner than %v", time.Duration(got-first), YieldEvery)
	}
}

func TestTickCounts(t *testing.T) {
	before := calls.Load()
	for range tickEvery {
		Tick()
	}
	if got := calls.Load() - before; got != tickEvery {
		t.Fatalf("Tick counted %d calls, want %d", got, tickEvery)
	}
}

// TestCallDue checks that one call in clockEvery is due, wherever the count
// starts.
func TestCallDue(t *testing.T) {
	for _, start := range []uint32{0, 5, ^uint32(0) - 3} {
		lockedCalls.Store(start)
		due := 0
		for range 3 * clockEvery {
			if CallDue() {
				due++
			}
		}
		if due != 3 {
			t.Errorf("from %d: %d of %d calls due, want 3", start, due, 3*clockEvery)
		}
	}
}
