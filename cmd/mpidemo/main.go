// Command mpidemo is a Go MPI program to run under mpiexec: by default the
// classic mpi4py example (rank 1 draws a random number and sends it to rank 0),
// plus a ring, a parallel computation of pi, osu_latency- and osu_bw-style
// benchmarks, records of a C struct sent as one struct datatype, and a 2-D
// heat stencil on a Cartesian grid. Any rank may be a C or Python program speaking the
// same protocol (csrc/mpi_*.c, csrc/mpi_*.py).
//
//	mpiexec -n 2 mpidemo
//	mpiexec -n 4 mpidemo ring
//	mpiexec -n 4 mpidemo pi [--intervals N]
//	mpiexec -n 2 mpidemo pingpong [--sizes 8,1KiB,1MiB] [--iters N]
//	mpiexec -n 2 mpidemo bw [--sizes ...] [--iters N] [--window N]
//	mpiexec -n 2 mpidemo types [--count N]
//	mpiexec -n 4 mpidemo stencil [--n N] [--steps S]
//	mpiexec -n 4 mpidemo rma [--count N]
//	mpiexec -n 4 mpidemo io write|read PATH [--count N]
//	mpiexec -n 1 mpidemo spawn [--children N]
package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/goipc/ipc/internal/cli"
	"github.com/goipc/ipc/mpi"
)

var rootCmd = &cobra.Command{
	Use:   "mpidemo",
	Short: "MPI from Go: the classic mpi4py example, a ring, pi, and latency and bandwidth benchmarks",
	Long: `mpidemo runs under mpiexec. Without a command it is the classic mpi4py example:
rank 1 draws a random number in [0,1) and sends it to rank 0 as one MPI_DOUBLE
with tag 0; ranks above 1 take no part. A C (csrc/mpi_classic.c) or Python
(csrc/mpi_classic.py) rank can take either role.

Sizes accept bytes or 4KiB, 1MiB. Errors go to stderr as "mpidemo: <reason>"
and exit 1; usage errors exit 2.`,
	Args: cobra.NoArgs,
	RunE: func(*cobra.Command, []string) error { return run(2, classic) },
}

func main() {
	helpInJob(rootCmd)
	cli.MainJob(rootCmd, func(error) int { return 1 }, joinJob)
}

// helpInJob makes the help of root's commands (--help, help CMD) behave in a
// job as a usage error does: said once, by rank 0 or by a rank of a program
// other than rank 0's, and never a hang. A rank that exited before MPI_Init
// left the ranks of the job's other programs waiting for it forever (both
// launchers). So in a job of several ranks the help ranks join it: if every
// rank turns out to be one (mpiexec -n 4 mpidemo --help), they finalize and
// the job exits 0; otherwise the help ranks' exit without MPI_Finalize ends
// the job (MPICH with status 0 or 9, Open MPI with 1, saying that a rank
// exited without finalizing). A help rank itself always exits 0.
func helpInJob(root *cobra.Command) {
	help := root.HelpFunc()
	root.SetHelpFunc(func(cmd *cobra.Command, args []string) {
		say, leave := joinForHelp()
		if say {
			help(cmd, args)
		}
		leave()
	})
}

// helpTag marks the help ranks' handshake: no other message of mpidemo or
// its C and Python peers has it.
const helpTag = 0x4d5048 // "MPH"

// helpPatience bounds how long rank 0 waits to learn that every rank is a
// help rank: they all leave MPI_Init together and say so at once, and a rank
// of another program never does.
const helpPatience = 3 * time.Second

// joinForHelp joins the job of a help rank where other ranks may wait for it,
// and says whether this rank prints the help and how it leaves the job then.
func joinForHelp() (say bool, leave func()) {
	if size, launched := jobSize(); !launched || size == 1 {
		return true, func() {} // nobody waits for this process
	}
	if joinJob() {
		// Another program is rank 0's, which cannot say what this one's
		// command line asks; this rank's exit ends the job.
		return true, func() {}
	}
	w := mpi.World()
	if w.Rank() != 0 {
		// Rank 0 runs this program too, so it prints the help. Exiting
		// first would end the job, maybe before it has: say so to rank
		// 0 and wait for its word to finalize, or for its exit.
		return false, func() {
			var word [1]byte
			if mpi.Send(w, word[:0], 0, helpTag) == nil {
				if _, err := mpi.Recv(w, word[:], 0, helpTag); err == nil {
					mpi.Finalize()
				}
			}
		}
	}
	return true, func() {
		ctx, cancel := context.WithTimeout(context.Background(), helpPatience)
		defer cancel()
		for range w.Size() - 1 {
			if _, err := mpi.RecvContext(ctx, w, []byte{}, mpi.AnySource, helpTag); err != nil {
				return // a rank of another program: end the job
			}
		}
		for r := 1; r < w.Size(); r++ {
			if mpi.Send(w, []byte{1}, r, helpTag) != nil {
				return
			}
		}
		mpi.Finalize()
	}
}

// jobSize returns the number of ranks of this process's job as mpiexec tells
// it before MPI_Init (0 if it does not), and whether a launcher started it.
func jobSize() (size int, launched bool) {
	for _, v := range []string{"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"} {
		if s, ok := os.LookupEnv(v); ok {
			n, _ := strconv.Atoi(s)
			return n, true
		}
	}
	_, launched = os.LookupEnv("PMIX_RANK")
	return 0, launched
}

// joinJob joins the job of a rank whose command line is wrong, so that its
// end ends the job (cli.MainJob), and says whether the rank runs a program
// other than rank 0's: Go, C or Python ranks of another command line, which
// cannot say what is wrong with this one.
func joinJob() (other bool) {
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		return true
	}
	return otherProgram()
}

