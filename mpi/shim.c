#include "shim.h"
#include "_cgo_export.h"

const MPI_Comm goipc_comm_world = MPI_COMM_WORLD, goipc_comm_self = MPI_COMM_SELF,
               goipc_comm_null = MPI_COMM_NULL;
const MPI_Group goipc_group_null = MPI_GROUP_NULL, goipc_group_empty = MPI_GROUP_EMPTY;
const MPI_Request goipc_request_null = MPI_REQUEST_NULL;
const MPI_Message goipc_message_null = MPI_MESSAGE_NULL;
const MPI_Op goipc_op_null = MPI_OP_NULL;
const MPI_Errhandler goipc_errors_return = MPI_ERRORS_RETURN;
const MPI_Info goipc_info_null = MPI_INFO_NULL;
const MPI_Win goipc_win_null = MPI_WIN_NULL;
const MPI_Op goipc_op_replace = MPI_REPLACE, goipc_op_no_op = MPI_NO_OP;

MPI_Datatype goipc_types[GOIPC_MAXTYPES] = {
	MPI_INT8_T, MPI_INT16_T, MPI_INT32_T, MPI_INT64_T,
	MPI_UINT8_T, MPI_UINT16_T, MPI_UINT32_T, MPI_UINT64_T,
	MPI_FLOAT, MPI_DOUBLE, MPI_C_FLOAT_COMPLEX, MPI_C_DOUBLE_COMPLEX,
	MPI_C_BOOL, MPI_BYTE,
	MPI_FLOAT_INT, MPI_DOUBLE_INT, MPI_2INT, MPI_LONG_INT,
	MPI_DATATYPE_NULL,
};

const MPI_Op goipc_ops[GOIPC_NOPS] = {
	MPI_SUM, MPI_PROD, MPI_MIN, MPI_MAX,
	MPI_LAND, MPI_LOR, MPI_LXOR, MPI_BAND, MPI_BOR, MPI_BXOR,
	MPI_MINLOC, MPI_MAXLOC,
};

int goipc_funneled = 1;
__thread int goipc_main_thread;
unsigned goipc_calls;

int goipc_init(int want, int *got) {
	int rc = MPI_Init_thread(NULL, NULL, want, got);
	if (rc == MPI_SUCCESS) {
		MPI_Is_thread_main(&goipc_main_thread);
		goipc_funneled = *got < MPI_THREAD_SERIALIZED;
	}
	return rc;
}

int goipc_tag_ub(void) {
	int *ub, flag = 0;
	if (MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &ub, &flag) != MPI_SUCCESS || !flag) return 32767; // the standard's minimum
	return *ub;
}

// What MPI reports for a request that is already complete.
MPI_Status goipc_empty_status(void) {
	MPI_Request r = MPI_REQUEST_NULL;
	MPI_Status st;
	MPI_Wait(&r, &st);
	return st;
}

const uint64_t goipc_in_place[2];

#define IP GOIPC_IN_PLACE

