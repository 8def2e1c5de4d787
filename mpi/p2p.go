package mpi

// #include "shim.h"
//
// // The blocking calls neither keep the Go pointers they get nor call back
// // into Go, which lets a Send or Recv run without allocating.
// #cgo noescape goipc_send
// #cgo nocallback goipc_send
// #cgo noescape MPI_Ssend
// #cgo nocallback MPI_Ssend
// #cgo noescape goipc_recv
// #cgo nocallback goipc_recv
// #cgo noescape MPI_Sendrecv
// #cgo nocallback MPI_Sendrecv
// #cgo noescape MPI_Probe
// #cgo nocallback MPI_Probe
// #cgo noescape MPI_Iprobe
// #cgo nocallback MPI_Iprobe
// #cgo noescape MPI_Get_count
// #cgo nocallback MPI_Get_count
// #cgo noescape goipc_crossing
// #cgo nocallback goipc_crossing
import "C"
import (
	"math"
	"unsafe"

	"github.com/goipc/ipc/internal/sched"
)

// crossing is one cgo call that does nothing, the floor of what any call into
// MPI costs from Go, measured by BenchmarkProcNull beside the calls.
func crossing() { C.goipc_crossing() }

// Wildcards and the null process for point-to-point calls.
const (
	AnySource = int(C.MPI_ANY_SOURCE) // Recv and Probe: a message from any rank
	AnyTag    = int(C.MPI_ANY_TAG)    // Recv and Probe: a message with any tag
	ProcNull  = int(C.MPI_PROC_NULL)  // a rank whose sends and receives do nothing
)

// Status describes a received or probed message (MPI_Status).
type Status struct {
	Source int   // the sender's rank
	Tag    int   // the message's tag
	Err    error // this request's own error, set by WaitAll, WaitAny and TestAll
	raw    C.MPI_Status
}

func newStatus(st *C.MPI_Status) Status {
	return Status{Source: int(st.MPI_SOURCE), Tag: int(st.MPI_TAG), raw: *st}
}

// fill sets Source and Tag from the status MPI wrote into s.raw. The calls
// on every message's path have MPI write there, in their result: a Status
// built by newStatus is copied whole to the result, a copy that stalls on
// the stores that just built it (each costs a few nanoseconds).
func (s *Status) fill() { s.Source, s.Tag = int(s.raw.MPI_SOURCE), int(s.raw.MPI_TAG) }

// Bytes returns the size of the message in bytes, or Undefined outside
// Init..Finalize, where MPI cannot read a status.
func (s Status) Bytes() int { return s.count(tByte) }

// Count returns the number of T elements in the message described by s
// (MPI_Get_count), or Undefined if its size is not a whole number of them or
// MPI is not running.
func Count[T Type](s Status) int { return s.count(typeIndex[T]()) }

func (s *Status) count(t int) int {
	if ready("MPI_Get_count") != nil {
		return Undefined
	}
	var n C.int
	C.MPI_Get_count(&s.raw, C.goipc_types[t], &n)
	return int(n)
}

// Cancelled reports whether the request that s completes was cancelled
// (MPI_Test_cancelled); false outside Init..Finalize.
func (s Status) Cancelled() bool {
	if ready("MPI_Test_cancelled") != nil {
		return false
	}
	var flag C.int
	C.MPI_Test_cancelled(&s.raw, &flag)
	return flag != 0
}

// Send sends buf to rank dest of c with tag (MPI_Send). It returns when buf
// may be reused, which for small messages is usually before the receiver has
// it. An empty buf sends a message of zero elements.
func Send[T Type](c *Comm, buf []T, dest, tag int) error {
	t := C.int(commonIndex[T]())
	if !p2pOK(c, len(buf), dest, tag, t) {
		var err error
		if t, err = p2pType("MPI_Send", c, buf, dest, tag); err != nil {
			return err
		}
	}
	var rc C.int
	C.goipc_send(bytes(buf), C.int(len(buf)), t, C.int(dest), C.int(tag), commArg(c.c), &rc)
	if long(buf) {
		sched.AfterLongCall()
	}
	return checkCounted("MPI_Send", rc)
}

