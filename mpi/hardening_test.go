package mpi_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
	"weak"

	"github.com/goipc/ipc/mpi"
)

// TestRequestsTwoRanks runs the checks of a Request's life: completion,
// Free, misuse, and WaitContext on a send that nobody receives.
func TestRequestsTwoRanks(t *testing.T) {
	expectChecks(t, job(t, "requests", 2), requestChecks)
}

func childRequests([]string) error { return suite(mpi.ThreadMultiple, requestChecks) }

// big is larger than any eager limit of Open MPI's or MPICH's shared-memory
// transports, so that its send completes only once a receiver takes it.
const big = 4 << 20

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
			if _, err := r.WaitContext(ctx); !errors.Is(err, context.DeadlineExceeded) {
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
