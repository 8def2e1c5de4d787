package sysv_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goipc/ipc/internal/errs"
	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/sysv"
)

func send(t *testing.T, q *sysv.MessageQueue, mtype int64, data string) {
	t.Helper()
	if err := q.Send(context.Background(), mtype, []byte(data), 0); err != nil {
		t.Fatal(err)
	}
}

func receive(t *testing.T, q *sysv.MessageQueue, mtype int64, flags sysv.MsgFlag) string {
	t.Helper()
	buf := make([]byte, 64)
	n, typ, err := q.Receive(context.Background(), buf, mtype, flags|sysv.NoWait)
	if err != nil {
		t.Fatalf("Receive(type %d): %v", mtype, err)
	}
	return fmt.Sprintf("%d:%s", typ, buf[:n])
}

func TestQueueTypeSelection(t *testing.T) {
	q := newQueue(t)
	send(t, q, 5, "a")
	send(t, q, 2, "b")
	send(t, q, 7, "c")
	send(t, q, 2, "d")
	send(t, q, 1, "")
	for _, c := range []struct {
		mtype int64
		flags sysv.MsgFlag
		want  string
	}{
		{-6, 0, "1:"},           // lowest type <= 6
		{7, 0, "7:c"},           // first of type 7
		{2, sysv.Except, "5:a"}, // first of any type but 2
		{0, 0, "2:b"},           // first of all
		{-100, 0, "2:d"},
	} {
		if got := receive(t, q, c.mtype, c.flags); got != c.want {
			t.Errorf("Receive(%d, %#x) = %q, want %q", c.mtype, c.flags, got, c.want)
		}
	}
	_, _, err := q.Receive(context.Background(), nil, 0, sysv.NoWait)
	if !errors.Is(err, syscall.ENOMSG) {
		t.Errorf("Receive on an empty queue with NoWait: %v, want ENOMSG", err)
	}
}

func TestQueueBufferTooSmall(t *testing.T) {
	q := newQueue(t)
	send(t, q, 3, "0123456789")
	buf := make([]byte, 4)
	_, _, err := q.Receive(context.Background(), buf, 0, 0)
	if !errors.Is(err, syscall.E2BIG) || !strings.Contains(err.Error(), "4-byte buffer") {
		t.Fatalf("Receive into a short buffer: %v, want E2BIG naming the buffer size", err)
	}
	n, typ, err := q.Receive(context.Background(), buf, 0, sysv.NoError)
	if err != nil || typ != 3 || string(buf[:n]) != "0123" {
		t.Fatalf("Receive with NoError = %q type %d, %v; want the message truncated to 0123, type 3", buf[:n], typ, err)
	}
}

// fullQueue returns a new queue of 8 bytes, full.
func fullQueue(t *testing.T) *sysv.MessageQueue {
	q := newQueue(t)
	st, err := q.Stat()
	if err != nil {
		t.Fatal(err)
	}
	st.MaxBytes = 8
	if err := q.Set(st); err != nil {
		t.Fatal(err)
	}
	send(t, q, 1, "12345678")
	return q
}

func TestQueueFullNoWait(t *testing.T) {
	q := fullQueue(t)
	err := q.Send(context.Background(), 1, []byte("x"), sysv.NoWait)
	if !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("Send to a full queue with NoWait: %v, want EAGAIN", err)
	}
	err = q.Send(context.Background(), 1, make([]byte, 9), 0)
	if !errors.Is(err, syscall.EINVAL) || !strings.Contains(err.Error(), "max bytes 8") {
		t.Fatalf("Send of more than MaxBytes: %v, want EINVAL naming the queue's max bytes", err)
	}
}

