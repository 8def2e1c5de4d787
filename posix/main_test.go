package posix_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/inventory/inventorytest"
	"github.com/goipc/ipc/posix"
)

// The test binary re-executes itself as these children: the other process of
// the cross-process tests and benchmarks.
func TestMain(m *testing.M) {
	inventorytest.Main(m, map[string]func([]string) error{
		"mq-sender":  mqSender,
		"mq-echo":    mqEcho,
		"mq-pool":    mqPool,
		"shm-echo":   shmEcho,
		"shm-poster": shmPoster,
	})
}

// mqSender sends "0", "1", ... on queue args[0], printing "sent N" once each
// Send has returned, until it is killed.
func mqSender(args []string) error {
	q, err := posix.OpenQueue(args[0], &posix.QueueOptions{Access: posix.WriteOnly})
	if err != nil {
		return err
	}
	for i := 0; ; i++ {
		if err := q.Send(context.Background(), []byte(strconv.Itoa(i)), 0); err != nil {
			return err
		}
		fmt.Printf("sent %d\n", i)
	}
}

// mqPool receives args[2] messages on queue args[0] with args[1] goroutines,
// printing "ready" once they are started and "got" for each message.
func mqPool(args []string) error {
	q, err := posix.OpenQueue(args[0], &posix.QueueOptions{Access: posix.ReadOnly})
	if err != nil {
		return err
	}
	waiters, _ := strconv.Atoi(args[1])
	messages, _ := strconv.Atoi(args[2])
	got := make(chan error)
	for range waiters {
		go func() {
			buf := make([]byte, q.MessageSize())
			for {
				_, _, err := q.Receive(context.Background(), buf)
				got <- err
			}
		}()
	}
	fmt.Println("ready")
	for range messages {
		if err := <-got; err != nil {
			return err
		}
		fmt.Println("got")
	}
	return nil
}

// benchCPUEnv names the CPU an echo peer pins itself to (pinAsAsked).
const benchCPUEnv = "GOIPC_BENCH_CPU"

// pinAsAsked pins this process to the CPU that benchCPUEnv gives, if any:
// its nth, or counted from the last if negative (testutil.PinProcess).
func pinAsAsked() error {
	v := os.Getenv(benchCPUEnv)
	if v == "" {
		return nil
	}
	nth, err := strconv.Atoi(v)
	if err != nil {
		return fmt.Errorf("%s=%q: %v", benchCPUEnv, v, err)
	}
	_, err = testutil.PinProcess(nth)
	return err
}

// mqEcho sends back on queue args[1] every message that arrives on args[0],
// with args[2] goroutines (1 if not given) that each receive and answer, as
// csrc/posix_pingpong's echo threads (waiters=N) do. It prints "ready" once
// all of them wait in Receive.
func mqEcho(args []string) error {
	if err := pinAsAsked(); err != nil {
		return err
	}
	waiters := 1
	if len(args) > 2 {
		waiters, _ = strconv.Atoi(args[2])
	}
	ping, err := posix.OpenQueue(args[0], &posix.QueueOptions{Access: posix.ReadOnly})
	if err != nil {
		return err
	}
	pong, err := posix.OpenQueue(args[1], &posix.QueueOptions{Access: posix.WriteOnly})
	if err != nil {
		return err
	}
	failed := make(chan error, waiters)
	for range waiters {
		go func() { failed <- echo(ping, pong) }()
	}
	if waiters > 1 {
		if err := awaitParked(waiters, failed); err != nil {
			return err
		}
	}
	fmt.Println("ready")
	return <-failed
}

// echo answers the messages of ping on pong until a call fails.
func echo(ping, pong *posix.MessageQueue) error {
	buf := make([]byte, ping.MessageSize())
	ctx := context.Background()
	for {
		n, _, err := ping.Receive(ctx, buf)
		if err != nil {
			return err
		}
		if err := pong.Send(ctx, buf[:n], 0); err != nil {
			return err
		}
	}
}

// awaitParked waits until n goroutines wait in Receive, one leading on the
// poller and the others in line (mq_test.go's parked, for a child, which has
// no testing.TB), or one of them fails.
func awaitParked(n int, failed <-chan error) error {
	for deadline := time.Now().Add(testutil.Timeout); time.Now().Before(deadline); {
		if testutil.Parked("IO wait", "posix.(*MessageQueue).lead(") == 1 &&
			testutil.Parked("select", "posix.(*MessageQueue).awaitTurn(") == n-1 {
			return nil
		}
		select {
		case err := <-failed:
			return err
		case <-time.After(time.Millisecond):
		}
	}
	return fmt.Errorf("%d goroutines did not all wait in Receive within %v", n, testutil.Timeout)
}

// shmLayout is the segment of the shared memory ping-pong: two semaphores,
// then the data.
const (
	pingAt = 0
	pongAt = posix.SemaphoreSize
	dataAt = 2 * posix.SemaphoreSize
)

// shmEcho answers the ping-pong on segment args[0] of args[1] data bytes: wait
// for ping, copy the data out and back, post pong.
func shmEcho(args []string) error {
	if err := pinAsAsked(); err != nil {
		return err
	}
	size, _ := strconv.Atoi(args[1])
	m, ping, pong, err := openPingPong(args[0])
	if err != nil {
		return err
	}
	defer m.Close()
	data, buf := m.Bytes()[dataAt:dataAt+size], make([]byte, size)
	fmt.Println("ready")
	ctx := context.Background()
	for {
		if err := ping.Wait(ctx); err != nil {
			return err
		}
		copy(buf, data)
		copy(data, buf)
		if err := pong.Post(); err != nil {
			return err
		}
	}
}

func openPingPong(name string) (m *posix.SharedMemory, ping, pong *posix.Semaphore, err error) {
	if m, err = posix.OpenSharedMemory(name, nil); err != nil {
		return nil, nil, nil, err
	}
	mem, err := m.Map(posix.ReadWrite)
	if err == nil {
		ping, err = posix.SemaphoreAt(mem[pingAt:])
	}
	if err == nil {
		pong, err = posix.SemaphoreAt(mem[pongAt:])
	}
	if err != nil {
		m.Close()
	}
	return m, ping, pong, err
}

// shmPoster writes args[1] into segment args[0] after the semaphores and
// posts ping.
func shmPoster(args []string) error {
	m, ping, _, err := openPingPong(args[0])
	if err != nil {
		return err
	}
	defer m.Close()
	copy(m.Bytes()[dataAt:], args[1])
	return ping.Post()
}

// newQueue creates a queue with a unique name, removed when the test ends.
func newQueue(t testing.TB, capacity, size int) *posix.MessageQueue {
	t.Helper()
	name := "/" + testutil.Name("mq")
	q, err := posix.OpenQueue(name, &posix.QueueOptions{Create: true, Exclusive: true, Capacity: capacity, MessageSize: size})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		q.Close()
		if err := posix.UnlinkQueue(name); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Error(err)
		}
	})
	return q
}

func isErrno(err error, errno syscall.Errno) bool { return errors.Is(err, errno) }
