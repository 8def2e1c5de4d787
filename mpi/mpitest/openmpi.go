//go:build !mpich

package mpitest

import "strings"

// The Open MPI launcher and its package.
const (
	Impl      = "openmpi"
	Mpiexec   = "mpiexec.openmpi"
	PkgConfig = "ompi-c"
)

// --oversubscribe lets four ranks run on two cores.
var launchFlags = []string{"--oversubscribe"}

// Env lets Open MPI run as root and turns off the single-copy mechanism
// (CMA), which containers forbid. Without CMA, the one-sided component Open
// MPI prefers (osc rdma) fails MPI_Win_create with MPI_ERR_WIN instead of
// giving way, so windows use osc sm (shared memory) and osc pt2pt (messages),
// which refuses ThreadMultiple.
var Env = []string{
	"OMPI_ALLOW_RUN_AS_ROOT=1",
	"OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1",
	"OMPI_MCA_btl_vader_single_copy_mechanism=none",
	"OMPI_MCA_osc=sm,pt2pt",
}

// jobEnv keeps a job's files (shared-memory segments, session directory) in
// a directory of its own, removed after the test, so that a job that is
// killed or aborts leaves nothing in /dev/shm.
func jobEnv(dir string) []string {
	return []string{"OMPI_MCA_btl_vader_backing_directory=" + dir, "OMPI_MCA_orte_tmpdir_base=" + dir}
}

// hostFlags reach the test hosts as a cluster's nodes are reached: the
// hostfile, ssh (the agent), TCP on eth0 for both the runtime (oob) and
// MPI's messages (btl), and the variables of env passed to every rank:
// Open MPI hands remote ranks only its own OMPI_* variables, and -x would
// reach the first program of an MPMD job only.
//
// --bind-to none: each host's daemon sees the whole machine and, for a job
// of two or fewer ranks, binds its first rank to core 0 (--report-bindings
// prints "bound to socket 0[core 0[hwt 0]]: [B/.]" on both hosts, and
// /proc/PID/status shows Cpus_allowed_list 0 for both ranks). The test
// hosts share this machine's cores, so both ranks then busy-poll the same
// core and each message waits for the other rank's time slice to end: a
// scheduler tick (4 ms at HZ=250) per message, the "4 ms at every size" of
// issue 12. MPICH's Hydra binds nothing by default. On real machines,
// where every host has its own cores, Open MPI's default binding is right.
//
// mpi_yield_when_idle: for the same reason the hosts together are an
// oversubscribed machine, where Open MPI yields the CPU between polls by
// itself; it cannot tell across hosts. On a loaded machine this halved the
// C pingpong's latency between two hosts (three alternating rounds: 280, 263,
// 482 µs polling; 168, 143, 276 µs yielding).
func hostFlags(h *Hosts, env []string) []string {
	flags := []string{"--hostfile", h.Path("hostfile"), "--mca", "plm_rsh_agent", h.Path("ssh"),
		"--mca", "oob_tcp_if_include", "eth0", "--mca", "btl_tcp_if_include", "eth0",
		"--bind-to", "none", "--mca", "mpi_yield_when_idle", "1"}
	if len(env) > 0 {
		flags = append(flags, "--mca", "mca_base_env_list", strings.Join(envNames(env), ";"))
	}
	return flags
}

// hostEnv keeps the session directories, which every host writes into the
// shared /tmp, in the test's own directory. Shared memory stays in each
// host's private /dev/shm, which goes with the host.
func hostEnv(dir string) []string { return []string{"OMPI_MCA_orte_tmpdir_base=" + dir} }

// finalizeHang: Open MPI's TCP transport has no such deadlock (see mpich.go).
func finalizeHang(Result) bool { return false }
