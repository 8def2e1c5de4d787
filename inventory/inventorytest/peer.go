// Package inventorytest runs the foreign peers that the tests of package
// inventory and of `ipc ls`/`ipc rm` list, sweep and remove: the C program
// csrc/inventory_objects.c, or any program that reports what it made the
// same way, and holds Main, the TestMain of every package, which fails a test
// binary that leaves an IPC object behind. It is for tests only.
package inventorytest

import (
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/inventory"
)

// Peer is a running program that made IPC objects.
type Peer struct {
	Proc    *testutil.Proc
	PID     int
	Targets map[inventory.Kind]string // as inventory.Lookup takes them: "/name" or "id=N"
	Keys    map[inventory.Kind]int64  // System V keys
}

// StartC runs csrc/inventory_objects.c, which makes one object of each kind
// (mode 0640, names from testutil.Name, keys from testutil.Key) and then does
// action: hold, release or exit. wrap, when set, rewrites the command (to run
// it in a namespace, say); objects made without it are removed at cleanup.
func StartC(t testing.TB, action string, wrap func(*exec.Cmd) *exec.Cmd) *Peer {
	t.Helper()
	bin := testutil.BuildC(t, "inventory_objects", "-lrt", "-pthread")
	key := func() string { return strconv.FormatInt(testutil.Key(), 10) }
	cmd := exec.Command(bin, testutil.Name("inv"), key(), key(), key(), action)
	if wrap != nil {
		cmd = wrap(cmd)
	}
	return Start(t, cmd, wrap == nil)
}

// Start starts cmd, which prints one line per object it made ("KIND /NAME"
// or "KIND KEY ID"), then "pid PID" and "ready", and keeps running until its
// stdin closes. With cleanup, what it made is removed when the test ends.
func Start(t testing.TB, cmd *exec.Cmd, cleanup bool) *Peer {
	t.Helper()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close() })
	p := &Peer{Proc: testutil.Start(t, cmd), Targets: map[inventory.Kind]string{}, Keys: map[inventory.Kind]int64{}}
	if cleanup {
		t.Cleanup(func() { p.removeAll(t) })
	}
	for line := p.Proc.Line(); line != "ready"; line = p.Proc.Line() {
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "pid":
			p.PID, _ = strconv.Atoi(f[1])
		case len(f) == 2:
			p.Targets[inventory.Kind(f[0])] = f[1]
		case len(f) == 3:
			p.Targets[inventory.Kind(f[0])] = "id=" + f[2]
			p.Keys[inventory.Kind(f[0])], _ = strconv.ParseInt(f[1], 10, 64)
		default:
			t.Fatalf("unexpected line from the peer: %q", line)
		}
	}
	return p
}

// removeAll removes what the peer made, tolerating what is already gone.
func (p *Peer) removeAll(t testing.TB) {
	for k, target := range p.Targets {
		o, err := inventory.Lookup(k, target)
		if err == nil {
			err = inventory.Remove(o)
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("cleanup %s %s: %v", k, target, err)
		}
	}
}

// Owns reports whether the peer made o; tests never touch other objects.
func (p *Peer) Owns(o inventory.Object) bool {
	target := o.Name
	if target == "" {
		target = fmt.Sprintf("id=%d", o.ID)
	}
	return p.Targets[o.Kind] == target
}

// Mine returns the peer's objects among objs, by kind.
func (p *Peer) Mine(objs []inventory.Object) map[inventory.Kind]inventory.Object {
	m := map[inventory.Kind]inventory.Object{}
	for _, o := range objs {
		if p.Owns(o) {
			m[o.Kind] = o
		}
	}
	return m
}

// Find returns the peer's object of kind k among objs, or fails the test.
func (p *Peer) Find(t testing.TB, objs []inventory.Object, k inventory.Kind) inventory.Object {
	t.Helper()
	o, ok := p.Mine(objs)[k]
	if !ok {
		t.Fatalf("%s %s not listed", k, p.Targets[k])
	}
	return o
}

// Kill ends the peer with SIGKILL, so that it cleans nothing up, and reaps it.
func (p *Peer) Kill(t testing.TB) {
	t.Helper()
	if err := p.Proc.Cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	p.Proc.Wait()
}
