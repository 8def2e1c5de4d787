package mpi_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/goipc/ipc/mpi"
)

func init() {
	children["modes"] = func([]string) error { return suite(mpi.ThreadFunneled, modeChecks) }
}

func TestCompletionAndSendModesFourRanks(t *testing.T) {
	expectChecks(t, job(t, "modes", 4), modeChecks)
}

// partner pairs ranks 0-1 and 2-3.
func partner(w *mpi.Comm) int { return w.Rank() ^ 1 }

var modeChecks = []check{
	{"waitsome testany testsome", func(w *mpi.Comm) error {
		got := make([][]int, 3)
		var reqs []*mpi.Request
		for i := range got {
			got[i] = []int{-1}
			r, err := mpi.Irecv(w, got[i], partner(w), 40+i)
			if err != nil {
				return err
			}
			reqs = append(reqs, r)
		}
		// Nothing sent yet: TestAny and TestSome find nothing.
		if idx, _, ok, err := mpi.TestAny(reqs...); ok || err != nil || idx != mpi.Undefined {
			return fmt.Errorf("TestAny before any send: %d, %v, %v", idx, ok, err)
		}
		if idx, _, err := mpi.TestSome(reqs...); len(idx) != 0 || err != nil {
			return fmt.Errorf("TestSome before any send: %v, %v", idx, err)
		}
		if _, ok, err := reqs[1].Status(); ok || err != nil {
			return fmt.Errorf("Status before the send: %v, %v", ok, err)
		}
		if err := mpi.Barrier(w); err != nil {
			return err
		}
		if err := mpi.Send(w, []int{w.Rank()*10 + 1}, partner(w), 41); err != nil {
			return err
		}
		// Status sees the completion without completing: Wait still works.
		for {
			st, ok, err := reqs[1].Status()
			if err != nil {
				return err
			}
			if ok {
				if st.Tag != 41 {
					return fmt.Errorf("Status tag %d", st.Tag)
				}
				break
			}
		}
		idx, sts, err := mpi.WaitSome(reqs...)
		if err != nil {
			return err
		}
		if !slices.Equal(idx, []int{1}) || sts[0].Tag != 41 || got[1][0] != partner(w)*10+1 {
			return fmt.Errorf("WaitSome = %v %v, got %v", idx, sts, got[1])
		}
		// The partner's next sends wait until this WaitSome has returned.
		if err := mpi.Barrier(w); err != nil {
			return err
		}
		for _, tag := range []int{40, 42} {
			if err := mpi.Send(w, []int{tag}, partner(w), tag); err != nil {
				return err
			}
		}
		seen := map[int]bool{}
		for len(seen) < 2 {
			i, st, ok, err := mpi.TestAny(reqs...)
			if err != nil {
				return err
			}
			if ok {
				seen[i] = true
				if st.Tag != 40+i {
					return fmt.Errorf("TestAny index %d tag %d", i, st.Tag)
				}
			}
		}
		if idx, _, err := mpi.WaitSome(reqs...); idx != nil || err != nil {
			return fmt.Errorf("WaitSome with none active: %v, %v", idx, err)
		}
		return wantSlice("received", []int{got[0][0], got[2][0]}, []int{40, 42})
	}},
	{"improbe", func(w *mpi.Comm) error {
		if m, _, ok, err := mpi.Improbe(w, partner(w), 50); ok || err != nil || m != nil {
			return fmt.Errorf("Improbe of nothing: %v, %v", ok, err)
		}
		if err := mpi.Barrier(w); err != nil {
			return err
		}
		if err := mpi.Send(w, []float32{1, 2, float32(w.Rank())}, partner(w), 50); err != nil {
			return err
		}
		for {
			m, st, ok, err := mpi.Improbe(w, mpi.AnySource, 50)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			buf := make([]float32, mpi.Count[float32](st))
			if _, err := mpi.Mrecv(m, buf); err != nil {
				return err
			}
			return wantSlice("Mrecv", buf, []float32{1, 2, float32(partner(w))})
		}
	}},
	{"send modes", func(w *mpi.Comm) error {
		p := partner(w)
		got := make([]int, 2)
		// Ready mode needs the receive posted first: the barrier orders it.
		r, err := mpi.Irecv(w, got[:1], p, 60)
		if err != nil {
			return err
		}
		if err := mpi.Barrier(w); err != nil {
			return err
		}
		if err := mpi.Rsend(w, []int{w.Rank()}, p, 60); err != nil {
			return err
		}
		if _, err := r.Wait(); err != nil {
			return err
		}
		// Without a buffer, or beyond its size, a buffered send is refused
		// before MPI: Open MPI would send a small message anyway.
		if err := mpi.Bsend(w, []int{1}, p, 61); wantInvalid(err, mpi.ErrBuffer) != nil {
			return fmt.Errorf("Bsend without a buffer: %v", err)
		}
		if _, err := mpi.Ibsend(w, []int{1}, p, 62); wantInvalid(err, mpi.ErrBuffer) != nil {
			return fmt.Errorf("Ibsend without a buffer: %v", err)
		}
		if err := mpi.BufferAttach(2 * (8 + mpi.BsendOverhead)); err != nil {
			return err
		}
		if err := mpi.Bsend(w, make([]byte, 2*(8+mpi.BsendOverhead)), p, 61); wantInvalid(err, mpi.ErrBuffer) != nil {
			return fmt.Errorf("Bsend beyond the buffer: %v", err)
		}
		if err := mpi.BufferAttach(64); wantInvalid(err, mpi.ErrBuffer) != nil {
			return fmt.Errorf("second BufferAttach: %v", err)
		}
		// Buffered sends return before any receive is posted.
		if err := mpi.Bsend(w, []int{100 + w.Rank()}, p, 61); err != nil {
			return err
		}
		ib, err := mpi.Ibsend(w, []int{200 + w.Rank()}, p, 62)
		if err != nil {
			return err
		}
		if _, err := ib.Wait(); err != nil {
			return err
		}
		for tag := 61; tag <= 62; tag++ {
			if _, err := mpi.Recv(w, got[1:], p, tag); err != nil {
				return err
			}
			if got[1] != (tag-60)*100+p {
				return fmt.Errorf("buffered message tag %d: %d", tag, got[1])
			}
		}
		if size, err := mpi.BufferDetach(); err != nil || size != 2*(8+mpi.BsendOverhead) {
			return fmt.Errorf("BufferDetach = %d, %v", size, err)
		}
		if size, err := mpi.BufferDetach(); size != 0 || err != nil {
			return fmt.Errorf("BufferDetach without a buffer = %d, %v", size, err)
		}
		// Issend completes only once the receive has started.
		is, err := mpi.Issend(w, []int{7}, p, 64)
		if err != nil {
			return err
		}
		if _, err := mpi.Recv(w, got[:1], p, 64); err != nil {
			return err
		}
		if _, err := is.Wait(); err != nil {
			return err
		}
		r, err = mpi.Irecv(w, got[1:], p, 65)
		if err != nil {
			return err
		}
		if err := mpi.Barrier(w); err != nil {
			return err
		}
		ir, err := mpi.Irsend(w, []int{-w.Rank()}, p, 65)
		if err != nil {
			return err
		}
		if _, err := mpi.WaitAll(r, ir); err != nil {
			return err
		}
		return want("Irsend", got[1], -p)
	}},
	{"sendrecv replace", func(w *mpi.Comm) error {
		n, r := w.Size(), w.Rank()
		buf := []particle{{ID: int32(r)}}
		st, err := mpi.SendrecvReplace(w, buf, (r+1)%n, 70, (r+n-1)%n, 70)
		if err != nil {
			return err
		}
		return want("ring shift", [2]int{int(buf[0].ID), st.Source}, [2]int{(r + n - 1) % n, (r + n - 1) % n})
	}},
}
