package mmap_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/inventory/inventorytest"
	"github.com/goipc/ipc/mmap"
)

func TestMain(m *testing.M) {
	inventorytest.Main(m, map[string]func([]string) error{
		"truncate": childTruncate,
		"count":    childCount,
		"pingpong": childPingPong,
	})
}

// pattern returns n bytes that differ from page to page and within a page.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/4096)
	}
	return b
}

// tempFile writes data to a new file and returns its path.
func tempFile(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), testutil.Name("file"))
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustMap(t *testing.T, f *os.File, mode mmap.Mode, off, length int64) *mmap.Mapping {
	t.Helper()
	m, err := mmap.Map(f, mode, off, length)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func TestMapAtAnyOffset(t *testing.T) {
	content := pattern(3*4096 + 100)
	f, err := os.Open(tempFile(t, content))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, c := range []struct{ off, length int64 }{
		{0, int64(len(content))}, {1, 10}, {4095, 2}, {4096, 4096}, {5000, 7000}, {int64(len(content)) - 1, 1},
	} {
		m := mustMap(t, f, mmap.ReadOnly, c.off, c.length)
		want := content[c.off : c.off+c.length]
		if m.Len() != int(c.length) || !bytes.Equal(m.Bytes(), want) {
			t.Errorf("Map(off %d, len %d): Bytes differ from the file", c.off, c.length)
		}
		got := make([]byte, c.length)
		if n, err := m.ReadAt(got, 0); n != len(got) || err != nil || !bytes.Equal(got, want) {
			t.Errorf("Map(off %d, len %d): ReadAt = %d, %v, equal %v", c.off, c.length, n, err, bytes.Equal(got, want))
		}
		// io.ReaderAt: a short read at the end comes with io.EOF.
		if n, err := m.ReadAt(make([]byte, 4), c.length-1); n != 1 || err != io.EOF {
			t.Errorf("Map(off %d, len %d): ReadAt over the end = %d, %v; want 1, io.EOF", c.off, c.length, n, err)
		}
		m.Close()
	}
}

func TestModes(t *testing.T) {
	content := pattern(2 * 4096)
	path := tempFile(t, content)

	rw, err := mmap.Open(path, mmap.ReadWrite)
	if err != nil {
		t.Fatal(err)
	}
	defer rw.Close()
	if _, err := rw.WriteAt([]byte("shared"), 4000); err != nil {
		t.Fatal(err)
	}
	if err := rw.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := rw.SyncRange(4000, 6, mmap.SyncAsync); err != nil {
		t.Fatal(err)
	}
	onDisk, _ := os.ReadFile(path)
	if string(onDisk[4000:4006]) != "shared" {
		t.Fatalf("a ReadWrite write did not reach the file: %q", onDisk[4000:4006])
	}

	ro, err := mmap.Open(path, mmap.ReadOnly)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.WriteAt([]byte("x"), 0); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("WriteAt on a ReadOnly mapping: %v, want a permission error", err)
	}
	// A ReadOnly mapping of the same file sees the other mapping's writes.
	rw.Bytes()[0] = 'S'
	if ro.Bytes()[0] != 'S' {
		t.Errorf("a ReadOnly mapping did not see a write through a shared one")
	}

	priv, err := mmap.Open(path, mmap.Private)
	if err != nil {
		t.Fatal(err)
	}
	defer priv.Close()
	if _, err := priv.WriteAt([]byte("private"), 100); err != nil {
		t.Fatal(err)
	}
	if err := priv.Sync(); err != nil {
		t.Fatal(err)
	}
	onDisk, _ = os.ReadFile(path)
	if string(priv.Bytes()[100:107]) != "private" || bytes.Equal(onDisk[100:107], []byte("private")) {
		t.Errorf("Private: mapping has %q, file has %q; want the write in the mapping only", priv.Bytes()[100:107], onDisk[100:107])
	}
}

