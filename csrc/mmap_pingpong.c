/* mmap_pingpong SIZE ITERS [--samples]: the C baseline of mmap's BenchmarkPingPong.
 *
 * A parent and a forked child share three pages of MAP_SHARED|MAP_ANONYMOUS
 * memory laid out as flag_pingpong.h says, and time ITERS round trips of SIZE
 * bytes of its protocol, waiting as the Go benchmark does; each process is
 * pinned to a CPU of its own; two clock readings per round trip. Prints the median and the 99th
 * percentile round trip in nanoseconds, or with --samples every round trip.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "flag_pingpong.h"
#include "pin.h"

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* round_trip sends msg as the ping and copies the pong into reply. */
static void round_trip(char *shm, const char *msg, char *reply, int size)
{
	uint32_t *flag = (uint32_t *)shm;
	memcpy(shm + PING_OFF, msg, size);
	__atomic_store_n(flag, FLAG_PING, __ATOMIC_SEQ_CST);
	await(flag, FLAG_PONG, FLAG_PONG);
	memcpy(reply, shm + PONG_OFF, size);
}

static int cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	int all = argc == 4 && strcmp(argv[3], "--samples") == 0;
	if (argc != 3 && !all) {
		fprintf(stderr, "usage: mmap_pingpong SIZE ITERS [--samples]\n");
		return 2;
	}
	int size = atoi(argv[1]), iters = atoi(argv[2]);
	if (size <= 0 || size > PAGE || iters <= 0) {
		fprintf(stderr, "mmap_pingpong: SIZE must be 1..%d and ITERS positive\n", PAGE);
		return 2;
	}
	char *shm = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	uint32_t *flag = (uint32_t *)shm;
	char *msg = malloc(size), *reply = malloc(size);
	int64_t *samples = malloc(sizeof(int64_t) * iters);
	if (!msg || !reply || !samples) {
		perror("malloc");
		return 1;
	}
	memset(msg, 'p', size);

	pid_t pid = fork_pinned();
	if (pid == 0) {
		while (await(flag, FLAG_PING, FLAG_QUIT) == FLAG_PING) {
			memcpy(reply, shm + PING_OFF, size);
			memcpy(shm + PONG_OFF, reply, size);
			__atomic_store_n(flag, FLAG_PONG, __ATOMIC_SEQ_CST);
		}
		_exit(0);
	}
	for (int64_t i = 0, begin = now_ns(); i < WARMUP || now_ns() - begin < WARMUP_NS; i++)
		round_trip(shm, msg, reply, size);
	for (int i = 0; i < iters; i++) {
		int64_t start = now_ns();
		round_trip(shm, msg, reply, size);
		samples[i] = now_ns() - start;
	}
	__atomic_store_n(flag, FLAG_QUIT, __ATOMIC_SEQ_CST);
	waitpid(pid, NULL, 0);
	if (memcmp(reply, msg, size) != 0) {
		fprintf(stderr, "mmap_pingpong: the reply differs from the message\n");
		return 1;
	}
	if (all) {
		for (int i = 0; i < iters; i++)
			printf("%lld\n", (long long)samples[i]);
		return 0;
	}
	qsort(samples, iters, sizeof(int64_t), cmp);
	printf("%lld %lld\n", (long long)samples[iters / 2], (long long)samples[(int64_t)iters * 99 / 100]);
	return 0;
}
