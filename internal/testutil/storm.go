package testutil

import (
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// SignalStorm sends SIGUSR1 every 20µs until the test ends: to thread tid, or
// to the process (any thread) when tid is 0, as os/signal and the runtime's
// preemption do to threads blocked in system calls. The signals are caught
// (signal.Notify), so they interrupt calls without killing the process; the
// returned channel receives them, so a test can check that some arrived.
func SignalStorm(t testing.TB, tid int) <-chan os.Signal {
	sigs := make(chan os.Signal, 64)
	signal.Notify(sigs, syscall.SIGUSR1)
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		pid := os.Getpid()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if tid == 0 {
				syscall.Kill(pid, syscall.SIGUSR1)
			} else {
				unix.Tgkill(pid, tid, syscall.SIGUSR1)
			}
			time.Sleep(20 * time.Microsecond)
		}
	}()
	t.Cleanup(func() {
		close(stop)
		<-stopped
		signal.Stop(sigs)
	})
	return sigs
}
