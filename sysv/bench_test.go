package sysv_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/sysv"
)

// BenchmarkPingPong measures round trips between this process and an echo
// peer (the test binary re-executed) over a queue and over a segment with
// semaphores as doorbells, and the same protocol in csrc/sysv_peer.c, and
// reports both medians and 99th percentiles and their ratios. Go and C take
// turns in blocks, so that both meet the same load on a shared machine.
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
				const blocks = 4
				rtt := make([]int64, b.N)
				var cRTT []int64
				b.ReportAllocs()
				b.ResetTimer()
				for block := range blocks {
					b.StopTimer()
					for range 1000 { // untimed, as the C program warms up
						if err := roundTrip(); err != nil {
							b.Fatal(err)
						}
					}
					b.StartTimer()
					for i := block * b.N / blocks; i < (block+1)*b.N/blocks; i++ {
						t0 := time.Now()
						if err := roundTrip(); err != nil {
							b.Fatal(err)
						}
						rtt[i] = int64(time.Since(t0))
					}
					b.StopTimer()
					cRTT = append(cRTT, cPingPong(b, mech, size, max(b.N/blocks, 250))...)
					b.StartTimer()
				}
				b.StopTimer()
				goMed, goP99 := percentiles(rtt)
				cMed, cP99 := percentiles(cRTT)
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

// benchCPU is the CPU the benchmarks run on: the last one this process may use.
func benchCPU() int {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return 0
	}
	cpu := 0
	for i := range 1024 {
		if set.IsSet(i) {
			cpu = i
		}
	}
	return cpu
}

// pinThreads sets the CPU affinity of every thread of this process (new
// threads inherit it from the thread that makes them) and returns the
// previous mask.
func pinThreads(set *unix.CPUSet) (old unix.CPUSet, err error) {
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		return old, err
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return old, err
	}
	for _, task := range tasks {
		tid, _ := strconv.Atoi(task.Name())
		if err := unix.SchedSetaffinity(tid, set); err != nil && !errors.Is(err, unix.ESRCH) {
			return old, err
		}
	}
	return old, nil
}

// pinToBenchCPU pins this process to benchCPU; the echo children call it.
func pinToBenchCPU() error {
	var set unix.CPUSet
	set.Set(benchCPU())
	_, err := pinThreads(&set)
	return err
}

// pinBenchmark pins this process, and so the C baseline it starts, to
// benchCPU until the benchmark ends.
func pinBenchmark(b *testing.B) {
	// Fix GOMAXPROCS first: pinning is how we measure, not the configuration
	// measured, and the runtime would lower it to 1 for one CPU.
	runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var set unix.CPUSet
	set.Set(benchCPU())
	old, err := pinThreads(&set)
	if err != nil {
		b.Fatalf("pin to one CPU: %v", err)
	}
	b.Cleanup(func() {
		pinThreads(&old)
		runtime.SetDefaultGOMAXPROCS()
	})
}

func percentiles(rtt []int64) (median, p99 float64) {
	slices.Sort(rtt)
	return float64(rtt[len(rtt)/2]), float64(rtt[len(rtt)*99/100])
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

// cPingPong runs iters round trips of the C baseline and returns them in ns.
func cPingPong(b *testing.B, mech string, size, iters int) []int64 {
	c := testutil.BuildC(b, "sysv_peer")
	out, err := exec.Command(c, "bench-"+mech, strconv.Itoa(size), strconv.Itoa(iters)).Output()
	if err != nil {
		b.Fatalf("C baseline: %v", err)
	}
	var rtt []int64
	for _, f := range strings.Fields(string(out)) {
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			b.Fatalf("C baseline printed %q", f)
		}
		rtt = append(rtt, v)
	}
	if len(rtt) != iters {
		b.Fatalf("C baseline printed %d round trips, want %d", len(rtt), iters)
	}
	return rtt
}
