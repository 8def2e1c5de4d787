package mpi

import (
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"
)

// A goroutine that keeps calling into C for long is never rescheduled, and
// after 10ms of that the Go scheduler's monitor thread (sysmon) takes its P
// whenever it finds it in a cgo call, asking for a preemption that never
// lands, and wakes another thread for the P each time (see "Performance" in
// doc.go; measured with uprobes on runtime.preemptone and runtime.handoffp).
// Yielding every few milliseconds resets that clock: the calls that take long
// end with afterLongCall.
const yieldEvery = 2 * time.Millisecond

// longCall is the size of message from which a call takes long enough for
// the cost of reading the clock (tens of ns) not to matter.
const longCall = 64 << 10

var (
	epoch     = time.Now()
	lastYield atomic.Int64 // time.Since(epoch) at the last yield
)

// long reports whether a call on buf takes long enough to call afterLongCall.
func long[T Type](buf []T) bool { return uintptr(len(buf))*unsafe.Sizeof(*new(T)) >= longCall }

// afterLongCall yields the goroutine unless a long call did within the last
// yieldEvery. The clock is the process's: goroutines that make long calls at
// once share the yields, which is enough while they are few.
func afterLongCall() {
	now := time.Since(epoch)
	if now-time.Duration(lastYield.Load()) >= yieldEvery {
		lastYield.Store(int64(now))
		runtime.Gosched()
	}
}
