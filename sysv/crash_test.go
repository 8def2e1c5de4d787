package sysv_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/sysv"
)

// kill -9 in the middle of a stream: every message whose Send returned
// arrives, in order, none twice.
func TestCrashedSender(t *testing.T) {
	q := newQueue(t)
	p := testutil.Start(t, testutil.Child("msg-stream", q.Key().String()))
	last := ""
	for range 200 {
		last = p.Line()
	}
	p.Cmd.Process.Kill()
	p.Wait()
	confirmed, _ := strconv.Atoi(strings.TrimPrefix(last, "sent "))

	buf := make([]byte, 16)
	next := 0
	for {
		n, _, err := q.Receive(context.Background(), buf, 0, sysv.NoWait)
		if errors.Is(err, syscall.ENOMSG) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := string(buf[:n]); got != strconv.Itoa(next) {
			t.Fatalf("message %d is %q: lost or duplicated", next, got)
		}
		next++
	}
	if next <= confirmed {
		t.Fatalf("received %d messages, but Send returned for %d", next, confirmed+1)
	}
}

// kill -9 the holder of a SEM_UNDO mutex: the kernel releases it, and another
// process takes it.
func TestCrashedMutexHolder(t *testing.T) {
	m, p := heldByChild(t)
	if ok, err := m.TryLock(); ok || err != nil {
		t.Fatalf("TryLock while the child holds the mutex = %v, %v", ok, err)
	}
	p.Cmd.Process.Signal(syscall.SIGKILL)
	p.Wait()
	lockUnlock(t, m, "a mutex whose holder was killed")
}

// Objects root created 0600 open for nobody (msgget, shmget and semget with
// no permission asked check none), but their use is refused, with an error
// that says so.
func TestPermissionDenied(t *testing.T) {
	testutil.RequireRoot(t)
	q, m, s := newQueue(t), newSegment(t, 4096), newSemSet(t, 1)
	for kind, key := range map[string]sysv.Key{"msg": q.Key(), "shm": m.Key(), "sem": s.Key()} {
		cmd := testutil.AsNobody(testutil.Runnable(t, testutil.Child("open-denied", kind, key.String())))
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "permission denied") {
			t.Errorf("%s as nobody: %v\n%s", kind, err, out)
		}
	}
}

// A storm of signals at the thread blocked in msgrcv or semop, as os/signal
// and os/exec cause, never surfaces as EINTR.
func TestSignalStorm(t *testing.T) {
	q, s := newQueue(t), newSemSet(t, 1)

	tids := make(chan int)
	errc := make(chan error, 1)
	const rounds = 30
	go func() {
		runtime.LockOSThread() // so the storm can aim at the blocked thread
		defer runtime.UnlockOSThread()
		tids <- unix.Gettid()
		buf := make([]byte, 8)
		for i := range rounds {
			n, _, err := q.Receive(context.Background(), buf, 0, 0)
			if err == nil && string(buf[:n]) != fmt.Sprint(i) {
				err = fmt.Errorf("message %d is %q", i, buf[:n])
			}
			if err == nil {
				err = s.Op(context.Background(), sysv.SemOp{Delta: -1})
			}
			if err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	sigs := testutil.SignalStorm(t, <-tids)
	for i := range rounds {
		testutil.WaitInKernel(t, 1, "do_msgrcv")
		send(t, q, 1, fmt.Sprint(i))
		waitWaiting(t, s, 0, 1)
		if err := s.Op(context.Background(), sysv.SemOp{Delta: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-errc; err != nil {
		t.Fatalf("under a signal storm: %v", err)
	}
	if len(sigs) == 0 {
		t.Fatal("no signal was delivered")
	}
}
