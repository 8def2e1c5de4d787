package mpi

// #include "shim.h"
//
// // The persistent collectives are MPI 4.0 (MPICH 4); Open MPI 4.1 has them
// // as the MPIX_ functions of its pcollreq extension. GOIPC_PCOLL is 0 when
// // the library has neither.
// #if MPI_VERSION >= 4
// #define GOIPC_PCOLL 1
// #define GOIPC_INIT(name) MPI_##name##_init
// #else
// #include <mpi-ext.h>
// #if defined(OMPI_HAVE_MPI_EXT_PCOLLREQ) && OMPI_HAVE_MPI_EXT_PCOLLREQ
// #define GOIPC_PCOLL 1
// #define GOIPC_INIT(name) MPIX_##name##_init
// #else
// #define GOIPC_PCOLL 0
// #endif
// #endif
// enum { GOIPC_ERR_NOT_SUPPORTED = -2 }; // no MPI code, nor GOIPC_ERR_THREAD
// #if GOIPC_PCOLL
// static int goipc_barrier_init(MPI_Comm c, MPI_Request *q) { return GOIPC_INIT(Barrier)(c, MPI_INFO_NULL, q); }
// static int goipc_bcast_init(void *b, int n, MPI_Datatype t, int root, MPI_Comm c, MPI_Request *q) {
//	return GOIPC_INIT(Bcast)(b, n, t, root, c, MPI_INFO_NULL, q);
// }
// static int goipc_reduce_init(const void *s, void *r, int n, MPI_Datatype t, MPI_Op o, int root, MPI_Comm c, MPI_Request *q) {
//	return GOIPC_INIT(Reduce)(GOIPC_IN_PLACE(s), r, n, t, o, root, c, MPI_INFO_NULL, q);
// }
// static int goipc_allreduce_init(const void *s, void *r, int n, MPI_Datatype t, MPI_Op o, MPI_Comm c, MPI_Request *q) {
//	return GOIPC_INIT(Allreduce)(GOIPC_IN_PLACE(s), r, n, t, o, c, MPI_INFO_NULL, q);
// }
// static int goipc_allgather_init(const void *s, int n, void *r, MPI_Datatype t, MPI_Comm c, MPI_Request *q) {
//	return GOIPC_INIT(Allgather)(GOIPC_IN_PLACE(s), n, t, r, n, t, c, MPI_INFO_NULL, q);
// }
// static int goipc_alltoall_init(const void *s, int n, void *r, MPI_Datatype t, MPI_Comm c, MPI_Request *q) {
//	return GOIPC_INIT(Alltoall)(GOIPC_IN_PLACE(s), n, t, r, n, t, c, MPI_INFO_NULL, q);
// }
// #else
// static int goipc_barrier_init(MPI_Comm c, MPI_Request *q) { return GOIPC_ERR_NOT_SUPPORTED; }
// static int goipc_bcast_init(void *b, int n, MPI_Datatype t, int root, MPI_Comm c, MPI_Request *q) { return GOIPC_ERR_NOT_SUPPORTED; }
// static int goipc_reduce_init(const void *s, void *r, int n, MPI_Datatype t, MPI_Op o, int root, MPI_Comm c, MPI_Request *q) { return GOIPC_ERR_NOT_SUPPORTED; }
// static int goipc_allreduce_init(const void *s, void *r, int n, MPI_Datatype t, MPI_Op o, MPI_Comm c, MPI_Request *q) { return GOIPC_ERR_NOT_SUPPORTED; }
// static int goipc_allgather_init(const void *s, int n, void *r, MPI_Datatype t, MPI_Comm c, MPI_Request *q) { return GOIPC_ERR_NOT_SUPPORTED; }
// static int goipc_alltoall_init(const void *s, int n, void *r, MPI_Datatype t, MPI_Comm c, MPI_Request *q) { return GOIPC_ERR_NOT_SUPPORTED; }
// #endif
// enum { goipc_pcoll = GOIPC_PCOLL };
import "C"

import (
	"errors"
	"runtime"
	"slices"
	"sync"
	"unsafe"

	"github.com/goipc/ipc/internal/sched"
)

// ErrNotSupported matches (errors.Is) the error of a call the MPI library
// this package was built against does not provide.
var ErrNotSupported = errors.New("not supported by this MPI library")

