package blocking

import (
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/goipc/ipc/internal/testutil"
)

// inCall reads /proc/PID/task/TID/syscall as the kernel writes it.
func TestInCall(t *testing.T) {
	sysv := []uintptr{70, 69} // msgrcv, msgsnd on amd64
	for line, want := range map[string]bool{
		"70 0x2a 0x7f00 0x8 0x0 0x0 0x0 0x7ffd 0x7f01": true,  // msgrcv on id 42
		"69 0x2a 0x7f00 0x8 0x0 0x0 0x0 0x7ffd 0x7f01": true,  // msgsnd on id 42
		"70 0x2b 0x7f00 0x8 0x0 0x0 0x0 0x7ffd 0x7f01": false, // another queue
		"220 0x2a 0x0 0x1 0x0 0x0 0x0 0x7ffd 0x7f01":   false, // semtimedop on set 42
		"running":          false,
		"-1 0x7ffd 0x7f01": false, // not in a system call
		"":                 false,
	} {
		if got := inCall(strings.Fields(line), sysv, 42); got != want {
			t.Errorf("inCall(%q) = %v, want %v", line, got, want)
		}
	}
	if !inCall(strings.Fields("7 0x0 0x0"), nil, 0) || inCall(strings.Fields("-1 0x0 0x0"), nil, 0) {
		t.Error("with no system calls named, inCall must accept any thread in a system call, and only those")
	}
}

// blockedThreads finds the thread blocked in msgrcv on one queue, and only it.
func TestBlockedThreads(t *testing.T) {
	id, _, errno := unix.Syscall(unix.SYS_MSGGET, 0, unix.IPC_CREAT|0o600, 0) // IPC_PRIVATE
	if errno != 0 {
		t.Fatal(errno)
	}
	defer unix.Syscall(unix.SYS_MSGCTL, id, unix.IPC_RMID, 0) // wakes the receiver with EIDRM
	tids := make(chan int, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		tids <- unix.Gettid()
		buf := make([]byte, 16)
		unix.Syscall6(unix.SYS_MSGRCV, id, uintptr(unsafe.Pointer(&buf[0])), 8, 0, 0, 0)
	}()
	tid := <-tids
	msgrcv := []uintptr{unix.SYS_MSGRCV}
	testutil.WaitUntil(t, func() bool {
		got := blockedThreads(msgrcv, id)
		return len(got) == 1 && got[0] == tid
	}, "thread %d alone in blockedThreads(msgrcv, %d)", tid, id)
	if got := blockedThreads(msgrcv, id+1); len(got) != 0 {
		t.Errorf("blockedThreads on another queue = %v, want none", got)
	}
}
