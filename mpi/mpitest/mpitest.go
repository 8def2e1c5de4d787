// Package mpitest launches MPI jobs for tests: the real mpiexec of the library
// package mpi is built against (Open MPI by default, MPICH with -tags mpich),
// with what Open MPI needs to run as root in a container, a timeout that
// kills a hung job, and every rank's output kept for the failure message.
// StartHosts brings up test hosts (testhosts/testhosts) for jobs across
// machines, which Hosts.Run launches through each library's ssh mechanism.
package mpitest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goipc/ipc/internal/testutil"
)

// Timeout bounds a job; a job still running then is killed. A test of the
// harness itself may lower it.
var Timeout = 60 * time.Second

// App is one program of a job: N ranks running Argv. Several Apps make an
// MPMD job (mpiexec -n 1 a : -n 1 b), ranks numbered in order.
type App struct {
	N    int
	Argv []string
}

// Result is what a finished job printed.
type Result struct {
	Stdout, Stderr string
	Err            error // nil when every rank exited 0
}

// Lines returns the job's standard output split into lines.
func (r Result) Lines() []string { return strings.Split(strings.TrimRight(r.Stdout, "\n"), "\n") }

// Command returns the mpiexec command line for apps (without environment).
func Command(apps ...App) []string { return command(launchFlags, apps) }

// command is mpiexec with flags, then the apps.
func command(flags []string, apps []App) []string {
	args := append([]string{Mpiexec}, flags...)
	for i, a := range apps {
		if i > 0 {
			args = append(args, ":")
		}
		args = append(args, "-n", fmt.Sprint(a.N))
		args = append(args, a.Argv...)
	}
	return args
}

// Run runs a job with env added to the environment and waits for it, at most
// Timeout. It fails the test if mpiexec is not installed.
func Run(t testing.TB, env []string, apps ...App) Result {
	t.Helper()
	if _, err := exec.LookPath(Mpiexec); err != nil {
		testutil.Unavailable(t, "%s: %v", Mpiexec, err)
	}
	return run(t, Command(apps...), append(append(append([]string(nil), Env...), jobEnv(t.TempDir())...), env...))
}

// run runs argv with env added to the environment, at most Timeout.
func run(t testing.TB, argv, env []string) Result {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(cmd.Environ(), env...)
	// The ranks share mpiexec's process group, so a hung job dies whole.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("job hung: killed after %v", Timeout)
	}
	return Result{Stdout: stdout.String(), Stderr: stderr.String(), Err: err}
}

// Must runs a job and fails the test, showing every rank's output, unless
// all ranks exit 0.
func Must(t testing.TB, env []string, apps ...App) Result {
	t.Helper()
	return must(t, Run(t, env, apps...), Command(apps...))
}

func must(t testing.TB, r Result, argv []string) Result {
	t.Helper()
	if r.Err != nil {
		t.Fatalf("%s: %v\n--- stdout:\n%s--- stderr:\n%s", strings.Join(argv, " "), r.Err, r.Stdout, r.Stderr)
	}
	return r
}

// CFlags returns the compiler and linker arguments for a C program against the
// library (pkg-config), for testutil.BuildC.
func CFlags(t testing.TB) []string {
	t.Helper()
	out, err := exec.Command("pkg-config", "--cflags", "--libs", PkgConfig).Output()
	if err != nil {
		testutil.Unavailable(t, "pkg-config %s: %v", PkgConfig, err)
	}
	return strings.Fields(string(out))
}
