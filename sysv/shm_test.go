package sysv_test

import (
	"bytes"
	"errors"
	"os"
	"syscall"
	"testing"

	"github.com/goipc/ipc/sysv"
)

func TestSharedMemory(t *testing.T) {
	m := newSegment(t, 5000)
	if m.Size() != 5000 {
		t.Fatalf("Size = %d, want 5000", m.Size())
	}
	rw, err := m.Attach(0)
	if err != nil {
		t.Fatal(err)
	}
	copy(rw, "shared bytes")

	// A second handle, as another process would open it, sees the bytes.
	other, err := sysv.OpenSharedMemory(m.Key(), 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ro, err := other.Attach(sysv.ReadOnly)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(ro, []byte("shared bytes")) || len(ro) != 5000 {
		t.Fatalf("read-only attachment holds %q... (%d bytes)", ro[:12], len(ro))
	}
	st, err := m.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if st.Attached != 2 || st.Size != 5000 || st.CreatorPID != os.Getpid() || st.Mode != 0o600 || st.AttachTime.IsZero() {
		t.Fatalf("Stat = %+v, want 2 attachments of 5000 bytes created by this process, mode 0600", st)
	}
	if err := other.Detach(ro); err != nil {
		t.Fatal(err)
	}
	if err := other.Detach(ro); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("second Detach: %v, want EINVAL", err)
	}
	if err := m.Detach(rw[1:]); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("Detach of a subslice: %v, want EINVAL", err)
	}
	// Remove leaves the attached memory usable until detached.
	if err := m.Remove(); err != nil {
		t.Fatal(err)
	}
	copy(rw, "still mapped")
	if _, err := m.Attach(0); !errors.Is(err, syscall.EIDRM) {
		t.Errorf("Attach after Remove: %v, want EIDRM", err)
	}
	if err := m.Detach(rw); err != nil {
		t.Fatalf("Detach after Remove: %v", err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Stat(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Stat after Close: %v, want os.ErrClosed", err)
	}
}

func TestSharedMemoryCloseDetaches(t *testing.T) {
	m := newSegment(t, 100)
	if _, err := m.Attach(0); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Attach(sysv.ReadOnly); err != nil {
		t.Fatal(err)
	}
	other, _ := sysv.OpenSharedMemory(m.Key(), 0, 0, 0)
	defer other.Close()
	if st, _ := other.Stat(); st.Attached != 2 {
		t.Fatalf("%d attachments, want 2", st.Attached)
	}
	m.Close()
	m.Close()
	if st, _ := other.Stat(); st.Attached != 0 {
		t.Fatalf("after Close %d attachments, want 0", st.Attached)
	}
	if _, err := m.Attach(0); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Attach after Close: %v, want os.ErrClosed", err)
	}
	(*sysv.SharedMemory)(nil).Close()
}

func TestSharedMemoryOpenErrors(t *testing.T) {
	m := newSegment(t, 100)
	if _, err := sysv.OpenSharedMemory(m.Key(), 200, 0, 0); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("opening a 100-byte segment as 200 bytes: %v, want EINVAL", err)
	}
	if _, err := sysv.OpenSharedMemory(m.Key(), 100, sysv.Create|sysv.Exclusive, 0o600); !errors.Is(err, os.ErrExist) {
		t.Errorf("exclusive create of an existing segment: %v, want fs.ErrExist", err)
	}
	if _, err := sysv.OpenSharedMemory(m.Key()+1000, 0, sysv.Create, 0o600); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("create with size 0: %v, want EINVAL", err)
	}
	if _, err := m.Attach(sysv.AttachFlag(1)); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("Attach with unknown flags: %v, want EINVAL", err)
	}
}

// NoReserve is accepted; HugeTLB works where the kernel has huge pages.
func TestSharedMemoryFlags(t *testing.T) {
	m, err := sysv.OpenSharedMemory(sysv.IPCPrivate, 1<<20, sysv.Create|sysv.NoReserve, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	m.Remove()
	m.Close()
	h, err := sysv.OpenSharedMemory(sysv.IPCPrivate, 2<<20, sysv.Create|sysv.HugeTLB, 0o600)
	if err != nil {
		t.Logf("HugeTLB segment: %v (no huge pages configured)", err)
		return
	}
	h.Remove()
	h.Close()
}
