package main

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/mpi/mpitest"
)

// The benchmarks run the real programs under mpiexec, Go beside the C
// baseline (csrc/mpi_bench.c) and, for latency, mpi4py (csrc/mpi_latency.py),
// in one `go test -bench` run, and report the figures the programs measure
// with MPI_Wtime: one-way latency in µs and bandwidth in MB/s for each size.
// ns/op is the cost of a whole mpiexec job and means nothing here.
//
//	go test -run '^$' -bench . ./cmd/mpidemo               # Open MPI
//	go test -run '^$' -bench . -tags mpich ./cmd/mpidemo   # MPICH

type program struct {
	name string
	app  func(b *testing.B, args ...string) mpitest.App
}

func programs(python bool) []program {
	progs := []program{
		{"go", func(_ *testing.B, args ...string) mpitest.App { return mpidemo(2, args...) }},
		{"c", func(b *testing.B, args ...string) mpitest.App {
			return mpitest.App{N: 2, Argv: append([]string{testutil.BuildC(b, "mpi_bench", mpitest.CFlags(b)...)}, args...)}
		}},
	}
	if python && mpitest.Impl == "openmpi" {
		progs = append(progs, program{"python", func(b *testing.B, args ...string) mpitest.App {
			script := filepath.Join(testutil.RepoRoot(), "csrc", "mpi_latency.py")
			return mpitest.App{N: 2, Argv: append([]string{testutil.RequirePython(b, "mpi4py", "numpy"), script}, args[1:]...)}
		}})
	}
	return progs
}

func benchTable(b *testing.B, python bool, unit string, args ...string) {
	for _, p := range programs(python) {
		b.Run(p.name, func(b *testing.B) {
			var rows map[int]float64
			for b.Loop() {
				rows = table(b, mpitest.Must(b, env, p.app(b, args...)).Stdout)
			}
			for size, v := range rows {
				b.ReportMetric(v, fmt.Sprintf("%s@%dB", unit, size))
			}
		})
	}
}

func BenchmarkPingpong(b *testing.B) {
	benchTable(b, true, "us", "pingpong", "--sizes", "8,1MiB", "--iters", "20000")
}

func BenchmarkBandwidth(b *testing.B) {
	benchTable(b, false, "MB/s", "bw", "--sizes", "8KiB,1MiB", "--iters", "1000")
}
