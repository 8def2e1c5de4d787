package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/goipc/ipc/internal/cli"
	"github.com/goipc/ipc/internal/errs"
	"github.com/goipc/ipc/mmap"
)

const defaultMmapFile = "/tmp/mmapfile"

func init() {
	group := &cobra.Command{
		Use:   "mmap",
		Short: "Exchange bytes through a memory-mapped file",
		Long: `The walk-through's memory-mapped file: write maps PATH shared and stores DATA in
it, read maps it read-only and prints what it finds, as another process sees it
without any read or write system call on the data. PATH defaults to
` + defaultMmapFile + `; offsets need no page alignment.`,
	}

	var offset, size cli.SizeValue
	mode := modeValue(0o600)
	var in *payload
	write := &cobra.Command{
		Use:   "write [PATH] DATA",
		Short: "Store DATA (and a NUL if the file goes on) at --offset through a shared mapping, creating or extending the file",
		RunE: func(cmd *cobra.Command, a []string) error {
			a, data, err := in.split(a)
			if err != nil {
				return err
			}
			return mmapWrite(optionalPath(a, defaultMmapFile), data, int64(offset), int64(size), fs.FileMode(mode))
		},
	}
	in = payloadFlag(write, 0, 1)
	write.Flags().Var(&offset, "offset", "byte offset of DATA in the file")
	write.Flags().Var(&size, "size", "make the file at least this long (zeros)")
	write.Flags().Var(&mode, "mode", "permission bits of a new file, whatever the umask")
	foreignFlag(write)

	var readOffset, length cli.SizeValue
	var asJSON bool
	read := &cobra.Command{
		Use:   "read [PATH]",
		Short: "Print the bytes at --offset: up to the first NUL, or exactly --length bytes",
		Args:  cli.Args(cobra.RangeArgs(0, 1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			path := optionalPath(a, defaultMmapFile)
			data, err := mmapRead(path, int64(readOffset), int64(length), cmd.Flags().Changed("length"))
			if err != nil {
				return err
			}
			return writePayload(cmd.OutOrStdout(), data, asJSON, map[string]any{"offset": int64(readOffset)})
		},
	}
	read.Flags().Var(&readOffset, "offset", "byte offset to read from")
	read.Flags().Var(&length, "length", "print exactly this many bytes (default: up to the first NUL or the end)")
	read.Flags().BoolVar(&asJSON, "json", false, `print {"data": ..., "offset": N}`)

	group.AddCommand(write, read)
	namedVerbs(group, 0, defaultMmapFile)
	rootCmd.AddCommand(group)

	addDemo("mmap", func(d *demo) demoPlan {
		path := d.tempPath("")
		msg := "hello through a mapped file"
		return demoPlan{
			message:  msg,
			receiver: []string{"mmap", "read", path},
			sender:   func(int) []string { return []string{"mmap", "write", path, msg} },
		}
	})
}

// mmapWrite makes path at least off+len(data) and size bytes long, maps just
// the bytes data goes to, stores it (and a NUL after it when the file goes on,
// as every shared memory write does) and flushes it to the file. A file it
// created is removed, and one it grew is cut back, when a later step fails.
func mmapWrite(path string, data []byte, off, size int64, perm fs.FileMode) (err error) {
	if err := nothingToWrite(data, off, size, false); err != nil {
		return err
	}
	need := max(off+int64(len(data)), size)
	f, created, err := openGuarded("open", path, os.O_RDWR|os.O_CREATE, perm, 0, "mmap write stores into regular files, which it can extend")
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	defer func() {
		switch {
		case err == nil:
		case created:
			os.Remove(path)
		case fi.Size() < need:
			f.Truncate(fi.Size())
		}
	}()
	if err := mmap.Grow(f, need); err != nil {
		return err
	}
	data = withNUL(data, off, max(need, fi.Size()))
	if len(data) == 0 {
		return nil
	}
	m, err := mmap.Map(f, mmap.ReadWrite, off, int64(len(data)))
	if err != nil {
		return err
	}
	defer m.Close()
	if _, err := m.WriteAt(data, 0); err != nil {
		return err
	}
	if err := m.Sync(); err != nil {
		return err
	}
	return m.Close()
}

// nothingToWrite is the usage error of a write with nothing to do: an empty
// DATA, no --offset or --size to grow the object to, and no new object to
// make (an empty file is no mapping; --create makes an empty segment). The
// same for mmap, posix shm and sysv shm.
func nothingToWrite(data []byte, off, size int64, creating bool) error {
	if len(data) == 0 && off == 0 && size == 0 && !creating {
		return cli.Usagef("nothing to write: DATA is empty and there is no --offset or --size")
	}
	return nil
}

// withNUL returns data with a NUL byte after it when the object, size bytes,
// has room for one after offset off: the one write convention of mmap, posix
// shm and sysv shm, so that read, which stops at the first NUL, prints what
// the last write stored and nothing of a longer message it overwrote.
func withNUL(data []byte, off, size int64) []byte {
	if len(data) == 0 || off+int64(len(data)) >= size {
		return data
	}
	return append(data[:len(data):len(data)], 0)
}

// mmapRead maps length bytes of path from off read-only and copies them out
// (a copy that survives the file shrinking meanwhile). Without hasLength it
// reads to the end of the file and keeps what precedes the first NUL.
func mmapRead(path string, off, length int64, hasLength bool) ([]byte, error) {
	// Not blocking: opening a FIFO would wait for a writer; it is refused
	// below, as it cannot be mapped.
	f, err := openReading("open", path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	switch {
	case fi.IsDir():
		return nil, errs.Path("read", path, syscall.EISDIR)
	case fi.Mode()&(fs.ModeNamedPipe|fs.ModeSocket) != 0:
		return nil, errs.Path("read", path, fmt.Errorf("not a regular file (it is a %s): a %s cannot be mapped", cli.FileKind(fi.Mode()), cli.FileKind(fi.Mode())))
	case !fi.Mode().IsRegular():
		if !hasLength {
			return nil, errs.Path("read", path, errs.Invalid("not a regular file, so it has no known end: give --length"))
		}
	case off > fi.Size():
		return nil, errs.Path("read", path, errs.Invalid("offset %d is past the end of the %d-byte file", off, fi.Size()))
	case !hasLength:
		length = fi.Size() - off
	}
	if length == 0 {
		return nil, nil // mmap cannot map nothing, and there is nothing to read
	}
	m, err := mmap.Map(f, mmap.ReadOnly, off, length)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	// The copy must fit in memory. Without --length only what precedes the
	// NUL is kept, so a large file of zeros costs nothing.
	var data []byte
	if hasLength {
		if err := errs.FitsInMemory("read", path, length); err != nil {
			return nil, err
		}
		data = make([]byte, 0, length)
	}
	chunk := make([]byte, min(length, 1<<16))
	for pos := int64(0); pos < length; {
		n, err := m.ReadAt(chunk[:min(int64(len(chunk)), length-pos)], pos)
		if err != nil {
			return nil, err
		}
		if i := bytes.IndexByte(chunk[:n], 0); !hasLength && i >= 0 {
			return append(data, chunk[:i]...), nil
		}
		if len(data)+n > cap(data) { // append is about to grow the copy
			if err := errs.FitsInMemory("read", path, int64(len(data)+n)); err != nil {
				return nil, err
			}
		}
		data = append(data, chunk[:n]...)
		pos += int64(n)
	}
	return data, nil
}
