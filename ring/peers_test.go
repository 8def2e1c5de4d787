package ring_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/ring"
)

// The test messages that every peer sends and checks (csrc/ring_peer.c):
// producer id, number i, the FNV-1a of the payload, then the payload.
func makeMessage(id, i, maxlen uint32) []byte {
	n := (i*37 + id*11) % (maxlen + 1)
	msg := make([]byte, 12+n)
	for j := range n {
		msg[12+j] = byte(id*131 + i*7 + j)
	}
	binary.NativeEndian.PutUint32(msg, id)
	binary.NativeEndian.PutUint32(msg[4:], i)
	binary.NativeEndian.PutUint32(msg[8:], fnvOf(msg[12:]))
	return msg
}

func fnvOf(b []byte) uint32 {
	h := fnv.New32a()
	h.Write(b)
	return h.Sum32()
}

// checkMessage returns the producer and number of a whole test message, or
// an error for a torn or corrupt one.
func checkMessage(msg []byte) (id, i uint32, err error) {
	if len(msg) < 12 {
		return 0, 0, fmt.Errorf("torn message of %d bytes", len(msg))
	}
	id, i = binary.NativeEndian.Uint32(msg), binary.NativeEndian.Uint32(msg[4:])
	for j, b := range msg[12:] {
		if b != byte(id*131+i*7+uint32(j)) {
			return id, i, fmt.Errorf("torn message: producer %d number %d, byte %d", id, i, j)
		}
	}
	if fnvOf(msg[12:]) != binary.NativeEndian.Uint32(msg[8:]) {
		return id, i, fmt.Errorf("corrupt message: producer %d number %d: checksum", id, i)
	}
	return id, i, nil
}

// peerCmd returns the command that runs a peer of kind go, c, c-batch (c
// in the batch form of the mode: sendbatch, recvbatch) or python with the
// arguments of csrc/ring_peer.c (PATH MODE ...).
func peerCmd(t testing.TB, kind string, args ...string) *exec.Cmd {
	t.Helper()
	switch kind {
	case "c-batch":
		args = append([]string{args[0], args[1] + "batch"}, args[2:]...)
		fallthrough
	case "c":
		return exec.Command(testutil.BuildC(t, "ring_peer", "-pthread"), args...)
	case "python":
		py := testutil.RequirePython(t)
		return exec.Command(py, append([]string{filepath.Join(testutil.RepoRoot(), "csrc", "goipc_ring.py")}, args...)...)
	}
	return testutil.Child(args[1], args...)
}

// TestPeerUsage: the C peer run without arguments, or with a mode it does
// not know, lists its modes (it named only its source file).
func TestPeerUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"/dev/null", "bogus"}} {
		out, err := peerCmd(t, "c", args...).CombinedOutput()
		if code := exitCode(err); code != 2 || !strings.Contains(string(out), "ring_peer PATH init CAPACITY") {
			t.Errorf("ring_peer %q: exit %d, %q; want exit 2 and the modes", args, code, out)
		}
	}
}

