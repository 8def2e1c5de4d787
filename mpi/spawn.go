package mpi

// #include <stdlib.h>
// #include "shim.h"
import "C"

import (
	"io/fs"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"unsafe"
)

// The error classes of dynamic processes.
const (
	ErrSpawn Class = C.MPI_ERR_SPAWN // the library could not start the processes
	ErrPort  Class = C.MPI_ERR_PORT  // a port name that no process opened
	ErrName  Class = C.MPI_ERR_NAME  // a service name that nobody published
)

func init() {
	classNames[ErrSpawn], classNames[ErrPort], classNames[ErrName] = "MPI_ERR_SPAWN", "MPI_ERR_PORT", "MPI_ERR_NAME"
}

// Program is one program of CommSpawnMultiple: MaxProcs processes running
// Command with Args (argv without the program's name), with the hints of Info
// (nil for none), such as "wdir", "host" or Open MPI's "map_by".
type Program struct {
	Command  string
	Args     []string
	MaxProcs int
	Info     *Info
}

// CommSpawn starts maxprocs processes running command with argv (without the
// program's name) and returns an intercommunicator whose remote group they
// are (MPI_Comm_spawn), with one error per process: nil for a process that
// started. Every process of the intracommunicator comm calls it; command,
// argv, maxprocs and info (nil for none) count only at root.
//
// The children find the spawning group with CommGetParent. Before the call,
// the root checks its arguments (maxprocs at least 1, command found as
// exec.LookPath finds it unless info sets "wdir" or "path", no NUL bytes)
// and tells every rank its verdict, so that bad input returns the same
// error on every rank of comm instead of a hang (the ranks other than the
// root would wait in MPI forever) or, for a command that does not exist,
// Open MPI ending the whole job.
func CommSpawn(command string, argv []string, maxprocs int, info *Info, root int, comm *Comm) (*Comm, []error, error) {
	return spawn("MPI_Comm_spawn", []Program{{command, argv, maxprocs, info}}, root, comm)
}

// CommSpawnMultiple starts the programs of progs in one job, whose ranks
// follow the order of progs, and returns the intercommunicator to them and
// one error per process (MPI_Comm_spawn_multiple). It is CommSpawn for
// several programs; progs counts only at root.
func CommSpawnMultiple(progs []Program, root int, comm *Comm) (*Comm, []error, error) {
	return spawn("MPI_Comm_spawn_multiple", progs, root, comm)
}

func spawn(op string, progs []Program, root int, comm *Comm) (*Comm, []error, error) {
	h, err := comm.handle(op)
	if err != nil {
		return nil, nil, err
	}
	if err := comm.checkRoot(op, root); err != nil {
		return nil, nil, err
	}
	total := 0
	if comm.rank == root {
		total, err = checkPrograms(op, progs)
	}
	if total, err = rootVerdict(op, comm, root, total, err); err != nil {
		return nil, nil, err
	}
	if err := dynamicProcesses(op); err != nil {
		return nil, nil, err
	}
	// Every rank passes arrays of the root's length, which MPI may fill;
	// the other ranks' programs are not read.
	if comm.rank != root {
		progs = []Program{{MaxProcs: total}}
	}
	n := len(progs)
	cmds := make([]*C.char, n)
	argvs := (***C.char)(C.calloc(C.size_t(n), C.size_t(unsafe.Sizeof((**C.char)(nil)))))
	maxprocs := make([]C.int, n)
	infos := make([]C.MPI_Info, n)
	defer func() {
		for i, a := range unsafe.Slice(argvs, n) {
			C.free(unsafe.Pointer(cmds[i]))
			freeArgv(a)
		}
		C.free(unsafe.Pointer(argvs))
	}()
	for i, p := range progs {
		cmds[i], maxprocs[i] = C.CString(p.Command), C.int(p.MaxProcs)
		unsafe.Slice(argvs, n)[i] = cArgv(p.Args)
		if infos[i], err = infoArg(op, p.Info); err != nil {
			infos[i] = C.goipc_info_null // the root checked its own
		}
	}
	codes := make([]C.int, total)
	var nc C.MPI_Comm
	var rc C.int
	if op == "MPI_Comm_spawn" {
		rc = C.MPI_Comm_spawn(cmds[0], *argvs, maxprocs[0], infos[0], C.int(root), h, &nc, &codes[0])
	} else {
		rc = C.MPI_Comm_spawn_multiple(C.int(n), &cmds[0], argvs, &maxprocs[0], &infos[0], C.int(root), h, &nc, &codes[0])
	}
	runtime.KeepAlive(progs)
	if err := check(op, rc); err != nil {
		return nil, nil, err
	}
	inter, err := newInter(op, nc)
	if err != nil {
		return nil, nil, err
	}
	errs := make([]error, total)
	for i, code := range codes {
		errs[i] = check(op, code)
	}
	return inter, errs, nil
}

