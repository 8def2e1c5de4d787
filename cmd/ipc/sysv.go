package main

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/goipc/ipc/internal/cli"
	"github.com/goipc/ipc/internal/errs"
	"github.com/goipc/ipc/inventory"
	"github.com/goipc/ipc/sysv"
)

// defaultKey is the key of the classic walk-through's System V examples.
const defaultKey sysv.Key = 1

func init() {
	group := &cobra.Command{
		Use:   "sysv",
		Short: "System V message queues, shared memory and semaphore sets",
		Long: `System V IPC objects are named by a KEY: decimal, 0x hex (as ipcs prints
it), or PATH:PROJ, the ftok key of an existing file PATH and a project id PROJ
(a number from 1 to 255, or one character). KEY may be left out: it is then 1,
as in the classic walk-through. Objects outlive the processes that use them
until they are removed with rm. New objects get mode 0600 unless --mode says
otherwise; the kernel does not apply the umask to them.`,
	}
	group.AddCommand(sysvMsgCommand(), sysvShmCommand(), sysvSemCommand())
	rootCmd.AddCommand(group)

	addDemo("sysv-msg", func(d *demo) demoPlan {
		key := demoKey(d, func(k sysv.Key) (*sysv.MessageQueue, error) { return sysv.OpenQueue(k, 0, 0) })
		msg := "hello through a System V queue"
		return demoPlan{
			message:  msg,
			receiver: []string{"sysv", "msg", "recv", key, "--type", "2", "--timeout", "10s"},
			sender: func(int) []string {
				return []string{"sysv", "msg", "send", key, msg, "--create", "--type", "2"}
			},
		}
	})
	addDemo("sysv-shm", func(d *demo) demoPlan {
		key := demoKey(d, func(k sysv.Key) (*sysv.SharedMemory, error) { return sysv.OpenSharedMemory(k, 0, 0, 0) })
		msg := "hello through System V shared memory"
		return demoPlan{
			message:  msg,
			receiver: []string{"sysv", "shm", "read", key},
			sender:   func(int) []string { return []string{"sysv", "shm", "write", key, msg, "--create"} },
		}
	})
	addDemo("sysv-sem", func(d *demo) demoPlan {
		// The receiver creates the set at 0 and waits to take 2; the sender
		// adds 2. The message is the wake-up: the receiver prints the value
		// its operation left, 0.
		key := demoKey(d, func(k sysv.Key) (*sysv.SemaphoreSet, error) { return sysv.OpenSemaphoreSet(k, 0, 0, 0) })
		const msg = "+2 woke -2"
		return demoPlan{
			message:  msg,
			ready:    true,
			receiver: []string{"sysv", "sem", "op", key, "--delta", "-2", "--create", "--timeout", "10s", "--print-value"},
			sender:   func(int) []string { return []string{"sysv", "sem", "op", key, "--delta", "2"} },
			received: func(recvOut, _ string) string {
				if recvOut == "0\n" {
					return msg
				}
				return "op left value " + strings.TrimSpace(recvOut)
			},
		}
	})
}

