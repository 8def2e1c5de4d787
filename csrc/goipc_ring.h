/* goipc_ring.h: header-only C implementation of goipc's shared-memory
 * message ring, version 2, written from the layout table and atomic rules in
 * package ring's documentation (ring/doc.go). Link with -pthread.
 *
 *   struct goipc_ring r;
 *   goipc_ring_attach(&r, mem, len);        // mem: the mapped ring, page-aligned
 *   goipc_ring_send(&r, msg, len, spin_ns); // waits while full
 *   goipc_ring_recv(&r, buf, cap, &len, spin_ns);
 *   goipc_ring_send_batch(&r, msgs, lens, count, &sent, spin_ns);  // many, one lock a ringful
 *   goipc_ring_recv_batch(&r, bufs, caps, lens, count, &got, spin_ns);
 *
 * Every function returns 0 or an errno value: EAGAIN (try_: full or empty),
 * EINVAL (bad header, message too long), EMSGSIZE (buffer too short: the
 * message stays), EBADMSG (corrupt ring), EBUSY (try_: the lock stayed
 * taken for 100ms), ECANCELED (a waiting call stopped by r.stop), or what
 * the lock returned.
 *
 * A holder keeps the lock for a copy; one that keeps it (a process stopped
 * by SIGSTOP or a debugger inside its section) stops the ring for every
 * process, but not the calls, as in Go (ring/doc.go, Waiting and threads):
 * a try_ call waits for the lock 100ms, then fails with EBUSY; a waiting
 * call (send, recv and their batches) waits for it in slices of 100ms and
 * between them, and after every sleep on the futex (at most a second, cut
 * short by a signal), looks at *r.stop when r.stop is set (after attach):
 * not 0, the call fails with ECANCELED. Point it at a flag that a handler of
 * SIGINT or SIGTERM sets (installed without SA_RESTART) to end a wait on a
 * lock that a stopped process holds; glibc's lock calls retry EINTR, so
 * without it such a wait ends only when the lock comes free. A sleeper
 * stopped before it could take the lock again to leave the sleepers count
 * leaves that to this handle's next taking of the lock. */
#ifndef GOIPC_RING_H
#define GOIPC_RING_H

#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef __USE_GNU
#error "goipc_ring.h needs _GNU_SOURCE (pthread_mutex_clocklock): include it before other headers, or define _GNU_SOURCE first"
#endif

#define GOIPC_RING_MAGIC 0x676e6972u
#define GOIPC_RING_VERSION 2u
#define GOIPC_RING_HEADER 256u
#define GOIPC_RING_PAD 0xffffffffu

#if defined(__x86_64__) || defined(__i386__)
#define goipc_ring_relax() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define goipc_ring_relax() __asm__ __volatile__("yield")
#else
#define goipc_ring_relax()
#endif

struct goipc_ring {
	unsigned char *base;
	uint64_t capacity;
	int full;      /* the last send that took the lock found the ring full: a hint */
	uint64_t next; /* head as the last receive that took the lock left it: a hint */
	const volatile sig_atomic_t *stop; /* set by the caller: not 0 ends waiting calls (ECANCELED) */
	uint32_t owed; /* sleepers this handle counted and has not uncounted yet */
};

/* GOIPC_RING_LOCK_SLICE_NS is how long a try_ call waits for a taken lock
 * (then EBUSY), and how long a waiting call waits for it before it looks at
 * r.stop: Go's lockSlice. */
#define GOIPC_RING_LOCK_SLICE_NS 100000000

#define GR_U32(r, off) ((uint32_t *)((r)->base + (off)))
#define GR_U64(r, off) ((uint64_t *)((r)->base + (off)))
#define GR_MAGIC(r) GR_U32(r, 0)
#define GR_VERSION(r) GR_U32(r, 4)
#define GR_HEADER(r) GR_U32(r, 8)
#define GR_LOCK_SIZE(r) GR_U32(r, 12)
#define GR_CAPACITY(r) GR_U64(r, 16)
#define GR_HEAD(r) GR_U64(r, 64)
#define GR_TAIL(r) GR_U64(r, 72)
#define GR_SEQ(r) GR_U32(r, 80)
#define GR_SLEEPERS(r) GR_U32(r, 84)
#define GR_LOCK(r) ((pthread_mutex_t *)((r)->base + 88))
#define GR_DATA(r) ((r)->base + GOIPC_RING_HEADER)

