package posix_test

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/posix"
)

// TestModeZero: a Mode left 0 gives 0600, and 0 with ModeSet gives 0000, for
// every kind and whatever the umask.
func TestModeZero(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	type stater interface {
		Stat() (os.FileInfo, error)
		Close() error
	}
	open := map[string]func(name string, set bool) (stater, error){
		"mq": func(name string, set bool) (stater, error) {
			t.Cleanup(func() { posix.UnlinkQueue(name) })
			return posix.OpenQueue(name, &posix.QueueOptions{Create: true, ModeSet: set})
		},
		"shm": func(name string, set bool) (stater, error) {
			t.Cleanup(func() { posix.UnlinkSharedMemory(name) })
			return posix.OpenSharedMemory(name, &posix.ShmOptions{Create: true, Size: 4096, ModeSet: set})
		},
		"sem": func(name string, set bool) (stater, error) {
			t.Cleanup(func() { posix.UnlinkSemaphore(name) })
			return posix.OpenSemaphore(name, &posix.SemOptions{Create: true, ModeSet: set})
		},
	}
	for kind, open := range open {
		for set, want := range map[bool]os.FileMode{false: 0o600, true: 0} {
			o, err := open("/"+testutil.Name(kind+"-mode0"), set)
			if err != nil {
				t.Fatalf("%s ModeSet %v: %v", kind, set, err)
			}
			fi, err := o.Stat()
			o.Close()
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != want {
				t.Errorf("%s Mode 0 ModeSet %v: mode %v, want %v", kind, set, fi.Mode().Perm(), want)
			}
		}
	}
}

// TestModeBitsNamed: a mode with C's setuid bit is refused before the call,
// and the error shows the octal the caller wrote: %v alone prints 04600 as
// -rw-------, a mode that looks valid.
func TestModeBitsNamed(t *testing.T) {
	name := "/" + testutil.Name("mode-bits")
	t.Cleanup(func() { posix.UnlinkQueue(name) })
	q, err := posix.OpenQueue(name, &posix.QueueOptions{Create: true, Mode: 0o4600})
	if err == nil {
		q.Close()
	}
	if !errors.Is(err, syscall.EINVAL) || !strings.Contains(err.Error(), "04600") {
		t.Errorf("OpenQueue with Mode 0o4600: %v; want EINVAL naming 04600", err)
	}
	if _, err := os.Stat("/dev/mqueue" + name); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the refused queue exists: %v", err)
	}
}