// PersistentCollectives reports whether the library provides the persistent
// collectives (BarrierInit, BcastInit...): MPICH 4 as MPI 4.0 defines them,
// Open MPI 4.1 as its MPIX_ extension.
const PersistentCollectives = C.goipc_pcoll != 0

// Persistent is a persistent request (MPI_Send_init, MPI_Recv_init, and the
// persistent collectives): an operation set up once, with its arguments
// checked and its buffer pinned once, then started (Start, StartAll) and
// completed (Wait, Test) as often as wanted, with no allocation a round.
//
// Lifetime: MPI owns the buffer from the Init call until Free; between
// rounds, once Wait or Test reports the round complete, the caller may read
// and write it. Free releases the request (it must not be active). A
// Persistent that is never freed stays allocated, its buffer pinned, until
// Finalize, which refuses to run while one is active (ErrPending) and frees
// the others.
//
// A Persistent belongs to one goroutine at a time.
type Persistent struct {
	r      C.MPI_Request
	pin    runtime.Pinner
	op     string
	active bool
	long   bool
}

// persistents keeps every Persistent not yet freed reachable, so that its
// pinned buffer can never be collected (runtime.Pinner panics when a pinned
// Pinner is collected) while MPI may use it.
var persistents struct {
	sync.Mutex
	live map[*Persistent]struct{}
}

// initPersistent pins the buffers and makes the Init call.
func initPersistent(op string, large bool, call func(r *C.MPI_Request) C.int, keep ...unsafe.Pointer) (*Persistent, error) {
	p := &Persistent{r: C.goipc_request_null, op: op, long: large}
	for _, b := range keep {
		if b != nil {
			p.pin.Pin(b)
		}
	}
	h := C.goipc_request_null // not &p.r: cgo would check the whole struct
	rc := call(&h)
	if rc == C.GOIPC_ERR_NOT_SUPPORTED {
		p.pin.Unpin()
		return nil, &Error{Op: op, Class: ErrOther, Msg: Implementation + " has no persistent collectives", cause: ErrNotSupported}
	}
	if err := check(op, rc); err != nil {
		p.pin.Unpin()
		return nil, err
	}
	p.r = h
	persistents.Lock()
	if persistents.live == nil {
		persistents.live = map[*Persistent]struct{}{}
	}
	persistents.live[p] = struct{}{}
	persistents.Unlock()
	return p, nil
}

// SendInit sets up a persistent Send of buf to dest (MPI_Send_init).
func SendInit[T Type](c *Comm, buf []T, dest, tag int) (*Persistent, error) {
	h, err := c.handle("MPI_Send_init")
	if err != nil {
		return nil, err
	}
	b, n, err := buffer("MPI_Send_init", buf)
	if err != nil {
		return nil, err
	}
	t := datatype[T]()
	return initPersistent("MPI_Send_init", long(buf), func(r *C.MPI_Request) C.int {
		return C.MPI_Send_init(b, n, t, C.int(dest), C.int(tag), h, r)
	}, b)
}

// RecvInit sets up a persistent Recv into buf from source (MPI_Recv_init).
func RecvInit[T Type](c *Comm, buf []T, source, tag int) (*Persistent, error) {
	h, err := c.handle("MPI_Recv_init")
	if err != nil {
		return nil, err
	}
	b, n, err := buffer("MPI_Recv_init", buf)
	if err != nil {
		return nil, err
	}
	t := datatype[T]()
	return initPersistent("MPI_Recv_init", long(buf), func(r *C.MPI_Request) C.int {
		return C.MPI_Recv_init(b, n, t, C.int(source), C.int(tag), h, r)
	}, b)
}

func (p *Persistent) usable(op string) error {
	if p == nil || isZero(p.r) {
		return nilHandle(op, ErrRequest, "persistent request")
	}
	if p.r == C.goipc_request_null {
		return closed(op, "persistent request is freed")
	}
	return running(op)
}

// Start starts a round of p (MPI_Start); p must not be active.
func (p *Persistent) Start() error {
	if err := p.usable("MPI_Start"); err != nil {
		return err
	}
	if p.active {
		return invalid("MPI_Start", ErrRequest, "%s request is still active: Wait for its round first", p.op)
	}
	if err := check("MPI_Start", C.MPI_Start(&p.r)); err != nil {
		return err
	}
	p.active = true
	return nil
}

