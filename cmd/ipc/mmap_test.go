package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goipc/ipc/internal/testutil"
)

func TestMmapWriteRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), testutil.Name("mmap"))
	mustIPC(t, "mmap", "write", path, "hello", "--offset", "5000", "--mode", "640")

	var st struct {
		Size int64  `json:"size"`
		Mode string `json:"mode"`
	}
	if err := json.Unmarshal([]byte(mustIPC(t, "mmap", "stat", path, "--json")), &st); err != nil {
		t.Fatal(err)
	}
	if st.Size != 5005 || st.Mode != "0640" {
		t.Fatalf("after write at offset 5000: size %d, mode %s; want 5005, 0640", st.Size, st.Mode)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--offset", "5000"}, "hello\n"},
		{[]string{"--offset", "4998", "--length", "4"}, "\x00\x00he\n"},
		{[]string{}, "\n"}, // the file starts with a NUL
		{[]string{"--offset", "5005"}, "\n"},
		{[]string{"--offset", "5001", "--json"}, `{"data":"ello","offset":5001}` + "\n"},
	} {
		if got := mustIPC(t, append([]string{"mmap", "read", path}, c.args...)...); got != c.want {
			t.Errorf("read %v: %q, want %q", c.args, got, c.want)
		}
	}

	// A second write changes bytes in place, ends with a NUL where the file
	// goes on (as posix and sysv shm writes do), and extends the file only
	// when it must; --size extends it with zeros.
	mustIPC(t, "mmap", "write", "--offset", "5000", path, "HE")
	if got := mustIPC(t, "mmap", "read", path, "--offset", "5000"); got != "HE\n" {
		t.Errorf("after overwriting: %q, want HE", got)
	}
	if got := mustIPC(t, "mmap", "read", path, "--offset", "5000", "--length", "5"); got != "HE\x00lo\n" {
		t.Errorf("after overwriting, 5 bytes: %q, want HE, NUL, lo", got)
	}
	mustIPC(t, "mmap", "write", path, "tail", "--offset", "5003", "--size", "3MiB")
	data, err := os.ReadFile(path)
	if err != nil || len(data) != 3<<20 || string(data[5000:5008]) != "HE\x00tail\x00" {
		t.Fatalf("after extending: %d bytes, %q, %v", len(data), data[5000:5008], err)
	}
	mustIPC(t, "mmap", "rm", path)
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("rm left the file: %v", err)
	}
}

func TestMmapErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, []byte("0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"read", filepath.Join(dir, "none")}, 1, "no such file"},
		{[]string{"read", path, "--offset", "11"}, 1, "past the end of the 10-byte file"},
		{[]string{"read", path, "--offset", "5", "--length", "6"}, 1, "past the end of the 10-byte file"},
		{[]string{"read", dir}, 1, "is a directory"},
		{[]string{"read", "/dev/null"}, 1, "give --length"},
		{[]string{"write", dir, "x"}, 1, "is a directory"},
		{[]string{"write", path, ""}, 2, "nothing to write"},
		{[]string{"read", path, "--offset", "-1"}, 2, "want a whole number of bytes"},
		{[]string{"read", path, "--length", "lots"}, 2, "want a whole number of bytes"},
		{[]string{"write", path, "x", "--mode", "999"}, 2, "invalid mode"},
		{[]string{"write"}, 2, "arg"},
		{[]string{"read", path, "extra"}, 2, "arg"},
	} {
		_, stderr, code := runIPC(t, append([]string{"mmap"}, c.args...)...)
		if code != c.code || !strings.HasPrefix(stderr, "ipc: ") || !strings.Contains(stderr, c.want) {
			t.Errorf("ipc mmap %v: exit %d, stderr %q; want exit %d and %q", c.args, code, stderr, c.code, c.want)
		}
		if strings.Contains(stderr, "goroutine") {
			t.Errorf("ipc mmap %v: a stack trace: %s", c.args, stderr)
		}
	}
	if data, _ := os.ReadFile(path); string(data) != "0123456789" {
		t.Errorf("failed commands changed the file: %q", data)
	}
}

func TestMmapDemo(t *testing.T) {
	out := mustIPC(t, "demo", "mmap")
	if !strings.Contains(out, `"hello through a mapped file"  "hello through a mapped file"`) || !strings.HasSuffix(strings.TrimSpace(out), "ok") {
		t.Fatalf("demo mmap:\n%s", out)
	}
}
