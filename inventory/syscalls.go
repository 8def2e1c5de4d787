package inventory

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The raw calls below go straight to the kernel through x/sys/unix rather
// than through goipc's sysv and posix packages: those open objects by key or
// name, while an inventory names System V objects by id, and they would make
// this package, and testutil with it, need cgo.

// semGetPID is semctl's GETPID command (linux/sem.h): the pid of the last
// process that operated on one semaphore.
const semGetPID = 11

// semPIDs returns the last operator's pid of each of a set's n semaphores
// (zero for those never operated on). It needs read permission on the set.
func semPIDs(id, n int) ([]int64, error) {
	if n < 0 || n > 1<<16 { // the kernel caps a set far below (SEMMSL)
		return nil, syscall.EINVAL
	}
	pids := make([]int64, n)
	for i := range pids {
		pid, _, errno := unix.Syscall6(unix.SYS_SEMCTL, uintptr(id), uintptr(i), semGetPID, 0, 0, 0)
		if errno != 0 {
			return nil, errno
		}
		pids[i] = int64(pid)
	}
	return pids, nil
}

// rmid removes a System V object: msgctl, shmctl or semctl with IPC_RMID.
func rmid(k Kind, id int) error {
	var errno syscall.Errno
	switch k {
	case SysvMsg:
		_, _, errno = unix.Syscall(unix.SYS_MSGCTL, uintptr(id), unix.IPC_RMID, 0)
	case SysvShm:
		_, _, errno = unix.Syscall(unix.SYS_SHMCTL, uintptr(id), unix.IPC_RMID, 0)
	case SysvSem:
		_, _, errno = unix.Syscall6(unix.SYS_SEMCTL, uintptr(id), 0, unix.IPC_RMID, 0, 0, 0)
	}
	if errno != 0 {
		return errno
	}
	return nil
}

// mqAttr is struct mq_attr: four longs and four reserved ones (a Go int is a
// C long on Linux).
type mqAttr struct {
	Flags, MaxMsg, MsgSize, CurMsgs int
	_                               [4]int
}

// mqMessages returns how many messages the POSIX queue name (without its
// slash) holds, or 0 when the caller may not open it. Opening a queue
// changes none of its state; the descriptor is closed at once.
func mqMessages(name string) int64 {
	p, err := unix.BytePtrFromString(name)
	if err != nil {
		return 0
	}
	fd, _, errno := unix.Syscall6(unix.SYS_MQ_OPEN, uintptr(unsafe.Pointer(p)),
		unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0, 0, 0, 0)
	if errno != 0 {
		return 0
	}
	defer unix.Close(int(fd))
	var attr mqAttr
	if _, _, errno := unix.Syscall(unix.SYS_MQ_GETSETATTR, fd, 0, uintptr(unsafe.Pointer(&attr))); errno != 0 {
		return 0
	}
	return int64(attr.CurMsgs)
}

// mqUnlink is mq_unlink(3) for name without its slash; it works whether or
// not the mqueue file system is mounted.
func mqUnlink(name string) error {
	p, err := unix.BytePtrFromString(name)
	if err != nil {
		return err
	}
	if _, _, errno := unix.Syscall(unix.SYS_MQ_UNLINK, uintptr(unsafe.Pointer(p)), 0, 0); errno != 0 {
		return errno
	}
	return nil
}

// shmAttached returns a segment's attach count and creator from IPC_STAT,
// read again just before a sweep removes it.
func shmAttached(id int) (nattch uint64, cpid int32, err error) {
	var ds unix.SysvShmDesc
	if _, err := unix.SysvShmCtl(id, unix.IPC_STAT, &ds); err != nil {
		return 0, 0, err
	}
	return ds.Nattch, ds.Cpid, nil
}