// otherProgram says whether this rank runs a program other than rank 0's
// (MPI_APPNUM), or cannot tell.
func otherProgram() bool {
	app, ok, err := mpi.World().Attr(mpi.AttrAppNum)
	return err != nil || !ok || app != 0
}

// run initialises MPI, checks that the job has at least minRanks ranks, runs
// body on World, and finalizes. Init locks this goroutine to its thread: all
// of mpidemo's MPI calls come from it.
func run(minRanks int, body func(w *mpi.Comm) error) error {
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		return err
	}
	w := mpi.World()
	if w.Size() < minRanks {
		mpi.Finalize()
		return fmt.Errorf("needs at least %d ranks, the job has %d (run it as: mpiexec -n %d mpidemo ...)", minRanks, w.Size(), minRanks)
	}
	if err := body(w); err != nil {
		// A call the library lacks fails alike on every rank, and a verdict
		// is known to every rank: all of them end by themselves, since Hydra
		// may lose what an aborting rank printed.
		if errors.Is(err, mpi.ErrNotSupported) {
			// Said once, as a usage error is: by rank 0, or by a rank
			// of another program, which may have failed otherwise.
			say := w.Rank() == 0 || otherProgram()
			mpi.Finalize()
			if !say {
				os.Exit(1)
			}
			return err
		}
		var v verdict
		if errors.As(err, &v) {
			mpi.Finalize()
			return fmt.Errorf("rank %d: %w", w.Rank(), v.error)
		}
		// Peers may be blocked waiting for this rank: end the whole job.
		fmt.Fprintf(os.Stderr, "mpidemo: rank %d: %v\n", w.Rank(), err)
		mpi.Abort(w, 1)
	}
	return mpi.Finalize()
}

// verdict is a failure that the job has agreed on: every rank reaches
// Finalize, with nobody left waiting for the rank that says it, so the job
// ends without MPI_Abort.
type verdict struct{ error }

// pyFloat formats x as Python's repr does, so that Go, C and Python ranks print
// the same number the same way.
func pyFloat(x float64) string {
	s := strconv.FormatFloat(x, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eIN") {
		s += ".0"
	}
	return s
}

// classic is the mpi4py walk-through's example.
func classic(w *mpi.Comm) error {
	buf := []float64{0}
	switch w.Rank() {
	case 0:
		fmt.Fprintf(cli.Stdout, "Process 0 before receiving has the number %s\n", pyFloat(buf[0]))
		if _, err := mpi.Recv(w, buf, 1, 0); err != nil {
			return err
		}
		fmt.Fprintf(cli.Stdout, "Process 0 received the number %s\n", pyFloat(buf[0]))
	case 1:
		buf[0] = rand.Float64()
		fmt.Fprintf(cli.Stdout, "Process 1 drew the number %s\n", pyFloat(buf[0]))
		return mpi.Send(w, buf, 0, 0)
	}
	return nil
}

func init() {
	rootCmd.AddCommand(&cobra.Command{
		Use:   "ring",
		Short: "Pass a token around every rank: each adds its rank and passes it on",
		Args:  cobra.NoArgs,
		RunE:  func(*cobra.Command, []string) error { return run(2, ring) },
	})
	var intervals int
	piCmd := &cobra.Command{
		Use:   "pi",
		Short: "Compute pi by the midpoint rule, the intervals shared out and summed with Allreduce",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if intervals < 1 {
				return cli.Usagef("--intervals must be at least 1, not %d", intervals)
			}
			return run(1, func(w *mpi.Comm) error { return pi(w, intervals) })
		},
	}
	piCmd.Flags().IntVar(&intervals, "intervals", 10_000_000, "number of intervals")
	rootCmd.AddCommand(piCmd)
	rootCmd.AddCommand(hostsCmd)
	rootCmd.AddCommand(rmaCmd)
	rootCmd.AddCommand(ioCmd)
	rootCmd.AddCommand(spawnCmd)
}

// ring sends a token from rank 0 through every rank and back to 0.
func ring(w *mpi.Comm) error {
	r, n := w.Rank(), w.Size()
	next, prev := (r+1)%n, (r+n-1)%n
	token := []int{0}
	if r != 0 {
		if _, err := mpi.Recv(w, token, prev, 0); err != nil {
			return err
		}
		fmt.Fprintf(cli.Stdout, "Process %d received token %d from process %d\n", r, token[0], prev)
	}
	token[0] += r
	if err := mpi.Send(w, token, next, 0); err != nil {
		return err
	}
	if r == 0 {
		if _, err := mpi.Recv(w, token, prev, 0); err != nil {
			return err
		}
		fmt.Fprintf(cli.Stdout, "Process 0 received token %d from process %d: the sum of all ranks\n", token[0], prev)
	}
	return nil
}

// pi integrates 4/(1+x²) over [0,1]; rank r takes every Size-th interval.
func pi(w *mpi.Comm, intervals int) error {
	start := mpi.Wtime()
	h := 1 / float64(intervals)
	sum := 0.0
	for i := w.Rank(); i < intervals; i += w.Size() {
		x := h * (float64(i) + 0.5)
		sum += 4 / (1 + x*x)
	}
	total := []float64{0}
	if err := mpi.Allreduce(w, []float64{sum * h}, total, mpi.Sum); err != nil {
		return err
	}
	if w.Rank() == 0 {
		fmt.Fprintf(cli.Stdout, "pi is approximately %.16f, error %.16f (%d intervals, %d ranks, %v)\n",
			total[0], math.Abs(total[0]-math.Pi), intervals, w.Size(), mpi.Wtime()-start)
	}
	return nil
}