func TestBadInput(t *testing.T) {
	path := tempFile(t, pattern(4096))
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	wronly, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer wronly.Close()
	dir, err := os.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	m := mustMap(t, f, mmap.ReadOnly, 100, 200)
	shm, err := mmap.Shared(4096)
	if err != nil {
		t.Fatal(err)
	}
	defer shm.Close()
	empty := tempFile(t, nil)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	sealed := writeSealed(t)

	for _, c := range []struct {
		what string
		err  error
		want error
	}{
		{"negative offset", mapErr(mmap.Map(f, mmap.ReadOnly, -1, 10)), syscall.EINVAL},
		{"zero length", mapErr(mmap.Map(f, mmap.ReadOnly, 0, 0)), syscall.EINVAL},
		{"negative length", mapErr(mmap.Map(f, mmap.ReadOnly, 0, -5)), syscall.EINVAL},
		{"offset past the end", mapErr(mmap.Map(f, mmap.ReadOnly, 4096, 1)), syscall.EINVAL},
		{"length past the end", mapErr(mmap.Map(f, mmap.ReadOnly, 4000, 97)), syscall.EINVAL},
		{"huge length", mapErr(mmap.Map(f, mmap.ReadOnly, 1, 1<<62)), syscall.EINVAL},
		{"unknown mode", mapErr(mmap.Map(f, mmap.Mode(7), 0, 1)), syscall.EINVAL},
		{"nil file", mapErr(mmap.Map(nil, mmap.ReadOnly, 0, 1)), syscall.EINVAL},
		{"nil file to Inherit", mapErr(mmap.Inherit(nil)), syscall.EINVAL},
		{"directory", mapErr(mmap.Map(dir, mmap.ReadOnly, 0, 1)), syscall.EISDIR},
		{"ReadWrite on a read-only file", mapErr(mmap.Map(f, mmap.ReadWrite, 0, 1)), fs.ErrPermission},
		{"file opened write-only", mapErr(mmap.Map(wronly, mmap.ReadOnly, 0, 1)), fs.ErrPermission},
		{"empty file", mapErr(mmap.Open(empty, mmap.ReadOnly)), syscall.EINVAL},
		{"pipe to Inherit", mapErr(mmap.Inherit(pr)), syscall.EINVAL},
		{"ReadWrite on a write-sealed memfd", mapErr(mmap.Inherit(sealed)), fs.ErrPermission},
		{"missing file", mapErr(mmap.Open(filepath.Join(t.TempDir(), "none"), mmap.ReadOnly)), fs.ErrNotExist},
		{"Create size 0", mapErr(mmap.Create(filepath.Join(t.TempDir(), "c"), 0, 0o600)), syscall.EINVAL},
		{"Shared size 0", mapErr(mmap.Shared(0)), syscall.EINVAL},
		{"Grow nil file", mmap.Grow(nil, 1), syscall.EINVAL},
		{"Grow negative", mmap.Grow(f, -1), syscall.EINVAL},
		{"ReadAt negative offset", second(m.ReadAt(make([]byte, 1), -1)), syscall.EINVAL},
		{"ReadAt past the end", second(m.ReadAt(make([]byte, 1), 200)), io.EOF},
		{"WriteAt on ReadOnly", second(m.WriteAt([]byte("x"), 0)), fs.ErrPermission},
		{"WriteAt past the end", second(shm.WriteAt([]byte("xy"), 4095)), syscall.EINVAL},
		{"WriteAt negative offset", second(shm.WriteAt([]byte("x"), -1)), syscall.EINVAL},
		{"SyncRange past the end", m.SyncRange(150, 51, mmap.SyncWait), syscall.EINVAL},
		{"SyncRange zero length", m.SyncRange(0, 0, mmap.SyncWait), syscall.EINVAL},
		{"SyncRange bad mode", m.SyncRange(0, 1, mmap.SyncMode(99)), syscall.EINVAL},
		{"Advise unknown", m.Advise(mmap.Advice(12345)), syscall.EINVAL},
		{"Remap zero", m.Remap(0), syscall.EINVAL},
		{"Remap past the end of the file", m.Remap(4000), syscall.EINVAL},
		{"AtomicInt64 misaligned", second(shm.AtomicInt64(4)), syscall.EINVAL},
		{"AtomicInt64 past the end", second(shm.AtomicInt64(4096)), syscall.EINVAL},
		{"AtomicUint32 negative", second(shm.AtomicUint32(-4)), syscall.EINVAL},
		// Without the check, fallocate fills RAM until the OOM killer strikes.
		{"Shared beyond RAM and swap", mapErr(mmap.Shared(1 << 62)), syscall.ENOMEM},
		{"Remap of Shared beyond RAM and swap", shm.Remap(1 << 50), syscall.ENOMEM},
	} {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: error %v, want one matching %v", c.what, c.err, c.want)
		} else {
			t.Logf("%s: %v", c.what, c.err)
		}
	}
	if m.Len() != 200 {
		t.Errorf("a failed Remap changed the length to %d", m.Len())
	}
	// The two that once said only "offset 0, length 0" and "operation not
	// permitted" say why.
	if _, err := mmap.Inherit(pr); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Inherit of a pipe: %v, want it to say the pipe is not a regular file", err)
	}
	if _, err := mmap.Inherit(sealed); err == nil || !strings.Contains(err.Error(), "F_SEAL_WRITE") {
		t.Errorf("Inherit of a write-sealed memfd: %v, want it to name the seal", err)
	}
}

