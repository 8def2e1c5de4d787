package main

// Checks of ../../shared/CLI.md against hostile or unusual input: each test
// here failed before the fix that came with it.

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/goipc/ipc/internal/cli"
	"github.com/goipc/ipc/internal/errs"
	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/posix"
	"github.com/goipc/ipc/sysv"
)

// A PID wider than pid_t would be truncated by the kernel: 2^32-1 would be
// -1, every process. Here 2^32 + an unused pid, which would have been sent to
// that pid, must be refused before any system call.
func TestContractSignalPIDRange(t *testing.T) {
	pidMax, ok := errs.Sysctl("kernel/pid_max")
	if !ok {
		t.Fatal("cannot read kernel.pid_max")
	}
	wide := strconv.FormatInt(1<<32+pidMax+1, 10)
	expectError(t, cli.ExitUsage, `invalid PID "`+wide+`"`, "signal", "send", wide)
}

// A --buffer no allocation can hold is no panic: no message is longer than
// kernel.msgmax anyway.
func TestContractSysvMsgHugeBuffer(t *testing.T) {
	k := sysv.Key(testutil.Key())
	key := k.String()
	t.Cleanup(func() { removeWith(sysv.OpenQueue(k, 0, 0)) })
	mustIPC(t, "sysv", "msg", "send", key, "hello", "--create")
	if out := mustIPC(t, "sysv", "msg", "recv", key, "--buffer", "4611686018427387904"); out != "hello\n" {
		t.Fatalf("recv --buffer 2^62 printed %q", out)
	}
	expectError(t, exitEmpty, "--nowait", "sysv", "msg", "recv", key, "--buffer", "1GiB", "--nowait")
}

// A write past what /dev/shm can hold leaves the segment as it was: neither
// grown nor created.
func TestContractPosixShmFailedWriteUndone(t *testing.T) {
	name := "/" + testutil.Name("cli-shm-undo")
	t.Cleanup(func() { posix.UnlinkSharedMemory(name) })
	const huge = "4611686018427387903" // 2^62-1: more than /dev/shm has room for
	expectError(t, exitError, "no space left on device", "posix", "shm", "write", name, "x", "--create", "--offset", huge)
	expectError(t, exitError, "no such file", "posix", "shm", "stat", name)

	mustIPC(t, "posix", "shm", "write", name, "hello", "--create")
	expectError(t, exitError, "no space left on device", "posix", "shm", "write", name, "x", "--offset", huge, "--size", "1")
	if out := mustIPC(t, "posix", "shm", "read", name); out != "hello\n" {
		t.Fatalf("read after a failed write printed %q", out)
	}
	expectError(t, exitError, "offset 6 is past the end of the 5-byte segment", "posix", "shm", "read", name, "--offset", "6")
}

// --max-messages or --message-size alone takes the system default for the
// other, as their help says.
func TestContractPosixMQOneGeometryFlag(t *testing.T) {
	name := "/" + testutil.Name("cli-mq-geometry")
	t.Cleanup(func() { posix.UnlinkQueue(name) })
	defCap, ok1 := errs.Sysctl("fs/mqueue/msg_default")
	defSize, ok2 := errs.Sysctl("fs/mqueue/msgsize_default")
	if !ok1 || !ok2 {
		t.Fatal("cannot read fs.mqueue.msg_default and msgsize_default")
	}
	for _, c := range []struct {
		flag, value    string
		capacity, size float64
	}{
		{"--message-size", "1KiB", float64(defCap), 1024},
		{"--max-messages", "3", 3, float64(defSize)},
	} {
		mustIPC(t, "posix", "mq", "send", name, "x", "--create", c.flag, c.value)
		var st map[string]any
		if err := json.Unmarshal([]byte(mustIPC(t, "posix", "mq", "stat", name, "--json")), &st); err != nil {
			t.Fatal(err)
		}
		if st["capacity"] != c.capacity || st["message_size"] != c.size {
			t.Errorf("send --create %s %s: stat %v, want capacity %v and message_size %v", c.flag, c.value, st, c.capacity, c.size)
		}
		mustIPC(t, "posix", "mq", "rm", name)
	}
}

