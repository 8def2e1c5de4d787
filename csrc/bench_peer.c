/* bench_peer: the C peer of `ipc bench`, one program for every mechanism.
 *
 *   bench_peer MECH MODE SIZE WARMUP COUNT WINDOW OBJECTS...
 *
 * The protocol is cmd/ipc/internal/bench's (RunPeer in peer.go is the Go peer, and
 * csrc/bench_peer.py the Python one): open the objects the Go initiator made,
 * print "ready", then receive WARMUP+COUNT messages of SIZE bytes; in latency
 * mode echo each, in throughput mode acknowledge with one message of
 * min(SIZE,1) bytes after every WINDOW (counted afresh from the first timed
 * message) and after the last message of each phase. Then print "cpu NS",
 * the CPU time used over the COUNT timed messages, and exit when stdin
 * closes. The peer never times anything: the initiator does.
 *
 * OBJECTS per mechanism, and how this side uses them:
 *   file PING PONG          poll for PING (sched_yield between tries), read,
 *                           unlink; write PONG.tmp and rename it to PONG
 *   signal                  sigwaitinfo(SIGUSR1); kill(getppid(), SIGUSR1)
 *   tcp HOST:PORT, unix PATH   a connected stream socket (TCP_NODELAY)
 *   unix-dgram              a datagram socketpair end, descriptor 3
 *   pipe                    read descriptor 3, write descriptor 4
 *   fifo PING PONG          open PING for reading, then PONG for writing
 *   posix-mq PING PONG      mq_receive from PING, mq_send to PONG
 *   sysv-msg KEY            msgrcv type 1, msgsnd type 2
 *   posix-shm SEG PING PONG shm_open SEG; sem_wait(PING), copy out of the
 *                           ping area; copy into the pong area, sem_post(PONG)
 *   sysv-shm KEY PING PONG  the same with shmat and two one-semaphore sets
 *   mmap PATH               the same with a flag word: wait for 1, store 2
 *   posix-sem PING PONG, sysv-sem PING PONG   the doorbells alone
 *   ring PING PONG SPIN     shm_open two rings (goipc_ring.h): receive from
 *                           PING, send to PONG, spinning SPIN ns before a
 *                           wait sleeps on the futex
 *   eventfd                 a doorbell: read descriptor 3 (semaphore
 *                           eventfds, non-blocking: poll first), write 4
 * Shared memory: flag word at 0, ping area at 64, pong area after it, each
 * max(SIZE,1) bytes. Waits block in the kernel, except mmap's, which spins
 * SPIN loads before it yields on each further try, and ring's, which spins as
 * package ring does. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "goipc_ring.h"

enum { HEADER = 64, SPIN = 10000, FLAG_PING = 1, FLAG_PONG = 2 };

static const char *mech;
static size_t area; /* max(SIZE, 1) */

static void die(const char *what) {
	fprintf(stderr, "bench_peer %s: %s: %s\n", mech, what, strerror(errno));
	exit(1);
}

/* The side of one mechanism: the state its send and recv use. */
static int rfd = -1, wfd = -1;          /* streams, datagrams, FIFOs, pipes */
static const char *in_path, *out_path; /* file */
static char tmp_path[4096];
static mqd_t mq_in, mq_out;
static int msq;
static char *mem, *ping, *pong; /* shared memory */
static volatile uint32_t *flag;
static sem_t *psem_in, *psem_out;
static int ssem_in = -1, ssem_out = -1;
static sigset_t sigs;
static int efd_in = -1, efd_out = -1;
static struct goipc_ring ring_in, ring_out;
static int64_t ring_spin = -1; /* ns; -1: not the ring */

/* die_err is die for a function that returns an errno value. */
static void die_err(const char *what, int err) {
	errno = err;
	die(what);
}

static void write_all(int fd, const char *p, size_t n) {
	while (n > 0) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			die("write");
		p += k, n -= k;
	}
}

