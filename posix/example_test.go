package posix_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/goipc/ipc/posix"
)

func Example() {
	name := fmt.Sprintf("/example-%d", os.Getpid())

	// A queue of at most 4 messages of 64 bytes; removed at the end, since it
	// would otherwise outlive this process.
	q, err := posix.OpenQueue(name, &posix.QueueOptions{Create: true, Capacity: 4, MessageSize: 64})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer posix.UnlinkQueue(name)
	defer q.Close()

	ctx := context.Background()
	q.Send(ctx, []byte("low"), 1)
	q.Send(ctx, []byte("high"), 9)

	buf := make([]byte, q.MessageSize())
	for range 2 {
		n, prio, err := q.Receive(ctx, buf)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s (priority %d)\n", buf[:n], prio)
	}
	// Output:
	// high (priority 9)
	// low (priority 1)
}

func ExampleSharedMemory() {
	name := fmt.Sprintf("/example-shm-%d", os.Getpid())
	m, err := posix.OpenSharedMemory(name, &posix.ShmOptions{Create: true, Size: 4096})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer posix.UnlinkSharedMemory(name)
	defer m.Close()

	data, err := m.Map(posix.ReadWrite)
	if err != nil {
		fmt.Println(err)
		return
	}
	// A semaphore in the segment tells another process when the data is there.
	ready, _ := posix.InitSemaphore(data[:posix.SemaphoreSize], 0)
	copy(data[posix.SemaphoreSize:], "hello")
	ready.Post()

	// The other process maps the same segment and waits.
	ready.Wait(context.Background())
	fmt.Println(string(data[posix.SemaphoreSize : posix.SemaphoreSize+5]))
	// Output: hello
}

func ExampleSemaphore() {
	name := fmt.Sprintf("/example-sem-%d", os.Getpid())
	s, err := posix.OpenSemaphore(name, &posix.SemOptions{Create: true, Value: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer posix.UnlinkSemaphore(name)
	defer s.Close()

	s.Wait(context.Background()) // take it
	err = s.TryWait()            // nothing left to take
	fmt.Println("empty:", errors.Is(err, syscall.EAGAIN))
	s.Post()
	v, _ := s.Value()
	fmt.Println("value", v)
	// Output:
	// empty: true
	// value 1
}
