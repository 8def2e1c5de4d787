package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/goipc/ipc/internal/cli"
	"github.com/goipc/ipc/internal/errs"
	"github.com/goipc/ipc/posix"
)

func init() {
	group := &cobra.Command{
		Use:   "posix",
		Short: "POSIX message queues, shared memory and named semaphores",
		Long: `POSIX IPC objects have names such as /foo (a name without the slash gets one,
as Python's modules do). They outlive the processes that use them until they
are removed with rm. New objects get mode 0600 unless --mode says otherwise,
whatever the umask. A queue's NAME may be left out: it is then ` + defaultQueue + `, as in
the classic walk-through.`,
	}
	group.AddCommand(mqCommand(), shmCommand(), semCommand())
	rootCmd.AddCommand(group)

	addDemo("posix-mq", func(d *demo) demoPlan {
		name := "/" + d.unique()
		d.cleanup(func() { posix.UnlinkQueue(name) })
		msg := "hello through a POSIX queue"
		return demoPlan{
			message:  msg,
			receiver: []string{"posix", "mq", "recv", name, "--timeout", "10s"},
			sender: func(int) []string {
				return []string{"posix", "mq", "send", name, msg, "--create", "--priority", "3"}
			},
		}
	})
	addDemo("posix-shm", func(d *demo) demoPlan {
		name := "/" + d.unique()
		d.cleanup(func() { posix.UnlinkSharedMemory(name) })
		msg := "hello through POSIX shared memory"
		return demoPlan{
			message:  msg,
			receiver: []string{"posix", "shm", "read", name},
			sender: func(int) []string {
				return []string{"posix", "shm", "write", name, msg, "--create", "--size", "4KiB"}
			},
		}
	})
	addDemo("posix-sem", func(d *demo) demoPlan {
		// The receiver creates the semaphore at 0 and waits; the sender posts.
		// The message is the wake-up itself: the receiver's wait returns and
		// prints the value it left, 0.
		name := "/" + d.unique()
		d.cleanup(func() { posix.UnlinkSemaphore(name) })
		const msg = "post woke wait"
		return demoPlan{
			message:  msg,
			ready:    true,
			receiver: []string{"posix", "sem", "wait", name, "--create", "--timeout", "10s", "--print-value"},
			sender:   func(int) []string { return []string{"posix", "sem", "post", name} },
			received: func(recvOut, _ string) string {
				if recvOut == "0\n" {
					return msg
				}
				return "wait left value " + strings.TrimSpace(recvOut)
			},
		}
	})
}

// defaultQueue is the queue of the classic walk-through's POSIX example.
const defaultQueue = "/foo"

