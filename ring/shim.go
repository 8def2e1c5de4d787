package ring

/*
#cgo CFLAGS: -I${SRCDIR}/../csrc
#cgo LDFLAGS: -pthread
#cgo noescape ring_send
#cgo nocallback ring_send
#cgo noescape ring_receive
#cgo nocallback ring_receive
#cgo noescape ring_send_receive
#cgo nocallback ring_send_receive
#cgo noescape ring_send_batch_n
#cgo nocallback ring_send_batch_n
#cgo noescape ring_receive_batch_n
#cgo nocallback ring_receive_batch_n
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

// The copies of records in and out are goipc_ring.h's, C's implementation,
// so that one code writes records for both. The go command does not see a
// change to that header, outside this directory: after one, build with -a
// (as for ring/internal/cloop).
#include "goipc_ring.h"

// A send's or a receive's whole critical section, as the package
// documentation's atomic rules give it, in one call from Go: each cgo
// crossing costs more than the section itself. The offsets are layout.go's.
#define R_HEAD(b) ((uint64_t *)((b) + 64))
#define R_TAIL(b) ((uint64_t *)((b) + 72))
#define R_SEQ(b) ((uint32_t *)((b) + 80))
#define R_SLEEPERS(b) ((uint32_t *)((b) + 84))
#define R_LOCK(b) ((pthread_mutex_t *)((b) + 88))
#define R_DATA(b) ((b) + 256)
#define R_PAD 0xffffffffu

#if defined(__x86_64__) || defined(__i386__)
#define r_relax() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define r_relax() __asm__ __volatile__("yield")
#else
#define r_relax()
#endif

static uint64_t r_record_size(uint32_t len) { return ((uint64_t)len + 8 + 7) & ~(uint64_t)7; }

// r_mark is the mark word of a record (or pad marker) at position pos: its
// lap, plus one, so that neither zeroed memory nor a record of an earlier
// lap at the same offset carries it.
static uint32_t r_mark(uint64_t cap, uint64_t pos) { return (uint32_t)(pos / cap + 1); }

static uint32_t *r_mark_at(unsigned char *b, uint64_t cap, uint64_t pos) {
	return (uint32_t *)(R_DATA(b) + pos % cap + 4);
}

// r_locked completes taking the lock with the result err: *died tells that
// the holder had died; the lock is then consistent again, and r_unlock(b, 1)
// moves seq and wakes the sleepers.
static int r_locked(unsigned char *b, int err, int *died) {
	*died = err == EOWNERDEAD;
	if (*died && (err = pthread_mutex_consistent(R_LOCK(b))) != 0)
		pthread_mutex_unlock(R_LOCK(b));
	return err;
}

#if defined(__x86_64__) || defined(__i386__)
#define r_prefetch_write(p) __asm__ __volatile__("prefetchw %0" : : "m"(*(p)))
#else
#define r_prefetch_write(p) __builtin_prefetch((p), 1)
#endif

// r_try takes the lock if it is free, never waiting: ETIMEDOUT if not. It
// fetches the lock's line for writing first (PREFETCHW: a no-op where there
// is none): pthread_mutex_trylock loads the lock word before its
// compare-and-swap, and a load would fetch the line shared, the swap
// again, for writing. Not pthread_mutex_clocklock with a time past, whose
// swap comes first but which, finding the lock taken, marks it as waited
// for and enters the kernel, where the deadline ends the wait; the
// holder's unlock then enters it too, to wake no one: a syscall on each
// side for every collision, which two processes streaming through one ring
// meet at almost every message.
static int r_try(unsigned char *b) {
	r_prefetch_write(&R_LOCK(b)->__data.__lock);
	int err = pthread_mutex_trylock(R_LOCK(b));
	return err == EBUSY ? ETIMEDOUT : err;
}

// r_spin_lock takes the ring's lock if it is free or freed while it
// watches it a while (a robust mutex sleeps in the kernel as soon as it
// finds itself taken, and holders hold it for a copy): ETIMEDOUT if not.
static int r_spin_lock(unsigned char *b) {
	pthread_mutex_t *m = R_LOCK(b);
	int err = r_try(b);
	for (int i = 0; err == ETIMEDOUT && i < 1000; i++) {
		r_relax();
		if (__atomic_load_n(&m->__data.__lock, __ATOMIC_RELAXED) == 0)
			err = r_try(b);
	}
	return err;
}

// r_lock takes the ring's lock, trying it once and then sleeping for a
// slice of 100ms at most: ETIMEDOUT if it stayed taken. Go makes it again
// after a look at the ring and the call (a thread asleep on the futex of a
// ring that another process truncates would never be woken, see fault.go;
// one whose context ended, or whose ring was closed, leaves). Go calls it
// only after a watch of the lock (looks -1) ended with the lock taken, so
// it does not watch again.
static int r_lock(unsigned char *b, int *died) {
	int err = r_try(b);
	if (err == ETIMEDOUT) {
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		t.tv_nsec += 100000000;
		if (t.tv_nsec >= 1000000000) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000;
		}
		err = pthread_mutex_clocklock(R_LOCK(b), CLOCK_MONOTONIC, &t);
	}
	return err == ETIMEDOUT ? err : r_locked(b, err, died);
}

// r_sane tells whether head and tail are positions the rules allow: tail
// at most capacity past head (also false when tail < head: the difference
// wraps), both multiples of 8. Anything else is a corrupt ring, which must
// not read as full or empty, and send and receive fail with EBADMSG.
static int r_sane(uint64_t cap, uint64_t head, uint64_t tail) {
	return tail - head <= cap && (head | tail) % 8 == 0;
}

// r_pad is the padding a send of a record of need bytes puts before it:
// up to the end of the data area if it would pass the end, or if the ring
// is empty and the record fits before tail's offset, to go home to the start
// of the data area (a ring that is mostly empty then reuses its first lines,
// warm in both caches, instead of walking its capacity).
static uint64_t r_pad(uint64_t cap, uint64_t head, uint64_t tail, uint64_t need) {
	uint64_t off = tail % cap;
	return off + need > cap || (head == tail && off >= need) ? cap - off : 0;
}

// r_fits tells whether a record of need bytes fits after tail, with the
// padding before it.
static int r_fits(uint64_t cap, uint64_t head, uint64_t tail, uint64_t need) {
	return tail - head + r_pad(cap, head, tail, need) + need <= cap;
}

// r_ready tells whether a call could go on now, from a look at head and
// tail without the lock: a record of need bytes fits (send), or with need
// 0 the ring holds a record (receive); or the positions look corrupt, which
// the call must see under the lock too, to fail.
static int r_ready_at(uint64_t cap, uint64_t head, uint64_t tail, uint64_t need) {
	return !r_sane(cap, head, tail) || (need ? r_fits(cap, head, tail, need) : head != tail);
}

static int r_ready(unsigned char *b, uint64_t cap, uint64_t need) {
	return r_ready_at(cap, __atomic_load_n(R_HEAD(b), __ATOMIC_ACQUIRE), __atomic_load_n(R_TAIL(b), __ATOMIC_ACQUIRE), need);
}

// r_enter takes the lock for a send (need bytes) or a receive (need 0). With
// looks 0 it takes it at once, waiting for a holder a slice at most
// (ETIMEDOUT: see r_lock); with looks -1 only if it is free or freed within
// r_spin_lock's watch, never asleep in the kernel (EBUSY if not), without a
// look at the ring. Otherwise it watches the
// ring up to looks times, a pause apart, and takes the lock as soon as the
// call looks ready; it never waits for the lock, so that a spinning thread
// never sleeps in the kernel: EAGAIN when it did not take it.
//
// A sender waits for room, watching head and tail. A receiver looks at
// them once, then watches the mark word of the record at head, which is in
// the line the sender writes anyway, and not the line of the lock and the
// positions, which the sender is changing: a look at it takes it away from
// the sender in the middle of its section, and the sender has to fetch it
// back. The mark is a hint: a record at a head that another receiver took
// meanwhile has its mark too, and the lock then tells the truth; a mark
// already at the head of an empty ring is one that a sender killed before
// publishing left, and the receiver watches head and tail instead.
static int r_enter(unsigned char *b, uint64_t cap, uint64_t need, int looks, int *died) {
	if (looks == 0)
		return r_lock(b, died);
	if (looks < 0) {
		int err = r_spin_lock(b);
		return err == ETIMEDOUT ? EBUSY : r_locked(b, err, died);
	}
	uint64_t head = __atomic_load_n(R_HEAD(b), __ATOMIC_ACQUIRE), tail = __atomic_load_n(R_TAIL(b), __ATOMIC_ACQUIRE);
	int ready = r_ready_at(cap, head, tail, need);
	// Not ready means sane: head is on the grid, and its mark in the data area.
	uint32_t *mark = r_mark_at(b, cap, head), want = r_mark(cap, head);
	int by_mark = !need && !ready && __atomic_load_n(mark, __ATOMIC_RELAXED) != want;
	for (int i = 0; i < looks; i++) {
		if (ready) {
			int err = r_try(b);
			if (err != ETIMEDOUT)
				return r_locked(b, err, died);
		}
		r_relax();
		ready = by_mark ? __atomic_load_n(mark, __ATOMIC_ACQUIRE) == want : r_ready(b, cap, need);
	}
	return EAGAIN;
}

// r_unlock unlocks, moving seq on and waking the sleepers if the ring
// changed, and returns seq as it left it: the value that goes with what the
// holder saw, for a caller that waits for the next change (a load of seq
// before the lock would fetch the lock's line once more).
static uint32_t r_unlock(unsigned char *b, int changed) {
	int wake = 0;
	uint32_t seq = *R_SEQ(b);
	if (changed) {
		__atomic_store_n(R_SEQ(b), ++seq, __ATOMIC_RELEASE);
		wake = __atomic_load_n(R_SLEEPERS(b), __ATOMIC_RELAXED) != 0;
	}
	pthread_mutex_unlock(R_LOCK(b));
	if (wake)
		syscall(SYS_futex, R_SEQ(b), FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	return seq;
}

// r_skip_pad skips a pad marker at head, as a receive would, for a send
// that finds the ring full: the padding of a send that went home holds the
// rest of the data area until a receiver passes it, which would leave a
// streaming sender room for a message or two. It moves head (and the caller
// seq) only past a marker with a record after it, as in a sane ring, and
// tells whether it did.
static int r_skip_pad(unsigned char *b, uint64_t cap, uint64_t *head, uint64_t tail) {
	uint64_t off = *head % cap;
	if (*head == tail || *(uint32_t *)(R_DATA(b) + off) != R_PAD || *head + (cap - off) >= tail)
		return 0;
	*head += cap - off;
	__atomic_store_n(R_HEAD(b), *head, __ATOMIC_RELEASE);
	return 1;
}

// r_put is goipc_ring_put: the record of the message of len bytes at msg
// written at tail, with the padding before it, in a ring where it fits; it
// returns the tail that publishes it, for the caller to store: ring_send's
// copy, and each of ring_send_batch's, which stores tail once after all.
static uint64_t r_put(unsigned char *b, uint64_t cap, uint64_t head, uint64_t tail, const unsigned char *msg, uint32_t len) {
	struct goipc_ring r = {.base = b, .capacity = cap};
	return goipc_ring_put(&r, head, tail, msg, len);
}

// ring_send appends the message of len bytes at msg, taking the lock as
// r_enter does for looks: 0, EAGAIN when it does not fit now (with *seq
// what r_unlock returned, when it took the lock), EBUSY when it did not
// take the lock with looks -1, EBADMSG when head and tail are corrupt, or
// the lock's error.
static int ring_send(unsigned char *b, uint64_t cap, const unsigned char *msg, uint32_t len, int looks, uint32_t *seq) {
	uint64_t need = r_record_size(len);
	int died, err = r_enter(b, cap, need, looks, &died);
	if (err)
		return err;
	uint64_t head = *R_HEAD(b), tail = *R_TAIL(b);
	if (!r_sane(cap, head, tail)) {
		*seq = r_unlock(b, died);
		return EBADMSG;
	}
	int skipped = !r_fits(cap, head, tail, need) && r_skip_pad(b, cap, &head, tail);
	if (!r_fits(cap, head, tail, need)) {
		*seq = r_unlock(b, died || skipped);
		return EAGAIN;
	}
	__atomic_store_n(R_TAIL(b), r_put(b, cap, head, tail, msg, len), __ATOMIC_RELEASE);
	r_unlock(b, 1);
	return 0;
}

// r_get is goipc_ring_get: the record at *head, in a sane ring that holds
// one, taken into buf, of size bytes, *len set to its length and *head moved
// past it, for the caller to store: 0, or EBADMSG for a record out of bounds
// (longer than goipc_ring_max_message, or past tail) and
// EMSGSIZE for one longer than size, which stays. ring_receive's copy, and
// each of ring_receive_batch's.
static int r_get(unsigned char *b, uint64_t cap, uint64_t *head, uint64_t tail, unsigned char *buf, uint32_t size, uint32_t *len) {
	struct goipc_ring r = {.base = b, .capacity = cap};
	return goipc_ring_get(&r, head, tail, buf, size, len);
}

// ring_receive takes the oldest message into buf, of size bytes, taking the
// lock as r_enter does for looks, and sets *len to its length: 0, EAGAIN
// when the ring is empty (*seq as ring_send sets it), EMSGSIZE when the
// message is longer than size (it stays), EBADMSG for corrupt positions
// (*len 0) or a record out of bounds (longer than the ring's largest message or past tail), or the
// lock's error. When it took the lock of a sane ring, it stores head as it
// left it in *next (atomically: a hint that Go reads without the lock).
static int ring_receive(unsigned char *b, uint64_t cap, unsigned char *buf, uint32_t size, uint32_t *len, int looks, uint32_t *seq, uint64_t *next) {
	int died, err = r_enter(b, cap, 0, looks, &died);
	if (err)
		return err;
	uint64_t head = *R_HEAD(b), tail = *R_TAIL(b);
	if (!r_sane(cap, head, tail) || head == tail) {
		*seq = r_unlock(b, died);
		*len = 0;
		if (!r_sane(cap, head, tail))
			return EBADMSG;
		__atomic_store_n(next, head, __ATOMIC_RELAXED);
		return EAGAIN;
	}
	__atomic_store_n(next, head, __ATOMIC_RELAXED);
	if ((err = r_get(b, cap, &head, tail, buf, size, len))) {
		r_unlock(b, died);
		return err;
	}
	__atomic_store_n(R_HEAD(b), head, __ATOMIC_RELEASE);
	__atomic_store_n(next, head, __ATOMIC_RELAXED);
	r_unlock(b, 1);
	return 0;
}

// ring_send_receive is ring_send on the ring at sb with looks -1 (the lock
// only if it is free soon: no sleep, hence no turn on the sender's r.turn)
// and then, if the message went, ring_receive on the ring at rb with looks
// (> 0: spinning; 0 skips the receive, which then fails with EAGAIN):
// MPI_Sendrecv's two halves in one crossing from Go. It returns the send's
// result (EBUSY: not sent, the lock being taken; EAGAIN: the ring full) and sets
// *recv_err to the receive's, which it leaves alone when the send failed.
// msg is copied before anything is written to buf: they may overlap.
static int ring_send_receive(unsigned char *sb, uint64_t scap, const unsigned char *msg, uint32_t mlen,
		unsigned char *rb, uint64_t rcap, unsigned char *buf, uint32_t size, uint32_t *len,
		int looks, uint32_t *seq, uint64_t *next, int *recv_err) {
	int err = ring_send(sb, scap, msg, mlen, -1, seq);
	if (err)
		return err;
	*recv_err = looks > 0 ? ring_receive(rb, rcap, buf, size, len, looks, seq, next) : EAGAIN;
	return 0;
}
// ring_send_batch appends the count messages at msgs[i], of lens[i] bytes,
// in order, each its own record published as ring_send publishes it, as
// many as fit, under one lock taken as r_enter does for looks (ready when
// the first fits), and sets *sent to how many went: ring_send's results,
// EAGAIN when none fit.
static int ring_send_batch(unsigned char *b, uint64_t cap, const unsigned char *const *msgs, const uint32_t *lens, int count, int looks, uint32_t *seq, int *sent) {
	*sent = 0;
	int died, err = r_enter(b, cap, r_record_size(lens[0]), looks, &died);
	if (err)
		return err;
	uint64_t head = *R_HEAD(b), tail = *R_TAIL(b);
	if (!r_sane(cap, head, tail)) {
		*seq = r_unlock(b, died);
		return EBADMSG;
	}
	int skipped = 0;
	for (; *sent < count; ++*sent) {
		uint64_t need = r_record_size(lens[*sent]);
		if (!r_fits(cap, head, tail, need) && !skipped)
			skipped = r_skip_pad(b, cap, &head, tail);
		if (!r_fits(cap, head, tail, need))
			break;
		tail = r_put(b, cap, head, tail, msgs[*sent], lens[*sent]);
	}
	if (*sent)
		__atomic_store_n(R_TAIL(b), tail, __ATOMIC_RELEASE);
	*seq = r_unlock(b, died || skipped || *sent);
	return *sent ? 0 : EAGAIN;
}

// ring_receive_batch takes up to count messages, oldest first, into bufs[i],
// of sizes[i] bytes, setting lens[i], under one lock taken as r_enter does
// for looks, and sets *got to how many it took: ring_receive's results for
// the first (EMSGSIZE: lens[0] is its length), and it stops without an error
// before a later one that is too long or out of bounds, which the next call
// meets first. It stores head as it left it in *next.
static int ring_receive_batch(unsigned char *b, uint64_t cap, unsigned char *const *bufs, const uint32_t *sizes, uint32_t *lens, int count,
		int looks, uint32_t *seq, uint64_t *next, int *got) {
	*got = 0;
	lens[0] = 0;
	int died, err = r_enter(b, cap, 0, looks, &died);
	if (err)
		return err;
	uint64_t head = *R_HEAD(b), tail = *R_TAIL(b);
	if (!r_sane(cap, head, tail)) {
		*seq = r_unlock(b, died);
		return EBADMSG;
	}
	for (; *got < count && head != tail; ++*got)
		if ((err = r_get(b, cap, &head, tail, bufs[*got], sizes[*got], &lens[*got])))
			break;
	if (*got)
		__atomic_store_n(R_HEAD(b), head, __ATOMIC_RELEASE);
	__atomic_store_n(next, head, __ATOMIC_RELAXED);
	*seq = r_unlock(b, died || *got);
	return *got ? 0 : err ? err : EAGAIN;
}

// R_BATCH is how many messages one crossing from Go carries: cgo lets Go
// pass a pointer to memory only if that memory holds no Go pointers, so
// the messages come as arguments, which the _n forms put in an array.
#define R_BATCH 32
#define R_ARGS(T, p) T p##0, T p##1, T p##2, T p##3, T p##4, T p##5, T p##6, T p##7, T p##8, T p##9, T p##10, \
	T p##11, T p##12, T p##13, T p##14, T p##15, T p##16, T p##17, T p##18, T p##19, T p##20, \
	T p##21, T p##22, T p##23, T p##24, T p##25, T p##26, T p##27, T p##28, T p##29, T p##30, \
	T p##31
#define R_ARRAY(p) {p##0, p##1, p##2, p##3, p##4, p##5, p##6, p##7, p##8, p##9, p##10, p##11, p##12, p##13, \
	p##14, p##15, p##16, p##17, p##18, p##19, p##20, p##21, p##22, p##23, p##24, p##25, p##26, \
	p##27, p##28, p##29, p##30, p##31}

static int ring_send_batch_n(unsigned char *b, uint64_t cap, const uint32_t *lens, int count, int looks, uint32_t *seq, int *sent,
		R_ARGS(const unsigned char *, m)) {
	const unsigned char *msgs[R_BATCH] = R_ARRAY(m);
	return ring_send_batch(b, cap, msgs, lens, count, looks, seq, sent);
}

static int ring_receive_batch_n(unsigned char *b, uint64_t cap, const uint32_t *sizes, uint32_t *lens, int count,
		int looks, uint32_t *seq, uint64_t *next, int *got, R_ARGS(unsigned char *, p)) {
	unsigned char *bufs[R_BATCH] = R_ARRAY(p);
	return ring_receive_batch(b, cap, bufs, sizes, lens, count, looks, seq, next, got);
}
*/
import "C"

