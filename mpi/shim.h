// C side of package mpi: the predefined handles as globals, because Open MPI
// defines them as addresses of library symbols and MPICH as integer casts,
// neither of which cgo can read from a macro; and the trampolines that let
// MPI call reduction operators written in Go.
#ifndef GOIPC_MPI_SHIM_H
#define GOIPC_MPI_SHIM_H
#include <mpi.h>
#include <stdint.h>
#include <string.h>

extern const MPI_Comm goipc_comm_world, goipc_comm_self, goipc_comm_null;
extern const MPI_Group goipc_group_null, goipc_group_empty;
extern const MPI_Request goipc_request_null;
extern const MPI_Message goipc_message_null;
extern const MPI_Op goipc_op_null;
extern const MPI_Errhandler goipc_errors_return;
extern const MPI_Info goipc_info_null;
extern const MPI_Win goipc_win_null;
extern const MPI_Op goipc_op_replace, goipc_op_no_op; // one-sided accumulates only

// Datatypes, in the order of the Go table in types.go: the predefined ones,
// MPI_DATATYPE_NULL for a Go type MPI cannot describe, then the struct
// datatypes built from Go types (structtype.go), which are written once each
// before their index is published.
enum { GOIPC_NTYPES = 19, GOIPC_MAXTYPES = 1024 };
extern MPI_Datatype goipc_types[GOIPC_MAXTYPES];

// Predefined operators, in the order of the Go table in op.go.
enum { GOIPC_NOPS = 12 };
extern const MPI_Op goipc_ops[GOIPC_NOPS];

// Below MPI_THREAD_SERIALIZED only the thread that called MPI_Init_thread
// may call MPI. goipc_init records it in a thread-local flag, taken from
// MPI_Is_thread_main, so that the check costs a load instead of a call;
// every wrapper below returns GOIPC_ERR_THREAD from any other thread. Go's
// errors.go turns that code, which no MPI code equals, into an error.
enum { GOIPC_ERR_THREAD = -1 };
extern int goipc_funneled;
extern __thread int goipc_main_thread;
static inline int goipc_thread_ok(void) { return !goipc_funneled || goipc_main_thread; }
static inline int goipc_main_thread_ok(void) { return goipc_main_thread; }
int goipc_init(int want, int *got);
int goipc_tag_ub(void);
MPI_Status goipc_empty_status(void);

// The hottest calls, shaped so that cgo checks nothing on the way in: on
// every call, cgo looks for Go pointers in what a void * points to, and in
// what a handle that is a C pointer (Open MPI's) points to. The buffer comes
// as uint8_t * (package mpi's element types hold no pointers), the datatype
// as its index in goipc_types and the communicator as an integer (commArg).
// They check the thread, as the completions do, and take a request's address
// as uint8_t * too: an Open MPI request is a C pointer, so cgo would look
// up, in the Go heap, each handle of the Request or Requests set that holds
// it (a few nanoseconds each, 64 of them for a WaitAll of 64).
//
// Those whose pointers do not escape return nothing and store MPI's code in
// *rc, which stays on the Go stack: for a C function that returns a value,
// cgo's wrapper asks the Go runtime for the top of the goroutine's stack
// before and after the call (_cgo_topofstack, in case a callback moved the
// stack), two calls that took a tenth of a Send to ProcNull under perf.
// goipc_isend and goipc_irecv, whose buffers escape, return the code: an
// rc of their caller's would escape with them, one allocation a call.
#define GOIPC_CALL(call) (*rc = goipc_thread_ok() ? (call) : GOIPC_ERR_THREAD)
// The calls on a message's path (Send, Recv, Isend, Irecv, Wait, Test) count
// themselves towards the next look at the clock, as sched.CallDue counts the
// others every clockEvery (64) calls, and return GOIPC_DUE for the success
// that makes the count due: Go's checkCounted yields then if the clock says
// so. In C the count is a relaxed load and store, two plain moves; Go's
// atomic Store is an xchg, a locked instruction that waited for the
// crossing's stores to drain, 13% of a Send to ProcNull under perf. A count
// lost between threads only delays a look.
enum { GOIPC_DUE = -3, GOIPC_CLOCK_EVERY = 64 };
extern unsigned goipc_calls;
static inline int goipc_counted(int rc) {
	unsigned n = __atomic_load_n(&goipc_calls, __ATOMIC_RELAXED) + 1;
	__atomic_store_n(&goipc_calls, n, __ATOMIC_RELAXED);
	return rc == MPI_SUCCESS && n % GOIPC_CLOCK_EVERY == 0 ? GOIPC_DUE : rc;
}
#define GOIPC_COUNTED(call) (goipc_thread_ok() ? goipc_counted(call) : GOIPC_ERR_THREAD)
static inline void goipc_send(const uint8_t *b, int n, int t, int dest, int tag, uintptr_t c, int *rc) {
	*rc = GOIPC_COUNTED(MPI_Send(b, n, goipc_types[t], dest, tag, (MPI_Comm)c));
}
static inline void goipc_recv(uint8_t *b, int n, int t, int src, int tag, uintptr_t c, MPI_Status *st, int *rc) {
	*rc = GOIPC_COUNTED(MPI_Recv(b, n, goipc_types[t], src, tag, (MPI_Comm)c, st));
}
static inline int goipc_isend(const uint8_t *b, int n, int t, int dest, int tag, uintptr_t c, uint8_t *r) {
	return GOIPC_COUNTED(MPI_Isend(b, n, goipc_types[t], dest, tag, (MPI_Comm)c, (MPI_Request *)r));
}
// An Isend of at most GOIPC_COPY bytes sends a copy that this call makes in
// C memory (copy), so that MPI keeps no Go pointer and the Go buffer needs no
// pin: the copy costs a few nanoseconds, a pin and its release several
// crossings' worth.
enum { GOIPC_COPY = 256 };
static inline void goipc_isend_copy(const uint8_t *b, size_t size, int n, int t, int dest, int tag, uintptr_t c, uint8_t *r, uint8_t *copy, int *rc) {
	if (!goipc_thread_ok()) {
		*rc = GOIPC_ERR_THREAD;
		return;
	}
	memcpy(copy, b, size);
	*rc = goipc_counted(MPI_Isend(copy, n, goipc_types[t], dest, tag, (MPI_Comm)c, (MPI_Request *)r));
}
static inline int goipc_irecv(uint8_t *b, int n, int t, int src, int tag, uintptr_t c, uint8_t *r) {
	return GOIPC_COUNTED(MPI_Irecv(b, n, goipc_types[t], src, tag, (MPI_Comm)c, (MPI_Request *)r));
}
static inline void goipc_wait(uint8_t *r, MPI_Status *st, int *rc) {
	*rc = GOIPC_COUNTED(MPI_Wait((MPI_Request *)r, st));
}
static inline void goipc_test(uint8_t *r, int *flag, MPI_Status *st, int *rc) {
	*rc = GOIPC_COUNTED(MPI_Test((MPI_Request *)r, flag, st));
}
static inline void goipc_waitall(int n, uint8_t *r, MPI_Status *st, int *rc) {
	GOIPC_CALL(MPI_Waitall(n, (MPI_Request *)r, st));
}
// Persistent sends and receives set up into a Persistents set, and the
// start of a whole round of them.
static inline int goipc_send_init(const uint8_t *b, int n, int t, int dest, int tag, uintptr_t c, uint8_t *r) {
	if (!goipc_thread_ok()) return GOIPC_ERR_THREAD;
	return MPI_Send_init(b, n, goipc_types[t], dest, tag, (MPI_Comm)c, (MPI_Request *)r);
}
static inline int goipc_recv_init(uint8_t *b, int n, int t, int src, int tag, uintptr_t c, uint8_t *r) {
	if (!goipc_thread_ok()) return GOIPC_ERR_THREAD;
	return MPI_Recv_init(b, n, goipc_types[t], src, tag, (MPI_Comm)c, (MPI_Request *)r);
}
static inline void goipc_startall(int n, uint8_t *r, int *rc) {
	GOIPC_CALL(MPI_Startall(n, (MPI_Request *)r));
}
// Nothing: one cgo call of it is the floor that BenchmarkProcNull measures
// every other call against.
static inline void goipc_crossing(void) {}

