/* ring_variants SIZE BLOCKS TRIPS: the A/B experiment behind the ring's
 * layout version 2 (ring/doc.go, Performance). It times round trips of SIZE
 * bytes between this process and a forked child, each pinned to a CPU, over
 * pairs of rings laid out and watched in several ways, and through the flag
 * ping-pong of flag_pingpong.h (the C baseline, csrc/mmap_pingpong.c), in
 * BLOCKS rounds that take turns, TRIPS round trips a variant each: on a VM
 * whose CPUs move on the host, only figures from the same round compare. It
 * prints, per variant, the median of its rounds' medians and of its ratio to
 * the ping-pong's median in the same round.
 *
 * Every variant keeps the ring's crash-safety rules (a robust mutex guards
 * every change; tail and head move by one store after what they publish);
 * they differ in where head, tail and seq are, what a spinning receiver
 * watches, and whether a locker loads the lock before it swaps:
 *
 *   v1        version 1: lock at 64, positions on the line at 128; a spinner
 *             watches the positions and the lock word, then swaps
 *   v1+mark   version 1's lines, version 2's records and spinning
 *   line      positions in the lock's line (version 2's header), version 1's
 *             spinning
 *   line+pf   line, and each side prefetches the record's line before it locks
 *   line+bo   line, and a spinner backs off (8 pauses) while the lock is held
 *   v2        version 2: positions in the lock's line, a spinner watches the
 *             record's mark and swaps without a look at the lock
 *   v2+a64    v2 with records on 64-byte boundaries
 *
 * The rings here are this program's own, small and spin-only (no futex):
 * goipc_ring.h is the implementation. */
#include "goipc_ring.h" /* first (_GNU_SOURCE); for goipc_ring_relax and goipc_ring_now_ns */
#include "flag_pingpong.h"
#include "pin.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define relax() goipc_ring_relax()

enum { CAP = 65536, RING = 256 + CAP };
#define PAD GOIPC_RING_PAD

struct variant {
	const char *name;
	int lock, head, tail, seq, sleepers; /* offsets in the header */
	int mark;                            /* records carry a mark; spinners watch it */
	int align;                           /* records start at multiples of this */
	int prefetch, backoff;
};

#define V1 .lock = 64, .head = 128, .tail = 136, .seq = 144, .sleepers = 148
#define V2 .lock = 88, .head = 64, .tail = 72, .seq = 80, .sleepers = 84
static const struct variant variants[] = {
	{.name = "pingpong"},
	{.name = "v1", V1, .align = 8},
	{.name = "v1+mark", V1, .mark = 1, .align = 8},
	{.name = "line", V2, .align = 8},
	{.name = "line+pf", V2, .align = 8, .prefetch = 1},
	{.name = "line+bo", V2, .align = 8, .backoff = 1},
	{.name = "v2", V2, .mark = 1, .align = 8},
	{.name = "v2+a64", V2, .mark = 1, .align = 64},
};
enum { NV = sizeof variants / sizeof variants[0] };

struct ring {
	unsigned char *b;
	const struct variant *v;
};

#define LOCK(r) ((pthread_mutex_t *)((r)->b + (r)->v->lock))
#define U64(r, field) ((uint64_t *)((r)->b + (r)->v->field))
#define U32(r, field) ((uint32_t *)((r)->b + (r)->v->field))
#define DATA(r) ((r)->b + 256)

static uint64_t header_of(const struct ring *r) { return r->v->mark ? 8 : 4; }

static uint64_t record_size(const struct ring *r, uint32_t len)
{
	uint64_t a = r->v->align;
	return (header_of(r) + len + a - 1) & ~(a - 1);
}

static uint32_t mark(uint64_t pos) { return (uint32_t)(pos / CAP + 1); }
static uint32_t *mark_at(struct ring *r, uint64_t pos) { return (uint32_t *)(DATA(r) + pos % CAP + 4); }
static int lock_free(struct ring *r) { return __atomic_load_n(&LOCK(r)->__data.__lock, __ATOMIC_RELAXED) == 0; }

