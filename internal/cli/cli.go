// Package cli holds what goipc's commands (ipc, mpidemo) share: the exit
// status of usage errors, the run-and-exit of a cobra tree, and size parsing.
package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
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

// IsUsage says whether err is, or wraps, a usage error.
func IsUsage(err error) bool {
	var ue usageError
	return errors.As(err, &ue)
}

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
func Main(root *cobra.Command, exitCode func(error) int) { MainJob(root, exitCode, nil) }

// MainJob is Main for a program whose processes are the ranks of an MPI
// job. On a usage error under a launcher, rank 0 says it, then join joins
// the job (MPI_Init) and says whether this rank belongs to a program other
// than rank 0's (MPMD), which must say it too; the process then exits 2
// without finalizing, which ends the whole job under Open MPI and Hydra
// alike. (Exiting before MPI_Init would leave the ranks of the other
// programs waiting for this one forever under Hydra, and unseen by rank 0.)
func MainJob(root *cobra.Command, exitCode func(error) int, join func() (other bool)) {
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
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	strictHelp(root)
	rejectUnknownVerbs(root)
	root.SilenceErrors, root.SilenceUsage = true, true
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return flagError(err) })
	// Cobra ignores a failed write of help, and prints that of --version
	// itself, to Out: what the commands print goes through stdout, which
	// remembers its first failure for them.
	root.SetOut(stdout)

	err := root.Execute()
	if stdout.err != nil && (err == nil || !started) {
		var pe *fs.PathError
		werr := stdout.err
		if errors.As(werr, &pe) {
			werr = pe.Err
		}
		fmt.Fprintf(os.Stderr, "%s: write stdout: %v\n", root.Name(), werr)
		os.Exit(1)
	}
	if err == nil {
		return
	}
	var ue usageError
	if !started || errors.As(err, &ue) {
		say := func() { fmt.Fprintf(os.Stderr, "%s: %v\nRun '%s --help' for usage.\n", root.Name(), err, root.Name()) }
		rank, launched := jobRank()
		switch {
		case !launched || rank == 0:
			say()
			if launched && join != nil {
				join()
			}
		case join != nil:
			if join() {
				say()
			}
		case os.Getenv("OMPI_COMM_WORLD_RANK") != "":
			// Rank 0 says it. Open MPI's mpiexec ends the whole job when a
			// rank exits non-zero, which could end rank 0 before it has: so
			// wait for mpiexec to end this rank once rank 0 has exited, and
			// exit anyway if rank 0 is a program that never does.
			time.Sleep(otherRankPatience)
		}
		os.Exit(ExitUsage)
	}
	fmt.Fprintf(os.Stderr, "%s: %v\n", root.Name(), err)
	os.Exit(exitCode(err))
}

// Stdout is os.Stdout for what a command prints other than through cobra
// (fmt.Fprintf(cli.Stdout, ...)): Main and MainJob report its first failed
// write, as they do cobra's, and exit 1.
var Stdout io.Writer = stdout

var stdout = &stdoutWriter{}

// stdoutWriter writes to os.Stdout and keeps the first error.
type stdoutWriter struct{ err error }

func (w *stdoutWriter) Write(p []byte) (int, error) {
	n, err := os.Stdout.Write(p)
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

// otherRankPatience bounds how long a rank other than 0 waits, on a usage
// error under Open MPI, for mpiexec to end it.
const otherRankPatience = 10 * time.Second

// jobRank returns this process's MPI rank, as mpiexec tells each rank
// before MPI is initialised, and whether a launcher started it: every rank of
// a program sees the same bad command line, and rank 0 alone says so.
func jobRank() (rank int, launched bool) {
	for _, v := range []string{"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"} {
		if r, ok := os.LookupEnv(v); ok {
			n, err := strconv.Atoi(r)
			if err != nil {
				n = -1 // not rank 0, whatever it is
			}
			return n, true
		}
	}
	return 0, false
}

// strictHelp makes `help TOPIC` of a topic that does not exist a usage error;
// cobra prints "Unknown help topic" and exits 0.
func strictHelp(root *cobra.Command) {
	for _, c := range root.Commands() {
		if c.Name() != "help" {
			continue
		}
		c.Run = nil
		c.RunE = func(cmd *cobra.Command, args []string) error {
			target, rest, err := root.Find(args)
			if err != nil || len(rest) > 0 {
				return Usagef("unknown help topic %q (run '%s help' for the commands)", strings.Join(args, " "), root.Name())
			}
			return target.Help()
		}
	}
}

// flagError restates a bad flag value in the command line's words, naming
// the flag and the value: pflag says `invalid argument "x" for "--n" flag:
// strconv.ParseInt: parsing "x": invalid syntax`.
func flagError(err error) error {
	var bad *pflag.InvalidValueError
	if !errors.As(err, &bad) {
		return usageError{err}
	}
	f, v, cause := bad.GetFlag(), bad.GetValue(), bad.Unwrap()
	var num *strconv.NumError
	switch {
	case f.Value.Type() == "duration":
		return Usagef("invalid --%s %q: want a duration such as 500ms or 2s", f.Name, v)
	case errors.As(cause, &num):
		want := "a number"
		switch t := f.Value.Type(); {
		case strings.HasPrefix(t, "int"):
			want = "a whole number"
		case strings.HasPrefix(t, "uint"):
			want = "a whole number, 0 or more"
		case t == "bool":
			want = "true or false"
		}
		if errors.Is(num.Err, strconv.ErrRange) {
			return Usagef("invalid --%s %q: out of range (want %s that fits)", f.Name, v, want)
		}
		return Usagef("invalid --%s %q: want %s", f.Name, v, want)
	}
	return Usagef("invalid --%s %q: %v", f.Name, v, cause)
}

// rejectUnknownVerbs makes `ipc posix bogus` and `ipc ""` usage errors:
// cobra checks the words after the root only, passes over an empty one, and
// shows a group's help for any others.
func rejectUnknownVerbs(c *cobra.Command) {
	for _, sub := range c.Commands() {
		rejectUnknownVerbs(sub)
	}
	if !c.HasSubCommands() || c.Runnable() {
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
		// The flag's error names the flag and the value: this says what fits.
		return 0, errors.New("want a whole number of bytes, or of KiB, MiB or GiB")
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

// FileKinds names the file types that the commands talk about.
var FileKinds = map[fs.FileMode]string{
	0:                                 "regular file",
	fs.ModeDir:                        "directory",
	fs.ModeNamedPipe:                  "FIFO",
	fs.ModeSocket:                     "socket",
	fs.ModeSymlink:                    "symbolic link",
	fs.ModeDevice:                     "device",
	fs.ModeDevice | fs.ModeCharDevice: "character device",
}

// FileKind names the type of a file of mode m: "FIFO", "character device".
func FileKind(m fs.FileMode) string {
	if k, ok := FileKinds[m.Type()]; ok {
		return k
	}
	return "file of type " + m.Type().String()
}
