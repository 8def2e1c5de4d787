package main

// The rules every group follows (issue 17): no hangs, no lost messages,
// nothing left behind, one wait rule, paths in shared directories opened
// safely. Each case failed before the change that came with it.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goipc/ipc/internal/cli"
	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/posix"
	"github.com/goipc/ipc/sysv"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

// TestRulesBadInput is the table of bad inputs: each exits with its status
// and one clear line, at once (runIPC fails a child that hangs).
func TestRulesBadInput(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	// A device of its own: a test that failed must not replace /dev/null.
	null := filepath.Join(dir, "null")
	if err := unix.Mknod(null, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Fatal(err)
	}
	queue := "/" + testutil.Name("rules-empty")
	t.Cleanup(func() { posix.UnlinkQueue(queue) })
	mustIPC(t, "posix", "mq", "send", queue, "x", "--create")
	mustIPC(t, "posix", "mq", "recv", queue)
	sem := "/" + testutil.Name("rules-sem")
	t.Cleanup(func() { posix.UnlinkSemaphore(sem) })
	mustIPC(t, "posix", "sem", "post", sem, "--create")
	mustIPC(t, "posix", "sem", "wait", sem)
	k := sysv.Key(testutil.Key())
	key := k.String()
	t.Cleanup(func() { removeWith(sysv.OpenQueue(k, 0, 0)) })
	t.Cleanup(func() { removeWith(sysv.OpenSemaphoreSet(k, 0, 0, 0)) })
	mustIPC(t, "sysv", "msg", "send", key, "x", "--create")
	mustIPC(t, "sysv", "msg", "recv", key)
	mustIPC(t, "sysv", "sem", "set", key, "0", "--create")
	full := sysv.Key(testutil.Key())
	t.Cleanup(func() { removeWith(sysv.OpenQueue(full, 0, 0)) })
	mustIPC(t, "sysv", "msg", "send", full.String(), "hello", "--create")
	const notWaiting = ", and --nowait (or --timeout 0) says not to wait"
	const timeoutZero = ", and --timeout 0 says not to wait"

	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		// 1: endless or non-regular files are refused, not read into memory.
		{[]string{"file", "recv", "/dev/zero"}, exitError, "open /dev/zero: not a regular file (it is a character device): file recv reads regular files"},
		{[]string{"file", "recv", fifo, "--wait", "500ms"}, exitError, "open " + fifo + ": not a regular file (it is a FIFO)"},
		// 4: no open of a FIFO or device blocks.
		{[]string{"mmap", "read", fifo}, exitError, "read " + fifo + ": not a regular file (it is a FIFO): a FIFO cannot be mapped"},
		{[]string{"mmap", "read", fifo, "--length", "4"}, exitError, "a FIFO cannot be mapped"},
		{[]string{"mmap", "write", fifo, "x"}, exitError, "open " + fifo + ": not a regular file (it is a FIFO): mmap write stores into regular files"},
		{[]string{"mmap", "write", "/dev/null", "x"}, exitError, "open /dev/null: not a regular file (it is a character device)"},
		{[]string{"fifo", "send", sock, "x"}, exitError, "open " + sock + ": not a FIFO (it is a socket)"},
		{[]string{"unix", "recv", dir}, exitError, "listen " + dir + ": a directory is there, not a socket"},
		// file send renames over regular files only: never a FIFO, socket or device.
		{[]string{"file", "send", fifo, "x"}, exitError, "write " + fifo + ": not a regular file (it is a FIFO): file send replaces regular files"},
		{[]string{"file", "send", sock, "x"}, exitError, "write " + sock + ": not a regular file (it is a socket)"},
		{[]string{"file", "send", null, "x"}, exitError, "write " + null + ": not a regular file (it is a character device)"},
		{[]string{"file", "recv", sock}, exitError, "open " + sock + ": not a regular file (it is a socket)"},
		// 4: --timeout 0 is --nowait, for every verb that waits.
		{[]string{"posix", "mq", "recv", queue, "--timeout", "0"}, exitEmpty, "mq_receive " + queue + ": nothing to take" + notWaiting},
		{[]string{"posix", "sem", "wait", sem, "--timeout", "0s"}, exitEmpty, notWaiting},
		{[]string{"sysv", "msg", "recv", key, "--timeout", "0"}, exitEmpty, notWaiting},
		{[]string{"sysv", "sem", "op", key, "--delta", "-1", "--timeout", "0"}, exitEmpty, notWaiting},
		{[]string{"fifo", "send", fifo, "x", "--timeout", "0"}, exitEmpty, "open " + fifo + ": no reader has the FIFO open" + timeoutZero},
		{[]string{"fifo", "recv", fifo, "--timeout", "0"}, exitEmpty, "read " + fifo + ": no writer has put data in the FIFO" + timeoutZero},
		{[]string{"tcp", "recv", "--addr", freeTCPAddr(), "--timeout", "0"}, exitEmpty, "no connection waiting" + timeoutZero},
		{[]string{"unix", "recv", filepath.Join(dir, "new.sock"), "--timeout", "0"}, exitEmpty, "no connection waiting" + timeoutZero},
		{[]string{"unix", "recv", "--datagram", filepath.Join(dir, "new.sock"), "--timeout", "0"}, exitEmpty, "no datagram waiting" + timeoutZero},
		{[]string{"tcp", "send", "x", "--timeout", "0"}, cli.ExitUsage, "--timeout 0: a client always waits for the echo"},
		// Conflicting flags are usage errors.
		{[]string{"posix", "mq", "recv", queue, "--nowait", "--timeout", "1s"}, cli.ExitUsage, "--nowait and --timeout 1s conflict"},
		{[]string{"sysv", "sem", "op", key, "--delta", "-1", "--nowait", "--timeout", "0"}, cli.ExitUsage, "--nowait and --timeout 0s conflict"},
		// msgrcv's E2BIG is not "argument list too long".
		{[]string{"sysv", "msg", "recv", full.String(), "--buffer", "2"}, exitError, "msgrcv " + full.String() + ": message longer than the 2-byte --buffer; it stays queued (--noerror, MSG_NOERROR, truncates it)"},
		// A bad flag value is a usage error that names the flag and the value.
		{[]string{"sysv", "sem", "op", key, "--delta", "40000"}, cli.ExitUsage, "invalid --delta 40000: want -32768 to 32767"},
		{[]string{"sysv", "sem", "op", key, "--delta", "1", "--num", "70000"}, cli.ExitUsage, "invalid --num 70000: want 0 to 65535"},
		{[]string{"sysv", "sem", "get", key, "--num", "-1"}, cli.ExitUsage, "invalid --num -1: want 0 to 65535"},
		{[]string{"sysv", "sem", "set", key, "1", "--num", "-1"}, cli.ExitUsage, "invalid --num -1: want 0 to 65535"},
		{[]string{"sysv", "sem", "set", key, "1", "--create", "--count", "-1"}, cli.ExitUsage, "invalid --count -1: a set has at least one semaphore"},
		{[]string{"file", "send", "/", "x"}, exitError, "write /: is a directory"},
		// A bad rm TARGET is a usage error, found before anything is removed.
		{[]string{"rm", "sysv-msg", "0xZZ"}, cli.ExitUsage, `rm sysv-msg 0xZZ: invalid key "0xZZ": want a decimal or 0x hex number`},
		{[]string{"rm", "sysv-sem", "id=-1"}, cli.ExitUsage, `rm sysv-sem id=-1: bad sysv-sem "id=-1" (want id=N with N >= 0, or a key)`},
		{[]string{"sysv", "msg", "rm", "id=x"}, cli.ExitUsage, `rm id=x: bad sysv-msg "id=x" (want id=N with N >= 0, or a key)`},
		{[]string{"rm", "posix-mq", queue, "/a/b"}, cli.ExitUsage, `rm posix-mq /a/b: bad posix-mq name "/a/b"`},
	} {
		expectError(t, c.code, c.want, c.args...)
	}
	if out := mustIPC(t, "sysv", "msg", "recv", full.String(), "--nowait"); out != "hello\n" {
		t.Errorf("the message too long for --buffer came back as %q", out)
	}
	if _, err := os.Stat("/dev/mqueue" + queue); err != nil {
		t.Errorf("rm with a bad TARGET removed the good one before it: %v", err)
	}
	for path, kind := range map[string]os.FileMode{fifo: os.ModeNamedPipe, sock: os.ModeSocket, null: os.ModeDevice | os.ModeCharDevice} {
		if fi, err := os.Lstat(path); err != nil || fi.Mode().Type() != kind {
			t.Errorf("%s is no longer a %v: %v, %v", path, kind, fi.Mode(), err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "new.sock")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("unix recv --timeout 0 left its socket file: %v", err)
	}
	if out, _, code := runIPC(t, "signal", "recv", "--timeout", "0"); code != exitEmpty || !strings.HasPrefix(out, "pid ") {
		t.Errorf("signal recv --timeout 0: exit %d, printed %q; want exit 4 after the pid", code, out)
	}
	// Port 0 takes any free port: recv says which, always, on stderr.
	_, stderr, _ := runIPC(t, "tcp", "recv", "--addr", "127.0.0.1:0", "--timeout", "0")
	if first, _, _ := strings.Cut(stderr, "\n"); !strings.HasPrefix(first, "ipc: listening on 127.0.0.1:") || strings.HasSuffix(first, ":0") {
		t.Errorf("tcp recv --addr 127.0.0.1:0 said %q, want the port it got", stderr)
	}
}

