package mpi

import "unsafe"

// Calls that may take long (large messages, waits) end with
// sched.AfterLongCall, so that the Go scheduler does not hand the rank's P
// between threads while it loops on MPI (see internal/sched and "Performance"
// in doc.go).

// longCall is the size of message from which a call takes long enough for
// the cost of reading the clock (tens of ns) not to matter.
const longCall = 64 << 10

// long reports whether a call on buf takes long enough to call
// sched.AfterLongCall.
func long[T Type](buf []T) bool { return uintptr(len(buf))*unsafe.Sizeof(*new(T)) >= longCall }
