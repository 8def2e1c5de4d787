package ring

import (
	"context"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/goipc/ipc/internal/errs"
	"github.com/goipc/ipc/mmap"
	"github.com/goipc/ipc/posix"
	"github.com/goipc/ipc/shmsync"
)

// Options says how Open, New and FromFile make or reach a ring. The zero
// value (or nil) opens an existing ring and waits as DefaultSpin says.
type Options struct {
	Create    bool        // Open: create the ring if its name does not exist
	Exclusive bool        // with Create: fail with fs.ErrExist if it exists; needs Create (EINVAL)
	Mode      os.FileMode // permissions of a new named ring, whatever the umask; 0 means 0600

	// Capacity is the size in bytes of a new ring's data area: a multiple
	// of 8 (others are refused, not rounded) from MinCapacity to
	// MaxCapacity; 0 means DefaultCapacity. An existing ring
	// keeps its own. The largest message is about half of it (MaxMessage).
	Capacity int64

	// Spin is how long a call that must wait tries again before it sleeps
	// on the futex; 0 means DefaultSpin, a negative value sleeps at once.
	Spin time.Duration
}

// DefaultSpin is how long a waiting call spins by default: about a round
// trip to a peer that answers at once, shorter than waking from a futex.
const DefaultSpin = 20 * time.Microsecond

// A Ring is a handle on a message ring in shared memory. Its methods are
// safe for concurrent use by many goroutines; any number of processes send
// and receive on the same ring at once.
type Ring struct {
	name     string
	h        header
	base     unsafe.Pointer // the start of the ring's memory, for the shim
	capacity uint64
	mu       *shmsync.Mutex
	spin     time.Duration
	file     *os.File              // the memfd or file the ring was made from; nil for a named ring
	release  func() error          // unmaps the ring and closes what it came from
	size     func() (int64, error) // the size of the file now, for the error a truncation gets
	guard    *guard                // the ring's pages in the SIGBUS handler; nil for a sealed memfd

	// turn lets one goroutine of this process at a time wait for mu in the
	// kernel, holding one thread (a channel of one, not a sync.Mutex, so
	// that a goroutine waiting for its turn leaves when its context ends).
	turn chan struct{}
	// owed is the sleepers this process counted in the header and could
	// not uncount, the lock staying taken: the next locked pays them.
	owed atomic.Uint32
	// state counts the calls in flight, which touch the memory, and has
	// closedBit once Close began: one atomic add on the way in and one on
	// the way out of every call.
	state   atomic.Int64
	drained chan struct{} // closed when the last call in flight after Close returns
	drain   sync.Once
	full    atomic.Bool   // the last send that took the lock found the ring full: a hint
	next    uint64        // head as the last receive that took the lock left it, stored by the shim: a hint
	done    chan struct{} // closed by Close: wakes local waiters
	waits   waitSet
}

// closedBit is the bit of Ring.state that Close sets.
const closedBit = 1 << 62

// Open opens the ring in the POSIX shared memory object name ("/name", as
// package posix takes it), or with opts.Create creates it. With Create, an
// Open that finds the ring still being made by another process (as when
// several start at once) waits for it, up to a second.
func Open(name string, opts *Options) (*Ring, error) {
	if opts == nil {
		opts = &Options{}
	}
	if opts.Exclusive && !opts.Create {
		return nil, errs.Path("ring open", name, errs.Invalid("Options.Exclusive needs Create"))
	}
	capacity, err := capacityOf(name, opts)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(makingWait)
	for pause := time.Millisecond; ; pause = min(2*pause, 20*time.Millisecond) {
		r, making, err := openOnce(name, opts, capacity)
		if !making || !opts.Create || time.Now().After(deadline) {
			return r, err
		}
		time.Sleep(pause)
	}
}

// makingWait is how long Open with Create waits for a ring that another
// process is making: its header takes microseconds, its memory (fallocate)
// longer for a large ring.
const makingWait = time.Second

