"""mpi_classic.py: the classic mpi4py example, a peer for `mpidemo`.

Rank 1 draws a random number and sends it to rank 0 as one MPI_DOUBLE with
tag 0. Run with Debian's /usr/bin/python3 under Open MPI (mpi4py's library):

    mpiexec -n 1 python3 csrc/mpi_classic.py : -n 1 bin/mpidemo
"""
import random
import sys

import numpy as np
from mpi4py import MPI

comm = MPI.COMM_WORLD
rank = comm.Get_rank()
if comm.Get_size() < 2:
    sys.exit("mpi_classic.py: needs at least 2 ranks")


def say(line):
    """Print line with one write: print() writes the newline apart when
    unbuffered (PYTHONUNBUFFERED), and mpiexec can put another rank's line
    between the two."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


buf = np.zeros(1)
if rank == 0:
    say(f"Process 0 before receiving has the number {float(buf[0])!r}")
    comm.Recv([buf, MPI.DOUBLE], source=1, tag=0)
    say(f"Process 0 received the number {float(buf[0])!r}")
elif rank == 1:
    buf[0] = random.random()
    say(f"Process 1 drew the number {float(buf[0])!r}")
    comm.Send([buf, MPI.DOUBLE], dest=0, tag=0)
