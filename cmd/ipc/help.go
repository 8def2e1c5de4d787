package main

// Help as in gh or kubectl: an Examples section on every verb, --version,
// and shell completion of kinds, signals, mechanisms and the objects that
// exist now.

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/goipc/ipc/inventory"
)

// examples are the Examples sections, by command path below ipc.
var examples = map[string]string{
	"file send":       "ipc file send \"hello through a file\"\nipc file send /tmp/note - < message.bin\nipc file send --file message.bin",
	"file recv":       "ipc file recv\nipc file recv --wait 10s --json",
	"file stat":       "ipc file stat --json",
	"file rm":         "ipc file rm /tmp/shared_file",
	"signal send":     "ipc signal send 4242\nipc signal send 4242 RTMIN+3 --value 42",
	"signal recv":     "ipc signal recv --count 2 USR1 RTMIN+3\nipc signal recv --json --timeout 10s RTMIN+1",
	"tcp send":        "ipc tcp send \"hello over TCP\"\nipc tcp send --addr 127.0.0.1:4000 --timeout 2s hi",
	"tcp recv":        "ipc tcp recv\nipc tcp recv --addr 127.0.0.1:0 --count 0   # any free port, said on stderr",
	"unix send":       "ipc unix send /tmp/echo.sock \"hello\"\nipc unix send --datagram /tmp/echo.sock \"one datagram\"\nipc unix send /tmp/echo.sock \"a file\" --fd /etc/hostname   # pass its descriptor",
	"unix recv":       "ipc unix recv /tmp/echo.sock\nipc unix recv --datagram --json @abstract-name",
	"unix stat":       "ipc unix stat /tmp/echo.sock",
	"unix rm":         "ipc unix rm /tmp/echo.sock   # a socket a killed server left",
	"pipe":            "ipc pipe \"hello through a pipe\"\nipc pipe --json - < message.txt",
	"fifo send":       "ipc fifo send \"hello through a FIFO\"\nipc fifo send /tmp/f --timeout 5s --file message.bin",
	"fifo recv":       "ipc fifo recv\nipc fifo recv /tmp/f --timeout 0   # only if a writer is there",
	"fifo stat":       "ipc fifo stat",
	"fifo rm":         "ipc fifo rm",
	"posix mq send":   "ipc posix mq send /foo \"hello\" --create --priority 3\nipc posix mq send /foo --nowait - < message.bin",
	"posix mq recv":   "ipc posix mq recv /foo\nipc posix mq recv /foo --timeout 5s --json",
	"posix mq stat":   "ipc posix mq stat /foo --json",
	"posix mq rm":     "ipc posix mq rm /foo",
	"posix shm write": "ipc posix shm write /seg \"hello\" --create --size 4KiB\nipc posix shm write /seg \"more\" --offset 100",
	"posix shm read":  "ipc posix shm read /seg\nipc posix shm read /seg --offset 100 --length 4 --json",
	"posix shm stat":  "ipc posix shm stat /seg",
	"posix shm rm":    "ipc posix shm rm /seg",
	"posix sem post":  "ipc posix sem post /sem --create",
	"posix sem wait":  "ipc posix sem wait /sem --timeout 5s\nipc posix sem wait /sem --nowait --print-value",
	"posix sem value": "ipc posix sem value /sem --json",
	"posix sem stat":  "ipc posix sem stat /sem",
	"posix sem rm":    "ipc posix sem rm /sem",
	"sysv msg send":   "ipc sysv msg send \"hello\" --create   # key 1\nipc sysv msg send 0x2a \"five\" --type 5\nipc sysv msg send /etc/hosts:A - < message.bin",
	"sysv msg recv":   "ipc sysv msg recv\nipc sysv msg recv 0x2a --type -5 --timeout 5s --json",
	"sysv msg stat":   "ipc sysv msg stat 0x2a --json",
	"sysv msg rm":     "ipc sysv msg rm 0x2a\nipc sysv msg rm id=32769   # as ipc ls shows it",
	"sysv shm write":  "ipc sysv shm write \"hello\" --create\nipc sysv shm write 0x2a \"more\" --offset 100",
	"sysv shm read":   "ipc sysv shm read\nipc sysv shm read 0x2a --offset 100 --length 4",
	"sysv shm stat":   "ipc sysv shm stat 0x2a",
	"sysv shm rm":     "ipc sysv shm rm 0x2a\nipc sysv shm rm id=32769",
	"sysv sem op":     "ipc sysv sem op --delta 1 --create\nipc sysv sem op 0x2a --num 1 --delta -2 --undo --timeout 5s",
	"sysv sem get":    "ipc sysv sem get 0x2a\nipc sysv sem get 0x2a --num 1 --json",
	"sysv sem set":    "ipc sysv sem set 0x2a 5 --num 0 --create --count 2",
	"sysv sem stat":   "ipc sysv sem stat 0x2a --json",
	"sysv sem rm":     "ipc sysv sem rm 0x2a\nipc sysv sem rm id=32769",
	"mmap write":      "ipc mmap write \"hello through a mapped file\"\nipc mmap write /tmp/m \"tail\" --offset 4096 --size 1MiB",
	"mmap read":       "ipc mmap read\nipc mmap read /tmp/m --offset 4096 --length 4 --json",
	"mmap stat":       "ipc mmap stat /tmp/m --json",
	"mmap rm":         "ipc mmap rm /tmp/m",
	"ring send":       "ipc ring send /r \"hello through a ring\" --create --capacity 1MiB\nipc ring send /r --nowait --file message.bin",
	"ring recv":       "ipc ring recv /r\nipc ring recv /r --timeout 5s --json",
	"ring stat":       "ipc ring stat /r --json",
	"ring rm":         "ipc ring rm /r",
	"demo":            "ipc demo\nipc demo posix-mq sysv-msg fifo",
	"bench":           "ipc bench --quick\nipc bench posix-mq sysv-msg ring --mode both --sizes 64,4KiB --peers go,c\nipc bench --placement both --json-file bench.json --chart bench.png",
	"ls":              "ipc ls\nipc ls --kind posix-mq,sysv-msg --owner root --json\nipc ls --all",
	"rm":              "ipc rm posix-mq /foo /bar\nipc rm sysv-shm 0x2a id=32769\nipc rm --orphans --dry-run\nipc rm --orphans --idle 1h --kind sysv-sem",
}

