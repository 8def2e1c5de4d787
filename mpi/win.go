package mpi

// #include "shim.h"
//
// // Put, Get and Flush are shaped as shim.h's hottest calls are, so that
// // one cgo call with nothing for cgo to inspect does each: the buffer as
// // uint8_t *, the datatype as its index, the window as an integer
// // (winArg), and the thread checked in C. MPI keeps the buffer of a Put or
// // Get until the epoch completes: they escape.
// static inline int goipc_put(const uint8_t *b, int n, int t, int r, MPI_Aint d, uintptr_t w) {
// 	if (!goipc_thread_ok()) return GOIPC_ERR_THREAD;
// 	return MPI_Put(b, n, goipc_types[t], r, d, n, goipc_types[t], (MPI_Win)w);
// }
// static inline int goipc_get(uint8_t *b, int n, int t, int r, MPI_Aint d, uintptr_t w) {
// 	if (!goipc_thread_ok()) return GOIPC_ERR_THREAD;
// 	return MPI_Get(b, n, goipc_types[t], r, d, n, goipc_types[t], (MPI_Win)w);
// }
// static inline int goipc_win_flush(int r, uintptr_t w) {
// 	if (!goipc_thread_ok()) return GOIPC_ERR_THREAD;
// 	return MPI_Win_flush(r, (MPI_Win)w);
// }
// #cgo nocallback goipc_put
// #cgo nocallback goipc_get
// #cgo noescape goipc_win_flush
// #cgo nocallback goipc_win_flush
import "C"

import (
	"reflect"
	"runtime"
	"sync"
	"unsafe"
)

// The error classes of one-sided communication.
const (
	ErrWin      Class = C.MPI_ERR_WIN       // not a window, or a window call out of place
	ErrRMASync  Class = C.MPI_ERR_RMA_SYNC  // an operation or synchronisation outside its epoch
	ErrRMARange Class = C.MPI_ERR_RMA_RANGE // a target location outside the window
	ErrDisp     Class = C.MPI_ERR_DISP      // a bad displacement
	// ErrRMAAttach: memory that cannot be attached to a dynamic window (it
	// overlaps memory attached already), or detached (it is not attached).
	ErrRMAAttach Class = C.MPI_ERR_RMA_ATTACH
)

func init() {
	classNames[ErrWin], classNames[ErrRMASync] = "MPI_ERR_WIN", "MPI_ERR_RMA_SYNC"
	classNames[ErrRMARange], classNames[ErrDisp] = "MPI_ERR_RMA_RANGE", "MPI_ERR_DISP"
	classNames[ErrRMAAttach] = "MPI_ERR_RMA_ATTACH"
}

// Replace and NoOp are the operators only one-sided accumulates take:
// Accumulate with Replace is an atomic Put, GetAccumulate and FetchAndOp
// with NoOp an atomic Get.
var (
	Replace = &Op{o: C.goipc_op_replace, name: "MPI_REPLACE", slot: -1}
	NoOp    = &Op{o: C.goipc_op_no_op, name: "MPI_NO_OP", slot: -1}
)

// Win is a window (MPI_Win): memory of every process of a communicator that
// the others read and write with one-sided operations (Put, Get,
// Accumulate...) inside epochs that Fence, Lock/Unlock or LockAll/UnlockAll
// open and close. A window holds elements of the one type T it was made for
// (WinCreate, WinAllocate, WinAllocateShared, WinCreateDynamic), and every
// displacement counts those elements, except in a dynamic window, where it
// is an address (see Disp). The caller frees it with Free, collectively.
//
// A Win may be used from several goroutines when the thread level allows it
// (see Init), but Free must not race with its use.
type Win struct {
	w       C.MPI_Win
	typ     int     // the element type's entry in C.goipc_types
	unit    int     // the element type's size: the displacement unit, except in a dynamic window
	sizes   []int64 // every rank's length in elements, to check targets
	shared  bool    // made by WinAllocateShared, so SharedQuery applies
	dynamic bool    // made by WinCreateDynamic: displacements are addresses
	memory  runtime.Pinner

	mu sync.Mutex // guards what follows
	// origins pins the origin and result buffers of operations that MPI may
	// still read or write, until a synchronisation completes every one.
	origins     runtime.Pinner
	pendingPins bool
	pinTarget   C.int // the target of every pending operation, unless pinTargets
	pinTargets  bool  // the pending operations have several targets
	locks       int   // targets locked with Lock and not yet unlocked
	lockedAll   bool
	attached    []*attachment // memory attached to a dynamic window, pinned until detached
}

// LockKind is the kind of lock Lock takes on a target's window.
type LockKind int

