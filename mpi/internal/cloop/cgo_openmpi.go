//go:build !mpich

package cloop

// Open MPI is the default library, as for package mpi; -tags mpich for MPICH.

// #cgo pkg-config: ompi-c
import "C"
