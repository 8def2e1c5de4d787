package mpi_test

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/mpi"
	"github.com/goipc/ipc/mpi/mpitest"
)

// BenchmarkProcNull measures what calling MPI from Go costs: an 8-byte Send,
// Isend + Wait, and the same through a reused Requests set, to ProcNull, which MPI completes at once, beside the same
// calls from C (csrc/mpi_bench.c procnull) in the same run. Each side is a
// one-rank job; the figures are theirs (ns/op is the whole job's).
//
//	go test -run '^$' -bench ProcNull ./mpi
func BenchmarkProcNull(b *testing.B) {
	b.Run("go", func(b *testing.B) {
		var r mpitest.Result
		for b.Loop() {
			r = mpitest.Must(b, childEnv("procnull"), mpitest.App{N: 1, Argv: []string{os.Args[0]}})
		}
		report(b, r.Stdout)
	})
	b.Run("c", func(b *testing.B) {
		bench := testutil.BuildC(b, "mpi_bench", mpitest.CFlags(b)...)
		var r mpitest.Result
		for b.Loop() {
			r = mpitest.Must(b, nil, mpitest.App{N: 1, Argv: []string{bench, "procnull"}})
		}
		report(b, r.Stdout)
	})
}

// report turns lines "NAME VALUE UNIT" into metrics UNIT/NAME.
func report(b *testing.B, out string) {
	for line := range strings.Lines(out) {
		if f := strings.Fields(line); len(f) == 3 && f[0] != "#" {
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				b.Fatalf("bad line %q", line)
			}
			b.ReportMetric(v, f[2]+"/"+f[0])
		}
	}
}

// childProcNull times the calls with testing.Benchmark, which runs them on a
// goroutine of its own: hence ThreadMultiple.
func childProcNull([]string) error {
	if _, err := mpi.Init(mpi.ThreadMultiple); err != nil {
		return err
	}
	w, msg := mpi.World(), make([]byte, 8)
	var rs mpi.Requests
	var failed error
	for name, call := range map[string]func() error{
		"send": func() error { return mpi.Send(w, msg, mpi.ProcNull, 0) },
		"isend-wait": func() error {
			r, err := mpi.Isend(w, msg, mpi.ProcNull, 0)
			if err == nil {
				_, err = r.Wait()
			}
			return err
		},
		"requests-isend-waitall": func() error {
			if err := mpi.AddIsend(&rs, w, msg, mpi.ProcNull, 0); err != nil {
				return err
			}
			return rs.WaitAll()
		},
	} {
		res := testing.Benchmark(func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := call(); err != nil {
					failed = err
				}
			}
		})
		fmt.Printf("%s %.1f ns\n%s %d allocs\n", name, float64(res.T.Nanoseconds())/float64(res.N), name, res.AllocsPerOp())
	}
	return errors.Join(failed, mpi.Finalize())
}