// The lock kinds of MPI_Win_lock.
const (
	LockExclusive LockKind = C.MPI_LOCK_EXCLUSIVE // no other origin has access
	LockShared    LockKind = C.MPI_LOCK_SHARED    // other shared locks may be held at once
)

// elemSize returns the size of T, or an error when MPI cannot describe T.
func elemSize[T Type](op string) (int, error) {
	if typeIndex[T]() == tInvalid || reflect.TypeFor[T]().Size() == 0 {
		return 0, typeError[T](op)
	}
	return int(reflect.TypeFor[T]().Size()), nil
}

// winKind is how a window was made, which says how a rank learns the
// lengths of the others' parts.
type winKind int

const (
	winCreated winKind = iota // WinCreate, WinAllocate: an Allgather of the lengths
	winShared                 // WinAllocateShared: MPI_Win_shared_query tells
	winDynamic                // WinCreateDynamic: only the target knows what it attached
)

// newWin finishes a window MPI made: errors are returned from now on, and
// every rank learns every other's length. Only WinCreate and WinAllocate
// windows need a collective of their own for that (an Allgather on c),
// which a C rank making the same window does not join: those windows are
// for jobs whose ranks are all Go ranks of this package.
func newWin[T Type](op string, c *Comm, w C.MPI_Win, n int, kind winKind) (*Win, error) {
	win := &Win{w: w, typ: typeIndex[T](), unit: int(reflect.TypeFor[T]().Size()),
		shared: kind == winShared, dynamic: kind == winDynamic}
	err := check("MPI_Win_set_errhandler", C.MPI_Win_set_errhandler(w, C.goipc_errors_return))
	win.sizes = make([]int64, c.Size())
	switch {
	case err != nil:
	case kind == winCreated:
		err = Allgather(c, []int64{int64(n)}, win.sizes)
	case kind == winShared:
		for q := range win.sizes {
			var size C.MPI_Aint
			var unit C.int
			var base unsafe.Pointer
			if err = check(op, C.MPI_Win_shared_query(w, C.int(q), &size, &unit, unsafe.Pointer(&base))); err != nil {
				break
			}
			win.sizes[q] = int64(size) / int64(win.unit)
		}
	}
	if err != nil {
		C.MPI_Win_free(&win.w)
		return nil, err
	}
	return win, nil
}

// winArgs checks what the window constructors share: the communicator, the
// element type and the length, and returns the size in bytes and the
// displacement unit.
func winArgs[T Type](op string, c *Comm, n int) (C.MPI_Comm, C.MPI_Aint, C.int, error) {
	h, err := c.handle(op)
	if err != nil {
		return h, 0, 0, err
	}
	size, err := elemSize[T](op)
	if err != nil {
		return h, 0, 0, err
	}
	if n < 0 || n > int(^uint(0)>>1)/size {
		return h, 0, 0, invalid(op, ErrArg, "window length %d elements", n)
	}
	return h, C.MPI_Aint(n * size), C.int(size), nil
}

// WinCreate makes a window over buf on every process of c (MPI_Win_create),
// collectively. buf is pinned (runtime.Pinner) and belongs to the window until
// Free: other ranks read and write it, so this rank may touch it only as the
// synchronisation calls allow. info may be nil.
func WinCreate[T Type](c *Comm, buf []T, info *Info) (*Win, error) {
	const op = "MPI_Win_create"
	h, size, unit, err := winArgs[T](op, c, len(buf))
	if err != nil {
		return nil, err
	}
	in, err := infoArg(op, info)
	if err != nil {
		return nil, err
	}
	var pin runtime.Pinner
	base := unsafe.Pointer(unsafe.SliceData(buf))
	if len(buf) > 0 {
		pin.Pin(base)
	} else {
		base = nil
	}
	var w C.MPI_Win
	if err := check(op, C.MPI_Win_create(base, size, unit, in, h, &w)); err != nil {
		pin.Unpin()
		return nil, err
	}
	win, err := newWin[T](op, c, w, len(buf), winCreated)
	if err != nil {
		pin.Unpin()
		return nil, err
	}
	win.memory = pin
	return win, nil
}

// WinAllocate makes a window of n elements of memory that MPI allocates on
// every process of c (MPI_Win_allocate), collectively, and returns it with
// this rank's part as a slice. The slice is MPI's memory: it is valid until
// Free and must not be used after.
func WinAllocate[T Type](c *Comm, n int, info *Info) (*Win, []T, error) {
	return allocate[T]("MPI_Win_allocate", c, n, info, false)
}

