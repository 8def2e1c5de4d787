package testutil

import (
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// A child that prints more lines than Proc buffers is still reaped by Wait.
func TestProcWaitReadsEveryLine(t *testing.T) {
	p := Start(t, exec.Command("seq", "5000"))
	p.Expect("1")
	rest, err := p.Wait()
	if err != nil || len(rest) != 4999 || rest[4998] != "5000" {
		t.Fatalf("Wait = %d lines, %v; want the 4999 after the first", len(rest), err)
	}
}

// internal/ sits below every package of the module: its packages import one
// another and nothing else of the module, so any package may use them.
func TestInternalImportsOnlyInternal(t *testing.T) {
	const module, internal = "github.com/goipc/ipc/", "github.com/goipc/ipc/internal/"
	root := filepath.Join(RepoRoot(), "internal")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(p, module) && !strings.HasPrefix(p, internal) {
				t.Errorf("%s imports %s: internal/ must not depend on the packages above it", path, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRemoveOrphanBuilds: the build directory of a process that is gone
// goes, that of a live one stays.
func TestRemoveOrphanBuilds(t *testing.T) {
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	orphan, err := os.MkdirTemp("", fmt.Sprintf("%s%d-", buildPrefix, dead.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	live, err := os.MkdirTemp("", fmt.Sprintf("%s%d-", buildPrefix, os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(live)
	removeOrphanBuilds()
	if _, err := os.Stat(orphan); !os.IsNotExist(err) {
		os.RemoveAll(orphan)
		t.Errorf("the build directory of exited process %d stayed: %v", dead.Process.Pid, err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("the build directory of this live process went: %v", err)
	}
}