// TestOpenFIFO: Open of a FIFO is refused at once; opening it for reading
// used to wait for a writer forever.
func TestOpenFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fifo")
	if err := unix.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []mmap.Mode{mmap.ReadOnly, mmap.Private, mmap.ReadWrite} {
		done := make(chan error, 1)
		go func() { done <- mapErr(mmap.Open(path, mode)) }()
		if err := testutil.Recv(t, done); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("Open(FIFO, %v): %v, want EINVAL", mode, err)
		}
	}
}

// writeSealed returns a memfd of 4 KiB sealed against writing.
func writeSealed(t *testing.T) *os.File {
	t.Helper()
	fd, err := unix.MemfdCreate("goipc-sealed", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "goipc-sealed")
	t.Cleanup(func() { f.Close() })
	if err := f.Truncate(4096); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, unix.F_SEAL_WRITE); err != nil {
		t.Fatal(err)
	}
	return f
}

func mapErr(m *mmap.Mapping, err error) error {
	if m != nil {
		m.Close()
		return errors.New("mapped, want an error")
	}
	return err
}

func second[T any](_ T, err error) error { return err }

func TestClose(t *testing.T) {
	m, err := mmap.Shared(4096)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := (*mmap.Mapping)(nil).Close(); err != nil {
		t.Errorf("Close of nil: %v", err)
	}
	if m.Len() != 0 || m.Bytes() != nil || m.File() != nil {
		t.Errorf("after Close: Len %d, Bytes %v, File %v; want 0, nil, nil", m.Len(), m.Bytes(), m.File())
	}
	for what, err := range map[string]error{
		"ReadAt":    second(m.ReadAt(make([]byte, 1), 0)),
		"WriteAt":   second(m.WriteAt([]byte("x"), 0)),
		"Sync":      m.Sync(),
		"Advise":    m.Advise(mmap.WillNeed),
		"Lock":      m.Lock(),
		"Unlock":    m.Unlock(),
		"Remap":     m.Remap(8192),
		"AtomicInt": second(m.AtomicInt64(0)),
	} {
		if !errors.Is(err, os.ErrClosed) {
			t.Errorf("%s after Close: %v, want os.ErrClosed", what, err)
		}
	}
}