// WinAllocateShared is WinAllocate for the processes of one node
// (MPI_Win_allocate_shared; c is typically a SplitType(TypeShared)
// communicator): the ranks' parts are shared memory, which SharedQuery gives
// every rank as a slice to load and store directly. The slices are valid
// until Free.
func WinAllocateShared[T Type](c *Comm, n int, info *Info) (*Win, []T, error) {
	return allocate[T]("MPI_Win_allocate_shared", c, n, info, true)
}

func allocate[T Type](op string, c *Comm, n int, info *Info, shared bool) (*Win, []T, error) {
	h, size, unit, err := winArgs[T](op, c, n)
	if err != nil {
		return nil, nil, err
	}
	in, err := infoArg(op, info)
	if err != nil {
		return nil, nil, err
	}
	var base unsafe.Pointer
	var w C.MPI_Win
	if shared {
		err = check(op, C.MPI_Win_allocate_shared(size, unit, in, h, unsafe.Pointer(&base), &w))
	} else {
		err = check(op, C.MPI_Win_allocate(size, unit, in, h, unsafe.Pointer(&base), &w))
	}
	if err != nil {
		return nil, nil, err
	}
	kind := winCreated
	if shared {
		kind = winShared
	}
	win, err := newWin[T](op, c, w, n, kind)
	if err != nil {
		return nil, nil, err
	}
	return win, memory[T](base, n), nil
}

// memory returns n elements of MPI's memory at base as a slice.
func memory[T Type](base unsafe.Pointer, n int) []T {
	if n == 0 || base == nil {
		return nil
	}
	return unsafe.Slice((*T)(base), n)
}

// infoArg returns the C handle of an optional Info.
func infoArg(op string, info *Info) (C.MPI_Info, error) {
	if info == nil {
		return C.goipc_info_null, nil
	}
	return info.handle(op)
}

// SharedQuery returns rank's part of a window made by WinAllocateShared
// (MPI_Win_shared_query), as a slice this rank loads and stores directly;
// the other ranks' writes become visible as the window's synchronisation
// rules say (Fence, or Sync with a Barrier inside LockAll). It is valid
// until Free.
func SharedQuery[T Type](w *Win, rank int) ([]T, error) {
	const op = "MPI_Win_shared_query"
	h, err := winOf[T](op, w)
	if err != nil {
		return nil, err
	}
	if !w.shared {
		return nil, invalid(op, ErrWin, "the window was not made by WinAllocateShared")
	}
	if rank < 0 || rank >= len(w.sizes) {
		return nil, invalid(op, ErrRank, "rank %d is outside the window's %d ranks", rank, len(w.sizes))
	}
	var size C.MPI_Aint
	var unit C.int
	var base unsafe.Pointer
	if err := check(op, C.MPI_Win_shared_query(h, C.int(rank), &size, &unit, unsafe.Pointer(&base))); err != nil {
		return nil, err
	}
	return memory[T](base, int(size)/int(unit)), nil
}

// handle returns the C window, or an error if MPI may not be called now or
// w is nil, zero or freed.
func (w *Win) handle(op string) (C.MPI_Win, error) {
	h, err := w.live(op)
	if err == nil {
		err = running(op)
	}
	return h, err
}

// live is handle for the calls whose C wrapper checks the thread itself: it
// makes no cgo call.
func (w *Win) live(op string) (C.MPI_Win, error) {
	if w == nil || isZero(w.w) {
		return C.goipc_win_null, nilHandle(op, ErrWin, "window")
	}
	if w.w == C.goipc_win_null {
		return w.w, closed(op, "window was freed")
	}
	return w.w, ready(op)
}

// winOf returns the C window for an operation on elements of T, which must
// be the window's type.
func winOf[T Type](op string, w *Win) (C.MPI_Win, error) { return winOfIn[T](op, w, false) }

// winOfIn is winOf, leaving the thread check to the C wrapper if inC.
func winOfIn[T Type](op string, w *Win, inC bool) (C.MPI_Win, error) {
	h, err := w.live(op)
	if err == nil && !inC {
		err = running(op)
	}
	if err != nil {
		return h, err
	}
	if typeIndex[T]() != w.typ {
		return h, invalid(op, ErrType, "the window holds %s, not %s", typeName(w.typ), typeName(typeIndex[T]()))
	}
	return h, nil
}

