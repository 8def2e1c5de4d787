package bench

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/sys/unix"
)

// Result is one row: a case measured with one peer over every round. The
// JSON names are those of the CLI contract (shared/CLI.md, beside the repository).
type Result struct {
	Mechanism string  `json:"mechanism"`
	Size      int     `json:"size"`
	Peer      Peer    `json:"peer"`
	Placement string  `json:"placement"`
	Mode      Mode    `json:"mode"`
	P50       int64   `json:"p50_ns"`
	P99       int64   `json:"p99_ns"`
	P999      int64   `json:"p999_ns"`
	Max       int64   `json:"max_ns"`
	MsgsPerS  float64 `json:"msgs_per_s"` // round trips per second in latency mode
	// CPUPerMsg is the CPU time of both processes per timed message; null
	// where it is not measured (MPI ranks are mpiexec's children).
	CPUPerMsg *float64 `json:"cpu_ns_per_msg"`
	Messages  int      `json:"messages"` // timed, over all rounds
	Rounds    []Round  `json:"rounds"`
	// Spread is the rounds' p50 range over their median: 0.1 means the
	// slowest and the fastest round differ by 10% of the typical one.
	Spread float64 `json:"spread"`
	// On the Go peer's row: its p50 and p99 over those of the C and the
	// Python peer.
	GoCP50      float64 `json:"go_c_p50,omitempty"`
	GoCP99      float64 `json:"go_c_p99,omitempty"`
	GoPythonP50 float64 `json:"go_python_p50,omitempty"`
	GoPythonP99 float64 `json:"go_python_p99,omitempty"`
	Skipped     string  `json:"skipped,omitempty"` // why it did not run on this machine
	Error       string  `json:"error,omitempty"`   // why it failed
}

// Round is one round's figures.
type Round struct {
	P50      int64   `json:"p50_ns"`
	P99      int64   `json:"p99_ns"`
	MsgsPerS float64 `json:"msgs_per_s"`
}

// Failed counts the results that failed (not the skipped ones).
func Failed(results []Result) int {
	n := 0
	for _, r := range results {
		if r.Error != "" {
			n++
		}
	}
	return n
}

func summarize(c Case, peers []Peer, rounds [][]roundResult, errs []error) []Result {
	out := make([]Result, len(peers))
	for i, peer := range peers {
		res := Result{Mechanism: c.Mech.Name, Size: c.Size, Peer: peer, Placement: string(c.Placement), Mode: c.Mode}
		var skip skipError
		switch {
		case errors.As(errs[i], &skip):
			res.Skipped = skip.reason
		case errs[i] != nil && !errors.Is(errs[i], ErrInterrupted):
			res.Error = errs[i].Error()
		}
		if len(rounds[i]) > 0 {
			res.fill(rounds[i])
		} else if res.Skipped == "" && res.Error == "" {
			res.Skipped = "interrupted before it ran"
		}
		out[i] = res
	}
	goRow := slices.IndexFunc(out, func(r Result) bool { return r.Peer == PeerGo && r.Messages > 0 })
	for i := range out {
		if goRow < 0 || out[i].Messages == 0 {
			continue
		}
		g := &out[goRow]
		switch out[i].Peer {
		case PeerC:
			g.GoCP50, g.GoCP99 = ratio(g.P50, out[i].P50), ratio(g.P99, out[i].P99)
		case PeerPython:
			g.GoPythonP50, g.GoPythonP99 = ratio(g.P50, out[i].P50), ratio(g.P99, out[i].P99)
		}
	}
	return out
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// fill sets the figures from the rounds.
func (res *Result) fill(rounds []roundResult) {
	all := newHistogram()
	var elapsed, cpu time.Duration
	cpuKnown := true
	var p50s []float64
	for _, rr := range rounds {
		all.Merge(rr.hist)
		elapsed += rr.elapsed
		res.Messages += rr.messages
		if rr.cpu < 0 {
			cpuKnown = false
		}
		cpu += rr.cpu
		round := Round{P50: rr.hist.ValueAtQuantile(50), P99: rr.hist.ValueAtQuantile(99)}
		if rr.elapsed > 0 {
			round.MsgsPerS = float64(rr.messages) / rr.elapsed.Seconds()
		}
		res.Rounds = append(res.Rounds, round)
		p50s = append(p50s, float64(round.P50))
	}
	res.P50, res.P99, res.P999, res.Max = all.ValueAtQuantile(50), all.ValueAtQuantile(99), all.ValueAtQuantile(99.9), all.Max()
	if elapsed > 0 {
		res.MsgsPerS = float64(res.Messages) / elapsed.Seconds()
	}
	if cpuKnown && res.Messages > 0 {
		v := float64(cpu.Nanoseconds()) / float64(res.Messages)
		res.CPUPerMsg = &v
	}
	slices.Sort(p50s)
	if med := p50s[len(p50s)/2]; med > 0 {
		res.Spread = (p50s[len(p50s)-1] - p50s[0]) / med
	}
}

// WriteTable prints one line per result; a skipped or failed one says why
// in the last column.
func WriteTable(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "MECHANISM\tSIZE\tPEER\tPLACE\tMODE\tP50\tP99\tP99.9\tMAX\tMSGS/S\tCPU/MSG\tSPREAD\tGO/C P50\tGO/C P99\tGO/PY P50\tGO/PY P99\t  NOTE")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t", r.Mechanism, sizeText(r.Size), r.Peer, r.Placement, r.Mode)
		if r.Messages == 0 {
			note := "skipped: " + r.Skipped
			if r.Error != "" {
				note = "FAILED: " + r.Error
			}
			fmt.Fprintf(tw, "%s  %s\n", strings.Repeat("-\t", 11), note)
			continue
		}
		cpu := "-"
		if r.CPUPerMsg != nil {
			cpu = duration(int64(*r.CPUPerMsg))
		}
		note := ""
		if r.Error != "" {
			note = "  FAILED in a later round: " + r.Error
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%.0f%%\t%s\t%s\t%s\t%s\t%s\n",
			duration(r.P50), duration(r.P99), duration(r.P999), duration(r.Max),
			rate(r.MsgsPerS), cpu, 100*r.Spread,
			times(r.GoCP50), times(r.GoCP99), times(r.GoPythonP50), times(r.GoPythonP99), note)
	}
	return tw.Flush()
}

