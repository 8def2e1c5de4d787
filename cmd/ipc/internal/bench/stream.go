package bench

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// The socket, pipe and FIFO mechanisms: a byte stream (or datagrams) each
// way, read and written with Go's net and os packages.

var tcpMech = &Mechanism{
	Name:   "tcp",
	Window: 64,
	Setup: func(o *Objects, size int) (*Plan, error) {
		return listen(o, "tcp", "127.0.0.1:0")
	},
	Open: func(args []string, size int) (Conn, error) { return dial("tcp", args) },
}

var unixMech = &Mechanism{
	Name:   "unix",
	Window: 64,
	Setup: func(o *Objects, size int) (*Plan, error) {
		return listen(o, "unix", o.Path(".sock"))
	},
	Open: func(args []string, size int) (Conn, error) { return dial("unix", args) },
}

// unixDgramMech is a socketpair of datagram sockets, the peer's end inherited.
var unixDgramMech = &Mechanism{
	Name:   "unix-dgram",
	Limit:  fixedLimit(64<<10, "this benchmark's datagram limit, below net.core.wmem_default"),
	Window: 64,
	Setup: func(o *Objects, size int) (*Plan, error) {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return nil, os.NewSyscallError("socketpair", err)
		}
		mine, theirs := os.NewFile(uintptr(fds[0]), "dgram"), os.NewFile(uintptr(fds[1]), "dgram")
		conn, err := net.FileConn(mine)
		mine.Close()
		if err != nil {
			theirs.Close()
			return nil, err
		}
		o.Cleanup(func() { conn.Close() })
		return &Plan{
			Files:   []*os.File{theirs},
			Connect: func(int, <-chan struct{}) (Conn, error) { return &dgramConn{conn}, nil },
		}, nil
	},
	Open: func(args []string, size int) (Conn, error) {
		f := os.NewFile(3, "dgram")
		defer f.Close()
		conn, err := net.FileConn(f)
		if err != nil {
			return nil, err
		}
		return &dgramConn{conn}, nil
	},
}

// pipeMech is two anonymous pipes, the peer's ends inherited as 3 (it reads)
// and 4 (it writes).
var pipeMech = &Mechanism{
	Name:   "pipe",
	Window: 64,
	Setup: func(o *Objects, size int) (*Plan, error) {
		pingR, pingW, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		pongR, pongW, err := os.Pipe()
		if err != nil {
			pingR.Close()
			pingW.Close()
			return nil, err
		}
		c := &streamConn{r: pongR, w: pingW}
		o.Cleanup(func() { c.Close() })
		return &Plan{
			Files:   []*os.File{pingR, pongW},
			Connect: func(int, <-chan struct{}) (Conn, error) { return c, nil },
		}, nil
	},
	Open: func(args []string, size int) (Conn, error) {
		return &streamConn{r: os.NewFile(3, "ping"), w: os.NewFile(4, "pong")}, nil
	},
}

// fifoMech is two FIFOs: the peer opens ping for reading, then pong for
// writing; the initiator the other ends in the same order.
var fifoMech = &Mechanism{
	Name:   "fifo",
	Window: 64,
	Setup: func(o *Objects, size int) (*Plan, error) {
		ping, pong := o.Path(".ping"), o.Path(".pong")
		for _, p := range []string{ping, pong} {
			if err := unix.Mkfifo(p, 0o600); err != nil {
				return nil, &os.PathError{Op: "mkfifo", Path: p, Err: err}
			}
			o.Cleanup(func() { os.Remove(p) })
		}
		return &Plan{
			Args: []string{ping, pong},
			Connect: func(_ int, done <-chan struct{}) (Conn, error) {
				return connectOrAbort(done, func() (Conn, error) { return openFIFOs(ping, pong, false) }, func() {
					// A peer gone before it opened its ends: open them
					// ourselves, without waiting, so that our opens return.
					if f, err := os.OpenFile(ping, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
						defer f.Close()
					}
					if f, err := os.OpenFile(pong, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
						defer f.Close()
					}
				})
			},
		}, nil
	},
	Open: func(args []string, size int) (Conn, error) {
		if len(args) != 2 {
			return nil, errors.New("fifo: want PING PONG")
		}
		return openFIFOs(args[0], args[1], true)
	},
}

// openFIFOs opens ping then pong, writing to ping unless peer (the reader).
func openFIFOs(ping, pong string, peer bool) (Conn, error) {
	first, second := os.O_WRONLY, os.O_RDONLY
	if peer {
		first, second = os.O_RDONLY, os.O_WRONLY
	}
	a, err := os.OpenFile(ping, first, 0)
	if err != nil {
		return nil, err
	}
	b, err := os.OpenFile(pong, second, 0)
	if err != nil {
		a.Close()
		return nil, err
	}
	if peer {
		return &streamConn{r: a, w: b}, nil
	}
	return &streamConn{r: b, w: a}, nil
}

// listen makes a listener whose address the peer dials; Connect accepts it.
func listen(o *Objects, network, addr string) (*Plan, error) {
	ln, err := net.Listen(network, addr)
	if err != nil {
		return nil, err
	}
	o.Cleanup(func() { ln.Close() })
	return &Plan{
		Args: []string{ln.Addr().String()},
		Connect: func(_ int, done <-chan struct{}) (Conn, error) {
			return connectOrAbort(done, func() (Conn, error) {
				c, err := ln.Accept()
				if err != nil {
					return nil, err
				}
				return &streamConn{r: c, w: c}, nil
			}, func() { ln.Close() })
		},
	}, nil
}

func dial(network string, args []string) (Conn, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("%s: want ADDRESS", network)
	}
	c, err := net.Dial(network, args[0])
	if err != nil {
		return nil, err
	}
	return &streamConn{r: c, w: c}, nil // Go sets TCP_NODELAY by default
}

// connectOrAbort runs connect, and if done closes first calls unblock so
// that it returns, and fails.
func connectOrAbort(done <-chan struct{}, connect func() (Conn, error), unblock func()) (Conn, error) {
	type result struct {
		c   Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		c, err := connect()
		ch <- result{c, err}
	}()
	select {
	case r := <-ch:
		return r.c, r.err
	case <-done:
		unblock()
		if r := <-ch; r.c != nil {
			r.c.Close()
		}
		return nil, errors.New("the peer exited before it connected")
	}
}

// streamConn moves messages over a byte stream: whole writes, full reads.
type streamConn struct {
	r io.ReadCloser
	w io.WriteCloser
}

func (c *streamConn) Send(buf []byte) error { _, err := c.w.Write(buf); return err }
func (c *streamConn) Recv(buf []byte) error { _, err := io.ReadFull(c.r, buf); return err }
func (c *streamConn) Abort()                { c.Close() }
func (c *streamConn) Close() error {
	err := c.w.Close()
	if any(c.r) != any(c.w) {
		err = errors.Join(err, c.r.Close())
	}
	return err
}

// dgramConn moves one datagram per message.
type dgramConn struct{ c net.Conn }

func (c *dgramConn) Send(buf []byte) error { _, err := c.c.Write(buf); return err }
func (c *dgramConn) Recv(buf []byte) error {
	n, err := c.c.Read(buf)
	if err == nil && n != len(buf) {
		err = fmt.Errorf("datagram of %d bytes, want %d", n, len(buf))
	}
	return err
}
func (c *dgramConn) Abort()       { c.c.Close() }
func (c *dgramConn) Close() error { return c.c.Close() }
