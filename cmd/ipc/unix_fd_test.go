package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/goipc/ipc/internal/testutil"
)

// TestUnixPassFile: `ipc unix send --fd FILE` passes FILE's descriptor with
// the message, and the server prints the file it received after the
// message; a Python client that passes a descriptor is served alike.
func TestUnixPassFile(t *testing.T) {
	dir := t.TempDir()
	path, file := filepath.Join(dir, "s.sock"), filepath.Join(dir, "passed")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	server := startReady(t, "unix", "recv", path, "--count", "2", "--json")
	if out := mustIPC(t, "unix", "send", path, "with a file", "--fd", file); out != "with a file\n" {
		t.Fatalf("send --fd printed %q", out)
	}
	if line := server.Line(); !strings.Contains(line, `"data":"with a file"`) {
		t.Fatalf("server printed %q", line)
	}
	server.Expect(`{"file":"` + file + `"}`)
	client := python(t, `import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
socket.send_fds(s, [b"from python"], [os.open(sys.argv[2], os.O_RDONLY)])
s.shutdown(socket.SHUT_WR)
print(s.recv(64).decode())
`, path, file)
	client.Expect("from python")
	client.MustSucceed()
	if line := server.Line(); !strings.Contains(line, `"data":"from python"`) {
		t.Fatalf("server printed %q", line)
	}
	server.Expect(`{"file":"` + file + `"}`)
	server.MustSucceed()

	expectError(t, 2, "not with --datagram", "unix", "send", path, "x", "--fd", file, "--datagram")
	expectError(t, 1, "no such file", "unix", "send", path, "x", "--fd", filepath.Join(dir, "missing"))
}

// TestUnixPassFIFO: `ipc unix send --fd FIFO` passes a FIFO that no process
// writes to, rather than wait in open(2) for a writer forever (past
// --timeout, before even connecting).
func TestUnixPassFIFO(t *testing.T) {
	dir := t.TempDir()
	path, fifo := filepath.Join(dir, "s.sock"), filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	server := startReady(t, "unix", "recv", path, "--count", "1", "--json")
	if out := mustIPC(t, "unix", "send", path, "a fifo", "--fd", fifo, "--timeout", "10s"); out != "a fifo\n" {
		t.Fatalf("send --fd FIFO printed %q", out)
	}
	server.Line()
	server.Expect(`{"file":"` + fifo + `"}`)
	server.MustSucceed()
}

// TestFilesConnEmptyRead: a Read into an empty buffer reads nothing and
// fails nothing, as io.Reader has it (unixfd.Receive refuses an empty
// buffer), and the message waiting stays for the next Read.
func TestFilesConnEmptyRead(t *testing.T) {
	w, c := testutil.SocketPair(t)
	if _, err := w.Write([]byte("kept")); err != nil {
		t.Fatal(err)
	}
	r := &filesConn{UnixConn: c}
	if n, err := r.Read(nil); n != 0 || err != nil {
		t.Fatalf("Read(nil) = %d, %v; want 0, nil", n, err)
	}
	buf := make([]byte, 16)
	if n, err := r.Read(buf); err != nil || string(buf[:n]) != "kept" {
		t.Fatalf("Read after the empty one = %q, %v; want \"kept\"", buf[:n], err)
	}
}
