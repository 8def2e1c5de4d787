package unixfd

import (
	"errors"
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"

	"github.com/goipc/ipc/internal/errs"
)

// ErrTruncated is matched (errors.Is) by the error of a Receive whose
// control data or datagram did not fit: the sender passed more descriptors
// than the receiver made room for, or a datagram longer than the buffer.
var ErrTruncated = errors.New("truncated")

// Credentials are the sender's process, user and group ids as the kernel
// vouches for them (SCM_CREDENTIALS).
type Credentials struct {
	PID, UID, GID int
}

// Send writes data and the descriptors of files to c in one message
// (sendmsg with SCM_RIGHTS; on a stream socket, data longer than the
// socket's buffer takes more writes, the descriptors going with the first).
// The receiver gets its own descriptors of the same open files; the caller
// still owns files and may close them at once.
// Descriptors need at least one byte of data to travel with: empty data with
// files is sent as one zero byte.
func Send(c *net.UnixConn, data []byte, files ...*os.File) error {
	if c == nil {
		return errs.NotMade("sendmsg", "net.UnixConn", "a dial, an accept or net.FileConn")
	}
	if len(files) > scmMaxFD {
		return errs.Syscall("sendmsg", errs.Invalid("%d descriptors > the kernel's %d per message (SCM_MAX_FD)", len(files), scmMaxFD))
	}
	for i, f := range files {
		if f == nil {
			return errs.Syscall("sendmsg", errs.Invalid("file %d is nil", i))
		}
	}
	if len(files) == 0 {
		return sendmsg(c, data, nil)
	}
	if len(data) == 0 {
		data = []byte{0}
	}
	fds := make([]int, len(files))
	return withFds(files, fds, func() error { return sendmsg(c, data, unix.UnixRights(fds...)) })
}

// withFds fills fds with the descriptors of files and runs fn while they stay
// open. It reaches them through SyscallConn, not Fd: Fd puts a file that Go
// made non-blocking (a pipe, a socket's file) into blocking mode for good, so
// that its reads and writes would hold a thread and ignore deadlines and
// Close, here and in the receiver, which shares the open file. A closed file
// fails the call before anything is sent.
func withFds(files []*os.File, fds []int, fn func() error) error {
	f := files[0]
	raw, err := f.SyscallConn()
	if err != nil {
		return errs.Path("sendmsg", f.Name(), err)
	}
	var ferr error
	if err := raw.Control(func(fd uintptr) {
		fds[len(fds)-len(files)] = int(fd)
		if len(files) == 1 {
			ferr = fn()
		} else {
			ferr = withFds(files[1:], fds, fn)
		}
	}); err != nil {
		return errs.Closed("sendmsg", f.Name()) // Control fails only for a closed file
	}
	return ferr
}

// sendmsg writes data with the control data oob to c.
func sendmsg(c *net.UnixConn, data, oob []byte) error {
	n, _, err := c.WriteMsgUnix(data, oob, nil)
	if err == nil && n < len(data) {
		// A stream socket's sendmsg takes what fits in its buffer (the
		// descriptors go with the first byte); Write sends the rest.
		_, err = c.Write(data[n:])
	}
	return connErr(err)
}

// connErr makes the error of a closed connection match os.ErrClosed, as
// the package documentation says, besides net.ErrClosed, as net's own do.
func connErr(err error) error {
	if errors.Is(err, net.ErrClosed) {
		return errs.AlsoClosed(err)
	}
	return err
}

// scmMaxFD is the kernel's SCM_MAX_FD: descriptors in one message.
const scmMaxFD = 253

// smallControl is the room for control data that Receive keeps on its
// stack: enough for the credentials and 16 descriptors (16-byte headers,
// 16 + 4*16 bytes for the descriptors, 16 + 16 for the credentials).
const smallControl = 112

// Message is what Receive read: N bytes of data, the files passed with them
// (the caller owns and closes them), and the sender's credentials when
// PassCredentials asked for them.
type Message struct {
	N           int
	Files       []*os.File
	Credentials *Credentials
}

// PassCredentials asks the kernel to attach the sender's credentials to
// every message c receives from now on (SO_PASSCRED). It counts from when
// the message was sent: one the peer sent before, still queued, arrives with
// PID 0 and the overflow uid and gid (65534, "nobody"), so turn it on before
// the peer may send, such as before exchanging a first message.
func PassCredentials(c *net.UnixConn, on bool) error {
	if c == nil {
		return errs.NotMade("setsockopt SO_PASSCRED", "net.UnixConn", "a dial, an accept or net.FileConn")
	}
	raw, err := c.SyscallConn()
	if err != nil {
		return connErr(err)
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_PASSCRED, boolInt(on))
	}); err != nil {
		return connErr(err)
	}
	return errs.Syscall("setsockopt SO_PASSCRED", serr)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Receive reads one message into buf, with room for up to maxFiles passed