// TestRulesFileRecvStreams: file recv prints a file of any size without
// holding it: streaming 256 MiB costs it no more memory than a 4-byte file
// does, give or take a buffer (the race detector's own memory is in both).
func TestRulesFileRecvStreams(t *testing.T) {
	dir := t.TempDir()
	peak := func(size int64) int64 {
		path := filepath.Join(dir, fmt.Sprint(size))
		if err := os.WriteFile(path, []byte("head"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(path, size); err != nil { // holes read as zeros
			t.Fatal(err)
		}
		cmd := ipcCommand("file", "recv", path)
		var n countingWriter
		cmd.Stdout = &n
		if err := cmd.Run(); err != nil {
			t.Fatalf("file recv of %d bytes: %v", size, err)
		}
		if int64(n) != size+1 {
			t.Fatalf("file recv printed %d bytes, want %d and a newline", n, size)
		}
		return cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10
	}
	small, big := peak(4), peak(256<<20)
	if big-small > 16<<20 {
		t.Errorf("file recv of 256 MiB peaked at %d MiB, of 4 bytes at %d MiB", big>>20, small>>20)
	}
}

type countingWriter int64

func (w *countingWriter) Write(p []byte) (int, error) {
	*w += countingWriter(len(p))
	return len(p), nil
}

// TestRulesDatagramWhole: a datagram longer than 64 KiB arrives and echoes
// whole, both ways.
func TestRulesDatagramWhole(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dgram.sock")
	recv := startReady(t, "unix", "recv", "--datagram", path)
	msg := strings.Repeat("d", 100_000)
	if out := mustIPC(t, "unix", "send", "--datagram", path, msg); out != msg+"\n" {
		t.Errorf("the echo has %d bytes, want %d", len(out)-1, len(msg))
	}
	if got := recv.Line(); got != msg {
		t.Errorf("recv printed %d bytes, want %d", len(got), len(msg))
	}
	recv.MustSucceed()
}

// TestRulesDatagramEchoFirst: the datagram server sends the echo before it
// prints, as the stream servers echo as they read: a server that cannot
// print must not leave its client waiting for ever.
func TestRulesDatagramEchoFirst(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dgram.sock")
	args := []string{"unix", "recv", "--datagram", path, "--count", "1"}
	cmd := ipcCommand(args...)
	cmd.Args = append([]string{"sh", "-c", `exec "$0" "$@" >/dev/full`, cmd.Path}, args...)
	cmd.Path = "/bin/sh"
	recv := startReadyCmd(t, cmd)
	if out := mustIPC(t, "unix", "send", "--datagram", path, "hello"); out != "hello\n" {
		t.Errorf("the client printed %q, want the echo", out)
	}
	if _, err := recv.Wait(); err == nil || !strings.Contains(recv.Stderr(), "no space left on device") {
		t.Errorf("recv with stdout on /dev/full: %v, %q; want exit 1 and the write's error", err, recv.Stderr())
	}
}

// stdoutTo runs `ipc args...` with stdout on /dev/full, or closed when full
// is false, and returns its stderr and exit status.
func stdoutTo(t *testing.T, full bool, args ...string) (string, int) {
	t.Helper()
	cmd := ipcCommand(args...)
	if full {
		f, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cmd.Stdout = f
	} else { // a shell closes the descriptor before it starts the child
		cmd.Args = append([]string{"sh", "-c", `exec "$0" "$@" >&-`, cmd.Path}, args...)
		cmd.Path = "/bin/sh"
	}
	return runStderr(t, cmd)
}

// runStderr runs cmd to its end and returns its stderr and exit status.
func runStderr(t *testing.T, cmd *exec.Cmd) (string, int) {
	t.Helper()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return stderr.String(), cmd.ProcessState.ExitCode()
}

// TestRulesStdoutFails: a receiver whose stdout is closed takes nothing; one
// whose write fails puts the message back, with its priority or type.
func TestRulesStdoutFails(t *testing.T) {
	q := "/" + testutil.Name("rules-stdout")
	t.Cleanup(func() { posix.UnlinkQueue(q) })
	mustIPC(t, "posix", "mq", "send", q, "keep me", "--create", "--priority", "7")
	k := sysv.Key(testutil.Key())
	t.Cleanup(func() { removeWith(sysv.OpenQueue(k, 0, 0)) })
	mustIPC(t, "sysv", "msg", "send", k.String(), "keep me too", "--create", "--type", "5")

	for _, c := range []struct {
		full bool
		want string
	}{
		{false, "ipc: write stdout: bad file descriptor (stdout was closed when ipc started; nothing was taken)\n"},
		{true, "ipc: write stdout: no space left on device; the message was put back on "},
	} {
		for _, args := range [][]string{{"posix", "mq", "recv", q}, {"sysv", "msg", "recv", k.String()}} {
			stderr, code := stdoutTo(t, c.full, args...)
			if code != exitError || !strings.HasPrefix(stderr, c.want) {
				t.Errorf("ipc %v with stdout full=%v: exit %d, %q; want exit 1 and %q", args, c.full, code, stderr, c.want)
			}
		}
	}
	if out := mustIPC(t, "posix", "mq", "recv", q, "--json", "--nowait"); out != `{"data":"keep me","priority":7}`+"\n" {
		t.Errorf("the POSIX message came back as %q", out)
	}
	if out := mustIPC(t, "sysv", "msg", "recv", k.String(), "--json", "--nowait"); out != `{"data":"keep me too","type":5}`+"\n" {
		t.Errorf("the System V message came back as %q", out)
	}
	// Help and --version that cannot be printed fail too, once, with exit 1.
	for _, args := range [][]string{{"help"}, {"--version"}, {"posix", "--help"}} {
		if stderr, code := stdoutTo(t, true, args...); code != exitError || stderr != "ipc: write stdout: no space left on device\n" {
			t.Errorf("ipc %v with stdout on /dev/full: exit %d, %q", args, code, stderr)
		}
	}
	// A demo whose table cannot be printed fails, before it runs anything.
	if stderr, code := stdoutTo(t, true, "demo", "pipe"); code != exitError || stderr != "ipc: write stdout: no space left on device\n" {
		t.Errorf("ipc demo with stdout on /dev/full: exit %d, %q", code, stderr)
	}
}

// TestRulesStdoutFailsSemaphore: a wait that prints the value (--print-value)
// takes nothing when stdout is closed, and gives back what it took when the
// write fails: the semaphore keeps its value.
func TestRulesStdoutFailsSemaphore(t *testing.T) {
	sem := "/" + testutil.Name("rules-stdout-sem")
	t.Cleanup(func() { posix.UnlinkSemaphore(sem) })
	mustIPC(t, "posix", "sem", "post", sem, "--create")
	k := sysv.Key(testutil.Key())
	t.Cleanup(func() { removeWith(sysv.OpenSemaphoreSet(k, 0, 0, 0)) })
	mustIPC(t, "sysv", "sem", "set", k.String(), "1", "--create")

	for _, c := range []struct {
		full bool
		want string
	}{
		{false, "ipc: write stdout: bad file descriptor (stdout was closed when ipc started; nothing was taken)\n"},
		{true, "ipc: write stdout: no space left on device; the semaphore was given back"},
	} {
		for _, args := range [][]string{
			{"posix", "sem", "wait", sem, "--print-value", "--nowait"}, // a value lost shows as exit 4
			{"sysv", "sem", "op", k.String(), "--delta", "-1", "--print-value", "--nowait"},
			{"sysv", "sem", "op", k.String(), "--delta", "-1", "--undo", "--print-value", "--nowait"},
		} {
			stderr, code := stdoutTo(t, c.full, args...)
			if code != exitError || !strings.HasPrefix(stderr, c.want) {
				t.Errorf("ipc %v with stdout full=%v: exit %d, %q; want exit 1 and %q", args, c.full, code, stderr, c.want)
			}
		}
	}
	if out := mustIPC(t, "posix", "sem", "value", sem); out != "1\n" {
		t.Errorf("posix sem value is %q after the failed writes, want 1", out)
	}
	if out := mustIPC(t, "sysv", "sem", "get", k.String()); out != "1\n" {
		t.Errorf("sysv sem get is %q after the failed writes, want 1", out)
	}
}

// TestRulesStdoutReaderGone: a receiver whose stdout is a pipe no one reads
// takes nothing, rather than die of SIGPIPE with the message taken.
func TestRulesStdoutReaderGone(t *testing.T) {
	q := "/" + testutil.Name("rules-epipe")
	t.Cleanup(func() { posix.UnlinkQueue(q) })
	mustIPC(t, "posix", "mq", "send", q, "keep me", "--create")
	k := sysv.Key(testutil.Key())
	t.Cleanup(func() { removeWith(sysv.OpenQueue(k, 0, 0)) })
	mustIPC(t, "sysv", "msg", "send", k.String(), "keep me too", "--create")
	for _, args := range [][]string{{"posix", "mq", "recv", q}, {"sysv", "msg", "recv", k.String()}} {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
		cmd := ipcCommand(args...)
		cmd.Stdout = w
		stderr, code := runStderr(t, cmd)
		w.Close()
		want := "ipc: write stdout: broken pipe (stdout is a pipe that no one reads any more; nothing was taken)\n"
		if code != exitError || stderr != want {
			t.Errorf("ipc %v into a pipe without a reader: exit %d, %q; want exit 1 and %q", args, code, stderr, want)
		}
	}
	if out := mustIPC(t, "posix", "mq", "recv", q, "--nowait"); out != "keep me\n" {
		t.Errorf("the POSIX message came back as %q", out)
	}
	if out := mustIPC(t, "sysv", "msg", "recv", k.String(), "--nowait"); out != "keep me too\n" {
		t.Errorf("the System V message came back as %q", out)
	}
}

// TestRulesNothingLeftBehind: a failed mmap write removes the file it
// created, an interrupted unix recv its socket, and a shorter write reads
// back alone in all three shared memories.
func TestRulesNothingLeftBehind(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m")
	expectError(t, exitError, "grow "+path, "mmap", "write", path, "x", "--offset", "1000GiB")
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the failed write left %s: %v", path, err)
	}

	for _, stream := range []bool{true, false} {
		sock := filepath.Join(dir, "s.sock")
		args := []string{"unix", "recv", sock}
		if !stream {
			args = append(args, "--datagram")
		}
		recv := startReady(t, args...)
		recv.Cmd.Process.Signal(os.Interrupt)
		if _, err := recv.Wait(); err == nil || !strings.Contains(recv.Stderr(), "interrupted; the socket file was removed") {
			t.Errorf("ipc %v interrupted: %v, %q", args, err, recv.Stderr())
		}
		if _, err := os.Lstat(sock); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("ipc %v interrupted left its socket: %v", args, err)
		}
	}

	name := "/" + testutil.Name("rules-nul")
	t.Cleanup(func() { posix.UnlinkSharedMemory(name) })
	k := sysv.Key(testutil.Key())
	t.Cleanup(func() { removeWith(sysv.OpenSharedMemory(k, 0, 0, 0)) })
	for _, c := range []struct{ write, read []string }{
		{[]string{"mmap", "write", path}, []string{"mmap", "read", path}},
		{[]string{"posix", "shm", "write", name, "--create"}, []string{"posix", "shm", "read", name}},
		{[]string{"sysv", "shm", "write", k.String(), "--create"}, []string{"sysv", "shm", "read", k.String()}},
	} {
		write, read := c.write, c.read
		mustIPC(t, append(write, "hello segment")...)
		mustIPC(t, append(write, "bye")...)
		if out := mustIPC(t, read...); out != "bye\n" {
			t.Errorf("%v after a longer message read %q, want bye", write[:2], out)
		}
		// An empty DATA with no --offset or --size stores nothing, in all
		// three, and says so.
		expectError(t, cli.ExitUsage, "nothing to write: DATA is empty and there is no --offset or --size", append(write, "")...)
	}
}

