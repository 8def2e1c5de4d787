package ring_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/goipc/ipc/internal/errs"
	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/posix"
	"github.com/goipc/ipc/ring"
	"github.com/goipc/ipc/ring/internal/cloop"
)

// spinFor is how long a spinning waiter spins in the benchmarks, Go and C:
// far longer than a round trip, short enough that an idle peer soon sleeps
// instead of taking the CPU from the variant being measured.
const spinFor = time.Millisecond

const (
	turns  = 4
	warmup = 100 // untimed round trips before each turn, as the C programs do
)

// BenchmarkRoundTrip times round trips of 8 B and 4 KiB between two
// processes over a pair of rings, spinning (waiters spin before they sleep)
// and sleeping (they sleep on the futex at once), beside the same in C in
// the same run, taking turns:
//
//   - go: this process and a Go child (childEcho), over two memfd rings;
//   - go-sr: the same with SendReceive on both sides, the child's echo
//     taking each request with the reply before it in one call;
//   - go-c: this process and a C child (csrc/ring_peer.c echo);
//   - c: two C processes (ring_peer bench), the ring's C baseline;
//   - mmap-c: csrc/mmap_pingpong.c, the atomic ping-pong through shared
//     memory that no message ring can beat (spinning only);
//   - mq-c: csrc/posix_pingpong.c over two POSIX queues, spinning first or
//     blocking at once as the mode says.
//
// Spinning peers are pinned to a CPU each, as in mmap's benchmark; sleeping
// ones are left where the scheduler puts them, as in posix's. It reports
// medians, 99th percentiles and ratios:
//
//	go test -run '^$' -bench RoundTrip -benchtime 20000x ./ring/
func BenchmarkRoundTrip(b *testing.B) {
	for _, mode := range []string{"spin", "sleep"} {
		for _, size := range []int{8, 4096} {
			b.Run(fmt.Sprintf("%s/%dB", mode, size), func(b *testing.B) { benchRoundTrip(b, mode, size) })
		}
	}
}

func benchRoundTrip(b *testing.B, mode string, size int) {
	ringC := testutil.BuildC(b, "ring_peer", "-pthread")
	mqC := testutil.BuildC(b, "posix_pingpong", "-lrt", "-pthread")
	mmapC := testutil.BuildC(b, "mmap_pingpong")
	spinNs := "0"
	opts := &ring.Options{Spin: -1}
	if mode == "spin" {
		spinNs, opts.Spin = strconv.FormatInt(int64(spinFor), 10), spinFor
	}
	goTrip := echoPeer(b, size, opts, testutil.Child("echo", spinNs), false)
	srTrip := echoPeer(b, size, opts, testutil.Child("echo", spinNs, "sendreceive"), true)
	cTrip := echoPeer(b, size, opts, exec.Command(ringC, "/proc/self/fd/3", "echo", "/proc/self/fd/4", spinNs), false)
	// A spinning Go peer runs pinned, as the C ones do; only while it is
	// timed, since the C programs started meanwhile would inherit the mask.
	timeTrips := func(n int, trip func() error) []time.Duration {
		if mode == "spin" {
			defer pinFirstCPU(b)()
		}
		return testutil.TimeTrips(b, warmup, n, trip)
	}
	mqMode := map[string]string{"spin": "spin", "sleep": "block"}[mode]

	var lat testutil.Latencies
	b.ReportAllocs()
	b.ResetTimer()
	b.StopTimer()
	testutil.Turns(b.N, turns, func(n int) {
		lat.Add("go", timeTrips(n, goTrip)...)
		lat.Add("go-sr", timeTrips(n, srTrip)...)
		lat.Add("go-c", timeTrips(n, cTrip)...)
		lat.Add("c", testutil.CSamples(b, n, exec.Command(ringC, "bench", strconv.Itoa(size), strconv.Itoa(n), spinNs))...)
		lat.Add("mq-c", testutil.CSamples(b, n, exec.Command(mqC, "mq", mqMode, strconv.Itoa(size), strconv.Itoa(n)))...)
		if mode == "spin" {
			lat.Add("mmap-c", testutil.CSamples(b, n, exec.Command(mmapC, strconv.Itoa(size), strconv.Itoa(n), "--samples"))...)
		}
	})
	ratios := []string{"go/c", "go-sr/c", "go-sr/go", "go-c/c", "go/mq-c", "c/mq-c"}
	if mode == "spin" {
		ratios = append(ratios, "go/mmap-c", "go-sr/mmap-c", "c/mmap-c")
	}
	lat.Report(b, ratios...)
}

