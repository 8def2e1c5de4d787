package main

// Tests of the six standard-library mechanisms: each against a foreign peer
// (Python from /usr/bin/python3 or a C program from csrc/), each bad input, and
// the demo end to end, interrupted included.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goipc/ipc/internal/cli"
	"github.com/goipc/ipc/internal/errs"
	"github.com/goipc/ipc/internal/testutil"
	"golang.org/x/sys/unix"
)

// startReady starts `ipc args...` and returns once it has called notifyReady:
// listening, watching or waiting for its peer.
func startReady(t *testing.T, args ...string) *testutil.Proc {
	t.Helper()
	return startReadyCmd(t, ipcCommand(args...))
}

// startReadyCmd is startReady of an ipc command made ready to start.
func startReadyCmd(t *testing.T, cmd *exec.Cmd) *testutil.Proc {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd.ExtraFiles = []*os.File{w}
	cmd.Env = append(cmd.Env, readyEnv+"=3")
	p := testutil.Start(t, cmd)
	w.Close()
	r.SetReadDeadline(time.Now().Add(testutil.Timeout))
	if _, err := r.Read(make([]byte, 1)); err != nil {
		p.Wait()
		t.Fatalf("%v was never ready (%v); stderr:\n%s", cmd.Args, err, p.Stderr())
	}
	return p
}

// python starts a Python peer running script with args.
func python(t *testing.T, script string, args ...string) *testutil.Proc {
	t.Helper()
	py := testutil.RequirePython(t)
	return testutil.Start(t, exec.Command(py, append([]string{"-c", script}, args...)...))
}

// expectError runs `ipc args...` and checks its exit status and that its
// message is one "ipc: ..." line (a usage error adds a line pointing to help)
// containing want.
func expectError(t *testing.T, code int, want string, args ...string) {
	t.Helper()
	stdout, stderr, got := runIPC(t, args...)
	if code != exitTimeout && stdout != "" {
		t.Errorf("ipc %v printed %q before failing", args, stdout)
	}
	first, rest, _ := strings.Cut(stderr, "\n")
	oneLine := rest == "" || (code == cli.ExitUsage && rest == "Run 'ipc --help' for usage.\n")
	if got != code || !strings.HasPrefix(first, "ipc: ") || !strings.Contains(first, want) || !oneLine {
		t.Errorf("ipc %v: exit %d, stdout %q, stderr %q; want exit %d and one line with %q", args, got, stdout, stderr, code, want)
	}
}

// perm returns the permission bits of path.
func perm(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestClassicFileToPython(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared")
	defer syscall.Umask(syscall.Umask(0o077)) // the mode must not depend on it
	mustIPC(t, "file", "send", path, "first")
	mustIPC(t, "file", "send", path, "hello, file", "--mode", "0640")
	p := python(t, `import sys; print(open(sys.argv[1]).read(), flush=True)`, path)
	p.Expect("hello, file")
	p.MustSucceed()
	if got := perm(t, path); got != 0o640 {
		t.Errorf("mode %#o, want 0640 despite umask 077", got)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("the directory holds %d entries, want only the file (no temporary left)", len(entries))
	}
}

func TestClassicFileFromPython(t *testing.T) {
	dir := t.TempDir()
	// Atomic, as ipc file send writes: the rename wakes the receiver.
	atomic := filepath.Join(dir, "atomic")
	recv := startReady(t, "file", "recv", atomic, "--wait", "30s")
	python(t, `import os, sys
with open(sys.argv[1] + ".tmp", "w") as f: f.write("from python")
os.replace(sys.argv[1] + ".tmp", sys.argv[1])`, atomic).MustSucceed()
	recv.Expect("from python")
	recv.MustSucceed()
	if out, want := mustIPC(t, "file", "recv", "--json", atomic), fmt.Sprintf(`{"data":"from python","path":%q}`+"\n", atomic); out != want {
		t.Errorf("recv --json printed %q, want %q", out, want)
	}

	// In place, in two writes: the receiver must wait for the close, not
	// read the file as soon as it exists.
	inPlace := filepath.Join(dir, "in-place")
	recv = startReady(t, "file", "recv", inPlace, "--wait", "30s")
	python(t, `import sys, time
with open(sys.argv[1], "w") as f:
    f.write("two "); f.flush(); time.sleep(0.1); f.write("parts")`, inPlace).MustSucceed()
	recv.Expect("two parts")
	recv.MustSucceed()
}

func TestClassicFileStatRm(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	mustIPC(t, "file", "send", path, "12345")
	var st struct {
		Type, Mode string
		Size       int64
	}
	if err := json.Unmarshal([]byte(mustIPC(t, "file", "stat", path, "--json")), &st); err != nil {
		t.Fatal(err)
	}
	if st.Type != "regular file" || st.Mode != "0600" || st.Size != 5 {
		t.Errorf("stat --json = %+v, want a regular file, 0600, 5 bytes", st)
	}
	expectError(t, exitError, "remove "+filepath.Dir(path)+": not a regular file (it is a directory)", "file", "rm", filepath.Dir(path))
	mustIPC(t, "file", "rm", path)
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after rm: %v, want no file", err)
	}
}

