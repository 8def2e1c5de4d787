package testutil

import (
	"errors"
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

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
	one := nthCPU(&old, nth)
	if err := unix.SchedSetaffinity(0, &one); err != nil {
		return nil, err
	}
	return func() { unix.SchedSetaffinity(0, &old) }, nil
}

// PinProcess pins every thread of this process to the nth CPU it may run on,
// counting from the last one when nth is negative (-1 is the last), so that
// a benchmark chooses where its peers run instead of the kernel: a ping-pong
// whose two processes share a CPU takes twice as long as one whose processes
// run on two, and an unpinned run is either. Threads made later inherit the
// mask, and so do child processes. GOMAXPROCS stays what it was: pinning is
// how a benchmark measures, not the configuration it measures, and the
// runtime would lower it to 1 for one CPU. restore gives back the old mask
// and the default GOMAXPROCS. With no nth CPU it leaves the process alone.
func PinProcess(nth int) (restore func(), err error) {
	var old unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		return nil, err
	}
	if nth < 0 {
		nth += old.Count()
	}
	if nth < 0 || nth >= old.Count() {
		return func() {}, nil
	}
	one := nthCPU(&old, nth)
	runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	if err := setThreads(&one); err != nil {
		return nil, err
	}
	return func() {
		setThreads(&old)
		runtime.SetDefaultGOMAXPROCS()
	}, nil
}

// nthCPU returns the mask of the nth CPU of set, which has more than nth.
func nthCPU(set *unix.CPUSet, nth int) (one unix.CPUSet) {
	for cpu, seen := 0, 0; ; cpu++ {
		if set.IsSet(cpu) {
			if seen == nth {
				one.Set(cpu)
				return one
			}
			seen++
		}
	}
}

// setThreads sets the CPU mask of every thread of this process.
func setThreads(set *unix.CPUSet) error {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return err
	}
	for _, task := range tasks {
		tid, _ := strconv.Atoi(task.Name())
		if err := unix.SchedSetaffinity(tid, set); err != nil && !errors.Is(err, unix.ESRCH) {
			return err
		}
	}
	return nil
}