// StartAll starts a round of each of ps (MPI_Startall), in one call, none of
// which may be active. It allocates nothing for up to 16 requests; a set
// started round after round is better set up as a Persistents, whose
// WaitAll completes the round in one call too.
func StartAll(ps ...*Persistent) error {
	if err := running("MPI_Startall"); err != nil || len(ps) == 0 {
		return err
	}
	var few [16]C.MPI_Request // MPI_Startall takes the handles side by side
	hs := few[:0]
	for i, p := range ps {
		if err := p.usable("MPI_Startall"); err != nil {
			return err
		}
		if p.active {
			return invalid("MPI_Startall", ErrRequest, "request %d (%s) is still active", i, p.op)
		}
		// MPI would start it once and fail on the second, leaving a round
		// running that p.active does not record.
		if j := slices.Index(ps[:i], p); j >= 0 {
			return invalid("MPI_Startall", ErrRequest, "request %d is listed twice (also at %d)", i, j)
		}
		hs = append(hs, p.r)
	}
	var rc C.int
	C.goipc_startall(C.int(len(hs)), reqArg(&hs[0]), &rc)
	if err := check("MPI_Startall", rc); err != nil {
		return err
	}
	for _, p := range ps {
		p.active = true
	}
	return nil
}

// Wait blocks until p's round completes (MPI_Wait); p stays set up for the
// next Start. Waiting on a p that is not active returns at once.
func (p *Persistent) Wait() (Status, error) {
	if err := p.usable("MPI_Wait"); err != nil {
		return Status{}, err
	}
	if !p.active {
		return Status{Source: AnySource, Tag: AnyTag}, nil
	}
	var st C.MPI_Status
	var rc C.int
	C.goipc_wait(reqArg(&p.r), &st, &rc)
	p.active = false
	if p.long {
		sched.AfterLongCall()
	}
	return newStatus(&st), checkCounted("MPI_Wait", rc)
}

// Test reports whether p's round has completed (MPI_Test).
func (p *Persistent) Test() (Status, bool, error) {
	if err := p.usable("MPI_Test"); err != nil {
		return Status{}, false, err
	}
	if !p.active {
		return Status{Source: AnySource, Tag: AnyTag}, true, nil
	}
	var st C.MPI_Status
	var flag, rc C.int
	C.goipc_test(reqArg(&p.r), &flag, &st, &rc)
	if err := checkCounted("MPI_Test", rc); err != nil || flag == 0 {
		return Status{}, false, err
	}
	p.active = false
	return newStatus(&st), true, nil
}

// Cancel asks MPI to cancel p's round (MPI_Cancel), as Request.Cancel does:
// the round must still be completed with Wait or Test, whose Status then says
// whether it was Cancelled, and p stays set up for the next Start. It is the
// way out of a persistent receive that no message will match, which can be
// neither freed nor left to Finalize while active. Cancelling a p that is
// not active does nothing; a round of a persistent collective cannot be
// cancelled (EINVAL), as the standard says.
func (p *Persistent) Cancel() error {
	if err := p.usable("MPI_Cancel"); err != nil || !p.active {
		return err
	}
	if p.op != "MPI_Send_init" && p.op != "MPI_Recv_init" {
		return invalid("MPI_Cancel", ErrRequest, "a round of a persistent collective (%s) cannot be cancelled: Wait for it", p.op)
	}
	return check("MPI_Cancel", C.MPI_Cancel(&p.r))
}

// Free releases p (MPI_Request_free) and unpins its buffer. It is nil-safe
// and idempotent; p must not be active.
func (p *Persistent) Free() error {
	if p == nil || isZero(p.r) || p.r == C.goipc_request_null {
		return nil
	}
	if p.active {
		return invalid("MPI_Request_free", ErrRequest, "%s request is active: Wait for its round first", p.op)
	}
	if err := running("MPI_Request_free"); err != nil {
		return err
	}
	if err := check("MPI_Request_free", C.MPI_Request_free(&p.r)); err != nil {
		return err
	}
	p.pin.Unpin()
	persistents.Lock()
	delete(persistents.live, p)
	persistents.Unlock()
	return nil
}

