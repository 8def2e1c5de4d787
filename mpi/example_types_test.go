package mpi_test

import (
	"fmt"
	"log"

	"github.com/goipc/ipc/mpi"
)

// These examples are programs to run under mpiexec, as any number of ranks;
// go test runs each in a process of its own as a job of one rank (TestExamples),
// whose output is shown. The tests run the same calls on 1, 2 and 4 ranks.

// Particle has the layout of the C struct particle { int32_t id; double
// pos[3]; char name[8]; }.
type Particle struct {
	ID    int32
	Pos   [3]float64
	Name  [8]byte
	Cache float64 `mpi:"-"` // local only: not part of the datatype
}

// A slice of structs travels like a slice of numbers: the struct datatype is
// built on the first call that meets the type, and reused.
func ExampleTypeOf() {
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		log.Fatal(err)
	}
	defer mpi.Finalize()
	w := mpi.World()
	ps := make([]Particle, 1000)
	if w.Rank() == 0 {
		for i := range ps {
			ps[i] = Particle{ID: int32(i), Pos: [3]float64{float64(i), 0, 0}}
		}
	}
	if err := mpi.Bcast(w, ps, 0); err != nil {
		log.Fatal(err)
	}
	dt, err := mpi.TypeOf[Particle]()
	if err != nil {
		log.Fatal(err)
	}
	lb, extent := dt.Extent()
	fmt.Println(dt.Size(), lb, extent, ps[999].ID)
	// Output: 36 0 48 999
}

// A column of a row-major matrix is a vector datatype; a Buf lays it over
// the slice, checking that it stays inside.
func ExampleVector() {
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		log.Fatal(err)
	}
	defer mpi.Finalize()
	w := mpi.World()
	const rows, cols = 4, 5
	m := make([]float64, rows*cols)
	f64, _ := mpi.TypeOf[float64]()
	col, err := mpi.Vector(rows, 1, cols, f64)
	if err != nil {
		log.Fatal(err)
	}
	defer col.Free()
	if err := col.Commit(); err != nil {
		log.Fatal(err)
	}
	if w.Rank() == 0 {
		for r := range rows {
			m[r*cols+2] = float64(r + 1)
		}
	}
	// Column 2: the Buf starts at its first element.
	b, err := mpi.BufOf(m[2:], 1, col)
	if err != nil {
		log.Fatal(err)
	}
	if err := mpi.BcastBuf(w, b, 0); err != nil {
		log.Fatal(err)
	}
	fmt.Println(m[2], m[2+cols], m[2+2*cols], m[2+3*cols])
	// Output: 1 2 3 4
}

// A 2-D grid of all ranks, and a shift along each dimension: ProcNull at the
// open edges makes the exchange there a no-op.
func ExampleComm_CartCreate() {
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		log.Fatal(err)
	}
	defer mpi.Finalize()
	w := mpi.World()
	dims, err := mpi.DimsCreate(w.Size(), []int{0, 0})
	if err != nil {
		log.Fatal(err)
	}
	grid, err := w.CartCreate(dims, []bool{false, false}, true)
	if err != nil {
		log.Fatal(err)
	}
	defer grid.Free()
	up, down, err := grid.CartShift(0, 1)
	if err != nil {
		log.Fatal(err)
	}
	edge := []float64{float64(grid.Rank())}
	halo := []float64{-1}
	if _, err := mpi.Sendrecv(grid, edge, up, 0, halo, down, 0); err != nil {
		log.Fatal(err)
	}
	// Every rank's four neighbors' values, ProcNull blocks left as they were.
	around := []float64{-1, -1, -1, -1}
	if err := mpi.NeighborAllgather(grid, edge, around); err != nil {
		log.Fatal(err)
	}
	// Alone, the rank is every edge of a 1x1 grid.
	fmt.Println(dims, up == mpi.ProcNull, down == mpi.ProcNull, halo, around)
	// Output: [1 1] true true [-1] [-1 -1 -1 -1]
}

// An Iallreduce overlaps a global sum with work that does not need it.
func ExampleIallreduce() {
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		log.Fatal(err)
	}
	defer mpi.Finalize()
	w := mpi.World()
	local, global := []float64{1.5}, []float64{0}
	req, err := mpi.Iallreduce(w, local, global, mpi.Sum)
	if err != nil {
		log.Fatal(err)
	}
	// ... compute; local and global belong to MPI until Wait ...
	if _, err := req.Wait(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(global[0]) // 1.5 times the number of ranks
	// Output: 1.5
}

