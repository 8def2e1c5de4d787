/* posix_pingpong: the C baseline of goipc's POSIX ping-pong benchmark.
 *
 *   posix_pingpong mq|shm SIZE ITERS
 *
 * forks an echo peer and times ITERS round trips of SIZE bytes after a warm-up,
 * then prints "MEDIAN_NS P99_NS".
 *   mq:  the message goes out on one queue and comes back on another, each
 *        with capacity 1 and message size SIZE (blocking mq_send/mq_receive).
 *   shm: the bytes are copied into a POSIX shared memory segment, and two
 *        process-shared semaphores in it (sem_init pshared=1) ring the peer:
 *        post "ping", the peer waits, copies the bytes out and back, posts
 *        "pong".
 * The objects are unlinked as soon as both processes hold them, so nothing is
 * left behind, whatever happens. The Go benchmark runs the same protocol. */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WARMUP 200

static void die(const char *what) {
	fprintf(stderr, "posix_pingpong: %s: %s\n", what, strerror(errno));
	exit(1);
}

static long long now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
	long long x = *(const long long *)a, y = *(const long long *)b;
	return x < y ? -1 : x > y;
}

struct shm_area {
	sem_t ping, pong;
	char data[];
};

int main(int argc, char **argv) {
	if (argc != 4 || (strcmp(argv[1], "mq") && strcmp(argv[1], "shm"))) {
		fprintf(stderr, "usage: posix_pingpong mq|shm SIZE ITERS\n");
		return 2;
	}
	int mq = !strcmp(argv[1], "mq");
	size_t size = strtoul(argv[2], NULL, 10);
	long iters = atol(argv[3]);
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
		snprintf(name, sizeof name, "/goipc-cpingpong-%d-ping", getpid());
		if ((ping = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &attr)) < 0)
			die("mq_open ping");
		mq_unlink(name);
		snprintf(name, sizeof name, "/goipc-cpingpong-%d-pong", getpid());
		if ((pong = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &attr)) < 0)
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

	pid_t child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) { /* the echo peer, until killed */
		for (;;) {
			if (mq) {
				if (mq_receive(ping, buf, size, NULL) < 0)
					die("mq_receive");
				if (mq_send(pong, buf, size, 0) < 0)
					die("mq_send");
			} else {
				while (sem_wait(&area->ping) < 0)
					if (errno != EINTR)
						die("sem_wait");
				memcpy(buf, area->data, size);
				memcpy(area->data, buf, size);
				if (sem_post(&area->pong) < 0)
					die("sem_post");
			}
		}
	}

	for (long i = -WARMUP; i < iters; i++) {
		long long start = now_ns();
		if (mq) {
			if (mq_send(ping, buf, size, 0) < 0)
				die("mq_send");
			if (mq_receive(pong, buf, size, NULL) < 0)
				die("mq_receive");
		} else {
			memcpy(area->data, buf, size);
			if (sem_post(&area->ping) < 0)
				die("sem_post");
			while (sem_wait(&area->pong) < 0)
				if (errno != EINTR)
					die("sem_wait");
			memcpy(buf, area->data, size);
		}
		if (i >= 0)
			rtt[i] = now_ns() - start;
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	qsort(rtt, iters, sizeof *rtt, cmp);
	printf("%lld %lld\n", rtt[iters / 2], rtt[iters * 99 / 100]);
	return 0;
}
