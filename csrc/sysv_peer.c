/* sysv_peer: the C side of goipc's System V tests and benchmarks.
 *
 *   sysv_peer msg-send KEY TYPE TEXT    queue TEXT as a message of TYPE
 *   sysv_peer msg-recv KEY TYPE         take a message (msgrcv type rules), print "TYPE TEXT"
 *   sysv_peer shm-write KEY TEXT        copy TEXT and a NUL to the start of the segment
 *   sysv_peer shm-read KEY              print the segment up to its first NUL
 *   sysv_peer sem-op KEY NUM DELTA      semop with SEM_UNDO off
 *   sysv_peer sem-get KEY NUM           print the semaphore's value
 *   sysv_peer bench-msg SIZE ITERS [spin]  ping-pong over a queue with a forked echo
 *   sysv_peer bench-shm SIZE ITERS [spin]  ping-pong over a segment, semaphores as doorbells
 *
 * KEY is decimal or 0x hex. The benchmarks run the protocol of goipc's Go
 * benchmark and print each round trip in nanoseconds, one per line, after
 * WARMUP untimed ones; sort -n gives the percentiles. They block in msgrcv and
 * semop at once, as package sysv does; with spin both sides first try again
 * with IPC_NOWAIT as package posix does (spin.h), to show what spinning would
 * change. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/wait.h>

#include "spin.h"

#define WARMUP 1000

static void die(const char *what) {
	perror(what);
	exit(1);
}

static key_t key_arg(const char *s) { return (key_t)strtoul(s, NULL, 0); }

static void report(long long *rtt, int iters) {
	for (int i = 0; i < iters; i++)
		printf("%lld\n", rtt[i]);
}

struct msg {
	long mtype;
	char mtext[65536];
};

static int semop1(int id, unsigned short num, short delta) {
	struct sembuf op = { num, delta, 0 };
	while (semop(id, &op, 1) == -1) {
		if (errno != EINTR)
			return -1;
	}
	return 0;
}

/* sem_take decrements semaphore num, in spin mode trying IPC_NOWAIT first. */
static int sem_take(int id, unsigned short num) {
	struct sembuf op = { num, -1, IPC_NOWAIT };
	long long since = 0;
	if (spin)
		do {
			int r = semop(id, &op, 1);
			if (r == 0 || (errno != EAGAIN && errno != EINTR))
				return r;
		} while (spinning(&since));
	return semop1(id, num, -1);
}

/* msg_take receives a message of type, in spin mode trying IPC_NOWAIT first. */
static ssize_t msg_take(int id, struct msg *m, long type) {
	long long since = 0;
	if (spin)
		do {
			ssize_t n = msgrcv(id, m, sizeof m->mtext, type, IPC_NOWAIT);
			if (n >= 0 || (errno != ENOMSG && errno != EINTR))
				return n;
		} while (spinning(&since));
	return msgrcv(id, m, sizeof m->mtext, type, 0);
}

static void bench_msg(size_t size, int iters) {
	int id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	if (id == -1)
		die("msgget");
	static struct msg m;
	memset(m.mtext, 'x', size);
	pid_t pid = fork();
	if (pid == 0) { /* echo until the queue is removed */
		for (;;) {
			ssize_t n = msg_take(id, &m, 1);
			if (n == -1)
				_exit(errno == EIDRM || errno == EINVAL ? 0 : 1);
			m.mtype = 2;
			if (msgsnd(id, &m, n, 0) == -1)
				_exit(1);
		}
	}
	long long *rtt = malloc(iters * sizeof *rtt);
	for (int i = -WARMUP; i < iters; i++) {
		long long t0 = now_ns();
		m.mtype = 1;
		if (msgsnd(id, &m, size, 0) == -1)
			die("msgsnd");
		if (msg_take(id, &m, 2) == -1)
			die("msgrcv");
		if (i >= 0)
			rtt[i] = now_ns() - t0;
	}
	msgctl(id, IPC_RMID, NULL);
	waitpid(pid, NULL, 0);
	report(rtt, iters);
}

