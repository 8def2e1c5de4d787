package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/goipc/ipc/internal/cli"
	"github.com/goipc/ipc/internal/errs"
	"github.com/goipc/ipc/inventory"
	"github.com/goipc/ipc/sysv"
	"github.com/spf13/cobra"
)

func init() {
	var sel selection
	var orphans, dryRun, skipHidden, asJSON bool
	var idle time.Duration
	rm := &cobra.Command{
		Use:   "rm KIND NAME|KEY|id=ID... | rm --orphans [--idle D] [--dry-run]",
		Short: "Remove IPC objects by name, key or id, or every orphan",
		Long: `rm KIND TARGET... removes objects of one kind, one of
` + kindList() + `.
A POSIX TARGET is a name (/foo); a System V TARGET is a KEY (decimal, 0x hex,
or PATH:PROJ as elsewhere) or id=ID, as ipc ls shows them. Processes that
still use an object keep it until they let go; it just cannot be found.

rm --orphans removes only what the kernel shows unused, and prints each with
the reason:
  - a System V segment with no attachment whose creator is gone;
  - a POSIX queue, segment or semaphore that no process has open or mapped
    (read from /proc/PID/fd and /proc/PID/maps);
  - with --idle D, a System V queue or semaphore set whose recorded pids are
    all gone and that nobody changed or used for D (the kernel keeps no
    creator for those, so without --idle they are never orphans).
Anything in doubt is kept. A process the caller may not inspect (another
user's, for an unprivileged caller) might use any POSIX object, so while one
exists none is removed; --skip-uninspectable ignores such processes. A queue
holding messages for a receiver that has not started yet has no user: run
with --dry-run first. --kind and --owner select as for ls; objects the
caller cannot see (ls --all) are never swept, as only their owner or root
could remove them.`,
		Args: cli.Args(func(cmd *cobra.Command, a []string) error {
			switch {
			case orphans && len(a) > 0:
				return errors.New("rm --orphans takes no KIND or TARGET")
			case !orphans && len(a) < 2:
				return errors.New("rm needs KIND and at least one TARGET, or --orphans")
			case !orphans && (dryRun || idle != 0 || skipHidden || asJSON || cmd.Flags().Changed("kind") ||
				cmd.Flags().Changed("owner")):
				return errors.New("--dry-run, --idle, --skip-uninspectable, --json, --kind and --owner go with --orphans")
			case idle < 0:
				return fmt.Errorf("--idle %v is negative", idle)
			}
			return nil
		}),
		RunE: func(cmd *cobra.Command, a []string) error {
			if !orphans {
				return removeTargets(cmd.ErrOrStderr(), a[0], a[1:])
			}
			opts, err := sel.options()
			if err != nil {
				return err
			}
			opts.Idle, opts.SkipUninspectable = idle, skipHidden
			mountMqueue(opts, cmd.ErrOrStderr())
			warnUninspectable(cmd.ErrOrStderr(), opts)
			return sweep(cmd.OutOrStdout(), opts, dryRun, asJSON)
		},
	}
	sel.flags(rm)
	rm.Flags().BoolVar(&orphans, "orphans", false, "remove every object the kernel shows unused")
	rm.Flags().DurationVar(&idle, "idle", 0, "with --orphans: also System V queues and semaphore sets unused for this long")
	rm.Flags().BoolVar(&dryRun, "dry-run", false, "with --orphans: list what would be removed, remove nothing")
	rm.Flags().BoolVar(&skipHidden, "skip-uninspectable", false, "with --orphans: assume processes the caller may not inspect use no POSIX object")
	rm.Flags().BoolVar(&asJSON, "json", false, "with --orphans: print a JSON array of the objects and reasons")
	rootCmd.AddCommand(rm)
}

