package posix_test

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/posix"
)

// BenchmarkPingPong times round trips between two processes, over a pair of
// POSIX queues and over POSIX shared memory with two semaphores as doorbells,
// and runs the same protocol in C (csrc/posix_pingpong.c) in the same
// invocation. It reports the median and 99th percentile round trip of both and
// Go's ratios to C:
//
//	go test -run '^$' -bench PingPong -benchtime 20000x ./posix/
func BenchmarkPingPong(b *testing.B) {
	cbin := testutil.BuildC(b, "posix_pingpong", "-lrt", "-pthread")
	for _, mech := range []string{"mq", "shm"} {
		for _, size := range []int{8, 4096} {
			b.Run(fmt.Sprintf("%s/%dB", mech, size), func(b *testing.B) {
				var rtt []time.Duration
				if mech == "mq" {
					rtt = pingPongMQ(b, size)
				} else {
					rtt = pingPongShm(b, size)
				}
				b.StopTimer()
				goMed, goP99 := percentiles(rtt)
				cMed, cP99 := pingPongC(b, cbin, mech, size, b.N)
				b.ReportMetric(goMed, "go-median-ns")
				b.ReportMetric(goP99, "go-p99-ns")
				b.ReportMetric(cMed, "c-median-ns")
				b.ReportMetric(cP99, "c-p99-ns")
				b.ReportMetric(goMed/cMed, "median-ratio")
				b.ReportMetric(goP99/cP99, "p99-ratio")
			})
		}
	}
}

const warmup = 200

func pingPongMQ(b *testing.B, size int) []time.Duration {
	ping, pong := newQueue(b, 1, size), newQueue(b, 1, size)
	echo := testutil.Start(b, testutil.Child("mq-echo", ping.Name(), pong.Name()))
	echo.Expect("ready")
	ctx := context.Background()
	buf := make([]byte, size)
	trip := func() {
		if err := ping.Send(ctx, buf, 0); err != nil {
			b.Fatal(err)
		}
		if _, _, err := pong.Receive(ctx, buf); err != nil {
			b.Fatal(err)
		}
	}
	return timeTrips(b, trip)
}

func pingPongShm(b *testing.B, size int) []time.Duration {
	m := newShm(b, int64(dataAt+size))
	mem, err := m.Map(posix.ReadWrite)
	if err != nil {
		b.Fatal(err)
	}
	ping, err := posix.InitSemaphore(mem[pingAt:], 0)
	if err != nil {
		b.Fatal(err)
	}
	pong, err := posix.InitSemaphore(mem[pongAt:], 0)
	if err != nil {
		b.Fatal(err)
	}
	echo := testutil.Start(b, testutil.Child("shm-echo", m.Name(), strconv.Itoa(size)))
	echo.Expect("ready")
	ctx := context.Background()
	data, buf := mem[dataAt:dataAt+size], make([]byte, size)
	trip := func() {
		copy(data, buf)
		if err := ping.Post(); err != nil {
			b.Fatal(err)
		}
		if err := pong.Wait(ctx); err != nil {
			b.Fatal(err)
		}
		copy(buf, data)
	}
	return timeTrips(b, trip)
}

// timeTrips runs trip warmup times, then b.N times, timing each.
func timeTrips(b *testing.B, trip func()) []time.Duration {
	for range warmup {
		trip()
	}
	rtt := make([]time.Duration, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		trip()
		rtt[i] = time.Since(start)
	}
	return rtt
}

// pingPongC runs the C baseline and returns its median and p99 in ns.
func pingPongC(b *testing.B, cbin, mech string, size, iters int) (median, p99 float64) {
	out, err := exec.Command(cbin, mech, strconv.Itoa(size), strconv.Itoa(iters)).Output()
	if err != nil {
		b.Fatalf("%s: %v", cbin, err)
	}
	if _, err := fmt.Sscan(string(out), &median, &p99); err != nil {
		b.Fatalf("%s printed %q: %v", cbin, out, err)
	}
	return median, p99
}

func percentiles(rtt []time.Duration) (median, p99 float64) {
	slices.Sort(rtt)
	return float64(rtt[len(rtt)/2]), float64(rtt[len(rtt)*99/100])
}
