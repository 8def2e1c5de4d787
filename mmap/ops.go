package mmap

import (
	"errors"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/goipc/ipc/internal/errs"
)

// SyncMode says whether SyncRange waits for the write-back.
type SyncMode int

const (
	// SyncWait writes the dirty pages back to the file and waits (MS_SYNC),
	// as fsync does for write.
	SyncWait SyncMode = unix.MS_SYNC
	// SyncAsync only schedules the write-back (MS_ASYNC); Linux writes dirty
	// pages back on its own anyway, so this returns at once.
	SyncAsync SyncMode = unix.MS_ASYNC
)

// Sync writes the whole mapping back to its file and waits (msync MS_SYNC).
// Other processes see writes without it: it is about the disk. A Private
// mapping has nothing to write back.
func (m *Mapping) Sync() error {
	if err := m.rlock("msync"); err != nil {
		return err
	}
	defer m.mu.RUnlock()
	return m.syncLocked(0, int64(len(m.data)), SyncWait)
}

// SyncRange writes length bytes from off back to the file, waiting or not.
func (m *Mapping) SyncRange(off, length int64, how SyncMode) error {
	if err := m.rlock("msync"); err != nil {
		return err
	}
	defer m.mu.RUnlock()
	if m.base == nil { // closed comes first, whatever the arguments
		return errs.Closed("msync", m.name)
	}
	if how != SyncWait && how != SyncAsync {
		return errs.Path("msync", m.name, errs.Invalid("unknown SyncMode %d", how))
	}
	return m.syncLocked(off, length, how)
}

func (m *Mapping) syncLocked(off, length int64, how SyncMode) error {
	pages, err := m.pages("msync", off, length)
	if err != nil {
		return err
	}
	return errs.Path("msync", m.name, unix.Msync(pages, int(how)))
}

// pages returns the part of the mapping that holds [off, off+length) of the
// caller's bytes, widened down to a page boundary as msync and madvise want;
// m.mu is held.
func (m *Mapping) pages(op string, off, length int64) ([]byte, error) {
	if m.base == nil {
		return nil, errs.Closed(op, m.name)
	}
	if off < 0 || length <= 0 || off > int64(len(m.data)) || length > int64(len(m.data))-off {
		return nil, errs.Path(op, m.name, errs.Invalid("offset %d, length %d: not a range inside the %d-byte mapping", off, length, len(m.data)))
	}
	start := (m.delta + off) &^ (pageSize - 1)
	return m.base[start : m.delta+off+length], nil
}

// Advice is a hint about how the mapping will be used (madvise).
type Advice int

const (
	Normal     Advice = unix.MADV_NORMAL     // no special treatment
	Sequential Advice = unix.MADV_SEQUENTIAL // read ahead aggressively, drop pages soon after
	Random     Advice = unix.MADV_RANDOM     // no read-ahead
	WillNeed   Advice = unix.MADV_WILLNEED   // start reading the pages in now
	// DontNeed drops the pages: a shared mapping reads them back from the file,
	// but a Private mapping loses its copy-on-write changes, and Shared memory
	// keeps its content (it lives in the memfd).
	DontNeed Advice = unix.MADV_DONTNEED
)

// Advise tells the kernel how the whole mapping will be used.
func (m *Mapping) Advise(a Advice) error {
	if err := m.rlock("madvise"); err != nil {
		return err
	}
	defer m.mu.RUnlock()
	if m.base == nil {
		return errs.Closed("madvise", m.name)
	}
	switch a {
	case Normal, Sequential, Random, WillNeed, DontNeed:
	default:
		return errs.Path("madvise", m.name, errs.Invalid("unknown Advice %d", a))
	}
	pages, err := m.pages("madvise", 0, int64(len(m.data)))
	if err != nil {
		return err
	}
	return errs.Path("madvise", m.name, unix.Madvise(pages, int(a)))
}

// Lock keeps the mapping's pages in RAM (mlock), reading them in first. An
// unprivileged process may lock only RLIMIT_MEMLOCK bytes.
func (m *Mapping) Lock() error {
	if err := m.rlock("mlock"); err != nil {
		return err
	}
	defer m.mu.RUnlock()
	pages, err := m.pages("mlock", 0, int64(len(m.data)))
	if err != nil {
		return err
	}
	err = unix.Mlock(pages)
	if errors.Is(err, unix.ENOMEM) || errors.Is(err, unix.EPERM) {
		var lim unix.Rlimit
		if unix.Getrlimit(unix.RLIMIT_MEMLOCK, &lim) == nil {
			err = errs.Hint(err, "locking %d bytes; RLIMIT_MEMLOCK is %d", len(pages), lim.Cur)
		}
	}
	return errs.Path("mlock", m.name, err)
}

// Unlock lets the kernel page the mapping out again (munlock).
func (m *Mapping) Unlock() error {
	if err := m.rlock("munlock"); err != nil {
		return err
	}
	defer m.mu.RUnlock()
	pages, err := m.pages("munlock", 0, int64(len(m.data)))
	if err != nil {
		return err
	}
	return errs.Path("munlock", m.name, unix.Munlock(pages))
}

// AtomicInt64 returns the 8 bytes at off as an atomic integer, for counters
// and flags that processes sharing the mapping update with sync/atomic (the
// same instructions C's atomics use). off must be a multiple of 8. The pointer
// is valid until Close or Remap.
func (m *Mapping) AtomicInt64(off int64) (*atomic.Int64, error) {
	p, err := m.word(off, 8)
	return (*atomic.Int64)(p), err
}

// AtomicUint32 returns the 4 bytes at off, a multiple of 4, as an atomic
// integer; see AtomicInt64.
func (m *Mapping) AtomicUint32(off int64) (*atomic.Uint32, error) {
	p, err := m.word(off, 4)
	return (*atomic.Uint32)(p), err
}

// word returns the address of size aligned bytes at off.
func (m *Mapping) word(off, size int64) (unsafe.Pointer, error) {
	const op = "atomic"
	if err := m.rlock(op); err != nil {
		return nil, err
	}
	defer m.mu.RUnlock()
	if _, err := m.pages(op, off, size); err != nil {
		return nil, err
	}
	p := unsafe.Pointer(&m.data[off])
	if uintptr(p)%uintptr(size) != 0 {
		return nil, errs.Path(op, m.name, errs.Invalid("offset %d is not %d-byte aligned", off, size))
	}
	return p, nil
}
