package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"

	"github.com/goipc/ipc/internal/cli"
	"github.com/goipc/ipc/internal/errs"
	"github.com/spf13/cobra"
)

// pipeWriterCmd is the hidden command that ipc pipe runs as its child.
const pipeWriterCmd = "pipe-writer"

func init() {
	var asJSON bool
	var in *payload
	pipe := &cobra.Command{
		Use:   "pipe MSG",
		Short: "A child process writes MSG into an anonymous pipe; the parent prints what it read",
		Long: `An anonymous pipe joins only related processes: ipc creates the pipe, starts a
child (ipc itself) holding the write end as descriptor 3, closes its own copy
of the write end and reads until the child's end closes, then prints what came
through. The child gets MSG on its stdin, so a message of any size (- or
--file) reaches it.`,
		RunE: func(cmd *cobra.Command, a []string) error {
			_, msg, err := in.split(a)
			if err != nil {
				return err
			}
			data, writer, err := readFromChild(msg)
			if err != nil {
				return err
			}
			return writePayload(cmd.OutOrStdout(), data, asJSON, map[string]any{"writer_pid": writer})
		},
	}
	jsonFlag(pipe, &asJSON)
	in = payloadFlag(pipe, 0, 0)
	rootCmd.AddCommand(pipe, &cobra.Command{
		Use:    pipeWriterCmd,
		Short:  "Copy stdin to descriptor 3 (the child of ipc pipe)",
		Hidden: true,
		Args:   cli.Args(cobra.NoArgs),
		RunE: func(_ *cobra.Command, a []string) error {
			w := os.NewFile(3, "pipe")
			if _, err := io.Copy(w, os.Stdin); err != nil {
				return errs.Path("write", "pipe", errors.Unwrap(err))
			}
			return w.Close()
		},
	})

	addDemo("pipe", func(*demo) demoPlan {
		msg := "hello through a pipe"
		return demoPlan{message: msg, receiver: []string{"pipe", msg}}
	})
}

// readFromChild runs the hidden writer with the pipe's write end and returns
// everything it wrote, and its pid.
func readFromChild(msg []byte) ([]byte, int, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, 0, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, 0, errs.Syscall("pipe", err)
	}
	defer r.Close()
	child := exec.Command(self, pipeWriterCmd)
	child.Stdin = bytes.NewReader(msg)
	child.ExtraFiles = []*os.File{w}
	child.Stderr = os.Stderr
	err = child.Start()
	w.Close() // the child's copy is now the only writer: its exit ends the stream
	if err != nil {
		return nil, 0, err
	}
	data, err := io.ReadAll(r)
	if werr := child.Wait(); werr != nil {
		return nil, 0, fmt.Errorf("pipe writer (pid %d): %v", child.Process.Pid, werr)
	}
	return data, child.Process.Pid, errs.Path("read", "pipe", err)
}
