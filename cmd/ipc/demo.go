package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/goipc/ipc/internal/cli"
	"github.com/spf13/cobra"
)

// A demoCase is one mechanism of `ipc demo`: it plans a receiver and a sender,
// which the demo runs as two separate ipc processes.
type demoCase struct {
	name string
	plan func(d *demo) demoPlan
}

// demoPlan says how to run one exchange.
type demoPlan struct {
	message  string
	receiver []string                       // ipc arguments of the receiver
	sender   func(receiverPID int) []string // ipc arguments of the sender
	// A nil sender means the receiver makes the exchange on its own with a
	// child process it starts (pipe: the anonymous pipe's writer).
	// ready: wait until the receiver calls notifyReady before starting the
	// sender (servers, FIFOs, signal receivers). Otherwise the sender runs to
	// completion first and the receiver after it (queues, shared memory, files).
	ready bool
	// received extracts what arrived from the two outputs; nil means the
	// receiver's stdout less its final newline.
	received func(receiverOut, senderOut string) string
}

// demoCases registers the mechanisms; each mechanism's file adds its own.
var demoCases []demoCase

// demoOrder is the order of the table: the classic walk-through's, then the
// semaphores. A mechanism missing from it comes last.
var demoOrder = []string{"file", "signal", "tcp", "unix", "posix-mq", "sysv-msg", "pipe", "fifo",
	"posix-shm", "sysv-shm", "mmap", "posix-sem", "sysv-sem"}

func addDemo(name string, plan func(d *demo) demoPlan) {
	demoCases = append(demoCases, demoCase{name: name, plan: plan})
	rank := func(c demoCase) int {
		if i := slices.Index(demoOrder, c.name); i >= 0 {
			return i
		}
		return len(demoOrder)
	}
	slices.SortStableFunc(demoCases, func(a, b demoCase) int { return rank(a) - rank(b) })
}

// demoNames lists the registered mechanisms in the table's order.
func demoNames() []string {
	names := make([]string, len(demoCases))
	for i, c := range demoCases {
		names[i] = c.name
	}
	return names
}

// demo is the state of one `ipc demo` run: unique names, and the cleanups that
// must run however the demo ends.
type demo struct {
	self string
	id   string

	mu       sync.Mutex
	cleanups []func()
	n        int
}

// unique returns a name no other demo run uses, such as "ipc-demo-4242-3".
func (d *demo) unique() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.n++
	return fmt.Sprintf("ipc-demo-%s-%d", d.id, d.n)
}

// tempPath returns a path in TMPDIR unique to the run, ending in suffix, and
// registers its removal.
func (d *demo) tempPath(suffix string) string {
	path := filepath.Join(os.TempDir(), d.unique()+suffix)
	d.cleanup(func() { os.Remove(path) })
	return path
}

// cleanup registers f to remove what a plan created; it runs at the end, on
// failure and on interruption alike.
func (d *demo) cleanup(f func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cleanups = append(d.cleanups, f)
}

func (d *demo) runCleanups() {
	d.mu.Lock()
	fs := d.cleanups
	d.cleanups = nil
	d.mu.Unlock()
	for _, f := range slices.Backward(fs) {
		f()
	}
}

type demoResult struct {
	name, sent, received string
	rtt                  time.Duration
	err                  error
}

// demoTimeout bounds one exchange.
const demoTimeout = 15 * time.Second

func init() {
	rootCmd.AddCommand(&cobra.Command{
		Use:   "demo [MECH...]",
		Short: "Run every mechanism between two processes and verify the message arrived",
		Long: `demo runs, for each mechanism, a receiver and a sender as two separate ipc
processes, exchanges one message and checks that it arrived intact. It prints a
table and exits 1 if any mechanism failed. Object names are unique to the run,
and every object is removed at the end, also when the demo is interrupted.`,
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return demoNames(), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: runDemo,
	})
}

