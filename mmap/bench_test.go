package mmap_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/mmap"
)

// The ping-pong protocol is testutil's flag ping-pong (csrc/flag_pingpong.h
// in C).
const (
	pingOff  = testutil.PingOffset
	pongOff  = testutil.PongOffset
	areaSize = testutil.FlagArea
	flagPing = testutil.FlagPing
	flagPong = testutil.FlagPong
	flagQuit = testutil.FlagQuit
)

// BenchmarkPingPong measures round trips between this process and a peer
// process through shared memory, beside csrc/mmap_pingpong.c doing the same.
// The Go peers move the message two ways: in place through Bytes, as the C
// program's memcpy does ("go"), and through the fault-safe WriteAt and ReadAt
// ("go-readat"). The machine's load changes from second to second, so the
// three take turns: pingPongRounds rounds of b.N/pingPongRounds round trips
// each. ns/op is the mean of "go"; the metrics give medians and 99th
// percentiles, and the Go variants' ratios to C.
func BenchmarkPingPong(b *testing.B) {
	for _, size := range []int{8, 4096} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) { benchPingPong(b, size) })
	}
}

const (
	pingPongRounds = 10
	// Every peer, in Go and in C (csrc/mmap_pingpong.c), makes at least
	// warmup untimed round trips, for at least testutil.WarmupTime, before
	// it times any. A Go process's runtime has a monitor thread (sysmon) that polls
	// every 20 µs for its first 50 polls after the process starts or wakes
	// from idle (waiting for the peer to start), then backs off to 10 ms over
	// about 10 ms more; here each poll that lands on a spinner's CPU stalls the
	// round trip for 20-40 µs (see doc.go, "Performance"). The benchmark
	// measures the steady state that follows.
	warmup = 100
)

func benchPingPong(b *testing.B, size int) {
	cProgram := testutil.BuildC(b, "mmap_pingpong")
	m, err := mmap.Shared(areaSize)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	// The spinning goroutine keeps its thread, which is pinned to a CPU.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	b.StopTimer()
	var lat testutil.Latencies
	var sum time.Duration
	testutil.Turns(b.N, pingPongRounds, func(n int) {
		inPlace := goRound(b, m, size, n, false)
		for _, d := range inPlace {
			sum += d
		}
		lat.Add("go", inPlace...)
		lat.Add("go-readat", goRound(b, m, size, n, true)...)
		c := exec.Command(cProgram, strconv.Itoa(size), strconv.Itoa(n), "--samples")
		lat.Add("c", testutil.CSamples(b, n, c)...)
	})
	b.ReportMetric(float64(sum)/float64(b.N), "ns/op")
	lat.Report(b, "go/c", "go-readat/c")
}

// goRound starts a Go peer on the shared memory m and times n round trips of
// size bytes, moved in place or, with safe, through WriteAt and ReadAt. Like
// the C program it reads the monotonic clock twice per round trip
// (time.Since; time.Now would read the wall clock too).
func goRound(b *testing.B, m *mmap.Mapping, size, n int, safe bool) []time.Duration {
	flag, err := m.AtomicUint32(0)
	if err != nil {
		b.Fatal(err)
	}
	flag.Store(0)
	cmd := testutil.Child("pingpong", strconv.Itoa(size), strconv.FormatBool(safe))
	cmd.ExtraFiles = []*os.File{m.File()} // descriptor 3 in the peer
	peer := testutil.Start(b, cmd)
	peer.Expect("ready")
	// Pinned after starting the peer, which would inherit the mask.
	unpin, err := testutil.PinThread(0)
	if err != nil {
		b.Fatal(err)
	}
	defer unpin()

	msg, reply := bytes.Repeat([]byte{'p'}, size), make([]byte, size)
	mv := newMover(m, safe)
	base := time.Now()
	roundTrip := func() time.Duration {
		start := time.Since(base)
		if err := mv.put(msg, pingOff); err != nil {
			b.Fatal(err)
		}
		flag.Store(flagPing)
		testutil.AwaitFlag(flag, flagPong, flagPong)
		if err := mv.get(reply, pongOff); err != nil {
			b.Fatal(err)
		}
		return time.Since(base) - start
	}
	testutil.WarmUp(warmup, func() error { roundTrip(); return nil })
	samples := make([]time.Duration, n)
	if !safe {
		b.StartTimer()
	}
	for i := range samples {
		samples[i] = roundTrip()
	}
	b.StopTimer()
	flag.Store(flagQuit)
	peer.MustSucceed()
	if !bytes.Equal(reply, msg) {
		b.Fatalf("the reply differs from the message")
	}
	return samples
}

