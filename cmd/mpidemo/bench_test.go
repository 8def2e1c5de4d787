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

// figure names one figure of a job: of a size, and of a kind ("" for the
// program's own figure).
type figure struct {
	kind string
	size int
}

// benchTable runs the programs as the comment at the top says; figures
// turns a job's output into its figures.
func benchTable(b *testing.B, python bool, unit string, figures func(testing.TB, string) map[figure]float64, args ...string) {
	progs := programs(python)
	var jobs [][]map[figure]float64 // by program, then job
	for b.Loop() {
		jobs = make([][]map[figure]float64, len(progs))
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
	for f := range jobs[0][0] {
		for k, p := range progs {
			var vs, ratios []float64
			for job, figs := range jobs[k] {
				vs = append(vs, figs[f])
				ratios = append(ratios, figs[f]/jobs[c][job][f])
			}
			b.ReportMetric(quantile(vs, 0.5), fmt.Sprintf("%s-%s%s@%dB", p.name, unit, f.kind, f.size))
			if k != c {
				b.ReportMetric(quantile(ratios, 0.5), fmt.Sprintf("%s/c%s@%dB", p.name, f.kind, f.size))
				b.ReportMetric(slices.Min(ratios), fmt.Sprintf("%s/c%s-lo@%dB", p.name, f.kind, f.size))
				b.ReportMetric(slices.Max(ratios), fmt.Sprintf("%s/c%s-hi@%dB", p.name, f.kind, f.size))
			}
		}
	}
}

// rows is table for benchTable: the program's figure of each size.
func rows(t testing.TB, out string) map[figure]float64 {
	figs := map[figure]float64{}
	for size, v := range table(t, out) {
		figs[figure{"", size}] = v
	}
	return figs
}

// quantile returns the q-quantile of vs (0.5 the median, of the two middle
// ones the lower); it sorts vs.
func quantile(vs []float64, q float64) float64 {
	slices.Sort(vs)
	return vs[int(q*float64(len(vs)-1))]
}

func BenchmarkPingpong(b *testing.B) {
	benchTable(b, true, "us", rows, "pingpong", "--sizes", "8,1MiB", "--iters", "20000")
}

// BenchmarkBandwidth runs the window as an MPI_Isend or MPI_Irecv per
// message (isend) and as persistent requests started in one MPI_Startall
// (persistent), each program the same way. A job's figures for a size come
// from the time of each window (--samples): its bandwidth over all windows,
// what the table would say (go/c@8192B), and the bandwidth of its fastest
// tenth of windows (the 10th percentile, go/c-fast@8192B). On a machine that
// other jobs share, a window during which the scheduler took either rank's
// core away takes a whole time slice longer, and at a load of 4 on 2 cores
// even the median window was one of those; the fastest tenth are the windows
// nothing interrupted, which compares Go's calls with C's, but it also
// leaves out what happens once in many windows, such as Go's yields to the
// scheduler every 2ms (see "Performance" in package mpi), which the first
// figure counts.
func BenchmarkBandwidth(b *testing.B) {
	args := []string{"bw", "--sizes", "8KiB,1MiB", "--iters", "1000", "--window", strconv.Itoa(bwWindow), "--samples"}
	b.Run("isend", func(b *testing.B) { benchTable(b, false, "MB/s", windows, args...) })
	b.Run("persistent", func(b *testing.B) { benchTable(b, false, "MB/s", windows, append(args, "--persistent")...) })
}

// bwWindow is BenchmarkBandwidth's window, the programs' default.
const bwWindow = 64

// windows turns the samples of bw, "SIZE NS" a window, into the bandwidth
// over all windows of each size and that of its 10th-percentile window
// ("-fast"), in MB/s.
func windows(t testing.TB, out string) map[figure]float64 {
	t.Helper()
	figs := map[figure]float64{}
	for size, ns := range sizedRows(t, out) {
		bytes := float64(size*bwWindow) * 1e3 // per ns is GB/s: this is MB/s
		var total float64
		for _, t := range ns {
			total += t
		}
		figs[figure{"", size}] = bytes * float64(len(ns)) / total
		figs[figure{"-fast", size}] = bytes / quantile(ns, 0.1)
	}
	return figs
}
