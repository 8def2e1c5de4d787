package mpi

// #include "shim.h"
import "C"

import "runtime"

// Comm is an MPI communicator. World and Self are predefined; Dup, Split,
// SplitType and Create make new ones, which the caller frees with Free.
//
// A Comm may be used from several goroutines when the thread level allows it
// (see Init), but Free must not race with its use.
type Comm struct {
	c          C.MPI_Comm
	rank, size int
	name       string // for errors: "world", "self" or "comm"
	predefined bool
	inter      bool // an intercommunicator (intercomm.go): size and rank are the local group's
	remote     int  // the remote group's size, for an intercommunicator
}

var (
	// Their rank and size are set by Init; a size of 0 until then makes Rank
	// Undefined.
	world = &Comm{c: C.goipc_comm_world, name: "MPI_COMM_WORLD", predefined: true}
	self  = &Comm{c: C.goipc_comm_self, name: "MPI_COMM_SELF", predefined: true}
)

// World returns MPI_COMM_WORLD, every process of the job.
func World() *Comm { return world }

// Self returns MPI_COMM_SELF, this process alone.
func Self() *Comm { return self }

// fill caches the rank and size, which never change for a communicator.
func (c *Comm) fill() error {
	var r, s C.int
	if err := check("MPI_Comm_rank", C.MPI_Comm_rank(c.c, &r)); err != nil {
		return err
	}
	if err := check("MPI_Comm_size", C.MPI_Comm_size(c.c, &s)); err != nil {
		return err
	}
	c.rank, c.size = int(r), int(s)
	return c.fillInter()
}

// handle returns the C communicator, or an error if MPI may not be called
// now (see running) or c is nil, zero or freed.
func (c *Comm) handle(op string) (C.MPI_Comm, error) {
	if err := c.usable(op); err != nil {
		return C.goipc_comm_null, err
	}
	if c.inter && !interOps[op] {
		return C.goipc_comm_null, notInter(op, c)
	}
	return c.c, running(op)
}

func (c *Comm) usable(op string) error {
	if c == nil || isZero(c.c) {
		return nilHandle(op, ErrComm, "communicator")
	}
	if c.c == C.goipc_comm_null {
		return closed(op, "communicator was freed")
	}
	return nil
}

// peer returns the C communicator, rank and tag of a point-to-point call,
// checked as rankTag does, for the calls whose C wrappers check the thread
// (shim.h), so that they pay no cgo call for it here.
func (c *Comm) peer(op string, rank, tag int) (h C.MPI_Comm, r, t C.int, err error) {
	if err = c.usable(op); err != nil {
		return
	}
	if err = ready(op); err != nil {
		return
	}
	r, t, err = rankTag(op, rank, tag)
	return c.c, r, t, err
}

// rankTag converts a rank and a tag for MPI, which takes C ints: a value
// outside int32 would wrap around to another rank or tag, so it is refused
// before the call, as is a tag above MPI_TAG_UB. The values MPI can judge
// itself (a rank outside the communicator, a negative tag) are left to it.
func rankTag(op string, rank, tag int) (C.int, C.int, error) {
	if int(int32(rank)) != rank {
		return 0, 0, invalid(op, ErrRank, "rank %d is outside MPI's int range", rank)
	}
	if tag > tagUB || int(int32(tag)) != tag {
		return 0, 0, invalid(op, ErrTag, "tag %d is outside [0, MPI_TAG_UB %d]", tag, tagUB)
	}
	return C.int(rank), C.int(tag), nil
}

// cint converts an int argument that MPI takes as a C int (a color, a key),
// refusing one that would wrap around.
func cint(op, what string, v int) (C.int, error) {
	if int(int32(v)) != v {
		return 0, invalid(op, ErrArg, "%s %d is outside MPI's int range", what, v)
	}
	return C.int(v), nil
}

// Rank returns this process's rank in c (MPI_Comm_rank, cached), or
// Undefined for a nil communicator (the one Split gives a process it leaves
// out), a zero or freed one, and World and Self before Init: a rank that
// every call refuses.
func (c *Comm) Rank() int {
	if c == nil || c.size == 0 {
		return Undefined
	}
	return c.rank
}

// Size returns the number of processes in c (MPI_Comm_size, cached), or 0
// for a nil, zero or freed communicator, and World and Self before Init.
func (c *Comm) Size() int {
	if c == nil {
		return 0
	}
	return c.size
}

func (c *Comm) String() string {
	if c == nil {
		return "<nil>"
	}
	if c.name == "" {
		return "<zero>"
	}
	return c.name
}

func newComm(c C.MPI_Comm) (*Comm, error) {
	if c == C.goipc_comm_null {
		return nil, nil
	}
	nc := &Comm{c: c, name: "communicator"}
	if err := nc.fill(); err != nil {
		C.MPI_Comm_free(&nc.c)
		return nil, err
	}
	return nc, nil
}

