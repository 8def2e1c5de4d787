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

// r_lock takes the ring's lock, watching it a while first (a robust mutex
// sleeps in the kernel as soon as it finds itself taken, and holders hold
// it for a copy). *died tells that the holder had died: the lock is then
// consistent again, and r_unlock moves seq and wakes the sleepers.
static int r_lock(unsigned char *b, int *died) {
	pthread_mutex_t *m = R_LOCK(b);
	for (int i = 0; i < 1000 && __atomic_load_n(&m->__data.__lock, __ATOMIC_RELAXED) != 0; i++)
		r_relax();
	int err = pthread_mutex_lock(m);
	*died = err == EOWNERDEAD;
	if (*died && (err = pthread_mutex_consistent(m)) != 0)
		pthread_mutex_unlock(m);
	return err;
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

// ring_send appends the message of len bytes at msg: 0, EAGAIN when it
// does not fit now, or the lock's error.
static int ring_send(unsigned char *b, uint64_t cap, const unsigned char *msg, uint32_t len) {
	int died, err = r_lock(b, &died);
	if (err)
		return err;
	uint64_t head = *R_HEAD(b), tail = *R_TAIL(b), need = r_record_size(len);
	uint64_t off = tail % cap, pad = off + need > cap ? cap - off : 0;
	if (tail - head + pad + need > cap) {
		r_unlock(b, died);
		return EAGAIN;
	}
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

// ring_receive takes the oldest message into buf, of size bytes, and sets
// *len to its length: 0, EAGAIN when the ring is empty, EMSGSIZE when it
// is longer than size (it stays), EBADMSG for a record out of bounds
// (longer than max or past tail), or the lock's error.
static int ring_receive(unsigned char *b, uint64_t cap, uint32_t max, unsigned char *buf, uint32_t size, uint32_t *len) {
	int died, err = r_lock(b, &died);
	if (err)
		return err;
	uint64_t head = *R_HEAD(b), tail = *R_TAIL(b);
	if (head == tail) {
		r_unlock(b, died);
		return EAGAIN;
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

func ringSend(base unsafe.Pointer, capacity uint64, msg []byte) syscall.Errno {
	return syscall.Errno(C.ring_send((*C.uchar)(base), C.uint64_t(capacity),
		bytes(msg), C.uint32_t(len(msg))))
}

func ringReceive(base unsafe.Pointer, capacity uint64, max int, buf []byte) (n int, e syscall.Errno) {
	var length C.uint32_t
	e = syscall.Errno(C.ring_receive((*C.uchar)(base), C.uint64_t(capacity), C.uint32_t(max),
		bytes(buf), C.uint32_t(min(len(buf), 1<<32-1)), &length))
	return int(length), e
}

func bytes(b []byte) *C.uchar { return (*C.uchar)(unsafe.SliceData(b)) }
