package testutil

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// WaitInKernel waits until n threads of this process sleep in the kernel
// function fn (do_msgrcv, do_semtimedop, __do_sys_pause), as
// /proc/self/task/*/wchan shows: the event that n calls are blocked, seen
// rather than guessed with a sleep. It cannot tell a futex wait from the
// runtime's idle threads, which sleep in the same function.
func WaitInKernel(t testing.TB, n int, fn string) {
	t.Helper()
	WaitUntil(t, func() bool {
		files, _ := filepath.Glob("/proc/self/task/*/wchan")
		in := 0
		for _, f := range files {
			if b, _ := os.ReadFile(f); string(b) == fn {
				in++
			}
		}
		return in >= n
	}, "%d threads blocked in %s", n, fn)
}

// WaitGoroutines waits until exactly n goroutines whose stack holds fn (part of
// a function name as stack traces print it, such as
// "posix.(*MessageQueue).Receive") are parked in state ("IO wait", "chan
// receive"...). Goroutines parked on the runtime poller hold no thread, so
// WaitInKernel cannot see them. More than n fails the test at once: they are
// goroutines an earlier test left parked, which would otherwise stand in for
// the ones this test waits for.
func WaitGoroutines(t testing.TB, n int, state, fn string) {
	t.Helper()
	buf := make([]byte, 1<<20)
	WaitUntil(t, func() bool {
		for {
			k := runtime.Stack(buf, true)
			if k == len(buf) {
				buf = make([]byte, 2*len(buf))
				continue
			}
			if got := parked(buf[:k], state, fn); got > n {
				t.Fatalf("%d goroutines in %s parked in state %q, want %d: an earlier test left some behind", got, fn, state, n)
			} else {
				return got == n
			}
		}
	}, "%d goroutines in %s parked in state %q", n, fn, state)
}

// parked counts the goroutines of a runtime.Stack dump in state with fn in
// their stack.
func parked(dump []byte, state, fn string) int {
	k := 0
	for g := range bytes.SplitSeq(dump, []byte("\n\n")) {
		header, stack, _ := bytes.Cut(g, []byte("\n"))
		if bytes.Contains(header, []byte("["+state)) && bytes.Contains(stack, []byte(fn)) {
			k++
		}
	}
	return k
}

// WaitUntil polls cond, which observes some state, until it holds; after
// Timeout it fails the test saying what it waited for (format and args).
func WaitUntil(t testing.TB, cond func() bool, format string, args ...any) {
	t.Helper()
	for deadline := time.Now().Add(Timeout); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no "+format+" after %v", append(args, Timeout)...)
		}
	}
}

// Recv receives from ch, failing the test if nothing comes within Timeout: a
// regression that leaves a call blocked fails fast instead of hanging go test.
func Recv[T any](t testing.TB, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(Timeout):
		t.Fatalf("nothing received within %v", Timeout)
	}
	var zero T
	return zero
}

// OpenFiles returns the number of this process's open descriptors
// (/proc/self/fd), to check that a test closed what it opened.
func OpenFiles(t testing.TB) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(fds)
}

// Threads returns the number of this process's threads (/proc/self/status),
// to check that waiting goroutines hold none.
func Threads(t testing.TB) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	t.Fatal("no Threads line in /proc/self/status")
	return 0
}
