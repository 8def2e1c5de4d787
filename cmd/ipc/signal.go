package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"github.com/goipc/ipc/internal/cli"
	"github.com/goipc/ipc/internal/errs"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

// The real-time signals as the C library numbers them: glibc keeps 32 and 33
// for its threads, so SIGRTMIN is 34 in C, Python and the shell alike.
const (
	sigRTMin = 34
	sigRTMax = 64
)

func init() {
	group := &cobra.Command{
		Use:   "signal",
		Short: "Send and catch signals, with a sigqueue value for real-time ones",
		Long: `Signals carry no data beyond their number, except that sigqueue attaches an
integer value, which the receiver reads from siginfo. Standard signals of the
same number do not queue: two SIGUSR1 sent before the first is taken arrive as
one. Real-time signals (RTMIN..RTMAX, 34..64) queue, each with its value.
SIG is a name (USR1, SIGUSR1, RTMIN+3, RTMAX-1) or a number.`,
	}

	var value int32
	send := &cobra.Command{
		Use:   "send PID [SIG]",
		Short: "Send SIG (default USR1) to process PID, with --value by sigqueue",
		Args:  cli.Args(cobra.RangeArgs(1, 2)),
		RunE: func(cmd *cobra.Command, a []string) error {
			// 32 bits, as pid_t is: the kernel would truncate a larger
			// number, so 2^32-1 would become -1, every process.
			pid, err := strconv.ParseInt(a[0], 10, 32)
			if err != nil || pid <= 0 {
				return cli.Usagef("invalid PID %q (want a positive process id; 0 and negative ids mean process groups)", a[0])
			}
			sig := syscall.SIGUSR1
			if len(a) == 2 {
				if sig, err = parseSignal(a[1]); err != nil {
					return err
				}
			}
			if cmd.Flags().Changed("value") {
				return errs.Path("sigqueue", a[0], sigqueue(int(pid), sig, value))
			}
			return errs.Path("kill", a[0], unix.Kill(int(pid), sig))
		},
	}
	send.Flags().Int32Var(&value, "value", 0, "send with sigqueue, attaching this integer (sival_int)")

	var count int
	var wait *waitFlags
	var asJSON bool
	recv := &cobra.Command{
		Use:   "recv [SIG...]",
		Short: "Print this process's pid, then each signal caught (default USR1) and its value",
		Long: `recv prints "pid N", then one line per signal it takes: the name and the
sigqueue value (0 when the sender used kill). It stops after --count signals
(0: never). With --json the lines are objects that also give the sender's
pid and uid and the si_code (0 from kill, -1 from sigqueue).

recv takes USR1, USR2, ALRM, PIPE, WINCH and the like, and RTMIN+1..RTMAX. It
cannot take KILL and STOP (nobody can), nor what the Go runtime keeps unblocked
in every thread: HUP, INT, QUIT, ABRT, TERM and SYS (so that they stop it), the
synchronous signals, CHLD, PROF, URG, and 32-34 (SIGRTMIN), which C libraries
reserve.`,
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := checkCount(count); err != nil {
				return err
			}
			if err := checkStdout(); err != nil {
				return err
			}
			sigs := []syscall.Signal{syscall.SIGUSR1}
			if len(a) > 0 {
				sigs = nil
				for _, s := range a {
					sig, err := parseSignal(s)
					if err != nil {
						return err
					}
					if slices.Contains(untakeable, sig) {
						return cli.Usagef("cannot take %s: the kernel or the Go runtime keeps it (see ipc signal recv --help)", signalName(sig))
					}
					sigs = append(sigs, sig)
				}
			}
			return receiveSignals(cmd, sigs, count, wait, asJSON)
		},
	}
	recv.Flags().IntVar(&count, "count", 1, "stop after this many signals (0: never)")
	wait = addWait(recv, "give up waiting for signals after this long", "")
	recv.Flags().BoolVar(&asJSON, "json", false, "print JSON objects, with the sender's pid and uid and the si_code")

	group.AddCommand(send, recv)
	rootCmd.AddCommand(group)

	addDemo("signal", func(*demo) demoPlan {
		return demoPlan{
			message:  "SIGRTMIN+3 42",
			receiver: []string{"signal", "recv", "RTMIN+3"},
			sender: func(pid int) []string {
				return []string{"signal", "send", strconv.Itoa(pid), "RTMIN+3", "--value", "42"}
			},
			ready: true,
			// The receiver's first line is its pid.
			received: func(out, _ string) string {
				_, sig, _ := strings.Cut(out, "\n")
				return strings.TrimSuffix(sig, "\n")
			},
		}
	})
}

