package mpi_test

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goipc/ipc/mpi"
	"github.com/goipc/ipc/mpi/internal/cloop"
	"github.com/goipc/ipc/mpi/mpitest"
)

// BenchmarkBandwidthSameRanks compares Go's bandwidth with C's in the same
// two rank processes: rank 0 sends windows of 64 messages to rank 1, each
// window ended by a 4-byte ack, as mpi_bench bw does, in blocks that take
// turns between the Go loop (the public API: AddIsend/AddIrecv + WaitAll,
// or a Persistents set's StartAll + WaitAll) and the C loop (package
// cloop: the same MPI calls from C, one cgo call a block). Separate jobs
// meet different placements of the VM's CPUs on the host, which swung the
// Go/C ratio of cmd/mpidemo's BenchmarkBandwidth by 3x from run to run;
// blocks next to each other in the same processes meet the same. For each
// size and pattern it reports the median of the rounds' Go/C ratios, the
// lowest and the highest, and the median bandwidth of each side.
//
// A second C loop takes its turn in every round too, as a control: the same
// code as the first, on a buffer of its own (Go C C', then C' C Go, ...).
// The ratio of the two C loops (c/c-median, -low, -high) is what the
// machine's noise alone makes of a comparison: a Go/C median further from 1
// than the control's, with a spread like it, is a cost of Go's; one within
// it is noise.
//
// A fourth loop (cgo/c-median, -low, -high) makes the C loop's MPI calls
// from Go, one cgo call each, without package mpi's code around them: the
// part of Go's cost that the crossings alone make beside a real peer.
//
//	go test -run '^$' -bench BandwidthSameRanks -benchtime 1x ./mpi
func BenchmarkBandwidthSameRanks(b *testing.B) {
	defer func(d time.Duration) { mpitest.Timeout = d }(mpitest.Timeout)
	mpitest.Timeout = 8 * time.Minute // a loaded machine moves 30 GiB slowly
	var out string
	for b.Loop() {
		out = mpitest.Must(b, childEnv("bwsame"), mpitest.App{N: 2, Argv: []string{os.Args[0]}}).Stdout
	}
	report(b, out)
}

// TestBandwidthSameRanksMovesData runs the benchmark's job small and checks
// that rank 1 verified the data of every block of every loop, so that the
// benchmark cannot compare loops that move nothing.
func TestBandwidthSameRanksMovesData(t *testing.T) {
	const rounds = 2
	r := mpitest.Must(t, childEnv("bwsame"), mpitest.App{N: 2, Argv: []string{os.Args[0], strconv.Itoa(rounds), "1"}})
	for _, p := range sameRanksPatterns() {
		want := fmt.Sprintf("verified %s go %d c %d control %d cgo %d\n", p.name, rounds+1, rounds+1, rounds+1, rounds+1) // and the warm-up
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("rank 1 did not print %q; stdout:\n%s\nstderr:\n%s", want, r.Stdout, r.Stderr)
		}
		if !strings.Contains(r.Stdout, p.name+" ") || !strings.Contains(r.Stdout, " go/c-median\n") || !strings.Contains(r.Stdout, " c/c-median\n") ||
			!strings.Contains(r.Stdout, " cgo/c-median\n") {
			t.Errorf("rank 0 reported no ratio for %s; stdout:\n%s", p.name, r.Stdout)
		}
	}
}

// sameRanksPattern is one comparison: a message size and the way a window
// is started.
type sameRanksPattern struct {
	name       string
	size       int
	persistent bool
}

func sameRanksPatterns() []sameRanksPattern {
	var ps []sameRanksPattern
	for _, persistent := range []bool{false, true} {
		for _, size := range []int{8 << 10, 1 << 20} {
			name := map[int]string{8 << 10: "8KiB", 1 << 20: "1MiB"}[size] + "-isend"
			if persistent {
				name = strings.Replace(name, "isend", "persistent", 1)
			}
			ps = append(ps, sameRanksPattern{name, size, persistent})
		}
	}
	return ps
}

// bwLoop is one side of the alternation: the buffer its messages use, and
// a block of windows.
type bwLoop interface {
	Buf() []byte
	Run(windows int) (time.Duration, error)
	Free() error
}

