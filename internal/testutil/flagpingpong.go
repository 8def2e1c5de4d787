package testutil

import (
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// The flag ping-pong that the shared-memory benchmarks time (mmap's
// BenchmarkPingPong, mpi's BenchmarkRMA through a shared window), the same as
// csrc/flag_pingpong.h: a flag word at offset 0 and two message areas on
// pages of their own. The initiator writes a message to ping and sets the flag
// to FlagPing; the peer copies it out, writes it to pong and sets FlagPong;
// FlagQuit ends the peer.
const (
	PingOffset        = 4096
	PongOffset        = 8192
	FlagArea          = 3 * 4096 // the flag's page and the two areas
	FlagPing   uint32 = 1
	FlagPong   uint32 = 2
	FlagQuit   uint32 = 3
	// FlagSpin loads of the flag (some microseconds) before each
	// sched_yield: long enough that a peer answering promptly never finds
	// the waiter inside a system call (which adds half a microsecond), short
	// enough to lend the core to other processes when the peer is
	// descheduled, as it is at times on a busy machine.
	FlagSpin = 10000
)

// Yield gives the core to another thread (sched_yield). runtime.Gosched would
// not: it only lets other goroutines run.
func Yield() { unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0) }

// AwaitFlag spins until the flag holds one of the wanted values and returns
// it, yielding the CPU on each load after FlagSpin.
func AwaitFlag(flag *atomic.Uint32, want1, want2 uint32) uint32 {
	for i := 0; ; i++ {
		if v := flag.Load(); v == want1 || v == want2 {
			return v
		}
		if i >= FlagSpin {
			Yield()
		}
	}
}
