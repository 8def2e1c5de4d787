package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"
	"unicode/utf8"

	"github.com/goipc/ipc/internal/cli"
	"github.com/goipc/ipc/inventory"
	"github.com/spf13/cobra"
)

// selection holds the flags ls and rm --orphans share.
type selection struct {
	kinds, owners []string
	all           bool
	cmd           *cobra.Command
}

func (s *selection) flags(c *cobra.Command) {
	s.cmd = c
	c.Flags().StringSliceVar(&s.kinds, "kind", nil, "only these kinds (repeat or comma-separate): "+kindList())
	c.Flags().StringSliceVar(&s.owners, "owner", nil, "only objects owned by these users (names or uids)")
}

func kindList() string {
	var names []string
	for _, k := range inventory.Kinds {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

// options turns the flags into inventory options; a bad kind or an unknown
// user is a usage error.
func (s *selection) options() (inventory.Options, error) {
	opts := inventory.Options{All: s.all}
	// An empty value (a script's unset variable) would select every kind
	// or owner, and rm --orphans would sweep them all.
	for f, want := range map[string]string{"kind": "one or more of " + kindList(), "owner": "user names or uids"} {
		if v, _ := s.cmd.Flags().GetStringSlice(f); s.cmd.Flags().Changed(f) && len(v) == 0 {
			return opts, cli.Usagef("invalid --%s \"\": want %s", f, want)
		}
	}
	for _, k := range s.kinds {
		kind, err := inventory.ParseKind(k)
		if err != nil {
			return opts, badInput(err)
		}
		opts.Kinds = append(opts.Kinds, kind)
	}
	for _, o := range s.owners {
		uid, err := strconv.ParseUint(o, 10, 32)
		if err != nil {
			u, lerr := user.Lookup(o)
			if lerr != nil {
				return opts, cli.Usagef("unknown owner %q (want a user name or a uid)", o)
			}
			uid, _ = strconv.ParseUint(u.Uid, 10, 32)
		}
		opts.Owners = append(opts.Owners, uint32(uid))
	}
	return opts, nil
}

// mountMqueue mounts the mqueue file system if the selection lists queues and
// it is missing, saying so either way on stderr.
func mountMqueue(opts inventory.Options, stderr io.Writer) {
	if len(opts.Kinds) > 0 && !slices.Contains(opts.Kinds, inventory.PosixMQ) {
		return
	}
	mounted, err := inventory.MountMqueue()
	switch {
	case err != nil:
		fmt.Fprintf(stderr, "ipc: warning: %v\n", err)
	case mounted:
		fmt.Fprintf(stderr, "ipc: mounted the mqueue file system on %s to list POSIX queues\n", inventory.MqueueDir)
	}
}

func init() {
	var sel selection
	var asJSON bool
	ls := &cobra.Command{
		Use:   "ls [--json] [--all] [--kind K] [--owner U]",
		Short: "List every IPC object on the machine the caller can see",
		Long: `List POSIX message queues, shared memory and named semaphores, and System V
message queues, shared memory segments and semaphore sets: kind, name or key
and id, owner, mode, size (bytes, messages or semaphores), the pids the
kernel recorded, how many processes use it, and whether its creator runs.

The caller sees what the kernel would show it: root sees everything; other
users see the objects they own (or, System V, created) and those whose mode
lets them read. --all adds the others, whose names and metadata the kernel
publishes to everyone in /proc/sysvipc, /dev/shm and /dev/mqueue.

Columns: CPID is a segment's creator; LPID its last attacher, a queue's last
sender or receiver, or each semaphore's last operator. ATTACHED is a
segment's attach count, and for POSIX objects the number of processes that
have it open or mapped, among those the caller may inspect (/proc/PID/fd
and /proc/PID/maps).
CREATOR says whether a segment's creator still runs (the kernel keeps no
creator for the other kinds). When /dev/mqueue is not mounted, ls mounts it
if it may and says so, or warns that queues cannot be listed.`,
		Args: cli.Args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, err := sel.options()
			if err != nil {
				return err
			}
			mountMqueue(opts, cmd.ErrOrStderr())
			opts.Users = true
			objs, err := inventory.Select(opts)
			if err != nil {
				return fmt.Errorf("ls: %w", err)
			}
			if asJSON {
				withHex, err := withKeyHex(objs, func(o inventory.Object) inventory.Object { return o })
				if err != nil {
					return err
				}
				return writeJSON(cmd.OutOrStdout(), withHex)
			}
			return writeTable(cmd.OutOrStdout(), objs)
		},
	}
	sel.flags(ls)
	ls.Flags().BoolVar(&sel.all, "all", false, "also objects the caller may not read, which the kernel names to everyone")
	ls.Flags().BoolVar(&asJSON, "json", false, "print a JSON array of objects, every field the kernel keeps")
	rootCmd.AddCommand(ls)
}

// writeJSON prints v as one JSON value; an empty list prints [].
func writeJSON[T any](w io.Writer, v []T) error {
	if v == nil {
		v = []T{}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// withKeyHex gives each System V object of ls --json (or rm --orphans
// --json) its key in the 0x form too, "key_hex" right after "key", as stat
// --json does. inventory leaves out key 0 (IPC_PRIVATE) and a time that
// never happened; here they are 0 and null, as in stat --json. object gives
// the Object of an item.
func withKeyHex[T any](items []T, object func(T) inventory.Object) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, len(items))
	for i, item := range items {
		b, err := json.Marshal(item)
		if err != nil {
			return nil, err
		}
		o := object(item)
		if o.Kind.SystemV() {
			if o.Key == 0 {
				b = bytes.Replace(b, []byte(`,"id":`), []byte(`,"key":0,"id":`), 1)
			}
			key := fmt.Sprintf(`,"key":%d,`, o.Key)
			b = bytes.Replace(b, []byte(key), []byte(key+fmt.Sprintf(`"key_hex":"0x%08x",`, uint32(o.Key))), 1)
		}
		if o.Accessed.IsZero() {
			b = append(b[:len(b)-1], `,"accessed":null}`...)
		}
		out[i] = b
	}
	return out, nil
}

func writeTable(w io.Writer, objs []inventory.Object) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tNAME/KEY\tID\tOWNER\tMODE\tSIZE\tCPID\tLPID\tATTACHED\tCREATOR")
	for _, o := range objs {
		name, id := shown(o.Name), "-"
		if name == "" {
			name, id = fmt.Sprintf("0x%08x", uint32(o.Key)), strconv.Itoa(o.ID)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", o.Kind, name, id, userName(o.UID),
			o.Mode, size(o), pid(o.CreatorPID), lastPIDs(o), users(o), creator(o))
	}
	return tw.Flush()
}

