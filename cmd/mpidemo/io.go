package main

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"

	"github.com/spf13/cobra"

	"github.com/goipc/ipc/internal/cli"
	"github.com/goipc/ipc/mpi"
)

// maxIOCount bounds a rank's block to 1GiB, as --sizes bounds a message:
// the largest MPI count, 16GiB of float64 per rank, was more memory than a
// machine gives every rank, and Go cannot recover from running out.
const maxIOCount = 1 << 30 / 8

var ioCmd = func() *cobra.Command {
	var count int
	cmd := &cobra.Command{
		Use:   "io",
		Short: "Parallel I/O: a collective write and read of a global array in one file",
		Long: `Rank r owns elements r*N .. r*N+N-1 of a global array of float64, element g
holding float64(g), stored in native byte order in the one file PATH of
size*N*8 bytes: numpy.fromfile(PATH) reads it. Each rank's view of the file
is its block (a subarray datatype), written or read collectively
(MPI_File_write_all, MPI_File_read_all).`,
	}
	check := func(path string, read bool) error {
		if count < 1 || count > maxIOCount {
			return cli.Usagef("--count must be between 1 and %d, not %d", maxIOCount, count)
		}
		fi, err := os.Stat(path)
		// MPI-IO opens a FIFO and waits, under MPICH also to write, for a
		// peer that never comes; a directory it names only vaguely.
		if err == nil && !fi.Mode().IsRegular() {
			return fmt.Errorf("%s: not a regular file (it is a %s): mpidemo io reads and writes regular files", path, cli.FileKind(fi.Mode()))
		}
		// Every rank fails to open a missing file, and aborts: Hydra then
		// often lost every rank's message, and the job ended without a word.
		if read && errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: %w", path, fs.ErrNotExist)
		}
		return nil
	}
	cmd.PersistentFlags().IntVar(&count, "count", 1024, "elements per rank")
	cmd.AddCommand(&cobra.Command{
		Use:   "write PATH",
		Short: "Write the global array into PATH, which becomes size*N*8 bytes long",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if err := check(args[0], false); err != nil {
				return err
			}
			return run(1, func(w *mpi.Comm) error { return writeArray(w, args[0], count) })
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "read PATH",
		Short: `Read the global array from PATH and check every value: "ok K values", or the first wrong element`,
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if err := check(args[0], true); err != nil {
				return err
			}
			return run(1, func(w *mpi.Comm) error { return readArray(w, args[0], count) })
		},
	})
	return cmd
}()

// openBlock opens path on every rank of w with a view of this rank's block
// of n float64.
func openBlock(w *mpi.Comm, path string, mode mpi.AccessMode, n int) (*mpi.File, error) {
	f, err := mpi.Open(w, path, mode, nil)
	if err != nil {
		return nil, err
	}
	f64, err := mpi.TypeOf[float64]()
	if err != nil {
		f.Close()
		return nil, err
	}
	block, err := mpi.Subarray([]int{w.Size() * n}, []int{n}, []int{w.Rank() * n}, mpi.OrderC, f64)
	if err == nil {
		err = block.Commit()
	}
	if err == nil {
		err = f.SetView(0, f64, block, mpi.Native, nil)
	}
	block.Free()
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// writeArray writes this rank's block, after cutting the file to its size.
func writeArray(w *mpi.Comm, path string, n int) error {
	f, err := openBlock(w, path, mpi.ModeCreate|mpi.ModeWriteOnly, n)
	if err != nil {
		return err
	}
	if err := f.SetSize(int64(w.Size()) * int64(n) * 8); err != nil {
		f.Close()
		return err
	}
	buf := make([]float64, n)
	for i := range buf {
		buf[i] = float64(w.Rank()*n + i)
	}
	if _, err := mpi.WriteAll(f, buf); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// readArray reads this rank's block and checks it: the rank that holds the first
// wrong element of the whole array reports it, rank 0 that all are right.
func readArray(w *mpi.Comm, path string, n int) error {
	f, err := openBlock(w, path, mpi.ModeReadOnly, n)
	if err != nil {
		return err
	}
	size, err := f.Size()
	if err != nil {
		f.Close()
		return err
	}
	buf := make([]float64, n)
	got, err := mpi.ReadAll(f, buf)
	if err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	// A collective read may report the count asked for even at the end of
	// the file, so the file's size says which elements it holds.
	first := n
	for i := range buf {
		g := w.Rank()*n + i
		if i >= got || int64(g+1)*8 > size || buf[i] != float64(g) {
			first = i
			break
		}
	}
	bad := []int64{int64(w.Rank()*n + first)}
	if first == n {
		bad[0] = math.MaxInt64
	}
	worst := []int64{0}
	if err := mpi.Allreduce(w, bad, worst, mpi.Min); err != nil {
		return err
	}
	total := int64(w.Size()) * int64(n)
	switch g := worst[0]; {
	case g == math.MaxInt64 && size == total*8:
		if w.Rank() == 0 {
			fmt.Fprintf(cli.Stdout, "ok %d values\n", total)
		}
		return nil
	case g == math.MaxInt64:
		return rankZero(w, fmt.Errorf("%s: %d bytes, want %d (%d ranks of %d values)", path, size, total*8, w.Size(), n))
	case w.Rank() == int(g)/n:
		i := int(g) % n
		if int64(g+1)*8 > size {
			return verdict{fmt.Errorf("%s: element %d is missing (the file has %d bytes, want %d)", path, g, size, total*8)}
		}
		return verdict{fmt.Errorf("%s: element %d is %s, want %s", path, g, pyFloat(buf[i]), pyFloat(float64(g)))}
	}
	return nil
}

// rankZero returns err on rank 0 only, so that it is said once, as a
// verdict: every rank got to this point.
func rankZero(w *mpi.Comm, err error) error {
	if w.Rank() == 0 {
		return verdict{err}
	}
	return nil
}
