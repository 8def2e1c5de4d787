package inventory_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/inventory"
	"github.com/goipc/ipc/inventory/inventorytest"
	"golang.org/x/sys/unix"
)

// TestCPeerFields checks every field the kernel keeps for objects a C
// program made and still holds, and that none of them counts as an orphan.
func TestCPeerFields(t *testing.T) {
	m := inventorytest.StartC(t, "hold", nil)
	objs, err := inventory.Select(inventory.Options{Users: true, Match: m.Owns})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if o.UID != 0 || o.Mode != 0o640 {
			t.Errorf("%s: uid %d mode %v, want 0 and 0640", o.Ref(), o.UID, o.Mode)
		}
	}
	mq := m.Find(t, objs, inventory.PosixMQ)
	if mq.Messages != 2 || mq.Size != len64("hello")+len64("world!") || !slices.Equal(mq.Users, []int{m.PID}) {
		t.Errorf("posix-mq: messages %d size %d users %v, want 2, 11, [%d]", mq.Messages, mq.Size, mq.Users, m.PID)
	}
	shm := m.Find(t, objs, inventory.PosixShm)
	if shm.Size != 4096 || !slices.Equal(shm.Users, []int{m.PID}) || shm.Path != "/dev/shm/"+strings.TrimPrefix(shm.Name, "/") {
		t.Errorf("posix-shm: size %d users %v path %s, want 4096, [%d]", shm.Size, shm.Users, shm.Path, m.PID)
	}
	sem := m.Find(t, objs, inventory.PosixSem)
	if !slices.Equal(sem.Users, []int{m.PID}) || !strings.HasSuffix(sem.Path, "/sem."+strings.TrimPrefix(sem.Name, "/")) {
		t.Errorf("posix-sem: users %v path %s, want [%d] and a sem. file", sem.Users, sem.Path, m.PID)
	}
	msg := m.Find(t, objs, inventory.SysvMsg)
	if msg.Key != m.Keys[inventory.SysvMsg] || msg.Messages != 2 || msg.Size != 11 || msg.LastPID != m.PID ||
		!slices.Equal(msg.Alive, []int{m.PID}) || msg.CreatorAlive != nil {
		t.Errorf("sysv-msg: %+v, want key %#x, 2 messages, 11 bytes, last pid and alive %d", msg, m.Keys[inventory.SysvMsg], m.PID)
	}
	seg := m.Find(t, objs, inventory.SysvShm)
	if seg.Size != 8192 || seg.Attached != 1 || seg.CreatorPID != m.PID || seg.CreatorAlive == nil || !*seg.CreatorAlive {
		t.Errorf("sysv-shm: %+v, want 8192 bytes, 1 attached, creator %d alive", seg, m.PID)
	}
	set := m.Find(t, objs, inventory.SysvSem)
	// Only semaphore 1 was operated on: the kernel records the pid there.
	if set.Sems != 3 || !slices.Equal(set.PIDs, []int{m.PID}) || !slices.Equal(set.Alive, []int{m.PID}) {
		t.Errorf("sysv-sem: %+v, want 3 sems, pids and alive [%d]", set, m.PID)
	}
	orphans, err := inventory.Orphans(inventory.Options{SkipUninspectable: true, Match: m.Owns, Idle: time.Nanosecond})
	if err != nil || len(orphans) != 0 {
		t.Errorf("objects in use by a live process counted as orphans: %v %v", orphans, err)
	}
}

func len64(s string) int64 { return int64(len(s)) }

