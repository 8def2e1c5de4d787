package posix_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/posix"
)

// newShm creates a segment of size bytes with a unique name, removed when the
// test ends.
func newShm(t testing.TB, size int64) *posix.SharedMemory {
	t.Helper()
	m, err := posix.OpenSharedMemory("/"+testutil.Name("shm"), &posix.ShmOptions{Create: true, Exclusive: true, Size: size})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		m.Close()
		if err := m.Unlink(); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Error(err)
		}
	})
	return m
}

func TestShmMapResizeReopen(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	m := newShm(t, 4096)
	if fi, err := m.Stat(); err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != 4096 {
		t.Fatalf("Stat = %v, %v; want mode 0600, size 4096", fi, err)
	}
	data, err := m.Map(posix.ReadWrite)
	if err != nil {
		t.Fatal(err)
	}
	copy(data, "hello")
	if _, err := m.Map(posix.ReadOnly); !isErrno(err, syscall.EINVAL) {
		t.Fatalf("second Map: %v, want EINVAL", err)
	}

	// Opening it again with another size neither truncates nor grows it.
	ro, err := posix.OpenSharedMemory(strings.TrimPrefix(m.Name(), "/"), &posix.ShmOptions{ReadOnly: true, Size: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if size, err := ro.Size(); err != nil || size != 4096 {
		t.Fatalf("Size of the reopened segment = %d, %v; want 4096", size, err)
	}
	view, err := ro.Map(posix.ReadOnly)
	if err != nil || !bytes.HasPrefix(view, []byte("hello")) {
		t.Fatalf("read-only mapping: %q, %v", view[:5], err)
	}
	if _, err := ro.Resize(1); !isErrno(err, syscall.EINVAL) {
		t.Fatalf("Resize of a read-only segment: %v", err)
	}
	if err := ro.Unmap(); err != nil {
		t.Fatal(err)
	}
	if _, err := ro.Map(posix.ReadWrite); !isErrno(err, syscall.EINVAL) {
		t.Fatalf("read-write Map of a read-only segment: %v", err)
	}

	data, err = m.Resize(8192)
	if err != nil || len(data) != 8192 || string(data[:5]) != "hello" || data[8191] != 0 {
		t.Fatalf("Resize: len %d, %v", len(data), err)
	}
	if size, _ := ro.Size(); size != 8192 {
		t.Fatalf("other handle sees size %d, want 8192", size)
	}
	// Truncate sets the size of an existing segment on purpose.
	tr, err := posix.OpenSharedMemory(m.Name(), &posix.ShmOptions{Size: 100, Truncate: true})
	if err != nil {
		t.Fatal(err)
	}
	tr.Close()
	if size, _ := m.Size(); size != 100 {
		t.Fatalf("after Truncate: size %d, want 100", size)
	}
}

// A semaphore /X lives in /dev/shm as sem.X: the segment /sem.X would be
// the semaphore's memory, and unlinking it would remove the semaphore.
func TestShmRefusesSemaphoreNames(t *testing.T) {
	sem := newSemaphore(t, 3)
	alias := "/sem." + sem.Name()[1:]
	if m, err := posix.OpenSharedMemory(alias, nil); !isErrno(err, syscall.EINVAL) {
		m.Close()
		t.Fatalf("OpenSharedMemory(%q) = %v, want EINVAL", alias, err)
	}
	if err := posix.UnlinkSharedMemory(alias); !isErrno(err, syscall.EINVAL) {
		t.Fatalf("UnlinkSharedMemory(%q) = %v, want EINVAL", alias, err)
	}
	if v, err := sem.Value(); err != nil || v != 3 {
		t.Fatalf("the semaphore after both: value %d, %v; want 3", v, err)
	}
}

func TestShmBadInputAndClosed(t *testing.T) {
	for _, name := range []string{"", "/a/b", "/" + strings.Repeat("n", 256)} {
		if _, err := posix.OpenSharedMemory(name, &posix.ShmOptions{Create: true}); !isErrno(err, syscall.EINVAL) {
			t.Errorf("OpenSharedMemory(%q) = %v, want EINVAL", name, err)
		}
	}
	for _, o := range []posix.ShmOptions{{Create: true, Size: -1}, {Create: true, ReadOnly: true}} {
		if _, err := posix.OpenSharedMemory("/"+testutil.Name("shm-bad"), &o); !isErrno(err, syscall.EINVAL) {
			t.Errorf("OpenSharedMemory(%+v) = %v, want EINVAL", o, err)
		}
	}
	if _, err := posix.OpenSharedMemory("/"+testutil.Name("shm-missing"), nil); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("opening a missing segment: %v", err)
	}
	m := newShm(t, 0)
	if _, err := m.Map(posix.ReadWrite); !isErrno(err, syscall.EINVAL) {
		t.Errorf("Map of an empty segment: %v, want EINVAL", err)
	}
	if _, err := m.Map(posix.WriteOnly); !isErrno(err, syscall.EINVAL) {
		t.Errorf("Map WriteOnly: %v, want EINVAL", err)
	}
	if _, err := m.Resize(-5); !isErrno(err, syscall.EINVAL) {
		t.Errorf("negative Resize: %v", err)
	}
	m.Close()
	if err := m.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	_, mapErr := m.Map(posix.ReadWrite)
	_, sizeErr := m.Size()
	_, resizeErr := m.Resize(10)
	_, statErr := m.Stat()
	for what, err := range map[string]error{"Map": mapErr, "Size": sizeErr, "Resize": resizeErr, "Stat": statErr, "Unmap": m.Unmap()} {
		if !errors.Is(err, os.ErrClosed) {
			t.Errorf("%s after Close: %v, want os.ErrClosed", what, err)
		}
	}
}

// TestShmReservesMemory: a segment grew with ftruncate alone, so one far
// larger than /dev/shm (1 TiB on a 24 GiB tmpfs) was created and mapped, and
// the first store past the free space killed the program with SIGBUS. Now
// creating and growing allocate the memory, and a size beyond the free space
// fails with ENOSPC before anything is allocated, leaving nothing behind.
func TestShmReservesMemory(t *testing.T) {
	const size = 1 << 20
	m := newShm(t, size)
	fi, err := m.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if blocks := fi.Sys().(*syscall.Stat_t).Blocks * 512; blocks < size {
		t.Errorf("a new %d-byte segment holds %d bytes of memory, want all of it", size, blocks)
	}

	var sfs unix.Statfs_t
	if err := unix.Statfs("/dev/shm", &sfs); err != nil {
		t.Fatal(err)
	}
	if sfs.Blocks == 0 {
		t.Skip("/dev/shm has no size limit")
	}
	huge := int64(sfs.Blocks)*sfs.Bsize + 1<<30 // more than all of /dev/shm
	name := "/" + testutil.Name("shm-huge")
	_, err = posix.OpenSharedMemory(name, &posix.ShmOptions{Create: true, Size: huge})
	if !isErrno(err, syscall.ENOSPC) {
		t.Errorf("creating a %d-byte segment: %v, want ENOSPC", huge, err)
	}
	if _, err := posix.OpenSharedMemory(name, nil); !errors.Is(err, fs.ErrNotExist) {
		posix.UnlinkSharedMemory(name)
		t.Errorf("the segment that failed to be made is there: %v", err)
	}
	data, _ := m.Map(posix.ReadWrite)
	copy(data, "kept")
	if _, err := m.Resize(huge); !isErrno(err, syscall.ENOSPC) {
		t.Errorf("Resize to %d bytes: %v, want ENOSPC", huge, err)
	}
	if fi, err := m.Stat(); err != nil || fi.Size() != size {
		t.Errorf("after the failed Resize: %v, %v; want size %d", fi, err, size)
	}
}

// TestShmStatAfterUnlink: Stat looked the name up in /dev/shm, so it failed
// once the segment was unlinked although the descriptor was open.
func TestShmStatAfterUnlink(t *testing.T) {
	m := newShm(t, 4096)
	if err := m.Unlink(); err != nil {
		t.Fatal(err)
	}
	fi, err := m.Stat()
	if err != nil || fi.Size() != 4096 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("Stat after Unlink = %v, %v; want size 4096, mode 0600", fi, err)
	}
}

