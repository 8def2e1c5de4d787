package mpi_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/mpi"
	"github.com/goipc/ipc/mpi/mpitest"
)

func init() { children["bench-file"] = childBenchFile }

// BenchmarkFileWrite measures the collective write bandwidth of a 256 MiB
// file, written by two ranks through subarray views with one WriteAtAll
// each, in Go and in C (csrc/mpi_io_bench.c) in the same run. Each side is a
// two-rank job that writes the file five times and reports its best round,
// timed from a barrier to the slowest rank's return (the page cache's
// speed: no Sync), as MB/s; the file is in the benchmark's temporary
// directory and deleted by the job.
//
//	go test -run '^$' -bench FileWrite -benchtime 1x ./mpi
func BenchmarkFileWrite(b *testing.B) {
	const mib, rounds = "256", "5"
	b.Run("go", func(b *testing.B) {
		var r mpitest.Result
		for b.Loop() {
			path := filepath.Join(b.TempDir(), "bench")
			r = mpitest.Must(b, childEnv("bench-file"), mpitest.App{N: 2, Argv: []string{os.Args[0], path, mib, rounds}})
		}
		report(b, r.Stdout)
	})
	b.Run("c", func(b *testing.B) {
		bench := testutil.BuildC(b, "mpi_io_bench", mpitest.CFlags(b)...)
		var r mpitest.Result
		for b.Loop() {
			path := filepath.Join(b.TempDir(), "bench")
			r = mpitest.Must(b, nil, mpitest.App{N: 2, Argv: []string{bench, path, mib, rounds}})
		}
		report(b, r.Stdout)
	})
}

// childBenchFile is the Go side of BenchmarkFileWrite, with the protocol
// and output of mpi_io_bench: PATH MiB ROUNDS.
func childBenchFile(args []string) error {
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		return err
	}
	w := mpi.World()
	mib, err1 := strconv.Atoi(args[1])
	rounds, err2 := strconv.Atoi(args[2])
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	total := mib << 20 / 8
	n := total / w.Size()
	buf := make([]float64, n)
	for i := range buf {
		buf[i] = float64(w.Rank()*n + i)
	}
	f, err := mpi.Open(w, args[0], mpi.ModeCreate|mpi.ModeWriteOnly, nil)
	if err != nil {
		return err
	}
	f64, err := mpi.TypeOf[float64]()
	if err != nil {
		return err
	}
	block, err := mpi.Subarray([]int{total}, []int{n}, []int{w.Rank() * n}, mpi.OrderC, f64)
	if err != nil {
		return err
	}
	if err := errors.Join(block.Commit(), f.SetView(0, f64, block, mpi.Native, nil)); err != nil {
		return err
	}
	best := 0.0
	slowest := []float64{0}
	for range rounds {
		if err := mpi.Barrier(w); err != nil {
			return err
		}
		start := mpi.Wtime()
		if _, err := mpi.WriteAtAll(f, buf, 0); err != nil {
			return err
		}
		if err := mpi.Allreduce(w, []float64{(mpi.Wtime() - start).Seconds()}, slowest, mpi.Max); err != nil {
			return err
		}
		if best == 0 || slowest[0] < best {
			best = slowest[0]
		}
	}
	if err := errors.Join(f.Close(), block.Free()); err != nil {
		return err
	}
	if w.Rank() == 0 {
		if err := mpi.Delete(args[0], nil); err != nil {
			return err
		}
		fmt.Printf("write-all-%dMiB %.0f MB/s\n", mib, float64(mib<<20)/best/1e6)
	}
	return mpi.Finalize()
}
