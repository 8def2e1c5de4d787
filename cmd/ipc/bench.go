package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/goipc/ipc/cmd/ipc/internal/bench"
	"github.com/goipc/ipc/internal/cli"
)

// benchFlags are `ipc bench`'s flags.
type benchFlags struct {
	mode, placement, peers, sizes string
	count, rounds                 int
	seed                          uint64
	quick, asJSON                 bool
	chart, jsonFile               string
	binDir, csrcDir               string
}

func init() { rootCmd.AddCommand(benchCommand()) }

func benchCommand() *cobra.Command {
	f := &benchFlags{}
	cmd := &cobra.Command{
		Use:   "bench [MECH...]",
		Short: "Measure every mechanism's latency and throughput, Go against Go, C and Python peers",
		Long: `bench measures each mechanism (all of them by default: ` + strings.Join(bench.Names(), ", ") + `)
between this process, in Go, and a peer process in Go, in C (csrc/bench_peer.c)
and, where Python has a library for it, in Python (csrc/bench_peer.py); MPI runs
mpidemo's rank 0 against an mpidemo, csrc/mpi_bench.c or mpi4py rank 1 through
mpiexec, when it is installed.

latency mode times ping-pong round trips; throughput mode streams messages that
the receiver acknowledges every few (each one, for a single slot such as shared
memory or a file), and its percentiles are per message. Every figure is taken
by the initiator alone on the monotonic clock, after a warm-up, in --rounds
rounds that take the peers in turn, so that each meets the same machine state;
SPREAD is how far the rounds' p50 lie apart. CPU/MSG is the CPU time of both
processes per timed message. Placement same binds both processes to one CPU,
cross to two (sched_setaffinity). GO/C and GO/PY divide the Go peer's p50 and
p99 by the C and the Python peer's.

Messages carry --sizes bytes, up to each mechanism's limit (posix-mq and
sysv-msg: the kernel's message size limit; ring: 16MiB, its rings being sized
for the message); the doorbells (signal, posix-sem, sysv-sem, eventfd) carry
none and run at size 0. The default sizes give way to a
mechanism's limit; a --sizes above the limit of a mechanism named on the
command line is a usage error, and when every mechanism runs such a row is
skipped with the reason. MPI needs Open MPI (mpiexec.openmpi) and the programs
that make build puts beside ipc; without them its rows say why they were
skipped.

A progress bar shows on a terminal. Ctrl-C stops at once, prints what was
measured and removes every object the run created.`,
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return bench.Names(), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, mechs []string) error { return runBench(cmd, mechs, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.mode, "mode", "latency", "latency, throughput or both")
	fl.StringVar(&f.sizes, "sizes", "64,4KiB,64KiB", "message sizes, comma-separated (--quick: 64)")
	fl.IntVar(&f.count, "count", 3000, "timed messages per mechanism, size and peer, over all rounds (--quick: 200)")
	fl.IntVar(&f.rounds, "rounds", 3, "rounds that alternate the peers (--quick: 2)")
	fl.StringVar(&f.placement, "placement", "cross", "same (one CPU), cross (two CPUs) or both")
	fl.StringVar(&f.peers, "peers", "go,c,python", "peers to measure against, comma-separated")
	fl.BoolVar(&f.quick, "quick", false, "a short run: one size, fewer messages and rounds")
	fl.BoolVar(&f.asJSON, "json", false, `print one JSON object, {"machine": {...}, "results": [...]}`)
	fl.StringVar(&f.jsonFile, "json-file", "", "also write the JSON object to FILE (the table still prints)")
	fl.StringVar(&f.chart, "chart", "", "write charts to FILE.png or FILE.svg: p50 against size per mechanism, and p50/p99 per size")
	fl.Uint64Var(&f.seed, "seed", 1, "seed of the payload's bytes")
	fl.StringVar(&f.binDir, "bin", "", "directory of the built peers: bench_peer, mpidemo, openmpi/mpi_bench (default: ipc's own)")
	fl.StringVar(&f.csrcDir, "csrc", "", "directory of the Python peers (default: BIN/../csrc)")

	cmd.AddCommand(&cobra.Command{
		Use:                "peer MECH MODE SIZE WARMUP COUNT WINDOW OBJECTS...",
		Short:              "The Go peer of a bench run (started by bench itself)",
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return bench.RunPeer(args, os.Stdin, cmd.OutOrStdout())
		},
	})
	return cmd
}

func runBench(cmd *cobra.Command, mechs []string, f *benchFlags) error {
	cfg, err := benchConfig(cmd, mechs, f)
	if err != nil {
		return err
	}
	for _, path := range []string{f.chart, f.jsonFile} {
		if path != "" {
			if err := bench.CheckOutputPath(path); err != nil {
				return err
			}
		}
	}
	machine := bench.DescribeMachine(cfg)
	if term.IsTerminal(int(os.Stderr.Fd())) {
		bar := progressbar.NewOptions(cfg.Runs(), progressbar.OptionSetWriter(os.Stderr),
			progressbar.OptionSetDescription("ipc bench"), progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true), progressbar.OptionClearOnFinish(),
			progressbar.OptionThrottle(100*time.Millisecond))
		cfg.Progress = func(done, _ int) { bar.Set(done) }
		defer bar.Finish()
	}

	// Ctrl-C or a kill: stop the peers, remove every object, print what
	// was measured.
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	results, runErr := bench.Run(ctx, cfg)
	if cfg.Progress != nil {
		fmt.Fprint(os.Stderr, "\r\033[K")
	}
	if runErr != nil && !errors.Is(runErr, bench.ErrInterrupted) {
		return fmt.Errorf("bench: %w", runErr)
	}

	doc, err := json.MarshalIndent(struct {
		Machine bench.Machine  `json:"machine"`
		Results []bench.Result `json:"results"`
	}{machine, results}, "", "  ")
	if err != nil {
		return err
	}
	doc = append(doc, '\n')
	out := cmd.OutOrStdout()
	if f.asJSON {
		if _, err := out.Write(doc); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(out, "# ipc bench: %s\n", machine)
		if err := bench.WriteTable(out, results); err != nil {
			return err
		}
	}
	if f.jsonFile != "" {
		if err := os.WriteFile(f.jsonFile, doc, 0o644); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
	}
	if f.chart != "" && len(results) > 0 {
		if err := bench.WriteChart(f.chart, results); err != nil {
			return fmt.Errorf("bench chart %s: %w", f.chart, err)
		}
	}
	switch {
	case errors.Is(runErr, bench.ErrInterrupted):
		return errors.New("bench: interrupted; the table holds what was measured, and every object the run created was removed")
	case bench.Failed(results) > 0:
		return fmt.Errorf("bench: %d of %d measurements failed", bench.Failed(results), len(results))
	}
	return nil
}

