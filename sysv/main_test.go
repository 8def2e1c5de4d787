package sysv_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"syscall"
	"testing"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/inventory/inventorytest"
	"github.com/goipc/ipc/sysv"
)

// The test binary re-executes itself as these children (testutil.Child): the
// other process of the cross-process tests and the Go echo peer of the
// benchmarks.
func TestMain(m *testing.M) {
	inventorytest.Main(m, map[string]func([]string) error{
		"msg-stream":  msgStream,
		"mutex-hold":  mutexHold,
		"open-denied": openDenied,
		"echo-msg":    echoMsg,
		"echo-shm":    echoShm,
	})
}

// keyArg parses a child's key argument.
func keyArg(args []string, i int) sysv.Key {
	k, err := sysv.ParseKey(args[i])
	if err != nil {
		panic(err)
	}
	return k
}

// msgStream sends 0, 1, 2, ... to the queue, printing "sent N" after each Send
// returned, until it is killed.
func msgStream(args []string) error {
	q, err := sysv.OpenQueue(keyArg(args, 0), 0, 0)
	if err != nil {
		return err
	}
	out := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		if err := q.Send(context.Background(), 1, []byte(strconv.Itoa(i)), 0); err != nil {
			return err
		}
		fmt.Fprintf(out, "sent %d\n", i)
		out.Flush()
	}
}

// mutexHold takes the mutex, says so, and waits to be killed.
func mutexHold(args []string) error {
	m, err := sysv.OpenMutex(keyArg(args, 0), 0o600)
	if err != nil {
		return err
	}
	if err := m.Lock(context.Background()); err != nil {
		return err
	}
	fmt.Println("locked")
	select {}
}

// openDenied opens an object the test made 0600 as root; run as nobody it
// must be refused with an error matching fs.ErrPermission.
func openDenied(args []string) error {
	key := keyArg(args, 1)
	var err error
	switch args[0] {
	case "msg":
		_, err = sysv.OpenQueue(key, 0, 0)
	case "shm":
		_, err = sysv.OpenSharedMemory(key, 0, 0, 0)
	case "sem":
		_, err = sysv.OpenSemaphoreSet(key, 0, 0, 0)
	}
	if !errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("uid %d opened %s %v: got error %v, want one matching fs.ErrPermission", os.Getuid(), args[0], key, err)
	}
	fmt.Println(err)
	return nil
}

// echoMsg answers each message of type 1 with the same bytes as type 2,
// until the queue is removed.
func echoMsg(args []string) error {
	q, err := sysv.OpenQueue(keyArg(args, 0), 0, 0)
	if err != nil {
		return err
	}
	buf := make([]byte, 64<<10)
	if err := pinToBenchCPU(); err != nil {
		return err
	}
	fmt.Println("ready")
	for {
		n, _, err := q.Receive(context.Background(), buf, 1, 0)
		if errors.Is(err, syscall.EIDRM) || errors.Is(err, syscall.EINVAL) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := q.Send(context.Background(), 2, buf[:n], 0); err != nil {
			return err
		}
	}
}

// echoShm waits for semaphore 0, copies the request out of the segment and
// the reply back in, and posts semaphore 1, until the set is removed.
func echoShm(args []string) error {
	m, err := sysv.OpenSharedMemory(keyArg(args, 0), 0, 0, 0)
	if err != nil {
		return err
	}
	defer m.Close()
	s, err := sysv.OpenSemaphoreSet(keyArg(args, 1), 2, 0, 0)
	if err != nil {
		return err
	}
	size, _ := strconv.Atoi(args[2])
	mem, err := m.Attach(0)
	if err != nil {
		return err
	}
	buf := make([]byte, size)
	if err := pinToBenchCPU(); err != nil {
		return err
	}
	fmt.Println("ready")
	for {
		err := s.Op(context.Background(), sysv.SemOp{Num: 0, Delta: -1})
		if errors.Is(err, syscall.EIDRM) || errors.Is(err, syscall.EINVAL) {
			return nil
		}
		if err != nil {
			return err
		}
		copy(buf, mem[:size])
		copy(mem, buf)
		if err := s.Op(context.Background(), sysv.SemOp{Num: 1, Delta: 1}); err != nil {
			return err
		}
	}
}

// newQueue creates a queue with a unique key, removed at cleanup.
func newQueue(t testing.TB) *sysv.MessageQueue {
	t.Helper()
	q, err := sysv.OpenQueue(sysv.Key(testutil.Key()), sysv.Create|sysv.Exclusive, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // by key: the test may have closed q
		if q, err := sysv.OpenQueue(q.Key(), 0, 0); err == nil {
			q.Remove()
		}
	})
	return q
}

func newSegment(t testing.TB, size int) *sysv.SharedMemory {
	t.Helper()
	m, err := sysv.OpenSharedMemory(sysv.Key(testutil.Key()), size, sysv.Create|sysv.Exclusive, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		m.Close()
		if m, err := sysv.OpenSharedMemory(m.Key(), 0, 0, 0); err == nil {
			m.Remove()
		}
	})
	return m
}

func newSemSet(t testing.TB, n int) *sysv.SemaphoreSet {
	t.Helper()
	s, err := sysv.OpenSemaphoreSet(sysv.Key(testutil.Key()), n, sysv.Create|sysv.Exclusive, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s, err := sysv.OpenSemaphoreSet(s.Key(), 0, 0, 0); err == nil {
			s.Remove()
		}
	})
	return s
}
