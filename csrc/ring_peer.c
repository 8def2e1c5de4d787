/* ring_peer: the C peer of package ring's tests and benchmarks, on
 * csrc/goipc_ring.h.
 *
 *   ring_peer PATH init CAPACITY    make a ring in the file PATH (sized already)
 *   ring_peer PATH send ID N MAXLEN send N test messages of producer ID (N 0: forever)
 *   ring_peer PATH recv N           receive N test messages (0: forever), check each,
 *                                   print "ID I" per message, then "ok N"
 *   ring_peer PATH trysend MSG      send MSG if it fits now (goipc_ring_try_send)
 *   ring_peer PATH tryrecv          print the oldest message, if there is one
 *   ring_peer PATH sendbatch ID N MAXLEN, ring_peer PATH recvbatch N
 *                                   the same, BATCH messages a call (goipc_ring_send_batch,
 *                                   goipc_ring_recv_batch; messages of at most 32 KiB)
 *   ring_peer PING echo PONG SPIN_NS  answer every message on PING with it on PONG,
 *                                   until an empty message; prints "ready" first;
 *                                   spinning, it runs on the second CPU
 *   ring_peer bench SIZE ITERS SPIN_NS  C baseline: round trips of SIZE bytes between
 *                                   this process and a forked child over two rings
 *                                   in a memfd; prints each round trip in ns
 *   ring_peer throughput SIZE N SPIN_NS [batch]  C baseline: this process sends N
 *                                   messages of SIZE bytes to a forked child through a
 *                                   ring in a memfd (with batch, BATCH a call on each
 *                                   side); prints the ns from the first send to the
 *                                   child's receipt of the last
 *
 * The test message of producer ID, number I: u32 ID, u32 I, u32 FNV-1a of
 * the payload, then the payload, (I*37 + ID*11) % (MAXLEN+1) bytes, byte J
 * being (ID*131 + I*7 + J) & 0xff. PATH may be /dev/shm/NAME or
 * /proc/self/fd/N.
 *
 * SIGINT and SIGTERM end a waiting call (through the ring's stop flag, as
 * goipc_ring.h says), and the peer exits 1 saying so; a try call whose lock
 * stays taken exits 1 with EBUSY. */
#include "goipc_ring.h"
#include "pin.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define SPIN_NS 20000
#define BATCH 32 /* messages a batch call carries, as Go's go-batch benchmark row */

static void die(const char *what, int err)
{
	fprintf(stderr, "ring_peer: %s: %s%s\n", what, strerror(err),
		err == EBUSY ? " (the ring's lock stayed taken for 100ms: is a process that holds it stopped?)"
		: err == ECANCELED ? " (interrupted by a signal)"
				   : "");
	exit(1);
}

static volatile sig_atomic_t stopped;

static void stop(int sig)
{
	(void)sig;
	stopped = 1;
}

/* stop_on_signals makes SIGINT and SIGTERM end r's waiting calls. */
static void stop_on_signals(struct goipc_ring *r)
{
	struct sigaction sa = {.sa_handler = stop}; /* no SA_RESTART: the futex sleep ends too */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	r->stop = &stopped;
}

static void *map_path(const char *path, size_t *len)
{
	int fd = open(path, O_RDWR);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		die(path, errno);
	void *mem = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED)
		die("mmap", errno);
	close(fd);
	*len = st.st_size;
	return mem;
}

static void attach(struct goipc_ring *r, const char *path)
{
	size_t len;
	void *mem = map_path(path, &len);
	int err = goipc_ring_attach(r, mem, len);
	if (err)
		die("attach", err);
	stop_on_signals(r);
}

