package sysv_test

import (
	"context"
	"fmt"
	"os/exec"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/sysv"
)

// BenchmarkPingPong measures round trips between this process and an echo
// peer (the test binary re-executed) over a queue and over a segment with
// semaphores as doorbells, and the same protocol in csrc/sysv_peer.c, and
// reports the medians and 99th percentiles and Go's ratios to C. Package sysv
// blocks in the kernel at once, as the C baseline "c-block" does: Go against
// c-block is the cost of the binding. "c-spin" first tries again without
// blocking for up to 20 us, as package posix does, to show what spinning
// would change. Go and C take turns, so that both meet the same load on a
// shared machine.
//
// Every process of a run is pinned to one CPU (children inherit it). Across
// two CPUs a round trip waits for an idle CPU to wake, which on a virtual
// machine costs tens of microseconds or not depending on what else runs: the
// same C program measured 6 us or 45 us from one minute to the next. On one
// CPU both languages pay for the IPC and their own overhead only.
//
//	go test -run '^$' -bench PingPong -benchtime 20000x ./sysv
func BenchmarkPingPong(b *testing.B) {
	for _, mech := range []string{"msg", "shm"} {
		for _, size := range []int{8, 4096} {
			b.Run(fmt.Sprintf("%s/%dB", mech, size), func(b *testing.B) {
				pinBenchmark(b)
				var roundTrip func() error
				if mech == "msg" {
					roundTrip = msgPingPong(b, size)
				} else {
					roundTrip = shmPingPong(b, size)
				}
				var lat testutil.Latencies
				b.ReportAllocs()
				b.ResetTimer()
				b.StopTimer()
				testutil.Turns(b.N, 4, func(n int) {
					// 1000 untimed round trips first, as the C program does.
					lat.Add("go", testutil.TimeTrips(b, 1000, n, roundTrip)...)
					lat.Add("c-block", cPingPong(b, mech, size, n)...)
					lat.Add("c-spin", cPingPong(b, mech, size, n, "spin")...)
				})
				lat.Report(b, "go/c-block", "go/c-spin")
			})
		}
	}
}

// pinToBenchCPU pins this process to the last CPU it may use, where the
// benchmarks run; the echo children call it.
func pinToBenchCPU() error {
	_, err := testutil.PinProcess(-1)
	return err
}

// pinBenchmark pins this process, and so the C baseline it starts, to the
// benchmarks' CPU until the benchmark ends.
func pinBenchmark(b *testing.B) {
	restore, err := testutil.PinProcess(-1)
	if err != nil {
		b.Fatalf("pin to one CPU: %v", err)
	}
	b.Cleanup(restore)
}

// msgPingPong starts an echo peer on a new queue and returns one round trip:
// send type 1, receive the echo as type 2.
func msgPingPong(b *testing.B, size int) func() error {
	q := newQueue(b)
	p := testutil.Start(b, echoChild("echo-msg", q.Key().String()))
	p.Expect("ready")
	b.Cleanup(func() { q.Remove(); p.Wait() }) // the peer exits on EIDRM
	msg, buf := make([]byte, size), make([]byte, size)
	ctx := context.Background()
	return func() error {
		if err := q.Send(ctx, 1, msg, 0); err != nil {
			return err
		}
		_, _, err := q.Receive(ctx, buf, 2, 0)
		return err
	}
}

// shmPingPong starts an echo peer on a new segment and semaphore pair and
// returns one round trip: write, ring semaphore 0, wait on 1, read.
func shmPingPong(b *testing.B, size int) func() error {
	m, s := newSegment(b, size), newSemSet(b, 2)
	p := testutil.Start(b, echoChild("echo-shm", m.Key().String(), s.Key().String(), strconv.Itoa(size)))
	p.Expect("ready")
	b.Cleanup(func() { s.Remove(); p.Wait() })
	mem, err := m.Attach(0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Detach(mem) })
	buf := make([]byte, size)
	ctx := context.Background()
	return func() error {
		copy(mem, buf)
		if err := s.Op(ctx, sysv.SemOp{Num: 0, Delta: 1}); err != nil {
			return err
		}
		if err := s.Op(ctx, sysv.SemOp{Num: 1, Delta: -1}); err != nil {
			return err
		}
		copy(buf, mem)
		return nil
	}
}

// echoChild is the Go echo peer, with this process's GOMAXPROCS rather than
// the 1 its runtime would choose on the one CPU it inherits.
func echoChild(name string, args ...string) *exec.Cmd {
	cmd := testutil.Child(name, args...)
	cmd.Env = append(cmd.Env, fmt.Sprintf("GOMAXPROCS=%d", runtime.GOMAXPROCS(0)))
	return cmd
}

// cPingPong runs n round trips of the C baseline, with mode ("spin") if given,
// and returns them.
func cPingPong(b *testing.B, mech string, size, n int, mode ...string) []time.Duration {
	c := testutil.BuildC(b, "sysv_peer")
	args := append([]string{"bench-" + mech, strconv.Itoa(size), strconv.Itoa(n)}, mode...)
	return testutil.CSamples(b, n, exec.Command(c, args...))
}

// BenchmarkFastPath measures calls that proceed at once (a message queued, a
// semaphore above zero) with each kind of context: one that can end must cost
// what context.Background costs, neither allocating nor locking a thread.
//
//	go test -run '^$' -bench FastPath ./sysv
func BenchmarkFastPath(b *testing.B) {
	q, s := newQueue(b), newSemSet(b, 1)
	msg, buf := make([]byte, 64), make([]byte, 64)
	for _, name := range []string{"Background", "WithCancel", "WithTimeout"} {
		ctx := testutil.Contexts(b)[name]
		b.Run("msg/"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := q.Send(ctx, 1, msg, 0); err != nil {
					b.Fatal(err)
				}
				if _, _, err := q.Receive(ctx, buf, 1, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("sem/"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Op(ctx, sysv.SemOp{Delta: 1}); err != nil {
					b.Fatal(err)
				}
				if err := s.Op(ctx, sysv.SemOp{Delta: -1}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
