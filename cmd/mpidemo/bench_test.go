package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/mpi/mpitest"
)

// The benchmarks run the real programs under mpiexec, Go beside the C
// baseline (csrc/mpi_bench.c) and, for latency, mpi4py (csrc/mpi_latency.py),
// in one `go test -bench` run, and report the figures the programs measure
// with MPI_Wtime: one-way latency in µs and bandwidth in MB/s for each size.
// ns/op is the cost of the whole set of mpiexec jobs and means nothing here.
//
// One figure of one job says little on a shared machine, whose speed changes
// by several times from one second to the next. So each iteration runs reps
// jobs of every program, taking turns (Go, C, then C, Go...), and reports
// per size the median of each program's figures (go-MB/s@8192B) and, for
// each program beside C, the median of the ratios of the jobs run next to
// each other with their lowest and highest (go/c@8192B, go/c-lo@8192B,
// go/c-hi@8192B): a ratio with its spread, from one run.
//
//	go test -run '^$' -bench . -benchtime 1x ./cmd/mpidemo               # Open MPI
//	go test -run '^$' -bench . -benchtime 1x -tags mpich ./cmd/mpidemo   # MPICH

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

// reps is the number of jobs of each program per benchmark iteration.
const reps = 5

// benchTable runs the programs as the comment at the top says; figures
// turns a job's output into a figure per size.
func benchTable(b *testing.B, python bool, unit string, figures func(testing.TB, string) map[int]float64, args ...string) {
	progs := programs(python)
	var jobs [][]map[int]float64 // by program, then job: the figure of each size
	for b.Loop() {
		jobs = make([][]map[int]float64, len(progs))
		for rep := range reps {
			for k := range progs {
				if rep%2 == 1 { // the other way round, so that a drift falls on both
					k = len(progs) - 1 - k
				}
				jobs[k] = append(jobs[k], figures(b, mpitest.Must(b, env, progs[k].app(b, args...)).Stdout))
			}
		}
	}
	c := slices.IndexFunc(progs, func(p program) bool { return p.name == "c" })
	for size := range jobs[0][0] {
		for k, p := range progs {
			var vs, ratios []float64
			for job, rows := range jobs[k] {
				vs = append(vs, rows[size])
				ratios = append(ratios, rows[size]/jobs[c][job][size])
			}
			b.ReportMetric(quantile(vs, 0.5), fmt.Sprintf("%s-%s@%dB", p.name, unit, size))
			if k != c {
				b.ReportMetric(quantile(ratios, 0.5), fmt.Sprintf("%s/c@%dB", p.name, size))
				b.ReportMetric(slices.Min(ratios), fmt.Sprintf("%s/c-lo@%dB", p.name, size))
				b.ReportMetric(slices.Max(ratios), fmt.Sprintf("%s/c-hi@%dB", p.name, size))
			}
		}
	}
}

// quantile returns the q-quantile of vs (0.5 the median, of the two middle
// ones the lower); it sorts vs.
func quantile(vs []float64, q float64) float64 {
	slices.Sort(vs)
	return vs[int(q*float64(len(vs)-1))]
}

func BenchmarkPingpong(b *testing.B) {
	benchTable(b, true, "us", table, "pingpong", "--sizes", "8,1MiB", "--iters", "20000")
}

// BenchmarkBandwidth runs the window as an MPI_Isend or MPI_Irecv per
// message (isend) and as persistent requests started in one MPI_Startall
// (persistent), each program the same way. A job's figure for a size is the
// bandwidth of its fastest tenth of windows (the 10th percentile of the
// times --samples prints): on a machine that other jobs share, a window
// during which the scheduler took either rank's core away takes a whole time
// slice longer, and at a load of 4 on 2 cores even the median window was one
// of those; the fastest tenth are the windows nothing interrupted, which is
// what compares Go's calls with C's. On a quiet machine it differs little
// from the median.
func BenchmarkBandwidth(b *testing.B) {
	args := []string{"bw", "--sizes", "8KiB,1MiB", "--iters", "1000", "--window", strconv.Itoa(bwWindow), "--samples"}
	b.Run("isend", func(b *testing.B) { benchTable(b, false, "MB/s", fastWindows, args...) })
	b.Run("persistent", func(b *testing.B) { benchTable(b, false, "MB/s", fastWindows, append(args, "--persistent")...) })
}

// bwWindow is BenchmarkBandwidth's window, the programs' default.
const bwWindow = 64

// fastWindows turns the samples of bw, "SIZE NS" a window, into the
// bandwidth of each size's 10th-percentile window, in MB/s.
func fastWindows(t testing.TB, out string) map[int]float64 {
	t.Helper()
	bw := map[int]float64{}
	for size, windows := range sizedRows(t, out) {
		bw[size] = float64(size*bwWindow) / quantile(windows, 0.1) * 1e3 // bytes/ns is GB/s
	}
	return bw
}