// openOnce is Open's one try; making tells that it failed on a ring that
// may still be being made (empty, or with no magic yet).
func openOnce(name string, opts *Options, capacity uint64) (r *Ring, making bool, err error) {
	open := func(create, excl bool) (*posix.SharedMemory, error) {
		return posix.OpenSharedMemory(name, &posix.ShmOptions{
			Create: create, Exclusive: excl, Mode: opts.Mode, Size: headerSize + int64(capacity)})
	}
	created := opts.Create
	shm, err := open(opts.Create, opts.Create)
	if opts.Create && !opts.Exclusive && errors.Is(err, os.ErrExist) {
		created = false
		shm, err = open(false, false)
	}
	if err != nil {
		return nil, false, err
	}
	if size, err := shm.Size(); err == nil && size == 0 { // created by someone who has not sized it yet
		shm.Close()
		return nil, true, errs.Path("ring open", name, errs.Invalid("the object is empty: not a ring, or one its creator is still making: try again"))
	}
	mem, err := shm.Map(posix.ReadWrite)
	if err != nil {
		shm.Close()
		return nil, false, err
	}
	if created {
		initialise(mem, capacity)
	}
	// Read before attach, which may see the magic that the maker stores
	// meanwhile: a failure with no magic before is worth another try.
	making = !created && len(mem) >= headerSize && headerOf(mem).magic.Load() == 0
	r, err = attach(shm.Name(), mem, opts, nil, source{shm.Close, shm.Size, false})
	if err != nil {
		shm.Close()
		if created {
			shm.Unlink()
		}
		return nil, making, err
	}
	return r, false, nil
}

// source is what a ring's memory came from: how to release it, how large
// its file is now, and whether a seal keeps the file from shrinking.
type source struct {
	release func() error
	size    func() (int64, error)
	sealed  bool
}

// fileSource is the source of a mapping of a whole file or memfd.
func fileSource(m *mmap.Mapping) source {
	return source{release: m.Close, size: func() (int64, error) {
		fi, err := m.File().Stat()
		if err != nil {
			return 0, err
		}
		return fi.Size(), nil
	}, sealed: sealedSize(m.File())}
}

// sealedSize tells whether f is a memfd sealed against shrinking
// (F_SEAL_SHRINK), whose mappings no truncation can reach.
func sealedSize(f *os.File) bool {
	seals := 0
	rc, err := f.SyscallConn()
	if err == nil {
		rc.Control(func(fd uintptr) { seals, err = unix.FcntlInt(fd, unix.F_GET_SEALS, 0) })
	}
	return err == nil && seals&unix.F_SEAL_SHRINK != 0
}

// Unlink removes the named ring; processes that have it open keep using it.
func Unlink(name string) error { return posix.UnlinkSharedMemory(name) }

// New creates an anonymous ring in a memfd. Hand File to other processes
// (exec.Cmd.ExtraFiles, or a Unix socket), which reach it with FromFile.
// The memfd is sealed at its size (F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_SEAL):
// no process can truncate it under the processes that map it.
func New(opts *Options) (*Ring, error) {
	if opts == nil {
		opts = &Options{}
	}
	const name = "memfd:ring"
	capacity, err := capacityOf(name, opts)
	if err != nil {
		return nil, err
	}
	m, err := sealedMemory(name, headerSize+int64(capacity))
	if err != nil {
		return nil, err
	}
	initialise(m.Bytes(), capacity)
	r, err := attach(name, m.Bytes(), opts, m.File(), fileSource(m))
	if err != nil {
		m.Close()
		return nil, err
	}
	return r, nil
}

// FromFile maps the ring held by f (a memfd from New's File, inherited or
// passed, or a file or /dev/shm object that holds one). f may be closed
// afterwards.
func FromFile(f *os.File, opts *Options) (*Ring, error) {
	if opts == nil {
		opts = &Options{}
	}
	m, err := mmap.Inherit(f)
	if err != nil {
		return nil, err
	}
	r, err := attach(f.Name(), m.Bytes(), opts, m.File(), fileSource(m))
	if err != nil {
		m.Close()
		return nil, err
	}
	return r, nil
}

// MaxCapacity is the largest data area a ring may have.
const MaxCapacity = 1 << 40

// sealedMemory maps size bytes of a new memfd, allocated (as mmap.Shared's)
// and sealed at that size.
func sealedMemory(name string, size int64) (*mmap.Mapping, error) {
	if err := errs.FitsInMemory("memfd_create", name, size); err != nil {
		return nil, err
	}
	fd, err := unix.MemfdCreate("goipc-ring", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, errs.Path("memfd_create", name, err)
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	if err := mmap.Grow(f, size); err != nil {
		return nil, err
	}
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_SEAL); err != nil {
		return nil, errs.Path("fcntl F_ADD_SEALS", name, err)
	}
	return mmap.Map(f, mmap.ReadWrite, 0, size)
}

