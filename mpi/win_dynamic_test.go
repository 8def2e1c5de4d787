package mpi_test

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/goipc/ipc/mpi"
)

// The checks of dynamic windows, request-based accumulates and derived
// datatypes in one-sided operations.

func init() {
	children["rma-more"] = func([]string) error { return suite(mpi.ThreadFunneled, rmaMoreChecks) }
}

func TestRMAMoreOneRank(t *testing.T)   { expectChecks(t, job(t, "rma-more", 1), rmaMoreChecks) }
func TestRMAMoreTwoRanks(t *testing.T)  { expectChecks(t, job(t, "rma-more", 2), rmaMoreChecks) }
func TestRMAMoreFourRanks(t *testing.T) { expectChecks(t, job(t, "rma-more", 4), rmaMoreChecks) }

// committed returns a derived datatype, committed, or the first error.
func committed(dt *mpi.Datatype, err error) (*mpi.Datatype, error) {
	if err != nil {
		return nil, err
	}
	if err := dt.Commit(); err != nil {
		dt.Free()
		return nil, err
	}
	return dt, nil
}

// addresses attaches buf to win and gathers every rank's address of it.
func addresses(w *mpi.Comm, win *mpi.Win, buf []int64) ([]mpi.Addr, error) {
	a, err := mpi.Attach(win, buf)
	if err != nil {
		return nil, err
	}
	all := make([]mpi.Addr, w.Size())
	return all, mpi.Allgather(w, []mpi.Addr{a}, all)
}