static void read_all(int fd, char *p, size_t n) {
	while (n > 0) {
		ssize_t k = read(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			die("read");
		if (k == 0) {
			errno = EPIPE;
			die("read: end of stream");
		}
		p += k, n -= k;
	}
}

static void ring(void) {
	if (psem_out && sem_post(psem_out) < 0)
		die("sem_post");
	if (ssem_out >= 0) {
		struct sembuf up = {0, 1, 0};
		if (semop(ssem_out, &up, 1) < 0)
			die("semop");
	}
	if (flag)
		__atomic_store_n(flag, FLAG_PONG, __ATOMIC_SEQ_CST);
	if (efd_out >= 0 && eventfd_write(efd_out, 1) < 0)
		die("eventfd_write");
}

static void await(void) {
	if (psem_in)
		while (sem_wait(psem_in) < 0)
			if (errno != EINTR)
				die("sem_wait");
	if (ssem_in >= 0) {
		struct sembuf down = {0, -1, 0};
		while (semop(ssem_in, &down, 1) < 0)
			if (errno != EINTR)
				die("semop");
	}
	if (flag)
		for (int i = 0; __atomic_load_n(flag, __ATOMIC_SEQ_CST) != FLAG_PING; i++)
			if (i >= SPIN)
				sched_yield();
	if (efd_in >= 0) {
		eventfd_t v;
		struct pollfd p = {.fd = efd_in, .events = POLLIN};
		while (eventfd_read(efd_in, &v) < 0)
			if ((errno != EAGAIN && errno != EINTR) || (poll(&p, 1, -1) < 0 && errno != EINTR))
				die("eventfd_read");
	}
}

static void send_msg(const char *buf, size_t n) {
	if (!strcmp(mech, "file")) {
		int fd = open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0)
			die("open");
		write_all(fd, buf, n);
		close(fd);
		if (rename(tmp_path, out_path) < 0)
			die("rename");
	} else if (!strcmp(mech, "signal")) {
		if (kill(getppid(), SIGUSR1) < 0)
			die("kill");
	} else if (!strcmp(mech, "unix-dgram")) {
		if (send(wfd, buf, n, 0) < 0)
			die("send");
	} else if (wfd >= 0) {
		write_all(wfd, buf, n);
	} else if (!strcmp(mech, "posix-mq")) {
		if (mq_send(mq_out, buf, n, 0) < 0)
			die("mq_send");
	} else if (!strcmp(mech, "sysv-msg")) {
		static struct {
			long type;
			char text[1 << 16];
		} m;
		m.type = 2;
		memcpy(m.text, buf, n);
		while (msgsnd(msq, &m, n, 0) < 0)
			if (errno != EINTR)
				die("msgsnd");
	} else if (ring_spin >= 0) {
		int err = goipc_ring_send(&ring_out, buf, n, ring_spin);
		if (err)
			die_err("goipc_ring_send", err);
	} else {
		if (pong)
			memcpy(pong, buf, n);
		ring();
	}
}

