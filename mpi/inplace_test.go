package mpi_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/goipc/ipc/mpi"
)

// inPlaceChecks run in the two-rank job of p2pChecks, at ThreadMultiple:
// operations started in a Request the caller owns (IsendInto, IrecvInto).
var inPlaceChecks = []check{
	{"requests started in place", func(w *mpi.Comm) error {
		var sr, rr mpi.Request // new, then completed round after round
		out, in := make([]int32, 2), make([]int32, 2)
		for round := range int32(4) {
			out[0], out[1] = round, int32(w.Rank())
			if err := mpi.IrecvInto(&rr, w, in, peer(w), 80); err != nil {
				return fmt.Errorf("round %d: IrecvInto: %w", round, err)
			}
			if err := mpi.IsendInto(&sr, w, out, peer(w), 80); err != nil {
				return fmt.Errorf("round %d: IsendInto: %w", round, err)
			}
			if _, err := sr.Wait(); err != nil {
				return err
			}
			st, err := rr.Wait()
			if err != nil {
				return err
			}
			if err := wantSlice("received", in, []int32{round, int32(peer(w))}); err != nil {
				return fmt.Errorf("round %d: %w", round, err)
			}
			if st.Source != peer(w) || st.Tag != 80 || mpi.Count[int32](st) != 2 {
				return fmt.Errorf("round %d: status %+v", round, st)
			}
			// Done is done until the caller starts it again.
			if st, err := rr.Wait(); err != nil || st.Tag == 80 {
				return fmt.Errorf("round %d: second Wait: %+v, %v", round, st, err)
			}
		}
		// A Request that Isend made can be started again once complete.
		r, err := mpi.Isend(w, out, mpi.ProcNull, 0)
		if err != nil {
			return err
		}
		if err := mpi.IsendInto(r, w, out, mpi.ProcNull, 0); err == nil {
			return fmt.Errorf("IsendInto on an Isend's active request succeeded")
		}
		if _, err := r.Wait(); err != nil {
			return err
		}
		if err := mpi.IrecvInto(r, w, in, mpi.ProcNull, 0); err != nil {
			return fmt.Errorf("IrecvInto on a completed Isend's request: %w", err)
		}
		_, err = r.Wait()
		return err
	}},
	{"request started in place while active", func(w *mpi.Comm) error {
		// Each rank's receive waits for the peer's message; starting another
		// operation in it is refused and loses nothing.
		var rr, sr mpi.Request
		in := make([]int64, 1)
		if err := mpi.IrecvInto(&rr, w, in, peer(w), 81); err != nil {
			return err
		}
		for what, err := range map[string]error{
			"IrecvInto": mpi.IrecvInto(&rr, w, make([]int64, 1), peer(w), 81),
			"IsendInto": mpi.IsendInto(&rr, w, []int64{9}, peer(w), 82),
		} {
			if err := wantInvalid(err, mpi.ErrRequest); err != nil {
				return fmt.Errorf("%s on an active request: %w", what, err)
			}
		}
		if err := mpi.IsendInto(&sr, w, []int64{int64(100 + w.Rank())}, peer(w), 81); err != nil {
			return err
		}
		if _, err := mpi.WaitAll(&sr, &rr); err != nil {
			return err
		}
		return want("received after the refusals", in[0], int64(100+peer(w)))
	}},
	{"request started in place: nil, freed", func(w *mpi.Comm) error {
		buf := make([]byte, 8)
		if err := wantNil("IsendInto(nil)", mpi.IsendInto(nil, w, buf, mpi.ProcNull, 0), mpi.ErrRequest); err != nil {
			return err
		}
		if err := wantNil("IrecvInto(nil)", mpi.IrecvInto(nil, w, buf, mpi.ProcNull, 0), mpi.ErrRequest); err != nil {
			return err
		}
		var r mpi.Request
		// A new Request has nothing to complete, and the error says so.
		if _, err := r.Wait(); !errors.Is(err, os.ErrInvalid) || !strings.Contains(err.Error(), "never started") {
			return fmt.Errorf("Wait on a new request: %v, want ErrInvalid saying it never started", err)
		}
		if err := mpi.IsendInto(&r, w, buf, mpi.ProcNull, 0); err != nil {
			return err
		}
		if got, want := r.String(), "a send to ProcNull tag 0"; got != want {
			return fmt.Errorf("String of a send to ProcNull: %q, want %q", got, want)
		}
		if _, err := r.Wait(); err != nil {
			return err
		}
		if err := r.Free(); err != nil {
			return err
		}
		if err := mpi.IsendInto(&r, w, buf, mpi.ProcNull, 0); !errors.Is(err, os.ErrClosed) {
			return fmt.Errorf("IsendInto on a freed request: %v, want os.ErrClosed", err)
		}
		if err := mpi.IrecvInto(&r, w, buf, mpi.ProcNull, 0); !errors.Is(err, os.ErrClosed) {
			return fmt.Errorf("IrecvInto on a freed request: %v, want os.ErrClosed", err)
		}
		// A new Request freed is freed too.
		var freedNew mpi.Request
		if err := freedNew.Free(); err != nil {
			return err
		}
		if err := mpi.IsendInto(&freedNew, w, buf, mpi.ProcNull, 0); !errors.Is(err, os.ErrClosed) {
			return fmt.Errorf("IsendInto on a new request freed: %v, want os.ErrClosed", err)
		}
		// Bad arguments leave the request as it was: new, and usable.
		var fresh mpi.Request
		if err := wantClass(mpi.IsendInto(&fresh, w, buf, 9, 0), mpi.ErrRank); err != nil {
			return fmt.Errorf("IsendInto to rank 9: %w", err)
		}
		if err := mpi.IsendInto(&fresh, w, buf, mpi.ProcNull, 0); err != nil {
			return fmt.Errorf("IsendInto after a refused one: %w", err)
		}
		if _, err := fresh.Wait(); err != nil {
			return err
		}
		// A completed one stays completed: Wait returns at once.
		if err := wantClass(mpi.IrecvInto(&fresh, w, buf, 0, -7), mpi.ErrTag); err != nil {
			return fmt.Errorf("IrecvInto with tag -7: %w", err)
		}
		if _, err := fresh.Wait(); err != nil {
			return fmt.Errorf("Wait on a completed request whose restart was refused: %w", err)
		}
		return nil
	}},
	{"requests started in place allocate nothing", func(w *mpi.Comm) error {
		var r mpi.Request
		var failed error
		for _, size := range []int{8, 256, 4096} { // copied, then pinned
			buf := make([]byte, size)
			sends := testing.AllocsPerRun(100, func() {
				failed = errors.Join(failed, mpi.IsendInto(&r, w, buf, mpi.ProcNull, 0))
				_, err := r.Wait()
				failed = errors.Join(failed, err)
			})
			recvs := testing.AllocsPerRun(100, func() {
				failed = errors.Join(failed, mpi.IrecvInto(&r, w, buf, mpi.ProcNull, 0))
				_, err := r.Wait()
				failed = errors.Join(failed, err)
			})
			if sends != 0 || recvs != 0 || failed != nil {
				return fmt.Errorf("%d B: %v allocations per IsendInto + Wait, %v per IrecvInto + Wait, %v", size, sends, recvs, failed)
			}
		}
		return nil
	}},
	{"requests started in place from many goroutines", func(w *mpi.Comm) error {
		// At ThreadMultiple each goroutine owns its Requests; the package's
		// list of active ones is shared (go test -race checks it).
		const goroutines, rounds = 4, 50
		errs := make([]error, goroutines)
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				var sr, rr mpi.Request
				out, in := make([]int, 1), make([]int, 1)
				for round := range rounds {
					out[0] = 1000*g + round
					err := errors.Join(mpi.IrecvInto(&rr, w, in, peer(w), 90+g), mpi.IsendInto(&sr, w, out, peer(w), 90+g))
					if err == nil {
						_, err = mpi.WaitAll(&sr, &rr)
					}
					if err == nil && in[0] != 1000*g+round {
						err = fmt.Errorf("received %d, want %d", in[0], 1000*g+round)
					}
					if err != nil {
						errs[g] = fmt.Errorf("goroutine %d round %d: %w", g, round, err)
						return
					}
				}
			})
		}
		wg.Wait()
		return errors.Join(errs...)
	}},
}

// A loop that sends one message at a time keeps one Request for all of
// them: IsendInto and IrecvInto start each operation in a Request that is
// new or complete, and allocate nothing. Here the rank sends to itself.
func ExampleIsendInto() {
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		log.Fatal(err)
	}
	defer mpi.Finalize()
	world, me := mpi.World(), mpi.World().Rank()

	var send, recv mpi.Request // the zero Request is new, ready to start in
	out, in := make([]int32, 1), make([]int32, 1)
	for i := range int32(3) {
		out[0] = 10 * i
		if err := mpi.IrecvInto(&recv, world, in, me, 5); err != nil {
			log.Fatal(err)
		}
		if err := mpi.IsendInto(&send, world, out, me, 5); err != nil {
			log.Fatal(err)
		}
		// Both are active until completed; then they can start again.
		if _, err := mpi.WaitAll(&send, &recv); err != nil {
			log.Fatal(err)
		}
		fmt.Println("received", in[0])
	}
	// Output:
	// received 0
	// received 10
	// received 20
}
