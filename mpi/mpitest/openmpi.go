//go:build !mpich

package mpitest

// The Open MPI launcher and its package.
const (
	Impl      = "openmpi"
	Mpiexec   = "mpiexec.openmpi"
	PkgConfig = "ompi-c"
)

// --oversubscribe lets four ranks run on two cores.
var launchFlags = []string{"--oversubscribe"}

// Env lets Open MPI run as root and turns off the single-copy mechanism
// (CMA), which containers forbid.
var Env = []string{
	"OMPI_ALLOW_RUN_AS_ROOT=1",
	"OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1",
	"OMPI_MCA_btl_vader_single_copy_mechanism=none",
}

// jobEnv keeps a job's files (shared-memory segments, session directory) in
// a directory of its own, removed after the test, so that a job that is
// killed or aborts leaves nothing in /dev/shm.
func jobEnv(dir string) []string {
	return []string{"OMPI_MCA_btl_vader_backing_directory=" + dir, "OMPI_MCA_orte_tmpdir_base=" + dir}
}
