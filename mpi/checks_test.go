package mpi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/goipc/ipc/mpi"
)

// A check runs on every rank of a job; rank 0 prints "ok NAME" after it, and
// the test makes sure each check reported.
type check struct {
	name string
	fn   func(w *mpi.Comm) error
}

// suite initialises MPI at level, runs the checks and finalizes. The first
// failure ends the rank with an error, which ends the job.
func suite(level mpi.ThreadLevel, checks []check) error {
	if _, err := mpi.Init(level); err != nil {
		return err
	}
	w := mpi.World()
	for _, c := range checks {
		if err := c.fn(w); err != nil {
			return fmt.Errorf("rank %d: %s: %w", w.Rank(), c.name, err)
		}
		if w.Rank() == 0 {
			fmt.Printf("ok %s\n", c.name)
		}
	}
	return mpi.Finalize()
}

// want returns an error describing a mismatch, or nil.
func want[T comparable](what string, got, want T) error {
	if got != want {
		return fmt.Errorf("%s = %v, want %v", what, got, want)
	}
	return nil
}

func wantSlice[T comparable](what string, got, want []T) error {
	if !slices.Equal(got, want) {
		return fmt.Errorf("%s = %v, want %v", what, got, want)
	}
	return nil
}

// wantClass checks that err is an *mpi.Error of class c.
func wantClass(err error, c mpi.Class) error {
	var e *mpi.Error
	if !errors.Is(err, c) || !errors.As(err, &e) {
		return fmt.Errorf("error %v, want class %v", err, c)
	}
	return nil
}

// wantInvalid checks that err is bad input caught before the MPI call.
func wantInvalid(err error, c mpi.Class) error {
	if err := wantClass(err, c); err != nil {
		return err
	}
	var e *mpi.Error
	errors.As(err, &e)
	if !errors.Is(err, syscall.EINVAL) || e.Code != 0 {
		return fmt.Errorf("error %v (code %d) should be caught before MPI and match EINVAL", err, e.Code)
	}
	return nil
}

func childBasic([]string) error {
	return suite(mpi.ThreadFunneled, slices.Concat(basicChecks, misuseChecks))
}

