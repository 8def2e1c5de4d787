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
Durations use Go syntax (500ms, 2s); sizes accept bytes or 4KiB, 1MiB.`,
}

func main() {
	finishHelp(rootCmd)
	rootCmd.SetArgs(asPositional(rootCmd, os.Args[1:]))
	cli.Main(rootCmd, exitCode)
}