_Static_assert(88 + sizeof(pthread_mutex_t) <= GOIPC_RING_HEADER, "the lock fits the header");

static inline uint64_t goipc_ring_record_size(uint32_t len) { return ((uint64_t)len + 8 + 7) & ~(uint64_t)7; }

static inline uint32_t goipc_ring_max_message(const struct goipc_ring *r)
{
	return (uint32_t)((r->capacity / 2) & ~(uint64_t)7) - 8;
}

/* The mark word of the record (or pad marker) at position pos, and where it
 * is: the lap of pos plus one, which neither zeroed memory nor a record of
 * an earlier lap at the same offset carries. */
static inline uint32_t goipc_ring_mark(const struct goipc_ring *r, uint64_t pos) { return (uint32_t)(pos / r->capacity + 1); }

static inline uint32_t *goipc_ring_mark_at(const struct goipc_ring *r, uint64_t pos)
{
	return (uint32_t *)(GR_DATA(r) + pos % r->capacity + 4);
}

/* goipc_ring_in_mark_line is how many of the len bytes of a message in a
 * record at offset off of the data area (which starts on a cache line) share
 * the line of the record's mark. */
static inline uint32_t goipc_ring_in_mark_line(uint64_t off, uint32_t len)
{
	uint32_t n = (64 - (off + 8) % 64) % 64;
	return n < len ? n : len;
}

/* goipc_ring_init makes a new ring in len bytes of zeroed shared memory. */
static inline int goipc_ring_init(void *mem, size_t len, uint64_t capacity)
{
	struct goipc_ring r = {.base = mem, .capacity = capacity};
	if (capacity < 64 || capacity % 8 || len < GOIPC_RING_HEADER + capacity)
		return EINVAL;
	memset(mem, 0, GOIPC_RING_HEADER);
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	int err = pthread_mutex_init(GR_LOCK(&r), &a);
	pthread_mutexattr_destroy(&a);
	if (err)
		return err;
	*GR_HEADER(&r) = GOIPC_RING_HEADER;
	*GR_LOCK_SIZE(&r) = sizeof(pthread_mutex_t);
	*GR_CAPACITY(&r) = capacity;
	*GR_VERSION(&r) = GOIPC_RING_VERSION;
	__atomic_store_n(GR_MAGIC(&r), GOIPC_RING_MAGIC, __ATOMIC_RELEASE);
	return 0;
}

/* goipc_ring_attach checks the header of the ring in mem. */
static inline int goipc_ring_attach(struct goipc_ring *r, void *mem, size_t len)
{
	r->base = mem;
	r->full = 0;
	r->next = 0;
	r->stop = NULL;
	r->owed = 0;
	if (len < GOIPC_RING_HEADER + 64 || __atomic_load_n(GR_MAGIC(r), __ATOMIC_ACQUIRE) != GOIPC_RING_MAGIC ||
	    *GR_VERSION(r) != GOIPC_RING_VERSION || *GR_HEADER(r) != GOIPC_RING_HEADER ||
	    *GR_LOCK_SIZE(r) != sizeof(pthread_mutex_t))
		return EINVAL;
	r->capacity = *GR_CAPACITY(r);
	if (r->capacity < 64 || r->capacity % 8 || r->capacity > len - GOIPC_RING_HEADER)
		return EINVAL;
	return 0;
}