// capacityOf checks opts.Capacity before anything is created. A capacity
// that is not a multiple of 8 is refused, not rounded: the layout needs a
// multiple of 8, and a rounded one would change MaxMessage behind the
// caller's back.
func capacityOf(name string, opts *Options) (uint64, error) {
	bad := func(format string, args ...any) (uint64, error) {
		return 0, errs.Path("ring create", name, errs.Invalid("Options.Capacity %d "+format, append([]any{opts.Capacity}, args...)...))
	}
	switch c := opts.Capacity; {
	case c == 0:
		return DefaultCapacity, nil
	case c < MinCapacity:
		return bad("is below the minimum, MinCapacity (%d)", MinCapacity)
	case c > MaxCapacity:
		return bad("is above the maximum, MaxCapacity (1 TiB)")
	case c%recordAlign != 0:
		return bad("is not a multiple of %d: %d or %d would do", recordAlign, c&^(recordAlign-1), c&^(recordAlign-1)+recordAlign)
	default:
		return uint64(c), nil
	}
}

// initialise writes a new ring's header into zeroed memory; the magic word
// goes last, so a process that sees it sees a whole header.
func initialise(mem []byte, capacity uint64) {
	h := headerOf(mem)
	shmsync.NewMutex(mem[offLock:]) // cannot fail on fresh, aligned memory
	h.headerSize.Store(headerSize)
	h.lockSz.Store(lockSize)
	h.capacity.Store(capacity)
	h.version.Store(Version)
	h.magic.Store(Magic)
}

// attach checks the header of mem and returns the ring it holds.
func attach(name string, mem []byte, opts *Options, file *os.File, src source) (*Ring, error) {
	bad := func(format string, args ...any) (*Ring, error) {
		return nil, errs.Path("ring open", name, errs.Invalid(format, args...))
	}
	if len(mem) < headerSize+MinCapacity {
		return bad("%d bytes are too few for a ring", len(mem))
	}
	h := headerOf(mem)
	switch capacity := h.capacity.Load(); {
	case h.magic.Load() == 0:
		return bad("not a ring, or one its creator is still initialising (magic 0): try again")
	case h.magic.Load() != Magic:
		return bad("not a ring (magic %#x, want %#x)", h.magic.Load(), Magic)
	case h.version.Load() == 1:
		return bad("ring version 1, this program speaks %d: the layout changed (positions beside the lock, a mark in every record); make the ring again", Version)
	case h.version.Load() != Version:
		return bad("ring version %d, this program speaks %d", h.version.Load(), Version)
	case h.headerSize.Load() != headerSize:
		return bad("header of %d bytes, want %d", h.headerSize.Load(), headerSize)
	case h.lockSz.Load() != lockSize:
		return bad("the ring's lock is %d bytes, this C library's %d: another ABI", h.lockSz.Load(), lockSize)
	case capacity < MinCapacity || capacity%recordAlign != 0 || capacity > uint64(len(mem)-headerSize):
		return bad("capacity %d does not fit the %d-byte mapping", capacity, len(mem))
	}
	mu, err := shmsync.MutexAt(mem[offLock:])
	if err != nil {
		return nil, errs.Path("ring open", name, err)
	}
	var g *guard
	if !src.sealed {
		if g, err = guardRange(mem); err != nil {
			return nil, errs.Path("ring open", name, err)
		}
	}
	h.data = mem[headerSize : headerSize+h.capacity.Load()]
	spin := opts.Spin
	if spin == 0 {
		spin = DefaultSpin
	}
	return &Ring{name: name, h: h, base: unsafe.Pointer(unsafe.SliceData(mem)), capacity: h.capacity.Load(), mu: mu, spin: spin,
		file: file, release: src.release, size: src.size, guard: g, done: make(chan struct{}), drained: make(chan struct{}), turn: make(chan struct{}, 1)}, nil
}

// Name returns the ring's name: "/name" for a named ring; "" for a nil or
// zero r.
func (r *Ring) Name() string {
	if r == nil {
		return ""
	}
	return r.name
}

// Capacity returns the size of the ring's data area in bytes; 0 for a nil
// or zero r.
func (r *Ring) Capacity() int {
	if r == nil {
		return 0
	}
	return int(r.capacity)
}

// MaxMessage returns the largest message the ring takes: a message of up to
// this size fits whenever the ring is empty; 0 for a nil or zero r.
func (r *Ring) MaxMessage() int {
	if r == nil || r.capacity == 0 {
		return 0
	}
	return maxMessage(r.capacity)
}

// File returns the descriptor of an anonymous ring (New, FromFile), to
// pass to another process; nil for a named ring and for a nil or zero r.
// It stays owned by r.
func (r *Ring) File() *os.File {
	if r == nil {
		return nil
	}
	return r.file
}

