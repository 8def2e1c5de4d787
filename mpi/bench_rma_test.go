package mpi_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/mpi"
	"github.com/goipc/ipc/mpi/mpitest"
)

func init() { children["rma-bench"] = childRMABench }

// rmaIters is the iterations of BenchmarkRMA's small cases (a hundredth, plus
// ten, for 1 MiB; a tenth, plus ten, for the 1 MiB reads).
const rmaIters = 20000

// BenchmarkRMA measures one-sided communication between two ranks of one
// node, Go (childRMABench) beside C (csrc/mpi_rma.c bench) in the same run,
// each a job of its own doing the same calls:
//
//   - put-8B, get-8B: ns per Put (Get) of 8 bytes and Flush of the target,
//     inside one LockAll epoch (passive target); put-1MiB, get-1MiB: MB/s of
//     the same with 1 MiB. The window is WinAllocate's, 1 MiB a rank (Open
//     MPI's osc sm serves it, MPICH's shared-memory RMA).
//   - read-shared-1MiB, read-plain-1MiB: GB/s of rank 0 summing rank 1's
//     1 MiB of float64 in a WinAllocateShared window through SharedQuery's
//     slice, and the same in its own memory.
//   - shared-pingpong-8B: median round trip of the mmap ping-pong protocol
//     (csrc/mmap_pingpong.c: flag word, spin then sched_yield, one CPU per
//     side) through a shared window; "mmap" runs csrc/mmap_pingpong.c itself,
//     two forked processes over MAP_SHARED memory, for the reference.
//
// ns/op is a whole job's and means nothing here.
//
//	go test -run '^$' -bench RMA ./mpi
func BenchmarkRMA(b *testing.B) {
	iters := strconv.Itoa(rmaIters)
	b.Run("go", func(b *testing.B) {
		var r mpitest.Result
		for b.Loop() {
			r = mpitest.Must(b, childEnv("rma-bench"), mpitest.App{N: 2, Argv: []string{os.Args[0], iters}})
		}
		report(b, r.Stdout)
	})
	b.Run("c", func(b *testing.B) {
		prog := testutil.BuildC(b, "mpi_rma", mpitest.CFlags(b)...)
		var r mpitest.Result
		for b.Loop() {
			r = mpitest.Must(b, nil, mpitest.App{N: 2, Argv: []string{prog, "bench", iters}})
		}
		report(b, r.Stdout)
	})
	b.Run("mmap", func(b *testing.B) {
		prog := testutil.BuildC(b, "mmap_pingpong")
		var out []byte
		for b.Loop() {
			var err error
			if out, err = exec.Command(prog, "8", iters).Output(); err != nil {
				b.Fatal(err)
			}
		}
		median, _, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
		report(b, "mmap-pingpong-8B "+median+" ns\n")
	})
}

// childRMABench is csrc/mpi_rma.c bench in Go, call for call.
func childRMABench(args []string) error {
	if len(args) != 1 {
		return errors.New("want ITERS")
	}
	iters, err := strconv.Atoi(args[0])
	if err != nil {
		return err
	}
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		return err
	}
	w := mpi.World()
	node, err := w.SplitType(mpi.TypeShared, 0)
	if err != nil {
		return err
	}
	if w.Size() != 2 || node.Size() != 2 {
		return errors.New("needs 2 ranks on one node")
	}
	err = errors.Join(benchRMA(w, iters), benchReads(node, iters), benchPingpong(node, iters), node.Free())
	return errors.Join(err, mpi.Finalize())
}

const mib = 1 << 20

func benchRMA(w *mpi.Comm, iters int) error {
	win, mem, err := mpi.WinAllocate[byte](w, mib, nil)
	if err != nil {
		return err
	}
	defer win.Free()
	clear(mem)
	buf := make([]byte, mib)
	if err := mpi.Barrier(w); err != nil {
		return err
	}
	for _, c := range []struct {
		name string
		put  bool
		size int
	}{{"put-8B", true, 8}, {"get-8B", false, 8}, {"put-1MiB", true, mib}, {"get-1MiB", false, mib}} {
		n := iters
		if c.size > 64<<10 {
			n = iters/100 + 10
		}
		if w.Rank() == 0 {
			if err := win.LockAll(); err != nil {
				return err
			}
			var start time.Duration
			for i := range n + n/10 { // the first tenth warms up
				if i == n/10 {
					start = mpi.Wtime()
				}
				if c.put {
					err = mpi.Put(win, buf[:c.size], 1, 0)
				} else {
					err = mpi.Get(win, buf[:c.size], 1, 0)
				}
				if err == nil {
					err = win.Flush(1)
				}
				if err != nil {
					return err
				}
			}
			t := (mpi.Wtime() - start).Seconds()
			if err := win.UnlockAll(); err != nil {
				return err
			}
			if c.size == 8 {
				fmt.Printf("%s %.1f ns\n", c.name, t/float64(n)*1e9)
			} else {
				fmt.Printf("%s %.1f MB/s\n", c.name, float64(c.size*n)/t/1e6)
			}
		}
		if err := mpi.Barrier(w); err != nil {
			return err
		}
	}
	return nil
}

