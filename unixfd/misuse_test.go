package unixfd_test

import (
	"bytes"
	"errors"
	"io"
	"math"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/unixfd"
)

// TestNilHandles: every method of a nil or zero EventFD, and PassCredentials
// of a nil connection, fails with an error matching os.ErrInvalid (File
// returns nil) instead of panicking.
func TestNilHandles(t *testing.T) {
	for name, e := range map[string]*unixfd.EventFD{"nil": nil, "zero": {}} {
		if err := e.SetDeadline(time.Now()); !errors.Is(err, os.ErrInvalid) || !strings.Contains(err.Error(), "NewEventFD") {
			t.Errorf("%s EventFD: SetDeadline: %v, want os.ErrInvalid naming NewEventFD", name, err)
		}
		if f := e.File(); f != nil {
			t.Errorf("%s EventFD: File: %v, want nil", name, f)
		}
	}
	if err := unixfd.PassCredentials(nil, true); !errors.Is(err, os.ErrInvalid) {
		t.Errorf("PassCredentials(nil): %v, want os.ErrInvalid", err)
	}
}

// TestSendClosedFile: a closed file among those to send fails with an error
// matching os.ErrClosed that names it, and sends nothing.
func TestSendClosedFile(t *testing.T) {
	a, b := testutil.SocketPair(t)
	open := tempFile(t, "open")
	closed := tempFile(t, "closed")
	closed.Close()
	err := unixfd.Send(a, []byte("x"), open, closed)
	if !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Send of a closed file: %v, want os.ErrClosed", err)
	}
	// Nothing went: the next message is the first to arrive.
	if err := unixfd.Send(a, []byte("y")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	msg, err := unixfd.Receive(b, buf, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(buf[:msg.N]); got != "y" || len(msg.Files) != 0 {
		t.Fatalf("received %q with %d files, want \"y\" alone", got, len(msg.Files))
	}
}

// TestSendLarge: a message larger than the socket's buffer arrives whole on
// a stream socket; sendmsg takes only what fits, and Send writes the rest.
func TestSendLarge(t *testing.T) {
	a, b := testutil.SocketPair(t)
	data := make([]byte, 4<<20)
	for i := range data {
		data[i] = byte(i % 251)
	}
	type result struct {
		got   []byte
		files int
		err   error
	}
	done := make(chan result)
	go func() {
		buf := make([]byte, 64<<10)
		msg, err := unixfd.Receive(b, buf, 1)
		if err != nil {
			done <- result{err: err}
			return
		}
		for _, f := range msg.Files {
			f.Close()
		}
		rest, err := io.ReadAll(b)
		done <- result{append(buf[:msg.N], rest...), len(msg.Files), err}
	}()
	f := tempFile(t, "passed")
	if err := unixfd.Send(a, data, f); err != nil {
		t.Fatal(err)
	}
	a.CloseWrite()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.files != 1 || !bytes.Equal(r.got, data) {
		t.Fatalf("received %d bytes and %d files, want %d bytes and 1 file", len(r.got), r.files, len(data))
	}
}

// TestSealsString: seals without a name here (F_SEAL_FUTURE_WRITE, 0x10,
// which a C producer may add) show in the string instead of vanishing.
func TestSealsString(t *testing.T) {
	for s, want := range map[unixfd.Seals]string{
		0:                                 "none",
		unixfd.SealAll:                    "shrink|grow|write|seal",
		unixfd.SealShrink | 0x10:          "shrink|0x10",
		unixfd.SealSeal | unixfd.SealGrow: "grow|seal",
	} {
		if got := s.String(); got != want {
			t.Errorf("Seals(%#x).String() = %q, want %q", int(s), got, want)
		}
	}
}

// TestSendKeepsFilesNonBlocking: sending a file that Go made non-blocking
// (a pipe here) leaves it so, on the runtime poller: its deadlines still
// end its reads. Send once took the descriptors with os.File.Fd, which puts
// such a file into blocking mode for good (here, and in the receiver, which
// shares the open file), so that a Read held its thread past any deadline.
func TestSendKeepsFilesNonBlocking(t *testing.T) {
	a, b := testutil.SocketPair(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	nonBlocking := func(f *os.File) bool {
		t.Helper()
		raw, err := f.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var flags int
		if err := raw.Control(func(fd uintptr) { flags, err = unix.FcntlInt(fd, unix.F_GETFL, 0) }); err != nil {
			t.Fatal(err)
		}
		if err != nil {
			t.Fatal(err)
		}
		return flags&unix.O_NONBLOCK != 0
	}
	if !nonBlocking(r) {
		t.Fatal("os.Pipe's read end is blocking before Send")
	}
	if err := unixfd.Send(a, []byte("pipe"), r, w); err != nil {
		t.Fatal(err)
	}
	if !nonBlocking(r) || !nonBlocking(w) {
		// The Read below would then wait in read(2) for good.
		t.Fatalf("after Send, O_NONBLOCK on the pipe's ends: read %v, write %v; want true for both", nonBlocking(r), nonBlocking(w))
	}
	msg, err := unixfd.Receive(b, make([]byte, 8), 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range msg.Files {
		f.Close()
	}
	if len(msg.Files) != 2 {
		t.Fatalf("received %d files, want 2", len(msg.Files))
	}
	// And the poller still has it: a deadline ends its Read.
	r.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	if _, err := r.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Read of the sent pipe past its deadline: %v, want os.ErrDeadlineExceeded", err)
	}
}

// TestClosedConn: Close of the connection wakes a Receive with an error
// matching os.ErrClosed, as the package documentation says (and net.ErrClosed,
// as net's own calls do); Send, Receive and PassCredentials on it fail alike.
// They used to match net.ErrClosed alone.
func TestClosedConn(t *testing.T) {
	a, b := testutil.SocketPair(t)
	done := make(chan error)
	go func() {
		_, err := unixfd.Receive(b, make([]byte, 8), 1)
		done <- err
	}()
	// Let the Receive reach the poller or not: either way Close ends it.
	b.Close()
	a.Close()
	f := tempFile(t, "passed")
	_, recvErr := unixfd.Receive(b, make([]byte, 8), 1)
	for call, err := range map[string]error{
		"waiting Receive":  <-done,
		"Receive":          recvErr,
		"Send":             unixfd.Send(a, []byte("x")),
		"Send with a file": unixfd.Send(a, []byte("x"), f),
		"PassCredentials":  unixfd.PassCredentials(a, true),
	} {
		if !errors.Is(err, os.ErrClosed) || !errors.Is(err, net.ErrClosed) {
			t.Errorf("%s on a closed connection: %v, want an error matching os.ErrClosed and net.ErrClosed", call, err)
		}
	}
}

// TestClosedFiles: a closed EventFD, and a closed file given to AddSeals,
// SealsOf, MapSealed or EventFDFromFile, fail with an error matching
// os.ErrClosed. SetDeadline and the file calls returned os's "use of closed
// file", which matches nothing.
func TestClosedFiles(t *testing.T) {
	e, err := unixfd.NewEventFD(0, false)
	if err != nil {
		t.Fatal(err)
	}
	memfd, err := unixfd.NewMemfd("closed")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := memfd.Write([]byte("sealed")); err != nil {
		t.Fatal(err)
	}
	if err := unixfd.AddSeals(memfd, unixfd.SealAll); err != nil {
		t.Fatal(err)
	}
	eventFile := e.File()
	e.Close()
	memfd.Close()
	_, waitErr := e.Wait()
	_, sealsErr := unixfd.SealsOf(memfd)
	m, mapErr := unixfd.MapSealed(memfd, unixfd.SealAll)
	if m != nil {
		m.Close()
	}
	e2, fromErr := unixfd.EventFDFromFile(eventFile)
	if e2 != nil {
		e2.Close()
	}
	for call, err := range map[string]error{
		"EventFD.SetDeadline": e.SetDeadline(time.Now()),
		"EventFD.Add":         e.Add(1),
		"EventFD.Wait":        waitErr,
		"AddSeals":            unixfd.AddSeals(memfd, unixfd.SealSeal),
		"SealsOf":             sealsErr,
		"MapSealed":           mapErr,
		"EventFDFromFile":     fromErr,
	} {
		if !errors.Is(err, os.ErrClosed) {
			t.Errorf("%s after Close: %v, want an error matching os.ErrClosed", call, err)
		}
	}
}

// TestReceiveEmptyBuffer: Receive into an empty buffer fails with EINVAL
// and takes nothing, on a stream and on a datagram socket. It used to read
// the first byte into package syscall's own and return a Message whose N (1)
// was past the buffer (buf[:msg.N] panicked), losing that byte.
func TestReceiveEmptyBuffer(t *testing.T) {
	stream, _ := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	dgram, _ := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	for name, fds := range map[string][2]int{"stream": stream, "datagram": dgram} {
		fa, fb := os.NewFile(uintptr(fds[0]), "socket"), os.NewFile(uintptr(fds[1]), "socket")
		t.Cleanup(func() { fa.Close(); fb.Close() })
		a, b := connOf(t, fa), connOf(t, fb)
		f := tempFile(t, "passed")
		if err := unixfd.Send(a, []byte("ab"), f); err != nil {
			t.Fatal(err)
		}
		refused := true
		for _, buf := range [][]byte{nil, {}} {
			msg, err := unixfd.Receive(b, buf, 1)
			for _, f := range msg.Files {
				f.Close()
			}
			if !errors.Is(err, syscall.EINVAL) || msg.N != 0 || len(msg.Files) != 0 {
				t.Errorf("%s: Receive into %#v: %+v, %v; want nothing and an error matching EINVAL", name, buf, msg, err)
				refused = false
				break // what was taken is gone: another Receive could wait for good
			}
		}
		if !refused {
			continue
		}
		// The message is still there, whole.
		buf := make([]byte, 8)
		msg, err := unixfd.Receive(b, buf, 1)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, f := range msg.Files {
			f.Close()
		}
		if string(buf[:msg.N]) != "ab" || len(msg.Files) != 1 {
			t.Errorf("%s: then received %q with %d files, want \"ab\" with 1", name, buf[:msg.N], len(msg.Files))
		}
	}
}

// TestMapSealedEmpty: a sealed but empty memfd (a producer that sealed
// before filling) fails with EINVAL saying it is empty, rather than with
// mmap's "offset 0, length 0", which names no memfd and no remedy.
func TestMapSealedEmpty(t *testing.T) {
	f, err := unixfd.NewMemfd("empty")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unixfd.AddSeals(f, unixfd.SealAll); err != nil {
		t.Fatal(err)
	}
	m, err := unixfd.MapSealed(f, unixfd.SealAll)
	if m != nil {
		m.Close()
	}
	if !errors.Is(err, syscall.EINVAL) || !strings.Contains(err.Error(), "memfd is empty") {
		t.Errorf("MapSealed of an empty memfd: %v, want EINVAL saying the memfd is empty", err)
	}
}

// TestMemfdBadName: a name the kernel refuses with a bare EINVAL (longer
// than 249 bytes, or holding a NUL) fails with EINVAL that says why, and a
// name of 249 bytes works.
func TestMemfdBadName(t *testing.T) {
	for name, want := range map[string]string{
		strings.Repeat("n", 250): "name is 250 bytes; the kernel allows 249",
		"a\x00b":                 "NUL byte",
	} {
		f, err := unixfd.NewMemfd(name)
		if f != nil {
			f.Close()
		}
		if !errors.Is(err, syscall.EINVAL) || !strings.Contains(err.Error(), want) {
			t.Errorf("NewMemfd(%.20q): %v, want EINVAL saying %q", name, err, want)
		}
	}
	f, err := unixfd.NewMemfd(strings.Repeat("n", 249))
	if err != nil {
		t.Fatalf("NewMemfd of a 249-byte name: %v", err)
	}
	f.Close()
}

// TestEventFDAddMax: Add(2^64-1), which the kernel refuses with a bare
// EINVAL ("write eventfd: invalid argument"), fails with EINVAL that says
// why, and leaves the counter as it was.
func TestEventFDAddMax(t *testing.T) {
	e, err := unixfd.NewEventFD(3, false)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if err := e.Add(math.MaxUint64); !errors.Is(err, syscall.EINVAL) || !strings.Contains(err.Error(), "2^64-2") {
		t.Errorf("Add(2^64-1): %v, want EINVAL saying the counter's limit", err)
	}
	if n, err := e.Wait(); err != nil || n != 3 {
		t.Errorf("Wait after the refused Add: %d, %v; want 3", n, err)
	}
}
