package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/inventory"
	"github.com/goipc/ipc/inventory/inventorytest"
	"github.com/goipc/ipc/sysv"
	"golang.org/x/sys/unix"
)

// lsJSON runs `ipc ls --json args...` through run and decodes the objects.
func lsJSON(t *testing.T, out string) []inventory.Object {
	t.Helper()
	var objs []inventory.Object
	if err := json.Unmarshal([]byte(out), &objs); err != nil {
		t.Fatalf("ls --json: %v\n%s", err, out)
	}
	return objs
}

// TestLsCPeer: ls shows the C peer's six objects with their fields, in JSON
// and in the table, and --kind and --owner filter them.
func TestLsCPeer(t *testing.T) {
	p := inventorytest.StartC(t, "hold", nil)
	got := p.Mine(lsJSON(t, mustIPC(t, "ls", "--json")))
	if len(got) != 6 {
		t.Fatalf("ls --json shows %d of the peer's 6 objects: %v", len(got), got)
	}
	for k, o := range got {
		if o.Mode != 0o640 || o.UID != 0 {
			t.Errorf("%s: mode %v uid %d, want 0640 and root", k, o.Mode, o.UID)
		}
	}
	if o := got[inventory.SysvShm]; o.Size != 8192 || o.Attached != 1 || o.CreatorPID != p.PID || o.CreatorAlive == nil || !*o.CreatorAlive {
		t.Errorf("sysv-shm: %+v", o)
	}
	if o := got[inventory.PosixMQ]; o.Messages != 2 || !slices.Equal(o.Users, []int{p.PID}) {
		t.Errorf("posix-mq: %+v, want 2 messages, used by %d", o, p.PID)
	}
	if o := got[inventory.PosixSem]; !slices.Equal(o.Users, []int{p.PID}) {
		t.Errorf("posix-sem: users %v, want [%d] (it maps the semaphore)", o.Users, p.PID)
	}

	table := mustIPC(t, "ls")
	seg := fmt.Sprintf("0x%08x", uint32(p.Keys[inventory.SysvShm]))
	for _, want := range []string{
		fmt.Sprintf("sysv-shm  %s  %s  root   0640  8192   %d  %d   1         running", seg, strings.TrimPrefix(p.Targets[inventory.SysvShm], "id="), p.PID, p.PID),
		fmt.Sprintf("posix-mq  %s", p.Targets[inventory.PosixMQ]),
	} {
		if !strings.Contains(strings.Join(strings.Fields(table), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}

	for _, f := range []struct {
		args []string
		want int
	}{
		{[]string{"--kind", "sysv-shm,posix-mq"}, 2},
		{[]string{"--kind", "sysv-sem", "--kind", "posix-sem"}, 2},
		{[]string{"--owner", "root"}, 6},
		{[]string{"--owner", "0", "--kind", "sysv-msg"}, 1},
		{[]string{"--owner", "nobody"}, 0},
	} {
		objs := lsJSON(t, mustIPC(t, append([]string{"ls", "--json"}, f.args...)...))
		if n := len(p.Mine(objs)); n != f.want {
			t.Errorf("ls %v shows %d of the peer's objects, want %d", f.args, n, f.want)
		}
		for _, o := range objs {
			if f.args[0] == "--owner" && f.args[1] == "nobody" && o.UID != 65534 {
				t.Errorf("ls --owner nobody shows %s of uid %d", o.Ref(), o.UID)
			}
		}
	}
	for _, bad := range [][]string{{"ls", "--kind", "pipe"}, {"ls", "--owner", "no-such-user-x"}, {"ls", "extra"}} {
		if _, stderr, code := runIPC(t, bad...); code != 2 || !strings.HasPrefix(stderr, "ipc: ") {
			t.Errorf("ipc %v: exit %d, stderr %q; want a usage error", bad, code, stderr)
		}
	}
}

// TestLsAsNobody: an unprivileged user sees only what the kernel would let
// it read; --all adds what /proc/sysvipc and the directories name anyway.
func TestLsAsNobody(t *testing.T) {
	testutil.RequireRoot(t)
	p := inventorytest.StartC(t, "exit", nil) // root's objects, mode 0640: nobody may not read them
	p.Proc.MustSucceed()
	public := testutil.Name("public")
	path := filepath.Join(inventory.ShmDir, public)
	if err := os.WriteFile(path, []byte("x"), 0o604); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(path) })
	os.Chmod(path, 0o604)

	asNobody := func(args ...string) []inventory.Object {
		cmd := testutil.AsNobody(testutil.Runnable(t, ipcCommand(args...)))
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("ipc %v as nobody: %v", args, err)
		}
		return lsJSON(t, string(out))
	}
	def := asNobody("ls", "--json")
	for _, o := range def {
		if o.UID != 65534 && o.CUID != 65534 && o.Mode&0o004 == 0 {
			t.Errorf("nobody was shown %s (uid %d, mode %v), which it may not read", o.Ref(), o.UID, o.Mode)
		}
	}
	if n := len(p.Mine(def)); n != 0 {
		t.Errorf("nobody sees %d of root's 0640 objects", n)
	}
	if !slices.ContainsFunc(def, func(o inventory.Object) bool { return o.Name == "/"+public }) {
		t.Errorf("nobody does not see the 0604 segment %s", public)
	}
	if n := len(p.Mine(asNobody("ls", "--json", "--all"))); n != 6 {
		t.Errorf("with --all nobody sees %d of root's 6 objects, want all", n)
	}
	// The kernel would not let nobody count the queue's messages.
	table, err := testutil.AsNobody(testutil.Runnable(t, ipcCommand("ls", "--all", "--kind", "posix-mq"))).Output()
	row := strings.Join([]string{p.Targets[inventory.PosixMQ], "-", "root", "0640", "?", "msg"}, " ")
	if err != nil || !strings.Contains(strings.Join(strings.Fields(string(table)), " "), row) {
		t.Errorf("ls --all as nobody: %v; want a row %q in\n%s", err, row, table)
	}
}