// TestRulesLongFileName: a legal 250-byte name works; the temporary name
// of file send fits NAME_MAX too.
func TestRulesLongFileName(t *testing.T) {
	path := filepath.Join(t.TempDir(), strings.Repeat("n", 250))
	mustIPC(t, "file", "send", path, "long name")
	if out := mustIPC(t, "file", "recv", path); out != "long name\n" {
		t.Fatalf("recv printed %q", out)
	}
}

// TestRulesStickyDirectory: as root in a sticky, world-writable directory
// (where the kernel, fs.protected_symlinks=0, protects nothing), a symbolic
// link that user nobody planted is never followed, to write or to read
// (which would disclose root's file), and a file of nobody's is
// written only with --allow-foreign.
func TestRulesStickyDirectory(t *testing.T) {
	testutil.RequireRoot(t)
	top := t.TempDir()
	shared := filepath.Join(top, "shared")
	for _, d := range []string{filepath.Dir(top), top} { // t.TempDir's are 0700
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(shared, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(top, "roots-file")
	if err := os.WriteFile(target, []byte("root's data"), 0o600); err != nil {
		t.Fatal(err)
	}
	asNobody := func(name string, args ...string) {
		t.Helper()
		if out, err := testutil.AsNobody(exec.Command(name, args...)).CombinedOutput(); err != nil {
			t.Fatalf("%s %v as nobody: %v %s", name, args, err, out)
		}
	}
	evil := filepath.Join(shared, "evil")
	asNobody("ln", "-s", target, evil)
	for _, args := range [][]string{
		{"mmap", "write", evil, "x"},
		{"file", "send", evil, "x"},
		{"fifo", "send", evil, "x", "--timeout", "1ms"},
		{"mmap", "write", evil, "x", "--allow-foreign"}, // no flag follows another's link
		{"mmap", "read", evil},                          // nor does any read
		{"file", "recv", evil},
		{"pipe", "--file", evil},
	} {
		expectError(t, exitError, evil+": permission denied (a symbolic link owned by uid 65534 in the sticky, world-writable directory", args...)
	}
	if data, err := os.ReadFile(target); err != nil || string(data) != "root's data" {
		t.Fatalf("the link's target now holds %q, %v", data, err)
	}
	// A link that stands for a directory on the way is not followed either.
	evilDir := filepath.Join(shared, "evildir")
	asNobody("ln", "-s", top, evilDir)
	for _, args := range [][]string{
		{"mmap", "write", filepath.Join(evilDir, "roots-file"), "x"},
		{"file", "send", filepath.Join(evilDir, "roots-file"), "x"},
		{"fifo", "send", filepath.Join(evilDir, "new-fifo"), "x", "--timeout", "1ms"},
	} {
		expectError(t, exitError, evilDir+": permission denied (a symbolic link owned by uid 65534 in the sticky, world-writable directory", args...)
	}
	if data, err := os.ReadFile(target); err != nil || string(data) != "root's data" {
		t.Fatalf("the target through the directory link now holds %q, %v", data, err)
	}
	if _, err := os.Lstat(filepath.Join(top, "new-fifo")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("fifo send made a FIFO through the directory link: %v", err)
	}

	theirs := filepath.Join(shared, "theirs")
	asNobody("touch", theirs)
	expectError(t, exitError, "open "+theirs+": permission denied (owned by uid 65534 in the sticky, world-writable directory "+shared+"; --allow-foreign writes it anyway)",
		"mmap", "write", theirs, "x")
	expectError(t, exitError, "--allow-foreign", "file", "send", theirs, "x")
	mustIPC(t, "mmap", "write", theirs, "asked for", "--allow-foreign")
	if out := mustIPC(t, "mmap", "read", theirs); out != "asked for\n" {
		t.Fatalf("mmap read printed %q", out)
	}

	// Root's own link there is followed, as the kernel would.
	mine := filepath.Join(shared, "mine")
	if err := os.Symlink(target, mine); err != nil {
		t.Fatal(err)
	}
	mustIPC(t, "mmap", "write", mine, "ROOT")
	if data, _ := os.ReadFile(target); string(data) != "ROOT\x00s data" {
		t.Fatalf("through root's own link: %q", data)
	}
}

// TestRulesObjects: System V rm takes id=N; posix sem value and sysv sem
// get have --json; stat and ls --json give a key as the number and the 0x
// form alike, and times in RFC 3339 (null when the event never happened).
func TestRulesObjects(t *testing.T) {
	k := sysv.Key(testutil.Key())
	t.Cleanup(func() { removeWith(sysv.OpenSemaphoreSet(k, 0, 0, 0)) })
	t.Cleanup(func() { removeWith(sysv.OpenQueue(k, 0, 0)) })
	mustIPC(t, "sysv", "sem", "set", k.String(), "3", "--create")
	if out := mustIPC(t, "sysv", "sem", "get", k.String(), "--json"); out != fmt.Sprintf(`{"key":%d,"key_hex":"%v","values":[3]}`+"\n", int32(k), k) {
		t.Errorf("sysv sem get --json printed %q", out)
	}
	if out := mustIPC(t, "sysv", "sem", "get", k.String(), "--json", "--num", "0"); !strings.HasSuffix(out, `"num":0,"value":3}`+"\n") {
		t.Errorf("sysv sem get --json --num 0 printed %q", out)
	}
	sem := "/" + testutil.Name("rules-value")
	t.Cleanup(func() { posix.UnlinkSemaphore(sem) })
	mustIPC(t, "posix", "sem", "post", sem, "--create", "--value", "4")
	if out := mustIPC(t, "posix", "sem", "value", sem, "--json"); out != `{"name":"`+sem+`","value":5}`+"\n" {
		t.Errorf("posix sem value --json printed %q", out)
	}

	mustIPC(t, "sysv", "msg", "send", k.String(), "x", "--create")
	st := statJSON(t, "sysv", "msg", "stat", k.String())
	if st["key"] != float64(int32(k)) || st["key_hex"] != k.String() || st["received"] != nil {
		t.Errorf("stat --json: key %v, key_hex %v, received %v", st["key"], st["key_hex"], st["received"])
	}
	if _, err := time.Parse(time.RFC3339, fmt.Sprint(st["sent"])); err != nil {
		t.Errorf("stat --json sent %v: %v", st["sent"], err)
	}
	// A mode of 0 is 0000, as ls and posix stat print it, not 0.
	zero := sysv.Key(testutil.Key())
	t.Cleanup(func() { removeWith(sysv.OpenQueue(zero, 0, 0)) })
	mustIPC(t, "sysv", "msg", "send", zero.String(), "x", "--create", "--mode", "0")
	if m := statJSON(t, "sysv", "msg", "stat", zero.String())["mode"]; m != "0000" {
		t.Errorf("sysv msg stat --json of a mode-0 queue: mode %v, want 0000", m)
	}
	// Paths' stat --json gives times as the table does, and as every other
	// stat --json: whole seconds.
	file := filepath.Join(t.TempDir(), "f")
	mustIPC(t, "file", "send", file, "x")
	fst := statJSON(t, "file", "stat", file)
	if m := fmt.Sprint(fst["modified"]); len(m) != len("2006-01-02T15:04:05Z") {
		t.Errorf("file stat --json modified %q, want RFC 3339 in whole seconds", m)
	}
	var ls []map[string]any
	if err := json.Unmarshal([]byte(mustIPC(t, "ls", "--json", "--kind", "sysv-msg")), &ls); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(ls, func(o map[string]any) bool { return o["key_hex"] == k.String() })
	if i < 0 || ls[i]["key"] != st["key"] || ls[i]["id"] != st["id"] {
		t.Fatalf("ls --json has no row with key %v and key_hex %v like stat's: %v", st["key"], k, ls)
	}
	// Key 0 (IPC_PRIVATE) is a key like any other, and a set nobody has
	// operated on (sem set is SETVAL) was never accessed: null, not absent.
	private, err := sysv.OpenQueue(sysv.IPCPrivate, sysv.Create, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { private.Remove() })
	ls = nil
	if err := json.Unmarshal([]byte(mustIPC(t, "ls", "--json", "--kind", "sysv-msg,sysv-sem")), &ls); err != nil {
		t.Fatal(err)
	}
	for _, o := range ls {
		if o["kind"] == "sysv-msg" && o["id"] == float64(private.ID()) && (o["key"] != 0.0 || o["key_hex"] != "0x00000000") {
			t.Errorf("ls --json of an IPC_PRIVATE queue: key %v, key_hex %v, want 0 and 0x00000000", o["key"], o["key_hex"])
		}
		if accessed, ok := o["accessed"]; o["kind"] == "sysv-sem" && o["key_hex"] == k.String() && (!ok || accessed != nil) {
			t.Errorf("ls --json of a set never operated on: accessed %v (present %v), want null", accessed, ok)
		}
	}
	mustIPC(t, "sysv", "msg", "rm", fmt.Sprintf("id=%.0f", st["id"])) // a JSON number: %v would print 1.2e+06
	expectError(t, exitError, "no such file", "sysv", "msg", "stat", k.String())
}

// TestRulesHelp: help as in gh or kubectl. Every verb has examples;
// --version names the module, Go and MPI; demo --help lists the mechanisms;
// completion offers kinds, signal names and the objects that exist; an
// unknown help topic or shell is a usage error.
func TestRulesHelp(t *testing.T) {
	finishHelp(rootCmd)
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		switch name := c.Name(); {
		// bench is a verb: its only subcommand, peer, is hidden.
		case !c.Runnable() || c.Hidden || c.HasAvailableSubCommands() || c == rootCmd:
		case c.HasParent() && c.Parent().Name() == "completion":
			// cobra's completion scripts are not ipc verbs.
		case name == "help" || name == "completion":
		case c.Example == "":
			t.Errorf("%s has no Examples section", c.CommandPath())
		}
	}
	walk(rootCmd)

	out := mustIPC(t, "--version")
	if lines := strings.Split(out, "\n"); len(lines) != 4 || !strings.HasPrefix(lines[0], "ipc ") ||
		!strings.HasPrefix(lines[1], runtime.Version()+" ") || !strings.HasPrefix(lines[2], "MPI: ") {
		t.Errorf("ipc --version printed %q", out)
	}
	if out := mustIPC(t, "demo", "--help"); !strings.Contains(out, "Mechanisms, in the table's order: "+strings.Join(demoNames(), ", ")) {
		t.Errorf("demo --help does not list the mechanisms:\n%s", out)
	}
	q := "/" + testutil.Name("rules-complete")
	t.Cleanup(func() { posix.UnlinkQueue(q) })
	mustIPC(t, "posix", "mq", "send", q, "x", "--create")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"rm", ""}, "sysv-sem\n"},
		{[]string{"ls", "--kind", ""}, "posix-shm\n"},
		{[]string{"rm", "posix-mq", ""}, q + "\n"},
		{[]string{"posix", "mq", "recv", ""}, q + "\n"},
		{[]string{"signal", "send", "1", ""}, "RTMIN+3\n"},
		{[]string{"signal", "recv", ""}, "USR1\n"},
		{[]string{"demo", ""}, "posix-mq\n"},
	} {
		if out := mustIPC(t, append([]string{"__complete"}, c.args...)...); !strings.Contains(out, c.want) {
			t.Errorf("completion of %q lacks %q:\n%s", c.args, c.want, out)
		}
	}
	if out := mustIPC(t, "__complete", "signal", "recv", ""); strings.Contains(out, "\nTERM\n") {
		t.Errorf("signal recv completes TERM, which it refuses:\n%s", out)
	}
	expectError(t, cli.ExitUsage, `unknown help topic "frob"`, "help", "frob")
	expectError(t, cli.ExitUsage, `unknown command "tcsh" for "ipc completion"`, "completion", "tcsh")
	expectError(t, cli.ExitUsage, `invalid --priority "abc": want a whole number, 0 or more`, "posix", "mq", "send", q, "y", "--priority", "abc")
	expectError(t, cli.ExitUsage, `invalid --timeout "soon": want a duration such as 500ms or 2s`, "posix", "mq", "recv", q, "--timeout", "soon")
}

