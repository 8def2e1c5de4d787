"""mpi_types.py: rank 1 of a job whose rank 0 is Go (package mpi's tests).

Receives [a, b, c] as each MPI datatype in turn, with the numpy type that
matches it, and sends back the values doubled (negated for MPI_C_BOOL), so a
wrong Go-to-MPI type mapping shows up as wrong values or counts on one side.
Then joins an Allreduce to show the two languages share MPI_COMM_WORLD.
"""
import sys

import numpy as np
from mpi4py import MPI

comm = MPI.COMM_WORLD
TYPES = [
    ("int8", np.int8, MPI.INT8_T), ("int16", np.int16, MPI.INT16_T),
    ("int32", np.int32, MPI.INT32_T), ("int64", np.int64, MPI.INT64_T),
    ("uint8", np.uint8, MPI.UINT8_T), ("uint16", np.uint16, MPI.UINT16_T),
    ("uint32", np.uint32, MPI.UINT32_T), ("uint64", np.uint64, MPI.UINT64_T),
    ("float32", np.float32, MPI.FLOAT), ("float64", np.float64, MPI.DOUBLE),
    ("complex64", np.complex64, MPI.C_FLOAT_COMPLEX), ("complex128", np.complex128, MPI.C_DOUBLE_COMPLEX),
    ("bool", np.bool_, MPI.C_BOOL),
]

for name, dtype, mpitype in TYPES:
    buf = np.zeros(3, dtype=dtype)
    status = MPI.Status()
    comm.Recv([buf, mpitype], source=0, tag=1, status=status)
    assert status.Get_count(mpitype) == 3, (name, status.Get_count(mpitype))
    reply = np.logical_not(buf) if dtype is np.bool_ else buf * 2
    comm.Send([reply, mpitype], dest=0, tag=2)
    sys.stdout.write(f"python ok {name}\n")  # one write: ranks share the output
    sys.stdout.flush()

total = np.zeros(1, dtype=np.int64)
comm.Allreduce([np.array([40], dtype=np.int64), MPI.INT64_T], [total, MPI.INT64_T], op=MPI.SUM)
assert total[0] == 42, total