var basicChecks = []check{
	{"environment", func(w *mpi.Comm) error {
		if !mpi.Initialized() || mpi.Finalized() {
			return errors.New("Initialized/Finalized wrong while running")
		}
		if p := mpi.Provided(); p < mpi.ThreadSingle || p > mpi.ThreadMultiple {
			return fmt.Errorf("provided level %v", p)
		}
		if _, err := mpi.Init(mpi.ThreadSingle); !errors.Is(err, os.ErrClosed) {
			return fmt.Errorf("second Init: %v, want ErrClosed", err)
		}
		t0 := mpi.Wtime()
		time.Sleep(2 * time.Millisecond)
		if d := mpi.Wtime() - t0; d < 2*time.Millisecond || d > time.Second {
			return fmt.Errorf("Wtime advanced %v over a 2ms sleep", d)
		}
		if tick := mpi.Wtick(); tick <= 0 || tick > time.Millisecond {
			return fmt.Errorf("Wtick = %v", tick)
		}
		host, _ := os.Hostname()
		if name, err := mpi.ProcessorName(); err != nil || name != host {
			return fmt.Errorf("ProcessorName = %q, %v; hostname %q", name, err, host)
		}
		v, err := mpi.LibraryVersion()
		if err != nil || !strings.Contains(v, mpi.Implementation) {
			return fmt.Errorf("LibraryVersion = %q, %v; want it to name %s", v, err, mpi.Implementation)
		}
		if major, _ := mpi.Version(); major < 3 {
			return fmt.Errorf("MPI standard version %d", major)
		}
		return nil
	}},
	{"self", func(w *mpi.Comm) error {
		s := mpi.Self()
		if err := want("World size", w.Size(), 1); err != nil {
			return err
		}
		if err := want("Self rank/size", [2]int{s.Rank(), s.Size()}, [2]int{0, 1}); err != nil {
			return err
		}
		if cmp, err := w.Compare(s); err != nil || cmp != mpi.Congruent {
			return fmt.Errorf("Compare(World, Self) = %v, %v, want congruent", cmp, err)
		}
		// A message to oneself needs a nonblocking side.
		r, err := mpi.Isend(s, []byte("hi"), 0, 5)
		if err != nil {
			return err
		}
		got := make([]byte, 8)
		st, err := mpi.Recv(s, got, 0, 5)
		if err != nil {
			return err
		}
		if _, err := r.Wait(); err != nil {
			return err
		}
		return want("self message", string(got[:mpi.Count[byte](st)]), "hi")
	}},
	{"dup and free", func(w *mpi.Comm) error {
		d, err := w.Dup()
		if err != nil {
			return err
		}
		if cmp, err := w.Compare(d); err != nil || cmp != mpi.Congruent {
			return fmt.Errorf("Compare(World, Dup) = %v, %v", cmp, err)
		}
		if cmp, _ := w.Compare(w); cmp != mpi.Ident {
			return fmt.Errorf("Compare(World, World) = %v", cmp)
		}
		if err := d.Free(); err != nil {
			return err
		}
		if err := d.Free(); err != nil {
			return fmt.Errorf("second Free: %v", err)
		}
		if err := mpi.Barrier(d); !errors.Is(err, os.ErrClosed) {
			return fmt.Errorf("Barrier on a freed comm: %v, want ErrClosed", err)
		}
		// A freed communicator has no rank or size, as a freed Group has not.
		if err := want("Rank and Size of a freed comm", [2]int{d.Rank(), d.Size()}, [2]int{mpi.Undefined, 0}); err != nil {
			return err
		}
		return wantInvalid(w.Free(), mpi.ErrComm)
	}},
	{"bad input", func(w *mpi.Comm) error {
		x := []int32{1}
		if err := mpi.Bcast(w, []int32{}, 0); err != nil {
			return fmt.Errorf("empty Bcast (legal MPI): %w", err)
		}
		if err := wantInvalid(mpi.Bcast(w, x, 1), mpi.ErrRoot); err != nil {
			return fmt.Errorf("root out of range: %w", err)
		}
		if err := wantInvalid(mpi.Allreduce(w, x, make([]int32, 2), mpi.Sum), mpi.ErrCount); err != nil {
			return fmt.Errorf("mismatched lengths: %w", err)
		}
		four := make([]int32, 4)
		if err := wantInvalid(mpi.Allreduce(w, four[:2], four[1:3], mpi.Sum), mpi.ErrBuffer); err != nil {
			return fmt.Errorf("overlapping buffers: %w", err)
		}
		if err := wantInvalid(mpi.Gatherv(w, x, make([]int32, 1), []int{2}, nil, 0), mpi.ErrCount); err != nil {
			return fmt.Errorf("Gatherv count beyond buffer: %w", err)
		}
		// More elements than MPI's int counts: reserved address space that is
		// never touched, as the check comes first.
		huge, err := syscall.Mmap(-1, 0, math.MaxInt32+1, syscall.PROT_NONE, syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
		if err != nil {
			return err
		}
		defer syscall.Munmap(huge)
		if err := wantInvalid(mpi.Send(w, huge, 0, 0), mpi.ErrCount); err != nil {
			return fmt.Errorf("count beyond int: %w", err)
		}
		if err := mpi.Allreduce(w, x, x, nil); !errors.Is(err, os.ErrInvalid) {
			return fmt.Errorf("nil op: %v, want ErrInvalid", err)
		}
		op, err := mpi.NewOp(func(in, inout []float64) {}, true)
		if err != nil {
			return err
		}
		defer op.Free()
		if err := wantInvalid(mpi.Allreduce(w, x, x, op), mpi.ErrOp); err != nil {
			return fmt.Errorf("operator of another type: %w", err)
		}
		// No reduction could use an operator on strings.
		if sop, err := mpi.NewOp(func(in, inout []string) {}, true); wantInvalid(err, mpi.ErrType) != nil {
			sop.Free()
			return fmt.Errorf("NewOp on strings: %v, want ErrType", err)
		}
		if _, err := mpi.Init(99); err == nil {
			return errors.New("Init(99) succeeded")
		}
		return nil
	}},
	{"mpi errors", func(w *mpi.Comm) error {
		// MPI itself rejects these; MPI_ERRORS_RETURN makes them values.
		err := mpi.Send(w, []int8{1}, 3, 0)
		if err := wantClass(err, mpi.ErrRank); err != nil {
			return fmt.Errorf("send to rank 3 of 1: %w", err)
		}
		var e *mpi.Error
		errors.As(err, &e)
		if e.Code == 0 || e.Op != "MPI_Send" || !strings.HasPrefix(err.Error(), "mpi: MPI_Send: ") || strings.Contains(err.Error(), "\n") {
			return fmt.Errorf("error %q: op %q code %d", err, e.Op, e.Code)
		}
		if err := wantClass(mpi.Send(w, []int8{1}, 0, -7), mpi.ErrTag); err != nil {
			return fmt.Errorf("negative tag: %w", err)
		}
		// A message longer than the buffer.
		r, err := mpi.Isend(w, []int64{1, 2, 3}, 0, 1)
		if err != nil {
			return err
		}
		_, err = mpi.Recv(w, make([]int64, 2), 0, 1)
		if err := wantClass(err, mpi.ErrTruncate); err != nil {
			return fmt.Errorf("truncation: %w", err)
		}
		_, err = r.Wait()
		return err
	}},
}

func childP2P([]string) error {
	return suite(mpi.ThreadMultiple, slices.Concat(p2pChecks, requestChecks, inPlaceChecks))
}

// peer returns the other rank of a two-rank job.
func peer(w *mpi.Comm) int { return 1 - w.Rank() }

// exchange sends vals from rank 0 to rank 1, which checks them, the status
// and Count, and sends them back for rank 0 to check.
func exchange[T comparable](w *mpi.Comm, vals []T) error {
	got := make([]T, len(vals)+1)
	if w.Rank() == 0 {
		if err := mpi.Send(w, vals, 1, 11); err != nil {
			return err
		}
	}
	st, err := mpi.Recv(w, got, peer(w), 11)
	if err != nil {
		return err
	}
	if err := want("status", [3]int{st.Source, st.Tag, mpi.Count[T](st)}, [3]int{peer(w), 11, len(vals)}); err != nil {
		return err
	}
	if err := wantSlice(fmt.Sprintf("%T", vals), got[:len(vals)], vals); err != nil {
		return err
	}
	if w.Rank() == 1 {
		return mpi.Send(w, got[:len(vals)], 0, 11)
	}
	return nil
}

type celsius float64

var p2pChecks = []check{
	{"types", func(w *mpi.Comm) error {
		return errors.Join(
			exchange(w, []int8{-128, 0, 127}), exchange(w, []int16{-32768, 7}), exchange(w, []int32{math.MinInt32, 9}),
			exchange(w, []int64{math.MinInt64, 1}), exchange(w, []int{1 << 40, -3}),
			exchange(w, []uint8{255, 0}), exchange(w, []uint16{65535}), exchange(w, []uint32{math.MaxUint32}),
			exchange(w, []uint64{math.MaxUint64}), exchange(w, []uint{1 << 63}), exchange(w, []uintptr{42}),
			exchange(w, []float32{1.5, -0}), exchange(w, []float64{math.Pi, math.Inf(-1)}),
			exchange(w, []complex64{1 + 2i}), exchange(w, []complex128{complex(math.E, -1)}),
			exchange(w, []bool{true, false, true}), exchange(w, []celsius{-40}),
			exchange(w, []mpi.Loc[float64]{{2.5, 3}}), exchange(w, []byte{}),
		)
	}},
	{"status bytes", func(w *mpi.Comm) error {
		if w.Rank() == 1 {
			return mpi.Send(w, []float64{1, 2, 3}, 0, 4)
		}
		st, err := mpi.Recv(w, make([]float64, 8), mpi.AnySource, mpi.AnyTag)
		if err != nil {
			return err
		}
		return want("source tag bytes", [3]int{st.Source, st.Tag, st.Bytes()}, [3]int{1, 4, 24})
	}},
	{"ssend and sendrecv", func(w *mpi.Comm) error {
		if w.Rank() == 0 {
			if err := mpi.Ssend(w, []int32{7}, 1, 2); err != nil {
				return err
			}
		} else if _, err := mpi.Recv(w, make([]int32, 1), 0, 2); err != nil {
			return err
		}
		got := make([]int, 1)
		st, err := mpi.Sendrecv(w, []int{w.Rank() * 10}, peer(w), 3, got, peer(w), 3)
		if err != nil {
			return err
		}
		return want("sendrecv", [2]int{got[0], st.Source}, [2]int{peer(w) * 10, peer(w)})
	}},
	{"probe", func(w *mpi.Comm) error {
		if w.Rank() == 1 {
			if err := mpi.Send(w, []uint16{1, 2, 3, 4, 5}, 0, 6); err != nil {
				return err
			}
			return mpi.Barrier(w)
		}
		if _, ok, err := mpi.Iprobe(w, 1, 99); ok || err != nil {
			return fmt.Errorf("Iprobe on an unused tag: %v, %v", ok, err)
		}
		st, err := mpi.Probe(w, mpi.AnySource, 6)
		if err != nil {
			return err
		}
		if _, ok, err := mpi.Iprobe(w, 1, 6); !ok || err != nil {
			return fmt.Errorf("Iprobe after Probe: %v, %v", ok, err)
		}
		buf := make([]uint16, mpi.Count[uint16](st))
		if _, err := mpi.Recv(w, buf, st.Source, st.Tag); err != nil {
			return err
		}
		if err := wantSlice("probed message", buf, []uint16{1, 2, 3, 4, 5}); err != nil {
			return err
		}
		return mpi.Barrier(w)
	}},
	{"mprobe", func(w *mpi.Comm) error {
		if w.Rank() == 1 {
			return mpi.Send(w, []complex128{1i, 2}, 0, 8)
		}
		m, st, err := mpi.Mprobe(w, 1, mpi.AnyTag)
		if err != nil {
			return err
		}
		buf := make([]complex128, mpi.Count[complex128](st))
		if _, err := mpi.Mrecv(m, buf); err != nil {
			return err
		}
		if _, err := mpi.Mrecv(m, buf); !errors.Is(err, os.ErrClosed) {
			return fmt.Errorf("second Mrecv: %v", err)
		}
		return wantSlice("mrecv", buf, []complex128{1i, 2})
	}},
	{"nonblocking", func(w *mpi.Comm) error {
		const n = 4
		bufs := make([][]int64, n)
		var reqs []*mpi.Request
		for i := range n {
			bufs[i] = make([]int64, 2)
			r, err := mpi.Irecv(w, bufs[i], peer(w), i)
			if err != nil {
				return err
			}
			reqs = append(reqs, r)
		}
		for i := n - 1; i >= 0; i-- {
			r, err := mpi.Isend(w, []int64{int64(i), int64(w.Rank())}, peer(w), i)
			if err != nil {
				return err
			}
			reqs = append(reqs, r)
		}
		idx, st, err := mpi.WaitAny(reqs...)
		if err != nil || idx < 0 || idx >= len(reqs) {
			return fmt.Errorf("WaitAny = %d, %v", idx, err)
		}
		if idx < n && st.Tag != idx {
			return fmt.Errorf("WaitAny status tag %d for request %d", st.Tag, idx)
		}
		sts, err := mpi.WaitAll(reqs...)
		if err != nil {
			return err
		}
		for i := range n {
			if err := wantSlice("irecv", bufs[i], []int64{int64(i), int64(peer(w))}); err != nil {
				return err
			}
			if i != idx && sts[i].Tag != i {
				return fmt.Errorf("WaitAll status %d has tag %d", i, sts[i].Tag)
			}
		}
		// TestAll polls until both sides' requests are complete.
		got := make([]float32, 1)
		r1, _ := mpi.Irecv(w, got, peer(w), 20)
		r2, _ := mpi.Isend(w, []float32{float32(w.Rank())}, peer(w), 20)
		for {
			_, ok, err := mpi.TestAll(r1, r2)
			if err != nil {
				return err
			}
			if ok {
				break
			}
		}
		if _, ok, err := r1.Test(); !ok || err != nil {
			return fmt.Errorf("Test of a completed request: %v, %v", ok, err)
		}
		return want("testall", got[0], float32(peer(w)))
	}},
	{"request set", func(w *mpi.Comm) error {
		var rs mpi.Requests
		if err := rs.WaitAll(); err != nil || rs.Len() != 0 {
			return fmt.Errorf("WaitAll of an empty set: %v, len %d", err, rs.Len())
		}
		// Three rounds on one set: each sends one buffer three times and
		// receives into three, so both the shared and the distinct pins
		// are released between rounds.
		out := make([]int32, 2)
		for round := range 3 {
			in := make([][]int32, 3)
			for i := range in {
				in[i] = make([]int32, 2)
				if err := mpi.AddIrecv(&rs, w, in[i], peer(w), i); err != nil {
					return err
				}
			}
			out[0], out[1] = int32(round), int32(w.Rank())
			for i := range 3 {
				if err := mpi.AddIsend(&rs, w, out, peer(w), i); err != nil {
					return err
				}
			}
			if err := want("Len", rs.Len(), 6); err != nil {
				return err
			}
			if err := rs.WaitAll(); err != nil {
				return err
			}
			if err := want("Len after WaitAll", rs.Len(), 0); err != nil {
				return err
			}
			for i := range in {
				if err := wantSlice("received", in[i], []int32{int32(round), int32(peer(w))}); err != nil {
					return err
				}
				st := rs.Status(i)
				if st.Source != peer(w) || st.Tag != i || mpi.Count[int32](st) != 2 || st.Err != nil {
					return fmt.Errorf("round %d status %d: %+v", round, i, st)
				}
			}
		}
		if err := wantInvalid(rs.Status(6).Err, mpi.ErrArg); err != nil {
			return fmt.Errorf("Status beyond the round: %w", err)
		}
		// A refused operation leaves the set as it was.
		if err := wantClass(mpi.AddIsend(&rs, w, out, 9, 0), mpi.ErrRank); err != nil {
			return fmt.Errorf("AddIsend to rank 9: %w", err)
		}
		if err := want("Len after a refused start", rs.Len(), 0); err != nil {
			return err
		}
		var nilSet *mpi.Requests
		if err := mpi.AddIrecv(nilSet, w, out, 0, 0); !errors.Is(err, os.ErrInvalid) {
			return fmt.Errorf("AddIrecv on a nil set: %v", err)
		}
		// In the steady state a round allocates nothing.
		msg := make([]byte, 8)
		allocs := testing.AllocsPerRun(100, func() {
			for range 4 {
				mpi.AddIsend(&rs, w, msg, mpi.ProcNull, 0)
			}
			rs.WaitAll()
		})
		return want("allocations per round", allocs, 0.0)
	}},
	{"cancel", func(w *mpi.Comm) error {
		r, err := mpi.Irecv(w, make([]int8, 1), peer(w), 77)
		if err != nil {
			return err
		}
		if err := r.Cancel(); err != nil {
			return err
		}
		st, err := r.Wait()
		if err != nil || !st.Cancelled() {
			return fmt.Errorf("cancelled receive: cancelled=%v, %v", st.Cancelled(), err)
		}
		return nil
	}},
	{"recv context", func(w *mpi.Comm) error {
		buf := make([]int, 1)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := mpi.RecvContext(ctx, w, buf, peer(w), 78)
		if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, os.ErrDeadlineExceeded) {
			return fmt.Errorf("RecvContext with nothing sent: %v, want a deadline error matching both", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			return fmt.Errorf("RecvContext returned %v after its deadline", d)
		}
		// The cancelled receive must not swallow the next message, sent once
		// both ranks have given up.
		if err := mpi.Barrier(w); err != nil {
			return err
		}
		if err := mpi.Send(w, []int{w.Rank() + 100}, peer(w), 78); err != nil {
			return err
		}
		ctx2, cancel2 := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel2()
		if _, err := mpi.RecvContext(ctx2, w, buf, peer(w), 78); err != nil {
			return err
		}
		return want("message after a cancelled receive", buf[0], peer(w)+100)
	}},
	{"goroutines", func(w *mpi.Comm) error {
		// ThreadMultiple: concurrent calls from goroutines on any thread.
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for g := range errs {
			wg.Go(func() {
				got := make([]int, 1)
				_, errs[g] = mpi.Sendrecv(w, []int{g * w.Rank()}, peer(w), 200+g, got, peer(w), 200+g)
				if errs[g] == nil {
					errs[g] = want("goroutine exchange", got[0], g*peer(w))
				}
			})
		}
		wg.Wait()
		return errors.Join(errs...)
	}},
	{"goroutines with nonblocking calls", func(w *mpi.Comm) error {
		// Small Isends (their copies), RecvContext (the package's own
		// Requests) and Persistents sets, from goroutines at once.
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for g := range errs {
			wg.Go(func() {
				got, round := make([]int, 1), make([]int, 1)
				var ps mpi.Persistents
				defer ps.Free()
				errs[g] = errors.Join(mpi.AddRecvInit(&ps, w, round, peer(w), 400+g), mpi.AddSendInit(&ps, w, []int{g + w.Rank()}, peer(w), 400+g))
				for i := 0; i < 20 && errs[g] == nil; i++ {
					r, err := mpi.Isend(w, []int{g*w.Rank() + i}, peer(w), 300+g)
					if err != nil {
						errs[g] = err
						break
					}
					_, err = mpi.RecvContext(context.Background(), w, got, peer(w), 300+g)
					_, werr := r.Wait()
					errs[g] = errors.Join(err, werr, ps.StartAll(), ps.WaitAll(),
						want("goroutine's message", got[0], g*peer(w)+i), want("goroutine's round", round[0], g+peer(w)))
				}
			})
		}
		wg.Wait()
		return errors.Join(errs...)
	}},
	{"no allocations", func(w *mpi.Comm) error {
		buf := make([]byte, 8)
		allocs := testing.AllocsPerRun(100, func() {
			if w.Rank() == 0 {
				mpi.Send(w, buf, 1, 9)
				mpi.Recv(w, buf, 1, 9)
			} else {
				mpi.Recv(w, buf, 0, 9)
				mpi.Send(w, buf, 0, 9)
			}
		})
		return want("allocations per Send+Recv", allocs, 0)
	}},
}

func childColl([]string) error {
	return suite(mpi.ThreadFunneled, slices.Concat(collChecks, aliasChecks))
}

// iota returns n ints from start.
func iota(start, n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = start + i
	}
	return s
}

