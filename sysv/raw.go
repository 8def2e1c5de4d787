package sysv

// The unexported 1:1 layer: one Go function per C call, returning the
// kernel's errno untouched. The C shims below exist only where cgo cannot call
// directly: semctl is variadic, and msgsnd/msgrcv want the message type and
// text in one struct, which the shims build on the C stack so that Go
// allocates nothing per message.

/*
// The Go buffers handed to these calls are only read or written during the
// call, so they need not escape to the heap.
#cgo noescape goipc_msgsnd
#cgo nocallback goipc_msgsnd
#cgo noescape goipc_msgrcv
#cgo nocallback goipc_msgrcv
#cgo noescape goipc_semtimedop
#cgo nocallback goipc_semtimedop

#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>

// Messages up to this size travel through a buffer on the C stack; larger ones
// (kernel.msgmax is 8192 unless raised) through malloc.
enum { goipc_stack_msg = 64 << 10 };

static int goipc_msgsnd(int id, long type, const void *data, size_t n, int flags) {
	size_t words = 1 + (n + sizeof(long) - 1) / sizeof(long);
	long stack[n <= goipc_stack_msg ? words : 1];
	long *buf = n <= goipc_stack_msg ? stack : malloc(words * sizeof(long));
	if (buf == NULL) {
		errno = ENOMEM;
		return -1;
	}
	buf[0] = type;
	if (n > 0)
		memcpy(buf + 1, data, n);
	int r = msgsnd(id, buf, n, flags);
	int e = errno;
	if (buf != stack)
		free(buf);
	errno = e;
	return r;
}

static ssize_t goipc_msgrcv(int id, void *data, size_t n, long type, int flags, long *got) {
	size_t words = 1 + (n + sizeof(long) - 1) / sizeof(long);
	long stack[n <= goipc_stack_msg ? words : 1];
	long *buf = n <= goipc_stack_msg ? stack : malloc(words * sizeof(long));
	if (buf == NULL) {
		errno = ENOMEM;
		return -1;
	}
	ssize_t r = msgrcv(id, buf, n, type, flags);
	int e = errno;
	if (r >= 0) {
		*got = buf[0];
		if (r > 0)
			memcpy(data, buf + 1, r);
	}
	if (buf != stack)
		free(buf);
	errno = e;
	return r;
}

// ns < 0 waits without a timeout (semop).
static int goipc_semtimedop(int id, struct sembuf *ops, size_t n, long long ns) {
	if (ns < 0)
		return semop(id, ops, n);
	struct timespec ts = { ns / 1000000000, ns % 1000000000 };
	return semtimedop(id, ops, n, &ts);
}

union goipc_semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

static int goipc_semctl_val(int id, int num, int cmd, int val) {
	union goipc_semun u = { .val = val };
	return semctl(id, num, cmd, u);
}

static int goipc_semctl_ptr(int id, int cmd, void *p) {
	union goipc_semun u;
	if (cmd == IPC_STAT || cmd == IPC_SET)
		u.buf = p;
	else
		u.array = p;
	return semctl(id, 0, cmd, u);
}

static void *goipc_shmat(int id, int flags) {
	return shmat(id, NULL, flags);
}
*/
import "C"

import (
	"os"
	"syscall"
	"time"
	"unsafe"
)

// Flags of the C API that the exported layer uses.
const (
	ipcCreat     = C.IPC_CREAT
	ipcExcl      = C.IPC_EXCL
	ipcNowait    = C.IPC_NOWAIT
	ipcRmid      = C.IPC_RMID
	ipcSet       = C.IPC_SET
	ipcStat      = C.IPC_STAT
	msgNoerror   = C.MSG_NOERROR
	msgExcept    = C.MSG_EXCEPT
	semUndo      = C.SEM_UNDO
	shmRdonly    = C.SHM_RDONLY
	shmHugetlb   = C.SHM_HUGETLB
	shmNoreserve = C.SHM_NORESERVE
	getVal       = C.GETVAL
	setVal       = C.SETVAL
	getAll       = C.GETALL
	setAll       = C.SETALL
	getPid       = C.GETPID
	getNcnt      = C.GETNCNT
	getZcnt      = C.GETZCNT
)

