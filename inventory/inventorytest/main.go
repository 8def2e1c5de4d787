package inventorytest

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/inventory"
)

// Main is the body of every package's TestMain: testutil.Main (children, the
// tests, removal of built C programs), then a failure if an object that this
// process named or keyed (testutil.Name, testutil.Key) is still on the
// machine.
func Main(m *testing.M, children map[string]func(args []string) error) {
	testutil.Main(m, children, noLeaks)
}

// Leaks returns the objects on the machine that this process's testutil.Name
// or testutil.Key identify, or that it created (System V segments record
// their creator).
func Leaks() []inventory.Object {
	objs, _ := inventory.List()
	var mine []inventory.Object
	for _, o := range objs {
		if testutil.Mine(o.Name, o.Key) || o.CreatorPID == os.Getpid() {
			mine = append(mine, o)
		}
	}
	return mine
}

func noLeaks() error {
	leaks := Leaks()
	if len(leaks) == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "the tests left %d IPC objects behind:", len(leaks))
	for _, o := range leaks {
		fmt.Fprintf(&b, "\n\t%s key=%#x", o.Ref(), o.Key)
	}
	return fmt.Errorf("%s", b.String())
}