// checkPrograms checks the root's programs and returns how many processes
// they ask for.
func checkPrograms(op string, progs []Program) (int, error) {
	if len(progs) == 0 {
		return 0, invalid(op, ErrArg, "no program to spawn")
	}
	total := 0
	for _, p := range progs {
		if p.MaxProcs < 1 || p.MaxProcs > 1<<20 {
			return 0, invalid(op, ErrArg, "maxprocs %d for %q: want 1 to %d processes", p.MaxProcs, p.Command, 1<<20)
		}
		total += p.MaxProcs
		if p.Command == "" || strings.IndexByte(p.Command, 0) >= 0 {
			return 0, invalid(op, ErrArg, "command %q: want a program's name or path, without NUL", p.Command)
		}
		for _, a := range p.Args {
			if strings.IndexByte(a, 0) >= 0 {
				return 0, invalid(op, ErrArg, "argument %q of %s holds a NUL byte", a, p.Command)
			}
		}
		if _, err := infoArg(op, p.Info); err != nil {
			return 0, err
		}
		if !resolvedElsewhere(p.Info) {
			if _, err := exec.LookPath(p.Command); err != nil {
				return 0, &Error{Op: op, Class: ErrSpawn, Msg: err.Error(), cause: fs.ErrNotExist}
			}
		}
	}
	return total, nil
}

// resolvedElsewhere reports whether info moves the command's search where
// this process cannot follow it.
func resolvedElsewhere(info *Info) bool {
	for _, key := range []string{"wdir", "path"} {
		if _, ok, _ := info.Get(key); ok {
			return true
		}
	}
	return false
}

// cArgv returns args as a NULL-terminated C array of C strings.
func cArgv(args []string) **C.char {
	a := (**C.char)(C.calloc(C.size_t(len(args)+1), C.size_t(unsafe.Sizeof((*C.char)(nil)))))
	for i, s := range args {
		unsafe.Slice(a, len(args))[i] = C.CString(s)
	}
	return a
}

func freeArgv(a **C.char) {
	if a == nil {
		return
	}
	for p := a; *p != nil; p = (**C.char)(unsafe.Add(unsafe.Pointer(p), unsafe.Sizeof(*p))) {
		C.free(unsafe.Pointer(*p))
	}
	C.free(unsafe.Pointer(a))
}

// rootVerdict makes every rank of comm return the root's verdict on the
// arguments that only the root's count: the root broadcasts n, and the
// class, cause and message of its error, if any. The other ranks return an
// error of that class and cause that quotes the message.
func rootVerdict(op string, comm *Comm, root, n int, err error) (int, error) {
	hdr := []int64{int64(n), 0, 0, 0} // n, class, cause, message length
	var msg []byte
	if comm.rank == root && err != nil {
		e, ok := err.(*Error)
		if !ok {
			e = &Error{Class: ErrOther, Msg: err.Error()}
		}
		msg = []byte(e.Msg)
		hdr[1], hdr[2], hdr[3] = int64(e.Class), int64(slices.Index(verdictCauses, e.cause)), int64(len(msg))
	}
	if berr := Bcast(comm, hdr, root); berr != nil {
		return 0, berr
	}
	if hdr[1] == 0 {
		return int(hdr[0]), nil
	}
	if comm.rank != root {
		msg = make([]byte, hdr[3])
	}
	if berr := Bcast(comm, msg, root); berr != nil {
		return 0, berr
	}
	if comm.rank == root {
		return 0, err
	}
	var cause error
	if c := hdr[2]; c >= 0 && c < int64(len(verdictCauses)) {
		cause = verdictCauses[c]
	}
	return 0, &Error{Op: op, Class: Class(hdr[1]), Msg: "at the root: " + string(msg), cause: cause}
}

// verdictCauses are the causes a root's verdict can carry.
var verdictCauses = []error{nil, syscall.EINVAL, fs.ErrNotExist, os.ErrInvalid, os.ErrClosed}

// parent is the communicator CommGetParent returned, so that every call
// returns the same *Comm: after one Free or Disconnect, another copy of the
// handle would be freed twice.
var parent struct {
	sync.Mutex
	c *Comm
}

// CommGetParent returns the intercommunicator to the processes that spawned
// this one (MPI_Comm_get_parent), whose remote group they are, or nil for a
// process that was not spawned, or whose parent communicator was freed or
// disconnected. Every call returns the same *Comm, with MPI_ERRORS_RETURN.
func CommGetParent() (*Comm, error) {
	const op = "MPI_Comm_get_parent"
	if err := running(op); err != nil {
		return nil, err
	}
	parent.Lock()
	defer parent.Unlock()
	if parent.c != nil && parent.c.c != C.goipc_comm_null {
		return parent.c, nil
	}
	var h C.MPI_Comm
	if err := check(op, C.MPI_Comm_get_parent(&h)); err != nil {
		return nil, err
	}
	if h == C.goipc_comm_null || parent.c != nil {
		return nil, nil
	}
	c, err := newInter(op, h)
	if c != nil {
		c.name = "parent intercommunicator"
	}
	parent.c = c
	return c, err
}