var rmaMoreChecks = []check{
	{"win dynamic attach put get detach", func(w *mpi.Comm) error {
		left, right := neighbours(w)
		r := int64(w.Rank())
		win, err := mpi.WinCreateDynamic[int64](w, nil)
		if err != nil {
			return err
		}
		first, second := []int64{-1, -1, -1, -1}, []int64{-2, -2, -2}
		at, err := addresses(w, win, first)
		if err != nil {
			return err
		}
		at2, err := addresses(w, win, second)
		if err != nil {
			return err
		}
		if err := win.LockAll(); err != nil {
			return err
		}
		// Into both regions of the right neighbour: elements 1, 2 of the
		// first and 0 of the second.
		if err := mpi.Put(win, []int64{r, r + 100}, right, win.Disp(at[right], 1)); err != nil {
			return err
		}
		if err := mpi.Put(win, []int64{r + 200}, right, win.Disp(at2[right], 0)); err != nil {
			return err
		}
		if err := win.Flush(right); err != nil {
			return err
		}
		if err := mpi.Barrier(w); err != nil {
			return err
		}
		// Back out of the right neighbour, through a strided target: elements
		// 0 and 2 of its first region.
		every2, err := committed(mpi.Vector(2, 1, 2, must(mpi.TypeOf[int64]())))
		if err != nil {
			return err
		}
		defer every2.Free()
		got := make([]int64, 2)
		gb, err := mpi.BufOf(got, 2, must(mpi.TypeOf[int64]()))
		if err != nil {
			return err
		}
		if err := mpi.GetBuf(win, gb, mpi.Target{Rank: right, Disp: win.Disp(at[right], 0), Count: 1, Type: every2}); err != nil {
			return err
		}
		if err := win.Flush(right); err != nil {
			return err
		}
		if err := wantSlice("strided Get of the right neighbour", got, []int64{-1, r + 100}); err != nil {
			return err
		}
		if err := win.UnlockAll(); err != nil {
			return err
		}
		if err := mpi.Barrier(w); err != nil {
			return err
		}
		l := int64(left)
		err = locally(win, w.Rank(), func() {
			err = errors.Join(wantSlice("first region", slices.Clone(first), []int64{-1, l, l + 100, -1}),
				wantSlice("second region", slices.Clone(second), []int64{l + 200, -2, -2}))
		})
		if err != nil {
			return err
		}
		// Detach is local, but no origin may use the memory afterwards.
		if err := mpi.Detach(win, first); err != nil {
			return err
		}
		if err := mpi.Detach(win, first); !errors.Is(err, mpi.ErrRMAAttach) {
			return fmt.Errorf("second Detach: %v, want ErrRMAAttach", err)
		}
		// Free with the second region still attached releases it too.
		return wantFreed(win)
	}},
	{"win dynamic misuse", func(w *mpi.Comm) error {
		win, err := mpi.WinCreateDynamic[int64](w, nil)
		if err != nil {
			return err
		}
		defer win.Free()
		buf := make([]int64, 8)
		if err := wantInvalid(mpi.Detach(win, buf), mpi.ErrRMAAttach); err != nil {
			return fmt.Errorf("Detach of memory never attached: %w", err)
		}
		a, err := mpi.Attach(win, buf)
		if err != nil {
			return err
		}
		if want := mpi.Addr(uintptr(unsafe.Pointer(&buf[0]))); a != want {
			return fmt.Errorf("Attach returned address %#x, want %#x", a, want)
		}
		if err := wantInvalid(mpi.Detach(win, buf[2:4]), mpi.ErrRMAAttach); err != nil {
			return fmt.Errorf("Detach of part of the attached memory: %w", err)
		}
		if _, err := mpi.Attach(win, buf[6:]); wantInvalid(err, mpi.ErrRMAAttach) != nil {
			return fmt.Errorf("Attach of memory attached already: %v, want ErrRMAAttach", err)
		}
		if _, err := mpi.Attach(win, buf[:0]); wantInvalid(err, mpi.ErrBuffer) != nil {
			return fmt.Errorf("Attach of an empty slice: %v, want ErrBuffer", err)
		}
		if _, err := mpi.Attach(win, make([]float64, 2)); wantInvalid(err, mpi.ErrType) != nil {
			return fmt.Errorf("Attach of []float64 to an int64 window: %v, want ErrType", err)
		}
		if err := win.LockAll(); err != nil {
			return err
		}
		if err := wantInvalid(mpi.Put(win, []int64{1}, 0, -8), mpi.ErrRMARange); err != nil {
			return fmt.Errorf("Put at a negative address: %w", err)
		}
		// The window's length says nothing in a dynamic window: a Put to
		// the attached memory far past what a plain window would hold.
		if err := mpi.Put(win, []int64{42}, w.Rank(), win.Disp(a, 7)); err != nil {
			return err
		}
		if err := win.UnlockAll(); err != nil {
			return err
		}
		if err := locally(win, w.Rank(), func() { err = want("attached element 7", buf[7], int64(42)) }); err != nil {
			return err
		}
		if err := mpi.Detach(win, buf); err != nil {
			return err
		}
		plain, err := mpi.WinCreate(w, make([]int64, 1), nil)
		if err != nil {
			return err
		}
		defer plain.Free()
		if _, err := mpi.Attach(plain, buf); wantInvalid(err, mpi.ErrWin) != nil {
			return fmt.Errorf("Attach to a WinCreate window: %v, want ErrWin", err)
		}
		if err := want("Disp in a plain window", plain.Disp(0, 3), 3); err != nil {
			return err
		}
		if err := win.Free(); err != nil {
			return err
		}
		if _, err := mpi.Attach(win, buf); !errors.Is(err, os.ErrClosed) {
			return fmt.Errorf("Attach to a freed window: %v, want os.ErrClosed", err)
		}
		return nil
	}},
	{"win raccumulate rget accumulate", func(w *mpi.Comm) error {
		win, mem, err := zeroedWin[int64](w, 2)
		if err != nil {
			return err
		}
		defer win.Free()
		r, n := int64(w.Rank()), int64(w.Size())
		if _, err := mpi.Raccumulate(win, []int64{1}, 0, 0, mpi.Sum); !errors.Is(err, mpi.ErrRMASync) {
			return fmt.Errorf("Raccumulate outside an epoch: %v, want ErrRMASync", err)
		}
		if _, err := mpi.RgetAccumulate(win, []int64{1}, []int64{0}, 0, 0, mpi.Sum); !errors.Is(err, mpi.ErrRMASync) {
			return fmt.Errorf("RgetAccumulate outside an epoch: %v, want ErrRMASync", err)
		}
		if err := win.LockAll(); err != nil {
			return err
		}
		req, err := mpi.Raccumulate(win, []int64{1, r}, 0, 0, mpi.Sum)
		if err != nil {
			return err
		}
		if _, err := req.Wait(); err != nil {
			return err
		}
		if err := win.Flush(0); err != nil {
			return err
		}
		if err := mpi.Barrier(w); err != nil {
			return err
		}
		// A ticket counter on element 0: each rank's RgetAccumulate returns
		// the value before its own addition, so the tickets are n..2n-1.
		ticket := make([]int64, 2)
		if req, err = mpi.RgetAccumulate(win, []int64{1, 0}, ticket, 0, 0, mpi.Sum); err != nil {
			return err
		}
		if _, err := req.Wait(); err != nil {
			return err
		}
		if err := win.FlushAll(); err != nil {
			return err
		}
		if err := mpi.Barrier(w); err != nil {
			return err
		}
		got := make([]int64, 2)
		if req, err = mpi.RgetAccumulate(win, make([]int64, 2), got, 0, 0, mpi.NoOp); err != nil {
			return err
		}
		if _, err := req.Wait(); err != nil {
			return err
		}
		if err := wantSlice("RgetAccumulate(NoOp) after the accumulates", got, []int64{2 * n, n * (n - 1) / 2}); err != nil {
			return err
		}
		buf := make([]int64, 4)
		if _, err := mpi.RgetAccumulate(win, buf[:2], buf[1:3], 0, 0, mpi.Sum); wantInvalid(err, mpi.ErrBuffer) != nil {
			return fmt.Errorf("RgetAccumulate with overlapping origin and result: %v, want ErrBuffer", err)
		}
		if _, err := mpi.RgetAccumulate(win, buf[:2], buf[2:3], 0, 0, mpi.Sum); wantInvalid(err, mpi.ErrCount) != nil {
			return fmt.Errorf("RgetAccumulate with origin and result of different lengths: %v, want ErrCount", err)
		}
		if _, err := mpi.Raccumulate(win, buf[:3], 0, 0, mpi.Sum); wantInvalid(err, mpi.ErrRMARange) != nil {
			return fmt.Errorf("Raccumulate past the window: %v, want ErrRMARange", err)
		}
		if _, err := mpi.Raccumulate(win, buf[:1], 0, 0, nil); !errors.Is(err, os.ErrInvalid) {
			return fmt.Errorf("Raccumulate with a nil operator: %v, want os.ErrInvalid", err)
		}
		if err := win.UnlockAll(); err != nil {
			return err
		}
		tickets := []int64{ticket[0]}
		if ticket[1] != n*(n-1)/2 {
			return fmt.Errorf("ticket %v: element 1 was %d before, want %d", ticket, ticket[1], n*(n-1)/2)
		}
		if err := mpi.Allreduce(w, mpi.InPlace[int64](), tickets, mpi.Sum); err != nil {
			return err
		}
		if err := want("sum of the tickets", tickets[0], n*n+n*(n-1)/2); err != nil {
			return err
		}
		if err := mpi.Barrier(w); err != nil {
			return err
		}
		if w.Rank() == 0 {
			return locally(win, 0, func() { err = wantSlice("rank 0's window", slices.Clone(mem), []int64{2 * n, n * (n - 1) / 2}) })
		}
		return nil
	}},
	{"win put get accumulate strided column", func(w *mpi.Comm) error {
		const rows, cols = 3, 4
		left, right := neighbours(w)
		r := float64(w.Rank())
		matrix := make([]float64, rows*cols) // row-major, -1 everywhere
		for i := range matrix {
			matrix[i] = -1
		}
		win, err := mpi.WinCreate(w, matrix, nil)
		if err != nil {
			return err
		}
		defer win.Free()
		f64 := must(mpi.TypeOf[float64]())
		column, err := committed(mpi.Vector(rows, 1, cols, f64))
		if err != nil {
			return err
		}
		defer column.Free()
		col := []float64{r, r + 10, r + 20}
		origin, err := mpi.BufOf(col, rows, f64)
		if err != nil {
			return err
		}
		if err := win.Fence(); err != nil {
			return err
		}
		// A contiguous origin into column 1 of the right neighbour's matrix.
		if err := mpi.PutBuf(win, origin, mpi.Target{Rank: right, Disp: 1, Count: 1, Type: column}); err != nil {
			return err
		}
		if err := win.Fence(); err != nil {
			return err
		}
		l := float64(left)
		wantM := []float64{-1, l, -1, -1, -1, l + 10, -1, -1, -1, l + 20, -1, -1}
		if err := wantSlice("matrix after the column Put", matrix, wantM); err != nil {
			return err
		}
		// Strided to strided: the right neighbour's column 1 into column 3
		// of a local matrix.
		local := make([]float64, rows*cols)
		lb, err := mpi.BufOf(local[3:], 1, column)
		if err != nil {
			return err
		}
		if err := mpi.GetBuf(win, lb, mpi.Target{Rank: right, Disp: 1, Count: 1, Type: column}); err != nil {
			return err
		}
		if err := win.Fence(); err != nil {
			return err
		}
		if err := wantSlice("local matrix after the column Get", local, []float64{0, 0, 0, r, 0, 0, 0, r + 10, 0, 0, 0, r + 20}); err != nil {
			return err
		}
		// Every rank adds 1 to rank 0's column 0.
		ones, err := mpi.BufOf([]float64{1, 1, 1}, rows, f64)
		if err != nil {
			return err
		}
		if err := mpi.AccumulateBuf(win, ones, mpi.Target{Rank: 0, Disp: 0, Count: 1, Type: column}, mpi.Sum); err != nil {
			return err
		}
		if err := win.Fence(); err != nil {
			return err
		}
		if w.Rank() == 0 {
			n := float64(w.Size()) - 1
			if err := wantSlice("rank 0's column 0", []float64{matrix[0], matrix[4], matrix[8]}, []float64{n, n, n}); err != nil {
				return err
			}
		}
		// Misuse, refused before MPI.
		short, err := mpi.BufOf(col[:2], 2, f64)
		if err != nil {
			return err
		}
		for _, c := range []struct {
			what   string
			origin mpi.Buf
			t      mpi.Target
			class  mpi.Class
		}{
			{"column 4 of 4", origin, mpi.Target{Rank: right, Disp: cols, Count: 1, Type: column}, mpi.ErrRMARange},
			{"two columns from column 3", origin, mpi.Target{Rank: right, Disp: 3, Count: 2, Type: column}, mpi.ErrRMARange},
			{"past the window", origin, mpi.Target{Rank: right, Disp: rows*cols + 1, Count: 1, Type: column}, mpi.ErrRMARange},
			{"negative displacement", origin, mpi.Target{Rank: right, Disp: -1, Count: 1, Type: column}, mpi.ErrRMARange},
			{"rank outside", origin, mpi.Target{Rank: w.Size(), Disp: 0, Count: 1, Type: column}, mpi.ErrRank},
			{"2 elements into 3", short, mpi.Target{Rank: right, Disp: 0, Count: 1, Type: column}, mpi.ErrType},
			{"negative count", origin, mpi.Target{Rank: right, Disp: 0, Count: -1, Type: column}, mpi.ErrArg},
		} {
			if err := wantInvalid(mpi.PutBuf(win, c.origin, c.t), c.class); err != nil {
				return fmt.Errorf("PutBuf %s: %w", c.what, err)
			}
		}
		if err := mpi.PutBuf(win, origin, mpi.Target{Rank: right, Count: 1}); !errors.Is(err, os.ErrInvalid) {
			return fmt.Errorf("PutBuf with a nil target datatype: %v, want os.ErrInvalid", err)
		}
		if err := mpi.GetBuf(win, mpi.Buf{}, mpi.Target{Rank: right, Count: 1, Type: column}); !errors.Is(err, os.ErrInvalid) {
			return fmt.Errorf("GetBuf into a zero Buf: %v, want os.ErrInvalid", err)
		}
		raw, err := mpi.Vector(rows, 1, cols, f64)
		if err != nil {
			return err
		}
		defer raw.Free()
		if err := wantInvalid(mpi.PutBuf(win, origin, mpi.Target{Rank: right, Count: 1, Type: raw}), mpi.ErrType); err != nil {
			return fmt.Errorf("PutBuf to an uncommitted datatype: %w", err)
		}
		op, err := mpi.NewOp(func(in, inout []float64) {}, true)
		if err != nil {
			return err
		}
		defer op.Free()
		if err := wantInvalid(mpi.AccumulateBuf(win, ones, mpi.Target{Rank: 0, Count: 1, Type: column}, op), mpi.ErrOp); err != nil {
			return fmt.Errorf("AccumulateBuf with a NewOp operator: %w", err)
		}
		return win.Fence()
	}},
	{"win of structs", func(w *mpi.Comm) error {
		left, right := neighbours(w)
		parts := make([]particle, 3)
		win, err := mpi.WinCreate(w, parts, nil)
		if err != nil {
			return err
		}
		defer win.Free()
		mine := func(rank, i int) particle {
			return particle{ID: int32(rank*10 + i), Pos: [3]float64{float64(rank), float64(i), -float64(rank)}, Name: [8]byte{'p', byte('0' + i)}}
		}
		out := []particle{mine(w.Rank(), 0), mine(w.Rank(), 1), mine(w.Rank(), 2)}
		if err := win.Fence(); err != nil {
			return err
		}
		// Elements 1 and 2 by the generic Put, element 0 by a Buf of the
		// struct's own datatype.
		if err := mpi.Put(win, out[1:], right, 1); err != nil {
			return err
		}
		pt := must(mpi.TypeOf[particle]())
		ob, err := mpi.BufOf(out[:1], 1, pt)
		if err != nil {
			return err
		}
		if err := mpi.PutBuf(win, ob, mpi.Target{Rank: right, Disp: 0, Count: 1, Type: pt}); err != nil {
			return err
		}
		if err := win.Fence(); err != nil {
			return err
		}
		if err := wantSlice("structs from the left neighbour", parts, []particle{mine(left, 0), mine(left, 1), mine(left, 2)}); err != nil {
			return err
		}
		// One field of every struct of the right neighbour: Pos[1], a
		// float64 at its offset, one struct's extent apart.
		f64 := must(mpi.TypeOf[float64]())
		offset := int(unsafe.Offsetof(particle{}.Pos)) + 8
		field, err := mpi.Struct([]int{1}, []int{offset}, []*mpi.Datatype{f64})
		if err != nil {
			return err
		}
		defer field.Free()
		everyPos1, err := committed(mpi.Resized(field, 0, int(unsafe.Sizeof(particle{}))))
		if err != nil {
			return err
		}
		defer everyPos1.Free()
		got := make([]float64, 3)
		gb, err := mpi.BufOf(got, 3, f64)
		if err != nil {
			return err
		}
		if err := mpi.GetBuf(win, gb, mpi.Target{Rank: right, Disp: 0, Count: 3, Type: everyPos1}); err != nil {
			return err
		}
		if err := win.Fence(); err != nil {
			return err
		}
		if err := wantSlice("Pos[1] of the right neighbour's structs", got, []float64{0, 1, 2}); err != nil {
			return err
		}
		if err := wantInvalid(mpi.GetBuf(win, gb, mpi.Target{Rank: right, Disp: 1, Count: 3, Type: everyPos1}), mpi.ErrRMARange); err != nil {
			return fmt.Errorf("GetBuf of 3 structs' field from struct 1 of 3: %w", err)
		}
		return win.Fence()
	}},
}

