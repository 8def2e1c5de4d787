package mpi_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
	"weak"

	"github.com/goipc/ipc/mpi"
)

// big is larger than any eager limit of Open MPI's or MPICH's shared-memory
// transports, so that its send completes only once a receiver takes it.
const big = 4 << 20

// requestChecks run in the two-rank job of p2pChecks: a Request's life
// (completion, Free, misuse) and WaitContext on a send nobody receives.
var requestChecks = []check{
	{"completed requests are inert", func(w *mpi.Comm) error {
		got := make([]int32, 1)
		r, err := mpi.Irecv(w, got, peer(w), 30)
		if err != nil {
			return err
		}
		// The same unfinished request twice would make MPI use a handle it
		// has freed: refused before the call, the request untouched.
		if _, err := mpi.WaitAll(r, r); err != nil {
			if err := wantInvalid(err, mpi.ErrRequest); err != nil {
				return fmt.Errorf("WaitAll(r, r): %w", err)
			}
		} else {
			return errors.New("WaitAll(r, r) succeeded")
		}
		if _, _, err := mpi.TestAll(r, nil, r); !errors.Is(err, mpi.ErrRequest) {
			return fmt.Errorf("TestAll(r, nil, r): %v", err)
		}
		if _, _, err := mpi.WaitAny(r, r); !errors.Is(err, mpi.ErrRequest) {
			return fmt.Errorf("WaitAny(r, r): %v", err)
		}
		if err := mpi.Send(w, []int32{int32(w.Rank())}, peer(w), 30); err != nil {
			return err
		}
		if st, err := r.Wait(); err != nil || st.Source != peer(w) || got[0] != int32(peer(w)) {
			return fmt.Errorf("Wait after the refused WaitAll: %+v, %v, got %d", st, err, got[0])
		}
		// Done is done: every completion returns at once, with the empty
		// status, and a completed request may be listed twice.
		st, err := r.Wait()
		if err != nil || st.Source != mpi.AnySource || st.Tag != mpi.AnyTag || st.Bytes() != 0 {
			return fmt.Errorf("second Wait: %+v, %v", st, err)
		}
		if _, ok, err := r.Test(); !ok || err != nil {
			return fmt.Errorf("Test of a completed request: %v, %v", ok, err)
		}
		if sts, err := mpi.WaitAll(r, r, nil); err != nil || len(sts) != 3 || sts[1].Source != mpi.AnySource {
			return fmt.Errorf("WaitAll of a completed request twice: %v, %v", sts, err)
		}
		if err := r.Cancel(); err != nil {
			return fmt.Errorf("Cancel of a completed request: %v", err)
		}
		if err := errors.Join(r.Free(), r.Free()); err != nil {
			return fmt.Errorf("Free of a completed request: %v", err)
		}
		if _, err := r.Wait(); !errors.Is(err, os.ErrClosed) {
			return fmt.Errorf("Wait after Free: %v, want ErrClosed", err)
		}
		if _, err := mpi.WaitAll(r); !errors.Is(err, os.ErrClosed) {
			return fmt.Errorf("WaitAll of a freed request: %v, want ErrClosed", err)
		}
		return mpi.Barrier(w)
	}},
	{"finalize from another goroutine", func(w *mpi.Comm) error {
		// ThreadMultiple lets any goroutine call MPI, but MPI finalizes on
		// the thread that initialised it.
		errc := make(chan error)
		go func() { errc <- mpi.Finalize() }()
		if err := wrongThread("Finalize", <-errc); err != nil {
			return err
		}
		return want("Finalized", mpi.Finalized(), false)
	}},
	{"nil and zero requests", func(w *mpi.Comm) error {
		var zero mpi.Request
		for _, r := range []*mpi.Request{nil, &zero} {
			_, err1 := r.Wait()
			_, _, err2 := r.Test()
			_, err3 := r.WaitContext(context.Background())
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			_, err4 := r.WaitContext(ctx)
			_, err5 := mpi.WaitAll(&zero)
			for i, err := range []error{err1, err2, err3, err4, r.Cancel(), err5} {
				if !errors.Is(err, os.ErrInvalid) || !errors.Is(err, mpi.ErrRequest) {
					return fmt.Errorf("call %d on request %p: %v, want ErrInvalid", i, r, err)
				}
			}
			if err := r.Free(); err != nil {
				return fmt.Errorf("Free of request %p: %v", r, err)
			}
		}
		var set mpi.Requests
		if err := set.WaitAll(); err != nil {
			return fmt.Errorf("WaitAll of a zero set: %v", err)
		}
		var nilSet *mpi.Requests
		if err := nilSet.WaitAll(); !errors.Is(err, os.ErrInvalid) {
			return fmt.Errorf("WaitAll of a nil set: %v", err)
		}
		if st := nilSet.Status(0); !errors.Is(st.Err, os.ErrInvalid) {
			return fmt.Errorf("Status of a nil set: %v", st.Err)
		}
		var nilErr *mpi.Error
		if nilErr.Error() == "" || nilErr.Is(mpi.ErrOther) || nilErr.Unwrap() != nil {
			return errors.New("methods of a nil *Error")
		}
		return want("Len of a nil set", nilSet.Len(), 0)
	}},
	{"wait context on a send nobody receives", func(w *mpi.Comm) error {
		buf := make([]byte, big)
		if w.Rank() == 0 {
			r, err := mpi.Isend(w, buf, 1, 34)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			if _, err := r.WaitContext(ctx); !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, os.ErrDeadlineExceeded) {
				return fmt.Errorf("WaitContext on a send nobody receives: %v, want DeadlineExceeded", err)
			}
			// The documented state: still active (Open MPI never cancels a
			// send), or complete and cancelled. Rank 1 takes the message in
			// the first case only.
			st, done, err := r.Test()
			if err != nil || (done && !st.Cancelled()) {
				return fmt.Errorf("after WaitContext: done %v, cancelled %v, %v", done, st.Cancelled(), err)
			}
			pending := []bool{!done}
			if err := mpi.Send(w, pending, 1, 35); err != nil {
				return err
			}
			if st, err := r.Wait(); err != nil || (pending[0] && st.Cancelled()) {
				return fmt.Errorf("Wait after WaitContext: cancelled %v, %v", st.Cancelled(), err)
			}
			return nil
		}
		pending := []bool{false}
		if _, err := mpi.Recv(w, pending, 0, 35); err != nil {
			return err
		}
		if pending[0] {
			if _, err := mpi.Recv(w, buf, 0, 34); err != nil {
				return err
			}
		}
		return nil
	}},
}

