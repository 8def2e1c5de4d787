package main

import (
	"fmt"
	"net"
	"strings"

	"github.com/goipc/ipc/internal/cli"
	"github.com/spf13/cobra"
)

const defaultTCPAddr = "127.0.0.1:50007"

func init() {
	group := &cobra.Command{
		Use:   "tcp",
		Short: "The walk-through's TCP echo server and client",
		Long: `recv is an echo server: it sends every byte back as it reads it and, when the
client closes its sending half, prints what the connection carried. send
connects, sends MSG, closes its sending half and prints the echo. Any client or
server that speaks this plain exchange can take either side.`,
	}
	var addr string
	var sendWait, recvWait *waitFlags
	var in *payload
	var count int
	var asJSON bool

	send := &cobra.Command{
		Use:   "send MSG",
		Short: "Send MSG to the echo server at --addr and print the echo",
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := clientWait(sendWait); err != nil {
				return err
			}
			_, msg, err := in.split(a)
			if err != nil {
				return err
			}
			echo, err := echoRequest(echoEnd{network: "tcp", addr: addr, wait: sendWait}, msg)
			if err != nil {
				return err
			}
			return writePayload(cmd.OutOrStdout(), echo, false, nil)
		},
	}
	recv := &cobra.Command{
		Use:   "recv",
		Short: "Serve --count connections (0: forever) as an echo server on --addr",
		Args:  cli.Args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkCount(count); err != nil {
				return err
			}
			if err := checkStdout(); err != nil {
				return err
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return inUseHint(netErr("listen", addr, err), "another socket listens there; stop it or choose another --addr")
			}
			if a, ok := ln.Addr().(*net.TCPAddr); ok && strings.HasSuffix(addr, ":0") {
				// The port is known only now; the sender needs it.
				fmt.Fprintf(cmd.ErrOrStderr(), "ipc: listening on %s\n", a)
			}
			return serveEcho(ln, echoEnd{"tcp", addr, recvWait, count, asJSON}, cmd.OutOrStdout())
		},
	}
	in = payloadFlag(send, 0, 0)
	recv.Flags().IntVar(&count, "count", 1, "connections to serve before exiting (0: never exit)")
	jsonFlag(recv, &asJSON)
	for _, c := range []*cobra.Command{send, recv} {
		c.Flags().StringVar(&addr, "addr", defaultTCPAddr, "host:port of the server")
	}
	sendWait = addClientWait(send, "give up waiting for the server and its echo after this long")
	recvWait = addWait(recv, "give up waiting for a connection and its data after this long", "")
	group.AddCommand(send, recv)
	rootCmd.AddCommand(group)

	addDemo("tcp", func(*demo) demoPlan {
		addr := freeTCPAddr()
		msg := "hello over TCP"
		return demoPlan{
			message:  msg,
			receiver: []string{"tcp", "recv", "--addr", addr},
			sender:   func(int) []string { return []string{"tcp", "send", "--addr", addr, msg} },
			ready:    true,
			received: echoReceived,
		}
	})
}

// freeTCPAddr returns a loopback address with a port that was free a moment
// ago: the sender must know the port before the receiver starts.
func freeTCPAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return defaultTCPAddr // the receiver will report why it cannot listen
	}
	defer ln.Close()
	return ln.Addr().String()
}
