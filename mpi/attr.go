package mpi

// #include <stdlib.h>
// #include "shim.h"
//
// // An integer attribute: MPI hands back a pointer to the value.
// static int goipc_int_attr(MPI_Comm c, int key, int *val, int *flag) {
//	int *p = NULL;
//	int rc = MPI_Comm_get_attr(c, key, &p, flag);
//	if (rc == MPI_SUCCESS && *flag)
//		*val = *p;
//	return rc;
// }
// static int goipc_set_errors(MPI_Comm c, int fatal) {
//	return MPI_Comm_set_errhandler(c, fatal ? MPI_ERRORS_ARE_FATAL : MPI_ERRORS_RETURN);
// }
// // 1 for errors fatal, 0 for errors returned, 2 for another handler.
// static int goipc_get_errors(MPI_Comm c, int *mode) {
//	MPI_Errhandler e;
//	int rc = MPI_Comm_get_errhandler(c, &e);
//	if (rc != MPI_SUCCESS)
//		return rc;
//	*mode = e == MPI_ERRORS_ARE_FATAL ? 1 : e == MPI_ERRORS_RETURN ? 0 : 2;
//	return MPI_Errhandler_free(&e);
// }
import "C"

import (
	"strings"
	"unsafe"
)

// Attr is a communicator attribute that MPI predefines (on World) and that
// holds an integer.
type Attr int

// The predefined attributes (MPI_TAG_UB...).
const (
	AttrTagUB         Attr = C.MPI_TAG_UB          // the largest tag
	AttrHost          Attr = C.MPI_HOST            // the rank of a host process, or ProcNull
	AttrIO            Attr = C.MPI_IO              // a rank that can do I/O, AnySource for all
	AttrWtimeIsGlobal Attr = C.MPI_WTIME_IS_GLOBAL // 1 if Wtime is synchronised across World
	AttrUniverseSize  Attr = C.MPI_UNIVERSE_SIZE   // how many processes the job may have, spawned ones included
	AttrAppNum        Attr = C.MPI_APPNUM          // the index of this process's program in an MPMD launch
)

// Attr returns the value of a predefined attribute of c
// (MPI_Comm_get_attr); ok is false when the library or launcher does not set
// it (MPI defines them on World). Any other key is refused before MPI, whose
// libraries take it for a keyval of their own (Open MPI: MPI_ERR_OTHER).
func (c *Comm) Attr(key Attr) (value int, ok bool, err error) {
	h, err := c.handle("MPI_Comm_get_attr")
	if err != nil {
		return 0, false, err
	}
	switch key {
	case AttrTagUB, AttrHost, AttrIO, AttrWtimeIsGlobal, AttrUniverseSize, AttrAppNum:
	default:
		return 0, false, invalid("MPI_Comm_get_attr", ErrArg, "attribute %d is not one of the predefined ones (AttrTagUB...)", int(key))
	}
	var v, flag C.int
	if err := check("MPI_Comm_get_attr", C.goipc_int_attr(h, C.int(key), &v, &flag)); err != nil {
		return 0, false, err
	}
	return int(v), flag != 0, nil
}

// SetName names c (MPI_Comm_set_name), for debuggers, profilers and this
// package's error messages. Names are at most MPI_MAX_OBJECT_NAME-1 bytes.
func (c *Comm) SetName(name string) error {
	const op = "MPI_Comm_set_name"
	h, err := c.handle(op)
	if err != nil {
		return err
	}
	if len(name) >= C.MPI_MAX_OBJECT_NAME || strings.IndexByte(name, 0) >= 0 {
		return invalid(op, ErrArg, "name %q: at most %d bytes and no NUL", name, C.MPI_MAX_OBJECT_NAME-1)
	}
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	if err := check(op, C.MPI_Comm_set_name(h, cs)); err != nil {
		return err
	}
	c.name = name
	return nil
}

// Name returns c's name (MPI_Comm_get_name): "MPI_COMM_WORLD" for World,
// and what SetName set.
func (c *Comm) Name() (string, error) {
	h, err := c.handle("MPI_Comm_get_name")
	if err != nil {
		return "", err
	}
	var buf [C.MPI_MAX_OBJECT_NAME]C.char
	var n C.int
	if err := check("MPI_Comm_get_name", C.MPI_Comm_get_name(h, &buf[0], &n)); err != nil {
		return "", err
	}
	return C.GoStringN(&buf[0], n), nil
}

// ErrorMode is what MPI does when a call on a communicator fails.
type ErrorMode int

const (
	// ErrorsReturn makes a failing call return an error (MPI_ERRORS_RETURN):
	// the mode Init sets on World and Self, which new communicators inherit.
	ErrorsReturn ErrorMode = iota
	// ErrorsFatal makes MPI abort the job on any error (MPI_ERRORS_ARE_FATAL).
	ErrorsFatal
	// ErrorsOther is a handler set outside this package.
	ErrorsOther
)

// SetErrorMode chooses what a failing call on c does
// (MPI_Comm_set_errhandler); communicators made from c afterwards inherit
// it. Errors this package catches before calling MPI are returned in either
// mode.
func (c *Comm) SetErrorMode(mode ErrorMode) error {
	h, err := c.handle("MPI_Comm_set_errhandler")
	if err != nil {
		return err
	}
	if mode != ErrorsReturn && mode != ErrorsFatal {
		return invalid("MPI_Comm_set_errhandler", ErrArg, "unknown error mode %d", int(mode))
	}
	return check("MPI_Comm_set_errhandler", C.goipc_set_errors(h, C.int(mode)))
}

// ErrorMode returns what a failing call on c does (MPI_Comm_get_errhandler).
func (c *Comm) ErrorMode() (ErrorMode, error) {
	h, err := c.handle("MPI_Comm_get_errhandler")
	if err != nil {
		return ErrorsOther, err
	}
	var m C.int
	err = check("MPI_Comm_get_errhandler", C.goipc_get_errors(h, &m))
	return ErrorMode(m), err
}
