package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"golang.org/x/sys/unix"
)

// Mode is what a run measures.
type Mode string

const (
	Latency    Mode = "latency"    // ping-pong round trips
	Throughput Mode = "throughput" // a stream, acknowledged every Window messages
)

// Placement is where the two processes run.
type Placement string

const (
	SameCore  Placement = "same"  // both on one CPU
	CrossCore Placement = "cross" // on two CPUs
)

// Peer is the language of the process the Go initiator exchanges with.
type Peer string

const (
	PeerGo     Peer = "go"
	PeerC      Peer = "c"
	PeerPython Peer = "python"
)

// A Case is one (mechanism, size, mode, placement); each peer is measured
// on it in turn.
type Case struct {
	Mech      *Mechanism
	Size      int
	Mode      Mode
	Placement Placement
}

// Config says what to run and where the peers are.
type Config struct {
	Cases  []Case
	Peers  []Peer
	Count  int    // timed messages per case and peer, split over Rounds
	Rounds int    // alternating rounds per case
	Seed   uint64 // for the payload's bytes

	GoPeer     []string // command of the Go peer, before the protocol's arguments
	CPeer      string   // csrc/bench_peer.c built
	Python     string   // the interpreter
	PythonPeer string   // csrc/bench_peer.py
	MPI        MPIConfig

	// Progress, if set, is called after each peer run with the runs done
	// so far and the total.
	Progress func(done, total int)
}

// Runs is how many peer runs Run makes: the progress bar's total.
func (c *Config) Runs() int { return len(c.Cases) * len(c.Peers) * c.Rounds }

// ErrInterrupted is returned by Run when its context ended: the results hold
// what was measured before.
var ErrInterrupted = errors.New("interrupted")

// skipError is a run that cannot be made on this machine, with the reason.
type skipError struct{ reason string }

func (e skipError) Error() string { return e.reason }

func skipf(format string, args ...any) error { return skipError{fmt.Sprintf(format, args...)} }

// roundResult is one peer run.
type roundResult struct {
	hist     *hdrhistogram.Histogram
	elapsed  time.Duration // of the timed messages
	messages int
	cpu      time.Duration // both processes, over the timed messages; <0 unknown
}

// newHistogram covers 1ns to a minute at three significant digits.
func newHistogram() *hdrhistogram.Histogram { return hdrhistogram.New(1, int64(time.Minute), 3) }

type runner struct {
	ctx     context.Context
	cfg     *Config
	objs    *Objects
	payload []byte
	cpus    [2]int // the initiator's CPU, and the peer's for cross placement
	ncpu    int
}

// Run measures every case with every peer, in Rounds rounds that alternate
// the peers, and returns one result per (case, peer). If ctx ends it stops
// at once, removes what it created and returns what it measured with
// ErrInterrupted.
func Run(ctx context.Context, cfg *Config) ([]Result, error) {
	objs, err := NewObjects()
	if err != nil {
		return nil, err
	}
	defer objs.Close()
	r := &runner{ctx: ctx, cfg: cfg, objs: objs}
	maxSize := 0
	for _, c := range cfg.Cases {
		maxSize = max(maxSize, c.Size)
	}
	r.payload = make([]byte, maxSize)
	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed))
	for i := range r.payload {
		r.payload[i] = byte(rng.Uint32())
	}
	var allowed unix.CPUSet
	if err := unix.SchedGetaffinity(0, &allowed); err != nil {
		return nil, os.NewSyscallError("sched_getaffinity", err)
	}
	for cpu := 0; cpu < 1024 && r.ncpu < 2; cpu++ {
		if allowed.IsSet(cpu) {
			r.cpus[r.ncpu] = cpu
			r.ncpu++
		}
	}
	defer pinProcess(&allowed)

	var results []Result
	done, total := 0, cfg.Runs()
	for _, c := range cfg.Cases {
		rounds := make([][]roundResult, len(cfg.Peers))
		errs := make([]error, len(cfg.Peers))
	rounds:
		for round := range cfg.Rounds {
			// Go and the others take turns, the first peer changing
			// every round, so that each meets the same machine state.
			for k := range cfg.Peers {
				i := (k + round) % len(cfg.Peers)
				if errs[i] == nil {
					var rr roundResult
					rr, errs[i] = r.round(c, cfg.Peers[i], split(cfg.Count, cfg.Rounds, round))
					if errs[i] == nil {
						rounds[i] = append(rounds[i], rr)
					}
				}
				if ctx.Err() != nil {
					break rounds
				}
				done++
				if cfg.Progress != nil {
					cfg.Progress(done, total)
				}
			}
		}
		// An interrupted case keeps the rounds it finished.
		results = append(results, summarize(c, cfg.Peers, rounds, errs)...)
		if ctx.Err() != nil {
			return results, ErrInterrupted
		}
	}
	return results, nil
}

