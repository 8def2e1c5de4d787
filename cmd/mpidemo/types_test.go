package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/goipc/ipc/internal/testutil"
	"github.com/goipc/ipc/mpi/mpitest"
)

// particles is what rank 1 prints for `mpidemo types`, whoever the ranks are.
const particles = `particle 0 0 0 -0 p0
particle 1 1 0.5 -1 p1
particle 2 2 1 -2 p2
particle 3 3 1.5 -3 p3
`

func checkParticles(t *testing.T, r mpitest.Result, want string) {
	t.Helper()
	if r.Stdout != want {
		t.Fatalf("rank 1 printed:\n%s\nwant:\n%s\nstderr:\n%s", r.Stdout, want, r.Stderr)
	}
}

func TestTypes(t *testing.T) {
	checkParticles(t, mpitest.Must(t, env, mpidemo(3, "types")), particles)
	r := mpitest.Must(t, env, mpidemo(2, "types", "--count", "11"))
	if !strings.HasPrefix(r.Stdout, particles) || !strings.HasSuffix(r.Stdout, "\nparticle 10 10 5 -10 p10\n") {
		t.Fatalf("11 records:\n%s", r.Stdout)
	}
	checkParticles(t, mpitest.Must(t, env, mpidemo(2, "types", "--count", "0")), "")
}

// TestTypesWithC pairs a Go rank with csrc/mpi_particle.c, in both roles: the
// struct datatype built from the Go struct matches the C struct's.
func TestTypesWithC(t *testing.T) {
	peer := mpitest.App{N: 1, Argv: []string{testutil.BuildC(t, "mpi_particle", mpitest.CFlags(t)...)}}
	t.Run("go sends", func(t *testing.T) { checkParticles(t, mpitest.Must(t, env, mpidemo(1, "types"), peer), particles) })
	t.Run("go receives", func(t *testing.T) { checkParticles(t, mpitest.Must(t, env, peer, mpidemo(1, "types")), particles) })
}

// TestTypesWithPython pairs a Go rank with csrc/mpi_particle.py, whose
// datatype comes from an aligned numpy structured dtype, in both roles.
func TestTypesWithPython(t *testing.T) {
	if mpitest.Impl != "openmpi" {
		t.Skip("Debian's mpi4py is built against Open MPI")
	}
	py := mpitest.App{N: 1, Argv: []string{testutil.RequirePython(t, "mpi4py", "numpy"),
		filepath.Join(testutil.RepoRoot(), "csrc", "mpi_particle.py")}}
	t.Run("go sends", func(t *testing.T) { checkParticles(t, mpitest.Must(t, env, mpidemo(1, "types"), py), particles) })
	t.Run("go receives", func(t *testing.T) { checkParticles(t, mpitest.Must(t, env, py, mpidemo(1, "types")), particles) })
}

// TestTypesMalformed has an mpi4py rank 0 send 41 bytes: rank 1 must say that
// they are not whole particles, not crash.
func TestTypesMalformed(t *testing.T) {
	if mpitest.Impl != "openmpi" {
		t.Skip("Debian's mpi4py is built against Open MPI")
	}
	py := mpitest.App{N: 1, Argv: []string{testutil.RequirePython(t, "mpi4py", "numpy"), "-c",
		"from mpi4py import MPI; MPI.COMM_WORLD.Send([bytearray(41), MPI.BYTE], dest=1, tag=0)"}}
	r := mpitest.Run(t, env, py, mpidemo(1, "types"))
	if r.Err == nil || !strings.Contains(r.Stderr, "rank 0 sent 41 bytes, not a whole number of 40-byte particles") {
		t.Fatalf("41 bytes: %v\nstdout:\n%s\nstderr:\n%s", r.Err, r.Stdout, r.Stderr)
	}
}
