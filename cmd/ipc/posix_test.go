package main

import (
	"encoding/json"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/goipc/ipc/internal/cli"
	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/posix"
)

func TestPosixMQ(t *testing.T) {
	name := "/" + testutil.Name("cli-mq")
	t.Cleanup(func() { posix.UnlinkQueue(name) })
	mustIPC(t, "posix", "mq", "send", name, "low", "--create", "--max-messages", "4", "--message-size", "1KiB")
	mustIPC(t, "posix", "mq", "send", "--priority", "7", name, "high")

	var st map[string]any
	if err := json.Unmarshal([]byte(mustIPC(t, "posix", "mq", "stat", name, "--json")), &st); err != nil {
		t.Fatal(err)
	}
	if st["mode"] != "0600" || st["capacity"] != 4.0 || st["message_size"] != 1024.0 || st["messages"] != 2.0 {
		t.Fatalf("stat --json = %v", st)
	}
	if out := mustIPC(t, "posix", "mq", "recv", name, "--json"); out != `{"data":"high","priority":7}`+"\n" {
		t.Fatalf("recv --json printed %q", out)
	}
	if out := mustIPC(t, "posix", "mq", "recv", name); out != "low\n" {
		t.Fatalf("recv printed %q", out)
	}
	if _, stderr, code := runIPC(t, "posix", "mq", "recv", name, "--nowait"); code != exitEmpty || !strings.Contains(stderr, "--nowait") {
		t.Fatalf("recv --nowait on an empty queue: exit %d, %q", code, stderr)
	}
	if _, _, code := runIPC(t, "posix", "mq", "recv", name, "--timeout", "50ms"); code != exitTimeout {
		t.Fatalf("recv --timeout: exit %d, want 3", code)
	}
	// A receiver waiting before the message is sent gets it.
	recv := startIPC(t, "posix", "mq", "recv", name, "--timeout", "20s")
	mustIPC(t, "posix", "mq", "send", name, "late")
	recv.Expect("late")
	recv.MustSucceed()

	// A message too long for the queue it would create leaves no queue
	// behind; one too long for a queue that was there leaves it.
	long := strings.Repeat("z", 2048)
	fresh := "/" + testutil.Name("cli-mq-fresh")
	t.Cleanup(func() { posix.UnlinkQueue(fresh) })
	expectError(t, exitError, "message too long", "posix", "mq", "send", fresh, long, "--create", "--max-messages", "4", "--message-size", "1KiB")
	expectError(t, exitError, "no such file", "posix", "mq", "stat", fresh)
	expectError(t, exitError, "message too long", "posix", "mq", "send", name, long, "--create")
	mustIPC(t, "posix", "mq", "stat", name)

	mustIPC(t, "posix", "mq", "rm", name)
	_, stderr, code := runIPC(t, "posix", "mq", "rm", name)
	if code != exitError || stderr != "ipc: mq_unlink "+name+": no such file or directory\n" {
		t.Fatalf("rm of a missing queue: exit %d, %q", code, stderr)
	}
}

func TestPosixShm(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	name := "/" + testutil.Name("cli-shm")
	t.Cleanup(func() { posix.UnlinkSharedMemory(name) })
	mustIPC(t, "posix", "shm", "write", name, "hello", "--create", "--size", "4KiB")
	mustIPC(t, "posix", "shm", "write", name, "world", "--offset", "100")
	if out := mustIPC(t, "posix", "shm", "read", name); out != "hello\n" {
		t.Fatalf("read printed %q", out)
	}
	if out := mustIPC(t, "posix", "shm", "read", name, "--offset", "100", "--length", "7"); out != "world\x00\x00\n" {
		t.Fatalf("read --length printed %q", out)
	}
	out := mustIPC(t, "posix", "shm", "stat", name)
	if !strings.Contains(out, "size      4096") || !strings.Contains(out, "mode      0600") {
		t.Fatalf("stat printed\n%s", out)
	}
	if _, stderr, code := runIPC(t, "posix", "shm", "write", name, "x", "--offset", "5000"); code != exitError || !strings.Contains(stderr, "past the end of the 4096-byte segment") {
		t.Fatalf("write past the end: exit %d, %q", code, stderr)
	}
	mustIPC(t, "posix", "shm", "rm", name)
	if _, err := os.Stat("/dev/shm" + name); !os.IsNotExist(err) {
		t.Fatalf("rm left %s: %v", name, err)
	}
}

