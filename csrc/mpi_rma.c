/* mpi_rma: the C side of package mpi's one-sided tests and benchmarks.
 *
 *   mpi_rma shared        a rank of TestRMASharedWithC, beside a Go rank
 *   mpi_rma bench ITERS   the C baseline of BenchmarkRMA (2 ranks)
 *
 * shared: the two ranks of one node allocate a shared window of 4 int64 each
 * (MPI_Win_allocate_shared). Between fences each stores 1000*(rank+1)+i into
 * its own part, checks the other's part with plain loads and stores
 * -(rank+1) into the other's element 3; then, inside MPI_Win_lock_all, it
 * stores 7*(rank+1) into its own element 0, and after Win_sync, Barrier,
 * Win_sync reads the other's. It prints "c ok shared" if every value was
 * right, or what was wrong.
 *
 * bench: what BenchmarkRMA's Go child does, line for line, and prints the
 * same "NAME VALUE UNIT" lines from rank 0:
 *   - put-8B, get-8B: one MPI_Put (MPI_Get) of 8 bytes to rank 1 and
 *     MPI_Win_flush(1), inside one MPI_Win_lock_all epoch, in ns per
 *     operation; put-1MiB, get-1MiB: the same with 1 MiB, in MB/s. The
 *     window is MPI_Win_allocate'd, 1 MiB a rank; rank 1 waits in a barrier.
 *   - read-shared-1MiB, read-plain-1MiB: rank 0 sums rank 1's 1 MiB of
 *     doubles in a MPI_Win_allocate_shared window with plain loads, and the
 *     same in malloc'd memory, in GB/s.
 *   - shared-pingpong-8B: the ping-pong of csrc/mmap_pingpong.c
 *     (flag_pingpong.h) between ranks 0 and 1 through rank 0's part of a
 *     shared window, each rank pinned to a CPU of its own: the median round
 *     trip in ns.
 */
#define _GNU_SOURCE
#include <mpi.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flag_pingpong.h"
#include "pin.h"

static int shared(void)
{
	MPI_Comm node;
	MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
	int rank, size;
	MPI_Comm_rank(node, &rank);
	MPI_Comm_size(node, &size);
	if (size != 2) {
		fprintf(stderr, "mpi_rma shared: %d ranks on the node, want 2\n", size);
		return 1;
	}
	int64_t *mine, *theirs;
	MPI_Win win;
	MPI_Win_allocate_shared(4 * sizeof(int64_t), sizeof(int64_t), MPI_INFO_NULL, node, &mine, &win);
	MPI_Aint bytes;
	int unit, other = 1 - rank, bad = 0;
	MPI_Win_shared_query(win, other, &bytes, &unit, &theirs);
	if (bytes != 4 * sizeof(int64_t) || unit != sizeof(int64_t)) {
		fprintf(stderr, "mpi_rma shared: rank %d's part is %ld bytes of unit %d\n", other, (long)bytes, unit);
		bad = 1;
	}
	MPI_Win_fence(0, win);
	for (int i = 0; i < 4; i++)
		mine[i] = 1000 * (rank + 1) + i;
	MPI_Win_fence(0, win);
	for (int i = 0; i < 4; i++)
		if (theirs[i] != 1000 * (other + 1) + i) {
			fprintf(stderr, "mpi_rma shared: the other's element %d is %ld\n", i, (long)theirs[i]);
			bad = 1;
		}
	theirs[3] = -(rank + 1);
	MPI_Win_fence(0, win);
	if (mine[3] != -(other + 1)) {
		fprintf(stderr, "mpi_rma shared: own element 3 is %ld, want %d\n", (long)mine[3], -(other + 1));
		bad = 1;
	}
	MPI_Win_fence(0, win);
	MPI_Win_lock_all(0, win);
	mine[0] = 7 * (rank + 1);
	MPI_Win_sync(win);
	MPI_Barrier(node);
	MPI_Win_sync(win);
	if (theirs[0] != 7 * (other + 1)) {
		fprintf(stderr, "mpi_rma shared: after Win_sync the other's element 0 is %ld\n", (long)theirs[0]);
		bad = 1;
	}
	MPI_Win_unlock_all(win);
	MPI_Win_free(&win);
	MPI_Comm_free(&node);
	if (!bad) {
		/* One write: MPICH's MPI_Init leaves stdout unbuffered, where the
		 * puts() that gcc makes of printf("...\n") writes the newline apart
		 * and mpiexec can put the other rank's line between the two. */
		fputs("c ok shared\n", stdout);
		fflush(stdout);
	}
	return bad;
}

