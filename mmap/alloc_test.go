package mmap_test

import (
	"testing"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/mmap"
)

// ReadAt, WriteAt and the accessors of shared words allocate nothing (none
// takes a context: nothing in package mmap waits).
func TestNoAllocs(t *testing.T) {
	m, err := mmap.Shared(4096)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	buf := make([]byte, 64)
	testutil.NoAllocs(t, map[string]func(){
		"WriteAt+ReadAt": func() {
			if _, err := m.WriteAt(buf, 128); err != nil {
				t.Fatal(err)
			}
			if _, err := m.ReadAt(buf, 128); err != nil {
				t.Fatal(err)
			}
		},
		"AtomicInt64+AtomicUint32": func() {
			i, err := m.AtomicInt64(8)
			if err != nil {
				t.Fatal(err)
			}
			u, err := m.AtomicUint32(16)
			if err != nil {
				t.Fatal(err)
			}
			i.Add(1)
			u.Add(1)
		},
	})
}