// The walk-through's POSIX queue /foo is the default NAME of every mq verb.
func TestContractPosixMQDefaultName(t *testing.T) {
	if _, err := posix.OpenQueue(defaultQueue, nil); err == nil {
		t.Skipf("%s exists already; not touching someone else's queue", defaultQueue)
	}
	t.Cleanup(func() { posix.UnlinkQueue(defaultQueue) })
	mustIPC(t, "posix", "mq", "send", "hello foo", "--create")
	var st map[string]any
	if err := json.Unmarshal([]byte(mustIPC(t, "posix", "mq", "stat", "--json")), &st); err != nil {
		t.Fatal(err)
	}
	if st["name"] != defaultQueue || st["messages"] != 1.0 {
		t.Fatalf("stat --json = %v", st)
	}
	if out := mustIPC(t, "posix", "mq", "recv"); out != "hello foo\n" {
		t.Fatalf("recv printed %q", out)
	}
	mustIPC(t, "posix", "mq", "rm")
	expectError(t, exitError, "mq_open /foo: no such file", "posix", "mq", "recv", "--nowait")
}

// sysv shm read has --json as every read and recv does, and says which bound
// an out-of-range read passes.
func TestContractSysvShmReadJSON(t *testing.T) {
	k := sysv.Key(testutil.Key())
	key := k.String()
	t.Cleanup(func() { removeWith(sysv.OpenSharedMemory(k, 0, 0, 0)) })
	mustIPC(t, "sysv", "shm", "write", key, "h\xffllo", "--create")
	if out := mustIPC(t, "sysv", "shm", "read", key, "--json", "--offset", "2", "--length", "3"); out != `{"data":"llo","offset":2}`+"\n" {
		t.Fatalf("read --json printed %q", out)
	}
	if out := mustIPC(t, "sysv", "shm", "read", key, "--json"); out != `{"data_b64":"aP9sbG8=","offset":0}`+"\n" {
		t.Fatalf("read --json of invalid UTF-8 printed %q", out)
	}
	expectError(t, exitError, "offset 5000 is past the segment's 4096 bytes", "sysv", "shm", "read", key, "--offset", "5000")
}

// A negative duration is a usage error; it used to mean no timeout at all,
// so that recv --timeout -1s waited forever.
func TestContractNegativeDuration(t *testing.T) {
	missing := "/" + testutil.Name("cli-missing")
	expectError(t, cli.ExitUsage, "invalid --timeout -1s: a duration cannot be negative", "posix", "mq", "recv", missing, "--timeout", "-1s")
	expectError(t, cli.ExitUsage, "invalid --wait -2ms", "file", "recv", "/nonexistent/"+missing, "--wait", "-2ms")
}

// An unknown verb under a group is a usage error, not the group's help with
// exit status 0; the group alone still shows its help. An empty word, which
// a script's unset variable gives, is unknown too, also at the top.
func TestContractUnknownVerb(t *testing.T) {
	expectError(t, cli.ExitUsage, `unknown command "" for "ipc"`, "")
	expectError(t, cli.ExitUsage, `unknown command "" for "ipc posix"`, "posix", "")
	expectError(t, cli.ExitUsage, `unknown command "bogus" for "ipc posix mq"`, "posix", "mq", "bogus", "x")
	expectError(t, cli.ExitUsage, `unknown command "bogus" for "ipc sysv"`, "sysv", "bogus")
	if out := mustIPC(t, "posix", "mq"); !strings.Contains(out, "Available Commands") {
		t.Fatalf("ipc posix mq printed %q, want its help", out)
	}
}

