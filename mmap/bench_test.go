package mmap_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/mmap"
)

// The ping-pong protocol, the same as csrc/mmap_pingpong.c: a flag word at
// offset 0 and two message areas on pages of their own. The parent writes a
// message and sets the flag to ping; the child copies it out, writes it back
// as the reply and sets the flag to pong; quit ends the child.
const (
	pingOff         = 4096
	pongOff         = 8192
	areaSize        = 3 * 4096
	flagPing uint32 = 1
	flagPong uint32 = 2
	flagQuit uint32 = 3
	// spinLimit loads of the flag before each sched_yield: two cores shared
	// by several processes leave the peer descheduled at times, and spinning
	// on would only keep it off the core.
	spinLimit = 200
)

// yield gives the core to another thread (sched_yield). runtime.Gosched would
// not: it only lets other goroutines run.
func yield() { unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0) }

// await spins until the flag holds one of the wanted values and returns it.
func await(flag *atomic.Uint32, want1, want2 uint32) uint32 {
	for i := 0; ; i++ {
		if v := flag.Load(); v == want1 || v == want2 {
			return v
		}
		if i >= spinLimit {
			yield()
		}
	}
}

func BenchmarkPingPong(b *testing.B) {
	for _, size := range []int{8, 4096} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) { benchPingPong(b, size) })
	}
}

func benchPingPong(b *testing.B, size int) {
	m, err := mmap.Shared(areaSize)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	flag, err := m.AtomicUint32(0)
	if err != nil {
		b.Fatal(err)
	}
	cmd := testutil.Child("pingpong", strconv.Itoa(size))
	cmd.ExtraFiles = []*os.File{m.File()}
	peer := testutil.Start(b, cmd)
	peer.Expect("ready")

	msg, reply := bytes.Repeat([]byte{'p'}, size), make([]byte, size)
	samples := make([]time.Duration, b.N)
	b.ResetTimer()
	for i := range samples {
		start := time.Now()
		if _, err := m.WriteAt(msg, pingOff); err != nil {
			b.Fatal(err)
		}
		flag.Store(flagPing)
		await(flag, flagPong, flagPong)
		if _, err := m.ReadAt(reply, pongOff); err != nil {
			b.Fatal(err)
		}
		samples[i] = time.Since(start)
	}
	b.StopTimer()
	flag.Store(flagQuit)
	peer.MustSucceed()
	if !bytes.Equal(reply, msg) {
		b.Fatalf("the reply differs from the message")
	}
	goMedian, goP99 := quantiles(samples)

	// The same protocol in C, as many round trips, in this same invocation.
	out, err := exec.Command(testutil.BuildC(b, "mmap_pingpong"), strconv.Itoa(size), strconv.Itoa(b.N)).Output()
	if err != nil {
		b.Fatalf("mmap_pingpong: %v", err)
	}
	var cMedian, cP99 float64
	if _, err := fmt.Sscan(string(out), &cMedian, &cP99); err != nil {
		b.Fatalf("mmap_pingpong printed %q: %v", out, err)
	}
	b.ReportMetric(goMedian, "go-median-ns")
	b.ReportMetric(goP99, "go-p99-ns")
	b.ReportMetric(cMedian, "c-median-ns")
	b.ReportMetric(cP99, "c-p99-ns")
	b.ReportMetric(goMedian-cMedian, "go-c-median-ns")
}

func quantiles(samples []time.Duration) (median, p99 float64) {
	slices.Sort(samples)
	return float64(samples[len(samples)/2]), float64(samples[len(samples)*99/100])
}

// childPingPong is the peer of benchPingPong: it answers every ping with the
// message it found, through the shared memory inherited as descriptor 3.
func childPingPong(args []string) error {
	size, err := strconv.Atoi(args[0])
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
	buf := make([]byte, size)
	fmt.Println("ready")
	for await(flag, flagPing, flagQuit) == flagPing {
		if _, err := m.ReadAt(buf, pingOff); err != nil {
			return err
		}
		if _, err := m.WriteAt(buf, pongOff); err != nil {
			return err
		}
		flag.Store(flagPong)
	}
	return nil
}

// BenchmarkSequentialRead reads a 32 MiB file from start to end in 1 MiB
// pieces: through a mapping (ReadAt, which copies) against os.File.ReadAt
// (pread). The file is in the page cache after the first pass.
func BenchmarkSequentialRead(b *testing.B) {
	const size, chunk = 32 << 20, 1 << 20
	path := filepath.Join(b.TempDir(), "big")
	if err := os.WriteFile(path, bytes.Repeat([]byte("0123456789abcdef"), size/16), 0o600); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, chunk)
	read := func(b *testing.B, r interface {
		ReadAt([]byte, int64) (int, error)
	}) {
		b.SetBytes(size)
		for b.Loop() {
			for off := int64(0); off < size; off += chunk {
				if _, err := r.ReadAt(buf, off); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.Run("mmap", func(b *testing.B) {
		m, err := mmap.Open(path, mmap.ReadOnly)
		if err != nil {
			b.Fatal(err)
		}
		defer m.Close()
		if err := m.Advise(mmap.Sequential); err != nil {
			b.Fatal(err)
		}
		read(b, m)
	})
	b.Run("file", func(b *testing.B) {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		read(b, f)
	})
}