static void init(struct ring *r)
{
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(LOCK(r), &a);
}

/* unlock_changed ends a section that moved head or tail, as the rules say. */
static void unlock_changed(struct ring *r)
{
	__atomic_store_n(U32(r, seq), *U32(r, seq) + 1, __ATOMIC_RELEASE);
	if (__atomic_load_n(U32(r, sleepers), __ATOMIC_RELAXED) != 0)
		abort(); /* nobody sleeps here */
	pthread_mutex_unlock(LOCK(r));
}

/* wait_turn is a spinner's pause: a back-off while the lock is held, for
 * the variant that tries it. */
static void wait_turn(struct ring *r)
{
	relax();
	for (int i = 0; r->v->backoff && i < 8 && !lock_free(r); i++)
		relax();
}

static void send(struct ring *r, const void *msg, uint32_t len)
{
	uint64_t need = record_size(r, len);
	for (;;) {
		if (!r->v->mark) { /* version 1: look, then swap */
			uint64_t head = __atomic_load_n(U64(r, head), __ATOMIC_ACQUIRE);
			uint64_t tail = __atomic_load_n(U64(r, tail), __ATOMIC_ACQUIRE);
			if (tail - head + need > CAP || !lock_free(r)) {
				wait_turn(r);
				continue;
			}
			if (r->v->prefetch)
				__builtin_prefetch(DATA(r) + tail % CAP, 1);
		}
		if (pthread_mutex_trylock(LOCK(r)) != 0) {
			wait_turn(r);
			continue;
		}
		uint64_t head = *U64(r, head), tail = *U64(r, tail);
		uint64_t off = tail % CAP, pad = off + need > CAP ? CAP - off : 0;
		if (tail - head + pad + need > CAP) {
			pthread_mutex_unlock(LOCK(r));
			wait_turn(r);
			continue;
		}
		if (pad) {
			*(uint32_t *)(DATA(r) + off) = PAD;
			if (r->v->mark)
				*mark_at(r, tail) = mark(tail);
			off = 0;
		}
		*(uint32_t *)(DATA(r) + off) = len;
		memcpy(DATA(r) + off + header_of(r), msg, len);
		if (r->v->mark)
			__atomic_store_n(mark_at(r, tail + pad), mark(tail + pad), __ATOMIC_RELAXED);
		__atomic_store_n(U64(r, tail), tail + pad + need, __ATOMIC_RELEASE);
		unlock_changed(r);
		return;
	}
}

static uint32_t receive(struct ring *r, void *buf)
{
	for (;;) {
		uint64_t head = __atomic_load_n(U64(r, head), __ATOMIC_ACQUIRE);
		if (r->v->mark) { /* version 2: watch the mark, then swap at once */
			uint32_t *m = mark_at(r, head), want = mark(head);
			while (__atomic_load_n(m, __ATOMIC_ACQUIRE) != want)
				relax();
		} else if (head == __atomic_load_n(U64(r, tail), __ATOMIC_ACQUIRE) || !lock_free(r)) {
			wait_turn(r);
			continue;
		} else if (r->v->prefetch)
			__builtin_prefetch(DATA(r) + head % CAP);
		if (pthread_mutex_trylock(LOCK(r)) != 0)
			continue;
		head = *U64(r, head);
		if (head == *U64(r, tail)) {
			pthread_mutex_unlock(LOCK(r));
			continue;
		}
		uint64_t off = head % CAP, skip = 0;
		uint32_t len = *(uint32_t *)(DATA(r) + off);
		if (len == PAD) {
			skip = CAP - off;
			off = 0;
			len = *(uint32_t *)DATA(r);
		}
		memcpy(buf, DATA(r) + off + header_of(r), len);
		__atomic_store_n(U64(r, head), head + skip + record_size(r, len), __ATOMIC_RELEASE);
		unlock_changed(r);
		return len;
	}
}