// TestNilMapping: the methods of a nil *Mapping fail (or report nothing)
// instead of panicking on its lock.
func TestNilMapping(t *testing.T) {
	var m *mmap.Mapping
	if m.Len() != 0 || m.Bytes() != nil || m.File() != nil {
		t.Errorf("nil Mapping: Len %d, Bytes %v, File %v; want 0, nil, nil", m.Len(), m.Bytes(), m.File())
	}
	for what, err := range map[string]error{
		"ReadAt":       second(m.ReadAt(make([]byte, 1), 0)),
		"WriteAt":      second(m.WriteAt([]byte("x"), 0)),
		"Sync":         m.Sync(),
		"SyncRange":    m.SyncRange(0, 1, mmap.SyncAsync),
		"Advise":       m.Advise(mmap.WillNeed),
		"Lock":         m.Lock(),
		"Unlock":       m.Unlock(),
		"Remap":        m.Remap(8192),
		"AtomicInt64":  second(m.AtomicInt64(0)),
		"AtomicUint32": second(m.AtomicUint32(0)),
	} {
		if !errors.Is(err, os.ErrInvalid) {
			t.Errorf("%s of nil: %v, want os.ErrInvalid", what, err)
		}
	}
}

func TestRemap(t *testing.T) {
	content := pattern(4 * 4096)
	path := tempFile(t, content)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := mustMap(t, f, mmap.ReadWrite, 100, 50)
	for _, length := range []int64{3*4096 + 10, 4*4096 - 100, 1, 4096} {
		if err := m.Remap(length); err != nil {
			t.Fatalf("Remap(%d): %v", length, err)
		}
		if m.Len() != int(length) || !bytes.Equal(m.Bytes(), content[100:100+length]) {
			t.Fatalf("after Remap(%d): Len %d, content equal %v", length, m.Len(), bytes.Equal(m.Bytes(), content[100:100+length]))
		}
	}

	// Shared memory grows its memfd, keeping the content.
	shm, err := mmap.Shared(100)
	if err != nil {
		t.Fatal(err)
	}
	defer shm.Close()
	copy(shm.Bytes(), "kept")
	if err := shm.Remap(1 << 20); err != nil {
		t.Fatal(err)
	}
	if st, err := shm.File().Stat(); err != nil || st.Size() != 1<<20 {
		t.Fatalf("the memfd after Remap: %v, %v; want 1 MiB", st, err)
	}
	b := shm.Bytes()
	b[len(b)-1] = 1 // faults unless the pages exist
	if shm.Len() != 1<<20 || string(b[:4]) != "kept" {
		t.Fatalf("Shared after Remap: Len %d, start %q", shm.Len(), b[:4])
	}
}

func TestAdviseLock(t *testing.T) {
	m, err := mmap.Create(filepath.Join(t.TempDir(), "f"), 64<<10, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for _, a := range []mmap.Advice{mmap.Sequential, mmap.Random, mmap.WillNeed, mmap.DontNeed, mmap.Normal} {
		if err := m.Advise(a); err != nil {
			t.Errorf("Advise(%d): %v", a, err)
		}
	}
	if err := m.Lock(); err != nil {
		if !errors.Is(err, syscall.EPERM) && !errors.Is(err, syscall.ENOMEM) {
			t.Fatal(err)
		}
		t.Skipf("cannot lock memory here: %v", err)
	}
	if err := m.Unlock(); err != nil {
		t.Fatal(err)
	}
}

func TestCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "created")
	old := syscall.Umask(0o077)
	m, err := mmap.Create(path, 10000, 0o640)
	syscall.Umask(old)
	if err != nil {
		t.Fatal(err)
	}
	copy(m.Bytes(), "first")
	m.Close()
	st, err := os.Stat(path)
	if err != nil || st.Size() != 10000 || st.Mode().Perm() != 0o640 {
		t.Fatalf("created file: %v %v; want 10000 bytes, mode 0640 whatever the umask", st, err)
	}
	// Create on an existing, longer file keeps its length and content.
	m, err = mmap.Create(path, 10, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	st, _ = os.Stat(path)
	if m.Len() != 10 || string(m.Bytes()[:5]) != "first" || st.Size() != 10000 || st.Mode().Perm() != 0o640 {
		t.Fatalf("Create on an existing file: Len %d, %q, size %d, mode %v", m.Len(), m.Bytes()[:5], st.Size(), st.Mode())
	}
}