// benchConfig checks the command line and builds the run's configuration;
// every mistake is a usage error, found before anything runs.
func benchConfig(cmd *cobra.Command, names []string, f *benchFlags) (*bench.Config, error) {
	// Sizes the user gave are checked against each named mechanism's
	// limit; defaults (--quick's too) are clipped to it.
	sizeSet := cmd.Flags().Changed("sizes")
	if f.quick {
		for flag, v := range map[string]string{"sizes": "64", "count": "200", "rounds": "2"} {
			if !cmd.Flags().Changed(flag) {
				cmd.Flags().Set(flag, v)
			}
		}
	}
	explicit := len(names) > 0
	if !explicit {
		names = bench.Names()
	}
	// The table has one row per mechanism, size, peer, placement and mode,
	// so each is given once, as --peers are.
	var mechs []*bench.Mechanism
	for i, n := range names {
		m, err := bench.Lookup(n)
		if err != nil {
			return nil, cli.Usage(err)
		}
		if slices.Contains(names[:i], n) {
			return nil, cli.Usagef("mechanism %q is named twice", n)
		}
		mechs = append(mechs, m)
	}
	modes, err := oneOrBoth("mode", f.mode, bench.Latency, bench.Throughput)
	if err != nil {
		return nil, err
	}
	placements, err := oneOrBoth("placement", f.placement, bench.SameCore, bench.CrossCore)
	if err != nil {
		return nil, err
	}
	var peers []bench.Peer
	for _, p := range strings.Split(f.peers, ",") {
		peer := bench.Peer(strings.TrimSpace(p))
		if !slices.Contains([]bench.Peer{bench.PeerGo, bench.PeerC, bench.PeerPython}, peer) || slices.Contains(peers, peer) {
			return nil, cli.Usagef("invalid --peers %q (want go, c and python, comma-separated, each once)", f.peers)
		}
		peers = append(peers, peer)
	}
	var sizes []int
	for _, s := range strings.Split(f.sizes, ",") {
		n, err := cli.ParseSize(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 1<<30 {
			return nil, cli.Usagef("invalid --sizes %q: each size is 1 byte to 1GiB", f.sizes)
		}
		if slices.Contains(sizes, int(n)) {
			return nil, cli.Usagef("invalid --sizes %q: %d bytes is given twice", f.sizes, n)
		}
		sizes = append(sizes, int(n))
	}
	// A count near the int's end overflowed the warm-up plus the timed
	// messages, and the run measured nothing but said it did.
	const maxCount = 1_000_000_000
	if f.count < 1 || f.rounds < 1 || f.count < f.rounds || f.count > maxCount {
		return nil, cli.Usagef("--count (%d) and --rounds (%d) must be at least 1, --count at least --rounds and at most %d", f.count, f.rounds, maxCount)
	}
	if f.chart != "" {
		if ext := filepath.Ext(f.chart); ext != ".png" && ext != ".svg" {
			return nil, cli.Usagef("invalid --chart %q: the name must end in .png or .svg", f.chart)
		}
	}

	cfg := &bench.Config{Peers: peers, Count: f.count, Rounds: f.rounds, Seed: f.seed, Python: "/usr/bin/python3"}
	for _, m := range mechs {
		for _, size := range sizes {
			if err := m.CheckSize(size); err != nil && explicit && sizeSet {
				return nil, cli.Usage(err)
			}
		}
		for _, mode := range modes {
			for _, pl := range placements {
				for _, size := range m.Sizes(sizes, !sizeSet) {
					cfg.Cases = append(cfg.Cases, bench.Case{Mech: m, Size: size, Mode: mode, Placement: pl})
				}
			}
		}
	}

	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	bin := f.binDir
	if bin == "" {
		bin = filepath.Dir(self)
	}
	csrc := f.csrcDir
	if csrc == "" {
		csrc = filepath.Join(bin, "..", "csrc")
	}
	cfg.GoPeer = []string{self, "bench", "peer"}
	cfg.CPeer = filepath.Join(bin, "bench_peer")
	cfg.PythonPeer = filepath.Join(csrc, "bench_peer.py")
	cfg.MPI = bench.MPIConfig{Bin: bin, Csrc: csrc}
	return cfg, nil
}

// oneOrBoth parses a flag that names one of two values, or both.
func oneOrBoth[T ~string](flag, v string, a, b T) ([]T, error) {
	switch T(v) {
	case a, b:
		return []T{T(v)}, nil
	case "both":
		return []T{a, b}, nil
	}
	return nil, cli.Usagef("invalid --%s %q (want %s, %s or both)", flag, v, a, b)
}