// TestRmTargets removes objects by name, key (decimal, hex) and id, and checks
// the errors for what is gone and for bad command lines.
func TestRmTargets(t *testing.T) {
	p := inventorytest.StartC(t, "exit", nil)
	p.Proc.MustSucceed()
	args := map[inventory.Kind]string{
		inventory.PosixMQ:  p.Targets[inventory.PosixMQ],
		inventory.PosixShm: strings.TrimPrefix(p.Targets[inventory.PosixShm], "/"),
		inventory.PosixSem: p.Targets[inventory.PosixSem],
		inventory.SysvMsg:  p.Targets[inventory.SysvMsg],
		inventory.SysvShm:  fmt.Sprintf("%#x", uint32(p.Keys[inventory.SysvShm])),
		inventory.SysvSem:  strconv.FormatInt(p.Keys[inventory.SysvSem], 10),
	}
	for k, target := range args {
		mustIPC(t, "rm", string(k), target)
		if _, err := inventory.Lookup(k, p.Targets[k]); err == nil {
			t.Errorf("ipc rm %s %s left it", k, target)
		}
		_, stderr, code := runIPC(t, "rm", string(k), target)
		if code != 1 || !strings.Contains(stderr, "ipc: rm "+string(k)+" "+target+": no such file or directory") {
			t.Errorf("second ipc rm %s %s: exit %d, %q", k, target, code, stderr)
		}
	}
	// A key made by ftok, named PATH:PROJ as every ipc command takes it.
	file := filepath.Join(t.TempDir(), "keyfile")
	os.WriteFile(file, nil, 0o600)
	key, err := sysv.Ftok(file, 'k')
	if err != nil {
		t.Fatal(err)
	}
	id, err := unix.SysvShmGet(int(key), 4096, unix.IPC_CREAT|unix.IPC_EXCL|0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.SysvShmCtl(id, unix.IPC_RMID, nil) })
	mustIPC(t, "rm", "sysv-shm", file+":k")
	if _, err := inventory.Lookup(inventory.SysvShm, fmt.Sprintf("id=%d", id)); err == nil {
		t.Errorf("ipc rm sysv-shm %s:k left segment %d", file, id)
	}

	for _, bad := range [][]string{{"rm"}, {"rm", "sysv-shm"}, {"rm", "pipe", "/x"}, {"rm", "--orphans", "posix-mq"},
		{"rm", "posix-mq", "/x", "--dry-run"}, {"rm", "--orphans", "--idle", "-1s"},
		// An empty --kind or --owner (a script's unset variable) selects
		// nothing, not everything.
		{"rm", "--orphans", "--dry-run", "--kind", ""}, {"rm", "--orphans", "--dry-run", "--owner", ""},
		{"ls", "--kind", ""}, {"ls", "--owner", ","}} {
		if _, stderr, code := runIPC(t, bad...); code != 2 || !strings.HasPrefix(stderr, "ipc: ") {
			t.Errorf("ipc %v: exit %d, stderr %q; want a usage error", bad, code, stderr)
		}
	}
	// A usage error, as `ipc sysv msg stat 0` is.
	if _, stderr, code := runIPC(t, "rm", "sysv-msg", "0"); code != 2 || !strings.Contains(stderr, "IPC_PRIVATE") {
		t.Errorf("ipc rm sysv-msg 0: exit %d, %q; want a usage error naming IPC_PRIVATE", code, stderr)
	}
}

