// Package ring is a message ring in shared memory: many processes send and
// receive variable-size messages through a fixed-capacity ring in a named
// POSIX shared memory object or an anonymous memfd, in Go, C
// (csrc/goipc_ring.h) or Python (csrc/goipc_ring.py), without the kernel's
// queue limits (a POSIX queue here holds 10 messages of at most 8 KiB).
//
// # Use
//
// Open creates or opens a named ring (/dev/shm/NAME); New creates an
// anonymous one whose File another process maps with FromFile (inherited
// through exec.Cmd.ExtraFiles, or passed over a Unix socket). Send and
// Receive wait, with a context, while the ring is full or empty; TrySend and
// TryReceive fail with an error matching syscall.EAGAIN instead.
// SendReceive sends on one ring and then receives from another (or the
// same), as MPI_Sendrecv does: a client's request and its reply, or a
// server's reply and the next request, in one call whose error names the
// half that failed ("ring send": nothing sent; "ring receive": sent once). Close
// unmaps the ring and wakes this process's waiters (os.ErrClosed); Unlink
// removes a named ring. The ring outlives every process: nothing is lost
// when all of them exit.
//
// SendBatch and ReceiveBatch (and TrySendBatch, TryReceiveBatch) stream
// small messages: each message is still its own record, which a receiver
// of any implementation takes one by one, but up to 32 of them go under one
// taking of the lock, in one cgo call. SendBatch returns how many messages
// went (all, or fewer with the error: the rest were not sent; a message
// over MaxMessage fails the batch before anything goes); ReceiveBatch waits
// only while the ring is empty and returns what it took, into bufs[i] with
// lens[i], stopping before a message longer than its buffer, which fails
// the next call with EMSGSIZE if it comes first. Neither allocates.
//
// # Waiting and threads
//
// A call that must wait first spins for Options.Spin (DefaultSpin, 20µs),
// watching the ring (a receive, the mark of the record it waits for; a send,
// head and tail) and yielding the CPU every few microseconds, then sleeps. A spinning call takes the lock only when it finds it free, never
// waiting for it, so spinning never puts a thread to sleep in the kernel. Of
// the sleeping goroutines of one Ring, one sleeps on the futex and wakes the
// others, which park on a channel: however many goroutines wait, a Ring
// holds at most one OS thread asleep in the kernel, and cancellation,
// deadlines and Close reach the waiters at once (a cancelled sleeper wakes
// the futex, which makes the other processes' sleepers look again too). Taking the
// ring's lock is a pthread call: a call tries it, and watches it a while in
// user space if it is taken; only if it stays taken does the goroutine
// wait for the Ring's one turn, whose holder alone waits for the lock
// in the kernel, holding its thread: one thread more at most.
//
// A holder keeps the lock for a copy, microseconds. One that keeps it (a
// process stopped by SIGSTOP or a debugger inside its section) stops the
// ring for every process, but not the calls: a waiting call still leaves
// when its context ends or the ring is closed (it looks every 100ms), and
// a call that does not wait (TrySend, TryReceive, TrySendBatch,
// TryReceiveBatch, Stat) waits 100ms, then fails with an error matching
// syscall.EBUSY that says so. A sleeper that cannot take the lock again to
// leave the sleepers count leaves that to this process's next taking of it.
// The C and Python implementations do the same where their APIs can: their
// try calls fail with EBUSY after 100ms; C's waiting calls end with
// ECANCELED once the flag that r.stop points to is set (by a signal handler),
// Python's at their timeout or on KeyboardInterrupt (see their headers).
//
// # Crash safety
//
// A process killed at any instant loses at most the message it was sending
// (or, receiving, leaves it in the ring); no one ever reads a torn message,
// and the ring goes on working for everyone else. All changes happen under a
// robust mutex (package shmsync); the head and tail each move by one store
// made after the bytes they publish, so a holder that dies has either
// published its message or not (one killed between storing its record's
// mark and tail leaves a mark on bytes it never published, which spinning
// receivers learn to ignore). The next locker sees the owner's death, bumps
// seq and wakes the sleepers (the dead holder may have moved a position
// without doing so), and marks the lock consistent. A sender killed after
// unlocking but before waking delays the sleepers by at most a second
// (sleepers look again at least that often). A process killed while asleep
// leaves the sleepers count one too high, which costs every later change a
// futex wake-up system call.
//
// # Truncation
//
// A process that shrinks the file under a mapping (ftruncate) makes every
// later touch of the pages past the new end raise SIGBUS, which kills a
// program, even a Go one when the touch is in C. An anonymous ring cannot be
// shrunk: New seals its memfd at its size (F_SEAL_SHRINK, F_SEAL_GROW,
// F_SEAL_SEAL), and ftruncate fails with EPERM in every process. A named
// ring (or a file given to FromFile without that seal) can be: the package
// then takes SIGBUS for the ring's pages (a handler that passes every other
// SIGBUS on to Go's), puts private zero pages in place of those that are
// gone, and every call on the ring, a waiting one too, fails with an error
// matching syscall.EFAULT that says the ring was truncated; its messages are
// lost. Close then keeps the ring's address range mapped until the process
// exits (a lock of it may still be on a thread's robust list). A waiter
// asleep at that instant notices within a second. The protection ends if the
// program later calls signal.Notify or signal.Reset for SIGBUS, which
// reinstall Go's handler. Opening checks that the file holds the whole ring.
// The C and Python implementations do nothing of the kind: a truncation
// kills them with SIGBUS, unless a C program handles the signal itself.
//
// # Layout, version 2
//
// A ring is a header of 256 bytes followed by the data area of capacity
// bytes. Integers are in the machine's byte order (little-endian on x86-64
// and arm64), at their natural alignment. The memory holding the ring is at
// least 256 + capacity bytes and starts at a page boundary.
//
//	offset size name        rule
//	0      4    magic       0x676e6972 ("ring" in memory): stored last, with release order, by the creator; a reader refuses any other value
//	4      4    version     2; a reader refuses any other (version 1 had the positions on a line of their own and no marks)
//	8      4    header      256: the offset of the data area
//	12     4    lock_size   sizeof(pthread_mutex_t) of the creator's C library (40 for x86-64 glibc); a reader whose own differs refuses the ring
//	16     8    capacity    bytes in the data area: a multiple of 8, at least 64
//	24     40   reserved    zero
//	64     8    head        position of the oldest record: a byte count since creation, never decreasing
//	72     8    tail        position just past the newest record; tail - head <= capacity
//	80     4    seq         futex word: += 1 (wrapping) after every change of head or tail, and by a locker that found the owner dead
//	84     4    sleepers    threads asleep on seq, or about to be
//	88     ls   lock        a pthread_mutex_t of lock_size bytes, initialised PTHREAD_PROCESS_SHARED and PTHREAD_MUTEX_ROBUST; guards everything else
//	88+ls  ...  reserved    zero, up to 256
//	256    cap  data        records
//
// The lock and the positions share the cache line at 64 (on x86-64 glibc
// exactly: 24 + 40 = 64 bytes), so that a locker finds head, tail, seq and
// sleepers in the line the lock fetched.
//
// Positions are offsets into the data area modulo capacity. A record starts
// at a multiple of 8: a 4-byte length L, a 4-byte mark, then L bytes of
// message, then padding up to the next multiple of 8, so it takes size(L) =
// (8 + L + 7) rounded down to a multiple of 8 bytes, and never wraps. A
// length of 0xffffffff is a pad marker (followed by its mark): the record
// goes on at the start of the data area, and the bytes from the marker to
// the end are skipped. The largest message is (capacity/2 rounded down to a
// multiple of 8) - 8, so a record and the padding before it always fit in an
// empty ring. The mark of a record or pad marker at position p is mark(p) =
// p / capacity + 1 (its lap, plus one), truncated to 32 bits: neither zeroed
// memory nor a record of an earlier lap at the same offset carries it (but
// one 2^32 laps earlier may: a ring whose senders go home, below, can make a
// lap a message; marks are only hints).
//
// # Atomic rules
//
// Every read and write of head, tail, seq, sleepers and the data happens
// with the lock held, and head, tail and seq change by single aligned
// stores. Outside the lock a process may load head, tail and seq, and the
// mark word of the record at head (atomic loads), only as hints: to skip
// taking the lock when the ring looks empty or full, or to watch while
// spinning; it acts only on what it reads under the lock.
//
//   - Corrupt positions: under the lock, head and tail that no sends and
//     receives can leave (tail - head > capacity in unsigned 64-bit
//     arithmetic, which tail < head is too, or head or tail not a multiple
//     of 8) make a send or receive fail with EBADMSG: never read them as a
//     full or an empty ring.
//   - Send of L bytes: lock. need = size(L); off = tail % capacity; pad =
//     capacity - off if off + need > capacity, else 0; a sender may also
//     pad (pad = capacity - off) when the ring is empty (head == tail) and
//     need <= off, to go home to the start of the data area (see
//     Performance). If tail - head + pad + need >
//     capacity the ring is full. Then, if the length at head % capacity is
//     the pad marker and head + (capacity - head % capacity) < tail, a
//     sender may skip the marker as a receive would (the padding of a send
//     that went home holds the rest of the data area until someone passes
//     it): store head += capacity - head % capacity, and look again (the Go
//     and C implementations go home and skip, the Python one only skips).
//     If the ring is still full: unlock (and wait). Otherwise store the
//     record at at = 0 if pad > 0, else at = off: L at at, the message at
//     at + 8 and mark(tail + pad) at at + 4; if pad > 0, the pad marker and
//     mark(tail) at off; in any order (Go and C store the line of a mark
//     after the rest of what they store, and the pad marker's last), then
//     store tail += pad + need. The marks go before tail, so that a
//     published record always carries its mark.
//   - Receive: lock. If head == tail the ring is empty: unlock (and wait).
//     off = head % capacity; if the length there is the pad marker, skip =
//     capacity - off and off = 0, else skip = 0. Copy the L bytes at off + 8;
//     store head += skip + size(L). Marks are not checked: they are hints.
//   - Batches: several sends (or receives) under one lock may store tail
//     (head) once, after the last record, since others read it only under
//     the lock or as a hint; the Go and C batches do, because tail and head
//     share the lock's line, which a peer waiting for the lock takes away
//     between the records.
//   - After moving head or tail, and after finding the owner dead
//     (EOWNERDEAD: then call pthread_mutex_consistent), store seq += 1 and
//     read sleepers before unlocking; after unlocking, if sleepers was not 0,
//     FUTEX_WAKE seq for all (a shared futex, not FUTEX_PRIVATE).
//   - To sleep until the ring changes: lock, check the condition, store
//     sleepers += 1 and read s = seq, unlock; FUTEX_WAIT on seq for the value
//     s with a timeout of at most one second; lock, store sleepers -= 1,
//     unlock, and check again. (A seq read before a look at head and tail
//     without the lock will do too: any change after the look moves seq.)
//   - Creation: zero the header, initialise the lock, store header,
//     lock_size, capacity and version, then the magic. Opening: check magic,
//     version, header, lock_size and that capacity fits the memory.
//
// The Go and C implementations follow habits that the format does not
// require but its speed depends on: a process looks at the line of the
// lock and the positions as little as it can before it locks, since a load
// of it while the other side holds the lock takes it away in the middle of
// its section (the holder fetches it back for each store after), and a load
// just before a lock fetches the line shared, and the lock's swap again,
// for writing.
//
//   - A locker tries the lock (compare-and-swap) before it looks at it. A
//     sender locks without a look at head and tail, unless its last send
//     found the ring full.
//   - A receive first looks at the mark at the head its last receive left:
//     if the record there carries its mark, it locks at once; only if not
//     does it look at head and tail.
//   - A spinning receiver watches the mark word at head % capacity + 4 for
//     mark(head), in the line the sender writes anyway, and tries the lock,
//     without waiting, when it is there. A mark is only a hint: another
//     receiver may have taken the record meanwhile, or a sender killed
//     before publishing left one at tail. A receiver that finds one at the
//     head of an empty ring, or whose lock finds the ring empty, watches
//     head and tail, or seq, instead.
//   - A sender goes home when it finds the ring empty, stores the line of
//     the record's mark after the rest of the record and the pad marker's
//     last, and skips a pad marker at head when it finds the ring full
//     (see Performance).
//
// # Performance
//
// A send or a receive is one cgo call into the package's C shim, which does
// the whole critical section (lock, check, copy, publish, unlock, wake) and,
// for a call that spins, also the watching, so that a ring found ready is
// taken without crossing back into Go: a Go process pays one crossing per
// message over what C pays. SendReceive makes a send and the spinning
// part of the receive after it one crossing: when the ring has room and
// the reply comes within a spin (some microseconds), it never returns to Go
// in between; else it goes on as Send and Receive would.
//
// What Go adds to each call, BenchmarkGoOverC measures: the same loop of a
// send and the receive that takes the message back, on one ring in one
// process, in Go and in C (ring/internal/cloop over csrc/goipc_ring.h, the
// whole loop in one cgo call), beside an empty cgo call. On the loaded VM
// below (load average 5; go test -run '^$' -bench GoOverC -benchtime
// 2000000x ./ring/, four runs), C took 32 to 45 ns a pair, Go 117 to 210,
// an empty crossing 32 to 47 ns; Go added 41 to 83 ns a call, about a
// crossing and a little (with the calls' Go code as it was before, an
// RWMutex and a closed flag, closures, a sync.Mutex on every call, 63 to
// 138 in the try loop where this build added 41 to 57, builds taking
// turns). A CPU profile of the Go loop has most of it in
// runtime.cgocall and its entersyscall and exitsyscall; of the Go code
// around the crossing, each call keeps two locked instructions (it counts
// itself in and out of the Ring's calls in flight, for Close) and takes no
// other lock unless the ring's stays taken. Those two cost about 25ns a call
// in a slow hour of the VM (2026-12-02: go-added-ns 101 with TrySend and
// TryReceive, an empty crossing 50ns; under perf, the count's two lock xadd
// held 10% of the samples of the whole benchmark, enter 5.3% and leave 4.9%,
// 77-85% of each on the instruction after the xadd); of the rest, an empty
// crossing's worth is runtime.cgocall's entersyscall and exitsyscall, and
// about 25ns the calls' own Go code (send, tryReceive, exit, the results:
// another 10%). In the round trip that is a crossing out of the receive and
// one into the send that answers it, on each side, with that Go code
// between.
//
// Streaming, sender and receiver collide on the lock at almost every
// message. The shim's try of the lock was pthread_mutex_clocklock with a
// deadline past (to swap before looking), which, finding the lock taken,
// marked it as waited for and entered the kernel to time out there; the
// holder's unlock then entered it too, to wake no one. A profile of the
// streaming pair had a third of both processes' time in the kernel's futex
// code (C's goipc_ring.h, with pthread_mutex_trylock, 2%). With
// pthread_mutex_trylock after a PREFETCHW of the lock's line, Go sent 0.86
// to 3.2 million 64-byte messages a second, sender and receiver pinned to a
// CPU each, where it had sent 0.45 to 1.3 (a probe sending a million
// messages, old and new shim taking turns six times on the loaded VM);
// unpinned, the two processes often share a CPU and collide less, and both
// sent 2.3 to 5.5 million. The round trip did not change measurably.
// Sampling head and tail every 256 sends of that probe: pinned, the 64 KiB
// ring was less than a quarter full in 42 to 64% of the samples and full in
// 1 to 8% (the receiver keeps up; a sender that finds it full spins in the
// shim watching head and tail, as goipc_ring.h's watches seq); unpinned,
// the fill was spread evenly from empty to full, the two processes taking
// turns on a CPU.
//
// Through the package's benchmarks, taking turns with the build before this
// pass four times at load average 4.5 to 5.4 (the ping-pong at 200 to 240
// ns): the spinning 8 B round trip took Go 331 to 371 ns (before: 351 to
// 361), 1.44 to 1.71 times the ping-pong (before: 1.50 to 1.57), and a Go
// client of the C echo 290 to 310 ns (before: 330 to 350), C 230 to 241 ns;
// BenchmarkThroughput64B, pinned as ring_peer's pair is, had Go send 2.0 to
// 4.5 million messages a second (before: 0.57 to 1.9), 0.59 to 1.42 times
// what C did (before: 0.16 to 0.85) and 5.5 to 10.1 times the queue's
// (before: 1.2 to 4.3); unpinned, 3.6 to 7.0 million (before: 3.3 to 5.9),
// 9.8 to 19 times the queue's (before: 8.1 to 12.1); BenchmarkGoOverC's
// go-added-ns 41 to 57 for TrySend and TryReceive (before: 63 to 138). At
// load 9 to 10 the round trips of the two builds could not be told apart.
//
// That halves a request-reply loop's crossings and its CPU time in Go
// (BenchmarkSendReceive, one process and ring: 117 to 135 ns for
// SendReceive, 205 ns and more for Send and Receive, on the loaded VM
// below), but not its round trip: the crossings it saves, out of the send
// and into the receive, come while the message travels to the peer, and
// those on the critical path stay, one out and one in between each
// receive and the send that answers it, on each side, since Go code must
// see a request before it can send the reply. In BenchmarkRoundTrip's go-sr
// row, both sides in SendReceive, the spinning 8 B round trip took 0.99 to
// 1.11 times go's in 19 runs (1.2 to 1.3 in three busier ones; go-sr/mmap-c
// 1.45 to 1.59 where the ping-pong took 0.8µs, 2.0 to 2.1 where it took
// 0.23µs): no faster, and perhaps a little slower, which the measurements
// could not pin down. A Go client in SendReceive with a C echo took what
// one in Send and Receive did (0.98 to 1.06 times, 4 runs).
//
// A spinning round trip between two processes costs what the cache lines
// that move between the CPUs cost. Each way, the atomic ping-pong through
// shared memory (csrc/mmap_pingpong.c) moves a flag's line to the writer and
// to the reader, and the data's line to the reader. A message through the
// ring moves the lock's line to the sender, the record's line to the sender
// and to the receiver, and the lock's line to the receiver: four transfers
// for the ping-pong's three, since the robust lock that crash safety needs
// is a line that both sides write. Version 1 moved more: the positions had a
// line of their own, which a spinning receiver read while the sender was
// writing it (each read takes the line away, and the sender fetches it back
// for its next store), and each locker loaded the lock before it swapped it
// (a transfer for the load, another for the swap).
//
// csrc/ring_variants.c measures layouts and spinning habits against the
// ping-pong, taking turns in one pinned pair of processes (make build &&
// bin/ring_variants 8 20 2000). On a loaded 2-core VM (AMD EPYC, KVM; load
// average 7 to 10), median ratios to the ping-pong at 8 B in two runs, the
// ping-pong at 821 and at 230 ns: version 1 1.47 and 1.39; the positions in
// the lock's line alone 1.38 and 1.48 (with each side prefetching the
// record's line before it locks, 1.39 and 1.48; with spinners backing off
// while the lock is held, 1.35 and 1.43); marks and version 2's spinning on
// version 1's lines 1.19 and 1.21; version 2 1.16 and 1.13 (with records on
// 64-byte boundaries, 1.17 and 1.17). The positions' line alone gains
// nothing while the receiver watches it; the mark, which moves the watching
// to the record's line, does.
//
// Through the package's benchmark, alternating versions 1 and 2 ten times
// each on that VM in two sessions (load average 6.5 to 10.5; go test -run
// '^$' -bench RoundTrip/spin/8B -benchtime 20000x ./ring/), the C ring
// (csrc/goipc_ring.h) took 1.05 to 1.24 times the ping-pong's round trip in
// version 2 and 1.56 to 2.40 in version 1; a Go ring 1.34 to 1.77 times it,
// from 1.74 to 2.62. The VM's CPUs move on the host: the ping-pong took
// 200 ns in most runs and 800 ns in others, and only ratios within one run
// mean anything. The 1.5 times is reached by the C ring in every
// run, and by Go where a line transfer costs most (ping-pong at 0.8µs: Go
// 1.03 to 1.13µs, 1.34 to 1.39 times), but not where it costs least
// (ping-pong at 0.2µs: Go 0.34 to 0.38µs, 1.59 to 1.77 times, C 0.24 to
// 0.26µs): a Go round trip adds to the C ring's two cgo crossings on its
// critical path and the Go code around them, about 110 ns (a cgo call costs
// 35 ns on that VM), which no layout that keeps the lock as the arbiter
// takes away.
//
// At 4 KiB the ping-pong does as much copying as the ring: each side
// copies the message into shared memory and the other copies it out into a
// buffer of its own (the echo, in C and in Go, copies out and back in), four
// copies of 4 KiB a round trip in both. Each copy in stores to 64 lines
// that the other CPU read last (its copies are invalidated) and each copy
// out reads 64 lines that the other CPU has just written, at some 0.2µs a
// copy on the VM below, where the same copy between lines of one CPU takes
// 45 to 65 ns. What the ping-pong does that the ring did not is reuse one
// page: a ring wrote each record after the last, walking its capacity (15
// records of 4 KiB a lap in the benchmark's 64 KiB rings), and the
// ping-pong made to walk 64 KiB the same way took 1.6 to 1.8 times its
// fixed-page self, whether it walked as records do or a page at a time
// (page-aligned: not a matter of alignment). How the bytes are copied does
// not matter: glibc 2.36's memcpy (on this CPU rep movsb from 2112 bytes,
// never non-temporal below 240 MiB), rep movsb, AVX2 and AVX-512 loops all
// took the same; prefetching every line of the record before copying was
// a little slower, and a ring of two records' capacity slower still (for
// reasons the measurements do not show).
//
// Hence two habits of the Go and C senders, which the format allows and the
// receivers (Python's too) need not know: a send that finds the ring empty
// goes home, padding to the start of the data area, so that a ring that is
// mostly empty, as a request-reply pair's is, reuses its first lines; and a
// sender stores the message past the line of the record's mark first, then
// that line, then the pad marker's, so that a receiver spinning on a mark
// never takes a line from the sender in the middle of its copy, nor sees the
// mark before the message is whole and takes the lock's line from the
// sender with its tries. Going home alone gains two thirds of it (its pad
// marker's mark, stored first, sent spinners to the lock while the copy
// went on), the order alone nothing, both together nearly all. The
// padding holds the rest of the data area until someone passes it, and a
// Go sender streaming 64 B to a faster receiver then found the ring full
// after nearly every message (0.1 to 0.6 million messages a second instead
// of 2.2 to 4.9); so a send that finds the ring full skips a pad marker at
// head, as a receive would.
//
// csrc/ring_variants.c's copy set measures this (make build &&
// bin/ring_variants 4096 20 2000 copy; the same at 8 B), in one run on the
// loaded VM below (load average 6.5 to 6.8), median ratios to the ping-pong
// at 4 KiB (881 ns) and at 8 B (220 ns): the ping-pong walking as records
// 1.80 and 0.96, a page at a time 1.80 and 1.00; version 2 as it was 1.99
// and 1.14 (rep movsb 1.92, AVX2 1.97, AVX-512 1.92, prefetching 2.01, two
// records' capacity 2.38); going home 1.36 and 1.00; the mark's line last
// 1.97 and 1.19; both 1.21 and 1.00; csrc/goipc_ring.h with both 1.21 and
// 1.09. (In a later run at 4 KiB, both with the sender prefetching the
// lines at home for writing before it locks took 2.04 to both's 1.18.)
//
// Through the package's benchmark, alternating test binaries before and
// after the change eight times on the same VM (load average 5.5 to 5.9; go
// test -run '^$' -bench RoundTrip/spin/4096B -benchtime 20000x ./ring/,
// the ping-pong at 0.74 to 4.1µs), the C ring took 1.06 to 1.37 times the
// ping-pong's 4 KiB round trip (before: 1.73 to 2.77), a Go ring 1.12 to
// 1.54 (before: 1.82 to 2.68; 1.5 or less in six of the eight runs), go-sr
// 1.15 to 1.62. At 8 B (five alternations, load 5.8 to 6.7) C took 0.66 to
// 1.10 times the ping-pong (before 1.10 to 1.32) and Go 0.84 to 1.75
// (before 1.35 to 1.90; 1.75 where the ping-pong took 0.2µs). What remains
// is the lock's line, which each message moves to the sender and to the
// receiver, and for Go the cgo crossings. Copying outside the lock would not
// shorten a round trip, in which no one waits for the lock while a copy
// runs (the other side waits for a mark), and the rules forbid it: a
// receiver copying before it locks could copy a record that a sender killed
// before publishing left, as the next sender overwrites it, and take a torn
// message for the next sender's.
//
// An uncontended TrySend plus TryReceive costs 120 to 250 ns (two
// crossings, two lock and unlock pairs). Sleeping, each message costs a
// futex wake-up: about 8 to 9µs a round trip in Go, 6 to 7µs in C, as in
// version 1. At 64 B, a Go sender carries 3.3 to 4.5 million messages a
// second (version 1: 3.8 to 4.3), 11 to 15 times a POSIX queue's. Going
// home (with the skip) left that within the noise: in 11 alternating runs
// at load 6 (-bench Throughput -benchtime 200000x), Go 4.35 million before
// and 4.37 after on average, C 4.54 and 3.85 with overlapping ranges (2.8
// to 5.5, 1.9 to 5.4); C alone (ring_peer throughput 64 2000000 1000000,
// eight alternations on a busier machine) 1.00 and 1.04 million.
//
// At 200,000 messages of 64 B, the POSIX queue's Go pair made 0.85 to 1.2
// million a second on this machine and the rings' pairs 1.3 to 2.1 million
// (C 1.6 to 2.6), about 2 times the queue. It is not the futex: over one
// run of the benchmark (1.6 million messages through the Go rings, 0.8
// million through C's) perf stat counted 33 shared FUTEX_WAIT and 188
// FUTEX_WAKE calls, and ring_peer throughput 64 200000 1000000 alone 9 to
// 11 futex calls, at the same 500 ns a message as at 20,000. What a message
// costs is the lock's and the positions' cache line going from one CPU to
// the other and back twice, once for the sender's section and once for the
// receiver's. A batch pays that once for up to 32 messages: SendBatch to
// ReceiveBatch, 32 at a time (go-batch), carried 8.7 to 9.4 million a second,
// 8.2 to 9.2 times the queue's, in 3 runs of
//
//	go test -run '^$' -bench Throughput -benchtime 200000x ./ring/
//
// against 7.0 to 8.4 million with 16 a crossing (and 6.4 to 7.2 with 8).
//
// A batch stores tail (a receive batch, head) once after its records,
// where it stored it after each: that word shares the lock's line, which the
// peer waiting for the lock takes away, so each store fetched the line back
// in the middle of the section. Main and this build taking turns eight times
// each, with a probe of ten go-batch drains of 200,000 messages a run (the
// benchmark's pair): at load average 7.4 to 7.6, a run's mean went from 2.8
// to 22.6 million messages a second (median 4.6) to 6.1 to 18.7 (median
// 7.3); at 9.5 to 9.7, its best drain from 24.6 to 31.3 million (median 27.0)
// to 25.1 to 37.2 (median 30.0). In the benchmark itself (four runs each,
// load 6.7 to 7.1) go-batch made 5.4 to 16.4 million before and 7.4 to 25.1
// after, 14.7 to 53.3 times the queue's Go pair in both builds (under load
// the queue slows more than the rings). C's batch (goipc_ring_send_batch and
// goipc_ring_recv_batch in csrc/goipc_ring.h, 32 a call: the c-batch row)
// made 9.1 to 37.5 million beside it, 0.81 to 1.68 times Go's. The shim
// now copies records with goipc_ring.h's goipc_ring_put and goipc_ring_get,
// not copies of its own: the probe, eight alternations at load 17, had
// means of 9.3 to 31.8 million (median 21.8) against 14.3 to 24.4 (18.2)
// and best drains of 21.7 to 44.0 against 26.3 to 39.5.
//
// Tried on top of that and left out, the probe's best drains showing nothing
// beside the build without it (six or eight alternations, load 11 to 17):
// software prefetch of the records' lines ahead of the copies (the receiver
// those of [head, tail), the sender PREFETCHW on those it will write),
// median 28.0 million against 29.6; offsets and laps kept from record to
// record instead of up to four 64-bit divisions a record, 27.8 against 28.7;
// and in the receiver 1 KiB buffers instead of 64 KiB ones (32 of which
// share a cache set), 30.3 against 28.3.
//
// # Lifetimes and limits
//
// A Ring owns its mapping: Close unmaps it. A Ring that is never closed keeps
// its mapping until the process exits (the garbage collector never unmaps
// it: another goroutine may be inside a call), as package mmap's mappings do.
// A process that opens a named ring at the instant its creator is still
// writing the header gets an error matching syscall.EINVAL that says so, and
// may try again; with Options.Create, Open waits for it up to a second. A named ring stays until Unlink
// (or reboot) even when no process has it open; an anonymous one lives while
// a process maps it or holds its descriptor. The shared lock is glibc's
// pthread_mutex_t, so every process on a ring uses the same C library ABI
// (lock_size guards against mixing). The ring is memory like any other: a
// process with write access can corrupt it, and a reader that finds a record
// out of bounds, or head and tail that the rules never leave, fails with an
// error matching syscall.EBADMSG rather than read past it or wait forever.
// A capacity that is not a multiple of 8 is refused, not rounded.
package ring
