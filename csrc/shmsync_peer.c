/* shmsync_peer MODE [N]: the C peer of package shmsync's tests. Descriptor 3
 * is shared memory laid out as the tests' region (shmsync/shmsync_test.go):
 * a robust process-shared pthread mutex at offset 0, a process-shared
 * condition variable at 64, then int64 words: count at 128, a at 136, b at
 * 144, inside at 152, flag at 160.
 *
 *   init       initialise the mutex (robust, process-shared) and the cond
 *   init-pi    the same, with a priority-inheritance mutex
 *   count N    lock, count++, unlock, N times
 *   hold       forever: lock, check nobody else is inside, a++, work, b++,
 *              unlock, work; prints "ready" once it has locked once. Killed
 *              by the test at random points; exits 3 if it finds two holders.
 *   wait       lock, wait on the cond until flag != 0, print "woke", unlock
 *   signal     lock, flag = 1, broadcast, unlock
 *   die        lock and exit holding the lock
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct region {
	pthread_mutex_t mu;
	char pad0[64 - sizeof(pthread_mutex_t)];
	pthread_cond_t cond;
	char pad1[64 - sizeof(pthread_cond_t)];
	int64_t count, a, b, inside, flag;
};

static void lock(struct region *r)
{
	int err = pthread_mutex_lock(&r->mu);
	if (err == EOWNERDEAD) { /* repair as the Go tests do */
		r->b = r->a;
		r->inside = 0;
		pthread_mutex_consistent(&r->mu);
	} else if (err) {
		fprintf(stderr, "shmsync_peer: pthread_mutex_lock: %s\n", strerror(err));
		exit(1);
	}
}

static void work(unsigned *seed)
{
	for (volatile int i = rand_r(seed) % 2000; i > 0; i--)
		;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: shmsync_peer init|init-pi|count N|hold|wait|signal|die\n"
				"descriptor 3 is the shared memory (the layout in csrc/shmsync_peer.c)\n");
		return 2;
	}
	struct region *r = mmap(NULL, sizeof *r, PROT_READ | PROT_WRITE, MAP_SHARED, 3, 0);
	if (r == MAP_FAILED) {
		perror("shmsync_peer: mmap descriptor 3");
		return 1;
	}
	const char *mode = argv[1];
	if (strcmp(mode, "init") == 0 || strcmp(mode, "init-pi") == 0) {
		pthread_mutexattr_t ma;
		pthread_mutexattr_init(&ma);
		pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
		pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
		if (strcmp(mode, "init-pi") == 0)
			pthread_mutexattr_setprotocol(&ma, PTHREAD_PRIO_INHERIT);
		pthread_condattr_t ca;
		pthread_condattr_init(&ca);
		pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
		if (pthread_mutex_init(&r->mu, &ma) || pthread_cond_init(&r->cond, &ca)) {
			fprintf(stderr, "shmsync_peer: init failed\n");
			return 1;
		}
	} else if (strcmp(mode, "count") == 0 && argc == 3) {
		for (long n = atol(argv[2]); n > 0; n--) {
			lock(r);
			r->count++;
			pthread_mutex_unlock(&r->mu);
		}
	} else if (strcmp(mode, "hold") == 0) {
		unsigned seed = getpid();
		for (int first = 1;; first = 0) {
			lock(r);
			if (r->inside) {
				fprintf(stderr, "shmsync_peer: two holders\n");
				return 3;
			}
			r->inside = 1;
			r->a++;
			work(&seed);
			r->b++;
			r->inside = 0;
			pthread_mutex_unlock(&r->mu);
			if (first) {
				printf("ready\n");
				fflush(stdout);
			}
			work(&seed);
		}
	} else if (strcmp(mode, "wait") == 0) {
		lock(r);
		printf("waiting\n");
		fflush(stdout);
		while (r->flag == 0)
			pthread_cond_wait(&r->cond, &r->mu);
		printf("woke\n");
		pthread_mutex_unlock(&r->mu);
	} else if (strcmp(mode, "signal") == 0) {
		lock(r);
		r->flag = 1;
		pthread_cond_broadcast(&r->cond);
		pthread_mutex_unlock(&r->mu);
	} else if (strcmp(mode, "die") == 0) {
		lock(r);
	} else {
		fprintf(stderr, "shmsync_peer: unknown mode %s\n", mode);
		return 2;
	}
	return 0;
}
