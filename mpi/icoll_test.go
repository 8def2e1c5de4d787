package mpi_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/goipc/ipc/mpi"
)

func init() {
	children["icoll"] = func([]string) error { return suite(mpi.ThreadFunneled, icollChecks) }
}

func TestNonblockingCollectivesFourRanks(t *testing.T) {
	expectChecks(t, job(t, "icoll", 4), icollChecks)
}

// waitFor completes a request that a check started.
func waitFor(r *mpi.Request, err error) error {
	if err != nil {
		return err
	}
	_, err = r.Wait()
	return err
}

var icollChecks = []check{
	{"ibarrier and ibcast", func(w *mpi.Comm) error {
		if err := waitFor(mpi.Ibarrier(w)); err != nil {
			return err
		}
		buf := []particle{{}, {}}
		if w.Rank() == 2 {
			buf[1] = particle{ID: 5, Name: [8]byte{'b'}}
		}
		if err := waitFor(mpi.Ibcast(w, buf, 2)); err != nil {
			return err
		}
		if err := want("Ibcast", buf[1], particle{ID: 5, Name: [8]byte{'b'}}); err != nil {
			return err
		}
		// MPI forbids freeing or cancelling a nonblocking collective (Open
		// MPI failed the Free and then had it unfinished at Finalize): both
		// are refused, and the request still completes.
		r, err := mpi.Ibarrier(w)
		if err != nil {
			return err
		}
		if err := errors.Join(wantInvalid(r.Free(), mpi.ErrRequest), wantInvalid(r.Cancel(), mpi.ErrRequest)); err != nil {
			return fmt.Errorf("Free and Cancel of an Ibarrier: %w", err)
		}
		_, err = r.Wait()
		return err
	}},
	{"reductions", func(w *mpi.Comm) error {
		r, n := w.Rank(), w.Size()
		sum := make([]int, 2)
		if err := waitFor(mpi.Iallreduce(w, []int{r, 1}, sum, mpi.Sum)); err != nil {
			return err
		}
		if err := wantSlice("Iallreduce", sum, []int{n * (n - 1) / 2, n}); err != nil {
			return err
		}
		inPlace := []float64{float64(r)}
		if err := waitFor(mpi.Iallreduce(w, inPlace, inPlace, mpi.Max)); err != nil {
			return err
		}
		if err := want("Iallreduce in place", inPlace[0], float64(n-1)); err != nil {
			return err
		}
		got := []int{-1}
		if err := waitFor(mpi.Ireduce(w, []int{r + 1}, got, mpi.Prod, 1)); err != nil {
			return err
		}
		if w.Rank() == 1 && got[0] != 24 {
			return fmt.Errorf("Ireduce product %d, want 24", got[0])
		}
		scan, ex := make([]int, 1), []int{-7}
		if err := waitFor(mpi.Iscan(w, []int{r}, scan, mpi.Sum)); err != nil {
			return err
		}
		if err := waitFor(mpi.Iexscan(w, []int{r}, ex, mpi.Sum)); err != nil {
			return err
		}
		if scan[0] != r*(r+1)/2 || (r > 0 && ex[0] != r*(r-1)/2) || (r == 0 && ex[0] != -7) {
			return fmt.Errorf("Iscan %d, Iexscan %d on rank %d", scan[0], ex[0], r)
		}
		block := make([]int32, 2)
		send := make([]int32, 2*n)
		for i := range send {
			send[i] = int32(i)
		}
		if err := waitFor(mpi.IreduceScatterBlock(w, send, block, mpi.Sum)); err != nil {
			return err
		}
		if err := wantSlice("IreduceScatterBlock", block, []int32{int32(2 * r * n), int32((2*r + 1) * n)}); err != nil {
			return err
		}
		op, err := mpi.NewOp(func(in, inout []int) {}, true)
		if err != nil {
			return err
		}
		defer op.Free()
		_, err = mpi.Iallreduce(w, []int{1}, sum[:1], op)
		return wantInvalid(err, mpi.ErrOp)
	}},
	{"gathers and scatters", func(w *mpi.Comm) error {
		r, n := w.Rank(), w.Size()
		all := make([]int, n)
		if err := waitFor(mpi.Igather(w, []int{r * r}, all, 0)); err != nil {
			return err
		}
		if r == 0 && all[3] != 9 {
			return fmt.Errorf("Igather %v", all)
		}
		one := make([]int, 1)
		if err := waitFor(mpi.Iscatter(w, all, one, 0)); err != nil {
			return err
		}
		if err := want("Iscatter", one[0], r*r); err != nil {
			return err
		}
		if err := waitFor(mpi.Iallgather(w, []int{-r}, all)); err != nil {
			return err
		}
		if err := wantSlice("Iallgather", all, []int{0, -1, -2, -3}); err != nil {
			return err
		}
		// Rank i contributes i elements; the root stores them packed.
		counts := []int{0, 1, 2, 3}
		mine := make([]int, r)
		for i := range mine {
			mine[i] = r
		}
		vall := make([]int, 6)
		if err := waitFor(mpi.Igatherv(w, mine, vall, counts, nil, 0)); err != nil {
			return err
		}
		if r == 0 {
			if err := wantSlice("Igatherv", vall, []int{1, 2, 2, 3, 3, 3}); err != nil {
				return err
			}
		}
		back := make([]int, r)
		if err := waitFor(mpi.Iscatterv(w, vall, counts, nil, back, 0)); err != nil {
			return err
		}
		if err := wantSlice("Iscatterv", back, mine); err != nil {
			return err
		}
		everywhere := make([]int, 6)
		if err := waitFor(mpi.Iallgatherv(w, mine, everywhere, counts, nil)); err != nil {
			return err
		}
		return wantSlice("Iallgatherv", everywhere, []int{1, 2, 2, 3, 3, 3})
	}},
	{"alltoall", func(w *mpi.Comm) error {
		r, n := w.Rank(), w.Size()
		send, recv := make([]int, n), make([]int, n)
		for i := range send {
			send[i] = 10*r + i
		}
		if err := waitFor(mpi.Ialltoall(w, send, recv)); err != nil {
			return err
		}
		for i := range recv {
			if recv[i] != 10*i+r {
				return fmt.Errorf("Ialltoall %v", recv)
			}
		}
		ones := []int{1, 1, 1, 1}
		if err := waitFor(mpi.Ialltoallv(w, send, ones, nil, recv, ones, []int{3, 2, 1, 0})); err != nil {
			return err
		}
		for i := range recv {
			if recv[3-i] != 10*i+r {
				return fmt.Errorf("Ialltoallv %v", recv)
			}
		}
		return nil
	}},
	{"overlap", func(w *mpi.Comm) error {
		// Several collectives in flight at once, completed in one WaitAll.
		a, b := make([]int, 1), make([]int, w.Size())
		r1, err1 := mpi.Iallreduce(w, []int{1}, a, mpi.Sum)
		r2, err2 := mpi.Iallgather(w, []int{w.Rank()}, b)
		r3, err3 := mpi.Ibarrier(w)
		if err := errors.Join(err1, err2, err3); err != nil {
			return err
		}
		if _, err := mpi.WaitAll(r1, r2, r3); err != nil {
			return err
		}
		return errors.Join(want("sum", a[0], w.Size()), wantSlice("gather", b, []int{0, 1, 2, 3}))
	}},
	{"in place", func(w *mpi.Comm) error {
		r, n := w.Rank(), w.Size()
		all := make([]int, n)
		all[r] = r * 7
		if err := waitFor(mpi.Iallgather(w, mpi.InPlace[int](), all)); err != nil {
			return err
		}
		if err := wantSlice("Iallgather in place", all, []int{0, 7, 14, 21}); err != nil {
			return err
		}
		x := make([]int, n)
		for j := range x {
			x[j] = 10*r + j
		}
		if err := waitFor(mpi.Ialltoall(w, mpi.InPlace[int](), x)); err != nil {
			return err
		}
		if err := wantSlice("Ialltoall in place", x, []int{r, 10 + r, 20 + r, 30 + r}); err != nil {
			return err
		}
		own, got := []int{r + 1}, make([]int, n)
		if r == 2 {
			own, got[2] = mpi.InPlace[int](), 3
		}
		if err := waitFor(mpi.Igather(w, own, got, 2)); err != nil {
			return err
		}
		if r == 2 {
			if err := wantSlice("Igather in place", got, []int{1, 2, 3, 4}); err != nil {
				return err
			}
		}
		red := []int{r + 1}
		if err := waitFor(mpi.Ireduce(w, mpi.InPlace[int](), red, mpi.Sum, 0)); r == 0 && err != nil {
			return err
		} else if r != 0 {
			// InPlace belongs to the root; the others contribute normally.
			if wantInvalid(err, mpi.ErrBuffer) != nil {
				return fmt.Errorf("Ireduce with InPlace off the root: %v", err)
			}
			if err := waitFor(mpi.Ireduce(w, red, nil, mpi.Sum, 0)); err != nil {
				return err
			}
		}
		if r == 0 {
			return want("Ireduce in place", red[0], 10)
		}
		return nil
	}},
	{"zero-length buffers", func(w *mpi.Comm) error {
		// Legal MPI: each completes, moving nothing.
		none := []int{}
		var all []int
		return errors.Join(
			mpi.Bcast(w, none, 0), mpi.Gather(w, none, all, 1), mpi.Scatter(w, all, none, 1),
			mpi.Allgather(w, none, all), mpi.Alltoall(w, none, all), mpi.Allreduce(w, none, all, mpi.Sum),
			mpi.Reduce(w, none, all, mpi.Sum, 0), mpi.Scan(w, none, all, mpi.Max),
			mpi.Gatherv(w, none, all, []int{0, 0, 0, 0}, nil, 0), mpi.ReduceScatterBlock(w, none, all, mpi.Sum),
			waitFor(mpi.Iallgather(w, none, all)), waitFor(mpi.Ibcast(w, none, 3)),
			waitFor(mpi.Iallreduce(w, none, all, mpi.Sum)), waitFor(mpi.Ialltoall(w, none, all)))
	}},
	{"bad input", func(w *mpi.Comm) error {
		_, err := mpi.Ibcast(w, []int{1}, 4)
		if err := wantInvalid(err, mpi.ErrRoot); err != nil {
			return err
		}
		if w.Rank() == 0 {
			// Caught at the root before MPI, so the root alone may call it.
			_, err = mpi.Igather(w, []int{1}, make([]int, 3), 0)
			return wantInvalid(err, mpi.ErrCount)
		}
		return nil
	}},
}
