"""mpi_io.py: `mpidemo io` in mpi4py, a peer that writes and reads its files.

Rank r owns elements r*N .. r*N+N-1 of a global array of float64, element g
holding float64(g), in native byte order in the one file PATH of size*N*8
bytes, written or read collectively through a subarray view, as `mpidemo io`
does (see ../shared/CLI.md). Any rank of a job may be `mpidemo io` instead.
Run with Debian's /usr/bin/python3 under Open MPI (mpi4py's library):

    mpiexec -n 2 python3 csrc/mpi_io.py write PATH [N]
    mpiexec -n 1 python3 csrc/mpi_io.py read PATH [N] : -n 1 bin/mpidemo io read PATH
"""
import sys

import numpy as np
from mpi4py import MPI

verb, path = sys.argv[1], sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 1024
comm = MPI.COMM_WORLD
rank, size = comm.Get_rank(), comm.Get_size()
mine = np.arange(rank * n, rank * n + n, dtype=np.float64)
block = MPI.DOUBLE.Create_subarray([size * n], [n], [rank * n]).Commit()
mode = MPI.MODE_CREATE | MPI.MODE_WRONLY if verb == "write" else MPI.MODE_RDONLY
f = MPI.File.Open(comm, path, mode)
f.Set_view(0, MPI.DOUBLE, block, "native")
if verb == "write":
    f.Set_size(size * n * 8)
    f.Write_all(mine)
    f.Close()
else:
    fsize = f.Get_size()
    got = np.full(n, np.nan)
    f.Read_all(got)
    f.Close()
    # As mpidemo: the first element that is wrong or beyond the end of the
    # file, agreed with an Allreduce of int64 (MaxInt64 for none).
    g = np.arange(rank * n, rank * n + n)
    wrong = np.nonzero((got != mine) | ((g + 1) * 8 > fsize))[0]
    none = np.iinfo(np.int64).max
    first = np.array([rank * n + int(wrong[0]) if len(wrong) else none], dtype=np.int64)
    worst = np.zeros(1, dtype=np.int64)
    comm.Allreduce(first, worst, op=MPI.MIN)
    bad = int(worst[0])
    want = size * n * 8
    if bad == none and fsize == want:
        if rank == 0:
            print(f"ok {size * n} values", flush=True)
    elif bad == none:
        if rank == 0:
            sys.exit(f"mpi_io.py: {path}: {fsize} bytes, want {want} ({size} ranks of {n} values)")
        sys.exit(1)
    elif bad == first[0]:
        if (bad + 1) * 8 > fsize:
            sys.exit(f"mpi_io.py: {path}: element {bad} is missing (the file has {fsize} bytes, want {want})")
        sys.exit(f"mpi_io.py: {path}: element {bad} is {float(got[bad - rank * n])!r}, want {float(bad)!r}")
    else:
        sys.exit(1)
block.Free()
