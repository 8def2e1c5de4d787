/* flag_pingpong.h: the flag ping-pong of goipc's shared-memory baselines
 * (mmap_pingpong, and mpi_rma's through an MPI shared window), the same as
 * internal/testutil's AwaitFlag and its constants on the Go side. A flag word
 * at offset 0 and a ping and a pong area on pages of their own: the
 * initiator writes a message to ping and sets PING; the peer copies it out,
 * writes it to pong and sets PONG; QUIT ends the peer. Waiting spins on an
 * atomic load, and calls sched_yield after SPIN loads (some microseconds)
 * so that a descheduled peer gets the core back. */
#include <sched.h>
#include <stdint.h>

enum { PAGE = 4096, PING_OFF = PAGE, PONG_OFF = 2 * PAGE, SPIN = 10000 };
enum { FLAG_PING = 1, FLAG_PONG = 2, FLAG_QUIT = 3 };
/* Untimed round trips first, at least WARMUP of them over at least WARMUP_NS,
 * as the Go benchmarks do (a Go runtime calms down over its first 15 ms). */
enum { WARMUP = 100 };
#define WARMUP_NS 20000000LL

/* await spins until the flag holds a or b and returns it. */
static uint32_t await(uint32_t *flag, uint32_t a, uint32_t b)
{
	for (int i = 0;; i++) {
		uint32_t v = __atomic_load_n(flag, __ATOMIC_SEQ_CST);
		if (v == a || v == b)
			return v;
		if (i >= SPIN)
			sched_yield();
	}
}
