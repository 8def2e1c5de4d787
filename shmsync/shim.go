package shmsync

/*
#cgo LDFLAGS: -pthread
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

// The glibc futex word of a mutex: the holder's thread id in the low 30 bits.
#define TID_MASK 0x3fffffff
// SPIN is how many pauses (some microseconds) a lock watches a taken mutex
// before it sleeps.
#define SPIN 1000
#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ __volatile__("yield")
#else
#define cpu_relax()
#endif

static int mutex_init(pthread_mutex_t *m) {
	pthread_mutexattr_t a;
	int err = pthread_mutexattr_init(&a);
	if (err) return err;
	if (!(err = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED)) &&
	    !(err = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST)) &&
	    !(err = pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK)))
		err = pthread_mutex_init(m, &a);
	pthread_mutexattr_destroy(&a);
	return err;
}

// mutex_checks reports whether m was initialised robust and process-shared
// (glibc's PTHREAD_MUTEX_ROBUST_NORMAL_NP and PTHREAD_MUTEX_PSHARED_BIT in
// __kind): 0, or EINVAL.
static int mutex_checks(pthread_mutex_t *m) {
	int kind = __atomic_load_n(&m->__data.__kind, __ATOMIC_RELAXED);
	return (kind & 16) && (kind & 128) ? 0 : EINVAL;
}

static struct timespec after(int64_t ns) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += ns / 1000000000 + (t.tv_nsec + ns % 1000000000) / 1000000000;
	t.tv_nsec = (t.tv_nsec + ns % 1000000000) % 1000000000;
	return t;
}

// self is the calling thread's id, cached per thread: gettid is a system
// call, and every Unlock asks.
static __thread int self_tid;

static int self(void) {
	if (self_tid == 0)
		self_tid = syscall(SYS_gettid);
	return self_tid;
}

static unsigned int *mutex_word(pthread_mutex_t *m) { return (unsigned int *)&m->__data.__lock; }

// mutex_pi reports whether m uses priority inheritance (glibc's
// PTHREAD_MUTEX_PRIO_INHERIT_NP bit in __kind).
static int mutex_pi(pthread_mutex_t *m) { return (__atomic_load_n(&m->__data.__kind, __ATOMIC_RELAXED) & 32) != 0; }

static int mutex_holding(pthread_mutex_t *m) {
	return (__atomic_load_n(&m->__data.__lock, __ATOMIC_RELAXED) & TID_MASK) == self();
}

// mutex_lock locks m, waiting at most ns nanoseconds (forever when ns < 0).
// It refuses with EDEADLK a thread that holds m already, which a mutex of
// type PTHREAD_MUTEX_NORMAL that C initialised would deadlock.
static int mutex_lock(pthread_mutex_t *m, int64_t ns) {
	if (mutex_holding(m))
		return EDEADLK;
	// glibc's robust mutex sleeps in the kernel as soon as it finds the
	// mutex taken; locks held for microseconds are better watched a while.
	for (int i = 0; i < SPIN && __atomic_load_n(&m->__data.__lock, __ATOMIC_RELAXED) != 0; i++)
		cpu_relax();
	if (ns < 0)
		return pthread_mutex_lock(m);
	struct timespec t = after(ns);
	return pthread_mutex_clocklock(m, CLOCK_MONOTONIC, &t);
}

// mutex_unlock and mutex_consistent refuse with EPERM a thread that does not
// hold m (glibc's consistent does not check).
static int mutex_unlock(pthread_mutex_t *m) {
	return mutex_holding(m) ? pthread_mutex_unlock(m) : EPERM;
}

static int mutex_consistent(pthread_mutex_t *m) {
	return mutex_holding(m) ? pthread_mutex_consistent(m) : EPERM;
}

static int cond_init(pthread_cond_t *c) {
	pthread_condattr_t a;
	int err = pthread_condattr_init(&a);
	if (err) return err;
	if (!(err = pthread_condattr_setpshared(&a, PTHREAD_PROCESS_SHARED)))
		err = pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
	return err;
}

// cond_checks reports whether c was initialised process-shared (bit 0 of
// glibc's __wrefs; zeroed memory, PTHREAD_COND_INITIALIZER, is private):
// 0, or EINVAL.
static int cond_checks(pthread_cond_t *c) {
	return __atomic_load_n(&c->__data.__wrefs, __ATOMIC_RELAXED) & 1 ? 0 : EINVAL;
}

static int cond_wait_for(pthread_cond_t *c, pthread_mutex_t *m, int64_t ns) {
	struct timespec t = after(ns);
	return pthread_cond_clockwait(c, m, CLOCK_MONOTONIC, &t);
}
*/
import "C"

import (
	"syscall"
	"time"
	"unsafe"
)

// The 1:1 calls. Each returns the pthread function's result as an Errno (0
// when it succeeded).

const (
	mutexSize = C.sizeof_pthread_mutex_t
	condSize  = C.sizeof_pthread_cond_t
)

type mutexT = C.pthread_mutex_t
type condT = C.pthread_cond_t

func mutexInit(m *mutexT) syscall.Errno       { return syscall.Errno(C.mutex_init(m)) }
func mutexChecks(m *mutexT) syscall.Errno     { return syscall.Errno(C.mutex_checks(m)) }
func mutexUnlock(m *mutexT) syscall.Errno     { return syscall.Errno(C.mutex_unlock(m)) }
func mutexConsistent(m *mutexT) syscall.Errno { return syscall.Errno(C.mutex_consistent(m)) }
func mutexHolding(m *mutexT) bool             { return C.mutex_holding(m) != 0 }
func mutexWord(m *mutexT) *C.uint             { return C.mutex_word(m) }
func mutexPI(m *mutexT) bool                  { return C.mutex_pi(m) != 0 }

// mutexLock waits at most d, or forever when d < 0.
func mutexLock(m *mutexT, d time.Duration) syscall.Errno {
	return syscall.Errno(C.mutex_lock(m, C.int64_t(d)))
}

func condInit(c *condT) syscall.Errno   { return syscall.Errno(C.cond_init(c)) }
func condChecks(c *condT) syscall.Errno { return syscall.Errno(C.cond_checks(c)) }
func condWait(c *condT, m *mutexT) syscall.Errno {
	return syscall.Errno(C.pthread_cond_wait(c, m))
}

// condWaitFor waits at most d.
func condWaitFor(c *condT, m *mutexT, d time.Duration) syscall.Errno {
	return syscall.Errno(C.cond_wait_for(c, m, C.int64_t(d)))
}
func condSignal(c *condT) syscall.Errno    { return syscall.Errno(C.pthread_cond_signal(c)) }
func condBroadcast(c *condT) syscall.Errno { return syscall.Errno(C.pthread_cond_broadcast(c)) }

func mutexOf(p unsafe.Pointer) *mutexT { return (*mutexT)(p) }
func condOf(p unsafe.Pointer) *condT   { return (*condT)(p) }
