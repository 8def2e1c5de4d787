// Package cloop is the C baseline of package ring's BenchmarkGoOverC: the
// loops that the benchmark runs in Go, written in C over csrc/goipc_ring.h
// and entered with one cgo call, so that what Go adds to each call is a
// difference measured in the same process, on the same ring, in the same
// run. It is internal so that nothing of it enters package ring's API, and
// a package of its own because test files cannot use cgo.
package cloop

/*
#cgo CFLAGS: -O2 -I${SRCDIR}/../../../csrc
#cgo LDFLAGS: -pthread
#include "goipc_ring.h" // first: it defines _GNU_SOURCE
#include <sys/mman.h>

// cloop_run maps the ring in fd (len bytes), then sends a message of size
// bytes and receives it back n times, with the try_ calls or, with spin_ns
// >= 0, the waiting ones, and sets *ns to the time the loop took.
static int cloop_run(int fd, size_t len, uint32_t size, long n, int64_t spin_ns, int64_t *ns) {
	void *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED)
		return errno;
	struct goipc_ring r;
	int err = goipc_ring_attach(&r, mem, len);
	unsigned char msg[64] = {0}, buf[64];
	uint32_t k;
	int64_t start = goipc_ring_now_ns();
	for (long i = 0; i < n && !err; i++) {
		if (spin_ns < 0) {
			if (!(err = goipc_ring_try_send(&r, msg, size)))
				err = goipc_ring_try_recv(&r, buf, sizeof buf, &k);
		} else if (!(err = goipc_ring_send(&r, msg, size, spin_ns)))
			err = goipc_ring_recv(&r, buf, sizeof buf, &k, spin_ns);
	}
	*ns = goipc_ring_now_ns() - start;
	munmap(mem, len);
	return err;
}

static void cloop_empty(void) {}
*/
import "C"

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

// MaxSize is the largest message the loops send.
const MaxSize = 64

// TrySendReceive maps the ring held by f, whose whole file it is, and
// sends a message of size bytes with goipc_ring_try_send and takes it back
// with goipc_ring_try_recv n times, in one cgo call; it returns the time
// the loop took, measured in C.
func TrySendReceive(f *os.File, size, n int) (time.Duration, error) { return run(f, size, n, -1) }

// SendReceive is TrySendReceive with the waiting calls, goipc_ring_send
// and goipc_ring_recv, spinning for up to spin when they must wait.
func SendReceive(f *os.File, size, n int, spin time.Duration) (time.Duration, error) {
	return run(f, size, n, int64(max(spin, 0)))
}

func run(f *os.File, size, n int, spin int64) (time.Duration, error) {
	if size < 0 || size > MaxSize {
		return 0, fmt.Errorf("cloop: message of %d bytes, want 0 to %d", size, MaxSize)
	}
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	var ns C.int64_t
	if e := C.cloop_run(C.int(f.Fd()), C.size_t(fi.Size()), C.uint32_t(size), C.long(n), C.int64_t(spin), &ns); e != 0 {
		return 0, fmt.Errorf("cloop: %w", syscall.Errno(e))
	}
	return time.Duration(ns), nil
}

// Empty is a cgo call that does nothing: the price of a crossing.
func Empty() { C.cloop_empty() }
