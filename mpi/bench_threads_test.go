package mpi_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// threadUse is what a rank's threads did, summed: the thread that called
// Init (MPI's) and the runtime's others apart. Counts come from the kernel
// (/proc/self/task/*/status and schedstat).
type threadUse struct {
	mainVol, mainInvol int64 // MPI thread's voluntary and involuntary switches
	mainWaitNs         int64 // MPI thread's time runnable but waiting for the CPU
	otherSwitches      int64 // the other threads' switches
	otherRunNs         int64 // the other threads' time on a CPU
	threads            int   // threads at the end
}

// readThreadUse reads every thread of the process, mainTid the MPI thread.
func readThreadUse(mainTid int) threadUse {
	var u threadUse
	tasks, _ := os.ReadDir("/proc/self/task")
	for _, t := range tasks {
		tid, _ := strconv.Atoi(t.Name())
		status, _ := os.ReadFile("/proc/self/task/" + t.Name() + "/status")
		var vol, invol int64
		for line := range strings.Lines(string(status)) {
			k, v, _ := strings.Cut(line, ":")
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			switch k {
			case "voluntary_ctxt_switches":
				vol = n
			case "nonvoluntary_ctxt_switches":
				invol = n
			}
		}
		var run, wait int64
		if ss, err := os.ReadFile("/proc/self/task/" + t.Name() + "/schedstat"); err == nil {
			fmt.Sscan(string(ss), &run, &wait)
		}
		u.threads++
		if tid == mainTid {
			u.mainVol, u.mainInvol, u.mainWaitNs = vol, invol, wait
		} else {
			u.otherSwitches += vol + invol
			u.otherRunNs += run
		}
	}
	return u
}

// sub returns u - v, counting threads at u.
func (u threadUse) sub(v threadUse) threadUse {
	return threadUse{u.mainVol - v.mainVol, u.mainInvol - v.mainInvol, u.mainWaitNs - v.mainWaitNs,
		u.otherSwitches - v.otherSwitches, u.otherRunNs - v.otherRunNs, u.threads}
}

func (u threadUse) add(v threadUse) threadUse {
	return threadUse{u.mainVol + v.mainVol, u.mainInvol + v.mainInvol, u.mainWaitNs + v.mainWaitNs,
		u.otherSwitches + v.otherSwitches, u.otherRunNs + v.otherRunNs, max(u.threads, v.threads)}
}

func (u threadUse) String() string {
	return fmt.Sprintf("mpi-thread vol %d invol %d wait %dus, others switches %d run %dus, threads %d",
		u.mainVol, u.mainInvol, u.mainWaitNs/1000, u.otherSwitches, u.otherRunNs/1000, u.threads)
}

// monotonicNs is CLOCK_MONOTONIC in nanoseconds, the clock of
// `perf record -k mono`, to place a block among perf's events.
func monotonicNs() int64 {
	var ts syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 1, uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Nano()
}
