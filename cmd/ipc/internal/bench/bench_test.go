package bench

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/ring"
)

// AckDue must put an acknowledgement at the end of the warm-up and of the
// run, and every window messages from the first timed one, as the C and
// Python peers do.
func TestAckDue(t *testing.T) {
	var acks []int
	for i := range 3 + 10 {
		if AckDue(i, 3, 13, 4) {
			acks = append(acks, i)
		}
	}
	// warm-up 0..2 acknowledged after 2; timed 3..12 after 6, 10 and 12.
	if want := []int{2, 6, 10, 12}; !slices.Equal(acks, want) {
		t.Errorf("acknowledged after %v, want %v", acks, want)
	}
}

func TestSizesAndLimits(t *testing.T) {
	mq, sem := posixMQMech, posixSemMech
	limit, _ := mq.Limit()
	if got := mq.Sizes([]int{64, 1 << 20}, true); !slices.Equal(got, []int{64, limit}) {
		t.Errorf("posix-mq default sizes clipped to %v, want [64 %d]", got, limit)
	}
	if got := mq.Sizes([]int{64, 1 << 20}, false); !slices.Equal(got, []int{64, 1 << 20}) {
		t.Errorf("posix-mq sizes given %v, want them as given", got)
	}
	if err := mq.CheckSize(limit + 1); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("CheckSize above the limit: %v", err)
	}
	if got := sem.Sizes([]int{64}, false); !slices.Equal(got, []int{0}) {
		t.Errorf("doorbell sizes %v, want [0]", got)
	}
	if err := sem.CheckSize(1); err == nil || !strings.Contains(err.Error(), "no payload") {
		t.Errorf("CheckSize of a doorbell with a payload: %v", err)
	}
	if err := tcpMech.CheckSize(1 << 30); err != nil {
		t.Errorf("tcp has no limit, CheckSize: %v", err)
	}
}

// Each ring of the ring mechanism takes a message of every size up to its
// limit, and a throughput window of small ones.
func TestRingCapacity(t *testing.T) {
	limit, _ := ringMech.Limit()
	for _, size := range []int{0, 1, 64, 4096, 64 << 10, 1 << 20, limit} {
		r, err := ring.New(&ring.Options{Capacity: ringCapacity(size)})
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if r.MaxMessage() < size {
			t.Errorf("ring for messages of %d bytes takes at most %d", size, r.MaxMessage())
		}
		if size <= 4096 && r.Capacity() < ringWindow*(size+8) {
			t.Errorf("ring for messages of %d bytes holds %d bytes, less than a window of %d", size, r.Capacity(), ringWindow)
		}
		r.Close()
	}
}

// Abort wakes a Recv that waits on a ring or an eventfd, and removing the
// run's objects leaves no shared memory object and no descriptor behind.
func TestAbortAndRemove(t *testing.T) {
	for _, tc := range []struct {
		m            *Mechanism
		state, where string // how the waiting Recv shows in a goroutine dump
	}{
		{ringMech, "syscall", "ring.futexWait"},
		{eventfdMech, "IO wait", "unixfd.(*EventFD).Wait"},
	} {
		t.Run(tc.m.Name, func(t *testing.T) {
			fds := testutil.OpenFiles(t)
			o, err := NewObjects()
			if err != nil {
				t.Fatal(err)
			}
			plan, err := tc.m.Setup(o, tc.m.Sizes([]int{64}, true)[0])
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range plan.Files { // as the runner does once the peer started
				f.Close()
			}
			conn, err := plan.Connect(0, nil)
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- conn.Recv(make([]byte, 64)) }()
			testutil.WaitGoroutines(t, 1, tc.state, tc.where)
			conn.Abort()
			if err := testutil.Recv(t, done); err == nil {
				t.Error("Recv returned no error after Abort")
			}
			conn.Close()
			o.Close()
			if left, _ := filepath.Glob("/dev/shm/" + o.prefix + "-*"); len(left) > 0 {
				t.Errorf("objects left behind: %v", left)
			}
			if now := testutil.OpenFiles(t); now != fds {
				t.Errorf("%d descriptors open after the run, %d before", now, fds)
			}
		})
	}
}

