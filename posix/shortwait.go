package posix

import (
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/goipc/ipc/internal/sched"
)

// A call that must wait first tries again for a short while (spinMax) before
// it parks on the runtime poller or blocks in the kernel. In a request and
// reply exchange the peer usually answers within microseconds, sooner than a
// goroutine parked on the poller can be woken (several microseconds more than
// a thread woken in the kernel, as C is). Between tries the thread yields its
// CPU (sched_yield), so that a peer waiting for that CPU runs at once: without
// it two processes that share a CPU would each spin out their whole spinMax.
// Spinning is bounded in time and in the number of goroutines doing it at once
// (one per CPU); cancellation, deadlines and Close reach a spinning call within
// spinMax.
const spinMax = 20 * time.Microsecond

var (
	spinners    atomic.Int32
	maxSpinners = int32(runtime.NumCPU())
)

// spinner tracks the spin of one call; its zero value has not started.
type spinner struct {
	until   time.Time
	holding bool // counted in spinners
}

// again reports whether the call should try once more rather than wait, and
// yields the processor before it does. It stops at spinMax or at deadline dl.
func (s *spinner) again(dl time.Time) bool {
	now := time.Now()
	if s.until.IsZero() {
		if spinners.Add(1) > maxSpinners {
			spinners.Add(-1)
			s.until = now // spent: do not spin
			return false
		}
		s.holding = true
		s.until = now.Add(spinMax)
		if !dl.IsZero() && dl.Before(s.until) {
			s.until = dl
		}
	}
	if now.Before(s.until) {
		yieldCPU()
		return true
	}
	s.done()
	return false
}

// done ends the spin; the call is about to wait or has succeeded.
func (s *spinner) done() {
	if s.holding {
		s.holding = false
		spinners.Add(-1)
	}
}

// yieldCPU gives the CPU to any thread that waits for it (sched_yield), not
// only to goroutines (runtime.Gosched): the peer may be waiting for this very
// CPU to send what the caller waits for.
func yieldCPU() { unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0) }

// affinityEvery is how long oneCPU trusts what sched_getaffinity said: a
// process may be pinned after it started (taskset -p, as the benchmarks do).
const affinityEvery = 10 * time.Millisecond

var (
	affinityDue atomic.Int64 // sched.Since() of the next sched_getaffinity
	onlyOneCPU  atomic.Bool
)

// oneCPU reports whether the calling thread may run on one CPU only, as
// sched_getaffinity said within the last affinityEvery. A peer that shares
// that CPU runs only when this thread lets go of it (see yieldsFirst); the
// peer may also have a CPU of its own.
func oneCPU() bool {
	if now := int64(sched.Since()); now >= affinityDue.Load() {
		affinityDue.Store(now + int64(affinityEvery))
		var set unix.CPUSet
		onlyOneCPU.Store(unix.SchedGetaffinity(0, &set) == nil && set.Count() == 1)
	}
	return onlyOneCPU.Load()
}
