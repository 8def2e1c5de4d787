/* posix_pingpong: the C baseline of goipc's POSIX ping-pong benchmark.
 *
 *   posix_pingpong mq|shm block|spin SIZE ITERS [split] [waiters=N]
 *
 * forks an echo peer and times ITERS round trips of SIZE bytes after a warm-up,
 * then prints each round trip in nanoseconds, one per line.
 *   mq:  the message goes out on one queue and comes back on another, each
 *        with capacity 1 and message size SIZE.
 *   shm: the bytes are copied into a POSIX shared memory segment, and two
 *        process-shared semaphores in it (sem_init pshared=1) ring the peer:
 *        post "ping", the peer waits, copies the bytes out and back, posts
 *        "pong".
 * block waits in the kernel at once (mq_receive, sem_wait); spin waits as
 * package posix does (spin.h), then in poll for a queue, as Go parks on its
 * poller. split pins the two processes to CPUs of their own (pin.h), as
 * BenchmarkPingPongPinned pins the Go peers; without it the kernel places them.
 * waiters=N (mq block only) gives the echo peer N threads blocked in
 * mq_receive on the ping queue, as BenchmarkPingPongWaiters gives the Go echo
 * N goroutines: the kernel wakes one, which answers and waits again.
 * The objects are unlinked as soon as both processes hold them, so nothing is
 * left behind, whatever happens. The Go benchmark runs the same protocol. */
#define _GNU_SOURCE /* sched_setaffinity, CPU_SET (pin.h) */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pin.h"
#include "spin.h"

#define WARMUP 200

static void die(const char *what) {
	fprintf(stderr, "posix_pingpong: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* mq_move sends or receives one message. In spin mode the descriptor is
 * non-blocking: EAGAIN spins, then polls until the queue is ready. */
static void mq_move(int send, mqd_t q, char *buf, size_t size) {
	long long since = 0;
	for (;;) {
		if ((send ? mq_send(q, buf, size, 0) : mq_receive(q, buf, size, NULL)) >= 0)
			return;
		if (errno == EINTR || (errno == EAGAIN && spinning(&since)))
			continue;
		if (errno != EAGAIN)
			die(send ? "mq_send" : "mq_receive");
		struct pollfd p = {.fd = q, .events = send ? POLLOUT : POLLIN};
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			die("poll");
	}
}

/* sem_take decrements s, in spin mode trying sem_trywait first. */
static void sem_take(sem_t *s) {
	long long since = 0;
	if (spin)
		do
			if (sem_trywait(s) == 0)
				return;
		while (spinning(&since));
	while (sem_wait(s) < 0)
		if (errno != EINTR)
			die("sem_wait");
}

/* The echo threads of waiters=N, and how many have started: the initiator
 * waits for all before it warms up. */
struct echo_pool {
	mqd_t ping, pong;
	size_t size;
	atomic_int *started;
};

static void *echo_thread(void *arg) {
	struct echo_pool *p = arg;
	char *buf = calloc(1, p->size);
	atomic_fetch_add(p->started, 1);
	for (;;) {
		mq_move(0, p->ping, buf, p->size);
		mq_move(1, p->pong, buf, p->size);
	}
	return NULL;
}

struct shm_area {
	sem_t ping, pong;
	char data[];
};

static int usage(void) {
	fprintf(stderr, "usage: posix_pingpong mq|shm block|spin SIZE ITERS [split] [waiters=N]\n"
	                "       (waiters=N only with mq block)\n");
	return 2;
}

int main(int argc, char **argv) {
	if (argc < 5 || (strcmp(argv[1], "mq") && strcmp(argv[1], "shm")) ||
	    (strcmp(argv[2], "block") && strcmp(argv[2], "spin")))
		return usage();
	int mq = !strcmp(argv[1], "mq");
	spin = !strcmp(argv[2], "spin");
	int split = 0, waiters = 1;
	for (int i = 5; i < argc; i++) {
		if (!strcmp(argv[i], "split"))
			split = 1;
		else if (sscanf(argv[i], "waiters=%d", &waiters) != 1 || waiters < 1)
			return usage();
	}
	if (waiters > 1 && (!mq || spin))
		return usage();
	size_t size = strtoul(argv[3], NULL, 10);
	long iters = atol(argv[4]);
	if (size == 0 || iters <= 0) {
		fprintf(stderr, "posix_pingpong: SIZE and ITERS must be positive\n");
		return 2;
	}
	char *buf = calloc(1, size), name[64];
	long long *rtt = malloc(iters * sizeof *rtt);

	mqd_t ping = -1, pong = -1;
	struct shm_area *area = NULL;
	if (mq) {
		struct mq_attr attr = {.mq_maxmsg = 1, .mq_msgsize = size};
		int flags = O_RDWR | O_CREAT | O_EXCL | (spin ? O_NONBLOCK : 0);
		snprintf(name, sizeof name, "/goipc-cpingpong-%d-ping", getpid());
		if ((ping = mq_open(name, flags, 0600, &attr)) < 0)
			die("mq_open ping");
		mq_unlink(name);
		snprintf(name, sizeof name, "/goipc-cpingpong-%d-pong", getpid());
		if ((pong = mq_open(name, flags, 0600, &attr)) < 0)
			die("mq_open pong");
		mq_unlink(name);
	} else {
		snprintf(name, sizeof name, "/goipc-cpingpong-%d", getpid());
		int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
		if (fd < 0)
			die("shm_open");
		shm_unlink(name);
		if (ftruncate(fd, sizeof *area + size) < 0)
			die("ftruncate");
		area = mmap(NULL, sizeof *area + size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (area == MAP_FAILED)
			die("mmap");
		close(fd);
		if (sem_init(&area->ping, 1, 0) < 0 || sem_init(&area->pong, 1, 0) < 0)
			die("sem_init");
	}

	atomic_int *started = mmap(NULL, sizeof *started, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (started == MAP_FAILED)
		die("mmap");
	cpu_set_t mask = pin_mask();
	pid_t child = fork();
	if (child < 0)
		die("fork");
	if (split)
		pin(&mask, child == 0 ? 1 : 0);
	if (child == 0 && waiters > 1) { /* the echo threads, until killed */
		struct echo_pool pool = {ping, pong, size, started};
		for (int i = 0; i < waiters; i++) {
			pthread_t t;
			if ((errno = pthread_create(&t, NULL, echo_thread, &pool)))
				die("pthread_create");
		}
		for (;;)
			pause();
	}
	if (child == 0) { /* the echo peer, until killed */
		for (;;) {
			if (mq) {
				mq_move(0, ping, buf, size);
				mq_move(1, pong, buf, size);
			} else {
				sem_take(&area->ping);
				memcpy(buf, area->data, size);
				memcpy(area->data, buf, size);
				if (sem_post(&area->pong) < 0)
					die("sem_post");
			}
		}
	}

	while (waiters > 1 && atomic_load(started) < waiters)
		sched_yield();
	for (long i = -WARMUP; i < iters; i++) {
		long long start = now_ns();
		if (mq) {
			mq_move(1, ping, buf, size);
			mq_move(0, pong, buf, size);
		} else {
			memcpy(area->data, buf, size);
			if (sem_post(&area->ping) < 0)
				die("sem_post");
			sem_take(&area->pong);
			memcpy(buf, area->data, size);
		}
		if (i >= 0)
			rtt[i] = now_ns() - start;
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	for (long i = 0; i < iters; i++)
		printf("%lld\n", rtt[i]);
	return 0;
}