// must returns TypeOf's datatype, which cannot fail for the basic and test
// types while MPI runs.
func must(dt *mpi.Datatype, err error) *mpi.Datatype {
	if err != nil {
		panic(err)
	}
	return dt
}

// reclaimed reports whether the garbage collector ran the cleanup that
// closed done: it collects a buffer only once nothing, no Pinner either,
// holds it.
func reclaimed(done <-chan struct{}) bool {
	for range 3 {
		runtime.GC()
		select {
		case <-done:
			return true
		case <-time.After(time.Second): // the cleanups' goroutine may lag behind the GC
		}
	}
	return false
}

// putCollectable starts a Put to rank from a buffer that only the window
// holds once it returns, and returns a channel closed when the buffer is
// collected.
func putCollectable(win *mpi.Win, rank int) (<-chan struct{}, error) {
	done := make(chan struct{})
	buf := make([]int64, 4) // not a tiny allocation, which may share its block and never be collected
	runtime.AddCleanup(&buf[0], func(ch chan struct{}) { close(ch) }, done)
	return done, mpi.Put(win, buf[:1], rank, 0)
}

func init() {
	rmaMoreChecks = append(rmaMoreChecks, check{"win flush releases the buffers of its target", func(w *mpi.Comm) error {
		win, _, err := zeroedWin[int64](w, 1)
		if err != nil {
			return err
		}
		defer win.Free()
		_, right := neighbours(w)
		if err := win.LockAll(); err != nil {
			return err
		}
		done, err := putCollectable(win, right)
		if err != nil {
			return err
		}
		if err := win.Flush(right); err != nil {
			return err
		}
		if !reclaimed(done) {
			return errors.New("the buffer of a Put stayed pinned after Flush of its target")
		}
		if w.Size() > 1 {
			// Operations to two targets: Flush of one keeps both pinned
			// (the window does not track them apart), FlushAll releases.
			if _, err := putCollectable(win, right); err != nil {
				return err
			}
			done, err := putCollectable(win, w.Rank())
			if err != nil {
				return err
			}
			if err := win.Flush(right); err != nil {
				return err
			}
			// A sentinel's cleanup, queued by the same collections, has run
			// by the time reclaimed returns.
			sentinel := make(chan struct{})
			runtime.AddCleanup(new([64]byte), func(ch chan struct{}) { close(ch) }, sentinel)
			if !reclaimed(sentinel) {
				return errors.New("the sentinel was not collected")
			}
			select {
			case <-done:
				return errors.New("Flush of one target released the buffer of an operation to another one")
			default:
			}
			if err := win.FlushAll(); err != nil {
				return err
			}
			if !reclaimed(done) {
				return errors.New("the buffers stayed pinned after FlushAll")
			}
		}
		return win.UnlockAll()
	}})
}

