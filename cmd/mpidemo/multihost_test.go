package main

import (
	"strings"
	"testing"
	"time"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/mpi/mpitest"
)

// The multi-host tests run mpidemo across test hosts (testhosts/testhosts):
// network namespaces on a private bridge, each with its own hostname, IPC
// and /dev/shm, reached by the real launcher through its ssh mechanism, so
// that ranks on different hosts talk TCP as between machines.

// TestAcrossHosts runs every mpidemo program on 2 hosts x 1 rank and 2 x 2.
func TestAcrossHosts(t *testing.T) {
	for _, perHost := range []int{1, 2} {
		t.Run(map[int]string{1: "2x1", 2: "2x2"}[perHost], func(t *testing.T) {
			h := mpitest.StartHosts(t, 2, perHost)
			n := 2 * perHost
			t.Run("hosts", func(t *testing.T) {
				var placed []string // by slot: the first host fills up first
				for _, node := range h.Nodes {
					for range perHost {
						placed = append(placed, node)
					}
				}
				checkHosts(t, h.Must(t, env, mpidemo(n, "hosts")), placed)
			})
			t.Run("classic", func(t *testing.T) { checkClassic(t, h.Must(t, env, mpidemo(n))) })
			t.Run("ring", func(t *testing.T) { checkRing(t, h.Must(t, env, mpidemo(n, "ring")), n) })
			t.Run("pi", func(t *testing.T) { checkPi(t, h.Must(t, env, mpidemo(n, piArgs...)), n) })
			t.Run("pingpong", func(t *testing.T) { checkLatencyTable(t, h.Must(t, env, mpidemo(n, pingpongArgs...))) })
			t.Run("bw", func(t *testing.T) { checkBandwidthTable(t, h.Must(t, env, mpidemo(n, bwArgs...))) })
			h.NoLeftovers(t)
		})
	}
}

// TestAcrossHostsWithC runs a Go rank on one host and a C rank on the other,
// in both roles of the classic example and as the pingpong's peer.
func TestAcrossHostsWithC(t *testing.T) {
	h := mpitest.StartHosts(t, 2, 1)
	classicC := mpitest.App{N: 1, Argv: []string{testutil.BuildC(t, "mpi_classic", mpitest.CFlags(t)...)}}
	benchC := mpitest.App{N: 1, Argv: append([]string{testutil.BuildC(t, "mpi_bench", mpitest.CFlags(t)...)}, pingpongArgs...)}
	t.Run("go receives", func(t *testing.T) { checkClassic(t, h.Must(t, env, mpidemo(1), classicC)) })
	t.Run("go sends", func(t *testing.T) { checkClassic(t, h.Must(t, env, classicC, mpidemo(1))) })
	t.Run("pingpong", func(t *testing.T) {
		r := h.Must(t, env, mpidemo(1, pingpongArgs...), benchC)
		if !strings.HasPrefix(r.Stdout, "# mpidemo pingpong: Go, ") {
			t.Fatalf("rank 0 is not Go's:\n%s", r.Stdout)
		}
		checkLatencyTable(t, r)
	})
	h.NoLeftovers(t)
}

// TestUnreachableHost lists a host that no machine answers: the launcher
// must fail the job, naming the host, within the job's timeout, and leave
// nothing running on the host it did reach.
func TestUnreachableHost(t *testing.T) {
	defer func(d time.Duration) { mpitest.Timeout = d }(mpitest.Timeout)
	mpitest.Timeout = 12 * time.Second // MPICH's Hydra waits for the host until its timeout
	h := mpitest.StartHosts(t, 1, 1, "-o")
	r := h.Run(t, env, mpidemo(2))
	if r.Err == nil || strings.Contains(r.Err.Error(), "hung") {
		t.Fatalf("job with an unreachable host: %v, want the launcher to fail it\nstdout:\n%s\nstderr:\n%s", r.Err, r.Stdout, r.Stderr)
	}
	if !strings.Contains(r.Stderr, "ssh: connect to host "+h.Offline) {
		t.Fatalf("the launcher's error does not name %s:\n%s", h.Offline, r.Stderr)
	}
	h.NoLeftovers(t)
}

// BenchmarkAcrossHosts measures the one-way latency of 8-byte messages
// between two test hosts, one rank each: Go's pingpong, C's
// (csrc/mpi_bench.c) and plain TCP between the same hosts
// (csrc/tcp_pingpong.c, waiting in recv and polling), in alternating rounds
// of one run, and reports the best round of each in µs with the ratios Go/C
// and C/TCP: on a shared machine the best round is the one least disturbed.
//
//	go test -run '^$' -bench AcrossHosts ./cmd/mpidemo               # Open MPI
//	go test -run '^$' -bench AcrossHosts -tags mpich ./cmd/mpidemo   # MPICH
func BenchmarkAcrossHosts(b *testing.B) {
	h := mpitest.StartHosts(b, 2, 1)
	args := []string{"pingpong", "--sizes", "8", "--iters", "10000"}
	benchC := mpitest.App{N: 2, Argv: append([]string{testutil.BuildC(b, "mpi_bench", mpitest.CFlags(b)...)}, args...)}
	tcp := testutil.BuildC(b, "tcp_pingpong")
	measures := []struct {
		unit string
		run  func() float64
	}{
		{"go-us@8B", func() float64 { return table(b, h.Must(b, env, mpidemo(2, args...)).Stdout)[8] }},
		{"c-us@8B", func() float64 { return table(b, h.Must(b, env, benchC).Stdout)[8] }},
		{"tcp-us@8B", func() float64 { return tcpPingpong(b, h, tcp, "block") }},
		{"tcp-spin-us@8B", func() float64 { return tcpPingpong(b, h, tcp, "spin") }},
	}
	best := make([]float64, len(measures))
	for b.Loop() {
		for range 3 {
			for i, m := range measures {
				if v := m.run(); best[i] == 0 || v < best[i] {
					best[i] = v
				}
			}
		}
	}
	for i, m := range measures {
		b.ReportMetric(best[i], m.unit)
	}
	b.ReportMetric(best[0]/best[1], "go/c")
	b.ReportMetric(best[1]/best[2], "c/tcp")
}

// tcpPingpong runs csrc/tcp_pingpong between the first two nodes and returns
// its one-way latency at 8 bytes, in µs.
func tcpPingpong(b *testing.B, h *mpitest.Hosts, prog, mode string) float64 {
	echo := testutil.Start(b, h.On(h.Nodes[1], prog, "echo", "50007"))
	echo.Expect("listening")
	out, err := h.On(h.Nodes[0], prog, "ping", h.Nodes[1], "50007", "8", "10000", mode).Output()
	if err != nil {
		b.Fatalf("tcp_pingpong ping: %v\n%s", err, out)
	}
	echo.MustSucceed()
	return table(b, string(out))[8]
}
