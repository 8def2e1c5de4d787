package mpi_test

import (
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/mpi"
	"github.com/goipc/ipc/mpi/mpitest"
)

// BenchmarkProcNull measures what calling MPI from Go costs: an 8-byte Send
// and Recv, Isend + Wait, the same in a Request of the caller's (IsendInto),
// the same through a reused Requests set (one and
// eight operations a round), and persistent sends in a Persistents set
// (StartAll + WaitAll of one, and of eight), to and from ProcNull, which MPI completes at
// once, beside a cgo call that does nothing (the crossing) and the same MPI
// calls from C (csrc/mpi_bench.c procnull), the two alternating in one run.
// Each side is a one-rank job that reports the fastest of several chunks of
// calls; the metrics are theirs (ns/op is the whole job's), and
// crossings/send-added is (Go - C) / crossing: what Go adds to a call, in
// crossings.
//
//	go test -run '^$' -bench ProcNull ./mpi
func BenchmarkProcNull(b *testing.B) {
	bench := testutil.BuildC(b, "mpi_bench", mpitest.CFlags(b)...)
	var goOut, cOut string
	for b.Loop() {
		goOut = mpitest.Must(b, childEnv("procnull"), mpitest.App{N: 1, Argv: []string{os.Args[0]}}).Stdout
		cOut = mpitest.Must(b, nil, mpitest.App{N: 1, Argv: []string{bench, "procnull"}}).Stdout
	}
	if os.Getenv(procNullOnly) != "" {
		return // one Go call, for perf, with nothing to compare it with
	}
	g, c := metrics(b, "go-", goOut), metrics(b, "c-", cOut)
	for _, call := range []string{"send", "recv", "isend-wait", "start-wait", "startall8-waitall"} {
		b.ReportMetric((g["ns/"+call]-c["ns/"+call])/g["ns/crossing"], "crossings/"+call+"-added")
	}
	// C has one way to Isend and Wait; Go's in a Request of the caller's is
	// the same two calls.
	b.ReportMetric((g["ns/isendinto-wait"]-c["ns/isend-wait"])/g["ns/crossing"], "crossings/isendinto-wait-added")
}

// report turns lines "NAME VALUE UNIT" into metrics UNIT/NAME.
func report(b *testing.B, out string) { metrics(b, "", out) }

// metrics reports lines "NAME VALUE UNIT" as metrics UNIT/prefixNAME and
// returns them by UNIT/NAME.
func metrics(b *testing.B, prefix, out string) map[string]float64 {
	m := map[string]float64{}
	for line := range strings.Lines(out) {
		if f := strings.Fields(line); len(f) == 3 && f[0] != "#" {
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				b.Fatalf("bad line %q", line)
			}
			b.ReportMetric(v, f[2]+"/"+prefix+f[0])
			m[f[2]+"/"+f[0]] = v
		}
	}
	return m
}

// procNullOnly names the one call (send, recv, isendinto-wait...) that
// childProcNull then makes, twenty times as often, for a profile of it
// alone:
//
//	GOIPC_PROCNULL_ONLY=send perf record -e cpu-clock -F 20000 -o send.data -- \
//		go test -run '^$' -bench ProcNull -benchtime 1x ./mpi
//	perf report -i send.data --comm mpi.test --no-children --sort symbol
const procNullOnly = "GOIPC_PROCNULL_ONLY"

// childProcNull times each call a million times, in chunks of which it
// reports the fastest, as mpi_bench procnull does, on the goroutine that
// called Init, at the C program's thread level.
func childProcNull([]string) error {
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		return err
	}
	w, msg := mpi.World(), make([]byte, 8)
	var rs mpi.Requests
	var own mpi.Request
	var one, eight mpi.Persistents
	var failed error
	for i := range 8 {
		if i == 0 {
			failed = mpi.AddSendInit(&one, w, msg, mpi.ProcNull, 0)
		}
		failed = errors.Join(failed, mpi.AddSendInit(&eight, w, msg, mpi.ProcNull, 0))
	}
	isend := func() error { return mpi.AddIsend(&rs, w, msg, mpi.ProcNull, 0) }
	type call struct {
		name string
		ops  int // MPI operations per call, which the times are divided by
		call func() error
	}
	calls := []call{
		{"crossing", 1, func() error { mpi.Crossing(); return nil }},
		{"send", 1, func() error { return mpi.Send(w, msg, mpi.ProcNull, 0) }},
		{"recv", 1, func() error { _, err := mpi.Recv(w, msg, mpi.ProcNull, 0); return err }},
		{"isend-wait", 1, func() error {
			r, err := mpi.Isend(w, msg, mpi.ProcNull, 0)
			if err == nil {
				_, err = r.Wait()
			}
			return err
		}},
		// The same in a Request of the caller's, started again each time.
		{"isendinto-wait", 1, func() error {
			err := mpi.IsendInto(&own, w, msg, mpi.ProcNull, 0)
			if err == nil {
				_, err = own.Wait()
			}
			return err
		}},
		{"requests-isend-waitall", 1, func() error { return errors.Join(isend(), rs.WaitAll()) }},
		// A round of eight on one buffer, as a bandwidth window does.
		{"requests-8isend-waitall", 8, func() error {
			for range 8 {
				if err := isend(); err != nil {
					return err
				}
			}
			return rs.WaitAll()
		}},
		{"start-wait", 1, func() error { return errors.Join(one.StartAll(), one.WaitAll()) }},
		{"startall8-waitall", 8, func() error { return errors.Join(eight.StartAll(), eight.WaitAll()) }},
	}
	// The calls take turns chunk by chunk, so that each call's fastest chunk
	// and the crossing's come from the same stretches of a loaded machine.
	iters, chunks := 1000000, 20
	if only := os.Getenv(procNullOnly); only != "" {
		calls = slices.DeleteFunc(calls, func(c call) bool { return c.name != only })
		iters *= 20
	}
	ns := make([]float64, len(calls))
	for i := range ns {
		ns[i] = math.Inf(1)
	}
	for range chunks {
		for i, c := range calls {
			n := iters / c.ops / chunks
			start := mpi.Wtime()
			for range n {
				if err := c.call(); err != nil {
					failed = err
				}
			}
			ns[i] = min(ns[i], float64(mpi.Wtime()-start)/float64(n*c.ops))
		}
	}
	for i, c := range calls {
		allocs := testing.AllocsPerRun(1000, func() { c.call() })
		fmt.Printf("%s %.1f ns\n%s %g allocs\n", c.name, ns[i], c.name, allocs/float64(c.ops))
	}
	return errors.Join(failed, one.Free(), eight.Free(), mpi.Finalize())
}
