package ring

/*
#cgo LDFLAGS: -pthread
#cgo noescape ring_send
#cgo nocallback ring_send
#cgo noescape ring_receive
#cgo nocallback ring_receive
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

// A send's or a receive's whole critical section, as the package
// documentation's atomic rules give it, in one call from Go: each cgo
// crossing costs more than the section itself. The offsets are layout.go's.
#define R_LOCK(b) ((pthread_mutex_t *)((b) + 64))
#define R_HEAD(b) ((uint64_t *)((b) + 128))
#define R_TAIL(b) ((uint64_t *)((b) + 136))
#define R_SEQ(b) ((uint32_t *)((b) + 144))
#define R_SLEEPERS(b) ((uint32_t *)((b) + 148))
#define R_DATA(b) ((b) + 256)
#define R_PAD 0xffffffffu

#if defined(__x86_64__) || defined(__i386__)
#define r_relax() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define r_relax() __asm__ __volatile__("yield")
#else
#define r_relax()
#endif

static uint64_t r_record_size(uint32_t len) { return ((uint64_t)len + 4 + 7) & ~(uint64_t)7; }

// r_locked completes taking the lock with the result err: *died tells that
// the holder had died; the lock is then consistent again, and r_unlock(b, 1)
// moves seq and wakes the sleepers.
static int r_locked(unsigned char *b, int err, int *died) {
	*died = err == EOWNERDEAD;
	if (*died && (err = pthread_mutex_consistent(R_LOCK(b))) != 0)
		pthread_mutex_unlock(R_LOCK(b));
	return err;
}

static const struct timespec r_past;

// r_lock takes the ring's lock, watching it a while first (a robust mutex
// sleeps in the kernel as soon as it finds itself taken, and holders hold
// it for a copy). It sleeps in slices of 100ms, each ending with a new look
// at the lock: a thread asleep on the futex of a ring that another process
// truncates would never be woken (see fault.go), and its next look fails.
static int r_lock(unsigned char *b, int *died) {
	pthread_mutex_t *m = R_LOCK(b);
	for (int i = 0; i < 1000 && __atomic_load_n(&m->__data.__lock, __ATOMIC_RELAXED) != 0; i++)
		r_relax();
	int err = pthread_mutex_clocklock(m, CLOCK_MONOTONIC, &r_past);
	while (err == ETIMEDOUT) {
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		t.tv_nsec += 100000000;
		if (t.tv_nsec >= 1000000000) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000;
		}
		err = pthread_mutex_clocklock(m, CLOCK_MONOTONIC, &t);
	}
	return r_locked(b, err, died);
}

// r_sane tells whether head and tail are positions the rules allow: tail
// at most capacity past head (also false when tail < head: the difference
// wraps), both multiples of 8. Anything else is a corrupt ring, which must
// not read as full or empty, and send and receive fail with EBADMSG.
static int r_sane(uint64_t cap, uint64_t head, uint64_t tail) {
	return tail - head <= cap && (head | tail) % 8 == 0;
}

// r_fits tells whether a record of need bytes fits after tail, with the
// padding before it if it would pass the end.
static int r_fits(uint64_t cap, uint64_t head, uint64_t tail, uint64_t need) {
	uint64_t off = tail % cap, pad = off + need > cap ? cap - off : 0;
	return tail - head + pad + need <= cap;
}

// r_ready tells whether a call could go on now, from a look at head and
// tail without the lock: a record of need bytes fits (send), or with need
// 0 the ring holds a record (receive); or the positions look corrupt, which
// the call must see under the lock too, to fail.
static int r_ready(unsigned char *b, uint64_t cap, uint64_t need) {
	uint64_t head = __atomic_load_n(R_HEAD(b), __ATOMIC_ACQUIRE), tail = __atomic_load_n(R_TAIL(b), __ATOMIC_ACQUIRE);
	return !r_sane(cap, head, tail) || (need ? r_fits(cap, head, tail, need) : head != tail);
}

// r_enter takes the lock for a send (need bytes) or a receive (need 0). With
// looks 0 it takes it at once, waiting for a holder. Otherwise it watches the
// ring up to looks times, a pause apart, and takes the lock as soon as the
// call looks ready and the lock free; it never waits for the lock (a
// clocklock with a deadline long past), so that a spinning thread never
// sleeps in the kernel: EAGAIN when it did not take it.

static int r_enter(unsigned char *b, uint64_t cap, uint64_t need, int looks, int *died) {
	if (looks == 0)
		return r_lock(b, died);
	for (int i = 0; i < looks; i++) {
		if (r_ready(b, cap, need) && __atomic_load_n(&R_LOCK(b)->__data.__lock, __ATOMIC_RELAXED) == 0) {
			int err = pthread_mutex_clocklock(R_LOCK(b), CLOCK_MONOTONIC, &r_past);
			if (err != ETIMEDOUT)
				return r_locked(b, err, died);
		}
		r_relax();
	}
	return EAGAIN;
}

static void r_unlock(unsigned char *b, int changed) {
	int wake = 0;
	if (changed) {
		__atomic_store_n(R_SEQ(b), *R_SEQ(b) + 1, __ATOMIC_RELEASE);
		wake = __atomic_load_n(R_SLEEPERS(b), __ATOMIC_RELAXED) != 0;
	}
	pthread_mutex_unlock(R_LOCK(b));
	if (wake)
		syscall(SYS_futex, R_SEQ(b), FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

// ring_send appends the message of len bytes at msg, taking the lock as
// r_enter does for looks: 0, EAGAIN when it does not fit now, EBADMSG when
// head and tail are corrupt, or the lock's error.
static int ring_send(unsigned char *b, uint64_t cap, const unsigned char *msg, uint32_t len, int looks) {
	uint64_t need = r_record_size(len);
	int died, err = r_enter(b, cap, need, looks, &died);
	if (err)
		return err;
	uint64_t head = *R_HEAD(b), tail = *R_TAIL(b);
	if (!r_sane(cap, head, tail) || !r_fits(cap, head, tail, need)) {
		r_unlock(b, died);
		return r_sane(cap, head, tail) ? EAGAIN : EBADMSG;
	}
	uint64_t off = tail % cap, pad = off + need > cap ? cap - off : 0;
	if (pad) {
		*(uint32_t *)(R_DATA(b) + off) = R_PAD;
		off = 0;
	}
	*(uint32_t *)(R_DATA(b) + off) = len;
	if (len)
		memcpy(R_DATA(b) + off + 4, msg, len);
	__atomic_store_n(R_TAIL(b), tail + pad + need, __ATOMIC_RELEASE);
	r_unlock(b, 1);
	return 0;
}

// ring_receive takes the oldest message into buf, of size bytes, taking the
// lock as r_enter does for looks, and sets *len to its length: 0, EAGAIN
// when the ring is empty, EMSGSIZE when the message is longer than size (it
// stays), EBADMSG for corrupt positions (*len 0) or a record out of bounds
// (longer than max or past tail), or the lock's error.
static int ring_receive(unsigned char *b, uint64_t cap, uint32_t max, unsigned char *buf, uint32_t size, uint32_t *len, int looks) {
	int died, err = r_enter(b, cap, 0, looks, &died);
	if (err)
		return err;
	uint64_t head = *R_HEAD(b), tail = *R_TAIL(b);
	if (!r_sane(cap, head, tail) || head == tail) {
		r_unlock(b, died);
		*len = 0;
		return r_sane(cap, head, tail) ? EAGAIN : EBADMSG;
	}
	uint64_t off = head % cap, skip = 0;
	uint32_t l = *(uint32_t *)(R_DATA(b) + off);
	if (l == R_PAD) {
		skip = cap - off;
		off = 0;
		l = *(uint32_t *)R_DATA(b);
	}
	*len = l;
	if (l > max || head + skip + r_record_size(l) > tail) {
		r_unlock(b, died);
		return EBADMSG;
	}
	if (l > size) {
		r_unlock(b, died);
		return EMSGSIZE;
	}
	memcpy(buf, R_DATA(b) + off + 4, l);
	__atomic_store_n(R_HEAD(b), head + skip + r_record_size(l), __ATOMIC_RELEASE);
	r_unlock(b, 1);
	return 0;
}
*/
import "C"

import (
	"syscall"
	"unsafe"
)

// The 1:1 calls into the shim; each returns its result as an Errno (0 when
// it succeeded). msg and buf are only borrowed for the call. They go as
// *C.uchar, not unsafe.Pointer: cgo then knows they hold no Go pointers and
// skips the pointer check it makes on every call.

func ringSend(base unsafe.Pointer, capacity uint64, msg []byte, looks int) syscall.Errno {
	return syscall.Errno(C.ring_send((*C.uchar)(base), C.uint64_t(capacity),
		cBytes(msg), C.uint32_t(len(msg)), C.int(looks)))
}

func ringReceive(base unsafe.Pointer, capacity uint64, max int, buf []byte, looks int) (n int, e syscall.Errno) {
	var length C.uint32_t
	e = syscall.Errno(C.ring_receive((*C.uchar)(base), C.uint64_t(capacity), C.uint32_t(max),
		cBytes(buf), C.uint32_t(min(len(buf), 1<<32-1)), &length, C.int(looks)))
	return int(length), e
}

// cBytes is the start of b for C (nil for a nil slice).
func cBytes(b []byte) *C.uchar { return (*C.uchar)(unsafe.SliceData(b)) }
