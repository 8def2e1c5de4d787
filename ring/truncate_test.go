package ring_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/mmap"
	"github.com/goipc/ipc/ring"
)

// TestTruncatedRing: another process shrinking a named ring's file (here
// this one, with ftruncate: the kernel treats every process alike) must not
// kill this process with SIGBUS, whether its next touch of the missing pages
// is in Go (the positions TrySend reads first) or in C (the shim's copy of a
// message onto a page that is gone), and whether it is a waiting Receive:
// every call fails with an error matching syscall.EFAULT that names the
// truncation, and Close succeeds.
func TestTruncatedRing(t *testing.T) {
	for _, c := range []struct {
		name string
		size int64 // what the file is cut to
		msg  int   // what TrySend then sends
	}{
		{"header gone, touched in Go", 0, 8},
		{"data gone, touched in C", 4096, 8000},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRing(t, 64<<10)
			received := make(chan error, 1)
			go func() {
				_, err := r.Receive(context.Background(), make([]byte, r.MaxMessage()))
				received <- err
			}()
			testutil.WaitUntil(t, func() bool { // asleep or spinning
				return testutil.Parked("syscall", "ring.(*Ring).Receive") == 1
			}, "the receiver waiting")
			if err := os.Truncate("/dev/shm"+r.Name(), c.size); err != nil {
				t.Fatal(err)
			}
			err := r.TrySend(make([]byte, c.msg))
			if !errors.Is(err, syscall.EFAULT) || !strings.Contains(err.Error(), "truncated the ring's file to") {
				t.Errorf("TrySend on a truncated ring: %v, want EFAULT naming the truncation", err)
			}
			if err := testutil.Recv(t, received); !errors.Is(err, syscall.EFAULT) {
				t.Errorf("Receive waiting on a ring that was truncated: %v, want EFAULT", err)
			}
			if _, err := r.Stat(); !errors.Is(err, syscall.EFAULT) {
				t.Errorf("Stat of a truncated ring: %v, want EFAULT", err)
			}
			if err := r.Close(); err != nil {
				t.Errorf("Close of a truncated ring: %v", err)
			}
		})
	}
}

// TestTruncatedRingPeer: a process waiting on a ring that another truncates
// gets an error and exits as it chooses, instead of dying of SIGBUS.
func TestTruncatedRingPeer(t *testing.T) {
	path := makeRing(t, "go", 64<<10)
	p := testutil.Start(t, peerCmd(t, "go", path, "recv", "0"))
	p.Expect("ready")
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	_, err := p.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(p.Stderr(), "truncated") {
		t.Fatalf("Go peer receiving on a ring truncated under it: %v, stderr:\n%s\nwant exit status 1 and the error", err, p.Stderr())
	}
}

// TestSealedRing: an anonymous ring's memfd is sealed at its size, so no
// process can truncate it (the SIGBUS of a truncated mapping cannot happen
// there, to C and Python peers either); the ring goes on working.
func TestSealedRing(t *testing.T) {
	r, err := ring.New(&ring.Options{Capacity: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, size := range []int64{0, 256 + 4096 + 4096} {
		if err := r.File().Truncate(size); !errors.Is(err, syscall.EPERM) {
			t.Errorf("Truncate of an anonymous ring's memfd to %d: %v, want EPERM (sealed)", size, err)
		}
	}
	if err := r.TrySend([]byte("still here")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	if n, err := r.TryReceive(buf); err != nil || string(buf[:n]) != "still here" {
		t.Fatalf("TryReceive: %q, %v", buf[:n], err)
	}
}

// TestOtherFaultsReachGo: with the rings' SIGBUS handler installed (a named
// ring is open), a SIGBUS elsewhere still reaches Go's handler: package
// mmap's ReadAt of a truncated file fails with EFAULT, as without rings.
func TestOtherFaultsReachGo(t *testing.T) {
	newRing(t, 4096) // installs the handler
	path := t.TempDir() + "/file"
	m, err := mmap.Create(path, 3*4096, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := os.Truncate(path, 4096); err != nil {
		t.Fatal(err)
	}
	if _, err := m.ReadAt(make([]byte, 8), 2*4096); !errors.Is(err, syscall.EFAULT) {
		t.Fatalf("mmap ReadAt past the end of a truncated file: %v, want EFAULT", err)
	}
}