// Send appends msg to the ring, waiting while the ring is too full, until
// ctx is done or the ring is closed. It fails at once, with an error
// matching syscall.EINVAL, for a message longer than MaxMessage.
func (r *Ring) Send(ctx context.Context, msg []byte) error { return r.send(ctx, msg, true) }

// TrySend appends msg if it fits now; otherwise it fails with an error
// matching syscall.EAGAIN. It waits for the ring's lock 100ms at most, then
// fails with one matching syscall.EBUSY (see Waiting and threads).
func (r *Ring) TrySend(msg []byte) error { return r.send(context.Background(), msg, false) }

// send is Send, or TrySend when it must not wait.
func (r *Ring) send(ctx context.Context, msg []byte, wait bool) error {
	const op = "ring send"
	if err := r.enter(op); err != nil {
		return err
	}
	var err error
	switch {
	case len(msg) > r.MaxMessage():
		err = r.tooLong(len(msg))
	case wait:
		err = r.wait(ctx, &attempt{msg: msg})
	default:
		var sent bool
		sent, _, err = r.trySend(nil, msg, 0)
		err = again(sent, err)
	}
	return r.exit(op, err)
}

// Receive takes the oldest message into buf and returns its length,
// waiting while the ring is empty, until ctx is done or the ring is
// closed. A message longer than buf stays in the ring, and Receive fails
// with an error matching syscall.EMSGSIZE: a buffer of MaxMessage bytes
// always suffices.
func (r *Ring) Receive(ctx context.Context, buf []byte) (n int, err error) {
	const op = "ring receive"
	if err := r.enter(op); err != nil {
		return 0, err
	}
	a := attempt{buf: buf, receive: true}
	err = r.exit(op, r.wait(ctx, &a))
	return a.n, err
}

// TryReceive takes the oldest message into buf if there is one; otherwise
// it fails with an error matching syscall.EAGAIN. It waits for the lock as
// TrySend does.
func (r *Ring) TryReceive(buf []byte) (n int, err error) {
	const op = "ring receive"
	if err := r.enter(op); err != nil {
		return 0, err
	}
	n, ok, _, err := r.tryReceive(nil, buf, 0)
	return n, r.exit(op, again(ok, err))
}

// SendReceive sends msg on r, then receives the next message from from (r
// itself, or another ring) into buf and returns its length, as MPI_Sendrecv
// does: the request and reply of a client, or the reply and next request of
// a server, in one call. The send follows Send's rules, the receive
// Receive's, and ctx bounds both. When r has room and a message reaches
// from within a spin, the call is one crossing into the C shim where Send
// and Receive take two: less CPU time, but not a shorter round trip (see
// Performance in the package documentation).
//
// msg is sent at most once, and the error says which half failed: its Op
// (*os.PathError, or *os.SyscallError for a nil ring) is "ring send" when
// nothing was sent (msg longer than MaxMessage, r or from nil or closed,
// ctx done while r was full), and "ring receive" when msg was sent and the
// receive failed (ctx done, from closed meanwhile, buf too small). msg and
// buf may be the same memory: msg is copied out before anything comes in.
// One error comes with a message: when r turns out truncated (EFAULT) after
// the same crossing took a message from from, the call returns that
// message's length with the error, and buf[:n] holds it.
func (r *Ring) SendReceive(ctx context.Context, msg []byte, from *Ring, buf []byte) (n int, err error) {
	var sent, received bool
	var recvErr error
	const op = "ring send"
	if err := r.enter(op); err != nil {
		return 0, err
	}
	switch {
	case ctx == nil:
		err = errs.Hint(errs.NilContext(), "nothing sent")
	case len(msg) > r.MaxMessage():
		err = r.tooLong(len(msg))
	case from == nil || from.mu == nil:
		err = errs.Hint(os.ErrInvalid, "nil or zero ring.Ring to receive from: nothing sent")
	case from.isClosed():
		err = errs.Hint(os.ErrClosed, "the ring to receive from, %s, is closed: nothing sent", from.name)
	default:
		n, sent, received, recvErr, err = r.sendFirst(msg, from, buf)
	}
	err = r.exit(op, err)
	switch {
	case err != nil && received: // r faulted; what from gave is the caller's
		return n, err
	case err != nil:
		return 0, err
	case recvErr != nil:
		return 0, from.result("ring receive", recvErr)
	case received:
		return n, nil
	case !sent:
		if err := r.Send(ctx, msg); err != nil {
			return 0, err
		}
	}
	return from.Receive(ctx, buf)
}

