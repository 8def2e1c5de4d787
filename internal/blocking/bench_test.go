package blocking_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/goipc/ipc/internal/blocking"
)

// BenchmarkOverhead measures what Call and Calls.Do add to a call that
// returns at once, the price of being able to end it.
//
//	go test -run '^$' -bench Overhead ./internal/blocking
func BenchmarkOverhead(b *testing.B) {
	var calls blocking.Calls
	ready := func(time.Duration) error { return nil }
	cancellable, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.Run("Call/Background", func(b *testing.B) {
		for b.Loop() {
			blocking.Call(context.Background(), ready)
		}
	})
	b.Run("Do/Background", func(b *testing.B) {
		for b.Loop() {
			calls.Do(context.Background(), syscall.EAGAIN, ready)
		}
	})
	b.Run("Do/WithCancel", func(b *testing.B) {
		for b.Loop() {
			calls.Do(cancellable, syscall.EAGAIN, ready)
		}
	})
}
