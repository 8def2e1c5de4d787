package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/goipc/ipc/internal/cli"
	"github.com/goipc/ipc/mpi"
)

// maxStencilN bounds the grid that rank 0 gathers to 1GiB, as --sizes bounds
// a message: a grid too large for memory ended the rank with the Go
// runtime's "out of memory" and its stack trace.
const maxStencilN = 11585 // 11585² float64 fit in 1GiB

func init() {
	var n, steps int
	cmd := &cobra.Command{
		Use:   "stencil",
		Short: "Jacobi iterations of the 2-D heat equation on a Cartesian grid of all ranks, with halo exchange",
		Long: `Solves the 2-D heat equation on an N x N grid by Jacobi iteration, the grid
split in blocks over a Cartesian communicator of all ranks (MPI_Dims_create).
Initially u = 1 on row 0 and 0 elsewhere; the boundary rows and columns stay
fixed, and each step sets every interior point to the mean of its four
neighbours from the previous step. The ranks exchange their edge rows and
columns (a column is a vector datatype) with their grid neighbours; at the
grid's edges CartShift gives MPI_PROC_NULL, which makes the exchange a no-op.
Rank 0 gathers the blocks (subarray datatypes) and prints "checksum %.12e",
the sum of all N*N values, which is the same for any number of ranks.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if n < 1 || n > maxStencilN || steps < 0 {
				return cli.Usagef("--n must be between 1 and %d (a grid of at most 1GiB) and --steps not negative (have %d, %d)", maxStencilN, n, steps)
			}
			return run(1, func(w *mpi.Comm) error { return stencil(w, n, steps) })
		},
	}
	cmd.Flags().IntVar(&n, "n", 64, "grid points per side")
	cmd.Flags().IntVar(&steps, "steps", 100, "Jacobi iterations")
	rootCmd.AddCommand(cmd)
}

// span returns the part of 0..n that block c of parts holds: the first n%parts
// blocks have one point more.
func span(n, parts, c int) (start, size int) {
	size = n / parts
	start = c*size + min(c, n%parts)
	if c < n%parts {
		size++
	}
	return start, size
}

// block is one rank's part of the grid: rows r0..r0+rows and columns
// c0..c0+cols, stored with a halo of one point on each side.
type block struct {
	n, r0, c0, rows, cols int
}

func (b block) stride() int     { return b.cols + 2 }
func (b block) at(i, j int) int { return i*b.stride() + j } // local (i, j), the halo at 0 and cols+1

func newBlock(g *mpi.Comm, dims []int, n, rank int) (block, error) {
	coords, err := g.CartCoords(rank)
	if err != nil {
		return block{}, err
	}
	r0, rows := span(n, dims[0], coords[0])
	c0, cols := span(n, dims[1], coords[1])
	return block{n: n, r0: r0, c0: c0, rows: rows, cols: cols}, nil
}

// halo holds the four exchanges of one array: what to send each way and
// where to receive from the other.
type halo struct{ sendUp, recvDown, sendDown, recvUp, sendLeft, recvRight, sendRight, recvLeft mpi.Buf }

func newHalo(u []float64, b block, row, col *mpi.Datatype) (h halo, err error) {
	bufs := []struct {
		dst     *mpi.Buf
		i, j    int
		rowType bool
	}{
		{&h.sendUp, 1, 1, true}, {&h.recvDown, b.rows + 1, 1, true},
		{&h.sendDown, b.rows, 1, true}, {&h.recvUp, 0, 1, true},
		{&h.sendLeft, 1, 1, false}, {&h.recvRight, 1, b.cols + 1, false},
		{&h.sendRight, 1, b.cols, false}, {&h.recvLeft, 1, 0, false},
	}
	for _, x := range bufs {
		dt := col
		if x.rowType {
			dt = row
		}
		if *x.dst, err = mpi.BufOf(u[b.at(x.i, x.j):], 1, dt); err != nil {
			return h, err
		}
	}
	return h, nil
}

func (h halo) exchange(g *mpi.Comm, up, down, left, right int) error {
	for _, x := range []struct {
		send       mpi.Buf
		to         int
		recv       mpi.Buf
		from, tags int
	}{
		{h.sendUp, up, h.recvDown, down, 1}, {h.sendDown, down, h.recvUp, up, 2},
		{h.sendLeft, left, h.recvRight, right, 3}, {h.sendRight, right, h.recvLeft, left, 4},
	} {
		if _, err := mpi.SendrecvBuf(g, x.send, x.to, x.tags, x.recv, x.from, x.tags); err != nil {
			return err
		}
	}
	return nil
}

func committed(dt *mpi.Datatype, err error) (*mpi.Datatype, error) {
	if err != nil {
		return nil, err
	}
	return dt, dt.Commit()
}

func stencil(w *mpi.Comm, n, steps int) error {
	dims, err := mpi.DimsCreate(w.Size(), []int{0, 0})
	if err != nil {
		return err
	}
	if dims[0] > n || dims[1] > n { // every rank knows: no MPI_Abort
		return rankZero(w, fmt.Errorf("a grid of %d points a side cannot be split %d x %d (give a larger --n, or fewer ranks)", n, dims[0], dims[1]))
	}
	g, err := w.CartCreate(dims, []bool{false, false}, true)
	if err != nil {
		return err
	}
	defer g.Free()
	b, err := newBlock(g, dims, n, g.Rank())
	if err != nil {
		return err
	}
	f64, err := mpi.TypeOf[float64]()
	if err != nil {
		return err
	}
	row, err := committed(mpi.Contiguous(b.cols, f64))
	if err != nil {
		return err
	}
	defer row.Free()
	col, err := committed(mpi.Vector(b.rows, 1, b.stride(), f64))
	if err != nil {
		return err
	}
	defer col.Free()

	u, next := make([]float64, (b.rows+2)*b.stride()), make([]float64, (b.rows+2)*b.stride())
	for j := 0; j < b.stride(); j++ {
		if b.r0 == 0 {
			u[b.at(1, j)], next[b.at(1, j)] = 1, 1
		}
	}
	hu, err := newHalo(u, b, row, col)
	if err != nil {
		return err
	}
	hn, err := newHalo(next, b, row, col)
	if err != nil {
		return err
	}
	up, down, err := g.CartShift(0, 1)
	if err != nil {
		return err
	}
	left, right, err := g.CartShift(1, 1)
	if err != nil {
		return err
	}
	for range steps {
		if err := hu.exchange(g, up, down, left, right); err != nil {
			return err
		}
		for i := 1; i <= b.rows; i++ {
			gi := b.r0 + i - 1
			if gi == 0 || gi == n-1 {
				continue
			}
			for j := 1; j <= b.cols; j++ {
				if gj := b.c0 + j - 1; gj == 0 || gj == n-1 {
					continue
				}
				next[b.at(i, j)] = (u[b.at(i-1, j)] + u[b.at(i+1, j)] + u[b.at(i, j-1)] + u[b.at(i, j+1)]) / 4
			}
		}
		u, next, hu, hn = next, u, hn, hu
	}
	return checksum(g, dims, b, u, f64)
}

// checksum gathers every block into rank 0's N x N grid, each through a
// subarray datatype on both sides, and sums it in row-major order, so that
// the sum is the same whatever the blocks.
func checksum(g *mpi.Comm, dims []int, b block, u []float64, f64 *mpi.Datatype) error {
	inner, err := committed(mpi.Subarray([]int{b.rows + 2, b.stride()}, []int{b.rows, b.cols}, []int{1, 1}, mpi.OrderC, f64))
	if err != nil {
		return err
	}
	defer inner.Free()
	mine, err := mpi.BufOf(u, 1, inner)
	if err != nil {
		return err
	}
	req, err := mpi.IsendBuf(g, mine, 0, 9)
	if err != nil {
		return err
	}
	if g.Rank() == 0 {
		all := make([]float64, b.n*b.n)
		for r := range g.Size() {
			rb, err := newBlock(g, dims, b.n, r)
			if err != nil {
				return err
			}
			sub, err := committed(mpi.Subarray([]int{b.n, b.n}, []int{rb.rows, rb.cols}, []int{rb.r0, rb.c0}, mpi.OrderC, f64))
			if err != nil {
				return err
			}
			dst, err := mpi.BufOf(all, 1, sub)
			if err == nil {
				_, err = mpi.RecvBuf(g, dst, r, 9)
			}
			sub.Free()
			if err != nil {
				return err
			}
		}
		sum := 0.0
		for _, x := range all {
			sum += x
		}
		fmt.Fprintf(cli.Stdout, "checksum %.12e\n", sum)
	}
	_, err = req.Wait()
	return err
}
