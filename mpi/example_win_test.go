package mpi_test

import (
	"fmt"
	"log"

	"github.com/goipc/ipc/mpi"
)

// A window over a Go slice: each rank puts its rank into its right
// neighbour's slice between two fences.
func ExampleWinCreate() {
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		log.Fatal(err)
	}
	defer mpi.Finalize()
	w := mpi.World()
	buf := []int64{-1}
	win, err := mpi.WinCreate(w, buf, nil) // buf is pinned and the window's until Free
	if err != nil {
		log.Fatal(err)
	}
	defer win.Free()
	if err := win.Fence(); err != nil {
		log.Fatal(err)
	}
	right := (w.Rank() + 1) % w.Size()
	if err := mpi.Put(win, []int64{int64(w.Rank())}, right, 0); err != nil {
		log.Fatal(err)
	}
	if err := win.Fence(); err != nil { // the Put is complete, at both ends
		log.Fatal(err)
	}
	fmt.Println("left neighbour is", buf[0])
}

// A counter in rank 0's window that every rank increments atomically,
// fetching the value it had: a ticket dispenser.
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
}

// Ranks of one node share memory: each stores into its own part, and after a
// fence reads the others' parts with plain loads.
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
}
