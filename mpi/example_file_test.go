package mpi_test

import (
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"

	"github.com/goipc/ipc/mpi"
)

// scratchPath returns a file name that every rank of w agrees on: rank 0's
// process id picks it.
func scratchPath(w *mpi.Comm, what string) string {
	pid := []int64{int64(os.Getpid())}
	if err := mpi.Bcast(w, pid, 0); err != nil {
		log.Fatal(err)
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("mpi-example-%s-%d", what, pid[0]))
}

// A global array in one file: each rank's view is its block (a subarray
// datatype), written and read collectively. The file is what numpy.fromfile
// reads.
func ExampleOpen() {
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		log.Fatal(err)
	}
	defer mpi.Finalize()
	w := mpi.World()
	f, err := mpi.Open(w, scratchPath(w, "array"), mpi.ModeCreate|mpi.ModeReadWrite|mpi.ModeDeleteOnClose, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close() // collective; deletes the file
	const n = 4
	f64, err := mpi.TypeOf[float64]()
	if err != nil {
		log.Fatal(err)
	}
	block, err := mpi.Subarray([]int{w.Size() * n}, []int{n}, []int{w.Rank() * n}, mpi.OrderC, f64)
	if err != nil {
		log.Fatal(err)
	}
	defer block.Free()
	if err := block.Commit(); err != nil {
		log.Fatal(err)
	}
	if err := f.SetView(0, f64, block, mpi.Native, nil); err != nil {
		log.Fatal(err)
	}
	mine := make([]float64, n)
	for i := range mine {
		mine[i] = float64(w.Rank()*n + i)
	}
	if _, err := mpi.WriteAtAll(f, mine, 0); err != nil { // offsets count etypes of the view
		log.Fatal(err)
	}
	back := make([]float64, n)
	got, err := mpi.ReadAtAll(f, back, 0)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("rank", w.Rank(), "read", got, "values:", back)
	// Output: rank 0 read 4 values: [0 1 2 3]
}

// A File is an io.ReaderAt and an io.WriterAt for independent byte I/O,
// so io.SectionReader and the rest of the io package work on it.
func ExampleFile_ReaderAt() {
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		log.Fatal(err)
	}
	defer mpi.Finalize()
	w := mpi.World()
	f, err := mpi.Open(w, scratchPath(w, "bytes"), mpi.ModeCreate|mpi.ModeReadWrite|mpi.ModeDeleteOnClose, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	line := fmt.Appendf(nil, "hello from rank %03d\n", w.Rank()) // 20 bytes each
	if _, err := f.WriterAt().WriteAt(line, int64(len(line)*w.Rank())); err != nil {
		log.Fatal(err)
	}
	// Make every rank's writes visible to every other.
	if err := f.Sync(); err != nil {
		log.Fatal(err)
	}
	if err := mpi.Barrier(w); err != nil {
		log.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		log.Fatal(err)
	}
	if w.Rank() == 0 {
		size, err := f.Size()
		if err != nil {
			log.Fatal(err)
		}
		all, err := io.ReadAll(io.NewSectionReader(f.ReaderAt(), 0, size))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Print(string(all))
	}
	// Output: hello from rank 000
}

// A nonblocking write: the slice is MPI's (and pinned) until Wait, whose
// Status counts what was written.
func ExampleIwriteAt() {
	if _, err := mpi.Init(mpi.ThreadFunneled); err != nil {
		log.Fatal(err)
	}
	defer mpi.Finalize()
	w := mpi.World()
	f, err := mpi.Open(w, scratchPath(w, "nonblocking"), mpi.ModeCreate|mpi.ModeWriteOnly|mpi.ModeDeleteOnClose, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close() // Close refuses while a request on f is unfinished
	vals := []int32{1, 2, 3}
	req, err := mpi.IwriteAt(f, vals, int64(w.Rank()*len(vals)*4)) // bytes, in the default view
	if err != nil {
		log.Fatal(err)
	}
	// ... compute, without touching vals ...
	st, err := req.Wait()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("wrote", mpi.Count[int32](st), "values")
	// Output: wrote 3 values
}