static uint32_t fnv(const unsigned char *p, uint32_t n)
{
	uint32_t h = 2166136261u;
	for (uint32_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static uint32_t make_message(unsigned char *buf, uint32_t id, uint32_t i, uint32_t maxlen)
{
	uint32_t n = (i * 37 + id * 11) % (maxlen + 1);
	for (uint32_t j = 0; j < n; j++)
		buf[12 + j] = (id * 131 + i * 7 + j) & 0xff;
	memcpy(buf, &id, 4);
	memcpy(buf + 4, &i, 4);
	uint32_t sum = fnv(buf + 12, n);
	memcpy(buf + 8, &sum, 4);
	return 12 + n;
}

/* check_message exits 3 when msg is not a whole test message. */
static void check_message(const unsigned char *msg, uint32_t len, uint32_t *id, uint32_t *i)
{
	uint32_t sum;
	if (len < 12) {
		fprintf(stderr, "ring_peer: torn message of %u bytes\n", len);
		exit(3);
	}
	memcpy(id, msg, 4);
	memcpy(i, msg + 4, 4);
	memcpy(&sum, msg + 8, 4);
	int ok = fnv(msg + 12, len - 12) == sum;
	for (uint32_t j = 0; ok && j < len - 12; j++)
		ok = msg[12 + j] == ((*id * 131 + *i * 7 + j) & 0xff);
	if (!ok) {
		fprintf(stderr, "ring_peer: torn or corrupt message: producer %u number %u, %u bytes\n", *id, *i, len);
		exit(3);
	}
}


static int bench(int size, int iters, int64_t spin)
{
	size_t cap = 64 << 10, one = GOIPC_RING_HEADER + cap;
	int fd = memfd_create("ring_bench", 0);
	if (fd < 0 || ftruncate(fd, 2 * one) < 0)
		die("memfd", errno);
	unsigned char *mem = mmap(NULL, 2 * one, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED)
		die("mmap", errno);
	struct goipc_ring ping, pong;
	goipc_ring_init(mem, one, cap);
	goipc_ring_init(mem + one, one, cap);
	goipc_ring_attach(&ping, mem, one);
	goipc_ring_attach(&pong, mem + one, one);
	unsigned char *msg = calloc(1, size), *buf = malloc(cap);
	int64_t *samples = malloc(sizeof(int64_t) * iters);
	memset(msg, 'p', size);
	cpu_set_t mask = pin_mask();
	pid_t pid = fork();
	if (spin > 0) /* spinning peers get a CPU each; sleeping ones stay free */
		pin(&mask, pid == 0 ? 1 : 0);
	if (pid == 0) {
		uint32_t n;
		for (;;) {
			int err = goipc_ring_recv(&ping, buf, cap, &n, spin);
			if (err)
				die("recv", err);
			if (n == 0)
				_exit(0);
			if ((err = goipc_ring_send(&pong, buf, n, spin)))
				die("send", err);
		}
	}
	uint32_t n;
	for (int i = -100; i < iters; i++) {
		int64_t start = goipc_ring_now_ns();
		int err = goipc_ring_send(&ping, msg, size, spin);
		if (!err)
			err = goipc_ring_recv(&pong, buf, cap, &n, spin);
		if (err)
			die("round trip", err);
		if (i >= 0)
			samples[i] = goipc_ring_now_ns() - start;
	}
	goipc_ring_send(&ping, msg, 0, spin);
	waitpid(pid, NULL, 0);
	if (n != (uint32_t)size || memcmp(buf, msg, size) != 0)
		die("the reply differs from the message", EBADMSG);
	for (int i = 0; i < iters; i++)
		printf("%lld\n", (long long)samples[i]);
	return 0;
}

static int throughput(int size, long n, int64_t spin, int batch)
{
	size_t cap = 64 << 10, len = GOIPC_RING_HEADER + cap;
	int fd = memfd_create("ring_throughput", 0);
	if (fd < 0 || ftruncate(fd, len + 64) < 0)
		die("memfd", errno);
	unsigned char *mem = mmap(NULL, len + 64, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED)
		die("mmap", errno);
	struct goipc_ring r;
	goipc_ring_init(mem, len, cap);
	goipc_ring_attach(&r, mem, len);
	int64_t *done = (int64_t *)(mem + len); /* the child's time of the last receipt */
	unsigned char *msg = calloc(1, size), *buf = malloc(BATCH * cap);
	/* A batch: BATCH times the same message, or BATCH buffers of cap bytes. */
	const void *msgs[BATCH];
	void *bufs[BATCH];
	uint32_t lens[BATCH], caps[BATCH];
	for (int i = 0; i < BATCH; i++) {
		msgs[i] = msg, lens[i] = size;
		bufs[i] = buf + i * cap, caps[i] = cap;
	}
	int most = batch ? BATCH : 1;
	cpu_set_t mask = pin_mask();
	pid_t pid = fork();
	pin(&mask, pid == 0 ? 1 : 0);
	if (pid == 0) {
		for (long i = 0; i < n;) {
			int got, err = goipc_ring_recv_batch(&r, bufs, caps, lens, most, &got, spin);
			if (err)
				die("recv", err);
			i += got;
		}
		__atomic_store_n(done, goipc_ring_now_ns(), __ATOMIC_RELEASE);
		_exit(0);
	}
	int64_t start = goipc_ring_now_ns();
	for (long i = 0; i < n;) {
		int sent, err = goipc_ring_send_batch(&r, msgs, lens, n - i < most ? n - i : most, &sent, spin);
		if (err)
			die("send", err);
		i += sent;
	}
	waitpid(pid, NULL, 0);
	printf("%lld\n", (long long)(__atomic_load_n(done, __ATOMIC_ACQUIRE) - start));
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: ring_peer PATH init CAPACITY\n"
			"       ring_peer PATH send|sendbatch ID N MAXLEN\n"
			"       ring_peer PATH recv|recvbatch N\n"
			"       ring_peer PATH trysend MSG, ring_peer PATH tryrecv\n"
			"       ring_peer PING echo PONG SPIN_NS\n"
			"       ring_peer bench SIZE ITERS SPIN_NS\n"
			"       ring_peer throughput SIZE N SPIN_NS [batch]\n"
			"PATH is a ring's file (/dev/shm/NAME, /proc/self/fd/N); csrc/ring_peer.c says more\n");
	return 2;
}

int main(int argc, char **argv)
{
	if ((argc == 5 || (argc == 6 && strcmp(argv[5], "batch") == 0)) && strcmp(argv[1], "throughput") == 0)
		return throughput(atoi(argv[2]), atol(argv[3]), atoll(argv[4]), argc == 6);
	if (argc == 5 && strcmp(argv[1], "bench") == 0)
		return bench(atoi(argv[2]), atoi(argv[3]), atoll(argv[4]));
	if (argc < 3)
		return usage();
	const char *mode = argv[2];
	struct goipc_ring r;
	static unsigned char buf[1 << 20];
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(mode, "init") == 0 && argc == 4) {
		size_t len;
		void *mem = map_path(argv[1], &len);
		int err = goipc_ring_init(mem, len, strtoull(argv[3], NULL, 10));
		if (err)
			die("init", err);
	} else if ((strcmp(mode, "send") == 0 || strcmp(mode, "sendbatch") == 0) && argc == 6) {
		attach(&r, argv[1]);
		uint32_t id = atoi(argv[3]), n = atoi(argv[4]), maxlen = atoi(argv[5]);
		int most = strcmp(mode, "sendbatch") == 0 ? BATCH : 1;
		if ((uint64_t)most * (12 + maxlen) > sizeof buf)
			die("send", EINVAL);
		const void *msgs[BATCH];
		uint32_t lens[BATCH];
		for (uint32_t i = 0; n == 0 || i < n;) {
			int k = 0, sent;
			if (stopped) /* a signal between waits */
				die("send", ECANCELED);
			for (; k < most && (n == 0 || i + k < n); k++) {
				msgs[k] = buf + k * (12 + maxlen);
				lens[k] = make_message(buf + k * (12 + maxlen), id, i + k, maxlen);
			}
			int err = goipc_ring_send_batch(&r, msgs, lens, k, &sent, SPIN_NS);
			if (err)
				die("send", err);
			if (i == 0)
				printf("ready\n");
			i += k;
		}
	} else if ((strcmp(mode, "recv") == 0 || strcmp(mode, "recvbatch") == 0) && argc == 4) {
		attach(&r, argv[1]);
		uint32_t n = atoi(argv[3]), got = 0;
		int most = strcmp(mode, "recvbatch") == 0 ? BATCH : 1;
		void *bufs[BATCH];
		uint32_t caps[BATCH], lens[BATCH];
		for (int k = 0; k < BATCH; k++)
			bufs[k] = buf + k * (sizeof buf / BATCH), caps[k] = sizeof buf / BATCH;
		printf("ready\n");
		while (n == 0 || got < n) {
			if (stopped)
				die("recv", ECANCELED);
			int k, err = goipc_ring_recv_batch(&r, bufs, caps, lens, n == 0 || n - got > (uint32_t)most ? most : (int)(n - got), &k, SPIN_NS);
			if (err)
				die("recv", err);
			for (int j = 0; j < k; j++, got++) {
				uint32_t id, i;
				check_message(bufs[j], lens[j], &id, &i);
				printf("%u %u\n", id, i);
			}
		}
		printf("ok %u\n", got);
	} else if (strcmp(mode, "trysend") == 0 && argc == 4) {
		attach(&r, argv[1]);
		int err = goipc_ring_try_send(&r, argv[3], strlen(argv[3]));
		if (err)
			die("trysend", err);
	} else if (strcmp(mode, "tryrecv") == 0 && argc == 3) {
		uint32_t len;
		attach(&r, argv[1]);
		int err = goipc_ring_try_recv(&r, buf, sizeof buf, &len);
		if (err)
			die("tryrecv", err);
		printf("%.*s\n", (int)len, buf);
	} else if (strcmp(mode, "echo") == 0 && argc == 5) {
		struct goipc_ring pong;
		attach(&r, argv[1]);
		attach(&pong, argv[3]);
		if (atoll(argv[4]) > 0) {
			cpu_set_t mask = pin_mask();
			pin(&mask, 1); /* as the Go echo peer does */
		}
		printf("ready\n");
		for (;;) {
			uint32_t len;
			if (stopped)
				die("echo", ECANCELED);
			int err = goipc_ring_recv(&r, buf, sizeof buf, &len, atoll(argv[4]));
			if (err)
				die("recv", err);
			if (len == 0)
				return 0;
			if ((err = goipc_ring_send(&pong, buf, len, atoll(argv[4]))))
				die("send", err);
		}
	} else {
		return usage();
	}
	return 0;
}