// TestFinalizeUnfinished checks the contract for requests dropped before
// they complete: they are not collected (their buffers are MPI's), no panic
// comes from the garbage collector, Finalize names them and refuses until
// they are done, and a freed request is not in the way.
func TestFinalizeUnfinished(t *testing.T) {
	r := job(t, "unfinished", 2)
	for _, want := range []string{"ok kept\n", "ok finalize refused\n", "ok finalized\n"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("missing %q; stdout:\n%s\nstderr:\n%s", want, r.Stdout, r.Stderr)
		}
	}
}

// dropRequests starts a receive and a set of one receive, and keeps only weak
// pointers to them.
func dropRequests(w *mpi.Comm) (weak.Pointer[mpi.Request], weak.Pointer[mpi.Requests], error) {
	r, err := mpi.Irecv(w, make([]int64, 1), 1, 31)
	if err != nil {
		return weak.Pointer[mpi.Request]{}, weak.Pointer[mpi.Requests]{}, err
	}
	rs := new(mpi.Requests)
	if err := mpi.AddIrecv(rs, w, make([]int64, 1), 1, 32); err != nil {
		return weak.Pointer[mpi.Request]{}, weak.Pointer[mpi.Requests]{}, err
	}
	return weak.Make(r), weak.Make(rs), nil
}

// collected runs the garbage collector until an object dropped now has been
// finalized, so that any finalizer queued with it (runtime.Pinner's leak
// check among them) has run too.
func collected() {
	done := make(chan struct{})
	sentinel := new([16]byte)
	runtime.SetFinalizer(sentinel, func(*[16]byte) { close(done) })
	sentinel = nil
	for {
		runtime.GC()
		select {
		case <-done:
			runtime.GC()
			return
		case <-time.After(time.Millisecond):
		}
	}
}