// target checks n elements at disp of rank's window, where MPI would read
// or write memory outside it (MPI does not check every case itself).
func (w *Win) target(op string, rank, disp, n int) (C.int, C.MPI_Aint, error) {
	if rank == ProcNull {
		return C.int(rank), 0, nil
	}
	if rank < 0 || rank >= len(w.sizes) {
		return 0, 0, invalid(op, ErrRank, "target rank %d is outside the window's %d ranks", rank, len(w.sizes))
	}
	if w.dynamic { // only the target knows what it attached
		if disp < 0 {
			return 0, 0, invalid(op, ErrRMARange, "negative address %d in a dynamic window", disp)
		}
		return C.int(rank), C.MPI_Aint(disp), nil
	}
	if disp < 0 || n > int(w.sizes[rank]) || disp > int(w.sizes[rank])-n {
		return 0, 0, invalid(op, ErrRMARange, "%d elements at displacement %d are outside rank %d's window of %d", n, disp, rank, w.sizes[rank])
	}
	return C.int(rank), C.MPI_Aint(disp), nil
}

// pin keeps the buffers of an operation to rank pinned until a
// synchronisation completes it.
func (w *Win) pin(rank C.int, ps ...unsafe.Pointer) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, p := range ps {
		if p == nil {
			continue
		}
		if !w.pendingPins {
			w.pinTarget, w.pinTargets = rank, false
		} else if w.pinTarget != rank {
			w.pinTargets = true // only the end of the epoch, FlushAll and FlushLocalAll release them
		}
		w.origins.Pin(p)
		w.pendingPins = true
	}
}

// flushed releases the operations' buffers after Flush or FlushLocal of
// rank, if every pending operation was to rank.
func (w *Win) flushed(rank C.int) {
	w.mu.Lock()
	if w.pendingPins && !w.pinTargets && w.pinTarget == rank {
		w.unpin()
	}
	w.mu.Unlock()
}

// completed applies change (to the lock count) after a synchronisation, and
// releases the operations' buffers if no passive-target epoch is left open:
// after Fence, Complete, UnlockAll, and the Unlock that releases the last
// lock, every operation is complete.
func (w *Win) completed(change func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if change != nil {
		change()
	}
	if w.pendingPins && w.locks == 0 && !w.lockedAll {
		w.unpin()
	}
}

// unpin releases every operation's buffers; w.mu is held.
func (w *Win) unpin() {
	w.origins.Unpin()
	w.pendingPins = false
}

// completedAll releases every operation's buffers, whatever epochs are open.
func (w *Win) completedAll() {
	w.mu.Lock()
	w.unpin()
	w.mu.Unlock()
}

// rmaBuf checks a buffer of an operation on w and its target.
func rmaBuf[T Type](op string, w *Win, buf []T, rank, disp int) (C.MPI_Win, unsafe.Pointer, C.int, C.int, C.MPI_Aint, error) {
	return rmaBufIn(op, w, buf, rank, disp, false)
}

// rmaBufIn is rmaBuf, leaving the thread check to the C wrapper if inC.
func rmaBufIn[T Type](op string, w *Win, buf []T, rank, disp int, inC bool) (C.MPI_Win, unsafe.Pointer, C.int, C.int, C.MPI_Aint, error) {
	h, err := winOfIn[T](op, w, inC)
	if err != nil {
		return h, nil, 0, 0, 0, err
	}
	p, n, err := buffer(op, buf)
	if err != nil {
		return h, nil, 0, 0, 0, err
	}
	r, d, err := w.target(op, rank, disp, len(buf))
	return h, p, n, r, d, err
}

// accumulateOp returns the C operator of an accumulate on elements of the
// type at index t of C.goipc_types: a predefined one (user operators cannot
// act on windows) that is defined on the type.
func accumulateOp(op string, o *Op, t int) (C.MPI_Op, error) {
	switch {
	case o == nil || isZero(o.o):
		return C.goipc_op_null, nilHandle(op, ErrOp, "operator")
	case o.slot >= 0:
		return o.o, invalid(op, ErrOp, "one-sided accumulates take predefined operators only, not a NewOp operator")
	case oscPairsAbort && o.takes == opPair && (t == tDoubleInt || t == tLongInt):
		return o.o, &Error{Op: op, Class: ErrOp, Msg: Implementation + " ends the job for " + o.name + " on " + typeName(t) +
			" in one-sided operations (\"OSC unsupported MINLOC/MAXLOC datatype\"): use Loc[float32] or Loc[int32]", cause: ErrNotSupported}
	}
	return o.o, o.definedOn(op, t)
}

// Put writes origin into rank's window at disp (MPI_Put). The transfer
// completes when the epoch does (Fence, Unlock, Flush...): until then origin
// belongs to MPI and must not be changed.
func Put[T Type](w *Win, origin []T, rank, disp int) error {
	const op = "MPI_Put"
	h, p, n, r, d, err := rmaBufIn(op, w, origin, rank, disp, true)
	if err != nil {
		return err
	}
	if err := check(op, C.goipc_put((*C.uint8_t)(p), n, C.int(typeIndex[T]()), r, d, winArg(h))); err != nil {
		return err
	}
	w.pin(r, p)
	return nil
}

