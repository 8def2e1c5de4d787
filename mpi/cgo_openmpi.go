//go:build !mpich

package mpi

// Open MPI is the default library; build with -tags mpich for MPICH.

// #cgo pkg-config: ompi-c
// #include "shim.h"
import "C"

import "unsafe"

// commArg passes a communicator to the wrappers of shim.h as an integer: an
// Open MPI handle is a C pointer, which cgo would otherwise look up in the Go
// heap on every call.
func commArg(h C.MPI_Comm) C.uintptr_t { return C.uintptr_t(uintptr(unsafe.Pointer(h))) }

// winArg passes a window to the wrappers of win.go as an integer, as
// commArg does a communicator.
func winArg(h C.MPI_Win) C.uintptr_t { return C.uintptr_t(uintptr(unsafe.Pointer(h))) }

// Implementation names the MPI library this package was built against.
const Implementation = "Open MPI"

// oscPairsAbort says that the library's one-sided components end the job
// (MPI_Abort, whatever the error handler) for MPI_MINLOC or MPI_MAXLOC on
// MPI_DOUBLE_INT or MPI_LONG_INT: Open MPI 4.1.4, from C as well, prints
// "MPI_DOUBLE_INT datatype is currently unsupported for MPI_MINLOC/MPI_MAXLOC
// operation" from every rank. The accumulates refuse those instead.
const oscPairsAbort = true
