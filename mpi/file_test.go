package mpi_test

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/goipc/ipc/mpi"
	"github.com/goipc/ipc/mpi/mpitest"
)

func init() {
	children["io"] = func(args []string) error {
		ioDir = args[0]
		checks := fileChecks
		if len(args) > 1 { // by hand, to run some of them: DIR NAME...
			checks = slices.DeleteFunc(slices.Clone(checks), func(c check) bool { return !slices.Contains(args[1:], c.name) })
		}
		return suite(mpi.ThreadFunneled, checks)
	}
}

// ompio is true under Open MPI 4.1, whose MPI-IO component (ompio) never
// completes a nonblocking read that meets the end of the file (its aio
// progress loop waits for the missing bytes; a C program hangs the same
// way). That check runs on MPICH only.
var ompio = mpitest.Impl == "openmpi"

// ioDir is the directory every rank of an I/O job shares: the test's.
var ioDir string

// ioJob runs the file checks on n ranks, in a directory the test removes.
func ioJob(t *testing.T, n int) {
	dir := t.TempDir()
	expectChecks(t, mpitest.Must(t, childEnv("io"), mpitest.App{N: n, Argv: []string{os.Args[0], dir}}), fileChecks)
	left, _ := os.ReadDir(dir)
	for _, e := range left {
		t.Errorf("%s left in the job's directory", e.Name())
	}
}

func TestFileOneRank(t *testing.T)   { ioJob(t, 1) }
func TestFileTwoRanks(t *testing.T)  { ioJob(t, 2) }
func TestFileFourRanks(t *testing.T) { ioJob(t, 4) }

// scratch opens name in ioDir on every rank of w, created and read-write,
// and empty, with ModeDeleteOnClose so that Close removes it.
func scratch(w *mpi.Comm, name string) (*mpi.File, error) {
	f, err := mpi.Open(w, filepath.Join(ioDir, name), mpi.ModeCreate|mpi.ModeReadWrite|mpi.ModeDeleteOnClose, nil)
	if err != nil {
		return nil, err
	}
	if err := f.SetSize(0); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// counted checks a data call's count.
func counted(what string, n int, err error, wantN int) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return want(what+" count", n, wantN)
}

// closedFile checks the os.ErrClosed error of a call on a File that is not
// open.
func closedFile(what string, err error) error {
	if !errors.Is(err, os.ErrClosed) {
		return fmt.Errorf("%s: %v, want os.ErrClosed", what, err)
	}
	return nil
}