func mqCommand() *cobra.Command {
	mq := &cobra.Command{Use: "mq", Short: "POSIX message queues (mq_open, mq_send, mq_receive)"}

	var (
		priority uint
		create   bool
		mode     = modeValue(0o600)
		capacity int
		msgSize  cli.SizeValue
		sendWait *waitFlags
		in       *payload
	)
	send := &cobra.Command{
		Use:   "send [NAME] MSG",
		Short: "Send MSG with --priority, waiting while the queue is full",
		RunE: func(cmd *cobra.Command, a []string) error {
			a, msg, err := in.split(a)
			if err != nil {
				return err
			}
			if capacity < 0 { // mq_open's EINVAL would blame the queue, exit 1
				return cli.Usagef("invalid --max-messages %d: want 0 for the system default, or more", capacity)
			}
			name := optionalPath(a, defaultQueue)
			capacity, msgSize := queueGeometry(capacity, int(msgSize))
			q, made, err := openMade(create, func(exclusive bool) (*posix.MessageQueue, error) {
				return posix.OpenQueue(name, &posix.QueueOptions{
					Access: posix.WriteOnly, Create: create, Exclusive: exclusive, Mode: os.FileMode(mode), ModeSet: true,
					Capacity: capacity, MessageSize: msgSize, Nonblocking: sendWait.noWait(),
				})
			})
			if err != nil {
				return err
			}
			defer q.Close()
			ctx, cancel := sendWait.context()
			defer cancel()
			err = q.Send(ctx, msg, priority)
			if made && errors.Is(err, syscall.EMSGSIZE) { // leave no new queue behind
				posix.UnlinkQueue(name)
			}
			return nowaitFull(err, "queue")
		},
	}
	f := send.Flags()
	f.UintVar(&priority, "priority", 0, fmt.Sprintf("message priority, 0 to %d; higher is received first", posix.MaxPriority-1))
	f.BoolVar(&create, "create", false, "create the queue if it does not exist")
	f.Var(&mode, "mode", "permission bits of a new queue, whatever the umask")
	f.IntVar(&capacity, "max-messages", 0, "capacity of a new queue (default fs.mqueue.msg_default)")
	f.Var(&msgSize, "message-size", "largest message of a new queue (default fs.mqueue.msgsize_default)")
	sendWait = addWait(send, "give up waiting for room after this long", "fail at once (exit 4) if the queue is full")
	in = payloadFlag(send, 0, 1)

	var (
		recvWait *waitFlags
		asJSON   bool
	)
	recv := &cobra.Command{
		Use:   "recv NAME",
		Short: "Receive the oldest message of the highest priority, waiting while the queue is empty",
		Args:  cli.Args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := checkStdout(); err != nil {
				return err
			}
			q, err := posix.OpenQueue(a[0], &posix.QueueOptions{Access: posix.ReadOnly, Nonblocking: recvWait.noWait()})
			if err != nil {
				return err
			}
			defer q.Close()
			if !recvWait.noWait() {
				notifyReady("a message on %s", q.Name())
			}
			ctx, cancel := recvWait.context()
			defer cancel()
			buf := make([]byte, q.MessageSize())
			n, prio, err := q.Receive(ctx, buf)
			if err != nil {
				return nowait(err)
			}
			data := buf[:n]
			where := fmt.Sprintf("%s with priority %d, behind the messages of that priority already queued", q.Name(), prio)
			return deliver(cmd.OutOrStdout(), data, asJSON, map[string]any{"priority": prio}, where, func() error {
				w, err := posix.OpenQueue(q.Name(), &posix.QueueOptions{Access: posix.WriteOnly, Nonblocking: true})
				if err != nil {
					return err
				}
				defer w.Close()
				return w.Send(context.Background(), data, prio)
			})
		},
	}
	f = recv.Flags()
	recvWait = addWait(recv, "give up waiting after this long", "fail at once (exit 4) if the queue is empty")
	f.BoolVar(&asJSON, "json", false, `print {"data": ..., "priority": N}`)

	mq.AddCommand(send, defaultName(recv, defaultQueue),
		defaultName(statCommand("queue",
			func(name string) (*posix.MessageQueue, error) {
				return posix.OpenQueue(name, &posix.QueueOptions{Access: posix.ReadOnly})
			},
			func(q *posix.MessageQueue, _ os.FileInfo) ([]field, error) {
				a, err := q.Attr()
				if err != nil {
					return nil, err
				}
				return []field{{"capacity", a.Capacity}, {"message_size", a.MessageSize}, {"messages", a.Messages}}, nil
			}), defaultQueue),
		defaultName(rmCommand("queue", posix.UnlinkQueue), defaultQueue))
	return mq
}

// defaultName lets c, a command of one NAME argument, leave it out for name.
func defaultName(c *cobra.Command, name string) *cobra.Command {
	run := c.RunE
	c.Use = strings.Replace(c.Use, "NAME", "[NAME]", 1)
	c.Args = cli.Args(cobra.MaximumNArgs(1))
	c.RunE = func(cmd *cobra.Command, a []string) error { return run(cmd, []string{optionalPath(a, name)}) }
	return c
}