func childUnfinished([]string) error {
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		return err
	}
	w := mpi.World()
	if w.Rank() == 1 {
		// A freed send is finished by MPI alone: Finalize does not wait for
		// a Wait, and rank 0 receives the message.
		r, err := mpi.Isend(w, make([]byte, big), 0, 33)
		if err != nil {
			return err
		}
		if err := r.Free(); err != nil {
			return err
		}
		if _, err := r.Wait(); !errors.Is(err, os.ErrClosed) {
			return fmt.Errorf("Wait after Free: %v", err)
		}
		if _, err := mpi.Recv(w, []byte{0}, 0, 30); err != nil { // rank 0's go-ahead
			return err
		}
		if err := errors.Join(mpi.Send(w, []int64{31}, 0, 31), mpi.Send(w, []int64{32}, 0, 32)); err != nil {
			return err
		}
		return mpi.Finalize()
	}
	wr, wrs, err := dropRequests(w)
	if err != nil {
		return err
	}
	collected()
	if wr.Value() == nil || wrs.Value() == nil {
		return errors.New("an unfinished request was garbage-collected while MPI owns its buffer")
	}
	fmt.Println("ok kept")
	err = mpi.Finalize()
	if !errors.Is(err, mpi.ErrPending) || !strings.Contains(err.Error(), "a receive from rank 1 tag 31") ||
		!strings.Contains(err.Error(), "Requests set of 1 operation") || mpi.Finalized() {
		return fmt.Errorf("Finalize with unfinished requests: %v", err)
	}
	fmt.Println("ok finalize refused")
	if _, err := mpi.Recv(w, make([]byte, big), 1, 33); err != nil {
		return err
	}
	if err := mpi.Send(w, []byte{1}, 1, 30); err != nil {
		return err
	}
	// Each Finalize tests the dropped requests; once the messages have
	// arrived it goes through.
	for errors.Is(err, mpi.ErrPending) {
		err = mpi.Finalize()
	}
	if err != nil {
		return err
	}
	fmt.Println("ok finalized")
	return nil
}

// TestBeforeInit runs in the test process, where MPI is not initialised (the
// Example, which initialises it, runs after the tests).
func TestBeforeInit(t *testing.T) {
	if mpi.Initialized() {
		t.Skip("MPI was initialised in this process before the test")
	}
	w := mpi.World()
	if w.Rank() != mpi.Undefined || w.Size() != 0 || mpi.Self().Rank() != mpi.Undefined {
		t.Errorf("before Init: World rank %d size %d, Self rank %d; want Undefined, 0, Undefined", w.Rank(), w.Size(), mpi.Self().Rank())
	}
	if err := outside(); err != nil {
		t.Error(err)
	}
	if mpi.Initialized() {
		t.Error("a call before Init initialised MPI")
	}
}

// TestAfterFinalize checks the same calls after Finalize, and that freeing
// what was made before it fails alike for every kind of handle.
func TestAfterFinalize(t *testing.T) {
	r := job(t, "finalized", 1)
	if !strings.Contains(r.Stdout, "ok outside\n") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", r.Stdout, r.Stderr)
	}
}

func childFinalized([]string) error {
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		return err
	}
	w := mpi.World()
	dup, err := w.Dup()
	if err != nil {
		return err
	}
	g, err := w.Group()
	if err != nil {
		return err
	}
	op, err := mpi.NewOp(func(in, inout []int32) {}, true)
	if err != nil {
		return err
	}
	var done mpi.Request // complete, and so ready to start again, but not after Finalize
	if err := mpi.IsendInto(&done, w, []byte{1}, mpi.ProcNull, 0); err != nil {
		return err
	}
	if _, err := done.Wait(); err != nil {
		return err
	}
	if err := mpi.Finalize(); err != nil {
		return err
	}
	for what, err := range map[string]error{"Comm.Free": dup.Free(), "Group.Free": g.Free(), "Op.Free": op.Free(),
		"IsendInto": mpi.IsendInto(&done, w, []byte{1}, mpi.ProcNull, 0)} {
		if !errors.Is(err, os.ErrClosed) {
			return fmt.Errorf("%s after Finalize: %v, want ErrClosed", what, err)
		}
	}
	if err := outside(); err != nil {
		return err
	}
	if _, err := mpi.Init(mpi.ThreadFunneled); !errors.Is(err, os.ErrClosed) || !strings.Contains(err.Error(), "finalized") {
		return fmt.Errorf("Init after Finalize: %v, want ErrClosed saying MPI was finalized", err)
	}
	fmt.Println("ok outside")
	return nil
}

