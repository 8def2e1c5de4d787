package ring_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/shmsync"
)

// holdLock takes the lock of the ring whose memory is mem on a goroutine of
// its own (to the ring, another process's thread: one stopped inside its
// section, say) and returns the function that lets it go.
func holdLock(t *testing.T, mem []byte) (release func()) {
	t.Helper()
	mu, err := shmsync.MutexAt(mem[88:])
	if err != nil {
		t.Fatal(err)
	}
	locked, unlock, unlocked := make(chan error), make(chan struct{}), make(chan error)
	go func() {
		err := mu.Lock(context.Background())
		locked <- err
		if err == nil {
			<-unlock
			unlocked <- mu.Unlock()
		}
	}()
	if err := testutil.Recv(t, locked); err != nil {
		t.Fatal(err)
	}
	var released bool
	release = func() {
		if !released {
			released = true
			close(unlock)
			if err := testutil.Recv(t, unlocked); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Cleanup(release)
	return release
}

// TestLockHeldLong: while another thread holds the ring's lock for long, a
// call that does not wait gives up after a slice with an error matching
// EBUSY (not EAGAIN: the ring is not full) that says why, a waiting one leaves when its context ends or the
// ring is closed, and a sleeper that cannot uncount itself leaves the count
// to this process's next taking of the lock. Nothing queued is lost.
func TestLockHeldLong(t *testing.T) {
	r := newRing(t, 256)
	mem := rawRing(t, r.Name())
	buf := make([]byte, r.MaxMessage())
	call := func(f func() error) error {
		done := make(chan error, 1)
		go func() { done <- f() }()
		return testutil.Recv(t, done)
	}

	// An empty ring: a Receive sleeps, counted; the lock is taken; the
	// cancelled Receive cannot uncount itself, and Stat, the next taking,
	// does it.
	ctx, cancel := context.WithCancel(context.Background())
	asleep := make(chan error, 1)
	go func() {
		_, err := r.Receive(ctx, buf)
		asleep <- err
	}()
	testutil.WaitUntil(t, func() bool { st, err := r.Stat(); return err == nil && st.Sleepers == 1 }, "the receiver asleep")
	release := holdLock(t, mem)
	cancel()
	if err := testutil.Recv(t, asleep); !errors.Is(err, context.Canceled) {
		t.Errorf("Receive cancelled while another holds the lock: %v, want context.Canceled", err)
	}
	release()
	if st, err := r.Stat(); err != nil || st.Sleepers != 0 {
		t.Errorf("Stat after the lock came free: %+v, %v; want 0 sleepers", st, err)
	}

	if err := r.TrySend([]byte("queued")); err != nil {
		t.Fatal(err)
	}
	release = holdLock(t, mem)
	for name, f := range map[string]func() error{
		"TrySend":    func() error { return r.TrySend([]byte("x")) },
		"TryReceive": func() error { _, err := r.TryReceive(buf); return err },
		"Stat":       func() error { _, err := r.Stat(); return err },
		"TrySendBatch": func() error {
			_, err := r.TrySendBatch([][]byte{[]byte("x")})
			return err
		},
	} {
		if err := call(f); !errors.Is(err, syscall.EBUSY) || !strings.Contains(err.Error(), "lock stayed taken") {
			t.Errorf("%s while another holds the lock: %v, want EBUSY saying the lock stayed taken", name, err)
		}
	}
	deadline, stop := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer stop()
	if err := call(func() error { return r.Send(deadline, []byte("x")) }); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Send with a deadline while another holds the lock: %v, want os.ErrDeadlineExceeded", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	if err := call(func() error { _, err := r.Receive(ctx, buf); return err }); !errors.Is(err, context.Canceled) {
		t.Errorf("Receive cancelled while another holds the lock: %v, want context.Canceled", err)
	}
	release()
	if n, err := r.TryReceive(buf); err != nil || string(buf[:n]) != "queued" {
		t.Fatalf("TryReceive once the lock came free: %q, %v; want the queued message", buf[:n], err)
	}

	// Close wakes a waiter for a lock that stays taken, and returns.
	holdLock(t, mem)
	waiting := make(chan error, 1)
	go func() { waiting <- r.Send(context.Background(), []byte("x")) }()
	if err := call(r.Close); err != nil {
		t.Errorf("Close while another holds the lock: %v", err)
	}
	if err := testutil.Recv(t, waiting); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Send waiting for the lock when the ring closed: %v, want os.ErrClosed", err)
	}
}

// TestPeersLockHeldLong: the C and Python implementations leave a lock that
// stays taken as Go's calls do: a try call fails after a slice with EBUSY
// saying why, and a waiting one ends on SIGINT or SIGTERM (the peers' stop
// flag, Python's signal handlers), where glibc's lock calls waited on for
// good. Nothing queued is lost.
func TestPeersLockHeldLong(t *testing.T) {
	for _, kind := range []string{"c", "python"} {
		t.Run(kind, func(t *testing.T) {
			path := makeRing(t, "go", 256)
			r, err := openPath(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if err := r.TrySend([]byte("queued")); err != nil {
				t.Fatal(err)
			}
			release := holdLock(t, rawRing(t, strings.TrimPrefix(path, "/dev/shm")))
			for _, args := range [][]string{{"trysend", "x"}, {"tryrecv"}} {
				p := testutil.Start(t, peerCmd(t, kind, append([]string{path}, args...)...))
				if _, err := p.Wait(); exitCode(err) != 1 || !strings.Contains(p.Stderr(), "busy") ||
					!strings.Contains(p.Stderr(), "lock stayed taken") {
					t.Errorf("%s %s while another holds the lock: %v, %q; want exit 1, EBUSY saying the lock stayed taken",
						kind, args[0], err, p.Stderr())
				}
			}
			for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
				p := testutil.Start(t, peerCmd(t, kind, path, "recv", "1"))
				p.Expect("ready")
				if err := p.Cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
				if _, err := p.Wait(); exitCode(err) != 1 || !strings.Contains(p.Stderr(), "interrupted") {
					t.Errorf("%s recv waiting for the lock, sent %v: %v, %q; want exit 1 saying it was interrupted", kind, sig, err, p.Stderr())
				}
			}
			release()
			buf := make([]byte, r.MaxMessage())
			if n, err := r.TryReceive(buf); err != nil || string(buf[:n]) != "queued" {
				t.Fatalf("TryReceive once the lock came free: %q, %v; want the queued message", buf[:n], err)
			}
		})
	}
}
