package main

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/goipc/ipc/internal/cli"
	"github.com/goipc/ipc/mpi"
)

// particle has the layout of the C struct particle { int32_t id; double
// pos[3]; char name[8]; }: id at 0, pos at 8, name at 32, 40 bytes. Package
// mpi turns it into a struct datatype of that layout, once.
type particle struct {
	ID   int32
	Pos  [3]float64
	Name [8]byte
}

// maxParticles keeps "p" and the record's number within the 8 bytes of name.
const maxParticles = 10_000_000

func init() {
	var count int
	cmd := &cobra.Command{
		Use:   "types",
		Short: "Send records of a C struct from rank 0 to rank 1 as one message of a struct datatype",
		Long: `Rank 0 sends --count records of the C struct particle { int32_t id; double pos[3];
char name[8]; } (40 bytes, natural alignment) to rank 1 in one message of a
struct datatype built from the Go struct of the same layout. Record i has id
i, pos {i, i/2, -i} and name "p<i>". Rank 1 prints "particle ID X Y Z NAME"
for each (C's %g). Either rank may be csrc/mpi_particle.c or
csrc/mpi_particle.py; ranks above 1 take no part.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if count < 0 || count > maxParticles {
				return cli.Usagef("--count must be between 0 and %d, not %d", maxParticles, count)
			}
			return run(2, func(w *mpi.Comm) error { return types(w, count) })
		},
	}
	cmd.Flags().IntVar(&count, "count", 4, "number of records")
	rootCmd.AddCommand(cmd)
}

func types(w *mpi.Comm, count int) error {
	switch w.Rank() {
	case 0:
		ps := make([]particle, count)
		for i := range ps {
			x := float64(i)
			ps[i] = particle{ID: int32(i), Pos: [3]float64{x, x / 2, -x}}
			copy(ps[i].Name[:], "p"+strconv.Itoa(i))
		}
		return mpi.Send(w, ps, 1, 0)
	case 1:
		// The message says how many records it holds.
		st, err := mpi.Probe(w, 0, 0)
		if err != nil {
			return err
		}
		n := mpi.Count[particle](st)
		if n < 0 {
			return fmt.Errorf("rank 0 sent %d bytes, not a whole number of 40-byte particles", st.Bytes())
		}
		ps := make([]particle, n)
		if _, err := mpi.Recv(w, ps, 0, 0); err != nil {
			return err
		}
		for _, p := range ps {
			name, _, _ := bytes.Cut(p.Name[:], []byte{0})
			// %.6g is C's %g, which the C and Python ranks print.
			fmt.Fprintf(cli.Stdout, "particle %d %.6g %.6g %.6g %s\n", p.ID, p.Pos[0], p.Pos[1], p.Pos[2], name)
		}
	}
	return nil
}