import (
	"syscall"
	"unsafe"
)

// The 1:1 calls into the shim; each returns its result as an Errno (0 when
// it succeeded). msg, buf and next are only borrowed for the call; the
// shim stores into next atomically, for readers that load it with
// atomic.LoadUint64 (a store in Go would be one more locked instruction
// per receive). They go as
// *C.uchar, not unsafe.Pointer: cgo then knows they hold no Go pointers and
// skips the pointer check it makes on every call.

func ringSend(base unsafe.Pointer, capacity uint64, msg []byte, looks int) (seq uint32, e syscall.Errno) {
	var s C.uint32_t
	e = syscall.Errno(C.ring_send((*C.uchar)(base), C.uint64_t(capacity),
		cBytes(msg), C.uint32_t(len(msg)), C.int(looks), &s))
	return uint32(s), e
}

func ringReceive(base unsafe.Pointer, capacity uint64, buf []byte, looks int, next *uint64) (n int, seq uint32, e syscall.Errno) {
	var length, s C.uint32_t
	e = syscall.Errno(C.ring_receive((*C.uchar)(base), C.uint64_t(capacity),
		cBytes(buf), C.uint32_t(min(len(buf), 1<<32-1)), &length, C.int(looks), &s, (*C.uint64_t)(next)))
	return int(length), uint32(s), e
}