// untakeable are the signals recv refuses: uncatchable, or kept unblocked in
// every thread by the Go runtime (runtime.blockableSig), which a signalfd needs
// blocked: the ones that stop a Go program, the synchronous ones (faults of the
// process itself), those it uses itself, and 32-34, which glibc and musl
// reserve for their threads.
var untakeable = []syscall.Signal{
	syscall.SIGKILL, syscall.SIGSTOP,
	syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGABRT, syscall.SIGTERM, syscall.SIGSYS,
	syscall.SIGILL, syscall.SIGTRAP, syscall.SIGBUS, syscall.SIGFPE, syscall.SIGSEGV, syscall.SIGSTKFLT,
	syscall.SIGCHLD, syscall.SIGPROF, syscall.SIGURG, 32, 33, 34,
}

// parseSignal accepts USR1, SIGUSR1, usr1, RTMIN, RTMIN+3, RTMAX-1, 10 or SIG10.
func parseSignal(s string) (syscall.Signal, error) {
	name := strings.TrimPrefix(strings.ToUpper(s), "SIG")
	var n int
	var err error
	switch {
	case name != "" && name[0] >= '0' && name[0] <= '9':
		n, err = strconv.Atoi(name)
	case strings.HasPrefix(name, "RTMIN"):
		n, err = realTime(sigRTMin, name[len("RTMIN"):])
	case strings.HasPrefix(name, "RTMAX"):
		n, err = realTime(sigRTMax, name[len("RTMAX"):])
	default:
		n = int(unix.SignalNum("SIG" + name))
	}
	if err != nil || n < 1 || n > sigRTMax {
		return 0, cli.Usagef("unknown signal %q (want a name such as USR1, SIGTERM, RTMIN+3, or a number 1-%d)", s, sigRTMax)
	}
	return syscall.Signal(n), nil
}

// realTime resolves RTMIN+N or RTMAX-N: base and its offset, "" or "+N" or "-N".
func realTime(base int, offset string) (int, error) {
	n := base
	if offset != "" {
		off, err := strconv.Atoi(offset)
		if err != nil || (offset[0] != '+' && offset[0] != '-') {
			return 0, strconv.ErrSyntax
		}
		n += off
	}
	if n < sigRTMin || n > sigRTMax {
		return 0, strconv.ErrRange
	}
	return n, nil
}

// signalName names sig as the shell's kill -l does: SIGUSR1, SIGRTMIN+3,
// SIGRTMAX-2.
func signalName(sig syscall.Signal) string {
	switch n := int(sig); {
	case n == sigRTMin:
		return "SIGRTMIN"
	case n == sigRTMax:
		return "SIGRTMAX"
	case n > sigRTMin && n <= sigRTMin+15:
		return fmt.Sprintf("SIGRTMIN+%d", n-sigRTMin)
	case n > sigRTMin && n < sigRTMax:
		return fmt.Sprintf("SIGRTMAX-%d", sigRTMax-n)
	}
	if name := unix.SignalName(sig); name != "" {
		return name
	}
	return fmt.Sprintf("SIG%d", int(sig))
}

// siginfoQueue is the siginfo_t that rt_sigqueueinfo reads for SI_QUEUE: three
// ints, then the union, pointer-aligned, whose _rt member is pid, uid and the
// sigval (sival_int first).
type siginfoQueue struct {
	signo, errno, code int32
	_                  [unsafe.Sizeof(uintptr(0)) - 4]byte
	pid                int32
	uid                uint32
	value              int32
	_                  [128 - 6*4 - (unsafe.Sizeof(uintptr(0)) - 4)]byte
}

// sigqueue is sigqueue(3): rt_sigqueueinfo with the caller's pid and uid, as
// the C library fills them in.
func sigqueue(pid int, sig syscall.Signal, value int32) error {
	const siQueue = -1
	info := siginfoQueue{signo: int32(sig), code: siQueue, pid: int32(os.Getpid()), uid: uint32(os.Getuid()), value: value}
	_, _, e := unix.Syscall(unix.SYS_RT_SIGQUEUEINFO, uintptr(pid), uintptr(sig), uintptr(unsafe.Pointer(&info)))
	if e != 0 {
		return e
	}
	return nil
}