// demoKey returns a key unique to this demo exchange, a hash of its unique
// name, or the next that open finds no object of (another program's may
// hold it: the exchange's --create would share it, and the cleanup remove
// it), and registers the removal of its object at the end.
func demoKey[T interface{ Remove() error }](d *demo, open func(sysv.Key) (T, error)) string {
	h := fnv.New32a()
	h.Write([]byte(d.unique()))
	hash := h.Sum32()
	key := func(i uint32) sysv.Key { return sysv.Key(0x49500000 | (hash+i)&0xfffff) } // "IP" and 20 bits
	var i uint32
	for ; i < 1<<10; i++ {
		if _, err := open(key(i)); errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	d.cleanup(func() { removeWith(open(key(i))) })
	return key(i).String()
}

// removeWith removes an object just opened, if it opened.
func removeWith[T interface{ Remove() error }](obj T, err error) error {
	if err != nil {
		return err
	}
	return obj.Remove()
}

// sysvKey splits an optional leading KEY off the arguments: with want
// arguments after it, a[0] is the key when len(a) == want+1, otherwise the key
// is 1.
func sysvKey(a []string, want int) (sysv.Key, []string, error) {
	if len(a) <= want {
		return defaultKey, a, nil
	}
	key, err := sysv.ParseKey(a[0])
	var pathErr *os.PathError
	switch {
	case errors.As(err, &pathErr): // ftok of a missing file: not a usage error
		return 0, nil, err
	case err != nil:
		return 0, nil, badInput(err)
	case key == sysv.IPCPrivate:
		return 0, nil, cli.Usagef("key 0 is IPC_PRIVATE, which no other process can find; use another key")
	}
	return key, a[1:], nil
}

// permFields are the stat lines every System V object has.
func permFields(id int, p sysv.Perm) []field {
	return []field{
		{"key", int32(p.Key)}, {"key_hex", p.Key.String()}, {"id", id}, {"mode", fmt.Sprintf("%#04o", uint32(p.Mode))},
		{"uid", p.UID}, {"gid", p.GID}, {"creator_uid", p.CreatorUID}, {"creator_gid", p.CreatorGID},
		{"changed", when(p.ChangeTime)},
	}
}

// when is a kernel time as stat shows it, in RFC 3339 as ls does; nil (JSON
// null, "never" in the table) when the event never happened.
func when(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Format(time.RFC3339)
}

// sysvStat is `stat [KEY] [--json]`.
func sysvStat(what string, describe func(key sysv.Key) ([]field, error)) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "stat [KEY]",
		Short: "Show the " + what + "'s owner, mode and state",
		Args:  cli.Args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			key, _, err := sysvKey(a, 0)
			if err != nil {
				return err
			}
			fields, err := describe(key)
			if err != nil {
				return err
			}
			return printFields(cmd.OutOrStdout(), fields, asJSON)
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return c
}

// sysvRm is `rm [KEY | id=ID]`; an id is the one way to name an object
// of key 0 (IPC_PRIVATE), as ls shows it.
func sysvRm(what string, kind inventory.Kind, remove func(key sysv.Key) error) *cobra.Command {
	return &cobra.Command{
		Use:   "rm [KEY | id=ID]",
		Short: "Remove the " + what + " (IPC_RMID)",
		Args:  cli.Args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if len(a) == 1 && strings.HasPrefix(a[0], "id=") {
				if err := removeTarget(kind, a[0]); err != nil {
					return fmt.Errorf("rm %s: %w", a[0], err)
				}
				return nil
			}
			key, _, err := sysvKey(a, 0)
			if err != nil {
				return err
			}
			return remove(key)
		},
	}
}

