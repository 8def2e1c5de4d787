/* posix_mq_peer: a foreign peer for goipc's POSIX message queue tests.
 *
 *   posix_mq_peer send NAME PRIO:TEXT...  send each TEXT with priority PRIO,
 *                                         printing "sent PRIO TEXT" after each
 *   posix_mq_peer recv NAME COUNT         receive COUNT messages, printing
 *                                         "PRIO TEXT" for each
 *
 * The queue must exist. Exit status 1 with a message on stderr on failure. */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what, const char *name) {
	fprintf(stderr, "posix_mq_peer: %s %s: %s\n", what, name, strerror(errno));
	return 1;
}

int main(int argc, char **argv) {
	if (argc < 4 || (strcmp(argv[1], "send") && strcmp(argv[1], "recv"))) {
		fprintf(stderr, "usage: posix_mq_peer send NAME PRIO:TEXT... | recv NAME COUNT\n");
		return 2;
	}
	const char *name = argv[2];
	setvbuf(stdout, NULL, _IOLBF, 0);
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
