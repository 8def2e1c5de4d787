package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/goipc/ipc/internal/cli"
	"github.com/goipc/ipc/internal/sched"
	"github.com/goipc/ipc/mpi"
)

// The benchmarks follow the OSU micro-benchmarks, and csrc/mpi_bench.c does
// exactly the same in C, with the same flags and output, so that either can
// be run alone or paired with the other (MPMD).

// sizesValue is a comma-separated list of message sizes: 8,4KiB,1MiB.
type sizesValue []int

func (s *sizesValue) Type() string { return "sizes" }
func (s *sizesValue) String() string {
	var parts []string
	for _, n := range *s {
		parts = append(parts, strconv.Itoa(n))
	}
	return strings.Join(parts, ",")
}

func (s *sizesValue) Set(v string) error {
	var out sizesValue
	for _, f := range strings.Split(v, ",") {
		n, err := cli.ParseSize(f)
		if err != nil || n > 1<<30 {
			return fmt.Errorf("invalid size %q (want bytes, or a number with KiB or MiB, up to 1GiB)", f)
		}
		out = append(out, int(n))
	}
	*s = out
	return nil
}

// iterations scales the count down for messages above 64KiB, as OSU does.
func iterations(iters, size int) int {
	if size > 64<<10 {
		return max(iters/10, 10)
	}
	return iters
}

type benchFlags struct {
	sizes         sizesValue
	iters, window int
	// samples: rank 0 prints every timed round trip (pingpong) or window
	// (bw) as "SIZE NS" instead of the table's average, for `ipc bench`.
	samples bool
	// persistent: bw sets the window up once per size as persistent
	// requests and starts and completes each window in one call each.
	persistent bool
}

func benchCommand(use, short string, defIters int, body func(w *mpi.Comm, f *benchFlags) error) *cobra.Command {
	f := &benchFlags{sizes: sizesValue{8, 64, 512, 4 << 10, 32 << 10, 256 << 10, 1 << 20}}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long: short + `.

It runs at MPI_THREAD_FUNNELED, as its C twin csrc/mpi_bench.c does: above
MPI_THREAD_SINGLE Open MPI locks inside every call. Each MPI call from Go
costs about 30ns more than from C (BenchmarkProcNull in package mpi). A rank
that only calls into C never passes through the Go scheduler, which from 10ms
on answers by taking the rank's processor at every look unless the goroutine
yields now and then; package mpi yields every 2ms. For 20ms after MPI_Init
the scheduler still looks every 20µs or so, so the ranks call MPI on their
own for that long before the first message (see "Performance" in package
mpi's documentation).`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			// Bounds keep warm-up plus iterations within an int and the
			// window within what an MPI library has requests for.
			const maxIters, maxWindow = 1_000_000_000, 1 << 16
			if f.iters < 1 || f.window < 1 || f.iters > maxIters || f.window > maxWindow {
				return cli.Usagef("--iters must be 1 to %d and --window 1 to %d (have %d, %d)", maxIters, maxWindow, f.iters, f.window)
			}
			return run(2, func(w *mpi.Comm) error {
				if err := settle(w); err != nil {
					return err
				}
				return body(w, f)
			})
		},
	}
	cmd.Flags().Var(&f.sizes, "sizes", "message sizes, comma-separated")
	cmd.Flags().IntVar(&f.iters, "iters", defIters, "iterations per size (a tenth above 64KiB)")
	cmd.Flags().BoolVar(&f.samples, "samples", false, `rank 0 prints each timed iteration as "SIZE NS" (monotonic clock) instead of the average`)
	if use == "bw" {
		cmd.Flags().IntVar(&f.window, "window", 64, "messages in flight per iteration")
		cmd.Flags().BoolVar(&f.persistent, "persistent", false, "persistent requests (MPI_Send_init/MPI_Recv_init), a window started with MPI_Startall, instead of an MPI_Isend/MPI_Irecv per message")
	} else {
		f.window = 1
	}
	return cmd
}

func init() {
	rootCmd.AddCommand(
		benchCommand("pingpong", "One-way latency between ranks 0 and 1, osu_latency style", 10000, pingpong),
		benchCommand("bw", "Bandwidth from rank 0 to rank 1 with a window of messages in flight, osu_bw style", 100, bandwidth),
	)
}

// settle calls MPI on its own for sched.SettleTime before the first message,
// so that the Go runtime's sysmon has backed off from its start-up looks,
// which C ranks do not have, before anything is timed: in a 20,000-trip
// 8-byte ping-pong it cut the times the rank's main thread was switched out
// from 40-183 to 14-116 (mpi's doc, "Performance"). The peer, Go, C or
// Python, only waits a little longer for the first message.
func settle(w *mpi.Comm) error {
	for start := time.Now(); time.Since(start) < sched.SettleTime; {
		if err := mpi.Send(w, []byte(nil), mpi.ProcNull, 0); err != nil {
			return err
		}
	}
	return nil
}

