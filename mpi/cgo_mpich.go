//go:build mpich

package mpi

// #cgo pkg-config: mpich
import "C"

// Implementation names the MPI library this package was built against.
const Implementation = "MPICH"
