"""bench_peer.py: the Python peer of `ipc bench`, csrc/bench_peer.c in Python.

    /usr/bin/python3 bench_peer.py MECH MODE SIZE WARMUP COUNT WINDOW OBJECTS...

Same protocol and objects as bench_peer.c (its comment lists them): print
"ready", receive WARMUP+COUNT messages, echo each (latency) or acknowledge
every WINDOW (throughput), print "cpu NS", exit when stdin closes. Where the
module a mechanism needs is missing it prints "skip REASON" instead of ready.
Libraries: socket, os (pipes, FIFOs, files, signals), mmap, sysv_ipc (System
V), multiprocessing.shared_memory, and multiprocessing's SemLock for named
POSIX semaphores, os.eventfd_read/eventfd_write (Python 3.10+) and
goipc_ring.py beside this file for the ring. The Python standard library has
no POSIX message queues.
"""
import os
import resource
import select
import signal
import socket
import struct
import sys
import time

HEADER, SPIN, FLAG_PING, FLAG_PONG = 64, 10000, 1, 2


def cpu_ns():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return int((ru.ru_utime + ru.ru_stime) * 1e9)


def read_all(fd, n):
    chunks, got = [], 0
    while got < n:
        b = os.read(fd, n - got)
        if not b:
            raise EOFError("end of stream")
        chunks.append(b)
        got += len(b)
    return b"".join(chunks)


def write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class Stream:
    def __init__(self, rfd, wfd):
        self.rfd, self.wfd = rfd, wfd

    def send(self, data):
        write_all(self.wfd, data)

    def recv(self, n):
        return read_all(self.rfd, n)


class Dgram:
    def __init__(self, sock):
        self.sock = sock

    def send(self, data):
        self.sock.send(data)

    def recv(self, n):
        return self.sock.recv(max(n, 1))


class File:
    def __init__(self, ping, pong):
        self.ping, self.pong, self.tmp = ping, pong, pong + ".tmp"

    def send(self, data):
        with open(self.tmp, "wb") as f:
            f.write(data)
        os.rename(self.tmp, self.pong)

    def recv(self, n):
        while True:
            try:
                f = open(self.ping, "rb")
                break
            except FileNotFoundError:
                os.sched_yield()  # each try is a system call
        with f:
            data = f.read(n)
        os.unlink(self.ping)
        return data


class Signal:
    def __init__(self):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})

    def send(self, data):
        os.kill(os.getppid(), signal.SIGUSR1)

    def recv(self, n):
        signal.sigwaitinfo({signal.SIGUSR1})
        return b""


class SysvMsg:
    def __init__(self, key, size):
        import sysv_ipc
        self.q = sysv_ipc.MessageQueue(int(key), max_message_size=max(size, 1))

    def send(self, data):
        self.q.send(data, type=2)

    def recv(self, n):
        return self.q.receive(type=1)[0]


class Slot:
    """Shared memory with a doorbell: ping area in, pong area out."""

    def __init__(self, mem, size, wait, ring):
        area = max(size, 1)
        self.mem, self.wait, self.ring = mem, wait, ring
        self.ping, self.pong = HEADER, HEADER + area

    def send(self, data):
        if self.mem is not None:
            self.mem[self.pong:self.pong + len(data)] = data
        self.ring()

    def recv(self, n):
        self.wait()
        return b"" if self.mem is None else bytes(self.mem[self.ping:self.ping + n])


def posix_sems(names):
    # SemLock._rebuild is how multiprocessing reopens a named semaphore in
    # another process: sem_open(name, 0), sem_wait, sem_post.
    import _multiprocessing
    ping, pong = (_multiprocessing.SemLock._rebuild(0, 1, 2**31 - 1, n) for n in names)
    return ping.acquire, pong.release


def sysv_sems(keys):
    import sysv_ipc
    ping, pong = (sysv_ipc.Semaphore(int(k)) for k in keys)
    return ping.acquire, pong.release


def spin_flag(mem):
    def wait():
        i = 0
        while mem[0] != FLAG_PING:
            i += 1
            if i >= SPIN:
                os.sched_yield()

    def ring():
        mem[0] = FLAG_PONG  # one byte: the flag word is little-endian and < 256

    return wait, ring


def eventfd_bells():
    """Waits on descriptor 3 and rings 4: semaphore eventfds, non-blocking
    (the Go initiator's poller wants them so), hence the poll."""
    p = select.poll()
    p.register(3, select.POLLIN)

    def wait():
        while True:
            try:
                os.eventfd_read(3)
                return
            except BlockingIOError:
                p.poll()

    return wait, lambda: os.eventfd_write(4, 1)


