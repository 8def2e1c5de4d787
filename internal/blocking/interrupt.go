package blocking

/*
#cgo nocallback goipc_gettid
#cgo noescape goipc_gettid

#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

// The handler of the fallback signal: running it is the point (the blocked
// call returns EINTR), so it does nothing.
static void goipc_wake_handler(int sig) { (void)sig; }

// goipc_interrupt makes the system call that thread tid of this process is
// blocked in fail with EINTR, by sending it a signal that runs a handler.
// SIGURG is the one to send while it has a handler (Go's, for preemption,
// unless the program ignored it). A signal that is ignored or left to its
// default is dropped without interrupting anything, so then the fallback
// signal is sent, after installing the handler above on it if the program
// replaced it (signal.Ignore() with no arguments ignores it too).
static int goipc_interrupt(int tid, int fallback) {
	struct sigaction sa;
	int sig = SIGURG;
	if (sigaction(SIGURG, NULL, &sa) != 0 || sa.sa_handler == SIG_IGN || sa.sa_handler == SIG_DFL) {
		sig = fallback;
		if (sigaction(sig, NULL, &sa) != 0)
			return -1;
		if (sa.sa_handler != goipc_wake_handler) {
			memset(&sa, 0, sizeof sa);
			sa.sa_handler = goipc_wake_handler;
			// SA_ONSTACK: on a Go thread it may run while Go code runs,
			// on a small goroutine stack. SA_RESTART: other calls restart.
			sa.sa_flags = SA_ONSTACK | SA_RESTART;
			sigemptyset(&sa.sa_mask);
			if (sigaction(sig, &sa, NULL) != 0)
				return -1;
		}
	}
	return syscall(SYS_tgkill, getpid(), tid, sig);
}

static int goipc_sigrtmax(void) { return SIGRTMAX; }

// goipc_gettid returns the calling thread's id. It is cached per thread: a
// system call costs about as much as the call it would prepare (0.5 us on a
// virtual machine), a cgo call a tenth of that.
static int goipc_gettid(void) {
	static __thread int tid;
	if (tid == 0)
		tid = syscall(SYS_gettid);
	return tid;
}
*/
import "C"

import "syscall"

// fallbackSignal is the signal that interrupts a blocked call when the
// program ignores SIGURG: SIGRTMAX-3 (61 with glibc on Linux), a real-time
// signal that neither Go nor glibc uses. Its handler does nothing, and is
// installed the first time it is needed, and again if the program changed it.
var fallbackSignal = syscall.Signal(C.goipc_sigrtmax() - 3)

// gettid returns the id of the calling thread, which must be locked to it.
func gettid() int { return int(C.goipc_gettid()) }

// interrupt makes the system call that thread tid is blocked in fail with
// EINTR; it fails when the thread is gone.
func interrupt(tid int) error {
	if r, err := C.goipc_interrupt(C.int(tid), C.int(fallbackSignal)); r != 0 {
		return err
	}
	return nil
}
