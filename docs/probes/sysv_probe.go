//go:build ignore

// sysv_probe splits the time of a System V queue ping-pong (8 B by default)
// between the kernel, cgo and package sysv; sysv/doc.go ("Performance") gives
// what it measured. Pin it to one CPU, as BenchmarkPingPong does, beside the C
// baseline:
//
//	go build -o /tmp/sysv_probe docs/probes/sysv_probe.go
//	taskset -c 1 env GOMAXPROCS=2 /tmp/sysv_probe init MODE 8 20000
//	taskset -c 1 csrc/sysv_peer bench-msg 8 20000   # C: one round trip per line
//
// MODE is pkg (Send and Receive), raw (plain cgo calls of msgsnd and msgrcv),
// cloop (the whole loop in C, called once from each Go process) or probe
// (raw, with clock_gettime on both sides of each crossing; ECHO=cloop or raw
// picks the echo's mode). nop times a warm cgo crossing.
package main

/*
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ipc.h>
#include <sys/msg.h>
struct pmsg { long t; char b[8192]; };
static long long now_ns(void) { struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); return ts.tv_sec * 1000000000LL + ts.tv_nsec; }
static int raw_snd(int id, long t, void *p, size_t n) {
	long buf[1 + 8192/8];
	buf[0] = t; memcpy(buf+1, p, n);
	return msgsnd(id, buf, n, 0);
}
static ssize_t raw_rcv(int id, long t, void *p, size_t n) {
	long buf[1 + 8192/8];
	ssize_t r = msgrcv(id, buf, n, t, 0);
	if (r > 0) memcpy(p, buf+1, r);
	return r;
}
static void nop(void) {}
long long stamps[4];
static int probe_snd(int id, long t, void *p, size_t n) {
	stamps[0] = now_ns();
	long buf[1 + 8192/8];
	buf[0] = t; memcpy(buf+1, p, n);
	int r = msgsnd(id, buf, n, 0);
	stamps[1] = now_ns();
	return r;
}
static ssize_t probe_rcv(int id, long t, void *p, size_t n) {
	stamps[2] = now_ns();
	long buf[1 + 8192/8];
	ssize_t r = msgrcv(id, buf, n, t, 0);
	if (r > 0) memcpy(p, buf+1, r);
	stamps[3] = now_ns();
	return r;
}
static long long clockpair(void) { long long a = now_ns(); return now_ns() - a; }
static int cloop_init(int id, int size, int n, long long *rtt) {
	static struct pmsg m;
	for (int i = -1000; i < n; i++) {
		long long t0 = now_ns();
		m.t = 1;
		if (msgsnd(id, &m, size, 0) != 0) return -1;
		if (msgrcv(id, &m, size, 2, 0) < 0) return -1;
		if (i >= 0) rtt[i] = now_ns() - t0;
	}
	return 0;
}
static int cloop_echo(int id, int size) {
	static struct pmsg m;
	for (;;) {
		ssize_t r = msgrcv(id, &m, size, 1, 0);
		if (r < 0) return -1;
		m.t = 2;
		if (msgsnd(id, &m, r, 0) != 0) return -1;
	}
}
*/
import "C"

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"time"
	"unsafe"

	"github.com/goipc/ipc/sysv"
)

func main() {
	role, mode := os.Args[1], os.Args[2]
	size, _ := strconv.Atoi(os.Args[3])
	switch role {
	case "nop":
		n := 10000000
		t0 := time.Now()
		for range n {
			C.nop()
		}
		fmt.Printf("nop %.1f ns\n", float64(time.Since(t0).Nanoseconds())/float64(n))
	case "init":
		n, _ := strconv.Atoi(os.Args[4])
		q, err := sysv.OpenQueue(sysv.IPCPrivate, sysv.Create, 0o600)
		if err != nil {
			panic(err)
		}
		echo := exec.Command(os.Args[0], "echo", mode, os.Args[3], strconv.Itoa(q.ID()))
		echo.Stderr = os.Stderr
		if err := echo.Start(); err != nil {
			panic(err)
		}
		rtt := make([]int64, n)
		buf := make([]byte, size)
		ctx := context.Background()
		id := C.int(q.ID())
		switch mode {
		case "probe":
			var in, out, back, clk, kern, tot []int64
			for i := -1000; i < n; i++ {
				g0 := C.now_ns()
				if C.probe_snd(id, 1, unsafe.Pointer(&buf[0]), C.size_t(size)) != 0 {
					panic("snd")
				}
				g1 := C.now_ns()
				if C.probe_rcv(id, 2, unsafe.Pointer(&buf[0]), C.size_t(size)) < 0 {
					panic("rcv")
				}
				g2 := C.now_ns()
				if i >= 0 {
					st := C.stamps
					in = append(in, int64(st[0]-g0), int64(st[2]-g1))
					out = append(out, int64(g1-st[1]))
					back = append(back, int64(g2-st[3]))
					clk = append(clk, int64(C.clockpair()))
					kern = append(kern, int64(st[1]-st[0]+st[3]-st[2]))
					tot = append(tot, int64(g2-g0))
				}
			}
			q.Remove()
			echo.Wait()
			med := func(v []int64) int64 { slices.Sort(v); return v[len(v)/2] }
			fmt.Printf("probe: Go->C entry %d, C->Go after nonblocking-ish msgsnd %d, C->Go after blocking msgrcv %d, clock pair %d (ns, medians), in C %d, total %d\n", med(in), med(out), med(back), med(clk), med(kern), med(tot))
			return
		case "cloop":
			if C.cloop_init(id, C.int(size), C.int(n), (*C.longlong)(unsafe.Pointer(&rtt[0]))) != 0 {
				panic("cloop")
			}
		default:
			for i := -1000; i < n; i++ {
				t0 := time.Now()
				if mode == "pkg" {
					if err := q.Send(ctx, 1, buf, 0); err != nil {
						panic(err)
					}
					if _, _, err := q.Receive(ctx, buf, 2, 0); err != nil {
						panic(err)
					}
				} else {
					if C.raw_snd(id, 1, unsafe.Pointer(&buf[0]), C.size_t(size)) != 0 {
						panic("snd")
					}
					if C.raw_rcv(id, 2, unsafe.Pointer(&buf[0]), C.size_t(size)) < 0 {
						panic("rcv")
					}
				}
				if i >= 0 {
					rtt[i] = int64(time.Since(t0))
				}
			}
		}
		q.Remove()
		echo.Wait()
		slices.Sort(rtt)
		fmt.Printf("%s %d: median %d p99 %d\n", mode, size, rtt[n/2], rtt[n*99/100])
	case "echo":
		idn, _ := strconv.Atoi(os.Args[4])
		id := C.int(idn)
		buf := make([]byte, size)
		switch mode {
		case "probe":
			mode = os.Getenv("ECHO")
		}
		switch mode {
		case "cloop":
			C.cloop_echo(id, C.int(size))
		case "pkg":
			q, err := sysv.OpenQueueByID(idn)
			if err != nil {
				panic(err)
			}
			ctx := context.Background()
			for {
				n, _, err := q.Receive(ctx, buf, 1, 0)
				if err != nil {
					return
				}
				if q.Send(ctx, 2, buf[:n], 0) != nil {
					return
				}
			}
		default:
			for {
				r := C.raw_rcv(id, 1, unsafe.Pointer(&buf[0]), C.size_t(size))
				if r < 0 {
					return
				}
				if C.raw_snd(id, 2, unsafe.Pointer(&buf[0]), C.size_t(r)) != 0 {
					return
				}
			}
		}
	}
}
