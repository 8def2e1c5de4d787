package ring

import (
	"sync/atomic"
	"unsafe"

	"github.com/goipc/ipc/shmsync"
)

// The layout of version 2, as the package documentation's table gives it.
const (
	Magic   uint32 = 0x676e6972 // "ring" in memory order on a little-endian machine
	Version uint32 = 2

	offMagic      = 0
	offVersion    = 4
	offHeaderSize = 8
	offLockSize   = 12
	offCapacity   = 16
	offHead       = 64
	offTail       = 72
	offSeq        = 80
	offSleepers   = 84
	offLock       = 88
	headerSize    = 256

	recordAlign  = 8
	recordHeader = 8          // a record's length word and mark word
	padMarker    = 0xffffffff // a length word that sends the reader to the start
	// sleepLimit is the longest a sleeper may wait on seq before it looks
	// again: a sender killed between changing seq and waking the sleepers
	// delays them at most this long.
	sleepLimitMs = 1000
)

// MinCapacity is the smallest data area a ring may have.
const MinCapacity = 64

// DefaultCapacity is the data area of a ring created without a Capacity.
const DefaultCapacity = 64 << 10

// header gives typed access to a ring's header words.
type header struct {
	mem                []byte
	magic, version     *atomic.Uint32
	headerSize, lockSz *atomic.Uint32
	capacity           *atomic.Uint64
	head, tail         *atomic.Uint64
	seq, sleepers      *atomic.Uint32
	data               []byte
}

func u32(mem []byte, off int) *atomic.Uint32 { return (*atomic.Uint32)(unsafe.Pointer(&mem[off])) }
func u64(mem []byte, off int) *atomic.Uint64 { return (*atomic.Uint64)(unsafe.Pointer(&mem[off])) }

func headerOf(mem []byte) header {
	return header{
		mem:        mem,
		magic:      u32(mem, offMagic),
		version:    u32(mem, offVersion),
		headerSize: u32(mem, offHeaderSize),
		lockSz:     u32(mem, offLockSize),
		capacity:   u64(mem, offCapacity),
		head:       u64(mem, offHead),
		tail:       u64(mem, offTail),
		seq:        u32(mem, offSeq),
		sleepers:   u32(mem, offSleepers),
	}
}

// recordSize is the bytes a message of n bytes takes in the data area: its
// length and mark words and the payload, rounded up to recordAlign.
func recordSize(n int) uint64 {
	return uint64(recordHeader+n+recordAlign-1) &^ (recordAlign - 1)
}

// mark is the mark word of a record (or pad marker) at position pos: its
// lap, plus one, which neither zeroed memory nor a record of an earlier lap
// at the same offset carries.
func mark(capacity, pos uint64) uint32 { return uint32(pos/capacity + 1) }

// maxMessage is the largest message a ring of capacity bytes takes: one
// whose record fits in half the data area always fits in an empty ring,
// wherever its tail stands (the padding at the end is less than a record).
func maxMessage(capacity uint64) int { return int(capacity/2&^(recordAlign-1)) - recordHeader }

// lockSize is sizeof(pthread_mutex_t), which the header records so that a
// peer with another C library refuses the ring instead of corrupting it.
const lockSize = shmsync.MutexSize

// The lock and the positions share one cache line, with the lock last: a
// C library whose lock is larger spills into the reserved bytes, never over
// the data.
var _ [headerSize - offLock - lockSize]struct{}
