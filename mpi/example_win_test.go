package mpi_test

import (
	"fmt"
	"log"

	"github.com/goipc/ipc/mpi"
)

// A window over a Go slice: each rank puts 100 plus its rank into element 1
// of its right neighbour's slice between two fences. The output is a
// one-rank job's.
func ExampleWinCreate() {
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		log.Fatal(err)
	}
	defer mpi.Finalize()
	w := mpi.World()
	buf := []int64{-1, -1, -1, -1}
	win, err := mpi.WinCreate(w, buf, nil) // buf is pinned and the window's until Free
	if err != nil {
		log.Fatal(err)
	}
	defer win.Free()
	if err := win.Fence(); err != nil {
		log.Fatal(err)
	}
	right := (w.Rank() + 1) % w.Size()
	if err := mpi.Put(win, []int64{int64(100 + w.Rank())}, right, 1); err != nil {
		log.Fatal(err)
	}
	if err := win.Fence(); err != nil { // the Put is complete, at both ends
		log.Fatal(err)
	}
	fmt.Println("window holds", buf)
	// Output: window holds [-1 100 -1 -1]
}

// A counter in rank 0's window that every rank increments atomically,
// fetching the value it had: a ticket dispenser. The output is a one-rank
// job's.
func ExampleFetchAndOp() {
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		log.Fatal(err)
	}
	defer mpi.Finalize()
	w := mpi.World()
	n := 0
	if w.Rank() == 0 {
		n = 1
	}
	win, mem, err := mpi.WinAllocate[int64](w, n, nil) // mem is MPI's until Free
	if err != nil {
		log.Fatal(err)
	}
	defer win.Free()
	if w.Rank() == 0 { // local stores go inside a lock of one's own window
		if err := win.Lock(mpi.LockExclusive, 0); err != nil {
			log.Fatal(err)
		}
		mem[0] = 0
		if err := win.Unlock(0); err != nil {
			log.Fatal(err)
		}
	}
	if err := mpi.Barrier(w); err != nil {
		log.Fatal(err)
	}
	one, ticket := int64(1), int64(0)
	if err := win.Lock(mpi.LockShared, 0); err != nil {
		log.Fatal(err)
	}
	if err := mpi.FetchAndOp(win, &one, &ticket, 0, 0, mpi.Sum); err != nil {
		log.Fatal(err)
	}
	if err := win.Unlock(0); err != nil { // ticket is written now
		log.Fatal(err)
	}
	fmt.Println("rank", w.Rank(), "drew ticket", ticket)
	// Output: rank 0 drew ticket 0
}

// Ranks of one node share memory: each stores into its own part, and after a
// fence reads the others' parts with plain loads. The output is a one-rank
// job's.
func ExampleSharedQuery() {
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		log.Fatal(err)
	}
	defer mpi.Finalize()
	node, err := mpi.World().SplitType(mpi.TypeShared, 0)
	if err != nil {
		log.Fatal(err)
	}
	defer node.Free()
	win, mine, err := mpi.WinAllocateShared[float64](node, 1, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer win.Free() // the slices are invalid after Free
	if err := win.Fence(); err != nil {
		log.Fatal(err)
	}
	mine[0] = float64(node.Rank()) / 2
	if err := win.Fence(); err != nil {
		log.Fatal(err)
	}
	next, err := mpi.SharedQuery[float64](win, (node.Rank()+1)%node.Size())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("next rank on the node holds", next[0])
	// Output: next rank on the node holds 0
}

