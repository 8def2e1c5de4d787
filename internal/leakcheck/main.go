// Command leakcheck guards `make test`: "leakcheck save FILE" records every IPC
// object on the machine, and "leakcheck compare FILE" fails, listing them, if
// objects appeared since. Objects that were there before do not count.
package main

import (
	"bufio"
	"fmt"
	"os"

	"github.com/goipc/ipc/inventory"
)

func main() {
	if len(os.Args) != 3 || (os.Args[1] != "save" && os.Args[1] != "compare") {
		fmt.Fprintln(os.Stderr, "usage: leakcheck save|compare FILE")
		os.Exit(2)
	}
	objs, err := inventory.List()
	if err != nil {
		fmt.Fprintln(os.Stderr, "leakcheck:", err)
		os.Exit(1)
	}
	file := os.Args[2]
	if os.Args[1] == "save" {
		f, err := os.Create(file)
		if err != nil {
			fmt.Fprintln(os.Stderr, "leakcheck:", err)
			os.Exit(1)
		}
		for _, o := range objs {
			fmt.Fprintln(f, o.Ref())
		}
		if err := f.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "leakcheck:", err)
			os.Exit(1)
		}
		return
	}
	before := map[string]bool{}
	f, err := os.Open(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, "leakcheck:", err)
		os.Exit(1)
	}
	for sc := bufio.NewScanner(f); sc.Scan(); {
		before[sc.Text()] = true
	}
	leaked := 0
	for _, o := range objs {
		if !before[o.Ref()] {
			if leaked == 0 {
				fmt.Fprintln(os.Stderr, "leakcheck: the tests left IPC objects behind:")
			}
			leaked++
			fmt.Fprintf(os.Stderr, "\t%s key=%#x uid=%d mode=%v\n", o.Ref(), o.Key, o.UID, o.Mode)
		}
	}
	if leaked > 0 {
		os.Exit(1)
	}
	fmt.Printf("leakcheck: no IPC object left behind (%d were there before)\n", len(before))
}
