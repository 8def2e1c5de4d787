package posix_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

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
// both C variants. The kernel places the processes: see
// BenchmarkPingPongPinned.
//
//	go test -run '^$' -bench PingPong -benchtime 20000x ./posix/
func BenchmarkPingPong(b *testing.B) { pingPong(b, "") }

// BenchmarkPingPongPinned is BenchmarkPingPong with the peers placed, as the
// kernel does not place Go and C alike: "same" pins every process to one
// CPU, as package sysv's benchmark does, where blocking at once is at its
// best (the peer runs as soon as the caller blocks); "split" pins each peer
// to a CPU of its own, where spinning is (a peer that blocks waits for its
// CPU to wake up). Unpinned, a run of either language lands in one placement
// or the other, so its ratios compare placements as much as languages.
//
//	go test -run '^$' -bench PingPongPinned -benchtime 20000x ./posix/
func BenchmarkPingPongPinned(b *testing.B) {
	for _, placement := range []string{"same", "split"} {
		b.Run(placement, func(b *testing.B) { pingPong(b, placement) })
	}
}

// BenchmarkPingPongWaiters is the queue ping-pong with 50 waiters on the
// echo's side: 50 goroutines of the Go echo wait in Receive on the ping queue,
// and 50 threads of the C echo in mq_receive (posix_pingpong waiters=50,
// blocking at once); whichever gets the message answers and waits again. It
// runs unpinned and with the placements of BenchmarkPingPongPinned, and
// reports Go's ratios to that C.
//
//	go test -run '^$' -bench PingPongWaiters -benchtime 20000x ./posix/
func BenchmarkPingPongWaiters(b *testing.B) {
	const waiters = 50
	cbin := testutil.BuildC(b, "posix_pingpong", "-lrt", "-pthread")
	for _, placement := range []string{"", "same", "split"} {
		for _, size := range []int{8, 4096} {
			name := fmt.Sprintf("%s/%dB", placement, size)
			if placement == "" {
				name = fmt.Sprintf("unpinned/%dB", size)
			}
			b.Run(name, func(b *testing.B) {
				pingPongCase(b, cbin, placement, "mq", size, waiters, "block")
			})
		}
	}
}

// pingPong runs the ping-pongs with the peers placed as placement says: ""
// (not pinned), "same" or "split".
func pingPong(b *testing.B, placement string) {
	cbin := testutil.BuildC(b, "posix_pingpong", "-lrt", "-pthread")
	for _, mech := range []string{"mq", "shm"} {
		for _, size := range []int{8, 4096} {
			b.Run(fmt.Sprintf("%s/%dB", mech, size), func(b *testing.B) {
				pingPongCase(b, cbin, placement, mech, size, 1, "block", "spin")
			})
		}
	}
}

// pingPongCase times the round trips of one mechanism and size, the Go peers
// and the C program cbin in each of its modes taking turns, with waiters
// waiting on the echo's side (mq only), and reports Go's ratios to each mode.
func pingPongCase(b *testing.B, cbin, placement, mech string, size, waiters int, modes ...string) {
	echoCPU, cArgs := "", []string(nil)
	pinGo := func() (restore func()) { return func() {} }
	switch placement {
	case "same": // this process, its echo and the C programs on the last CPU
		restore := pin(b, -1)
		b.Cleanup(restore)
		echoCPU = "-1"
	case "split": // the initiators on the first CPU, the echoes on the second
		echoCPU, cArgs = "1", []string{"split"}
		pinGo = func() func() { return pin(b, 0) }
	}
	if waiters > 1 {
		cArgs = append(cArgs, fmt.Sprintf("waiters=%d", waiters))
	}
	var trip func() error
	if mech == "mq" {
		trip = pingPongMQ(b, size, echoCPU, waiters)
	} else {
		trip = pingPongShm(b, size, echoCPU)
	}
	var lat testutil.Latencies
	var ratios []string
	for _, mode := range modes {
		ratios = append(ratios, "go/c-"+mode)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.StopTimer()
	testutil.Turns(b.N, turns, func(n int) {
		unpin := pinGo()
		lat.Add("go", testutil.TimeTrips(b, warmup, n, trip)...)
		unpin()
		for _, mode := range modes {
			c := exec.Command(cbin, append([]string{mech, mode, strconv.Itoa(size), strconv.Itoa(n)}, cArgs...)...)
			lat.Add("c-"+mode, testutil.CSamples(b, n, c)...)
		}
	})
	lat.Report(b, ratios...)
}

const (
	turns  = 4
	warmup = 200 // untimed round trips before each turn, as the C program does
)

// pin pins this process to its nth CPU (testutil.PinProcess) and returns
// what undoes it.
func pin(b *testing.B, nth int) (restore func()) {
	restore, err := testutil.PinProcess(nth)
	if err != nil {
		b.Fatalf("pin to CPU %d: %v", nth, err)
	}
	return restore
}

// echoChild is the echo peer name with args, pinned to its nth CPU when cpu
// is not "" (pinAsAsked).
func echoChild(name, cpu string, args ...string) *exec.Cmd {
	cmd := testutil.Child(name, args...)
	if cpu != "" {
		cmd.Env = append(cmd.Env, benchCPUEnv+"="+cpu, fmt.Sprintf("GOMAXPROCS=%d", runtime.GOMAXPROCS(0)))
	}
	return cmd
}

// pingPongMQ starts an echo peer with waiters goroutines on a new pair of
// queues and returns one round trip.
func pingPongMQ(b *testing.B, size int, echoCPU string, waiters int) func() error {
	ping, pong := newQueue(b, 1, size), newQueue(b, 1, size)
	echo := testutil.Start(b, echoChild("mq-echo", echoCPU, ping.Name(), pong.Name(), strconv.Itoa(waiters)))
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
func pingPongShm(b *testing.B, size int, echoCPU string) func() error {
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
	echo := testutil.Start(b, echoChild("shm-echo", echoCPU, m.Name(), strconv.Itoa(size)))
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

// BenchmarkReceivePool measures the CPU that a pool of waiters spends per
// message: n goroutines receiving from one queue (capacity 10) that a C
// feeder fills (csrc/posix_mq_peer.c feed), beside a C pool of n threads
// blocked in mq_receive fed the same way (pool). The CPU is the user and
// system time of both processes per message: the feeder's whole run (it is
// started ahead and waits for a word to send), and the pool's from the moment
// all its waiters are blocked to the last message
// (getrusage; for the C pool's start, the threads' run times in
// /proc/PID/task/*/schedstat, since creating 500 threads is not receiving).
// The two take turns, so that they meet the same load:
//
//	go test -run '^$' -bench ReceivePool -benchtime 20000x ./posix/
func BenchmarkReceivePool(b *testing.B) {
	peer := testutil.BuildC(b, "posix_mq_peer", "-lrt", "-pthread")
	for _, n := range []int{1, 50, 500} {
		b.Run(fmt.Sprintf("waiters=%d", n), func(b *testing.B) {
			var goCPU, cCPU time.Duration
			b.ResetTimer()
			testutil.Turns(b.N, turns, func(k int) {
				goCPU += goPool(b, peer, n, k)
				cCPU += cPool(b, peer, n, k)
			})
			perMsg := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(b.N) }
			b.ReportMetric(perMsg(goCPU), "go-cpu-us/msg")
			b.ReportMetric(perMsg(cCPU), "c-cpu-us/msg")
			b.ReportMetric(float64(goCPU)/float64(cCPU), "go/c-cpu")
		})
	}
}

// goPool receives k messages with n goroutines waiting on a queue that the C
// peer feeds, and returns the CPU this process and the feeder used meanwhile.
func goPool(b *testing.B, peer string, n, k int) time.Duration {
	q := newQueue(b, 10, 64)
	var left atomic.Int64
	left.Store(int64(k))
	all := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			buf := make([]byte, q.MessageSize())
			for {
				if _, _, err := q.Receive(context.Background(), buf); err != nil {
					return // closed
				}
				if left.Add(-1) == 0 {
					close(all)
				}
			}
		})
	}
	parked(b, n, 1)
	feed := startFeeder(b, peer, q.Name(), k)
	before := selfCPU(b)
	feed.release()
	<-all
	cpu := selfCPU(b) - before + feed.wait(b)
	q.Close()
	wg.Wait()
	return cpu
}