// sendFirst is SendReceive's crossing into the shim, in a call on r: it
// sends msg if r's lock is free and r has room (not sent: Send's path
// follows) and then, spinning if from spins, receives from from (not
// received: Receive's path follows). It takes from's memory only if Close
// is not taking it away (a call counted in from's state, or none).
func (r *Ring) sendFirst(msg []byte, from *Ring, buf []byte) (n int, sent, received bool, recvErr, err error) {
	if r.full.Load() { // Send looks at head and tail first
		return 0, false, false, nil, nil
	}
	looks := 0
	if from.spin > 0 {
		looks = spinLooks
	}
	if from != r {
		if from.state.Add(1)&closedBit != 0 {
			looks = 0
		}
		defer from.leave()
	}
	if from.isClosed() || from.guard.faulted() {
		looks = 0 // Receive says why
	}
	n, _, se, re := ringSendReceive(r.base, r.capacity, msg, from.base, from.capacity, buf, looks, &from.next)
	if sent, err = r.sendResult(se); !sent || looks == 0 {
		return 0, sent, false, nil, err
	}
	n, received, recvErr = from.receiveResult(n, re, len(buf))
	return n, true, received, recvErr, nil
}

func again(ok bool, err error) error {
	if err == nil && !ok {
		return syscall.EAGAIN
	}
	return err
}

func (r *Ring) tooLong(n int) error {
	return errs.Invalid("message of %d bytes > the ring's maximum %d", n, r.MaxMessage())
}

// enter begins a call named op, which may touch the memory until its exit
// (Close waits for that), or tells why it cannot.
func (r *Ring) enter(op string) error {
	if r == nil || r.mu == nil {
		return errs.NotOpen(op, "ring.Ring")
	}
	if r.state.Add(1)&closedBit != 0 {
		r.leave()
		return errs.Closed(op, r.name)
	}
	if r.guard.faulted() {
		return r.exit(op, errTruncated)
	}
	return nil
}

// exit ends a call that enter began, which ended with err, and returns the
// error: err named after op and the ring (result).
func (r *Ring) exit(op string, err error) error {
	if err != nil || r.guard.faulted() {
		err = r.result(op, err)
	}
	r.leave()
	return err
}

// leave uncounts a call in flight; the last after Close lets Close go on.
func (r *Ring) leave() {
	if r.state.Add(-1) == closedBit {
		r.drain.Do(func() { close(r.drained) })
	}
}

// isClosed tells whether Close began.
func (r *Ring) isClosed() bool { return r.state.Load()&closedBit != 0 }

// call runs fn as a call named op (see enter), for the calls off the hot
// path.
func (r *Ring) call(op string, fn func() error) error {
	if err := r.enter(op); err != nil {
		return err
	}
	return r.exit(op, fn())
}

// result is the error of op that ended with err: the ring's truncation if
// it happened meanwhile, named after op and the ring.
func (r *Ring) result(op string, err error) error {
	if r.guard.faulted() { // what op did, it did on pages that are gone
		err = r.truncated()
	}
	return errs.Path(op, r.name, err)
}

// errTruncated ends the wait of a call on a truncated ring, which call
// turns into truncated's error.
var errTruncated = errors.New("ring truncated")

// truncated is the error of every call on a ring whose file another process
// shrank: what the ring held is gone.
func (r *Ring) truncated() error {
	size, err := r.size()
	if err != nil {
		return errs.Hint(syscall.EFAULT, "the ring's memory was cut short by another process (truncated)")
	}
	return errs.Hint(syscall.EFAULT, "another process truncated the ring's file to %d bytes: the ring takes %d, and what it held is lost",
		size, headerSize+r.capacity)
}

// locked runs fn holding the ring's lock, after repairing what a holder
// that died left. When fn reports that it moved head or tail, seq moves on
// and the sleepers of every process are woken. It waits for the lock as
// waitForLock does, until ctx ends (nil: for a slice at most).
func (r *Ring) locked(ctx context.Context, fn func() (changed bool, err error)) error {
	if err := r.takeTurn(ctx); err != nil {
		return err
	}
	defer r.giveTurn()
	err := r.lock(ctx)
	died := errors.Is(err, shmsync.ErrOwnerDead)
	if died {
		// Head and tail are each one store, made after the data they
		// publish: nothing is half done except, perhaps, the wake-up.
		err = r.mu.Consistent()
	}
	if err != nil {
		if died {
			r.mu.Unlock()
		}
		return err
	}
	if owed := r.owed.Swap(0); owed != 0 {
		r.h.sleepers.Add(-owed)
	}
	changed, err := fn()
	if changed || died {
		r.h.seq.Add(1)
	}
	wake := (changed || died) && r.h.sleepers.Load() > 0
	if uerr := r.mu.Unlock(); err == nil {
		err = uerr
	}
	if wake {
		futexWake(r.h.seq)
	}
	return err
}

