//go:build mpich

package mpi

// #include "shim.h"
import "C"

import "sync"

// dynamic remembers whether this MPICH can start and connect jobs.
var dynamic struct {
	once sync.Once
	why  string // MPI_Open_port's error when it cannot
}

// dynamicProcesses returns an error matching ErrNotSupported, with MPICH's
// reason, when the library has no dynamic processes: MPICH 4.0's ch4:ucx
// device, which Debian ships, fails MPI_Open_port, and with it the port that
// MPI_Comm_spawn opens first, with "The function is currently not supported
// with ucx netmod" (MPIDI_UCX_get_local_upids). Every rank finds the same
// answer by itself, so that none waits for the others in a call that fails.
func dynamicProcesses(op string) error {
	dynamic.once.Do(func() {
		var buf [C.MPI_MAX_PORT_NAME]C.char
		if err := check("MPI_Open_port", C.MPI_Open_port(C.goipc_info_null, &buf[0])); err != nil {
			dynamic.why = "MPI_Open_port: " + err.(*Error).Msg
			return
		}
		C.MPI_Close_port(&buf[0])
	})
	if dynamic.why == "" {
		return nil
	}
	return &Error{Op: op, Class: ErrOther, Msg: "this MPICH has no dynamic processes (" + dynamic.why + ")", cause: ErrNotSupported}
}