// TestRulesDemoRowByRow: ipc demo prints each row as its exchange
// completes. The test reads the first row and interrupts the demo then: had
// the table been printed only at the end, the row would come after the last
// of the twelve exchanges still to run, and the demo would not be
// interrupted.
func TestRulesDemoRowByRow(t *testing.T) {
	cmd := ipcCommand(append([]string{"demo", "pipe"}, slices.DeleteFunc(demoNames(), func(m string) bool { return m == "pipe" })...)...)
	cmd.Env = append(cmd.Env, "TMPDIR="+t.TempDir())
	demo := testutil.Start(t, cmd)
	if header := demo.Line(); !strings.HasPrefix(header, "MECHANISM  SENT") {
		t.Fatalf("header %q", header)
	}
	if row := strings.Fields(demo.Line()); row[0] != "pipe" || row[len(row)-1] != "ok" {
		t.Fatalf("first row %q", row)
	}
	demo.Cmd.Process.Signal(os.Interrupt)
	if _, err := demo.Wait(); err == nil || !strings.Contains(demo.Stderr(), "interrupted") {
		t.Errorf("the demo was not interrupted after its first row: %v, %q", err, demo.Stderr())
	}
}

// TestRulesPayload: every sender takes its message from stdin (MSG "-") or
// --file, binary and NUL bytes included, and a message starting with "-"
// without "--" where it cannot be a flag.
func TestRulesPayload(t *testing.T) {
	dir := t.TempDir()
	msg := "-a\x00b\xff"
	file := filepath.Join(dir, "message")
	if err := os.WriteFile(file, []byte(msg), 0o600); err != nil {
		t.Fatal(err)
	}
	q := "/" + testutil.Name("rules-payload")
	t.Cleanup(func() { posix.UnlinkQueue(q) })
	shm := "/" + testutil.Name("rules-payload-shm")
	t.Cleanup(func() { posix.UnlinkSharedMemory(shm) })
	k := sysv.Key(testutil.Key())
	t.Cleanup(func() { removeWith(sysv.OpenQueue(k, 0, 0)) })
	t.Cleanup(func() { removeWith(sysv.OpenSharedMemory(k, 0, 0, 0)) })
	mapped := filepath.Join(dir, "mapped")
	path := filepath.Join(dir, "file")
	for _, c := range []struct {
		send, recv []string
		cut        bool // the reader stops at the NUL
	}{
		{[]string{"posix", "mq", "send", q, "--create"}, []string{"posix", "mq", "recv", q}, false},
		{[]string{"sysv", "msg", "send", k.String(), "--create"}, []string{"sysv", "msg", "recv", k.String()}, false},
		{[]string{"file", "send", path}, []string{"file", "recv", path}, false},
		{[]string{"posix", "shm", "write", shm, "--create", "--size", "64"}, []string{"posix", "shm", "read", shm, "--length", "5"}, false},
		{[]string{"sysv", "shm", "write", k.String(), "--create"}, []string{"sysv", "shm", "read", k.String(), "--length", "5"}, false},
		{[]string{"mmap", "write", mapped}, []string{"mmap", "read", mapped}, true},
	} {
		want := msg
		if c.cut {
			want = msg[:2]
		}
		for _, how := range []string{"stdin", "file"} {
			send := append(slices.Clone(c.send), "-")
			if how == "file" {
				send = append(slices.Clone(c.send), "--file", file)
			}
			cmd := ipcCommand(send...)
			cmd.Stdin = strings.NewReader(msg)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("ipc %v: %v %s", send, err, out)
				continue
			}
			if out := mustIPC(t, c.recv...); out != want+"\n" {
				t.Errorf("ipc %v after a message from %s printed %q, want %q", c.recv, how, out, want)
			}
		}
	}
	// The echo clients and the pipe print what came back.
	for _, send := range [][]string{{"pipe"}, {"tcp", "send", "--addr", ""}, {"unix", "send", filepath.Join(dir, "echo.sock")}} {
		var recv *testutil.Proc
		switch send[0] {
		case "tcp":
			send[3] = freeTCPAddr()
			recv = startReady(t, "tcp", "recv", "--addr", send[3])
		case "unix":
			recv = startReady(t, "unix", "recv", send[2])
		}
		if out := mustIPC(t, append(send, "--file", file)...); out != msg+"\n" {
			t.Errorf("ipc %v --file printed %q", send, out)
		}
		if recv != nil {
			recv.MustSucceed()
		}
	}
	if out := mustIPC(t, "pipe", "-hello"); out != "-hello\n" {
		t.Errorf("ipc pipe -hello printed %q", out)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"pipe", "--file", file, "extra"}, cli.ExitUsage, "--file gives the message"},
		{[]string{"pipe", "--file", "", "MSG"}, cli.ExitUsage, "--file needs a file name"},
		{[]string{"unix", "send", "/x"}, cli.ExitUsage, "accepts 2 arg(s), received 1"},
		{[]string{"pipe", "--file", filepath.Join(dir, "none")}, exitError, "open " + filepath.Join(dir, "none") + ": no such file"},
		{[]string{"pipe", "--file", dir}, exitError, "read " + dir + ": is a directory"},
		{[]string{"pipe", "--file", "/dev/zero"}, exitError, "message over 67108864 bytes"},
		{[]string{"posix", "mq", "send", q, "hi", "--prority", "3"}, cli.ExitUsage, "unknown flag: --prority"},
		{[]string{"ring", "send", "/x", "hi", "--create", "--capacity", "65"}, cli.ExitUsage, "invalid --capacity 65: a ring's data area is a multiple of 8 bytes"},
	} {
		expectError(t, c.code, c.want, c.args...)
	}
}

