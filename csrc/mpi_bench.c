/* mpi_bench: the C baselines for `mpidemo pingpong` and `mpidemo bw`, with the
 * same flags, protocol and output, so that a run of each compares Go with C
 * and a mixed job (one rank of each) checks that they agree.
 *
 *   mpi_bench pingpong [--sizes LIST] [--iters N] [--samples]  osu_latency style
 *   mpi_bench bw [--sizes LIST] [--iters N] [--window N] [--persistent] [--samples]
 *                                                             osu_bw style
 *   mpi_bench procnull [--iters N]                            the cost of a call
 *
 * It runs at MPI_THREAD_FUNNELED, as mpidemo does.
 *
 * procnull times an 8-byte MPI_Send, MPI_Recv, MPI_Isend + MPI_Wait, and
 * persistent sends: MPI_Start + MPI_Wait of one, MPI_Startall + MPI_Waitall
 * of eight (per operation), to and from MPI_PROC_NULL, which MPI completes at once: the baseline for what
 * calling from Go adds (package mpi's BenchmarkProcNull). It runs as one rank
 * and reports the fastest of PROCNULL_CHUNKS chunks of the iterations.
 *
 * LIST is comma-separated sizes in bytes, or with a KiB or MiB suffix.
 * bw --persistent sets each size's window up once (MPI_Send_init,
 * MPI_Recv_init) and runs it with MPI_Startall and MPI_Waitall, as mpidemo's
 * Persistents set does. --samples makes rank 0 print each timed round trip
 * or window as "SIZE NS" (monotonic clock) instead of the average, as
 * mpidemo's does.
 */
#include <errno.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef OPEN_MPI
#define IMPL "Open MPI"
#else
#define IMPL "MPICH"
#endif

enum { MAX_SIZES = 64, PROCNULL_CHUNKS = 20 };

static long long now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int parse_sizes(char *list, long *sizes) {
	int n = 0;
	for (char *f = strtok(list, ","); f && n < MAX_SIZES; f = strtok(NULL, ",")) {
		char *end;
		long v = strtol(f, &end, 10);
		if (strcmp(end, "KiB") == 0)
			v <<= 10;
		else if (strcmp(end, "MiB") == 0)
			v <<= 20;
		else if (*end != '\0' || end == f)
			return -1;
		if (v < 0 || v > 1L << 30)
			return -1;
		sizes[n++] = v;
	}
	return n;
}

/* count_arg reads a whole number from 1 to max, as mpidemo bounds --iters
 * and --window; anything else is 0, which main refuses. (atoi's overflow is
 * undefined, and a huge window exhausted MPICH's requests.) */
static int count_arg(const char *s, long max) {
	char *end;
	errno = 0;
	long n = strtol(s, &end, 10);
	return errno || end == s || *end != '\0' || n < 1 || n > max ? 0 : (int)n;
}

/* As mpidemo: a tenth of the iterations above 64KiB. */
static int iterations(int iters, long size) {
	if (size > 64 << 10)
		return iters / 10 > 10 ? iters / 10 : 10;
	return iters;
}