enum { MIB = 1 << 20 };

/* rma times put and get, small and large, from rank 0 to rank 1. */
static void rma(int rank, long iters)
{
	char *mem, *buf = calloc(MIB, 1);
	MPI_Win win;
	MPI_Win_allocate(MIB, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &mem, &win);
	memset(mem, 0, MIB);
	MPI_Barrier(MPI_COMM_WORLD);
	const struct {
		const char *name;
		int put, size;
	} cases[] = {{"put-8B", 1, 8}, {"get-8B", 0, 8}, {"put-1MiB", 1, MIB}, {"get-1MiB", 0, MIB}};
	for (int c = 0; c < 4; c++) {
		long n = cases[c].size > 64 << 10 ? iters / 100 + 10 : iters;
		if (rank == 0) {
			MPI_Win_lock_all(0, win);
			double start = 0;
			for (long i = 0; i < n + n / 10; i++) { /* the first tenth warms up */
				if (i == n / 10)
					start = MPI_Wtime();
				if (cases[c].put)
					MPI_Put(buf, cases[c].size, MPI_BYTE, 1, 0, cases[c].size, MPI_BYTE, win);
				else
					MPI_Get(buf, cases[c].size, MPI_BYTE, 1, 0, cases[c].size, MPI_BYTE, win);
				MPI_Win_flush(1, win);
			}
			double t = MPI_Wtime() - start;
			MPI_Win_unlock_all(win);
			if (cases[c].size == 8)
				printf("%s %.1f ns\n", cases[c].name, t / n * 1e9);
			else
				printf("%s %.1f MB/s\n", cases[c].name, (double)cases[c].size * n / t / 1e6);
		}
		MPI_Barrier(MPI_COMM_WORLD);
	}
	MPI_Win_free(&win);
	free(buf);
}

static double sum(const double *v, long n)
{
	double s = 0;
	for (long i = 0; i < n; i++)
		s += v[i];
	return s;
}

/* reads times rank 0's plain loads of rank 1's part of a shared window and
 * of its own malloc'd memory. */
