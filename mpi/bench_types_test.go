package mpi_test

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/mpi"
	"github.com/goipc/ipc/mpi/mpitest"
)

func init() {
	children["bench-struct"] = childBenchStruct
	children["bench-overlap"] = childBenchOverlap
}

// particles1MiB is how many 40-byte particles make 1 MiB (less 16 bytes).
const particles1MiB = (1 << 20) / 40

// BenchmarkStructSend measures a 1 MiB []particle sent through its struct
// datatype, as a ping-pong between two ranks, in Go and in C
// (csrc/mpi_particle.c --bench) in the same run, and what a Send of one
// struct to ProcNull costs beside a Send of a predefined type of the same
// size (no reflection after the first call), and what packing the records
// costs on its own (c-pack).
//
//	go test -run '^$' -bench StructSend ./mpi
func BenchmarkStructSend(b *testing.B) {
	b.Run("go", func(b *testing.B) {
		var r mpitest.Result
		for b.Loop() {
			r = mpitest.Must(b, childEnv("bench-struct"), mpitest.App{N: 2, Argv: []string{os.Args[0]}})
		}
		report(b, r.Stdout)
	})
	c := func(ranks int, args ...string) func(*testing.B) {
		return func(b *testing.B) {
			peer := testutil.BuildC(b, "mpi_particle", mpitest.CFlags(b)...)
			var r mpitest.Result
			for b.Loop() {
				r = mpitest.Must(b, nil, mpitest.App{N: ranks, Argv: append([]string{peer}, args...)})
			}
			report(b, r.Stdout)
		}
	}
	b.Run("c", c(2, "--bench", "50"))
	// The floor under both when the library packs (MPICH 4.0's dataloop
	// does, at about 0.9 ms a MiB each way): MPI_Pack and MPI_Unpack of the
	// same records on one rank, with C's datatype and with Go's.
	b.Run("c-pack", c(1, "--pack", "40"))
}

// childBenchStruct is the Go side of BenchmarkStructSend, with the protocol
// of mpi_particle --bench: 5 warm-up round trips, then 50 timed ones.
func childBenchStruct([]string) error {
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		return err
	}
	w := mpi.World()
	ps := make([]particle, particles1MiB)
	other := 1 - w.Rank()
	var failed error
	roundTrip := func() {
		if w.Rank() == 0 {
			failed = errors.Join(failed, mpi.Send(w, ps, other, 1))
			_, err := mpi.Recv(w, ps, other, 1)
			failed = errors.Join(failed, err)
		} else {
			_, err := mpi.Recv(w, ps, other, 1)
			failed = errors.Join(failed, err, mpi.Send(w, ps, other, 1))
		}
	}
	for range 5 {
		roundTrip()
	}
	const iters = 50
	start := mpi.Wtime()
	for range iters {
		roundTrip()
	}
	half := float64(mpi.Wtime()-start) / iters / 2
	if w.Rank() == 0 {
		fmt.Printf("pingpong-1MiB-struct %.0f ns\n", half)
		// The per-call cost: one 40-byte struct against five float64.
		one, five := make([]particle, 1), make([]float64, 5)
		for _, c := range []struct {
			name string
			call func() error
		}{
			{"procnull-send-float64x5", func() error { return mpi.Send(w, five, mpi.ProcNull, 0) }},
			{"procnull-send-struct", func() error { return mpi.Send(w, one, mpi.ProcNull, 0) }},
		} {
			const n = 1000000
			start := mpi.Wtime()
			for range n {
				failed = errors.Join(failed, c.call())
			}
			fmt.Printf("%s %.1f ns\n%s %g allocs\n", c.name, float64(mpi.Wtime()-start)/n, c.name, testing.AllocsPerRun(1000, func() { c.call() }))
		}
	}
	return errors.Join(failed, mpi.Finalize())
}

// BenchmarkOverlap reports, from a two-rank job: a persistent Start/Wait
// round of an 8-byte exchange against the same with Isend and Irecv; and an
// Iallreduce of 1 MiB overlapped with about as long a computation, against a
// blocking Allreduce followed by the computation. Neither library runs a
// progress thread by default, so the overlapped computation tests the
// request between its 16 chunks, as an MPI code does, to let MPI progress.
//
//	go test -run '^$' -bench Overlap ./mpi
func BenchmarkOverlap(b *testing.B) {
	var r mpitest.Result
	for b.Loop() {
		r = mpitest.Must(b, childEnv("bench-overlap"), mpitest.App{N: 2, Argv: []string{os.Args[0]}})
	}
	report(b, r.Stdout)
}

// compute is work that touches no MPI buffer: n steps of a dependent chain.
func compute(n int) float64 {
	x := 1.0
	for i := range n {
		x = x*1.0000001 + float64(i&1)
	}
	return x
}

var sink float64

func childBenchOverlap([]string) error {
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		return err
	}
	w := mpi.World()
	other := 1 - w.Rank()
	out, in := make([]byte, 8), make([]byte, 8)
	send, err1 := mpi.SendInit(w, out, other, 2)
	recv, err2 := mpi.RecvInit(w, in, other, 2)
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	var failed error
	timed := func(name string, n int, round func()) {
		for range n / 10 {
			round()
		}
		failed = errors.Join(failed, mpi.Barrier(w))
		start := mpi.Wtime()
		for range n {
			round()
		}
		if w.Rank() == 0 {
			fmt.Printf("%s %.0f ns\n", name, float64(mpi.Wtime()-start)/float64(n))
		}
	}
	timed("persistent-round", 5000, func() {
		failed = errors.Join(failed, mpi.StartAll(recv, send))
		_, err1 := recv.Wait()
		_, err2 := send.Wait()
		failed = errors.Join(failed, err1, err2)
	})
	timed("isend-irecv-round", 5000, func() {
		r, err1 := mpi.Irecv(w, in, other, 2)
		s, err2 := mpi.Isend(w, out, other, 2)
		_, err3 := mpi.WaitAll(r, s)
		failed = errors.Join(failed, err1, err2, err3)
	})
	failed = errors.Join(failed, send.Free(), recv.Free())

	local, global := make([]float64, 1<<17), make([]float64, 1<<17)
	// Calibrate the computation to about one blocking Allreduce.
	start := mpi.Wtime()
	for range 10 {
		failed = errors.Join(failed, mpi.Allreduce(w, local, global, mpi.Sum))
	}
	per := mpi.Wtime() - start
	steps := 1000
	for t0 := mpi.Wtime(); ; steps *= 2 {
		t0 = mpi.Wtime()
		sink += compute(steps)
		if mpi.Wtime()-t0 >= per/10 {
			break
		}
	}
	// Both ranks must agree on the work, or one waits for the other.
	agreed := []int{steps}
	failed = errors.Join(failed, mpi.Allreduce(w, agreed, agreed, mpi.Max))
	steps = agreed[0]
	timed("allreduce-then-compute", 20, func() {
		failed = errors.Join(failed, mpi.Allreduce(w, local, global, mpi.Sum))
		sink += compute(steps)
	})
	timed("iallreduce-overlapped", 20, func() {
		r, err := mpi.Iallreduce(w, local, global, mpi.Sum)
		for range 16 {
			sink += compute(steps / 16)
			if err == nil {
				_, _, err = r.Test()
			}
		}
		if err == nil {
			_, err = r.Wait()
		}
		failed = errors.Join(failed, err)
	})
	return errors.Join(failed, mpi.Finalize())
}
