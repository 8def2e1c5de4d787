//go:build mpich

package mpi

// #cgo pkg-config: mpich
// #include "shim.h"
import "C"

// commArg passes a communicator to the wrappers of shim.h, which take it as an
// integer because Open MPI's handles are C pointers (see cgo_openmpi.go).
func commArg(h C.MPI_Comm) C.uintptr_t { return C.uintptr_t(h) }

// winArg passes a window to the wrappers of win.go as an integer, as
// commArg does a communicator.
func winArg(h C.MPI_Win) C.uintptr_t { return C.uintptr_t(h) }

// Implementation names the MPI library this package was built against.
const Implementation = "MPICH"

// oscPairsAbort is false: MPICH's accumulates take every Loc (see
// cgo_openmpi.go).
const oscPairsAbort = false