// echoPeer starts peer, an echo child that takes a ping ring as descriptor
// 3 and a pong ring as 4, and returns one round trip of size bytes: a Send
// and a Receive, or with sendReceive one SendReceive. The child ends with an
// empty message at cleanup.
func echoPeer(b *testing.B, size int, opts *ring.Options, peer *exec.Cmd, sendReceive bool) func() error {
	b.Helper()
	rings := [2]*ring.Ring{}
	for i := range rings {
		r, err := ring.New(&ring.Options{Capacity: 64 << 10, Spin: opts.Spin})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { r.Close() })
		rings[i] = r
	}
	ping, pong := rings[0], rings[1]
	peer.ExtraFiles = []*os.File{ping.File(), pong.File()}
	p := testutil.Start(b, peer)
	p.Expect("ready")
	b.Cleanup(func() {
		ping.Send(context.Background(), nil)
		p.Wait()
	})
	msg, buf := make([]byte, size), make([]byte, ping.MaxMessage())
	ctx := context.Background()
	return func() error {
		var k int
		var err error
		if sendReceive {
			k, err = ping.SendReceive(ctx, msg, pong, buf)
		} else if err = ping.Send(ctx, msg); err == nil {
			k, err = pong.Receive(ctx, buf)
		}
		if err == nil && k != len(msg) {
			err = fmt.Errorf("echo of %d bytes, want %d", k, len(msg))
		}
		return err
	}
}

// BenchmarkThroughput64B streams 64-byte messages from this process to a
// child that takes them as fast as it can: through a ring to a Go child
// ("go"), two C processes through a ring ("c", ring_peer throughput), the
// same 32 a call on both sides with SendBatch and ReceiveBatch ("go-batch")
// and with goipc_ring_send_batch and goipc_ring_recv_batch ("c-batch"), and
// through a POSIX queue of the system's largest capacity to a Go child
// ("mq-go"). The ring's peers, Go and C, spin for spinFor before they sleep
// and run pinned to a CPU each, as ring_peer's do; "go-free" is the Go pair
// left where the scheduler puts it, as the queue's are. On a machine that
// others load, a pinned pair waits whenever another program takes one of its
// CPUs, and an unpinned one moves. It reports messages per second for each
// and the ratios; ns/op is go's time per message:
//
//	go test -run '^$' -bench Throughput -benchtime 200000x ./ring/
func BenchmarkThroughput64B(b *testing.B) {
	const size = 64
	ringC := testutil.BuildC(b, "ring_peer", "-pthread")
	msg := make([]byte, size)
	batch := make([][]byte, batchSize)
	for i := range batch {
		batch[i] = msg
	}
	ctx := context.Background()
	rates := map[string]float64{}
	var goTime time.Duration
	rate := func(name string, n int, d time.Duration) { rates[name] += float64(n) / d.Seconds() / turns }
	b.ResetTimer()
	b.StopTimer()
	testutil.Turns(b.N, turns, func(n int) {
		for _, pinned := range []bool{true, false} {
			r, err := ring.New(&ring.Options{Capacity: 64 << 10, Spin: spinFor})
			if err != nil {
				b.Fatal(err)
			}
			d := drain(b, r.File(), "", n, pinned, false, func(int) (int, error) { return 1, r.Send(ctx, msg) })
			r.Close()
			if pinned {
				goTime += d
				rate("go", n, d)
			} else {
				rate("go-free", n, d)
			}
		}

		r, err := ring.New(&ring.Options{Capacity: 64 << 10, Spin: spinFor})
		if err != nil {
			b.Fatal(err)
		}
		rate("go-batch", n, drain(b, r.File(), "", n, true, true, func(left int) (int, error) {
			return r.SendBatch(ctx, batch[:min(left, len(batch))])
		}))
		r.Close()

		for _, row := range []string{"c", "c-batch"} {
			args := []string{"throughput", strconv.Itoa(size), strconv.Itoa(n), strconv.FormatInt(int64(spinFor), 10)}
			if row == "c-batch" {
				args = append(args, "batch")
			}
			out, err := exec.Command(ringC, args...).Output()
			if err != nil {
				b.Fatal(err)
			}
			ns, err := strconv.ParseInt(string(out[:len(out)-1]), 10, 64)
			if err != nil {
				b.Fatalf("ring_peer throughput printed %q", out)
			}
			rate(row, n, time.Duration(ns))
		}

		q, err := posix.OpenQueue("/"+testutil.Name("mq"), &posix.QueueOptions{Create: true, Exclusive: true,
			Access: posix.WriteOnly, Capacity: mqCapacity(), MessageSize: size})
		if err != nil {
			b.Fatal(err)
		}
		rate("mq-go", n, drain(b, nil, q.Name(), n, false, false, func(int) (int, error) { return 1, q.Send(ctx, msg, 0) }))
		q.Unlink()
		q.Close()
	})
	b.ReportMetric(float64(goTime)/float64(b.N), "ns/op")
	for _, name := range []string{"go", "go-free", "go-batch", "c", "c-batch", "mq-go"} {
		b.ReportMetric(rates[name], name+"-msgs/s")
	}
	b.ReportMetric(rates["go"]/rates["c"], "go/c")
	b.ReportMetric(rates["go"]/rates["mq-go"], "go/mq-go")
	b.ReportMetric(rates["go-free"]/rates["mq-go"], "go-free/mq-go")
	b.ReportMetric(rates["go-batch"]/rates["mq-go"], "go-batch/mq-go")
	b.ReportMetric(rates["go-batch"]/rates["c"], "go-batch/c")
	b.ReportMetric(rates["go-batch"]/rates["c-batch"], "go-batch/c-batch")
	b.ReportMetric(rates["c-batch"]/rates["mq-go"], "c-batch/mq-go")
	b.ReportMetric(rates["c"]/rates["mq-go"], "c/mq-go")
}

