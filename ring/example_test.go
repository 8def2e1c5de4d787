package ring_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/goipc/ipc/ring"
)

// Create a named ring, send two messages and receive them, as two processes
// would (another process opens it with ring.Open(name, nil), a C program
// with csrc/goipc_ring.h, a Python one with csrc/goipc_ring.py).
func Example() {
	name := fmt.Sprintf("/ring-example-%d", os.Getpid())
	r, err := ring.Open(name, &ring.Options{Create: true, Exclusive: true, Capacity: 4096})
	if err != nil {
		log.Fatal(err)
	}
	defer ring.Unlink(name) // the ring outlives processes until removed
	defer r.Close()

	ctx := context.Background()
	for _, msg := range []string{"hello", "ring"} {
		if err := r.Send(ctx, []byte(msg)); err != nil {
			log.Fatal(err)
		}
	}
	buf := make([]byte, r.MaxMessage())
	for range 2 {
		n, err := r.Receive(ctx, buf)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s\n", buf[:n])
	}
	// Output:
	// hello
	// ring
}

// An anonymous ring in a memfd: hand r.File() to a child in
// exec.Cmd.ExtraFiles, and the child maps it with
// ring.FromFile(os.NewFile(3, "ring"), nil).
func ExampleNew() {
	r, err := ring.New(&ring.Options{Capacity: 1024})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	if err := r.TrySend([]byte("in a memfd")); err != nil {
		log.Fatal(err)
	}
	st, _ := r.Stat()
	fmt.Println(st.Messages, "message,", st.Used, "bytes of", st.Capacity)
	// Output: 1 message, 24 bytes of 1024
}

// A client and a server, here two goroutines (two processes would each map
// the rings, with FromFile): every turn of each is one SendReceive, the
// server's sending a reply and taking the next request.
func ExampleRing_SendReceive() {
	requests, err := ring.New(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer requests.Close()
	replies, err := ring.New(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer replies.Close()

	ctx := context.Background()
	served := make(chan error)
	go func() {
		buf := make([]byte, requests.MaxMessage())
		n, err := requests.Receive(ctx, buf)
		for err == nil && n > 0 { // an empty request ends the service
			reply := append([]byte("re: "), buf[:n]...)
			n, err = replies.SendReceive(ctx, reply, requests, buf)
		}
		served <- err
	}()

	buf := make([]byte, replies.MaxMessage())
	for _, request := range []string{"one", "two"} {
		n, err := requests.SendReceive(ctx, []byte(request), replies, buf)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s\n", buf[:n])
	}
	if err := requests.Send(ctx, nil); err != nil {
		log.Fatal(err)
	}
	if err := <-served; err != nil {
		log.Fatal(err)
	}
	// Output:
	// re: one
	// re: two
}