func sysvMsgCommand() *cobra.Command {
	msg := &cobra.Command{Use: "msg", Short: "System V message queues (msgget, msgsnd, msgrcv)"}

	var (
		sendType int64
		create   bool
		mode     = modeValue(sysv.DefaultMode)
		sendWait *waitFlags
		in       *payload
	)
	send := &cobra.Command{
		Use:   "send [KEY] MSG",
		Short: "Send MSG as a message of --type, waiting while the queue is full",
		RunE: func(cmd *cobra.Command, a []string) error {
			a, msg, err := in.split(a)
			if err != nil {
				return err
			}
			key, _, err := sysvKey(a, 0)
			if err != nil {
				return err
			}
			if sendType <= 0 {
				return cli.Usagef("--type %d: a message type must be positive", sendType)
			}
			// Opened asking for no permission, as the other verbs open: with
			// the mode bits msgget would ask for read access too, which a
			// sender to a 0622 queue does not have.
			q, err := sysv.OpenQueue(key, 0, 0)
			made := false
			if create && errors.Is(err, fs.ErrNotExist) {
				q, made, err = openMade(true, func(exclusive bool) (*sysv.MessageQueue, error) {
					if !exclusive { // made by another meanwhile
						return sysv.OpenQueue(key, 0, 0)
					}
					return sysv.OpenQueue(key, sysv.Create|sysv.Exclusive, os.FileMode(mode))
				})
			}
			if err != nil {
				return err
			}
			defer q.Close()
			ctx, cancel := sendWait.context()
			defer cancel()
			var flags sysv.MsgFlag
			if sendWait.noWait() {
				flags = sysv.NoWait
			}
			err = q.Send(ctx, sendType, msg, flags)
			if made && errors.Is(err, syscall.EINVAL) { // too long: leave no new queue behind
				q.Remove()
			}
			return nowaitFull(err, "queue")
		},
	}
	f := send.Flags()
	f.Int64Var(&sendType, "type", 1, "message type, a positive number receivers select by")
	f.BoolVar(&create, "create", false, "create the queue if it does not exist")
	f.Var(&mode, "mode", "permission bits of a new queue")
	sendWait = addWait(send, "give up waiting for room after this long", "fail at once (exit 4) if the queue is full")
	in = payloadFlag(send, 0, 1)

	var (
		recvType int64
		except   bool
		noerror  bool
		recvWait *waitFlags
		asJSON   bool
		bufSize  cli.SizeValue
	)
	recv := &cobra.Command{
		Use:   "recv [KEY]",
		Short: "Receive a message, waiting until one of the wanted --type arrives",
		Long: `recv takes one message and prints it. --type selects as msgrcv does: 0 (the
default) takes the first message, N > 0 the first of type N (with --except, the
first of any other type), N < 0 the first of the lowest type up to -N. The
message is read into --buffer bytes, by default kernel.msgmax, which holds any
message; a longer one fails and stays queued, or with --noerror is truncated.`,
		Args: cli.Args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			key, _, err := sysvKey(a, 0)
			if err != nil {
				return err
			}
			if except && recvType <= 0 {
				return cli.Usagef("--except needs a positive --type")
			}
			if err := checkStdout(); err != nil {
				return err
			}
			q, err := sysv.OpenQueue(key, 0, 0)
			if err != nil {
				return err
			}
			defer q.Close()
			var flags sysv.MsgFlag
			for _, fl := range []struct {
				on   bool
				flag sysv.MsgFlag
			}{{except, sysv.Except}, {noerror, sysv.NoError}, {recvWait.noWait(), sysv.NoWait}} {
				if fl.on {
					flags |= fl.flag
				}
			}
			size, ok := errs.Sysctl("kernel/msgmax")
			if !ok {
				size = 8192
			}
			if cmd.Flags().Changed("buffer") {
				// msgsnd refuses a message longer than kernel.msgmax, so a
				// larger buffer would only take memory (or fail to get it).
				size = min(size, int64(bufSize))
			}
			buf := make([]byte, size)
			if !recvWait.noWait() {
				notifyReady("a message on key %v", key)
			}
			ctx, cancel := recvWait.context()
			defer cancel()
			n, typ, err := q.Receive(ctx, buf, recvType, flags)
			switch {
			case errors.Is(err, syscall.ENOMSG):
				return emptyError{err: err}
			case errors.Is(err, syscall.E2BIG): // whose text is "argument list too long"
				return errs.Path("msgrcv", key.String(), restated{syscall.E2BIG,
					fmt.Sprintf("message longer than the %d-byte --buffer; it stays queued (--noerror, MSG_NOERROR, truncates it)", size)})
			case err != nil:
				return err
			}
			data := buf[:n]
			where := fmt.Sprintf("key %v with type %d, at the end of the queue", key, typ)
			return deliver(cmd.OutOrStdout(), data, asJSON, map[string]any{"type": typ}, where, func() error {
				return q.Send(context.Background(), typ, data, sysv.NoWait)
			})
		},
	}
	f = recv.Flags()
	f.Int64Var(&recvType, "type", 0, "which message: 0 the first, N the first of type N, -N the lowest type up to N")
	f.BoolVar(&except, "except", false, "take the first message whose type is not --type (MSG_EXCEPT)")
	f.BoolVar(&noerror, "noerror", false, "truncate a message too long for the buffer (MSG_NOERROR)")
	f.Var(&bufSize, "buffer", "largest message to take (default kernel.msgmax)")
	recvWait = addWait(recv, "give up waiting after this long", "fail at once (exit 4) if no message matches")
	f.BoolVar(&asJSON, "json", false, `print {"data": ..., "type": N}`)

	msg.AddCommand(send, recv,
		sysvStat("queue", func(key sysv.Key) ([]field, error) {
			q, err := sysv.OpenQueue(key, 0, 0)
			if err != nil {
				return nil, err
			}
			defer q.Close()
			st, err := q.Stat()
			if err != nil {
				return nil, err
			}
			return append(permFields(q.ID(), st.Perm),
				field{"messages", st.Messages}, field{"bytes", st.Bytes}, field{"max_bytes", st.MaxBytes},
				field{"last_send_pid", st.LastSendPID}, field{"last_recv_pid", st.LastRecvPID},
				field{"sent", when(st.SendTime)}, field{"received", when(st.RecvTime)}), nil
		}),
		sysvRm("queue", inventory.SysvMsg, func(key sysv.Key) error { return removeWith(sysv.OpenQueue(key, 0, 0)) }))
	return msg
}

