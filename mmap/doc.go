// Package mmap maps files, parts of files and anonymous shared memory into
// memory, so that processes exchange bytes by plain loads and stores.
//
// # What it maps to
//
//   - Map, Open, Create: mmap(2) of a file descriptor; the offset need not be a
//     multiple of the page size (the package maps from the page boundary below
//     it and hides the difference). Modes: ReadOnly (PROT_READ, MAP_SHARED),
//     ReadWrite (MAP_SHARED: writes reach the file and every process mapping it),
//     Private (MAP_PRIVATE: copy-on-write, writes stay in this process).
//   - Create and Grow: open(O_CREAT) with an exact mode, then fallocate(2) (or
//     ftruncate where the file system lacks it), as the classic walk-through
//     writes zeros to a file before it maps it.
//   - Shared and Inherit: memfd_create(2) plus mmap. Memory from
//     MAP_SHARED|MAP_ANONYMOUS reaches only a forked child, and Go starts its
//     children with fork+exec, so the shared memory needs a descriptor: the
//     parent puts Mapping.File in exec.Cmd.ExtraFiles, and the child maps the
//     same pages with Inherit(os.NewFile(3, "shared")).
//   - Sync and SyncRange: msync(2) MS_SYNC or MS_ASYNC. Advise: madvise(2).
//     Lock and Unlock: mlock(2) and munlock(2). Remap: mremap(2) with
//     MREMAP_MAYMOVE. Close: munmap(2).
//   - AtomicInt64 and AtomicUint32: sync/atomic types placed in the mapping,
//     which another process (in Go or C) updates with the same instructions.
//
// # Lifetimes
//
// A Mapping owns the mapped pages and a descriptor of its own; the *os.File
// given to Map may be closed right away. Close unmaps the memory. The slice from
// Bytes and the pointers from AtomicInt64 and AtomicUint32 point into the
// mapping: after Close, or after a Remap that moved it, touching them crashes
// the program with SIGSEGV. For this reason the garbage collector never unmaps
// a Mapping (a slice may outlive it): Close it. A file outlives every mapping
// of it; Shared memory lives while some process maps it or holds its
// descriptor, and needs no removal. The methods of a nil *Mapping fail with an
// error matching os.ErrInvalid; a closed or zero one, with os.ErrClosed, before
// they look at their arguments (Close of either returns nil, Len 0, Bytes and
// File nil). None panics.
//
// # Faults
//
// When another process truncates a file under a mapping, touching the pages
// past the new end raises SIGBUS. ReadAt and WriteAt copy with
// runtime/debug.SetPanicOnFault and recover, so they return an error matching
// syscall.EFAULT and the program goes on. Direct access through Bytes cannot be
// protected that way: a fault there kills the program. Code that must survive
// other processes truncating the file uses ReadAt and WriteAt.
//
// # Concurrency
//
// A Mapping's methods are safe for concurrent use: ReadAt and WriteAt run in
// parallel, Close and Remap wait for them. The mapped bytes themselves are
// shared memory, unsynchronised like any other: processes that write the same
// bytes coordinate with atomics (AtomicInt64), a semaphore or a lock.
//
// # Limits
//
// Mappings count against vm.max_map_count and the address space; Lock against
// RLIMIT_MEMLOCK unless the process is privileged. A mapping never changes the
// size of its file: WriteAt does not append, and Remap of a file mapping stays
// inside the file (Grow it first); only Shared memory grows its memfd on Remap.
// Shared memory is RAM allocated up front (fallocate of the memfd), so that a
// store cannot fault for want of a page; a size beyond RAM and swap fails with
// an error matching syscall.ENOMEM before anything is allocated.
//
// # Threads
//
// Every call is a plain system call on the calling thread. None waits for
// another process, so none takes a context; Sync (MS_SYNC) and Lock may wait
// for the disk as fsync and a read would. Waiting for a peer through the
// mapped memory (spinning on an AtomicUint32, say) is the caller's loop; pair
// it with a semaphore or a pipe to sleep instead of spinning.
//
// # Performance
//
// Two processes that spin on an AtomicUint32 in Shared memory (BenchmarkPingPong,
// `ipc bench mmap`) make a round trip in Go as fast as in C, at the median and
// at the 99th percentile (README, "Benchmarks"), once the Go runtime has
// settled. Until then a spinner stalls every ~90 µs: the runtime's monitor
// thread (sysmon) polls every 20 µs (90 µs with Linux's default timer slack of
// 50 µs) for 50 polls after the process starts, after it wakes from idle (every
// goroutine blocked) through a system call, and after it took the P of a
// goroutine whose system call outlasted a poll while no other P was idle (as
// with GOMAXPROCS=1); then it backs off to 10 ms within about 15 ms. A scheduler trace (perf record -e sched:sched_switch,
// sched:sched_wakeup) of the benchmark as it was, 100 warm-up round trips per
// peer process, shows every outlier of 25-40 µs at 4 KiB to be one poll of the
// parent's or the child's sysmon woken on a spinner's CPU: the timer interrupt,
// a switch to sysmon, its 3-9 µs of work and a switch back cost 20-40 µs on this
// VM, as much as a C thread that sleeps 20 µs in a loop on a spinner's CPU costs
// that spinner. One every ~100 round trips of 4 KiB made the whole p99 (Go 24 µs, C 1.4
// µs); at 8 B, four times as many round trips share each poll, and the p99
// moved only when the VM made them slow. Neither asynchronous preemption
// (GODEBUG=asyncpreemptoff=1), the collector (GOGC=off; the loop allocates
// nothing) nor GOMAXPROCS=1 changed the p99; a timer slack of 2 ms, inherited
// from the launching process (prctl PR_SET_TIMERSLACK), which stretches the
// polls, brought it to C's. What a Go program that spins on shared memory can
// do:
//
//   - Expect stalls of tens of µs in the first ~15 ms after it starts or was
//     idle. The benchmarks warm up for 20 ms, in Go and in C, before they time.
//   - Lock the spinning goroutine to its thread (runtime.LockOSThread) and pin
//     that thread alone (unix.SchedSetaffinity on it), so that the runtime's
//     other threads may run elsewhere: on a machine with a CPU to spare, pinning
//     them there keeps the polls off the spinners. This VM has two CPUs, one for
//     each spinner, so the benchmarks cannot; a lone spinner on CPU 0 stalled
//     for 5-60 µs a median of 58 times in the 30 ms after a blocking system
//     call with its process's other threads on its CPU, 6 times with them on
//     CPU 1 (ten runs each).
//   - Yield to a descheduled peer with a raw sched_yield (syscall.RawSyscall;
//     it never blocks; runtime.Gosched yields only to goroutines). On a busy
//     CPU the kernel may keep a yielding thread off it for more than 20 µs,
//     and through syscall.Syscall the runtime then takes the P from the
//     "system call" and restarts the 20 µs polls: in `ipc bench mmap` this
//     alone made Go's p99 at 8 B 12 times C's.
//
// In the steady state that follows, stalls of 15 µs or more in which only the
// runtime's threads ran took about 7 of every 10,000 round trips of a
// 300,000-round-trip trace: sysmon every 10 ms, and every 20 ms or so the
// preemption of the spinner, which has run 10 ms without a break (a locked
// goroutine's P passes through another thread and back). They lie beyond the
// 99.9th percentile, where the other tenants of a loaded machine dominate.
package mmap
