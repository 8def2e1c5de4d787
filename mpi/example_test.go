package mpi_test

import (
	"fmt"
	"log"

	"github.com/goipc/ipc/mpi"
)

// A program like this runs as every rank of `mpiexec -n N prog`; run alone,
// as here, it is a job of one rank.
func Example() {
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		log.Fatal(err)
	}
	defer mpi.Finalize()
	world := mpi.World()

	// Every rank contributes rank+1; Allreduce leaves the sum on all of them,
	// here in place: the contribution is replaced by the result.
	sum := []int{world.Rank() + 1}
	if err := mpi.Allreduce(world, mpi.InPlace[int](), sum, mpi.Sum); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d ranks, sum %d\n", world.Size(), sum[0])

	// A message to oneself: post the receive, then send.
	got := make([]float64, 2)
	req, err := mpi.Irecv(world, got, world.Rank(), 7)
	if err != nil {
		log.Fatal(err)
	}
	if err := mpi.Send(world, []float64{1.5, 2.5}, world.Rank(), 7); err != nil {
		log.Fatal(err)
	}
	st, err := req.Wait()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("received", got, "with tag", st.Tag)

	// Rounds of nonblocking operations reuse one Requests set, which owns
	// the buffers until WaitAll returns.
	var rs mpi.Requests
	out, in := make([]int32, 1), make([]int32, 1)
	for round := int32(1); round <= 3; round++ {
		out[0] = round * 10
		if err := mpi.AddIrecv(&rs, world, in, world.Rank(), 8); err != nil {
			log.Fatal(err)
		}
		if err := mpi.AddIsend(&rs, world, out, world.Rank(), 8); err != nil {
			log.Fatal(err)
		}
		if err := rs.WaitAll(); err != nil {
			log.Fatal(err)
		}
		fmt.Println("round", round, "received", in[0])
	}
	// Output:
	// 1 ranks, sum 1
	// received [1.5 2.5] with tag 7
	// round 1 received 10
	// round 2 received 20
	// round 3 received 30
}

// A window of messages set up once as persistent requests, then run round
// after round with one MPI_Startall and one MPI_Waitall, as a bandwidth or
// halo-exchange loop does in C. Here the rank sends to itself.
func ExamplePersistents() {
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		log.Fatal(err)
	}
	defer mpi.Finalize()
	world, me := mpi.World(), mpi.World().Rank()

	out, in := make([]float64, 4), make([]float64, 4)
	var ps mpi.Persistents
	defer ps.Free() // MPI owns out and in until then
	for i := range out {
		if err := mpi.AddRecvInit(&ps, world, in[i:i+1], me, i); err != nil {
			log.Fatal(err)
		}
		if err := mpi.AddSendInit(&ps, world, out[i:i+1], me, i); err != nil {
			log.Fatal(err)
		}
	}
	for round := range 3 {
		for i := range out { // between rounds the buffers are the caller's
			out[i] = float64(10*round + i)
		}
		if err := ps.StartAll(); err != nil {
			log.Fatal(err)
		}
		if err := ps.WaitAll(); err != nil {
			log.Fatal(err)
		}
		fmt.Println("round", round, "received", in, "last tag", ps.Status(6).Tag)
	}
	// Output:
	// round 0 received [0 1 2 3] last tag 3
	// round 1 received [10 11 12 13] last tag 3
	// round 2 received [20 21 22 23] last tag 3
}
