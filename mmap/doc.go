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
package mmap
