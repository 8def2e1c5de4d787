package mpi_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"unsafe"
	"weak"

	"github.com/goipc/ipc/mpi"
)

func init() {
	children["persistents"] = func([]string) error { return suite(mpi.ThreadFunneled, persistentsChecks) }
	children["persistents-finalize"] = childPersistentsFinalize
}

// TestPersistents runs the Persistents checks on 1, 2 and 4 ranks: a ring
// in which each rank sends a window of messages to the next and receives
// one from the one before, itself when it is alone.
func TestPersistents(t *testing.T) {
	for _, n := range []int{1, 2, 4} {
		t.Run(fmt.Sprint(n), func(t *testing.T) { expectChecks(t, job(t, "persistents", n), persistentsChecks) })
	}
}

// window is the number of messages each rank sends a round.
const window = 8

var persistentsChecks = []check{
	{"cancel a round", func(w *mpi.Comm) error {
		// Receives that nothing matches: WaitAll waited forever, and
		// neither Free nor Finalize would let the set go.
		var ps mpi.Persistents
		defer ps.Free()
		in := make([]int, 2)
		if err := errors.Join(mpi.AddRecvInit(&ps, w, in[:1], w.Rank(), 78), mpi.AddRecvInit(&ps, w, in[1:], w.Rank(), 79)); err != nil {
			return err
		}
		if err := ps.CancelAll(); err != nil {
			return fmt.Errorf("CancelAll between rounds: %v", err)
		}
		if err := ps.StartAll(); err != nil {
			return err
		}
		if err := ps.CancelAll(); err != nil {
			return err
		}
		if err := ps.WaitAll(); err != nil || !ps.Status(0).Cancelled() || !ps.Status(1).Cancelled() {
			return fmt.Errorf("WaitAll after CancelAll: %v, cancelled %v %v", err, ps.Status(0).Cancelled(), ps.Status(1).Cancelled())
		}
		if err := ps.StartAll(); err != nil { // still set up
			return err
		}
		if err := errors.Join(mpi.Send(w, []int{1}, w.Rank(), 78), mpi.Send(w, []int{2}, w.Rank(), 79)); err != nil {
			return err
		}
		if err := ps.WaitAll(); err != nil || ps.Status(0).Cancelled() {
			return fmt.Errorf("round after a cancelled one: %v", err)
		}
		if err := wantSlice("received", in, []int{1, 2}); err != nil {
			return err
		}
		var rs mpi.Requests
		if err := rs.CancelAll(); err != nil {
			return fmt.Errorf("CancelAll of an empty Requests: %v", err)
		}
		if err := errors.Join(mpi.AddIrecv(&rs, w, in[:1], w.Rank(), 80), mpi.AddIrecv(&rs, w, in[1:], w.Rank(), 81)); err != nil {
			return err
		}
		if err := rs.CancelAll(); err != nil {
			return err
		}
		if err := rs.WaitAll(); err != nil || rs.Len() != 0 || !rs.Status(0).Cancelled() || !rs.Status(1).Cancelled() {
			return fmt.Errorf("Requests.WaitAll after CancelAll: %v, Len %d, cancelled %v %v", err, rs.Len(), rs.Status(0).Cancelled(), rs.Status(1).Cancelled())
		}
		var nilPs *mpi.Persistents
		var nilRs *mpi.Requests
		if err := errors.Join(nilPs.CancelAll(), nilRs.CancelAll()); !errors.Is(err, os.ErrInvalid) {
			return fmt.Errorf("CancelAll of nil sets: %v", err)
		}
		return nil
	}},
	{"rounds of a window", func(w *mpi.Comm) error {
		next, prev := (w.Rank()+1)%w.Size(), (w.Rank()+w.Size()-1)%w.Size()
		out, in := make([]int32, window), make([]int32, window)
		var ps mpi.Persistents
		defer ps.Free()
		// The receives first, then the sends: the order of the statuses.
		for i := range window {
			if err := mpi.AddRecvInit(&ps, w, in[i:i+1], prev, 40+i); err != nil {
				return err
			}
		}
		for i := range window {
			if err := mpi.AddSendInit(&ps, w, out[i:i+1], next, 40+i); err != nil {
				return err
			}
		}
		if err := want("Len", ps.Len(), 2*window); err != nil {
			return err
		}
		for round := range 5 {
			for i := range out {
				out[i] = int32(1000*round + 10*w.Rank() + i)
			}
			if err := ps.StartAll(); err != nil {
				return err
			}
			if !ps.Active() {
				return errors.New("Active after StartAll is false")
			}
			if err := ps.WaitAll(); err != nil {
				return err
			}
			for i := range in {
				st := ps.Status(i)
				if err := errors.Join(want("received", in[i], int32(1000*round+10*prev+i)),
					want("source", st.Source, prev), want("tag", st.Tag, 40+i), st.Err); err != nil {
					return err
				}
			}
		}
		// A completed round is inert: WaitAll returns at once.
		if err := ps.WaitAll(); err != nil || ps.Active() {
			return fmt.Errorf("WaitAll of a completed round: %v, active %v", err, ps.Active())
		}
		return nil
	}},
	{"isends small and large", func(w *mpi.Comm) error {
		// A send of at most 256 bytes goes from a copy in C memory, a larger
		// one from the pinned buffer: both arrive whole, struct padding and
		// all, round after round.
		next, prev := (w.Rank()+1)%w.Size(), (w.Rank()+w.Size()-1)%w.Size()
		for _, n := range []int{1, 256 / int(unsafe.Sizeof(particle{})), 256/int(unsafe.Sizeof(particle{})) + 1, 1000} {
			out, in := make([]particle, n), make([]particle, n)
			for round := range 3 {
				for i := range out {
					out[i] = particle{ID: int32(1000*w.Rank() + i), Pos: [3]float64{float64(round)}, Name: [8]byte{byte(round)}}
				}
				r, err1 := mpi.Irecv(w, in, prev, 46)
				s, err2 := mpi.Isend(w, out, next, 46)
				if err := errors.Join(err1, err2); err != nil {
					return err
				}
				if _, err := mpi.WaitAll(r, s); err != nil {
					return err
				}
				for i, p := range in {
					if p != (particle{ID: int32(1000*prev + i), Pos: [3]float64{float64(round)}, Name: [8]byte{byte(round)}}) {
						return fmt.Errorf("%d particles, round %d: particle %d is %+v", n, round, i, p)
					}
				}
			}
		}
		return nil
	}},
	{"the nonblocking fast paths allocate nothing", func(w *mpi.Comm) error {
		buf := make([]byte, 64)
		var ps mpi.Persistents
		defer ps.Free()
		if err := errors.Join(mpi.AddRecvInit(&ps, w, buf[:32], mpi.AnySource, 41), mpi.AddSendInit(&ps, w, buf[32:], w.Rank(), 41)); err != nil {
			return err
		}
		var rs mpi.Requests
		cancellable, cancel := context.WithCancel(context.Background())
		defer cancel()
		var failed error
		// A receive of a message on its way, with each kind of context. The
		// message is a persistent send, which allocates nothing either (a
		// blocking Send to itself waits forever in a one-rank MPICH job).
		var sender mpi.Persistents
		defer sender.Free()
		if err := mpi.AddSendInit(&sender, w, buf[:8], w.Rank(), 44); err != nil {
			return err
		}
		recv := func(ctx context.Context) func() {
			return func() {
				failed = errors.Join(failed, sender.StartAll())
				_, err := mpi.RecvContext(ctx, w, buf[8:16], w.Rank(), 44)
				failed = errors.Join(failed, err, sender.WaitAll())
			}
		}
		for _, path := range []struct {
			name string
			call func()
		}{
			{"a Persistents round", func() { failed = errors.Join(failed, ps.StartAll(), ps.WaitAll()) }},
			{"a Requests round", func() {
				failed = errors.Join(failed, mpi.AddIrecv(&rs, w, buf[:8], w.Rank(), 45), mpi.AddIsend(&rs, w, buf[8:16], w.Rank(), 45), rs.WaitAll())
			}},
			{"RecvContext with context.Background", recv(context.Background())},
			{"RecvContext with a cancellable context", recv(cancellable)},
		} {
			if allocs := testing.AllocsPerRun(100, path.call); allocs != 0 || failed != nil {
				return fmt.Errorf("%s: %v allocations a call, want 0 (%v)", path.name, allocs, failed)
			}
		}
		return nil
	}},
	{"misuse", func(w *mpi.Comm) error {
		var nilSet *mpi.Persistents
		buf := []int64{0}
		if err := errors.Join(
			wantNil("AddSendInit to a nil set", mpi.AddSendInit(nilSet, w, buf, 0, 1), mpi.ErrRequest),
			wantNil("AddRecvInit to a nil set", mpi.AddRecvInit(nilSet, w, buf, 0, 1), mpi.ErrRequest),
			wantNil("StartAll of a nil set", nilSet.StartAll(), mpi.ErrRequest),
			wantNil("WaitAll of a nil set", nilSet.WaitAll(), mpi.ErrRequest),
			wantNil("Status of a nil set", nilSet.Status(0).Err, mpi.ErrRequest)); err != nil {
			return err
		}
		if err := nilSet.Free(); err != nil || nilSet.Len() != 0 || nilSet.Active() {
			return fmt.Errorf("nil set: Free %v, Len %d, Active %v", err, nilSet.Len(), nilSet.Active())
		}
		// The zero set is empty and usable: a round of nothing is no error.
		var ps mpi.Persistents
		if err := errors.Join(ps.StartAll(), ps.WaitAll(), ps.Free()); err != nil {
			return fmt.Errorf("empty set: %v", err)
		}
		if err := wantInvalid(ps.Status(0).Err, mpi.ErrArg); err != nil {
			return fmt.Errorf("Status of an empty set: %w", err)
		}
		// Bad arguments are refused before MPI and leave the set as it was.
		if err := mpi.AddRecvInit(&ps, w, buf, w.Rank(), 42); err != nil {
			return err
		}
		defer ps.Free()
		if err := wantInvalid(mpi.AddSendInit(&ps, w, buf, 0, 1<<40), mpi.ErrTag); err != nil {
			return fmt.Errorf("AddSendInit with a tag beyond MPI's int: %w", err)
		}
		if err := wantNil("AddSendInit on a nil communicator", mpi.AddSendInit(&ps, nil, buf, 0, 42), mpi.ErrComm); err != nil {
			return err
		}
		// One that MPI refuses leaves the set as it was too.
		if err := wantClass(mpi.AddSendInit(&ps, w, buf, w.Size(), 42), mpi.ErrRank); err != nil {
			return fmt.Errorf("AddSendInit to a rank outside the communicator: %w", err)
		}
		if err := mpi.AddSendInit(&ps, w, []int64{7}, w.Rank(), 42); err != nil {
			return err
		}
		if err := want("Len after refused adds", ps.Len(), 2); err != nil {
			return err
		}
		if err := ps.StartAll(); err != nil {
			return err
		}
		// Started twice, added to, or freed in a round: refused, and the
		// round still completes.
		if err := wantInvalid(ps.StartAll(), mpi.ErrRequest); err != nil {
			return fmt.Errorf("StartAll of an active set: %w", err)
		}
		if err := wantInvalid(mpi.AddSendInit(&ps, w, buf, w.Rank(), 42), mpi.ErrRequest); err != nil {
			return fmt.Errorf("AddSendInit to an active set: %w", err)
		}
		if err := wantInvalid(ps.Free(), mpi.ErrRequest); err != nil {
			return fmt.Errorf("Free of an active set: %w", err)
		}
		if err := ps.WaitAll(); err != nil {
			return err
		}
		if err := want("received", buf[0], int64(7)); err != nil {
			return err
		}
		// Freed, the set is empty again and can be set up anew.
		if err := errors.Join(ps.Free(), ps.Free()); err != nil || ps.Len() != 0 {
			return fmt.Errorf("Free twice: %v, Len %d", err, ps.Len())
		}
		if err := errors.Join(mpi.AddRecvInit(&ps, w, buf, w.Rank(), 43), mpi.AddSendInit(&ps, w, []int64{8}, w.Rank(), 43),
			ps.StartAll(), ps.WaitAll()); err != nil {
			return fmt.Errorf("a set used again after Free: %v", err)
		}
		return want("received after Free", buf[0], int64(8))
	}},
}

