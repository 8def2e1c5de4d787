// Command leakcheck guards `make test`. "leakcheck save FILE" records every IPC
// object on the machine; "leakcheck compare FILE [DIR]" fails, listing them, if
// objects appeared since (objects that were there before do not count) or if
// anything is left in DIR, the private TMPDIR the tests ran with: files,
// sockets and directories that tests made and did not remove.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/goipc/ipc/inventory"
)

func main() {
	save := len(os.Args) == 3 && os.Args[1] == "save"
	compare := (len(os.Args) == 3 || len(os.Args) == 4) && os.Args[1] == "compare"
	if !save && !compare {
		fmt.Fprintln(os.Stderr, "usage: leakcheck save FILE | leakcheck compare FILE [DIR]")
		os.Exit(2)
	}
	var err error
	if save {
		err = saveObjects(os.Args[2])
	} else {
		err = compareObjects(os.Args[2])
		if len(os.Args) == 4 {
			err = errors.Join(err, emptyDir(os.Args[3]))
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "leakcheck:", err)
		os.Exit(1)
	}
}

func saveObjects(file string) error {
	objs, err := inventory.List()
	if err != nil {
		return err
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	for _, o := range objs {
		fmt.Fprintln(f, o.Ref())
	}
	return f.Close()
}

func compareObjects(file string) error {
	objs, err := inventory.List()
	if err != nil {
		return err
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	before := map[string]bool{}
	for sc := bufio.NewScanner(f); sc.Scan(); {
		before[sc.Text()] = true
	}
	var leaked []string
	for _, o := range objs {
		if !before[o.Ref()] {
			leaked = append(leaked, fmt.Sprintf("\t%s key=%#x uid=%d mode=%v", o.Ref(), o.Key, o.UID, o.Mode))
		}
	}
	if len(leaked) > 0 {
		return leftBehind("IPC objects", leaked)
	}
	fmt.Printf("leakcheck: no IPC object left behind (%d were there before)\n", len(before))
	return nil
}

func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var left []string
	for _, e := range entries {
		left = append(left, "\t"+filepath.Join(dir, e.Name()))
	}
	if len(left) > 0 {
		return leftBehind("temporary files", left)
	}
	fmt.Printf("leakcheck: no temporary file left behind in %s\n", dir)
	return nil
}

func leftBehind(what string, lines []string) error {
	msg := fmt.Sprintf("the tests left %d %s behind:", len(lines), what)
	for _, l := range lines {
		msg += "\n" + l
	}
	return errors.New(msg)
}
