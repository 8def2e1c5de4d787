// Package sched keeps goroutines that loop on cgo calls in step with the Go
// scheduler.
//
// A goroutine that only calls into C never passes through the scheduler. Once
// it has run for 10ms on one scheduling tick, the runtime's monitor thread
// (sysmon) treats it as hogging its P: each time it finds the goroutine in a
// cgo call it asks for a preemption that never lands, takes the P away and
// wakes another thread for it. Every return from C then waits for a P, often
// on another thread: the System V ping-pong saw stalls of ~30 us in one round
// trip of ten, and a 1 MiB MPI ping-pong 1,200 to 2,400 hand-offs in 8,800
// calls (counted with uprobes on runtime.handoffp). runtime.Gosched starts a
// new tick for ~0.2 us, so the calls that loop yield now and then, by time:
// read every so many calls when calls are short (Tick, CallDue), and
// read after every call when calls may be long (AfterLongCall).
package sched

import (
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Tick counts one short cgo call and, once the count says the clock is due
// (CallDue), yields unless a call did within the last YieldEvery. A yield by
// count alone (every 64th call, as Tick did before) cost a slow round trip
// each time, as runtime.Gosched wakes an idle thread (runtime.startm) that
// takes the CPU from the peer: with round trips of 5-10us that was one in
// 32, where the System V queue's p95 sat. By time it is one in some 250, and
// still well inside the 10ms after which sysmon takes a P whose goroutine
// never passed through the scheduler.
func Tick() {
	if CallDue() {
		AfterLongCall()
	}
}

// SettleTime is about how long sysmon takes to back off after it last took a
// P (as during any long call, MPI_Init's at the latest): it looks every 20µs
// until 50 looks in a row found nothing to do, then doubles its sleep up to
// 10ms. A benchmark that starts timing sooner measures those looks.
const SettleTime = 20 * time.Millisecond

// YieldEvery is the longest AfterLongCall lets pass between yields.
const YieldEvery = 2 * time.Millisecond

var (
	epoch     = time.Now()
	lastYield atomic.Int64 // Since() at the last yield
)

// Since is the time since the process started using this package: a
// monotonic clock whose readings fit an atomic.Int64, for the packages that
// keep deadlines of their own on it.
func Since() time.Duration { return time.Since(epoch) }

// clockEvery is how many calls CallDue lets pass between readings of the
// clock: calls of a microsecond read it every 64µs or so, for well under a
// nanosecond a call.
const clockEvery = 64

var calls atomic.Uint32

// CallDue counts one cgo call and reports, once every clockEvery calls, that
// the caller should now call AfterLongCall. A goroutine that loops on short
// calls must yield now and then, since from 10ms after it last passed
// through the scheduler sysmon takes its P at every look, and then looks
// every 20-100µs, each time waking threads on the process's CPU; but a
// yield costs a slow call (Tick says why), and a yield of a goroutine locked
// to its thread (MPI's) hands the thread to another and back, tens of
// microseconds. Tick calls it; MPI, which yields on its own slow path, calls
// it directly.
func CallDue() bool {
	// Load and Store, not Add: a count lost between concurrent callers only
	// delays a yield. On amd64 the Store is still an xchg, a locked
	// instruction, 13% of an MPI Send under perf: MPI's hottest calls count
	// in C instead (shim.h, GOIPC_COUNTED).
	n := calls.Load() + 1
	calls.Store(n)
	return n%clockEvery == 0
}

// AfterLongCall yields unless a call did within the last YieldEvery. It reads
// the clock (tens of ns), so it suits calls that take microseconds or more.
// The clock is the process's: goroutines that make long calls at once share
// the yields, which is enough while they are few.
func AfterLongCall() {
	now := Since()
	if now-time.Duration(lastYield.Load()) >= YieldEvery {
		lastYield.Store(int64(now))
		yield()
	}
}

// yield is runtime.Gosched; the tests count the yields.
var yield = runtime.Gosched

// SpareP gives a process that may run on one CPU only a second P
// (GOMAXPROCS 2), unless the GOMAXPROCS environment variable chooses. With
// one P there is never an idle one, so sysmon takes the P of a goroutine in
// a cgo call that outlasts two of its looks (20µs each) and wakes a thread
// for it, on that same CPU, which finds nothing to do and sleeps again: the
// C call waits for its CPU while that happens, and the return from C waits
// for a P. With an idle P beside it, sysmon leaves a call shorter than 10ms
// alone: an MPI rank, which launchers bind to one core, is the case (see
// package mpi's documentation). It reads the CPUs it may run on as well as
// GOMAXPROCS, for a binding made after the runtime started (by MPI_Init),
// which the runtime would only notice later.
func SpareP() {
	if os.Getenv("GOMAXPROCS") != "" {
		return
	}
	var cpus unix.CPUSet
	if runtime.GOMAXPROCS(0) == 1 || unix.SchedGetaffinity(0, &cpus) == nil && cpus.Count() == 1 {
		runtime.GOMAXPROCS(2)
	}
}