// descriptors (recvmsg; the descriptors arrive close-on-exec). It waits on
// the runtime poller, so it holds no thread, and honours c's deadlines.
// An empty buf fails with an error matching syscall.EINVAL: descriptors
// travel with at least one byte of data.
//
// When the sender passed more than maxFiles descriptors, the kernel drops
// the rest (and closes them): Receive then closes those that did arrive and
// fails with an error matching ErrTruncated, which says so; so it does when
// the kernel could not install them all, as at the open-file limit
// (RLIMIT_NOFILE), and then says that. A datagram
// longer than buf fails the same way (its tail is lost, as recvmsg loses it).
func Receive(c *net.UnixConn, buf []byte, maxFiles int) (Message, error) {
	if c == nil {
		return Message{}, errs.NotMade("recvmsg", "net.UnixConn", "a dial, an accept or net.FileConn")
	}
	if maxFiles < 0 || maxFiles > scmMaxFD {
		return Message{}, errs.Syscall("recvmsg", errs.Invalid("room for %d descriptors: want 0 to 253", maxFiles))
	}
	if len(buf) == 0 {
		// recvmsg with control data but no buffer reads one byte into one
		// of its own (package syscall does), which a Message could only
		// report with an N past buf, and lose.
		return Message{}, errs.Syscall("recvmsg", errs.Invalid("an empty buffer: data comes with every message, descriptors with at least one byte (Send sends a zero byte with empty data), so give Receive room for one"))
	}
	// Room for the credentials, which come whenever SO_PASSCRED is on, and
	// the descriptors; the space is rounded up, so more than maxFiles may
	// still fit, and are refused below.
	need := unix.CmsgSpace(4*maxFiles) + unix.CmsgSpace(unix.SizeofUcred)
	var small [smallControl]byte // on the stack: a Receive allocates only its files
	oob := small[:min(need, len(small))]
	if need > len(small) {
		oob = make([]byte, need)
	}
	n, oobn, flags, _, err := c.ReadMsgUnix(buf, oob)
	if err != nil {
		return Message{}, connErr(err)
	}
	msg := Message{N: n}
	perr := parseControl(oob[:oobn], &msg)
	switch {
	case perr != nil:
	case flags&unix.MSG_CTRUNC != 0 && len(msg.Files) < maxFiles:
		// There was room for maxFiles: the kernel failed to install the
		// rest (and closed them), as it does at the open-file limit.
		perr = errs.Hint(ErrTruncated, "control data: %d descriptors arrived, fewer than the room for %d: the kernel could not install the rest (%s); those that arrived are closed", len(msg.Files), maxFiles, fileLimit())
	case flags&unix.MSG_CTRUNC != 0 || len(msg.Files) > maxFiles:
		perr = errs.Hint(ErrTruncated, "control data: the sender passed more than the %d descriptors there was room for; those that arrived are closed", maxFiles)
	case flags&unix.MSG_TRUNC != 0:
		perr = errs.Hint(ErrTruncated, "a datagram longer than the %d-byte buffer", len(buf))
	}
	if perr != nil {
		for _, f := range msg.Files {
			f.Close()
		}
		return Message{N: n}, errs.Syscall("recvmsg", perr)
	}
	return msg, nil
}

// fileLimit names the process's open-file limit, the usual reason the
// kernel cannot install a passed descriptor.
func fileLimit() string {
	var lim unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &lim) != nil {
		return "is the process at its open-file limit?"
	}
	return fmt.Sprintf("is the process at its open-file limit, RLIMIT_NOFILE %d?", lim.Cur)
}

// parseControl takes the descriptors and credentials out of control data.
// It reads the messages one at a time (ParseOneSocketControlMessage) and
// keeps no slice of oob, so that oob can stay on Receive's stack.
func parseControl(oob []byte, msg *Message) error {
	for len(oob) >= unix.CmsgLen(0) { // as ParseSocketControlMessage: a shorter tail holds no message
		hdr, data, rest, err := unix.ParseOneSocketControlMessage(oob)
		if err != nil {
			return err
		}
		oob = rest
		if hdr.Level != unix.SOL_SOCKET {
			continue
		}
		cm := unix.SocketControlMessage{Header: hdr, Data: data}
		switch hdr.Type {
		case unix.SCM_RIGHTS:
			fds, err := unix.ParseUnixRights(&cm)
			if err != nil {
				return err
			}
			for _, fd := range fds {
				msg.Files = append(msg.Files, os.NewFile(uintptr(fd), "passed"))
			}
		case unix.SCM_CREDENTIALS:
			uc, err := unix.ParseUnixCredentials(&cm)
			if err != nil {
				return err
			}
			msg.Credentials = &Credentials{PID: int(uc.Pid), UID: int(uc.Uid), GID: int(uc.Gid)}
		}
	}
	return nil
}