// split is the count of round r when n is split over rounds.
func split(n, rounds, r int) int {
	k := n / rounds
	if r < n%rounds {
		k++
	}
	return max(k, 1)
}

// warmupOf is the untimed messages before n timed ones.
func warmupOf(n int) int { return max(n/10, 10) }

// round makes one peer run of n timed messages.
func (r *runner) round(c Case, peer Peer, n int) (roundResult, error) {
	if c.Placement == CrossCore && r.ncpu < 2 {
		return roundResult{}, skipf("cross-core placement needs two CPUs, this process may use one")
	}
	if err := c.Mech.CheckSize(c.Size); err != nil {
		return roundResult{}, skipError{err.Error()}
	}
	if err := pinProcess(r.cpuSet(0)); err != nil {
		return roundResult{}, err
	}
	if c.Mech.Run != nil {
		return c.Mech.Run(r, c, peer, n)
	}
	argv, err := r.peerCommand(c.Mech, peer)
	if err != nil {
		return roundResult{}, err
	}
	defer r.objs.Remove()
	plan, err := c.Mech.Setup(r.objs, c.Size)
	if err != nil {
		return roundResult{}, fmt.Errorf("setup: %w", err)
	}
	warmup := warmupOf(n)
	argv = append(argv, c.Mech.Name, string(c.Mode), strconv.Itoa(c.Size), strconv.Itoa(warmup),
		strconv.Itoa(n), strconv.Itoa(c.Mech.Window))
	argv = append(argv, plan.Args...)

	p, err := r.startPeer(argv, plan.Files, c.Placement)
	for _, f := range plan.Files {
		f.Close()
	}
	if err != nil {
		return roundResult{}, err
	}
	defer p.stop()
	conn, connErr := plan.Connect(p.cmd.Process.Pid, p.exited)
	if conn != nil {
		defer conn.Close()
	}
	if connErr != nil {
		// The peer may have said why it could not take part; it is
		// gone (or stopped) once fail returns.
		connErr = p.fail(connErr)
	}
	line, err := p.line(r.ctx)
	switch {
	case errors.Is(err, ErrInterrupted):
		return roundResult{}, err
	case strings.HasPrefix(line, "skip "):
		return roundResult{}, skipError{strings.TrimPrefix(line, "skip ")}
	case connErr != nil:
		return roundResult{}, connErr
	case err != nil || line != "ready":
		return roundResult{}, p.fail(fmt.Errorf("peer said %q, want ready", line))
	}

	finished := make(chan struct{})
	defer close(finished)
	go func() {
		select {
		case <-p.exited:
		case <-r.ctx.Done():
		case <-finished:
			return
		}
		conn.Abort()
	}()
	// Spin while the peer spins waiting (Mechanism.Settle).
	for start := time.Now(); time.Since(start) < c.Mech.Settle; {
	}
	rr, err := r.exchange(conn, c, warmup, n)
	if err != nil {
		if r.ctx.Err() != nil {
			return roundResult{}, ErrInterrupted
		}
		// A peer that ended is the cause: err is only what that did here
		// (the Abort it set off, a connection closed a moment before).
		select {
		case <-p.exited:
			err = fmt.Errorf("the peer ended mid-exchange (%v); here: %w", p.cmd.ProcessState, err)
		case <-time.After(time.Second):
		}
		return roundResult{}, p.fail(err)
	}
	if line, err = p.line(r.ctx); errors.Is(err, ErrInterrupted) {
		return roundResult{}, err
	}
	peerCPU, perr := strconv.ParseInt(strings.TrimPrefix(line, "cpu "), 10, 64)
	if err != nil || perr != nil || !strings.HasPrefix(line, "cpu ") {
		return roundResult{}, p.fail(fmt.Errorf("peer said %q, want cpu NS", line))
	}
	rr.cpu += time.Duration(peerCPU)
	return rr, p.finish()
}

