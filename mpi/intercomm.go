package mpi

// #include "shim.h"
import "C"

import "runtime"

// An intercommunicator joins two disjoint groups of processes: the local
// group, whose ranks Rank and Size give, and the remote group, whose ranks a
// point-to-point call names (RemoteSize, RemoteGroup). CommSpawn,
// CommGetParent, CommAccept, CommConnect and IntercommCreate make them;
// IntercommMerge turns one into an intracommunicator of both groups.

// interOps are the calls of this package that take an intercommunicator:
// point-to-point calls, whose ranks are the remote group's; Barrier; and the
// communicator's own management. The collectives that move data (MPI sizes
// their buffers by the remote group and gives their root MPI_ROOT or
// MPI_PROC_NULL) and the calls MPI defines only on intracommunicators
// (topologies, windows, Scan, Comm_split_type, spawning) refuse one before
// reaching MPI, whose checks differ between libraries.
var interOps = map[string]bool{
	"MPI_Send": true, "MPI_Recv": true, "MPI_Isend": true, "MPI_Irecv": true,
	"MPI_Ssend": true, "MPI_Issend": true, "MPI_Bsend": true, "MPI_Ibsend": true,
	"MPI_Rsend": true, "MPI_Irsend": true, "MPI_Sendrecv": true, "MPI_Sendrecv_replace": true,
	"MPI_Probe": true, "MPI_Iprobe": true, "MPI_Mprobe": true, "MPI_Improbe": true,
	"MPI_Send_init": true, "MPI_Recv_init": true,
	"MPI_Barrier": true, "MPI_Ibarrier": true,
	"MPI_Comm_dup": true, "MPI_Comm_split": true, "MPI_Comm_create": true,
	"MPI_Comm_compare": true, "MPI_Comm_group": true, "MPI_Comm_remote_group": true,
	"MPI_Intercomm_merge": true, "MPI_Comm_disconnect": true, "MPI_Topo_test": true,
	"MPI_Comm_get_attr": true, "MPI_Comm_set_name": true, "MPI_Comm_get_name": true,
	"MPI_Comm_set_errhandler": true, "MPI_Comm_get_errhandler": true,
}

// notInter refuses an intercommunicator where the call needs an
// intracommunicator.
func notInter(op string, c *Comm) error {
	return invalid(op, ErrComm, "this call takes an intracommunicator, not an intercommunicator (%s); IntercommMerge makes one of both groups", c.name)
}

// fillInter caches whether c is an intercommunicator and the size of its
// remote group.
func (c *Comm) fillInter() error {
	var flag, n C.int
	if err := check("MPI_Comm_test_inter", C.MPI_Comm_test_inter(c.c, &flag)); err != nil {
		return err
	}
	if c.inter = flag != 0; c.inter {
		if err := check("MPI_Comm_remote_size", C.MPI_Comm_remote_size(c.c, &n)); err != nil {
			return err
		}
	}
	c.remote = int(n)
	return nil
}

// newInter wraps an intercommunicator that MPI made and sets
// MPI_ERRORS_RETURN on it: the standard leaves the error handler of
// spawned, accepted and connected communicators to the library (a child's
// parent communicator gets MPI_ERRORS_ARE_FATAL).
func newInter(op string, h C.MPI_Comm) (*Comm, error) {
	if h == C.goipc_comm_null {
		return nil, nil
	}
	if err := check(op, C.MPI_Comm_set_errhandler(h, C.goipc_errors_return)); err != nil {
		C.MPI_Comm_free(&h)
		return nil, err
	}
	c, err := newComm(h)
	if c != nil {
		c.name = "intercommunicator"
	}
	return c, err
}

// interHandle is handle for the calls that need an intercommunicator.
func (c *Comm) interHandle(op string) (C.MPI_Comm, error) {
	h, err := c.handle(op)
	if err == nil && !c.inter {
		err = invalid(op, ErrComm, "%s is not an intercommunicator", c.name)
	}
	return h, err
}

