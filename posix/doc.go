// Package posix is POSIX inter-process communication for Go: message queues
// (mq_open and friends), shared memory (shm_open, mmap) and semaphores
// (sem_open, and sem_init in shared memory), as Go types over thin cgo calls
// into glibc. Objects are shared with any program that uses the same names,
// in C, Python (posix_ipc, multiprocessing.shared_memory) or anything else.
//
// # Names
//
// An object's name is "/name": one leading slash, no other, at most NAME_MAX
// (255) bytes after it, 251 for a semaphore (glibc keeps it as the file
// /dev/shm/sem.name). A name without the slash gets one, as Python's modules
// do, so "psm_21467_46075" as multiprocessing.shared_memory reports it opens
// "/psm_21467_46075". Bad names are rejected before any call with an error
// matching syscall.EINVAL, and so is a segment named "/sem.X", which would be
// the memory of semaphore /X.
//
// # Lifetimes
//
// Every object outlives the processes that use it: it stays in the kernel
// (queues in /dev/mqueue, segments and semaphores in /dev/shm) until it is
// unlinked (UnlinkQueue, UnlinkSharedMemory, UnlinkSemaphore, or the Unlink
// methods) and the last process has closed it. Close never unlinks, and nothing
// is unlinked when a value is garbage collected. New objects get mode 0600, or
// the mode asked for, whatever the umask; opening an existing object never
// changes its mode, size or contents unless asked (ShmOptions.Truncate).
//
// Only the Open and Init functions make usable values: methods of a nil or
// zero MessageQueue, SharedMemory or Semaphore fail with an error matching
// os.ErrInvalid (Name, MessageSize and Bytes return their zero value,
// SetNonblocking does nothing, String says "not open"), and Close does
// nothing.
//
// A mapping of shared memory is a []byte that is valid until Unmap, Resize or
// Close; touching it afterwards faults. An unnamed semaphore (InitSemaphore,
// SemaphoreAt) lives in such memory and is valid as long as it is mapped.
// Mappings are package mmap's (mmap.Map of the segment's descriptor).
//
// Creating a segment, or growing it (Resize, ShmOptions.Truncate), allocates
// its memory at once (fallocate, as mmap.Grow does), so that a store into the
// mapping never finds /dev/shm full, which would kill the program with SIGBUS.
// A size beyond the free space of /dev/shm, or beyond RAM and swap, fails with
// an error matching syscall.ENOSPC or ENOMEM before anything is allocated. A
// segment that another program grew with ftruncate alone (Python, most C) is
// sparse: its pages come when first touched, and the SIGBUS risk is theirs.
//
// # Python's multiprocessing.shared_memory unlinks what it attaches to
//
// A Python process that attaches to an existing segment with
// shared_memory.SharedMemory(name) registers it with its resource tracker,
// which unlinks the segment when that process exits: a segment that
// Go created and still uses loses its name (processes that have it open keep
// it, but nobody can open it by name any more), and the tracker warns about a
// "leaked shared_memory object". The fix is on the Python side, right after
// attaching:
//
//	shm = shared_memory.SharedMemory(name="goipc-seg")
//	resource_tracker.unregister(shm._name, "shared_memory")  # the segment is Go's
//
// or, on Python 3.13 and later, attach with SharedMemory(name="goipc-seg",
// track=False), which does not register it.
// The same holds the other way round: a segment Python creates is unlinked
// when its creator exits unless it unregisters it.
//
// # Blocking, cancellation and threads
//
// Send and Receive take a context, and MessageQueue also has deadlines as
// net.Conn does; a passed deadline gives an error matching
// os.ErrDeadlineExceeded, cancellation ctx.Err(), and a nil context is
// refused with an error matching syscall.EINVAL. TrySend and TryReceive, and
// the calls of a non-blocking queue, never wait, and the deadlines do not
// apply to them.
//
// On Linux a queue descriptor can be polled, so a goroutine waiting on a
// queue parks on Go's runtime poller and holds no OS thread: 10,000 goroutines
// waiting in Receive add a handful of threads. A MessageQueue holds one
// descriptor however many goroutines wait. The goroutines waiting to receive
// take turns: the first waits on the poller, with its own deadline on the
// descriptor, and the others wait in line on channels of their own. A message
// wakes the first alone, as the kernel wakes one thread blocked in mq_receive;
// when it returns, the next in line takes its place. Each goroutine keeps its
// own context and deadline, so a cancellation or a deadline ends that
// goroutine's wait and no other's. Goroutines waiting to send take turns the
// same way. Close wakes every waiting goroutine with an error matching
// os.ErrClosed (the kernel itself would not wake a blocked mq_receive).
// BenchmarkReceivePool compares the CPU per message of a pool of goroutines
// with that of a pool of C threads blocked in mq_receive.
//
// A semaphore gives no descriptor: a goroutine waiting in Semaphore.Wait holds
// an OS thread while it waits in sem_clockwait. Cancellation, deadlines and
// Close wake it at once, by a signal to that thread, without polling.
//
// Before it waits, a call tries again for up to 20µs, yielding its CPU
// between tries (at most one spinning goroutine per CPU), unless other calls
// already wait for the same thing: the message would wake one of them. In a
// request and reply exchange the answer usually comes sooner than a parked
// goroutine can be woken. BenchmarkPingPong measures the effect beside C that
// blocks at once and C that spins the same way.
//
// Send and Receive with the caller's buffer and a context that cannot be
// cancelled (context.Background) allocate nothing. With a cancellable context,
// a call whose turn comes to wait on the poller makes three small allocations
// (context.AfterFunc); waiting in line for that turn allocates nothing.
//
// # Notification
//
// MessageQueue.Notify delivers mq_notify's one-shot "a message arrived on the
// empty queue" to a Go channel. It uses the kernel interface beneath glibc's
// SIGEV_THREAD: the kernel writes a cookie to a netlink socket, which a
// goroutine reads on the runtime poller. No signal handler and no extra thread
// are involved, and each queue's notifications are told apart. The kernel
// ends a process's registration when that process closes any descriptor of
// the queue (another MessageQueue of it, a read of /dev/mqueue/NAME as
// package inventory makes); the queue then registers again at once, and if it
// cannot, or a message came in between, the channel is told as if notified, so
// a registration never disappears silently.
//
// # Limits
//
// Queues are bounded by fs.mqueue.msg_max (messages per queue) and
// msgsize_max (bytes per message) for unprivileged users, fs.mqueue.queues_max
// (queues on the system) and RLIMIT_MSGQUEUE (bytes of queues per user). A
// failure that one of them explains carries a hint naming the limit and its
// value. A Receive buffer smaller than the queue's message size, or a message
// larger than it, is an error before the call, so nothing is ever truncated
// and nothing queued is lost.
//
// # Concurrency
//
// Every type is safe for concurrent use by several goroutines. Shared memory
// contents are not synchronised by this package: use a Semaphore, or atomic
// operations on the mapping.
package posix
