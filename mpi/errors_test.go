package mpi

import "testing"

// TestOneLine checks the shortening of MPICH's error stacks, whose innermost
// line may only repeat the summary.
func TestOneLine(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"MPI_ERR_TRUNCATE: message truncated", "MPI_ERR_TRUNCATE: message truncated"},
		{"Invalid rank, error stack:\nPMPI_Send(157): MPI_Send(buf=0x1, count=1, MPI_INT8_T, dest=3, tag=0, MPI_COMM_WORLD) failed\nPMPI_Send(95).: Invalid rank has value 3 but must be nonnegative and less than 1",
			"Invalid rank (Invalid rank has value 3 but must be nonnegative and less than 1)"},
		{"Message truncated, error stack:\nPMPI_Wait(204)........: MPI_Wait(request=0x7ffd, status=0x7ffe) failed\nMPIR_Wait_impl(41)....: \nMPIDIG_recv_type_init(77): Message truncated\n",
			"Message truncated"},
		{"Other MPI error, error stack:\nMPIR_Barrier(100): ", "Other MPI error"},
	} {
		if got := oneLine(c.in); got != c.want {
			t.Errorf("oneLine(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
