package inventory_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/goipc/ipc/inventory"
	"github.com/goipc/ipc/inventory/inventorytest"
)

func TestMain(m *testing.M) {
	inventorytest.Main(m, map[string]func([]string) error{
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
