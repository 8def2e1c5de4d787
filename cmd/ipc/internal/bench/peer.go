package bench

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// RunPeer is the Go peer. args are the protocol's, as every peer takes them:
//
//	MECH MODE SIZE WARMUP COUNT WINDOW OBJECTS...
//
// It opens its side of the mechanism's objects and prints "ready" (or "skip
// REASON" when it cannot), then receives WARMUP+COUNT messages of SIZE bytes:
// in latency mode it echoes each one, in throughput mode it acknowledges with
// one message of min(SIZE, 1) bytes where AckDue says. Then it prints "cpu
// NS", the CPU time it used over the COUNT timed messages, and exits when its
// stdin closes.
func RunPeer(args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) < 6 {
		return errors.New("want MECH MODE SIZE WARMUP COUNT WINDOW OBJECTS...")
	}
	m, err := Lookup(args[0])
	if err != nil {
		return err
	}
	mode := Mode(args[1])
	var nums [4]int
	for i, a := range args[2:6] {
		if nums[i], err = strconv.Atoi(a); err != nil || nums[i] < 0 {
			return fmt.Errorf("bad number %q", a)
		}
	}
	size, warmup, count, window := nums[0], nums[1], nums[2], max(nums[3], 1)
	conn, err := m.Open(args[6:], size)
	if err != nil {
		return err
	}
	defer conn.Close()
	fmt.Fprintln(stdout, "ready")

	buf, ack := make([]byte, size), make([]byte, min(size, 1))
	var cpu0 time.Duration
	for i := range warmup + count {
		if i == warmup {
			cpu0 = cpuTime()
		}
		if err := conn.Recv(buf); err != nil {
			return err
		}
		switch {
		case mode == Latency:
			err = conn.Send(buf)
		case AckDue(i, warmup, warmup+count, window):
			err = conn.Send(ack)
		}
		if err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "cpu %d\n", cpuTime()-cpu0)
	_, err = io.Copy(io.Discard, stdin)
	return err
}
