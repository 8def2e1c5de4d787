"""mpi_latency.py: `mpidemo pingpong` in mpi4py, for the latency of Python
beside Go and C (csrc/mpi_bench.c). Same flags, protocol and output:

    mpiexec -n 2 /usr/bin/python3 csrc/mpi_latency.py [--sizes LIST] [--iters N]
"""
import argparse

import numpy as np
from mpi4py import MPI


def size(text):
    for suffix, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if text.endswith(suffix):
            return int(text[: -len(suffix)]) * scale
    return int(text)


parser = argparse.ArgumentParser()
parser.add_argument("--sizes", default="8,64,512,4KiB,32KiB,256KiB,1MiB",
                    type=lambda v: [size(f) for f in v.split(",")])
parser.add_argument("--iters", type=int, default=10000)
args = parser.parse_args()

comm = MPI.COMM_WORLD
rank = comm.Get_rank()
if rank == 0:
    print(f"# mpi_latency.py pingpong: Python mpi4py {MPI.Get_library_version().split(',')[0]}")
    print(f"# {'size (B)':<10} {'latency (us)':>14}")
if rank < 2:
    buf = np.zeros(max(args.sizes), dtype=np.uint8)
    for n_bytes in args.sizes:
        msg = [buf[:n_bytes], MPI.UINT8_T]
        n = max(args.iters // 10, 10) if n_bytes > 64 << 10 else args.iters
        for i in range(n + n // 10):
            if i == n // 10:
                start = MPI.Wtime()
            if rank == 0:
                comm.Send(msg, dest=1, tag=1)
                comm.Recv(msg, source=1, tag=1)
            else:
                comm.Recv(msg, source=0, tag=1)
                comm.Send(msg, dest=0, tag=1)
        if rank == 0:
            print(f"{n_bytes:<12} {(MPI.Wtime() - start) * 1e6 / (2 * n):14.2f}", flush=True)
