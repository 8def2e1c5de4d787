/* ring_variants SIZE BLOCKS TRIPS [copy]: the A/B experiments behind the
 * ring's layout version 2 and its copies (ring/doc.go, Performance). It
 * times round trips of SIZE bytes between this process and a forked child,
 * each pinned to a CPU, over pairs of rings laid out, watched and copied in
 * several ways, and through the flag ping-pong of flag_pingpong.h (the C
 * baseline, csrc/mmap_pingpong.c), in BLOCKS rounds that take turns, TRIPS
 * round trips a variant each: on a VM whose CPUs move on the host, only
 * figures from the same round compare. It prints, per variant, the median of
 * its rounds' medians and of its ratio to the ping-pong's median in the same
 * round.
 *
 * Every ring variant keeps the ring's crash-safety rules (a robust mutex
 * guards every change; tail and head move by one store after what they
 * publish). Without "copy" the variants differ in where head, tail and seq
 * are, what a spinning receiver watches, and whether a locker loads the lock
 * before it swaps:
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
 * With "copy" they are version 2 rings and ping-pongs that differ in where
 * the bytes go and how they are copied (each process's buffers, msg and buf,
 * are page-aligned, as Go's are):
 *
 *   pp-walk   the ping-pong, its two areas walking 64 KiB each as a ring's
 *             payloads do (a record's 8-byte header, then SIZE bytes,
 *             rounded to 8, wrapping as records do), not reused every trip
 *   pp-page   the ping-pong's areas walking 64 KiB a page at a time
 *   v2        version 2 as above: 64 KiB rings, copies by memcpy
 *   v2-rep    v2 copying with rep movsb
 *   v2-avx2   v2 copying 32 bytes at a time (AVX2 loads and stores)
 *   v2-avx512 v2 copying 64 bytes at a time (AVX-512)
 *   v2-pf     v2, the copier prefetching every line of the record first
 *             (for writing, on the sender's side)
 *   v2-8k     v2 with the smallest ring that holds SIZE (capacity 2 records)
 *   v2-home   v2 whose sender, finding the ring empty, pads to the start of
 *             the data area (receivers skip a pad marker wherever it is), so
 *             that a ring that is mostly empty reuses its first lines
 *   v2-late   v2 whose sender stores the line of the record's mark after the
 *             rest of the record, and a pad marker after that
 *   v2-hl     v2-home and v2-late
 *   v2-hl-pf  v2-hl whose sender prefetches the lines at home for writing
 *             before it locks
 *   goipc     goipc_ring.h itself (64 KiB rings, spinning)
 *
 * The rings here, but goipc's, are this program's own, small and spin-only
 * (no futex): goipc_ring.h is the implementation. */
#include "goipc_ring.h" /* first (_GNU_SOURCE); for goipc_ring_relax and goipc_ring_now_ns */
#include "flag_pingpong.h"
#include "pin.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define relax() goipc_ring_relax()

enum { CAP = 65536, RING = 256 + CAP };
#define SPIN_NS 1000000 /* goipc_ring.h's spin, as the benchmarks' (ring/bench_test.go) */
#define PAD GOIPC_RING_PAD

typedef void copy_fn(void *dst, const void *src, size_t n);

#if defined(__x86_64__)
#include <immintrin.h>

static void copy_rep(void *dst, const void *src, size_t n)
{
	__asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}

__attribute__((target("avx2"))) static void copy_avx2(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	size_t i = 0;
	for (; i + 32 <= n; i += 32)
		_mm256_storeu_si256((__m256i *)(d + i), _mm256_loadu_si256((const __m256i *)(s + i)));
	memcpy(d + i, s + i, n - i);
}

__attribute__((target("avx512f"))) static void copy_avx512(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	size_t i = 0;
	for (; i + 64 <= n; i += 64)
		_mm512_storeu_si512(d + i, _mm512_loadu_si512(s + i));
	memcpy(d + i, s + i, n - i);
}
#endif

struct variant {
	const char *name;
	int copy_set; /* a variant of the "copy" set, else of the layout set (the ping-pong is in both) */
	int walk;     /* ping-pong: 0 fixed areas; else they walk by records (8) or by pages (4096) */
	int lock, head, tail, seq, sleepers; /* offsets in the header */
	int mark;                            /* records carry a mark; spinners watch it */
	int align;                           /* records start at multiples of this */
	int prefetch, backoff;
	uint64_t cap;  /* the data area: CAP if 0; 1 for two records of SIZE */
	copy_fn *copy; /* memcpy if NULL */
	const char *cpu; /* the x86 feature copy needs: the variant is left out without it */
	int pull;      /* prefetch every line of the record before copying it */
	int home;      /* a sender finding the ring empty pads to its start */
	int late;      /* a sender writes the line of the record's mark last */
	int header;    /* not this program's ring: goipc_ring.h's */
	int early;     /* a sender prefetches the lines at home before locking */
};

