// Package bench is the measurement engine of `ipc bench`: every mechanism
// of `ipc demo`, and MPI, measured from Go against a peer process in Go, C
// (csrc/bench_peer.c) and Python (csrc/bench_peer.py).
//
// # Method
//
// Run takes each Case (mechanism, size, mode, placement) in turn and
// measures it with every peer in Config.Rounds rounds; within a round the
// peers take turns, the first one changing every round, so that Go, C and
// Python meet the same machine state and a noisy machine shows as a wide
// spread between rounds rather than as a false ratio. Each round is a fresh
// peer process with fresh objects. The Go initiator alone times: a warm-up
// of a tenth of the messages first (for mmap, whose waits spin, after 20 ms
// of spinning on both sides, for the Go runtimes to settle: Settle), then
// each round trip (latency) or each acknowledged batch (throughput, recorded
// per message) on the monotonic clock into an HdrHistogram. CPU time is
// getrusage of both processes over the timed messages. Placement pins every
// thread of the initiator to one CPU, and starts the peer from a thread
// pinned to the same CPU (same) or to a second one (cross), so that the peer
// and every thread it makes start there. The payload's bytes come from a PCG
// seeded with Config.Seed.
//
// # Peer protocol
//
// Every peer, whatever its language, is started as
//
//	PEER MECH MODE SIZE WARMUP COUNT WINDOW OBJECTS...
//
// in a process group of its own (Ctrl-C reaches only ipc, which stops it),
// with stdin and stdout pipes to the initiator. It opens the objects the
// initiator made (OBJECTS: names, keys, paths or an address; pipes and
// socketpairs come as descriptors 3 and 4), prints "ready" or "skip REASON",
// receives WARMUP+COUNT messages and echoes each (latency) or acknowledges
// with min(SIZE, 1) bytes where AckDue says (throughput), prints "cpu NS" and
// exits when its stdin closes. A peer that exits before that is a failure,
// and the initiator's blocked call is woken (Conn.Abort).
//
// # Mechanisms
//
// Mechanisms is the table; a mechanism is one entry with its limit, its
// throughput window, its Setup (the initiator's objects) and Open (the Go
// peer's side), or a Run of its own (MPI, under mpiexec). A new entry runs
// at once against the Go peer; the C and Python peers print "skip" for a
// mechanism they do not know, which the table shows as the reason, until
// their branch of the protocol is written. The Go side uses
// goipc's packages (posix, sysv, mmap, ring, unixfd) and the standard
// library; note that
// package posix spins briefly before it blocks, while the C and Python peers
// block at once, which shows in the Go/C ratios of posix-mq, posix-shm and
// posix-sem. Shared memory holds a flag word at 0 (mmap), the ping area at
// 64 and the pong area after it, each max(SIZE, 1) bytes; posix-shm and
// sysv-shm ring with two semaphores, mmap with the flag (spinning 10,000
// loads, then yielding on each try). ring is two named rings, ping and pong,
// and every peer spins as long as package ring's Go waits do before it
// sleeps; eventfd is two semaphore eventfds, inherited, as posix-sem's pair.
//
// # Objects
//
// Every name starts with ipc-bench-PID-, every System V key is KeyOf such a
// name, and files live in a private directory; Objects removes them after
// each round, and all of them when Run returns, interrupted or not.
package bench
