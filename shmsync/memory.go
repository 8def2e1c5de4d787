package shmsync

import (
	"bytes"
	"os"
	"strconv"

	"github.com/goipc/ipc/internal/errs"
)

// sharedWritable checks, in /proc/self/maps, that the size bytes at p lie in
// writable shared mappings, as a pthread object in shared memory needs: C
// writes a read-only mapping's bytes only to die of SIGSEGV, and a private
// mapping (Go memory among them) is one that no other process sees. It is a
// help, not a rule: without procfs, or for an address it does not list, it
// says nothing.
func sharedWritable(p uintptr, size int) error {
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return nil
	}
	for _, addr := range []uintptr{p, p + uintptr(size) - 1} { // an object may straddle two mappings
		perms, ok := permsAt(maps, addr)
		switch {
		case !ok:
		case perms[1] != 'w':
			return errs.Invalid("the memory at %#x is mapped %s, not writable: a mutex or condition variable is written by every call, so map it read-write", addr, perms)
		case perms[3] != 's':
			return errs.Invalid("the memory at %#x is private (mapped %s), such as Go memory, which other processes never see: use shared memory (mmap.Shared, a shared mapping of a file, POSIX or System V shared memory)", addr, perms)
		}
	}
	return nil
}

// permsAt returns the permissions ("rw-s") of the mapping that holds addr in
// maps, the text of /proc/self/maps.
func permsAt(maps []byte, addr uintptr) (string, bool) {
	for len(maps) > 0 {
		line := maps
		if i := bytes.IndexByte(maps, '\n'); i >= 0 {
			line, maps = maps[:i], maps[i+1:]
		} else {
			maps = nil
		}
		// start-end perms offset dev inode path
		dash, sp := bytes.IndexByte(line, '-'), bytes.IndexByte(line, ' ')
		if dash < 0 || sp < dash || len(line) < sp+5 {
			continue
		}
		lo, err1 := strconv.ParseUint(string(line[:dash]), 16, 64)
		hi, err2 := strconv.ParseUint(string(line[dash+1:sp]), 16, 64)
		if err1 == nil && err2 == nil && uint64(addr) >= lo && uint64(addr) < hi {
			return string(line[sp+1 : sp+5]), true
		}
	}
	return "", false
}