func sum(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s
}

func benchReads(node *mpi.Comm, iters int) error {
	n, rounds := mib/8, iters/10+10
	win, mine, err := mpi.WinAllocateShared[float64](node, n, nil)
	if err != nil {
		return err
	}
	defer win.Free()
	theirs, err := mpi.SharedQuery[float64](win, 1)
	if err != nil {
		return err
	}
	plain := make([]float64, n)
	if err := win.Fence(); err != nil {
		return err
	}
	for i := range n {
		mine[i], plain[i] = float64(i), float64(i)
	}
	if err := win.Fence(); err != nil {
		return err
	}
	if node.Rank() == 0 {
		for _, c := range []struct {
			name string
			v    []float64
		}{{"read-shared-1MiB", theirs}, {"read-plain-1MiB", plain}} {
			want := float64(n) * float64(n-1) / 2
			var start time.Duration
			for r := range rounds + rounds/10 {
				if r == rounds/10 {
					start = mpi.Wtime()
				}
				if sum(c.v) != want {
					return fmt.Errorf("%s: wrong sum", c.name)
				}
			}
			fmt.Printf("%s %.2f GB/s\n", c.name, float64(mib*rounds)/(mpi.Wtime()-start).Seconds()/1e9)
		}
	}
	return win.Fence()
}

// warmup is the least number of untimed round trips first, as
// csrc/flag_pingpong.h's WARMUP (Go's warm up for testutil.WarmupTime too).
const warmup = 100

// benchPingpong is the flag ping-pong of mmap's BenchmarkPingPong
// (testutil.AwaitFlag) through rank 0's part of a shared window.
func benchPingpong(node *mpi.Comm, iters int) error {
	size := 0
	if node.Rank() == 0 {
		size = testutil.FlagArea
	}
	win, _, err := mpi.WinAllocateShared[byte](node, size, nil)
	if err != nil {
		return err
	}
	defer win.Free()
	shm, err := mpi.SharedQuery[byte](win, 0)
	if err != nil {
		return err
	}
	flag := (*atomic.Uint32)(unsafe.Pointer(&shm[0]))
	if err := win.LockAll(); err != nil {
		return err
	}
	if node.Rank() == 0 {
		flag.Store(0)
	}
	if err := errors.Join(win.Sync(), mpi.Barrier(node), win.Sync()); err != nil {
		return err
	}
	unpin, err := testutil.PinThread(node.Rank()) // Init locked this goroutine to its thread
	if err != nil {
		return err
	}
	defer unpin()
	msg, reply := []byte("pingpong"), make([]byte, 8)
	switch node.Rank() {
	case 1:
		for testutil.AwaitFlag(flag, testutil.FlagPing, testutil.FlagQuit) == testutil.FlagPing {
			copy(reply, shm[testutil.PingOffset:])
			copy(shm[testutil.PongOffset:], reply)
			flag.Store(testutil.FlagPong)
		}
	case 0:
		// The monotonic clock, read as the C program reads MPI_Wtime: Go's
		// MPI_Wtime would add a cgo call to each reading.
		samples, base := make([]time.Duration, iters), time.Now()
		trip := func() error {
			copy(shm[testutil.PingOffset:], msg)
			flag.Store(testutil.FlagPing)
			testutil.AwaitFlag(flag, testutil.FlagPong, testutil.FlagPong)
			copy(reply, shm[testutil.PongOffset:])
			return nil
		}
		testutil.WarmUp(warmup, trip)
		for i := range samples {
			start := time.Since(base)
			trip()
			samples[i] = time.Since(base) - start
		}
		flag.Store(testutil.FlagQuit)
		if string(reply) != string(msg) {
			return errors.New("the reply differs from the message")
		}
		slices.Sort(samples)
		fmt.Printf("shared-pingpong-8B %d ns\n", samples[iters/2].Nanoseconds())
	}
	return win.UnlockAll()
}