// IsInter reports whether c is an intercommunicator (MPI_Comm_test_inter,
// cached); false for a nil, zero or freed communicator.
func (c *Comm) IsInter() bool { return c != nil && c.inter && c.usable("") == nil }

// RemoteSize returns the number of processes in the remote group of an
// intercommunicator (MPI_Comm_remote_size, cached), or 0 for an
// intracommunicator and a nil, zero or freed one.
func (c *Comm) RemoteSize() int {
	if !c.IsInter() {
		return 0
	}
	return c.remote
}

// RemoteGroup returns the remote group of an intercommunicator
// (MPI_Comm_remote_group); free it with Free.
func (c *Comm) RemoteGroup() (*Group, error) {
	const op = "MPI_Comm_remote_group"
	h, err := c.interHandle(op)
	if err != nil {
		return nil, err
	}
	g := &Group{}
	return g, check(op, C.MPI_Comm_remote_group(h, &g.g))
}

// IntercommCreate joins c, an intracommunicator, with another disjoint
// group into an intercommunicator (MPI_Intercomm_create). Every process of
// both groups calls it. The leaders, localLeader in c and remoteLeader in
// peer, find each other through peer, a communicator that holds both (World,
// usually), with tag; peer and remoteLeader are significant only at the
// local leader.
func (c *Comm) IntercommCreate(localLeader int, peer *Comm, remoteLeader, tag int) (*Comm, error) {
	const op = "MPI_Intercomm_create"
	h, err := c.handle(op)
	if err != nil {
		return nil, err
	}
	if localLeader < 0 || localLeader >= c.size {
		return nil, invalid(op, ErrRank, "local leader %d is not a rank of a communicator of %d", localLeader, c.size)
	}
	ph := C.goipc_comm_null
	if c.rank == localLeader {
		if err := peer.usable(op); err != nil {
			return nil, err
		}
		ph = peer.c
	}
	r, t, err := rankTag(op, remoteLeader, tag)
	if err != nil {
		return nil, err
	}
	var nc C.MPI_Comm
	err = check(op, C.MPI_Intercomm_create(h, C.int(localLeader), ph, r, t, &nc))
	runtime.KeepAlive(peer)
	if err != nil {
		return nil, err
	}
	ic, err := newComm(nc)
	if ic != nil {
		ic.name = "intercommunicator"
	}
	return ic, err
}

// IntercommMerge returns an intracommunicator of both groups of the
// intercommunicator c (MPI_Intercomm_merge). Every process of both groups
// calls it; the group that passes high=false comes first in the new ranks
// (if both pass the same, the order is the library's).
func (c *Comm) IntercommMerge(high bool) (*Comm, error) {
	const op = "MPI_Intercomm_merge"
	h, err := c.interHandle(op)
	if err != nil {
		return nil, err
	}
	var hi C.int
	if high {
		hi = 1
	}
	var nc C.MPI_Comm
	if err := check(op, C.MPI_Intercomm_merge(h, hi, &nc)); err != nil {
		return nil, err
	}
	return newComm(nc)
}

// Disconnect waits for the communication pending on c to complete and then
// frees it (MPI_Comm_disconnect): after it, the processes of a spawned or
// connected job are independent, and one may end without the other. It is
// collective over both groups of an intercommunicator, nil-safe and
// idempotent, and refuses World and Self, as Free does.
func (c *Comm) Disconnect() error {
	const op = "MPI_Comm_disconnect"
	if c == nil || isZero(c.c) || c.c == C.goipc_comm_null {
		return nil
	}
	if c.predefined {
		return invalid(op, ErrComm, "%s cannot be disconnected", c.name)
	}
	if err := running(op); err != nil {
		return err
	}
	if err := check(op, C.MPI_Comm_disconnect(&c.c)); err != nil {
		return err
	}
	c.freed()
	return nil
}
