package bench

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A Conn is one side of an exchange. Send and Recv move one message of
// len(buf) bytes (none for a doorbell); Recv fills buf.
type Conn interface {
	Send(buf []byte) error
	Recv(buf []byte) error
	// Abort wakes a Send or Recv blocked in another goroutine, which then
	// fails or returns; the caller stops using the Conn and closes it.
	Abort()
	Close() error
}

// A Mechanism is one row family of the table: how to create its objects, how
// the initiator reaches the peer, and how a Go peer opens its side. Adding a
// mechanism is adding one entry to Mechanisms.
type Mechanism struct {
	Name string
	// Limit is the largest message in bytes and where the limit comes from;
	// a zero Limit means a doorbell that carries no payload, measured at
	// size 0 only. Nil: no limit of its own.
	Limit func() (int, string)
	// Window is how many messages stream before the receiver acknowledges
	// in throughput mode; 1 for a single slot (shared memory, a file, a
	// signal), which must be emptied before it is filled again.
	Window int
	// Settle, for a mechanism whose waits spin, is how long the initiator
	// spins after the peer's "ready", while the peer spins waiting for the
	// first message, before the warm-up: long enough for the monitor thread
	// of a Go process's runtime (sysmon), which polls every 20 µs after the
	// process starts or wakes from idle and stalls a spinner on its CPU each
	// time, to back off (mmap's doc.go, "Performance").
	Settle time.Duration
	// NoPython, if set, is why there is no Python peer.
	NoPython string
	// Setup creates the objects of one peer run and returns the plan.
	Setup func(o *Objects, size int) (*Plan, error)
	// Open is the peer's side, from the arguments Plan.Args gave it; fds
	// are the descriptors it inherited (3, 4, ...).
	Open func(args []string, size int) (Conn, error)
	// Run replaces the peer protocol for a mechanism that runs under its own
	// launcher (MPI); Setup and Open are then unused.
	Run func(r *runner, c Case, peer Peer, n int) (roundResult, error)
}

// A Plan is what Setup made for one peer run.
type Plan struct {
	Args  []string   // the objects, as the peer receives them
	Files []*os.File // inherited by the peer as descriptors 3, 4, ...; closed once it started
	// Connect opens the initiator's side once the peer is started. It may
	// wait for the peer (accept, a FIFO's open) and must return when done
	// is closed.
	Connect func(peerPID int, done <-chan struct{}) (Conn, error)
}

// Mechanisms is every mechanism `ipc bench` measures, in the table's order.
var Mechanisms = []*Mechanism{
	fileMech, signalMech, tcpMech, unixMech, unixDgramMech, pipeMech, fifoMech,
	posixMQMech, sysvMsgMech, posixShmMech, sysvShmMech, mmapMech, posixSemMech, sysvSemMech,
	ringMech, eventfdMech, mpiMech,
}

// Lookup returns the mechanism called name.
func Lookup(name string) (*Mechanism, error) {
	i := slices.IndexFunc(Mechanisms, func(m *Mechanism) bool { return m.Name == name })
	if i < 0 {
		return nil, fmt.Errorf("unknown mechanism %q (have %s)", name, strings.Join(Names(), ", "))
	}
	return Mechanisms[i], nil
}

// Names lists the mechanisms in the table's order.
func Names() []string {
	var names []string
	for _, m := range Mechanisms {
		names = append(names, m.Name)
	}
	return names
}

// Doorbell reports whether m carries no payload.
func (m *Mechanism) Doorbell() bool {
	if m.Limit == nil {
		return false
	}
	n, _ := m.Limit()
	return n == 0
}

// CheckSize fails if size is above m's limit.
func (m *Mechanism) CheckSize(size int) error {
	if m.Limit == nil {
		return nil
	}
	limit, why := m.Limit()
	if size <= limit {
		return nil
	}
	if limit == 0 {
		return fmt.Errorf("%s carries no payload: its only size is 0, not %d", m.Name, size)
	}
	return fmt.Errorf("size %d is above %s's limit of %d bytes (%s)", size, m.Name, limit, why)
}

// sysctlLimit is a Limit read from /proc/sys/NAME, or def if it cannot be read.
func sysctlLimit(name string, def int) func() (int, string) {
	return func() (int, string) {
		b, err := os.ReadFile("/proc/sys/" + name)
		if n, err2 := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && err2 == nil {
			return n, strings.ReplaceAll(name, "/", ".")
		}
		return def, strings.ReplaceAll(name, "/", ".") + " unreadable, assumed"
	}
}

// fixedLimit is a Limit that does not depend on the machine.
func fixedLimit(n int, why string) func() (int, string) {
	return func() (int, string) { return n, why }
}

// Objects creates the names of one run's objects and removes them: at the
// end of each peer run, and at once when the benchmark is interrupted.
type Objects struct {
	prefix string // ipc-bench-PID
	dir    string // a private directory for files, FIFOs and sockets

	mu       sync.Mutex
	n        int
	cleanups []func()
}

// NewObjects makes the directory that the runs' files live in.
func NewObjects() (*Objects, error) {
	prefix := fmt.Sprintf("ipc-bench-%d", os.Getpid())
	dir, err := os.MkdirTemp("", prefix+"-")
	if err != nil {
		return nil, err
	}
	return &Objects{prefix: prefix, dir: dir}, nil
}

// Name returns a name unique to the process and call: ipc-bench-PID-N.
func (o *Objects) Name() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.n++
	return fmt.Sprintf("%s-%d", o.prefix, o.n)
}

// Path returns a unique path in the private directory.
func (o *Objects) Path(suffix string) string { return filepath.Join(o.dir, o.Name()+suffix) }

// Key returns a System V key derived from a unique name; create retries with
// the next one while the key is taken.
func (o *Objects) Key() int64 { return KeyOf(o.Name()) }

// KeyOf is the System V key of an object named name (positive, 31 bits).
func KeyOf(name string) int64 {
	h := fnv.New32a()
	h.Write([]byte(name))
	return int64(h.Sum32() &^ (1 << 31))
}

// createKeyed calls create with fresh keys until one is free.
func createKeyed(o *Objects, create func(key int64) error) (int64, error) {
	for range 16 {
		key := o.Key()
		if key == 0 { // IPC_PRIVATE: a peer could not open it by key
			continue
		}
		err := create(key)
		if !errors.Is(err, fs.ErrExist) {
			return key, err
		}
	}
	return 0, errors.New("no free System V key after 16 tries")
}

// Cleanup registers f; Remove runs it.
func (o *Objects) Cleanup(f func()) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.cleanups = append(o.cleanups, f)
}

// Remove removes every object registered so far, last first.
func (o *Objects) Remove() {
	o.mu.Lock()
	fs := o.cleanups
	o.cleanups = nil
	o.mu.Unlock()
	for _, f := range slices.Backward(fs) {
		f()
	}
}

// Close removes every object and the private directory.
func (o *Objects) Close() {
	o.Remove()
	os.RemoveAll(o.dir)
}

// Sizes returns the sizes m runs at: [0] for a doorbell, else requested.
// With clip (sizes not given by the user), a size above m's limit gives way
// to the limit itself.
func (m *Mechanism) Sizes(requested []int, clip bool) []int {
	if m.Doorbell() {
		return []int{0}
	}
	if !clip || m.Limit == nil {
		return requested
	}
	limit, _ := m.Limit()
	var sizes []int
	for _, s := range requested {
		s = min(s, limit)
		if !slices.Contains(sizes, s) {
			sizes = append(sizes, s)
		}
	}
	return sizes
}