// outside checks that, outside Init..Finalize, every call fails with an
// error matching os.ErrClosed or returns the value its documentation gives,
// and none reaches MPI (which aborts or kills the process for some).
func outside() error {
	var errs []error
	closed := func(what string, err error) {
		if !errors.Is(err, os.ErrClosed) {
			errs = append(errs, fmt.Errorf("%s: %v, want ErrClosed", what, err))
		}
	}
	w, buf := mpi.World(), []int32{1}
	closed("Send", mpi.Send(w, buf, 0, 0))
	closed("Ssend", mpi.Ssend(w, buf, 0, 0))
	_, err := mpi.Recv(w, buf, 0, 0)
	closed("Recv", err)
	_, err = mpi.Sendrecv(w, buf, 0, 0, buf, 0, 0)
	closed("Sendrecv", err)
	_, err = mpi.Isend(w, buf, 0, 0)
	closed("Isend", err)
	_, err = mpi.Irecv(w, buf, 0, 0)
	closed("Irecv", err)
	_, err = mpi.RecvContext(context.Background(), w, buf, 0, 0)
	closed("RecvContext", err)
	_, err = mpi.Probe(w, 0, 0)
	closed("Probe", err)
	_, _, err = mpi.Iprobe(w, 0, 0)
	closed("Iprobe", err)
	_, _, err = mpi.Mprobe(w, 0, 0)
	closed("Mprobe", err)
	var r mpi.Request
	closed("IsendInto", mpi.IsendInto(&r, w, buf, 0, 0))
	closed("IrecvInto", mpi.IrecvInto(&r, w, buf, 0, 0))
	var rs mpi.Requests
	closed("AddIsend", mpi.AddIsend(&rs, w, buf, 0, 0))
	closed("AddIrecv", mpi.AddIrecv(&rs, w, buf, 0, 0))
	closed("Requests.WaitAll", rs.WaitAll())
	_, err = mpi.WaitAll()
	closed("WaitAll", err)
	_, _, err = mpi.WaitAny()
	closed("WaitAny", err)
	_, _, err = mpi.TestAll()
	closed("TestAll", err)
	closed("Barrier", mpi.Barrier(w))
	closed("Bcast", mpi.Bcast(w, buf, 0))
	closed("Allreduce", mpi.Allreduce(w, buf, make([]int32, 1), mpi.Sum))
	closed("Reduce", mpi.Reduce(w, buf, make([]int32, 1), mpi.Sum, 0))
	closed("Allgather", mpi.Allgather(w, buf, make([]int32, 1)))
	closed("Gather", mpi.Gather(w, buf, make([]int32, 1), 0))
	closed("Alltoall", mpi.Alltoall(w, buf, make([]int32, 1)))
	_, err = w.Dup()
	closed("Dup", err)
	_, err = w.Split(0, 0)
	closed("Split", err)
	_, err = w.Group()
	closed("Group", err)
	_, err = w.Compare(mpi.Self())
	closed("Compare", err)
	_, err = mpi.NewOp(func(in, inout []int32) {}, true)
	closed("NewOp", err)
	_, err = mpi.ProcessorName()
	closed("ProcessorName", err)
	closed("Finalize", mpi.Finalize())
	var st mpi.Status
	if mpi.Count[int32](st) != mpi.Undefined || st.Bytes() != mpi.Undefined || st.Cancelled() {
		errs = append(errs, fmt.Errorf("Status: Count %d, Bytes %d, Cancelled %v; want Undefined, Undefined, false",
			mpi.Count[int32](st), st.Bytes(), st.Cancelled()))
	}
	// The standard lets these be called at any time.
	if v, err := mpi.LibraryVersion(); err != nil || !strings.Contains(v, mpi.Implementation) {
		errs = append(errs, fmt.Errorf("LibraryVersion = %q, %v", v, err))
	}
	if major, _ := mpi.Version(); major < 3 {
		errs = append(errs, fmt.Errorf("Version %d", major))
	}
	if mpi.Wtime() != 0 || mpi.Wtick() != 0 {
		errs = append(errs, fmt.Errorf("Wtime %v, Wtick %v; want 0", mpi.Wtime(), mpi.Wtick()))
	}
	return errors.Join(errs...)
}

// wantNil checks that err reports a nil or zero handle of class c.
func wantNil(what string, err error, c mpi.Class) error {
	if !errors.Is(err, os.ErrInvalid) || !errors.Is(err, c) {
		return fmt.Errorf("%s: %v, want ErrInvalid and %v", what, err, c)
	}
	return nil
}

