/* mpi_particle: the C twin of `mpidemo types`, with the same flags, protocol
 * and output, so that either of a job's two ranks may be Go or C.
 *
 *   mpi_particle [--count N]
 *   mpi_particle --bench ITERS
 *   mpi_particle --pack ITERS
 *
 * Rank 0 sends N records of struct particle to rank 1 as one message of a
 * struct datatype; rank 1 receives them (as many as the message holds) and
 * prints "particle ID X Y Z NAME" for each.
 *
 * --bench is the C baseline of package mpi's BenchmarkStructSend: a
 * ping-pong of 1 MiB of records (26214 of them), 5 round trips of warm-up
 * then ITERS timed, and rank 0 prints "pingpong-1MiB-struct NS ns", half a
 * round trip.
 *
 * --pack times, on one rank, MPI_Pack then MPI_Unpack of the same 1 MiB of
 * records, once with this struct datatype (char name: MPI_CHAR) and once with
 * package mpi's (byte: MPI_UINT8_T), and prints "pack-unpack-1MiB-char NS ns"
 * and "pack-unpack-1MiB-uint8 NS ns", the best of ITERS: the work a struct
 * ping-pong does beside moving the bytes, when the library packs.
 */
#include <mpi.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct particle {
	int32_t id;
	double pos[3];
	char name[8];
};

static MPI_Datatype particle_type_of(MPI_Datatype name) {
	int lens[3] = {1, 3, 8};
	MPI_Aint displs[3] = {offsetof(struct particle, id), offsetof(struct particle, pos),
	                      offsetof(struct particle, name)};
	MPI_Datatype types[3] = {MPI_INT32_T, MPI_DOUBLE, name}, st, t;
	MPI_Type_create_struct(3, lens, displs, types, &st);
	MPI_Type_create_resized(st, 0, sizeof(struct particle), &t);
	MPI_Type_free(&st);
	MPI_Type_commit(&t);
	return t;
}

static MPI_Datatype particle_type(void) { return particle_type_of(MPI_CHAR); }

/* pack_bench prints the best time of iters MPI_Pack + MPI_Unpack rounds of
 * n records through t. */
static void pack_bench(const char *name, MPI_Datatype t, long iters) {
	int n = (1 << 20) / sizeof(struct particle), packed;
	struct particle *ps = calloc(n, sizeof *ps);
	MPI_Pack_size(n, t, MPI_COMM_WORLD, &packed);
	char *buf = malloc(packed);
	double best = 1e30;
	for (long i = 0; i < iters; i++) {
		int pos = 0;
		double start = MPI_Wtime();
		MPI_Pack(ps, n, t, buf, packed, &pos, MPI_COMM_WORLD);
		pos = 0;
		MPI_Unpack(buf, packed, &pos, ps, n, t, MPI_COMM_WORLD);
		double d = MPI_Wtime() - start;
		if (d < best)
			best = d;
	}
	printf("pack-unpack-1MiB-%s %.0f ns\n", name, best * 1e9);
	free(buf);
	free(ps);
}

int main(int argc, char **argv) {
	long count = 4, bench = 0, pack = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
			count = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--bench") == 0 && i + 1 < argc && (bench = strtol(argv[++i], NULL, 10)) > 0)
			;
		else if (strcmp(argv[i], "--pack") == 0 && i + 1 < argc && (pack = strtol(argv[++i], NULL, 10)) > 0)
			;
		else
			count = -1;
		if (count < 0 || count > 10000000) {
			fprintf(stderr, "usage: mpi_particle [--count N | --bench ITERS | --pack ITERS]\n");
			return 2;
		}
	}
	MPI_Init(&argc, &argv);
	int rank, size;
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (pack) {
		MPI_Datatype c = particle_type_of(MPI_CHAR), u = particle_type_of(MPI_UINT8_T);
		if (rank == 0) {
			pack_bench("char", c, pack);
			pack_bench("uint8", u, pack);
		}
		MPI_Type_free(&c);
		MPI_Type_free(&u);
		MPI_Finalize();
		return 0;
	}
	if (size < 2) {
		fprintf(stderr, "mpi_particle: needs at least 2 ranks\n");
		MPI_Finalize();
		return 1;
	}
	MPI_Datatype t = particle_type();
	if (bench) {
		int n = (1 << 20) / sizeof(struct particle), other = 1 - rank;
		struct particle *ps = calloc(n, sizeof *ps);
		double start = 0;
		for (long i = 0; i < 5 + bench; i++) {
			if (i == 5)
				start = MPI_Wtime();
			if (rank == 0) {
				MPI_Send(ps, n, t, other, 1, MPI_COMM_WORLD);
				MPI_Recv(ps, n, t, other, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
			} else if (rank == 1) {
				MPI_Recv(ps, n, t, other, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
				MPI_Send(ps, n, t, other, 1, MPI_COMM_WORLD);
			}
		}
		if (rank == 0)
			printf("pingpong-1MiB-struct %.0f ns\n", (MPI_Wtime() - start) / bench / 2 * 1e9);
		free(ps);
	} else if (rank == 0) {
		struct particle *ps = calloc(count ? count : 1, sizeof *ps);
		for (long i = 0; i < count; i++) {
			ps[i].id = (int32_t)i;
			ps[i].pos[0] = (double)i;
			ps[i].pos[1] = (double)i / 2;
			ps[i].pos[2] = -(double)i;
			char name[24]; /* "p" and i, NUL-padded: 8 characters fill it */
			int n = snprintf(name, sizeof name, "p%ld", i);
			memcpy(ps[i].name, name, n < 8 ? n : 8);
		}
		MPI_Send(ps, (int)count, t, 1, 0, MPI_COMM_WORLD);
		free(ps);
	} else if (rank == 1) {
		MPI_Status st;
		int n;
		MPI_Probe(0, 0, MPI_COMM_WORLD, &st);
		MPI_Get_count(&st, t, &n);
		struct particle *ps = calloc(n ? n : 1, sizeof *ps);
		MPI_Recv(ps, n, t, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		for (int i = 0; i < n; i++)
			printf("particle %d %g %g %g %.8s\n", ps[i].id, ps[i].pos[0], ps[i].pos[1], ps[i].pos[2], ps[i].name);
		fflush(stdout);
		free(ps);
	}
	MPI_Type_free(&t);
	MPI_Finalize();
	return 0;
}