// privateIPC starts a process in IPC and mount namespaces of its own, with a
// fresh /dev/shm and mqueue file system, and returns a wrapper that runs a
// command there. Everything made there vanishes with the namespace, and a
// sweep there sees nothing of the other tests running on the machine.
func privateIPC(t *testing.T) func(*exec.Cmd) *exec.Cmd {
	t.Helper()
	requireUnshare(t)
	holder := exec.Command("unshare", "--ipc", "--mount", "--propagation", "private", "sh", "-c",
		"mount -t tmpfs -o mode=1777 tmpfs /dev/shm && mount -t mqueue mqueue /dev/mqueue && echo $$ && exec cat")
	stdin, err := holder.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close() })
	proc := testutil.Start(t, holder)
	pid := proc.Line()
	return func(cmd *exec.Cmd) *exec.Cmd {
		in := exec.Command("nsenter", append([]string{"-t", pid, "--ipc", "--mount", "--", cmd.Path}, cmd.Args[1:]...)...)
		in.Env = cmd.Env
		return in
	}
}

// requireUnshare skips a test that needs new IPC and mount namespaces where
// the caller may not make them (no root, or a container without
// CAP_SYS_ADMIN).
func requireUnshare(t *testing.T) {
	t.Helper()
	testutil.RequireRoot(t)
	if out, err := exec.Command("unshare", "--ipc", "--mount", "true").CombinedOutput(); err != nil {
		t.Skipf("cannot make IPC and mount namespaces: %v %s", err, out)
	}
}

// runIn runs `ipc args...` inside a namespace; it returns stdout and stderr
// and fails the test unless the exit status is 0.
func runIn(t *testing.T, ns func(*exec.Cmd) *exec.Cmd, args ...string) (string, string) {
	t.Helper()
	cmd := ns(ipcCommand(args...))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ipc %v: %v\n%s", args, err, stderr.String())
	}
	return string(out), stderr.String()
}

// TestRmOrphans: in a private namespace, one peer is killed with SIGKILL and
// another keeps its objects; rm --orphans lists (--dry-run) and then removes
// exactly the dead peer's, queues and semaphore sets only with --idle.
func TestRmOrphans(t *testing.T) {
	ns := privateIPC(t)
	live := inventorytest.StartC(t, "hold", ns)
	dead := inventorytest.StartC(t, "hold", ns)
	dead.Proc.Cmd.Process.Kill()
	dead.Proc.Wait()

	out, _ := runIn(t, ns, "ls", "--json")
	all := lsJSON(t, out)
	if len(all) != 12 || len(live.Mine(all)) != 6 || len(dead.Mine(all)) != 6 {
		t.Fatalf("the private namespace holds more than the two peers' objects, refusing to sweep: %v", all)
	}
	// refs reads "VERB KIND:TARGET: reason" lines into sorted "VERB KIND:TARGET".
	refs := func(out string) []string {
		var r []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if ref, _, ok := strings.Cut(line, ": "); ok {
				r = append(r, ref)
			}
		}
		slices.Sort(r)
		return r
	}
	want := func(verb string, kinds ...inventory.Kind) []string {
		var r []string
		for _, k := range kinds {
			r = append(r, verb+" "+string(k)+":"+dead.Targets[k])
		}
		slices.Sort(r)
		return r
	}
	out, _ = runIn(t, ns, "rm", "--orphans", "--dry-run", "--skip-uninspectable")
	if got, want := refs(out), want("would remove", inventory.PosixMQ, inventory.PosixSem, inventory.PosixShm, inventory.SysvShm); !slices.Equal(got, want) {
		t.Errorf("dry run without --idle: %v, want %v", got, want)
	}
	out, _ = runIn(t, ns, "rm", "--orphans", "--dry-run", "--json", "--kind", "sysv-shm")
	var orphans []inventory.Orphan
	if err := json.Unmarshal([]byte(out), &orphans); err != nil || len(orphans) != 1 || !dead.Owns(orphans[0].Object) ||
		orphans[0].Reason != fmt.Sprintf("no attachment, creator %d gone", dead.PID) {
		t.Errorf("rm --orphans --dry-run --json --kind sysv-shm: %v %s", err, out)
	}
	var raw []map[string]any // the key in the 0x form too, as ls --json gives it
	if err := json.Unmarshal([]byte(out), &raw); err != nil || len(raw) != 1 || raw[0]["key_hex"] != fmt.Sprintf("0x%08x", uint32(dead.Keys[inventory.SysvShm])) {
		t.Errorf("rm --orphans --dry-run --json --kind sysv-shm: key_hex missing or wrong: %v %s", err, out)
	}
	// The objects were just used: --idle 1h keeps queues and sets.
	if out, _ := runIn(t, ns, "rm", "--orphans", "--dry-run", "--skip-uninspectable", "--idle", "1h"); len(refs(out)) != 4 {
		t.Errorf("dry run with --idle 1h: %s", out)
	}
	if hidden := inventory.Uninspectable(); len(hidden) > 0 {
		out, stderr := runIn(t, ns, "rm", "--orphans", "--dry-run")
		if got := refs(out); !slices.Equal(got, want("would remove", inventory.SysvShm)) || !strings.Contains(stderr, "cannot be inspected") {
			t.Errorf("with processes %v uninspectable, dry run %v, stderr %q; want only sysv-shm and a note", hidden, got, stderr)
		}
	}
	out, _ = runIn(t, ns, "rm", "--orphans", "--idle", "1ns", "--skip-uninspectable")
	if got, want := refs(out), want("removed", inventory.Kinds...); !slices.Equal(got, want) {
		t.Errorf("rm --orphans --idle 1ns: %v, want %v", got, want)
	}
	out, _ = runIn(t, ns, "ls", "--json")
	if left := lsJSON(t, out); len(left) != 6 || len(live.Mine(left)) != 6 {
		t.Errorf("after the sweep: %v; want exactly the live peer's 6 objects", left)
	}
}