// queueGeometry gives --max-messages or --message-size, when only one is
// set, the other's system default: mq_open takes both or neither.
func queueGeometry(capacity, msgSize int) (int, int) {
	if v, ok := errs.Sysctl("fs/mqueue/msg_default"); ok && capacity == 0 && msgSize > 0 {
		capacity = int(v)
	}
	if v, ok := errs.Sysctl("fs/mqueue/msgsize_default"); ok && msgSize == 0 && capacity > 0 {
		msgSize = int(v)
	}
	return capacity, msgSize
}

func shmCommand() *cobra.Command {
	shm := &cobra.Command{Use: "shm", Short: "POSIX shared memory (shm_open, mmap)"}

	var (
		offset, size cli.SizeValue
		create       bool
		mode         = modeValue(0o600)
		in           *payload
	)
	write := &cobra.Command{
		Use:   "write NAME DATA",
		Short: "Store DATA and a NUL (when there is room) at --offset in the segment, growing it to --size",
		RunE: func(cmd *cobra.Command, a []string) error {
			a, msg, err := in.split(a)
			if err != nil {
				return err
			}
			end := int64(offset) + int64(len(msg))
			want := max(end, int64(size))
			opts := &posix.ShmOptions{Mode: os.FileMode(mode), ModeSet: true}
			m, err := posix.OpenSharedMemory(a[0], opts)
			openErr := err
			// undo puts the segment back as it was if the write fails: a
			// size too large to map must not stay behind.
			undo := func() {}
			if create && errors.Is(err, fs.ErrNotExist) {
				// Exclusive: the segment undo removes is surely this one's.
				opts.Create, opts.Exclusive, opts.Size = true, true, want
				if m, err = posix.OpenSharedMemory(a[0], opts); err == nil {
					undo = func() { m.Unlink() }
				}
			}
			if err != nil {
				return err
			}
			defer m.Close()
			if err := nothingToWrite(msg, int64(offset), int64(size), create && errors.Is(openErr, fs.ErrNotExist)); err != nil {
				return err
			}
			cur, err := m.Size()
			if err != nil {
				return err
			}
			if old := cur; cur < want && cmd.Flags().Changed("size") {
				if _, err := m.Resize(want); err != nil {
					return err
				}
				undo = func() { m.Resize(old) }
				cur = want
			}
			if end > cur {
				return errs.Path("write", m.Name(), errs.Invalid("data ends at byte %d, past the end of the %d-byte segment (grow it with --size)", end, cur))
			}
			if len(msg) == 0 {
				return nil
			}
			data, err := m.Map(posix.ReadWrite)
			if err != nil {
				undo()
				return err
			}
			copy(data[offset:], withNUL(msg, int64(offset), cur))
			return m.Close()
		},
	}
	f := write.Flags()
	f.Var(&offset, "offset", "byte offset of DATA in the segment")
	f.Var(&size, "size", "make the segment at least this long (a new one is as long as the data otherwise)")
	f.BoolVar(&create, "create", false, "create the segment if it does not exist")
	f.Var(&mode, "mode", "permission bits of a new segment, whatever the umask")
	in = payloadFlag(write, 1, 1)

	var (
		readOffset, length cli.SizeValue
		asJSON             bool
	)
	read := &cobra.Command{
		Use:   "read NAME",
		Short: "Print the bytes at --offset: up to the first NUL, or exactly --length bytes",
		Args:  cli.Args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			m, err := posix.OpenSharedMemory(a[0], &posix.ShmOptions{ReadOnly: true})
			if err != nil {
				return err
			}
			defer m.Close()
			size, err := m.Size()
			if err != nil {
				return err
			}
			var data []byte // an empty segment cannot be mapped, and holds nothing
			if size > 0 {
				if data, err = m.Map(posix.ReadOnly); err != nil {
					return err
				}
			}
			off, hasLength := int64(readOffset), cmd.Flags().Changed("length")
			switch {
			case off > int64(len(data)):
				return errs.Path("read", m.Name(), errs.Invalid("offset %d is past the end of the %d-byte segment", off, len(data)))
			case hasLength && off+int64(length) > int64(len(data)):
				return errs.Path("read", m.Name(), errs.Invalid("bytes %d to %d are past the end of the %d-byte segment", off, off+int64(length), len(data)))
			}
			out := data[off:]
			if hasLength {
				out = out[:length]
			} else {
				out = cString(out)
			}
			return writePayload(cmd.OutOrStdout(), out, asJSON, map[string]any{"offset": off})
		},
	}
	f = read.Flags()
	f.Var(&readOffset, "offset", "byte offset to read from")
	f.Var(&length, "length", "print exactly this many bytes (default: up to the first NUL or the end)")
	f.BoolVar(&asJSON, "json", false, `print {"data": ..., "offset": N}`)

	shm.AddCommand(write, read,
		statCommand("segment",
			func(name string) (*posix.SharedMemory, error) {
				return posix.OpenSharedMemory(name, &posix.ShmOptions{ReadOnly: true})
			},
			func(_ *posix.SharedMemory, fi os.FileInfo) ([]field, error) {
				return []field{{"size", fi.Size()}, {"modified", fi.ModTime().Format(time.RFC3339)}}, nil
			}),
		rmCommand("segment", posix.UnlinkSharedMemory))
	return shm
}