// TestRulesNoRawErrors: what a parser or the kernel says is restated in the
// command line's words: no strconv text, no bare errno before the reason.
func TestRulesNoRawErrors(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(big, bytes.Repeat([]byte("p"), 300_000), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := mustIPC(t, "pipe", "--file", big); len(out) != 300_001 { // once "argument list too long"
		t.Errorf("pipe of 300000 bytes printed %d", len(out))
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"rm", "bogus", "x"}, `ipc: unknown kind "bogus" (want one of posix-mq,`},
		{[]string{"ls", "--kind", "foo"}, `ipc: unknown kind "foo" (want one of`},
		{[]string{"sysv", "msg", "send", "abc", "x"}, `ipc: invalid key "abc": want a decimal or 0x hex number`},
		{[]string{"sysv", "msg", "recv", "--type", "x1"}, `ipc: invalid --type "x1": want a whole number`},
		{[]string{"mmap", "read", "--offset", "9223372036854775807"}, `ipc: invalid --offset "9223372036854775807": want a whole number of bytes, or of KiB, MiB or GiB`},
		{[]string{"posix", "shm", "write", "/x", "hi", "--size", "-1"}, `ipc: invalid --size "-1": want a whole number of bytes, or of KiB, MiB or GiB` + "\n"},
		{[]string{"posix", "sem", "post", "/x", "--value", "-1"}, `ipc: invalid --value "-1": want a whole number, 0 or more`},
		{[]string{"posix", "sem", "post", "/x", "--create", "--value", "2147483648"}, `ipc: invalid --value 2147483648: want 0 to 2147483647 (SEM_VALUE_MAX)`},
		{[]string{"posix", "mq", "send", "/x", "hi", "--create", "--max-messages", "-1"}, `ipc: invalid --max-messages -1: want 0 for the system default, or more`},
	} {
		_, stderr, code := runIPC(t, c.args...)
		if code != cli.ExitUsage || !strings.HasPrefix(stderr, c.want) || strings.Contains(stderr, "strconv") || strings.Contains(stderr, "invalid argument (") {
			t.Errorf("ipc %v: exit %d, %q; want exit 2 and %q", c.args, code, stderr, c.want)
		}
	}
}

