package testutil

import (
	"context"
	"slices"
	"testing"
	"time"
)

// Contexts returns the kinds of context a call may get, by name: Background,
// which cannot end, WithCancel, which can, and WithTimeout, with a deadline
// an hour away. A fast path must cost the same with each.
func Contexts(t testing.TB) map[string]context.Context {
	cancellable, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	timed, stop := context.WithTimeout(context.Background(), time.Hour)
	t.Cleanup(stop)
	return map[string]context.Context{"Background": context.Background(), "WithCancel": cancellable, "WithTimeout": timed}
}

// NoAllocs fails t for each fast path in paths (named, as "Send+Receive")
// that allocates on average over 100 runs; each must leave its object as it
// found it, ready for the next run. A test whose paths recycle through a
// sync.Pool skips under the race detector (RaceEnabled), which makes the
// pool drop what it is given.
func NoAllocs(t *testing.T, paths map[string]func()) {
	t.Helper()
	names := make([]string, 0, len(paths))
	for name := range paths {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if allocs := testing.AllocsPerRun(100, paths[name]); allocs != 0 {
			t.Errorf("%s allocates %v times per run, want 0", name, allocs)
		}
	}
}
