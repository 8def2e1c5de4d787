/* mpi_io_bench: the C baseline for package mpi's BenchmarkFileWrite, the
 * collective write bandwidth of one file.
 *
 *   mpi_io_bench PATH [MiB] [ROUNDS]       defaults 256 and 5
 *
 * Every rank writes its block of the MiB-mebibyte file PATH (float64
 * elements, through a subarray view, as `mpidemo io write` does) with one
 * MPI_File_write_all, ROUNDS times. A round is timed from a barrier to the
 * slowest rank's return (the page cache's speed: no MPI_File_sync); rank 0
 * prints the best round as "write-all-<MiB>MiB <MB/s> MB/s", MB being 10^6
 * bytes. PATH is deleted at the end. It runs at MPI_THREAD_FUNNELED, as the
 * Go side does.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
	int got, rank, size;
	MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &got);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (argc < 2) {
		if (rank == 0)
			fprintf(stderr, "usage: mpi_io_bench PATH [MiB] [ROUNDS]\n");
		MPI_Abort(MPI_COMM_WORLD, 2);
	}
	long mib = argc > 2 ? atol(argv[2]) : 256;
	int rounds = argc > 3 ? atoi(argv[3]) : 5;
	long total = (mib << 20) / 8, n = total / size; /* elements */
	if (mib < 1 || rounds < 1 || total % size != 0 || n > 1L << 30) {
		if (rank == 0)
			fprintf(stderr, "mpi_io_bench: %ld MiB does not split into %d equal blocks\n", mib, size);
		MPI_Abort(MPI_COMM_WORLD, 2);
	}
	double *buf = malloc(n * sizeof *buf);
	for (long i = 0; i < n; i++)
		buf[i] = (double)(rank * n + i);
	int gsize = (int)total, sub = (int)n, start = (int)(rank * n);
	MPI_Datatype block;
	MPI_Type_create_subarray(1, &gsize, &sub, &start, MPI_ORDER_C, MPI_DOUBLE, &block);
	MPI_Type_commit(&block);
	MPI_File f;
	if (MPI_File_open(MPI_COMM_WORLD, argv[1], MPI_MODE_CREATE | MPI_MODE_WRONLY, MPI_INFO_NULL, &f) != MPI_SUCCESS)
		MPI_Abort(MPI_COMM_WORLD, 1);
	MPI_File_set_view(f, 0, MPI_DOUBLE, block, "native", MPI_INFO_NULL);
	double best = 0;
	for (int r = 0; r < rounds; r++) {
		MPI_Status st;
		MPI_Barrier(MPI_COMM_WORLD);
		double t0 = MPI_Wtime();
		if (MPI_File_write_at_all(f, 0, buf, (int)n, MPI_DOUBLE, &st) != MPI_SUCCESS)
			MPI_Abort(MPI_COMM_WORLD, 1);
		double t = MPI_Wtime() - t0, slowest;
		MPI_Allreduce(&t, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
		if (best == 0 || slowest < best)
			best = slowest;
	}
	MPI_File_close(&f);
	MPI_Type_free(&block);
	if (rank == 0) {
		MPI_File_delete(argv[1], MPI_INFO_NULL);
		printf("write-all-%ldMiB %.0f MB/s\n", mib, (double)(mib << 20) / best / 1e6);
	}
	free(buf);
	MPI_Finalize();
	return 0;
}
