package bench

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/goipc/ipc/posix"
	"github.com/goipc/ipc/sysv"
)

// The message queues: a POSIX queue each way, or one System V queue with a
// message type each way.

// mqCapacity is each POSIX queue's mq_maxmsg: fs.mqueue.msg_max's default.
const mqCapacity = 10

var posixMQMech = &Mechanism{
	Name:     "posix-mq",
	Limit:    sysctlLimit("fs/mqueue/msgsize_max", 8192),
	Window:   mqCapacity - 2,
	NoPython: "the Python standard library has no POSIX message queues (posix_ipc is not installed)",
	Setup: func(o *Objects, size int) (*Plan, error) {
		base := "/" + o.Name()
		ping, pong := base+"-ping", base+"-pong"
		var qs [2]*posix.MessageQueue
		for i, name := range []string{ping, pong} {
			q, err := posix.OpenQueue(name, &posix.QueueOptions{Create: true, Exclusive: true,
				Capacity: mqCapacity, MessageSize: max(size, 1)})
			if err != nil {
				return nil, err
			}
			qs[i] = q
			o.Cleanup(func() { q.Close(); posix.UnlinkQueue(name) })
		}
		c := &posixMQConn{send: qs[0], recv: qs[1], scratch: make([]byte, max(size, 1))}
		return &Plan{
			Args:    []string{ping, pong},
			Connect: func(int, <-chan struct{}) (Conn, error) { return c, nil },
		}, nil
	},
	Open: func(args []string, size int) (Conn, error) {
		if len(args) != 2 {
			return nil, errors.New("posix-mq: want PING PONG")
		}
		recv, err := posix.OpenQueue(args[0], &posix.QueueOptions{Access: posix.ReadOnly})
		if err != nil {
			return nil, err
		}
		send, err := posix.OpenQueue(args[1], &posix.QueueOptions{Access: posix.WriteOnly})
		if err != nil {
			recv.Close()
			return nil, err
		}
		return &posixMQConn{send: send, recv: recv, scratch: make([]byte, max(size, 1))}, nil
	},
}

type posixMQConn struct {
	send, recv *posix.MessageQueue
	scratch    []byte // mq_receive wants room for the queue's message size
}

func (c *posixMQConn) Send(buf []byte) error { return c.send.Send(context.Background(), buf, 0) }
func (c *posixMQConn) Recv(buf []byte) error {
	n, _, err := c.recv.Receive(context.Background(), c.scratch)
	copy(buf, c.scratch[:n])
	return lengthErr(n, len(buf), err)
}
func (c *posixMQConn) Abort() { c.Close() } // Close wakes the waiting calls
func (c *posixMQConn) Close() error {
	return errors.Join(c.send.Close(), c.recv.Close())
}

// Message types on the System V queue.
const (
	typePing = 1
	typePong = 2
)

var sysvMsgMech = &Mechanism{
	Name:   "sysv-msg",
	Limit:  sysctlLimit("kernel/msgmax", 8192),
	Window: 64,
	Setup: func(o *Objects, size int) (*Plan, error) {
		var q *sysv.MessageQueue
		key, err := createKeyed(o, func(key int64) (err error) {
			q, err = sysv.OpenQueue(sysv.Key(key), sysv.Create|sysv.Exclusive, sysv.DefaultMode)
			return err
		})
		if err != nil {
			return nil, err
		}
		o.Cleanup(func() { q.Remove(); q.Close() })
		// The cleanup owns the queue: closing it here would make its
		// Remove fail.
		c := &sysvMsgConn{q: q, send: typePing, recv: typePong, close: func() error { return nil }}
		return &Plan{
			Args:    []string{strconv.FormatInt(key, 10)},
			Connect: func(int, <-chan struct{}) (Conn, error) { return c, nil },
		}, nil
	},
	Open: func(args []string, size int) (Conn, error) {
		keys, err := parseKeys(args, 1)
		if err != nil {
			return nil, err
		}
		q, err := sysv.OpenQueue(keys[0], 0, 0)
		if err != nil {
			return nil, err
		}
		return &sysvMsgConn{q: q, send: typePong, recv: typePing, close: q.Close}, nil
	},
}

type sysvMsgConn struct {
	q          *sysv.MessageQueue
	send, recv int64
	close      func() error
}

func (c *sysvMsgConn) Send(buf []byte) error {
	return c.q.Send(context.Background(), c.send, buf, 0)
}
func (c *sysvMsgConn) Recv(buf []byte) error {
	n, _, err := c.q.Receive(context.Background(), buf, c.recv, 0)
	return lengthErr(n, len(buf), err)
}
func (c *sysvMsgConn) Abort()       { c.q.Remove() } // msgrcv fails with EIDRM
func (c *sysvMsgConn) Close() error { return c.close() }

// lengthErr is err, or an error if a message of n bytes arrived for want.
func lengthErr(n, want int, err error) error {
	if err == nil && n != want {
		err = fmt.Errorf("message of %d bytes, want %d", n, want)
	}
	return err
}

// parseKeys reads n System V keys in decimal.
func parseKeys(args []string, n int) ([]sysv.Key, error) {
	if len(args) != n {
		return nil, fmt.Errorf("want %d keys, have %d arguments", n, len(args))
	}
	keys := make([]sysv.Key, n)
	for i, a := range args {
		k, err := sysv.ParseKey(a)
		if err != nil {
			return nil, err
		}
		keys[i] = k
	}
	return keys, nil
}