// Get reads len(result) elements of rank's window at disp into result
// (MPI_Get). They arrive when the epoch completes (Fence, Unlock, Flush...):
// until then result belongs to MPI.
func Get[T Type](w *Win, result []T, rank, disp int) error {
	const op = "MPI_Get"
	h, p, n, r, d, err := rmaBufIn(op, w, result, rank, disp, true)
	if err != nil {
		return err
	}
	if err := check(op, C.goipc_get((*C.uint8_t)(p), n, C.int(typeIndex[T]()), r, d, winArg(h))); err != nil {
		return err
	}
	w.pin(r, p)
	return nil
}

// Accumulate combines origin into rank's window at disp with the predefined
// operator o, element by element and atomically per element
// (MPI_Accumulate); Replace makes it an atomic Put. origin belongs to MPI
// until the epoch completes.
func Accumulate[T Type](w *Win, origin []T, rank, disp int, o *Op) error {
	const op = "MPI_Accumulate"
	a, err := accumulateArgs(op, w, origin, rank, disp, o)
	if err != nil {
		return err
	}
	t := datatype[T]()
	if err := check(op, C.MPI_Accumulate(a.p, a.n, t, a.r, a.d, a.n, t, a.o, a.h)); err != nil {
		return err
	}
	w.pin(a.r, a.p)
	return nil
}

// GetAccumulate is Accumulate that also returns, in result, the target's
// elements as they were before (MPI_Get_accumulate); with NoOp it is an
// atomic Get and origin is not read. origin and result have the same length
// and belong to MPI until the epoch completes.
func GetAccumulate[T Type](w *Win, origin, result []T, rank, disp int, o *Op) error {
	const op = "MPI_Get_accumulate"
	a, err := getAccumulateArgs(op, w, origin, result, rank, disp, o)
	if err != nil {
		return err
	}
	t := datatype[T]()
	if err := check(op, C.MPI_Get_accumulate(a.p, a.n, t, a.q, a.n, t, a.r, a.d, a.n, t, a.o, a.h)); err != nil {
		return err
	}
	w.pin(a.r, a.p, a.q)
	return nil
}

// rmaArgs are the checked arguments of an accumulate: the window, origin and
// result buffers, their count, the target and the operator.
type rmaArgs struct {
	h    C.MPI_Win
	p, q unsafe.Pointer
	n, r C.int
	d    C.MPI_Aint
	o    C.MPI_Op
}

// accumulateArgs checks the arguments of Accumulate and Raccumulate.
func accumulateArgs[T Type](op string, w *Win, origin []T, rank, disp int, o *Op) (a rmaArgs, err error) {
	if a.h, a.p, a.n, a.r, a.d, err = rmaBuf(op, w, origin, rank, disp); err != nil {
		return a, err
	}
	a.o, err = accumulateOp(op, o, typeIndex[T]())
	return a, err
}

// getAccumulateArgs checks the arguments of GetAccumulate and RgetAccumulate.
func getAccumulateArgs[T Type](op string, w *Win, origin, result []T, rank, disp int, o *Op) (rmaArgs, error) {
	if len(origin) != len(result) {
		return rmaArgs{}, invalid(op, ErrCount, "origin has %d elements, result %d", len(origin), len(result))
	}
	a, err := accumulateArgs(op, w, origin, rank, disp, o)
	if err != nil {
		return a, err
	}
	if a.n > 0 {
		a.q = unsafe.Pointer(unsafe.SliceData(result))
		if overlaps(origin, result) {
			return a, invalid(op, ErrBuffer, "origin and result overlap")
		}
	}
	return a, nil
}

// overlaps reports whether two non-empty slices share memory.
func overlaps[T Type](a, b []T) bool {
	size := unsafe.Sizeof(a[0])
	pa, pb := uintptr(unsafe.Pointer(&a[0])), uintptr(unsafe.Pointer(&b[0]))
	return pa < pb+uintptr(len(b))*size && pb < pa+uintptr(len(a))*size
}