func TestClassicFileBadInput(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	expectError(t, exitError, "open "+missing+": no such file or directory", "file", "recv", missing)
	expectError(t, exitTimeout, "wait "+missing+": i/o timeout", "file", "recv", missing, "--wait", "50ms")
	expectError(t, exitError, "remove "+missing+": no such file or directory", "file", "rm", missing)
	expectError(t, exitError, "create /no/such/dir/f: no such file or directory", "file", "send", "/no/such/dir/f", "x")
	expectError(t, exitError, "wait /no/such/dir/f: no such file or directory", "file", "recv", "/no/such/dir/f", "--wait", "1s")
	expectError(t, cli.ExitUsage, "accepts between 1 and 2 arg(s)", "file", "send")
}

func TestClassicSignalFromPythonAndC(t *testing.T) {
	sigqueueC := testutil.BuildC(t, "classic_signal")
	recv := startReady(t, "signal", "recv", "--count", "3", "USR1", "RTMIN+3")
	pid := strings.TrimPrefix(recv.Line(), "pid ")
	if pid != strconv.Itoa(recv.Cmd.Process.Pid) {
		t.Fatalf("recv printed pid %s, its pid is %d", pid, recv.Cmd.Process.Pid)
	}
	python(t, `import os, signal, sys; os.kill(int(sys.argv[1]), signal.SIGUSR1)`, pid).MustSucceed()
	recv.Expect("SIGUSR1 0")
	// Real-time signals queue, each with its own value.
	for _, v := range []string{"42", "-7"} {
		if out, err := exec.Command(sigqueueC, "send", pid, strconv.Itoa(sigRTMin+3), v).CombinedOutput(); err != nil {
			t.Fatalf("classic_signal send: %v %s", err, out)
		}
	}
	recv.Expect("SIGRTMIN+3 42")
	recv.Expect("SIGRTMIN+3 -7")
	recv.MustSucceed()
}

func TestClassicSignalToC(t *testing.T) {
	peer := testutil.Start(t, exec.Command(testutil.BuildC(t, "classic_signal"), "recv", strconv.Itoa(sigRTMin+3)))
	pid := strings.TrimPrefix(peer.Line(), "pid ")
	mustIPC(t, "signal", "send", pid, "SIGRTMIN+3", "--value", "1234")
	peer.Expect(fmt.Sprintf("signo=%d code=-1 value=1234", sigRTMin+3)) // SI_QUEUE
	peer.MustSucceed()
}

func TestClassicSignalToPython(t *testing.T) {
	peer := python(t, `import os, signal
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR2})
print("pid", os.getpid(), flush=True)
info = signal.sigwaitinfo({signal.SIGUSR2})
print(info.si_signo, info.si_code, info.si_pid, flush=True)`)
	pid := strings.TrimPrefix(peer.Line(), "pid ")
	cmd := ipcCommand("signal", "send", pid, "usr2")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ipc signal send: %v %s", err, out)
	}
	peer.Expect(fmt.Sprintf("%d 0 %d", syscall.SIGUSR2, cmd.Process.Pid)) // SI_USER, from ipc
	peer.MustSucceed()
}