// Dup returns a new communicator with the same group (MPI_Comm_dup); a library
// uses one so that its messages never match the application's.
func (c *Comm) Dup() (*Comm, error) {
	h, err := c.handle("MPI_Comm_dup")
	if err != nil {
		return nil, err
	}
	var nc C.MPI_Comm
	if err := check("MPI_Comm_dup", C.MPI_Comm_dup(h, &nc)); err != nil {
		return nil, err
	}
	return newComm(nc)
}

// Undefined as a color leaves the process out of every communicator Split
// makes; Split then returns nil.
const Undefined = int(C.MPI_UNDEFINED)

// Split partitions c (MPI_Comm_split): processes that pass the same color end
// up in one new communicator, ordered by key (then by rank in c). Every
// process of c must call it. A process passing Undefined gets nil.
func (c *Comm) Split(color, key int) (*Comm, error) {
	h, err := c.handle("MPI_Comm_split")
	if err != nil {
		return nil, err
	}
	if color < 0 && color != Undefined {
		return nil, invalid("MPI_Comm_split", ErrArg, "color %d is negative", color)
	}
	cc, err := cint("MPI_Comm_split", "color", color)
	if err != nil {
		return nil, err
	}
	ck, err := cint("MPI_Comm_split", "key", key)
	if err != nil {
		return nil, err
	}
	var nc C.MPI_Comm
	if err := check("MPI_Comm_split", C.MPI_Comm_split(h, cc, ck, &nc)); err != nil {
		return nil, err
	}
	return newComm(nc)
}

// SplitKind is the kind of locality SplitType groups processes by.
type SplitKind int

// TypeShared groups the processes that can share memory: those on one node
// (MPI_COMM_TYPE_SHARED).
const TypeShared SplitKind = C.MPI_COMM_TYPE_SHARED

// SplitType partitions c by locality (MPI_Comm_split_type): with TypeShared,
// into one communicator per shared-memory node, ordered by key.
func (c *Comm) SplitType(kind SplitKind, key int) (*Comm, error) {
	h, err := c.handle("MPI_Comm_split_type")
	if err != nil {
		return nil, err
	}
	ck, err := cint("MPI_Comm_split_type", "key", key)
	if err != nil {
		return nil, err
	}
	var nc C.MPI_Comm
	rc := C.MPI_Comm_split_type(h, C.int(kind), ck, C.goipc_info_null, &nc)
	if err := check("MPI_Comm_split_type", rc); err != nil {
		return nil, err
	}
	return newComm(nc)
}

// Comparison is the result of Compare.
type Comparison int

// The results of MPI_Comm_compare.
const (
	Ident     Comparison = C.MPI_IDENT     // the same communicator
	Congruent Comparison = C.MPI_CONGRUENT // same processes in the same order, another context
	Similar   Comparison = C.MPI_SIMILAR   // same processes, another order
	Unequal   Comparison = C.MPI_UNEQUAL
)

func (r Comparison) String() string {
	switch r {
	case Ident:
		return "ident"
	case Congruent:
		return "congruent"
	case Similar:
		return "similar"
	}
	return "unequal"
}

// Compare compares two communicators (MPI_Comm_compare).
func (c *Comm) Compare(other *Comm) (Comparison, error) {
	h, err := c.handle("MPI_Comm_compare")
	if err != nil {
		return Unequal, err
	}
	o, err := other.handle("MPI_Comm_compare")
	if err != nil {
		return Unequal, err
	}
	var r C.int
	err = check("MPI_Comm_compare", C.MPI_Comm_compare(h, o, &r))
	return Comparison(r), err
}

// Free releases a communicator this package made (MPI_Comm_free). It is
// collective, nil-safe and idempotent; World and Self cannot be freed. After
// Finalize it returns an error matching os.ErrClosed, as Group.Free and
// Op.Free do: MPI has released everything by then.
func (c *Comm) Free() error {
	if c == nil || isZero(c.c) || c.c == C.goipc_comm_null {
		return nil
	}
	if c.predefined {
		return invalid("MPI_Comm_free", ErrComm, "%s cannot be freed", c.name)
	}
	if err := running("MPI_Comm_free"); err != nil {
		return err
	}
	if err := check("MPI_Comm_free", C.MPI_Comm_free(&c.c)); err != nil {
		return err
	}
	c.freed()
	return nil
}

// freed forgets the cached rank and size of a communicator MPI has freed,
// which Rank and Size then report as Undefined and 0.
func (c *Comm) freed() { c.rank, c.size, c.remote = Undefined, 0, 0 }

// Group is an ordered set of processes (MPI_Group), used to build a
// communicator of chosen ranks with Comm.Create.
type Group struct{ g C.MPI_Group }