// send --nowait on a full queue exits 4 and says the queue is full, in both
// families alike.
func TestContractSendNowaitFull(t *testing.T) {
	name := "/" + testutil.Name("cli-mq-full")
	t.Cleanup(func() { posix.UnlinkQueue(name) })
	mustIPC(t, "posix", "mq", "send", name, "x", "--create", "--max-messages", "1", "--message-size", "16")
	expectError(t, exitEmpty, "the queue is full, and --nowait (or --timeout 0) says not to wait", "posix", "mq", "send", name, "y", "--nowait")

	k := sysv.Key(testutil.Key())
	t.Cleanup(func() { removeWith(sysv.OpenQueue(k, 0, 0)) })
	mustIPC(t, "sysv", "msg", "send", k.String(), "x", "--create")
	big := strings.Repeat("m", 4000)
	for range 64 { // a queue holds kernel.msgmnb bytes, 16KiB by default
		if _, _, code := runIPC(t, "sysv", "msg", "send", k.String(), big, "--nowait"); code != 0 {
			break
		}
	}
	expectError(t, exitEmpty, "the queue is full, and --nowait (or --timeout 0) says not to wait", "sysv", "msg", "send", k.String(), big, "--nowait")
}

// An empty segment reads as empty, as an empty mapped file does; mmap(2)
// refuses it, and the error told the user to call a Go method.
func TestContractPosixShmReadEmpty(t *testing.T) {
	name := "/" + testutil.Name("cli-shm-empty")
	t.Cleanup(func() { posix.UnlinkSharedMemory(name) })
	mustIPC(t, "posix", "shm", "write", name, "", "--create")
	if out := mustIPC(t, "posix", "shm", "read", name); out != "\n" {
		t.Fatalf("read of an empty segment printed %q", out)
	}
	if out := mustIPC(t, "posix", "shm", "read", name, "--json", "--length", "0"); out != `{"data":"","offset":0}`+"\n" {
		t.Fatalf("read --json of an empty segment printed %q", out)
	}
	expectError(t, exitError, "offset 1 is past the end of the 0-byte segment", "posix", "shm", "read", name, "--offset", "1")
}

// ls quotes a name that would garble its table: a newline, a space, or a
// byte that is not UTF-8 (0xff is tabwriter's escape byte).
func TestContractLsOddName(t *testing.T) {
	name := "/" + testutil.Name("cli-odd") + "\xff x\n"
	t.Cleanup(func() { posix.UnlinkSemaphore(name) })
	mustIPC(t, "posix", "sem", "post", name, "--create")
	if out := mustIPC(t, "ls", "--kind", "posix-sem"); !strings.Contains(out, "  "+strconv.Quote(name)+"  ") {
		t.Fatalf("ls lacks %s:\n%s", strconv.Quote(name), out)
	}
}

// write --create into an existing segment smaller than --size's default
// uses it as it is: --create only says what to do when it is missing.
func TestContractSysvShmCreateExisting(t *testing.T) {
	k := sysv.Key(testutil.Key())
	t.Cleanup(func() { removeWith(sysv.OpenSharedMemory(k, 0, 0, 0)) })
	mustIPC(t, "sysv", "shm", "write", k.String(), "x", "--create", "--size", "100")
	mustIPC(t, "sysv", "shm", "write", k.String(), "hello", "--create")
	if out := mustIPC(t, "sysv", "shm", "read", k.String()); out != "hello\n" {
		t.Fatalf("read printed %q", out)
	}
	expectError(t, exitError, "would end past the segment's 100 bytes", "sysv", "shm", "write", k.String(), strings.Repeat("z", 200), "--create")
}

