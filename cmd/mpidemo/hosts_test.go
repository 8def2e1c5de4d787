package main

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"testing"

	"github.com/goipc/ipc/mpi/mpitest"
)

// checkHosts verifies `mpidemo hosts`: one line per rank in rank order,
// rank r on hosts[r], each rank its own process.
func checkHosts(t *testing.T, r mpitest.Result, hosts []string) {
	t.Helper()
	lines := r.Lines()
	if len(lines) != len(hosts) {
		t.Fatalf("%d lines, want one per rank (%d):\n%s", len(lines), len(hosts), r.Stdout)
	}
	pids := map[string]bool{}
	for i, line := range lines {
		m := regexp.MustCompile(fmt.Sprintf(`^rank %d of %d on (\S+) pid (\d+)$`, i, len(hosts))).FindStringSubmatch(line)
		if m == nil || m[1] != hosts[i] {
			t.Fatalf("line %d is %q, want rank %d of %d on %s pid P:\n%s", i, line, i, len(hosts), hosts[i], r.Stdout)
		}
		proc := m[1] + " " + m[2]
		if pid, _ := strconv.Atoi(m[2]); pid <= 0 || pids[proc] {
			t.Fatalf("rank %d: pid %s on %s is not a process of its own:\n%s", i, m[2], m[1], r.Stdout)
		}
		pids[proc] = true
	}
}

func TestHosts(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	checkHosts(t, mpitest.Must(t, env, mpidemo(3, "hosts")), []string{host, host, host})
}
