package mpi_test

import (
	"fmt"
	"log"
	"os"

	"github.com/goipc/ipc/mpi"
)

// A process that mpiexec started has no parent; one that CommSpawn started
// has the intercommunicator to its parents.
func ExampleCommGetParent() {
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		log.Fatal(err)
	}
	defer mpi.Finalize()
	parent, err := mpi.CommGetParent()
	if err != nil {
		log.Fatal(err)
	}
	if parent == nil {
		fmt.Println("not spawned: a job of", mpi.World().Size(), "rank")
		return
	}
	fmt.Println("spawned by", parent.RemoteSize(), "parents")
	// Output:
	// not spawned: a job of 1 rank
}

// A job that grows: the program spawns two more copies of itself, which
// find their parents with CommGetParent, and both sides merge into one
// intracommunicator, the parents first. Run it as `mpiexec -n 2 prog` (Open
// MPI; Debian's MPICH 4.0 has no dynamic processes, and CommSpawn returns an
// error matching ErrNotSupported). TestSpawn runs this protocol.
func ExampleCommSpawn() {
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		log.Fatal(err)
	}
	defer mpi.Finalize()
	parent, err := mpi.CommGetParent()
	if err != nil {
		log.Fatal(err)
	}
	inter, child := parent, parent != nil
	if !child {
		self, err := os.Executable()
		if err != nil {
			log.Fatal(err)
		}
		// The children's argv; every rank passes it, only the root's counts.
		var errs []error
		inter, errs, err = mpi.CommSpawn(self, []string{"--child"}, 2, nil, 0, mpi.World())
		if err != nil {
			log.Fatal(err)
		}
		for i, err := range errs {
			if err != nil {
				log.Fatalf("child %d: %v", i, err)
			}
		}
	}
	all, err := inter.IntercommMerge(child) // parents low: they come first
	if err != nil {
		log.Fatal(err)
	}
	defer all.Free()
	sum := []int{0}
	if err := mpi.Allreduce(all, []int{1}, sum, mpi.Sum); err != nil {
		log.Fatal(err)
	}
	if all.Rank() == 0 {
		fmt.Println(sum[0], "processes:", mpi.World().Size(), "parents and", inter.RemoteSize(), "children")
	}
	// Disconnected, parents and children end independently.
	if err := inter.Disconnect(); err != nil {
		log.Fatal(err)
	}
}

// Two groups of one job joined by an intercommunicator: World's even and
// odd ranks. Point-to-point calls on it name ranks of the other group. Run
// it as `mpiexec -n 4 prog`; TestIntercomm checks this and more.
func ExampleComm_IntercommCreate() {
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		log.Fatal(err)
	}
	defer mpi.Finalize()
	w := mpi.World()
	color := w.Rank() % 2
	half, err := w.Split(color, w.Rank())
	if err != nil {
		log.Fatal(err)
	}
	defer half.Free()
	// The leaders are rank 0 of each half: World ranks 0 and 1, which find
	// each other through World.
	inter, err := half.IntercommCreate(0, w, 1-color, 0)
	if err != nil {
		log.Fatal(err)
	}
	defer inter.Free()
	if r := inter.Rank(); r < inter.RemoteSize() {
		got := []int{0}
		if _, err := mpi.Sendrecv(inter, []int{w.Rank()}, r, 0, got, r, 0); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("World rank %d's partner is World rank %d\n", w.Rank(), got[0])
	}
}

// A server and a client started by two separate mpiexec runs: the server
// publishes its port under a name, the client looks it up and connects.
// With Open MPI both runs need the address of one ompi-server, which the
// server's side starts (see the package documentation):
//
//	ompi-server --no-daemonize -r /tmp/uri &
//	mpiexec --ompi-server file:/tmp/uri -n 1 prog server &
//	mpiexec --ompi-server file:/tmp/uri -n 1 prog
//
// TestAcceptConnectTwoJobs runs this.
func ExampleCommAccept() {
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		log.Fatal(err)
	}
	defer mpi.Finalize()
	const service = "example-service"
	server := len(os.Args) > 1 && os.Args[1] == "server"
	var inter *mpi.Comm
	if server {
		port, err := mpi.OpenPort(nil)
		if err != nil {
			log.Fatal(err)
		}
		defer mpi.ClosePort(port)
		if err := mpi.PublishName(service, nil, port); err != nil {
			log.Fatal(err)
		}
		defer mpi.UnpublishName(service, nil, port)
		if inter, err = mpi.CommAccept(port, nil, 0, mpi.World()); err != nil {
			log.Fatal(err)
		}
	} else {
		port, err := mpi.LookupName(service, nil)
		if err != nil {
			log.Fatal(err)
		}
		if inter, err = mpi.CommConnect(port, nil, 0, mpi.World()); err != nil {
			log.Fatal(err)
		}
	}
	// Rank 0 of the client's group greets rank 0 of the server's.
	switch buf := make([]byte, 5); {
	case inter.Rank() != 0:
	case server:
		if _, err := mpi.Recv(inter, buf, 0, 0); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("the client says %s\n", buf)
	default:
		if err := mpi.Send(inter, []byte("hello"), 0, 0); err != nil {
			log.Fatal(err)
		}
	}
	if err := inter.Disconnect(); err != nil {
		log.Fatal(err)
	}
}
