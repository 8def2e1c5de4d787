package main

// Where a sender's message comes from: the MSG argument, stdin (MSG "-"), or
// a file (--file PATH), bytes as they are, NUL bytes included.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/goipc/ipc/internal/cli"
	"github.com/goipc/ipc/internal/errs"
)

// maxPayload bounds a message read from stdin or --file, which is held whole
// to be sent as one: the --json bound of the receivers.
const maxPayload = 64 << 20

// payload is the --file flag of one sending command.
type payload struct {
	cmd  *cobra.Command
	file string
}

// payloadFlag adds --file to c, a command whose last argument is MSG (or
// DATA): with --file, MSG is left out. It replaces c's argument check, which
// counted MSG, by one of min to max arguments without MSG.
func payloadFlag(c *cobra.Command, min, max int) *payload {
	p := &payload{cmd: c}
	c.Flags().StringVar(&p.file, "file", "", `read the message from this file instead of MSG (MSG "-" reads stdin)`)
	c.Args = cli.Args(func(cmd *cobra.Command, a []string) error {
		if p.given() {
			if p.file == "" {
				return errors.New("--file needs a file name")
			}
			if len(a) > max {
				return fmt.Errorf("--file gives the message: accepts at most %d arg(s) beside it, received %d", max, len(a))
			}
			return nil
		}
		if min == max {
			return cobra.ExactArgs(max+1)(cmd, a) // "accepts 2 arg(s)", not "between 2 and 2"
		}
		return cobra.RangeArgs(min+1, max+1)(cmd, a)
	})
	return p
}

// given reports whether --file is on the command line, even as --file "".
func (p *payload) given() bool { return p.cmd.Flags().Changed("file") }

// split returns the arguments before the message, and the message: MSG,
// stdin when MSG is "-", or the --file.
func (p *payload) split(a []string) ([]string, []byte, error) {
	if p.given() {
		data, err := readPayload(p.file, nil)
		return a, data, err
	}
	last := a[len(a)-1]
	if last != "-" {
		return a[:len(a)-1], []byte(last), nil
	}
	data, err := readPayload("stdin", os.Stdin)
	return a[:len(a)-1], data, err
}

// readPayload reads a whole message, at most maxPayload bytes, from f or the
// file at path. The file is opened without blocking, so a FIFO with no
// writer reads as empty rather than waiting.
func readPayload(path string, f *os.File) ([]byte, error) {
	if f == nil {
		var err error
		if f, err = openReading("open", path); err != nil {
			return nil, err
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil && fi.IsDir() {
			return nil, errs.Path("read", path, syscall.EISDIR)
		}
	}
	data, err := io.ReadAll(io.LimitReader(f, maxPayload+1))
	if err != nil {
		return nil, fileErr("read", path, err)
	}
	if len(data) > maxPayload {
		return nil, errs.Path("read", path, errs.Invalid("message over %d bytes, the most a sender holds", maxPayload))
	}
	return data, nil
}

// asPositional rewrites the command line args (os.Args without the program)
// so that an argument starting with a single "-" that cannot be flags of its
// command, such as a message "-hello", "-1" or "- note", is taken as an
// argument: it goes after "--". An argument that could be a flag is left to
// be one, and so is anything starting with "--": "--prority 3" is a typo to
// report, not a message ("--" before MSG sends one that starts so).
func asPositional(root *cobra.Command, args []string) []string {
	cmd, rest, err := root.Find(args)
	if err != nil || cmd == root || len(rest) == 0 {
		return args
	}
	short := func(c byte) bool {
		return cmd.Flags().ShorthandLookup(string(c)) != nil || cmd.InheritedFlags().ShorthandLookup(string(c)) != nil || c == 'h'
	}
	var flags, positional []string
	moved := false
	for i := 0; i < len(rest); i++ {
		tok := rest[i]
		switch {
		case tok == "--":
			positional = append(positional, rest[i+1:]...)
			i = len(rest)
		case strings.HasPrefix(tok, "--"):
			name, _, hasValue := strings.Cut(tok[2:], "=")
			flags = append(flags, tok)
			if f := cmd.Flags().Lookup(name); f != nil && !hasValue && f.NoOptDefVal == "" && i+1 < len(rest) {
				i++
				flags = append(flags, rest[i])
			}
		case len(tok) > 1 && tok[0] == '-':
			if !allShort(tok[1:], short) {
				positional, moved = append(positional, tok), true
				continue
			}
			flags = append(flags, tok)
		default:
			positional = append(positional, tok)
		}
	}
	if !moved {
		return args
	}
	path := strings.Fields(cmd.CommandPath())[1:]
	return append(append(append(path, flags...), "--"), positional...)
}

// allShort says whether every letter of s is a flag's shorthand.
func allShort(s string, short func(byte) bool) bool {
	for i := range len(s) {
		if !short(s[i]) {
			return false
		}
	}
	return true
}