// kindNames are the object kinds, as ls and rm name them.
func kindNames() []string {
	names := make([]string, len(inventory.Kinds))
	for i, k := range inventory.Kinds {
		names[i] = string(k)
	}
	return names
}

// existing completes the names (or, System V, keys) of the objects of kind
// that exist now, as ls lists them.
func existing(kind inventory.Kind, ids bool) []string {
	objs, err := inventory.Select(inventory.Options{Kinds: []inventory.Kind{kind}})
	if err != nil {
		return nil
	}
	var names []string
	for _, o := range objs {
		if o.Name != "" {
			names = append(names, o.Name)
			continue
		}
		if o.Key != 0 {
			names = append(names, fmt.Sprintf("0x%08x", uint32(o.Key)))
		}
		if ids {
			names = append(names, fmt.Sprintf("id=%d", o.ID))
		}
	}
	return names
}

// objectKinds maps each group of named objects to its kind, for completion.
var objectKinds = map[string]inventory.Kind{
	"posix mq": inventory.PosixMQ, "posix shm": inventory.PosixShm, "posix sem": inventory.PosixSem,
	"sysv msg": inventory.SysvMsg, "sysv shm": inventory.SysvShm, "sysv sem": inventory.SysvSem,
}

// signalNames are the names signal send and recv take.
func signalNames(takeable bool) []string {
	var names []string
	for n := 1; n <= sigRTMax; n++ {
		sig := syscall.Signal(n)
		if takeable && slices.Contains(untakeable, sig) {
			continue
		}
		names = append(names, strings.TrimPrefix(signalName(sig), "SIG"))
	}
	return names
}