func TestClassicSignalJSON(t *testing.T) {
	recv := startReady(t, "signal", "recv", "--json", "RTMIN+1", "USR2")
	var self struct{ Pid int }
	if err := json.Unmarshal([]byte(recv.Line()), &self); err != nil || self.Pid != recv.Cmd.Process.Pid {
		t.Fatalf("first line: %+v, %v; want the receiver's pid %d", self, err, recv.Cmd.Process.Pid)
	}
	send := ipcCommand("signal", "send", strconv.Itoa(self.Pid), "RTMIN+1", "--value", "9")
	if out, err := send.CombinedOutput(); err != nil {
		t.Fatalf("ipc signal send: %v %s", err, out)
	}
	var got struct {
		Signal              string
		Number, Value, Code int
		SenderPID           int `json:"sender_pid"`
		SenderUID           int `json:"sender_uid"`
	}
	if err := json.Unmarshal([]byte(recv.Line()), &got); err != nil {
		t.Fatal(err)
	}
	if got.Signal != "SIGRTMIN+1" || got.Number != sigRTMin+1 || got.Value != 9 || got.Code != -1 ||
		got.SenderPID != send.Process.Pid || got.SenderUID != os.Getuid() {
		t.Errorf("got %+v; want SIGRTMIN+1 (%d), value 9, code -1 (SI_QUEUE) from pid %d", got, sigRTMin+1, send.Process.Pid)
	}
	recv.MustSucceed()
}

func TestClassicSignalBadInput(t *testing.T) {
	pidMax, ok := errs.Sysctl("kernel/pid_max")
	if !ok {
		t.Fatal("cannot read kernel.pid_max")
	}
	gone := strconv.FormatInt(pidMax+1, 10)
	expectError(t, exitError, "kill "+gone+": no such process", "signal", "send", gone)
	expectError(t, exitError, "sigqueue "+gone+": no such process", "signal", "send", gone, "RTMIN", "--value", "1")
	expectError(t, cli.ExitUsage, `unknown signal "NOPE"`, "signal", "send", "1", "NOPE")
	expectError(t, cli.ExitUsage, `unknown signal "RTMIN+31"`, "signal", "recv", "RTMIN+31")
	expectError(t, cli.ExitUsage, `invalid PID "0"`, "signal", "send", "0")
	expectError(t, cli.ExitUsage, "cannot take SIGKILL", "signal", "recv", "KILL")
	expectError(t, cli.ExitUsage, "cannot take SIGURG", "signal", "recv", "23")
	expectError(t, cli.ExitUsage, "cannot take SIGRTMIN", "signal", "recv", "RTMIN")
	expectError(t, exitTimeout, "wait for signals: i/o timeout", "signal", "recv", "--timeout", "50ms")
	// Every signal not refused can be blocked in all threads: none makes the
	// receiver fail after its re-execution.
	takeable := []string{"recv", "--timeout", "1ms"}
	for sig := syscall.Signal(1); sig <= sigRTMax; sig++ {
		if !slices.Contains(untakeable, sig) {
			takeable = append(takeable, signalName(sig))
		}
	}
	expectError(t, exitTimeout, "wait for signals: i/o timeout", append([]string{"signal"}, takeable...)...)
}