int main(int argc, char **argv) {
	long sizes[MAX_SIZES] = {8, 64, 512, 4 << 10, 32 << 10, 256 << 10, 1 << 20};
	int nsizes = 7, rank, nranks;
	int bw = argc > 1 && strcmp(argv[1], "bw") == 0;
	int procnull = argc > 1 && strcmp(argv[1], "procnull") == 0;
	int iters = bw ? 100 : procnull ? 1000000 : 10000, window = bw ? 64 : 1, persistent = 0, samples = 0;

	/* mpidemo asks for MPI_THREAD_FUNNELED (a Go process always has several
	 * threads), and above MPI_THREAD_SINGLE Open MPI locks inside every call,
	 * which costs more than the crossing from Go: the same level here keeps
	 * the comparison about Go alone. */
	int provided;
	MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &nranks);
	if (argc < 2 || (!bw && !procnull && strcmp(argv[1], "pingpong") != 0)) {
		fprintf(stderr, "usage: mpi_bench pingpong|bw|procnull [--sizes LIST] [--iters N] [--window N]\n");
		MPI_Abort(MPI_COMM_WORLD, 2);
	}
	for (int i = 2; i < argc; i += 2) {
		if (strcmp(argv[i], "--persistent") == 0 && bw) {
			persistent = 1;
			i--; /* a flag without a value */
		} else if (strcmp(argv[i], "--samples") == 0 && !procnull) {
			samples = 1;
			i--;
		} else if (i + 1 == argc)
			nsizes = -1;
		else if (strcmp(argv[i], "--sizes") == 0)
			nsizes = parse_sizes(argv[i + 1], sizes);
		else if (strcmp(argv[i], "--iters") == 0)
			iters = count_arg(argv[i + 1], 1000000000);
		else if (strcmp(argv[i], "--window") == 0 && bw)
			window = count_arg(argv[i + 1], 1 << 16);
		else
			nsizes = -1;
	}
	if (nsizes <= 0 || iters < 1 || window < 1) {
		fprintf(stderr, "mpi_bench: bad arguments (--iters 1 to 1000000000, --window 1 to 65536)\n");
		MPI_Abort(MPI_COMM_WORLD, 2);
	}
	if (procnull) {
		static const char *names[] = {"send", "recv", "isend-wait", "start-wait", "startall8-waitall"};
		char msg[8] = {0};
		MPI_Request req, one, eight[8];
		MPI_Status st8[8];
		MPI_Send_init(msg, 8, MPI_UINT8_T, MPI_PROC_NULL, 0, MPI_COMM_WORLD, &one);
		for (int j = 0; j < 8; j++)
			MPI_Send_init(msg, 8, MPI_UINT8_T, MPI_PROC_NULL, 0, MPI_COMM_WORLD, &eight[j]);
		printf("# mpi_bench procnull: C, %s\n", IMPL);
		for (int c = 0; c < 5; c++) {
			/* The fastest of several chunks: on a busy machine the average
			 * of one long loop measures the other processes. */
			double best = 1e300;
			for (int k = 0; k < PROCNULL_CHUNKS; k++) {
				int ops = c == 4 ? 8 : 1, n = iters / ops / PROCNULL_CHUNKS;
				double t = MPI_Wtime();
				for (int i = 0; i < n; i++) {
					if (c == 0)
						MPI_Send(msg, 8, MPI_UINT8_T, MPI_PROC_NULL, 0, MPI_COMM_WORLD);
					else if (c == 1)
						MPI_Recv(msg, 8, MPI_UINT8_T, MPI_PROC_NULL, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
					else if (c == 2) {
						MPI_Isend(msg, 8, MPI_UINT8_T, MPI_PROC_NULL, 0, MPI_COMM_WORLD, &req);
						MPI_Wait(&req, MPI_STATUS_IGNORE);
					} else if (c == 3) {
						MPI_Start(&one);
						MPI_Wait(&one, MPI_STATUS_IGNORE);
					} else {
						MPI_Startall(8, eight);
						MPI_Waitall(8, eight, st8); /* statuses, as Go's set keeps them */
					}
				}
				t = (MPI_Wtime() - t) * 1e9 / ((double)n * ops);
				best = t < best ? t : best;
			}
			printf("%s %.1f ns\n", names[c], best);
		}
		MPI_Request_free(&one);
		for (int j = 0; j < 8; j++)
			MPI_Request_free(&eight[j]);
		MPI_Finalize();
		return 0;
	}
	if (nranks < 2) {
		fprintf(stderr, "mpi_bench: needs at least 2 ranks, the job has %d\n", nranks);
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
	long maxsize = 0;
	for (int i = 0; i < nsizes; i++)
		maxsize = sizes[i] > maxsize ? sizes[i] : maxsize;
	char *buf = calloc(maxsize ? maxsize : 1, 1), ack[4] = {0};
	MPI_Request *reqs = calloc(window, sizeof *reqs);
	MPI_Status *stats = calloc(window, sizeof *stats); /* as Go's WaitAll */
	if (rank == 0) {
		if (bw)
			printf("# mpi_bench bw: C, %s, window %d%s\n# %-10s %14s\n", IMPL, window, persistent ? ", persistent" : "", "size (B)", "bandwidth (MB/s)");
		else
			printf("# mpi_bench pingpong: C, %s\n# %-10s %14s\n", IMPL, "size (B)", "latency (us)");
	}
	for (int s = 0; s < nsizes && rank < 2; s++) {
		int size = (int)sizes[s], n = iterations(iters, size);
		double start = 0;
		for (int j = 0; j < window && bw && persistent; j++) {
			if (rank == 0)
				MPI_Send_init(buf, size, MPI_UINT8_T, 1, 100, MPI_COMM_WORLD, &reqs[j]);
			else
				MPI_Recv_init(buf, size, MPI_UINT8_T, 0, 100, MPI_COMM_WORLD, &reqs[j]);
		}
		for (int i = 0; i < n + n / 10; i++) {
			if (i == n / 10)
				start = MPI_Wtime();
			long long t0 = samples && rank == 0 && i >= n / 10 ? now_ns() : 0;
			if (!bw && rank == 0) {
				MPI_Send(buf, size, MPI_UINT8_T, 1, 1, MPI_COMM_WORLD);
				MPI_Recv(buf, size, MPI_UINT8_T, 1, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
			} else if (!bw) {
				MPI_Recv(buf, size, MPI_UINT8_T, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
				MPI_Send(buf, size, MPI_UINT8_T, 0, 1, MPI_COMM_WORLD);
			} else {
				if (persistent)
					MPI_Startall(window, reqs);
				for (int j = 0; j < window && !persistent; j++) {
					if (rank == 0)
						MPI_Isend(buf, size, MPI_UINT8_T, 1, 100, MPI_COMM_WORLD, &reqs[j]);
					else
						MPI_Irecv(buf, size, MPI_UINT8_T, 0, 100, MPI_COMM_WORLD, &reqs[j]);
				}
				MPI_Waitall(window, reqs, stats);
				if (rank == 0)
					MPI_Recv(ack, 4, MPI_UINT8_T, 1, 101, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
				else
					MPI_Send(ack, 4, MPI_UINT8_T, 0, 101, MPI_COMM_WORLD);
			}
			if (t0)
				printf("%d %lld\n", size, now_ns() - t0);
		}
		double t = MPI_Wtime() - start;
		for (int j = 0; j < window && bw && persistent; j++)
			MPI_Request_free(&reqs[j]);
		if (rank == 0 && bw && !samples)
			printf("%-12d %14.2f\n", size, (double)size * window * n / t / 1e6);
		else if (rank == 0 && !samples)
			printf("%-12d %14.2f\n", size, t * 1e6 / (2.0 * n));
	}
	free(buf);
	free(reqs);
	free(stats);
	MPI_Finalize();
	return 0;
}