// childBandwidthSameRanks is the job of BenchmarkBandwidthSameRanks, on two
// ranks. Its arguments, for the test: the number of rounds of blocks and the
// bytes a block moves (at least one window).
func childBandwidthSameRanks(args []string) error {
	rounds, blockBytes := 20, 128<<20
	if len(args) > 0 {
		var err1, err2 error
		rounds, err1 = strconv.Atoi(args[0])
		if len(args) == 2 {
			blockBytes, err2 = strconv.Atoi(args[1])
		}
		if len(args) != 2 || err1 != nil || err2 != nil || rounds < 1 {
			return fmt.Errorf("usage: bwsame [ROUNDS BLOCK-BYTES], got %q", args)
		}
	}
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		return err
	}
	w := mpi.World()
	if w.Size() != 2 {
		return fmt.Errorf("bwsame needs 2 ranks, the job has %d", w.Size())
	}
	for _, p := range sameRanksPatterns() {
		if err := compareSameRanks(w, p, rounds, blockBytes); err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
	}
	return mpi.Finalize()
}

// The loops of a round, by index.
const (
	goBlock, cBlock, controlBlock, cgoBlock = 0, 1, 2, 3
	loopCount                               = 4
)

var loopNames = [loopCount]string{"go", "c", "control", "cgo"}

// compareSameRanks runs rounds rounds of blocks of pattern p, one block of
// each loop a round (Go, C, the control C', and the C loop's calls made
// from Go, one crossing each), in the order Go C C' X in every other round
// and X C' C Go in the others, after one unreported round, and prints rank
// 0's figures.
func compareSameRanks(w *mpi.Comm, p sameRanksPattern, rounds, blockBytes int) (err error) {
	const window = 64
	sender := w.Rank() == 0
	windows := max(1, blockBytes/(p.size*window))
	var loops [loopCount]bwLoop
	defer func() {
		for _, l := range loops {
			if l != nil {
				err = errors.Join(err, l.Free())
			}
		}
	}()
	if loops[goBlock], err = newGoLoop(w, p.size, window, p.persistent); err != nil {
		return err
	}
	for _, i := range []int{cBlock, controlBlock, cgoBlock} {
		if loops[i], err = cloop.New(sender, p.size, window, p.persistent); err != nil {
			return err
		}
	}
	loops[cgoBlock] = cloop.Crossing{Loop: loops[cgoBlock].(*cloop.Loop)}

	var verified [loopCount]int
	var use [loopCount]threadUse // summed over the reported rounds, with GOIPC_BWSAME_THREADS set
	countThreads, tid := os.Getenv("GOIPC_BWSAME_THREADS") != "", syscall.Gettid()
	blocks := 0
	var ratios [loopCount][]float64 // C's time over each loop's
	var rates [loopCount][]float64  // MB/s

	for i := -1; i < rounds; i++ { // i == -1: the warm-up
		order := []int{goBlock, cBlock, controlBlock, cgoBlock}
		if i%2 != 0 {
			slices.Reverse(order)
		}
		var took [loopCount]time.Duration
		for _, j := range order {
			blocks++
			var before threadUse
			var start int64
			if countThreads {
				before, start = readThreadUse(tid), monotonicNs()
			}
			if took[j], err = sameRanksBlock(w, loops[j], sender, windows, byte(blocks)); err != nil {
				return err
			}
			if countThreads && i >= 0 {
				use[j] = use[j].add(readThreadUse(tid).sub(before))
				fmt.Printf("# block rank %d %s %s %d %d\n", w.Rank(), p.name, loopNames[j], start, monotonicNs())
			}
			verified[j]++
		}
		if i < 0 {
			continue
		}
		bytes := float64(windows * window * p.size)
		for j := range loops {
			ratios[j] = append(ratios[j], took[cBlock].Seconds()/took[j].Seconds())
			rates[j] = append(rates[j], bytes/took[j].Seconds()/1e6)
		}
	}
	for j, name := range loopNames {
		if countThreads {
			fmt.Printf("# rank %d %s %s: %v\n", w.Rank(), p.name, name, use[j])
		}
	}
	if !sender {
		fmt.Printf("verified %s go %d c %d control %d cgo %d\n", p.name, verified[goBlock], verified[cBlock], verified[controlBlock], verified[cgoBlock])
		return nil
	}
	fmt.Printf("# %s: %d rounds of blocks of %d windows of %d messages of %d B, %s\n", p.name, rounds, windows, window, p.size, mpi.Implementation)
	for _, r := range []struct {
		name string
		xs   []float64
	}{{"go/c", ratios[goBlock]}, {"c/c", ratios[controlBlock]}, {"cgo/c", ratios[cgoBlock]}} {
		mid := median(r.xs) // sorts xs
		fmt.Printf("%s %.3f %s-median\n%s %.3f %s-low\n%s %.3f %s-high\n", p.name, mid, r.name, p.name, r.xs[0], r.name, p.name, r.xs[len(r.xs)-1], r.name)
	}
	for _, j := range []int{goBlock, cBlock, cgoBlock} {
		fmt.Printf("%s %.0f MB/s-%s\n", p.name, median(rates[j]), loopNames[j])
	}
	return nil
}

