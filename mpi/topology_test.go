package mpi_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/goipc/ipc/mpi"
)

func init() {
	children["topology"] = func([]string) error { return suite(mpi.ThreadFunneled, topologyChecks) }
}

func TestTopologyFourRanks(t *testing.T) {
	expectChecks(t, job(t, "topology", 4), topologyChecks)
}

// grid returns World as a 2x2 grid, periodic in dimension 1 only.
func grid(w *mpi.Comm) (*mpi.Comm, error) {
	dims, err := mpi.DimsCreate(w.Size(), []int{0, 0})
	if err != nil {
		return nil, err
	}
	return w.CartCreate(dims, []bool{false, true}, false)
}

// ring returns World as a distributed graph in which every rank receives from
// and sends to the rank before it and the one after it, in that order.
func ring(w *mpi.Comm) (*mpi.Comm, []int, error) {
	n, r := w.Size(), w.Rank()
	nb := []int{(r + n - 1) % n, (r + 1) % n}
	g, err := w.DistGraphCreateAdjacent(nb, nil, nb, nil, false)
	return g, nb, err
}

func ints(vals ...int) []int { return vals }

var topologyChecks = []check{
	{"dims create", func(w *mpi.Comm) error {
		cases := []struct {
			n          int
			dims, want []int
		}{{4, ints(0, 0), ints(2, 2)}, {6, ints(0, 3), ints(2, 3)}, {12, ints(0, 0, 0), ints(3, 2, 2)}, {7, ints(0, 0), ints(7, 1)}}
		for _, c := range cases {
			got, err := mpi.DimsCreate(c.n, c.dims)
			if err != nil {
				return err
			}
			if err := wantSlice(fmt.Sprintf("DimsCreate(%d, %v)", c.n, c.dims), got, c.want); err != nil {
				return err
			}
		}
		if _, err := mpi.DimsCreate(4, ints(3, 0)); err == nil {
			return errors.New("DimsCreate(4, [3 0]) succeeded")
		}
		_, err := mpi.DimsCreate(0, ints(0))
		return wantInvalid(err, mpi.ErrArg)
	}},
	{"cartesian", func(w *mpi.Comm) error {
		if topo, err := w.Topology(); err != nil || topo != mpi.NoTopology {
			return fmt.Errorf("World's topology: %v, %v", topo, err)
		}
		g, err := grid(w)
		if err != nil {
			return err
		}
		defer g.Free()
		if topo, err := g.Topology(); err != nil || topo != mpi.Cart {
			return fmt.Errorf("grid's topology: %v, %v", topo, err)
		}
		dims, periods, coords, err := g.CartGet()
		if err != nil {
			return err
		}
		r := g.Rank()
		if err := want("CartGet", fmt.Sprint(dims, periods, coords), fmt.Sprint([]int{2, 2}, []bool{false, true}, []int{r / 2, r % 2})); err != nil {
			return err
		}
		for rank := range g.Size() {
			c, err := g.CartCoords(rank)
			if err != nil {
				return err
			}
			if back, err := g.CartRank(c); err != nil || back != rank {
				return fmt.Errorf("CartRank(CartCoords(%d) = %v) = %d, %v", rank, c, back, err)
			}
		}
		// Dimension 1 wraps around: coordinate 2 is 0.
		if got, err := g.CartRank([]int{1, 2}); err != nil || got != 2 {
			return fmt.Errorf("CartRank([1 2]) = %d, %v, want 2", got, err)
		}
		src, dst, err := g.CartShift(0, 1)
		if err != nil {
			return err
		}
		wantSrc, wantDst := r-2, mpi.ProcNull
		if r < 2 {
			wantSrc, wantDst = mpi.ProcNull, r+2
		}
		if err := want("CartShift(0, 1)", [2]int{src, dst}, [2]int{wantSrc, wantDst}); err != nil {
			return err
		}
		src, dst, err = g.CartShift(1, 1)
		if err != nil {
			return err
		}
		if other := r ^ 1; src != other || dst != other {
			return fmt.Errorf("CartShift(1, 1) = %d, %d, want %d both ways", src, dst, other)
		}
		if _, _, err := g.CartShift(2, 1); wantInvalid(err, mpi.ErrArg) != nil {
			return fmt.Errorf("CartShift of dimension 2: %v", err)
		}
		if _, _, err := w.CartShift(0, 1); wantInvalid(err, mpi.ErrArg) != nil {
			return fmt.Errorf("CartShift on World: %v", err)
		}
		// The rows: dimension 1 remains.
		row, err := g.CartSub([]bool{false, true})
		if err != nil {
			return err
		}
		defer row.Free()
		sum := make([]int, 1)
		if err := mpi.Allreduce(row, []int{r}, sum, mpi.Sum); err != nil {
			return err
		}
		return want("row sum", [2]int{row.Size(), sum[0]}, [2]int{2, r/2*4 + 1})
	}},
	{"cartesian create bounds", func(w *mpi.Comm) error {
		if _, err := w.CartCreate([]int{3, 2}, []bool{false, false}, false); wantInvalid(err, mpi.ErrArg) != nil {
			return fmt.Errorf("grid of 6 over 4: %v", err)
		}
		line, err := w.CartCreate([]int{3}, []bool{false}, true)
		if err != nil {
			return err
		}
		if (line == nil) != (w.Rank() == 3) {
			return fmt.Errorf("rank %d: grid of 3 gave %v", w.Rank(), line)
		}
		return line.Free()
	}},
	{"neighbor allgather on a grid", func(w *mpi.Comm) error {
		g, err := grid(w)
		if err != nil {
			return err
		}
		defer g.Free()
		r := g.Rank()
		// Four neighbors: behind and ahead in dimension 0, then 1. Blocks from
		// ProcNull stay as they were.
		got := []int{-1, -1, -1, -1, -1, -1, -1, -1}
		if err := mpi.NeighborAllgather(g, []int{r, 10 * r}, got); err != nil {
			return err
		}
		up, down, other := r-2, r+2, r^1
		wantGot := []int{-1, -1, down, 10 * down, other, 10 * other, other, 10 * other}
		if r >= 2 {
			wantGot = []int{up, 10 * up, -1, -1, other, 10 * other, other, 10 * other}
		}
		if err := wantSlice("NeighborAllgather", got, wantGot); err != nil {
			return err
		}
		// Zero elements a neighbor is legal MPI.
		if err := mpi.NeighborAllgather(g, []int{}, []int{}); err != nil {
			return fmt.Errorf("empty NeighborAllgather: %v", err)
		}
		req, err := mpi.IneighborAllgather(g, []int{r + 100}, got[:4])
		if err != nil {
			return err
		}
		if _, err := req.Wait(); err != nil {
			return err
		}
		if err := wantSlice("IneighborAllgather dimension 1", got[2:4], []int{other + 100, other + 100}); err != nil {
			return err
		}
		if err := wantInvalid(mpi.NeighborAllgather(w, []int{1}, make([]int, 4)), mpi.ErrArg); err != nil {
			return fmt.Errorf("on World, which has no topology: %w", err)
		}
		return wantInvalid(mpi.NeighborAllgather(g, []int{1}, make([]int, 3)), mpi.ErrCount)
	}},
	{"neighbor exchanges on a ring", func(w *mpi.Comm) error {
		g, nb, err := ring(w)
		if err != nil {
			return err
		}
		defer g.Free()
		if topo, _ := g.Topology(); topo != mpi.DistGraph {
			return fmt.Errorf("ring topology %v", topo)
		}
		src, dst, err := g.DistGraphNeighbors()
		if err != nil {
			return err
		}
		if !slices.Equal(src, nb) || !slices.Equal(dst, nb) {
			return fmt.Errorf("DistGraphNeighbors = %v, %v, want %v", src, dst, nb)
		}
		r := g.Rank()
		// Alltoall: block j goes to neighbor j.
		got := make([]int, 2)
		if err := mpi.NeighborAlltoall(g, []int{100*r + 0, 100*r + 1}, got); err != nil {
			return err
		}
		// The rank before got our block 0 as its block 1 (from its next), and
		// we get its block 1 as our block 0.
		if err := wantSlice("NeighborAlltoall", got, []int{100*nb[0] + 1, 100*nb[1] + 0}); err != nil {
			return err
		}
		// Alltoallv: 1 element to the rank before, 2 to the one after.
		vgot := make([]int, 3)
		if err := mpi.NeighborAlltoallv(g, []int{r, r, r}, []int{1, 2}, nil, vgot, []int{2, 1}, nil); err != nil {
			return err
		}
		if err := wantSlice("NeighborAlltoallv", vgot, []int{nb[0], nb[0], nb[1]}); err != nil {
			return err
		}
		// Allgatherv, unpacked.
		agot := []int{-1, -1, -1}
		if err := mpi.NeighborAllgatherv(g, []int{r}, agot, []int{1, 1}, []int{2, 0}); err != nil {
			return err
		}
		if err := wantSlice("NeighborAllgatherv", agot, []int{nb[1], -1, nb[0]}); err != nil {
			return err
		}
		// Nonblocking forms.
		r1, err := mpi.IneighborAlltoall(g, []int{-r, -r}, got)
		if err != nil {
			return err
		}
		r2, err := mpi.IneighborAlltoallv(g, []int{r, r, r}, []int{1, 2}, nil, vgot, []int{2, 1}, nil)
		if err != nil {
			return err
		}
		r3, err := mpi.IneighborAllgatherv(g, []int{r + 1}, agot, []int{1, 1}, nil)
		if err != nil {
			return err
		}
		if _, err := mpi.WaitAll(r1, r2, r3); err != nil {
			return err
		}
		return errors.Join(wantSlice("IneighborAlltoall", got, []int{-nb[0], -nb[1]}),
			wantSlice("IneighborAllgatherv", agot[:2], []int{nb[0] + 1, nb[1] + 1}))
	}},
	{"neighbor alltoallw", func(w *mpi.Comm) error {
		g, nb, err := ring(w)
		if err != nil {
			return err
		}
		defer g.Free()
		f, _ := mpi.TypeOf[float64]()
		r := float64(g.Rank())
		// To the rank before: 2 float64 from offset 8; to the one after: 1.
		send := []float64{-1, r, r + 0.5, r + 0.25}
		recv := make([]byte, 32) // 2 float64 at 0, 1 at 24
		blocks := []mpi.Block{{Count: 2, Offset: 8, Type: f}, {Count: 1, Offset: 24, Type: f}}
		rblocks := []mpi.Block{{Count: 1, Offset: 24, Type: f}, {Count: 2, Offset: 0, Type: f}}
		if err := mpi.NeighborAlltoallw(g, send, blocks, recv, rblocks); err != nil {
			return err
		}
		// Read back as float64: neighbor after sent us its 2, before its 1.
		as := func(i int) float64 { return math.Float64frombits(binary.NativeEndian.Uint64(recv[8*i:])) }
		after, before := float64(nb[1]), float64(nb[0])
		if got := [3]float64{as(0), as(1), as(3)}; got != [3]float64{after, after + 0.5, before + 0.25} {
			return fmt.Errorf("NeighborAlltoallw received %v", got)
		}
		req, err := mpi.IneighborAlltoallw(g, send, blocks, recv, rblocks)
		if err != nil {
			return err
		}
		if _, err := req.Wait(); err != nil {
			return err
		}
		bad := []mpi.Block{{Count: 1, Offset: 28, Type: f}, {Count: 2, Offset: 0, Type: f}}
		if err := wantInvalid(mpi.NeighborAlltoallw(g, send, blocks, recv, bad), mpi.ErrBuffer); err != nil {
			return fmt.Errorf("block past the end: %w", err)
		}
		return wantInvalid(mpi.NeighborAlltoallw(g, send, blocks[:1], recv, rblocks), mpi.ErrCount)
	}},
	{"graph", func(w *mpi.Comm) error {
		// A star: node 0 linked to every other.
		n := w.Size()
		index, edges := []int{n - 1}, []int{}
		for i := 1; i < n; i++ {
			edges = append(edges, i)
		}
		for i := 1; i < n; i++ {
			index = append(index, index[len(index)-1]+1)
			edges = append(edges, 0)
		}
		g, err := w.GraphCreate(index, edges, false)
		if err != nil {
			return err
		}
		defer g.Free()
		if topo, _ := g.Topology(); topo != mpi.Graph {
			return fmt.Errorf("graph topology %v", topo)
		}
		deg := 1
		if g.Rank() == 0 {
			deg = n - 1
		}
		got := make([]int, deg)
		if err := mpi.NeighborAllgather(g, []int{g.Rank()}, got); err != nil {
			return err
		}
		if g.Rank() != 0 {
			return wantSlice("hub", got, []int{0})
		}
		return wantSlice("spokes", got, []int{1, 2, 3}[:n-1])
	}},
}