static void recv_msg(char *buf, size_t n) {
	if (!strcmp(mech, "file")) {
		int fd;
		while ((fd = open(in_path, O_RDONLY)) < 0) {
			if (errno != ENOENT)
				die("open");
			sched_yield(); /* each try is a system call */
		}
		read_all(fd, buf, n);
		close(fd);
		if (unlink(in_path) < 0)
			die("unlink");
	} else if (!strcmp(mech, "signal")) {
		while (sigwaitinfo(&sigs, NULL) < 0)
			if (errno != EINTR)
				die("sigwaitinfo");
	} else if (!strcmp(mech, "unix-dgram")) {
		if (recv(rfd, buf, n, 0) != (ssize_t)n)
			die("recv");
	} else if (rfd >= 0) {
		read_all(rfd, buf, n);
	} else if (!strcmp(mech, "posix-mq")) {
		static char scratch[1 << 16]; /* mq_receive wants the queue's message size */
		ssize_t k;
		while ((k = mq_receive(mq_in, scratch, area, NULL)) < 0)
			if (errno != EINTR)
				die("mq_receive");
		memcpy(buf, scratch, n);
	} else if (!strcmp(mech, "sysv-msg")) {
		static struct {
			long type;
			char text[1 << 16];
		} m;
		while (msgrcv(msq, &m, n, 1, 0) < 0)
			if (errno != EINTR)
				die("msgrcv");
		memcpy(buf, m.text, n);
	} else if (ring_spin >= 0) {
		uint32_t len;
		int err = goipc_ring_recv(&ring_in, buf, n, &len, ring_spin);
		if (err)
			die_err("goipc_ring_recv", err);
		if (len != n)
			die_err("goipc_ring_recv: a message of another size", EBADMSG);
	} else {
		await();
		if (ping)
			memcpy(buf, ping, n);
	}
}

/* open_ring maps the named ring and checks its header. */
static void open_ring(struct goipc_ring *r, const char *name) {
	struct stat st;
	int fd = shm_open(name, O_RDWR, 0);
	if (fd < 0 || fstat(fd, &st) < 0)
		die("shm_open");
	void *p = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap");
	close(fd);
	int err = goipc_ring_attach(r, p, st.st_size);
	if (err)
		die_err("goipc_ring_attach", err);
}

static key_t key_arg(const char *s) { return (key_t)strtol(s, NULL, 10); }

static void map_areas(char *base) {
	mem = base;
	ping = mem + HEADER;
	pong = ping + area;
}