func sysvShmCommand() *cobra.Command {
	shm := &cobra.Command{Use: "shm", Short: "System V shared memory (shmget, shmat)"}

	var (
		offset, size cli.SizeValue
		create       bool
		mode         = modeValue(sysv.DefaultMode)
	)
	size = 4096
	var shmIn *payload
	write := &cobra.Command{
		Use:   "write [KEY] DATA",
		Short: "Store DATA and a NUL at --offset in the segment",
		Long: `write copies DATA into the segment at --offset, followed by a NUL byte when
there is room, so that read prints it back. With --create a missing segment is
made of --size bytes (default 4KiB), or larger if DATA needs it; a segment's size
never changes afterwards.`,
		RunE: func(cmd *cobra.Command, a []string) error {
			a, data, err := shmIn.split(a)
			if err != nil {
				return err
			}
			key, _, err := sysvKey(a, 0)
			if err != nil {
				return err
			}
			end := int(offset) + len(data)
			// An existing segment is opened at its own size: shmget with a
			// size larger than the segment's fails, even with IPC_CREAT.
			m, err := sysv.OpenSharedMemory(key, 0, 0, 0)
			creating := create && errors.Is(err, fs.ErrNotExist)
			if err := nothingToWrite(data, int64(offset), 0, creating); err != nil { // an existing segment is not grown
				return err
			}
			if creating {
				m, err = sysv.OpenSharedMemory(key, max(int(size), end+1), sysv.Create, os.FileMode(mode))
			}
			if err != nil {
				return err
			}
			defer m.Close()
			// Attached first: a segment the caller may not read has size 0
			// until then, and the error is the permission.
			mem, err := m.Attach(0)
			if err != nil {
				return err
			}
			if end > len(mem) {
				m.Detach(mem)
				return fmt.Errorf("write %v: %d bytes at offset %d would end past the segment's %d bytes", key, len(data), offset, len(mem))
			}
			copy(mem[offset:], withNUL(data, int64(offset), int64(len(mem))))
			return m.Detach(mem)
		},
	}
	f := write.Flags()
	f.Var(&offset, "offset", "where DATA goes, in bytes from the start")
	f.Var(&size, "size", "size of a segment that --create makes")
	f.BoolVar(&create, "create", false, "create the segment if it does not exist")
	f.Var(&mode, "mode", "permission bits of a new segment")
	shmIn = payloadFlag(write, 0, 1)

	var readOffset, length cli.SizeValue
	var asJSON bool
	read := &cobra.Command{
		Use:   "read [KEY]",
		Short: "Print the segment from --offset up to a NUL byte, or --length bytes",
		Args:  cli.Args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			key, _, err := sysvKey(a, 0)
			if err != nil {
				return err
			}
			m, err := sysv.OpenSharedMemory(key, 0, 0, 0)
			if err != nil {
				return err
			}
			defer m.Close()
			end := m.Size()
			if cmd.Flags().Changed("length") {
				end = int(readOffset) + int(length)
			}
			switch {
			case int(readOffset) > m.Size():
				return fmt.Errorf("read %v: offset %d is past the segment's %d bytes", key, readOffset, m.Size())
			case end > m.Size():
				return fmt.Errorf("read %v: bytes %d to %d are past the segment's %d bytes", key, readOffset, end, m.Size())
			}
			mem, err := m.Attach(sysv.ReadOnly)
			if err != nil {
				return err
			}
			data := mem[readOffset:end]
			if !cmd.Flags().Changed("length") {
				data = cString(data)
			}
			if err := writePayload(cmd.OutOrStdout(), data, asJSON, map[string]any{"offset": int64(readOffset)}); err != nil {
				return err
			}
			return m.Detach(mem)
		},
	}
	read.Flags().Var(&readOffset, "offset", "where to start, in bytes")
	read.Flags().Var(&length, "length", "print exactly this many bytes (default: up to the first NUL)")
	read.Flags().BoolVar(&asJSON, "json", false, `print {"data": ..., "offset": N}`)

	shm.AddCommand(write, read,
		sysvStat("segment", func(key sysv.Key) ([]field, error) {
			m, err := sysv.OpenSharedMemory(key, 0, 0, 0)
			if err != nil {
				return nil, err
			}
			defer m.Close()
			st, err := m.Stat()
			if err != nil {
				return nil, err
			}
			return append(permFields(m.ID(), st.Perm),
				field{"size", st.Size}, field{"attached", st.Attached},
				field{"creator_pid", st.CreatorPID}, field{"last_pid", st.LastPID},
				field{"attach_time", when(st.AttachTime)}, field{"detach_time", when(st.DetachTime)}), nil
		}),
		sysvRm("segment", inventory.SysvShm, func(key sysv.Key) error { return removeWith(sysv.OpenSharedMemory(key, 0, 0, 0)) }))
	return shm
}

