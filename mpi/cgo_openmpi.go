//go:build !mpich

package mpi

// Open MPI is the default library; build with -tags mpich for MPICH.

// #cgo pkg-config: ompi-c
import "C"

// Implementation names the MPI library this package was built against.
const Implementation = "Open MPI"
