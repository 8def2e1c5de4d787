package mpi

// #include "shim.h"
//
// // MPI_UNWEIGHTED is (int *)2 in Open MPI, a value Go must not hold in a
// // pointer, so the choice is made here.
// static int goipc_dist_graph_create_adjacent(MPI_Comm c, int in, const int *src, const int *srcw,
//		int out, const int *dst, const int *dstw, int weighted, int reorder, MPI_Comm *nc) {
//	if (!weighted) {
//		srcw = MPI_UNWEIGHTED;
//		dstw = MPI_UNWEIGHTED;
//	} else if (in == 0) {
//		srcw = MPI_WEIGHTS_EMPTY;
//	}
//	if (weighted && out == 0)
//		dstw = MPI_WEIGHTS_EMPTY;
//	return MPI_Dist_graph_create_adjacent(c, in, src, srcw, out, dst, dstw, MPI_INFO_NULL, reorder, nc);
// }
import "C"

// Topology is the kind of process topology a communicator carries
// (MPI_Topo_test).
type Topology int

// The topologies; NoTopology is a communicator without one.
const (
	NoTopology Topology = C.MPI_UNDEFINED
	Cart       Topology = C.MPI_CART
	Graph      Topology = C.MPI_GRAPH
	DistGraph  Topology = C.MPI_DIST_GRAPH
)

func (t Topology) String() string {
	switch t {
	case Cart:
		return "cartesian"
	case Graph:
		return "graph"
	case DistGraph:
		return "distributed graph"
	}
	return "none"
}

// DimsCreate returns a balanced grid of nnodes processes in len(dims)
// dimensions (MPI_Dims_create): the nonzero entries of dims are kept, the
// zeros filled in, in non-increasing order. dims is not modified.
func DimsCreate(nnodes int, dims []int) ([]int, error) {
	const op = "MPI_Dims_create"
	if err := running(op); err != nil {
		return nil, err
	}
	if nnodes < 1 || len(dims) == 0 {
		return nil, invalid(op, ErrArg, "%d processes in %d dimensions", nnodes, len(dims))
	}
	cn, err := nonNeg(op, "processes", nnodes)
	if err != nil {
		return nil, err
	}
	cd, err := cintSlice(op, "dimension", dims, true)
	if err != nil {
		return nil, err
	}
	if err := check(op, C.MPI_Dims_create(cn, C.int(len(cd)), &cd[0])); err != nil {
		return nil, err
	}
	return goInts(cd), nil
}