func TestPosixSem(t *testing.T) {
	name := "/" + testutil.Name("cli-sem")
	t.Cleanup(func() { posix.UnlinkSemaphore(name) })
	mustIPC(t, "posix", "sem", "post", name, "--create", "--value", "1")
	if out := mustIPC(t, "posix", "sem", "value", name); out != "2\n" {
		t.Fatalf("value printed %q, want 2", out)
	}
	mustIPC(t, "posix", "sem", "wait", name)
	mustIPC(t, "posix", "sem", "wait", name, "--nowait")
	if _, _, code := runIPC(t, "posix", "sem", "wait", name, "--nowait"); code != exitEmpty {
		t.Fatalf("wait --nowait at zero: exit %d, want 4", code)
	}
	if _, _, code := runIPC(t, "posix", "sem", "wait", name, "--timeout", "50ms"); code != exitTimeout {
		t.Fatalf("wait --timeout at zero: exit %d, want 3", code)
	}
	var st map[string]any
	if err := json.Unmarshal([]byte(mustIPC(t, "posix", "sem", "stat", name, "--json")), &st); err != nil || st["value"] != 0.0 || st["mode"] != "0600" {
		t.Fatalf("stat --json: %v %v", st, err)
	}
	mustIPC(t, "posix", "sem", "rm", name)
}

func TestPosixBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"posix", "mq", "send", "/a/b", "x", "--create"},
		{"posix", "shm", "read", "/" + strings.Repeat("x", 300)},
		{"posix", "sem", "value", ""},
	} {
		_, stderr, code := runIPC(t, args...)
		if code != exitError || !strings.Contains(stderr, "invalid argument (") {
			t.Errorf("ipc %v: exit %d, %q; want exit 1 and the reason", args, code, stderr)
		}
	}
	for _, args := range [][]string{{"posix", "mq", "send"}, {"posix", "mq", "recv", "/q", "x"}, {"posix", "shm", "write", "/x", "d", "--size", "lots"}} {
		if _, _, code := runIPC(t, args...); code != cli.ExitUsage {
			t.Errorf("ipc %v: exit %d, want 2", args, code)
		}
	}
}

func TestPosixDemo(t *testing.T) {
	out := mustIPC(t, "demo", "posix-mq", "posix-shm", "posix-sem")
	for _, mech := range []string{"posix-mq", "posix-shm", "posix-sem"} {
		if !strings.Contains(out, mech) {
			t.Errorf("demo output lacks %s:\n%s", mech, out)
		}
	}
	if strings.Contains(out, "FAIL") {
		t.Fatalf("demo failed:\n%s", out)
	}
}

// TestPosixModeZero: --mode 0 makes objects of mode 0000, not the default
// 0600 (root may still use them).
func TestPosixModeZero(t *testing.T) {
	name := "/" + testutil.Name("cli-mode0")
	t.Cleanup(func() {
		posix.UnlinkQueue(name)
		posix.UnlinkSharedMemory(name)
		posix.UnlinkSemaphore(name)
	})
	mustIPC(t, "posix", "mq", "send", name, "m", "--create", "--mode", "0")
	mustIPC(t, "posix", "shm", "write", name, "s", "--create", "--mode", "0")
	mustIPC(t, "posix", "sem", "post", name, "--create", "--mode", "0")
	for _, kind := range []string{"mq", "shm", "sem"} {
		var st map[string]any
		if err := json.Unmarshal([]byte(mustIPC(t, "posix", kind, "stat", name, "--json")), &st); err != nil || st["mode"] != "0000" {
			t.Errorf("posix %s stat --json after --mode 0: %v %v, want mode 0000", kind, st, err)
		}
	}
}
