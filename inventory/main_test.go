package inventory_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/inventory"
)

func TestMain(m *testing.M) {
	testutil.Main(m, map[string]func([]string) error{
		// select prints, as JSON, what Select shows the process it runs in.
		"select": func(args []string) error {
			all := len(args) > 0 && args[0] == "all"
			objs, err := inventory.Select(inventory.Options{All: all})
			if err != nil {
				return err
			}
			return json.NewEncoder(os.Stdout).Encode(objs)
		},
	})
}

// made is what a peer says it created: for each kind, the object's target
// as Lookup takes it (a POSIX name, or "id=N" for System V), plus the keys.
type made struct {
	pid     int
	targets map[inventory.Kind]string
	keys    map[inventory.Kind]int64
	proc    *testutil.Proc
}

// readMade reads a peer's "KIND NAME" and "KIND KEY ID" lines up to "ready",
// and removes the objects at cleanup.
func readMade(t testing.TB, p *testutil.Proc) *made {
	t.Helper()
	m := &made{targets: map[inventory.Kind]string{}, keys: map[inventory.Kind]int64{}, proc: p}
	t.Cleanup(func() { m.removeAll(t) })
	for {
		f := strings.Fields(p.Line())
		switch {
		case len(f) == 1 && f[0] == "ready":
			return m
		case len(f) == 2 && f[0] == "pid":
			m.pid, _ = strconv.Atoi(f[1])
		case len(f) == 2:
			m.targets[inventory.Kind(f[0])] = f[1]
		case len(f) == 3:
			m.targets[inventory.Kind(f[0])] = "id=" + f[2]
			m.keys[inventory.Kind(f[0])], _ = strconv.ParseInt(f[1], 10, 64)
		default:
			t.Fatalf("unexpected line from peer: %q", f)
		}
	}
}

// removeAll removes what the peer made, tolerating what is already gone.
func (m *made) removeAll(t testing.TB) {
	for k, target := range m.targets {
		o, err := inventory.Lookup(k, target)
		if err == nil {
			err = inventory.Remove(o)
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("cleanup %s %s: %v", k, target, err)
		}
	}
}

// mine keeps only this peer's objects: tests never touch anyone else's.
func (m *made) mine(o inventory.Object) bool {
	target := o.Name
	if target == "" {
		target = fmt.Sprintf("id=%d", o.ID)
	}
	return m.targets[o.Kind] == target
}

// find returns the listed object of kind k that the peer made.
func (m *made) find(t *testing.T, objs []inventory.Object, k inventory.Kind) inventory.Object {
	t.Helper()
	for _, o := range objs {
		if o.Kind == k && m.mine(o) {
			return o
		}
	}
	t.Fatalf("%s %s not listed", k, m.targets[k])
	return inventory.Object{}
}

// startC runs csrc/inventory_objects.c, which makes one object of each kind
// and then does action: hold, release or exit.
func startC(t testing.TB, action string) *made {
	t.Helper()
	bin := testutil.BuildC(t, "inventory_objects", "-lrt", "-pthread")
	cmd := exec.Command(bin, testutil.Name("inv"), keyArg(), keyArg(), keyArg(), action)
	stdin, err := cmd.StdinPipe() // closing it lets the peer exit
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close() })
	return readMade(t, testutil.Start(t, cmd))
}

func keyArg() string { return strconv.FormatInt(testutil.Key(), 10) }

// kill ends the peer with SIGKILL, so it cleans nothing up, and reaps it.
func (m *made) kill(t *testing.T) {
	t.Helper()
	if err := m.proc.Cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	m.proc.Wait()
}
