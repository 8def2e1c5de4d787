package bench

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/goipc/ipc/mmap"
	"github.com/goipc/ipc/posix"
	"github.com/goipc/ipc/sysv"
	"github.com/goipc/ipc/unixfd"
)

// The mechanisms with one slot each way: shared memory (a ping area and a
// pong area) with a doorbell, the doorbells alone (semaphores, a signal) and
// a file. Layout of the shared memory, for every peer:
//
//	offset 0          flag word (uint32, mmap only): 1 ping ready, 2 pong ready
//	offset 64         ping area, max(SIZE, 1) bytes: initiator to peer
//	offset 64+area    pong area, max(SIZE, 1) bytes: peer to initiator
const slotHeader = 64

func segmentSize(size int) int { return slotHeader + 2*max(size, 1) }

// areas returns the ping and pong areas of mem.
func areas(mem []byte, size int) (ping, pong []byte) {
	a := max(size, 1)
	return mem[slotHeader : slotHeader+a], mem[slotHeader+a : slotHeader+2*a]
}

// A doorbell wakes the other side: ring tells it a message is in its slot,
// wait returns once one is in ours.
type doorbell struct {
	ring, wait func() error
	// wake makes a pending wait return (Abort).
	wake func()
}

// slotConn copies a message into the outgoing area and rings, or waits and
// copies it out of the incoming area.
type slotConn struct {
	out, in []byte
	bell    doorbell
	aborted atomic.Bool
	close   func() error
}

var errAborted = errors.New("aborted")

func (c *slotConn) Send(buf []byte) error {
	copy(c.out, buf)
	return c.bell.ring()
}

func (c *slotConn) Recv(buf []byte) error {
	if err := c.bell.wait(); err != nil {
		return err
	}
	if c.aborted.Load() {
		return errAborted
	}
	copy(buf, c.in)
	return nil
}

func (c *slotConn) Abort() {
	if !c.aborted.Swap(true) {
		c.bell.wake()
	}
}

func (c *slotConn) Close() error {
	if c.close == nil {
		return nil
	}
	return c.close()
}

// posixSems opens (or with create makes) the named semaphores and returns
// the doorbell of one side: it posts out and waits on in.
func posixSems(o *Objects, names []string, create, initiator bool) (doorbell, func() error, error) {
	var sems [2]*posix.Semaphore
	for i, name := range names {
		s, err := posix.OpenSemaphore(name, &posix.SemOptions{Create: create, Exclusive: create})
		if err != nil {
			sems[0].Close()
			return doorbell{}, nil, err
		}
		sems[i] = s
		if o != nil {
			o.Cleanup(func() { posix.UnlinkSemaphore(name) })
		}
	}
	out, in := sems[0], sems[1] // the initiator posts ping, waits on pong
	if !initiator {
		out, in = in, out
	}
	bell := doorbell{
		ring: out.Post,
		wait: func() error { return in.Wait(context.Background()) },
		wake: func() { in.Post() },
	}
	return bell, func() error { return errors.Join(sems[0].Close(), sems[1].Close()) }, nil
}

// sysvSems opens (or makes) two System V sets of one semaphore each, ping and
// pong: sysv_ipc's Semaphore, the Python peer's, is a set of one.
func sysvSems(o *Objects, keys []sysv.Key, initiator bool) (doorbell, []sysv.Key, error) {
	var sets [2]*sysv.SemaphoreSet
	for i := range sets {
		open := func(key int64) (err error) {
			sets[i], err = sysv.OpenSemaphoreSet(sysv.Key(key), 1, sysv.Create|sysv.Exclusive, sysv.DefaultMode)
			return err
		}
		if o == nil {
			var err error
			if sets[i], err = sysv.OpenSemaphoreSet(keys[i], 1, 0, 0); err != nil {
				return doorbell{}, nil, err
			}
			continue
		}
		key, err := createKeyed(o, open)
		if err != nil {
			return doorbell{}, nil, err
		}
		s := sets[i]
		o.Cleanup(func() { s.Remove(); s.Close() })
		keys = append(keys, sysv.Key(key))
	}
	out, in := sets[0], sets[1]
	if !initiator {
		out, in = in, out
	}
	up, down := []sysv.SemOp{{Delta: 1}}, []sysv.SemOp{{Delta: -1}}
	return doorbell{
		ring: func() error { return out.Op(context.Background(), up...) },
		wait: func() error { return in.Op(context.Background(), down...) },
		wake: func() { in.Op(context.Background(), up...) },
	}, keys, nil
}