func TestParseSignal(t *testing.T) {
	good := map[string]syscall.Signal{
		"USR1": syscall.SIGUSR1, "SIGUSR1": syscall.SIGUSR1, "usr2": syscall.SIGUSR2, "sigterm": syscall.SIGTERM,
		"9": syscall.SIGKILL, "SIG32": 32, "RTMIN": 34, "RTMIN+3": 37, "SIGRTMAX-1": 63, "RTMAX": 64, "64": 64,
	}
	for in, want := range good {
		if got, err := parseSignal(in); err != nil || got != want {
			t.Errorf("parseSignal(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "65", "-1", "FOO", "SIG", "RTMIN-1", "RTMAX+1", "RTMIN3", "RTMIN+", "RTMIN+x", "SIGSIGUSR1", "+5", "SIG-3", "RTMIN+30+1"} {
		if got, err := parseSignal(in); err == nil {
			t.Errorf("parseSignal(%q) = %d, want an error", in, got)
		}
	}
	for sig := syscall.Signal(1); sig <= sigRTMax; sig++ {
		if got, err := parseSignal(signalName(sig)); err != nil || got != sig {
			t.Errorf("parseSignal(signalName(%d) = %q) = %d, %v", sig, signalName(sig), got, err)
		}
	}
}

func FuzzParseSignal(f *testing.F) {
	for _, s := range []string{"USR1", "RTMIN+3", "SIGRTMAX-2", "15", "rtmin+-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sig, err := parseSignal(s)
		if err != nil {
			return
		}
		if sig < 1 || sig > sigRTMax {
			t.Fatalf("parseSignal(%q) = %d, outside 1..%d", s, sig, sigRTMax)
		}
		if back, err := parseSignal(signalName(sig)); err != nil || back != sig {
			t.Fatalf("parseSignal(%q) = %d, named %q, which parses as %d, %v", s, sig, signalName(sig), back, err)
		}
	})
}

func TestClassicTCPWithPython(t *testing.T) {
	// A Python client of the walk-through talks to ipc's echo server.
	addr := freeTCPAddr()
	host, port, _ := net.SplitHostPort(addr)
	server := startReady(t, "tcp", "recv", "--addr", addr)
	client := python(t, `import socket, sys
with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.connect((sys.argv[1], int(sys.argv[2])))
    s.sendall(b"hello from python")
    print(s.recv(1024).decode(), flush=True)`, host, port)
	client.Expect("hello from python")
	client.MustSucceed()
	server.Expect("hello from python")
	server.MustSucceed()

	// ipc's client talks to the walk-through's Python echo server.
	pyServer := python(t, `import socket
with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.bind(("127.0.0.1", 0))
    s.listen()
    print(s.getsockname()[1], flush=True)
    conn, _ = s.accept()
    with conn:
        while data := conn.recv(1024):
            conn.sendall(data)`)
	pyAddr := net.JoinHostPort("127.0.0.1", pyServer.Line())
	if out := mustIPC(t, "tcp", "send", "--addr", pyAddr, "hello from ipc"); out != "hello from ipc\n" {
		t.Errorf("echo %q, want %q", out, "hello from ipc\n")
	}
	pyServer.MustSucceed()
}

func TestClassicTCPBadInput(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	taken := ln.Addr().String()
	expectError(t, exitError, "listen "+taken+": address already in use", "tcp", "recv", "--addr", taken)
	free := freeTCPAddr()
	expectError(t, exitTimeout, "accept "+free+": i/o timeout", "tcp", "recv", "--addr", free, "--timeout", "50ms")
	ln.Close()
	expectError(t, exitError, "connect "+taken+": connection refused", "tcp", "send", "--addr", taken, "x")
	expectError(t, cli.ExitUsage, "invalid --count -1", "tcp", "recv", "--count", "-1")
}

const pyUnixStreamClient = `import socket, sys
with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
    s.connect(sys.argv[1])
    s.sendall(sys.argv[2].encode())
    s.shutdown(socket.SHUT_WR)
    print(s.makefile("rb").read().decode(), flush=True)`

func TestClassicUnixStreamWithPython(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	server := startReady(t, "unix", "recv", path)
	if got := perm(t, path); got != 0o600 {
		t.Errorf("socket mode %#o, want 0600", got)
	}
	client := python(t, pyUnixStreamClient, path, "over a unix stream")
	client.Expect("over a unix stream")
	client.MustSucceed()
	server.Expect("over a unix stream")
	server.MustSucceed()
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the server left its socket file: %v", err)
	}

	pyServer := python(t, `import socket, sys
with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
    s.bind(sys.argv[1])
    s.listen()
    print("ready", flush=True)
    conn, _ = s.accept()
    with conn:
        while data := conn.recv(1024):
            conn.sendall(data)`, path)
	pyServer.Expect("ready")
	if out := mustIPC(t, "unix", "send", path, "to python"); out != "to python\n" {
		t.Errorf("echo %q, want %q", out, "to python\n")
	}
	pyServer.MustSucceed()
	// Python leaves its socket file behind: rm removes it, and only a socket.
	mustIPC(t, "unix", "stat", path)
	mustIPC(t, "unix", "rm", path)
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after rm: %v", err)
	}
}