// TestOrphansAfterKill kills the creator with SIGKILL: every object it made
// is then an orphan (queues and semaphore sets only with Idle), and
// RemoveOrphans removes exactly those.
func TestOrphansAfterKill(t *testing.T) {
	m := inventorytest.StartC(t, "hold", nil)
	m.Kill(t)
	kinds := func(os []inventory.Orphan) []string {
		var ks []string
		for _, o := range os {
			ks = append(ks, string(o.Kind))
		}
		slices.Sort(ks)
		return ks
	}
	noIdle, err := inventory.Orphans(inventory.Options{SkipUninspectable: true, Match: m.Owns})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := kinds(noIdle), []string{"posix-mq", "posix-sem", "posix-shm", "sysv-shm"}; !slices.Equal(got, want) {
		t.Errorf("orphans without Idle: %v, want %v", got, want)
	}
	// Used less than an hour ago: queues and sets are kept.
	if hour, _ := inventory.Orphans(inventory.Options{SkipUninspectable: true, Match: m.Owns, Idle: time.Hour}); len(hour) != 4 {
		t.Errorf("orphans with Idle 1h: %v, want the 4 above", kinds(hour))
	}
	removed, err := inventory.RemoveOrphans(inventory.Options{SkipUninspectable: true, Match: m.Owns, Idle: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 6 {
		t.Errorf("removed %v, want all 6 kinds", kinds(removed))
	}
	for _, o := range removed {
		if o.Reason == "" {
			t.Errorf("%s removed without a reason", o.Ref())
		}
	}
	if left, _ := inventory.Select(inventory.Options{Match: m.Owns}); len(left) != 0 {
		t.Errorf("left after RemoveOrphans: %v", left)
	}
}

// TestReleasedButCreatorAlive: the creator closed, unmapped and detached
// everything but still runs. POSIX objects are then unused; the segment is
// kept because its creator runs, queues and sets because their pids run.
func TestReleasedButCreatorAlive(t *testing.T) {
	m := inventorytest.StartC(t, "release", nil)
	orphans, err := inventory.Orphans(inventory.Options{SkipUninspectable: true, Match: m.Owns, Idle: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range orphans {
		got = append(got, string(o.Kind))
	}
	slices.Sort(got)
	if want := []string{"posix-mq", "posix-sem", "posix-shm"}; !slices.Equal(got, want) {
		t.Errorf("orphans: %v, want %v", got, want)
	}
	// A process the caller cannot inspect might use them: then they stay.
	if hidden := inventory.Uninspectable(); len(hidden) > 0 {
		strict, _ := inventory.Orphans(inventory.Options{Match: m.Owns, Idle: time.Nanosecond})
		if len(strict) != 0 {
			t.Errorf("with processes %v uninspectable, orphans %v; want none", hidden, strict)
		}
	}
}

// TestPythonPeers: objects made by Python (sysv_ipc, and the standard
// library's shared_memory) are listed with their fields and kept while the
// peer runs.
func TestPythonPeers(t *testing.T) {
	py := testutil.RequirePython(t, "sysv_ipc", "multiprocessing.shared_memory")
	name := testutil.Name("py")
	keys := []int64{testutil.Key(), testutil.Key(), testutil.Key()}
	script := `
import os, sys, sysv_ipc
from multiprocessing import shared_memory
name, kmsg, kshm, ksem = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
mq = sysv_ipc.MessageQueue(kmsg, sysv_ipc.IPC_CREX, mode=0o600)
mq.send(b"hi from python", type=1)
shm = sysv_ipc.SharedMemory(kshm, sysv_ipc.IPC_CREX, mode=0o600, size=4096)
sem = sysv_ipc.Semaphore(ksem, sysv_ipc.IPC_CREX, mode=0o600, initial_value=0)
sem.release()
pshm = shared_memory.SharedMemory(name=name, create=True, size=8192)
print("posix-shm /" + name)
print("sysv-msg %d %d" % (kmsg, mq.id))
print("sysv-shm %d %d" % (kshm, shm.id))
print("sysv-sem %d %d" % (ksem, sem.id))
print("pid %d" % os.getpid())
print("ready", flush=True)
sys.stdin.read()
pshm.close()
pshm.unlink()
`
	cmd := exec.Command(py, "-c", script, name, fmt.Sprint(keys[0]), fmt.Sprint(keys[1]), fmt.Sprint(keys[2]))
	m := inventorytest.Start(t, cmd, true)

	objs, err := inventory.Select(inventory.Options{Users: true, Match: m.Owns})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 4 {
		t.Fatalf("listed %d of the 4 Python objects: %v", len(objs), objs)
	}
	if o := m.Find(t, objs, inventory.PosixShm); o.Size != 8192 || !slices.Equal(o.Users, []int{m.PID}) {
		t.Errorf("posix-shm: size %d users %v, want 8192 and [%d]", o.Size, o.Users, m.PID)
	}
	if o := m.Find(t, objs, inventory.SysvMsg); o.Messages != 1 || o.Size != len64("hi from python") || o.Mode != 0o600 || o.LastPID != m.PID {
		t.Errorf("sysv-msg: %+v, want 1 message of 14 bytes, mode 0600, last pid %d", o, m.PID)
	}
	if o := m.Find(t, objs, inventory.SysvShm); o.Size != 4096 || o.Attached != 1 || o.CreatorPID != m.PID || !*o.CreatorAlive {
		t.Errorf("sysv-shm: %+v, want 4096 bytes attached once by live creator %d", o, m.PID)
	}
	if o := m.Find(t, objs, inventory.SysvSem); o.Sems != 1 || !slices.Equal(o.Alive, []int{m.PID}) {
		t.Errorf("sysv-sem: %+v, want 1 semaphore last used by live %d", o, m.PID)
	}
	if orphans, _ := inventory.Orphans(inventory.Options{SkipUninspectable: true, Match: m.Owns, Idle: time.Nanosecond}); len(orphans) != 0 {
		t.Errorf("a live Python peer's objects counted as orphans: %v", orphans)
	}
}

// TestLookupAndRemove names objects every way Lookup accepts, and checks the
// errors for bad input and for what does not exist.
func TestLookupAndRemove(t *testing.T) {
	m := inventorytest.StartC(t, "exit", nil)
	m.Proc.MustSucceed()
	for k, target := range m.Targets {
		targets := []string{target}
		if key, ok := m.Keys[k]; ok {
			if o, err := inventory.LookupKey(k, key); err != nil || !m.Owns(o) {
				t.Errorf("LookupKey(%s, %#x) = %v, %v", k, key, o.Ref(), err)
			}
		} else {
			targets = append(targets, strings.TrimPrefix(target, "/"))
		}
		for _, tg := range targets {
			if o, err := inventory.Lookup(k, tg); err != nil || !m.Owns(o) {
				t.Errorf("Lookup(%s, %s) = %v, %v", k, tg, o.Ref(), err)
			}
		}
		o, _ := inventory.Lookup(k, target)
		if err := inventory.Remove(o); err != nil {
			t.Errorf("Remove %s: %v", o.Ref(), err)
		}
		if _, err := inventory.Lookup(k, target); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Lookup after Remove %s: %v, want not exist", target, err)
		}
		if err := inventory.Remove(o); !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.EINVAL) {
			t.Errorf("second Remove %s: %v, want not exist (or EINVAL for a gone id)", o.Ref(), err)
		}
	}
	for _, bad := range []struct {
		kind   inventory.Kind
		target string
	}{
		{"posix-pipe", "/x"}, {inventory.PosixMQ, "/a/b"}, {inventory.PosixShm, ""}, {inventory.PosixSem, "/.."},
		{inventory.PosixSem, "/" + strings.Repeat("x", 252)}, {inventory.SysvShm, "12"}, {inventory.SysvMsg, "id=-1"},
		{inventory.SysvMsg, "id=x"},
	} {
		if _, err := inventory.Lookup(bad.kind, bad.target); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("Lookup(%q, %q) = %v, want EINVAL", bad.kind, bad.target, err)
		}
	}
	for _, bad := range []struct {
		kind inventory.Kind
		key  int64
	}{{inventory.SysvShm, 0}, {inventory.SysvSem, 1 << 32}, {inventory.PosixMQ, 5}} {
		if _, err := inventory.LookupKey(bad.kind, bad.key); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("LookupKey(%q, %#x) = %v, want EINVAL", bad.kind, bad.key, err)
		}
	}
	if err := inventory.Remove(inventory.Object{Kind: inventory.SysvShm, ID: -1}); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("Remove of id -1: %v, want EINVAL", err)
	}
}

