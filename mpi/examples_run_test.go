package mpi_test

import (
	"flag"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// exampleEnv marks a test binary that TestExamples started to run one
// Example.
const exampleEnv = "GOIPC_MPI_EXAMPLE"

// skipExamples keeps m.Run in this process from running the Examples. Each
// Example is a whole program, from Init to Finalize, and MPI initialises only
// once per process, so TestExamples runs each one in a process of its own.
func skipExamples() {
	if os.Getenv(exampleEnv) != "" {
		return
	}
	flag.Parse()
	skip := flag.Lookup("test.skip").Value
	pattern := "^Example"
	if s := skip.String(); s != "" {
		pattern = s + "|" + pattern
	}
	skip.Set(pattern)
}

// TestExamples runs every Example that has an Output comment as a singleton
// MPI job: the test binary again, with -test.run naming that Example alone.
// The testing package of that process compares the output.
func TestExamples(t *testing.T) {
	names := exampleNames(t)
	if len(names) == 0 {
		t.Fatal("the test binary lists no Example with output")
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cmd := exampleProcess("-test.run=^"+name+"$", "-test.v")
			// A session directory of its own: singletons that share
			// TMPDIR share its ompi.HOST.UID, which each removes at
			// Finalize when empty, so one that starts meanwhile fails
			// MPI_Init ("A call to mkdir was unable to create the desired
			// directory ... File exists", from orte_session_dir).
			cmd.Env = append(cmd.Env, "OMPI_MCA_orte_tmpdir_base="+t.TempDir())
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "--- PASS: "+name+" ") {
				t.Fatalf("%s: %v\n%s", name, err, out)
			}
		})
	}
}

// exampleNames returns the Examples compiled into the test binary: go test
// registers only those with an Output comment, and only from the files that
// this build's tags select.
func exampleNames(t *testing.T) []string {
	out, err := exampleProcess("-test.list=^Example").Output()
	if err != nil {
		t.Fatalf("listing the Examples: %v", err)
	}
	return strings.Fields(string(out))
}

func exampleProcess(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], append(args, "-test.timeout=2m")...)
	cmd.Env = append(os.Environ(), exampleEnv+"=1")
	return cmd
}