// TestClassicUnixStreams: the stream echo server (tcp's too) echoes and
// prints each piece as it arrives, not once the client is done.
func TestClassicUnixStreams(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	server := startReady(t, "unix", "recv", path)
	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(testutil.Timeout))
	echo := make([]byte, 64)
	for i := range 3 {
		line := fmt.Sprintf("piece %d", i)
		if _, err := io.WriteString(conn, line+"\n"); err != nil {
			t.Fatal(err)
		}
		server.Expect(line)
		if _, err := io.ReadFull(conn, echo[:len(line)+1]); err != nil || string(echo[:len(line)]) != line {
			t.Fatalf("echo %q, %v; want %q", echo[:len(line)+1], err, line)
		}
	}
	conn.(*net.UnixConn).CloseWrite()
	if rest, err := io.ReadAll(conn); err != nil || len(rest) != 0 {
		t.Errorf("after the pieces the server sent %q, %v", rest, err)
	}
	server.Expect("") // the newline after the payload
	server.MustSucceed()
}

func TestClassicUnixDatagramWithPython(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.sock")
	server := startReady(t, "unix", "recv", "--datagram", "--json", path)
	// The Python client binds an abstract address to get the reply.
	client := python(t, `import os, socket, sys
with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
    s.bind("\0goipc-test-client-%d" % os.getpid())
    s.sendto(b"one datagram", sys.argv[1])
    print(s.recv(1024).decode(), flush=True)`, path)
	client.Expect("one datagram")
	client.MustSucceed()
	var got struct{ Data, From string }
	if err := json.Unmarshal([]byte(server.Line()), &got); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("@goipc-test-client-%d", client.Cmd.Process.Pid); got.Data != "one datagram" || got.From != want {
		t.Errorf("server printed %+v, want the datagram from %s", got, want)
	}
	server.MustSucceed()
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the datagram server left its socket file: %v", err)
	}

	pyServer := python(t, `import os, socket, sys
with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
    s.bind(sys.argv[1])
    print("ready", flush=True)
    data, peer = s.recvfrom(1024)
    s.sendto(data, peer)
os.unlink(sys.argv[1])`, path)
	pyServer.Expect("ready")
	if out := mustIPC(t, "unix", "send", "--datagram", path, "datagram to python"); out != "datagram to python\n" {
		t.Errorf("echo %q, want %q", out, "datagram to python\n")
	}
	pyServer.MustSucceed()
}