func init() {
	rmaMoreChecks = append(rmaMoreChecks, check{"win calls from another thread", func(w *mpi.Comm) error {
		win, mem, err := zeroedWin[int64](w, 1)
		if err != nil {
			return err
		}
		defer win.Free()
		if err := win.LockAll(); err != nil {
			return err
		}
		// Init locked this goroutine to its thread: any other goroutine
		// runs on another, and none of these may reach MPI from there.
		errc := make(chan error)
		go func() {
			_, err := mpi.Rput(win, []int64{1}, 0, 0)
			errc <- errors.Join(wrongThread("Put", mpi.Put(win, []int64{1}, 0, 0)),
				wrongThread("Get", mpi.Get(win, make([]int64, 1), 0, 0)),
				wrongThread("Flush", win.Flush(0)), wrongThread("FlushAll", win.FlushAll()),
				wrongThread("Rput", err), wrongThread("Accumulate", mpi.Accumulate(win, []int64{1}, 0, 0, mpi.Sum)))
		}()
		if err := <-errc; err != nil {
			return err
		}
		if err := errors.Join(win.UnlockAll(), mpi.Barrier(w)); err != nil {
			return err
		}
		return locally(win, w.Rank(), func() { err = want("window after the refused calls", mem[0], int64(0)) })
	}})
}
