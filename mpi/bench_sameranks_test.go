package mpi_test

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
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
// cloop: the same MPI calls from C, one cgo call a block), Go C C Go Go C
// ... Separate jobs meet different placements of the VM's CPUs on the host,
// which swung the Go/C ratio of cmd/mpidemo's BenchmarkBandwidth by 3x from
// run to run; two blocks next to each other in the same processes meet the
// same. For each size and pattern it reports the median of the pairs' Go/C
// ratios, the lowest and the highest, and the median bandwidth of each side.
//
//	go test -run '^$' -bench BandwidthSameRanks -benchtime 1x ./mpi
func BenchmarkBandwidthSameRanks(b *testing.B) {
	defer func(d time.Duration) { mpitest.Timeout = d }(mpitest.Timeout)
	mpitest.Timeout = 5 * time.Minute // a loaded machine moves 20 GiB slowly
	var out string
	for b.Loop() {
		out = mpitest.Must(b, childEnv("bwsame"), mpitest.App{N: 2, Argv: []string{os.Args[0]}}).Stdout
	}
	report(b, out)
}

// TestBandwidthSameRanksMovesData runs the benchmark's job small and checks
// that rank 1 verified the data of every block of both loops, so that the
// benchmark cannot compare loops that move nothing.
func TestBandwidthSameRanksMovesData(t *testing.T) {
	const pairs = 2
	r := mpitest.Must(t, childEnv("bwsame"), mpitest.App{N: 2, Argv: []string{os.Args[0], strconv.Itoa(pairs), "1"}})
	for _, p := range sameRanksPatterns() {
		want := fmt.Sprintf("verified %s go %d c %d\n", p.name, pairs+1, pairs+1) // and the warm-up
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("rank 1 did not print %q; stdout:\n%s\nstderr:\n%s", want, r.Stdout, r.Stderr)
		}
		if !strings.Contains(r.Stdout, p.name+" ") || !strings.Contains(r.Stdout, " go/c-median\n") {
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
// ranks. Its arguments, for the test: the number of block pairs and the
// bytes a block moves (at least one window).
func childBandwidthSameRanks(args []string) error {
	pairs, blockBytes := 20, 128<<20
	if len(args) > 0 {
		var err1, err2 error
		pairs, err1 = strconv.Atoi(args[0])
		if len(args) == 2 {
			blockBytes, err2 = strconv.Atoi(args[1])
		}
		if len(args) != 2 || err1 != nil || err2 != nil || pairs < 1 {
			return fmt.Errorf("usage: bwsame [PAIRS BLOCK-BYTES], got %q", args)
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
		if err := compareSameRanks(w, p, pairs, blockBytes); err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
	}
	return mpi.Finalize()
}

// compareSameRanks runs pairs pairs of blocks of pattern p, one Go block and
// one C block each, the Go block first in every other pair, after one
// unreported block of each, and prints rank 0's figures.
func compareSameRanks(w *mpi.Comm, p sameRanksPattern, pairs, blockBytes int) (err error) {
	const window = 64
	sender := w.Rank() == 0
	windows := max(1, blockBytes/(p.size*window))
	c, err := cloop.New(sender, p.size, window, p.persistent)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, c.Free()) }()
	g, err := newGoLoop(w, p.size, window, p.persistent)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, g.Free()) }()

	verified := map[bwLoop]int{}
	blocks := 0
	block := func(l bwLoop) (time.Duration, error) {
		blocks++
		d, err := sameRanksBlock(w, l, sender, windows, byte(blocks))
		if err == nil {
			verified[l]++
		}
		return d, err
	}
	var ratios, goMBs, cMBs []float64
	for i := -1; i < pairs; i++ { // i == -1: the warm-up
		order := []bwLoop{g, c}
		if i%2 != 0 {
			order = []bwLoop{c, g}
		}
		var took [2]time.Duration
		for j, l := range order {
			if took[j], err = block(l); err != nil {
				return err
			}
		}
		if i < 0 {
			continue
		}
		tGo, tC := took[0], took[1]
		if order[0] == c {
			tGo, tC = tC, tGo
		}
		bytes := float64(windows * window * p.size)
		ratios = append(ratios, tC.Seconds()/tGo.Seconds())
		goMBs = append(goMBs, bytes/tGo.Seconds()/1e6)
		cMBs = append(cMBs, bytes/tC.Seconds()/1e6)
	}
	if !sender {
		fmt.Printf("verified %s go %d c %d\n", p.name, verified[g], verified[c])
		return nil
	}
	mid := median(ratios) // sorts ratios
	fmt.Printf("# %s: %d pairs of blocks of %d windows of %d messages of %d B, %s\n", p.name, pairs, windows, window, p.size, mpi.Implementation)
	fmt.Printf("%s %.3f go/c-median\n%s %.3f go/c-low\n%s %.3f go/c-high\n", p.name, mid, p.name, ratios[0], p.name, ratios[len(ratios)-1])
	fmt.Printf("%s %.0f MB/s-go\n%s %.0f MB/s-c\n", p.name, median(goMBs), p.name, median(cMBs))
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
