//go:build ignore

// posix_probe splits the time of a POSIX queue ping-pong at 8 B between
// the kernel, cgo and package posix, both peers spinning as package posix
// does (try, sched_yield, try again); posix/doc.go ("Performance") gives what
// it measured. Beside the C baseline, unpinned as BenchmarkPingPong runs, or
// with the two processes on CPUs of their own:
//
//	go build -o /tmp/posix_probe docs/probes/posix_probe.go
//	/tmp/posix_probe init MODE 20000
//	ECHO_CPU=1 taskset -c 0 /tmp/posix_probe init MODE 20000
//	csrc/posix_pingpong mq spin 8 20000   # and: mq block 8 20000
//
// MODE is pkg (Send and Receive), try (TrySend, and TryReceive with the spin
// in Go), file (plain cgo calls inside os.File's RawConn.Control, the
// descriptor registered with the poller), fileraw (file, yielding through
// RawSyscall), raw (plain cgo calls of mq_send and mq_receive, the spin in Go)
// or cloop (the whole loop in C, called once from each Go process).
// PIPE_WAITER=1 parks a goroutine of the initiator on the poller (a pipe
// read), as a test binary's reader of its child's output is: then a thread
// sleeps in epoll_wait, and every message on a queue descriptor in the
// poller wakes it.
package main