static inline void goipc_ring_wake(struct goipc_ring *r)
{
	syscall(SYS_futex, GR_SEQ(r), FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* goipc_ring_stopped tells whether the caller asked waiting calls to end. */
static inline int goipc_ring_stopped(const struct goipc_ring *r) { return r->stop && *r->stop; }

/* goipc_ring_lock takes the lock; *died is set when the owner had died, in
 * which case seq moved and the caller wakes the sleepers after unlocking.
 * A lock that stays taken fails it after a slice with EBUSY, or, with wait,
 * once r.stop says so, with ECANCELED: never a wait that nothing ends. */
static inline int goipc_ring_lock(struct goipc_ring *r, int *died, int wait)
{
	/* Try first, without a look at the lock: a load would fetch its line
	 * shared, and the swap again, for writing. A robust mutex sleeps in the
	 * kernel at once when it is taken; the ring's holders hold it for a
	 * copy, so watch it for a while before that. */
	int err = pthread_mutex_trylock(GR_LOCK(r));
	for (int i = 0; err == EBUSY && i < 1000; i++) {
		goipc_ring_relax();
		if (__atomic_load_n(&GR_LOCK(r)->__data.__lock, __ATOMIC_RELAXED) == 0)
			err = pthread_mutex_trylock(GR_LOCK(r));
	}
	while (err == EBUSY) {
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		t.tv_nsec += GOIPC_RING_LOCK_SLICE_NS;
		if (t.tv_nsec >= 1000000000) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000;
		}
		if ((err = pthread_mutex_clocklock(GR_LOCK(r), CLOCK_MONOTONIC, &t)) != ETIMEDOUT)
			break;
		if (!wait)
			return EBUSY;
		if (goipc_ring_stopped(r))
			return ECANCELED;
		err = EBUSY;
	}
	*died = err == EOWNERDEAD;
	if (*died) {
		__atomic_store_n(GR_SEQ(r), *GR_SEQ(r) + 1, __ATOMIC_RELEASE);
		err = pthread_mutex_consistent(GR_LOCK(r));
	}
	if (!err && r->owed) {
		*GR_SLEEPERS(r) -= r->owed;
		r->owed = 0;
	}
	return err;
}

/* goipc_ring_unlock ends a locked section; if it changed the ring (moved
 * head or tail, or repaired it) seq moves on and the sleepers wake. It
 * returns seq as it left it: the value that goes with what the holder saw,
 * for a caller that waits for the next change (a load of seq before the
 * lock would fetch the lock's line once more). */
static inline uint32_t goipc_ring_unlock(struct goipc_ring *r, int changed, int died)
{
	int wake = 0;
	uint32_t seq = *GR_SEQ(r);
	if (changed)
		__atomic_store_n(GR_SEQ(r), ++seq, __ATOMIC_RELEASE);
	if (changed || died)
		wake = *GR_SLEEPERS(r) != 0;
	pthread_mutex_unlock(GR_LOCK(r));
	if (wake)
		goipc_ring_wake(r);
	return seq;
}

/* goipc_ring_sane tells whether head and tail are positions the rules
 * allow: tail at most capacity past head (the unsigned difference also
 * catches tail < head), both multiples of 8. Others mean a corrupt ring
 * (EBADMSG), never a full or empty one. */
static inline int goipc_ring_sane(const struct goipc_ring *r, uint64_t head, uint64_t tail)
{
	return tail - head <= r->capacity && (head | tail) % 8 == 0;
}

/* goipc_ring_pad is the padding a send of a record of need bytes puts
 * before it: up to the end of the data area if it would pass the end, or,
 * when the ring is empty and the record fits before tail's offset, to go
 * home to the start of the data area, so that a ring that is mostly empty
 * reuses its first lines, warm in both caches, instead of walking its
 * capacity (ring/doc.go, Performance). */
static inline uint64_t goipc_ring_pad(const struct goipc_ring *r, uint64_t head, uint64_t tail, uint64_t need)
{
	uint64_t off = tail % r->capacity;
	return off + need > r->capacity || (head == tail && off >= need) ? r->capacity - off : 0;
}

static inline int goipc_ring_fits(const struct goipc_ring *r, uint64_t head, uint64_t tail, uint64_t need)
{
	return tail - head + goipc_ring_pad(r, head, tail, need) + need <= r->capacity;
}

/* goipc_ring_skip_pad skips a pad marker at head, as a receive would, for
 * a send that finds the ring full: the padding of a send that went home
 * holds the rest of the data area until a receiver passes it, which would
 * leave a streaming sender room for a message or two. It moves head (and the
 * caller seq) only past a marker with a record after it, as in a sane ring,
 * and tells whether it did. */
static inline int goipc_ring_skip_pad(struct goipc_ring *r, uint64_t *head, uint64_t tail)
{
	uint64_t off = *head % r->capacity;
	if (*head == tail || *(uint32_t *)(GR_DATA(r) + off) != GOIPC_RING_PAD || *head + (r->capacity - off) >= tail)
		return 0;
	*head += r->capacity - off;
	__atomic_store_n(GR_HEAD(r), *head, __ATOMIC_RELEASE);
	return 1;
}

/* goipc_ring_put writes the record of the message of len bytes at msg at
 * tail, with the padding before it, in a ring where it fits, and returns the
 * tail that publishes it, which a batch stores once after all its records:
 * tail shares the lock's line, which a peer waiting for the lock keeps taking
 * away, and a store for each record would fetch it back each time. */
static inline uint64_t goipc_ring_put(struct goipc_ring *r, uint64_t head, uint64_t tail, const void *msg, uint32_t len)
{
	uint64_t need = goipc_ring_record_size(len), off = tail % r->capacity, pad = goipc_ring_pad(r, head, tail, need);
	/* The line that a spinning receiver watches last: the message past the
	 * line of the record's mark, then that line, then the pad marker's, so
	 * that a spinner sees a mark only once the message is whole and never
	 * takes a line from the sender while it copies. */
	unsigned char *rec = GR_DATA(r) + (pad ? 0 : off);
	uint32_t first = goipc_ring_in_mark_line(pad ? 0 : off, len);
	if (len > first) /* msg may be NULL for an empty message */
		memcpy(rec + 8 + first, (const unsigned char *)msg + first, len - first);
	*(uint32_t *)rec = len;
	if (first)
		memcpy(rec + 8, msg, first);
	__atomic_store_n(goipc_ring_mark_at(r, tail + pad), goipc_ring_mark(r, tail + pad), __ATOMIC_RELAXED);
	if (pad) {
		*(uint32_t *)(GR_DATA(r) + off) = GOIPC_RING_PAD;
		__atomic_store_n(goipc_ring_mark_at(r, tail), goipc_ring_mark(r, tail), __ATOMIC_RELAXED);
	}
	return tail + pad + need;
}

/* goipc_ring_lock_sane takes the lock (as goipc_ring_lock with wait) and
 * reads head and tail, which must be positions that sends and receives can
 * leave: 0, or the lock's error, or EBADMSG (unlocked again, *seq as
 * goipc_ring_unlock returns it). */
static inline int goipc_ring_lock_sane(struct goipc_ring *r, int *died, uint64_t *head, uint64_t *tail, uint32_t *seq, int wait)
{
	int err = goipc_ring_lock(r, died, wait);
	if (err)
		return err;
	*head = *GR_HEAD(r);
	*tail = *GR_TAIL(r);
	if (!goipc_ring_sane(r, *head, *tail)) {
		*seq = goipc_ring_unlock(r, 0, *died);
		return EBADMSG;
	}
	return 0;
}

/* goipc_ring_try_send_batch_seq sends, under one taking of the lock, as
 * many of the count messages msgs[i] of lens[i] bytes as fit, in order, each
 * its own record, and sets *sent to how many went: 0, or EAGAIN when not
 * even the first fits (the ring is full), EINVAL (before anything is sent)
 * when one is too long. *seq is as goipc_ring_unlock returns it; wait is
 * goipc_ring_lock's. */
static inline int goipc_ring_try_send_batch_seq(struct goipc_ring *r, const void *const *msgs, const uint32_t *lens, int count, int *sent, uint32_t *seq,
						int wait)
{
	*sent = 0;
	if (count <= 0)
		return 0; /* as Go's SendBatch of nothing: no lock taken */
	for (int i = 0; i < count; i++)
		if (lens[i] > goipc_ring_max_message(r))
			return EINVAL;
	int died;
	uint64_t head, tail;
	int err = goipc_ring_lock_sane(r, &died, &head, &tail, seq, wait);
	if (err)
		return err;
	int skipped = 0;
	for (; *sent < count; ++*sent) {
		uint64_t need = goipc_ring_record_size(lens[*sent]);
		if (!goipc_ring_fits(r, head, tail, need) && !skipped)
			skipped = goipc_ring_skip_pad(r, &head, tail);
		if (!goipc_ring_fits(r, head, tail, need))
			break;
		tail = goipc_ring_put(r, head, tail, msgs[*sent], lens[*sent]);
	}
	if (*sent)
		__atomic_store_n(GR_TAIL(r), tail, __ATOMIC_RELEASE);
	r->full = *sent < count;
	*seq = goipc_ring_unlock(r, skipped || *sent, died);
	return *sent ? 0 : EAGAIN;
}

static inline int goipc_ring_try_send_batch(struct goipc_ring *r, const void *const *msgs, const uint32_t *lens, int count, int *sent)
{
	uint32_t seq;
	return goipc_ring_try_send_batch_seq(r, msgs, lens, count, sent, &seq, 0);
}

static inline int goipc_ring_try_send(struct goipc_ring *r, const void *msg, uint32_t len)
{
	int sent;
	return goipc_ring_try_send_batch(r, &msg, &len, 1, &sent);
}

/* goipc_ring_get takes the record at *head, in a sane ring that holds one,
 * into buf, of cap bytes, sets *len to its length (also for EMSGSIZE, to tell
 * how long it is) and moves *head past it, which a batch stores once in the
 * ring after all its records (as tail, goipc_ring_put): 0, or EBADMSG for a
 * record out of bounds and EMSGSIZE for one longer than cap, which stays. */
static inline int goipc_ring_get(struct goipc_ring *r, uint64_t *head, uint64_t tail, void *buf, uint32_t cap, uint32_t *len)
{
	uint64_t off = *head % r->capacity, skip = 0;
	uint32_t l = *(uint32_t *)(GR_DATA(r) + off);
	if (l == GOIPC_RING_PAD) {
		skip = r->capacity - off;
		off = 0;
		l = *(uint32_t *)GR_DATA(r);
	}
	*len = l;
	if (l > goipc_ring_max_message(r) || *head + skip + goipc_ring_record_size(l) > tail)
		return EBADMSG;
	if (l > cap)
		return EMSGSIZE;
	memcpy(buf, GR_DATA(r) + off + 8, l);
	*head += skip + goipc_ring_record_size(l);
	return 0;
}

/* goipc_ring_try_recv_batch_seq takes, under one taking of the lock, up to
 * count messages, oldest first, the i-th into bufs[i] of caps[i] bytes,
 * setting lens[i], and sets *got to how many it took: 0, or for the first
 * EAGAIN (the ring is empty), EMSGSIZE (it stays) or EBADMSG; a later one
 * that is too long or corrupt ends the batch before it without an error,
 * and the next call meets it first. *seq is as goipc_ring_unlock returns
 * it; wait is goipc_ring_lock's. */
static inline int goipc_ring_try_recv_batch_seq(struct goipc_ring *r, void *const *bufs, const uint32_t *caps, uint32_t *lens, int count,
						int *got, uint32_t *seq, int wait)
{
	*got = 0;
	if (count <= 0)
		return 0; /* as Go's ReceiveBatch of nothing, which would else wait forever */
	int died;
	uint64_t head, tail;
	int err = goipc_ring_lock_sane(r, &died, &head, &tail, seq, wait);
	if (err)
		return err;
	for (; *got < count && head != tail; ++*got)
		if ((err = goipc_ring_get(r, &head, tail, bufs[*got], caps[*got], &lens[*got])))
			break;
	if (*got)
		__atomic_store_n(GR_HEAD(r), head, __ATOMIC_RELEASE);
	r->next = head;
	*seq = goipc_ring_unlock(r, *got, died);
	return *got ? 0 : err ? err : EAGAIN;
}

static inline int goipc_ring_try_recv_batch(struct goipc_ring *r, void *const *bufs, const uint32_t *caps, uint32_t *lens, int count, int *got)
{
	uint32_t seq;
	return goipc_ring_try_recv_batch_seq(r, bufs, caps, lens, count, got, &seq, 0);
}

static inline int goipc_ring_try_recv(struct goipc_ring *r, void *buf, uint32_t cap, uint32_t *len)
{
	int got;
	return goipc_ring_try_recv_batch(r, &buf, &cap, len, 1, &got);
}

static inline int64_t goipc_ring_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* goipc_ring_spin_recv spins until spin_end (with a sched_yield every 1024
 * looks, for a peer that waits for this CPU) watching the mark of the record
 * at head, which is in the line the sender writes anyway, not the line of
 * the lock and the positions, which the sender is changing (a look at it in
 * the middle of the sender's section takes it away from the sender). When
 * the mark is there it tries to receive: EAGAIN if spin_end passed or the
 * mark was a hint that the lock proved false (the record at head was taken
 * by another receiver meanwhile). */
static inline int goipc_ring_spin_recv(struct goipc_ring *r, uint64_t head, void *const *bufs, const uint32_t *caps, uint32_t *lens, int count,
				       int *got, int64_t spin_end)
{
	if (head % 8)
		return EAGAIN; /* corrupt: its mark could be past the data area */
	uint32_t *mark = goipc_ring_mark_at(r, head), want = goipc_ring_mark(r, head), seq;
	for (unsigned i = 1;; i++) {
		if (__atomic_load_n(mark, __ATOMIC_ACQUIRE) == want)
			return goipc_ring_try_recv_batch_seq(r, bufs, caps, lens, count, got, &seq, 1);
		if (i % 1024 == 0) {
			if (goipc_ring_now_ns() >= spin_end)
				return EAGAIN;
			sched_yield();
		} else
			goipc_ring_relax();
	}
}

/* goipc_ring_await waits until seq moves from seen: spinning until
 * spin_end (with a sched_yield every 1024 looks), then asleep on the futex,
 * counted among the sleepers, for at most a second (less if a signal comes):
 * 0, or ECANCELED once r.stop says so. A sleeper that cannot take the lock
 * again to uncount itself leaves that to r's next taking of it (r.owed). */
static inline int goipc_ring_await(struct goipc_ring *r, uint32_t seen, int64_t spin_end)
{
	for (unsigned i = 1; goipc_ring_now_ns() < spin_end; i++) {
		if (__atomic_load_n(GR_SEQ(r), __ATOMIC_ACQUIRE) != seen)
			return 0;
		if (i % 1024 == 0)
			sched_yield();
		else
			goipc_ring_relax();
	}
	if (goipc_ring_stopped(r))
		return ECANCELED;
	int died, err = goipc_ring_lock(r, &died, 1);
	if (err)
		return err;
	uint32_t s = *GR_SEQ(r);
	int asleep = s == seen;
	if (asleep) {
		(*GR_SLEEPERS(r))++;
		r->owed++; /* until the next taking of the lock uncounts it */
	}
	goipc_ring_unlock(r, 0, died);
	if (!asleep)
		return 0;
	struct timespec limit = {1, 0};
	if (!goipc_ring_stopped(r))
		syscall(SYS_futex, GR_SEQ(r), FUTEX_WAIT, s, &limit, NULL, 0);
	if ((err = goipc_ring_lock(r, &died, 1)))
		return err;
	goipc_ring_unlock(r, 0, died);
	return goipc_ring_stopped(r) ? ECANCELED : 0;
}

/* goipc_ring_send_batch sends the count messages msgs[i] of lens[i] bytes,
 * in order, each its own record, as many as fit under each taking of the
 * lock, waiting while the ring is full; spin_ns is how long to spin before
 * sleeping. It sets *sent to how many went: all, or fewer with an error. */
static inline int goipc_ring_send_batch(struct goipc_ring *r, const void *const *msgs, const uint32_t *lens, int count, int *sent, int64_t spin_ns)
{
	int64_t spin_end = 0; /* from the first wait: a clock reading costs as much as a send */
	*sent = 0;
	while (*sent < count) {
		uint32_t seen = 0; /* set with EAGAIN */
		int k = 0, err = EAGAIN;
		/* No look at head and tail first, unless the last send found the
		 * ring full: they share the lock's line, which the lock then fetches
		 * a second time, for writing. A look is a hint (seq first); corrupt
		 * positions go on, to fail under the lock. A pad marker at head (a
		 * sender went home) is room the send takes by skipping it. */
		if (r->full) {
			seen = __atomic_load_n(GR_SEQ(r), __ATOMIC_ACQUIRE);
			uint64_t head = __atomic_load_n(GR_HEAD(r), __ATOMIC_ACQUIRE);
			uint64_t used = __atomic_load_n(GR_TAIL(r), __ATOMIC_ACQUIRE) - head;
			uint32_t at_head = __atomic_load_n((uint32_t *)(GR_DATA(r) + head % r->capacity), __ATOMIC_RELAXED);
			if (used > r->capacity || r->capacity - used >= goipc_ring_record_size(lens[*sent]) || at_head == GOIPC_RING_PAD)
				err = goipc_ring_try_send_batch_seq(r, msgs + *sent, lens + *sent, count - *sent, &k, &seen, 1);
		} else
			err = goipc_ring_try_send_batch_seq(r, msgs + *sent, lens + *sent, count - *sent, &k, &seen, 1);
		*sent += k;
		if (err == 0)
			continue;
		if (err != EAGAIN)
			return err;
		if (!spin_end)
			spin_end = goipc_ring_now_ns() + spin_ns;
		if ((err = goipc_ring_await(r, seen, spin_end)))
			return err;
	}
	return 0;
}

/* goipc_ring_send sends, waiting while the ring is full; spin_ns is how
 * long to spin before sleeping. */
static inline int goipc_ring_send(struct goipc_ring *r, const void *msg, uint32_t len, int64_t spin_ns)
{
	int sent;
	return goipc_ring_send_batch(r, &msg, &len, 1, &sent, spin_ns);
}

/* goipc_ring_recv_batch receives up to count messages, oldest first, the
 * i-th into bufs[i] of caps[i] bytes, setting lens[i], under one taking of
 * the lock, waiting while the ring is empty: spinning on the mark at head
 * until spin_ns have passed, then asleep. It sets *got to how many it took,
 * at least one unless it fails; what goipc_ring_try_recv_batch_seq returns
 * for the first. */
static inline int goipc_ring_recv_batch(struct goipc_ring *r, void *const *bufs, const uint32_t *caps, uint32_t *lens, int count, int *got,
					int64_t spin_ns)
{
	int64_t spin_end = 0;
	int watch_mark = spin_ns > 0;
	*got = 0;
	for (;;) {
		/* Hints: the mark of a record at the head this handle last saw,
		 * in the line the sender wrote, not the lock's (which the lock then
		 * fetches a second time, for writing); else head and tail, seq
		 * first, so that a change after the look moves it. Positions off
		 * the grid go on, to fail under the lock. */
		uint32_t seen = 0;
		uint64_t head = r->next;
		int err = EAGAIN;
		if (head % 8 == 0 && __atomic_load_n(goipc_ring_mark_at(r, head), __ATOMIC_ACQUIRE) == goipc_ring_mark(r, head))
			err = goipc_ring_try_recv_batch_seq(r, bufs, caps, lens, count, got, &seen, 1);
		if (err == EAGAIN) {
			seen = __atomic_load_n(GR_SEQ(r), __ATOMIC_ACQUIRE);
			head = __atomic_load_n(GR_HEAD(r), __ATOMIC_ACQUIRE);
			if (head != __atomic_load_n(GR_TAIL(r), __ATOMIC_ACQUIRE) || head % 8 != 0)
				err = goipc_ring_try_recv_batch_seq(r, bufs, caps, lens, count, got, &seen, 1);
		}
		if (err == EAGAIN && !spin_end)
			spin_end = goipc_ring_now_ns() + spin_ns;
		if (err == EAGAIN && watch_mark) {
			err = goipc_ring_spin_recv(r, head, bufs, caps, lens, count, got, spin_end);
			/* Once the spin is over, or a mark proved false (one that a
			 * sender killed before publishing left at tail would stay
			 * true), watch seq instead. */
			watch_mark = 0;
			if (err == EAGAIN)
				continue;
		}
		if (err != EAGAIN || (err = goipc_ring_await(r, seen, spin_end)))
			return err;
	}
}

/* goipc_ring_recv receives, waiting while the ring is empty: spinning on
 * the mark at head until spin_ns have passed, then asleep. */
static inline int goipc_ring_recv(struct goipc_ring *r, void *buf, uint32_t cap, uint32_t *len, int64_t spin_ns)
{
	int got;
	return goipc_ring_recv_batch(r, &buf, &cap, len, 1, &got, spin_ns);
}

#endif
