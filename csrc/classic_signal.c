/* classic_signal: a C peer for `ipc signal`, using the calls a C program would.
 *
 *   classic_signal send PID SIGNO VALUE   sigqueue(PID, SIGNO, VALUE)
 *   classic_signal recv SIGNO             print "pid N", then wait for SIGNO with
 *                                         sigwaitinfo and print what siginfo says
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
	if (argc == 5 && strcmp(argv[1], "send") == 0) {
		union sigval v = {.sival_int = atoi(argv[4])};
		if (sigqueue(atoi(argv[2]), atoi(argv[3]), v) != 0) {
			perror("sigqueue");
			return 1;
		}
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "recv") == 0) {
		sigset_t set;
		siginfo_t info;
		sigemptyset(&set);
		sigaddset(&set, atoi(argv[2]));
		/* Blocked first, so the signal waits for sigwaitinfo instead of killing us. */
		sigprocmask(SIG_BLOCK, &set, NULL);
		printf("pid %d\n", (int)getpid());
		fflush(stdout);
		if (sigwaitinfo(&set, &info) < 0) {
			perror("sigwaitinfo");
			return 1;
		}
		printf("signo=%d code=%d value=%d\n", info.si_signo, info.si_code, info.si_value.sival_int);
		return 0;
	}
	fprintf(stderr, "usage: %s send PID SIGNO VALUE | recv SIGNO\n", argv[0]);
	return 2;
}
