package testutil

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestWaitInKernel(t *testing.T) {
	tid, done := make(chan int), make(chan error)
	go func() {
		runtime.LockOSThread() // the signal must reach the thread in pause
		defer runtime.UnlockOSThread()
		tid <- unix.Gettid()
		done <- unix.Pause()
	}()
	id := <-tid
	WaitInKernel(t, 1, "__do_sys_pause")
	unix.Tgkill(os.Getpid(), id, unix.SIGURG)
	if err := <-done; err != unix.EINTR {
		t.Fatalf("pause returned %v, want EINTR: it was not blocked when the signal came", err)
	}
}

func parkHere(c chan struct{}) { <-c }

func TestWaitGoroutines(t *testing.T) {
	c := make(chan struct{})
	defer close(c)
	for range 3 {
		go parkHere(c)
	}
	WaitGoroutines(t, 3, "chan receive", "testutil.parkHere")
	dump := make([]byte, 1<<20)
	dump = dump[:runtime.Stack(dump, true)]
	for _, c := range []struct {
		state, fn string
		want      int
	}{
		{"chan receive", "testutil.parkHere", 3},
		{"IO wait", "testutil.parkHere", 0},
		{"chan receive", "testutil.nowhere", 0},
	} {
		if got := parked(dump, c.state, c.fn); got != c.want {
			t.Errorf("parked(%q, %q) = %d, want %d", c.state, c.fn, got, c.want)
		}
	}
}

// fatalRecorder stands in for a test whose failure is the expected outcome.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// Goroutines left parked by an earlier test must not stand in for the ones a
// test waits for.
func TestWaitGoroutinesRefusesExtra(t *testing.T) {
	c := make(chan struct{})
	defer close(c)
	for range 3 {
		go parkHere(c)
	}
	WaitGoroutines(t, 3, "chan receive", "testutil.parkHere")
	rec := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		WaitGoroutines(rec, 2, "chan receive", "testutil.parkHere")
	}()
	<-done
	if !strings.Contains(rec.msg, "an earlier test left some behind") {
		t.Fatalf("WaitGoroutines(2) with 3 parked: %q, want a failure naming the extra goroutines", rec.msg)
	}
}