// misuseChecks run in the one-rank job of basicChecks, at ThreadFunneled:
// bad handles, ranks, tags and threads.
var misuseChecks = []check{
	{"ranks and tags beyond int32", func(w *mpi.Comm) error {
		if ub := mpi.TagUB(); ub < 32767 || ub > math.MaxInt32 {
			return fmt.Errorf("TagUB = %d", ub)
		}
		x := []int32{1}
		var rs mpi.Requests
		// Each would reach rank 0 or tag 0 once truncated to a C int.
		calls := map[string]func(rank, tag int) error{
			"Send":  func(r, t int) error { return mpi.Send(w, x, r, t) },
			"Ssend": func(r, t int) error { return mpi.Ssend(w, x, r, t) },
			"Isend": func(r, t int) error { _, err := mpi.Isend(w, x, r, t); return err },
			"Irecv": func(r, t int) error { _, err := mpi.Irecv(w, x, r, t); return err },
			"Recv":  func(r, t int) error { _, err := mpi.Recv(w, x, r, t); return err },
			"Sendrecv to": func(r, t int) error {
				_, err := mpi.Sendrecv(w, x, r, t, x, mpi.ProcNull, 0)
				return err
			},
			"Sendrecv from": func(r, t int) error {
				_, err := mpi.Sendrecv(w, x, mpi.ProcNull, 0, x, r, t)
				return err
			},
			"Probe":    func(r, t int) error { _, err := mpi.Probe(w, r, t); return err },
			"Iprobe":   func(r, t int) error { _, _, err := mpi.Iprobe(w, r, t); return err },
			"Mprobe":   func(r, t int) error { _, _, err := mpi.Mprobe(w, r, t); return err },
			"AddIsend": func(r, t int) error { return mpi.AddIsend(&rs, w, x, r, t) },
			"AddIrecv": func(r, t int) error { return mpi.AddIrecv(&rs, w, x, r, t) },
		}
		for name, call := range calls {
			for _, rank := range []int{1 << 32, -1 << 32} {
				if err := wantInvalid(call(rank, 0), mpi.ErrRank); err != nil {
					return fmt.Errorf("%s to rank %d: %w", name, rank, err)
				}
			}
			for _, tag := range []int{1 << 40, mpi.TagUB() + 1, math.MinInt64} {
				if err := wantInvalid(call(0, tag), mpi.ErrTag); err != nil {
					return fmt.Errorf("%s with tag %d: %w", name, tag, err)
				}
			}
		}
		if err := want("Len after refused Adds", rs.Len(), 0); err != nil {
			return err
		}
		_, err := w.Split(1<<32, 0)
		if err := wantInvalid(err, mpi.ErrArg); err != nil {
			return fmt.Errorf("Split color 1<<32: %w", err)
		}
		_, err = w.SplitType(mpi.TypeShared, 1<<32)
		return wantInvalid(err, mpi.ErrArg)
	}},
	{"nil and zero handles", func(w *mpi.Comm) error {
		x := []int32{1}
		r, err := mpi.Irecv(w, make([]int32, 1), 0, 50)
		if err != nil {
			return err
		}
		// A nil context is refused before it is used, as any bad argument.
		_, err1 := r.WaitContext(nil)
		_, err2 := mpi.RecvContext(nil, w, make([]int32, 1), 0, 51)
		if err := errors.Join(wantInvalid(err1, mpi.ErrArg), wantInvalid(err2, mpi.ErrArg)); err != nil {
			return fmt.Errorf("nil context: %w", err)
		}
		// Refused, the request is still active and completes.
		if err := mpi.Send(w, x, 0, 50); err != nil {
			return err
		}
		if _, err := r.Wait(); err != nil {
			return err
		}
		for _, c := range []*mpi.Comm{nil, {}} {
			if c.Rank() != mpi.Undefined || c.Size() != 0 || c.String() == "" || c.Free() != nil {
				return fmt.Errorf("communicator %p: rank %d size %d %q", c, c.Rank(), c.Size(), c)
			}
			_, err1 := c.Dup()
			_, err2 := c.Split(0, 0)
			_, err3 := c.Group()
			_, err4 := c.Compare(w)
			_, err5 := w.Compare(c)
			_, err6 := mpi.Recv(c, x, 0, 0)
			_, err7 := mpi.Isend(c, x, 0, 0)
			_, err8 := c.Create(nil)
			_, err9 := c.SplitType(mpi.TypeShared, 0)
			for i, err := range []error{err1, err2, err3, err4, err5, err6, err7, err8, err9, mpi.Send(c, x, 0, 0),
				mpi.Barrier(c), mpi.Bcast(c, x, 0), mpi.Allreduce(c, x, x, mpi.Sum), mpi.Allgather(c, x, x)} {
				if err := wantNil(fmt.Sprintf("call %d on communicator %p", i, c), err, mpi.ErrComm); err != nil {
					return err
				}
			}
		}
		for _, g := range []*mpi.Group{nil, {}} {
			if g.Size() != 0 || g.Rank() != mpi.Undefined || g.Free() != nil {
				return fmt.Errorf("group %p: size %d rank %d", g, g.Size(), g.Rank())
			}
			_, err1 := g.Incl(0)
			_, err2 := g.Translate([]int{0}, g)
			_, err3 := w.Create(g)
			for i, err := range []error{err1, err2, err3} {
				if err := wantNil(fmt.Sprintf("call %d on group %p", i, g), err, mpi.ErrGroup); err != nil {
					return err
				}
			}
		}
		for _, op := range []*mpi.Op{nil, {}} {
			if op.String() == "" || op.Free() != nil {
				return fmt.Errorf("operator %p: %q", op, op)
			}
			if err := wantNil(fmt.Sprintf("Allreduce with operator %p", op), mpi.Allreduce(w, x, x, op), mpi.ErrOp); err != nil {
				return err
			}
		}
		for _, m := range []*mpi.Message{nil, {}} {
			_, err := mpi.Mrecv(m, x)
			if err := wantNil(fmt.Sprintf("Mrecv of message %p", m), err, mpi.ErrRequest); err != nil {
				return err
			}
		}
		// A zero Persistent or Datatype holds no MPI handle: MPI must never
		// see it (MPI_Start of a zero request crashed Open MPI).
		for _, p := range []*mpi.Persistent{nil, {}} {
			_, err1 := p.Wait()
			_, _, err2 := p.Test()
			for i, err := range []error{p.Start(), mpi.StartAll(p), err1, err2} {
				if err := wantNil(fmt.Sprintf("call %d on persistent request %p", i, p), err, mpi.ErrRequest); err != nil {
					return err
				}
			}
			if err := p.Free(); err != nil {
				return fmt.Errorf("Free of persistent request %p: %w", p, err)
			}
		}
		for _, dt := range []*mpi.Datatype{nil, {}} {
			_, err1 := mpi.Contiguous(2, dt)
			_, err2 := mpi.BufOf(x, 1, dt)
			for i, err := range []error{err1, err2, dt.Commit()} {
				if err := wantNil(fmt.Sprintf("call %d on datatype %p", i, dt), err, mpi.ErrType); err != nil {
					return err
				}
			}
			if err := dt.Free(); err != nil {
				return fmt.Errorf("Free of datatype %p: %w", dt, err)
			}
		}
		var st mpi.Status
		if st.Bytes() != 0 || mpi.Count[int32](st) != 0 || st.Cancelled() {
			return fmt.Errorf("zero Status: bytes %d", st.Bytes())
		}
		return nil
	}},
	{"calls from another thread", func(w *mpi.Comm) error {
		if err := want("level", mpi.Provided(), mpi.ThreadFunneled); err != nil {
			return err
		}
		x := []int32{1}
		r, err := mpi.Irecv(w, make([]int32, 1), 0, 40)
		if err != nil {
			return err
		}
		// Init locked this goroutine to its thread: any other goroutine
		// runs on another. None of these may reach MPI from there.
		f64, err := mpi.TypeOf[float64]()
		if err != nil {
			return err
		}
		pair, err := mpi.Contiguous(2, f64)
		if err != nil {
			return err
		}
		var ps mpi.Persistents
		if err := mpi.AddSendInit(&ps, w, x, mpi.ProcNull, 0); err != nil {
			return err
		}
		errc := make(chan error)
		go func() {
			var fresh mpi.Persistents
			setUp := wrongThread("AddSendInit", mpi.AddSendInit(&fresh, w, x, mpi.ProcNull, 0))
			persistents := errors.Join(setUp, want("Len of the new set", fresh.Len(), 0),
				wrongThread("Persistents.StartAll", ps.StartAll()), wrongThread("Persistents.Free", ps.Free()))
			var rs mpi.Requests
			_, err1 := mpi.Isend(w, x, 0, 41)
			_, _, err2 := r.Test()
			_, _, err3 := mpi.Iprobe(w, 0, 40)
			_, _, err4 := mpi.TestAll(r)
			_, err5 := w.Dup()
			errc <- errors.Join(wrongThread("Send", mpi.Send(w, x, 0, 41)), wrongThread("Isend", err1),
				wrongThread("Test", err2), wrongThread("Iprobe", err3), wrongThread("TestAll", err4),
				wrongThread("Dup", err5), wrongThread("Barrier", mpi.Barrier(w)), wrongThread("Cancel", r.Cancel()),
				wrongThread("AddIsend", mpi.AddIsend(&rs, w, x, mpi.ProcNull, 0)), wrongThread("Finalize", mpi.Finalize()),
				wrongThread("Datatype.Free", pair.Free()), want("Len of the set", rs.Len(), 0), persistents)
		}()
		if err := <-errc; err != nil {
			return err
		}
		// Refused there, the datatype is still alive here.
		if err := pair.Commit(); err != nil {
			return err
		}
		if err := pair.Free(); err != nil {
			return err
		}
		// The set is untouched, and runs and is freed here.
		if err := errors.Join(want("Active", ps.Active(), false), ps.StartAll(), ps.WaitAll(), ps.Free()); err != nil {
			return err
		}
		// The request is untouched, and completes here.
		if err := mpi.Send(w, []int32{7}, 0, 40); err != nil {
			return err
		}
		if _, err := r.Wait(); err != nil {
			return err
		}
		if _, ok, err := mpi.Iprobe(w, mpi.AnySource, mpi.AnyTag); ok || err != nil {
			return fmt.Errorf("a message from the other goroutine arrived: %v, %v", ok, err)
		}
		return want("Finalized", mpi.Finalized(), false)
	}},
}

