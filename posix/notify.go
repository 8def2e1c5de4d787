package posix

import (
	"encoding/binary"
	"errors"
	"os"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/goipc/ipc/internal/errs"
)

// Notification, and why it uses a netlink socket.
//
// mq_notify can signal the process (SIGEV_SIGNAL) or start a thread
// (SIGEV_THREAD). A signal carries which queue fired only in its siginfo, which
// os/signal does not pass on, and a real-time signal would be taken from every
// other user of os/signal. glibc's SIGEV_THREAD is built on a kernel feature
// that needs neither: given a netlink socket and a 32-byte cookie, the kernel
// writes the cookie to the socket when the notification fires (and again,
// marked "removed", when the registration ends). goipc uses that interface
// directly: the socket is read on the runtime poller by one goroutine per
// queue, which costs no thread while it waits.

// Kernel ABI of the SIGEV_THREAD notification (include/uapi/linux/mqueue.h).
const (
	notifyCookieLen = 32
	notifyWokenUp   = 1 // last byte of the cookie when the notification fired
	sigevThread     = 2 // SIGEV_THREAD
)

// sigevent is struct sigevent on Linux: the value, the netlink socket as the
// "signal number", and the notification kind, padded to 64 bytes.
type sigevent struct {
	value  uintptr
	signo  int32
	notify int32
	_      [48]byte
}

// notifier is the netlink socket on which the kernel announces a queue's
// notifications, and the registration waiting on it.
type notifier struct {
	sock   *os.File
	fd     int
	cookie [notifyCookieLen]byte // the current registration's number, little-endian
	seq    uint64                // guarded by the queue's mu, as is ch
	ch     chan<- *MessageQueue
	done   chan struct{}
}

// Notify asks the kernel to tell ch, once, when a message arrives on the empty
// queue; ch then receives q. It is the one-shot mq_notify: call Notify again
// to re-arm it. Only one process at a time can be registered for a queue
// (another gets an error matching syscall.EBUSY), and the kernel does not
// notify while a process is blocked in mq_receive (goipc's Receive waits on
// the poller, so it does not count). Notify(nil) cancels the registration.
//
// The kernel ends a process's registration when the process closes any
// descriptor of the queue: another MessageQueue of it, or the file
// /dev/mqueue/NAME opened to read it (as package inventory does). It says so,
// and q registers again at once. If a message arrived meanwhile, or another
// process took the registration, ch receives q as for a notification: a
// handler that drains the queue and re-arms either finds the message or gets
// the Notify error (EBUSY). A registration is never lost silently.
func (q *MessageQueue) Notify(ch chan<- *MessageQueue) error {
	return q.withFD("mq_notify", func(fd int) error {
		if ch == nil {
			if q.notify != nil {
				q.notify.ch = nil
			}
			return mqNotify(fd, nil)
		}
		if q.notify == nil {
			n, err := newNotifier(q)
			if err != nil {
				return err
			}
			q.notify = n
		}
		n := q.notify
		n.drain()
		if err := n.register(fd, n.seq+1); err != nil {
			if errors.Is(err, unix.EBUSY) {
				err = busyHint(err, n.armed())
			}
			return err
		}
		n.seq++
		n.ch = ch
		return nil
	})
}

// busyHint says whose registration made mq_notify fail with EBUSY: the
// kernel takes one at a time, even from the process that holds it.
func busyHint(err error, ours bool) error {
	if ours {
		return errs.Hint(err, "this queue is registered already and not yet notified; Notify(nil) cancels it")
	}
	return errs.Hint(err, "another process, or another MessageQueue of this one, is registered for the queue")
}

// register asks the kernel to send the cookie of registration seq to the
// socket; q.mu is held.
func (n *notifier) register(fd int, seq uint64) error {
	binary.LittleEndian.PutUint64(n.cookie[:], seq)
	sev := sigevent{value: uintptr(unsafe.Pointer(&n.cookie)), signo: int32(n.fd), notify: sigevThread}
	err := mqNotify(fd, &sev)
	runtime.KeepAlive(n)
	return err
}

// drain discards, without waiting, the cookies the socket holds: they are of
// registrations that the one Notify makes supersedes (every Notify(nil) ends
// one, and the kernel sends its cookie). mq_notify first waits for room for
// the new cookie on the socket, holding q.mu here, while run may wait for q.mu
// to handle the old ones: without this, some hundred Notify(ch), Notify(nil)
// rounds filled the socket and hung the queue.
func (n *notifier) drain() {
	var b [notifyCookieLen]byte
	for {
		if _, err := unix.Read(n.fd, b[:]); err != nil && err != unix.EINTR {
			return
		}
	}
}

// mqNotify is the mq_notify system call itself: glibc's wrapper would run its
// own thread for SIGEV_THREAD.
func mqNotify(fd int, sev *sigevent) error {
	_, _, errno := unix.Syscall(unix.SYS_MQ_NOTIFY, uintptr(fd), uintptr(unsafe.Pointer(sev)), 0)
	if errno != 0 {
		return errno
	}
	return nil
}

func newNotifier(q *MessageQueue) (*notifier, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, errs.Syscall("socket(AF_NETLINK)", err)
	}
	n := &notifier{sock: os.NewFile(uintptr(fd), "mq_notify"), fd: fd, done: make(chan struct{})}
	go n.run(q)
	return n, nil
}

// run reads the cookies the kernel sends and delivers the ones that concern
// the current registration.
func (n *notifier) run(q *MessageQueue) {
	var b [notifyCookieLen]byte
	for {
		m, err := n.sock.Read(b[:])
		if err != nil {
			if err == syscall.EINTR {
				continue
			}
			return // closed
		}
		if m != notifyCookieLen {
			continue // not a cookie
		}
		q.mu.Lock()
		ch := n.handle(q, binary.LittleEndian.Uint64(b[:]), b[notifyCookieLen-1] == notifyWokenUp)
		q.mu.Unlock()
		if ch != nil {
			select {
			case ch <- q:
			case <-n.done:
				return
			}
		}
	}
}

// handle takes the cookie of registration seq, which fired (woken) or was
// removed, and returns the channel to notify, if any; q.mu is held.
func (n *notifier) handle(q *MessageQueue, seq uint64, woken bool) chan<- *MessageQueue {
	if seq != n.seq || n.ch == nil || q.closed.Load() {
		return nil // an older registration, a cancelled one, or the end
	}
	if !woken {
		// Removed while armed: this process closed another descriptor of
		// the queue. Register again; a message that came in between made
		// the queue non-empty without a notification, so notify for it.
		if n.register(q.fd, seq) == nil {
			if k, err := queued(q.fd); err == nil && k == 0 {
				return nil // registered again, nothing missed
			}
			mqNotify(q.fd, nil) // the notification is delivered here instead
		}
	}
	ch := n.ch
	n.ch = nil
	return ch
}

// armed reports whether a registration waits to fire; q.mu is held.
func (n *notifier) armed() bool { return n != nil && n.ch != nil }

func (n *notifier) close() {
	close(n.done)
	n.sock.Close()
}
