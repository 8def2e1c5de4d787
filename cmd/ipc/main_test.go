package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/inventory/inventorytest"
)

// The test binary doubles as the ipc command: runIPC and startIPC re-execute
// it as the child "ipc", which runs main with the given arguments. So the tests
// exercise the real command line, exit statuses included, in real processes.
func TestMain(m *testing.M) {
	inventorytest.Main(m, map[string]func([]string) error{
		"ipc": func(args []string) error {
			if mech, when, _ := strings.Cut(os.Getenv(stallPeerEnv), ":"); mech != "" && len(args) > 2 && args[0] == "bench" && args[1] == "peer" && args[2] == mech {
				if when == "die" {
					fmt.Println("ready")
					return syscall.Kill(os.Getpid(), syscall.SIGKILL)
				}
				return stallPeer(when != "before-ready")
			}
			os.Args = append([]string{"ipc"}, args...)
			main()
			return nil
		},
	})
}

// stallPeerEnv names a mechanism whose Go peer (`ipc bench peer MECH ...`,
// this binary again) says ready and then never answers, as a peer whose CPU
// is taken away would: TestBenchInterrupt interrupts a run in the middle of
// that mechanism's exchange however fast or loaded the machine is.
// "MECH:before-ready" stalls before it says ready, as a peer slow to start;
// "MECH:die" is killed once it said ready, as a peer that crashes.
const stallPeerEnv = "GOIPC_TEST_STALL_PEER"

// stallPeer is such a peer: it waits for ipc bench to close its stdin (bench
// kills it, as it does any peer, if it does not exit then).
func stallPeer(ready bool) error {
	if ready {
		fmt.Println("ready")
	}
	_, err := io.Copy(io.Discard, os.Stdin)
	return err
}

// ipcCommand returns an exec.Cmd that runs `ipc args...`.
func ipcCommand(args ...string) *exec.Cmd { return testutil.Child("ipc", args...) }

// runIPC runs `ipc args...` to completion and returns its stdout, stderr and
// exit status. A child that hangs is killed after testutil.Timeout and fails
// the test, rather than stalling the whole run.
func runIPC(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := ipcCommand(args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatalf("ipc %v: %v", args, err)
	}
	hung := time.AfterFunc(testutil.Timeout, func() { cmd.Process.Kill() })
	err := cmd.Wait()
	var exit *exec.ExitError
	switch {
	case !hung.Stop():
		t.Fatalf("ipc %v did not exit within %v; stderr:\n%s", args, testutil.Timeout, errOut.String())
	case err == nil:
	case errors.As(err, &exit):
		code = exit.ExitCode()
	default:
		t.Fatalf("ipc %v: %v", args, err)
	}
	return out.String(), errOut.String(), code
}

// mustIPC runs `ipc args...` and fails the test unless it exits 0.
func mustIPC(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := runIPC(t, args...)
	if code != 0 {
		t.Fatalf("ipc %v: exit %d\nstderr: %s", args, code, errOut)
	}
	return out
}

// startIPC starts `ipc args...` in the background; read its stdout with Line.
func startIPC(t *testing.T, args ...string) *testutil.Proc {
	t.Helper()
	return testutil.Start(t, ipcCommand(args...))
}