// TestQueueCapacityLoweredElsewhere: a capacity that another handle (or
// process) lowered below a message is seen before Send waits: msgsnd would
// wait forever, and the handle had cached the old capacity.
func TestQueueCapacityLoweredElsewhere(t *testing.T) {
	q := newQueue(t)
	nowait, err := sysv.OpenQueue(q.Key(), 0, 0) // caches the default capacity, as q did
	if err != nil {
		t.Fatal(err)
	}
	defer nowait.Close()
	cancellable, err := sysv.OpenQueue(q.Key(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer cancellable.Close()
	other, err := sysv.OpenQueue(q.Key(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	st, err := other.Stat()
	if err != nil {
		t.Fatal(err)
	}
	st.MaxBytes = 100
	if err := other.Set(st); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- q.Send(context.Background(), 1, make([]byte, 200), 0) }()
	if err := testutil.Recv(t, done); !errors.Is(err, syscall.EINVAL) || !strings.Contains(err.Error(), "max bytes 100") {
		t.Errorf("Send of 200 bytes to a queue lowered to 100: %v, want EINVAL naming max bytes 100", err)
	}
	if err := nowait.Send(context.Background(), 1, make([]byte, 200), sysv.NoWait); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("Send NoWait of 200 bytes: %v, want EINVAL", err)
	}
	ctx, cancel := context.WithCancel(context.Background()) // Send waits on a locked thread
	defer cancel()
	if err := cancellable.Send(ctx, 1, make([]byte, 200), 0); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("Send of 200 bytes with a context that can end: %v, want EINVAL", err)
	}
	st.MaxBytes = 300 // raised again: q's cache of 100 must not refuse
	if err := other.Set(st); err != nil {
		t.Fatal(err)
	}
	if err := q.Send(context.Background(), 1, make([]byte, 200), 0); err != nil {
		t.Errorf("Send of 200 bytes after the capacity was raised to 300: %v", err)
	}
}

func TestQueueLimitHint(t *testing.T) {
	msgmax, ok := errs.Sysctl("kernel/msgmax")
	if !ok {
		t.Skip("cannot read kernel.msgmax")
	}
	q := newQueue(t)
	err := q.Send(context.Background(), 1, make([]byte, msgmax+1), 0)
	want := fmt.Sprintf("message size %d > kernel.msgmax %d", msgmax+1, msgmax)
	if !errors.Is(err, syscall.EINVAL) || !strings.Contains(err.Error(), want) {
		t.Fatalf("Send of msgmax+1 bytes: %v, want EINVAL with %q", err, want)
	}
}

// Bad input fails before the system call and loses nothing already queued.
func TestQueueBadInput(t *testing.T) {
	q := newQueue(t)
	send(t, q, 1, "kept")
	ctx := context.Background()
	for name, err := range map[string]error{
		"type 0":          q.Send(ctx, 0, []byte("x"), 0),
		"negative type":   q.Send(ctx, -1, []byte("x"), 0),
		"send flags":      q.Send(ctx, 1, nil, sysv.Except),
		"except type 0":   third(q.Receive(ctx, nil, 0, sysv.Except)),
		"unknown flags":   third(q.Receive(ctx, nil, 0, 1<<30)),
		"negative size":   second(sysv.OpenSharedMemory(1, -1, 0, 0)),
		"mode bits":       second(sysv.OpenQueue(1, sysv.Create, os.ModeDir|0o600)),
		"exclusive alone": second(sysv.OpenQueue(1, sysv.Exclusive, 0o600)),
	} {
		if !errors.Is(err, syscall.EINVAL) {
			t.Errorf("%s: %v, want EINVAL", name, err)
		}
	}
	if got := receive(t, q, 0, 0); got != "1:kept" {
		t.Errorf("after bad input the queue held %q, want 1:kept", got)
	}
}

// second and third return the error of a call with two or three results.
func second[T any](_ T, err error) error        { return err }
func third[T, U any](_ T, _ U, err error) error { return err }

func TestQueueClosedAndRemoved(t *testing.T) {
	q := newQueue(t)
	other, err := sysv.OpenQueue(q.Key(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
	other.Close() // twice is fine
	(*sysv.MessageQueue)(nil).Close()
	if err := other.Send(context.Background(), 1, nil, 0); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Send after Close: %v, want os.ErrClosed", err)
	}
	if _, err := other.Stat(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Stat after Close: %v, want os.ErrClosed", err)
	}
	if err := q.Remove(); err != nil {
		t.Fatal(err)
	}
	if err := q.Send(context.Background(), 1, nil, 0); !errors.Is(err, syscall.EIDRM) || !strings.Contains(err.Error(), "removed") {
		t.Errorf("Send after Remove: %v, want EIDRM saying it was removed", err)
	}
	if _, err := sysv.OpenQueue(q.Key(), 0, 0); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("OpenQueue after Remove: %v, want fs.ErrNotExist", err)
	}
}

// A queue removed while another handle waits on it wakes the waiter with a
// clear error.
func TestQueueRemoveWakesReceiver(t *testing.T) {
	q := newQueue(t)
	done := make(chan error, 1)
	go func() {
		_, _, err := q.Receive(context.Background(), make([]byte, 8), 0, 0)
		done <- err
	}()
	testutil.WaitInKernel(t, 1, "do_msgrcv")
	other, err := sysv.OpenQueue(q.Key(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Remove(); err != nil {
		t.Fatal(err)
	}
	err = <-done
	if !errors.Is(err, syscall.EIDRM) || !strings.Contains(err.Error(), "removed while this call waited") {
		t.Fatalf("blocked Receive after Remove: %v, want EIDRM saying the queue was removed", err)
	}
}

func TestQueueStatSet(t *testing.T) {
	q := newQueue(t)
	send(t, q, 1, "hello")
	st, err := q.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if st.Messages != 1 || st.Bytes != 5 || st.LastSendPID != os.Getpid() || st.Mode != 0o600 ||
		st.Key != q.Key() || st.UID != os.Geteuid() || st.SendTime.IsZero() || !st.RecvTime.IsZero() {
		t.Fatalf("Stat = %+v; want 1 message of 5 bytes sent by this process, mode 0600, key %v", st, q.Key())
	}
	st.Mode = 0o640
	st.MaxBytes = 4096
	if err := q.Set(st); err != nil {
		t.Fatal(err)
	}
	if st, err = q.Stat(); err != nil || st.Mode != 0o640 || st.MaxBytes != 4096 {
		t.Fatalf("after Set: %+v, %v; want mode 0640, max bytes 4096", st, err)
	}
	// The kernel's uid_t is 32 bits: 2^32+uid would reach it as uid.
	other := st
	other.UID += 1 << 32
	other.Mode = 0o644
	if err := q.Set(other); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("Set of owner %d: %v, want EINVAL", other.UID, err)
	}
	// The kernel keeps only rwx bits: setuid or a file type would vanish
	// silently, as OpenQueue refuses them too.
	for _, mode := range []os.FileMode{os.ModeSetuid | 0o644, os.ModeDir | 0o644, 0o4644} {
		other = st
		other.Mode = mode
		if err := q.Set(other); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("Set of mode %v: %v, want EINVAL", mode, err)
		}
	}
	if st, err = q.Stat(); err != nil || st.Mode != 0o640 {
		t.Errorf("after a refused Set: %+v, %v; want mode 0640 still", st, err)
	}
}

// msgget, shmget and semget do not apply the umask: the mode given is the
// mode the object gets.
func TestModeIgnoresUmask(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	for _, mk := range []func() (os.FileMode, func(), error){
		func() (os.FileMode, func(), error) {
			q, err := sysv.OpenQueue(sysv.IPCPrivate, sysv.Create, 0o666)
			if err != nil {
				return 0, nil, err
			}
			st, err := q.Stat()
			return st.Mode, func() { q.Remove() }, err
		},
		func() (os.FileMode, func(), error) {
			m, err := sysv.OpenSharedMemory(sysv.IPCPrivate, 4096, sysv.Create, 0o666)
			if err != nil {
				return 0, nil, err
			}
			st, err := m.Stat()
			return st.Mode, func() { m.Remove() }, err
		},
		func() (os.FileMode, func(), error) {
			s, err := sysv.OpenSemaphoreSet(sysv.IPCPrivate, 1, sysv.Create, 0o666)
			if err != nil {
				return 0, nil, err
			}
			st, err := s.Stat()
			return st.Mode, func() { s.Remove() }, err
		},
	} {
		mode, rm, err := mk()
		if err != nil {
			t.Fatal(err)
		}
		rm()
		if mode != 0o666 {
			t.Errorf("created 0666 under umask 077, got mode %v", mode)
		}
	}
}

func TestQueueCancelLatency(t *testing.T) {
	q := newQueue(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, _, err := q.Receive(ctx, make([]byte, 8), 0, 0)
		done <- err
	}()
	testutil.WaitInKernel(t, 1, "do_msgrcv")
	start := time.Now()
	cancel()
	err := <-done
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("Receive returned %v after cancel, want < 100ms", d)
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Receive: %v, want context.Canceled", err)
	}

	ctx, cancel = context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, _, err = q.Receive(ctx, make([]byte, 8), 0, 0)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Receive past its deadline: %v, want os.ErrDeadlineExceeded", err)
	}
	if d := time.Since(start); d > 30*time.Millisecond+100*time.Millisecond {
		t.Errorf("Receive with a 30ms deadline returned after %v", d)
	}
}
