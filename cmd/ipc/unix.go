package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/goipc/ipc/internal/cli"
	"github.com/goipc/ipc/internal/errs"
	"github.com/goipc/ipc/unixfd"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

// maxSocketPath is the longest path a Unix socket address holds: sun_path less
// its terminating NUL.
const maxSocketPath = len(unix.RawSockaddrUnix{}.Path) - 1

func init() {
	group := &cobra.Command{
		Use:   "unix",
		Short: "Echo server and client over a Unix domain socket, stream or datagram",
		Long: `Like the tcp group, over a socket named by a filesystem PATH (at most ` + fmt.Sprint(maxSocketPath) + `
bytes; a leading @ names an abstract socket, which leaves no file). With
--datagram each message is one datagram and the server sends each one back to
its sender; the client binds an abstract address of its own to get the echo.
A stream server removes its socket file when it exits normally; rm removes one
left by a killed server.`,
	}
	var datagram bool
	var sendWait, recvWait *waitFlags
	var in *payload
	var passFile string
	var count int
	var asJSON bool
	mode := modeValue(0o600)

	send := &cobra.Command{
		Use:   "send PATH MSG",
		Short: "Send MSG to the echo server at PATH and print the echo",
		RunE: func(cmd *cobra.Command, a []string) error {
			a, msg, err := in.split(a)
			if err != nil {
				return err
			}
			path := a[0]
			if err := checkSocketPath("connect", path); err != nil {
				return err
			}
			if err := clientWait(sendWait); err != nil {
				return err
			}
			var echo []byte
			if passFile != "" {
				if datagram {
					return cli.Usagef("--fd passes a descriptor over a stream socket, not with --datagram")
				}
				echo, err = passFileRequest(echoEnd{network: "unix", addr: path, wait: sendWait}, msg, passFile)
			} else if datagram {
				echo, err = datagramRequest(echoEnd{network: "unixgram", addr: path, wait: sendWait}, msg)
			} else {
				echo, err = echoRequest(echoEnd{network: "unix", addr: path, wait: sendWait}, msg)
			}
			if err != nil {
				return err
			}
			return writePayload(cmd.OutOrStdout(), echo, false, nil)
		},
	}
	recv := &cobra.Command{
		Use:   "recv PATH",
		Short: "Serve --count connections or datagrams (0: forever) as an echo server at PATH",
		Args:  cli.Args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			path := a[0]
			if err := checkCount(count); err != nil {
				return err
			}
			if err := checkStdout(); err != nil {
				return err
			}
			if err := checkSocketPath("listen", path); err != nil {
				return err
			}
			if err := refuseNonSocket("listen", path); err != nil {
				return err
			}
			e := echoEnd{"unix", path, recvWait, count, asJSON}
			var sock io.Closer
			var serve func() error
			if datagram {
				e.network = "unixgram"
				conn, err := net.ListenUnixgram(e.network, &net.UnixAddr{Name: path, Net: e.network})
				if err != nil {
					return inUseHint(netErr("bind", path, err), "a file is there; if it is a stale socket, ipc unix rm removes it")
				}
				sock, serve = conn, func() error { return serveDatagrams(conn, e, fs.FileMode(mode), cmd.OutOrStdout()) }
			} else {
				ln, err := net.Listen("unix", path)
				if err != nil {
					return inUseHint(netErr("listen", path, err), "a file is there; if it is a stale socket, ipc unix rm removes it")
				}
				sock, serve = ln, func() error {
					if err := chmodSocket(path, fs.FileMode(mode)); err != nil {
						ln.Close()
						return err
					}
					return serveEcho(filesListener{ln.(*net.UnixListener), cmd.OutOrStdout(), asJSON}, e, cmd.OutOrStdout())
				}
			}
			// Ctrl-C or a kill closes the socket, which removes its file.
			return closeOnInterrupt(sock, "listen", path, serve)
		},
	}
	in = payloadFlag(send, 1, 1)
	send.Flags().StringVar(&passFile, "fd", "", "open FILE and pass its descriptor with MSG (SCM_RIGHTS); the server prints the file it received")
	recv.Flags().IntVar(&count, "count", 1, "connections or datagrams to serve before exiting (0: never exit)")
	jsonFlag(recv, &asJSON)
	recv.Flags().Var(&mode, "mode", "permission bits of the socket file, whatever the umask (connecting needs write)")
	for _, c := range []*cobra.Command{send, recv} {
		c.Flags().BoolVar(&datagram, "datagram", false, "use datagrams (SOCK_DGRAM) instead of a stream")
	}
	sendWait = addClientWait(send, "give up waiting for the server and its echo after this long")
	recvWait = addWait(recv, "give up waiting for a connection or datagram and its data after this long", "")
	group.AddCommand(send, recv)
	namedVerbs(group, fs.ModeSocket, "")
	rootCmd.AddCommand(group)

	addDemo("unix", func(d *demo) demoPlan {
		path := d.tempPath(".sock")
		msg := "hello over a Unix socket"
		return demoPlan{
			message:  msg,
			receiver: []string{"unix", "recv", path},
			sender:   func(int) []string { return []string{"unix", "send", path, msg} },
			ready:    true,
			received: echoReceived,
		}
	})
}