// sameRanksBlock runs one block of l after both ranks have set its buffer up
// (the sender's holds a pattern made from seed, the receiver's zeros) and
// met in a barrier; the receiver then checks that the pattern arrived.
func sameRanksBlock(w *mpi.Comm, l bwLoop, sender bool, windows int, seed byte) (time.Duration, error) {
	buf := l.Buf()
	for i := range buf {
		if sender {
			buf[i] = seed + byte(i)
		} else {
			buf[i] = 0
		}
	}
	if err := mpi.Barrier(w); err != nil {
		return 0, err
	}
	d, err := l.Run(windows)
	if err != nil || sender {
		return d, err
	}
	for i, v := range buf {
		if v != seed+byte(i) {
			return 0, fmt.Errorf("%T block %d: byte %d received %d, want %d", l, seed, i, v, seed+byte(i))
		}
	}
	return d, nil
}

// goLoop is the Go side: the loop of cmd/mpidemo's bw in the public API.
type goLoop struct {
	w        *mpi.Comm
	msg, ack []byte
	window   int
	sender   bool
	reqs     mpi.Requests
	ps       *mpi.Persistents // the window's persistent operations, or nil
}

func newGoLoop(w *mpi.Comm, size, window int, persistent bool) (*goLoop, error) {
	g := &goLoop{w: w, msg: make([]byte, size), ack: make([]byte, 4), window: window, sender: w.Rank() == 0}
	if !persistent {
		return g, nil
	}
	g.ps = new(mpi.Persistents)
	for range window {
		var err error
		if g.sender {
			err = mpi.AddSendInit(g.ps, w, g.msg, 1, 100)
		} else {
			err = mpi.AddRecvInit(g.ps, w, g.msg, 0, 100)
		}
		if err != nil {
			return nil, errors.Join(err, g.ps.Free())
		}
	}
	return g, nil
}

func (g *goLoop) Buf() []byte { return g.msg }

// Run moves windows windows, timed by MPI_Wtime as the C loop is.
func (g *goLoop) Run(windows int) (time.Duration, error) {
	start := mpi.Wtime()
	for range windows {
		err := g.moveWindow()
		if err == nil && g.sender {
			_, err = mpi.Recv(g.w, g.ack, 1, 101)
		} else if err == nil {
			err = mpi.Send(g.w, g.ack, 0, 101)
		}
		if err != nil {
			return 0, err
		}
	}
	return mpi.Wtime() - start, nil
}

func (g *goLoop) moveWindow() error {
	if g.ps != nil {
		if err := g.ps.StartAll(); err != nil {
			return err
		}
		return g.ps.WaitAll()
	}
	for range g.window {
		var err error
		if g.sender {
			err = mpi.AddIsend(&g.reqs, g.w, g.msg, 1, 100)
		} else {
			err = mpi.AddIrecv(&g.reqs, g.w, g.msg, 0, 100)
		}
		if err != nil {
			return err
		}
	}
	return g.reqs.WaitAll()
}

func (g *goLoop) Free() error {
	if g.ps == nil {
		return nil
	}
	return g.ps.Free()
}

// median returns the median of xs, which it sorts.
func median(xs []float64) float64 {
	slices.Sort(xs)
	n := len(xs)
	return (xs[(n-1)/2] + xs[n/2]) / 2
}
