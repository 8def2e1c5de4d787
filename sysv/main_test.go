package sysv_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

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
		"drop-box":    dropBox,
		"sem-create":  semCreate,
		"ignore-urg":  ignoreURG,
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

// openDenied opens an object the test made 0600 as root and uses it; run as
// nobody, the open must work (msgget needs no permission) and the use be
// refused with an error matching fs.ErrPermission.
func openDenied(args []string) error {
	key := keyArg(args, 1)
	var err error
	switch args[0] {
	case "msg":
		var q *sysv.MessageQueue
		if q, err = sysv.OpenQueue(key, 0, 0); err == nil {
			err = q.Send(context.Background(), 1, []byte("x"), sysv.NoWait)
		}
	case "shm":
		var m *sysv.SharedMemory
		if m, err = sysv.OpenSharedMemory(key, 0, 0, 0); err == nil {
			_, err = m.Attach(sysv.ReadOnly)
		}
	case "sem":
		var s *sysv.SemaphoreSet
		if s, err = sysv.OpenSemaphoreSet(key, 0, 0, 0); err == nil {
			err = s.Op(context.Background(), sysv.SemOp{Delta: 1})
		}
	}
	if !errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("uid %d used %s %v: got error %v, want one matching fs.ErrPermission", os.Getuid(), args[0], key, err)
	}
	fmt.Println(err)
	return nil
}

// dropBox sends to a queue it may write but not read, as a client of a
// 0622 drop-box queue does, and checks that reading is refused.
func dropBox(args []string) error {
	q, err := sysv.OpenQueue(keyArg(args, 0), 0, 0)
	if err != nil {
		return err
	}
	if err := q.Send(context.Background(), 1, []byte("from uid "+strconv.Itoa(os.Getuid())), 0); err != nil {
		return err
	}
	if _, _, err := q.Receive(context.Background(), make([]byte, 64), 0, sysv.NoWait); !errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("Receive from a queue this user may not read: %v, want an error matching fs.ErrPermission", err)
	}
	fmt.Println("sent")
	return nil
}

// semCreate creates a semaphore set, says so and waits to be killed: a
// creator that dies before it initialised anything.
func semCreate(args []string) error {
	if _, err := sysv.OpenSemaphoreSet(keyArg(args, 0), 1, sysv.Create|sysv.Exclusive, 0o600); err != nil {
		return err
	}
	fmt.Println("created")
	select {}
}

// ignoreURG ignores SIGURG, as some programs do, then checks that a blocked
// Receive still keeps its deadline and is cancelled, and that Close ends it.
func ignoreURG(args []string) error {
	signal.Ignore(syscall.SIGURG)
	q, err := sysv.OpenQueue(keyArg(args, 0), 0, 0)
	if err != nil {
		return err
	}
	buf := make([]byte, 8)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, _, err := q.Receive(ctx, buf, 0, 0); !errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("Receive past its deadline: %v, want os.ErrDeadlineExceeded", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	go whenInMsgrcv(cancel)
	if _, _, err := q.Receive(ctx, buf, 0, 0); !errors.Is(err, context.Canceled) {
		return fmt.Errorf("cancelled Receive: %v, want context.Canceled", err)
	}
	go whenInMsgrcv(func() { q.Close() })
	if _, _, err := q.Receive(context.Background(), buf, 0, 0); !errors.Is(err, os.ErrClosed) {
		return fmt.Errorf("Receive when Close ran: %v, want os.ErrClosed", err)
	}
	fmt.Println("ok")
	return nil
}

// whenInMsgrcv runs f once a thread of this process sleeps in msgrcv: a
// child's testutil.WaitInKernel, which needs a test.
func whenInMsgrcv(f func()) {
	for {
		files, _ := filepath.Glob("/proc/self/task/*/wchan")
		for _, file := range files {
			if b, _ := os.ReadFile(file); string(b) == "do_msgrcv" {
				f()
				return
			}
		}
		time.Sleep(time.Millisecond)
	}
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
