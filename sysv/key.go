package sysv

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/goipc/ipc/internal/errs"
)

// Key names a System V object machine-wide, as key_t does in C. Processes that
// agree on a key reach the same queue, segment or semaphore set.
type Key int32

// IPCPrivate (IPC_PRIVATE) always creates a new object that no other process
// can find by key; share its id instead, or inherit it.
const IPCPrivate Key = 0

// String formats the key as ipcs(1) prints it: 0x followed by 8 hex digits.
func (k Key) String() string { return fmt.Sprintf("0x%08x", uint32(k)) }

// Ftok derives a key from an existing file and a project id, as ftok(3) does.
// proj must not be 0 (only its low 8 bits count, and ftok's manual requires
// them to be nonzero). The key changes if the file is deleted and recreated.
func Ftok(path string, proj byte) (Key, error) {
	if path == "" {
		return 0, errs.Path("ftok", path, errs.Invalid("empty path"))
	}
	if strings.IndexByte(path, 0) >= 0 { // C would stop at it: another file's key
		return 0, errs.Path("ftok", path, errs.Invalid("a path may not hold a NUL byte"))
	}
	if proj == 0 {
		return 0, errs.Path("ftok", path, errs.Invalid("project id must not be 0"))
	}
	k, err := ftok(path, proj)
	if err != nil {
		// Not C's -1: key 0xffffffff is a valid key, which a caller that
		// missed the error would create or open.
		return 0, errs.Path("ftok", path, err)
	}
	return k, nil
}

// ParseKey reads a key as the ipc command line writes it: decimal ("1"),
// hexadecimal ("0x7c0012ab", as ipcs prints it), or PATH:PROJ, the ftok key
// of an existing file PATH with project id PROJ, a number from 1 to 255 or one
// character ("/tmp:A"). A PROJ of one digit is a number. "0" is IPCPrivate,
// which the Open functions take only with Create.
func ParseKey(s string) (Key, error) {
	if path, proj, ok := cutLast(s, ":"); ok {
		p, err := parseProj(proj)
		if err != nil {
			return 0, fmt.Errorf("invalid key %q: %w", s, err)
		}
		if path == "" {
			return 0, fmt.Errorf("invalid key %q: %w", s, errs.Invalid("empty path before the colon"))
		}
		return Ftok(path, p)
	}
	var v int64
	var err error
	if hex, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
		var u uint64
		u, err = strconv.ParseUint(hex, 16, 32)
		v = int64(u)
	} else {
		v, err = strconv.ParseInt(s, 10, 64)
		if err == nil && (v < -1<<31 || v > 1<<32-1) {
			err = strconv.ErrRange
		}
	}
	if err != nil {
		return 0, fmt.Errorf("invalid key %q: %w", s, errs.Invalid("want a decimal or 0x hex number of 32 bits, or PATH:PROJ"))
	}
	return Key(int32(uint32(v))), nil
}

func parseProj(s string) (byte, error) {
	if len(s) == 1 && (s[0] < '0' || s[0] > '9') {
		return s[0], nil
	}
	n, err := strconv.ParseUint(s, 10, 8)
	if err != nil || n == 0 {
		return 0, errs.Invalid("project id %q is not one character or a number from 1 to 255", s)
	}
	return byte(n), nil
}

func cutLast(s, sep string) (before, after string, ok bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return s, "", false
}