// drain starts a Go child that takes n messages from the ring inherited as
// descriptor 3 (file) or from the POSIX queue named queue (with batch, up to
// batchSize at a time with ReceiveBatch), and returns how long send, called
// with the number of messages left until they went, took until the child
// had them all; send returns how many it sent. Pinned, this goroutine sends
// from the first CPU and the child takes on the second, as ring_peer
// throughput does.
func drain(b *testing.B, file *os.File, queue string, n int, pinned, batch bool, send func(left int) (int, error)) time.Duration {
	cmd := testutil.Child("drain", queue, strconv.Itoa(n), strconv.FormatInt(int64(spinFor), 10), strconv.FormatBool(pinned), strconv.FormatBool(batch))
	if file != nil {
		cmd.ExtraFiles = []*os.File{file}
	}
	p := testutil.Start(b, cmd)
	p.Expect("ready")
	if pinned {
		defer pinFirstCPU(b)()
	}
	start := time.Now()
	for left := n; left > 0; {
		k, err := send(left)
		if err != nil {
			b.Fatal(err)
		}
		left -= k
	}
	p.Expect("done")
	d := time.Since(start)
	p.MustSucceed()
	return d
}

// pinFirstCPU locks the calling goroutine to its thread and pins the
// thread to the first CPU, as the C baselines pin their first process,
// until the function it returns runs.
func pinFirstCPU(b *testing.B) (unpin func()) {
	runtime.LockOSThread()
	restore, err := testutil.PinThread(0)
	if err != nil {
		runtime.UnlockOSThread()
		b.Fatal(err)
	}
	return func() {
		restore()
		runtime.UnlockOSThread()
	}
}

// childDrain is drain's child: args QUEUE N SPIN_NS PINNED BATCH (QUEUE
// empty: the ring on descriptor 3, which it waits on spinning SPIN_NS;
// PINNED true: on the second CPU; BATCH true: ReceiveBatch).
func childDrain(args []string) error {
	n, err := strconv.Atoi(args[1])
	if err != nil {
		return err
	}
	spin, err := strconv.ParseInt(args[2], 10, 64)
	if err != nil {
		return err
	}
	pinned, err := strconv.ParseBool(args[3])
	if err != nil {
		return err
	}
	if pinned {
		runtime.LockOSThread()
		if _, err := testutil.PinThread(1); err != nil {
			return err
		}
	}
	batch, err := strconv.ParseBool(args[4])
	if err != nil {
		return err
	}
	receive := func(buf []byte) (int, error) { return 0, nil }
	if args[0] == "" {
		r, err := ring.FromFile(os.NewFile(3, "ring"), &ring.Options{Spin: spinOf(spin)})
		if err != nil {
			return err
		}
		defer r.Close()
		receive = func(buf []byte) (int, error) { _, err := r.Receive(context.Background(), buf); return 1, err }
		if batch {
			bufs, lens := make([][]byte, batchSize), make([]int, batchSize)
			for i := range bufs {
				bufs[i] = make([]byte, 64<<10)
			}
			receive = func([]byte) (int, error) { return r.ReceiveBatch(context.Background(), bufs, lens) }
		}
	} else {
		q, err := posix.OpenQueue(args[0], &posix.QueueOptions{Access: posix.ReadOnly})
		if err != nil {
			return err
		}
		defer q.Close()
		receive = func(buf []byte) (int, error) { _, _, err := q.Receive(context.Background(), buf); return 1, err }
	}
	buf := make([]byte, 64<<10)
	fmt.Println("ready")
	for got := 0; got < n; {
		k, err := receive(buf)
		if err != nil {
			return err
		}
		got += k
	}
	fmt.Println("done")
	return nil
}