// TestRulesWaitingOnTerminal: a receiver that waits says so on stderr when
// stderr is a terminal, and stays silent otherwise.
func TestRulesWaitingOnTerminal(t *testing.T) {
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	tty, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()

	q := "/" + testutil.Name("rules-tty")
	t.Cleanup(func() { posix.UnlinkQueue(q) })
	mustIPC(t, "posix", "mq", "send", q, "first", "--create")
	mustIPC(t, "posix", "mq", "recv", q) // empty now
	cmd := ipcCommand("posix", "mq", "recv", q)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, tty
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	tty.Close()
	ptmx.SetReadDeadline(time.Now().Add(testutil.Timeout))
	var said []byte
	for !bytes.Contains(said, []byte("\n")) {
		buf := make([]byte, 256)
		k, err := ptmx.Read(buf)
		if err != nil {
			t.Fatalf("nothing on the terminal (%v): %q", err, said)
		}
		said = append(said, buf[:k]...)
	}
	if want := "ipc: waiting for a message on " + q + " (Ctrl-C to stop)"; !strings.HasPrefix(string(said), want) {
		t.Errorf("the terminal shows %q, want %q", said, want)
	}
	mustIPC(t, "posix", "mq", "send", q, "second")
	if err := cmd.Wait(); err != nil || out.String() != "second\n" {
		t.Errorf("recv: %v, printed %q", err, out.String())
	}
	// Not a terminal: nothing on stderr (runIPC's stderr is a pipe).
	mustIPC(t, "posix", "mq", "send", q, "third")
	if _, stderr, _ := runIPC(t, "posix", "mq", "recv", q); stderr != "" {
		t.Errorf("recv with stderr on a pipe said %q", stderr)
	}
}

