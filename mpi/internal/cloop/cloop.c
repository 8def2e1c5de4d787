#include "cloop.h"

#include <stdlib.h>
#include <string.h>

enum { TAG = 100, ACK_TAG = 101 };

// goipc_cloop_init allocates the buffer and the requests and, for the
// persistent pattern, sets the window up once, as mpi_bench bw --persistent
// does for each size. Rank 0 sends to rank 1.
int goipc_cloop_init(goipc_cloop *l) {
	/* Page-aligned, as the Go loop's make([]byte, 8KiB or 1MiB) is, where
	 * mpi_bench's calloc of 1MiB is 16 bytes past a page: copies of the
	 * two loops' messages start on the same alignment. */
	if (posix_memalign((void **)&l->buf, 4096, l->size) != 0)
		l->buf = NULL;
	l->reqs = calloc(l->window, sizeof *l->reqs);
	l->stats = calloc(l->window, sizeof *l->stats); /* as Go's WaitAll */
	if (!l->buf || !l->reqs || !l->stats)
		return MPI_ERR_NO_MEM;
	memset(l->buf, 0, l->size);
	for (int j = 0; j < l->window; j++)
		l->reqs[j] = MPI_REQUEST_NULL;
	for (int j = 0; j < l->window && l->persistent; j++) {
		int rc = l->sender ? MPI_Send_init(l->buf, l->size, MPI_UINT8_T, 1, TAG, MPI_COMM_WORLD, &l->reqs[j])
				   : MPI_Recv_init(l->buf, l->size, MPI_UINT8_T, 0, TAG, MPI_COMM_WORLD, &l->reqs[j]);
		if (rc != MPI_SUCCESS)
			return rc;
	}
	return MPI_SUCCESS;
}

// goipc_cloop_start starts operation j of the window (MPI_Isend or
// MPI_Irecv) or, in the persistent pattern, the whole window (MPI_Startall,
// j 0).
int goipc_cloop_start(goipc_cloop *l, int j) {
	if (l->persistent)
		return MPI_Startall(l->window, l->reqs);
	return l->sender ? MPI_Isend(l->buf, l->size, MPI_UINT8_T, 1, TAG, MPI_COMM_WORLD, &l->reqs[j])
			 : MPI_Irecv(l->buf, l->size, MPI_UINT8_T, 0, TAG, MPI_COMM_WORLD, &l->reqs[j]);
}

// goipc_cloop_finish ends a window: MPI_Waitall, then the 4-byte ack from
// the receiver.
int goipc_cloop_finish(goipc_cloop *l) {
	uint8_t ack[4] = {0};
	int rc = MPI_Waitall(l->window, l->reqs, l->stats);
	if (rc == MPI_SUCCESS)
		rc = l->sender ? MPI_Recv(ack, 4, MPI_UINT8_T, 1, ACK_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE)
			       : MPI_Send(ack, 4, MPI_UINT8_T, 0, ACK_TAG, MPI_COMM_WORLD);
	return rc;
}

// goipc_cloop_run moves windows windows of the loop's messages and times
// them with MPI_Wtime.
int goipc_cloop_run(goipc_cloop *l, int windows, double *seconds) {
	int rc = MPI_SUCCESS;
	int starts = l->persistent ? 1 : l->window;
	double start = MPI_Wtime();
	for (int i = 0; i < windows && rc == MPI_SUCCESS; i++) {
		for (int j = 0; j < starts && rc == MPI_SUCCESS; j++)
			rc = goipc_cloop_start(l, j);
		if (rc == MPI_SUCCESS)
			rc = goipc_cloop_finish(l);
	}
	*seconds = MPI_Wtime() - start;
	return rc;
}

// goipc_cloop_free releases what init made; it may run after a failed init.
int goipc_cloop_free(goipc_cloop *l) {
	int rc = MPI_SUCCESS;
	for (int j = 0; l->reqs && j < l->window && l->persistent; j++)
		if (l->reqs[j] != MPI_REQUEST_NULL && rc == MPI_SUCCESS)
			rc = MPI_Request_free(&l->reqs[j]);
	free(l->buf);
	free(l->reqs);
	free(l->stats);
	l->buf = NULL, l->reqs = NULL, l->stats = NULL;
	return rc;
}