// FetchAndOp combines *origin into the one element at disp of rank's window
// with o, atomically, and stores the element's previous value in *result
// (MPI_Fetch_and_op). *result is written when the epoch completes (Flush,
// Unlock, Fence...); until then both belong to MPI. T must be a predefined
// type (ErrType before MPI otherwise: Open MPI 4.1 took a [2]int32, which
// MPICH 4.0.2 refuses).
func FetchAndOp[T Type](w *Win, origin, result *T, rank, disp int, o *Op) error {
	const op = "MPI_Fetch_and_op"
	h, r, d, err := single[T](op, w, rank, disp, origin, result)
	if err != nil {
		return err
	}
	if opGroup(typeIndex[T]()) == 0 {
		return invalid(op, ErrType, "fetch-and-op takes a basic type, not %s", typeName(typeIndex[T]()))
	}
	co, err := accumulateOp(op, o, typeIndex[T]())
	if err != nil {
		return err
	}
	p, q := unsafe.Pointer(origin), unsafe.Pointer(result)
	if err := check(op, C.MPI_Fetch_and_op(p, q, datatype[T](), r, d, co, h)); err != nil {
		return err
	}
	w.pin(r, p, q)
	return nil
}

// CompareAndSwap replaces the element at disp of rank's window with *origin
// if it equals *compare, atomically, and stores its previous value in
// *result (MPI_Compare_and_swap). *result is written when the epoch
// completes; until then all three belong to MPI. T must be an integer,
// bool or byte type (ErrType before MPI otherwise: Open MPI 4.1 swapped a
// float64, where MPICH 4.0.2 refuses one). MPICH 4.0.2 never swaps a bool,
// from C as well: it reports success and leaves the target unchanged.
func CompareAndSwap[T Type](w *Win, origin, compare, result *T, rank, disp int) error {
	const op = "MPI_Compare_and_swap"
	h, r, d, err := single[T](op, w, rank, disp, origin, result)
	if err != nil {
		return err
	}
	if opGroup(typeIndex[T]())&(opInt|opLogical|opByte) == 0 {
		return invalid(op, ErrType, "compare-and-swap takes integers, bool and bytes, not %s", typeName(typeIndex[T]()))
	}
	if compare == nil {
		return invalid(op, ErrBuffer, "nil compare")
	}
	p, c, q := unsafe.Pointer(origin), unsafe.Pointer(compare), unsafe.Pointer(result)
	if err := check(op, C.MPI_Compare_and_swap(p, c, q, datatype[T](), r, d, h)); err != nil {
		return err
	}
	w.pin(r, p, c, q)
	return nil
}

// single checks the arguments of the one-element atomics.
func single[T Type](op string, w *Win, rank, disp int, origin, result *T) (C.MPI_Win, C.int, C.MPI_Aint, error) {
	h, err := winOf[T](op, w)
	if err != nil {
		return h, 0, 0, err
	}
	if origin == nil || result == nil {
		return h, 0, 0, invalid(op, ErrBuffer, "nil origin or result")
	}
	if origin == result {
		return h, 0, 0, invalid(op, ErrBuffer, "origin and result are the same element")
	}
	r, d, err := w.target(op, rank, disp, 1)
	return h, r, d, err
}

// sync runs one synchronisation call on w.
func (w *Win) sync(op string, call func(C.MPI_Win) C.int) error {
	h, err := w.handle(op)
	if err != nil {
		return err
	}
	return check(op, call(h))
}

// Fence ends one access and exposure epoch on every process of the window
// and starts the next (MPI_Win_fence), collectively; every operation of the
// epoch is complete when it returns.
func (w *Win) Fence() error {
	err := w.sync("MPI_Win_fence", func(h C.MPI_Win) C.int { return C.MPI_Win_fence(0, h) })
	if err == nil {
		w.completed(nil)
	}
	return err
}

// Lock starts an access epoch on rank's window (MPI_Win_lock), with a lock
// of the given kind, which Unlock releases.
func (w *Win) Lock(kind LockKind, rank int) error {
	const op = "MPI_Win_lock"
	if kind != LockExclusive && kind != LockShared {
		return invalid(op, ErrArg, "unknown lock kind %d", int(kind))
	}
	r, err := w.rank(op, rank)
	if err != nil {
		return err
	}
	err = w.sync(op, func(h C.MPI_Win) C.int { return C.MPI_Win_lock(C.int(kind), r, 0, h) })
	if err == nil {
		w.completed(func() { w.locks++ })
	}
	return err
}

// Unlock ends the access epoch on rank's window (MPI_Win_unlock): every
// operation to rank is complete there when it returns.
func (w *Win) Unlock(rank int) error {
	const op = "MPI_Win_unlock"
	r, err := w.rank(op, rank)
	if err != nil {
		return err
	}
	err = w.sync(op, func(h C.MPI_Win) C.int { return C.MPI_Win_unlock(r, h) })
	if err == nil {
		w.completed(func() { w.locks-- })
	}
	return err
}

// LockAll starts an access epoch on every rank's window with a shared lock
// (MPI_Win_lock_all), which UnlockAll releases.
func (w *Win) LockAll() error {
	err := w.sync("MPI_Win_lock_all", func(h C.MPI_Win) C.int { return C.MPI_Win_lock_all(0, h) })
	if err == nil {
		w.completed(func() { w.lockedAll = true })
	}
	return err
}