var collChecks = []check{
	{"barrier and bcast", func(w *mpi.Comm) error {
		if err := mpi.Barrier(w); err != nil {
			return err
		}
		buf := []float64{0, 0}
		if w.Rank() == 2 {
			buf = []float64{1.25, -8}
		}
		if err := mpi.Bcast(w, buf, 2); err != nil {
			return err
		}
		return wantSlice("bcast", buf, []float64{1.25, -8})
	}},
	{"reduce", func(w *mpi.Comm) error {
		r := w.Rank()
		sum := make([]int64, 2)
		if err := mpi.Reduce(w, []int64{int64(r), 1}, sum, mpi.Sum, 1); err != nil {
			return err
		}
		if r == 1 {
			if err := wantSlice("reduce sum", sum, []int64{6, 4}); err != nil {
				return err
			}
		}
		inplace := []int32{int32(r + 1)}
		if err := mpi.Reduce(w, inplace, inplace, mpi.Prod, 0); err != nil {
			return err
		}
		if r == 0 {
			return want("in-place product", inplace[0], 24)
		}
		return nil
	}},
	{"allreduce", func(w *mpi.Comm) error {
		r := w.Rank()
		mx := make([]float32, 1)
		if err := mpi.Allreduce(w, []float32{float32(r) * 1.5}, mx, mpi.Max); err != nil {
			return err
		}
		buf := []uint32{1 << r, 0xf0}
		if err := mpi.Allreduce(w, buf, buf, mpi.Bor); err != nil {
			return err
		}
		flags := []bool{r == 3, true}
		if err := mpi.Allreduce(w, flags, flags, mpi.Lor); err != nil {
			return err
		}
		and := []bool{r != 3}
		if err := mpi.Allreduce(w, and, and, mpi.Land); err != nil {
			return err
		}
		loc := []mpi.Loc[float64]{{Value: float64((r + 2) % 4), Index: int32(r)}}
		if err := mpi.Allreduce(w, loc, loc, mpi.MinLoc); err != nil {
			return err
		}
		return errors.Join(want("max", mx[0], float32(4.5)), wantSlice("bor in place", buf, []uint32{15, 0xf0}),
			wantSlice("lor", flags, []bool{true, true}), want("land", and[0], false),
			want("minloc", loc[0], mpi.Loc[float64]{Value: 0, Index: 2}))
	}},
	{"gather and scatter", func(w *mpi.Comm) error {
		r, n := w.Rank(), w.Size()
		var all []int
		if r == 3 {
			all = make([]int, 2*n)
		}
		if err := mpi.Gather(w, []int{r, -r}, all, 3); err != nil {
			return err
		}
		if r == 3 {
			if err := wantSlice("gather", all, []int{0, 0, 1, -1, 2, -2, 3, -3}); err != nil {
				return err
			}
		}
		part := make([]int, 2)
		if err := mpi.Scatter(w, all, part, 3); err != nil {
			return err
		}
		if err := wantSlice("scatter", part, []int{r, -r}); err != nil {
			return err
		}
		every := make([]int16, n)
		if err := mpi.Allgather(w, []int16{int16(r * r)}, every); err != nil {
			return err
		}
		return wantSlice("allgather", every, []int16{0, 1, 4, 9})
	}},
	{"v variants", func(w *mpi.Comm) error {
		// Rank i contributes i+1 elements: 0 | 1 1 | 2 2 2 | 3 3 3 3.
		r := w.Rank()
		mine := slices.Repeat([]int8{int8(r)}, r+1)
		counts := []int{1, 2, 3, 4}
		packed := []int8{0, 1, 1, 2, 2, 2, 3, 3, 3, 3}
		var got []int8
		if r == 0 {
			got = make([]int8, 10)
		}
		if err := mpi.Gatherv(w, mine, got, counts, nil, 0); err != nil {
			return err
		}
		if r == 0 {
			if err := wantSlice("gatherv", got, packed); err != nil {
				return err
			}
		}
		back := make([]int8, r+1)
		if err := mpi.Scatterv(w, got, counts, nil, back, 0); err != nil {
			return err
		}
		if err := wantSlice("scatterv", back, mine); err != nil {
			return err
		}
		// Allgatherv with explicit displacements, in reverse rank order.
		all := make([]int8, 10)
		if err := mpi.Allgatherv(w, mine, all, counts, []int{9, 7, 4, 0}); err != nil {
			return err
		}
		return wantSlice("allgatherv", all, []int8{3, 3, 3, 3, 2, 2, 2, 1, 1, 0})
	}},
	{"alltoall", func(w *mpi.Comm) error {
		r, n := w.Rank(), w.Size()
		send := make([]int, n)
		for j := range send {
			send[j] = 10*r + j // block j goes to rank j
		}
		recv := make([]int, n)
		if err := mpi.Alltoall(w, send, recv); err != nil {
			return err
		}
		if err := wantSlice("alltoall", recv, []int{r, 10 + r, 20 + r, 30 + r}); err != nil {
			return err
		}
		// Alltoallv: rank r sends j+1 copies of r to rank j.
		var vs []uint64
		sc := make([]int, n)
		for j := range n {
			sc[j] = j + 1
			vs = append(vs, slices.Repeat([]uint64{uint64(r)}, j+1)...)
		}
		rc := []int{r + 1, r + 1, r + 1, r + 1}
		vr := make([]uint64, n*(r+1))
		if err := mpi.Alltoallv(w, vs, sc, nil, vr, rc, nil); err != nil {
			return err
		}
		var wantv []uint64
		for j := range n {
			wantv = append(wantv, slices.Repeat([]uint64{uint64(j)}, r+1)...)
		}
		return wantSlice("alltoallv", vr, wantv)
	}},
	{"scans", func(w *mpi.Comm) error {
		r := w.Rank()
		incl := make([]int, 1)
		if err := mpi.Scan(w, []int{r + 1}, incl, mpi.Sum); err != nil {
			return err
		}
		excl := []int{-1}
		if err := mpi.Exscan(w, []int{r + 1}, excl, mpi.Sum); err != nil {
			return err
		}
		wantExcl := r * (r + 1) / 2
		if r == 0 {
			wantExcl = -1 // MPI leaves rank 0's buffer alone
		}
		block := make([]complex64, 1)
		send := []complex64{1, 2i, 3, 4i}
		if err := mpi.ReduceScatterBlock(w, send, block, mpi.Sum); err != nil {
			return err
		}
		return errors.Join(want("scan", incl[0], (r+1)*(r+2)/2), want("exscan", excl[0], wantExcl),
			want("reduce_scatter_block", block[0], send[r]*4))
	}},
	{"user op", func(w *mpi.Comm) error {
		// Not commutative: ranks 0..3 contribute digits 1..4 and the result
		// reads 1234 only if MPI applies the operator in rank order.
		digits, err := mpi.NewOp(func(in, inout []int64) {
			for i := range in {
				inout[i] = in[i]*pow10(inout[i]) + inout[i]
			}
		}, false)
		if err != nil {
			return err
		}
		defer digits.Free()
		got := make([]int64, 1)
		if err := mpi.Allreduce(w, []int64{int64(w.Rank() + 1)}, got, digits); err != nil {
			return err
		}
		if err := want("ordered user op", got[0], 1234); err != nil {
			return err
		}
		norm, err := mpi.NewOp(func(in, inout []celsius) {
			for i := range in {
				inout[i] = max(inout[i], in[i]) // a named type works too
			}
		}, true)
		if err != nil {
			return err
		}
		temp := []celsius{celsius(w.Rank()) - 40}
		if err := mpi.Allreduce(w, temp, temp, norm); err != nil {
			return err
		}
		return errors.Join(want("user max", temp[0], celsius(-37)), norm.Free(), norm.Free())
	}},
	{"communicators", func(w *mpi.Comm) error {
		r := w.Rank()
		// Odd and even ranks, each ordered by descending world rank.
		half, err := w.Split(r%2, -r)
		if err != nil {
			return err
		}
		defer half.Free()
		if err := want("split rank/size", [2]int{half.Rank(), half.Size()}, [2]int{1 - r/2, 2}); err != nil {
			return err
		}
		sum := make([]int, 1)
		if err := mpi.Allreduce(half, []int{r}, sum, mpi.Sum); err != nil {
			return err
		}
		if err := want("sum over half", sum[0], map[int]int{0: 2, 1: 4}[r%2]); err != nil {
			return err
		}
		rev, err := w.Split(0, -r)
		if err != nil {
			return err
		}
		defer rev.Free()
		if cmp, err := w.Compare(rev); err != nil || cmp != mpi.Similar {
			return fmt.Errorf("Compare(World, reversed) = %v, %v", cmp, err)
		}
		none, err := w.Split(mpi.Undefined, 0)
		if none != nil || err != nil {
			return fmt.Errorf("Split(Undefined) = %v, %v", none, err)
		}
		shared, err := w.SplitType(mpi.TypeShared, 0)
		if err != nil {
			return err
		}
		defer shared.Free()
		if err := want("shared-memory size", shared.Size(), ranksOnThisHost(w)); err != nil {
			return err
		}
		g, err := w.Group()
		if err != nil {
			return err
		}
		defer g.Free()
		// A rank listed twice makes the call erroneous, which neither
		// library reported here (MPICH 4.0.2 made a group of three).
		if _, err := g.Incl(1, 3, 1); wantInvalid(err, mpi.ErrRank) != nil {
			return fmt.Errorf("Incl(1, 3, 1): %v, want ErrRank before MPI", err)
		}
		sub, err := g.Incl(3, 1)
		if err != nil {
			return err
		}
		defer sub.Free()
		subRank := map[int]int{0: mpi.Undefined, 1: 1, 2: mpi.Undefined, 3: 0}[r]
		if err := want("group size and rank", [2]int{sub.Size(), sub.Rank()}, [2]int{2, subRank}); err != nil {
			return err
		}
		tr, err := sub.Translate([]int{0, 1}, g)
		if err != nil {
			return err
		}
		if err := wantSlice("translated ranks", tr, []int{3, 1}); err != nil {
			return err
		}
		c, err := w.Create(sub)
		if err != nil {
			return err
		}
		if r%2 == 0 {
			return want("Create outside the group", c == nil, true)
		}
		defer c.Free()
		return want("created rank", c.Rank(), subRank)
	}},
}

