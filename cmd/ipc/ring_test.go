package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/ring"
)

func TestRing(t *testing.T) {
	name := "/" + testutil.Name("cli-ring")
	t.Cleanup(func() { ring.Unlink(name) })
	if _, stderr, code := runIPC(t, "ring", "send", name, "x"); code != exitError || !strings.Contains(stderr, "no such file") {
		t.Fatalf("send to a missing ring without --create: exit %d, %q", code, stderr)
	}
	mustIPC(t, "ring", "send", name, "first", "--create", "--capacity", "1KiB")
	mustIPC(t, "ring", "send", name, "\xff\xfe")

	var st map[string]any
	if err := json.Unmarshal([]byte(mustIPC(t, "ring", "stat", name, "--json")), &st); err != nil {
		t.Fatal(err)
	}
	if st["mode"] != "0600" || st["capacity"] != 1024.0 || st["max_message"] != 504.0 || st["messages"] != 2.0 {
		t.Fatalf("stat --json = %v", st)
	}
	if out := mustIPC(t, "ring", "recv", name); out != "first\n" {
		t.Fatalf("recv printed %q", out)
	}
	if out := mustIPC(t, "ring", "recv", name, "--json"); out != `{"data_b64":"//4="}`+"\n" {
		t.Fatalf("recv --json printed %q", out)
	}
	if _, stderr, code := runIPC(t, "ring", "recv", name, "--nowait"); code != exitEmpty || !strings.Contains(stderr, "--nowait") {
		t.Fatalf("recv --nowait on an empty ring: exit %d, %q", code, stderr)
	}
	if _, _, code := runIPC(t, "ring", "recv", name, "--timeout", "50ms"); code != exitTimeout {
		t.Fatalf("recv --timeout: exit %d, want 3", code)
	}
	long := strings.Repeat("x", 505)
	if _, stderr, code := runIPC(t, "ring", "send", name, long); code != exitError || !strings.Contains(stderr, "maximum 504") {
		t.Fatalf("send of a message too long: exit %d, %q", code, stderr)
	}
	fresh := "/" + testutil.Name("cli-ring-fresh")
	t.Cleanup(func() { ring.Unlink(fresh) })
	if _, stderr, code := runIPC(t, "ring", "send", fresh, long, "--create", "--capacity", "1KiB"); code != exitError || !strings.Contains(stderr, "maximum 504") {
		t.Fatalf("send --create of a message too long: exit %d, %q", code, stderr)
	}
	expectError(t, exitError, "no such file", "ring", "stat", fresh) // the failed send made no ring
	// Three records of 312 bytes fit in 1 KiB, a fourth does not.
	for range 3 {
		mustIPC(t, "ring", "send", name, strings.Repeat("y", 300), "--nowait")
	}
	if _, stderr, code := runIPC(t, "ring", "send", name, strings.Repeat("y", 300), "--nowait"); code != exitEmpty || !strings.Contains(stderr, "the ring is full") {
		t.Fatalf("send --nowait to a full ring: exit %d, %q", code, stderr)
	}
	if _, _, code := runIPC(t, "ring", "send", name, strings.Repeat("y", 300), "--timeout", "50ms"); code != exitTimeout {
		t.Fatalf("send --timeout to a full ring: exit %d, want 3", code)
	}
	mustIPC(t, "ring", "rm", name)
	if _, _, code := runIPC(t, "ring", "stat", name); code != exitError {
		t.Fatalf("stat after rm: exit %d, want 1", code)
	}
}

func TestRingDemo(t *testing.T) {
	out := mustIPC(t, "demo", "ring")
	if !strings.Contains(out, "hello through a shared-memory ring") || !strings.Contains(out, " ok") {
		t.Fatalf("ipc demo ring printed:\n%s", out)
	}
}
