package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/goipc/ipc/internal/cli"
	"github.com/goipc/ipc/mpi"
)

// maxChildren bounds --children to what one machine can start.
const maxChildren = 1024

var spawnCmd = func() *cobra.Command {
	var children int
	cmd := &cobra.Command{
		Use:   "spawn",
		Short: "Dynamic processes: the job spawns more copies of itself and merges with them",
		Long: `The job starts --children more copies of mpidemo with MPI_Comm_spawn (they run
"mpidemo spawn" too, and know themselves by MPI_Comm_get_parent); parents and
children merge their intercommunicator into one intracommunicator
(MPI_Intercomm_merge, parents first), whose rank 0 prints "spawned N, merged
size M". Under Open MPI the children may oversubscribe the machine (Info
map_by ":OVERSUBSCRIBE"), as the parents may with --oversubscribe; MPICH 4.0's
ch4:ucx device has no dynamic processes and fails with its reason.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if children < 1 || children > maxChildren {
				return cli.Usagef("--children must be between 1 and %d, not %d", maxChildren, children)
			}
			return run(1, func(w *mpi.Comm) error { return spawnDemo(w, children) })
		},
	}
	cmd.Flags().IntVar(&children, "children", 2, "number of processes to spawn")
	return cmd
}()

// spawnDemo is both sides: the job mpiexec started spawns the children,
// which run it again and find their parents.
func spawnDemo(w *mpi.Comm, children int) error {
	parent, err := mpi.CommGetParent()
	if err != nil {
		return err
	}
	if parent != nil {
		return mergeAndLeave(parent, true, 0)
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	info, err := mpi.NewInfo()
	if err != nil {
		return err
	}
	defer info.Free()
	// Open MPI 4.1 waits forever for slots when the children do not fit
	// on the machine's cores, whatever the parents' --oversubscribe says;
	// MPICH ignores the key.
	if err := info.Set("map_by", ":OVERSUBSCRIBE"); err != nil {
		return err
	}
	inter, errs, err := mpi.CommSpawn(exe, []string{"spawn", "--children", strconv.Itoa(children)}, children, info, 0, w)
	if err != nil {
		return err
	}
	for i, e := range errs {
		if e != nil {
			return fmt.Errorf("child %d: %w", i, e)
		}
	}
	return mergeAndLeave(inter, false, inter.RemoteSize())
}

// mergeAndLeave merges the intercommunicator, prints the line at the merged
// rank 0 (a parent), and disconnects, so that parents and children end
// independently.
func mergeAndLeave(inter *mpi.Comm, high bool, children int) error {
	merged, err := inter.IntercommMerge(high)
	if err != nil {
		return err
	}
	if merged.Rank() == 0 {
		fmt.Fprintf(cli.Stdout, "spawned %d, merged size %d\n", children, merged.Size())
	}
	if err := merged.Free(); err != nil {
		return err
	}
	return inter.Disconnect()
}