func TestClassicUnixBadInput(t *testing.T) {
	dir := t.TempDir()
	long := filepath.Join(dir, strings.Repeat("x", 120))
	why := fmt.Sprintf(": invalid argument (socket path is %d bytes; the kernel allows 107)", len(long))
	expectError(t, exitError, "listen "+long+why, "unix", "recv", long)
	expectError(t, exitError, "connect "+long+why, "unix", "send", long, "x")
	regular := filepath.Join(dir, "regular")
	if err := os.WriteFile(regular, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	expectError(t, exitError, "listen "+regular+": a regular file is there, not a socket", "unix", "recv", regular)
	expectError(t, exitError, "listen "+dir+": a directory is there, not a socket", "unix", "recv", dir)
	expectError(t, exitError, "remove "+regular+": not a socket (it is a regular file)", "unix", "rm", regular)
	expectError(t, exitError, "connect "+regular+": connection refused", "unix", "send", regular, "x")
	missing := filepath.Join(dir, "missing")
	expectError(t, exitError, "connect "+missing+": no such file or directory", "unix", "send", missing, "x")
	expectError(t, exitTimeout, "recv "+missing+": i/o timeout", "unix", "recv", "--datagram", missing, "--timeout", "50ms")
	expectError(t, cli.ExitUsage, "accepts 1 arg(s)", "unix", "rm")
}

func TestClassicPipe(t *testing.T) {
	msg := "line one\nline two, ünïcode"
	if out := mustIPC(t, "pipe", msg); out != msg+"\n" {
		t.Errorf("ipc pipe printed %q, want %q", out, msg+"\n")
	}
}

func TestClassicPipeWriterToPython(t *testing.T) {
	// Python makes the anonymous pipe and reads it; ipc's writer child writes
	// what it reads on stdin into descriptor 3, as ipc pipe's parent arranges.
	py := testutil.RequirePython(t)
	cmd := exec.Command(py, "-c", `import fcntl, os, subprocess, sys
r, w = os.pipe()
r = fcntl.fcntl(r, fcntl.F_DUPFD_CLOEXEC, 4) # keep the read end off descriptor 3
os.dup2(w, 3); os.close(w)
child = subprocess.Popen(sys.argv[1:], pass_fds=(3,), stdin=subprocess.PIPE)
os.close(3)
child.stdin.write(b"written by ipc"); child.stdin.close()
with os.fdopen(r, "rb") as f: data = f.read()
print(data.decode(), child.wait(), flush=True)`, os.Args[0], pipeWriterCmd)
	cmd.Env = ipcCommand().Env
	p := testutil.Start(t, cmd)
	p.Expect("written by ipc 0")
	p.MustSucceed()
}

func TestClassicFIFOWithPython(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fifo")
	// ipc creates the FIFO and waits in open until Python opens it to write.
	recv := startReady(t, "fifo", "recv", path, "--mode", "0666")
	if got := perm(t, path); got != 0o666 {
		t.Errorf("FIFO mode %#o, want 0666 whatever the umask", got)
	}
	python(t, `import sys
with open(sys.argv[1], "w") as f: f.write("from python")`, path).MustSucceed()
	recv.Expect("from python")
	recv.MustSucceed()

	// ipc's sender blocks in open until Python opens to read.
	send := startReady(t, "fifo", "send", path, "to python")
	reader := python(t, `import sys; print(open(sys.argv[1]).read(), flush=True)`, path)
	reader.Expect("to python")
	reader.MustSucceed()
	send.MustSucceed()
	if out := mustIPC(t, "fifo", "stat", path); !strings.Contains(out, "FIFO") {
		t.Errorf("stat: %q, want a FIFO", out)
	}
	mustIPC(t, "fifo", "rm", path)
}

// TestClassicFIFOStreams: recv prints each line as it arrives, before the
// writer is done, and holds none of it: 64 MiB pass through in lockstep and
// its peak RSS stays below that (a copy of it would hold more).
func TestClassicFIFOStreams(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fifo")
	recv := startReady(t, "fifo", "recv", path)
	// O_RDWR opens a FIFO without waiting for a reader (Linux), so a recv
	// that failed cannot hang the test in open.
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	line := strings.Repeat("x", 64<<10-1)
	const total = 64 << 20
	for sent := 0; sent < total; sent += len(line) + 1 {
		if _, err := io.WriteString(f, line+"\n"); err != nil {
			t.Fatal(err)
		}
		if got := recv.Line(); got != line { // fails after testutil.Timeout if recv holds it
			t.Fatalf("after %d bytes recv printed a line of %d bytes, want %d", sent, len(got), len(line))
		}
	}
	if hwm := peakRSS(t, recv.Cmd.Process.Pid); hwm > total*3/4 { // 23 MiB seen with -race
		t.Errorf("recv's peak RSS is %d MiB after %d MiB streamed through it", hwm>>20, total>>20)
	}
	f.Close()
	recv.Expect("") // the newline recv adds after the payload
	recv.MustSucceed()
}

// maxJSONEnv sets maxJSONMessage in an ipc child of this test binary.
const maxJSONEnv = "GOIPC_TEST_MAX_JSON"

func init() {
	if n, err := strconv.ParseInt(os.Getenv(maxJSONEnv), 10, 64); err == nil {
		maxJSONMessage = n
	}
}

// TestClassicFIFOJSONCap: --json must hold a message whole to print it as one
// object, so a message over the cap (64 MiB) is a clear error, not unbounded
// memory.
func TestClassicFIFOJSONCap(t *testing.T) {
	// 64 MiB costs seconds of CPU under -race: the child gets a 1 MiB cap.
	t.Setenv(maxJSONEnv, strconv.Itoa(1<<20))
	path := filepath.Join(t.TempDir(), "fifo")
	recv := startReady(t, "fifo", "recv", path, "--json")
	f, err := os.OpenFile(path, os.O_RDWR, 0) // as in TestClassicFIFOStreams
	if err != nil {
		t.Fatal(err)
	}
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		chunk := make([]byte, 1<<20)
		for range 2 {
			if _, err := f.Write(chunk); err != nil {
				return // closed below once recv has given up
			}
		}
	}()
	rest, err := recv.Wait()
	f.Close()
	<-wrote
	var exit *exec.ExitError
	want := "ipc: read " + path + ": message over 1048576 bytes, the most --json holds (without --json any size streams)\n"
	if !errors.As(err, &exit) || exit.ExitCode() != exitError || len(rest) != 0 || recv.Stderr() != want {
		t.Errorf("recv --json of 2 MiB: %v, printed %d lines, stderr %q; want exit 1 and %q", err, len(rest), recv.Stderr(), want)
	}
}

