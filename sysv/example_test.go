package sysv_test

import (
	"context"
	"fmt"

	"github.com/goipc/ipc/sysv"
)

func Example() {
	// IPCPrivate makes a new queue; other processes would use a shared key,
	// from sysv.Ftok or agreed on.
	q, err := sysv.OpenQueue(sysv.IPCPrivate, sysv.Create, 0o600)
	if err != nil {
		panic(err)
	}
	defer q.Remove() // queues outlive processes: remove explicitly

	ctx := context.Background()
	q.Send(ctx, 2, []byte("second"), 0)
	q.Send(ctx, 1, []byte("first"), 0)

	buf := make([]byte, 64)
	n, typ, err := q.Receive(ctx, buf, -1, 0) // the lowest type <= 1
	if err != nil {
		panic(err)
	}
	fmt.Printf("type %d: %s\n", typ, buf[:n])
	// Output: type 1: first
}

func ExampleSharedMemory() {
	m, err := sysv.OpenSharedMemory(sysv.IPCPrivate, 4096, sysv.Create, 0o600)
	if err != nil {
		panic(err)
	}
	defer m.Remove()
	mem, err := m.Attach(0)
	if err != nil {
		panic(err)
	}
	defer m.Detach(mem)
	copy(mem, "hello")
	st, _ := m.Stat()
	fmt.Println(string(mem[:5]), st.Size, st.Attached)
	// Output: hello 4096 1
}

func ExampleSemaphoreSet() {
	s, err := sysv.OpenSemaphoreSet(sysv.IPCPrivate, 2, sysv.Create, 0o600)
	if err != nil {
		panic(err)
	}
	defer s.Remove()
	s.SetValues([]int{3, 0})
	// Move 2 from semaphore 0 to semaphore 1, atomically.
	err = s.Op(context.Background(),
		sysv.SemOp{Num: 0, Delta: -2},
		sysv.SemOp{Num: 1, Delta: 2})
	vals, _ := s.Values()
	fmt.Println(vals, err)
	// Output: [1 2] <nil>
}

func ExampleOpenQueueByID() {
	// A private queue has no key to find it by: share its id (a child's
	// argument, a file), as ipcs prints it.
	q, err := sysv.OpenQueue(sysv.IPCPrivate, sysv.Create, 0o600)
	if err != nil {
		panic(err)
	}
	defer q.Remove() // works after Close too

	other, err := sysv.OpenQueueByID(q.ID()) // in another process, the same call
	if err != nil {
		panic(err)
	}
	defer other.Close()
	other.Send(context.Background(), 1, []byte("by id"), 0)

	buf := make([]byte, 16)
	n, _, err := q.Receive(context.Background(), buf, 0, sysv.NoWait)
	fmt.Println(string(buf[:n]), err)
	// Output: by id <nil>
}

func ExampleSemaphoreSet_Mutex() {
	s, err := sysv.OpenSemaphoreSet(sysv.IPCPrivate, 1, sysv.Create, 0o600)
	if err != nil {
		panic(err)
	}
	defer s.Remove()
	m, err := s.Mutex(0) // a new semaphore is 0: an unlocked mutex
	if err != nil {
		panic(err)
	}
	if err := m.Lock(context.Background()); err != nil { // the kernel unlocks it if this process dies
		panic(err)
	}
	ok, _ := m.TryLock()
	fmt.Println("locked twice:", ok, "unlock:", m.Unlock())
	// Output: locked twice: false unlock: <nil>
}