var posixSemMech = &Mechanism{
	Name:   "posix-sem",
	Limit:  fixedLimit(0, ""),
	Window: 64,
	Setup: func(o *Objects, size int) (*Plan, error) {
		names := []string{"/" + o.Name() + "-ping", "/" + o.Name() + "-pong"}
		bell, closeSems, err := posixSems(o, names, true, true)
		if err != nil {
			return nil, err
		}
		c := &slotConn{bell: bell, close: closeSems}
		return &Plan{Args: names, Connect: func(int, <-chan struct{}) (Conn, error) { return c, nil }}, nil
	},
	Open: func(args []string, size int) (Conn, error) {
		bell, closeSems, err := posixSems(nil, args, false, false)
		if err != nil {
			return nil, err
		}
		return &slotConn{bell: bell, close: closeSems}, nil
	},
}

var sysvSemMech = &Mechanism{
	Name:   "sysv-sem",
	Limit:  fixedLimit(0, ""),
	Window: 64,
	Setup: func(o *Objects, size int) (*Plan, error) {
		bell, keys, err := sysvSems(o, nil, true)
		if err != nil {
			return nil, err
		}
		c := &slotConn{bell: bell}
		return &Plan{Args: keyArgs(keys), Connect: func(int, <-chan struct{}) (Conn, error) { return c, nil }}, nil
	},
	Open: func(args []string, size int) (Conn, error) {
		keys, err := parseKeys(args, 2)
		if err != nil {
			return nil, err
		}
		bell, _, err := sysvSems(nil, keys, false)
		return &slotConn{bell: bell}, err
	},
}

// eventfdMech rings with two eventfds (package unixfd), ping and pong, that
// the peer inherits as descriptors 3 and 4. They count as semaphores
// (EFD_SEMAPHORE): each wait takes one ring, so a throughput window of rings
// waits as posix-sem's does. They are non-blocking, for Go's runtime poller;
// the C and Python peers poll before they read.
var eventfdMech = &Mechanism{
	Name:   "eventfd",
	Limit:  fixedLimit(0, ""),
	Window: 64,
	Setup: func(o *Objects, size int) (*Plan, error) {
		var mine [2]*unixfd.EventFD
		var theirs []*os.File
		for i := range mine {
			e, err := unixfd.NewEventFD(0, true)
			if err != nil {
				return nil, err
			}
			o.Cleanup(func() { e.Close() })
			peer, err := unixfd.EventFDFromFile(e.File())
			if err != nil {
				return nil, err
			}
			o.Cleanup(func() { peer.Close() }) // if the peer never started
			mine[i], theirs = e, append(theirs, peer.File())
		}
		c := &slotConn{bell: eventfdBell(mine[0], mine[1])}
		return &Plan{Files: theirs, Connect: func(int, <-chan struct{}) (Conn, error) { return c, nil }}, nil
	},
	Open: func(args []string, size int) (Conn, error) {
		var bells [2]*unixfd.EventFD
		for i := range bells {
			f := os.NewFile(uintptr(3+i), "eventfd")
			e, err := unixfd.EventFDFromFile(f)
			f.Close()
			if err != nil {
				bells[0].Close()
				return nil, err
			}
			bells[i] = e
		}
		closeBells := func() error { return errors.Join(bells[0].Close(), bells[1].Close()) }
		return &slotConn{bell: eventfdBell(bells[1], bells[0]), close: closeBells}, nil
	},
}

// eventfdBell rings out and waits on in.
func eventfdBell(out, in *unixfd.EventFD) doorbell {
	return doorbell{
		ring: func() error { return out.Add(1) },
		wait: func() error { _, err := in.Wait(); return err },
		wake: func() { in.Add(1) },
	}
}

var posixShmMech = &Mechanism{
	Name:   "posix-shm",
	Window: 1,
	Setup: func(o *Objects, size int) (*Plan, error) {
		name := "/" + o.Name()
		m, err := posix.OpenSharedMemory(name, &posix.ShmOptions{Create: true, Exclusive: true, Size: int64(segmentSize(size))})
		if err != nil {
			return nil, err
		}
		o.Cleanup(func() { m.Close(); posix.UnlinkSharedMemory(name) })
		c, err := posixShmConn(o, m, []string{name + "-ping", name + "-pong"}, size, true)
		if err != nil {
			return nil, err
		}
		return &Plan{Args: []string{name, name + "-ping", name + "-pong"},
			Connect: func(int, <-chan struct{}) (Conn, error) { return c, nil }}, nil
	},
	Open: func(args []string, size int) (Conn, error) {
		if len(args) != 3 {
			return nil, errors.New("posix-shm: want SEGMENT PINGSEM PONGSEM")
		}
		m, err := posix.OpenSharedMemory(args[0], nil)
		if err != nil {
			return nil, err
		}
		return posixShmConn(nil, m, args[1:], size, false)
	},
}

