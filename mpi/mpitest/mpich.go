//go:build mpich

package mpitest

import (
	"fmt"
	"strings"
	"time"
)

// The MPICH launcher (Hydra) and its package.
const (
	Impl      = "mpich"
	Mpiexec   = "mpiexec.mpich"
	PkgConfig = "mpich"
)

var launchFlags []string

// Env adds nothing: MPICH runs as root and oversubscribed as it is.
var Env []string

// jobEnv adds nothing: MPICH unlinks its shared memory as soon as the ranks
// have mapped it.
func jobEnv(string) []string { return nil }

// hostFlags reach the test hosts as a cluster's nodes are reached: the
// machinefile, ssh (the agent) and eth0. Hydra passes the whole environment
// to every rank by itself.
func hostFlags(h *Hosts, _ []string) []string {
	return []string{"-launcher", "ssh", "-launcher-exec", h.Path("ssh"), "-f", h.Path("machinefile"), "-iface", "eth0"}
}

// hostEnv bounds the job by Hydra's own timeout, well inside Timeout: when
// ssh to a host fails, Hydra waits for that host forever, and only its
// timeout ends the job with a message and takes down the ranks it started.
// It also ends the jobs that finalizeHang recognises.
func hostEnv(string) []string {
	return []string{fmt.Sprintf("MPIEXEC_TIMEOUT=%d", int(min(Timeout*3/4, 20*time.Second).Seconds()))}
}

// finalizeHang recognises a job that Hydra's timeout ended, which between
// hosts is MPICH 4.0's deadlock in MPI_Finalize over UCX's TCP transport
// (fixed in MPICH 4.2, pmodels/mpich#6596): a rank's MPI_Finalize flushes
// every endpoint that sent anything, with an empty put the peer must
// acknowledge (UCX's uct_tcp_ep_flush), while a peer done with its own
// flushes waits in a PMI barrier that makes no progress; the put stays
// unread in the peer's socket. It strikes after the ranks' work is done,
// a job in ten or so on a loaded machine; no setting of MPICH or UCX 1.13
// avoids it.
func finalizeHang(r Result) bool {
	return r.Err != nil && strings.Contains(r.Stdout, timeoutNotice) // Hydra prints it there
}
