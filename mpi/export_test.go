package mpi

// Crossing is crossing, for the benchmarks of package mpi_test.
func Crossing() { crossing() }
