package posix

/*
#include <stdlib.h>
*/
import "C"

import (
	"unsafe"

	"github.com/goipc/ipc/internal/errs"
)

// unlink checks name (at most max bytes after the slash) and removes it with
// call, one of mq_unlink, shm_unlink and sem_unlink, named op.
func unlink(op, name string, max int, call func(*C.char) (C.int, error)) error {
	name, err := canonical(op, name, max)
	if err != nil {
		return err
	}
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	if r, err := call(cname); r < 0 {
		return errs.Path(op, name, err)
	}
	return nil
}