// TestRulesOptionalNames: within a group, the object's NAME, KEY or PATH is
// optional in every verb or in none.
func TestRulesOptionalNames(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		optional := map[bool][]string{}
		for _, verb := range c.Commands() {
			walk(verb)
			fields := strings.Fields(verb.Use)
			if verb.HasSubCommands() || verb.Hidden || len(fields) < 2 {
				continue
			}
			first := strings.Trim(fields[1], "[]")
			if first == "NAME" || first == "KEY" || first == "PATH" {
				optional[strings.HasPrefix(fields[1], "[")] = append(optional[strings.HasPrefix(fields[1], "[")], verb.Use)
			}
		}
		if len(optional[true]) > 0 && len(optional[false]) > 0 {
			t.Errorf("%s: optional in %q but required in %q", c.CommandPath(), optional[true], optional[false])
		}
	}
	walk(rootCmd)
}

// TestRulesAsNobody: another user reaches root's System V objects through
// their permissions alone: nobody sends to a queue of mode 0622 (with or
// without --create, which finds it there), and is told "permission denied",
// not a wrong size, by a 0600 segment.
func TestRulesAsNobody(t *testing.T) {
	testutil.RequireRoot(t)
	qk, mk := sysv.Key(testutil.Key()), sysv.Key(testutil.Key())
	t.Cleanup(func() { removeWith(sysv.OpenQueue(qk, 0, 0)) })
	t.Cleanup(func() { removeWith(sysv.OpenSharedMemory(mk, 0, 0, 0)) })
	mustIPC(t, "sysv", "msg", "send", qk.String(), "from root", "--create", "--mode", "622")
	mustIPC(t, "sysv", "shm", "write", mk.String(), "root's", "--create")
	asNobody := func(args ...string) (string, int) {
		return runStderr(t, testutil.AsNobody(testutil.Runnable(t, ipcCommand(args...))))
	}
	for _, args := range [][]string{{"sysv", "msg", "send", qk.String(), "from nobody"}, {"sysv", "msg", "send", qk.String(), "again", "--create"}} {
		if stderr, code := asNobody(args...); code != 0 {
			t.Errorf("ipc %v as nobody to a 0622 queue: exit %d, %q", args, code, stderr)
		}
	}
	want := "ipc: shmat " + mk.String() + ": permission denied\n"
	if stderr, code := asNobody("sysv", "shm", "write", mk.String(), "x"); code != exitError || stderr != want {
		t.Errorf("sysv shm write as nobody to root's 0600 segment: exit %d, %q; want exit 1 and %q", code, stderr, want)
	}
	for _, want := range []string{"from root", "from nobody", "again"} {
		if out := mustIPC(t, "sysv", "msg", "recv", qk.String(), "--nowait"); out != want+"\n" {
			t.Errorf("recv printed %q, want %q", out, want)
		}
	}
}

// TestRulesVersionOnlyWhenAsked: only --version asks mpiexec which MPI it
// is; every other command runs without starting it.
func TestRulesVersionOnlyWhenAsked(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "mpiexec-ran")
	fake := "#!/bin/sh\ntouch " + marker + "\necho 'mpiexec (OpenRTE) 9.9.9'\n"
	if err := os.WriteFile(filepath.Join(dir, "mpiexec"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		cmd := ipcCommand(args...)
		cmd.Env = append(cmd.Env, "PATH="+dir+":"+os.Getenv("PATH"))
		out, _ := cmd.Output()
		return string(out)
	}
	run("posix", "mq", "stat", "/"+testutil.Name("rules-version"))
	if _, err := os.Stat(marker); err == nil {
		t.Errorf("ipc posix mq stat ran mpiexec --version")
	}
	if out := run("--version"); !strings.Contains(out, "MPI: Open MPI 9.9.9") {
		t.Errorf("ipc --version printed %q, want the fake mpiexec's version", out)
	}
}