// A dynamic window: each rank attaches a slice of its own, the ranks
// exchange its address as an Addr, and each puts into its right
// neighbour's slice at the displacement Disp computes from that address.
// The output is a one-rank job's.
func ExampleWinCreateDynamic() {
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		log.Fatal(err)
	}
	defer mpi.Finalize()
	w := mpi.World()
	win, err := mpi.WinCreateDynamic[int64](w, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer win.Free()
	buf := make([]int64, 4)
	addr, err := mpi.Attach(win, buf) // buf is pinned and the window's until Detach
	if err != nil {
		log.Fatal(err)
	}
	addrs := make([]mpi.Addr, w.Size())
	if err := mpi.Allgather(w, []mpi.Addr{addr}, addrs); err != nil {
		log.Fatal(err)
	}
	right := (w.Rank() + 1) % w.Size()
	if err := win.LockAll(); err != nil {
		log.Fatal(err)
	}
	// Element 2 of the right neighbour's slice.
	if err := mpi.Put(win, []int64{int64(100 + w.Rank())}, right, win.Disp(addrs[right], 2)); err != nil {
		log.Fatal(err)
	}
	if err := win.UnlockAll(); err != nil { // the Put is complete at the target
		log.Fatal(err)
	}
	if err := mpi.Barrier(w); err != nil { // every rank's Put is
		log.Fatal(err)
	}
	if err := win.Lock(mpi.LockExclusive, w.Rank()); err != nil { // local loads go inside a lock
		log.Fatal(err)
	}
	fmt.Println("attached slice holds", buf)
	if err := win.Unlock(w.Rank()); err != nil {
		log.Fatal(err)
	}
	if err := mpi.Barrier(w); err != nil { // no rank reaches buf after this
		log.Fatal(err)
	}
	if err := mpi.Detach(win, buf); err != nil {
		log.Fatal(err)
	}
	// Output: attached slice holds [0 0 100 0]
}

// Request-based accumulates: every rank adds to a counter in rank 0's window
// and fetches the value before its addition, then completes the Request
// like any other. The output is a one-rank job's.
func ExampleRgetAccumulate() {
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		log.Fatal(err)
	}
	defer mpi.Finalize()
	w := mpi.World()
	win, mem, err := mpi.WinAllocate[int64](w, 1, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer win.Free()
	if err := win.Lock(mpi.LockExclusive, w.Rank()); err != nil {
		log.Fatal(err)
	}
	mem[0] = 10
	if err := win.Unlock(w.Rank()); err != nil {
		log.Fatal(err)
	}
	if err := mpi.Barrier(w); err != nil {
		log.Fatal(err)
	}
	if err := win.LockAll(); err != nil { // request-based calls need a passive-target epoch
		log.Fatal(err)
	}
	before := make([]int64, 1)
	req, err := mpi.RgetAccumulate(win, []int64{5}, before, 0, 0, mpi.Sum)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := req.Wait(); err != nil { // before is written, and unpinned
		log.Fatal(err)
	}
	if err := win.UnlockAll(); err != nil {
		log.Fatal(err)
	}
	fmt.Println("the counter was", before[0])
	// Output: the counter was 10
}

// A column of a row-major matrix as the target of a Put: a contiguous
// origin lands on every fourth element of the right neighbour's window,
// through a Vector datatype. The output is a one-rank job's.
func ExamplePutBuf() {
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		log.Fatal(err)
	}
	defer mpi.Finalize()
	w := mpi.World()
	const rows, cols = 3, 4
	matrix := make([]float64, rows*cols)
	win, err := mpi.WinCreate(w, matrix, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer win.Free()
	f64, err := mpi.TypeOf[float64]()
	if err != nil {
		log.Fatal(err)
	}
	column, err := mpi.Vector(rows, 1, cols, f64)
	if err != nil {
		log.Fatal(err)
	}
	defer column.Free()
	if err := column.Commit(); err != nil {
		log.Fatal(err)
	}
	origin, err := mpi.BufOf([]float64{1, 2, 3}, rows, f64)
	if err != nil {
		log.Fatal(err)
	}
	right := (w.Rank() + 1) % w.Size()
	if err := win.Fence(); err != nil {
		log.Fatal(err)
	}
	// Column 2 of the right neighbour's matrix.
	if err := mpi.PutBuf(win, origin, mpi.Target{Rank: right, Disp: 2, Count: 1, Type: column}); err != nil {
		log.Fatal(err)
	}
	if err := win.Fence(); err != nil {
		log.Fatal(err)
	}
	for r := range rows {
		fmt.Println(matrix[r*cols : (r+1)*cols])
	}
	// Output:
	// [0 0 1 0]
	// [0 0 2 0]
	// [0 0 3 0]
}