// p2pOK reports whether the arguments of a point-to-point call pass the
// checks of Comm.peer and buffer, for n elements of the type at index t of
// goipc_types (commonIndex: -1 for a type it does not know). The calls on a
// message's path check with it and commonIndex, and only if it says no with
// p2pType, which finds the first error: both inline, where a call to
// p2pType made its caller keep its arguments on the stack across it, and
// p2pType its own (Send to ProcNull 33.4-45.9ns against 36.0-50.6ns, eight
// alternating runs of a loop of them, load average 12).
func p2pOK(c *Comm, n, peer, tag int, t C.int) bool {
	return c != nil && t >= 0 && state.Load() == stateRunning && n <= math.MaxInt32 &&
		int(int32(peer)) == peer && int(int32(tag)) == tag && tag <= tagUB && !isZero(c.c) && c.c != C.goipc_comm_null
}

// p2pType checks the arguments of a point-to-point call as Comm.peer and
// buffer do, in one pass that looks T up once, and returns T's index in
// goipc_types, as the wrappers of shim.h take the datatype, or the first
// error. It returns two words, which stay in registers (a struct of the
// call's six arguments went through memory, and its copy stalled on the
// stores).
func p2pType[T Type](op string, c *Comm, buf []T, peer, tag int) (C.int, error) {
	t := typeIndex[T]()
	if c == nil || t == tInvalid || state.Load() != stateRunning || len(buf) > math.MaxInt32 ||
		int(int32(peer)) != peer || int(int32(tag)) != tag || tag > tagUB || isZero(c.c) || c.c == C.goipc_comm_null {
		return 0, p2pError(op, c, buf, peer, tag)
	}
	return C.int(t), nil
}

// bytes returns the address of buf as the wrappers of shim.h take it, nil
// for an empty buf.
func bytes[T Type](buf []T) *C.uint8_t {
	if len(buf) == 0 {
		return nil
	}
	return (*C.uint8_t)(unsafe.Pointer(unsafe.SliceData(buf)))
}

// p2pError is p2pType's slow path: the first error of the checks in order.
func p2pError[T Type](op string, c *Comm, buf []T, peer, tag int) error {
	if _, _, _, err := c.peer(op, peer, tag); err != nil {
		return err
	}
	_, _, err := buffer(op, buf)
	return err
}

// Ssend is Send that returns only once the receiver has started to receive
// (MPI_Ssend).
func Ssend[T Type](c *Comm, buf []T, dest, tag int) error {
	h, err := c.handle("MPI_Ssend")
	if err != nil {
		return err
	}
	d, t, err := rankTag("MPI_Ssend", dest, tag)
	if err != nil {
		return err
	}
	p, n, err := buffer("MPI_Ssend", buf)
	if err != nil {
		return err
	}
	return check("MPI_Ssend", C.MPI_Ssend(p, n, datatype[T](), d, t, h))
}

// Recv receives a message from rank source (or AnySource) with tag (or
// AnyTag) into buf (MPI_Recv), blocking the calling thread until it arrives.
// A message longer than buf fails with ErrTruncate; Count tells how much of
// buf a shorter one filled. RecvContext is the cancellable form.
func Recv[T Type](c *Comm, buf []T, source, tag int) (st Status, err error) {
	t := C.int(commonIndex[T]())
	if !p2pOK(c, len(buf), source, tag, t) {
		if t, err = p2pType("MPI_Recv", c, buf, source, tag); err != nil {
			return Status{}, err
		}
	}
	var rc C.int
	C.goipc_recv(bytes(buf), C.int(len(buf)), t, C.int(source), C.int(tag), commArg(c.c), &st.raw, &rc)
	if long(buf) {
		sched.AfterLongCall()
	}
	st.fill()
	return st, checkCounted("MPI_Recv", rc)
}

