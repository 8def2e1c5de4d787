//go:build !mpich

package mpi

// dynamicProcesses returns nil: Open MPI starts and connects jobs (between
// two mpiexec jobs only through an ompi-server; see the package
// documentation).
func dynamicProcesses(string) error { return nil }
