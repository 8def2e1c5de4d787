/* posix_mq_peer: a foreign peer for goipc's POSIX message queue tests.
 *
 *   posix_mq_peer send NAME PRIO:TEXT...  send each TEXT with priority PRIO,
 *                                         printing "sent PRIO TEXT" after each
 *   posix_mq_peer recv NAME COUNT         receive COUNT messages, printing
 *                                         "PRIO TEXT" for each
 *   posix_mq_peer feed NAME COUNT         once a line arrives on stdin, send COUNT
 *                                         8-byte messages, silently
 *   posix_mq_peer pool NAME THREADS COUNT THREADS threads blocked in mq_receive
 *                                         share COUNT messages; prints "ready"
 *                                         once the threads are started, and
 *                                         "cpu NS" (its user and system time)
 *                                         after the last message
 *
 * feed and pool are the C side of BenchmarkReceivePool (build with -pthread).
 * The queue must exist. Exit status 1 with a message on stderr on failure. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static int fail(const char *what, const char *name) {
	fprintf(stderr, "posix_mq_peer: %s %s: %s\n", what, name, strerror(errno));
	return 1;
}

static mqd_t pool_q;
static atomic_long pool_left; /* messages the pool still has to receive */
static const char *pool_name;

/* A pool thread: receive until the pool has all its messages. The thread that
 * takes the last one ends the process. */
static void *pool_thread(void *arg) {
	char buf[8192];
	for (;;) {
		unsigned prio;
		if (mq_receive(pool_q, buf, sizeof buf, &prio) < 0) {
			fail("mq_receive", pool_name);
			exit(1);
		}
		if (atomic_fetch_sub(&pool_left, 1) == 1) {
			struct rusage ru;
			getrusage(RUSAGE_SELF, &ru);
			printf("cpu %lld\n", (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL +
			                          (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL);
			exit(0);
		}
	}
	return arg;
}

static int feed(const char *name, long count) {
	mqd_t q = mq_open(name, O_WRONLY);
	if (q == (mqd_t)-1)
		return fail("mq_open", name);
	char go[16];
	if (!fgets(go, sizeof go, stdin)) {
		fprintf(stderr, "posix_mq_peer: feed: no start line on stdin\n");
		return 1;
	}
	for (long i = 0; i < count; i++)
		if (mq_send(q, "message", 8, 0) < 0)
			return fail("mq_send", name);
	return mq_close(q) < 0 ? fail("mq_close", name) : 0;
}

static int pool(const char *name, int threads, long count) {
	pool_name = name;
	pool_left = count;
	if ((pool_q = mq_open(name, O_RDONLY)) == (mqd_t)-1)
		return fail("mq_open", name);
	for (int i = 0; i < threads; i++) {
		pthread_t t;
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, 64 * 1024);
		if ((errno = pthread_create(&t, &attr, pool_thread, NULL)))
			return fail("pthread_create", name);
	}
	printf("ready\n");
	for (;;)
		pause(); /* the last message ends the process */
}

int main(int argc, char **argv) {
	if (argc >= 4 && !strcmp(argv[1], "feed"))
		return feed(argv[2], atol(argv[3]));
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 5 && !strcmp(argv[1], "pool"))
		return pool(argv[2], atoi(argv[3]), atol(argv[4]));
	if (argc < 4 || (strcmp(argv[1], "send") && strcmp(argv[1], "recv"))) {
		fprintf(stderr, "usage: posix_mq_peer send NAME PRIO:TEXT... | recv NAME COUNT | feed NAME COUNT | pool NAME THREADS COUNT\n");
		return 2;
	}
	const char *name = argv[2];
	if (!strcmp(argv[1], "send")) {
		mqd_t q = mq_open(name, O_WRONLY);
		if (q == (mqd_t)-1)
			return fail("mq_open", name);
		for (int i = 3; i < argc; i++) {
			char *text;
			unsigned prio = strtoul(argv[i], &text, 10);
			if (*text++ != ':') {
				fprintf(stderr, "posix_mq_peer: %s: want PRIO:TEXT\n", argv[i]);
				return 2;
			}
			if (mq_send(q, text, strlen(text), prio) < 0)
				return fail("mq_send", name);
			printf("sent %u %s\n", prio, text);
		}
		return mq_close(q) < 0 ? fail("mq_close", name) : 0;
	}
	mqd_t q = mq_open(name, O_RDONLY);
	if (q == (mqd_t)-1)
		return fail("mq_open", name);
	struct mq_attr attr;
	if (mq_getattr(q, &attr) < 0)
		return fail("mq_getattr", name);
	char *buf = malloc(attr.mq_msgsize + 1);
	for (int n = atoi(argv[3]); n > 0; n--) {
		unsigned prio;
		ssize_t len = mq_receive(q, buf, attr.mq_msgsize, &prio);
		if (len < 0)
			return fail("mq_receive", name);
		buf[len] = 0;
		printf("%u %s\n", prio, buf);
	}
	free(buf);
	return mq_close(q) < 0 ? fail("mq_close", name) : 0;
}