// notOpenCalls makes every call on f, which must not be open.
func notOpenCalls(f *mpi.File) error {
	buf := []float64{1}
	f64, _ := mpi.TypeOf[float64]()
	var errs []error
	add := func(what string, err error) { errs = append(errs, closedFile(what, err)) }
	for _, c := range []struct {
		what string
		call func() (int, error)
	}{
		{"Read", func() (int, error) { return mpi.Read(f, buf) }},
		{"Write", func() (int, error) { return mpi.Write(f, buf) }},
		{"ReadAt", func() (int, error) { return mpi.ReadAt(f, buf, 0) }},
		{"WriteAt", func() (int, error) { return mpi.WriteAt(f, buf, 0) }},
		{"ReadAll", func() (int, error) { return mpi.ReadAll(f, buf) }},
		{"WriteAll", func() (int, error) { return mpi.WriteAll(f, buf) }},
		{"ReadAtAll", func() (int, error) { return mpi.ReadAtAll(f, buf, 0) }},
		{"WriteAtAll", func() (int, error) { return mpi.WriteAtAll(f, buf, 0) }},
		{"ReadShared", func() (int, error) { return mpi.ReadShared(f, buf) }},
		{"WriteShared", func() (int, error) { return mpi.WriteShared(f, buf) }},
		{"ReadOrdered", func() (int, error) { return mpi.ReadOrdered(f, buf) }},
		{"WriteOrdered", func() (int, error) { return mpi.WriteOrdered(f, buf) }},
		{"Seek", func() (int, error) { n, err := f.Seek(0, io.SeekStart); return int(n), err }},
		{"SeekShared", func() (int, error) { return 0, f.SeekShared(0, io.SeekStart) }},
		{"Size", func() (int, error) { n, err := f.Size(); return int(n), err }},
		{"ReaderAt", func() (int, error) { return f.ReaderAt().ReadAt(make([]byte, 1), 0) }},
		{"WriterAt", func() (int, error) { return f.WriterAt().WriteAt(make([]byte, 1), 0) }},
	} {
		n, err := c.call()
		add(c.what, err)
		if n != 0 {
			errs = append(errs, fmt.Errorf("%s moved %d elements", c.what, n))
		}
	}
	for _, c := range []struct {
		what string
		call func() (*mpi.Request, error)
	}{
		{"Iread", func() (*mpi.Request, error) { return mpi.Iread(f, buf) }},
		{"Iwrite", func() (*mpi.Request, error) { return mpi.Iwrite(f, buf) }},
		{"IreadAt", func() (*mpi.Request, error) { return mpi.IreadAt(f, buf, 0) }},
		{"IwriteAt", func() (*mpi.Request, error) { return mpi.IwriteAt(f, buf, 0) }},
		{"IreadAll", func() (*mpi.Request, error) { return mpi.IreadAll(f, buf) }},
		{"IwriteAll", func() (*mpi.Request, error) { return mpi.IwriteAll(f, buf) }},
		{"IreadAtAll", func() (*mpi.Request, error) { return mpi.IreadAtAll(f, buf, 0) }},
		{"IwriteAtAll", func() (*mpi.Request, error) { return mpi.IwriteAtAll(f, buf, 0) }},
	} {
		r, err := c.call()
		add(c.what, err)
		if r != nil {
			errs = append(errs, fmt.Errorf("%s returned a request", c.what))
		}
	}
	add("SetView", f.SetView(0, f64, f64, mpi.Native, nil))
	add("SetSize", f.SetSize(1))
	add("Preallocate", f.Preallocate(1))
	add("Sync", f.Sync())
	add("SetAtomicity", f.SetAtomicity(true))
	_, err := f.Atomicity()
	add("Atomicity", err)
	_, err = f.Info()
	add("Info", err)
	errs = append(errs, want("Close", f.Close(), nil))
	return errors.Join(errs...)
}

// iotaF returns start, start+1... as n float64.
func iotaF(start, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = float64(start + i)
	}
	return out
}

