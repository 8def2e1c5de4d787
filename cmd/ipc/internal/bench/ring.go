package bench

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/goipc/ipc/ring"
)

// ringMech is two message rings (package ring) in POSIX shared memory, ping
// and pong. The peer receives SPIN, how long a wait spins before it sleeps
// on the futex (ring.DefaultSpin, Go's), so that every peer waits alike.
var ringMech = &Mechanism{
	Name:   "ring",
	Limit:  fixedLimit(ringMaxMessage, "this benchmark's limit: each ring holds twice the largest message, in /dev/shm"),
	Window: ringWindow,
	Setup: func(o *Objects, size int) (*Plan, error) {
		base := "/" + o.Name()
		ping, pong := base+"-ping", base+"-pong"
		var rings [2]*ring.Ring
		for i, name := range []string{ping, pong} {
			r, err := ring.Open(name, &ring.Options{Create: true, Exclusive: true, Capacity: ringCapacity(size)})
			if err != nil {
				return nil, err
			}
			rings[i] = r
			o.Cleanup(func() { r.Close(); ring.Unlink(name) })
		}
		c := &ringConn{send: rings[0], recv: rings[1]}
		return &Plan{
			Args:    []string{ping, pong, strconv.FormatInt(int64(ring.DefaultSpin), 10)},
			Connect: func(int, <-chan struct{}) (Conn, error) { return c, nil },
		}, nil
	},
	Open: func(args []string, size int) (Conn, error) {
		if len(args) != 3 {
			return nil, errors.New("ring: want PING PONG SPIN")
		}
		spin, err := strconv.ParseInt(args[2], 10, 64)
		if err != nil {
			return nil, err
		}
		opts := &ring.Options{Spin: time.Duration(spin)}
		recv, err := ring.Open(args[0], opts)
		if err != nil {
			return nil, err
		}
		send, err := ring.Open(args[1], opts)
		if err != nil {
			recv.Close()
			return nil, err
		}
		return &ringConn{send: send, recv: recv}, nil
	},
}

const ringWindow = 64

// ringMaxMessage is the ring mechanism's largest message: 16 MiB, so that
// its two rings take at most 64 MiB of /dev/shm.
const ringMaxMessage = 16 << 20

// ringCapacity is the data area of a ring for messages of size bytes: room
// for a throughput window of them (up to 4 MiB; beyond it the sender waits
// for the receiver, as a full ring makes it), and always for two, so that
// MaxMessage is at least size.
func ringCapacity(size int) int64 {
	record := int64(4+size+7) &^ 7 // a record's bytes, as ring/doc.go lays it out
	return max(ring.DefaultCapacity, min(ringWindow*record, 4<<20), 2*record)
}

type ringConn struct{ send, recv *ring.Ring }

func (c *ringConn) Send(buf []byte) error { return c.send.Send(context.Background(), buf) }
func (c *ringConn) Recv(buf []byte) error {
	n, err := c.recv.Receive(context.Background(), buf)
	return lengthErr(n, len(buf), err)
}
func (c *ringConn) Abort() { c.Close() } // Close wakes the waiting calls
func (c *ringConn) Close() error {
	return errors.Join(c.send.Close(), c.recv.Close())
}
