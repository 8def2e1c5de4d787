package main

// The README's transcripts are run as written, in order, as on a fresh
// machine: in network, IPC and mount namespaces of their own, with an empty
// /tmp, /dev/shm and mqueue file system and loopback only, so that the
// walk-through's fixed names (/tmp/shared_file, /foo, key 1, port 50007)
// meet nothing of the machine's and leave nothing on it.

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/goipc/ipc/internal/testutil"
)

// A transcript is one fenced block of the README: commands ("$ ...") and
// the output that follows each.
type transcript struct {
	line  int // of the opening fence
	steps []step
}

type step struct {
	command, output string
}

// runnable are the commands a transcript may hold to be run here: ipc and
// the few shell tools and peers the walk-through uses. A block with anything
// else (make, mpiexec, another user) or with a command left running in the
// background ("&", a second terminal) is shown, not run.
var runnable = regexp.MustCompile(`^(ipc|touch|python3|/usr/bin/python3|mkfifo|printf|cat|ls|rm) `)

// transcripts reads the README's blocks of commands.
func transcripts(t *testing.T, readme string) (run []transcript, shown []int) {
	t.Helper()
	f, err := os.Open(readme)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var cur *transcript
	var skip, code bool // code: inside a fence of another language (```go)
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		switch {
		case code:
			code = l != "```"
		case cur == nil && (l == "```" || l == "```console"):
			cur, skip = &transcript{line: n}, false
		case cur == nil:
			code = strings.HasPrefix(l, "```")
		case l == "```":
			if len(cur.steps) > 0 {
				if skip {
					shown = append(shown, cur.line)
				} else {
					run = append(run, *cur)
				}
			}
			cur = nil
		case strings.HasPrefix(l, "$ "):
			cmd := strings.TrimPrefix(l, "$ ")
			for strings.Count(cmd, "'")%2 == 1 && sc.Scan() { // a quoted argument over several lines
				n++
				cmd += "\n" + sc.Text()
			}
			if !runnable.MatchString(cmd) || strings.HasSuffix(strings.TrimSpace(stripComment(cmd)), "&") {
				skip = true
			}
			cur.steps = append(cur.steps, step{command: cmd})
		case len(cur.steps) > 0:
			cur.steps[len(cur.steps)-1].output += l + "\n"
		}
	}
	return run, shown
}

// stripComment drops a shell comment that follows a command.
func stripComment(cmd string) string {
	if i := strings.Index(cmd, "  #"); i >= 0 {
		return cmd[:i]
	}
	return cmd
}

// varying are what differs from one run to the next: times, durations,
// pids, ids, ports and the keys ftok derives from inode numbers. Columns
// padded to the width of such values are compared with single spaces.
var varying = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`), "TIME"},
	{regexp.MustCompile(`\b\d+(\.\d+)?(ns|µs|us|ms|s)\b`), "DURATION"},
	{regexp.MustCompile(`(^|[^a-z])(pid|id)(":|\s+)\d+`), "${1}${2}${3}N"},
	{regexp.MustCompile(`"(key":-?\d+|key_hex":"0x[0-9a-f]+")`), `"KEY"`},
	{regexp.MustCompile(`(127\.0\.0\.1:)\d+`), "${1}PORT"},
	{regexp.MustCompile(`[ \t]+`), " "},
}

func normalize(s string) string {
	for _, v := range varying {
		s = v.re.ReplaceAllString(s, v.with)
	}
	return s
}

// TestREADMETranscripts runs every transcript of the README that needs no
// second terminal and compares what each command prints (stdout and stderr,
// then "[exit N]" when it fails) with what the README shows.
func TestREADMETranscripts(t *testing.T) {
	requireUnshare(t)
	blocks, shown := transcripts(t, filepath.Join(testutil.RepoRoot(), "README.md"))
	if len(blocks) < 10 {
		t.Fatalf("found %d runnable transcripts in the README", len(blocks))
	}
	t.Logf("running %d transcripts; shown only (a second terminal, MPI, make, another user): the blocks at README.md lines %v", len(blocks), shown)

	// ipc is this test binary, from a directory the fresh /tmp does not hide.
	bin, err := os.MkdirTemp("/var/tmp", "goipc-readme-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(bin) })
	self, err := os.ReadFile(os.Args[0])
	if err == nil {
		err = os.WriteFile(filepath.Join(bin, "ipc.test"), self, 0o755)
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(bin, "ipc"), []byte("#!/bin/sh\nexec "+filepath.Join(bin, "ipc.test")+` "$@"`+"\n"), 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	// As on a fresh machine: the caller's TMPDIR (make test sets one) is not
	// in the fresh /tmp.
	env := append(ipcCommand().Env, "PATH="+bin+":"+os.Getenv("PATH"), "TMPDIR=/tmp")

	holder := exec.Command("unshare", "--net", "--ipc", "--mount", "--propagation", "private", "sh", "-c",
		"ip link set lo up && mount -t tmpfs -o mode=1777 tmpfs /tmp && mount -t tmpfs -o mode=1777 tmpfs /dev/shm && "+
			"mount -t mqueue mqueue /dev/mqueue && echo $$ && exec cat")
	stdin, err := holder.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close() })
	pid := testutil.Start(t, holder).Line()

	for _, b := range blocks {
		for _, s := range b.steps {
			cmd := exec.Command("nsenter", "-t", pid, "--net", "--ipc", "--mount", "--", "bash", "-c", s.command)
			cmd.Env, cmd.Dir = env, "/"
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				fmt.Fprintf(&out, "[exit %d]\n", cmd.ProcessState.ExitCode())
			}
			if got, want := normalize(out.String()), normalize(stripComments(s.output)); got != want {
				t.Errorf("README.md:%d: $ %s\ngot:\n%swant:\n%s", b.line, s.command, out.String(), s.output)
			}
		}
	}
}

// stripComments drops the "# ..." notes the README puts after output lines.
func stripComments(output string) string {
	var b strings.Builder
	for l := range strings.Lines(output) {
		if i := strings.Index(l, "   #"); i >= 0 {
			l = strings.TrimRight(l[:i], " ") + "\n"
		}
		b.WriteString(l)
	}
	return b.String()
}