func semCommand() *cobra.Command {
	sem := &cobra.Command{Use: "sem", Short: "POSIX named semaphores (sem_open, sem_wait, sem_post)"}

	var (
		create bool
		value  uint
		mode   = modeValue(0o600)
	)
	createFlags := func(c *cobra.Command) {
		c.Flags().BoolVar(&create, "create", false, "create the semaphore if it does not exist")
		c.Flags().UintVar(&value, "value", 0, "initial value of a new semaphore")
		c.Flags().Var(&mode, "mode", "permission bits of a new semaphore, whatever the umask")
	}
	open := func(name string) (*posix.Semaphore, error) {
		if value > posix.MaxSemaphoreValue { // a flag out of range, as --value -1 is
			return nil, cli.Usagef("invalid --value %d: want 0 to %d (SEM_VALUE_MAX)", value, posix.MaxSemaphoreValue)
		}
		return posix.OpenSemaphore(name, &posix.SemOptions{Create: create, Value: value, Mode: os.FileMode(mode), ModeSet: true})
	}
	post := &cobra.Command{
		Use:   "post NAME",
		Short: "Increment the semaphore, waking one waiter",
		Args:  cli.Args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			s, err := open(a[0])
			if err != nil {
				return err
			}
			defer s.Close()
			return s.Post()
		},
	}
	createFlags(post)

	var (
		semWait *waitFlags
		printV  bool
	)
	wait := &cobra.Command{
		Use:   "wait NAME",
		Short: "Decrement the semaphore, waiting while it is zero",
		Args:  cli.Args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if printV {
				if err := checkStdout(); err != nil {
					return err
				}
			}
			s, err := open(a[0])
			if err != nil {
				return err
			}
			defer s.Close()
			if semWait.noWait() {
				err = nowait(s.TryWait())
			} else {
				notifyReady("a post to %s", s.Name())
				ctx, cancel := semWait.context()
				defer cancel()
				err = s.Wait(ctx)
			}
			if err != nil || !printV {
				return err
			}
			if err := printValue(cmd.OutOrStdout(), s); err != nil {
				return undoTake(err, s.Post, "the semaphore was given back (posted)", "posting the semaphore back failed too")
			}
			return nil
		},
	}
	createFlags(wait)
	semWait = addWait(wait, "give up waiting after this long", "fail at once (exit 4) if the value is zero")
	wait.Flags().BoolVar(&printV, "print-value", false, "print the value the wait left")

	var valueJSON bool
	valueCmd := &cobra.Command{
		Use:   "value NAME",
		Short: "Print the semaphore's value",
		Args:  cli.Args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			s, err := posix.OpenSemaphore(a[0], nil)
			if err != nil {
				return err
			}
			defer s.Close()
			if !valueJSON {
				return printValue(cmd.OutOrStdout(), s)
			}
			v, err := s.Value()
			if err != nil {
				return err
			}
			return printFields(cmd.OutOrStdout(), []field{{"name", s.Name()}, {"value", v}}, true)
		},
	}
	valueCmd.Flags().BoolVar(&valueJSON, "json", false, `print {"name": ..., "value": N}`)
	sem.AddCommand(post, wait, valueCmd,
		statCommand("semaphore",
			func(name string) (*posix.Semaphore, error) { return posix.OpenSemaphore(name, nil) },
			func(s *posix.Semaphore, _ os.FileInfo) ([]field, error) {
				v, err := s.Value()
				if err != nil {
					return nil, err
				}
				return []field{{"value", v}}, nil
			}),
		rmCommand("semaphore", posix.UnlinkSemaphore))
	return sem
}

