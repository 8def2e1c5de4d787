package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/goipc/ipc/internal/cli"
	"github.com/goipc/ipc/mpi"
)

// hostsCmd shows where the job's ranks landed: the first thing to run on a
// new cluster or hostfile.
var hostsCmd = &cobra.Command{
	Use:   "hosts",
	Short: "Print where every rank runs: rank R of S on HOST pid P, in rank order, from rank 0",
	Args:  cobra.NoArgs,
	RunE:  func(*cobra.Command, []string) error { return run(1, hosts) },
}

// nameLen holds any processor name: MPI_MAX_PROCESSOR_NAME is 256 in Open
// MPI and 128 in MPICH.
const nameLen = 256

// hosts gathers every rank's processor name and pid at rank 0, which prints
// them.
func hosts(w *mpi.Comm) error {
	name, err := mpi.ProcessorName()
	if err != nil {
		return err
	}
	own := make([]byte, nameLen)
	copy(own, name)
	var names []byte
	var pids []int64
	if w.Rank() == 0 {
		names, pids = make([]byte, nameLen*w.Size()), make([]int64, w.Size())
	}
	if err := mpi.Gather(w, own, names, 0); err != nil {
		return err
	}
	if err := mpi.Gather(w, []int64{int64(os.Getpid())}, pids, 0); err != nil {
		return err
	}
	for r, pid := range pids {
		host, _, _ := bytes.Cut(names[r*nameLen:(r+1)*nameLen], []byte{0})
		fmt.Fprintf(cli.Stdout, "rank %d of %d on %s pid %d\n", r, w.Size(), host, pid)
	}
	return nil
}
