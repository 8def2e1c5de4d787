package mpi

// #include <stdlib.h>
// #include "shim.h"
import "C"

import (
	"strings"
	"unsafe"
)

// Info is a set of key-value hints for MPI (MPI_Info), such as the hints of
// MPI-IO and one-sided calls. NewInfo makes one; the caller frees it with
// Free.
type Info struct{ i C.MPI_Info }

// NewInfo returns an empty Info (MPI_Info_create).
func NewInfo() (*Info, error) {
	if err := running("MPI_Info_create"); err != nil {
		return nil, err
	}
	in := &Info{}
	if err := check("MPI_Info_create", C.MPI_Info_create(&in.i)); err != nil {
		return nil, err
	}
	return in, nil
}

func (in *Info) handle(op string) (C.MPI_Info, error) {
	if in == nil || isZero(in.i) {
		return C.goipc_info_null, nilHandle(op, ErrArg, "info")
	}
	if in.i == C.goipc_info_null {
		return in.i, closed(op, "info was freed")
	}
	return in.i, running(op)
}

// infoKey checks a key before it reaches C.
func infoKey(op, key string) (*C.char, error) {
	if key == "" || len(key) >= C.MPI_MAX_INFO_KEY || strings.IndexByte(key, 0) >= 0 {
		return nil, invalid(op, ErrArg, "info key %q: 1 to %d bytes, no NUL", key, C.MPI_MAX_INFO_KEY-1)
	}
	return C.CString(key), nil
}

// Set sets key to value (MPI_Info_set). Open MPI 4.1 refuses an empty value
// (MPI_ERR_INFO_VALUE); MPICH keeps it.
func (in *Info) Set(key, value string) error {
	const op = "MPI_Info_set"
	h, err := in.handle(op)
	if err != nil {
		return err
	}
	if len(value) >= C.MPI_MAX_INFO_VAL || strings.IndexByte(value, 0) >= 0 {
		return invalid(op, ErrArg, "info value for %q: at most %d bytes, no NUL", key, C.MPI_MAX_INFO_VAL-1)
	}
	ck, err := infoKey(op, key)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(ck))
	cv := C.CString(value)
	defer C.free(unsafe.Pointer(cv))
	return check(op, C.MPI_Info_set(h, ck, cv))
}

// Get returns the value of key, and whether it is set (MPI_Info_get).
func (in *Info) Get(key string) (string, bool, error) {
	const op = "MPI_Info_get"
	h, err := in.handle(op)
	if err != nil {
		return "", false, err
	}
	ck, err := infoKey(op, key)
	if err != nil {
		return "", false, err
	}
	defer C.free(unsafe.Pointer(ck))
	var n, flag C.int
	if err := check("MPI_Info_get_valuelen", C.MPI_Info_get_valuelen(h, ck, &n, &flag)); err != nil || flag == 0 {
		return "", false, err
	}
	buf := make([]C.char, n+1)
	if err := check(op, C.MPI_Info_get(h, ck, n+1, &buf[0], &flag)); err != nil {
		return "", false, err
	}
	return C.GoStringN(&buf[0], n), flag != 0, nil
}

// Delete removes key (MPI_Info_delete); removing a key that is not set is
// not an error.
func (in *Info) Delete(key string) error {
	const op = "MPI_Info_delete"
	h, err := in.handle(op)
	if err != nil {
		return err
	}
	if _, ok, err := in.Get(key); err != nil || !ok {
		return err
	}
	ck, _ := infoKey(op, key)
	defer C.free(unsafe.Pointer(ck))
	return check(op, C.MPI_Info_delete(h, ck))
}

// Keys returns the keys set, in MPI's order (MPI_Info_get_nkeys,
// MPI_Info_get_nthkey).
func (in *Info) Keys() ([]string, error) {
	h, err := in.handle("MPI_Info_get_nkeys")
	if err != nil {
		return nil, err
	}
	var n C.int
	if err := check("MPI_Info_get_nkeys", C.MPI_Info_get_nkeys(h, &n)); err != nil {
		return nil, err
	}
	keys := make([]string, n)
	var buf [C.MPI_MAX_INFO_KEY + 1]C.char
	for i := range keys {
		if err := check("MPI_Info_get_nthkey", C.MPI_Info_get_nthkey(h, C.int(i), &buf[0])); err != nil {
			return nil, err
		}
		keys[i] = C.GoString(&buf[0])
	}
	return keys, nil
}

// Dup returns a copy of in (MPI_Info_dup), which the caller frees.
func (in *Info) Dup() (*Info, error) {
	h, err := in.handle("MPI_Info_dup")
	if err != nil {
		return nil, err
	}
	d := &Info{}
	if err := check("MPI_Info_dup", C.MPI_Info_dup(h, &d.i)); err != nil {
		return nil, err
	}
	return d, nil
}

// Free releases in (MPI_Info_free); it is nil-safe and idempotent.
func (in *Info) Free() error {
	if in == nil || isZero(in.i) || in.i == C.goipc_info_null || ready("MPI_Info_free") != nil {
		return nil
	}
	if err := running("MPI_Info_free"); err != nil {
		return err
	}
	return check("MPI_Info_free", C.MPI_Info_free(&in.i))
}