// finishHelp gives every command of the tree its example and completions,
// once all the groups have added themselves.
func finishHelp(root *cobra.Command) {
	// Asking mpiexec costs a process start: only --version pays it. (Cobra
	// adds --version when Version is set, and prints the template.)
	root.Version = "see the template"
	cobra.AddTemplateFunc("ipcVersion", version)
	root.SetVersionTemplate("{{ipcVersion}}\n")
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		path := strings.TrimPrefix(strings.TrimPrefix(c.CommandPath(), root.Name()), " ")
		if ex, ok := examples[path]; ok {
			c.Example = "  " + strings.ReplaceAll(ex, "\n", "\n  ")
		}
		if group, verb, ok := cutLast(path); ok && c.ValidArgsFunction == nil {
			if kind, named := objectKinds[group]; named {
				c.ValidArgsFunction = func(_ *cobra.Command, a []string, _ string) ([]string, cobra.ShellCompDirective) {
					if len(a) > 0 {
						return nil, cobra.ShellCompDirectiveNoFileComp
					}
					return existing(kind, verb == "rm"), cobra.ShellCompDirectiveNoFileComp
				}
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	if demo, _, err := root.Find([]string{"demo"}); err == nil {
		demo.Long += "\n\nMechanisms, in the table's order: " + strings.Join(demoNames(), ", ") + "."
	}
	for _, name := range []string{"ls", "rm"} {
		if c, _, err := root.Find([]string{name}); err == nil {
			c.RegisterFlagCompletionFunc("kind", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
				return kindNames(), cobra.ShellCompDirectiveNoFileComp
			})
		}
	}
	if rm, _, err := root.Find([]string{"rm"}); err == nil {
		rm.ValidArgsFunction = func(_ *cobra.Command, a []string, _ string) ([]string, cobra.ShellCompDirective) {
			if len(a) == 0 {
				return kindNames(), cobra.ShellCompDirectiveNoFileComp
			}
			kind, err := inventory.ParseKind(a[0])
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return existing(kind, true), cobra.ShellCompDirectiveNoFileComp
		}
	}
	if send, _, err := root.Find([]string{"signal", "send"}); err == nil {
		send.ValidArgsFunction = func(_ *cobra.Command, a []string, _ string) ([]string, cobra.ShellCompDirective) {
			if len(a) == 1 {
				return signalNames(false), cobra.ShellCompDirectiveNoFileComp
			}
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
	}
	if recv, _, err := root.Find([]string{"signal", "recv"}); err == nil {
		recv.ValidArgsFunction = func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return signalNames(true), cobra.ShellCompDirectiveNoFileComp
		}
	}
}

// cutLast splits "posix mq send" into "posix mq" and "send".
func cutLast(path string) (group, verb string, ok bool) {
	i := strings.LastIndexByte(path, ' ')
	if i < 0 {
		return "", "", false
	}
	return path[:i], path[i+1:], true
}

// version is what ipc --version prints: the module's version and commit, the
// Go version, and the MPI library mpiexec belongs to, when there is one.
func version() string {
	mod, commit := "(unknown)", ""
	if info, ok := debug.ReadBuildInfo(); ok {
		mod = info.Main.Version
		for _, s := range info.Settings {
			switch {
			case s.Key == "vcs.revision" && len(s.Value) >= 12:
				commit = s.Value[:12]
			case s.Key == "vcs.modified" && s.Value == "true":
				commit += ", modified"
			}
		}
	}
	if commit != "" {
		mod += " (commit " + commit + ")"
	}
	return fmt.Sprintf("ipc %s\n%s %s/%s\nMPI: %s", mod, runtime.Version(), runtime.GOOS, runtime.GOARCH, mpiLibrary())
}

var (
	openMPIVersion = regexp.MustCompile(`\(Open(RTE| MPI)\) (\S+)`)
	mpichVersion   = regexp.MustCompile(`Version:\s+(\S+)`)
)

// mpiLibrary names the MPI library whose mpiexec is first on PATH.
func mpiLibrary() string {
	path, err := exec.LookPath("mpiexec")
	if err != nil {
		return "none found (no mpiexec on PATH)"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, path, "--version").CombinedOutput()
	switch s := string(out); {
	case openMPIVersion.MatchString(s):
		return "Open MPI " + openMPIVersion.FindStringSubmatch(s)[2] + " (" + path + ")"
	case strings.Contains(s, "HYDRA") && mpichVersion.MatchString(s):
		return "MPICH " + mpichVersion.FindStringSubmatch(s)[1] + " (" + path + ")"
	}
	return "unknown (" + path + " --version says nothing known)"
}
