#!/usr/bin/python3
"""goipc_ring: a Python implementation of goipc's shared-memory message ring,
version 2, written from the layout table and atomic rules in package ring's
documentation (ring/doc.go): mmap for the memory, ctypes for glibc's
pthread_mutex_* (the ring's robust lock) and the futex system call.

    r = Ring.attach(mmap.mmap(fd, 0))
    r.send(b"hello")          # waits while full
    data = r.receive()        # waits while empty

A holder keeps the ring's lock for a copy; one that keeps it (a process
stopped by SIGSTOP or a debugger inside its section) stops the ring for every
process, but not the calls, as in Go (ring/doc.go, Waiting and threads):
try_send and try_receive wait for the lock 100ms, then raise RingError with
errno EBUSY; send and receive wait for it in slices of 100ms, so that their
timeout holds (TimeoutError) and signals reach Python's handlers between the
slices (KeyboardInterrupt on SIGINT ends the wait). A sleeper interrupted
before it could take the lock again to leave the sleepers count leaves that
to the Ring's next taking of it.

As a program it is the Python peer of package ring's tests, with the modes of
csrc/ring_peer.c:

    goipc_ring.py PATH init CAPACITY
    goipc_ring.py PATH send ID N MAXLEN
    goipc_ring.py PATH recv N
    goipc_ring.py PATH trysend MSG
    goipc_ring.py PATH tryrecv

SIGINT and SIGTERM end a waiting call, and the program exits 1 saying so.
"""
import ctypes
import mmap
import os
import signal
import struct
import sys
import time

MAGIC = 0x676E6972
VERSION = 2
HEADER = 256
PAD = 0xFFFFFFFF
OFF_HEAD, OFF_TAIL, OFF_SEQ, OFF_SLEEPERS, OFF_LOCK = 64, 72, 80, 84, 88
SYS_FUTEX = {"x86_64": 202, "aarch64": 98}[os.uname().machine]
FUTEX_WAIT, FUTEX_WAKE = 0, 1
EOWNERDEAD, EAGAIN, EBADMSG, EBUSY, ETIMEDOUT = 130, 11, 74, 16, 110
CLOCK_MONOTONIC = 1
LOCK_SLICE = 0.1  # seconds a try call waits for a taken lock; a waiting one's slice
LOCK_SIZE = 40 if os.uname().machine == "x86_64" else 48  # sizeof(pthread_mutex_t), glibc

_libc = ctypes.CDLL("libc.so.6", use_errno=True)
_libc.syscall.restype = ctypes.c_long
_libc.syscall.argtypes = [ctypes.c_long, ctypes.c_void_p, ctypes.c_int, ctypes.c_uint, ctypes.c_void_p,
                          ctypes.c_void_p, ctypes.c_int]


class Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


_libc.pthread_mutex_clocklock.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(Timespec)]


def record_size(n):
    return (n + 8 + 7) & ~7


class RingError(OSError):
    pass


