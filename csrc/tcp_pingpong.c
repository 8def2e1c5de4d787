/* tcp_pingpong: the plain-TCP baseline for MPI between hosts: what one
 * message costs on the wire and in the kernel, without MPI.
 *
 *   tcp_pingpong echo PORT                         (on one host)
 *   tcp_pingpong ping HOST PORT SIZE ITERS [spin]  (on the other)
 *
 * echo accepts one connection (printing "listening" once it listens) and
 * sends back every SIZE-byte message until the peer closes. ping sends SIZE
 * bytes and waits for them to come back, ITERS times after ITERS/10 for
 * warm-up, and prints mpidemo pingpong's table: one-way latency, half the
 * round trip. TCP_NODELAY on both ends. It waits in recv (the kernel wakes
 * it), or with spin polls with MSG_DONTWAIT, as MPI's progress loops do. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) {
	fprintf(stderr, "tcp_pingpong: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int spin;

/* move sends or receives exactly n bytes. */
static void move(int fd, char *buf, size_t n, int send_it) {
	while (n > 0) {
		ssize_t k = send_it ? send(fd, buf, n, MSG_NOSIGNAL)
		                    : recv(fd, buf, n, spin ? MSG_DONTWAIT : 0);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k <= 0) {
			if (k == 0)
				exit(0); /* the peer is done */
			die(send_it ? "send" : "recv");
		}
		buf += k;
		n -= (size_t)k;
	}
}

static void nodelay(int fd) {
	int one = 1;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
		die("setsockopt TCP_NODELAY");
}

static double seconds(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
	if (argc == 3 && strcmp(argv[1], "echo") == 0) {
		int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
		if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
		    bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 1) < 0)
			die("listen");
		printf("listening\n");
		fflush(stdout);
		int fd = accept(l, NULL, NULL);
		if (fd < 0)
			die("accept");
		nodelay(fd);
		unsigned size;
		move(fd, (char *)&size, sizeof size, 0);
		char *buf = malloc(size ? size : 1);
		for (;;) {
			move(fd, buf, size, 0);
			move(fd, buf, size, 1);
		}
	}
	if ((argc != 6 && argc != 7) || strcmp(argv[1], "ping") != 0) {
		fprintf(stderr, "usage: tcp_pingpong echo PORT | tcp_pingpong ping HOST PORT SIZE ITERS [spin]\n");
		return 2;
	}
	spin = argc == 7 && strcmp(argv[6], "spin") == 0;
	unsigned size = (unsigned)atoi(argv[4]);
	int iters = atoi(argv[5]);
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai;
	int rc = getaddrinfo(argv[2], argv[3], &hints, &ai);
	if (rc != 0) {
		fprintf(stderr, "tcp_pingpong: %s: %s\n", argv[2], gai_strerror(rc));
		return 1;
	}
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0)
		die("connect");
	nodelay(fd);
	char *buf = calloc(1, size ? size : 1);
	move(fd, (char *)&size, sizeof size, 1);
	double start = 0;
	for (int i = 0; i < iters + iters / 10; i++) {
		if (i == iters / 10)
			start = seconds();
		move(fd, buf, size, 1);
		move(fd, buf, size, 0);
	}
	printf("# tcp_pingpong: C, TCP, %s\n# %-10s %14s\n", spin ? "spin" : "block", "size (B)", "latency (us)");
	printf("%-12u %14.2f\n", size, (seconds() - start) * 1e6 / (2.0 * iters));
	return 0;
}