#define V1 .lock = 64, .head = 128, .tail = 136, .seq = 144, .sleepers = 148
#define V2 .lock = 88, .head = 64, .tail = 72, .seq = 80, .sleepers = 84
#define COPY_V2 .copy_set = 1, V2, .mark = 1, .align = 8
static const struct variant variants[] = {
	{.name = "pingpong"},
	{.name = "v1", V1, .align = 8},
	{.name = "v1+mark", V1, .mark = 1, .align = 8},
	{.name = "line", V2, .align = 8},
	{.name = "line+pf", V2, .align = 8, .prefetch = 1},
	{.name = "line+bo", V2, .align = 8, .backoff = 1},
	{.name = "v2", V2, .mark = 1, .align = 8},
	{.name = "v2+a64", V2, .mark = 1, .align = 64},

	{.name = "pp-walk", .copy_set = 1, .walk = 8},
	{.name = "pp-page", .copy_set = 1, .walk = 4096},
	{.name = "v2", COPY_V2},
#if defined(__x86_64__)
	{.name = "v2-rep", COPY_V2, .copy = copy_rep},
	{.name = "v2-avx2", COPY_V2, .copy = copy_avx2, .cpu = "avx2"},
	{.name = "v2-avx512", COPY_V2, .copy = copy_avx512, .cpu = "avx512f"},
#endif
	{.name = "v2-pf", COPY_V2, .pull = 1},
	{.name = "v2-8k", COPY_V2, .cap = 1},
	{.name = "v2-home", COPY_V2, .home = 1},
	{.name = "v2-late", COPY_V2, .late = 1},
	{.name = "v2-hl", COPY_V2, .home = 1, .late = 1},
	{.name = "v2-hl-pf", COPY_V2, .home = 1, .late = 1, .early = 1},
	{.name = "goipc", .copy_set = 1, .header = 1},
};
enum { NV = sizeof variants / sizeof variants[0] };

