package mpi_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"unsafe"

	"github.com/goipc/ipc/mpi"
)

func init() { children["datatypes"] = childDatatypes }

func TestDatatypesTwoRanks(t *testing.T) {
	expectChecks(t, job(t, "datatypes", 2), datatypeChecks)
}

func childDatatypes([]string) error { return suite(mpi.ThreadFunneled, datatypeChecks) }

// particle is C's struct particle { int32_t id; double pos[3]; char name[8]; }.
type particle struct {
	ID   int32
	Pos  [3]float64
	Name [8]byte
}

// nested has padding everywhere, arrays of structs and a skipped field.
type nested struct {
	A    uint8
	In   [2]inner
	Skip float64 `mpi:"-"`
	B    bool
	Grid [2][3]int16
	None [0]float64
	L    mpi.Loc[float64]
}

type inner struct {
	X int16
	Y float32
	Z [3]uint8
}

func someNested(i int) nested {
	n := nested{A: uint8(i), B: i%2 == 0, L: mpi.Loc[float64]{Value: float64(i) / 4, Index: int32(-i)}}
	for j := range n.In {
		n.In[j] = inner{X: int16(-i * j), Y: float32(i) + 0.5, Z: [3]uint8{uint8(j), 2, 3}}
	}
	for j := range 6 {
		n.Grid[j/3][j%3] = int16(i*10 + j)
	}
	return n
}

// wantType checks a datatype's size and extents.
func wantType(what string, dt *mpi.Datatype, size, lb, extent, tlb, textent int) error {
	lb1, ext1 := dt.Extent()
	tlb1, text1 := dt.TrueExtent()
	return want(what+" size, extent, true extent", [5]int{dt.Size(), lb1, ext1, tlb1, text1}, [5]int{size, lb, extent, tlb, textent})
}

// viaType sends count elements of dt over src from rank 0; rank 1 receives
// them as plain float64 and returns what arrived (nil on rank 0).
func viaType(w *mpi.Comm, dt *mpi.Datatype, src []float64, count, n int) ([]float64, error) {
	if err := dt.Commit(); err != nil {
		return nil, err
	}
	if w.Rank() == 0 {
		b, err := mpi.BufOf(src, count, dt)
		if err != nil {
			return nil, err
		}
		return nil, mpi.SendBuf(w, b, 1, 30)
	}
	got := make([]float64, n)
	st, err := mpi.Recv(w, got, 0, 30)
	if err != nil {
		return nil, err
	}
	return got, want("received elements", mpi.Count[float64](st), n)
}

func iota64(n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = float64(i)
	}
	return s
}

func float64Type() *mpi.Datatype {
	dt, err := mpi.TypeOf[float64]()
	if err != nil {
		panic(err)
	}
	return dt
}