// passFileRequest is echoRequest passing the descriptor of the file at path
// with msg (package unixfd).
func passFileRequest(e echoEnd, msg []byte, path string) ([]byte, error) {
	f, err := openToPass(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	end := e.wait.deadline()
	conn, err := (&net.Dialer{Deadline: end}).Dial(e.network, e.addr)
	if err != nil {
		return nil, netErr("connect", e.addr, err)
	}
	defer conn.Close()
	uc := conn.(*net.UnixConn)
	uc.SetDeadline(end)
	if err := unixfd.Send(uc, msg, f); err != nil {
		return nil, netErr("send", e.addr, err)
	}
	if err := uc.CloseWrite(); err != nil {
		return nil, netErr("shutdown", e.addr, err)
	}
	echo, err := io.ReadAll(uc)
	return echo, netErr("recv", e.addr, err)
}

// openToPass opens the file at path for reading as os.Open would, but
// without waiting: open(2) of a FIFO waits for a writer, forever and past
// --timeout. openReading opens it O_NONBLOCK, which a FIFO opens at once
// with; the flag is then cleared, so that the receiver gets an ordinary
// descriptor.
func openToPass(path string) (*os.File, error) {
	f, err := openReading("open", path)
	if err != nil {
		return nil, err
	}
	if err := clearNonblock(f); err != nil {
		f.Close()
		return nil, errs.Path("fcntl", path, err)
	}
	return f, nil
}

// filesListener is a stream listener whose connections take the
// descriptors that clients pass (ipc unix send --fd) and, as they close,
// print one line per file received: "file PATH", or {"file": PATH} with
// --json.
type filesListener struct {
	*net.UnixListener
	out    io.Writer
	asJSON bool
}

func (l filesListener) Accept() (net.Conn, error) {
	c, err := l.UnixListener.Accept()
	if err != nil {
		return nil, err
	}
	return &filesConn{UnixConn: c.(*net.UnixConn), l: l}, nil
}

type filesConn struct {
	*net.UnixConn
	l     filesListener
	files []*os.File
}

// Read reads as recvmsg, keeping the descriptors that come along. An
// empty p reads nothing, as io.Reader has it (unixfd.Receive refuses one:
// descriptors come with at least a byte).
func (c *filesConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	msg, err := unixfd.Receive(c.UnixConn, p, 8)
	c.files = append(c.files, msg.Files...)
	if errors.Is(err, io.EOF) || err == nil && msg.N == 0 {
		err = io.EOF // as Read says it, unwrapped
	}
	return msg.N, err
}

func (c *filesConn) Close() error {
	for _, f := range c.files {
		target, _ := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", f.Fd()))
		if c.l.asJSON {
			fmt.Fprintf(c.l.out, "{\"file\":%q}\n", target)
		} else {
			fmt.Fprintf(c.l.out, "file %s\n", target)
		}
		f.Close()
	}
	return c.UnixConn.Close()
}

// checkSocketPath rejects, before any system call, a path the kernel cannot
// hold in sun_path.
func checkSocketPath(op, path string) error {
	switch {
	case path == "":
		return errs.Path(op, path, errs.Invalid("empty socket path"))
	case len(path) > maxSocketPath:
		return errs.Path(op, path, errs.Invalid("socket path is %d bytes; the kernel allows %d", len(path), maxSocketPath))
	}
	return nil
}

// refuseNonSocket says what is at path when it is not a socket, which bind
// would only call "address already in use".
func refuseNonSocket(op, path string) error {
	if path[0] == '@' {
		return nil
	}
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode().Type() == fs.ModeSocket {
		return nil // bind reports what is wrong, or the stale socket
	}
	return errs.Path(op, path, fmt.Errorf("a %s is there, not a socket: unix recv binds a new socket file and removes none of anything else", cli.FileKind(fi.Mode())))
}

// closeOnInterrupt runs serve, and closes c when SIGINT, SIGTERM or SIGHUP
// arrives, so that a socket's file goes with it; serve's error is then
// "interrupted".
func closeOnInterrupt(c io.Closer, op, object string, serve func() error) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	go func() {
		<-ctx.Done()
		c.Close()
	}()
	err := serve()
	if ctx.Err() != nil {
		return errs.Path(op, object, errors.New("interrupted; the socket file was removed"))
	}
	return err
}

