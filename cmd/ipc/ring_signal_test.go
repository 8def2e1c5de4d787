package main

import (
	"strings"
	"syscall"
	"testing"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/ring"
)

// TestRingInterrupted: `ipc ring recv` and `send` interrupted while they wait
// (SIGINT, SIGTERM) leave the ring's sleepers count as they found it, and
// say "interrupted"; dying asleep would leave it one too high for good.
func TestRingInterrupted(t *testing.T) {
	name := "/" + testutil.Name("cli-ring-int")
	t.Cleanup(func() { ring.Unlink(name) })
	mustIPC(t, "ring", "send", name, strings.Repeat("x", 20), "--create", "--capacity", "64")
	mustIPC(t, "ring", "recv", name)
	r, err := ring.Open(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	sleepers := func() int {
		st, err := r.Stat()
		if err != nil {
			t.Fatal(err)
		}
		return st.Sleepers
	}
	full := func() { // two records of 24 bytes leave no room for a third
		mustIPC(t, "ring", "send", name, strings.Repeat("y", 20))
		mustIPC(t, "ring", "send", name, strings.Repeat("y", 20))
	}
	for _, c := range []struct {
		args  []string
		sig   syscall.Signal
		setup func()
	}{
		{[]string{"ring", "recv", name}, syscall.SIGINT, func() {}},
		{[]string{"ring", "send", name, "z"}, syscall.SIGTERM, full},
	} {
		c.setup()
		p := startIPC(t, c.args...)
		testutil.WaitUntil(t, func() bool { return sleepers() == 1 }, "ipc %v asleep on the ring", c.args)
		p.Cmd.Process.Signal(c.sig)
		if _, err := p.Wait(); err == nil || !strings.Contains(p.Stderr(), "interrupted") {
			t.Errorf("ipc %v after %v: %v, stderr %q; want a failure that says interrupted", c.args, c.sig, err, p.Stderr())
		}
		if n := sleepers(); n != 0 {
			t.Errorf("ipc %v interrupted by %v left %d sleepers, want 0", c.args, c.sig, n)
		}
		for range 2 {
			r.TryReceive(make([]byte, 64))
		}
	}
}