// shown returns a POSIX name as the table can hold it: Go-quoted when it has
// bytes that are not printable UTF-8 or are spaces, which would garble the
// columns (0xff is even tabwriter's escape byte).
func shown(name string) string {
	odd := func(r rune) bool { return !unicode.IsGraphic(r) || unicode.IsSpace(r) }
	if utf8.ValidString(name) && !strings.ContainsFunc(name, odd) {
		return name
	}
	return strconv.Quote(name)
}

func size(o inventory.Object) string {
	switch o.Kind {
	case inventory.PosixMQ:
		if !o.Visible() {
			return "? msg" // counting needs opening, which the kernel refused
		}
		return fmt.Sprintf("%d msg", o.Messages)
	case inventory.SysvMsg:
		return fmt.Sprintf("%d msg", o.Messages)
	case inventory.SysvSem:
		return fmt.Sprintf("%d sem", o.Sems)
	case inventory.PosixSem:
		return "1 sem"
	}
	return strconv.FormatInt(o.Size, 10)
}

func pid(p int) string {
	if p == 0 {
		return "-"
	}
	return strconv.Itoa(p)
}

func lastPIDs(o inventory.Object) string {
	switch o.Kind {
	case inventory.SysvSem:
		if !o.Visible() {
			return "?" // semctl GETPID needs read permission
		}
		var s []string
		for _, p := range o.PIDs {
			s = append(s, strconv.Itoa(p))
		}
		if len(s) > 0 {
			return strings.Join(s, ",")
		}
	case inventory.SysvShm, inventory.SysvMsg:
		return pid(o.LastPID)
	}
	return "-"
}

func users(o inventory.Object) string {
	switch o.Kind {
	case inventory.SysvShm:
		return strconv.Itoa(o.Attached)
	case inventory.SysvMsg, inventory.SysvSem:
		return "-"
	}
	return strconv.Itoa(len(o.Users))
}

func creator(o inventory.Object) string {
	switch {
	case o.CreatorAlive == nil:
		return "-"
	case *o.CreatorAlive:
		return "running"
	}
	return "gone"
}

var userNames = map[uint32]string{}

// userName returns the name of uid, or the number when it has none.
func userName(uid uint32) string {
	if name, ok := userNames[uid]; ok {
		return name
	}
	name := strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(name); err == nil {
		name = u.Username
	}
	userNames[uid] = name
	return name
}