func posixShmConn(o *Objects, m *posix.SharedMemory, sems []string, size int, initiator bool) (*slotConn, error) {
	mem, err := m.Map(posix.ReadWrite)
	if err != nil {
		m.Close()
		return nil, err
	}
	bell, closeSems, err := posixSems(o, sems, o != nil, initiator)
	if err != nil {
		m.Close()
		return nil, err
	}
	c := &slotConn{bell: bell, close: func() error { return errors.Join(closeSems(), m.Close()) }}
	c.out, c.in = areas(mem, size)
	if !initiator {
		c.out, c.in = c.in, c.out
	}
	return c, nil
}

var sysvShmMech = &Mechanism{
	Name:   "sysv-shm",
	Window: 1,
	Setup: func(o *Objects, size int) (*Plan, error) {
		var m *sysv.SharedMemory
		key, err := createKeyed(o, func(key int64) (err error) {
			m, err = sysv.OpenSharedMemory(sysv.Key(key), segmentSize(size), sysv.Create|sysv.Exclusive, sysv.DefaultMode)
			return err
		})
		if err != nil {
			return nil, err
		}
		o.Cleanup(func() { m.Remove(); m.Close() })
		c, keys, err := sysvShmConn(o, m, nil, size, true)
		if err != nil {
			return nil, err
		}
		return &Plan{Args: keyArgs(append([]sysv.Key{sysv.Key(key)}, keys...)),
			Connect: func(int, <-chan struct{}) (Conn, error) { return c, nil }}, nil
	},
	Open: func(args []string, size int) (Conn, error) {
		keys, err := parseKeys(args, 3)
		if err != nil {
			return nil, err
		}
		m, err := sysv.OpenSharedMemory(keys[0], 0, 0, 0)
		if err != nil {
			return nil, err
		}
		c, _, err := sysvShmConn(nil, m, keys[1:], size, false)
		return c, err
	},
}

func sysvShmConn(o *Objects, m *sysv.SharedMemory, keys []sysv.Key, size int, initiator bool) (*slotConn, []sysv.Key, error) {
	mem, err := m.Attach(0)
	if err != nil {
		return nil, nil, err
	}
	bell, keys, err := sysvSems(o, keys, initiator)
	if err != nil {
		m.Detach(mem)
		return nil, nil, err
	}
	c := &slotConn{bell: bell, close: func() error { return m.Detach(mem) }}
	c.out, c.in = areas(mem, size)
	if !initiator {
		c.out, c.in = c.in, c.out
	}
	return c, keys, nil
}

// spinLoads is how many times a spinning wait reads the flag before it
// yields the CPU on each further try: a peer descheduled on a shared core
// gets it back (csrc/mmap_pingpong.c waits alike).
const spinLoads = 10000

// Flag values of the mmap mechanism.
const (
	flagPing = 1
	flagPong = 2
)

var mmapMech = &Mechanism{
	Name:   "mmap",
	Window: 1,
	Settle: 20 * time.Millisecond,
	Setup: func(o *Objects, size int) (*Plan, error) {
		path := o.Path(".mmap")
		m, err := mmap.Create(path, int64(segmentSize(size)), 0o600)
		if err != nil {
			return nil, err
		}
		o.Cleanup(func() { m.Close(); os.Remove(path) })
		c, err := mmapConn(m, size, true)
		if err != nil {
			return nil, err
		}
		return &Plan{Args: []string{path}, Connect: func(int, <-chan struct{}) (Conn, error) { return c, nil }}, nil
	},
	Open: func(args []string, size int) (Conn, error) {
		if len(args) != 1 {
			return nil, errors.New("mmap: want PATH")
		}
		m, err := mmap.Open(args[0], mmap.ReadWrite)
		if err != nil {
			return nil, err
		}
		return mmapConn(m, size, false)
	},
}

func mmapConn(m *mmap.Mapping, size int, initiator bool) (*slotConn, error) {
	flag, err := m.AtomicUint32(0)
	if err != nil {
		m.Close()
		return nil, err
	}
	c := &slotConn{close: m.Close}
	c.out, c.in = areas(m.Bytes(), size)
	mine, theirs := uint32(flagPong), uint32(flagPing)
	if !initiator {
		c.out, c.in = c.in, c.out
		mine, theirs = theirs, mine
	}
	c.bell = doorbell{
		ring: func() error { flag.Store(theirs); return nil },
		wait: func() error {
			// The first spin loads here, as tight a loop as the C
			// peer's: through spinUntil's ready, a call each, they
			// took half as long again, and when both sides share a
			// CPU the round trip is two such spins.
			for range spinLoads {
				if flag.Load() == mine {
					return nil
				}
			}
			return spinUntil(&c.aborted, 0, func() bool { return flag.Load() == mine })
		},
		wake: func() {},
	}
	return c, nil
}