func exitCode(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func openPath(path string) (*ring.Ring, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ring.FromFile(f, nil)
}

func atoi(s string) uint32 {
	n, _ := strconv.ParseUint(s, 10, 32)
	return uint32(n)
}

// childSend is the Go peer's send mode: PATH send ID N MAXLEN.
func childSend(args []string) error {
	r, err := openPath(args[0])
	if err != nil {
		return err
	}
	defer r.Close()
	id, n, maxlen := atoi(args[2]), atoi(args[3]), atoi(args[4])
	for i := uint32(0); n == 0 || i < n; i++ {
		if err := r.Send(context.Background(), makeMessage(id, i, maxlen)); err != nil {
			return err
		}
		if i == 0 {
			fmt.Println("ready")
		}
	}
	return nil
}

// childRecv is the Go peer's recv mode: PATH recv N.
func childRecv(args []string) error {
	r, err := openPath(args[0])
	if err != nil {
		return err
	}
	defer r.Close()
	n := atoi(args[2])
	buf := make([]byte, r.MaxMessage())
	fmt.Println("ready")
	got := uint32(0)
	for ; n == 0 || got < n; got++ {
		k, err := r.Receive(context.Background(), buf)
		if err != nil {
			return err
		}
		id, i, err := checkMessage(buf[:k])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		fmt.Println(id, i)
	}
	fmt.Println("ok", got)
	return nil
}

// childEcho answers every message on the ring inherited as descriptor 3
// with it on descriptor 4's, until an empty message: args SPIN (ns; 0: sleep
// at once) [sendreceive] (each reply and the next request in one
// SendReceive, not a Send and a Receive). Spinning, it runs on a thread
// pinned to the second CPU.
func childEcho(args []string) error {
	spin, err := strconv.ParseInt(args[0], 10, 64)
	if err != nil {
		return err
	}
	opts := &ring.Options{Spin: spinOf(spin)}
	ping, err := ring.FromFile(os.NewFile(3, "ping"), opts)
	if err != nil {
		return err
	}
	pong, err := ring.FromFile(os.NewFile(4, "pong"), opts)
	if err != nil {
		return err
	}
	if spin > 0 {
		runtime.LockOSThread()
		if _, err := testutil.PinThread(1); err != nil {
			return err
		}
	}
	buf := make([]byte, ping.MaxMessage())
	ctx := context.Background()
	reply := func(n int) (next int, err error) {
		if err := pong.Send(ctx, buf[:n]); err != nil {
			return 0, err
		}
		return ping.Receive(ctx, buf)
	}
	if len(args) > 1 && args[1] == "sendreceive" {
		reply = func(n int) (int, error) { return pong.SendReceive(ctx, buf[:n], ping, buf) }
	}
	fmt.Println("ready")
	n, err := ping.Receive(ctx, buf)
	for err == nil && n > 0 {
		n, err = reply(n)
	}
	return err
}

// TestInterop: every kind of peer sends to every kind, through a ring that
// C, Python or Go created; the receiver checks every message, and the test
// checks that all came, in order. c-batch is C sending and receiving with
// goipc_ring_send_batch and goipc_ring_recv_batch.
func TestInterop(t *testing.T) {
	const n, maxlen, capacity = 300, 300, 1024 // small: it fills and wraps
	kinds := []string{"go", "c", "python"}
	peers := append(kinds, "c-batch")
	for ci, creator := range kinds {
		for _, sender := range peers {
			for _, receiver := range peers {
				t.Run(fmt.Sprintf("%s-made/%s-to-%s", creator, sender, receiver), func(t *testing.T) {
					path := makeRing(t, creator, capacity)
					id := fmt.Sprint(ci + 1)
					recv := testutil.Start(t, peerCmd(t, receiver, path, "recv", strconv.Itoa(n)))
					recv.Expect("ready")
					send := testutil.Start(t, peerCmd(t, sender, path, "send", id, strconv.Itoa(n), strconv.Itoa(maxlen)))
					send.Expect("ready")
					send.MustSucceed()
					for i := range n {
						recv.Expect(fmt.Sprintf("%s %d", id, i))
					}
					recv.Expect(fmt.Sprintf("ok %d", n))
					recv.MustSucceed()
				})
			}
		}
	}
}

// makeRing makes a named ring with the creator's implementation and returns
// its path, removed at cleanup.
func makeRing(t testing.TB, creator string, capacity int64) string {
	t.Helper()
	name := "/" + testutil.Name("ring")
	t.Cleanup(func() { ring.Unlink(name) })
	path := "/dev/shm" + name
	if creator == "go" {
		r, err := ring.Open(name, &ring.Options{Create: true, Exclusive: true, Capacity: capacity})
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
		return path
	}
	if err := os.WriteFile(path, make([]byte, 256+capacity), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := peerCmd(t, creator, path, "init", strconv.FormatInt(capacity, 10)).CombinedOutput(); err != nil {
		t.Fatalf("%s init: %v %s", creator, err, out)
	}
	r, err := openPath(path) // Go must accept what the others made
	if err != nil {
		t.Fatalf("opening the ring %s made: %v", creator, err)
	}
	defer r.Close()
	if r.Capacity() != int(capacity) {
		t.Fatalf("ring made by %s: capacity %d, want %d", creator, r.Capacity(), capacity)
	}
	return path
}
