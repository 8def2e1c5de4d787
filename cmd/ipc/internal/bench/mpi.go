package bench

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// MPI runs as a job of two ranks under Open MPI's mpiexec: rank 0 is always
// mpidemo (Go), timing each round trip with `pingpong --samples` (or each
// window with `bw --samples`), and rank 1 is the peer: mpidemo,
// csrc/mpi_bench.c or csrc/mpi_latency.py (mpi4py, built for Open MPI), which
// speak the same protocol. The job warms up itself (a tenth of the
// iterations). The ranks are mpiexec's children, so their CPU time is not
// measured.

// MPIConfig says where the MPI programs are: Bin/mpidemo,
// Bin/openmpi/mpi_bench and Csrc/mpi_latency.py.
type MPIConfig struct{ Bin, Csrc string }

// mpiWindow is `mpidemo bw`'s default window, passed to both ranks.
const mpiWindow = 64

var mpiMech = &Mechanism{
	Name:   "mpi",
	Limit:  fixedLimit(1<<30, "mpidemo's largest message"),
	Window: mpiWindow,
	Run:    runMPI,
}

// openMPI is the launcher: mpi4py is built for Open MPI.
var openMPI = launcher{name: "mpiexec.openmpi"}

type launcher struct{ name string }

// version is the first line of `NAME --version`, or why there is none.
func (l launcher) version() string {
	out, err := exec.Command(l.name, "--version").Output()
	if err != nil {
		return "not installed"
	}
	for _, line := range strings.Split(string(out), "\n") {
		if line = strings.TrimSpace(line); strings.Contains(line, "Version:") || strings.Contains(line, l.name) {
			return strings.Join(strings.Fields(line), " ")
		}
	}
	return strings.TrimSpace(string(out))
}

func (c MPIConfig) launchers() []launcher {
	return []launcher{openMPI, {name: "mpiexec.mpich"}}
}

// rootEnv is what Open MPI needs to run as root in a container; the
// caller's values win.
var rootEnv = []string{"OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1",
	"OMPI_MCA_btl_vader_single_copy_mechanism=none", "OMPI_MCA_rmaps_base_oversubscribe=1"}

var mpi4py = sync.OnceValue(func() error {
	return exec.Command("/usr/bin/python3", "-c", "import mpi4py, numpy").Run()
})

// mpiPeer is rank 1's command line.
func (r *runner) mpiPeer(peer Peer, verb string) ([]string, error) {
	cfg := r.cfg.MPI
	switch peer {
	case PeerGo:
		return []string{filepath.Join(cfg.Bin, "mpidemo"), verb}, nil
	case PeerC:
		return []string{filepath.Join(cfg.Bin, "openmpi", "mpi_bench"), verb, "--window", strconv.Itoa(mpiWindow)}, nil
	case PeerPython:
		if verb == "bw" {
			return nil, skipf("csrc/mpi_latency.py measures latency only")
		}
		if err := mpi4py(); err != nil {
			return nil, skipf("%s cannot import mpi4py and numpy (make deps installs python3-mpi4py)", r.cfg.Python)
		}
		return []string{r.cfg.Python, filepath.Join(cfg.Csrc, "mpi_latency.py")}, nil
	}
	return nil, fmt.Errorf("unknown peer %q", peer)
}

func runMPI(r *runner, c Case, peer Peer, n int) (roundResult, error) {
	if _, err := exec.LookPath(openMPI.name); err != nil {
		return roundResult{}, skipf("MPI is not installed (%s: %v)", openMPI.name, err)
	}
	verb := "pingpong"
	if c.Mode == Throughput {
		verb = "bw"
	}
	rank1, err := r.mpiPeer(peer, verb)
	if err != nil {
		return roundResult{}, err
	}
	rank0 := []string{filepath.Join(r.cfg.MPI.Bin, "mpidemo"), verb, "--samples", "--window", strconv.Itoa(mpiWindow)}
	if verb == "pingpong" {
		rank0 = rank0[:3]
	}
	for _, prog := range []string{rank0[0], rank1[0]} {
		if _, err := os.Stat(prog); err != nil {
			return roundResult{}, skipf("no MPI peer: %v (make build makes it)", err)
		}
	}
	common := []string{"--sizes", strconv.Itoa(c.Size), "--iters", strconv.Itoa(n)}
	// Same core: no binding, so both ranks keep the CPU mpiexec starts
	// on, and ranks that yield when idle, as Open MPI's do when it knows the
	// node is oversubscribed: two pollers on one CPU otherwise wait out
	// each other's time slice, milliseconds per round trip. Cross core: one
	// core each.
	args := []string{"--bind-to", "none", "--mca", "mpi_yield_when_idle", "1"}
	set := r.cpuSet(0)
	if c.Placement == CrossCore {
		args = []string{"--bind-to", "core", "--map-by", "core"}
		set.Set(r.cpus[1])
	}
	args = append(args, "-n", "1")
	args = append(append(append(args, rank0...), common...), ":", "-n", "1")
	args = append(append(args, rank1...), common...)

	cmd := exec.Command(openMPI.name, args...)
	cmd.Env = os.Environ()
	for _, kv := range rootEnv {
		if k, _, _ := strings.Cut(kv, "="); os.Getenv(k) == "" {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := startPinned(cmd, set); err != nil {
		return roundResult{}, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err = <-exited:
	case <-r.ctx.Done():
		// mpiexec passes SIGTERM on to the ranks and cleans up after them.
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		return roundResult{}, ErrInterrupted
	}
	if err != nil {
		if msg := lastLine(stderr.String()); msg != "" {
			err = fmt.Errorf("%v (%s)", err, msg)
		}
		return roundResult{}, fmt.Errorf("%s: %v", openMPI.name, err)
	}
	return mpiSamples(&stdout, c)
}

// mpiSamples reads rank 0's "SIZE NS" lines.
func mpiSamples(out *bytes.Buffer, c Case) (roundResult, error) {
	rr := roundResult{hist: newHistogram(), cpu: -1}
	per := 1
	if c.Mode == Throughput {
		per = mpiWindow
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 || strings.HasPrefix(f[0], "#") {
			continue
		}
		ns, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return rr, fmt.Errorf("mpidemo printed %q", sc.Text())
		}
		rr.hist.RecordValues(ns/int64(per), int64(per))
		rr.elapsed += time.Duration(ns)
		rr.messages += per
	}
	if rr.messages == 0 {
		return rr, errors.New("mpidemo printed no samples")
	}
	return rr, nil
}

// lastLine is the last line of s that says something.
func lastLine(s string) string {
	lines := strings.Split(s, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		// Open MPI's mpiexec ends its reports with a rule of dashes.
		if l := strings.TrimSpace(lines[i]); strings.Trim(l, "-=") != "" {
			return l
		}
	}
	return ""
}