func pow10(x int64) int64 {
	p := int64(10)
	for x >= 10 {
		p *= 10
		x /= 10
	}
	return p
}

// pythonTypes are the types csrc/mpi_types.py receives, in its order.
var pythonTypes = []string{"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
	"float32", "float64", "complex64", "complex128", "bool"}

// childPython is rank 0 of a job whose rank 1 is csrc/mpi_types.py: it sends
// [1, 2, 3] as each type, and gets back the values doubled (negated for bool).
func childPython([]string) error {
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		return err
	}
	w := mpi.World()
	err := errors.Join(
		pyRound(w, []int8{1, -2, 3}), pyRound(w, []int16{1, -2, 3}), pyRound(w, []int32{1, -2, 3}),
		pyRound(w, []int64{1, -2, 1 << 40}), pyRound(w, []uint8{1, 2, 3}), pyRound(w, []uint16{1, 2, 3}),
		pyRound(w, []uint32{1, 2, 3}), pyRound(w, []uint64{1, 2, 1 << 40}), pyRound(w, []float32{1, -2.5, 3}),
		pyRound(w, []float64{1, -2.5, 3}), pyRound(w, []complex64{1 + 1i, -2, 3i}), pyRound(w, []complex128{1 + 1i, -2, 3i}),
	)
	if err != nil {
		return err
	}
	b := []bool{true, false, true}
	if err := mpi.Send(w, b, 1, 1); err != nil {
		return err
	}
	if _, err := mpi.Recv(w, b, 1, 2); err != nil {
		return err
	}
	if err := wantSlice("bool from python", b, []bool{false, true, false}); err != nil {
		return err
	}
	sum := []int{0}
	if err := mpi.Allreduce(w, []int{2}, sum, mpi.Sum); err != nil { // python adds 40
		return err
	}
	fmt.Printf("go ok allreduce %d\n", sum[0])
	return mpi.Finalize()
}