// TestShmPython shares a segment with Python's multiprocessing.shared_memory
// both ways: Python creates one (its names have no leading slash) that Go
// reads and writes, and Python attaches to one that Go created.
func TestShmPython(t *testing.T) {
	py := testutil.RequirePython(t, "multiprocessing.shared_memory")
	const script = `
import sys
from multiprocessing import shared_memory, resource_tracker
shm = shared_memory.SharedMemory(create=True, size=64)
shm.buf[:11] = b"from python"
print(shm.name, flush=True)
sys.stdin.readline()            # Go has written its part
print(bytes(shm.buf[16:23]).decode(), flush=True)
shm.close()
shm.unlink()
`
	cmd := exec.Command(py, "-c", script)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := testutil.Start(t, cmd)
	name := p.Line()
	if strings.HasPrefix(name, "/") {
		t.Fatalf("Python's name %q has a slash; the test means to check names without one", name)
	}
	m, err := posix.OpenSharedMemory(name, nil)
	if err != nil {
		stdin.Close()
		t.Fatal(err)
	}
	data, err := m.Map(posix.ReadWrite)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(data[:11]); got != "from python" {
		t.Errorf("Go read %q from Python's segment", got)
	}
	copy(data[16:], "from go")
	m.Close()
	stdin.Write([]byte("go\n"))
	p.Expect("from go")
	p.MustSucceed()

	// The other way: Python attaches to a segment Go created.
	g := newShm(t, 32)
	gdata, err := g.Map(posix.ReadWrite)
	if err != nil {
		t.Fatal(err)
	}
	copy(gdata, "made in go")
	out, err := exec.Command(py, "-c", `
import sys
from multiprocessing import shared_memory, resource_tracker
shm = shared_memory.SharedMemory(name=sys.argv[1])
resource_tracker.unregister(shm._name, "shared_memory")  # Go owns it
print(bytes(shm.buf[:10]).decode())
shm.buf[10:14] = b"+py!"
shm.close()
`, strings.TrimPrefix(g.Name(), "/")).CombinedOutput()
	if err != nil || string(out) != "made in go\n" || string(gdata[:14]) != "made in go+py!" {
		t.Fatalf("Python printed %q (%v); segment holds %q", out, err, gdata[:14])
	}
}