// A persistent request is set up once and started round after round; its
// buffer is MPI's from SendInit to Free, and the caller's between a round's
// Wait and the next Start.
func ExampleSendInit() {
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		log.Fatal(err)
	}
	defer mpi.Finalize()
	w := mpi.World()
	out, in := []int{0}, []int{0}
	next, prev := (w.Rank()+1)%w.Size(), (w.Rank()+w.Size()-1)%w.Size()
	send, err := mpi.SendInit(w, out, next, 0)
	if err != nil {
		log.Fatal(err)
	}
	defer send.Free()
	recv, err := mpi.RecvInit(w, in, prev, 0)
	if err != nil {
		log.Fatal(err)
	}
	defer recv.Free()
	for round := range 10 {
		out[0] = round
		if err := mpi.StartAll(recv, send); err != nil {
			log.Fatal(err)
		}
		if _, err := recv.Wait(); err != nil {
			log.Fatal(err)
		}
		if _, err := send.Wait(); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println(in[0]) // the last round's, from the previous rank (itself, alone)
	// Output: 9
}

// A block of a grid, described in place by a subarray datatype: rank 0's
// 2x2 corner goes to the same place in every rank's copy.
func ExampleSubarray() {
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		log.Fatal(err)
	}
	defer mpi.Finalize()
	w := mpi.World()
	const n = 4
	grid := make([]int32, n*n)
	if w.Rank() == 0 {
		for i := range grid {
			grid[i] = int32(i)
		}
	}
	i32, _ := mpi.TypeOf[int32]()
	block, err := mpi.Subarray([]int{n, n}, []int{2, 2}, []int{1, 2}, mpi.OrderC, i32)
	if err != nil {
		log.Fatal(err)
	}
	defer block.Free()
	if err := block.Commit(); err != nil {
		log.Fatal(err)
	}
	b, err := mpi.BufOf(grid, 1, block)
	if err != nil {
		log.Fatal(err)
	}
	if err := mpi.BcastBuf(w, b, 0); err != nil {
		log.Fatal(err)
	}
	fmt.Println(block.Size(), grid[1*n+2:1*n+4], grid[2*n+2:2*n+4]) // 4 int32 of data
	// Output: 16 [6 7] [10 11]
}

// A buffered send returns once MPI has copied the message into the buffer
// attached for it, whether or not a receive is posted.
func ExampleBsend() {
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		log.Fatal(err)
	}
	defer mpi.Finalize()
	w := mpi.World()
	msg := []float64{1, 2, 3}
	if err := mpi.BufferAttach(len(msg)*8 + mpi.BsendOverhead); err != nil {
		log.Fatal(err)
	}
	next, prev := (w.Rank()+1)%w.Size(), (w.Rank()+w.Size()-1)%w.Size()
	if err := mpi.Bsend(w, msg, next, 0); err != nil {
		log.Fatal(err)
	}
	got := make([]float64, 3)
	if _, err := mpi.Recv(w, got, prev, 0); err != nil {
		log.Fatal(err)
	}
	// Detach waits until the buffered message has left.
	size, err := mpi.BufferDetach()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got, size == len(msg)*8+mpi.BsendOverhead)
	// Output: [1 2 3] true
}

// Mprobe takes a message of unknown length off the queue, so that no other
// receive can take it, and Mrecv receives it into a slice of its size.
func ExampleMprobe() {
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		log.Fatal(err)
	}
	defer mpi.Finalize()
	w := mpi.World()
	next := (w.Rank() + 1) % w.Size()
	req, err := mpi.Isend(w, []int64{10, 20, 30}, next, 7)
	if err != nil {
		log.Fatal(err)
	}
	m, st, err := mpi.Mprobe(w, mpi.AnySource, 7)
	if err != nil {
		log.Fatal(err)
	}
	buf := make([]int64, mpi.Count[int64](st))
	if _, err := mpi.Mrecv(m, buf); err != nil {
		log.Fatal(err)
	}
	if _, err := req.Wait(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(buf)
	// Output: [10 20 30]
}

// Info objects carry hints (MPI-IO, windows); a communicator carries a name
// and the attributes MPI predefines.
func ExampleNewInfo() {
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		log.Fatal(err)
	}
	defer mpi.Finalize()
	info, err := mpi.NewInfo()
	if err != nil {
		log.Fatal(err)
	}
	defer info.Free()
	if err := info.Set("no_locks", "true"); err != nil {
		log.Fatal(err)
	}
	v, ok, err := info.Get("no_locks")
	if err != nil {
		log.Fatal(err)
	}
	c, err := mpi.World().Dup()
	if err != nil {
		log.Fatal(err)
	}
	defer c.Free()
	if err := c.SetName("solver"); err != nil {
		log.Fatal(err)
	}
	name, _ := c.Name()
	tagUB, _, err := c.Attr(mpi.AttrTagUB)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(v, ok, name, tagUB >= 32767)
	// Output: true true solver true
}