// ringSendReceive is ring_send_receive: send is the send's result, recv the
// receive's (EAGAIN when the send failed or looks is 0).
func ringSendReceive(to unsafe.Pointer, toCapacity uint64, msg []byte, from unsafe.Pointer, fromCapacity uint64,
	buf []byte, looks int, next *uint64) (n int, seq uint32, send, recv syscall.Errno) {
	var length, s C.uint32_t
	re := C.int(syscall.EAGAIN)
	send = syscall.Errno(C.ring_send_receive((*C.uchar)(to), C.uint64_t(toCapacity), cBytes(msg), C.uint32_t(len(msg)),
		(*C.uchar)(from), C.uint64_t(fromCapacity), cBytes(buf), C.uint32_t(min(len(buf), 1<<32-1)), &length,
		C.int(looks), &s, (*C.uint64_t)(next), &re))
	return int(length), uint32(s), send, syscall.Errno(re)
}

// cBytes is the start of b for C (nil for a nil slice).
func cBytes(b []byte) *C.uchar { return (*C.uchar)(unsafe.SliceData(b)) }

// batchMax is how many messages one batch crossing carries (R_BATCH).
const batchMax = C.R_BATCH

// ringSendBatch is ring_send_batch on the first batchMax of msgs (at least
// one): how many went.
func ringSendBatch(base unsafe.Pointer, capacity uint64, msgs [][]byte, looks int) (sent int, seq uint32, e syscall.Errno) {
	var lens [batchMax]C.uint32_t
	var m [batchMax]*C.uchar
	count := min(len(msgs), batchMax)
	for i, msg := range msgs[:count] {
		lens[i], m[i] = C.uint32_t(len(msg)), cBytes(msg)
	}
	var s C.uint32_t
	var n C.int
	e = syscall.Errno(C.ring_send_batch_n((*C.uchar)(base), C.uint64_t(capacity), &lens[0], C.int(count), C.int(looks), &s, &n,
		m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7],
		m[8], m[9], m[10], m[11], m[12], m[13], m[14], m[15],
		m[16], m[17], m[18], m[19], m[20], m[21], m[22], m[23],
		m[24], m[25], m[26], m[27], m[28], m[29], m[30], m[31]))
	return int(n), uint32(s), e
}