var datatypeChecks = []check{
	{"struct from Go type", func(w *mpi.Comm) error {
		dt, err := mpi.TypeOf[particle]()
		if err != nil {
			return err
		}
		if err := wantType("particle", dt, 36, 0, 40, 0, 40); err != nil {
			return err
		}
		if err := dt.Free(); err != nil || dt.Size() != 36 {
			return fmt.Errorf("Free of TypeOf's datatype: %v, size %d after", err, dt.Size())
		}
		ps := make([]particle, 3)
		if w.Rank() == 0 {
			for i := range ps {
				ps[i] = particle{ID: int32(i), Pos: [3]float64{float64(i), 1, -1}, Name: [8]byte{'p', byte('0' + i)}}
			}
			return mpi.Send(w, ps, 1, 1)
		}
		got := make([]particle, 5)
		st, err := mpi.Recv(w, got, 0, 1)
		if err != nil {
			return err
		}
		if err := want("count", mpi.Count[particle](st), 3); err != nil {
			return err
		}
		return want("third particle", got[2], particle{ID: 2, Pos: [3]float64{2, 1, -1}, Name: [8]byte{'p', '2'}})
	}},
	{"nested struct", func(w *mpi.Comm) error {
		dt, err := mpi.TypeOf[nested]()
		if err != nil {
			return err
		}
		// Every field but the pointer, without padding.
		size := 1 + 2*(2+4+3) + 1 + 12 + 12
		if err := wantType("nested", dt, size, 0, int(unsafe.Sizeof(nested{})), 0, int(unsafe.Offsetof(nested{}.L))+12); err != nil {
			return err
		}
		buf := make([]nested, 2)
		if w.Rank() == 0 {
			buf[0], buf[1] = someNested(1), someNested(2)
			buf[1].Skip = 1
		} else {
			buf[1].Skip = 7 // the receive leaves a skipped field alone
		}
		if err := mpi.Bcast(w, buf, 0); err != nil {
			return err
		}
		if err := want("first", buf[0], someNested(1)); err != nil {
			return err
		}
		want2 := someNested(2)
		want2.Skip = float64(7 - 6*(1-w.Rank()))
		return want("second", buf[1], want2)
	}},
	{"arrays", func(w *mpi.Comm) error {
		dt, err := mpi.TypeOf[[3][2]float32]()
		if err != nil {
			return err
		}
		if err := wantType("[3][2]float32", dt, 24, 0, 24, 0, 24); err != nil {
			return err
		}
		got := make([][3][2]float32, w.Size())
		if err := mpi.Allgather(w, [][3][2]float32{{{float32(w.Rank()), 1}, {2, 3}, {4, 5}}}, got); err != nil {
			return err
		}
		return want("rank 1's array", got[1], [3][2]float32{{1, 1}, {2, 3}, {4, 5}})
	}},
	{"collectives and nonblocking on structs", func(w *mpi.Comm) error {
		mine := []particle{{ID: int32(w.Rank()), Pos: [3]float64{float64(w.Rank())}}}
		all := make([]particle, w.Size())
		if err := mpi.Gather(w, mine, all, 0); err != nil {
			return err
		}
		if w.Rank() == 0 && all[1].ID != 1 {
			return fmt.Errorf("Gather: %v", all)
		}
		back := make([]particle, 1)
		if err := mpi.Scatter(w, all, back, 0); err != nil {
			return err
		}
		if err := want("Scatter", back[0], mine[0]); err != nil {
			return err
		}
		swapped := make([]particle, w.Size())
		send := make([]particle, w.Size())
		for i := range send {
			send[i].ID = int32(10*w.Rank() + i)
		}
		if err := mpi.Alltoall(w, send, swapped); err != nil {
			return err
		}
		if err := want("Alltoall", swapped[1-w.Rank()].ID, int32(10*(1-w.Rank())+w.Rank())); err != nil {
			return err
		}
		in := make([]particle, 2)
		r, err := mpi.Irecv(w, in, peer(w), 2)
		if err != nil {
			return err
		}
		s, err := mpi.Isend(w, []particle{{ID: 40}, {ID: int32(w.Rank())}}, peer(w), 2)
		if err != nil {
			return err
		}
		if _, err := mpi.WaitAll(r, s); err != nil {
			return err
		}
		return want("Irecv", in[1].ID, int32(peer(w)))
	}},
	{"reduction of structs", func(w *mpi.Comm) error {
		// A Go operator over a struct type: MPI hands it whole records.
		op, err := mpi.NewOp(func(in, inout []particle) {
			for i := range in {
				inout[i].ID += in[i].ID
				inout[i].Pos[0] = max(inout[i].Pos[0], in[i].Pos[0])
			}
		}, true)
		if err != nil {
			return err
		}
		defer op.Free()
		mine := []particle{{ID: int32(w.Rank() + 1), Pos: [3]float64{float64(w.Rank())}}, {ID: 10}}
		got := make([]particle, 2)
		if err := mpi.Allreduce(w, mine, got, op); err != nil {
			return err
		}
		if got[0].ID != 3 || got[0].Pos[0] != 1 || got[1].ID != 20 {
			return fmt.Errorf("Allreduce of particles: %+v", got)
		}
		// Made for particle, the operator refuses another struct type.
		return wantInvalid(mpi.Allreduce(w, []nested{{}}, make([]nested, 1), op), mpi.ErrOp)
	}},
	{"types MPI cannot describe", func(w *mpi.Comm) error {
		type withString struct {
			N    int
			Name string
		}
		type withSlice struct{ In struct{ S []int } }
		type withMap struct{ M map[int]int }
		type withIface struct{ V any }
		type empty struct {
			N int `mpi:"-"`
		}
		type skippedPointer struct {
			N int
			P *int `mpi:"-"`
		}
		errs := []struct {
			err  error
			want string
		}{
			{mpi.Send(w, []withString{{}}, 0, 0), "withString.Name is a string"},
			{mpi.Send(w, []withSlice{{}}, 0, 0), "withSlice.In.S is a []int"},
			{mpi.Bcast(w, []withMap{{}}, 0), "withMap.M is a map[int]int"},
			{func() error { _, err := mpi.Irecv(w, []withIface{{}}, 0, 0); return err }(), "withIface.V is a interface {}"},
			{mpi.Send(w, []*int{nil}, 0, 0), "*int"},
			{mpi.Send(w, []string{"x"}, 0, 0), "string"},
			{mpi.Send(w, []empty{{}}, 0, 0), "has no field"},
			{mpi.Send(w, []skippedPointer{{}}, 0, 0), "skippedPointer.P is skipped but holds Go pointers"},
		}
		for i, e := range errs {
			if err := wantInvalid(e.err, mpi.ErrType); err != nil {
				return fmt.Errorf("case %d: %w", i, err)
			}
			if !strings.Contains(e.err.Error(), e.want) {
				return fmt.Errorf("case %d: error %q does not say %q", i, e.err, e.want)
			}
		}
		_, err := mpi.TypeOf[withString]()
		return wantInvalid(err, mpi.ErrType)
	}},
	{"contiguous vector hvector", func(w *mpi.Comm) error {
		f := float64Type()
		c, err := mpi.Contiguous(3, f)
		if err != nil {
			return err
		}
		defer c.Free()
		if err := wantType("contiguous", c, 24, 0, 24, 0, 24); err != nil {
			return err
		}
		if got, err := viaType(w, c, iota64(6), 2, 6); err != nil || (got != nil && wantSlice("contiguous", got, iota64(6)) != nil) {
			return fmt.Errorf("contiguous: %v %v", got, err)
		}
		// Column 1 of a 3x4 row-major matrix.
		v, err := mpi.Vector(3, 1, 4, f)
		if err != nil {
			return err
		}
		defer v.Free()
		if err := wantType("vector", v, 24, 0, 72, 0, 72); err != nil {
			return err
		}
		m := iota64(12)
		got, err := viaType(w, v, m[1:], 1, 3)
		if err != nil || (got != nil && wantSlice("column", got, []float64{1, 5, 9}) != nil) {
			return fmt.Errorf("column: %v %v", got, err)
		}
		h, err := mpi.Hvector(2, 2, 40, f)
		if err != nil {
			return err
		}
		defer h.Free()
		got, err = viaType(w, h, m, 1, 4)
		if err != nil || (got != nil && wantSlice("hvector", got, []float64{0, 1, 5, 6}) != nil) {
			return fmt.Errorf("hvector: %v %v", got, err)
		}
		return nil
	}},
	{"indexed", func(w *mpi.Comm) error {
		f := float64Type()
		m := iota64(12)
		ix, err := mpi.Indexed([]int{2, 1}, []int{5, 0}, f)
		if err != nil {
			return err
		}
		defer ix.Free()
		if err := wantType("indexed", ix, 24, 0, 56, 0, 56); err != nil {
			return err
		}
		got, err := viaType(w, ix, m, 1, 3)
		if err != nil || (got != nil && wantSlice("indexed", got, []float64{5, 6, 0}) != nil) {
			return fmt.Errorf("indexed: %v %v", got, err)
		}
		hx, err := mpi.Hindexed([]int{1, 2}, []int{8, 72}, f)
		if err != nil {
			return err
		}
		defer hx.Free()
		if err := wantType("hindexed", hx, 24, 8, 80, 8, 80); err != nil {
			return err
		}
		got, err = viaType(w, hx, m, 1, 3)
		if err != nil || (got != nil && wantSlice("hindexed", got, []float64{1, 9, 10}) != nil) {
			return fmt.Errorf("hindexed: %v %v", got, err)
		}
		ib, err := mpi.IndexedBlock(2, []int{10, 3}, f)
		if err != nil {
			return err
		}
		defer ib.Free()
		got, err = viaType(w, ib, m, 1, 4)
		if err != nil || (got != nil && wantSlice("indexed block", got, []float64{10, 11, 3, 4}) != nil) {
			return fmt.Errorf("indexed block: %v %v", got, err)
		}
		_, err = mpi.Indexed([]int{1}, []int{1, 2}, f)
		return wantInvalid(err, mpi.ErrArg)
	}},
	{"subarray", func(w *mpi.Comm) error {
		f := float64Type()
		m := iota64(12) // 3 rows of 4
		sc, err := mpi.Subarray([]int{3, 4}, []int{2, 2}, []int{1, 2}, mpi.OrderC, f)
		if err != nil {
			return err
		}
		defer sc.Free()
		if err := wantType("subarray C", sc, 32, 0, 96, 48, 48); err != nil {
			return err
		}
		got, err := viaType(w, sc, m, 1, 4)
		if err != nil || (got != nil && wantSlice("subarray C", got, []float64{6, 7, 10, 11}) != nil) {
			return fmt.Errorf("subarray C: %v %v", got, err)
		}
		// The same memory as a Fortran 4x3 array (columns of 4).
		sf, err := mpi.Subarray([]int{4, 3}, []int{2, 2}, []int{2, 1}, mpi.OrderFortran, f)
		if err != nil {
			return err
		}
		defer sf.Free()
		got, err = viaType(w, sf, m, 1, 4)
		if err != nil || (got != nil && wantSlice("subarray Fortran", got, []float64{6, 7, 10, 11}) != nil) {
			return fmt.Errorf("subarray Fortran: %v %v", got, err)
		}
		_, err = mpi.Subarray([]int{3}, []int{2}, []int{2}, mpi.OrderC, f)
		if err := wantInvalid(err, mpi.ErrArg); err != nil {
			return err
		}
		// An empty block is refused as such, not as one that does not fit.
		_, err = mpi.Subarray([]int{4}, []int{0}, []int{0}, mpi.OrderC, f)
		if bad := wantInvalid(err, mpi.ErrArg); bad != nil || !strings.Contains(err.Error(), "subsize 0 must") {
			return fmt.Errorf("subarray of subsize 0: %v", err)
		}
		return nil
	}},
	{"struct and resized", func(w *mpi.Comm) error {
		f := float64Type()
		i32, err := mpi.TypeOf[int32]()
		if err != nil {
			return err
		}
		// particle by hand, then resized to its 40 bytes.
		st, err := mpi.Struct([]int{1, 3}, []int{0, 8}, []*mpi.Datatype{i32, f})
		if err != nil {
			return err
		}
		defer st.Free()
		if err := wantType("struct", st, 28, 0, 32, 0, 32); err != nil {
			return err
		}
		rs, err := mpi.Resized(st, 0, 40)
		if err != nil {
			return err
		}
		if err := st.Free(); err != nil {
			return err
		}
		defer rs.Free()
		if err := wantType("resized", rs, 28, 0, 40, 0, 32); err != nil {
			return err
		}
		if err := rs.Commit(); err != nil {
			return err
		}
		ps := make([]particle, 2)
		if w.Rank() == 0 {
			ps[1] = particle{ID: 9, Pos: [3]float64{1, 2, 3}, Name: [8]byte{'x'}}
			b, err := mpi.BufOf(ps, 2, rs)
			if err != nil {
				return err
			}
			return mpi.SendBuf(w, b, 1, 3)
		}
		b, err := mpi.BufOf(ps, 2, rs)
		if err != nil {
			return err
		}
		st2, err := mpi.RecvBuf(w, b, 0, 3)
		if err != nil {
			return err
		}
		if err := want("CountOf", mpi.CountOf(st2, rs), 2); err != nil {
			return err
		}
		// Name is not in the datatype: it stays zero.
		return want("resized struct", ps[1], particle{ID: 9, Pos: [3]float64{1, 2, 3}})
	}},
	{"buf checks and lifetimes", func(w *mpi.Comm) error {
		f := float64Type()
		v, err := mpi.Vector(3, 1, 4, f)
		if err != nil {
			return err
		}
		if _, err := mpi.BufOf(iota64(12), 1, v); wantInvalid(err, mpi.ErrType) != nil {
			return fmt.Errorf("uncommitted: %v", err)
		}
		if err := v.Commit(); err != nil {
			return err
		}
		if err := v.Commit(); err != nil {
			return fmt.Errorf("second Commit: %v", err)
		}
		// Three rows of four need 12 elements from the first: 9 hold the
		// column, but a second column would run past them.
		if _, err := mpi.BufOf(iota64(9), 1, v); err != nil {
			return err
		}
		if _, err := mpi.BufOf(iota64(10), 2, v); wantInvalid(err, mpi.ErrBuffer) != nil {
			return fmt.Errorf("past the end: %v", err)
		}
		neg, err := mpi.Hindexed([]int{1}, []int{-8}, f)
		if err != nil {
			return err
		}
		neg.Commit()
		defer neg.Free()
		if _, err := mpi.BufOf(iota64(4), 1, neg); wantInvalid(err, mpi.ErrBuffer) != nil {
			return fmt.Errorf("before the start: %v", err)
		}
		if _, err := mpi.BufOf([]string{"x"}, 1, v); wantInvalid(err, mpi.ErrType) != nil {
			return fmt.Errorf("slice of strings: %v", err)
		}
		// Extents so large that count*extent wraps around to the slice
		// (5 elements 2⁶² bytes apart end at 2⁶⁴ = 0) touch memory far
		// outside it.
		far, err := mpi.Resized(f, 0, 1<<62)
		if err != nil {
			return err
		}
		defer far.Free()
		if err := far.Commit(); err != nil {
			return err
		}
		wide, err := mpi.Hvector(3, 1, 1<<61, f)
		if err != nil {
			return err
		}
		defer wide.Free()
		if err := wide.Commit(); err != nil {
			return err
		}
		for _, c := range []struct {
			dt    *mpi.Datatype
			count int
		}{{far, 5}, {far, 2}, {wide, 1}} {
			if _, err := mpi.BufOf(iota64(4), c.count, c.dt); wantInvalid(err, mpi.ErrBuffer) != nil {
				return fmt.Errorf("%d elements of extent %d: %v", c.count, c.dt.Size(), err)
			}
		}
		if _, err := mpi.BufOf(iota64(4), 1, far); err != nil {
			return fmt.Errorf("one element of a huge extent: %v", err)
		}
		// Zero elements of any datatype: a legal, empty message.
		b, err := mpi.BufOf([]float64(nil), 0, v)
		if err != nil {
			return err
		}
		if err := v.Free(); err != nil {
			return err
		}
		if err := v.Free(); err != nil {
			return fmt.Errorf("second Free: %v", err)
		}
		if err := mpi.SendBuf(w, b, peer(w), 0); !errors.Is(err, os.ErrClosed) {
			return fmt.Errorf("Buf of a freed datatype: %v, want ErrClosed", err)
		}
		if v.Size() != 0 {
			return fmt.Errorf("freed datatype has size %d", v.Size())
		}
		if _, err := mpi.Contiguous(-1, f); wantInvalid(err, mpi.ErrArg) != nil {
			return fmt.Errorf("negative count: %v", err)
		}
		// Nil is not freed: it is refused as a nil handle (doc.go, Lifetimes).
		_, err = mpi.Contiguous(1, nil)
		return wantNil("Contiguous of a nil datatype", err, mpi.ErrType)
	}},
	{"datatypes past 2⁶³ bytes", func(w *mpi.Comm) error {
		// MPI computes extents with wrapping arithmetic: the subarray's
		// block at 2⁶⁴+40 bytes would claim to be at byte 40, inside a
		// small slice, and the others would claim spans they do not have.
		f := float64Type()
		const g = 1 << 30
		wide, err := mpi.Vector(1<<20, 1, g, f) // 2⁵³ bytes: fine
		if err != nil {
			return err
		}
		defer wide.Free()
		for name, build := range map[string]func() (*mpi.Datatype, error){
			"subarray": func() (*mpi.Datatype, error) {
				return mpi.Subarray([]int{g, g, g}, []int{1, 1, 1}, []int{2, 0, 5}, mpi.OrderC, f)
			},
			"contiguous":    func() (*mpi.Datatype, error) { return mpi.Contiguous(1<<11, wide) },
			"vector":        func() (*mpi.Datatype, error) { return mpi.Vector(1<<20, 1, 1<<20, wide) },
			"hvector":       func() (*mpi.Datatype, error) { return mpi.Hvector(3, 1, 1<<62, f) },
			"indexed":       func() (*mpi.Datatype, error) { return mpi.Indexed([]int{1}, []int{g}, wide) },
			"hindexed":      func() (*mpi.Datatype, error) { return mpi.Hindexed([]int{g}, []int{0}, wide) },
			"indexed block": func() (*mpi.Datatype, error) { return mpi.IndexedBlock(1, []int{g}, wide) },
			"struct":        func() (*mpi.Datatype, error) { return mpi.Struct([]int{g}, []int{0}, []*mpi.Datatype{wide}) },
			"resized":       func() (*mpi.Datatype, error) { return mpi.Resized(f, 1<<62, 1<<62) },
		} {
			dt, err := build()
			if err := wantInvalid(err, mpi.ErrArg); err != nil {
				dt.Free()
				return fmt.Errorf("%s: %v", name, err)
			}
		}
		return nil
	}},
	{"nonblocking buf", func(w *mpi.Comm) error {
		f := float64Type()
		col, err := mpi.Vector(3, 1, 4, f)
		if err != nil {
			return err
		}
		defer col.Free()
		col.Commit()
		m := make([]float64, 12)
		if w.Rank() == 0 {
			m = iota64(12)
		}
		b, err := mpi.BufOf(m[2:], 1, col)
		if err != nil {
			return err
		}
		var r *mpi.Request
		if w.Rank() == 0 {
			r, err = mpi.IsendBuf(w, b, 1, 4)
		} else {
			r, err = mpi.IrecvBuf(w, b, 0, 4)
		}
		if err != nil {
			return err
		}
		if _, err := r.Wait(); err != nil {
			return err
		}
		if err := mpi.BcastBuf(w, b, 0); err != nil {
			return err
		}
		if w.Rank() == 1 {
			want := make([]float64, 12)
			want[2], want[6], want[10] = 2, 6, 10
			return wantSlice("column", m, want)
		}
		return nil
	}},
}