// exchange is the initiator's side of the protocol: warmup untimed messages,
// then n timed ones.
func (r *runner) exchange(conn Conn, c Case, warmup, n int) (roundResult, error) {
	out, in := r.payload[:c.Size], make([]byte, c.Size)
	rr := roundResult{hist: newHistogram(), messages: n}
	var start time.Time
	var cpu0 time.Duration
	begin := func() {
		cpu0 = cpuTime()
		start = time.Now()
	}
	if c.Mode == Latency {
		for i := range warmup + n {
			if i == warmup {
				if !bytes.Equal(in, out) {
					return rr, errors.New("the peer's echo differs from the message")
				}
				begin()
			}
			t := time.Now()
			if err := conn.Send(out); err != nil {
				return rr, err
			}
			if err := conn.Recv(in); err != nil {
				return rr, err
			}
			if i >= warmup {
				rr.hist.RecordValue(int64(time.Since(t)))
			}
		}
	} else {
		ack := make([]byte, min(c.Size, 1))
		var batch time.Time
		batchLen := 0
		for i := range warmup + n {
			if i == warmup {
				begin()
			}
			if batchLen == 0 {
				batch = time.Now()
			}
			if err := conn.Send(out); err != nil {
				return rr, err
			}
			batchLen++
			if !AckDue(i, warmup, warmup+n, c.Mech.Window) {
				continue
			}
			if err := conn.Recv(ack); err != nil {
				return rr, err
			}
			if i >= warmup {
				rr.hist.RecordValues(int64(time.Since(batch))/int64(batchLen), int64(batchLen))
			}
			batchLen = 0
		}
	}
	rr.elapsed = time.Since(start)
	rr.cpu = cpuTime() - cpu0
	return rr, nil
}

// AckDue reports whether the receiver acknowledges after message i (from 0)
// of total, warmup of them untimed: every window messages, counted afresh
// from the first timed one, and after the last of each phase.
func AckDue(i, warmup, total, window int) bool {
	j := i + 1
	if j <= warmup {
		return j%window == 0 || j == warmup
	}
	return (j-warmup)%window == 0 || j == total
}

// cpuTime is the CPU time this process used so far.
func cpuTime() time.Duration {
	var ru unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peerCommand returns the command that starts peer.
func (r *runner) peerCommand(m *Mechanism, peer Peer) ([]string, error) {
	switch peer {
	case PeerGo:
		return slices.Clone(r.cfg.GoPeer), nil
	case PeerC:
		if _, err := os.Stat(r.cfg.CPeer); err != nil {
			return nil, skipf("no C peer: %v (make csrc builds it)", err)
		}
		return []string{r.cfg.CPeer}, nil
	case PeerPython:
		if m.NoPython != "" {
			return nil, skipError{m.NoPython}
		}
		if _, err := os.Stat(r.cfg.Python); err != nil {
			return nil, skipf("no Python: %v", err)
		}
		if _, err := os.Stat(r.cfg.PythonPeer); err != nil {
			return nil, skipf("no Python peer: %v", err)
		}
		return []string{r.cfg.Python, r.cfg.PythonPeer}, nil
	}
	return nil, fmt.Errorf("unknown peer %q", peer)
}

// cpuSet is the set of the initiator's CPU (which 0) or the peer's (1).
func (r *runner) cpuSet(which int) *unix.CPUSet {
	var s unix.CPUSet
	s.Set(r.cpus[which])
	return &s
}

// peerSet is the peer's CPU under placement.
func (r *runner) peerSet(pl Placement) *unix.CPUSet {
	if pl == CrossCore {
		return r.cpuSet(1)
	}
	return r.cpuSet(0)
}

// pinProcess binds every thread of this process to set; threads made later
// inherit it from the thread that makes them.
func pinProcess(set *unix.CPUSet) error {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return err
	}
	for _, t := range tasks {
		tid, _ := strconv.Atoi(t.Name())
		if err := unix.SchedSetaffinity(tid, set); err != nil && !errors.Is(err, syscall.ESRCH) {
			return os.NewSyscallError("sched_setaffinity", err)
		}
	}
	return nil
}