// printValue prints the semaphore's value on a line.
func printValue(w io.Writer, s *posix.Semaphore) error {
	v, err := s.Value()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, v)
	return err
}

// field is one line of `stat`: a name and a value, in order.
type field struct {
	name  string
	value any
}

func ownerFields(name string, fi os.FileInfo) []field {
	st := fi.Sys().(*syscall.Stat_t)
	return []field{{"name", name}, {"mode", fmt.Sprintf("%#04o", fi.Mode().Perm())}, {"uid", st.Uid}, {"gid", st.Gid}}
}

// posixObject is what every open POSIX object offers `stat`.
type posixObject interface {
	Name() string
	Stat() (os.FileInfo, error)
	Close() error
}

// statCommand is `stat NAME [--json]` for one kind of POSIX object: it opens
// the object and prints its name, mode and owner, then the fields state gives.
func statCommand[T posixObject](what string, open func(name string) (T, error), state func(T, os.FileInfo) ([]field, error)) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "stat NAME",
		Short: "Show the " + what + "'s mode, owner and state",
		Args:  cli.Args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			obj, err := open(a[0])
			if err != nil {
				return err
			}
			defer obj.Close()
			fi, err := obj.Stat()
			if err != nil {
				return err
			}
			more, err := state(obj, fi)
			if err != nil {
				return err
			}
			return printFields(cmd.OutOrStdout(), append(ownerFields(obj.Name(), fi), more...), asJSON)
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return c
}

func printFields(w io.Writer, fields []field, asJSON bool) error {
	if asJSON {
		// Build the object by hand to keep the fields in order.
		b := []byte{'{'}
		for i, f := range fields {
			if i > 0 {
				b = append(b, ',')
			}
			if name, ok := f.value.(string); ok && f.name == "name" && !utf8.ValidString(name) {
				// As ls --json: its bytes, where a string would turn them into U+FFFD.
				f.name, f.value = "name_b64", []byte(name)
			}
			k, _ := json.Marshal(f.name)
			v, err := json.Marshal(f.value)
			if err != nil {
				return err
			}
			b = append(append(append(b, k...), ':'), v...)
		}
		_, err := fmt.Fprintf(w, "%s}\n", b)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, f := range fields {
		if f.value == nil {
			f.value = "never"
		}
		fmt.Fprintf(tw, "%s\t%v\n", f.name, f.value)
	}
	return tw.Flush()
}

// rmCommand is `rm NAME` for one kind of POSIX object.
func rmCommand(what string, unlink func(name string) error) *cobra.Command {
	return &cobra.Command{
		Use:   "rm NAME",
		Short: "Remove the " + what + "'s name; processes that have it open keep it until they close it",
		Args:  cli.Args(cobra.ExactArgs(1)),
		RunE:  func(cmd *cobra.Command, a []string) error { return unlink(a[0]) },
	}
}