static int connect_to(const char *addr) {
	if (!strcmp(mech, "unix")) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		strncpy(sa.sun_path, addr, sizeof sa.sun_path - 1);
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
			die("connect");
		return fd;
	}
	char host[64];
	const char *colon = strrchr(addr, ':');
	if (!colon || colon - addr >= (long)sizeof host) {
		errno = EINVAL;
		die("address");
	}
	memcpy(host, addr, colon - addr);
	host[colon - addr] = 0;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(atoi(colon + 1))};
	inet_pton(AF_INET, host, &sa.sin_addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		die("connect");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

static void open_objects(int argc, char **obj) {
	size_t segsize = HEADER + 2 * area;
	if (!strcmp(mech, "file") && argc == 2) {
		in_path = obj[0], out_path = obj[1];
		snprintf(tmp_path, sizeof tmp_path, "%s.tmp", out_path);
	} else if (!strcmp(mech, "signal") && argc == 0) {
		sigemptyset(&sigs);
		sigaddset(&sigs, SIGUSR1);
		sigprocmask(SIG_BLOCK, &sigs, NULL);
	} else if ((!strcmp(mech, "tcp") || !strcmp(mech, "unix")) && argc == 1) {
		rfd = wfd = connect_to(obj[0]);
	} else if (!strcmp(mech, "unix-dgram") && argc == 0) {
		rfd = wfd = 3;
	} else if (!strcmp(mech, "pipe") && argc == 0) {
		rfd = 3, wfd = 4;
	} else if (!strcmp(mech, "fifo") && argc == 2) {
		if ((rfd = open(obj[0], O_RDONLY)) < 0 || (wfd = open(obj[1], O_WRONLY)) < 0)
			die("open");
	} else if (!strcmp(mech, "posix-mq") && argc == 2) {
		if ((mq_in = mq_open(obj[0], O_RDONLY)) == (mqd_t)-1 || (mq_out = mq_open(obj[1], O_WRONLY)) == (mqd_t)-1)
			die("mq_open");
	} else if (!strcmp(mech, "sysv-msg") && argc == 1) {
		if ((msq = msgget(key_arg(obj[0]), 0)) < 0)
			die("msgget");
	} else if ((!strcmp(mech, "posix-shm") && argc == 3) || (!strcmp(mech, "posix-sem") && argc == 2)) {
		char **sems = obj;
		if (argc == 3) {
			int fd = shm_open(obj[0], O_RDWR, 0);
			void *p = fd < 0 ? MAP_FAILED : mmap(NULL, segsize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
			if (p == MAP_FAILED)
				die("shm_open");
			map_areas(p);
			sems++;
		}
		if ((psem_in = sem_open(sems[0], 0)) == SEM_FAILED || (psem_out = sem_open(sems[1], 0)) == SEM_FAILED)
			die("sem_open");
	} else if ((!strcmp(mech, "sysv-shm") && argc == 3) || (!strcmp(mech, "sysv-sem") && argc == 2)) {
		char **sems = obj;
		if (argc == 3) {
			int id = shmget(key_arg(obj[0]), 0, 0);
			void *p = id < 0 ? (void *)-1 : shmat(id, NULL, 0);
			if (p == (void *)-1)
				die("shmat");
			map_areas(p);
			sems++;
		}
		if ((ssem_in = semget(key_arg(sems[0]), 1, 0)) < 0 || (ssem_out = semget(key_arg(sems[1]), 1, 0)) < 0)
			die("semget");
	} else if (!strcmp(mech, "mmap") && argc == 1) {
		int fd = open(obj[0], O_RDWR);
		void *p = fd < 0 ? MAP_FAILED : mmap(NULL, segsize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			die("mmap");
		map_areas(p);
		flag = (volatile uint32_t *)mem;
	} else if (!strcmp(mech, "ring") && argc == 3) {
		open_ring(&ring_in, obj[0]);
		open_ring(&ring_out, obj[1]);
		ring_spin = strtoll(obj[2], NULL, 10);
	} else if (!strcmp(mech, "eventfd") && argc == 0) {
		efd_in = 3, efd_out = 4;
	} else {
		fprintf(stdout, "skip the C peer does not know mechanism %s with %d objects\n", mech, argc);
		exit(0);
	}
}

static long long cpu_ns(void) {
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL;
}

static int ack_due(long i, long warmup, long total, long window) {
	long j = i + 1;
	if (j <= warmup)
		return j % window == 0 || j == warmup;
	return (j - warmup) % window == 0 || j == total;
}

int main(int argc, char **argv) {
	if (argc < 7) {
		fprintf(stderr, "usage: bench_peer MECH MODE SIZE WARMUP COUNT WINDOW OBJECTS...\n");
		return 2;
	}
	mech = argv[1];
	int latency = !strcmp(argv[2], "latency");
	long size = atol(argv[3]), warmup = atol(argv[4]), count = atol(argv[5]), window = atol(argv[6]);
	if (size < 0 || size > 1L << 30 || warmup < 0 || count < 0 || window < 1) {
		fprintf(stderr, "bench_peer: bad numbers\n");
		return 2;
	}
	area = size > 0 ? size : 1;
	if ((!strcmp(mech, "posix-mq") || !strcmp(mech, "sysv-msg")) && size > 1 << 16) {
		fprintf(stderr, "bench_peer: %s messages of %ld bytes are above 64KiB\n", mech, size);
		return 2;
	}
	open_objects(argc - 7, argv + 7);
	printf("ready\n");
	fflush(stdout);

	char *buf = calloc(area, 1);
	size_t ack = size < 1 ? size : 1;
	long long cpu0 = 0;
	for (long i = 0; i < warmup + count; i++) {
		if (i == warmup)
			cpu0 = cpu_ns();
		recv_msg(buf, size);
		if (latency)
			send_msg(buf, size);
		else if (ack_due(i, warmup, warmup + count, window))
			send_msg(buf, ack);
	}
	printf("cpu %lld\n", cpu_ns() - cpu0);
	fflush(stdout);
	while (read(0, buf, area) > 0)
		;
	return 0;
}
