// Command ipc exercises every inter-process communication mechanism goipc
// covers, one command group per mechanism, plus the whole-system verbs demo, ls
// and rm. ../../README.md tours it; `ipc help` lists every flag.
package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/goipc/ipc/internal/cli"
)

// rootCmd is the top of the command tree; each group's file adds itself to it
// in an init function.
var rootCmd = &cobra.Command{
	Use:   "ipc",
	Short: "Inter-process communication from Go: every Linux mechanism, one command line",
	Long: `ipc sends and receives through each way Linux processes talk: files, signals,
TCP and Unix sockets, pipes and FIFOs, POSIX and System V message queues,
shared memory and semaphores, memory-mapped files. The defaults follow the
classic walk-through of these mechanisms, so each step can be tried as is.

Errors go to stderr as "ipc: <op> <object>: <reason>". Exit status: 0 success,
1 error, 2 usage error, 3 --timeout expired, 4 --nowait found nothing to take
(or, sending, a full queue).
Durations use Go syntax (500ms, 2s); sizes accept bytes or 4KiB, 1MiB.

Rules every group follows:
  Waiting: no --timeout waits as long as it takes; --timeout D gives up after
    D (exit 3); --timeout 0, like --nowait, does not wait (exit 4 when there is
    nothing to take). --nowait with --timeout is a usage error. tcp and unix
    send always wait for the echo. file recv waits only with --wait D.
  Paths: FIFOs and devices are refused where a file is expected. In a sticky,
    world-writable directory (/tmp), a symbolic link owned by neither the
    caller nor the directory's owner is never followed, and another user's
    file is written only with --allow-foreign.
  Messages: a receiver takes nothing when stdout is closed, and puts a queue
    message back (same priority or type) when writing it fails; a semaphore
    wait with --print-value gives back what it took.
  Payloads: MSG, "-" for stdin, or --file PATH (at most 64 MiB); a message
    starting with one "-" that cannot be flags needs no "--".
  Shared memory writes store DATA and a NUL when the object goes on.
  System V: rm takes id=N; stat and ls --json give key and key_hex.
A waiting receiver says on stderr what it waits for, on a terminal only.`,
}

func main() {
	finishHelp(rootCmd)
	rootCmd.SetArgs(asPositional(rootCmd, os.Args[1:]))
	cli.Main(rootCmd, exitCode)
}
