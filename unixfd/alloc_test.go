package unixfd_test

import (
	"testing"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/unixfd"
)

// An EventFD's Add and a Wait that finds the counter set allocate nothing,
// nor do Send and Receive of data without descriptors.
func TestNoAllocs(t *testing.T) {
	if testutil.RaceEnabled {
		t.Skip("under the race detector, os.File's Read and Write move their buffers to the heap")
	}
	e, err := unixfd.NewEventFD(0, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	a, b := testutil.SocketPair(t)
	msg, buf := []byte("zero allocations"), make([]byte, 64)
	testutil.NoAllocs(t, map[string]func(){
		"EventFD Add+Wait": func() {
			if err := e.Add(1); err != nil {
				t.Fatal(err)
			}
			if n, err := e.Wait(); err != nil || n != 1 {
				t.Fatal(n, err)
			}
		},
		"Send+Receive of data alone": func() {
			if err := unixfd.Send(a, msg); err != nil {
				t.Fatal(err)
			}
			if m, err := unixfd.Receive(b, buf, 0); err != nil || m.N != len(msg) {
				t.Fatal(m, err)
			}
		},
	})
}
