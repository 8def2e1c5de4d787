package posix_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goipc/ipc/posix"
)

// TestHandlesNotOpen calls every exported method of every handle type on a
// nil and on a zero value, which no Open function made: each fails with an
// error matching os.ErrInvalid or gives its documented empty result, and none
// panics (Name, MessageSize, SetNonblocking and String used to, and a zero
// SharedMemory took standard input for its descriptor). The table is checked
// against each type's method set, so a new method must join it.
func TestHandlesNotOpen(t *testing.T) {
	ctx := context.Background()
	invalid := func(err error) error {
		if errors.Is(err, os.ErrInvalid) {
			return nil
		}
		return fmt.Errorf("%v, want an error matching os.ErrInvalid", err)
	}
	is := func(got, want any) error {
		if !reflect.DeepEqual(got, want) {
			return fmt.Errorf("%#v, want %#v", got, want)
		}
		return nil
	}
	queue := func(q *posix.MessageQueue) map[string]func() error {
		return map[string]func() error{
			"Name":        func() error { return is(q.Name(), "") },
			"MessageSize": func() error { return is(q.MessageSize(), 0) },
			"SetNonblocking": func() error {
				q.SetNonblocking(true) // does nothing
				return invalid(q.TrySend(nil, 0))
			},
			"Send":             func() error { return invalid(q.Send(ctx, nil, 0)) },
			"Receive":          func() error { return invalid(third(q.Receive(ctx, nil))) },
			"TrySend":          func() error { return invalid(q.TrySend(nil, 0)) },
			"TryReceive":       func() error { return invalid(third(q.TryReceive(nil))) },
			"SetDeadline":      func() error { return invalid(q.SetDeadline(time.Now())) },
			"SetReadDeadline":  func() error { return invalid(q.SetReadDeadline(time.Now())) },
			"SetWriteDeadline": func() error { return invalid(q.SetWriteDeadline(time.Now())) },
			"Attr":             func() error { return invalid(second(q.Attr())) },
			"Stat":             func() error { return invalid(second(q.Stat())) },
			"Notify":           func() error { return invalid(q.Notify(make(chan *posix.MessageQueue))) },
			"Unlink":           func() error { return invalid(q.Unlink()) },
			"Close":            func() error { return is(q.Close(), nil) },
		}
	}
	shm := func(m *posix.SharedMemory) map[string]func() error {
		return map[string]func() error{
			"Name":   func() error { return is(m.Name(), "") },
			"Size":   func() error { return invalid(second(m.Size())) },
			"Stat":   func() error { return invalid(second(m.Stat())) },
			"Map":    func() error { return invalid(second(m.Map(posix.ReadWrite))) },
			"Bytes":  func() error { return is(m.Bytes(), []byte(nil)) },
			"Unmap":  func() error { return invalid(m.Unmap()) },
			"Resize": func() error { return invalid(second(m.Resize(4096))) },
			"Unlink": func() error { return invalid(m.Unlink()) },
			"Close": func() error {
				if err := m.Close(); err != nil {
					return err
				}
				_, err := os.Stdin.Stat() // not closed in its stead
				return err
			},
		}
	}
	sem := func(s *posix.Semaphore) map[string]func() error {
		return map[string]func() error{
			"Name":    func() error { return is(s.Name(), "") },
			"String":  func() error { return is(s.String(), "semaphore (not open)") },
			"Stat":    func() error { return invalid(second(s.Stat())) },
			"Wait":    func() error { return invalid(s.Wait(ctx)) },
			"TryWait": func() error { return invalid(s.TryWait()) },
			"Post":    func() error { return invalid(s.Post()) },
			"Value":   func() error { return invalid(second(s.Value())) },
			"Unlink":  func() error { return invalid(s.Unlink()) },
			"Close":   func() error { return is(s.Close(), nil) },
		}
	}
	for _, h := range []struct {
		what    string
		handle  any
		methods map[string]func() error
	}{
		{"nil", (*posix.MessageQueue)(nil), queue(nil)},
		{"zero", &posix.MessageQueue{}, queue(&posix.MessageQueue{})},
		{"nil", (*posix.SharedMemory)(nil), shm(nil)},
		{"zero", &posix.SharedMemory{}, shm(&posix.SharedMemory{})},
		{"nil", (*posix.Semaphore)(nil), sem(nil)},
		{"zero", &posix.Semaphore{}, sem(&posix.Semaphore{})},
	} {
		typ := reflect.TypeOf(h.handle)
		for i := range typ.NumMethod() {
			if name := typ.Method(i).Name; h.methods[name] == nil {
				t.Errorf("%v.%s is not in the table", typ, name)
			}
		}
		for _, name := range slices.Sorted(maps.Keys(h.methods)) {
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("%s %v.%s panicked: %v", h.what, typ, name, r)
					}
				}()
				if err := h.methods[name](); err != nil {
					t.Errorf("%s %v.%s: %s", h.what, typ, name, strings.TrimSpace(err.Error()))
				}
			}()
		}
	}
}

func third[A, B any](_ A, _ B, err error) error { return err }

// A nil context is bad input, refused with EINVAL whether or not the call
// would have waited; it used to be a nil dereference.
func TestNilContext(t *testing.T) {
	q, s := newQueue(t, 1, 8), newSemaphore(t, 1)
	var nilCtx context.Context
	buf := make([]byte, 8)
	_, _, receiveErr := q.Receive(nilCtx, buf)
	for call, err := range map[string]error{
		"Send":           q.Send(nilCtx, []byte("x"), 0),
		"Receive":        receiveErr,
		"Semaphore.Wait": s.Wait(nilCtx),
	} {
		if !errors.Is(err, syscall.EINVAL) || !strings.Contains(err.Error(), "nil context") {
			t.Errorf("%s with a nil context: %v, want EINVAL", call, err)
		}
	}
	if v, err := s.Value(); err != nil || v != 1 {
		t.Errorf("semaphore after the refused Wait: %d, %v; want 1", v, err)
	}
}
