package mpi

// #include "shim.h"
import "C"

import (
	"runtime"
	"unsafe"
)

// Addr is an address in a process's memory as MPI sees it (MPI_Aint, from
// MPI_Get_address): in a dynamic window, the displacement of the memory a
// process attached. It is an int64 underneath, so ranks exchange the
// addresses Attach returns with any call on a []Addr (Bcast, Allgather,
// Send), as a C program sends MPI_AINT.
type Addr int64

// attachment is memory attached to a dynamic window, pinned until detached.
type attachment struct {
	base unsafe.Pointer
	size int
	pin  runtime.Pinner
}

// WinCreateDynamic makes a window without memory on every process of c
// (MPI_Win_create_dynamic), collectively, for elements of T: each process
// then attaches memory to it (Attach) and detaches it again (Detach), at any
// time and on its own. A displacement into a dynamic window is the target
// address in bytes, as MPI defines it: the target learns it from Attach and
// sends it to the origins, which compute the displacements of its elements
// with Disp. info may be nil.
func WinCreateDynamic[T Type](c *Comm, info *Info) (*Win, error) {
	const op = "MPI_Win_create_dynamic"
	h, _, _, err := winArgs[T](op, c, 0)
	if err != nil {
		return nil, err
	}
	in, err := infoArg(op, info)
	if err != nil {
		return nil, err
	}
	var w C.MPI_Win
	if err := check(op, C.MPI_Win_create_dynamic(in, h, &w)); err != nil {
		return nil, err
	}
	return newWin[T](op, c, w, 0, winDynamic)
}

// Attach attaches buf to this process's part of a dynamic window
// (MPI_Win_attach) and returns the address of buf[0] (MPI_Get_address),
// which the other ranks use to reach it. buf is pinned (runtime.Pinner) and
// belongs to the window until Detach or Free: other ranks read and write it,
// so this rank touches it only as the epochs allow. Memory that overlaps
// memory attached already is refused with ErrRMAAttach.
func Attach[T Type](w *Win, buf []T) (Addr, error) {
	const op = "MPI_Win_attach"
	h, p, size, err := dynamicBuf(op, w, buf)
	if err != nil {
		return 0, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, a := range w.attached {
		if uintptr(p) < uintptr(a.base)+uintptr(a.size) && uintptr(a.base) < uintptr(p)+uintptr(size) {
			return 0, invalid(op, ErrRMAAttach, "%d bytes at %p overlap the %d bytes at %p attached already", size, p, a.size, a.base)
		}
	}
	a := &attachment{base: p, size: size}
	a.pin.Pin(p)
	if err := check(op, C.MPI_Win_attach(h, p, C.MPI_Aint(size))); err != nil {
		a.pin.Unpin()
		return 0, err
	}
	w.attached = append(w.attached, a)
	var addr C.MPI_Aint
	if err := check("MPI_Get_address", C.MPI_Get_address(p, &addr)); err != nil {
		return 0, err // attached all the same: Detach releases it
	}
	return Addr(addr), nil
}

// Detach detaches buf, which Attach attached, from a dynamic window
// (MPI_Win_detach), and unpins it. Neither library checks what it is given
// (both return success for memory never attached), so Detach refuses, with
// ErrRMAAttach, any slice that is not exactly one that Attach took. Nor does
// either check a remote access against what is attached: an origin that
// still uses the address of detached memory writes into whatever is there
// now, as in C, so a program detaches only once the origins are done (a
// Barrier, or a message).
func Detach[T Type](w *Win, buf []T) error {
	const op = "MPI_Win_detach"
	h, p, size, err := dynamicBuf(op, w, buf)
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, a := range w.attached {
		if a.base == p && a.size == size {
			if err := check(op, C.MPI_Win_detach(h, p)); err != nil {
				return err
			}
			a.pin.Unpin()
			w.attached = append(w.attached[:i], w.attached[i+1:]...)
			return nil
		}
	}
	return invalid(op, ErrRMAAttach, "the %d bytes at %p are not memory Attach attached to the window", size, p)
}

// dynamicBuf checks the window and the memory of Attach and Detach.
func dynamicBuf[T Type](op string, w *Win, buf []T) (C.MPI_Win, unsafe.Pointer, int, error) {
	h, err := winOf[T](op, w)
	if err != nil {
		return h, nil, 0, err
	}
	if !w.dynamic {
		return h, nil, 0, invalid(op, ErrWin, "the window was not made by WinCreateDynamic")
	}
	p, _, err := buffer(op, buf)
	if err == nil && p == nil {
		err = invalid(op, ErrBuffer, "empty slice")
	}
	return h, p, len(buf) * w.unit, err
}

// Disp returns the displacement of the element i places after the one at a
// in w's element type: in a dynamic window, the address a plus i elements
// (a from the target's Attach). In the other windows, displacements count
// elements from the start of the target's part, so Disp(0, i) is i.
func (w *Win) Disp(a Addr, i int) int {
	if w == nil || !w.dynamic {
		return int(a) + i
	}
	return int(a) + i*w.unit
}

// detachedAll unpins the memory still attached when the window is freed.
func (w *Win) detachedAll() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, a := range w.attached {
		a.pin.Unpin()
	}
	w.attached = nil
}