// batchSize is how many messages a SendBatch and a ReceiveBatch of the
// go-batch row carry: one crossing into the shim.
const batchSize = 32

// mqCapacity is the most messages a POSIX queue may hold here
// (fs.mqueue.msg_max).
func mqCapacity() int {
	if v, ok := errs.Sysctl("fs/mqueue/msg_max"); ok {
		return int(v)
	}
	return 10
}

// BenchmarkTrySendReceive times one uncontended TrySend and TryReceive of
// 8 bytes in one process: the cost of the calls themselves, without a peer
// or a cache line moving between CPUs:
//
//	go test -run '^$' -bench TrySendReceive ./ring/
func BenchmarkTrySendReceive(b *testing.B) {
	benchOneRing(b, func(r *ring.Ring, msg, buf []byte) error {
		if err := r.TrySend(msg); err != nil {
			return err
		}
		_, err := r.TryReceive(buf)
		return err
	})
}

// BenchmarkSendReceive times, in one process and on one ring, a Send and a
// Receive of 8 bytes (two cgo calls) beside one SendReceive (one): what the
// combined call saves a side of a round trip in CPU time, without a peer:
//
//	go test -run '^$' -bench 'SendReceive$' ./ring/
func BenchmarkSendReceive(b *testing.B) {
	ctx := context.Background()
	b.Run("Send+Receive", func(b *testing.B) {
		benchOneRing(b, func(r *ring.Ring, msg, buf []byte) error {
			if err := r.Send(ctx, msg); err != nil {
				return err
			}
			_, err := r.Receive(ctx, buf)
			return err
		})
	})
	b.Run("SendReceive", func(b *testing.B) {
		benchOneRing(b, func(r *ring.Ring, msg, buf []byte) error {
			_, err := r.SendReceive(ctx, msg, r, buf)
			return err
		})
	})
}

// benchOneRing times calls, each sending msg (8 bytes) on a new ring r and
// receiving it back into buf.
func benchOneRing(b *testing.B, calls func(r *ring.Ring, msg, buf []byte) error) {
	r, err := ring.New(nil)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	msg, buf := make([]byte, 8), make([]byte, 64)
	b.ReportAllocs()
	for b.Loop() {
		if err := calls(r, msg, buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGoOverC times, in one process and on one ring, n sends of 8
// bytes each followed by the receive that takes it back: in Go, and in C
// (ring/internal/cloop over csrc/goipc_ring.h, the whole loop in one cgo
// call), taking turns, beside n empty cgo calls. "try" uses TrySend and
// TryReceive, "spin" Send and Receive with a spin (they never wait: the
// message is always there). It reports nanoseconds per pair of calls in
// each language, per empty crossing, and go-added-ns, what Go adds to each
// call over C ((go - c) / 2), of which a crossing is cgo-ns:
//
//	go test -run '^$' -bench GoOverC -benchtime 2000000x ./ring/
func BenchmarkGoOverC(b *testing.B) {
	const size = 8
	for _, kind := range []string{"try", "spin"} {
		b.Run(kind, func(b *testing.B) {
			r, err := ring.New(&ring.Options{Spin: spinFor})
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			ctx := context.Background()
			msg, buf := make([]byte, size), make([]byte, 64)
			pair := func() error {
				if err := r.TrySend(msg); err != nil {
					return err
				}
				_, err := r.TryReceive(buf)
				return err
			}
			cLoop := func(n int) (time.Duration, error) { return cloop.TrySendReceive(r.File(), size, n) }
			if kind == "spin" {
				pair = func() error {
					if err := r.Send(ctx, msg); err != nil {
						return err
					}
					_, err := r.Receive(ctx, buf)
					return err
				}
				cLoop = func(n int) (time.Duration, error) { return cloop.SendReceive(r.File(), size, n, spinFor) }
			}
			var goTime, cTime, cgoTime time.Duration
			b.ReportAllocs()
			b.ResetTimer()
			testutil.Turns(b.N, turns, func(n int) {
				start := time.Now()
				for range n {
					if err := pair(); err != nil {
						b.Fatal(err)
					}
				}
				goTime += time.Since(start)
				d, err := cLoop(n)
				if err != nil {
					b.Fatal(err)
				}
				cTime += d
				start = time.Now()
				for range n {
					cloop.Empty()
				}
				cgoTime += time.Since(start)
			})
			b.StopTimer()
			per := func(d time.Duration) float64 { return float64(d) / float64(b.N) }
			b.ReportMetric(per(goTime), "go-ns/pair")
			b.ReportMetric(per(cTime), "c-ns/pair")
			b.ReportMetric(per(cgoTime), "cgo-ns")
			b.ReportMetric((per(goTime)-per(cTime))/2, "go-added-ns")
		})
	}
}