// A Create that fails leaves nothing behind and makes no special file: a size
// the file system refuses used to leave an empty file, a setuid mode to make a
// setuid file, and a closed *os.File gave an error that os.ErrClosed did not
// match.
func TestCreateFailures(t *testing.T) {
	dir := t.TempDir()
	huge := filepath.Join(dir, "huge")
	if _, err := mmap.CreateFile(huge, 1<<62, 0o600); err == nil {
		t.Fatal("CreateFile of 4 EiB succeeded")
	}
	if _, err := os.Stat(huge); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a failed CreateFile left its file: %v", err)
	}
	suid := filepath.Join(dir, "suid")
	if _, err := mmap.Create(suid, 10, 0o755|os.ModeSetuid); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("Create with os.ModeSetuid: %v, want EINVAL", err)
	}
	if _, err := os.Stat(suid); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Create with os.ModeSetuid made a file: %v", err)
	}
	f, err := mmap.CreateFile(filepath.Join(dir, "closed"), 10, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, mapErr := mmap.Map(f, mmap.ReadOnly, 0, 10)
	for call, err := range map[string]error{"Map": mapErr, "Grow": mmap.Grow(f, 100)} {
		if !errors.Is(err, os.ErrClosed) {
			t.Errorf("%s of a closed file: %v, want os.ErrClosed", call, err)
		}
	}
}

// TestTruncatedUnderMapping has another process truncate the file while it
// is mapped: ReadAt and WriteAt must fail with EFAULT, not kill the test.
func TestTruncatedUnderMapping(t *testing.T) {
	path := tempFile(t, pattern(3*4096))
	for _, mode := range []mmap.Mode{mmap.ReadOnly, mmap.ReadWrite, mmap.Private} {
		if err := os.WriteFile(path, pattern(3*4096), 0o600); err != nil {
			t.Fatal(err)
		}
		m, err := mmap.Open(path, mode)
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		testutil.Start(t, testutil.Child("truncate", path, "4096")).MustSucceed()

		buf := make([]byte, 10)
		if n, err := m.ReadAt(buf, 0); n != 10 || err != nil {
			t.Errorf("%v: ReadAt inside what is left: %d, %v", mode, n, err)
		}
		if _, err := m.ReadAt(buf, 2*4096); !errors.Is(err, syscall.EFAULT) {
			t.Errorf("%v: ReadAt past the new end: %v, want EFAULT", mode, err)
		} else {
			t.Logf("%v: %v", mode, err)
		}
		if mode != mmap.ReadOnly {
			if _, err := m.WriteAt(buf, 4096+100); !errors.Is(err, syscall.EFAULT) {
				t.Errorf("%v: WriteAt past the new end: %v, want EFAULT", mode, err)
			}
		}
		if err := m.Close(); err != nil {
			t.Errorf("%v: Close after the fault: %v", mode, err)
		}
	}
}

func childTruncate(args []string) error {
	size, err := strconv.ParseInt(args[1], 10, 64)
	if err != nil {
		return err
	}
	return os.Truncate(args[0], size)
}

// Offsets in the memory the counting processes share.
const (
	counterOff = 0 // the count, int64
	readyOff   = 8 // how many processes are ready to start, int64
	perProcess = 500_000
)

