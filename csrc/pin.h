/* pin.h: how goipc's C ping-pong baselines place their two processes
 * (mmap_pingpong, ring_peer, ring_variants), as the Go benchmarks do
 * (testutil.PinThread): one CPU each, so that both spin on cores of their
 * own. */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* pin binds the calling process to the nth CPU of mask, if there is one. */
static void pin(const cpu_set_t *mask, int nth)
{
	for (int cpu = 0, seen = 0; cpu < CPU_SETSIZE; cpu++) {
		if (CPU_ISSET(cpu, mask) && seen++ == nth) {
			cpu_set_t one;
			CPU_ZERO(&one);
			CPU_SET(cpu, &one);
			sched_setaffinity(0, sizeof one, &one);
			return;
		}
	}
}

/* pin_mask returns the CPUs the process may use, or none when there are fewer
 * than two: then pin leaves both processes alone. */
static cpu_set_t pin_mask(void)
{
	cpu_set_t mask;
	if (sched_getaffinity(0, sizeof mask, &mask) != 0 || CPU_COUNT(&mask) < 2)
		CPU_ZERO(&mask);
	return mask;
}

/* fork_pinned forks, then pins the parent to the first CPU of pin_mask and
 * the child to the second; it ends the program if fork fails, and returns
 * what fork returned. */
static inline pid_t fork_pinned(void)
{
	cpu_set_t mask = pin_mask();
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(1);
	}
	pin(&mask, pid == 0 ? 1 : 0);
	return pid;
}