// cPool is goPool with the C pool of n threads.
func cPool(b *testing.B, peer string, n, k int) time.Duration {
	q := newQueue(b, 10, 64)
	pool := testutil.Start(b, exec.Command(peer, "pool", q.Name(), strconv.Itoa(n), strconv.Itoa(k)))
	pool.Expect("ready")
	tasksIn(b, pool.Cmd.Process.Pid, n, "wq_sleep") // the kernel function of a blocked mq_receive
	feed := startFeeder(b, peer, q.Name(), k)
	start := tasksCPU(b, pool.Cmd.Process.Pid)
	feed.release()
	var end int64
	if _, err := fmt.Sscanf(pool.Line(), "cpu %d", &end); err != nil {
		b.Fatalf("C pool: %v", err)
	}
	pool.MustSucceed()
	return time.Duration(end) - start + feed.wait(b)
}

// feeder is the C peer that sends a pool its messages. It starts ahead and
// waits for a line on its standard input, so that starting a process is not
// part of what is measured.
type feeder struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr strings.Builder
}

func startFeeder(b *testing.B, peer, queue string, k int) *feeder {
	f := &feeder{cmd: exec.Command(peer, "feed", queue, strconv.Itoa(k))}
	var err error
	if f.stdin, err = f.cmd.StdinPipe(); err != nil {
		b.Fatal(err)
	}
	f.cmd.Stderr = &f.stderr
	if err := f.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	return f
}

// release lets the feeder send.
func (f *feeder) release() { io.WriteString(f.stdin, "go\n") }

// wait waits for the feeder to finish and returns the CPU it used.
func (f *feeder) wait(b *testing.B) time.Duration {
	if err := f.cmd.Wait(); err != nil {
		b.Fatalf("%s: %v %s", f.cmd, err, f.stderr.String())
	}
	return processCPU(f.cmd.ProcessState)
}

func processCPU(s *os.ProcessState) time.Duration { return s.UserTime() + s.SystemTime() }

func selfCPU(b *testing.B) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// tasksIn waits until n threads of process pid sleep in the kernel function
// fn, as /proc/PID/task/*/wchan shows.
func tasksIn(b *testing.B, pid, n int, fn string) {
	testutil.WaitUntil(b, func() bool {
		files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/wchan", pid))
		in := 0
		for _, f := range files {
			if w, _ := os.ReadFile(f); string(w) == fn {
				in++
			}
		}
		return in >= n
	}, "%d threads of process %d in %s", n, pid, fn)
}

// tasksCPU is the time the threads of process pid have run, from
// /proc/PID/task/*/schedstat (nanoseconds on the CPU, first field).
func tasksCPU(b *testing.B, pid int) time.Duration {
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	var sum time.Duration
	for _, f := range files {
		s, err := os.ReadFile(f)
		var ns int64
		if err == nil {
			_, err = fmt.Sscan(string(s), &ns)
		}
		if err != nil {
			b.Fatalf("%s: %v", f, err)
		}
		sum += time.Duration(ns)
	}
	return sum
}