// TestCountToAMillion: this process and a child add 1 to a shared counter
// half a million times each, at the same time; no increment may be lost.
func TestCountToAMillion(t *testing.T) {
	for _, kind := range []string{"anonymous", "file"} {
		t.Run(kind, func(t *testing.T) {
			var m *mmap.Mapping
			var cmd *exec.Cmd
			var err error
			if kind == "anonymous" {
				m, err = mmap.Shared(4096)
				cmd = testutil.Child("count", "fd")
				if err == nil {
					cmd.ExtraFiles = []*os.File{m.File()} // descriptor 3 in the child
				}
			} else {
				path := filepath.Join(t.TempDir(), "counter")
				m, err = mmap.Create(path, 4096, 0o600)
				cmd = testutil.Child("count", path)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			child := testutil.Start(t, cmd)
			if err := count(m); err != nil {
				t.Fatal(err)
			}
			child.MustSucceed()
			n, _ := m.AtomicInt64(counterOff)
			if got := n.Load(); got != 2*perProcess {
				t.Fatalf("counted %d, want %d: increments were lost", got, 2*perProcess)
			}
		})
	}
}

func childCount(args []string) error {
	var m *mmap.Mapping
	var err error
	if args[0] == "fd" {
		f := os.NewFile(3, "shared")
		m, err = mmap.Inherit(f)
		f.Close()
	} else {
		m, err = mmap.Open(args[0], mmap.ReadWrite)
	}
	if err != nil {
		return err
	}
	defer m.Close()
	return count(m)
}

// count waits until both processes are ready, so that they really add at the
// same time, then adds perProcess times.
func count(m *mmap.Mapping) error {
	n, err := m.AtomicInt64(counterOff)
	if err != nil {
		return err
	}
	ready, err := m.AtomicInt64(readyOff)
	if err != nil {
		return err
	}
	ready.Add(1)
	for ready.Load() < 2 {
		testutil.Yield()
	}
	for range perProcess {
		n.Add(1)
	}
	return nil
}

func TestPythonInterop(t *testing.T) {
	python := testutil.RequirePython(t, "mmap")
	dir := t.TempDir()

	// Python writes through its mmap module, Go reads.
	fromPy := filepath.Join(dir, "from-python")
	script := `
import mmap, sys
with open(sys.argv[1], "w+b") as f:
    f.write(b"\0" * 8192)
    f.flush()
    m = mmap.mmap(f.fileno(), 0)
    m[5000:5000 + len(sys.argv[2])] = sys.argv[2].encode()
    m.flush()
    m.close()
`
	if out, err := exec.Command(python, "-c", script, fromPy, "hello from python").CombinedOutput(); err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	m, err := mmap.Open(fromPy, mmap.ReadOnly)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	got := make([]byte, 17)
	if _, err := m.ReadAt(got, 5000); err != nil || string(got) != "hello from python" {
		t.Fatalf("Go read %q, %v; want what Python wrote", got, err)
	}

	// Go writes, Python reads through its mmap module.
	fromGo := filepath.Join(dir, "from-go")
	w, err := mmap.Create(fromGo, 3*4096, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.WriteAt([]byte("hello from go\x00"), 4097); err != nil {
		t.Fatal(err)
	}
	script = `
import mmap, sys
with open(sys.argv[1], "rb") as f:
    m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    end = m.find(b"\0", 4097)
    sys.stdout.write(m[4097:end].decode())
`
	out, err := exec.Command(python, "-c", script, fromGo).CombinedOutput()
	if err != nil || string(out) != "hello from go" {
		t.Fatalf("Python read %q, %v; want what Go wrote", out, err)
	}
}

func TestModeString(t *testing.T) {
	got := fmt.Sprint(mmap.ReadOnly, mmap.ReadWrite, mmap.Private, mmap.Mode(9))
	if !strings.Contains(got, "ReadOnly ReadWrite Private Mode(9)") {
		t.Errorf("Mode strings: %q", got)
	}
}

// TestConcurrentRemapClose: ReadAt and WriteAt in other goroutines while the
// mapping moves (Remap) and goes away (Close) see either the memory or
// os.ErrClosed, never a fault.
func TestConcurrentRemapClose(t *testing.T) {
	m, err := mmap.Shared(4096)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 4)
	var started sync.WaitGroup // each goroutine has read and written once
	started.Add(4)
	for g := range 4 {
		go func() {
			buf := make([]byte, 64)
			for first := true; ; first = false {
				_, err := m.WriteAt(buf, int64(g*64))
				if err == nil {
					_, err = m.ReadAt(buf, int64(g*64))
				}
				if first {
					started.Done()
				}
				if err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	started.Wait()
	for i := range 50 {
		if err := m.Remap(int64(4096 * (1 + i%7))); err != nil {
			t.Fatal(err)
		}
	}
	m.Close()
	for range 4 {
		if err := <-errc; !errors.Is(err, os.ErrClosed) {
			t.Errorf("a reader or writer got %v, want os.ErrClosed", err)
		}
	}
}

// FuzzReadWriteAt checks ReadAt and WriteAt at any offset and length against
// a plain byte slice: the same bytes, the same short reads, errors exactly for
// writes that do not fit, and never a panic.
func FuzzReadWriteAt(f *testing.F) {
	f.Add(int64(0), uint16(10), []byte("hello"))
	f.Add(int64(4095), uint16(2), []byte("xy"))
	f.Add(int64(-1), uint16(1), []byte("z"))
	f.Add(int64(1<<62), uint16(0), []byte{})
	const size = 5000
	m, err := mmap.Shared(size)
	if err != nil {
		f.Fatal(err)
	}
	defer m.Close()
	model := make([]byte, size)
	f.Fuzz(func(t *testing.T, off int64, n uint16, data []byte) {
		fits := off >= 0 && off <= size && int64(len(data)) <= size-off
		if _, err := m.WriteAt(data, off); (err == nil) != fits {
			t.Fatalf("WriteAt(%d bytes, %d): %v; fits %v", len(data), off, err, fits)
		}
		if fits {
			copy(model[off:], data)
		}
		got := make([]byte, n)
		k, err := m.ReadAt(got, off)
		if off < 0 {
			if !errors.Is(err, syscall.EINVAL) {
				t.Fatalf("ReadAt(%d): %v, want EINVAL", off, err)
			}
			return
		}
		lo := min(off, size)
		want := model[lo : lo+min(int64(n), size-lo)]
		if k != len(want) || !bytes.Equal(got[:k], want) || (k < int(n)) != (err == io.EOF) {
			t.Fatalf("ReadAt(%d bytes, %d) = %d, %v; want %d bytes", n, off, k, err, len(want))
		}
	})
}

// Every exported method of a nil Mapping fails with os.ErrInvalid, and of a
// zero one with os.ErrClosed (Close of either succeeds); none panics, with
// any arguments, even invalid ones, so that the check comes first. A zero
// one has no name, and its errors leave no empty place for one ("msync : ").
func TestNilAndZeroMappingEveryMethod(t *testing.T) {
	for h, want := range map[*mmap.Mapping]error{nil: os.ErrInvalid, {}: os.ErrClosed} {
		for _, r := range testutil.CallEvery(h) {
			switch {
			case r.Panic != nil:
				t.Errorf("Mapping(%v).%s panicked: %v", h, r.Method, r.Panic)
			case r.Method == "Close" && r.Err != nil:
				t.Errorf("Close: %v, want nil", r.Err)
			case r.Method != "Close" && r.Err != nil && !errors.Is(r.Err, want):
				t.Errorf("Mapping(%v).%s: %v, want %v", h, r.Method, r.Err, want)
			case r.Err != nil && strings.Contains(r.Err.Error(), " : "):
				t.Errorf("Mapping(%v).%s: %q names no file but leaves its place", h, r.Method, r.Err)
			}
		}
	}
}