// OpenPort opens a port that clients reach with CommConnect, and returns its
// name (MPI_Open_port), for the server's CommAccept. Close it with
// ClosePort.
func OpenPort(info *Info) (string, error) {
	const op = "MPI_Open_port"
	if err := running(op); err != nil {
		return "", err
	}
	in, err := infoArg(op, info)
	if err != nil {
		return "", err
	}
	if err := dynamicProcesses(op); err != nil {
		return "", err
	}
	var buf [C.MPI_MAX_PORT_NAME]C.char
	if err := check(op, C.MPI_Open_port(in, &buf[0])); err != nil {
		return "", err
	}
	return C.GoString(&buf[0]), nil
}

// ClosePort closes a port that OpenPort opened (MPI_Close_port).
func ClosePort(port string) error {
	const op = "MPI_Close_port"
	if err := running(op); err != nil {
		return err
	}
	cp, err := portName(op, port)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cp))
	return check(op, C.MPI_Close_port(cp))
}

// portName checks a port name and returns it as a C string.
func portName(op, port string) (*C.char, error) {
	if port == "" || len(port) >= C.MPI_MAX_PORT_NAME || strings.IndexByte(port, 0) >= 0 {
		return nil, invalid(op, ErrPort, "port name %q: 1 to %d bytes, no NUL (a name OpenPort returned)", port, C.MPI_MAX_PORT_NAME-1)
	}
	return C.CString(port), nil
}

// CommAccept waits for a client's CommConnect to the port and returns the
// intercommunicator to the client's group (MPI_Comm_accept). Every process
// of the intracommunicator comm calls it; port and info count only at root.
// It blocks its thread until a client connects: MPI cannot cancel it.
func CommAccept(port string, info *Info, root int, comm *Comm) (*Comm, error) {
	return connect("MPI_Comm_accept", port, info, root, comm)
}

// CommConnect connects to the port a server opened and returns the
// intercommunicator to the server's group (MPI_Comm_connect), as CommAccept.
// A port with no server fails with ErrPort, or waits for one, as the
// library decides.
func CommConnect(port string, info *Info, root int, comm *Comm) (*Comm, error) {
	return connect("MPI_Comm_connect", port, info, root, comm)
}

func connect(op, port string, info *Info, root int, comm *Comm) (*Comm, error) {
	h, err := comm.handle(op)
	if err != nil {
		return nil, err
	}
	if err := comm.checkRoot(op, root); err != nil {
		return nil, err
	}
	cp, in := (*C.char)(nil), C.goipc_info_null
	if comm.rank == root {
		if cp, err = portName(op, port); err == nil {
			defer C.free(unsafe.Pointer(cp))
			in, err = infoArg(op, info)
		}
	}
	if _, err := rootVerdict(op, comm, root, 0, err); err != nil {
		return nil, err
	}
	if err := dynamicProcesses(op); err != nil {
		return nil, err
	}
	var nc C.MPI_Comm
	if op == "MPI_Comm_accept" {
		err = check(op, C.MPI_Comm_accept(cp, in, C.int(root), h, &nc))
	} else {
		err = check(op, C.MPI_Comm_connect(cp, in, C.int(root), h, &nc))
	}
	runtime.KeepAlive(info)
	if err != nil {
		return nil, err
	}
	return newInter(op, nc)
}

// PublishName publishes port under service (MPI_Publish_name), for clients
// of other jobs to find with LookupName; UnpublishName withdraws it. Between
// jobs, Open MPI needs an ompi-server that both reach (see the package
// documentation).
func PublishName(service string, info *Info, port string) error {
	return nameCall("MPI_Publish_name", service, info, port)
}

// UnpublishName withdraws a name that PublishName published
// (MPI_Unpublish_name).
func UnpublishName(service string, info *Info, port string) error {
	return nameCall("MPI_Unpublish_name", service, info, port)
}

func nameCall(op, service string, info *Info, port string) error {
	if err := running(op); err != nil {
		return err
	}
	in, err := infoArg(op, info)
	if err != nil {
		return err
	}
	cs, err := serviceName(op, service)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cs))
	cp, err := portName(op, port)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cp))
	if err := dynamicProcesses(op); err != nil {
		return err
	}
	if op == "MPI_Publish_name" {
		return check(op, C.MPI_Publish_name(cs, in, cp))
	}
	return check(op, C.MPI_Unpublish_name(cs, in, cp))
}

// LookupName returns the port published under service (MPI_Lookup_name); a
// name nobody published fails with ErrName.
func LookupName(service string, info *Info) (string, error) {
	const op = "MPI_Lookup_name"
	if err := running(op); err != nil {
		return "", err
	}
	in, err := infoArg(op, info)
	if err != nil {
		return "", err
	}
	cs, err := serviceName(op, service)
	if err != nil {
		return "", err
	}
	defer C.free(unsafe.Pointer(cs))
	if err := dynamicProcesses(op); err != nil {
		return "", err
	}
	var buf [C.MPI_MAX_PORT_NAME]C.char
	if err := check(op, C.MPI_Lookup_name(cs, in, &buf[0])); err != nil {
		return "", err
	}
	return C.GoString(&buf[0]), nil
}

func serviceName(op, service string) (*C.char, error) {
	if service == "" || strings.IndexByte(service, 0) >= 0 {
		return nil, invalid(op, ErrName, "service name %q: at least 1 byte, no NUL", service)
	}
	return C.CString(service), nil
}