// chmodSocket gives a new socket file its --mode: bind applies the umask.
func chmodSocket(path string, mode fs.FileMode) error {
	if path[0] == '@' {
		return nil // abstract: no file, no permissions
	}
	return errs.Path("chmod", path, errors.Unwrap(os.Chmod(path, mode)))
}

// serveDatagrams prints each datagram that arrives at e.addr and sends it back
// to its sender, when the sender has an address to reply to.
func serveDatagrams(conn *net.UnixConn, e echoEnd, mode fs.FileMode, out io.Writer) error {
	path := e.addr
	defer conn.Close()
	if path[0] != '@' {
		defer os.Remove(path) // unlike a stream listener, a datagram socket leaves its file
	}
	if err := chmodSocket(path, mode); err != nil {
		return err
	}
	conn.SetDeadline(e.wait.deadline())
	notifyReady("datagrams on %s", path)
	for n := 0; e.count == 0 || n < e.count; n++ {
		if e.wait.noWait() {
			if ready, err := readyNow(conn); err != nil || !ready {
				if err == nil && n == 0 {
					err = nothingYet("recv", path, "no datagram waiting")
				}
				return err // after n > 0, every datagram waiting was served
			}
		}
		data, from, err := readDatagram(conn)
		if err != nil {
			return netErr("recv", path, err)
		}
		meta := map[string]any{}
		if from != nil && from.Name != "" {
			meta["from"] = from.Name
		}
		// The echo first, as a stream server echoes as it reads: a
		// server that fails to print must not leave its client waiting.
		if meta["from"] != nil {
			if _, err := conn.WriteToUnix(data, from); err != nil {
				return netErr("send to", from.Name, err)
			}
		}
		if err := writePayload(out, data, e.asJSON, meta); err != nil {
			return err
		}
	}
	return nil
}

// readDatagram takes the next datagram whole, however long: it first peeks at
// its length (MSG_PEEK|MSG_TRUNC returns the length of the datagram, not what
// fits) and reads it into a buffer of that size.
func readDatagram(conn *net.UnixConn) ([]byte, *net.UnixAddr, error) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return nil, nil, err
	}
	var n int
	var perr error
	err = rc.Read(func(fd uintptr) bool {
		n, _, perr = unix.Recvfrom(int(fd), nil, unix.MSG_PEEK|unix.MSG_TRUNC)
		return perr != unix.EAGAIN // EAGAIN: wait on the poller, within the deadline
	})
	if err == nil {
		err = perr
	}
	if err != nil {
		return nil, nil, err
	}
	buf := make([]byte, n)
	k, from, err := conn.ReadFromUnix(buf)
	return buf[:k], from, err
}

// datagramRequest sends msg as one datagram to e.addr and returns the reply.
// Its own address, needed for the reply, is abstract and named after the
// process, so nothing is left on disk.
func datagramRequest(e echoEnd, msg []byte) ([]byte, error) {
	self := &net.UnixAddr{Name: fmt.Sprintf("@goipc-unix-client-%d", os.Getpid()), Net: e.network}
	conn, err := net.DialUnix(e.network, self, &net.UnixAddr{Name: e.addr, Net: e.network})
	if err != nil {
		return nil, netErr("connect", e.addr, err)
	}
	defer conn.Close()
	conn.SetDeadline(e.wait.deadline())
	if _, err := conn.Write(msg); err != nil {
		return nil, netErr("send", e.addr, err)
	}
	echo, _, err := readDatagram(conn)
	return echo, netErr("recv", e.addr, err)
}
