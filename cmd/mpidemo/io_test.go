package main

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/mpi/mpitest"
	"golang.org/x/sys/unix"
)

// TestIO writes the global array with `mpidemo io write` and reads it back
// with `mpidemo io read` on 1, 2 and 4 ranks, and on a different number of
// ranks than wrote it: the file is the same whoever writes it.
func TestIO(t *testing.T) {
	for _, c := range []struct{ writers, readers, count int }{{1, 1, 1024}, {2, 2, 7}, {4, 4, 1000}, {4, 2, 500}, {2, 4, 6}} {
		path := filepath.Join(t.TempDir(), "array")
		n := fmt.Sprint(c.count)
		mpitest.Must(t, env, mpidemo(c.writers, "io", "write", path, "--count", n))
		fi, err := os.Stat(path)
		if want := int64(c.writers * c.count * 8); err != nil || fi.Size() != want || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%d writers of %d: %v, %v, want %d bytes, mode 0600", c.writers, c.count, fi, err, want)
		}
		readCount := fmt.Sprint(c.writers * c.count / c.readers)
		r := mpitest.Must(t, env, mpidemo(c.readers, "io", "read", path, "--count", readCount))
		if want := fmt.Sprintf("ok %d values\n", c.writers*c.count); r.Stdout != want {
			t.Errorf("%d readers: stdout %q, want %q", c.readers, r.Stdout, want)
		}
	}
}

// TestIOReadCorrupted changes one element, and then cuts the file short:
// the read names the element and fails.
func TestIOReadCorrupted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "array")
	mpitest.Must(t, env, mpidemo(4, "io", "write", path, "--count", "100"))
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [8]byte
	binary.NativeEndian.PutUint64(b[:], math.Float64bits(-1))
	if _, err := f.WriteAt(b[:], 234*8); err != nil {
		t.Fatal(err)
	}
	r := mpitest.Run(t, env, mpidemo(4, "io", "read", path, "--count", "100"))
	const want = "element 234 is -1.0, want 234.0"
	if r.Err == nil || !strings.Contains(r.Stderr, want) || strings.Contains(r.Stdout, "ok") {
		t.Fatalf("read of a corrupted file: %v, stdout %q, stderr:\n%s\nwant a failure naming %q", r.Err, r.Stdout, r.Stderr, want)
	}
	if err := f.Truncate(150 * 8); err != nil {
		t.Fatal(err)
	}
	r = mpitest.Run(t, env, mpidemo(2, "io", "read", path, "--count", "200"))
	const missing = "element 150 is missing (the file has 1200 bytes, want 3200)"
	if r.Err == nil || !strings.Contains(r.Stderr, missing) {
		t.Fatalf("read of a short file: %v, stderr:\n%s\nwant %q", r.Err, r.Stderr, missing)
	}
}

func TestIOUsage(t *testing.T) {
	for _, args := range [][]string{{"io", "write", "x", "--count", "0"}, {"io", "read"}, {"io", "write", "a", "b"}} {
		r := mpitest.Run(t, env, mpidemo(1, args...))
		if r.Err == nil || !strings.Contains(r.Stderr, "mpidemo: ") {
			t.Errorf("%v: %v, stderr:\n%s\nwant a usage error", args, r.Err, r.Stderr)
		}
	}
}

// TestIONotAFile: a PATH that is a FIFO or a directory is refused before
// MPI opens it; MPI-IO would open a FIFO and wait for a peer that never comes.
func TestIONotAFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ verb, path, kind string }{
		{"read", fifo, "FIFO"}, {"write", fifo, "FIFO"}, {"write", dir, "directory"},
	} {
		r := mpitest.Run(t, env, mpidemo(2, "io", c.verb, c.path, "--count", "4"))
		want := fmt.Sprintf("mpidemo: %s: not a regular file (it is a %s)", c.path, c.kind)
		if r.Err == nil || !strings.Contains(r.Stderr, want) {
			t.Errorf("io %s of a %s: %v, stderr:\n%s\nwant %q", c.verb, c.kind, r.Err, r.Stderr, want)
		}
	}
}