// TestRemoveIDOutOfRange: the kernel takes an id as a C int, so an id above
// it would reach the kernel cut to its low 32 bits and remove another object.
func TestRemoveIDOutOfRange(t *testing.T) {
	id, err := unix.SysvShmGet(unix.IPC_PRIVATE, 4096, unix.IPC_CREAT|0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.SysvShmCtl(id, unix.IPC_RMID, nil) })
	if err := inventory.Remove(inventory.Object{Kind: inventory.SysvShm, ID: id + 1<<32}); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("Remove of id %d + 2^32: %v, want EINVAL", id, err)
	}
	var ds unix.SysvShmDesc
	if _, err := unix.SysvShmCtl(id, unix.IPC_STAT, &ds); err != nil {
		t.Errorf("segment %d after Remove of id %d + 2^32: %v, want it still there", id, id, err)
	}
}

// TestVisibleToNobody runs Select as user nobody: it shows an object only
// when its mode lets nobody read it, and --all (Options.All) shows what the
// kernel names to everyone.
func TestVisibleToNobody(t *testing.T) {
	testutil.RequireRoot(t)
	private, public := testutil.Name("private"), testutil.Name("public")
	for name, mode := range map[string]os.FileMode{private: 0o600, public: 0o604} {
		path := filepath.Join(inventory.ShmDir, name)
		if err := os.WriteFile(path, []byte("x"), mode); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Remove(path) })
		os.Chmod(path, mode) // whatever the umask
	}
	key := testutil.Key()
	id, err := unix.SysvShmGet(int(key), 4096, unix.IPC_CREAT|unix.IPC_EXCL|0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.SysvShmCtl(id, unix.IPC_RMID, nil) })

	seen := func(all string) map[string]bool {
		cmd := testutil.AsNobody(testutil.Runnable(t, testutil.Child("select", all)))
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("select as nobody: %v %s", err, out)
		}
		var objs []inventory.Object
		if err := json.Unmarshal(out, &objs); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		got := map[string]bool{}
		for _, o := range objs {
			got[o.Ref()] = true
			if !o.Visible() && all == "" {
				t.Errorf("nobody was shown %s (uid %d mode %v), which it may not read", o.Ref(), o.UID, o.Mode)
			}
		}
		return got
	}
	def, all := seen(""), seen("all")
	segRef := fmt.Sprintf("sysv-shm:id=%d", id)
	if def["posix-shm:/"+private] || def[segRef] || !def["posix-shm:/"+public] {
		t.Errorf("nobody sees %v; want %s but neither %s nor %s", def, public, private, segRef)
	}
	if !all["posix-shm:/"+private] || !all[segRef] {
		t.Errorf("with All nobody sees %v; want %s and %s too", all, private, segRef)
	}
}

