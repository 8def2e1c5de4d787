// Package sysv gives Go programs the System V IPC objects of Linux: message
// queues, shared memory segments and semaphore sets, the objects C reaches
// with msgget/msgsnd/msgrcv/msgctl, shmget/shmat/shmdt/shmctl and
// semget/semop/semtimedop/semctl, named by a Key (a number, or ftok of a file).
//
// # Objects and lifetimes
//
// OpenQueue, OpenSharedMemory and OpenSemaphoreSet find the object of a key,
// or create it with Create (Create|Exclusive fails if it exists). A created
// object gets exactly the permission bits given: the get calls do not apply
// the umask, so 0600 stays 0600. Key 0 (IPCPrivate) always makes a new object
// that no key reaches, so it needs Create; OpenQueueByID,
// OpenSharedMemoryByID and OpenSemaphoreSetByID reach an existing object by
// the id ipcs prints and ID returns (sysv_ipc's attach(id)), the way to share
// a private one. Opening needs no permission on the object: each call needs
// what the kernel asks of it (Send write, Receive read, Attach read, Op write
// to change a value), so a user who may only write to a queue (a 0622 drop
// box) opens it and sends, as C's msgget and msgsnd let it.
//
// Objects live in the kernel until Remove (IPC_RMID) or reboot, whatever
// happens to the processes that use them: Close only makes the Go value
// unusable (later calls fail with an error matching os.ErrClosed), and nothing
// is removed by the garbage collector. Remove works before or after Close, so
// the usual shutdown, Close then Remove, leaks nothing. After Remove, calls on
// the value fail with EIDRM before reaching the kernel. A nil or zero
// MessageQueue, SharedMemory, SemaphoreSet or Mutex is not open: its methods
// fail with an error matching os.ErrInvalid (a zero one never touches id 0,
// which belongs to some other object), ID returns -1 and Count and Size 0.
//
// SharedMemory.Attach returns the segment as a []byte that is valid until
// Detach or Close; using it afterwards crashes the program. Remove destroys a
// segment only when its last attachment is gone.
//
// A Mutex is a semaphore used as a lock between processes, 0 when unlocked
// and 1 when locked, changed with SEM_UNDO: if the holder dies, even by
// kill -9, the kernel releases it. A new set is an unlocked mutex as semget
// makes it, so there is no initialisation that a creator could die in the
// middle of and leave a set that hangs its openers. Only the process that
// holds a Mutex may unlock it (EPERM otherwise): a stranger's Unlock would let
// the holder's death unlock it a second time.
//
// # Blocking, cancellation and threads
//
// MessageQueue.Send and Receive and SemaphoreSet.Op block until they can
// proceed, their context ends, or Close is called on their handle: a
// cancelled context returns ctx.Err() (with its cause, if it has one), a
// passed deadline an error matching os.ErrDeadlineExceeded, Close an error
// matching os.ErrClosed. A deadline centuries away is a long wait, never an
// overflow. A nil context is refused with an error matching syscall.EINVAL. These calls have no file descriptor, so a blocked call holds its OS
// thread, as any blocking cgo call does: a thousand goroutines blocked in
// Receive hold a thousand threads. Ending a call interrupts its thread with a
// signal (internal/blocking), so it takes microseconds and does not poll:
// SIGURG, the runtime's preemption signal, or, in a program that ignores
// SIGURG (signal.Ignore), signal 61 (SIGRTMAX-3), whose handler the package
// installs, and does nothing. The kernel never restarts these calls after a
// signal handler runs (Go's runtime and os/signal run them often); they are
// retried with the time left, so signals never surface as EINTR. Removing an
// object wakes every call blocked on it, in every process, with EIDRM. Close
// ends this process's calls blocked on the object with os.ErrClosed: it finds
// their threads in /proc/self/task/*/syscall, so the calls themselves record
// nothing; calls still blocked after about 0.1s (one that /proc showed in
// another system call) are ended by interrupting every thread of the process
// that is in a system call, which cgo code elsewhere that does not retry EINTR
// could see once. The
// calls yield to the scheduler at most every 2ms (the clock read every 64th
// call), so that a goroutine looping on these calls keeps its thread instead
// of being handed between threads by the runtime.
//
// All methods are safe for concurrent use. Send, Receive and Op allocate
// nothing: messages travel through a buffer on the C stack (malloc above 64
// KiB). With a context that can end they first try without blocking, so a call
// that proceeds at once (a message is queued, the operation can be applied)
// costs what it costs with context.Background: no allocation, no locked
// thread. Only a call that has to wait locks its thread and, with such a
// context, allocates the waker that will interrupt it.
//
// # Limits and errors
//
// Errors are *os.PathError naming the call and the key ("msgsnd 0x00000001:
// invalid argument (message size 9000 > kernel.msgmax 8192)") and keep the
// errno, so errors.Is works with fs.ErrNotExist, fs.ErrExist,
// fs.ErrPermission and syscall errnos. Failures that a kernel limit explains
// name it with its value: kernel.msgmax (largest message), kernel.msgmnb (a
// queue's default and, for non-root, largest capacity), and the fields of
// kernel.sem, "semmsl semmns semopm semmni" (semaphores per set, in total,
// operations per Op, sets). Bad input (a non-positive message type, an
// out-of-range semaphore number, a message larger than the queue, operations
// that no value can satisfy, such as Delta -32768, which would wait forever)
// is refused before the system call, and nothing already queued is lost. An
// id that no object has fails with an error matching fs.ErrNotExist, as do
// the calls of a handle whose object another handle or process removed.
//
// # Performance
//
// BenchmarkPingPong (both processes pinned to one CPU) puts a round trip at
// 1.17-1.25x that of C blocking at once, for queues and for a segment with
// semaphores, at 8 B and 4 KiB, with no allocation; the p99 ratio swings
// between 1.3 and 2.1x on a loaded machine. The 1.10x aimed at is not
// reached, and the time is not in this package's code. A probe program (Go
// and C calling msgsnd/msgrcv at 8 B, five alternating runs on a loaded
// 2-vCPU VM, C at 6.45-6.53 us per round trip) split the difference:
//
//   - A loop written in C, called once from each Go process: 6.45-6.66 us.
//     Being a Go process costs nothing.
//   - Plain cgo calls of msgsnd and msgrcv, with none of this package's code:
//     7.4-9.8 us, the same as Send and Receive (7.7-9.5 us). The checks,
//     blocking.Calls.Do and sched.Tick cost less than the noise.
//   - A Go initiator with an echo looping in C, timed with clock_gettime on
//     both sides of each crossing (docs/probes/sysv_probe.go): a crossing
//     into C and back costs 60 ns in that run (21 ns on a quiet machine), but
//     80-130 ns when it comes back from a msgrcv that blocked: the runtime's
//     data is cold after the context switch. And the time spent in C and the
//     kernel grows from C's 6.45 us to 6.7-6.9 us once Go code runs between
//     the system calls (caches and TLB refill; the VM has no counters to
//     show it).
//
// Per Go process that is 0.6-0.8 us per round trip, which with Go on both
// sides is the 1.0-1.5 us by which Go's round trip exceeds C's. At 4 KiB each
// call also copies the message once more, through the C stack, because
// msgsnd and msgrcv want the type right before the text. Tried and not kept:
// yielding every 1024 calls or never instead of every 64 (the same median;
// never yielding lets sysmon take the P away every 10ms, a p99 of 120-530
// us), and GODEBUG=cgocheck=0, which skips cgo's pointer checks (the same
// median).
//
// The p99, profiled again (msg 8 B, everything on one CPU as the benchmark
// runs; commands below): a Go process makes the system calls C makes, one
// msgsnd and one msgrcv per round trip, and no GC runs while round trips are
// timed (GODEBUG=gctrace=1 shows only the testing package's forced ones).
// Sysmon no longer intervenes: runtime.handoffp ran 10-20 times per process
// in a run of about 65,000 round trips. What remains is the yield itself:
// each Gosched of the 64-call tick wakes an idle thread (runtime.startm,
// 1,960 times for 1,979 Gosched), which finds nothing and stops again, a
// thread more to run on the one CPU (each Go process switched 66,600 times
// in those round trips, C once a round trip). The round trips of a run, in
// order, show a slow one (over 15 us, the median being 7-8 us) every 32nd
// trip, 64 calls, in each process: about 6% of the round trips, which is
// where Go's p95-p99 sit. A tick of 1,024 calls, alternated with 64 in one
// run (8 rounds of 20,000 round trips), gave p99s of 15-55 us for either at
// load average 5-6, and at load average 12 was worse in 3 pairs of 4
// (2,000-2,700 round trips over 15 us, against 650-1,700), presumably as a
// goroutine whose calls the load slows passes the 10ms after which sysmon
// takes its P before its 1,024th call.
//
// So sched.Tick now yields by time: it reads the clock every 64th call and
// yields only if no call did in the last 2ms, one yield in some 250 round
// trips instead of one in 32, well inside the 10ms after which sysmon takes
// a P (the process's goroutines share that clock: while more than four loop
// on calls at once, some may pass 10ms without a yield). The echo's Gosched
// went from 776 to 135 in a run (msg 8 B, 20,000 round trips; startm 787 ->
// 147, handoffp 8 -> 9), and the p95 came down, but not the p99. Go's round
// trips, msg 8 B, three pairs of alternating runs (the 64-call tick, then by
// time; loaded 2-vCPU VM, load average 2-3):
//
//	p95                      13.6-14.1 us -> 10.8-11.5 us
//	p97                      14.4-15.1 us -> 11.4-12.3 us
//	p99                      17.7-19.1 us -> 19.0-24.2 us
//	trips over 15 us         472-629 -> 361-444 of 20,000 (C: 100-120)
//
// Go/c-block in ten pairs of alternating runs, as two sets (six pairs at
// load average 0.6-1.7, four at 1.5-5), the median of each set's runs:
//
//	             median, either build   p99, 64-call tick -> by time
//	msg 8 B      1.20-1.23              1.38, 1.81 -> 1.50, 1.94
//	msg 4 KiB    1.20-1.21              1.49, 1.88 -> 1.45, 1.77
//	shm 8 B      1.18-1.20              1.55, 1.78 -> 1.34, 1.94
//	shm 4 KiB    1.17-1.20              1.61, 1.84 -> 1.43, 1.74
//
// The rest of the tail is not sysmon: uprobes on testing.(*B).StartTimer and
// StopTimer, runtime.handoffp and the nanosleep of sysmon, over the same
// benchmark, found no handoffp while round trips were timed and 6-7 sysmon
// wake-ups in each process per timed turn of 5,000 round trips (60-80ms),
// one every 10ms; the 20us looks that follow a handoffp fall in the warm-up
// (testutil.WarmUp). About 2% of Go's round trips still take over 15us,
// against C's 0.5%; the yield itself, each a slow round trip, is a quarter of
// a percent of them, and no count this VM offers (it has no hardware
// counters) shows where the rest go. (A full trace of system calls and
// switches doubles every round trip, and its slow trips are sysmon's, so it
// cannot answer.)
//
// Commands (the first record counts the yields, the second times sysmon):
//
//	go test -c -o /tmp/sysv.test ./sysv
//	perf probe -x /tmp/sysv.test -a 'q:handoffp=runtime.handoffp' -a 'q:startm=runtime.startm' -a 'q:gosched=runtime.goschedImpl'
//	perf probe -x /tmp/sysv.test -a 'q:start=testing.(*B).StartTimer' -a 'q:stop=testing.(*B).StopTimer'
//	perf record -e 'q:*' -e sched:sched_switch -a -- /tmp/sysv.test -test.run '^$' -test.bench 'PingPong/msg/8B' -test.benchtime 20000x
//	perf record -e 'q:*' -e syscalls:sys_enter_nanosleep -a -- /tmp/sysv.test -test.run '^$' -test.bench 'PingPong/msg/8B' -test.benchtime 20000x
//	perf script -F comm,pid,event | sort | uniq -c
//	perf probe -d 'q:*'
package sysv