/*
#cgo LDFLAGS: -lrt
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <time.h>
#include <errno.h>
static long long now_ns(void) { struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); return ts.tv_sec * 1000000000LL + ts.tv_nsec; }
static int snd(int fd, void *p, int n) { return mq_send(fd, p, n, 0); }
static int rcv(int fd, void *p, int n) { unsigned pr; return mq_receive(fd, p, n, &pr); }
// spin receive as posix does: try, yield, try ... (no time bound here)
static int spinrcv(int fd, void *p, int n) {
	for (;;) {
		unsigned pr;
		int r = mq_receive(fd, p, n, &pr);
		if (r >= 0 || errno != EAGAIN) return r;
		sched_yield();
	}
}
static int cloop_init(int ping, int pong, int n, long long *rtt) {
	char b[64];
	for (int i = -200; i < n; i++) {
		long long t0 = now_ns();
		if (mq_send(ping, b, 8, 0) != 0) return -1;
		if (spinrcv(pong, b, 64) < 0) return -1;
		if (i >= 0) rtt[i] = now_ns() - t0;
	}
	return 0;
}
static void cloop_echo(int ping, int pong) {
	char b[64];
	for (;;) {
		int r = spinrcv(ping, b, 64);
		if (r < 0) return;
		if (mq_send(pong, b, r, 0) != 0) return;
	}
}
static int mqopen(const char *name, int creat) {
	struct mq_attr a = { .mq_maxmsg = 1, .mq_msgsize = 64 };
	return mq_open(name, O_RDWR | O_NONBLOCK | (creat ? O_CREAT : 0), 0600, &a);
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
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/goipc/ipc/posix"
)

func main() {
	role, mode := os.Args[1], os.Args[2]
	pingName, pongName := "/pq-hotq-ping", "/pq-hotq-pong"
	ctx := context.Background()
	buf := make([]byte, 64)
	switch role {
	case "init":
		n, _ := strconv.Atoi(os.Args[3])
		posix.UnlinkQueue(pingName)
		posix.UnlinkQueue(pongName)
		ping, err := posix.OpenQueue(pingName, &posix.QueueOptions{Create: true, Capacity: 1, MessageSize: 64})
		if err != nil {
			panic(err)
		}
		pong, err := posix.OpenQueue(pongName, &posix.QueueOptions{Create: true, Capacity: 1, MessageSize: 64})
		if err != nil {
			panic(err)
		}
		echo := exec.Command(os.Args[0], "echo", mode)
		echo.Stderr = os.Stderr
		// No wait for the echo to start: the queues exist, and the 200
		// untimed round trips below wait for it.
		if err := echo.Start(); err != nil {
			panic(err)
		}
		if os.Getenv("PIPE_WAITER") != "" { // a goroutine parked on the poller, as testutil.Start's reader is
			r, _, _ := os.Pipe()
			go func() { var b [1]byte; r.Read(b[:]) }()
		}
		rtt := make([]int64, n)
		cping, cpong := C.mqopen(C.CString(pingName), 0), C.mqopen(C.CString(pongName), 0)
		fping, fpong := rawConn(cping), rawConn(cpong)
		switch mode {
		case "cloop":
			C.cloop_init(cping, cpong, C.int(n), (*C.longlong)(unsafe.Pointer(&rtt[0])))
		default:
			for i := -200; i < n; i++ {
				t0 := time.Now()
				if mode == "pkg" {
					if err := ping.Send(ctx, buf[:8], 0); err != nil {
						panic(err)
					}
					if _, _, err := pong.Receive(ctx, buf); err != nil {
						panic(err)
					}
				} else if mode == "try" {
					if err := ping.TrySend(buf[:8], 0); err != nil {
						panic(err)
					}
					for {
						if _, _, err := pong.TryReceive(buf); err == nil {
							break
						}
						unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
					}
				} else if mode == "file" || mode == "fileraw" {
					ctlSnd(fping, buf)
					for !ctlRcv(fpong, buf) {
						yield(mode)
					}
				} else {
					C.snd(cping, unsafe.Pointer(&buf[0]), 8)
					for C.rcv(cpong, unsafe.Pointer(&buf[0]), 64) < 0 {
						unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
					}
				}
				if i >= 0 {
					rtt[i] = int64(time.Since(t0))
				}
			}
		}
		echo.Process.Kill()
		echo.Wait()
		posix.UnlinkQueue(pingName)
		posix.UnlinkQueue(pongName)
		slices.Sort(rtt)
		fmt.Printf("%s: median %d p99 %d\n", mode, rtt[n/2], rtt[n*99/100])
	case "echo":
		if cpu := os.Getenv("ECHO_CPU"); cpu != "" {
			n, _ := strconv.Atoi(cpu)
			var set unix.CPUSet
			set.Set(n)
			tasks, _ := os.ReadDir("/proc/self/task")
			for _, t := range tasks {
				tid, _ := strconv.Atoi(t.Name())
				unix.SchedSetaffinity(tid, &set)
			}
		}
		cping, cpong := C.mqopen(C.CString(pingName), 0), C.mqopen(C.CString(pongName), 0)
		switch mode {
		case "cloop":
			C.cloop_echo(cping, cpong)
		case "try":
			ping, _ := posix.OpenQueue(pingName, nil)
			pong, _ := posix.OpenQueue(pongName, nil)
			for {
				n, _, err := ping.TryReceive(buf)
				if err != nil {
					unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
					continue
				}
				pong.TrySend(buf[:n], 0)
			}
		case "file", "fileraw":
			fping, fpong := rawConn(cping), rawConn(cpong)
			for {
				if !ctlRcv(fping, buf) {
					yield(mode)
					continue
				}
				ctlSnd(fpong, buf)
			}
		case "pkg":
			ping, _ := posix.OpenQueue(pingName, nil)
			pong, _ := posix.OpenQueue(pongName, nil)
			for {
				n, _, err := ping.Receive(ctx, buf)
				if err != nil {
					return
				}
				pong.Send(ctx, buf[:n], 0)
			}
		default:
			for {
				r := C.rcv(cping, unsafe.Pointer(&buf[0]), 64)
				if r < 0 {
					unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
					continue
				}
				C.snd(cpong, unsafe.Pointer(&buf[0]), r)
			}
		}
	}
}

func rawConn(fd C.int) syscall.RawConn {
	f := os.NewFile(uintptr(fd), "mq")
	rc, err := f.SyscallConn()
	if err != nil {
		panic(err)
	}
	return rc
}

func ctlSnd(rc syscall.RawConn, buf []byte) {
	rc.Control(func(fd uintptr) { C.snd(C.int(fd), unsafe.Pointer(&buf[0]), 8) })
}

func ctlRcv(rc syscall.RawConn, buf []byte) (ok bool) {
	rc.Control(func(fd uintptr) { ok = C.rcv(C.int(fd), unsafe.Pointer(&buf[0]), 64) >= 0 })
	return ok
}

func yield(mode string) {
	if mode == "fileraw" {
		unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
	} else {
		unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
	}
}
