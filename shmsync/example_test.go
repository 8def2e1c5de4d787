package shmsync_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/goipc/ipc/mmap"
	"github.com/goipc/ipc/shmsync"
)

// Put a robust mutex at the start of shared memory (a memfd, which a child
// process maps with mmap.Inherit), and count under it. A Lock that returns
// ErrOwnerDead holds the lock of a holder that died: repair, then Consistent.
func Example() {
	m, err := mmap.Shared(4096)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	mu, err := shmsync.NewMutex(m.Bytes())
	if err != nil {
		log.Fatal(err)
	}
	counter, err := m.AtomicInt64(64)
	if err != nil {
		log.Fatal(err)
	}

	for range 3 {
		err := mu.Lock(context.Background()) // this goroutine stays on its thread until Unlock
		if errors.Is(err, shmsync.ErrOwnerDead) {
			// repair the data here, then:
			err = mu.Consistent()
		}
		if err != nil {
			log.Fatal(err)
		}
		counter.Add(1)
		if err := mu.Unlock(); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println("counter", counter.Load())
	// Output: counter 3
}
