/* mpi_classic: the classic mpi4py example in C, a peer for `mpidemo` (either
 * role) and for csrc/mpi_classic.py.
 *
 * Rank 1 draws a random number in [0,1) and sends it to rank 0 as one
 * MPI_DOUBLE with tag 0; rank 0 receives it. Numbers print as Python's repr
 * does (the shortest form that reads back the same), so every language prints
 * the same text for the same number.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *pyfloat(double x, char *buf, size_t n) {
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, n, "%.*g", prec, x);
		if (strtod(buf, NULL) == x)
			break;
	}
	if (!strpbrk(buf, ".eni"))
		strncat(buf, ".0", n - strlen(buf) - 1);
	return buf;
}

int main(int argc, char **argv) {
	int rank, size;
	char text[64];
	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (size < 2) {
		fprintf(stderr, "mpi_classic: needs at least 2 ranks, the job has %d\n", size);
		MPI_Finalize();
		return 1;
	}
	double x = 0;
	if (rank == 0) {
		printf("Process 0 before receiving has the number %s\n", pyfloat(x, text, sizeof text));
		MPI_Recv(&x, 1, MPI_DOUBLE, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		printf("Process 0 received the number %s\n", pyfloat(x, text, sizeof text));
	} else if (rank == 1) {
		srand48(time(NULL) ^ getpid());
		x = drand48();
		printf("Process 1 drew the number %s\n", pyfloat(x, text, sizeof text));
		fflush(stdout);
		MPI_Send(&x, 1, MPI_DOUBLE, 0, 0, MPI_COMM_WORLD);
	}
	MPI_Finalize();
	return 0;
}