// peakRSS returns the peak resident set size of process pid (VmHWM), in bytes.
func peakRSS(t *testing.T, pid int) int {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for l := range strings.Lines(string(status)) {
		if kb, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(kb), "kB")))
			if err != nil {
				t.Fatalf("VmHWM %q: %v", kb, err)
			}
			return n << 10
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}

func TestClassicFIFOBadInput(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "regular")
	if err := os.WriteFile(regular, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	expectError(t, exitError, "open "+regular+": not a FIFO (it is a regular file)", "fifo", "send", regular, "x")
	expectError(t, exitError, "open "+regular+": not a FIFO (it is a regular file)", "fifo", "recv", regular)
	expectError(t, exitError, "remove "+regular+": not a FIFO (it is a regular file)", "fifo", "rm", regular)
	if b, _ := os.ReadFile(regular); string(b) != "keep" {
		t.Errorf("the regular file now holds %q", b)
	}
	fifo := filepath.Join(dir, "fifo")
	expectError(t, exitTimeout, "open "+fifo+": i/o timeout (no writer opened the FIFO in time)", "fifo", "recv", fifo, "--timeout", "50ms")
	expectError(t, exitTimeout, "open "+fifo+": i/o timeout (no reader opened the FIFO in time)", "fifo", "send", fifo, "x", "--timeout", "50ms")
	// A writer that opens and never writes: the --timeout bounds the read too.
	writer, err := os.OpenFile(fifo, os.O_RDWR, 0) // O_RDWR: no wait for a reader (Linux)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	expectError(t, exitTimeout, "read "+fifo+": i/o timeout", "fifo", "recv", fifo, "--timeout", "50ms")
	expectError(t, exitError, "mkfifo /no/such/dir/f: no such file or directory", "fifo", "recv", "/no/such/dir/f")
}

func TestClassicDemo(t *testing.T) {
	dir := t.TempDir()
	cmd := ipcCommand("demo", "file", "signal", "tcp", "unix", "pipe", "fifo")
	cmd.Env = append(cmd.Env, "TMPDIR="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ipc demo: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 7 {
		t.Fatalf("ipc demo printed %d lines, want a header and 6 rows:\n%s", len(lines), out)
	}
	for i, mech := range []string{"file", "signal", "tcp", "unix", "pipe", "fifo"} {
		if f := strings.Fields(lines[i+1]); f[0] != mech || f[len(f)-1] != "ok" {
			t.Errorf("row %q, want %s ... ok", lines[i+1], mech)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Errorf("the demo left %d objects in TMPDIR, such as %s", len(entries), entries[0].Name())
	}
}

func TestClassicDemoInterrupted(t *testing.T) {
	// Interrupt the demo as soon as its first object appears in TMPDIR, which
	// an inotify watch reports, and check that everything went away.
	dir := t.TempDir()
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	events := os.NewFile(uintptr(fd), "inotify")
	defer events.Close()
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_CREATE); err != nil {
		t.Fatal(err)
	}
	cmd := ipcCommand("demo", "file", "signal", "tcp", "unix", "pipe", "fifo")
	cmd.Env = append(cmd.Env, "TMPDIR="+dir)
	demo := testutil.Start(t, cmd)
	events.SetReadDeadline(time.Now().Add(testutil.Timeout))
	if _, err := events.Read(make([]byte, 4096)); err != nil {
		t.Fatalf("no object appeared in TMPDIR: %v; stderr:\n%s", err, demo.Stderr())
	}
	demo.Cmd.Process.Signal(os.Interrupt)
	if _, err := demo.Wait(); err == nil || !strings.Contains(demo.Stderr(), "interrupted") {
		t.Errorf("interrupted demo: %v, stderr %q; want a failure that says it was interrupted", err, demo.Stderr())
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Errorf("the interrupted demo left %d objects, such as %s", len(entries), entries[0].Name())
	}
}