// UnlockAll ends LockAll's epoch (MPI_Win_unlock_all): every operation is
// complete at its target when it returns.
func (w *Win) UnlockAll() error {
	err := w.sync("MPI_Win_unlock_all", func(h C.MPI_Win) C.int { return C.MPI_Win_unlock_all(h) })
	if err == nil {
		w.completed(func() { w.lockedAll = false })
	}
	return err
}

// Flush completes, at the origin and at rank, every operation this process
// started to rank inside a passive-target epoch (MPI_Win_flush).
func (w *Win) Flush(rank int) error {
	r, err := w.rank("MPI_Win_flush", rank)
	if err != nil {
		return err
	}
	h, err := w.live("MPI_Win_flush")
	if err != nil {
		return err
	}
	if err := check("MPI_Win_flush", C.goipc_win_flush(r, winArg(h))); err != nil {
		return err
	}
	w.flushed(r)
	return nil
}

// FlushAll is Flush to every rank (MPI_Win_flush_all).
func (w *Win) FlushAll() error {
	err := w.sync("MPI_Win_flush_all", func(h C.MPI_Win) C.int { return C.MPI_Win_flush_all(h) })
	if err == nil {
		w.completedAll() // though the epoch goes on
	}
	return err
}

// FlushLocal completes, at the origin only, every operation this process
// started to rank (MPI_Win_flush_local): their buffers may be reused, but a
// Put may not have reached the target yet.
func (w *Win) FlushLocal(rank int) error {
	r, err := w.rank("MPI_Win_flush_local", rank)
	if err != nil {
		return err
	}
	err = w.sync("MPI_Win_flush_local", func(h C.MPI_Win) C.int { return C.MPI_Win_flush_local(r, h) })
	if err == nil {
		w.flushed(r)
	}
	return err
}

// FlushLocalAll is FlushLocal to every rank (MPI_Win_flush_local_all).
func (w *Win) FlushLocalAll() error {
	err := w.sync("MPI_Win_flush_local_all", func(h C.MPI_Win) C.int { return C.MPI_Win_flush_local_all(h) })
	if err == nil {
		w.completedAll()
	}
	return err
}

// Sync makes this process's stores to its own window memory and the window's
// public copy agree (MPI_Win_sync), inside a passive-target epoch: with a
// Barrier between two Syncs, ranks sharing a WinAllocateShared window see
// each other's plain stores.
func (w *Win) Sync() error {
	return w.sync("MPI_Win_sync", func(h C.MPI_Win) C.int { return C.MPI_Win_sync(h) })
}

// rank converts a target rank of a synchronisation call.
func (w *Win) rank(op string, rank int) (C.int, error) {
	r, _, err := w.target(op, rank, 0, 0)
	return r, err
}

// Free releases the window (MPI_Win_free), collectively, and unpins the
// memory WinCreate pinned; WinAllocate's memory is gone after it. It is
// nil-safe, and a second Free returns nil at once. After Finalize it returns
// an error matching os.ErrClosed. Inside a passive-target epoch of this
// process (Lock without Unlock, LockAll without UnlockAll) it is refused
// with ErrRMASync, as MPI forbids: MPICH refuses it too, but Open MPI
// freed the window, and with it the pins of operations still in flight.
func (w *Win) Free() error {
	if w == nil || isZero(w.w) || w.w == C.goipc_win_null {
		return nil
	}
	if err := running("MPI_Win_free"); err != nil {
		return err
	}
	w.mu.Lock()
	locked := w.locks > 0 || w.lockedAll
	w.mu.Unlock()
	if locked {
		return invalid("MPI_Win_free", ErrRMASync, "inside a passive-target epoch (Unlock or UnlockAll first)")
	}
	if err := check("MPI_Win_free", C.MPI_Win_free(&w.w)); err != nil {
		return err
	}
	w.memory.Unpin()
	w.completedAll()
	w.detachedAll()
	return nil
}

// Post starts an exposure epoch of this process's window to the processes of
// g (MPI_Win_post), which Wait ends; g's processes access it between Start
// and Complete.
func (w *Win) Post(g *Group) error {
	gh, err := g.handle("MPI_Win_post")
	if err != nil {
		return err
	}
	return w.sync("MPI_Win_post", func(h C.MPI_Win) C.int { return C.MPI_Win_post(gh, 0, h) })
}