// removeTargets removes each target of kind; every failure is reported, the
// last one as the command's error. A malformed target is a usage error found
// before anything is removed.
func removeTargets(stderr io.Writer, kindArg string, targets []string) error {
	kind, err := inventory.ParseKind(kindArg)
	if err != nil {
		return badInput(err)
	}
	found := make([]inventory.Object, len(targets))
	lookErr := make([]error, len(targets))
	for i, target := range targets {
		found[i], lookErr[i] = findTarget(kind, target)
		if cli.IsUsage(lookErr[i]) {
			return fmt.Errorf("rm %s %s: %w", kind, target, lookErr[i])
		}
	}
	var failed []error
	for i, target := range targets {
		err := lookErr[i]
		if err == nil {
			err = inventory.Remove(found[i])
		}
		if err != nil {
			failed = append(failed, fmt.Errorf("rm %s %s: %w", kind, target, err))
		}
	}
	if len(failed) == 0 {
		return nil
	}
	for _, err := range failed[:len(failed)-1] {
		fmt.Fprintf(stderr, "ipc: %v\n", err)
	}
	return failed[len(failed)-1]
}

// removeTarget removes the object target names.
func removeTarget(kind inventory.Kind, target string) error {
	o, err := findTarget(kind, target)
	if err != nil {
		return err
	}
	return inventory.Remove(o)
}

// findTarget looks target up; a malformed one is a usage error.
func findTarget(kind inventory.Kind, target string) (inventory.Object, error) {
	o, err := lookup(kind, target)
	var pe *os.PathError
	var h *errs.Hinted
	switch {
	case errors.As(err, &pe) && pe.Op == "find":
		err = pe.Err // "rm posix-shm /x: no such file or directory"
	case errors.As(err, &pe): // ftok of a missing file: not a usage error
	case errors.As(err, &h) && errors.Is(h.Err, syscall.EINVAL):
		err = badInput(err)
	}
	return o, err
}

// lookup finds the object a TARGET names. A System V KEY is read as every
// ipc command reads one, PATH:PROJ included.
func lookup(kind inventory.Kind, target string) (inventory.Object, error) {
	if !kind.SystemV() || strings.HasPrefix(target, "id=") {
		return inventory.Lookup(kind, target)
	}
	key, err := sysv.ParseKey(strings.TrimPrefix(target, "key="))
	if err != nil {
		return inventory.Object{}, err
	}
	return inventory.LookupKey(kind, int64(key))
}

// warnUninspectable says why POSIX objects will be kept, when that is so.
func warnUninspectable(stderr io.Writer, opts inventory.Options) {
	posix := len(opts.Kinds) == 0 || slices.ContainsFunc(opts.Kinds, func(k inventory.Kind) bool { return !k.SystemV() })
	if !posix || opts.SkipUninspectable {
		return
	}
	hidden := inventory.Uninspectable()
	if len(hidden) == 0 {
		return
	}
	shown := fmt.Sprint(hidden[:min(len(hidden), 5)])
	if len(hidden) > 5 {
		shown = fmt.Sprintf("%s and %d more", shown, len(hidden)-5)
	}
	fmt.Fprintf(stderr, "ipc: note: POSIX objects are kept: %d process(es) cannot be inspected, pids %s; --skip-uninspectable ignores them\n",
		len(hidden), shown)
}

// sweep removes (or with dryRun lists) the orphans opts selects.
func sweep(w io.Writer, opts inventory.Options, dryRun, asJSON bool) error {
	var found []inventory.Orphan
	var err error
	verb := "removed"
	if dryRun {
		verb = "would remove"
		found, err = inventory.Orphans(opts)
	} else {
		found, err = inventory.RemoveOrphans(opts)
	}
	if asJSON {
		withHex, jerr := withKeyHex(found, func(o inventory.Orphan) inventory.Object { return o.Object })
		if jerr == nil {
			jerr = writeJSON(w, withHex)
		}
		if jerr != nil {
			return jerr
		}
	} else {
		for _, o := range found {
			fmt.Fprintf(w, "%s %s: %s\n", verb, o.Ref(), o.Reason)
		}
	}
	if err != nil {
		return fmt.Errorf("rm --orphans: %w", err)
	}
	return nil
}