// spinUntil tries ready until it holds or the wait is aborted, yielding the
// CPU on each try after the first spin.
func spinUntil(aborted *atomic.Bool, spin int, ready func() bool) error {
	for i := 0; !ready(); i++ {
		if i >= spin {
			if aborted.Load() {
				return errAborted
			}
			// Raw: sched_yield never blocks, but on a busy CPU the
			// kernel may run others for longer than 20 µs before it
			// returns, and the runtime would then take the P away
			// from the "system call" and set its monitor thread
			// polling every 20 µs again, each poll a stall of the
			// spinner (mmap's doc.go, "Performance").
			syscall.RawSyscall(syscall.SYS_SCHED_YIELD, 0, 0, 0)
		}
	}
	return nil
}

// fileMech writes each message to a file by temporary file and rename, as
// `ipc file send` does; the receiver polls for the file, reads and removes
// it.
var fileMech = &Mechanism{
	Name:   "file",
	Window: 1,
	Setup: func(o *Objects, size int) (*Plan, error) {
		ping, pong := o.Path(".ping"), o.Path(".pong")
		for _, p := range []string{ping, pong} {
			o.Cleanup(func() { os.Remove(p); os.Remove(p + ".tmp") })
		}
		c := &fileConn{out: ping, in: pong}
		return &Plan{Args: []string{ping, pong}, Connect: func(int, <-chan struct{}) (Conn, error) { return c, nil }}, nil
	},
	Open: func(args []string, size int) (Conn, error) {
		if len(args) != 2 {
			return nil, errors.New("file: want PING PONG")
		}
		return &fileConn{out: args[1], in: args[0]}, nil
	},
}

type fileConn struct {
	out, in string
	aborted atomic.Bool
}

func (c *fileConn) Send(buf []byte) error {
	tmp := c.out + ".tmp"
	if err := os.WriteFile(tmp, buf, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, c.out)
}

func (c *fileConn) Recv(buf []byte) error {
	var f *os.File
	// Each try is a system call: yield after every one.
	err := spinUntil(&c.aborted, 0, func() bool {
		var err error
		f, err = os.Open(c.in)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			f = nil
			return true
		}
		return err == nil
	})
	if err != nil {
		return err
	}
	if f == nil {
		_, err := os.Open(c.in)
		return err
	}
	defer f.Close()
	if _, err := io.ReadFull(f, buf); err != nil {
		return err
	}
	return os.Remove(c.in)
}

func (c *fileConn) Abort()       { c.aborted.Store(true) }
func (c *fileConn) Close() error { return nil }

// signalMech rings with SIGUSR1 each way; Go receives it through
// signal.Notify, the peers with sigwaitinfo.
var signalMech = &Mechanism{
	Name:   "signal",
	Limit:  fixedLimit(0, ""),
	Window: 1, // a pending signal is not queued twice
	Setup: func(o *Objects, size int) (*Plan, error) {
		c := newSignalConn()
		o.Cleanup(func() { c.Close() })
		return &Plan{Connect: func(pid int, _ <-chan struct{}) (Conn, error) { c.pid = pid; return c, nil }}, nil
	},
	Open: func(args []string, size int) (Conn, error) {
		c := newSignalConn()
		c.pid = os.Getppid()
		return c, nil
	},
}

type signalConn struct {
	pid   int
	ch    chan os.Signal
	abort chan struct{}
	once  sync.Once
}

func newSignalConn() *signalConn {
	c := &signalConn{ch: make(chan os.Signal, 1), abort: make(chan struct{})}
	signal.Notify(c.ch, syscall.SIGUSR1)
	return c
}

func (c *signalConn) Send([]byte) error { return syscall.Kill(c.pid, syscall.SIGUSR1) }
func (c *signalConn) Recv([]byte) error {
	select {
	case <-c.ch:
		return nil
	case <-c.abort:
		return errAborted
	}
}
func (c *signalConn) Abort()       { c.once.Do(func() { close(c.abort) }) }
func (c *signalConn) Close() error { signal.Stop(c.ch); c.Abort(); return nil }

func keyArgs(keys []sysv.Key) []string {
	var s []string
	for _, k := range keys {
		s = append(s, strconv.FormatInt(int64(k), 10))
	}
	return s
}