// startPinned starts cmd from a thread bound to set, so that the child, and
// every thread it makes, starts bound to set: a mask set after the start
// would miss the threads a runtime starts at once.
func startPinned(cmd *exec.Cmd, set *unix.CPUSet) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var mine unix.CPUSet
	if err := unix.SchedGetaffinity(0, &mine); err != nil {
		return os.NewSyscallError("sched_getaffinity", err)
	}
	if err := unix.SchedSetaffinity(0, set); err != nil {
		return os.NewSyscallError("sched_setaffinity", err)
	}
	defer unix.SchedSetaffinity(0, &mine)
	return cmd.Start()
}

// peerProc is a started peer.
type peerProc struct {
	cmd        *exec.Cmd
	stdin      *os.File
	stdoutFile *os.File // the peer's stdout; EOF once it exited
	stdout     *bufio.Reader
	stderr     *bytes.Buffer
	exited     chan struct{}
}

// startPeer starts argv in a process group of its own (Ctrl-C reaches only
// ipc, which stops the peers itself), killed if ipc dies.
func (r *runner) startPeer(argv []string, files []*os.File, pl Placement) (*peerProc, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	p := &peerProc{cmd: cmd, stdin: inW, stdoutFile: outR, stdout: bufio.NewReader(outR), stderr: new(bytes.Buffer), exited: make(chan struct{})}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, p.stderr
	cmd.ExtraFiles = files
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	err = startPinned(cmd, r.peerSet(pl))
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, err
	}
	go func() {
		cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// line reads one line the peer printed.
func (p *peerProc) line(ctx context.Context) (string, error) {
	// An interrupt ends the wait: a peer that never answers (one slow to
	// start, or stopped) must not hold Ctrl-C up.
	stop := context.AfterFunc(ctx, func() { p.stdoutFile.SetReadDeadline(time.Now()) })
	defer stop()
	s, err := p.stdout.ReadString('\n')
	if err != nil && ctx.Err() != nil {
		return "", ErrInterrupted
	}
	return strings.TrimSuffix(s, "\n"), err
}

// finish lets the peer exit (it waits for its stdin to close) and reports how.
func (p *peerProc) finish() error {
	p.stdin.Close()
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		return p.fail(errors.New("the peer did not exit"))
	}
	if !p.cmd.ProcessState.Success() {
		return p.fail(errors.New(p.cmd.ProcessState.String()))
	}
	return nil
}

// stop kills the peer's process group unless it exited, waits for it and
// closes the pipes.
func (p *peerProc) stop() {
	p.stdin.Close()
	select {
	case <-p.exited:
	default:
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
	}
	p.stdoutFile.Close()
}

// fail describes err with the peer's last line on stderr, once it exited.
func (p *peerProc) fail(err error) error {
	p.stdin.Close()
	select {
	case <-p.exited:
	case <-time.After(2 * time.Second):
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
	}
	if msg := lastLine(p.stderr.String()); msg != "" {
		return fmt.Errorf("%v (peer: %s)", err, msg)
	}
	return err
}