// ringReceiveBatch is ring_receive_batch into the first batchMax of bufs
// (at least one), setting lens: how many it took.
func ringReceiveBatch(base unsafe.Pointer, capacity uint64, bufs [][]byte, lens []int, looks int, next *uint64) (got int, seq uint32, e syscall.Errno) {
	var sizes, ls [batchMax]C.uint32_t
	var p [batchMax]*C.uchar
	count := min(len(bufs), batchMax)
	for i, buf := range bufs[:count] {
		sizes[i], p[i] = C.uint32_t(min(len(buf), 1<<32-1)), cBytes(buf)
	}
	var s C.uint32_t
	var n C.int
	e = syscall.Errno(C.ring_receive_batch_n((*C.uchar)(base), C.uint64_t(capacity), &sizes[0], &ls[0], C.int(count),
		C.int(looks), &s, (*C.uint64_t)(next), &n,
		p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7],
		p[8], p[9], p[10], p[11], p[12], p[13], p[14], p[15],
		p[16], p[17], p[18], p[19], p[20], p[21], p[22], p[23],
		p[24], p[25], p[26], p[27], p[28], p[29], p[30], p[31]))
	lens[0] = int(ls[0])
	for i := 1; i < int(n); i++ {
		lens[i] = int(ls[i])
	}
	return int(n), uint32(s), e
}