// BarrierInit sets up a persistent Barrier (MPI_Barrier_init). This and the
// other persistent collectives return an error matching ErrNotSupported
// when PersistentCollectives is false.
func BarrierInit(c *Comm) (*Persistent, error) {
	h, err := c.handle("MPI_Barrier_init")
	if err != nil {
		return nil, err
	}
	return initPersistent("MPI_Barrier_init", false, func(r *C.MPI_Request) C.int { return C.goipc_barrier_init(h, r) })
}

// BcastInit sets up a persistent Bcast (MPI_Bcast_init).
func BcastInit[T Type](c *Comm, buf []T, root int) (*Persistent, error) {
	const fn = "MPI_Bcast_init"
	h, b, n, err := bcastArgs(fn, c, buf, root)
	if err != nil {
		return nil, err
	}
	t := datatype[T]()
	return initPersistent(fn, long(buf), func(r *C.MPI_Request) C.int { return C.goipc_bcast_init(b, n, t, C.int(root), h, r) }, b)
}

// ReduceInit sets up a persistent Reduce (MPI_Reduce_init); the same slice
// for send and recv reduces in place.
func ReduceInit[T Type](c *Comm, send, recv []T, op *Op, root int) (*Persistent, error) {
	const fn = "MPI_Reduce_init"
	h, o, err := ireduction[T](fn, c, op)
	if err != nil {
		return nil, err
	}
	sp, rp, n, err := rootReduceArgs(fn, c, send, recv, root)
	if err != nil {
		return nil, err
	}
	t := datatype[T]()
	return initPersistent(fn, long(send), func(r *C.MPI_Request) C.int {
		return C.goipc_reduce_init(sp, rp, n, t, o, C.int(root), h, r)
	}, sp, rp)
}

// AllreduceInit sets up a persistent Allreduce (MPI_Allreduce_init); the
// same slice for send and recv reduces in place.
func AllreduceInit[T Type](c *Comm, send, recv []T, op *Op) (*Persistent, error) {
	const fn = "MPI_Allreduce_init"
	a, err := allReduceArgs(fn, c, send, recv, op)
	if err != nil {
		return nil, err
	}
	return initPersistent(fn, long(send), func(r *C.MPI_Request) C.int {
		return C.goipc_allreduce_init(a.sp, a.rp, a.n, a.t, a.o, a.h, r)
	}, a.sp, a.rp)
}

// AllgatherInit sets up a persistent Allgather (MPI_Allgather_init). MPICH
// 4.0.2 gets it wrong after the first round (it gathers stale values, from C
// as well).
func AllgatherInit[T Type](c *Comm, send, recv []T) (*Persistent, error) {
	const fn = "MPI_Allgather_init"
	a, err := rootedArgs(fn, c, c.Rank(), send, recv, "send", "receive", false, nil, nil)
	if err != nil {
		return nil, err
	}
	t := datatype[T]()
	return initPersistent(fn, long(recv), func(r *C.MPI_Request) C.int {
		return C.goipc_allgather_init(a.own, a.n, a.all, t, a.h, r)
	}, a.own, a.all)
}

// AlltoallInit sets up a persistent Alltoall (MPI_Alltoall_init).
func AlltoallInit[T Type](c *Comm, send, recv []T) (*Persistent, error) {
	const fn = "MPI_Alltoall_init"
	a, err := alltoallArgs(fn, c, send, recv)
	if err != nil {
		return nil, err
	}
	return initPersistent(fn, long(send), func(r *C.MPI_Request) C.int {
		return C.goipc_alltoall_init(a.sp, a.n, a.rp, a.t, a.h, r)
	}, a.sp, a.rp)
}

// activePersistents names, for Finalize, the persistent requests whose round
// has not completed, after testing them.
func activePersistents() []string {
	persistents.Lock()
	defer persistents.Unlock()
	var what []string
	for p := range persistents.live {
		if p.active {
			p.Test()
		}
		if p.active {
			what = append(what, "a persistent "+p.op+" request")
		}
	}
	return what
}

// freePersistents releases, before MPI_Finalize, the persistent requests
// and sets never freed (none is active then), and unpins their buffers.
func freePersistents() {
	freeSets()
	persistents.Lock()
	defer persistents.Unlock()
	for p := range persistents.live {
		C.MPI_Request_free(&p.r)
		p.pin.Unpin()
		delete(persistents.live, p)
	}
}