// checkSemNum refuses a --num that no set can have: sem_num is unsigned
// short.
func checkSemNum(num int) error {
	if num < 0 || num > 65535 {
		return cli.Usagef("invalid --num %d: want 0 to 65535", num)
	}
	return nil
}

func sysvSemCommand() *cobra.Command {
	sem := &cobra.Command{Use: "sem", Short: "System V semaphore sets (semget, semop, semctl)"}

	// openSet opens the set, creating one of count semaphores with create.
	var (
		create bool
		count  int
		mode   = modeValue(sysv.DefaultMode)
	)
	// An existing set is opened as it is, as write opens a segment: semget
	// with more semaphores than the set has fails, even with IPC_CREAT.
	openSet := func(key sysv.Key) (*sysv.SemaphoreSet, error) {
		if create && count < 1 {
			return nil, cli.Usagef("invalid --count %d: a set has at least one semaphore", count)
		}
		s, err := sysv.OpenSemaphoreSet(key, 0, 0, 0)
		if create && errors.Is(err, fs.ErrNotExist) {
			return sysv.OpenSemaphoreSet(key, count, sysv.Create, os.FileMode(mode))
		}
		return s, err
	}
	createFlags := func(c *cobra.Command) {
		c.Flags().BoolVar(&create, "create", false, "create the set (all values 0) if it does not exist")
		c.Flags().IntVar(&count, "count", 1, "semaphores in a set that --create makes")
		c.Flags().Var(&mode, "mode", "permission bits of a new set")
	}

	var (
		num, delta int
		undo       bool
		printValue bool
		opWait     *waitFlags
	)
	op := &cobra.Command{
		Use:   "op [KEY] --num I --delta D",
		Short: "Add --delta to semaphore --num, waiting while the value would go below 0",
		Long: `op applies one semop: a positive --delta adds to the semaphore; a negative one
waits until the value is at least -D and subtracts it; 0 waits until the value
is 0. --undo makes the kernel revert it when this process exits.`,
		Args: cli.Args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			key, _, err := sysvKey(a, 0)
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("delta") {
				return cli.Usagef("--delta is required")
			}
			if delta < -32768 || delta > 32767 {
				return cli.Usagef("invalid --delta %d: want -32768 to 32767 (a short, as semop takes)", delta)
			}
			if err := checkSemNum(num); err != nil {
				return err
			}
			if printValue {
				if err := checkStdout(); err != nil {
					return err
				}
			}
			s, err := openSet(key)
			if err != nil {
				return err
			}
			defer s.Close()
			o := sysv.SemOp{Num: uint16(num), Delta: int16(delta)}
			if undo {
				o.Flags |= sysv.SemUndo
			}
			if opWait.noWait() {
				o.Flags |= sysv.SemNoWait
			}
			if !opWait.noWait() {
				notifyReady("semaphore %d of key %v", num, key)
			}
			ctx, cancel := opWait.context()
			defer cancel()
			if err := s.Op(ctx, o); err != nil {
				return nowait(err)
			}
			if !printValue {
				return nil
			}
			v, err := s.Value(num)
			if err != nil {
				return err
			}
			if _, err := fmt.Fprintln(cmd.OutOrStdout(), v); err != nil {
				// The opposite operation, with the same SEM_UNDO: the
				// kernel's adjustment at exit cancels out too.
				back := sysv.SemOp{Num: o.Num, Delta: -o.Delta, Flags: o.Flags&sysv.SemUndo | sysv.SemNoWait}
				return undoTake(err, func() error { return s.Op(context.Background(), back) },
					"the semaphore was given back", "giving the semaphore back failed too")
			}
			return nil
		},
	}
	f := op.Flags()
	f.IntVar(&num, "num", 0, "which semaphore of the set")
	f.IntVar(&delta, "delta", 0, "what to add (negative: take, waiting if need be; 0: wait for zero)")
	f.BoolVar(&undo, "undo", false, "revert the operation when this process exits (SEM_UNDO)")
	opWait = addWait(op, "give up waiting after this long", "fail at once (exit 4) instead of waiting")
	f.BoolVar(&printValue, "print-value", false, "print the semaphore's value after the operation")
	createFlags(op)

	var getNum int
	var getJSON bool
	get := &cobra.Command{
		Use:   "get [KEY]",
		Short: "Print the value of semaphore --num, or of all of them on one line",
		Args:  cli.Args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			key, _, err := sysvKey(a, 0)
			if err != nil {
				return err
			}
			s, err := sysv.OpenSemaphoreSet(key, 0, 0, 0)
			if err != nil {
				return err
			}
			defer s.Close()
			var vals []int
			fields := []field{{"key", int32(key)}, {"key_hex", key.String()}}
			if cmd.Flags().Changed("num") {
				if err := checkSemNum(getNum); err != nil {
					return err
				}
				v, err := s.Value(getNum)
				if err != nil {
					return err
				}
				vals = []int{v}
				fields = append(fields, field{"num", getNum}, field{"value", v})
			} else if vals, err = s.Values(); err != nil {
				return err
			} else {
				fields = append(fields, field{"values", vals})
			}
			if getJSON {
				return printFields(cmd.OutOrStdout(), fields, true)
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), strings.Trim(fmt.Sprint(vals), "[]"))
			return err
		},
	}
	get.Flags().IntVar(&getNum, "num", 0, "which semaphore of the set")
	get.Flags().BoolVar(&getJSON, "json", false, `print {"key": K, "key_hex": ..., "values": [...]}, or with --num "num" and "value"`)

	var setNum int
	set := &cobra.Command{
		Use:   "set [KEY] VALUE --num I",
		Short: "Set semaphore --num to VALUE (SETVAL)",
		Args:  cli.Args(cobra.RangeArgs(1, 2)),
		RunE: func(cmd *cobra.Command, a []string) error {
			key, a, err := sysvKey(a, 1)
			if err != nil {
				return err
			}
			v, err := strconv.Atoi(a[0])
			if err != nil || v < 0 || v > sysv.SemValueMax {
				return cli.Usagef("invalid VALUE %q: want 0 to %d", a[0], sysv.SemValueMax)
			}
			if err := checkSemNum(setNum); err != nil {
				return err
			}
			s, err := openSet(key)
			if err != nil {
				return err
			}
			defer s.Close()
			return s.SetValue(setNum, v)
		},
	}
	set.Flags().IntVar(&setNum, "num", 0, "which semaphore of the set")
	createFlags(set)

	sem.AddCommand(op, get, set,
		sysvStat("semaphore set", func(key sysv.Key) ([]field, error) {
			s, err := sysv.OpenSemaphoreSet(key, 0, 0, 0)
			if err != nil {
				return nil, err
			}
			defer s.Close()
			st, err := s.Stat()
			if err != nil {
				return nil, err
			}
			vals, err := s.Values()
			if err != nil {
				return nil, err
			}
			return append(permFields(s.ID(), st.Perm),
				field{"count", st.Count}, field{"values", vals}, field{"last_op", when(st.OpTime)}), nil
		}),
		sysvRm("semaphore set", inventory.SysvSem, func(key sysv.Key) error { return removeWith(sysv.OpenSemaphoreSet(key, 0, 0, 0)) }))
	return sem
}