int goipc_reduce(const void *s, void *r, int n, MPI_Datatype t, MPI_Op o, int root, MPI_Comm c) {
	return MPI_Reduce(IP(s), r, n, t, o, root, c);
}
int goipc_allreduce(const void *s, void *r, int n, MPI_Datatype t, MPI_Op o, MPI_Comm c) {
	return MPI_Allreduce(IP(s), r, n, t, o, c);
}
int goipc_scan(const void *s, void *r, int n, MPI_Datatype t, MPI_Op o, MPI_Comm c) {
	return MPI_Scan(IP(s), r, n, t, o, c);
}
int goipc_exscan(const void *s, void *r, int n, MPI_Datatype t, MPI_Op o, MPI_Comm c) {
	return MPI_Exscan(IP(s), r, n, t, o, c);
}
int goipc_reduce_scatter_block(const void *s, void *r, int n, MPI_Datatype t, MPI_Op o, MPI_Comm c) {
	return MPI_Reduce_scatter_block(IP(s), r, n, t, o, c);
}
int goipc_gather(const void *s, int sn, void *r, int rn, MPI_Datatype t, int root, MPI_Comm c) {
	return MPI_Gather(IP(s), sn, t, r, rn, t, root, c);
}
int goipc_gatherv(const void *s, int sn, void *r, const int *rc, const int *rd, MPI_Datatype t, int root, MPI_Comm c) {
	return MPI_Gatherv(IP(s), sn, t, r, rc, rd, t, root, c);
}
int goipc_scatter(const void *s, int sn, void *r, int rn, MPI_Datatype t, int root, MPI_Comm c) {
	return MPI_Scatter(s, sn, t, (void *)IP(r), rn, t, root, c);
}
int goipc_scatterv(const void *s, const int *sc, const int *sd, void *r, int rn, MPI_Datatype t, int root, MPI_Comm c) {
	return MPI_Scatterv(s, sc, sd, t, (void *)IP(r), rn, t, root, c);
}
int goipc_allgather(const void *s, int sn, void *r, int rn, MPI_Datatype t, MPI_Comm c) {
	return MPI_Allgather(IP(s), sn, t, r, rn, t, c);
}
int goipc_allgatherv(const void *s, int sn, void *r, const int *rc, const int *rd, MPI_Datatype t, MPI_Comm c) {
	return MPI_Allgatherv(IP(s), sn, t, r, rc, rd, t, c);
}
int goipc_alltoall(const void *s, int sn, void *r, int rn, MPI_Datatype t, MPI_Comm c) {
	return MPI_Alltoall(IP(s), sn, t, r, rn, t, c);
}
int goipc_alltoallv(const void *s, const int *sc, const int *sd, void *r, const int *rc, const int *rd, MPI_Datatype t, MPI_Comm c) {
	return MPI_Alltoallv(IP(s), sc, sd, t, r, rc, rd, t, c);
}

#define TRAMPOLINE(n) \
	static void goipc_op##n(void *in, void *inout, int *len, MPI_Datatype *type) { \
		(void)type; goipcUserOp(n, in, inout, *len); \
	}
TRAMPOLINE(0) TRAMPOLINE(1) TRAMPOLINE(2) TRAMPOLINE(3) TRAMPOLINE(4) TRAMPOLINE(5) TRAMPOLINE(6) TRAMPOLINE(7)
TRAMPOLINE(8) TRAMPOLINE(9) TRAMPOLINE(10) TRAMPOLINE(11) TRAMPOLINE(12) TRAMPOLINE(13) TRAMPOLINE(14) TRAMPOLINE(15)
TRAMPOLINE(16) TRAMPOLINE(17) TRAMPOLINE(18) TRAMPOLINE(19) TRAMPOLINE(20) TRAMPOLINE(21) TRAMPOLINE(22) TRAMPOLINE(23)
TRAMPOLINE(24) TRAMPOLINE(25) TRAMPOLINE(26) TRAMPOLINE(27) TRAMPOLINE(28) TRAMPOLINE(29) TRAMPOLINE(30) TRAMPOLINE(31)

static MPI_User_function *const trampolines[GOIPC_USER_OPS] = {
	goipc_op0, goipc_op1, goipc_op2, goipc_op3, goipc_op4, goipc_op5, goipc_op6, goipc_op7,
	goipc_op8, goipc_op9, goipc_op10, goipc_op11, goipc_op12, goipc_op13, goipc_op14, goipc_op15,
	goipc_op16, goipc_op17, goipc_op18, goipc_op19, goipc_op20, goipc_op21, goipc_op22, goipc_op23,
	goipc_op24, goipc_op25, goipc_op26, goipc_op27, goipc_op28, goipc_op29, goipc_op30, goipc_op31,
};

int goipc_op_create(int slot, int commute, MPI_Op *op) {
	return MPI_Op_create(trampolines[slot], commute, op);
}

// MPI-IO (file.go).
const MPI_File goipc_file_null = MPI_FILE_NULL;
