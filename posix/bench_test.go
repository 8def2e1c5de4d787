package posix_test

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"testing"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/posix"
)

// BenchmarkPingPong times round trips between two processes, over a pair of
// POSIX queues and over POSIX shared memory with two semaphores as doorbells,
// and runs the same protocol in C (csrc/posix_pingpong.c) twice: blocking at
// once in the kernel ("c-block"), and spinning first as this package does
// (posix/shortwait.go) before it blocks ("c-spin"). Go against c-spin is the
// cost of the binding; c-block against c-spin is the effect of spinning. The
// three take turns, so that they meet the same load on a shared machine. It
// reports the median and 99th percentile round trip of each and Go's ratios to
// both C variants:
//
//	go test -run '^$' -bench PingPong -benchtime 20000x ./posix/
func BenchmarkPingPong(b *testing.B) {
	cbin := testutil.BuildC(b, "posix_pingpong", "-lrt", "-pthread")
	for _, mech := range []string{"mq", "shm"} {
		for _, size := range []int{8, 4096} {
			b.Run(fmt.Sprintf("%s/%dB", mech, size), func(b *testing.B) {
				var trip func() error
				if mech == "mq" {
					trip = pingPongMQ(b, size)
				} else {
					trip = pingPongShm(b, size)
				}
				var lat testutil.Latencies
				b.ReportAllocs()
				b.ResetTimer()
				b.StopTimer()
				testutil.Turns(b.N, turns, func(n int) {
					lat.Add("go", testutil.TimeTrips(b, warmup, n, trip)...)
					for _, mode := range []string{"block", "spin"} {
						c := exec.Command(cbin, mech, mode, strconv.Itoa(size), strconv.Itoa(n))
						lat.Add("c-"+mode, testutil.CSamples(b, n, c)...)
					}
				})
				lat.Report(b, "go/c-block", "go/c-spin")
			})
		}
	}
}

const (
	turns  = 4
	warmup = 200 // untimed round trips before each turn, as the C program does
)

// pingPongMQ starts an echo peer on a new pair of queues and returns one
// round trip.
func pingPongMQ(b *testing.B, size int) func() error {
	ping, pong := newQueue(b, 1, size), newQueue(b, 1, size)
	echo := testutil.Start(b, testutil.Child("mq-echo", ping.Name(), pong.Name()))
	echo.Expect("ready")
	ctx := context.Background()
	buf := make([]byte, size)
	return func() error {
		if err := ping.Send(ctx, buf, 0); err != nil {
			return err
		}
		_, _, err := pong.Receive(ctx, buf)
		return err
	}
}

// pingPongShm starts an echo peer on a new segment with two semaphores and
// returns one round trip.
func pingPongShm(b *testing.B, size int) func() error {
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
	return func() error {
		copy(data, buf)
		if err := ping.Post(); err != nil {
			return err
		}
		if err := pong.Wait(ctx); err != nil {
			return err
		}
		copy(buf, data)
		return nil
	}
}
