package testutil

import (
	"os/exec"
	"testing"
)

// A child that prints more lines than Proc buffers is still reaped by Wait.
func TestProcWaitReadsEveryLine(t *testing.T) {
	p := Start(t, exec.Command("seq", "5000"))
	p.Expect("1")
	rest, err := p.Wait()
	if err != nil || len(rest) != 4999 || rest[4998] != "5000" {
		t.Fatalf("Wait = %d lines, %v; want the 4999 after the first", len(rest), err)
	}
}