// op --create on an existing set uses it as it is, whatever --count says.
func TestContractSysvSemCreateExisting(t *testing.T) {
	k := sysv.Key(testutil.Key())
	t.Cleanup(func() { removeWith(sysv.OpenSemaphoreSet(k, 0, 0, 0)) })
	mustIPC(t, "sysv", "sem", "op", k.String(), "--delta", "1", "--create", "--count", "2")
	mustIPC(t, "sysv", "sem", "op", k.String(), "--delta", "2", "--num", "1", "--create", "--count", "5")
	if out := mustIPC(t, "sysv", "sem", "get", k.String()); out != "1 2\n" {
		t.Fatalf("get printed %q, want 1 2", out)
	}
}

// file send over a directory says so; os.Rename reports it as EEXIST.
func TestContractFileSendOverDirectory(t *testing.T) {
	dir := t.TempDir()
	expectError(t, exitError, "write "+dir+": is a directory", "file", "send", dir, "x")
}

// A bad id=N says what is wanted in the command line's terms, not the Go
// API's, as a usage error.
func TestContractRmBadID(t *testing.T) {
	_, stderr, code := runIPC(t, "rm", "sysv-msg", "id=abc")
	if code != cli.ExitUsage || !strings.Contains(stderr, `(want id=N with N >= 0, or a key)`) || strings.Contains(stderr, "LookupKey") {
		t.Fatalf("rm sysv-msg id=abc: exit %d, %q", code, stderr)
	}
}

// mmap read copies only what it prints, and refuses a copy larger than memory
// rather than die in the runtime's out-of-memory throw; file recv --json holds
// at most 64 MiB (without --json it streams, tested with /dev/zero refused
// in TestRulesBadInput).
func TestContractMmapReadLarge(t *testing.T) {
	sparse := t.TempDir() + "/sparse"
	if err := os.WriteFile(sparse, []byte("hi"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(sparse, 1<<40); err != nil { // 1TiB of holes
		t.Fatal(err)
	}
	if out := mustIPC(t, "mmap", "read", sparse); out != "hi\n" {
		t.Fatalf("read of a 1TiB sparse file printed %q", out)
	}
	expectError(t, exitError, "bytes of RAM and swap", "mmap", "read", "/dev/zero", "--length", "1024GiB")
	expectError(t, exitError, "read "+sparse+": message over 67108864 bytes, the most --json holds", "file", "recv", sparse, "--json")
}

// A message too long for --buffer names the C flag that --noerror and the
// Go NoError both stand for, not the Go identifier alone.
func TestContractSysvMsgTooLongHint(t *testing.T) {
	k := sysv.Key(testutil.Key())
	t.Cleanup(func() { removeWith(sysv.OpenQueue(k, 0, 0)) })
	mustIPC(t, "sysv", "msg", "send", k.String(), "hello", "--create")
	expectError(t, exitError, "stays queued (--noerror, MSG_NOERROR, truncates it)", "sysv", "msg", "recv", k.String(), "--buffer", "2")
}

// --timeout's help says what 0 does: the same as --nowait where there is
// one, and for a client, which refuses 0, that it always waits; never
// "exit 4 if nothing is there" where 0 does something else.
func TestContractTimeoutZeroHelp(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"ring", "send", "--help"}, "0: the same as --nowait"},
		{[]string{"posix", "mq", "recv", "--help"}, "0: the same as --nowait"},
		{[]string{"unix", "send", "--help"}, "a client always waits for the echo, so not 0"},
		{[]string{"tcp", "send", "--help"}, "a client always waits for the echo, so not 0"},
		{[]string{"fifo", "recv", "--help"}, "0: do not wait (exit 4 if nothing is there)"},
	} {
		out := mustIPC(t, c.args...)
		if !strings.Contains(out, c.want) {
			t.Errorf("ipc %s: --timeout's help lacks %q:\n%s", strings.Join(c.args, " "), c.want, out)
		}
		if c.want != "0: do not wait (exit 4 if nothing is there)" && strings.Contains(out, "exit 4 if nothing is there") {
			t.Errorf("ipc %s: --timeout's help says 0 exits 4 if nothing is there", strings.Join(c.args, " "))
		}
	}
}
