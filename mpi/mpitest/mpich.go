//go:build mpich

package mpitest

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