static void reads(MPI_Comm node, int rank, long iters)
{
	long n = MIB / sizeof(double), rounds = iters / 10 + 10;
	double *mine, *theirs, *plain = malloc(MIB);
	MPI_Win win;
	MPI_Win_allocate_shared(MIB, sizeof(double), MPI_INFO_NULL, node, &mine, &win);
	MPI_Aint bytes;
	int unit;
	MPI_Win_shared_query(win, 1, &bytes, &unit, &theirs);
	MPI_Win_fence(0, win);
	for (long i = 0; i < n; i++)
		mine[i] = plain[i] = (double)i;
	MPI_Win_fence(0, win);
	if (rank == 0) {
		const struct {
			const char *name;
			const double *v;
		} cases[] = {{"read-shared-1MiB", theirs}, {"read-plain-1MiB", plain}};
		for (int c = 0; c < 2; c++) {
			double want = (double)n * (n - 1) / 2, start = 0;
			for (long r = 0; r < rounds + rounds / 10; r++) {
				if (r == rounds / 10)
					start = MPI_Wtime();
				if (sum(cases[c].v, n) != want) {
					fprintf(stderr, "mpi_rma bench: %s: wrong sum\n", cases[c].name);
					exit(1);
				}
			}
			printf("%s %.2f GB/s\n", cases[c].name, (double)MIB * rounds / (MPI_Wtime() - start) / 1e9);
		}
	}
	MPI_Win_fence(0, win);
	MPI_Win_free(&win);
	free(plain);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* pingpong is the mmap ping-pong through rank 0's part of a shared window. */
static void pingpong(MPI_Comm node, int rank, long iters)
{
	char *mine, *shm;
	MPI_Win win;
	MPI_Win_allocate_shared(rank == 0 ? 3 * PAGE : 0, 1, MPI_INFO_NULL, node, &mine, &win);
	MPI_Aint bytes;
	int unit;
	MPI_Win_shared_query(win, 0, &bytes, &unit, &shm);
	uint32_t *flag = (uint32_t *)shm;
	MPI_Win_lock_all(0, win);
	if (rank == 0)
		__atomic_store_n(flag, 0, __ATOMIC_SEQ_CST);
	MPI_Win_sync(win);
	MPI_Barrier(node);
	MPI_Win_sync(win);
	cpu_set_t mask = pin_mask();
	pin(&mask, rank);
	char msg[8] = "pingpong", reply[8];
	if (rank == 1) {
		while (await(flag, FLAG_PING, FLAG_QUIT) == FLAG_PING) {
			memcpy(reply, shm + PING_OFF, sizeof reply);
			memcpy(shm + PONG_OFF, reply, sizeof reply);
			__atomic_store_n(flag, FLAG_PONG, __ATOMIC_SEQ_CST);
		}
	} else if (rank == 0) {
		double *samples = malloc(sizeof(double) * iters);
		for (long i = -WARMUP; i < iters; i++) {
			double start = MPI_Wtime();
			memcpy(shm + PING_OFF, msg, sizeof msg);
			__atomic_store_n(flag, FLAG_PING, __ATOMIC_SEQ_CST);
			await(flag, FLAG_PONG, FLAG_PONG);
			memcpy(reply, shm + PONG_OFF, sizeof reply);
			if (i >= 0)
				samples[i] = MPI_Wtime() - start;
		}
		__atomic_store_n(flag, FLAG_QUIT, __ATOMIC_SEQ_CST);
		if (memcmp(reply, msg, sizeof msg) != 0) {
			fprintf(stderr, "mpi_rma bench: the reply differs from the message\n");
			exit(1);
		}
		qsort(samples, iters, sizeof(double), cmp);
		printf("shared-pingpong-8B %.0f ns\n", samples[iters / 2] * 1e9);
		free(samples);
	}
	MPI_Win_unlock_all(win);
	MPI_Win_free(&win);
}

int main(int argc, char **argv)
{
	long iters = argc == 3 ? strtol(argv[2], NULL, 10) : 0;
	int isShared = argc == 2 && strcmp(argv[1], "shared") == 0;
	if (!isShared && !(argc == 3 && strcmp(argv[1], "bench") == 0 && iters > 0)) {
		fprintf(stderr, "usage: mpi_rma shared | mpi_rma bench ITERS\n");
		return 2;
	}
	int provided;
	MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
	int status = 0;
	if (isShared) {
		status = shared();
	} else {
		int rank, size;
		MPI_Comm_rank(MPI_COMM_WORLD, &rank);
		MPI_Comm_size(MPI_COMM_WORLD, &size);
		MPI_Comm node;
		MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
		int nodeSize;
		MPI_Comm_size(node, &nodeSize);
		if (size != 2 || nodeSize != 2) {
			fprintf(stderr, "mpi_rma bench: needs 2 ranks on one node\n");
			MPI_Abort(MPI_COMM_WORLD, 2);
		}
		rma(rank, iters);
		reads(node, rank, iters);
		pingpong(node, rank, iters);
		MPI_Comm_free(&node);
		fflush(stdout);
	}
	MPI_Finalize();
	return status;
}