// Sendrecv sends send to dest and receives into recv from source in one call
// (MPI_Sendrecv), which cannot deadlock the way two blocking calls in the
// wrong order can.
func Sendrecv[S, R Type](c *Comm, send []S, dest, sendTag int, recv []R, source, recvTag int) (Status, error) {
	h, err := c.handle("MPI_Sendrecv")
	if err != nil {
		return Status{}, err
	}
	d, st, err := rankTag("MPI_Sendrecv", dest, sendTag)
	if err != nil {
		return Status{}, err
	}
	s, rt, err := rankTag("MPI_Sendrecv", source, recvTag)
	if err != nil {
		return Status{}, err
	}
	if err := disjoint("MPI_Sendrecv", send, recv, ""); err != nil {
		return Status{}, err
	}
	sp, sn, err := buffer("MPI_Sendrecv", send)
	if err != nil {
		return Status{}, err
	}
	rp, rn, err := buffer("MPI_Sendrecv", recv)
	if err != nil {
		return Status{}, err
	}
	var cst C.MPI_Status
	rc := C.MPI_Sendrecv(sp, sn, datatype[S](), d, st, rp, rn, datatype[R](), s, rt, h, &cst)
	return newStatus(&cst), check("MPI_Sendrecv", rc)
}

// Probe waits for a message that Recv with the same arguments would match,
// without receiving it (MPI_Probe).
func Probe(c *Comm, source, tag int) (Status, error) {
	h, err := c.handle("MPI_Probe")
	if err != nil {
		return Status{}, err
	}
	s, t, err := rankTag("MPI_Probe", source, tag)
	if err != nil {
		return Status{}, err
	}
	var st C.MPI_Status
	rc := C.MPI_Probe(s, t, h, &st)
	return newStatus(&st), check("MPI_Probe", rc)
}

// Iprobe is Probe that does not wait: ok reports whether a message is there
// (MPI_Iprobe).
func Iprobe(c *Comm, source, tag int) (st Status, ok bool, err error) {
	h, err := c.handle("MPI_Iprobe")
	if err != nil {
		return Status{}, false, err
	}
	s, t, err := rankTag("MPI_Iprobe", source, tag)
	if err != nil {
		return Status{}, false, err
	}
	var flag C.int
	var cst C.MPI_Status
	rc := C.MPI_Iprobe(s, t, h, &flag, &cst)
	if err := check("MPI_Iprobe", rc); err != nil || flag == 0 {
		return Status{}, false, err
	}
	return newStatus(&cst), true, nil
}

// Message is a message taken off the queue by Mprobe, which only Mrecv can
// then receive: unlike Probe then Recv, no other receive can steal it.
type Message struct{ m C.MPI_Message }

// Mprobe waits for a matching message and removes it from the queue
// (MPI_Mprobe); receive it with Mrecv, sized by Count of the status.
func Mprobe(c *Comm, source, tag int) (*Message, Status, error) {
	h, err := c.handle("MPI_Mprobe")
	if err != nil {
		return nil, Status{}, err
	}
	s, t, err := rankTag("MPI_Mprobe", source, tag)
	if err != nil {
		return nil, Status{}, err
	}
	m := &Message{}
	var st C.MPI_Status
	if err := check("MPI_Mprobe", C.MPI_Mprobe(s, t, h, &m.m, &st)); err != nil {
		return nil, Status{}, err
	}
	return m, newStatus(&st), nil
}

// Mrecv receives the message Mprobe matched into buf (MPI_Mrecv). A Message
// can be received once.
func Mrecv[T Type](m *Message, buf []T) (Status, error) {
	if m == nil || isZero(m.m) {
		return Status{}, nilHandle("MPI_Mrecv", ErrRequest, "message")
	}
	if m.m == C.goipc_message_null {
		return Status{}, closed("MPI_Mrecv", "message was already received")
	}
	if err := running("MPI_Mrecv"); err != nil {
		return Status{}, err
	}
	p, n, err := buffer("MPI_Mrecv", buf)
	if err != nil {
		return Status{}, err
	}
	var st C.MPI_Status
	rc := C.MPI_Mrecv(p, n, datatype[T](), &m.m, &st)
	return newStatus(&st), check("MPI_Mrecv", rc)
}