class RingPair:
    """Two goipc rings: receive from ping, send to pong. A receive spins for
    spin_ns (package ring's default, as the Go and C peers do), watching
    head and tail without the lock, before goipc_ring's receive sleeps."""

    def __init__(self, ping, pong, spin_ns):
        import goipc_ring
        self.ring = goipc_ring
        self.inp, self.out = (goipc_ring.Ring.attach(_map_shm(n)) for n in (ping, pong))
        self.spin = int(spin_ns)

    def send(self, data):
        self.out.send(data)

    def recv(self, n):
        r, end = self.inp, time.monotonic_ns() + self.spin
        while time.monotonic_ns() < end:
            head, tail = struct.unpack_from("=QQ", r.mem, self.ring.OFF_HEAD)
            if head != tail:
                msg = r.try_receive()
                if msg is not None:
                    return msg
        return r.receive()


def _map_shm(name):
    import mmap
    fd = os.open("/dev/shm/" + name.lstrip("/"), os.O_RDWR)
    try:
        return mmap.mmap(fd, 0)
    finally:
        os.close(fd)


def open_conn(mech, size, obj):
    if mech == "file":
        return File(*obj)
    if mech == "signal":
        return Signal()
    if mech == "tcp":
        host, port = obj[0].rsplit(":", 1)
        s = socket.create_connection((host, int(port)))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return Stream(_keep(s), _keep(s))
    if mech == "unix":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(obj[0])
        return Stream(_keep(s), _keep(s))
    if mech == "unix-dgram":
        return Dgram(socket.socket(fileno=3))
    if mech == "pipe":
        return Stream(3, 4)
    if mech == "fifo":
        r = os.open(obj[0], os.O_RDONLY)
        return Stream(r, os.open(obj[1], os.O_WRONLY))
    if mech == "sysv-msg":
        return SysvMsg(obj[0], size)
    if mech == "posix-shm":
        from multiprocessing import resource_tracker, shared_memory
        shm = shared_memory.SharedMemory(obj[0].lstrip("/"))
        # Attaching registers the segment with the resource tracker, which
        # would unlink it at exit: the Go initiator owns it.
        resource_tracker.unregister(shm._name, "shared_memory")
        _kept.append(shm)
        return Slot(shm.buf, size, *posix_sems(obj[1:]))
    if mech == "posix-sem":
        return Slot(None, size, *posix_sems(obj))
    if mech == "sysv-shm":
        import sysv_ipc
        seg = sysv_ipc.SharedMemory(int(obj[0]))
        _kept.append(seg)
        return Slot(SysvView(seg), size, *sysv_sems(obj[1:]))
    if mech == "sysv-sem":
        return Slot(None, size, *sysv_sems(obj))
    if mech == "eventfd":
        return Slot(None, size, *eventfd_bells())
    if mech == "ring":
        return RingPair(*obj)
    if mech == "mmap":
        import mmap
        with open(obj[0], "r+b") as f:
            mem = mmap.mmap(f.fileno(), HEADER + 2 * max(size, 1))
        return Slot(mem, size, *spin_flag(mem))
    return None


_kept = []  # sockets and segments that must outlive open_conn


def _keep(s):
    _kept.append(s)
    return s.fileno()


class SysvView:
    """Slicing over sysv_ipc.SharedMemory's read and write."""

    def __init__(self, seg):
        self.seg = seg

    def __getitem__(self, sl):
        return self.seg.read(sl.stop - sl.start, sl.start)

    def __setitem__(self, sl, data):
        self.seg.write(data, sl.start)


def ack_due(i, warmup, total, window):
    j = i + 1
    if j <= warmup:
        return j % window == 0 or j == warmup
    return (j - warmup) % window == 0 or j == total


def main():
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if len(sys.argv) < 7:
        sys.exit("usage: bench_peer.py MECH MODE SIZE WARMUP COUNT WINDOW OBJECTS...")
    mech, mode = sys.argv[1], sys.argv[2]
    size, warmup, count, window = (int(a) for a in sys.argv[3:7])
    try:
        conn = open_conn(mech, size, sys.argv[7:])
    except ImportError as e:
        print(f"skip {sys.executable} cannot import {e.name} (make deps installs it)", flush=True)
        return
    if conn is None:
        print(f"skip the Python peer does not know mechanism {mech}", flush=True)
        return
    print("ready", flush=True)
    ack = b"\0" * min(size, 1)
    latency = mode == "latency"
    cpu0 = 0
    for i in range(warmup + count):
        if i == warmup:
            cpu0 = cpu_ns()
        data = conn.recv(size)
        if latency:
            conn.send(data)
        elif ack_due(i, warmup, warmup + count, window):
            conn.send(ack)
    print(f"cpu {cpu_ns() - cpu0}", flush=True)
    sys.stdin.buffer.read()


if __name__ == "__main__":
    main()