// lock takes the ring's lock, waiting for it in waits of lockSlice, each
// ending with a new look at the lock, so that a waiter on a ring truncated
// meanwhile fails (see fault.go) instead of sleeping on a futex that no one
// can wake any more, and one on a ring closed meanwhile, or whose ctx
// ended, leaves (stillWaiting). An uncontended lock allocates nothing.
func (r *Ring) lock(ctx context.Context) error {
	if err := r.mu.TryLock(); !errors.Is(err, syscall.EBUSY) {
		return err
	}
	parent := ctx
	if parent == nil {
		parent = context.Background()
	}
	for {
		slice, cancel := context.WithTimeout(parent, lockSlice)
		err := r.mu.Lock(slice)
		cancel()
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return err
		}
		if err := r.stillWaiting(ctx); err != nil {
			return err
		}
	}
}

// waitForLock makes cross, a crossing into the shim that waits for the
// ring's lock (looks 0) for a slice at most, with this Ring's turn to wait
// in the kernel, and makes it again while it returns ETIMEDOUT (the lock
// stayed taken) and stillWaiting says so: its result, or why it stopped.
func (r *Ring) waitForLock(ctx context.Context, cross func() syscall.Errno) (syscall.Errno, error) {
	if err := r.takeTurn(ctx); err != nil {
		return 0, err
	}
	defer r.giveTurn()
	for {
		if e := cross(); e != syscall.ETIMEDOUT {
			return e, nil
		}
		if err := r.stillWaiting(ctx); err != nil {
			return 0, err
		}
	}
}

// takeTurn takes this Ring's turn to wait for the lock in the kernel,
// waiting for it while another goroutine has it, until ctx ends or the ring
// is closed (nil ctx: for a slice at most).
func (r *Ring) takeTurn(ctx context.Context) error {
	select {
	case r.turn <- struct{}{}:
		return nil
	default:
	}
	var done, closed <-chan struct{}
	var timeout <-chan time.Time
	if ctx == nil { // Close among them: the others leave within a slice once it began
		t := time.NewTimer(lockSlice)
		defer t.Stop()
		timeout = t.C
	} else {
		done, closed = ctx.Done(), r.done
	}
	select {
	case r.turn <- struct{}{}:
		return nil
	case <-done:
		return errs.FromContext(ctx)
	case <-closed:
		return os.ErrClosed
	case <-timeout:
		return errLockHeld
	}
}

func (r *Ring) giveTurn() { <-r.turn }

// stillWaiting tells whether a call that waited a whole slice for the
// ring's lock waits on: nil if so, else why not: the ring was truncated or
// closed, its ctx ended, or it has none (a call that does not wait).
func (r *Ring) stillWaiting(ctx context.Context) error {
	switch {
	case r.guard.faulted():
		return errTruncated
	case r.isClosed():
		return os.ErrClosed
	case ctx == nil:
		return errLockHeld
	}
	return ended(ctx)
}

// lockSlice is the longest a wait for the ring's lock lasts before it looks
// at the lock again, and the longest that a call that does not wait (TrySend,
// Stat) waits for it.
const lockSlice = 100 * time.Millisecond

// errLockHeld fails a call that does not wait when another thread, of any
// process, held the ring's lock for all of a slice: one stopped (SIGSTOP,
// a debugger) or stuck inside its section, where holders stay microseconds.
var errLockHeld = errs.Hint(syscall.EBUSY, "the ring's lock stayed taken for %v: is a process that holds it stopped?", lockSlice)

