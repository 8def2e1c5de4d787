package bench

// MPIConfig says where the MPI programs are.
type MPIConfig struct{ Bin, Csrc string }

type launcher struct{ name string }

func (c MPIConfig) launchers() []launcher { return nil }
func (l launcher) version() string        { return "" }
