package sysv_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
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
	// shmget's ENOMEM alone does not say which memory is short.
	huge, err := sysv.OpenSharedMemory(m.Key()+1000, 1<<50, sysv.Create, 0o600)
	if err == nil {
		huge.Remove()
	}
	if !errors.Is(err, syscall.ENOMEM) || !strings.Contains(err.Error(), "of RAM and swap") {
		t.Errorf("create of 1 PiB: %v, want ENOMEM naming RAM and swap", err)
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
		if !errors.Is(err, syscall.ENOMEM) || !strings.Contains(err.Error(), "vm.nr_hugepages") {
			t.Errorf("HugeTLB segment: %v; want ENOMEM naming vm.nr_hugepages", err)
		}
		t.Logf("HugeTLB segment: %v (no huge pages configured)", err)
		return
	}
	h.Remove()
	h.Close()
}

// TestSharedMemoryAttachRacesClose: an Attach that Close overtakes must not
// leave an attachment that nothing detaches.
func TestSharedMemoryAttachRacesClose(t *testing.T) {
	m := newSegment(t, 100)
	other, err := sysv.OpenSharedMemory(m.Key(), 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	for range 300 {
		h, err := sysv.OpenSharedMemory(m.Key(), 0, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		started, done := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(done)
			for i := 0; ; i++ {
				if _, err := h.Attach(0); err != nil {
					if !errors.Is(err, os.ErrClosed) {
						t.Errorf("Attach: %v, want os.ErrClosed", err)
					}
					return
				}
				if i == 0 {
					close(started)
				}
			}
		}()
		<-started // Close now meets Attach in any of its steps
		h.Close()
		<-done
	}
	if st, err := other.Stat(); err != nil || st.Attached != 0 {
		t.Fatalf("after every handle closed: %d attachments (%v), want 0", st.Attached, err)
	}
}

// TestNotOpen: nil and zero handles fail with os.ErrInvalid. They used to
// panic, or, zero, act on id 0, which is another object's.
func TestNotOpen(t *testing.T) {
	ctx := context.Background()
	for what, q := range map[string]*sysv.MessageQueue{"nil": nil, "zero": {}} {
		for op, err := range map[string]error{
			"Send":    q.Send(ctx, 1, nil, sysv.NoWait),
			"Receive": third(q.Receive(ctx, nil, 0, sysv.NoWait)),
			"Stat":    second(q.Stat()),
			"Set":     q.Set(sysv.QueueStat{MaxBytes: 1}),
			"Remove":  q.Remove(),
		} {
			if !errors.Is(err, os.ErrInvalid) {
				t.Errorf("%s queue %s: %v, want os.ErrInvalid", what, op, err)
			}
		}
	}
	for what, m := range map[string]*sysv.SharedMemory{"nil": nil, "zero": {}} {
		for op, err := range map[string]error{
			"Attach": second(m.Attach(0)),
			"Detach": m.Detach(nil),
			"Stat":   second(m.Stat()),
			"Set":    m.Set(sysv.Perm{}),
			"Remove": m.Remove(),
		} {
			if !errors.Is(err, os.ErrInvalid) {
				t.Errorf("%s segment %s: %v, want os.ErrInvalid", what, op, err)
			}
		}
	}
	for what, s := range map[string]*sysv.SemaphoreSet{"nil": nil, "zero": {}} {
		_, _, waitErr := s.Waiting(0)
		for op, err := range map[string]error{
			"Op":        s.Op(ctx, sysv.SemOp{Delta: 1}),
			"Value":     second(s.Value(0)),
			"SetValue":  s.SetValue(0, 1),
			"Values":    second(s.Values()),
			"SetValues": s.SetValues(nil),
			"Waiting":   waitErr,
			"LastPID":   second(s.LastPID(0)),
			"Stat":      second(s.Stat()),
			"Set":       s.Set(sysv.Perm{}),
			"Remove":    s.Remove(),
			"Mutex":     second(s.Mutex(0)),
		} {
			if !errors.Is(err, os.ErrInvalid) {
				t.Errorf("%s set %s: %v, want os.ErrInvalid", what, op, err)
			}
		}
	}
	for what, mu := range map[string]*sysv.Mutex{"nil": nil, "zero": {}} {
		for op, err := range map[string]error{
			"Lock":    mu.Lock(ctx),
			"TryLock": second(mu.TryLock()),
			"Unlock":  mu.Unlock(),
		} {
			if !errors.Is(err, os.ErrInvalid) {
				t.Errorf("%s mutex %s: %v, want os.ErrInvalid", what, op, err)
			}
		}
	}
}
