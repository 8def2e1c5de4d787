package main

// What the six standard-library mechanisms (file, signal, tcp, unix, pipe,
// fifo) share: optional PATH arguments, deadlines, error shapes, the echo
// exchange of the stream sockets, and stat/rm of named filesystem objects.

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/goipc/ipc/internal/cli"
	"github.com/goipc/ipc/internal/errs"
	"github.com/spf13/cobra"
)

// jsonFlag adds --json to a command that prints what it received.
func jsonFlag(c *cobra.Command, v *bool) {
	c.Flags().BoolVar(v, "json", false, `print one JSON object per message, {"data": ...} with metadata`)
}

// optionalPath returns the argument of `verb [PATH]`.
func optionalPath(a []string, defaultPath string) string {
	if len(a) == 1 {
		return a[0]
	}
	return defaultPath
}

// checkCount validates a --count flag, where 0 means no limit.
func checkCount(count int) error {
	if count < 0 {
		return cli.Usagef("invalid --count %d (want 0 for no limit, or more)", count)
	}
	return nil
}

// netErr reshapes a net package error, "listen tcp 127.0.0.1:1: bind: address
// already in use", into the CLI's "listen 127.0.0.1:1: address already in use",
// keeping the errno (or os.ErrDeadlineExceeded) for exit statuses and errors.Is.
func netErr(op, addr string, err error) error {
	if err == nil {
		return nil
	}
	var errno syscall.Errno
	var addrErr *net.AddrError
	var opErr *net.OpError
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		err = errs.ErrTimeout
	case errors.As(err, &errno):
		err = errno
	case errors.As(err, &addrErr):
		err = errors.New(addrErr.Err) // the address is already in the message
	case errors.As(err, &opErr):
		err = opErr.Err // such as a failed name lookup
	}
	return errs.Path(op, addr, err)
}

// inUseHint explains EADDRINUSE, the error of binding an address taken.
func inUseHint(err error, hint string) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return errs.Hint(err, "%s", hint)
	}
	return err
}

// echoEnd is one side of an echo exchange, as its command's flags set it.
type echoEnd struct {
	network, addr string     // "tcp" and host:port, or "unix"/"unixgram" and a path
	wait          *waitFlags // bounds the whole exchange
	count         int        // servers: exchanges before exiting; 0: never
	asJSON        bool       // servers: print --json objects
}

// serveEcho is the walk-through's echo server for a stream listener: for each
// connection it sends back every byte it reads, and at the peer's end of stream
// prints what the connection carried.
func serveEcho(ln net.Listener, e echoEnd, out io.Writer) error {
	defer ln.Close()
	type deadliner interface{ SetDeadline(time.Time) error }
	end := e.wait.deadline()
	ln.(deadliner).SetDeadline(end)
	notifyReady("connections on %s", ln.Addr())
	for n := 0; e.count == 0 || n < e.count; n++ {
		if e.wait.noWait() {
			if ready, err := readyNow(ln.(syscall.Conn)); err != nil || !ready {
				if err == nil && n == 0 {
					err = nothingYet("accept", e.addr, "no connection waiting")
				}
				return err // after n > 0, every connection waiting was served
			}
		}
		conn, err := ln.Accept()
		if err != nil {
			return netErr("accept", e.addr, err)
		}
		conn.SetDeadline(end)
		meta := map[string]any{}
		if peer := conn.RemoteAddr(); peer != nil && peer.String() != "" { // an unbound Unix client has no name
			meta["peer"] = peer.String()
		}
		err = streamPayload(out, io.TeeReader(conn, conn), e.asJSON, meta, func(err error) error {
			return netErr("echo", e.addr, err)
		})
		conn.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// clientWait is the check of a client's --timeout: a client always waits for
// its echo, so 0 would fail every exchange.
func clientWait(w *waitFlags) error {
	if w.noWait() {
		return cli.Usagef("--timeout 0: a client always waits for the echo; give a positive --timeout, or none to wait as long as it takes")
	}
	return nil
}

// maxJSONMessage bounds a message printed with --json, which must hold it
// whole to make one JSON object of it; a variable so that tests can lower it.
var maxJSONMessage int64 = 64 << 20

// streamPayload prints the message r carries until its end as writePayload
// does, but prints the bytes as they arrive instead of holding them, so that
// a peer that never stops cannot exhaust memory; with asJSON it holds at most
// maxJSONMessage bytes. readErr reshapes an error of r or the size.
func streamPayload(out io.Writer, r io.Reader, asJSON bool, meta map[string]any, readErr func(error) error) error {
	if asJSON {
		data, err := io.ReadAll(io.LimitReader(r, maxJSONMessage+1))
		if err == nil && int64(len(data)) > maxJSONMessage {
			err = fmt.Errorf("message over %d bytes, the most --json holds (without --json any size streams)", maxJSONMessage)
		}
		if err != nil {
			return readErr(err)
		}
		return writePayload(out, data, true, meta)
	}
	buf := make([]byte, 64<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := out.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return readErr(err)
		}
	}
	_, err := io.WriteString(out, "\n")
	return err
}

// echoRequest is the walk-through's client: it sends msg, closes its sending
// half so that the server sees the end of the message, and returns every byte
// the server sends back until it closes.
func echoRequest(e echoEnd, msg []byte) ([]byte, error) {
	end := e.wait.deadline()
	d := net.Dialer{Deadline: end}
	conn, err := d.Dial(e.network, e.addr)
	if err != nil {
		return nil, netErr("connect", e.addr, err)
	}
	defer conn.Close()
	conn.SetDeadline(end)
	if _, err := conn.Write(msg); err != nil {
		return nil, netErr("send", e.addr, err)
	}
	if err := conn.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
		return nil, netErr("shutdown", e.addr, err)
	}
	echo, err := io.ReadAll(conn)
	return echo, netErr("recv", e.addr, err)
}

