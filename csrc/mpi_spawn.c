// A child for MPI_Comm_spawn from Go (mpi/spawn_test.go): it speaks the
// test's protocol over the parent intercommunicator. Parent rank 0 sends each
// child i the int 1000+i (tag 5); the child answers 2*token + i (tag 6).
// Then parents and children merge, children high, and every process adds
// its merged rank + 1 in an Allreduce, which the parents check. With the
// argument "fail", the child exits 3 right after MPI_Init.
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check(int rc, const char *what) {
	if (rc != MPI_SUCCESS) {
		char msg[MPI_MAX_ERROR_STRING];
		int n;
		MPI_Error_string(rc, msg, &n);
		fprintf(stderr, "mpi_spawn: %s: %s\n", what, msg);
		exit(1);
	}
}

int main(int argc, char **argv) {
	MPI_Init(&argc, &argv);
	MPI_Comm parent, merged;
	MPI_Comm_get_parent(&parent);
	if (parent == MPI_COMM_NULL) {
		fprintf(stderr, "mpi_spawn: not spawned (run it with MPI_Comm_spawn)\n");
		return 2;
	}
	if (argc > 1 && strcmp(argv[1], "fail") == 0) {
		fprintf(stderr, "mpi_spawn: failing as asked\n");
		return 3;
	}
	MPI_Comm_set_errhandler(parent, MPI_ERRORS_RETURN);
	int rank, token;
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	check(MPI_Recv(&token, 1, MPI_INT, 0, 5, parent, MPI_STATUS_IGNORE), "MPI_Recv");
	token = 2 * token + rank;
	check(MPI_Send(&token, 1, MPI_INT, 0, 6, parent), "MPI_Send");
	check(MPI_Intercomm_merge(parent, 1, &merged), "MPI_Intercomm_merge");
	int mrank, sum;
	MPI_Comm_rank(merged, &mrank);
	mrank++;
	check(MPI_Allreduce(&mrank, &sum, 1, MPI_INT, MPI_SUM, merged), "MPI_Allreduce");
	MPI_Comm_free(&merged);
	check(MPI_Comm_disconnect(&parent), "MPI_Comm_disconnect");
	MPI_Finalize();
	return 0;
}