// TestIONumpy has numpy read the file Go wrote, and Go read a file numpy
// wrote: native float64, nothing else.
func TestIONumpy(t *testing.T) {
	py := testutil.RequirePython(t, "numpy")
	dir := t.TempDir()
	fromGo, fromPy := filepath.Join(dir, "go"), filepath.Join(dir, "numpy")
	mpitest.Must(t, env, mpidemo(4, "io", "write", fromGo, "--count", "250"))
	script := fmt.Sprintf(`import numpy as np
a = np.fromfile(%q, dtype=np.float64)
assert (a == np.arange(1000)).all(), a
np.arange(1000, dtype=np.float64).tofile(%q)
print("numpy ok", len(a))`, fromGo, fromPy)
	out, err := exec.Command(py, "-c", script).CombinedOutput()
	if err != nil || string(out) != "numpy ok 1000\n" {
		t.Fatalf("numpy: %v\n%s", err, out)
	}
	r := mpitest.Must(t, env, mpidemo(2, "io", "read", fromPy, "--count", "500"))
	if r.Stdout != "ok 1000 values\n" {
		t.Fatalf("Go reading numpy's file: %q", r.Stdout)
	}
}

// TestIOPython has mpi4py (csrc/mpi_io.py) read what Go wrote and write what
// Go reads, in separate jobs and as ranks of one job with Go ranks.
func TestIOPython(t *testing.T) {
	if mpitest.Impl != "openmpi" {
		t.Skip("Debian's mpi4py is built against Open MPI")
	}
	py := testutil.RequirePython(t, "mpi4py", "numpy")
	script := filepath.Join(testutil.RepoRoot(), "csrc", "mpi_io.py")
	pyApp := func(n int, verb, path, count string) mpitest.App {
		return mpitest.App{N: n, Argv: []string{py, script, verb, path, count}}
	}
	dir := t.TempDir()
	t.Run("python reads go", func(t *testing.T) {
		path := filepath.Join(dir, "go")
		mpitest.Must(t, env, mpidemo(4, "io", "write", path, "--count", "50"))
		if r := mpitest.Must(t, env, pyApp(2, "read", path, "100")); r.Stdout != "ok 200 values\n" {
			t.Fatalf("mpi4py read: %q", r.Stdout)
		}
	})
	t.Run("go reads python", func(t *testing.T) {
		path := filepath.Join(dir, "python")
		mpitest.Must(t, env, pyApp(2, "write", path, "100"))
		if r := mpitest.Must(t, env, mpidemo(4, "io", "read", path, "--count", "50")); r.Stdout != "ok 200 values\n" {
			t.Fatalf("Go read: %q", r.Stdout)
		}
	})
	t.Run("one job", func(t *testing.T) {
		path := filepath.Join(dir, "mixed")
		mpitest.Must(t, env, pyApp(1, "write", path, "64"), mpidemo(1, "io", "write", path, "--count", "64"))
		r := mpitest.Must(t, env, mpidemo(1, "io", "read", path, "--count", "64"), pyApp(1, "read", path, "64"))
		if r.Stdout != "ok 128 values\n" {
			t.Fatalf("mixed read: %q", r.Stdout)
		}
	})
	t.Run("python finds the corrupted element", func(t *testing.T) {
		path := filepath.Join(dir, "go")
		if err := os.Truncate(path, 150*8); err != nil {
			t.Fatal(err)
		}
		r := mpitest.Run(t, env, pyApp(2, "read", path, "100"))
		if r.Err == nil || !strings.Contains(r.Stderr, "element 150 is missing (the file has 1200 bytes, want 1600)") {
			t.Fatalf("mpi4py read of a short file: %v\n%s", r.Err, r.Stderr)
		}
	})
}

// TestIOReadMissing: reading a file that does not exist says so. Every rank
// failed MPI_File_open and aborted, and under MPICH the job often ended
// with exit 1 and not a word on stderr.
func TestIOReadMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing")
	for range 3 {
		r := mpitest.Run(t, env, mpidemo(2, "io", "read", path))
		if want := "mpidemo: " + path + ": file does not exist"; r.Err == nil || !strings.Contains(r.Stderr, want) {
			t.Fatalf("io read of a missing file: %v, stderr:\n%s\nwant %q", r.Err, r.Stderr, want)
		}
	}
}

// TestIOCountBound: a rank's block is at most 1GiB; the largest MPI count
// (16GiB of float64 per rank) was more memory than the ranks had.
func TestIOCountBound(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing")
	r := mpitest.Run(t, env, mpidemo(1, "io", "read", path, "--count", "134217729"))
	const want = "mpidemo: --count must be between 1 and 134217728, not 134217729"
	if r.Err == nil || !strings.Contains(r.Stderr, want) {
		t.Fatalf("io read --count 134217729: %v, stderr:\n%s\nwant %q", r.Err, r.Stderr, want)
	}
}