static int cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: ring_variants SIZE BLOCKS TRIPS\n");
		return 2;
	}
	int size = atoi(argv[1]), blocks = atoi(argv[2]), trips = atoi(argv[3]);
	if (size <= 0 || size > PAGE || blocks <= 0 || trips <= 0) {
		fprintf(stderr, "ring_variants: SIZE must be 1..%d, BLOCKS and TRIPS positive\n", PAGE);
		return 2;
	}
	/* a control page (the variant the child serves next), the ping-pong's
	 * three pages, then a pair of rings per variant */
	size_t len = 4 * PAGE + (size_t)NV * 2 * RING;
	unsigned char *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	uint32_t *turn = (uint32_t *)mem, *flag = (uint32_t *)(mem + PAGE);
	unsigned char *ping_area = mem + PAGE + PING_OFF, *pong_area = mem + PAGE + PONG_OFF;
	struct ring ping[NV], pong[NV];
	for (int v = 1; v < NV; v++) {
		ping[v] = (struct ring){mem + 4 * PAGE + (size_t)(2 * v) * RING, &variants[v]};
		pong[v] = (struct ring){mem + 4 * PAGE + (size_t)(2 * v + 1) * RING, &variants[v]};
		init(&ping[v]);
		init(&pong[v]);
	}
	static unsigned char msg[PAGE], buf[PAGE];
	memset(msg, 'p', size);
	pid_t pid = fork_pinned();
	if (pid == 0) { /* the echo: turn n serves variant (n-1) % NV */
		for (uint32_t n = 1;; n++) {
			uint32_t t;
			while ((t = __atomic_load_n(turn, __ATOMIC_ACQUIRE)) < n)
				relax();
			if (t == UINT32_MAX)
				_exit(0);
			int v = (n - 1) % NV;
			for (int i = 0; i < WARMUP + trips; i++) {
				if (v == 0) {
					await(flag, FLAG_PING, FLAG_PING);
					memcpy(buf, ping_area, size);
					memcpy(pong_area, buf, size);
					__atomic_store_n(flag, FLAG_PONG, __ATOMIC_SEQ_CST);
				} else
					send(&pong[v], buf, receive(&ping[v], buf));
			}
		}
	}
	int64_t *samples = malloc(sizeof(int64_t) * trips);
	int64_t(*median)[NV] = calloc(blocks, sizeof *median);
	uint32_t n = 0;
	for (int b = 0; b < blocks; b++)
		for (int v = 0; v < NV; v++) {
			__atomic_store_n(turn, ++n, __ATOMIC_RELEASE);
			for (int i = -WARMUP; i < trips; i++) {
				int64_t start = goipc_ring_now_ns();
				if (v == 0) {
					memcpy(ping_area, msg, size);
					__atomic_store_n(flag, FLAG_PING, __ATOMIC_SEQ_CST);
					await(flag, FLAG_PONG, FLAG_PONG);
					memcpy(buf, pong_area, size);
				} else {
					send(&ping[v], msg, size);
					receive(&pong[v], buf);
				}
				if (i >= 0)
					samples[i] = goipc_ring_now_ns() - start;
			}
			if (memcmp(buf, msg, size) != 0) {
				fprintf(stderr, "ring_variants: %s: the reply differs from the message\n", variants[v].name);
				return 1;
			}
			qsort(samples, trips, sizeof *samples, cmp);
			median[b][v] = samples[trips / 2];
		}
	__atomic_store_n(turn, UINT32_MAX, __ATOMIC_RELEASE);
	waitpid(pid, NULL, 0);
	int64_t *ns = malloc(sizeof(int64_t) * blocks);
	double *ratio = malloc(sizeof(double) * blocks);
	for (int v = 0; v < NV; v++) {
		for (int b = 0; b < blocks; b++) {
			ns[b] = median[b][v];
			ratio[b] = (double)median[b][v] / median[b][0];
		}
		qsort(ns, blocks, sizeof *ns, cmp);
		qsort(ratio, blocks, sizeof *ratio, cmpd);
		printf("%-9s %6lld ns  x%.2f the ping-pong (rounds: %.2f to %.2f)\n", variants[v].name,
		       (long long)ns[blocks / 2], ratio[blocks / 2], ratio[0], ratio[blocks - 1]);
	}
	return 0;
}
