package mmap_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/goipc/ipc/mmap"
)

// Create a file of a given size and map it, write through the mapping, and
// read the bytes back through a second, read-only mapping of part of the file,
// as another process would.
func Example() {
	path := filepath.Join(os.TempDir(), fmt.Sprintf("mmap-example-%d", os.Getpid()))
	defer os.Remove(path)

	w, err := mmap.Create(path, 8192, 0o600)
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	if _, err := w.WriteAt([]byte("hello, mapped world"), 5000); err != nil {
		log.Fatal(err)
	}

	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	r, err := mmap.Map(f, mmap.ReadOnly, 5000, 19) // any offset: no page alignment needed
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	fmt.Printf("%d bytes: %s\n", r.Len(), r.Bytes())
	// Output: 19 bytes: hello, mapped world
}

// Share anonymous memory with a child process: pass the descriptor in
// exec.Cmd.ExtraFiles, and the child maps it with
// mmap.Inherit(os.NewFile(3, "shared")).
func ExampleShared() {
	m, err := mmap.Shared(4096)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	counter, err := m.AtomicInt64(0)
	if err != nil {
		log.Fatal(err)
	}
	counter.Add(41) // a child holding the same memory adds too
	counter.Add(1)
	fmt.Println(counter.Load())
	// Output: 42
}