// pingpong: rank 0 sends, rank 1 echoes; latency is half the round trip.
func pingpong(w *mpi.Comm, f *benchFlags) error {
	r := w.Rank()
	if r == 0 {
		fmt.Fprintf(cli.Stdout, "# mpidemo pingpong: Go, %s\n# %-10s %14s\n", mpi.Implementation, "size (B)", "latency (us)")
	}
	if r > 1 {
		return nil
	}
	buf := make([]byte, f.sizes.max())
	for _, size := range f.sizes {
		msg := buf[:size]
		n := iterations(f.iters, size)
		var start float64
		var t time.Time
		for i := range n + n/10 { // the first tenth warms up
			if i == n/10 {
				start = seconds()
			}
			if f.samples && r == 0 && i >= n/10 {
				t = time.Now()
			}
			if r == 0 {
				if err := mpi.Send(w, msg, 1, 1); err != nil {
					return err
				}
				if _, err := mpi.Recv(w, msg, 1, 1); err != nil {
					return err
				}
				if f.samples && i >= n/10 {
					fmt.Fprintf(cli.Stdout, "%d %d\n", size, time.Since(t).Nanoseconds())
				}
			} else {
				if _, err := mpi.Recv(w, msg, 0, 1); err != nil {
					return err
				}
				if err := mpi.Send(w, msg, 0, 1); err != nil {
					return err
				}
			}
		}
		if r == 0 && !f.samples {
			fmt.Fprintf(cli.Stdout, "%-12d %14.2f\n", size, (seconds()-start)*1e6/float64(2*n))
		}
	}
	return nil
}

// bandwidth: rank 0 keeps window messages in flight, rank 1 acknowledges each
// window with a 4-byte message.
func bandwidth(w *mpi.Comm, f *benchFlags) error {
	r := w.Rank()
	if r == 0 {
		how := ""
		if f.persistent {
			how = ", persistent"
		}
		fmt.Fprintf(cli.Stdout, "# mpidemo bw: Go, %s, window %d%s\n# %-10s %14s\n", mpi.Implementation, f.window, how, "size (B)", "bandwidth (MB/s)")
	}
	if r > 1 {
		return nil
	}
	buf := make([]byte, f.sizes.max())
	ack := make([]byte, 4)
	var reqs mpi.Requests // reused: a window allocates nothing and pins buf once
	for _, size := range f.sizes {
		msg := buf[:size]
		run, free, err := windowCalls(w, msg, f.window, f.persistent, &reqs)
		if err != nil {
			return err
		}
		n := iterations(f.iters, size)
		var start float64
		var t time.Time
		for i := range n + n/10 {
			if i == n/10 {
				start = seconds()
			}
			if f.samples && r == 0 && i >= n/10 {
				t = time.Now()
			}
			if err := run(); err != nil {
				return err
			}
			if r == 0 {
				_, err = mpi.Recv(w, ack, 1, 101)
			} else {
				err = mpi.Send(w, ack, 0, 101)
			}
			if err != nil {
				return err
			}
			if f.samples && r == 0 && i >= n/10 {
				fmt.Fprintf(cli.Stdout, "%d %d\n", size, time.Since(t).Nanoseconds())
			}
		}
		if r == 0 && !f.samples {
			fmt.Fprintf(cli.Stdout, "%-12d %14.2f\n", size, float64(size)*float64(f.window)*float64(n)/(seconds()-start)/1e6)
		}
		if err := free(); err != nil {
			return err
		}
	}
	return nil
}

// windowCalls returns the call that moves one window of n messages msg from
// rank 0 to rank 1, and the one that releases what it set up. By default
// each message is an MPI_Isend or MPI_Irecv started in reqs, a reused
// Requests set, and the window ends with one MPI_Waitall; persistent sets
// the window up once as a Persistents set, which starts it with one
// MPI_Startall.
func windowCalls(w *mpi.Comm, msg []byte, n int, persistent bool, reqs *mpi.Requests) (run, free func() error, err error) {
	sender := w.Rank() == 0
	if !persistent {
		return func() error {
			for range n {
				var err error
				if sender {
					err = mpi.AddIsend(reqs, w, msg, 1, 100)
				} else {
					err = mpi.AddIrecv(reqs, w, msg, 0, 100)
				}
				if err != nil {
					return err
				}
			}
			return reqs.WaitAll()
		}, func() error { return nil }, nil
	}
	ps := new(mpi.Persistents)
	for range n {
		if sender {
			err = mpi.AddSendInit(ps, w, msg, 1, 100)
		} else {
			err = mpi.AddRecvInit(ps, w, msg, 0, 100)
		}
		if err != nil {
			return nil, nil, errors.Join(err, ps.Free())
		}
	}
	return func() error {
		if err := ps.StartAll(); err != nil {
			return err
		}
		return ps.WaitAll()
	}, ps.Free, nil
}

func (s sizesValue) max() int {
	m := 0
	for _, n := range s {
		m = max(m, n)
	}
	return m
}

// seconds is MPI_Wtime in seconds, the clock the C baselines use.
func seconds() float64 { return mpi.Wtime().Seconds() }
