package shmsync_test

import (
	"testing"

	"github.com/goipc/ipc/internal/testutil"
)

// Lock and Unlock of a free mutex, and Signal and Broadcast of a cond no one
// waits on, allocate nothing, whatever the context.
func TestNoAllocs(t *testing.T) {
	r := newRegion(t, false)
	paths := map[string]func(){
		"TryLock+Unlock": func() {
			if err := r.mu.TryLock(); err != nil {
				t.Fatal(err)
			}
			if err := r.mu.Unlock(); err != nil {
				t.Fatal(err)
			}
		},
		"Signal+Broadcast": func() {
			if err := r.cond.Signal(); err != nil {
				t.Fatal(err)
			}
			if err := r.cond.Broadcast(); err != nil {
				t.Fatal(err)
			}
		},
	}
	for name, ctx := range testutil.Contexts(t) {
		paths["Lock+Unlock with "+name] = func() {
			if err := r.mu.Lock(ctx); err != nil {
				t.Fatal(err)
			}
			if err := r.mu.Unlock(); err != nil {
				t.Fatal(err)
			}
		}
	}
	testutil.NoAllocs(t, paths)
}
