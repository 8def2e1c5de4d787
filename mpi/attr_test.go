package mpi_test

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/goipc/ipc/mpi"
	"github.com/goipc/ipc/mpi/mpitest"
)

func init() {
	children["attrs"] = func([]string) error { return suite(mpi.ThreadFunneled, attrChecks) }
	children["fatal"] = childFatal
}

// TestAttributesTwoApps runs the checks as an MPMD job of two programs (the
// same binary twice), so that each rank has its own APPNUM.
func TestAttributesTwoApps(t *testing.T) {
	expectChecks(t, job(t, "attrs", 1, mpitest.App{N: 1, Argv: []string{os.Args[0]}}), attrChecks)
}

var attrChecks = []check{
	{"predefined attributes", func(w *mpi.Comm) error {
		ub, ok, err := w.Attr(mpi.AttrTagUB)
		if err != nil || !ok || ub != mpi.TagUB() || ub < 32767 {
			return fmt.Errorf("TAG_UB = %d, %v, %v; TagUB() = %d", ub, ok, err, mpi.TagUB())
		}
		if app, ok, err := w.Attr(mpi.AttrAppNum); err != nil || !ok || app != w.Rank() {
			return fmt.Errorf("APPNUM = %d, %v, %v on rank %d of a job of two programs", app, ok, err, w.Rank())
		}
		if size, ok, err := w.Attr(mpi.AttrUniverseSize); err != nil || (ok && size < w.Size()) {
			return fmt.Errorf("UNIVERSE_SIZE = %d, %v, %v", size, ok, err)
		}
		if g, ok, err := w.Attr(mpi.AttrWtimeIsGlobal); err != nil || (ok && g != 0 && g != 1) {
			return fmt.Errorf("WTIME_IS_GLOBAL = %d, %v, %v", g, ok, err)
		}
		if h, ok, err := w.Attr(mpi.AttrHost); err != nil || (ok && h != mpi.ProcNull && (h < 0 || h >= w.Size())) {
			return fmt.Errorf("HOST = %d, %v, %v", h, ok, err)
		}
		if _, _, err = w.Attr(mpi.AttrIO); err != nil {
			return err
		}
		_, ok, err = w.Attr(12345)
		if bad := wantInvalid(err, mpi.ErrArg); bad != nil || ok {
			return fmt.Errorf("an attribute MPI does not predefine: ok %v, %w", ok, bad)
		}
		return nil
	}},
	{"names", func(w *mpi.Comm) error {
		if name, err := w.Name(); err != nil || name != "MPI_COMM_WORLD" {
			return fmt.Errorf("World's name %q, %v", name, err)
		}
		d, err := w.Dup()
		if err != nil {
			return err
		}
		defer d.Free()
		if err := d.SetName("solver"); err != nil {
			return err
		}
		if name, err := d.Name(); err != nil || name != "solver" || d.String() != "solver" {
			return fmt.Errorf("Name after SetName: %q, %v, String %q", name, err, d.String())
		}
		if err := d.SetName(strings.Repeat("x", 1000)); wantInvalid(err, mpi.ErrArg) != nil {
			return fmt.Errorf("long name: %v", err)
		}
		return wantInvalid(d.SetName("a\x00b"), mpi.ErrArg)
	}},
	{"info", func(w *mpi.Comm) error {
		in, err := mpi.NewInfo()
		if err != nil {
			return err
		}
		if err := errors.Join(in.Set("cb_nodes", "2"), in.Set("striping_unit", "1048576"), in.Set("cb_nodes", "4")); err != nil {
			return err
		}
		if v, ok, err := in.Get("cb_nodes"); v != "4" || !ok || err != nil {
			return fmt.Errorf("Get = %q, %v, %v", v, ok, err)
		}
		if _, ok, err := in.Get("absent"); ok || err != nil {
			return fmt.Errorf("Get of an absent key: %v, %v", ok, err)
		}
		keys, err := in.Keys()
		if err != nil {
			return err
		}
		slices.Sort(keys)
		if err := wantSlice("Keys", keys, []string{"cb_nodes", "striping_unit"}); err != nil {
			return err
		}
		d, err := in.Dup()
		if err != nil {
			return err
		}
		if err := errors.Join(in.Delete("cb_nodes"), in.Delete("absent")); err != nil {
			return err
		}
		if _, ok, _ := in.Get("cb_nodes"); ok {
			return errors.New("key still set after Delete")
		}
		if v, ok, _ := d.Get("cb_nodes"); !ok || v != "4" {
			return fmt.Errorf("Dup lost cb_nodes: %q", v)
		}
		if err := wantInvalid(in.Set("", "x"), mpi.ErrArg); err != nil {
			return fmt.Errorf("empty key: %w", err)
		}
		if err := errors.Join(in.Free(), in.Free(), d.Free()); err != nil {
			return err
		}
		if err := in.Set("a", "b"); !errors.Is(err, os.ErrClosed) {
			return fmt.Errorf("Set after Free: %v", err)
		}
		return nil
	}},
	{"error modes", func(w *mpi.Comm) error {
		if m, err := w.ErrorMode(); err != nil || m != mpi.ErrorsReturn {
			return fmt.Errorf("World's error mode %v, %v", m, err)
		}
		d, err := w.Dup()
		if err != nil {
			return err
		}
		defer d.Free()
		if err := d.SetErrorMode(mpi.ErrorsFatal); err != nil {
			return err
		}
		if m, err := d.ErrorMode(); err != nil || m != mpi.ErrorsFatal {
			return fmt.Errorf("mode after SetErrorMode(ErrorsFatal): %v, %v", m, err)
		}
		if m, _ := w.ErrorMode(); m != mpi.ErrorsReturn {
			return errors.New("World's mode changed with its duplicate's")
		}
		if err := d.SetErrorMode(mpi.ErrorsReturn); err != nil {
			return err
		}
		return wantInvalid(d.SetErrorMode(7), mpi.ErrArg)
	}},
}

// childFatal makes an MPI error with errors fatal: MPI must end the job
// before the call returns.
func childFatal([]string) error {
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		return err
	}
	w := mpi.World()
	if err := w.SetErrorMode(mpi.ErrorsFatal); err != nil {
		return err
	}
	fmt.Println("sending to rank 5")
	err := mpi.Send(w, []int{1}, 5, 0)
	fmt.Println("survived:", err)
	return mpi.Finalize()
}

func TestErrorsFatal(t *testing.T) {
	r := mpitest.Run(t, childEnv("fatal"), mpitest.App{N: 1, Argv: []string{os.Args[0]}})
	if r.Err == nil || strings.Contains(r.Err.Error(), "hung") || strings.Contains(r.Stdout, "survived") ||
		!strings.Contains(r.Stdout, "sending to rank 5") {
		t.Fatalf("errors fatal: %v\nstdout:\n%s\nstderr:\n%s", r.Err, r.Stdout, r.Stderr)
	}
}