type number interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~float32 | ~float64 | ~complex64 | ~complex128
}

func pyRound[T number](w *mpi.Comm, vals []T) error {
	if err := mpi.Send(w, vals, 1, 1); err != nil {
		return err
	}
	got := make([]T, len(vals))
	if _, err := mpi.Recv(w, got, 1, 2); err != nil {
		return err
	}
	for i := range vals {
		vals[i] *= 2
	}
	return wantSlice(fmt.Sprintf("%T from python", got), got, vals)
}

// childAbort: rank 1 records in the file args[0] that it reached Abort (a
// line on stdout could die in mpiexec's forwarding with the job), then aborts.
func childAbort(args []string) error {
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		return err
	}
	w := mpi.World()
	last := w.Size() - 1
	if w.Rank() == last {
		host, _ := os.Hostname()
		if err := os.WriteFile(args[0], []byte(fmt.Sprintf("rank %d on %s aborting\n", last, host)), 0o600); err != nil {
			return err
		}
		mpi.Abort(w, 3)
	}
	_, err := mpi.Recv(w, make([]int, 1), last, 0) // never satisfied
	return fmt.Errorf("Recv returned after Abort: %v", err)
}

func childHang([]string) error {
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		return err
	}
	fmt.Println("waiting")
	os.Stdout.Sync()
	_, err := mpi.Recv(mpi.World(), make([]int, 1), mpi.AnySource, 12345) // nobody sends
	return err
}

// ranksOnThisHost counts the ranks of c whose processor name is this rank's:
// the size of its shared-memory communicator, on one host or across hosts.
func ranksOnThisHost(c *mpi.Comm) int {
	const max = 256
	name, _ := mpi.ProcessorName()
	own := make([]byte, max)
	copy(own, name)
	all := make([]byte, max*c.Size())
	if err := mpi.Allgather(c, own, all); err != nil {
		return -1
	}
	n := 0
	for r := range c.Size() {
		if host, _, _ := bytes.Cut(all[r*max:(r+1)*max], []byte{0}); string(host) == name {
			n++
		}
	}
	return n
}