// TestPersistentsAtFinalize checks that a set dropped in a round is kept
// (its buffers are MPI's), that Finalize refuses while the round is
// unfinished and names the set, and that it frees a set never freed.
func TestPersistentsAtFinalize(t *testing.T) {
	r := job(t, "persistents-finalize", 1)
	for _, want := range []string{"ok kept\n", "refused: mpi: MPI_Finalize: 1 request still unfinished (a Persistents set of 1 operation in a round)", "ok finalized\n"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("missing %q; stdout:\n%s\nstderr:\n%s", want, r.Stdout, r.Stderr)
		}
	}
}

func childPersistentsFinalize([]string) error {
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		return err
	}
	s := mpi.Self()
	var idle mpi.Persistents // set up, never started nor freed
	if err := mpi.AddSendInit(&idle, s, []int{1}, 0, 2); err != nil {
		return err
	}
	dropped, err := dropPersistents(s)
	if err != nil {
		return err
	}
	collected()
	if dropped.Value() == nil {
		return errors.New("a set in a round was garbage-collected while MPI owns its buffer")
	}
	fmt.Println("ok kept")
	err = mpi.Finalize()
	if !errors.Is(err, mpi.ErrPending) {
		return fmt.Errorf("Finalize with a set in a round: %v", err)
	}
	fmt.Println("refused:", err)
	if err := mpi.Send(s, []int{7}, 0, 1); err != nil {
		return err
	}
	if err := mpi.Finalize(); err != nil {
		return err
	}
	fmt.Println("ok finalized")
	return nil
}

// dropPersistents starts a round of a set of one receive, and keeps only a
// weak pointer to it.
func dropPersistents(c *mpi.Comm) (weak.Pointer[mpi.Persistents], error) {
	ps := new(mpi.Persistents)
	if err := errors.Join(mpi.AddRecvInit(ps, c, make([]int, 1), 0, 1), ps.StartAll()); err != nil {
		return weak.Pointer[mpi.Persistents]{}, err
	}
	return weak.Make(ps), nil
}
