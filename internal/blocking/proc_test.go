package blocking

import (
	"strings"
	"testing"
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