// TestExclusiveNeedsCreate: Exclusive without Create is refused, where it
// was ignored (as O_EXCL without O_CREAT) and opened the existing object
// that a caller meaning to make a new one did not want.
func TestExclusiveNeedsCreate(t *testing.T) {
	shm := newShm(t, 4096)
	if _, err := posix.OpenSharedMemory(shm.Name(), &posix.ShmOptions{Exclusive: true}); !isErrno(err, syscall.EINVAL) {
		t.Errorf("OpenSharedMemory Exclusive without Create: %v, want EINVAL", err)
	}
	qname := "/" + testutil.Name("mq-excl")
	q, err := posix.OpenQueue(qname, &posix.QueueOptions{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer posix.UnlinkQueue(qname)
	defer q.Close()
	if _, err := posix.OpenQueue(qname, &posix.QueueOptions{Exclusive: true}); !isErrno(err, syscall.EINVAL) {
		t.Errorf("OpenQueue Exclusive without Create: %v, want EINVAL", err)
	}
	sname := "/" + testutil.Name("sem-excl")
	s, err := posix.OpenSemaphore(sname, &posix.SemOptions{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer posix.UnlinkSemaphore(sname)
	defer s.Close()
	if _, err := posix.OpenSemaphore(sname, &posix.SemOptions{Exclusive: true}); !isErrno(err, syscall.EINVAL) {
		t.Errorf("OpenSemaphore Exclusive without Create: %v, want EINVAL", err)
	}
}
