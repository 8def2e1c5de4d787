package unixfd_test

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/goipc/ipc/unixfd"
)

// TestNilHandles: every method of a nil or zero EventFD, and PassCredentials
// of a nil connection, fails with an error matching os.ErrInvalid (File
// returns nil) instead of panicking.
func TestNilHandles(t *testing.T) {
	for name, e := range map[string]*unixfd.EventFD{"nil": nil, "zero": {}} {
		if err := e.SetDeadline(time.Now()); !errors.Is(err, os.ErrInvalid) {
			t.Errorf("%s EventFD: SetDeadline: %v, want os.ErrInvalid", name, err)
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
	a, b := socketPair(t)
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