class Ring:
    """A ring in a writable shared mapping (an mmap of /dev/shm/NAME or a memfd)."""

    def __init__(self, mem):
        self.mem = mem
        self.base = ctypes.addressof(ctypes.c_char.from_buffer(mem))
        self.lock = ctypes.c_void_p(self.base + OFF_LOCK)
        self.seq_addr = ctypes.c_void_p(self.base + OFF_SEQ)
        self.owed = 0  # sleepers this Ring counted and has not uncounted yet

    @classmethod
    def init(cls, mem, capacity):
        """Makes a new ring in zeroed memory, as the table's creation rule says."""
        if capacity < 64 or capacity % 8 or len(mem) < HEADER + capacity:
            raise RingError(22, "bad ring capacity %d for %d bytes" % (capacity, len(mem)))
        mem[0:HEADER] = bytes(HEADER)
        r = cls(mem)
        attr = ctypes.create_string_buffer(16)  # pthread_mutexattr_t
        _libc.pthread_mutexattr_init(attr)
        _libc.pthread_mutexattr_setpshared(attr, 1)  # PTHREAD_PROCESS_SHARED
        _libc.pthread_mutexattr_setrobust(attr, 1)  # PTHREAD_MUTEX_ROBUST
        err = _libc.pthread_mutex_init(r.lock, attr)
        if err:
            raise RingError(err, "pthread_mutex_init")
        struct.pack_into("=IIQ", mem, 8, HEADER, LOCK_SIZE, capacity)
        struct.pack_into("=I", mem, 4, VERSION)
        r._store(ctypes.c_uint32, 0, MAGIC)  # last (x86-64 stores are ordered)
        return cls.attach(mem)

    @classmethod
    def attach(cls, mem):
        magic, version, header, lock_size, capacity = struct.unpack_from("=IIIIQ", mem, 0)
        if magic != MAGIC:
            raise RingError(22, "not a ring (magic %#x)" % magic)
        if version == 1:
            raise RingError(22, "ring version 1, this peer speaks %d: the layout changed; make the ring again" % VERSION)
        if version != VERSION or header != HEADER or lock_size != LOCK_SIZE:
            raise RingError(22, "ring version %d, header %d, lock %d: not what this peer speaks"
                            % (version, header, lock_size))
        if capacity < 64 or capacity % 8 or capacity > len(mem) - HEADER:
            raise RingError(22, "capacity %d does not fit %d bytes" % (capacity, len(mem)))
        r = cls(mem)
        r.capacity = capacity
        r.max_message = (capacity // 2 & ~7) - 8
        return r

    def _mark(self, pos):
        """The mark word of a record (or pad marker) at position pos."""
        return (pos // self.capacity + 1) & 0xFFFFFFFF

    def _store(self, ctype, off, value):
        """Stores value at off in one aligned store, as the atomic rules ask.
        Not struct.pack_into: it zeroes the bytes before it writes them, so a
        peer killed in between left tail 0, and a look from outside the lock
        could see 0 in any word."""
        ctype.from_buffer(self.mem, off).value = value

    def _u32(self, off):
        return struct.unpack_from("=I", self.mem, off)[0]

    def _u64(self, off):
        return struct.unpack_from("=Q", self.mem, off)[0]

    def _lock(self, wait=False, deadline=None):
        """Takes the lock and returns whether its owner had died. A lock that
        stays taken raises RingError EBUSY after a slice, or with wait goes
        on in slices until deadline (TimeoutError), Python's signal handlers
        running between them (pthread_mutex_lock retries EINTR: a wait in it
        would end only with the holder)."""
        err = _libc.pthread_mutex_trylock(self.lock)
        while err == EBUSY:
            slice_end = time.monotonic() + LOCK_SLICE
            if wait and deadline is not None:
                if deadline <= time.monotonic():
                    raise TimeoutError("ring: timed out waiting for the ring's lock")
                slice_end = min(slice_end, deadline)
            t = Timespec(int(slice_end), int(slice_end % 1 * 1e9))
            err = _libc.pthread_mutex_clocklock(self.lock, CLOCK_MONOTONIC, ctypes.byref(t))
            if err == ETIMEDOUT:
                if not wait:
                    raise RingError(EBUSY, "the ring's lock stayed taken for %gms: is a process that holds it stopped?"
                                    % (LOCK_SLICE * 1000))
                err = EBUSY
        died = err == EOWNERDEAD
        if died:
            self._bump()
            err = _libc.pthread_mutex_consistent(self.lock)
        if err:
            raise RingError(err, "pthread_mutex_lock")
        if self.owed:
            self._store(ctypes.c_uint32, OFF_SLEEPERS, self._u32(OFF_SLEEPERS) - self.owed)
            self.owed = 0
        return died

    def _bump(self):
        self._store(ctypes.c_uint32, OFF_SEQ, (self._u32(OFF_SEQ) + 1) & 0xFFFFFFFF)

    def _unlock(self, changed, died):
        if changed:
            self._bump()
        wake = (changed or died) and self._u32(OFF_SLEEPERS) != 0
        _libc.pthread_mutex_unlock(self.lock)
        if wake:
            _libc.syscall(SYS_FUTEX, self.seq_addr, FUTEX_WAKE, 0x7FFFFFFF, None, None, 0)

    def _positions(self):
        """Returns head and tail, read under the lock; raises EBADMSG for
        positions the rules never leave (tail more than capacity past head,
        tail behind head, either not a multiple of 8): a corrupt ring, not a
        full or empty one."""
        head, tail = self._u64(OFF_HEAD), self._u64(OFF_TAIL)
        if tail < head or tail - head > self.capacity or (head | tail) % 8:
            raise RingError(EBADMSG, "corrupt ring: head %d, tail %d, capacity %d" % (head, tail, self.capacity))
        return head, tail

    def _fits(self, head, tail, need):
        """Whether a record of need bytes fits after tail, with the padding
        to the next lap that it may need."""
        off = tail % self.capacity
        pad = self.capacity - off if off + need > self.capacity else 0
        return tail - head + pad + need <= self.capacity

    def _pad_at(self, head, tail):
        """Whether a pad marker is at head with a record after it."""
        off = head % self.capacity
        return head != tail and self._u32(HEADER + off) == PAD and head + self.capacity - off < tail

    def try_send(self, msg, _wait=False, _deadline=None):
        """Sends msg if it fits now; returns whether it did."""
        if len(msg) > self.max_message:
            raise RingError(22, "message of %d bytes > the ring's maximum %d" % (len(msg), self.max_message))
        died = self._lock(_wait, _deadline)
        try:
            head, tail = self._positions()
        except RingError:
            self._unlock(False, died)
            raise
        need = record_size(len(msg))
        skipped = False
        if not self._fits(head, tail, need) and self._pad_at(head, tail):
            # The padding of a sender that went home holds the rest of the
            # data area until someone passes it: pass it, as a receive would.
            head += self.capacity - head % self.capacity
            self._store(ctypes.c_uint64, OFF_HEAD, head)
            skipped = True
        if not self._fits(head, tail, need):
            self._unlock(skipped, died)
            return False
        off = tail % self.capacity
        pad = self.capacity - off if off + need > self.capacity else 0
        if pad:
            self._store(ctypes.c_uint32, HEADER + off, PAD)
            self._store(ctypes.c_uint32, HEADER + off + 4, self._mark(tail))
            off = 0
        self._store(ctypes.c_uint32, HEADER + off, len(msg))
        self.mem[HEADER + off + 8:HEADER + off + 8 + len(msg)] = msg
        self._store(ctypes.c_uint32, HEADER + off + 4, self._mark(tail + pad))  # before tail
        self._store(ctypes.c_uint64, OFF_TAIL, tail + pad + need)
        self._unlock(True, died)
        return True

    def try_receive(self, _wait=False, _deadline=None):
        """Returns the oldest message, or None when the ring is empty."""
        died = self._lock(_wait, _deadline)
        try:
            head, tail = self._positions()
        except RingError:
            self._unlock(False, died)
            raise
        if head == tail:
            self._unlock(False, died)
            return None
        off, skip = head % self.capacity, 0
        n = self._u32(HEADER + off)
        if n == PAD:
            skip, off = self.capacity - off, 0
            n = self._u32(HEADER)
        if n > self.max_message or head + skip + record_size(n) > tail:
            self._unlock(False, died)
            raise RingError(EBADMSG, "corrupt ring: a record of %d bytes at position %d" % (n, head))
        msg = bytes(self.mem[HEADER + off + 8:HEADER + off + 8 + n])
        self._store(ctypes.c_uint64, OFF_HEAD, head + skip + record_size(n))
        self._unlock(True, died)
        return msg

    def _await(self, seen, timeout, deadline):
        """Sleeps until seq moves from seen, for at most timeout (<= 1 s)."""
        died = self._lock(True, deadline)
        s = self._u32(OFF_SEQ)
        asleep = s == seen
        if asleep:
            self._store(ctypes.c_uint32, OFF_SLEEPERS, self._u32(OFF_SLEEPERS) + 1)
            self.owed += 1  # until the next taking of the lock uncounts it
        self._unlock(False, died)
        if not asleep:
            return
        ts = Timespec(int(timeout), int(timeout % 1 * 1e9))
        _libc.syscall(SYS_FUTEX, self.seq_addr, FUTEX_WAIT, s, ctypes.byref(ts), None, 0)
        self._unlock(False, self._lock(True, deadline))

    def send(self, msg, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            seen = self._u32(OFF_SEQ)
            if self.try_send(msg, True, deadline):
                return
            self._wait(seen, deadline)

    def receive(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            seen = self._u32(OFF_SEQ)
            msg = self.try_receive(True, deadline)
            if msg is not None:
                return msg
            self._wait(seen, deadline)

    def _wait(self, seen, deadline):
        left = 1.0
        if deadline is not None:
            left = min(left, deadline - time.monotonic())
            if left <= 0:
                raise TimeoutError("ring: timed out")
        self._await(seen, left, deadline)


# The test messages of csrc/ring_peer.c.
def fnv(data):
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


def make_message(pid, i, maxlen):
    n = (i * 37 + pid * 11) % (maxlen + 1)
    payload = bytes((pid * 131 + i * 7 + j) & 0xFF for j in range(n))
    return struct.pack("=III", pid, i, fnv(payload)) + payload


def check_message(msg):
    if len(msg) < 12:
        sys.exit("goipc_ring.py: torn message of %d bytes" % len(msg))
    pid, i, s = struct.unpack_from("=III", msg)
    payload = msg[12:]
    want = bytes((pid * 131 + i * 7 + j) & 0xFF for j in range(len(payload)))
    if fnv(payload) != s or payload != want:
        print("goipc_ring.py: torn or corrupt message: producer %d number %d" % (pid, i), file=sys.stderr)
        sys.exit(3)
    return pid, i


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    path, mode = argv[1], argv[2]
    fd = os.open(path, os.O_RDWR)
    mem = mmap.mmap(fd, 0)
    os.close(fd)
    if mode == "init":
        Ring.init(mem, int(argv[3]))
    elif mode == "send":
        r = Ring.attach(mem)
        pid, n, maxlen = int(argv[3]), int(argv[4]), int(argv[5])
        i = 0
        while n == 0 or i < n:
            r.send(make_message(pid, i, maxlen))
            if i == 0:
                print("ready", flush=True)
            i += 1
    elif mode == "trysend" and len(argv) == 4:
        if not Ring.attach(mem).try_send(argv[3].encode()):
            raise RingError(EAGAIN, "the ring is full")
    elif mode == "tryrecv" and len(argv) == 3:
        msg = Ring.attach(mem).try_receive()
        if msg is None:
            raise RingError(EAGAIN, "the ring is empty")
        sys.stdout.buffer.write(msg + b"\n")
    elif mode == "recv":
        r = Ring.attach(mem)
        n, got = int(argv[3]), 0
        print("ready", flush=True)
        while n == 0 or got < n:
            pid, i = check_message(r.receive())
            sys.stdout.write("%d %d\n" % (pid, i))  # one write: a kill never leaves half a line
            sys.stdout.flush()
            got += 1
        print("ok", got, flush=True)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # as SIGINT: ends a wait
    try:
        main(sys.argv)
    except RingError as e:  # exit status 1, as ring_peer's die
        sys.exit("goipc_ring.py: %s: %s" % (os.strerror(e.errno), e.strerror))
    except KeyboardInterrupt:
        sys.exit("goipc_ring.py: interrupted by a signal")