// rounds makes a round of n messages of d each.
func fakeRound(n int, d time.Duration) roundResult {
	h := newHistogram()
	h.RecordValues(int64(d), int64(n))
	return roundResult{hist: h, elapsed: time.Duration(n) * d, messages: n, cpu: time.Duration(n) * d}
}

func TestSummarize(t *testing.T) {
	c := Case{Mech: tcpMech, Size: 64, Mode: Latency, Placement: CrossCore}
	peers := []Peer{PeerGo, PeerC, PeerPython}
	rounds := [][]roundResult{
		{fakeRound(100, 20*time.Microsecond), fakeRound(100, 30*time.Microsecond), fakeRound(100, 20*time.Microsecond)},
		{fakeRound(100, 10*time.Microsecond)},
		nil,
	}
	res := summarize(c, peers, rounds, []error{nil, nil, skipf("no python")})
	g, cres, py := res[0], res[1], res[2]
	if g.Messages != 300 || len(g.Rounds) != 3 || g.P50 < 19900 || g.P50 > 20100 {
		t.Errorf("go row: %+v", g)
	}
	if g.Spread < 0.49 || g.Spread > 0.51 {
		t.Errorf("spread of round p50s 20, 30, 20us = %v, want 0.5", g.Spread)
	}
	if g.GoCP50 < 1.99 || g.GoCP50 > 2.01 || g.GoPythonP50 != 0 {
		t.Errorf("go/c p50 = %v, go/python %v; want 2 and none", g.GoCP50, g.GoPythonP50)
	}
	if cpu := *cres.CPUPerMsg; cpu != float64(10*time.Microsecond) {
		t.Errorf("c row's CPU per message %v, want 10us", cpu)
	}
	if py.Skipped != "no python" || py.Messages != 0 {
		t.Errorf("python row: %+v", py)
	}
	var table bytes.Buffer
	if err := WriteTable(&table, res); err != nil {
		t.Fatal(err)
	}
	if out := table.String(); !strings.Contains(out, "skipped: no python") || !strings.Contains(out, "2.00x") {
		t.Errorf("table lacks the skip reason or the Go/C ratio:\n%s", out)
	}
}

func TestWriteChart(t *testing.T) {
	c := Case{Mech: tcpMech, Mode: Latency, Placement: CrossCore}
	var results []Result
	for _, size := range []int{64, 4096} {
		c.Size = size
		results = append(results, summarize(c, []Peer{PeerGo, PeerC},
			[][]roundResult{{fakeRound(10, time.Duration(size))}, {fakeRound(10, time.Duration(2*size))}}, make([]error, 2))...)
	}
	c.Mech, c.Size = posixSemMech, 0
	results = append(results, summarize(c, []Peer{PeerGo}, [][]roundResult{{fakeRound(10, time.Microsecond)}}, make([]error, 1))...)
	dir := t.TempDir()
	for name, magic := range map[string]string{"c.png": "\x89PNG", "c.svg": "<?xml"} {
		path := filepath.Join(dir, name)
		if err := WriteChart(path, results); err != nil {
			t.Fatalf("WriteChart %s: %v", name, err)
		}
		b, err := os.ReadFile(path)
		if err != nil || !bytes.HasPrefix(b, []byte(magic)) {
			t.Errorf("%s does not start with %q: %v %q", name, magic, err, b[:min(len(b), 16)])
		}
	}
	if err := CheckOutputPath(filepath.Join(dir, "missing", "c.png")); err == nil {
		t.Error("CheckOutputPath accepted a missing directory")
	}
}

// lastLine gives a failed row the launcher's or peer's last words, not the
// rule of dashes Open MPI's mpiexec ends its reports with.
func TestLastLine(t *testing.T) {
	openMPI := `--------------------------------------------------------------------------
mpiexec.openmpi noticed that process rank 1 with PID 0 on node vm exited on signal 9 (Killed).
--------------------------------------------------------------------------
`
	for in, want := range map[string]string{
		openMPI:                           "mpiexec.openmpi noticed that process rank 1 with PID 0 on node vm exited on signal 9 (Killed).",
		"a\nb\n":                          "b",
		"":                                "",
		"-----\n=====\n":                  "",
		"ipc: mq_open /x: no such file\n": "ipc: mq_open /x: no such file",
	} {
		if got := lastLine(in); got != want {
			t.Errorf("lastLine(%q) = %q, want %q", in, got, want)
		}
	}
}
