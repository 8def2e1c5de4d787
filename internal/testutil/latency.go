package testutil

import (
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goipc/ipc/internal/sched"
)

// Latencies collects the round trips of the variants of a latency benchmark
// (Go, and the C baselines it is compared with) and reports them as metrics.
// Its zero value is empty and ready to use.
type Latencies struct {
	names   []string
	samples map[string][]time.Duration
}

// Add appends samples to the variant name.
func (l *Latencies) Add(name string, samples ...time.Duration) {
	if l.samples == nil {
		l.samples = make(map[string][]time.Duration)
	}
	if _, ok := l.samples[name]; !ok {
		l.names = append(l.names, name)
	}
	l.samples[name] = append(l.samples[name], samples...)
}

// Report reports the median and 99th percentile of every variant, in the
// order first added, as NAME-median-ns and NAME-p99-ns, then for every ratio
// "A/B" the median and p99 of A divided by those of B, as A/B-median and
// A/B-p99.
func (l *Latencies) Report(b *testing.B, ratios ...string) {
	b.Helper()
	type stats struct{ median, p99 float64 }
	all := make(map[string]stats)
	for _, name := range l.names {
		s := l.samples[name]
		if len(s) == 0 {
			b.Fatalf("latency variant %q has no samples", name)
		}
		slices.Sort(s)
		all[name] = stats{float64(s[len(s)/2]), float64(s[len(s)*99/100])}
		b.ReportMetric(all[name].median, name+"-median-ns")
		b.ReportMetric(all[name].p99, name+"-p99-ns")
	}
	for _, r := range ratios {
		x, y, _ := strings.Cut(r, "/")
		sx, okx := all[x]
		sy, oky := all[y]
		if !okx || !oky {
			b.Fatalf("latency ratio %q: no such variants", r)
		}
		b.ReportMetric(sx.median/sy.median, r+"-median")
		b.ReportMetric(sx.p99/sy.p99, r+"-p99")
	}
}

// Turns splits n round trips into rounds turns and calls turn with the count
// of each, so that variants measured turn about meet the same load on a
// shared machine.
func Turns(n, rounds int, turn func(n int)) {
	for r := range rounds {
		k := n / rounds
		if r < n%rounds {
			k++
		}
		if k > 0 {
			turn(k)
		}
	}
}

// CSamples runs a C baseline that prints each of its n round trips in
// nanoseconds, one per line, and returns them.
func CSamples(b *testing.B, n int, cmd *exec.Cmd) []time.Duration {
	b.Helper()
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("%s: %v", cmd, err)
	}
	samples := make([]time.Duration, 0, n)
	for _, f := range strings.Fields(string(out)) {
		ns, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			b.Fatalf("%s printed %q", cmd, f)
		}
		samples = append(samples, time.Duration(ns))
	}
	if len(samples) != n {
		b.Fatalf("%s printed %d round trips, want %d", cmd, len(samples), n)
	}
	return samples
}

// WarmupTime is the least time the benchmarks warm up for: over a Go
// process's first milliseconds, and again after it idles, its sysmon thread
// polls every 20 µs, and each poll that lands on a spinning peer's CPU costs a
// round trip 20-40 µs (mmap's doc, "Performance").
const WarmupTime = sched.SettleTime

// WarmUp runs trip at least n times and for at least WarmupTime, and returns
// the first error.
func WarmUp(n int, trip func() error) error {
	for i, begin := 0, time.Now(); i < n || time.Since(begin) < WarmupTime; i++ {
		if err := trip(); err != nil {
			return err
		}
	}
	return nil
}

// TimeTrips warms up (WarmUp, at least warmup trips), then runs trip n times
// with b's timer running, and returns how long each of the n took. The first
// error fails b.
func TimeTrips(b *testing.B, warmup, n int, trip func() error) []time.Duration {
	b.Helper()
	if err := WarmUp(warmup, trip); err != nil {
		b.Fatal(err)
	}
	rtt := make([]time.Duration, n)
	b.StartTimer()
	for i := range rtt {
		start := time.Now()
		if err := trip(); err != nil {
			b.Fatal(err)
		}
		rtt[i] = time.Since(start)
	}
	b.StopTimer()
	return rtt
}
