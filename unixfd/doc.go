// Package unixfd shares open files between processes without names:
// descriptors passed over Unix sockets with the sender's credentials,
// sealed memfds, and eventfd doorbells.
//
// # What it maps to
//
//   - Send and Receive: sendmsg and recvmsg with SCM_RIGHTS control
//     messages, through net.UnixConn (so Receive waits on the runtime poller
//     and honours the connection's deadlines; descriptors arrive
//     close-on-exec). PassCredentials: SO_PASSCRED, after which every message
//     carries the sender's pid, uid and gid as the kernel vouches for them
//     (SCM_CREDENTIALS); a message sent before SO_PASSCRED was on carries
//     PID 0 and the overflow ids (65534) instead.
//   - NewMemfd: memfd_create with MFD_ALLOW_SEALING. AddSeals and SealsOf:
//     fcntl F_ADD_SEALS and F_GET_SEALS. MapSealed: F_GET_SEALS, then a
//     read-only mmap (package mmap).
//   - NewEventFD: eventfd with EFD_NONBLOCK (and EFD_SEMAPHORE); Add and Wait
//     write and read its 8-byte counter through the runtime poller.
//
// # Lifetimes
//
// Files sent stay the sender's: close them when done; the receiver gets
// descriptors of its own, which it owns and closes (Message.Files). A
// Receive that fails closes whatever descriptors came with the message.
//
// # Truncated control data
//
// The receiver says how many descriptors it takes (maxFiles). When the
// sender passed more, the kernel closes those that did not fit and flags the
// message (MSG_CTRUNC); Receive then closes the rest too and fails with an
// error matching ErrTruncated that says so, rather than hand over part of
// what was sent. A datagram longer than the buffer fails the same way.
//
// # Sealed memory and SIGBUS
//
// A process that maps a shared file dies of SIGBUS when another process
// truncates the file under the mapping. A memfd sealed with SealShrink
// cannot be truncated, so a mapping of it can never fault that way:
// MapSealed checks the seals before it maps and refuses (syscall.EPERM) a
// memfd without them. A producer fills a memfd, seals it with SealAll (no
// change of size or contents, no more seals) and passes it; the receiver
// maps what can no longer change. SealWrite cannot be added while a writable
// shared mapping of the memfd exists (syscall.EBUSY): unmap first.
//
// # Threads
//
// Nothing here holds a thread while it waits: Receive, Wait and Add park
// the goroutine on the runtime poller, and Close (of the connection or the
// EventFD) wakes them with an error matching os.ErrClosed (a connection's
// matches net.ErrClosed too, as net's own calls' errors do). An EventFD's
// descriptor goes to C as it is (eventfd_read, eventfd_write, poll):
// EventFD.File in exec.Cmd.ExtraFiles or Send. It is non-blocking, in every
// process that shares it: C's eventfd_read of a zero counter fails with
// EAGAIN, so C polls for POLLIN first (csrc/bench_peer.c does).
package unixfd