// mover copies messages into and out of the mapping: in place (the slice is
// taken once, as a C program keeps its pointer), or with safe through WriteAt
// and ReadAt.
type mover struct {
	m    *mmap.Mapping
	mem  []byte
	safe bool
}

func newMover(m *mmap.Mapping, safe bool) mover { return mover{m, m.Bytes(), safe} }

func (v mover) put(p []byte, off int) error {
	if !v.safe {
		copy(v.mem[off:], p)
		return nil
	}
	_, err := v.m.WriteAt(p, int64(off))
	return err
}

func (v mover) get(p []byte, off int) error {
	if !v.safe {
		copy(p, v.mem[off:])
		return nil
	}
	_, err := v.m.ReadAt(p, int64(off))
	return err
}

// childPingPong is the peer of benchPingPong: it answers every ping with the
// message it found, through the shared memory inherited as descriptor 3.
func childPingPong(args []string) error {
	size, err := strconv.Atoi(args[0])
	if err != nil {
		return err
	}
	safe, err := strconv.ParseBool(args[1])
	if err != nil {
		return err
	}
	f := os.NewFile(3, "shared")
	m, err := mmap.Inherit(f)
	f.Close()
	if err != nil {
		return err
	}
	defer m.Close()
	flag, err := m.AtomicUint32(0)
	if err != nil {
		return err
	}
	runtime.LockOSThread()
	if _, err := testutil.PinThread(1); err != nil {
		return err
	}
	buf, mv := make([]byte, size), newMover(m, safe)
	fmt.Println("ready")
	for testutil.AwaitFlag(flag, flagPing, flagQuit) == flagPing {
		if err := mv.get(buf, pingOff); err != nil {
			return err
		}
		if err := mv.put(buf, pongOff); err != nil {
			return err
		}
		flag.Store(flagPong)
	}
	return nil
}

// BenchmarkSequentialRead scans a 32 MiB file from start to end for a byte it
// does not hold: through a mapping with ReadAt (copying pieces, as pread
// does), through a mapping in place (Bytes, no copy), and with os.File.ReadAt
// (pread). The file is in the page cache after the first pass. The pieces are
// 128 KiB: Go's memmove writes copies of 1 MiB and more around the cache
// (non-temporal stores), which would make the scan after a ReadAt of the
// mapping read memory rather than cache.
func BenchmarkSequentialRead(b *testing.B) {
	const size, chunk = 32 << 20, 128 << 10
	path := filepath.Join(b.TempDir(), "big")
	if err := os.WriteFile(path, bytes.Repeat([]byte("0123456789abcdef"), size/16), 0o600); err != nil {
		b.Fatal(err)
	}
	m, err := mmap.Open(path, mmap.ReadOnly)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	if err := m.Advise(mmap.Sequential); err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()

	buf := make([]byte, chunk)
	scan := func(b *testing.B, r io.ReaderAt) {
		b.SetBytes(size)
		for b.Loop() {
			for off := int64(0); off < size; off += chunk {
				if _, err := r.ReadAt(buf, off); err != nil {
					b.Fatal(err)
				}
				if bytes.IndexByte(buf, 'z') >= 0 {
					b.Fatal("found a byte the file does not hold")
				}
			}
		}
	}
	b.Run("mmap-ReadAt", func(b *testing.B) { scan(b, m) })
	b.Run("mmap-Bytes", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			if bytes.IndexByte(m.Bytes(), 'z') >= 0 {
				b.Fatal("found a byte the file does not hold")
			}
		}
	})
	b.Run("file-ReadAt", func(b *testing.B) { scan(b, f) })
}