// errnoOf turns cgo's error into a plain errno (nil when the call succeeded).
func errnoOf(r int, err error) error {
	if r != -1 {
		return nil
	}
	if err == nil {
		return syscall.EIO // cannot happen: -1 always comes with errno
	}
	return err
}

func ftok(path string, proj byte) (Key, error) {
	p := C.CString(path)
	defer C.free(unsafe.Pointer(p))
	k, err := C.ftok(p, C.int(proj))
	return Key(k), errnoOf(int(k), err)
}

func msgget(key Key, flags int) (int, error) {
	id, err := C.msgget(C.key_t(key), C.int(flags))
	return int(id), errnoOf(int(id), err)
}

func msgsnd(id int, mtype int64, data []byte, flags int) error {
	r, err := C.goipc_msgsnd(C.int(id), C.long(mtype), unsafe.Pointer(unsafe.SliceData(data)), C.size_t(len(data)), C.int(flags))
	return errnoOf(int(r), err)
}

func msgrcv(id int, buf []byte, mtype int64, flags int) (n int, got int64, err error) {
	var t C.long
	r, err := C.goipc_msgrcv(C.int(id), unsafe.Pointer(unsafe.SliceData(buf)), C.size_t(len(buf)), C.long(mtype), C.int(flags), &t)
	return int(r), int64(t), errnoOf(int(r), err)
}

func msgctl(id, cmd int, ds *C.struct_msqid_ds) error {
	r, err := C.msgctl(C.int(id), C.int(cmd), ds)
	return errnoOf(int(r), err)
}

func msgctlStat(id int) (QueueStat, error) {
	var ds C.struct_msqid_ds
	if err := msgctl(id, ipcStat, &ds); err != nil {
		return QueueStat{}, err
	}
	return QueueStat{
		Perm:        permOf(&ds.msg_perm, ds.msg_ctime),
		Messages:    uint64(ds.msg_qnum),
		Bytes:       uint64(ds.__msg_cbytes),
		MaxBytes:    uint64(ds.msg_qbytes),
		LastSendPID: int(ds.msg_lspid),
		LastRecvPID: int(ds.msg_lrpid),
		SendTime:    timeOf(ds.msg_stime),
		RecvTime:    timeOf(ds.msg_rtime),
	}, nil
}

// msgctlSet changes owner, mode and maximum bytes (IPC_SET).
func msgctlSet(id int, s QueueStat) error {
	return ctlSet(id, msgctl, func(ds *C.struct_msqid_ds) {
		setPerm(&ds.msg_perm, s.Perm)
		ds.msg_qbytes = C.msglen_t(s.MaxBytes)
	})
}

func shmget(key Key, size int, flags int) (int, error) {
	id, err := C.shmget(C.key_t(key), C.size_t(size), C.int(flags))
	return int(id), errnoOf(int(id), err)
}

func shmat(id, flags int) (unsafe.Pointer, error) {
	p, err := C.goipc_shmat(C.int(id), C.int(flags))
	if uintptr(p) == ^uintptr(0) { // (void *)-1
		return nil, errnoOf(-1, err)
	}
	return p, nil
}

func shmdt(p unsafe.Pointer) error {
	r, err := C.shmdt(p)
	return errnoOf(int(r), err)
}

func shmctl(id, cmd int, ds *C.struct_shmid_ds) error {
	r, err := C.shmctl(C.int(id), C.int(cmd), ds)
	return errnoOf(int(r), err)
}

func shmctlStat(id int) (SegmentStat, error) {
	var ds C.struct_shmid_ds
	if err := shmctl(id, ipcStat, &ds); err != nil {
		return SegmentStat{}, err
	}
	return SegmentStat{
		Perm:       permOf(&ds.shm_perm, ds.shm_ctime),
		Size:       int(ds.shm_segsz),
		Attached:   int(ds.shm_nattch),
		CreatorPID: int(ds.shm_cpid),
		LastPID:    int(ds.shm_lpid),
		AttachTime: timeOf(ds.shm_atime),
		DetachTime: timeOf(ds.shm_dtime),
	}, nil
}

