package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/goipc/ipc/internal/cli"
	"github.com/goipc/ipc/mpi"
)

// maxRMACount keeps the counter, count*S*(S+1)/2, far inside int64.
const maxRMACount = 1_000_000_000

var rmaCmd = func() *cobra.Command {
	var count int
	cmd := &cobra.Command{
		Use:   "rma",
		Short: "One-sided communication: a shared counter (Fetch_and_op) and a shared-memory window sum",
		Long: `Every rank adds rank+1 to a counter in rank 0's window --count times with
MPI_Fetch_and_op, under a shared lock; rank 0 prints "counter X", which is
count*S*(S+1)/2 for S ranks. Then the ranks of each node store their rank in
a window from MPI_Win_allocate_shared, and rank 0 of the node reads every
part directly from the shared memory and prints "shared sum Y".`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if count < 0 || count > maxRMACount {
				return cli.Usagef("--count must be between 0 and %d, not %d", maxRMACount, count)
			}
			return run(1, func(w *mpi.Comm) error {
				if err := counter(w, count); err != nil {
					return err
				}
				return sharedSum(w)
			})
		},
	}
	cmd.Flags().IntVar(&count, "count", 100, "additions per rank")
	return cmd
}()

// counter has every rank add rank+1 to one int64 in rank 0's window, count
// times, each addition fetching the counter as a ticket would.
func counter(w *mpi.Comm, count int) error {
	n := 0
	if w.Rank() == 0 {
		n = 1
	}
	win, mem, err := mpi.WinAllocate[int64](w, n, nil)
	if err != nil {
		return err
	}
	defer win.Free()
	if err := owned(win, w.Rank(), func() { clear(mem) }); err != nil {
		return err
	}
	if err := mpi.Barrier(w); err != nil {
		return err
	}
	if err := win.Lock(mpi.LockShared, 0); err != nil {
		return err
	}
	add, old := int64(w.Rank()+1), int64(0)
	for range count {
		if err := mpi.FetchAndOp(win, &add, &old, 0, 0, mpi.Sum); err != nil {
			return err
		}
		// old is now the counter before this addition; FlushAll, unlike
		// Flush(0), also lets the window unpin add and old.
		if err := win.FlushAll(); err != nil {
			return err
		}
	}
	if err := win.Unlock(0); err != nil {
		return err
	}
	if err := mpi.Barrier(w); err != nil {
		return err
	}
	if w.Rank() == 0 {
		var total int64
		if err := owned(win, 0, func() { total = mem[0] }); err != nil {
			return err
		}
		fmt.Fprintf(cli.Stdout, "counter %d\n", total)
	}
	return win.Free()
}

// owned runs f on this rank's window memory under an exclusive lock of its
// own window, the rule for local loads and stores in passive-target epochs.
func owned(win *mpi.Win, rank int, f func()) error {
	if err := win.Lock(mpi.LockExclusive, rank); err != nil {
		return err
	}
	f()
	return win.Unlock(rank)
}

// sharedSum has the ranks of each node store their World rank in a shared
// window; rank 0 of the node sums them with plain loads of the others' parts.
func sharedSum(w *mpi.Comm) error {
	node, err := w.SplitType(mpi.TypeShared, w.Rank())
	if err != nil {
		return err
	}
	defer node.Free()
	win, mine, err := mpi.WinAllocateShared[int64](node, 1, nil)
	if err != nil {
		return err
	}
	defer win.Free()
	if err := win.Fence(); err != nil {
		return err
	}
	mine[0] = int64(w.Rank())
	if err := win.Fence(); err != nil {
		return err
	}
	if node.Rank() == 0 {
		var sum int64
		for q := range node.Size() {
			part, err := mpi.SharedQuery[int64](win, q)
			if err != nil {
				return err
			}
			sum += part[0]
		}
		fmt.Fprintf(cli.Stdout, "shared sum %d\n", sum)
	}
	if err := win.Fence(); err != nil {
		return err
	}
	if err := win.Free(); err != nil {
		return err
	}
	return node.Free()
}
