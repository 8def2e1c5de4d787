package testutil

import "golang.org/x/sys/unix"

// PinThread pins the calling thread, locked with runtime.LockOSThread, to
// the nth CPU it may run on, so that the two peers of a ping-pong benchmark
// spin on different cores and Go meets the placement of the C programs
// (csrc/mmap_pingpong.c, csrc/ring_peer.c), as osu_latency-style benchmarks
// do. It returns a function that restores the old mask. With no nth CPU it
// leaves the thread alone.
func PinThread(nth int) (restore func(), err error) {
	var old unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		return nil, err
	}
	if old.Count() <= nth {
		return func() {}, nil
	}
	var one unix.CPUSet
	for cpu, seen := 0, 0; ; cpu++ {
		if old.IsSet(cpu) {
			if seen == nth {
				one.Set(cpu)
				break
			}
			seen++
		}
	}
	if err := unix.SchedSetaffinity(0, &one); err != nil {
		return nil, err
	}
	return func() { unix.SchedSetaffinity(0, &old) }, nil
}
