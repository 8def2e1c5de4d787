package ring

/*
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

// Truncation. When a process shrinks the file under a mapping, a load or
// store past the new end raises SIGBUS, which kills a Go program whether
// the access is in Go or, as most of the ring's are, in C. This handler
// takes SIGBUS for the address ranges of the rings this process maps: it
// maps private zero pages from the faulting page to the end of the ring (all
// of it is past the end of the file), notes the fault, and returns, so the
// access completes on memory of no consequence and the call that made it
// reports the truncation. If the ring's lock was on those pages, the handler
// gives it a type glibc refuses (every lock and unlock fails with EINVAL):
// a zeroed mutex would be a plain one, which the robust code cannot unlock,
// and a thread of this process would wait for it forever. Any other SIGBUS
// goes to the handler it replaced, Go's, as the os/signal documentation asks
// of C code that handles synchronous signals.
#define R_SLOTS 4096
// R_POISON is a mutex type that glibc knows not: all its calls fail with
// EINVAL (the types are 0-3, robust 16-19, PI 32-35 and 48-51, PP 64-67).
#define R_POISON 127

static uintptr_t r_start[R_SLOTS], r_end[R_SLOTS]; // a ring's mapping; 0, 0 when free
static uintptr_t r_lock_at[R_SLOTS];               // its pthread_mutex_t
static uint32_t r_faults[R_SLOTS];                 // 1 once the handler replaced pages of it
static struct sigaction r_previous;
static uintptr_t r_page;

static void r_on_bus(int sig, siginfo_t *si, void *ctx) {
	uintptr_t a = (uintptr_t)si->si_addr;
	for (int i = 0; i < R_SLOTS; i++) {
		uintptr_t start = __atomic_load_n(&r_start[i], __ATOMIC_ACQUIRE), end = __atomic_load_n(&r_end[i], __ATOMIC_ACQUIRE);
		if (start <= a && a < end) {
			uintptr_t page = a & ~(r_page - 1);
			if (mmap((void *)page, end - page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
				break;
			uintptr_t lock = __atomic_load_n(&r_lock_at[i], __ATOMIC_RELAXED);
			if (lock >= page)
				((pthread_mutex_t *)lock)->__data.__kind = R_POISON;
			__atomic_store_n(&r_faults[i], 1, __ATOMIC_RELEASE);
			return;
		}
	}
	if (r_previous.sa_flags & SA_SIGINFO) {
		r_previous.sa_sigaction(sig, si, ctx);
	} else if (r_previous.sa_handler == SIG_DFL || r_previous.sa_handler == SIG_IGN) {
		sigaction(SIGBUS, &r_previous, NULL); // the fault comes again, and kills
	} else {
		r_previous.sa_handler(sig);
	}
}

static int r_install_err;

static void r_install_once(void) {
	r_page = sysconf(_SC_PAGESIZE);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = r_on_bus;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
	sigfillset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &r_previous) != 0)
		r_install_err = errno;
}

static int r_install(void) {
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, r_install_once);
	return r_install_err;
}

static void r_guard(int slot, uintptr_t start, uintptr_t end, uintptr_t lock) {
	__atomic_store_n(&r_faults[slot], 0, __ATOMIC_RELAXED);
	__atomic_store_n(&r_lock_at[slot], lock, __ATOMIC_RELAXED);
	__atomic_store_n(&r_start[slot], start, __ATOMIC_RELEASE);
	__atomic_store_n(&r_end[slot], end, __ATOMIC_RELEASE);
}

static void r_unguard(int slot) {
	__atomic_store_n(&r_end[slot], 0, __ATOMIC_RELEASE);
	__atomic_store_n(&r_start[slot], 0, __ATOMIC_RELEASE);
}

static uint32_t *r_fault_word(int slot) { return &r_faults[slot]; }
*/
import "C"

import (
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"github.com/goipc/ipc/internal/errs"
)

// guards are the slots of the handler's table that hold a ring's range.
var guards struct {
	sync.Mutex
	used [C.R_SLOTS]bool
}

// A guard is a ring's slot in the SIGBUS handler's table.
type guard struct {
	slot  int
	fault *atomic.Uint32 // set by the handler when it replaced pages of the ring
}

// guardRange installs the handler (once per process) and has it take the
// faults of mem, a ring's whole mapping.
func guardRange(mem []byte) (*guard, error) {
	if e := C.r_install(); e != 0 {
		return nil, errs.Syscall("sigaction", syscall.Errno(e))
	}
	guards.Lock()
	defer guards.Unlock()
	for slot, used := range guards.used {
		if !used {
			guards.used[slot] = true
			start := uintptr(unsafe.Pointer(unsafe.SliceData(mem)))
			C.r_guard(C.int(slot), C.uintptr_t(start), C.uintptr_t(start+uintptr(len(mem))), C.uintptr_t(start+offLock))
			return &guard{slot, (*atomic.Uint32)(unsafe.Pointer(C.r_fault_word(C.int(slot))))}, nil
		}
	}
	return nil, errs.Hint(syscall.EMFILE, "%d rings mapped by this process, the most it guards against truncation", C.R_SLOTS)
}

// faulted tells whether the ring's file was found truncated: nil g (a
// sealed memfd, which cannot shrink) never is.
func (g *guard) faulted() bool { return g != nil && g.fault.Load() != 0 }

// release frees the slot of a ring that never faulted, before its unmapping.
// A ring that faulted keeps its slot and its mapping for good: the rest of
// its pages may fault later, and a thread that held the ring's lock when its
// page was replaced may still list the lock among its robust mutexes, which
// glibc writes to on the thread's next robust lock.
func (g *guard) release() {
	if g == nil || g.faulted() {
		return
	}
	C.r_unguard(C.int(g.slot))
	guards.Lock()
	guards.used[g.slot] = false
	guards.Unlock()
}
