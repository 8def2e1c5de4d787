package mpi_test

import (
	"fmt"
	"log"

	"github.com/goipc/ipc/mpi"
)

// These examples are programs to run under mpiexec; go test compiles them
// but runs only the package Example, since MPI can be initialised once per
// process. The tests run the same calls on 1, 2 and 4 ranks.

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
	fmt.Println(dt.Size(), lb, extent, ps[999].ID) // 36 0 48 999
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
	// Column 2: the Buf starts at its first element.
	b, err := mpi.BufOf(m[2:], 1, col)
	if err != nil {
		log.Fatal(err)
	}
	if err := mpi.BcastBuf(w, b, 0); err != nil {
		log.Fatal(err)
	}
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
	around := make([]float64, 4)
	if err := mpi.NeighborAllgather(grid, edge, around); err != nil {
		log.Fatal(err)
	}
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
	fmt.Println(global[0])
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
}