// wrongThread checks that err refuses a call from the wrong thread.
func wrongThread(what string, err error) error {
	if !errors.Is(err, syscall.EINVAL) || !strings.Contains(err.Error(), "thread") {
		return fmt.Errorf("%s from another thread: %v, want an error naming the thread", what, err)
	}
	return nil
}

// aliasChecks run in the four-rank job of collChecks.
var aliasChecks = []check{
	{"overlapping buffers", func(w *mpi.Comm) error {
		buf := make([]int32, 8)
		// On every rank of World: each refuses, so none waits for the others.
		if err := wantInvalid(mpi.Allgather(w, buf[:1], buf[:4]), mpi.ErrBuffer); err != nil {
			return fmt.Errorf("Allgather(buf[:1], buf): %w", err)
		}
		if err := wantInvalid(mpi.Allgatherv(w, buf[1:2], buf[:4], []int{1, 1, 1, 1}, nil), mpi.ErrBuffer); err != nil {
			return fmt.Errorf("Allgatherv: %w", err)
		}
		if err := wantInvalid(mpi.Alltoall(w, buf[:4], buf[3:7]), mpi.ErrBuffer); err != nil {
			return fmt.Errorf("Alltoall: %w", err)
		}
		ones := []int{1, 1, 1, 1}
		if err := wantInvalid(mpi.Alltoallv(w, buf[:4], ones, nil, buf[2:6], ones, nil), mpi.ErrBuffer); err != nil {
			return fmt.Errorf("Alltoallv: %w", err)
		}
		if err := wantInvalid(mpi.Allreduce(w, buf[:2], buf[1:3], mpi.Sum), mpi.ErrBuffer); err != nil {
			return fmt.Errorf("Allreduce: %w", err)
		}
		// The rooted ones refuse at the root only, so they run on Self,
		// where this rank is the root.
		s := mpi.Self()
		for name, err := range map[string]error{
			"Gather":             mpi.Gather(s, buf[:1], buf[:1], 0),
			"Scatter":            mpi.Scatter(s, buf[:2], buf[1:3], 0),
			"Gatherv":            mpi.Gatherv(s, buf[:2], buf[1:4], []int{2}, []int{1}, 0),
			"Scatterv":           mpi.Scatterv(s, buf[:3], []int{2}, nil, buf[2:4], 0),
			"Reduce":             mpi.Reduce(s, buf[:2], buf[1:3], mpi.Sum, 0),
			"ReduceScatterBlock": mpi.ReduceScatterBlock(s, buf[:2], buf[1:3], mpi.Sum),
		} {
			if err := wantInvalid(err, mpi.ErrBuffer); err != nil {
				return fmt.Errorf("%s on Self: %w", name, err)
			}
		}
		_, err := mpi.Sendrecv(s, buf[:2], 0, 0, buf[1:3], 0, 0)
		if err := wantInvalid(err, mpi.ErrBuffer); err != nil {
			return fmt.Errorf("Sendrecv: %w", err)
		}
		// InPlace belongs to the root: a rank that is not refuses it, and
		// here the root refuses a receive buffer of the wrong size.
		recv := make([]int32, 3)
		if w.Rank() == 0 {
			err = wantInvalid(mpi.Gather(w, []int32{1}, recv, 0), mpi.ErrCount)
		} else {
			err = wantInvalid(mpi.Gather(w, mpi.InPlace[int32](), recv, 0), mpi.ErrBuffer)
		}
		if err != nil {
			return fmt.Errorf("Gather: %w", err)
		}
		return mpi.Barrier(w)
	}},
	{"in place", func(w *mpi.Comm) error {
		r, n := w.Rank(), w.Size()
		var errs []error
		every := make([]int16, n)
		every[r] = int16(r * r)
		errs = append(errs, mpi.Allgather(w, mpi.InPlace[int16](), every), wantSlice("allgather in place", every, []int16{0, 1, 4, 9}))

		all := make([]int, 2*n)
		mine := []int{r, -r}
		own := mine
		if r == 3 {
			copy(all[2*r:], mine)
			own = mpi.InPlace[int]()
		}
		errs = append(errs, mpi.Gather(w, own, all, 3))
		if r == 3 {
			errs = append(errs, wantSlice("gather in place", all, []int{0, 0, 1, -1, 2, -2, 3, -3}))
		}
		part := make([]int, 2)
		if r == 3 {
			part = mpi.InPlace[int]()
		}
		errs = append(errs, mpi.Scatter(w, all, part, 3))
		if r != 3 {
			errs = append(errs, wantSlice("scatter in place", part, mine))
		}

		// Rank i contributes i+1 elements: 0 | 1 1 | 2 2 2 | 3 3 3 3.
		counts, packed := []int{1, 2, 3, 4}, []int8{0, 1, 1, 2, 2, 2, 3, 3, 3, 3}
		vs := make([]int8, 10)
		copy(vs[r*(r+1)/2:], packed[r*(r+1)/2:][:r+1])
		errs = append(errs, mpi.Allgatherv(w, mpi.InPlace[int8](), vs, counts, nil), wantSlice("allgatherv in place", vs, packed))
		gv := slices.Repeat([]int8{int8(r)}, r+1)
		var root []int8
		if r == 0 {
			root, gv = make([]int8, 10), mpi.InPlace[int8]()
		}
		errs = append(errs, mpi.Gatherv(w, gv, root, counts, nil, 0))
		if r == 0 {
			errs = append(errs, wantSlice("gatherv in place", root, packed))
			root[0] = 0
		}
		sv := make([]int8, r+1)
		if r == 0 {
			root, sv = packed, mpi.InPlace[int8]()
		}
		errs = append(errs, mpi.Scatterv(w, root, counts, nil, sv, 0))
		if r != 0 {
			errs = append(errs, wantSlice("scatterv in place", sv, slices.Repeat([]int8{int8(r)}, r+1)))
		}

		blocks := make([]int, n)
		for j := range blocks {
			blocks[j] = 10*r + j // block j goes to rank j
		}
		errs = append(errs, mpi.Alltoall(w, mpi.InPlace[int](), blocks), wantSlice("alltoall in place", blocks, []int{r, 10 + r, 20 + r, 30 + r}))
		for j := range blocks {
			blocks[j] = 10*r + j
		}
		ones := []int{1, 1, 1, 1}
		errs = append(errs, mpi.Alltoallv(w, mpi.InPlace[int](), nil, nil, blocks, ones, nil),
			wantSlice("alltoallv in place", blocks, []int{r, 10 + r, 20 + r, 30 + r}))

		sum := []int{r}
		errs = append(errs, mpi.Allreduce(w, mpi.InPlace[int](), sum, mpi.Sum), want("allreduce in place", sum[0], 6))
		scan := []int{r + 1}
		errs = append(errs, mpi.Scan(w, mpi.InPlace[int](), scan, mpi.Sum), want("scan in place", scan[0], (r+1)*(r+2)/2))
		red := []int{r + 1}
		if r == 2 {
			errs = append(errs, mpi.Reduce(w, mpi.InPlace[int](), red, mpi.Prod, 2), want("reduce in place", red[0], 24))
		} else {
			errs = append(errs, mpi.Reduce(w, red, nil, mpi.Prod, 2))
		}
		rsb := []int{1, 2, 3, 4}
		errs = append(errs, mpi.ReduceScatterBlock(w, mpi.InPlace[int](), rsb, mpi.Sum), want("reduce_scatter_block in place", rsb[0], 4*(r+1)))
		return errors.Join(errs...)
	}},
}