func runDemo(cmd *cobra.Command, mechs []string) error {
	cases := demoCases
	if len(mechs) > 0 {
		cases = nil
		for _, m := range mechs {
			i := slices.IndexFunc(demoCases, func(c demoCase) bool { return c.name == m })
			if i < 0 {
				return cli.Usagef("unknown mechanism %q (have %s)", m, strings.Join(demoNames(), ", "))
			}
			cases = append(cases, demoCases[i])
		}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	d := &demo{self: self, id: fmt.Sprint(os.Getpid())}

	// Ctrl-C or a kill: stop the children, then remove every object.
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	defer d.runCleanups()

	// Each row is printed as its exchange completes, in columns as wide as
	// the names and messages the plans will print.
	nameW, msgW := len("MECHANISM"), len("RECEIVED")
	probe := &demo{self: self, id: "probe"}
	for _, c := range cases {
		nameW = max(nameW, len(c.name))
		msgW = max(msgW, len(fmt.Sprintf("%q", c.plan(probe).message)))
	}
	probe.runCleanups() // the plans made names, and nothing else
	out := cmd.OutOrStdout()
	// A table that cannot be printed is no demo: it stops at the first
	// failed write (a full disk) and says so.
	row := func(name, sent, received, rtt, ok string) error {
		_, err := fmt.Fprintf(out, "%-*s  %-*s  %-*s  %-10s  %s\n", nameW, name, msgW, sent, msgW, received, rtt, ok)
		return fileErr("write", "stdout", err)
	}
	if err := row("MECHANISM", "SENT", "RECEIVED", "ROUND TRIP", "OK"); err != nil {
		return err
	}
	failed := 0
	for _, c := range cases {
		if ctx.Err() != nil {
			break
		}
		r := d.run(ctx, c)
		ok := "ok"
		if r.err != nil {
			ok, failed = "FAIL: "+r.err.Error(), failed+1
		}
		if err := row(r.name, fmt.Sprintf("%q", r.sent), fmt.Sprintf("%q", r.received), r.rtt.Round(10*time.Microsecond).String(), ok); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		d.runCleanups()
		return errors.New("demo: interrupted; every object it created was removed")
	}
	if failed > 0 {
		return fmt.Errorf("demo: %d of %d mechanisms failed", failed, len(cases))
	}
	return nil
}

// run performs one exchange and removes what it created.
func (d *demo) run(ctx context.Context, c demoCase) (r demoResult) {
	r.name = c.name
	defer d.runCleanups()
	p := c.plan(d)
	r.sent = p.message
	ctx, cancel := context.WithTimeout(ctx, demoTimeout)
	defer cancel()

	var recvOut, recvErr, sendOut, sendErr bytes.Buffer
	recv := exec.CommandContext(ctx, d.self, p.receiver...)
	recv.Stdout, recv.Stderr = &recvOut, &recvErr
	readyR, readyW, err := os.Pipe()
	if err != nil {
		r.err = err
		return r
	}
	defer readyR.Close()
	recv.ExtraFiles = []*os.File{readyW} // descriptor 3 in the child
	recv.Env = append(os.Environ(), readyEnv+"=3")

	send := func(pid int) error {
		if p.sender == nil {
			return nil
		}
		s := exec.CommandContext(ctx, d.self, p.sender(pid)...)
		s.Stdout, s.Stderr = &sendOut, &sendErr
		return describe("sender", s.Run(), &sendErr)
	}

	start := time.Now()
	if p.ready {
		if err := recv.Start(); err != nil {
			r.err = err
			return r
		}
		readyW.Close()
		if _, err := readyR.Read(make([]byte, 1)); err != nil {
			recv.Wait()
			r.err = describe("receiver", fmt.Errorf("exited before it was ready"), &recvErr)
			return r
		}
		start = time.Now()
		r.err = send(recv.Process.Pid)
		if err := describe("receiver", recv.Wait(), &recvErr); r.err == nil {
			r.err = err
		}
	} else {
		readyW.Close()
		if r.err = send(0); r.err == nil {
			r.err = describe("receiver", recv.Run(), &recvErr)
		}
	}
	r.rtt = time.Since(start)

	if p.received != nil {
		r.received = p.received(recvOut.String(), sendOut.String())
	} else {
		r.received = strings.TrimSuffix(recvOut.String(), "\n")
	}
	if r.err == nil && r.received != p.message {
		r.err = fmt.Errorf("received %q, sent %q", r.received, p.message)
	}
	if ctx.Err() != nil && r.err != nil {
		r.err = fmt.Errorf("%w (%v)", r.err, context.Cause(ctx))
	}
	return r
}

// describe turns a child's failure into an error carrying its last stderr line.
func describe(who string, err error, stderr *bytes.Buffer) error {
	if err == nil {
		return nil
	}
	msg := strings.TrimSpace(stderr.String())
	if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
		msg = msg[i+1:]
	}
	if msg == "" {
		return fmt.Errorf("%s: %v", who, err)
	}
	return fmt.Errorf("%s: %s", who, msg)
}