var fileChecks = []check{
	{"file write at read at", func(w *mpi.Comm) error {
		f, err := scratch(w, "at")
		if err != nil {
			return err
		}
		const n = 5
		r, s := w.Rank(), w.Size()
		// The default view is bytes: offsets count bytes.
		nw, err := mpi.WriteAt(f, iotaF(r*n, n), int64(r*n*8))
		if err := counted("WriteAt", nw, err, n); err != nil {
			return err
		}
		if err := errors.Join(f.Sync(), mpi.Barrier(w), f.Sync()); err != nil {
			return err
		}
		size, err := f.Size()
		if err != nil || size != int64(s*n*8) {
			return fmt.Errorf("Size = %d, %v, want %d", size, err, s*n*8)
		}
		next := (r + 1) % s
		got := make([]float64, n)
		nr, err := mpi.ReadAt(f, got, int64(next*n*8))
		if err := counted("ReadAt", nr, err, n); err != nil {
			return err
		}
		if err := wantSlice("the next rank's block", got, iotaF(next*n, n)); err != nil {
			return err
		}
		// At the end of the file a read returns what there is; past it, nothing.
		nr, err = mpi.ReadAt(f, got, int64((s*n-2)*8))
		if err := counted("ReadAt the last two", nr, err, 2); err != nil {
			return err
		}
		nr, err = mpi.ReadAt(f, got, int64(s*n*8+100))
		if err := counted("ReadAt past the end", nr, err, 0); err != nil {
			return err
		}
		if err := mpi.Barrier(w); err != nil {
			return err
		}
		return f.Close()
	}},
	{"file view write all read all", func(w *mpi.Comm) error {
		f, err := scratch(w, "view")
		if err != nil {
			return err
		}
		r, s := w.Rank(), w.Size()
		f64, err := mpi.TypeOf[float64]()
		if err != nil {
			return err
		}
		// Rank r sees elements r, r+s, r+2s...: one float64 every s.
		every, err := mpi.Resized(f64, 0, 8*s)
		if err != nil {
			return err
		}
		defer every.Free()
		if err := every.Commit(); err != nil {
			return err
		}
		if err := f.SetView(int64(8*r), f64, every, mpi.Native, nil); err != nil {
			return err
		}
		const n = 6
		mine := make([]float64, n)
		for i := range mine {
			mine[i] = float64(i*s + r)
		}
		nw, err := mpi.WriteAll(f, mine[:3])
		if err := counted("WriteAll", nw, err, 3); err != nil {
			return err
		}
		nw, err = mpi.WriteAtAll(f, mine[3:], 3) // offsets count etypes of the view
		if err := counted("WriteAtAll", nw, err, 3); err != nil {
			return err
		}
		if pos, err := f.Seek(0, io.SeekCurrent); err != nil || pos != 3 {
			return fmt.Errorf("individual pointer after WriteAll of 3 = %d, %v, want 3 (WriteAtAll leaves it)", pos, err)
		}
		if err := errors.Join(f.Sync(), mpi.Barrier(w), f.Sync()); err != nil {
			return err
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		back := make([]float64, n)
		nr, err := mpi.ReadAll(f, back)
		if err := counted("ReadAll through the view", nr, err, n); err != nil {
			return err
		}
		if err := wantSlice("ReadAll through the view", back, mine); err != nil {
			return err
		}
		// The whole file, through a view of every element, is 0, 1, 2...
		if err := f.SetView(0, f64, f64, mpi.Native, nil); err != nil {
			return err
		}
		all := make([]float64, n*s)
		nr, err = mpi.ReadAtAll(f, all, 0)
		if err := counted("ReadAtAll of the file", nr, err, n*s); err != nil {
			return err
		}
		if err := wantSlice("the file", all, iotaF(0, n*s)); err != nil {
			return err
		}
		return f.Close()
	}},
	{"file struct elements", func(w *mpi.Comm) error {
		f, err := scratch(w, "struct")
		if err != nil {
			return err
		}
		r := w.Rank()
		ps := []particle{{ID: int32(r), Pos: [3]float64{1, 2, float64(r)}, Name: [8]byte{'p', byte('0' + r)}}, {ID: -1}}
		pt, err := mpi.TypeOf[particle]()
		if err != nil {
			return err
		}
		// The file holds the records without the Go padding: Size bytes each.
		off := int64(r * 2 * pt.Size())
		nw, err := mpi.WriteAt(f, ps, off)
		if err := counted("WriteAt of particles", nw, err, 2); err != nil {
			return err
		}
		got := make([]particle, 2)
		nr, err := mpi.ReadAt(f, got, off)
		if err := counted("ReadAt of particles", nr, err, 2); err != nil {
			return err
		}
		if err := wantSlice("particles", got, ps); err != nil {
			return err
		}
		if err := mpi.Barrier(w); err != nil {
			return err
		}
		return f.Close()
	}},
	{"file shared and ordered", func(w *mpi.Comm) error {
		f, err := scratch(w, "shared")
		if err != nil {
			return err
		}
		r, s := w.Rank(), w.Size()
		i64, err := mpi.TypeOf[int64]()
		if err != nil {
			return err
		}
		if err := f.SetView(0, i64, i64, mpi.Native, nil); err != nil {
			return err
		}
		// Rank r writes r+1 copies of r, in rank order: 0 1 1 2 2 2...
		piece := slices.Repeat([]int64{int64(r)}, r+1)
		nw, err := mpi.WriteOrdered(f, piece)
		if err := counted("WriteOrdered", nw, err, r+1); err != nil {
			return err
		}
		total := s * (s + 1) / 2
		if err := f.SeekShared(0, io.SeekStart); err != nil {
			return err
		}
		got := make([]int64, r+1)
		nr, err := mpi.ReadOrdered(f, got)
		if err := counted("ReadOrdered", nr, err, r+1); err != nil {
			return err
		}
		if err := wantSlice("ReadOrdered", got, piece); err != nil {
			return err
		}
		// WriteShared appends each rank's 100+r somewhere after; ReadShared
		// gives each rank one of them, every one to exactly one rank.
		nw, err = mpi.WriteShared(f, []int64{int64(100 + r)})
		if err := counted("WriteShared", nw, err, 1); err != nil {
			return err
		}
		if err := errors.Join(f.Sync(), mpi.Barrier(w), f.Sync()); err != nil {
			return err
		}
		if size, err := f.Size(); err != nil || size != int64(8*(total+s)) {
			return fmt.Errorf("size after WriteShared = %d, %v, want %d", size, err, 8*(total+s))
		}
		if err := f.SeekShared(int64(total), io.SeekStart); err != nil {
			return err
		}
		one := []int64{-1}
		nr, err = mpi.ReadShared(f, one)
		if err := counted("ReadShared", nr, err, 1); err != nil {
			return err
		}
		seen := make([]int64, s)
		if err := mpi.Allgather(w, one, seen); err != nil {
			return err
		}
		slices.Sort(seen)
		want := make([]int64, s)
		for i := range want {
			want[i] = int64(100 + i)
		}
		if err := wantSlice("what ReadShared gave the ranks", seen, want); err != nil {
			return err
		}
		return f.Close()
	}},
	{"file nonblocking", func(w *mpi.Comm) error {
		f, err := scratch(w, "nonblocking")
		if err != nil {
			return err
		}
		r, s := w.Rank(), w.Size()
		f64, err := mpi.TypeOf[float64]()
		if err != nil {
			return err
		}
		if err := f.SetView(0, f64, f64, mpi.Native, nil); err != nil {
			return err
		}
		// Each rank's region of 8: Iwrite [0,2), IwriteAt [2,4),
		// IwriteAll [4,6), IwriteAtAll [6,8).
		base := int64(8 * r)
		if _, err := f.Seek(base, io.SeekStart); err != nil {
			return err
		}
		vals := iotaF(8*r, 8)
		var reqs []*mpi.Request
		for _, start := range []func() (*mpi.Request, error){
			func() (*mpi.Request, error) { return mpi.Iwrite(f, vals[0:2]) },
			func() (*mpi.Request, error) { return mpi.IwriteAt(f, vals[2:4], base+2) },
		} {
			req, err := start()
			if err != nil {
				return err
			}
			reqs = append(reqs, req)
		}
		sts, err := mpi.WaitAll(reqs...)
		if err != nil {
			return err
		}
		for i, st := range sts {
			if n := mpi.Count[float64](st); n != 2 {
				return fmt.Errorf("write %d: Count = %d, want 2", i, n)
			}
		}
		// The individual pointer moved past the Iwrite only.
		if pos, err := f.Seek(0, io.SeekCurrent); err != nil || pos != base+2 {
			return fmt.Errorf("pointer after Iwrite = %d, %v, want %d", pos, err, base+2)
		}
		if _, err := f.Seek(base+4, io.SeekStart); err != nil {
			return err
		}
		ra, err := mpi.IwriteAll(f, vals[4:6])
		if err != nil {
			return err
		}
		if _, err := ra.Wait(); err != nil {
			return err
		}
		rb, err := mpi.IwriteAtAll(f, vals[6:8], base+6)
		if err != nil {
			return err
		}
		// While rb is unfinished, Close refuses, here, before MPI.
		if err := wantClass(f.Close(), mpi.ErrPending); err != nil {
			return fmt.Errorf("Close with a write pending: %w", err)
		}
		// Nor is it freed; it is a file operation, and the refusal and
		// Finalize's report say so, not that it is a collective.
		if err := rb.Free(); wantInvalid(err, mpi.ErrRequest) != nil || !strings.Contains(err.Error(), "file operation") {
			return fmt.Errorf("Free of an unfinished IwriteAtAll: %v", err)
		}
		if err := want("IwriteAtAll's String", rb.String(), "a file operation"); err != nil {
			return err
		}
		if st, err := rb.Wait(); err != nil || mpi.Count[float64](st) != 2 {
			return fmt.Errorf("IwriteAtAll: Count %d, %v", mpi.Count[float64](st), err)
		}
		if err := errors.Join(f.Sync(), mpi.Barrier(w), f.Sync()); err != nil {
			return err
		}
		// Read the next rank's region back in the four ways.
		next := (r + 1) % s
		nbase := int64(8 * next)
		got := make([]float64, 8)
		if _, err := f.Seek(nbase, io.SeekStart); err != nil {
			return err
		}
		r1, err1 := mpi.Iread(f, got[0:2])
		r2, err2 := mpi.IreadAt(f, got[2:4], nbase+2)
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		if _, err := mpi.WaitAll(r1, r2); err != nil {
			return err
		}
		if _, err := f.Seek(nbase+4, io.SeekStart); err != nil {
			return err
		}
		r3, err := mpi.IreadAll(f, got[4:6])
		if err != nil {
			return err
		}
		if _, err := r3.Wait(); err != nil {
			return err
		}
		r4, err := mpi.IreadAtAll(f, got[6:8], nbase+6)
		if err != nil {
			return err
		}
		st, err := r4.Wait()
		if err != nil {
			return err
		}
		if err := want("IreadAtAll count", mpi.Count[float64](st), 2); err != nil {
			return err
		}
		if err := wantSlice("the next rank's region", got, iotaF(8*next, 8)); err != nil {
			return err
		}
		if !ompio {
			// Past the end: a count of 0.
			r5, err := mpi.IreadAt(f, got, int64(8*s+10))
			if err != nil {
				return err
			}
			if st, err := r5.Wait(); err != nil || mpi.Count[float64](st) != 0 {
				return fmt.Errorf("IreadAt past the end: Count %d, %v, want 0", mpi.Count[float64](st), err)
			}
			if err := r5.Free(); err != nil { // a completed request frees at once
				return err
			}
		}
		return f.Close()
	}},
	{"file size preallocate sync atomicity info", func(w *mpi.Comm) error {
		in, err := mpi.NewInfo()
		if err != nil {
			return err
		}
		defer in.Free()
		if err := in.Set("cb_buffer_size", "1048576"); err != nil {
			return err
		}
		path := filepath.Join(ioDir, "sizes")
		f, err := mpi.Open(w, path, mpi.ModeCreate|mpi.ModeReadWrite, in) // Open MPI preallocates by reading too
		if err != nil {
			return err
		}
		if w.Rank() == 0 {
			if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
				return fmt.Errorf("a file Open created: %v, %v, want mode 0600", fi.Mode(), err)
			}
		}
		hints, err := f.Info()
		if err != nil {
			return err
		}
		v, ok, err := hints.Get("cb_buffer_size")
		hints.Free()
		if err != nil || !ok || v != "1048576" {
			return fmt.Errorf("hint cb_buffer_size in effect: %q %v %v, want 1048576", v, ok, err)
		}
		for _, c := range []struct {
			what string
			do   func() error
			size int64
		}{
			{"SetSize(100)", func() error { return f.SetSize(100) }, 100},
			{"Preallocate(4096)", func() error { return f.Preallocate(4096) }, 4096},
			{"Preallocate(10)", func() error { return f.Preallocate(10) }, 4096}, // never shrinks
			{"SetSize(10)", func() error { return f.SetSize(10) }, 10},
		} {
			// Every rank sees the new size once all have made the call.
			if err := errors.Join(c.do(), mpi.Barrier(w)); err != nil {
				return fmt.Errorf("%s: %w", c.what, err)
			}
			if size, err := f.Size(); err != nil || size != c.size {
				return fmt.Errorf("Size after %s = %d, %v, want %d", c.what, size, err, c.size)
			}
			if err := mpi.Barrier(w); err != nil {
				return err
			}
		}
		for _, atomic := range []bool{true, false} {
			if err := f.SetAtomicity(atomic); err != nil {
				return err
			}
			if got, err := f.Atomicity(); err != nil || got != atomic {
				return fmt.Errorf("Atomicity after SetAtomicity(%v) = %v, %v", atomic, got, err)
			}
		}
		if err := f.Sync(); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		if err := mpi.Barrier(w); err != nil {
			return err
		}
		if w.Rank() == 0 {
			if err := mpi.Delete(path, nil); err != nil {
				return err
			}
			if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("after Delete: %v, want it gone", err)
			}
		}
		return mpi.Barrier(w)
	}},
	{"file reader at writer at", func(w *mpi.Comm) error {
		f, err := scratch(w, "bytes")
		if err != nil {
			return err
		}
		r := w.Rank()
		msg := fmt.Appendf(nil, "rank %02d|", r) // 8 bytes each
		if n, err := f.WriterAt().WriteAt(msg, int64(8*r)); err != nil || n != 8 {
			return fmt.Errorf("WriteAt: %d, %v", n, err)
		}
		if err := errors.Join(f.Sync(), mpi.Barrier(w), f.Sync()); err != nil {
			return err
		}
		all, err := io.ReadAll(io.NewSectionReader(f.ReaderAt(), 0, 1<<20))
		if err != nil {
			return err
		}
		var wantAll []byte
		for q := range w.Size() {
			wantAll = fmt.Appendf(wantAll, "rank %02d|", q)
		}
		if err := want("the file through io.SectionReader", string(all), string(wantAll)); err != nil {
			return err
		}
		buf := make([]byte, 12)
		n, err := f.ReaderAt().ReadAt(buf, int64(len(all)-4))
		if n != 4 || err != io.EOF {
			return fmt.Errorf("ReadAt across the end: %d, %v, want 4, io.EOF", n, err)
		}
		if _, err := f.ReaderAt().ReadAt(buf, -1); !errors.Is(err, syscall.EINVAL) {
			return fmt.Errorf("ReadAt(-1): %v, want EINVAL", err)
		}
		// A view of float64 etypes: byte offsets mean nothing any more.
		f64, _ := mpi.TypeOf[float64]()
		if err := f.SetView(0, f64, f64, mpi.Native, nil); err != nil {
			return err
		}
		if _, err := f.ReaderAt().ReadAt(buf, 0); wantInvalid(err, mpi.ErrType) != nil {
			return fmt.Errorf("ReadAt through a float64 view: %v, want ErrType", err)
		}
		if err := mpi.Barrier(w); err != nil {
			return err
		}
		return f.Close()
	}},
	{"file errors from the library", func(w *mpi.Comm) error {
		missing := filepath.Join(ioDir, "missing")
		_, err := mpi.Open(w, missing, mpi.ModeReadOnly, nil)
		if wantClass(err, mpi.ErrNoSuchFile) != nil || !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("Open of a missing file: %v, want ErrNoSuchFile and fs.ErrNotExist", err)
		}
		if err := mpi.Delete(missing, nil); wantClass(err, mpi.ErrNoSuchFile) != nil || !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("Delete of a missing file: %v, want ErrNoSuchFile and fs.ErrNotExist", err)
		}
		f, err := scratch(w, "exists")
		if err != nil {
			return err
		}
		_, err = mpi.Open(w, f.Path(), mpi.ModeCreate|mpi.ModeExcl|mpi.ModeWriteOnly, nil)
		if !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("exclusive Open of an existing file: %v, want fs.ErrExist", err)
		}
		if err := f.Close(); err != nil {
			return err
		}
		return mpi.Barrier(w)
	}},
	{"file misuse", func(w *mpi.Comm) error {
		if err := notOpenCalls(&mpi.File{}); err != nil {
			return fmt.Errorf("zero File: %w", err)
		}
		if err := notOpenCalls(nil); err != nil {
			return fmt.Errorf("nil File: %w", err)
		}
		if _, err := mpi.Read(&mpi.File{}, []byte{0}); !errors.Is(err, os.ErrInvalid) {
			return fmt.Errorf("zero File: %v, want os.ErrInvalid too", err)
		}
		path := filepath.Join(ioDir, "misuse")
		for _, m := range []mpi.AccessMode{0, mpi.ModeReadOnly | mpi.ModeWriteOnly, mpi.ModeReadOnly | mpi.ModeCreate,
			mpi.ModeReadWrite | mpi.ModeSequential, mpi.ModeReadWrite | 1<<20} {
			if _, err := mpi.Open(w, path, m, nil); wantInvalid(err, mpi.ErrAmode) != nil {
				return fmt.Errorf("Open with %v: %v, want ErrAmode before MPI", m, err)
			}
		}
		for _, p := range []string{"", "a\x00b"} {
			if _, err := mpi.Open(w, p, mpi.ModeReadOnly, nil); wantInvalid(err, mpi.ErrBadFile) != nil {
				return fmt.Errorf("Open(%q): %v, want ErrBadFile", p, err)
			}
		}
		if _, err := mpi.Open(nil, path, mpi.ModeReadOnly, nil); !errors.Is(err, os.ErrInvalid) {
			return fmt.Errorf("Open on a nil Comm: %v", err)
		}
		f, err := scratch(w, "misuse")
		if err != nil {
			return err
		}
		buf := make([]float64, 2)
		for what, err := range map[string]error{
			"ReadAt(-1)":      second(mpi.ReadAt(f, buf, -1)),
			"WriteAt(-1)":     second(mpi.WriteAt(f, buf, -8)),
			"ReadAtAll(-1)":   second(mpi.ReadAtAll(f, buf, -1)),
			"WriteAtAll(-1)":  second(mpi.WriteAtAll(f, buf, -1)),
			"IreadAt(-1)":     second(mpi.IreadAt(f, buf, -1)),
			"IwriteAt(-1)":    second(mpi.IwriteAt(f, buf, -1)),
			"IreadAtAll(-1)":  second(mpi.IreadAtAll(f, buf, -1)),
			"Seek whence 7":   second(f.Seek(0, 7)),
			"Seek(-1)":        second(f.Seek(-1, io.SeekStart)),
			"SeekShared(-1)":  f.SeekShared(-1, io.SeekStart),
			"SetSize(-1)":     f.SetSize(-1),
			"Preallocate(-1)": f.Preallocate(-1),
		} {
			if err := wantInvalid(err, mpi.ErrArg); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
		}
		// A count beyond MPI's int: refused before MPI touches the memory,
		// which is reserved address space only.
		huge, err := syscall.Mmap(-1, 0, math.MaxInt32+1, syscall.PROT_NONE, syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS|syscall.MAP_NORESERVE)
		if err != nil {
			return err
		}
		defer syscall.Munmap(huge)
		for what, err := range map[string]error{
			"Read":    second(mpi.Read(f, huge)),
			"WriteAt": second(mpi.WriteAt(f, huge, 0)),
			"Iread":   second(mpi.Iread(f, huge)),
		} {
			if err := wantInvalid(err, mpi.ErrCount); err != nil {
				return fmt.Errorf("%s of 2³¹ bytes: %w", what, err)
			}
		}
		// A view of uncommitted datatypes.
		f64, _ := mpi.TypeOf[float64]()
		pair, err := mpi.Contiguous(2, f64)
		if err != nil {
			return err
		}
		defer pair.Free()
		if err := wantInvalid(f.SetView(0, f64, pair, mpi.Native, nil), mpi.ErrType); err != nil {
			return fmt.Errorf("SetView with an uncommitted filetype: %w", err)
		}
		if err := wantInvalid(f.SetView(0, pair, f64, mpi.Native, nil), mpi.ErrType); err != nil {
			return fmt.Errorf("SetView with an uncommitted etype: %w", err)
		}
		if err := wantInvalid(f.SetView(-8, f64, f64, mpi.Native, nil), mpi.ErrArg); err != nil {
			return fmt.Errorf("SetView at -8: %w", err)
		}
		if err := wantInvalid(f.SetView(0, f64, f64, "", nil), mpi.ErrUnsupportedDatarep); err != nil {
			return fmt.Errorf("SetView without a datarep: %w", err)
		}
		if err := f.SetView(0, nil, f64, mpi.Native, nil); !errors.Is(err, os.ErrInvalid) {
			return fmt.Errorf("SetView with a nil etype: %v", err)
		}
		// A type MPI cannot describe.
		if _, err := mpi.Write(f, []string{"x"}); wantInvalid(err, mpi.ErrType) != nil {
			return fmt.Errorf("Write of []string: %v, want ErrType", err)
		}
		if err := f.Close(); err != nil {
			return err
		}
		if err := notOpenCalls(f); err != nil {
			return fmt.Errorf("closed File: %w", err)
		}
		// Read-only and write-only files refuse the other direction.
		ro := filepath.Join(ioDir, "readonly")
		g, err := mpi.Open(w, ro, mpi.ModeCreate|mpi.ModeWriteOnly|mpi.ModeDeleteOnClose, nil)
		if err != nil {
			return err
		}
		if _, err := mpi.Read(g, buf); wantInvalid(err, mpi.ErrAccess) != nil {
			return fmt.Errorf("Read of a write-only file: %v, want ErrAccess", err)
		}
		if err := mpi.Barrier(w); err != nil {
			return err
		}
		h, err := mpi.Open(w, ro, mpi.ModeReadOnly|mpi.ModeSequential, nil)
		if err != nil {
			return err
		}
		if _, err := mpi.Write(h, buf); wantInvalid(err, mpi.ErrReadOnly) != nil {
			return fmt.Errorf("Write of a read-only file: %v, want ErrReadOnly", err)
		}
		if _, err := mpi.ReadAt(h, buf, 0); wantInvalid(err, mpi.ErrUnsupportedOperation) != nil {
			return fmt.Errorf("ReadAt of a sequential file: %v, want ErrUnsupportedOperation", err)
		}
		if _, err := h.Seek(0, io.SeekStart); wantInvalid(err, mpi.ErrUnsupportedOperation) != nil {
			return fmt.Errorf("Seek of a sequential file: %v, want ErrUnsupportedOperation", err)
		}
		return errors.Join(h.Close(), g.Close())
	}},
	{"file calls from another thread", func(w *mpi.Comm) error {
		f, err := scratch(w, "thread")
		if err != nil {
			return err
		}
		errc := make(chan error)
		go func() {
			_, err1 := mpi.Write(f, []byte{1})
			_, err2 := mpi.IreadAt(f, []byte{1}, 0)
			_, err3 := f.Size()
			_, err4 := mpi.Open(w, f.Path(), mpi.ModeReadOnly, nil)
			errc <- errors.Join(wrongThread("Write", err1), wrongThread("IreadAt", err2), wrongThread("Size", err3),
				wrongThread("Open", err4), wrongThread("Close", f.Close()), wrongThread("Delete", mpi.Delete(f.Path(), nil)))
		}()
		if err := <-errc; err != nil {
			return err
		}
		return f.Close()
	}},
}
