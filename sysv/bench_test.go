package sysv_test

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/sysv"
)

// BenchmarkPingPong measures round trips between this process and an echo
// peer (the test binary re-executed) over a queue and over a segment with
// semaphores as doorbells, then runs the same protocol in csrc/sysv_peer.c
// and reports both medians and 99th percentiles and their ratios.
//
//	go test -run '^$' -bench PingPong -benchtime 20000x ./sysv
func BenchmarkPingPong(b *testing.B) {
	for _, mech := range []string{"msg", "shm"} {
		for _, size := range []int{8, 4096} {
			b.Run(fmt.Sprintf("%s/%dB", mech, size), func(b *testing.B) {
				var roundTrip func() error
				if mech == "msg" {
					roundTrip = msgPingPong(b, size)
				} else {
					roundTrip = shmPingPong(b, size)
				}
				const warmup = 1000
				for range warmup {
					if err := roundTrip(); err != nil {
						b.Fatal(err)
					}
				}
				rtt := make([]int64, b.N)
				b.ReportAllocs()
				b.ResetTimer()
				for i := range rtt {
					t0 := time.Now()
					if err := roundTrip(); err != nil {
						b.Fatal(err)
					}
					rtt[i] = int64(time.Since(t0))
				}
				b.StopTimer()
				goMed, goP99 := percentiles(rtt)
				cMed, cP99 := cPingPong(b, mech, size, max(b.N, 1000))
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

func percentiles(rtt []int64) (median, p99 float64) {
	slices.Sort(rtt)
	return float64(rtt[len(rtt)/2]), float64(rtt[len(rtt)*99/100])
}

// msgPingPong starts an echo peer on a new queue and returns one round trip:
// send type 1, receive the echo as type 2.
func msgPingPong(b *testing.B, size int) func() error {
	q := newQueue(b)
	p := testutil.Start(b, testutil.Child("echo-msg", q.Key().String()))
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
	p := testutil.Start(b, testutil.Child("echo-shm", m.Key().String(), s.Key().String(), strconv.Itoa(size)))
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

// cPingPong runs the C baseline and returns its median and p99 in ns.
func cPingPong(b *testing.B, mech string, size, iters int) (median, p99 float64) {
	c := testutil.BuildC(b, "sysv_peer")
	out, err := exec.Command(c, "bench-"+mech, strconv.Itoa(size), strconv.Itoa(iters)).Output()
	if err != nil {
		b.Fatalf("C baseline: %v", err)
	}
	f := strings.Fields(string(out))
	if len(f) != 2 {
		b.Fatalf("C baseline printed %q", out)
	}
	median, _ = strconv.ParseFloat(f[0], 64)
	p99, _ = strconv.ParseFloat(f[1], 64)
	return median, p99
}
