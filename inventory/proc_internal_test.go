package inventory

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAliveReusedPID fakes /proc/PID/stat for this (running) process to
// check how alive tells a reused pid and a zombie from the recorded process.
func TestAliveReusedPID(t *testing.T) {
	btime := bootTime()
	if btime.IsZero() {
		t.Fatal("no btime in /proc/stat")
	}
	dir := t.TempDir()
	saved := ProcDir
	ProcDir = dir
	t.Cleanup(func() { ProcDir = saved })
	pid := os.Getpid()
	os.Mkdir(filepath.Join(dir, fmt.Sprint(pid)), 0o755)
	stat := func(state string, started time.Time) {
		ticks := started.Sub(btime) / (time.Second / 100)
		// comm with a space and a parenthesis, as a process may name itself
		fields := []string{fmt.Sprint(pid), "(odd) name)", state}
		for i := 4; i <= 21; i++ {
			fields = append(fields, "0")
		}
		fields = append(fields, fmt.Sprint(int64(ticks)), "0", "0")
		os.WriteFile(filepath.Join(dir, fmt.Sprint(pid), "stat"), []byte(strings.Join(fields, " ")+"\n"), 0o644)
	}
	by := time.Now().Add(-time.Minute)
	for _, c := range []struct {
		state   string
		started time.Time
		want    bool
	}{
		{"S", by.Add(-time.Hour), true},             // started before: the recorded process
		{"R", by.Add(500 * time.Millisecond), true}, // within the second of slack
		{"S", by.Add(10 * time.Second), false},      // started after: the pid was reused
		{"Z", by.Add(-time.Hour), false},            // exited, not yet reaped
	} {
		stat(c.state, c.started)
		if got := alive(pid, by); got != c.want {
			t.Errorf("state %s started %v after the object: alive = %v, want %v", c.state, c.started.Sub(by), got, c.want)
		}
	}
	stat("S", by.Add(time.Hour))
	if !alive(pid, time.Time{}) {
		t.Error("with no time to compare, a running process must count as alive")
	}
	os.Remove(filepath.Join(dir, fmt.Sprint(pid), "stat"))
	if !alive(pid, by) {
		t.Error("a running process whose stat cannot be read must count as alive")
	}
	// A reaped child's pid is free: gone (unless reused within this test).
	child := exec.Command("true")
	if err := child.Run(); err != nil {
		t.Fatal(err)
	}
	if alive(child.Process.Pid, by) {
		if _, err := os.Stat(filepath.Join(saved, fmt.Sprint(child.Process.Pid))); err != nil {
			t.Errorf("reaped child %d counted as alive", child.Process.Pid)
		}
	}
	if alive(0, by) || alive(-1, by) {
		t.Error("pid 0 or -1 counted as alive")
	}
}
