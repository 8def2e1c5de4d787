// Package cli holds what goipc's commands (ipc, mpidemo) share: the exit
// status of usage errors, the run-and-exit of a cobra tree, and size parsing.
package cli

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// ExitUsage is the exit status of a bad command line.
const ExitUsage = 2

// usageError marks a bad command line.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// Usage marks err as a usage error: exit status 2.
func Usage(err error) error { return usageError{err} }

// Usagef is Usage of a formatted error.
func Usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// Args wraps a cobra argument check so that its failure is a usage error.
func Args(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if err := check(cmd, a); err != nil {
			return usageError{err}
		}
		return nil
	}
}

// Main runs the command tree root and exits. Errors go to stderr as
// "NAME: <error>". A usage error, or any error cobra reports before a
// command's body starts (unknown command, bad flag, wrong argument count,
// negative duration), exits 2; any other error exits exitCode(err).
func Main(root *cobra.Command, exitCode func(error) int) {
	started := false
	// Cobra runs the persistent pre-run hook after its flag and argument checks.
	pre := root.PersistentPreRunE
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		started = true
		if err := checkDurations(cmd); err != nil {
			return err
		}
		if pre != nil {
			return pre(cmd, args)
		}
		return nil
	}
	rejectUnknownVerbs(root)
	root.SilenceErrors, root.SilenceUsage = true, true
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })

	err := root.Execute()
	if err == nil {
		return
	}
	var ue usageError
	if !started || errors.As(err, &ue) {
		fmt.Fprintf(os.Stderr, "%s: %v\nRun '%s --help' for usage.\n", root.Name(), err, root.Name())
		os.Exit(ExitUsage)
	}
	fmt.Fprintf(os.Stderr, "%s: %v\n", root.Name(), err)
	os.Exit(exitCode(err))
}

// rejectUnknownVerbs makes `ipc posix bogus` a usage error: cobra checks
// the words after the root only, and shows a group's help for any others.
func rejectUnknownVerbs(c *cobra.Command) {
	for _, sub := range c.Commands() {
		rejectUnknownVerbs(sub)
	}
	if !c.HasParent() || !c.HasSubCommands() || c.Runnable() {
		return
	}
	c.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return Usagef("unknown command %q for %q", args[0], cmd.CommandPath())
		}
		return cmd.Help()
	}
}

// checkDurations refuses a negative duration flag as a usage error: a
// --timeout of -1s would otherwise quietly mean no timeout at all.
func checkDurations(cmd *cobra.Command) error {
	var err error
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if f.Value.Type() != "duration" || err != nil {
			return
		}
		if d, _ := time.ParseDuration(f.Value.String()); d < 0 {
			err = Usagef("invalid --%s %v: a duration cannot be negative", f.Name, d)
		}
	})
	return err
}

// ParseSize reads a size in bytes: 4096, 4KiB, 1MiB, 2GiB (K, M, G alone mean
// the same binary units).
func ParseSize(v string) (int64, error) {
	units := []struct {
		suffix string
		scale  int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}}
	num, scale := v, int64(1)
	for _, u := range units {
		if n, ok := strings.CutSuffix(v, u.suffix); ok {
			num, scale = n, u.scale
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	if err != nil || n < 0 || n > (1<<62)/scale {
		return 0, fmt.Errorf("invalid size %q (want bytes, or a number with KiB, MiB or GiB)", v)
	}
	return n * scale, nil
}

// SizeValue is a flag of bytes in ParseSize's syntax.
type SizeValue int64

func (s *SizeValue) String() string { return strconv.FormatInt(int64(*s), 10) }
func (s *SizeValue) Type() string   { return "size" }
func (s *SizeValue) Set(v string) error {
	n, err := ParseSize(v)
	if err != nil {
		return err
	}
	*s = SizeValue(n)
	return nil
}