// The collectives, with MPI_IN_PLACE for a buffer that Go passes as
// goipc_in_place (mpi.InPlace): Open MPI's MPI_IN_PLACE is (void *)1, a value
// Go must never hold in a pointer (the garbage collector rejects it when it
// scans a stack), so only C turns the marker into it.
extern const uint64_t goipc_in_place[2];
#define GOIPC_IN_PLACE(p) ((const void *)(p) == (const void *)goipc_in_place ? MPI_IN_PLACE : (p))
int goipc_reduce(const void *s, void *r, int n, MPI_Datatype t, MPI_Op o, int root, MPI_Comm c);
int goipc_allreduce(const void *s, void *r, int n, MPI_Datatype t, MPI_Op o, MPI_Comm c);
int goipc_scan(const void *s, void *r, int n, MPI_Datatype t, MPI_Op o, MPI_Comm c);
int goipc_exscan(const void *s, void *r, int n, MPI_Datatype t, MPI_Op o, MPI_Comm c);
int goipc_reduce_scatter_block(const void *s, void *r, int n, MPI_Datatype t, MPI_Op o, MPI_Comm c);
int goipc_gather(const void *s, int sn, void *r, int rn, MPI_Datatype t, int root, MPI_Comm c);
int goipc_gatherv(const void *s, int sn, void *r, const int *rc, const int *rd, MPI_Datatype t, int root, MPI_Comm c);
int goipc_scatter(const void *s, int sn, void *r, int rn, MPI_Datatype t, int root, MPI_Comm c);
int goipc_scatterv(const void *s, const int *sc, const int *sd, void *r, int rn, MPI_Datatype t, int root, MPI_Comm c);
int goipc_allgather(const void *s, int sn, void *r, int rn, MPI_Datatype t, MPI_Comm c);
int goipc_allgatherv(const void *s, int sn, void *r, const int *rc, const int *rd, MPI_Datatype t, MPI_Comm c);
int goipc_alltoall(const void *s, int sn, void *r, int rn, MPI_Datatype t, MPI_Comm c);
int goipc_alltoallv(const void *s, const int *sc, const int *sd, void *r, const int *rc, const int *rd, MPI_Datatype t, MPI_Comm c);

// MPI's user function has no context argument, so each live Go operator gets
// one of a fixed number of trampolines, which passes its slot to Go.
enum { GOIPC_USER_OPS = 32 };
int goipc_op_create(int slot, int commute, MPI_Op *op);

// MPI-IO (file.go).
extern const MPI_File goipc_file_null;
#endif