// TestJSONMode: the mode reads "0640" in JSON and survives a round trip.
func TestJSONMode(t *testing.T) {
	o := inventory.Object{Kind: inventory.SysvShm, ID: 3, Mode: 0o640, Size: 10}
	b, err := json.Marshal(o)
	if err != nil || !strings.Contains(string(b), `"mode":"0640"`) {
		t.Fatalf("%s %v, want mode \"0640\"", b, err)
	}
	var back inventory.Object
	if err := json.Unmarshal(b, &back); err != nil || back.Mode != 0o640 || back.ID != 3 || back.Size != 10 {
		t.Errorf("round trip: %+v %v", back, err)
	}
	for _, bad := range []string{`{"mode":"rw"}`, `{"mode":"077777"}`, `{"mode":420}`} {
		if err := json.Unmarshal([]byte(bad), &back); err == nil {
			t.Errorf("mode %s accepted", bad)
		}
	}
	// An orphan keeps its reason beside the object's fields.
	b, err = json.Marshal(inventory.Orphan{Object: o, Reason: "why"})
	var orphan inventory.Orphan
	if err != nil || json.Unmarshal(b, &orphan) != nil || orphan.Reason != "why" || orphan.Mode != 0o640 || orphan.ID != 3 {
		t.Errorf("orphan round trip: %s -> %+v", b, orphan)
	}
}

// TestMountMqueue mounts the mqueue file system on an empty directory, as
// MountMqueue does where /dev/mqueue is missing, and lists a queue there.
func TestMountMqueue(t *testing.T) {
	testutil.RequireRoot(t)
	dir := t.TempDir()
	saved := inventory.MqueueDir
	inventory.MqueueDir = dir
	t.Cleanup(func() { inventory.MqueueDir = saved })
	mounted, err := inventory.MountMqueue()
	if errors.Is(err, fs.ErrPermission) {
		t.Skipf("this container may not mount: %v", err)
	}
	if err != nil || !mounted {
		t.Fatalf("MountMqueue = %v, %v; want mounted", mounted, err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	if again, err := inventory.MountMqueue(); again || err != nil {
		t.Errorf("second MountMqueue = %v, %v; want nothing to do", again, err)
	}
	m := inventorytest.StartC(t, "hold", nil)
	objs, err := inventory.List(inventory.PosixMQ)
	if err != nil {
		t.Fatal(err)
	}
	if o := m.Find(t, objs, inventory.PosixMQ); o.Path != filepath.Join(dir, strings.TrimPrefix(o.Name, "/")) {
		t.Errorf("queue listed at %s, want under %s", o.Path, dir)
	}
}

// TestJSONName: a name that is valid UTF-8 is written under "name", any other
// under "name_b64", and both survive a round trip, in an Object and an Orphan.
func TestJSONName(t *testing.T) {
	for _, c := range []struct{ name, want string }{
		{"/q", `"name":"/q"`},
		{"/caf\u00e9", "\"name\":\"/caf\u00e9\""},
		{"/a\xffb", `"name_b64":"L2H/Yg=="`},
	} {
		o := inventory.Object{Kind: inventory.PosixShm, Name: c.name, Mode: 0o600}
		b, err := json.Marshal(o)
		if err != nil || !strings.Contains(string(b), c.want) || strings.Count(string(b), `"name`) != 1 {
			t.Errorf("%q: %s %v, want %s and no other name", c.name, b, err, c.want)
		}
		var back inventory.Object
		if err := json.Unmarshal(b, &back); err != nil || back.Name != c.name || back.Mode != 0o600 {
			t.Errorf("%q: round trip %+v %v", c.name, back, err)
		}
		b, err = json.Marshal(inventory.Orphan{Object: o, Reason: "why"})
		var orphan inventory.Orphan
		if err != nil || json.Unmarshal(b, &orphan) != nil || orphan.Name != c.name || orphan.Reason != "why" {
			t.Errorf("%q: orphan round trip %s -> %+v", c.name, b, orphan)
		}
	}
	var back inventory.Object
	for _, bad := range []string{`{"name":"/a","name_b64":"L2I="}`, `{"name_b64":"!"}`} {
		if err := json.Unmarshal([]byte(bad), &back); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
