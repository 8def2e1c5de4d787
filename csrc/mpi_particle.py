"""mpi_particle.py: the mpi4py twin of `mpidemo types` (and csrc/mpi_particle.c).

    mpi_particle.py [--count N]

Rank 0 sends N records of the C struct particle { int32_t id; double pos[3];
char name[8]; } to rank 1 as one message of a struct datatype, built from the
aligned numpy structured dtype of the same layout; rank 1 prints
"particle ID X Y Z NAME" for each record the message holds.
"""
import argparse
import sys

import numpy as np
from mpi4py import MPI

PARTICLE = np.dtype([("id", np.int32), ("pos", np.float64, 3), ("name", "S8")], align=True)
assert PARTICLE.itemsize == 40 and PARTICLE.fields["pos"][1] == 8 and PARTICLE.fields["name"][1] == 32


def particle_type():
    """The struct datatype of PARTICLE, resized to its 40 bytes."""
    offsets = [PARTICLE.fields[f][1] for f in ("id", "pos", "name")]
    st = MPI.Datatype.Create_struct([1, 3, 8], offsets, [MPI.INT32_T, MPI.DOUBLE, MPI.CHAR])
    t = st.Create_resized(0, PARTICLE.itemsize)
    st.Free()
    return t.Commit()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=4)
    count = parser.parse_args().count
    comm = MPI.COMM_WORLD
    if comm.Get_size() < 2:
        sys.exit("mpi_particle.py: needs at least 2 ranks")
    t = particle_type()
    if comm.Get_rank() == 0:
        ps = np.zeros(count, dtype=PARTICLE)
        i = np.arange(count, dtype=np.float64)  # -i is -0.0 for record 0, as in Go and C
        ps["id"] = i
        ps["pos"] = np.stack([i, i / 2, -i], axis=1)
        ps["name"] = [b"p%d" % k for k in range(count)]
        comm.Send([ps, count, t], dest=1, tag=0)
    elif comm.Get_rank() == 1:
        status = MPI.Status()
        comm.Probe(source=0, tag=0, status=status)
        ps = np.zeros(status.Get_count(t), dtype=PARTICLE)
        comm.Recv([ps, len(ps), t], source=0, tag=0)
        out = "".join("particle %d %g %g %g %s\n" % (p["id"], *p["pos"], p["name"].decode()) for p in ps)
        sys.stdout.write(out)  # one write: ranks share the output
        sys.stdout.flush()
    t.Free()


main()