func goInts(v []C.int) []int {
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

func cbools(v []bool) []C.int {
	out := make([]C.int, len(v))
	for i, b := range v {
		if b {
			out[i] = 1
		}
	}
	return out
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// Topology returns the kind of topology c carries (MPI_Topo_test).
func (c *Comm) Topology() (Topology, error) {
	h, err := c.handle("MPI_Topo_test")
	if err != nil {
		return NoTopology, err
	}
	var t C.int
	err = check("MPI_Topo_test", C.MPI_Topo_test(h, &t))
	return Topology(t), err
}

// CartCreate returns a communicator of c's processes arranged in a
// Cartesian grid of dims, periodic in the dimensions where periods is true
// (MPI_Cart_create); with reorder, MPI may renumber the ranks to fit the
// machine. It is collective; processes beyond the grid's size get nil. Free
// it with Free.
func (c *Comm) CartCreate(dims []int, periods []bool, reorder bool) (*Comm, error) {
	const op = "MPI_Cart_create"
	h, err := c.handle(op)
	if err != nil {
		return nil, err
	}
	if len(dims) == 0 || len(periods) != len(dims) {
		return nil, invalid(op, ErrArg, "%d dimensions with %d periods", len(dims), len(periods))
	}
	n := 1
	for _, d := range dims {
		if d < 1 {
			return nil, invalid(op, ErrArg, "dimension of %d processes", d)
		}
		if n *= d; n > c.size {
			return nil, invalid(op, ErrArg, "a grid of %v needs more than the %d processes of the communicator", dims, c.size)
		}
	}
	cd, cp := cintsUnchecked(dims), cbools(periods)
	var nc C.MPI_Comm
	if err := check(op, C.MPI_Cart_create(h, C.int(len(cd)), &cd[0], &cp[0], cbool(reorder), &nc)); err != nil {
		return nil, err
	}
	return newComm(nc)
}

// cintsUnchecked converts values already checked to fit.
func cintsUnchecked(v []int) []C.int {
	out := make([]C.int, len(v))
	for i, x := range v {
		out[i] = C.int(x)
	}
	return out
}

// cartDims returns the number of dimensions of a Cartesian communicator.
func (c *Comm) cartDims(op string) (C.MPI_Comm, int, error) {
	h, err := c.handle(op)
	if err != nil {
		return h, 0, err
	}
	var t, n C.int
	if err := check(op, C.MPI_Topo_test(h, &t)); err != nil {
		return h, 0, err
	}
	if Topology(t) != Cart {
		return h, 0, invalid(op, ErrArg, "%s has no Cartesian topology", c.name)
	}
	err = check(op, C.MPI_Cartdim_get(h, &n))
	return h, int(n), err
}

// CartGet returns the grid's dimensions and periodicity and this process's
// coordinates in it (MPI_Cart_get).
func (c *Comm) CartGet() (dims []int, periods []bool, coords []int, err error) {
	const op = "MPI_Cart_get"
	h, n, err := c.cartDims(op)
	if err != nil {
		return nil, nil, nil, err
	}
	cd, cp, cc := make([]C.int, n), make([]C.int, n), make([]C.int, n)
	if err := check(op, C.MPI_Cart_get(h, C.int(n), ptr(cd), ptr(cp), ptr(cc))); err != nil {
		return nil, nil, nil, err
	}
	periods = make([]bool, n)
	for i, p := range cp {
		periods[i] = p != 0
	}
	return goInts(cd), periods, goInts(cc), nil
}

// CartCoords returns the coordinates of rank in the grid (MPI_Cart_coords).
func (c *Comm) CartCoords(rank int) ([]int, error) {
	const op = "MPI_Cart_coords"
	h, n, err := c.cartDims(op)
	if err != nil {
		return nil, err
	}
	if rank < 0 || rank >= c.size {
		return nil, invalid(op, ErrRank, "rank %d is not a rank of a communicator of %d", rank, c.size)
	}
	cc := make([]C.int, n)
	if err := check(op, C.MPI_Cart_coords(h, C.int(rank), C.int(n), ptr(cc))); err != nil {
		return nil, err
	}
	return goInts(cc), nil
}

// CartRank returns the rank at coords (MPI_Cart_rank); in a periodic
// dimension, coordinates outside the grid wrap around.
func (c *Comm) CartRank(coords []int) (int, error) {
	const op = "MPI_Cart_rank"
	h, n, err := c.cartDims(op)
	if err != nil {
		return Undefined, err
	}
	if len(coords) != n {
		return Undefined, invalid(op, ErrArg, "%d coordinates for a grid of %d dimensions", len(coords), n)
	}
	cc, err := cintSlice(op, "coordinate", coords, false)
	if err != nil {
		return Undefined, err
	}
	var r C.int
	err = check(op, C.MPI_Cart_rank(h, ptr(cc), &r))
	return int(r), err
}

// CartShift returns the ranks disp steps behind and ahead of this process in
// dimension dim (MPI_Cart_shift), the source and destination of a shift
// along it: ProcNull past an open edge, so that a Sendrecv there does
// nothing.
func (c *Comm) CartShift(dim, disp int) (source, dest int, err error) {
	const op = "MPI_Cart_shift"
	h, n, err := c.cartDims(op)
	if err != nil {
		return ProcNull, ProcNull, err
	}
	if dim < 0 || dim >= n {
		return ProcNull, ProcNull, invalid(op, ErrArg, "dimension %d of a grid of %d", dim, n)
	}
	cd, err := cint(op, "displacement", disp)
	if err != nil {
		return ProcNull, ProcNull, err
	}
	var s, d C.int
	err = check(op, C.MPI_Cart_shift(h, C.int(dim), cd, &s, &d))
	return int(s), int(d), err
}

// CartSub splits a Cartesian communicator into grids of lower dimension
// (MPI_Cart_sub): each keeps the dimensions where remain is true, and holds
// the processes that share their coordinates in the others. It is
// collective; free the result with Free.
func (c *Comm) CartSub(remain []bool) (*Comm, error) {
	const op = "MPI_Cart_sub"
	h, n, err := c.cartDims(op)
	if err != nil {
		return nil, err
	}
	if len(remain) != n {
		return nil, invalid(op, ErrArg, "%d flags for a grid of %d dimensions", len(remain), n)
	}
	cr := cbools(remain)
	var nc C.MPI_Comm
	if err := check(op, C.MPI_Cart_sub(h, ptr(cr), &nc)); err != nil {
		return nil, err
	}
	return newComm(nc)
}

// DistGraphCreateAdjacent returns a communicator of c's processes with a
// distributed graph topology in which this process receives from sources and
// sends to dests (MPI_Dist_graph_create_adjacent); nil weights make the graph
// unweighted, and then both must be nil. The neighbor collectives follow the
// order of sources and dests. It is collective; free the result with Free.
func (c *Comm) DistGraphCreateAdjacent(sources, sourceWeights, dests, destWeights []int, reorder bool) (*Comm, error) {
	const op = "MPI_Dist_graph_create_adjacent"
	h, err := c.handle(op)
	if err != nil {
		return nil, err
	}
	weighted := sourceWeights != nil || destWeights != nil
	if weighted && (len(sourceWeights) != len(sources) || len(destWeights) != len(dests)) {
		return nil, invalid(op, ErrArg, "%d source weights for %d sources, %d destination weights for %d destinations",
			len(sourceWeights), len(sources), len(destWeights), len(dests))
	}
	src, err := cints(op, "sources", sources, 0, c.size)
	if err != nil {
		return nil, err
	}
	dst, err := cints(op, "dests", dests, 0, c.size)
	if err != nil {
		return nil, err
	}
	sw, err1 := cintSlice(op, "weight", sourceWeights, true)
	dw, err2 := cintSlice(op, "weight", destWeights, true)
	if err := firstErr(err1, err2); err != nil {
		return nil, err
	}
	var nc C.MPI_Comm
	rc := C.goipc_dist_graph_create_adjacent(h, C.int(len(src)), ptr(src), ptr(sw), C.int(len(dst)), ptr(dst), ptr(dw),
		cbool(weighted), cbool(reorder), &nc)
	if err := check(op, rc); err != nil {
		return nil, err
	}
	return newComm(nc)
}

// DistGraphNeighbors returns the ranks this process receives from and sends
// to in a distributed graph (MPI_Dist_graph_neighbors), in the order the
// neighbor collectives use.
func (c *Comm) DistGraphNeighbors() (sources, dests []int, err error) {
	const op = "MPI_Dist_graph_neighbors"
	h, err := c.handle(op)
	if err != nil {
		return nil, nil, err
	}
	var in, out, weighted C.int
	if err := check(op, C.MPI_Dist_graph_neighbors_count(h, &in, &out, &weighted)); err != nil {
		return nil, nil, err
	}
	// Room for the weights too: MPI writes them when the graph has them.
	src, sw := make([]C.int, in+1), make([]C.int, in+1)
	dst, dw := make([]C.int, out+1), make([]C.int, out+1)
	if err := check(op, C.MPI_Dist_graph_neighbors(h, in, &src[0], &sw[0], out, &dst[0], &dw[0])); err != nil {
		return nil, nil, err
	}
	return goInts(src[:in]), goInts(dst[:out]), nil
}

// GraphCreate returns a communicator with the graph topology of MPI-1
// (MPI_Graph_create): node i's neighbors are edges[index[i-1]:index[i]]
// (from 0 for node 0). Prefer DistGraphCreateAdjacent, which scales.
func (c *Comm) GraphCreate(index, edges []int, reorder bool) (*Comm, error) {
	const op = "MPI_Graph_create"
	h, err := c.handle(op)
	if err != nil {
		return nil, err
	}
	if len(index) == 0 || len(index) > c.size {
		return nil, invalid(op, ErrArg, "%d nodes in a communicator of %d", len(index), c.size)
	}
	prev := 0
	for i, x := range index {
		if x < prev || x > len(edges) {
			return nil, invalid(op, ErrArg, "index[%d] = %d is not between %d and %d edges", i, x, prev, len(edges))
		}
		prev = x
	}
	if index[len(index)-1] != len(edges) {
		return nil, invalid(op, ErrArg, "index ends at %d for %d edges", index[len(index)-1], len(edges))
	}
	ci := cintsUnchecked(index)
	ce, err := cints(op, "edges", edges, 0, len(index))
	if err != nil {
		return nil, err
	}
	var nc C.MPI_Comm
	if err := check(op, C.MPI_Graph_create(h, C.int(len(ci)), &ci[0], ptr(ce), cbool(reorder), &nc)); err != nil {
		return nil, err
	}
	return newComm(nc)
}

// neighbors returns how many neighbors c's topology gives this process to
// receive from and send to, for the neighbor collectives.
func (c *Comm) neighbors(op string) (C.MPI_Comm, int, int, error) {
	h, err := c.handle(op)
	if err != nil {
		return h, 0, 0, err
	}
	var t C.int
	if err := check(op, C.MPI_Topo_test(h, &t)); err != nil {
		return h, 0, 0, err
	}
	switch Topology(t) {
	case Cart:
		var n C.int
		err := check(op, C.MPI_Cartdim_get(h, &n))
		return h, 2 * int(n), 2 * int(n), err
	case DistGraph:
		var in, out, w C.int
		err := check(op, C.MPI_Dist_graph_neighbors_count(h, &in, &out, &w))
		return h, int(in), int(out), err
	case Graph:
		var n C.int
		err := check(op, C.MPI_Graph_neighbors_count(h, C.int(c.rank), &n))
		return h, int(n), int(n), err
	}
	return h, 0, 0, invalid(op, ErrArg, "%s has no topology: neighbor collectives need one", c.name)
}
