package main

import (
	"encoding/json"
	"strings"
	"syscall"
	"testing"

	"github.com/goipc/ipc/internal/cli"
	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/sysv"
)

// sysvTestKey returns a unique key whose objects are removed at cleanup.
func sysvTestKey(t *testing.T) string {
	key := sysv.Key(testutil.Key())
	t.Cleanup(func() {
		removeWith(sysv.OpenQueue(key, 0, 0))
		removeWith(sysv.OpenSharedMemory(key, 0, 0, 0))
		removeWith(sysv.OpenSemaphoreSet(key, 0, 0, 0))
	})
	return key.String()
}

func statJSON(t *testing.T, args ...string) map[string]any {
	t.Helper()
	var st map[string]any
	if err := json.Unmarshal([]byte(mustIPC(t, append(args, "--json")...)), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestSysvMsg(t *testing.T) {
	old := syscall.Umask(0o077) // must not matter
	defer syscall.Umask(old)
	key := sysvTestKey(t)
	mustIPC(t, "sysv", "msg", "send", key, "hello", "--create", "--mode", "0640")
	mustIPC(t, "sysv", "msg", "send", "--type", "5", key, "five")
	mustIPC(t, "sysv", "msg", "send", key, "three", "--type", "3")
	st := statJSON(t, "sysv", "msg", "stat", key)
	if st["key_hex"] != key || st["mode"] != "0640" || st["messages"] != 3.0 || st["bytes"] != 14.0 {
		t.Fatalf("stat --json = %v", st)
	}
	if out := mustIPC(t, "sysv", "msg", "recv", key, "--type", "5", "--json"); out != `{"data":"five","type":5}`+"\n" {
		t.Fatalf("recv --type 5 --json printed %q", out)
	}
	if out := mustIPC(t, "sysv", "msg", "recv", key, "--type", "1", "--except"); out != "three\n" {
		t.Fatalf("recv --type 1 --except printed %q", out)
	}
	if _, stderr, code := runIPC(t, "sysv", "msg", "recv", key, "--buffer", "3"); code != exitError || !strings.Contains(stderr, "stays queued") {
		t.Fatalf("recv of a 5-byte message into 3 bytes: exit %d, %q", code, stderr)
	}
	if out := mustIPC(t, "sysv", "msg", "recv", key, "--buffer", "3", "--noerror"); out != "hel\n" {
		t.Fatalf("recv --buffer 3 --noerror printed %q", out)
	}
	if _, stderr, code := runIPC(t, "sysv", "msg", "recv", key, "--nowait"); code != exitEmpty || !strings.Contains(stderr, "--nowait") {
		t.Fatalf("recv --nowait on an empty queue: exit %d, %q", code, stderr)
	}
	if _, _, code := runIPC(t, "sysv", "msg", "recv", key, "--timeout", "50ms"); code != exitTimeout {
		t.Fatalf("recv --timeout: exit %d, want 3", code)
	}
	// A receiver waiting before the message is sent gets it.
	recv := startIPC(t, "sysv", "msg", "recv", key, "--type", "-2", "--timeout", "20s")
	mustIPC(t, "sysv", "msg", "send", key, "late", "--type", "2")
	recv.Expect("late")
	recv.MustSucceed()

	// A message too long for the queue it would create leaves no queue
	// behind; one too long for a queue that was there leaves it.
	long := strings.Repeat("z", 9000) // > kernel.msgmax
	fresh := sysvTestKey(t)
	expectError(t, exitError, "invalid argument", "sysv", "msg", "send", fresh, long, "--create")
	expectError(t, exitError, "no such file", "sysv", "msg", "stat", fresh)
	expectError(t, exitError, "invalid argument", "sysv", "msg", "send", key, long, "--create")
	mustIPC(t, "sysv", "msg", "stat", key)

	mustIPC(t, "sysv", "msg", "rm", key)
	_, stderr, code := runIPC(t, "sysv", "msg", "rm", key)
	if code != exitError || stderr != "ipc: msgget "+key+": no such file or directory\n" {
		t.Fatalf("rm of a missing queue: exit %d, %q", code, stderr)
	}
}

// TestDemoKeyTaken: a demo exchange whose hashed key another program's
// queue holds takes the next free key, and its cleanup leaves that queue.
func TestDemoKeyTaken(t *testing.T) {
	id := testutil.Name("demo-key")
	openQueue := func(k sysv.Key) (*sysv.MessageQueue, error) { return sysv.OpenQueue(k, 0, 0) }
	first := &demo{id: id}
	defer first.runCleanups()
	key, err := sysv.ParseKey(demoKey(first, openQueue))
	if err != nil {
		t.Fatal(err)
	}
	q, err := sysv.OpenQueue(key, sysv.Create|sysv.Exclusive, 0o600) // the other program's
	if err != nil {
		t.Fatal(err)
	}
	again := &demo{id: id} // the same unique names: the same hash
	if got := demoKey(again, openQueue); got == key.String() {
		t.Errorf("demoKey gave %s, which a queue holds", got)
	}
	again.runCleanups()
	if _, err := q.Stat(); err != nil {
		t.Errorf("the other program's queue after the demo's cleanup: %v", err)
	}
}

func TestSysvShm(t *testing.T) {
	key := sysvTestKey(t)
	mustIPC(t, "sysv", "shm", "write", key, "hello", "--create")
	mustIPC(t, "sysv", "shm", "write", key, "world", "--offset", "100")
	if out := mustIPC(t, "sysv", "shm", "read", key); out != "hello\n" {
		t.Fatalf("read printed %q", out)
	}
	if out := mustIPC(t, "sysv", "shm", "read", key, "--offset", "100"); out != "world\n" {
		t.Fatalf("read --offset 100 printed %q", out)
	}
	if out := mustIPC(t, "sysv", "shm", "read", key, "--length", "7"); out != "hello\x00\x00\n" {
		t.Fatalf("read --length 7 printed %q", out)
	}
	st := statJSON(t, "sysv", "shm", "stat", key)
	if st["size"] != 4096.0 || st["mode"] != "0600" || st["attached"] != 0.0 {
		t.Fatalf("stat --json = %v", st)
	}
	if _, stderr, code := runIPC(t, "sysv", "shm", "write", key, "x", "--offset", "4096"); code != exitError || !strings.Contains(stderr, "4096 bytes") {
		t.Fatalf("write past the end: exit %d, %q", code, stderr)
	}
	mustIPC(t, "sysv", "shm", "rm", key)
	if _, _, code := runIPC(t, "sysv", "shm", "read", key); code != exitError {
		t.Fatalf("read of a removed segment: exit %d", code)
	}
}

func TestSysvSem(t *testing.T) {
	key := sysvTestKey(t)
	mustIPC(t, "sysv", "sem", "set", key, "3", "--create", "--count", "2")
	mustIPC(t, "sysv", "sem", "op", key, "--num", "1", "--delta", "4")
	if out := mustIPC(t, "sysv", "sem", "get", key); out != "3 4\n" {
		t.Fatalf("get printed %q", out)
	}
	if _, _, code := runIPC(t, "sysv", "sem", "op", key, "--delta", "-5", "--nowait"); code != exitEmpty {
		t.Fatalf("op --nowait that would block: exit %d, want 4", code)
	}
	if _, _, code := runIPC(t, "sysv", "sem", "op", key, "--delta", "-5", "--timeout", "50ms"); code != exitTimeout {
		t.Fatalf("op --timeout: exit %d, want 3", code)
	}
	// --undo is reverted when the process exits.
	if out := mustIPC(t, "sysv", "sem", "op", key, "--delta", "-3", "--undo", "--print-value"); out != "0\n" {
		t.Fatalf("op --print-value printed %q", out)
	}
	if out := mustIPC(t, "sysv", "sem", "get", key, "--num", "0"); out != "3\n" {
		t.Fatalf("after an --undo op exited, get printed %q, want 3", out)
	}
	// A waiting op is woken by another process.
	wait := startIPC(t, "sysv", "sem", "op", key, "--num", "1", "--delta", "0", "--timeout", "20s", "--print-value")
	mustIPC(t, "sysv", "sem", "set", key, "0", "--num", "1")
	wait.Expect("0")
	wait.MustSucceed()
	st := statJSON(t, "sysv", "sem", "stat", key)
	if st["count"] != 2.0 || st["mode"] != "0600" {
		t.Fatalf("stat --json = %v", st)
	}
	if _, _, code := runIPC(t, "sysv", "sem", "op", key); code != cli.ExitUsage {
		t.Fatalf("op without --delta: exit %d, want 2", code)
	}
	if _, stderr, code := runIPC(t, "sysv", "sem", "op", key, "--num", "7", "--delta", "1"); code != exitError || !strings.Contains(stderr, "out of range") {
		t.Fatalf("op on semaphore 7 of 2: exit %d, %q", code, stderr)
	}
	mustIPC(t, "sysv", "sem", "rm", key)
}

func TestSysvBadKeys(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"sysv", "msg", "send", "0", "x"}, cli.ExitUsage},
		{[]string{"sysv", "msg", "send", "0xZZ", "x"}, cli.ExitUsage},
		{[]string{"sysv", "msg", "send", "/tmp:0", "x"}, cli.ExitUsage},
		{[]string{"sysv", "msg", "send", "--type", "0", "x"}, cli.ExitUsage},
		{[]string{"sysv", "msg", "recv", "--except"}, cli.ExitUsage},
		{[]string{"sysv", "sem", "set", "99999"}, cli.ExitUsage},
		{[]string{"sysv", "shm", "read", "/nonexistent-goipc:A"}, exitError},
	} {
		if _, stderr, code := runIPC(t, c.args...); code != c.code || !strings.HasPrefix(stderr, "ipc: ") {
			t.Errorf("ipc %v: exit %d, %q; want exit %d", c.args, code, stderr, c.code)
		}
	}
}

func TestSysvDemo(t *testing.T) {
	out := mustIPC(t, "demo", "sysv-msg", "sysv-shm", "sysv-sem")
	for _, mech := range []string{"sysv-msg", "sysv-shm", "sysv-sem"} {
		if !strings.Contains(out, mech) {
			t.Errorf("demo output lacks %s:\n%s", mech, out)
		}
	}
	if strings.Count(out, " ok\n") != 3 {
		t.Errorf("demo did not pass every mechanism:\n%s", out)
	}
}
