package inventory_test

import (
	"testing"

	"github.com/goipc/ipc/inventory"
	"github.com/goipc/ipc/inventory/inventorytest"
)

// BenchmarkList reads every object on the machine: /proc/sysvipc, the POSIX
// directories, pid liveness. It costs what `ipcs -a` plus `ls /dev/shm
// /dev/mqueue` cost, plus a kill(pid, 0) and a stat file per recorded pid.
func BenchmarkList(b *testing.B) {
	for b.Loop() {
		if _, err := inventory.List(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSelectUsers adds the pass over every process's descriptors and
// mappings that `ipc ls` and the orphan sweep make. A C peer holds one
// object of each kind so that there is something to find.
func BenchmarkSelectUsers(b *testing.B) {
	inventorytest.StartC(b, "hold", nil)
	for b.Loop() {
		if _, err := inventory.Select(inventory.Options{Users: true}); err != nil {
			b.Fatal(err)
		}
	}
}