static void bench_shm(size_t size, int iters) {
	int shm = shmget(IPC_PRIVATE, size, IPC_CREAT | 0600);
	int sem = semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
	if (shm == -1 || sem == -1)
		die("shmget/semget");
	char *mem = shmat(shm, NULL, 0);
	if (mem == (void *)-1)
		die("shmat");
	shmctl(shm, IPC_RMID, NULL); /* freed once both processes detach */
	char *buf = malloc(size);
	memset(buf, 'x', size);
	pid_t pid = fork();
	if (pid == 0) { /* echo until the semaphore set is removed */
		for (;;) {
			if (sem_take(sem, 0) == -1)
				_exit(errno == EIDRM || errno == EINVAL ? 0 : 1);
			memcpy(buf, mem, size);
			memcpy(mem, buf, size);
			if (semop1(sem, 1, 1) == -1)
				_exit(1);
		}
	}
	long long *rtt = malloc(iters * sizeof *rtt);
	for (int i = -WARMUP; i < iters; i++) {
		long long t0 = now_ns();
		memcpy(mem, buf, size);
		if (semop1(sem, 0, 1) == -1 || sem_take(sem, 1) == -1)
			die("semop");
		memcpy(buf, mem, size);
		if (i >= 0)
			rtt[i] = now_ns() - t0;
	}
	semctl(sem, 0, IPC_RMID);
	waitpid(pid, NULL, 0);
	shmdt(mem);
	report(rtt, iters);
}

int main(int argc, char **argv) {
	if (argc < 3) {
		fprintf(stderr, "usage: sysv_peer msg-send|msg-recv|shm-write|shm-read|sem-op|sem-get|bench-msg|bench-shm ARGS...\n");
		return 2;
	}
	const char *cmd = argv[1];
	if (strncmp(cmd, "bench-", 6) == 0 && (argc == 4 || (argc == 5 && !strcmp(argv[4], "spin")))) {
		spin = argc == 5;
		size_t size = strtoul(argv[2], NULL, 0);
		int iters = atoi(argv[3]);
		if (size == 0 || size > 65536 || iters <= 0) {
			fprintf(stderr, "sysv_peer: size must be 1..65536 and iters positive\n");
			return 2;
		}
		if (strcmp(cmd, "bench-msg") == 0)
			bench_msg(size, iters);
		else
			bench_shm(size, iters);
		return 0;
	}
	key_t key = key_arg(argv[2]);
	if (strcmp(cmd, "msg-send") == 0 && argc == 5) {
		static struct msg m;
		int id = msgget(key, 0);
		m.mtype = atol(argv[3]);
		size_t n = strlen(argv[4]);
		if (n > sizeof m.mtext) {
			fprintf(stderr, "sysv_peer: TEXT longer than %zu bytes\n", sizeof m.mtext);
			return 2;
		}
		memcpy(m.mtext, argv[4], n);
		if (id == -1 || msgsnd(id, &m, n, 0) == -1)
			die("msgsnd");
	} else if (strcmp(cmd, "msg-recv") == 0 && argc == 4) {
		static struct msg m;
		int id = msgget(key, 0);
		ssize_t n;
		if (id == -1 || (n = msgrcv(id, &m, sizeof m.mtext, atol(argv[3]), 0)) == -1)
			die("msgrcv");
		printf("%ld %.*s\n", m.mtype, (int)n, m.mtext);
	} else if (strcmp(cmd, "shm-write") == 0 && argc == 4) {
		int id = shmget(key, 0, 0);
		char *p = id == -1 ? (void *)-1 : shmat(id, NULL, 0);
		if (p == (void *)-1)
			die("shmat");
		memcpy(p, argv[3], strlen(argv[3]) + 1);
		shmdt(p);
	} else if (strcmp(cmd, "shm-read") == 0 && argc == 3) {
		int id = shmget(key, 0, 0);
		struct shmid_ds ds;
		char *p = id == -1 ? (void *)-1 : shmat(id, NULL, SHM_RDONLY);
		if (p == (void *)-1 || shmctl(id, IPC_STAT, &ds) == -1)
			die("shmat");
		printf("%.*s\n", (int)strnlen(p, ds.shm_segsz), p);
		shmdt(p);
	} else if (strcmp(cmd, "sem-op") == 0 && argc == 5) {
		int id = semget(key, 0, 0);
		if (id == -1 || semop1(id, atoi(argv[3]), atoi(argv[4])) == -1)
			die("semop");
	} else if (strcmp(cmd, "sem-get") == 0 && argc == 4) {
		int id = semget(key, 0, 0);
		int v = id == -1 ? -1 : semctl(id, atoi(argv[3]), GETVAL);
		if (v == -1)
			die("semctl");
		printf("%d\n", v);
	} else {
		fprintf(stderr, "sysv_peer: bad command line\n");
		return 2;
	}
	return 0;
}