// TestLsMountsMqueue: where /dev/mqueue is not mounted, ls mounts it when it
// may (root) and warns when it may not (nobody).
func TestLsMountsMqueue(t *testing.T) {
	requireUnshare(t)
	run := func(prefix string, cmd *exec.Cmd) (string, string, error) {
		sh := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c",
			"umount /dev/mqueue 2>/dev/null; exec "+prefix+` "$@"`, "sh", cmd.Path)
		sh.Args = append(sh.Args, cmd.Args[1:]...)
		sh.Env = cmd.Env
		var stderr strings.Builder
		sh.Stderr = &stderr
		out, err := sh.Output()
		return string(out), stderr.String(), err
	}
	_, stderr, err := run("", ipcCommand("ls", "--kind", "posix-mq"))
	if err != nil || !strings.Contains(stderr, "mounted the mqueue file system on /dev/mqueue") {
		t.Errorf("ls as root without /dev/mqueue: %v, stderr %q; want it mounted", err, stderr)
	}
	_, stderr, err = run("setpriv --reuid 65534 --regid 65534 --clear-groups", testutil.Runnable(t, ipcCommand("ls")))
	if err != nil || !strings.Contains(stderr, "warning") || !strings.Contains(stderr, "mqueue file system is not mounted") {
		t.Errorf("ls as nobody without /dev/mqueue: %v, stderr %q; want a warning", err, stderr)
	}
}

// TestLsRmBinaryName: a POSIX name that is not UTF-8 comes out of ls --json
// under name_b64 with its exact bytes, and rm takes those bytes as given.
func TestLsRmBinaryName(t *testing.T) {
	name := testutil.Name("bin") + "\xff"
	path := filepath.Join(inventory.ShmDir, name)
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(path) })
	out := mustIPC(t, "ls", "--json", "--kind", "posix-shm")
	if !strings.Contains(out, `"name_b64":`) {
		t.Errorf("ls --json has no name_b64:\n%s", out)
	}
	found := slices.ContainsFunc(lsJSON(t, out), func(o inventory.Object) bool { return o.Name == "/"+name })
	if !found {
		t.Fatalf("ls --json lacks %q:\n%s", name, out)
	}
	var st struct {
		Name    *string `json:"name"`
		NameB64 []byte  `json:"name_b64"`
	}
	if err := json.Unmarshal([]byte(mustIPC(t, "posix", "shm", "stat", "/"+name, "--json")), &st); err != nil || st.Name != nil || string(st.NameB64) != "/"+name {
		t.Errorf("posix shm stat --json: name %v, name_b64 %q, %v; want only name_b64 with the exact bytes", st.Name, st.NameB64, err)
	}
	mustIPC(t, "rm", "posix-shm", "/"+name)
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("ipc rm left %q: %v", name, err)
	}
}
