/* inventory_objects: a C peer for the inventory tests. It creates one object
 * of each kind, prints what it made, then keeps or lets go of them:
 *
 *   inventory_objects NAME MSGKEY SHMKEY SEMKEY hold|release|exit
 *
 * POSIX names are /NAME-mq, /NAME-shm and /NAME-sem; every object gets mode
 * 0640. Each is used once so that the kernel records this pid: two messages
 * on each queue, bytes in each segment, one operation on semaphore 1 of the
 * three-semaphore set. Output, one line each:
 *   posix-mq /NAME-mq, posix-shm /NAME-shm, posix-sem /NAME-sem,
 *   sysv-msg KEY ID, sysv-shm KEY ID, sysv-sem KEY ID, pid PID, ready
 * hold keeps everything open, mapped and attached until stdin closes;
 * release closes, unmaps and detaches it all, then waits for stdin to close;
 * exit leaves at once (the kernel closes and detaches). It never removes. */
#include <fcntl.h>
#include <mqueue.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

static void die(const char *what) {
	perror(what);
	exit(1);
}

static key_t key_arg(const char *s) { return (key_t)strtoul(s, NULL, 0); }

int main(int argc, char **argv) {
	if (argc != 6) {
		fprintf(stderr, "usage: %s NAME MSGKEY SHMKEY SEMKEY hold|release|exit\n", argv[0]);
		return 2;
	}
	const char *action = argv[5];
	char mqname[300], shmname[300], semname[300];
	snprintf(mqname, sizeof mqname, "/%s-mq", argv[1]);
	snprintf(shmname, sizeof shmname, "/%s-shm", argv[1]);
	snprintf(semname, sizeof semname, "/%s-sem", argv[1]);
	umask(0); /* the modes below are meant exactly */

	struct mq_attr attr = {.mq_maxmsg = 4, .mq_msgsize = 64};
	mqd_t mq = mq_open(mqname, O_CREAT | O_EXCL | O_RDWR, 0640, &attr);
	if (mq == (mqd_t)-1) die("mq_open");
	if (mq_send(mq, "hello", 5, 0) || mq_send(mq, "world!", 6, 0)) die("mq_send");

	int fd = shm_open(shmname, O_CREAT | O_EXCL | O_RDWR, 0640);
	if (fd < 0) die("shm_open");
	if (ftruncate(fd, 4096)) die("ftruncate");
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) die("mmap");
	strcpy(p, "hello");

	sem_t *sem = sem_open(semname, O_CREAT | O_EXCL, 0640, 1);
	if (sem == SEM_FAILED) die("sem_open");
	if (sem_post(sem)) die("sem_post");

	int msqid = msgget(key_arg(argv[2]), IPC_CREAT | IPC_EXCL | 0640);
	if (msqid < 0) die("msgget");
	struct { long type; char text[8]; } msg = {1, "hello"};
	if (msgsnd(msqid, &msg, 5, 0) || msgsnd(msqid, &msg, 6, 0)) die("msgsnd");

	int shmid = shmget(key_arg(argv[3]), 8192, IPC_CREAT | IPC_EXCL | 0640);
	if (shmid < 0) die("shmget");
	char *seg = shmat(shmid, NULL, 0);
	if (seg == (void *)-1) die("shmat");
	strcpy(seg, "hello");

	int semid = semget(key_arg(argv[4]), 3, IPC_CREAT | IPC_EXCL | 0640);
	if (semid < 0) die("semget");
	struct sembuf op = {.sem_num = 1, .sem_op = 1};
	if (semop(semid, &op, 1)) die("semop");

	if (strcmp(action, "release") == 0) {
		mq_close(mq);
		munmap(p, 4096);
		close(fd);
		sem_close(sem);
		shmdt(seg);
	}
	printf("posix-mq %s\nposix-shm %s\nposix-sem %s\n", mqname, shmname, semname);
	printf("sysv-msg %d %d\nsysv-shm %d %d\nsysv-sem %d %d\n", (int)key_arg(argv[2]), msqid,
	       (int)key_arg(argv[3]), shmid, (int)key_arg(argv[4]), semid);
	printf("pid %d\nready\n", (int)getpid());
	fflush(stdout);
	if (strcmp(action, "exit") == 0) return 0;
	char buf[64];
	while (read(0, buf, sizeof buf) > 0) {
	}
	return 0;
}
