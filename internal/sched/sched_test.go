package sched

import (
	"runtime"
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

// TestTickYieldsByTime checks that Tick yields by time, not by count: no
// number of calls yields within YieldEvery of the last yield, and the first
// call due after it does.
func TestTickYieldsByTime(t *testing.T) {
	yields := 0
	yield = func() { yields++ }
	t.Cleanup(func() { yield = runtime.Gosched })

	lastYield.Store(int64(time.Since(epoch) + time.Hour)) // a yield that stays recent
	for range 100 * clockEvery {
		Tick()
	}
	if yields != 0 {
		t.Fatalf("%d yields in %d calls within YieldEvery of the last", yields, 100*clockEvery)
	}
	lastYield.Store(int64(-YieldEvery))
	for range clockEvery {
		Tick()
	}
	if yields != 1 {
		t.Fatalf("%d yields in %d calls after YieldEvery, want 1", yields, clockEvery)
	}
}

// TestCallDue checks that one call in clockEvery is due, wherever the count
// starts.
func TestCallDue(t *testing.T) {
	for _, start := range []uint32{0, 5, ^uint32(0) - 3} {
		calls.Store(start)
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
