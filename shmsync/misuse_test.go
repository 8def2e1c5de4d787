package shmsync_test

import (
	"errors"
	"syscall"
	"testing"

	"github.com/goipc/ipc/mmap"
	"github.com/goipc/ipc/shmsync"
)

// TestCondAtUninitialised: CondAt, like MutexAt, refuses bytes that are not
// a process-shared condition variable. Zeroed memory is glibc's
// PTHREAD_COND_INITIALIZER, a private condition variable whose wake-ups
// never reach another process, so waiting on it there would hang.
func TestCondAtUninitialised(t *testing.T) {
	m, err := mmap.Shared(4096)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := shmsync.CondAt(m.Bytes()); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("CondAt of zeroed memory: %v, want EINVAL", err)
	}
	if _, err := shmsync.NewCond(m.Bytes()); err != nil {
		t.Fatal(err)
	}
	if _, err := shmsync.CondAt(m.Bytes()); err != nil {
		t.Fatalf("CondAt of an initialised condition variable: %v", err)
	}
}
