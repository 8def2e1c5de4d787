package mpi_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/mpi"
	"github.com/goipc/ipc/mpi/mpitest"
)

func init() {
	children["rma-shared-c"] = func([]string) error { return suite(mpi.ThreadFunneled, sharedWithCChecks) }
}

// TestRMASharedWithC runs a Go rank and a C rank (csrc/mpi_rma.c shared) of
// one node sharing a WinAllocateShared window: each stores into its own part
// and the other's with plain stores, and checks with plain loads what the
// other stored, after fences and, inside LockAll, after Sync, Barrier, Sync.
// Both orders of the ranks run.
func TestRMASharedWithC(t *testing.T) {
	peer := mpitest.App{N: 1, Argv: []string{testutil.BuildC(t, "mpi_rma", mpitest.CFlags(t)...), "shared"}}
	for _, goFirst := range []bool{true, false} {
		var r mpitest.Result
		if goFirst {
			r = job(t, "rma-shared-c", 1, peer)
		} else {
			r = mpitest.Must(t, childEnv("rma-shared-c"), peer, mpitest.App{N: 1, Argv: []string{os.Args[0]}})
		}
		for _, want := range []string{"c ok shared\n", "go ok shared\n"} {
			if !strings.Contains(r.Stdout, want) {
				t.Errorf("Go rank first %v: no %q; stdout:\n%s\nstderr:\n%s", goFirst, want, r.Stdout, r.Stderr)
			}
		}
	}
}

// sharedWithCChecks is the Go side of csrc/mpi_rma.c's shared(), step for
// step.
var sharedWithCChecks = []check{{"shared with c", func(w *mpi.Comm) error {
	node, err := w.SplitType(mpi.TypeShared, 0)
	if err != nil {
		return err
	}
	defer node.Free()
	if node.Size() != 2 {
		return fmt.Errorf("%d ranks on the node, want 2", node.Size())
	}
	win, mine, err := mpi.WinAllocateShared[int64](node, 4, nil)
	if err != nil {
		return err
	}
	defer win.Free()
	rank, other := int64(node.Rank()), int64(1-node.Rank())
	theirs, err := mpi.SharedQuery[int64](win, int(other))
	if err != nil {
		return err
	}
	if len(theirs) != 4 {
		return fmt.Errorf("the C rank's part has %d elements, want 4", len(theirs))
	}
	if err := win.Fence(); err != nil {
		return err
	}
	for i := range mine {
		mine[i] = 1000*(rank+1) + int64(i)
	}
	if err := win.Fence(); err != nil {
		return err
	}
	for i, v := range theirs {
		if err := want(fmt.Sprintf("the C rank's element %d", i), v, 1000*(other+1)+int64(i)); err != nil {
			return err
		}
	}
	theirs[3] = -(rank + 1)
	if err := win.Fence(); err != nil {
		return err
	}
	if err := want("own element 3, stored by the C rank", mine[3], -(other + 1)); err != nil {
		return err
	}
	if err := win.Fence(); err != nil {
		return err
	}
	if err := win.LockAll(); err != nil {
		return err
	}
	mine[0] = 7 * (rank + 1)
	if err := win.Sync(); err != nil {
		return err
	}
	if err := mpi.Barrier(node); err != nil {
		return err
	}
	if err := win.Sync(); err != nil {
		return err
	}
	if err := want("the C rank's element 0 after Sync", theirs[0], 7*(other+1)); err != nil {
		return err
	}
	if err := win.UnlockAll(); err != nil {
		return err
	}
	fmt.Println("go ok shared")
	return nil
}}}
