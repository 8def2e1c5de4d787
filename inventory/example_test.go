package inventory_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/goipc/ipc/inventory"
)

// A service sweeps its own leftovers at start-up: here a POSIX shared memory
// object that a crashed run left behind (shm_open creates just such a file).
func Example() {
	const name = "/goipc-example-leftover"
	f, err := os.OpenFile(filepath.Join(inventory.ShmDir, name), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		fmt.Println(err)
		return
	}
	f.Close()
	defer inventory.Remove(inventory.Object{Kind: inventory.PosixShm, Name: name})

	o, err := inventory.Lookup(inventory.PosixShm, name)
	fmt.Println(o.Ref(), o.Mode, o.Size, err)

	removed, err := inventory.RemoveOrphans(inventory.Options{
		Kinds: []inventory.Kind{inventory.PosixShm},
		// Only this service's objects, which no other program opens; so the
		// processes the caller may not inspect cannot be using them.
		Match:             func(o inventory.Object) bool { return strings.HasPrefix(o.Name, "/goipc-example-") },
		SkipUninspectable: true,
	})
	for _, o := range removed {
		fmt.Printf("removed %s: %s\n", o.Ref(), o.Reason)
	}
	fmt.Println(err)
	// Output:
	// posix-shm:/goipc-example-leftover 0600 0 <nil>
	// removed posix-shm:/goipc-example-leftover: no process has it open or mapped
	// <nil>
}
