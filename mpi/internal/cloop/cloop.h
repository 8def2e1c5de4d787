// The C side of package cloop: mpi_bench's bandwidth loop (csrc/mpi_bench.c
// bw), one block of windows per call.
#ifndef GOIPC_CLOOP_H
#define GOIPC_CLOOP_H
#include <mpi.h>
#include <stdint.h>

typedef struct goipc_cloop {
	int sender, size, window, persistent;
	uint8_t *buf;
	MPI_Request *reqs;
	MPI_Status *stats;
} goipc_cloop;

int goipc_cloop_init(goipc_cloop *l);
int goipc_cloop_run(goipc_cloop *l, int windows, double *seconds);
int goipc_cloop_start(goipc_cloop *l, int j);
int goipc_cloop_finish(goipc_cloop *l);
int goipc_cloop_free(goipc_cloop *l);
#endif