func sizeText(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprint(n)
}

// duration prints nanoseconds with three significant digits.
func duration(ns int64) string {
	d := float64(ns)
	switch {
	case d >= 1e9:
		return fmt.Sprintf("%.3gs", d/1e9)
	case d >= 1e6:
		return fmt.Sprintf("%.3gms", d/1e6)
	case d >= 1e3:
		return fmt.Sprintf("%.3gus", d/1e3)
	}
	return fmt.Sprintf("%dns", ns)
}

func rate(r float64) string {
	switch {
	case r >= 1e6:
		return fmt.Sprintf("%.3gM", r/1e6)
	case r >= 1e3:
		return fmt.Sprintf("%.3gk", r/1e3)
	}
	return fmt.Sprintf("%.3g", r)
}

func times(x float64) string {
	if x == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", x)
}

// Machine describes where the figures were measured.
type Machine struct {
	CPU        string            `json:"cpu"`
	Cores      int               `json:"cores"`
	Kernel     string            `json:"kernel"`
	Go         string            `json:"go"`
	Python     string            `json:"python,omitempty"`
	MPI        map[string]string `json:"mpi,omitempty"` // launcher: version
	LoadAvg    string            `json:"loadavg"`       // at the start
	Started    time.Time         `json:"started"`
	CPUsPinned []int             `json:"cpus"` // the initiator's CPU, then the peer's for cross placement
}

// DescribeMachine collects the machine's description for cfg's peers.
func DescribeMachine(cfg *Config) Machine {
	m := Machine{Cores: runtime.NumCPU(), Go: runtime.Version(), Started: time.Now().UTC()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m.Kernel = unix.ByteSliceToString(u.Sysname[:]) + " " + unix.ByteSliceToString(u.Release[:])
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		m.LoadAvg = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	if out, err := exec.Command(cfg.Python, "--version").Output(); err == nil {
		m.Python = strings.TrimSpace(string(out))
	}
	for _, l := range cfg.MPI.launchers() {
		if m.MPI == nil {
			m.MPI = map[string]string{}
		}
		m.MPI[l.name] = l.version()
	}
	var allowed unix.CPUSet
	if unix.SchedGetaffinity(0, &allowed) == nil {
		for cpu := 0; cpu < 1024 && len(m.CPUsPinned) < 2; cpu++ {
			if allowed.IsSet(cpu) {
				m.CPUsPinned = append(m.CPUsPinned, cpu)
			}
		}
	}
	return m
}

// String is the machine's description in one line, for the table's
// header.
func (m Machine) String() string {
	return fmt.Sprintf("%s, %d cores, %s, %s, load %s", m.CPU, m.Cores, m.Kernel, m.Go, m.LoadAvg)
}