// trySend appends msg if it fits. With looks 0 it waits for the lock as
// waitForLock does, until ctx ends (nil: a slice at most), and when msg does not fit returns the seq that
// goes with what it saw, for wait; otherwise it watches the ring in the shim
// for up to looks looks and takes the lock only when msg fits and no one
// holds it (so a spinning call never sleeps on the lock, and needs no turn
// on r.turn), which saves a cgo crossing between the moment the ring is
// ready and the copy.
func (r *Ring) trySend(ctx context.Context, msg []byte, looks int) (sent bool, seen uint32, err error) {
	if looks == 0 {
		// No look at head and tail first, unless the last send found the
		// ring full: they share the lock's cache line, which the lock then
		// fetches a second time, for writing (see the shim's r_try). A look
		// is a hint (seq first, as tryReceive's); corrupt positions go on,
		// to fail under the lock. A pad marker at head (a sender went home)
		// is room the shim takes by skipping it.
		if h := &r.h; r.full.Load() {
			seen = h.seq.Load()
			head := h.head.Load()
			if used := h.tail.Load() - head; used <= r.capacity && r.capacity-used < recordSize(len(msg)) &&
				u32(h.data, int(head%r.capacity)).Load() != padMarker {
				return false, seen, nil
			}
		}
	}
	seen, e := ringSend(r.base, r.capacity, msg, firstLooks(looks))
	if e == syscall.EBUSY && looks == 0 {
		if e, err = r.waitForLock(ctx, func() (e syscall.Errno) {
			seen, e = ringSend(r.base, r.capacity, msg, 0)
			return e
		}); err != nil {
			return false, 0, err
		}
	}
	if e == 0 && r.full.Load() {
		r.full.Store(false)
	} else if e == syscall.EAGAIN && looks == 0 && !r.full.Load() {
		r.full.Store(true) // under the lock: full
	}
	sent, err = r.sendResult(e)
	return sent, seen, err
}

// firstLooks is the looks of a send's or receive's first crossing for
// looks: with 0, lockSoon, so that a call waits for a taken lock in the
// kernel, on its second crossing, only with its turn (r.turn), and most
// calls take no turn.
func firstLooks(looks int) int {
	if looks == 0 {
		return lockSoon
	}
	return looks
}

// lockSoon is the shim's looks for taking the lock if it is free or soon
// freed, never sleeping in the kernel (EBUSY if not).
const lockSoon = -1

// sendResult is what the shim's send result e means: sent, not now (EAGAIN,
// or EBADMSG on positions that look sane again), or an error.
func (r *Ring) sendResult(e syscall.Errno) (sent bool, err error) {
	switch e {
	case syscall.EAGAIN, syscall.EBUSY:
		return false, nil
	case syscall.EBADMSG:
		return false, r.corruptPositions()
	default:
		return e == 0, errno(e)
	}
}

// tryReceive takes a message into buf if there is one, taking the lock and
// returning seen as trySend does for looks.
func (r *Ring) tryReceive(ctx context.Context, buf []byte, looks int) (n int, received bool, seen uint32, err error) {
	h := &r.h
	if looks == 0 {
		// A hint, read without the lock: the mark of a record at the head
		// this Ring last saw, which is in the line the sender wrote, not in
		// the lock's, which the lock then fetches a second time, for writing
		// (see the shim's r_try); else head and tail, seq first, so that any
		// change after the look moves it from seen. Positions off the grid go
		// on, to fail under the lock.
		if !r.marked(atomic.LoadUint64(&r.next)) {
			if seen = h.seq.Load(); h.head.Load() == h.tail.Load() && h.head.Load()%recordAlign == 0 {
				return 0, false, seen, nil
			}
		}
	}
	n, seen, e := ringReceive(r.base, r.capacity, buf, firstLooks(looks), &r.next)
	if e == syscall.EBUSY && looks == 0 {
		if e, err = r.waitForLock(ctx, func() (e syscall.Errno) {
			n, seen, e = ringReceive(r.base, r.capacity, buf, 0, &r.next)
			return e
		}); err != nil {
			return 0, false, 0, err
		}
	}
	n, received, err = r.receiveResult(n, e, len(buf))
	return n, received, seen, err
}

// receiveResult is what the shim's receive result e means, with n the
// length it found, for a buffer of size bytes: received, not now (EAGAIN),
// or an error.
func (r *Ring) receiveResult(n int, e syscall.Errno, size int) (int, bool, error) {
	switch e {
	case 0:
		return n, true, nil
	case syscall.EAGAIN:
		return 0, false, nil
	case syscall.EMSGSIZE:
		return 0, false, errs.Hint(e, "message of %d bytes > buffer of %d; it stays in the ring", n, size)
	case syscall.EBADMSG:
		if err := r.corruptPositions(); err != nil {
			return 0, false, err
		}
		return 0, false, corrupt(n, r.h.head.Load())
	}
	return 0, false, e
}