// echoReceived is what an echo exchange delivered: the message as the server
// printed it, provided the echo the client printed matches.
func echoReceived(serverOut, clientOut string) string {
	if serverOut != clientOut {
		return fmt.Sprintf("server printed %q, client %q", serverOut, clientOut)
	}
	return strings.TrimSuffix(serverOut, "\n")
}

// checkKind fails unless the file at path, described by fi, has type want.
func checkKind(op, path string, fi fs.FileInfo, want fs.FileMode) error {
	if fi.Mode().Type() == want {
		return nil
	}
	return errs.Path(op, path, fmt.Errorf("not a %s (it is a %s)", cli.FileKinds[want], cli.FileKind(fi.Mode())))
}

// lstatKind stats path, not following a symbolic link, and fails for op
// unless it has type kind.
func lstatKind(op, path string, kind fs.FileMode) (fs.FileInfo, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, errs.Path(op, path, errors.Unwrap(err))
	}
	return fi, checkKind(op, path, fi, kind)
}

// namedVerbs adds `stat [PATH]` and `rm [PATH]` to a group whose objects are
// filesystem entries of type kind. With no default path, PATH is required.
func namedVerbs(group *cobra.Command, kind fs.FileMode, defaultPath string) {
	what := cli.FileKinds[kind]
	check := cli.Args(cobra.RangeArgs(0, 1))
	use := " [PATH]"
	if defaultPath == "" {
		check, use = cli.Args(cobra.ExactArgs(1)), " PATH"
	}
	var asJSON bool
	stat := &cobra.Command{
		Use:   "stat" + use,
		Short: "Show the " + what + "'s type, mode, owner, size and modification time",
		Args:  check,
		RunE: func(cmd *cobra.Command, a []string) error {
			path := optionalPath(a, defaultPath)
			fi, err := lstatKind("stat", path, kind)
			if err != nil {
				return err
			}
			return printStat(cmd.OutOrStdout(), path, fi, asJSON)
		},
	}
	stat.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	rm := &cobra.Command{
		Use:   "rm" + use,
		Short: "Remove the " + what + " (and refuse anything else at that path)",
		Args:  check,
		RunE: func(cmd *cobra.Command, a []string) error {
			path := optionalPath(a, defaultPath)
			if _, err := lstatKind("remove", path, kind); err != nil {
				return err
			}
			return os.Remove(path)
		},
	}
	group.AddCommand(stat, rm)
}

func printStat(w io.Writer, path string, fi fs.FileInfo, asJSON bool) error {
	st := fi.Sys().(*syscall.Stat_t)
	if asJSON { // in the table's order and time format, as every other stat --json
		return printFields(w, []field{{"path", path}, {"type", cli.FileKind(fi.Mode())}, {"mode", fmt.Sprintf("%#04o", fi.Mode().Perm())},
			{"uid", st.Uid}, {"gid", st.Gid}, {"size", fi.Size()}, {"modified", when(fi.ModTime())}}, true)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PATH\tTYPE\tMODE\tUID\tGID\tSIZE\tMODIFIED")
	fmt.Fprintf(tw, "%s\t%s\t%#04o\t%d\t%d\t%d\t%s\n", path, cli.FileKind(fi.Mode()), fi.Mode().Perm(),
		st.Uid, st.Gid, fi.Size(), fi.ModTime().Format(time.RFC3339))
	return tw.Flush()
}

// fileErr reports a failed read or write of a file with the CLI's timeout
// error, naming the file once.
func fileErr(op, path string, err error) error {
	var pe *os.PathError
	if errors.Is(err, os.ErrDeadlineExceeded) {
		err = errs.ErrTimeout
	} else if errors.As(err, &pe) {
		err = pe.Err // "read /tmp/f: ..." is said once
	}
	return errs.Path(op, path, err)
}