struct ring {
	unsigned char *b;
	const struct variant *v;
	uint64_t cap;
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

static uint32_t mark(const struct ring *r, uint64_t pos) { return (uint32_t)(pos / r->cap + 1); }
static uint32_t *mark_at(struct ring *r, uint64_t pos) { return (uint32_t *)(DATA(r) + pos % r->cap + 4); }
static int lock_free(struct ring *r) { return __atomic_load_n(&LOCK(r)->__data.__lock, __ATOMIC_RELAXED) == 0; }

static void init(struct ring *r, int size)
{
	r->cap = r->v->cap == 1 ? 2 * record_size(r, size) : r->v->cap ? r->v->cap : CAP;
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(LOCK(r), &a);
}

/* copy copies as the variant says: pulling every line in first (for
 * writing, into the ring) for v2-pf, then with its copy function. */
static void copy(const struct variant *v, void *dst, const void *src, size_t n, int into_ring)
{
	for (size_t i = 0; v->pull && i < n; i += 64)
		__builtin_prefetch((const char *)(into_ring ? dst : src) + i, into_ring);
	(v->copy ? v->copy : (copy_fn *)memcpy)(dst, src, n);
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
	uint64_t need = record_size(r, len), cap = r->cap;
	for (;;) {
		if (!r->v->mark) { /* version 1: look, then swap */
			uint64_t head = __atomic_load_n(U64(r, head), __ATOMIC_ACQUIRE);
			uint64_t tail = __atomic_load_n(U64(r, tail), __ATOMIC_ACQUIRE);
			if (tail - head + need > cap || !lock_free(r)) {
				wait_turn(r);
				continue;
			}
			if (r->v->prefetch)
				__builtin_prefetch(DATA(r) + tail % cap, 1);
		}
		for (uint64_t i = 0; r->v->early && i < need; i += 64)
			__builtin_prefetch(DATA(r) + i, 1);
		if (pthread_mutex_trylock(LOCK(r)) != 0) {
			wait_turn(r);
			continue;
		}
		uint64_t head = *U64(r, head), tail = *U64(r, tail);
		uint64_t off = tail % cap, pad = off + need > cap ? cap - off : 0;
		if (r->v->home && head == tail && off >= need)
			pad = cap - off; /* fits: pad + need <= cap */
		if (tail - head + pad + need > cap) {
			pthread_mutex_unlock(LOCK(r));
			wait_turn(r);
			continue;
		}
		if (r->v->late) {
			/* the payload past the mark's line, then that line, then the pad
			 * marker's (a spinner watches the first mark) */
			uint64_t at = pad ? 0 : off, first = (64 - (at + 8) % 64) % 64;
			if (first > len)
				first = len;
			copy(r->v, DATA(r) + at + 8 + first, (const char *)msg + first, len - first, 1);
			*(uint32_t *)(DATA(r) + at) = len;
			memcpy(DATA(r) + at + 8, msg, first);
			__atomic_store_n(mark_at(r, tail + pad), mark(r, tail + pad), __ATOMIC_RELAXED);
			if (pad) {
				*(uint32_t *)(DATA(r) + off) = PAD;
				__atomic_store_n(mark_at(r, tail), mark(r, tail), __ATOMIC_RELAXED);
			}
			__atomic_store_n(U64(r, tail), tail + pad + need, __ATOMIC_RELEASE);
			unlock_changed(r);
			return;
		}
		if (pad) {
			*(uint32_t *)(DATA(r) + off) = PAD;
			if (r->v->mark)
				*mark_at(r, tail) = mark(r, tail);
			off = 0;
		}
		*(uint32_t *)(DATA(r) + off) = len;
		copy(r->v, DATA(r) + off + header_of(r), msg, len, 1);
		if (r->v->mark)
			__atomic_store_n(mark_at(r, tail + pad), mark(r, tail + pad), __ATOMIC_RELAXED);
		__atomic_store_n(U64(r, tail), tail + pad + need, __ATOMIC_RELEASE);
		unlock_changed(r);
		return;
	}
}

static uint32_t receive(struct ring *r, void *buf)
{
	uint64_t cap = r->cap;
	for (;;) {
		uint64_t head = __atomic_load_n(U64(r, head), __ATOMIC_ACQUIRE);
		if (r->v->mark) { /* version 2: watch the mark, then swap at once */
			uint32_t *m = mark_at(r, head), want = mark(r, head);
			while (__atomic_load_n(m, __ATOMIC_ACQUIRE) != want)
				relax();
		} else if (head == __atomic_load_n(U64(r, tail), __ATOMIC_ACQUIRE) || !lock_free(r)) {
			wait_turn(r);
			continue;
		} else if (r->v->prefetch)
			__builtin_prefetch(DATA(r) + head % cap);
		if (pthread_mutex_trylock(LOCK(r)) != 0)
			continue;
		head = *U64(r, head);
		if (head == *U64(r, tail)) {
			pthread_mutex_unlock(LOCK(r));
			continue;
		}
		uint64_t off = head % cap, skip = 0;
		uint32_t len = *(uint32_t *)(DATA(r) + off);
		if (len == PAD) {
			skip = cap - off;
			off = 0;
			len = *(uint32_t *)DATA(r);
		}
		copy(r->v, buf, DATA(r) + off + header_of(r), len, 0);
		__atomic_store_n(U64(r, head), head + skip + record_size(r, len), __ATOMIC_RELEASE);
		unlock_changed(r);
		return len;
	}
}

/* A walk is where a ping-pong's area is for each trip: the same page for
 * the ping-pong itself, else moving through a ring's data area as its
 * records' payloads would (walk 8), or a page at a time (walk 4096). Both
 * processes advance their copy of it, one step a message. */
struct walk {
	unsigned char *base; /* a ring slot: data at base + 256 */
	uint64_t pos;
};

static unsigned char *area(struct walk *w, const struct variant *v, unsigned char *fixed, int size)
{
	if (!v->walk)
		return fixed;
	uint64_t hdr = v->walk == 8 ? 8 : 0, need = (hdr + size + v->walk - 1) & ~(uint64_t)(v->walk - 1);
	uint64_t off = w->pos % CAP;
	if (off + need > CAP) {
		w->pos += CAP - off;
		off = 0;
	}
	w->pos += need;
	return w->base + (v->walk == 8 ? 256 : 0) + off + hdr;
}

/* cpu_has tells whether this CPU has the x86 feature (any if NULL). */
static int cpu_has(const char *feature)
{
#if defined(__x86_64__)
	if (feature && strcmp(feature, "avx2") == 0)
		return __builtin_cpu_supports("avx2");
	if (feature && strcmp(feature, "avx512f") == 0)
		return __builtin_cpu_supports("avx512f");
#endif
	return feature == NULL;
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
	int copy_set = argc == 5 && strcmp(argv[4], "copy") == 0;
	if (argc != 4 && !copy_set) {
		fprintf(stderr, "usage: ring_variants SIZE BLOCKS TRIPS [copy]\n");
		return 2;
	}
	int size = atoi(argv[1]), blocks = atoi(argv[2]), trips = atoi(argv[3]);
	if (size <= 0 || size > PAGE || blocks <= 0 || trips <= 0) {
		fprintf(stderr, "ring_variants: SIZE must be 1..%d, BLOCKS and TRIPS positive\n", PAGE);
		return 2;
	}
	int set[NV], ns_ = 0; /* the variants of this run: the ping-pong first */
	for (int v = 0; v < NV; v++)
		if (v == 0 || (variants[v].copy_set == copy_set && cpu_has(variants[v].cpu)))
			set[ns_++] = v;
	/* a control page (the variant the child serves next), the ping-pong's
	 * three pages, then a pair of rings (or of walks) per variant */
	size_t len = 4 * PAGE + (size_t)NV * 2 * RING;
	unsigned char *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	uint32_t *turn = (uint32_t *)mem, *flag = (uint32_t *)(mem + PAGE);
	unsigned char *ping_area = mem + PAGE + PING_OFF, *pong_area = mem + PAGE + PONG_OFF;
	struct ring ping[NV], pong[NV];
	struct walk ping_walk[NV], pong_walk[NV];
	struct goipc_ring gping, gpong;
	for (int v = 1; v < NV; v++) {
		unsigned char *slot = mem + 4 * PAGE + (size_t)(2 * v) * RING;
		ping_walk[v] = (struct walk){slot, 0};
		pong_walk[v] = (struct walk){slot + RING, 0};
		if (variants[v].header) {
			if (goipc_ring_init(slot, RING, CAP) || goipc_ring_init(slot + RING, RING, CAP) ||
			    goipc_ring_attach(&gping, slot, RING) || goipc_ring_attach(&gpong, slot + RING, RING))
				abort();
		}
		if (variants[v].walk || variants[v].header)
			continue;
		ping[v] = (struct ring){slot, &variants[v], 0};
		pong[v] = (struct ring){slot + RING, &variants[v], 0};
		init(&ping[v], size);
		init(&pong[v], size);
	}
	static unsigned char msg[PAGE] __attribute__((aligned(PAGE))), buf[PAGE] __attribute__((aligned(PAGE)));
	memset(msg, 'p', size);
	pid_t pid = fork_pinned();
	if (pid == 0) { /* the echo: turn n serves the variant set[(n-1) % ns_] */
		for (uint32_t n = 1;; n++) {
			uint32_t t;
			while ((t = __atomic_load_n(turn, __ATOMIC_ACQUIRE)) < n)
				relax();
			if (t == UINT32_MAX)
				_exit(0);
			int v = set[(n - 1) % ns_];
			const struct variant *vv = &variants[v];
			for (int i = 0; i < WARMUP + trips; i++) {
				if (vv->walk || v == 0) {
					await(flag, FLAG_PING, FLAG_PING);
					memcpy(buf, area(&ping_walk[v], vv, ping_area, size), size);
					memcpy(area(&pong_walk[v], vv, pong_area, size), buf, size);
					__atomic_store_n(flag, FLAG_PONG, __ATOMIC_SEQ_CST);
				} else if (vv->header) {
					uint32_t k;
					if (goipc_ring_recv(&gping, buf, PAGE, &k, SPIN_NS) || goipc_ring_send(&gpong, buf, k, SPIN_NS))
						abort();
				} else
					send(&pong[v], buf, receive(&ping[v], buf));
			}
		}
	}
	int64_t *samples = malloc(sizeof(int64_t) * trips);
	int64_t(*median)[NV] = calloc(blocks, sizeof *median);
	uint32_t n = 0;
	for (int b = 0; b < blocks; b++)
		for (int k = 0; k < ns_; k++) {
			int v = set[k];
			const struct variant *vv = &variants[v];
			__atomic_store_n(turn, ++n, __ATOMIC_RELEASE);
			for (int i = -WARMUP; i < trips; i++) {
				int64_t start = goipc_ring_now_ns();
				if (vv->walk || v == 0) {
					memcpy(area(&ping_walk[v], vv, ping_area, size), msg, size);
					__atomic_store_n(flag, FLAG_PING, __ATOMIC_SEQ_CST);
					await(flag, FLAG_PONG, FLAG_PONG);
					memcpy(buf, area(&pong_walk[v], vv, pong_area, size), size);
				} else if (vv->header) {
					uint32_t k;
					if (goipc_ring_send(&gping, msg, size, SPIN_NS) || goipc_ring_recv(&gpong, buf, PAGE, &k, SPIN_NS))
						abort();
				} else {
					send(&ping[v], msg, size);
					receive(&pong[v], buf);
				}
				if (i >= 0)
					samples[i] = goipc_ring_now_ns() - start;
			}
			if (memcmp(buf, msg, size) != 0) {
				fprintf(stderr, "ring_variants: %s: the reply differs from the message\n", vv->name);
				return 1;
			}
			memset(buf, 0, size);
			qsort(samples, trips, sizeof *samples, cmp);
			median[b][v] = samples[trips / 2];
		}
	__atomic_store_n(turn, UINT32_MAX, __ATOMIC_RELEASE);
	waitpid(pid, NULL, 0);
	int64_t *ns = malloc(sizeof(int64_t) * blocks);
	double *ratio = malloc(sizeof(double) * blocks);
	for (int k = 0; k < ns_; k++) {
		int v = set[k];
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