// marked tells whether the record at position pos carries its mark: a
// hint that a receive may take it.
func (r *Ring) marked(pos uint64) bool {
	return pos%recordAlign == 0 && u32(r.h.data, int(pos%r.capacity)+4).Load() == mark(r.capacity, pos)
}

// errno turns a shim result into an error: nil for 0.
func errno(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

// sane tells whether head and tail are positions the layout allows (as the
// shim's r_sane): tail at most capacity past head, both multiples of 8.
func (r *Ring) sane(head, tail uint64) bool {
	return tail-head <= r.capacity && (head|tail)%recordAlign == 0
}

// corruptPositions is the error for head and tail that no sequence of sends
// and receives can leave, as they are now; nil if they look sane (then a
// record was corrupt).
func (r *Ring) corruptPositions() error {
	head, tail := r.h.head.Load(), r.h.tail.Load()
	if r.sane(head, tail) {
		return nil
	}
	return errs.Hint(syscall.EBADMSG, "corrupt ring: head %d, tail %d: want head <= tail <= head + capacity %d, both multiples of %d",
		head, tail, r.capacity, recordAlign)
}

// corrupt is the error for a record of length bytes at position pos that
// does not fit the ring.
func corrupt(length int, pos uint64) error {
	return errs.Hint(syscall.EBADMSG, "corrupt ring: a record of %d bytes at position %d", length, pos)
}

// record finds the message at head, in a ring that holds one: its offset in
// the data area, the padding skipped to reach it, and its length.
func (r *Ring) record(head, tail uint64) (off, skip uint64, size int, err error) {
	off = head % r.capacity
	length := u32(r.h.data, int(off)).Load()
	if length == padMarker {
		skip, off = r.capacity-off, 0
		length = u32(r.h.data, 0).Load()
	}
	if int64(length) > int64(r.MaxMessage()) || head+skip+recordSize(int(length)) > tail {
		return 0, 0, 0, corrupt(int(length), head)
	}
	return off, skip, int(length), nil
}

// Stats describe a ring at one instant.
type Stats struct {
	Capacity   int    // bytes of the data area
	MaxMessage int    // the largest message it takes
	Used       int    // bytes the queued records take, with the padding between them
	Messages   int    // messages queued
	Sleepers   int    // threads of any process asleep waiting on it
	Head, Tail uint64 // the read and write positions
}

// Stat walks the queued records under the ring's lock, which it waits for
// as TrySend does.
func (r *Ring) Stat() (Stats, error) {
	var s Stats
	err := r.call("ring stat", func() error {
		return r.locked(nil, func() (bool, error) {
			h := &r.h
			head, tail := h.head.Load(), h.tail.Load()
			if err := r.corruptPositions(); err != nil {
				return false, err
			}
			s = Stats{Capacity: int(r.capacity), MaxMessage: r.MaxMessage(), Used: int(tail - head),
				Sleepers: int(h.sleepers.Load()), Head: head, Tail: tail}
			for pos := head; pos != tail; s.Messages++ {
				_, skip, size, err := r.record(pos, tail)
				if err != nil {
					return false, err
				}
				if pos == head {
					// A pad at head holds no record, and the next send
					// that needs its room skips it (see the send rule).
					s.Used -= int(skip)
				}
				pos += skip + recordSize(size)
			}
			return false, nil
		})
	})
	if err != nil {
		return Stats{}, err // not the half a walk of corrupt records filled in
	}
	return s, nil
}

// Close unmaps the ring after waking this process's goroutines that wait on
// it, which return errors matching os.ErrClosed; other processes go on. The
// ring itself stays (until Unlink for a named one; an anonymous one while
// some process maps it or holds its descriptor). Close is safe to call
// twice.
func (r *Ring) Close() error {
	if r == nil || r.mu == nil {
		return nil
	}
	r.waits.mu.Lock() // no new sleeper after this
	if r.state.Or(closedBit)&closedBit != 0 {
		r.waits.mu.Unlock()
		return nil
	}
	close(r.done)
	r.waits.mu.Unlock()
	if r.locked(nil, func() (bool, error) { return true, nil }) != nil { // moves seq: the sleeper wakes
		futexWake(r.h.seq) // the lock stays taken: the sleeper looks at least once a second
	}
	// Every call counts in state until it returns, the sleeper too.
	if r.state.Load() != closedBit {
		<-r.drained
	}
	if r.guard.faulted() {
		// The mapping stays, with its slot (see guard.release); only
		// the descriptor of an anonymous ring goes now.
		if r.file != nil {
			return r.file.Close()
		}
		return nil
	}
	r.guard.release()
	return r.release()
}