// reexecEnv marks the re-executed receiver, so that it can never loop.
const reexecEnv = "IPC_SIGNALS_BLOCKED"

// receiveSignals takes sigs through a signalfd, which yields each signal's
// siginfo (so its sigqueue value) where os/signal gives only the number.
//
// A signalfd sees a signal only if no thread would run a handler for it first,
// so every thread must block it. Go threads take their mask from the one the
// process started with, so the only way to block a signal in all of them is to
// have it blocked before the program starts: recv blocks the signals in its
// thread and re-executes itself (same pid, same arguments), and the new image
// finds them blocked.
func receiveSignals(cmd *cobra.Command, sigs []syscall.Signal, count int, wait *waitFlags, asJSON bool) error {
	var set unix.Sigset_t
	for _, sig := range sigs {
		bits := uint(unsafe.Sizeof(set.Val[0])) * 8
		set.Val[uint(sig-1)/bits] |= 1 << (uint(sig-1) % bits)
	}
	runtime.LockOSThread() // the mask checked and changed is this thread's
	var blocked unix.Sigset_t
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, nil, &blocked); err != nil {
		return errs.Syscall("sigprocmask", err)
	}
	if !hasAll(&blocked, &set) {
		if os.Getenv(reexecEnv) != "" { // re-executed, and the runtime unblocked one anyway
			return errs.Syscall("sigprocmask", errs.Invalid("the Go runtime keeps one of these signals unblocked"))
		}
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		if err := unix.PthreadSigmask(unix.SIG_BLOCK, &set, nil); err != nil {
			return errs.Syscall("sigprocmask", err)
		}
		return errs.Path("exec", exe, syscall.Exec(exe, os.Args, append(os.Environ(), reexecEnv+"=1")))
	}
	os.Unsetenv(reexecEnv)
	runtime.UnlockOSThread()

	fd, err := unix.Signalfd(-1, &set, unix.SFD_NONBLOCK|unix.SFD_CLOEXEC)
	if err != nil {
		return errs.Syscall("signalfd", err)
	}
	f := os.NewFile(uintptr(fd), "signalfd") // non-blocking: the runtime poller waits
	defer f.Close()
	f.SetReadDeadline(wait.deadline())
	out := cmd.OutOrStdout()
	if asJSON {
		fmt.Fprintf(out, "{\"pid\":%d}\n", os.Getpid())
	} else {
		fmt.Fprintf(out, "pid %d\n", os.Getpid())
	}
	var names []string
	for _, sig := range sigs {
		names = append(names, signalName(sig))
	}
	if !wait.noWait() {
		notifyReady("%s to pid %d", strings.Join(names, ", "), os.Getpid())
	}
	var info unix.SignalfdSiginfo
	buf := unsafe.Slice((*byte)(unsafe.Pointer(&info)), unsafe.Sizeof(info))
	for n := 0; count == 0 || n < count; n++ {
		if wait.noWait() {
			if ready, err := readyNow(f); err != nil || !ready {
				if err == nil && n == 0 {
					err = nothingYet("wait for", "signals", "no signal pending")
				}
				return err // after n > 0, every signal pending was taken
			}
		}
		if _, err := f.Read(buf); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				err = errs.Hint(errs.ErrTimeout, "%d signals taken within %v", n, wait.timeout)
			}
			return errs.Path("wait for", "signals", err)
		}
		name := signalName(syscall.Signal(info.Signo))
		if asJSON {
			b, _ := json.Marshal(map[string]any{"signal": name, "number": info.Signo, "value": info.Int,
				"code": info.Code, "sender_pid": info.Pid, "sender_uid": info.Uid})
			_, err = fmt.Fprintf(out, "%s\n", b)
		} else {
			_, err = fmt.Fprintf(out, "%s %d\n", name, info.Int)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func hasAll(set, sub *unix.Sigset_t) bool {
	for i := range sub.Val {
		if set.Val[i]&sub.Val[i] != sub.Val[i] {
			return false
		}
	}
	return true
}