// Group returns the group of c (MPI_Comm_group); free it with Free.
func (c *Comm) Group() (*Group, error) {
	h, err := c.handle("MPI_Comm_group")
	if err != nil {
		return nil, err
	}
	g := &Group{}
	return g, check("MPI_Comm_group", C.MPI_Comm_group(h, &g.g))
}

func (g *Group) handle(op string) (C.MPI_Group, error) {
	if g == nil || isZero(g.g) {
		return C.goipc_group_null, nilHandle(op, ErrGroup, "group")
	}
	if g.g == C.goipc_group_null {
		return C.goipc_group_null, closed(op, "group was freed")
	}
	return g.g, running(op)
}

// Size returns the number of processes in g, or 0 if g is nil, zero or
// freed, or MPI is not running.
func (g *Group) Size() int {
	h, err := g.handle("MPI_Group_size")
	if err != nil {
		return 0
	}
	var n C.int
	C.MPI_Group_size(h, &n)
	return int(n)
}

// Rank returns this process's rank in g, or Undefined if it is not a member
// (or g is nil, zero or freed, or MPI is not running).
func (g *Group) Rank() int {
	h, err := g.handle("MPI_Group_rank")
	if err != nil {
		return Undefined
	}
	var r C.int
	C.MPI_Group_rank(h, &r)
	return int(r)
}

// cints converts Go ints to a C int array, checking each against [lo, hi).
func cints(op, what string, v []int, lo, hi int) ([]C.int, error) {
	out := make([]C.int, len(v))
	for i, x := range v {
		if x < lo || x >= hi {
			return nil, invalid(op, ErrArg, "%s[%d] = %d is outside [%d, %d)", what, i, x, lo, hi)
		}
		out[i] = C.int(x)
	}
	return out, nil
}

// Incl returns the group of g's processes with the given ranks, in that order
// (MPI_Group_incl). The ranks must be distinct.
func (g *Group) Incl(ranks ...int) (*Group, error) {
	h, err := g.handle("MPI_Group_incl")
	if err != nil {
		return nil, err
	}
	cr, err := cints("MPI_Group_incl", "ranks", ranks, 0, g.Size())
	if err != nil {
		return nil, err
	}
	// Open MPI 4.1 and MPICH 4.0.2 both took (1, 3, 1) of four processes,
	// and MPICH made a group of three of it, which only a later call refuses.
	seen := make([]bool, g.Size())
	for i, r := range ranks {
		if seen[r] {
			return nil, invalid("MPI_Group_incl", ErrRank, "ranks[%d] = %d is listed twice", i, r)
		}
		seen[r] = true
	}
	ng := &Group{}
	var p *C.int
	if len(cr) > 0 {
		p = &cr[0]
	}
	return ng, check("MPI_Group_incl", C.MPI_Group_incl(h, C.int(len(cr)), p, &ng.g))
}

// Translate returns the ranks in other of the processes with the given ranks
// in g (MPI_Group_translate_ranks); a process not in other gets Undefined.
func (g *Group) Translate(ranks []int, other *Group) ([]int, error) {
	h, err := g.handle("MPI_Group_translate_ranks")
	if err != nil {
		return nil, err
	}
	o, err := other.handle("MPI_Group_translate_ranks")
	if err != nil {
		return nil, err
	}
	cr, err := cints("MPI_Group_translate_ranks", "ranks", ranks, 0, g.Size())
	if err != nil || len(cr) == 0 {
		return nil, err
	}
	out := make([]C.int, len(cr))
	if err := check("MPI_Group_translate_ranks", C.MPI_Group_translate_ranks(h, C.int(len(cr)), &cr[0], o, &out[0])); err != nil {
		return nil, err
	}
	res := make([]int, len(out))
	for i, r := range out {
		res[i] = int(r)
	}
	return res, nil
}

// Free releases g (MPI_Group_free); it is nil-safe and idempotent, and after
// Finalize returns an error matching os.ErrClosed, as Comm.Free does.
func (g *Group) Free() error {
	if g == nil || isZero(g.g) || g.g == C.goipc_group_null || g.g == C.goipc_group_empty {
		return nil
	}
	if err := running("MPI_Group_free"); err != nil {
		return err
	}
	return check("MPI_Group_free", C.MPI_Group_free(&g.g))
}

// Create returns a communicator of the processes in g, a subgroup of c's
// group (MPI_Comm_create). Every process of c must call it; those outside g
// get nil.
func (c *Comm) Create(g *Group) (*Comm, error) {
	h, err := c.handle("MPI_Comm_create")
	if err != nil {
		return nil, err
	}
	gh, err := g.handle("MPI_Comm_create")
	if err != nil {
		return nil, err
	}
	var nc C.MPI_Comm
	err = check("MPI_Comm_create", C.MPI_Comm_create(h, gh, &nc))
	runtime.KeepAlive(g)
	if err != nil {
		return nil, err
	}
	return newComm(nc)
}