// Start starts an access epoch to the windows of the processes of g
// (MPI_Win_start), which Complete ends.
func (w *Win) Start(g *Group) error {
	gh, err := g.handle("MPI_Win_start")
	if err != nil {
		return err
	}
	return w.sync("MPI_Win_start", func(h C.MPI_Win) C.int { return C.MPI_Win_start(gh, 0, h) })
}

// Complete ends Start's access epoch (MPI_Win_complete): this process's
// operations are complete at the origin (their buffers are free again).
func (w *Win) Complete() error {
	err := w.sync("MPI_Win_complete", func(h C.MPI_Win) C.int { return C.MPI_Win_complete(h) })
	if err == nil {
		w.completed(nil)
	}
	return err
}

// Wait ends Post's exposure epoch (MPI_Win_wait), once every process of its
// group has called Complete: their operations are complete in this window.
func (w *Win) Wait() error {
	return w.sync("MPI_Win_wait", func(h C.MPI_Win) C.int { return C.MPI_Win_wait(h) })
}

// Rput is Put that returns a Request (MPI_Rput), inside a passive-target
// epoch (Lock or LockAll). The Request completes when origin may be reused;
// the data is at the target after Flush or Unlock. The Request pins origin
// until then and is completed like any other.
func Rput[T Type](w *Win, origin []T, rank, disp int) (*Request, error) {
	const op = "MPI_Rput"
	h, p, n, r, d, err := rmaBuf(op, w, origin, rank, disp)
	if err == nil {
		err = w.passive(op)
	}
	if err != nil {
		return nil, err
	}
	t := datatype[T]()
	req := newRequest(kindRMA, p, long(origin), r, 0)
	return req.started(check(op, C.MPI_Rput(p, n, t, r, d, n, t, h, &req.r)))
}

// Rget is Get that returns a Request (MPI_Rget), inside a passive-target
// epoch. When the Request completes, result holds the data; until then it
// is MPI's.
func Rget[T Type](w *Win, result []T, rank, disp int) (*Request, error) {
	const op = "MPI_Rget"
	h, p, n, r, d, err := rmaBuf(op, w, result, rank, disp)
	if err == nil {
		err = w.passive(op)
	}
	if err != nil {
		return nil, err
	}
	t := datatype[T]()
	req := newRequest(kindRMA, p, long(result), r, 0)
	return req.started(check(op, C.MPI_Rget(p, n, t, r, d, n, t, h, &req.r)))
}

// Raccumulate is Accumulate that returns a Request (MPI_Raccumulate), inside
// a passive-target epoch. The Request completes when origin may be reused,
// and pins it until then; the result is at the target after Flush or Unlock.
func Raccumulate[T Type](w *Win, origin []T, rank, disp int, o *Op) (*Request, error) {
	const op = "MPI_Raccumulate"
	a, err := accumulateArgs(op, w, origin, rank, disp, o)
	if err == nil {
		err = w.passive(op)
	}
	if err != nil {
		return nil, err
	}
	t := datatype[T]()
	req := newRequest(kindRMA, a.p, long(origin), a.r, 0)
	return req.started(check(op, C.MPI_Raccumulate(a.p, a.n, t, a.r, a.d, a.n, t, a.o, a.h, &req.r)))
}

// RgetAccumulate is GetAccumulate that returns a Request
// (MPI_Rget_accumulate), inside a passive-target epoch. When the Request
// completes, result holds the target's elements as they were before; the
// Request pins origin and result until then.
func RgetAccumulate[T Type](w *Win, origin, result []T, rank, disp int, o *Op) (*Request, error) {
	const op = "MPI_Rget_accumulate"
	a, err := getAccumulateArgs(op, w, origin, result, rank, disp, o)
	if err == nil {
		err = w.passive(op)
	}
	if err != nil {
		return nil, err
	}
	t := datatype[T]()
	req := newRequest(kindRMA, a.p, long(origin), a.r, 0)
	req.alsoPin(a.q)
	return req.started(check(op, C.MPI_Rget_accumulate(a.p, a.n, t, a.q, a.n, t, a.r, a.d, a.n, t, a.o, a.h, &req.r)))
}

// passive refuses a request-based operation outside any passive-target
// epoch, which MPI forbids and Open MPI's osc pt2pt accepts silently,
// leaving a request that never completes.
func (w *Win) passive(op string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.locks == 0 && !w.lockedAll {
		return invalid(op, ErrRMASync, "outside a passive-target epoch (call Lock or LockAll first)")
	}
	return nil
}

// alsoPin pins a second buffer of a Request, until it completes: the result
// of RgetAccumulate.
func (r *Request) alsoPin(p unsafe.Pointer) {
	if p != nil {
		r.pin.Pin(p)
		r.pinned = true
	}
}
