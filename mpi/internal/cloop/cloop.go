// Package cloop is the C baseline of package mpi's BenchmarkBandwidthSameRanks:
// mpi_bench's bandwidth loop (csrc/mpi_bench.c bw), plain C calling MPI
// directly, that a rank enters with one cgo call per block of windows, so
// that the Go loop and the C loop take turns in the same two processes.
//
// It is internal so that nothing of it enters package mpi's API, and a
// package of its own because test files cannot use cgo. It calls MPI on
// MPI_COMM_WORLD, which package mpi has initialised (mpi.Init), from the
// goroutine that called mpi.Init.
package cloop

// #include <stdlib.h>
// #include "cloop.h"
import "C"

import (
	"errors"
	"fmt"
	"time"
	"unsafe"

	"github.com/goipc/ipc/internal/sched"
)

// Loop moves windows of messages of one size from rank 0 to rank 1
// of MPI_COMM_WORLD, each window followed by a 4-byte ack, in C memory.
type Loop struct {
	l *C.goipc_cloop
}

// New sets up the loop of this rank (sender is rank 0): the buffer, the
// request array and, if persistent, the window's persistent requests
// (MPI_Send_init or MPI_Recv_init), which Free releases.
func New(sender bool, size, window int, persistent bool) (*Loop, error) {
	if size < 1 || window < 1 {
		return nil, fmt.Errorf("cloop: size %d and window %d must be positive", size, window)
	}
	l := (*C.goipc_cloop)(C.calloc(1, C.sizeof_goipc_cloop))
	if l == nil {
		return nil, fmt.Errorf("cloop: out of memory")
	}
	l.sender, l.size, l.window, l.persistent = cbool(sender), C.int(size), C.int(window), cbool(persistent)
	lp := &Loop{l}
	if err := mpiErr("init", C.goipc_cloop_init(l)); err != nil {
		return nil, errors.Join(err, lp.Free())
	}
	return lp, nil
}

// Buf returns the loop's buffer, C memory that every message of the loop
// is sent from or received into; it is valid until Free, and must not be
// touched while Run runs.
func (lp *Loop) Buf() []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(lp.l.buf)), int(lp.l.size))
}

// Run moves windows windows in one cgo call and returns the time they took
// by MPI_Wtime, measured in C.
func (lp *Loop) Run(windows int) (time.Duration, error) {
	var s C.double
	err := mpiErr("run", C.goipc_cloop_run(lp.l, C.int(windows), &s))
	return time.Duration(float64(s) * 1e9), err
}

// Crossing is the loop with its MPI calls made from Go, one cgo call each
// (each MPI_Isend or MPI_Irecv, or the window's MPI_Startall, then
// MPI_Waitall and the ack), yielding as package mpi's calls do
// (internal/sched: without the yields, sysmon's preemption of a goroutine
// that never passes through the scheduler takes a quarter of the time):
// the C loop's calls without package mpi's own code around them, so that
// the C loop against this one is what the crossings alone cost beside a
// real peer.
type Crossing struct{ *Loop }

// Run moves windows windows, timed by MPI_Wtime as Loop's Run is.
func (x Crossing) Run(windows int) (time.Duration, error) {
	starts := int(x.l.window)
	if x.l.persistent != 0 {
		starts = 1
	}
	start := C.MPI_Wtime()
	for range windows {
		for j := range starts {
			if err := mpiErr("start", C.goipc_cloop_start(x.l, C.int(j))); err != nil {
				return 0, err
			}
			sched.Tick()
		}
		if err := mpiErr("finish", C.goipc_cloop_finish(x.l)); err != nil {
			return 0, err
		}
		sched.AfterLongCall()
	}
	return time.Duration(float64(C.MPI_Wtime()-start) * 1e9), nil
}

// Free releases the loop; it must run before mpi.Finalize.
func (lp *Loop) Free() error {
	if lp.l == nil {
		return nil
	}
	err := mpiErr("free", C.goipc_cloop_free(lp.l))
	C.free(unsafe.Pointer(lp.l))
	lp.l = nil
	return err
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// mpiErr turns an MPI return code into an error with MPI's own words.
func mpiErr(op string, rc C.int) error {
	if rc == C.MPI_SUCCESS {
		return nil
	}
	var buf [C.MPI_MAX_ERROR_STRING]C.char
	var n C.int
	C.MPI_Error_string(rc, &buf[0], &n)
	return fmt.Errorf("cloop %s: %s (MPI error %d)", op, C.GoStringN(&buf[0], n), int(rc))
}
