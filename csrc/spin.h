/* spin.h: the spin mode of goipc's C ping-pong baselines (posix_pingpong,
 * sysv_peer), which waits as package posix does (posix/shortwait.go): a call
 * that would wait tries again without blocking, yielding the CPU between
 * tries, for up to SPIN_NS, and only then blocks. */
#include <sched.h>
#include <time.h>

#define SPIN_NS 20000 /* posix/shortwait.go's spinMax */

static int spin; /* set by the program: spin mode, else block at once */

static long long now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* spinning reports whether a wait that began at *since (0: now) may still
 * spin, and yields the CPU if so: the peer may be waiting for it. */
static int spinning(long long *since) {
	long long now = now_ns();
	if (*since == 0)
		*since = now;
	if (!spin || now - *since >= SPIN_NS)
		return 0;
	sched_yield();
	return 1;
}
