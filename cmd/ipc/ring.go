package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/goipc/ipc/internal/cli"
	"github.com/goipc/ipc/internal/errs"
	"github.com/goipc/ipc/ring"
)

// The shared-memory message ring (package ring): its commands and its row
// of `ipc demo`, all in this file.
func init() {
	rootCmd.AddCommand(ringCommand())
	addDemo("ring", func(d *demo) demoPlan {
		name := "/" + d.unique()
		d.cleanup(func() { ring.Unlink(name) })
		msg := "hello through a shared-memory ring"
		return demoPlan{
			message:  msg,
			receiver: []string{"ring", "recv", name, "--timeout", "10s"},
			sender:   func(int) []string { return []string{"ring", "send", name, msg, "--create"} },
		}
	})
}

func ringCommand() *cobra.Command {
	group := &cobra.Command{
		Use:   "ring",
		Short: "The shared-memory message ring (package ring; C and Python peers in csrc/)",
		Long: `A ring is a POSIX shared memory object (/dev/shm/NAME) that many processes,
in Go, C (csrc/goipc_ring.h) or Python (csrc/goipc_ring.py), send messages
through, without the kernel queues' limits. A new ring gets mode 0600 unless
--mode says otherwise, whatever the umask; it stays until rm.`,
	}

	var (
		create   bool
		mode     = modeValue(0o600)
		capacity = cli.SizeValue(ring.DefaultCapacity)
		sendWait *waitFlags
		in       *payload
	)
	send := &cobra.Command{
		Use:   "send NAME MSG",
		Short: "Send MSG, waiting while the ring is full",
		RunE: func(cmd *cobra.Command, a []string) error {
			a, msg, err := in.split(a)
			if err != nil {
				return err
			}
			if c := int64(capacity); create && (c%8 != 0 || c < ring.MinCapacity || c > ring.MaxCapacity) {
				return cli.Usagef("invalid --capacity %d: a ring's data area is a multiple of 8 bytes, from %d to 1TiB", c, ring.MinCapacity)
			}
			r, made, err := openMade(create, func(exclusive bool) (*ring.Ring, error) {
				return ring.Open(a[0], &ring.Options{Create: create, Exclusive: exclusive, Mode: os.FileMode(mode), Capacity: int64(capacity)})
			})
			if err != nil {
				return err
			}
			defer r.Close()
			if made && len(msg) > r.MaxMessage() {
				// The send fails: leave no new ring behind.
				defer ring.Unlink(r.Name())
			}
			if sendWait.noWait() {
				return nowaitFull(r.TrySend(msg), "ring")
			}
			ctx, cancel := sendWait.context()
			defer cancel()
			return interruptible(ctx, "ring send", r.Name(), func(ctx context.Context) error { return r.Send(ctx, msg) })
		},
	}
	f := send.Flags()
	f.BoolVar(&create, "create", false, "create the ring if it does not exist")
	f.Var(&capacity, "capacity", "bytes of a new ring's data area (a multiple of 8; the largest message is about half)")
	f.Var(&mode, "mode", "permission bits of a new ring, whatever the umask")
	sendWait = addWait(send, "give up waiting for room after this long", "fail at once (exit 4) if the ring is full")
	in = payloadFlag(send, 1, 1)

	var (
		recvWait *waitFlags
		asJSON   bool
	)
	recv := &cobra.Command{
		Use:   "recv NAME",
		Short: "Receive the oldest message, waiting while the ring is empty",
		Args:  cli.Args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := checkStdout(); err != nil {
				return err
			}
			r, err := ring.Open(a[0], nil)
			if err != nil {
				return err
			}
			defer r.Close()
			buf := make([]byte, r.MaxMessage())
			var n int
			if recvWait.noWait() {
				n, err = r.TryReceive(buf)
			} else {
				notifyReady("a message on ring %s", r.Name())
				ctx, cancel := recvWait.context()
				defer cancel()
				err = interruptible(ctx, "ring receive", r.Name(), func(ctx context.Context) (err error) {
					n, err = r.Receive(ctx, buf)
					return err
				})
			}
			if err != nil {
				return nowait(err)
			}
			data := buf[:n]
			return deliver(cmd.OutOrStdout(), data, asJSON, nil, "ring "+r.Name()+", behind the messages already there",
				func() error { return r.TrySend(data) })
		},
	}
	f = recv.Flags()
	recvWait = addWait(recv, "give up waiting after this long", "fail at once (exit 4) if the ring is empty")
	f.BoolVar(&asJSON, "json", false, `print {"data": ...}`)

	var statJSON bool
	stat := &cobra.Command{
		Use:   "stat NAME",
		Short: "Show the ring's mode, owner, capacity and the messages queued",
		Args:  cli.Args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			r, err := ring.Open(a[0], nil)
			if err != nil {
				return err
			}
			defer r.Close()
			fi, err := os.Stat("/dev/shm" + r.Name())
			if err != nil {
				return err
			}
			s, err := r.Stat()
			if err != nil {
				return err
			}
			return printFields(cmd.OutOrStdout(), append(ownerFields(r.Name(), fi),
				field{"capacity", s.Capacity}, field{"max_message", s.MaxMessage}, field{"messages", s.Messages},
				field{"used", s.Used}, field{"sleepers", s.Sleepers}), statJSON)
		},
	}
	stat.Flags().BoolVar(&statJSON, "json", false, "print one JSON object")

	group.AddCommand(send, recv, stat, rmCommand("ring", ring.Unlink))
	return group
}

// interruptible runs wait with ctx, which SIGINT, SIGTERM and SIGHUP also
// cancel: a process that dies asleep on a ring leaves its sleepers count one
// too high for good, while a cancelled wait takes itself off.
func interruptible(parent context.Context, op, name string, wait func(context.Context) error) error {
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	err := wait(ctx)
	if err != nil && ctx.Err() != nil && parent.Err() == nil {
		return errs.Path(op, name, errors.New("interrupted"))
	}
	return err
}