func shmctlSet(id int, p Perm) error {
	return ctlSet(id, shmctl, func(ds *C.struct_shmid_ds) { setPerm(&ds.shm_perm, p) })
}

func semget(key Key, n int, flags int) (int, error) {
	id, err := C.semget(C.key_t(key), C.int(n), C.int(flags))
	return int(id), errnoOf(int(id), err)
}

// semtimedop applies ops; timeoutNS < 0 waits without a timeout.
func semtimedop(id int, ops []SemOp, timeoutNS int64) error {
	r, err := C.goipc_semtimedop(C.int(id), (*C.struct_sembuf)(unsafe.Pointer(unsafe.SliceData(ops))), C.size_t(len(ops)), C.longlong(timeoutNS))
	return errnoOf(int(r), err)
}

// semctlVal runs a command on one semaphore (GETVAL, SETVAL, GETPID, GETNCNT,
// GETZCNT, IPC_RMID) and returns its result.
func semctlVal(id, num, cmd, val int) (int, error) {
	r, err := C.goipc_semctl_val(C.int(id), C.int(num), C.int(cmd), C.int(val))
	return int(r), errnoOf(int(r), err)
}

// semctlArray runs GETALL or SETALL.
func semctlArray(id, cmd int, vals []uint16) error {
	r, err := C.goipc_semctl_ptr(C.int(id), C.int(cmd), unsafe.Pointer(unsafe.SliceData(vals)))
	return errnoOf(int(r), err)
}

func semctlDS(id, cmd int, ds *C.struct_semid_ds) error {
	r, err := C.goipc_semctl_ptr(C.int(id), C.int(cmd), unsafe.Pointer(ds))
	return errnoOf(int(r), err)
}

func semctlStat(id int) (SemStat, error) {
	var ds C.struct_semid_ds
	if err := semctlDS(id, ipcStat, &ds); err != nil {
		return SemStat{}, err
	}
	return SemStat{
		Perm:   permOf(&ds.sem_perm, ds.sem_ctime),
		Count:  int(ds.sem_nsems),
		OpTime: timeOf(ds.sem_otime),
	}, nil
}

func semctlSet(id int, p Perm) error {
	return ctlSet(id, semctlDS, func(ds *C.struct_semid_ds) { setPerm(&ds.sem_perm, p) })
}

// ctlSet runs IPC_SET with the status IPC_STAT returns, as edit changed it:
// IPC_SET takes a whole struct, and the fields it does not change must keep
// their values.
func ctlSet[DS any](id int, ctl func(id, cmd int, ds *DS) error, edit func(*DS)) error {
	var ds DS
	if err := ctl(id, ipcStat, &ds); err != nil {
		return err
	}
	edit(&ds)
	return ctl(id, ipcSet, &ds)
}

func permOf(p *C.struct_ipc_perm, ctime C.time_t) Perm {
	return Perm{
		Key:        Key(p.__key),
		UID:        int(p.uid),
		GID:        int(p.gid),
		CreatorUID: int(p.cuid),
		CreatorGID: int(p.cgid),
		Mode:       os.FileMode(p.mode & 0o777),
		ChangeTime: timeOf(ctime),
	}
}

// setPerm copies what IPC_SET may change: owner and permission bits.
func setPerm(dst *C.struct_ipc_perm, p Perm) {
	dst.uid = C.uid_t(p.UID)
	dst.gid = C.gid_t(p.GID)
	dst.mode = (dst.mode &^ 0o777) | C.__mode_t(p.Mode.Perm())
}

// timeOf turns a kernel time into a time.Time; 0 (never) is the zero Time.
func timeOf(t C.time_t) time.Time {
	if t == 0 {
		return time.Time{}
	}
	return time.Unix(int64(t), 0)
}

// SemOp must have the layout of struct sembuf, so that a slice of them is
// passed to semop as is.
var _ [unsafe.Sizeof(SemOp{}) - C.sizeof_struct_sembuf]struct{}
var _ [C.sizeof_struct_sembuf - unsafe.Sizeof(SemOp{})]struct{}
