package sysv_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/sysv"
)

// peer runs a foreign peer to completion and returns its stdout, trimmed.
func peer(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		stderr := ""
		if e, ok := err.(*exec.ExitError); ok {
			stderr = string(e.Stderr)
		}
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr)
	}
	return strings.TrimSpace(string(out))
}

// Typed messages, segment contents and semaphore values travel both ways
// between goipc and a C program.
func TestInteropC(t *testing.T) {
	c := testutil.BuildC(t, "sysv_peer")
	q, m, s := newQueue(t), newSegment(t, 4096), newSemSet(t, 2)
	qk, mk, sk := q.Key().String(), m.Key().String(), s.Key().String()

	send(t, q, 7, "skipped")
	send(t, q, 3, "from go")
	if got := peer(t, c, "msg-recv", qk, "3"); got != "3 from go" {
		t.Errorf("C received %q, want %q", got, "3 from go")
	}
	peer(t, c, "msg-send", qk, "4", "from c")
	if got := receive(t, q, -5, 0); got != "4:from c" {
		t.Errorf("Go received %q from C, want 4:from c", got)
	}
	if got := receive(t, q, 0, 0); got != "7:skipped" {
		t.Errorf("the message C skipped is %q, want 7:skipped", got)
	}

	mem, err := m.Attach(0)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Detach(mem)
	copy(mem, "go wrote\x00")
	if got := peer(t, c, "shm-read", mk); got != "go wrote" {
		t.Errorf("C read %q from the segment", got)
	}
	peer(t, c, "shm-write", mk, "c wrote")
	if got := string(mem[:8]); got != "c wrote\x00" {
		t.Errorf("Go read %q from the segment C wrote", got)
	}

	if err := s.SetValue(0, 5); err != nil {
		t.Fatal(err)
	}
	if got := peer(t, c, "sem-get", sk, "0"); got != "5" {
		t.Errorf("C read semaphore 0 as %s, want 5", got)
	}
	peer(t, c, "sem-op", sk, "1", "3")
	if v, err := s.Value(1); v != 3 || err != nil {
		t.Errorf("after C added 3, semaphore 1 = %d, %v", v, err)
	}
}

// The same with Python's sysv_ipc, the library our users know.
const pythonPeer = `
import sys, sysv_ipc
qk, mk, sk = (int(a, 0) for a in sys.argv[1:4])
q = sysv_ipc.MessageQueue(qk)
msg, typ = q.receive(type=3)
print(typ, msg.decode())
q.send(b"from python", type=4)
m = sysv_ipc.SharedMemory(mk)
print(m.read(64).split(b"\0")[0].decode())
m.write(b"python wrote\0")
s = sysv_ipc.Semaphore(sk)
print(s.value)
s.release()
s.release()
`

func TestInteropPython(t *testing.T) {
	py := testutil.RequirePython(t, "sysv_ipc")
	q, m, s := newQueue(t), newSegment(t, 4096), newSemSet(t, 1)
	send(t, q, 3, "from go")
	mem, err := m.Attach(0)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Detach(mem)
	copy(mem, "go wrote\x00")
	if err := s.SetValue(0, 5); err != nil {
		t.Fatal(err)
	}

	got := peer(t, py, "-c", pythonPeer, q.Key().String(), m.Key().String(), s.Key().String())
	if want := "3 from go\ngo wrote\n5"; got != want {
		t.Errorf("Python printed %q, want %q", got, want)
	}
	buf := make([]byte, 64)
	n, typ, err := q.Receive(context.Background(), buf, 0, sysv.NoWait)
	if err != nil || typ != 4 || string(buf[:n]) != "from python" {
		t.Errorf("Go received %q type %d, %v; want \"from python\" type 4", buf[:n], typ, err)
	}
	if got := string(mem[:13]); got != "python wrote\x00" {
		t.Errorf("segment holds %q after Python wrote", got)
	}
	if v, _ := s.Value(0); v != 7 {
		t.Errorf("semaphore = %d after Python released twice, want 7", v)
	}
}
