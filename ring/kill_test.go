package ring_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/goipc/ipc/internal/testutil"
)

// kills is how many peers each crash test kills: `make test` runs the
// default; the full run is
// go test -run Killed ./ring/ -kills 1000.
var kills = flag.Int("kills", 100, "peers each crash test of package ring kills")

// killAtRandom kills p's process after a random delay of up to 3ms (the
// instant is the test's input, not a wait for an event) and returns what it
// printed since. A peer that exited on its own, instead of being killed,
// fails the test: exit status 3 is a torn message.
func killAtRandom(t *testing.T, p *testutil.Proc) []string {
	t.Helper()
	time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
	p.Cmd.Process.Kill()
	lines, err := p.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("%s ended with %v before it was killed; stderr:\n%s", strings.Join(p.Cmd.Args, " "), err, p.Stderr())
	}
	return lines
}

// TestKilledProducers kills C, Go (Send, SendBatch) and Python producers at
// random instants while this process receives. Every message must be whole,
// and each producer's messages must arrive without a gap: a killed producer
// loses at most the message it was sending, its last (a batch sender, the
// rest of its batch). Then the ring must still carry a last producer's
// messages.
func TestKilledProducers(t *testing.T) {
	path := makeRing(t, "go", 4096)
	r, err := openPath(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	var mu sync.Mutex
	next := map[uint32]uint32{} // per producer, the number of the next message
	lastDone := make(chan struct{})
	const last, lastCount = 1 << 20, 100
	consumed := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		buf := make([]byte, r.MaxMessage())
		for {
			n, err := r.Receive(ctx, buf)
			if err != nil {
				if ctx.Err() != nil {
					err = nil // the test is over
				}
				consumed <- err
				return
			}
			id, i, err := checkMessage(buf[:n])
			mu.Lock()
			if err == nil && i != next[id] {
				err = fmt.Errorf("producer %d: message %d after %d: a message was lost or repeated", id, i, next[id])
			}
			next[id] = i + 1
			mu.Unlock()
			if err != nil {
				consumed <- err
				return
			}
			if id == last && i == lastCount-1 {
				close(lastDone)
			}
		}
	}()

	for k := range *kills {
		select {
		case err := <-consumed:
			t.Fatalf("the consumer stopped after %d kills: %v", k, err)
		default:
		}
		kind, mode := []string{"c", "go", "python", "go"}[k%4], "send"
		if k%4 == 3 {
			mode = "sendbatch" // killed mid-batch, it has sent a prefix of it
		}
		p := testutil.Start(t, peerCmd(t, kind, path, mode, strconv.Itoa(k+1), "0", "300"))
		p.Expect("ready")
		killAtRandom(t, p)
	}
	p := testutil.Start(t, peerCmd(t, "go", path, "send", strconv.Itoa(last), strconv.Itoa(lastCount), "300"))
	p.Expect("ready")
	p.MustSucceed()
	select {
	case <-lastDone:
	case err := <-consumed:
		t.Fatal(err)
	case <-time.After(testutil.Timeout):
		t.Fatal("the ring stopped carrying messages after the kills")
	}
	cancel()
	if err := <-consumed; err != nil {
		t.Fatal(err)
	}
}

// TestKilledConsumers kills C, Go and Python consumers at random instants while
// this process sends. Each consumer checks every message (and exits 3 on a
// torn one) and prints the number of each; in the end this process takes
// the rest. No message may come twice, and at most one per killed consumer
// may be lost: the one it was taking when it died.
func TestKilledConsumers(t *testing.T) {
	path := makeRing(t, "go", 4096)
	r, err := openPath(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithCancel(context.Background())
	sent := make(chan uint32)
	go func() {
		i := uint32(0)
		for ; r.Send(ctx, makeMessage(1, i, 300)) == nil; i++ {
		}
		sent <- i
	}()

	seen := map[uint32]bool{}
	take := func(who string, i uint32) {
		if seen[i] {
			t.Fatalf("message %d came twice (again to %s)", i, who)
		}
		seen[i] = true
	}
	for k := range *kills {
		kind := []string{"c", "go", "python"}[k%3]
		p := testutil.Start(t, peerCmd(t, kind, path, "recv", "0"))
		p.Expect("ready")
		for _, line := range killAtRandom(t, p) {
			var id, i uint32
			if _, err := fmt.Sscan(line, &id, &i); err != nil || id != 1 {
				t.Fatalf("%s consumer printed %q", kind, line)
			}
			take(kind, i)
		}
	}
	cancel()
	total := <-sent
	buf := make([]byte, r.MaxMessage())
	for {
		n, err := r.TryReceive(buf)
		if errors.Is(err, syscall.EAGAIN) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		_, i, err := checkMessage(buf[:n])
		if err != nil {
			t.Fatal(err)
		}
		take("this process", i)
	}
	for i := range seen {
		if i >= total {
			t.Fatalf("message %d came, but only %d were sent", i, total)
		}
	}
	lost := int(total) - len(seen)
	t.Logf("%d messages sent, %d consumers killed, %d messages lost", total, *kills, lost)
	if lost > *kills {
		t.Fatalf("%d messages lost to %d killed consumers: more than one each", lost, *kills)
	}
}
