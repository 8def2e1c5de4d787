// Package mpi is a Go binding for MPI, the Message Passing Interface, over
// Open MPI (the default, pkg-config ompi-c) or MPICH (build with -tags mpich,
// pkg-config mpich). Programs built with it run under mpiexec, next to C and
// Python (mpi4py) ranks in the same job.
//
// # Mapping to C
//
// Each exported function is one MPI call: Init is MPI_Init_thread, Send is
// MPI_Send, Allreduce is MPI_Allreduce, and so on, named in each doc comment.
// Communicators, groups, requests, matched messages and operators are Go
// types (Comm, Group, Request, Message, Op) that hold the C handle
// unexported; no C type appears in the API. The predefined handles
// (MPI_COMM_WORLD, MPI_INT8_T, MPI_SUM...) are pointers in Open MPI and
// integers in MPICH, so a small C file (shim.c) turns them into globals that
// the Go code reads the same way for both.
//
// Data travels as Go slices whose element type maps to a predefined MPI
// datatype (see Type): []int8 is MPI_INT8_T, []int is MPI_INT64_T, []complex128
// is MPI_C_DOUBLE_COMPLEX, and so on, so a C or Python peer using the matching
// type sees the same values. Slices are passed to MPI in place, without
// copying: a blocking Send or Recv does not allocate.
//
// # Derived datatypes
//
// A slice of structs or fixed-size arrays travels the same way: []Particle
// goes through Send, Recv, Bcast, Gather, Isend and the rest like []float64.
// The first call that meets a struct type builds its MPI struct datatype by
// reflection, with every field at its Go offset (nested arrays and structs
// included, padding left out) and the extent of the Go struct, which is the
// layout of the C struct with the same fields; a C rank declaring that struct
// or a numpy structured dtype with align=True sees the same records. The
// datatype is committed, cached for the life of MPI and found again, as a
// predefined type is, by one lookup keyed by the Go type's descriptor, so no
// call after the first reflects over the type and a struct costs what
// float64 costs, however many types were met (BenchmarkTypeIndex, no
// allocation); BenchmarkStructSend compares a ProcNull Send of one struct
// with one of five float64. A field tagged `mpi:"-"` is left out (and left
// alone by a receive); a field MPI cannot describe (pointer, slice, string,
// map, channel, function, interface) makes every call on the type fail with
// an ErrType error that names it, tagged or not: cgo forbids passing C
// memory that holds Go pointers, so `mpi:"-"` skips only plain data (a
// local counter, a cache), never a string or a slice.
//
// Layouts a slice's element type does not give come from datatypes built
// by hand, as in C: Contiguous, Vector, Hvector, Indexed, Hindexed,
// IndexedBlock, Subarray (C or Fortran order), Struct and Resized, from
// TypeOf's datatypes or each other; one whose elements would span more than
// 2⁶³ bytes, where MPI's displacement arithmetic wraps, is refused (ErrArg).
// A Buf lays count elements of one over a
// slice (mpi4py's [array, count, datatype]), after checking that every byte
// they touch lies inside the slice; SendBuf, RecvBuf, SendrecvBuf, IsendBuf,
// IrecvBuf and BcastBuf take it, and NeighborAlltoallw takes a Block per
// neighbor.
//
// # Topologies
//
// CartCreate arranges a communicator's processes in a grid (DimsCreate
// balances it), with CartCoords, CartRank, CartShift (ProcNull past an open
// edge, where Sendrecv does nothing) and CartSub; DistGraphCreateAdjacent
// and GraphCreate give graphs. The neighbor collectives (NeighborAllgather(v),
// NeighborAlltoall(v/w) and their I forms) exchange along the topology.
// Where one process is a neighbor twice (a periodic dimension of two
// processes), Open MPI 4.1's nonblocking forms swap the blocks of the two
// directions, from C as well: on a 2x2 grid periodic in dimension 0, rank
// 0's NeighborAlltoall of [10 11 12 13] received [11 10 0 12] and its
// IneighborAlltoall [10 11 0 12]; MPICH 4.0.2 gave [11 10 0 12] for both.
//
// # Lifetimes
//
// Init must come first and Finalize last; MPI cannot be restarted, and calls
// outside that window return an error matching os.ErrClosed (the few that
// return no error say what they return instead: Rank is Undefined and Size 0
// before Init, Count and Bytes are Undefined and Wtime 0 outside the window).
// Communicators from Dup, Split, SplitType and Create, groups, and operators
// from NewOp belong to the caller, who releases them with Free (nil-safe,
// idempotent; after Finalize it returns an error matching os.ErrClosed). A
// nil or zero handle (a Comm{}, Request{}, Group{}...) is refused with an
// error matching os.ErrInvalid; a freed one, with os.ErrClosed.
//
// The buffer of a nonblocking call (Isend, Irecv) is pinned with
// runtime.Pinner and belongs to MPI until its Request completes (Wait,
// WaitContext, Test, WaitAll, WaitAny, TestAll): it must not be touched
// until then. The contract for a Request:
//
//   - A completed Request is inert: completing it again returns at once, with
//     an empty Status (Source AnySource, Tag AnyTag, no bytes), and never
//     reaches MPI. WaitAll, WaitAny and TestAll refuse a list that holds an
//     unfinished Request twice, before the call.
//   - Free (MPI_Request_free) releases a Request; afterwards its methods return
//     errors matching os.ErrClosed. Freeing an unfinished one gives up its
//     result: MPI finishes the operation by itself, and its buffer stays
//     pinned and MPI's until Finalize. An unfinished nonblocking collective
//     can be neither freed nor cancelled (the standard forbids both), nor
//     can an unfinished one-sided (Rput...) or file (Iwrite...) request.
//   - A Request dropped before it completes is kept by the package, with its
//     buffer, because MPI may still write into it: it is never garbage
//     collected and the collector never finds it pinning. Finalize then tests
//     it, and if MPI has not finished it, refuses with an error matching
//     ErrPending that names it ("a receive from rank 1 tag 31"), leaving MPI
//     running. A program that forgets a Request therefore learns of it at
//     Finalize, not as a crash inside the garbage collector.
//   - When WaitContext's context ends, a receive is cancelled and complete
//     when it returns; a send that MPI cannot cancel (Open MPI cancels none)
//     is left active, with the cancellation requested, for the caller to
//     Wait, Test or Free (see Request.WaitContext).
//
// Each Isend and Irecv allocates its Request. IsendInto and IrecvInto start
// the operation in a Request the caller owns instead, as MPI_Isend does in
// C with the caller's MPI_Request: it must be inactive, new (the zero
// Request) or completed, and becomes active again; one still active is
// refused (EINVAL), as are a nil one (os.ErrInvalid) and a freed one
// (os.ErrClosed), and the refusal leaves it and its operation untouched.
// Starting a completed Request again is the caller's explicit step, so "done
// is done" holds until then; a loop of one message at a time keeps one
// Request and allocates nothing. A loop that starts operations round after
// round uses a Requests set instead, which the caller owns and
// reuses: AddIsend and AddIrecv start operations in it, Requests.WaitAll
// completes the round, and no handle to a single operation leaves the set, so
// none can be used after its round; a round allocates nothing and pins a
// shared buffer once. A set dropped with operations unfinished is kept, and
// reported by Finalize, as a Request is. Requests.CancelAll cancels a
// round's operations (MPI_Cancel), for a WaitAll to complete: the way out of
// receives that no message will match.
//
// A loop that sends the same messages round after round, as a bandwidth
// window or a halo exchange does, sets them up once in a Persistents set
// (MPI_Send_init and MPI_Recv_init through AddSendInit and AddRecvInit) and
// runs each round with StartAll (MPI_Startall) and WaitAll (MPI_Waitall):
// one call each, whatever the number of operations, as C does with an array
// of requests. Its buffers are MPI's, and pinned, from the Add call to Free;
// the caller touches them only between WaitAll and the next StartAll. A set
// in a round refuses StartAll, Add and Free (EINVAL); a set never freed is
// freed by Finalize, which refuses to run while one is in a round, unless
// Persistents.CancelAll has cancelled its operations and WaitAll ended it.
//
// An Isend of at most 256 bytes copies the message into C memory in the call
// and MPI sends the copy, so its buffer needs no pin; the contract stays the
// standard's (the buffer is MPI's until the Request completes). RecvContext
// uses Requests of the package's own, which never leave the call, and
// allocates nothing.
//
// The nonblocking collectives (Ibarrier, Ibcast, Iallreduce...) return a
// Request too, which pins every buffer of the operation, and for the v and
// w forms the count, displacement and datatype arrays that MPI reads during
// the operation, until it completes. A Persistent (SendInit, RecvInit, and
// the persistent collectives such as AllreduceInit) owns its buffer from the
// Init call to Free: the caller may touch it only between a round's
// completion (Wait, Test) and the next Start. A Persistent never freed stays
// allocated and pinned until Finalize, which refuses to run while one is in a
// round (ErrPending, naming it) and frees the others; Persistent.Cancel ends
// a round of a send or receive that would never complete.
//
// Datatypes built by hand (Contiguous, Vector...) belong to the caller, who
// frees them with Free (nil-safe, idempotent; MPI keeps a datatype that
// pending operations use until they complete). TypeOf's datatypes belong to
// the package, which frees them in Finalize.
//
// # One-sided communication
//
// A window (Win) holds elements of the one type T it was made for, and its
// displacements count elements of T. WinCreate pins the caller's slice
// (runtime.Pinner) until Free: other ranks read and write it, so this rank
// touches it only as the epochs allow. WinAllocate and WinAllocateShared
// return MPI's memory as a []T, and SharedQuery another node rank's part:
// these slices are valid until Free, and using one after it reads freed
// memory, as in C. Put, Get, Accumulate, GetAccumulate, FetchAndOp and
// CompareAndSwap may complete only when the epoch does (Fence, Unlock,
// UnlockAll, Complete, or Flush and FlushAll inside a lock): until then
// their origin and result buffers are MPI's, and the window keeps them
// pinned, releasing them at the first synchronisation that completes every
// operation (a long passive-target epoch accumulates pins, one per buffer
// per operation, until FlushAll, FlushLocalAll or its end; Flush and
// FlushLocal of a rank release them only when every pending operation was
// to that rank). Free is collective; a second Free returns nil
// at once and any other call on a freed window an error matching
// os.ErrClosed. Free inside this process's passive-target epoch (before
// Unlock or UnlockAll) is refused with ErrRMASync, as MPICH does, where Open
// MPI freed the window under operations in flight. A window never freed
// keeps its memory until Finalize.
//
// Each window returns errors (MPI_ERRORS_RETURN). A target rank outside the
// window's group or elements outside the target's window (every rank's
// length is gathered when the window is made) are refused before MPI with
// ErrRank or ErrRMARange, as is an element type other than the window's; an
// operation or synchronisation outside its epoch is reported by both
// libraries as ErrRMASync. An accumulate with MinLoc or MaxLoc on
// Loc[float64] or Loc[int64], for which Open MPI 4.1's one-sided components
// end the job whatever the error handler (from C as well), returns an error
// matching ErrNotSupported there. Open MPI 4.1 picks its osc rdma component, which
// without the CMA single-copy mechanism (forbidden in containers) fails
// MPI_Win_create with ErrWin; OMPI_MCA_osc=sm,pt2pt selects the shared-memory
// and message-based components instead, and pt2pt refuses ThreadMultiple.
//
// A dynamic window (WinCreateDynamic) has no memory until each process
// attaches some: Attach pins a Go slice (runtime.Pinner) until Detach or
// Free and returns its address, an Addr, which is an int64 that ranks
// exchange like any other value (Allgather of a []Addr). A displacement into
// a dynamic window is such an address, and Disp gives the one of an element
// i places further. Only the target knows what it attached, so the origin
// checks no range; neither library checks either, nor reports a Detach of
// memory never attached: Detach refuses, with ErrRMAAttach, a slice that
// Attach did not take, as Attach does one that overlaps attached memory, but
// an origin that still uses the address of detached memory writes into
// whatever is there now, as in C. Detach only once the origins are done.
//
// Raccumulate and RgetAccumulate are Accumulate and GetAccumulate that
// return a Request, as Rput and Rget do: only inside a passive-target epoch
// (refused outside with ErrRMASync, where Open MPI's osc pt2pt would leave a
// request that never completes), with their buffers pinned by the Request
// until it completes. PutBuf, GetBuf and AccumulateBuf take a Buf at the
// origin and a Target (rank, displacement, count and datatype) at the
// target, so that either side may be a derived datatype: a column of a
// matrix, one field of every struct of a window; every byte the Target
// touches must lie in the target's window (ErrRMARange, checked before MPI
// except in dynamic windows), and both sides must carry as many bytes of
// data (ErrType).
//
// WinCreate and WinAllocate learn the other ranks' lengths with an
// Allgather of their own on the communicator, which a C rank making the same
// window does not join: such windows are for jobs of Go ranks only.
// WinAllocateShared reads the lengths with MPI_Win_shared_query and
// WinCreateDynamic needs none, so a C rank and a Go rank share those
// (TestRMASharedWithC: each loads and stores the other's part).
//
// Put, Get and Flush are one cgo call each, through C wrappers that check
// the thread and take nothing cgo inspects, as Send does; with the pin of
// the origin and its release at Flush, a Put and Flush of 8 bytes cost
// about 0.2µs from Go against 0.02-0.03µs from C on Open MPI's osc sm, where
// the operation itself is a memcpy (BenchmarkRMA, on a loaded machine).
// Loads of a shared window's []T run at the speed of plain memory:
//
//	go test -run '^$' -bench RMA -benchtime 1x ./mpi
//
// # Parallel I/O
//
// Open opens a file on every process of a communicator (MPI_File_open,
// collectively), with typed access modes (ModeCreate|ModeReadWrite...,
// checked before MPI) and optional Info hints; a file it creates gets mode
// 0600. A File's view (SetView) is a displacement, an etype and a filetype,
// any committed datatype of the package (TypeOf, Subarray, Vector, Resized,
// Struct...), and a data representation (Native, the bytes numpy.fromfile
// reads; Internal; External32). Offsets and counts count etypes of the view:
// bytes until SetView. The data calls are generic over []T, as the
// point-to-point ones, and return how many elements they moved: Read, Write,
// ReadAt, WriteAt (independent), ReadAll, WriteAll, ReadAtAll, WriteAtAll
// (collective, letting MPI merge the processes' pieces), ReadShared,
// WriteShared, ReadOrdered, WriteOrdered (the shared file pointer), and the
// nonblocking Iread, Iwrite, IreadAt, IwriteAt, IreadAll, IwriteAll,
// IreadAtAll, IwriteAtAll, whose Request pins the buffer until it completes,
// as Isend's does. Both Open MPI 4.1 and MPICH 4.0 have every one of these
// (the nonblocking collective forms are MPI 3.1's). Seek, SeekShared, Size,
// SetSize, Preallocate, Sync, SetAtomicity, Atomicity and Info complete the
// set; Delete deletes a file. ReaderAt and WriterAt make a File an
// io.ReaderAt and io.WriterAt for independent byte I/O.
//
// Close is collective and refuses (ErrPending) while a nonblocking operation
// on the file is unfinished, as the standard requires; a second Close returns
// nil, and every call on a nil, zero or closed File returns an error matching
// os.ErrClosed (nil and zero ones match os.ErrInvalid too). Closing is
// collective, so no finalizer can do it: a File never closed is closed by
// Open MPI's Finalize (which deletes a ModeDeleteOnClose file) and left to
// the end of the process by MPICH's (which leaves such a file behind).
// Files return errors (MPI-IO's default, which Open
// sets again on each File); the MPI-IO classes are named (ErrNoSuchFile,
// ErrAccess, ErrAmode...), and the errors that say a file is missing,
// exists or may not be accessed also match fs.ErrNotExist, fs.ErrExist and
// fs.ErrPermission. Negative offsets and sizes, a read of a write-only file,
// a write of a read-only one, explicit offsets or seeks on a ModeSequential
// file, uncommitted view datatypes and counts beyond MPI's int are refused
// before MPI.
//
// A read that starts at or past the end of the file returns 0 elements and a
// nil error. Where the libraries stray from that: Open MPI 4.1's MPI-IO
// component (ompio) never completes a nonblocking read that meets the end of
// the file, from C as well, so do not start one there under Open MPI; and a
// collective read that meets the end may report the count it asked for
// (ompio with more than two ranks, MPICH's ROMIO with more than one), as may
// ROMIO's independent read of a struct type with padding, so use Size to
// learn how much the file holds. SeekShared returns no position: right
// after it, MPI_File_get_position_shared gave ranks other than 0 a wrong one
// under both libraries in the tests, though the pointer itself was right.
//
// # Dynamic processes and intercommunicators
//
// CommSpawn and CommSpawnMultiple start new processes (MPI_Comm_spawn,
// MPI_Comm_spawn_multiple), Go programs or any other MPI program such as a C
// one, and return an intercommunicator whose remote group they are; the
// children find it with CommGetParent, which returns nil in a process that
// mpiexec started, and the same *Comm on every call. IntercommCreate joins
// two disjoint groups of one job, IntercommMerge makes an intracommunicator
// of both groups, and RemoteSize, RemoteGroup and IsInter describe one.
// OpenPort, CommAccept and CommConnect join two jobs, which pass the port
// name out of band or through PublishName and LookupName. Disconnect
// (MPI_Comm_disconnect) waits for pending communication and ends the
// connection, after which each side finalizes on its own; the
// intercommunicators these calls make, the parent's included (which MPI
// gives MPI_ERRORS_ARE_FATAL), return errors.
//
// On an intercommunicator, Rank and Size are the local group's and
// point-to-point calls name ranks of the remote group; Barrier, Dup, Split,
// Create, Compare, Group, attributes and names work too. The collectives
// that move data, whose buffers MPI sizes by the remote group and whose
// roots are MPI_ROOT or MPI_PROC_NULL, and the calls MPI defines only on
// intracommunicators (topologies, windows, Scan, SplitType, spawning)
// refuse one before MPI with an ErrComm error matching syscall.EINVAL:
// merge it first.
//
// The arguments that count only at the root (the programs of a spawn, the
// port of an accept or connect) are checked at the root: maxprocs at least
// 1, a command that exec.LookPath finds (unless Info sets "wdir" or
// "path"), no NUL bytes. The root broadcasts its verdict over the
// communicator first, one Bcast per call, so that every rank returns the
// same error: otherwise the other ranks wait in MPI forever (both
// libraries, for a negative maxprocs), and Open MPI ends the whole job
// for a command that does not exist (an error matching fs.ErrNotExist
// here). CommSpawn returns one error per child, nil for each that started.
// A child that fails once started is the runtime's business: Open MPI
// ends the parents' job too ("Child job 2 terminated normally, but 1
// process returned a non-zero exit code"). Open MPI 4.1 also waits forever
// for slots when the children need more than the machine has, unless
// oversubscription is allowed (mpiexec --oversubscribe,
// OMPI_MCA_rmaps_base_oversubscribe=1, or Info "map_by" ":OVERSUBSCRIBE" on
// the spawn). CommAccept holds its thread until a client connects, and MPI
// cannot cancel it.
//
// What the libraries do here: Open MPI 4.1 spawns, from a singleton too,
// and connects ports inside one mpiexec's processes. Between two mpiexec
// runs it needs an ompi-server that both reach (ompi-server -r FILE, then
// mpiexec --ompi-server file:FILE, or OMPI_MCA_pmix_server_uri=file:FILE);
// without one, MPI_Comm_connect fails with MPI_ERR_INTERN after Open MPI
// prints that accept/connect "that spans multiple invocations of mpirun"
// requires it, and the server's CommAccept waits forever. MPICH 4.0.2 as
// Debian builds it (the ch4:ucx device) has no dynamic processes:
// MPI_Open_port fails with "The function is currently not supported with
// ucx netmod", and MPI_Comm_spawn, which opens a port first, with "Error in
// spawn call". Every rank finds that by itself, and CommSpawn,
// CommSpawnMultiple, OpenPort, CommAccept, CommConnect and the name calls
// return an error matching ErrNotSupported that quotes MPICH.
// IntercommCreate and IntercommMerge work with both libraries.
//
// # Threads and goroutines
//
// MPI's rules are about OS threads, and Go moves goroutines between them.
// Init locks the calling goroutine to its OS thread (runtime.LockOSThread)
// until Finalize, which must be called from the same goroutine, so that MPI
// finalizes on the thread that initialised it, as the standard asks. Init
// asks for a thread level and reports the one provided:
//
//   - ThreadSingle or ThreadFunneled: only the goroutine that called Init may
//     call MPI. Call Init from main and keep the MPI work there, or funnel
//     requests to it over a channel. A call from any other goroutine (so from
//     another thread) returns an error matching syscall.EINVAL, as
//     MPI_Is_thread_main would say, instead of breaking MPI's rules: the
//     point-to-point and completion calls check a thread-local flag in C,
//     the others make one more cgo call.
//   - ThreadSerialized: any goroutine may call MPI, one call at a time (guard
//     the calls with a mutex).
//   - ThreadMultiple: any goroutine, concurrently. Open MPI and MPICH as
//     packaged by Debian provide it.
//
// A blocking call (Recv, Wait, a collective) holds its OS thread while MPI
// polls for progress, as it would in C. RecvContext and Request.WaitContext
// instead test the request (MPI_Test) a hundred times, then sleep between
// tests with a backoff from 10µs to 1ms, so a long wait costs neither a core
// nor a thread; when the context ends they cancel the request (MPI_Cancel)
// and return the context's error, at once even for a send that MPI cannot
// cancel (see Lifetimes): a passed deadline matches os.ErrDeadlineExceeded,
// as in the other packages, and context.DeadlineExceeded. MPI has no way to interrupt MPI_Recv itself.
//
// # Errors
//
// Init sets MPI_ERRORS_RETURN on World and Self (communicators made from them
// inherit it), so a failing call returns an *Error carrying the MPI error
// class and the library's message instead of aborting the job; errors.Is(err,
// mpi.ErrTruncate) tests the class. Bad input (buffer lengths that disagree with each other or with the
// communicator's size, counts beyond MPI's int range, ranks and tags outside
// int32 and tags above TagUB, which a C int would silently wrap, send and
// receive buffers that overlap, an operator made for another type or a
// predefined one MPI does not define on it, an element
// type MPI cannot describe, a Buf or Block reaching outside its slice, a call
// from the wrong thread) is caught before the call: such errors also match
// syscall.EINVAL. To work in place, a collective takes InPlace[T]() as the
// buffer MPI_IN_PLACE replaces (see InPlace). A call the library does not
// provide returns an error matching ErrNotSupported.
//
// Arguments that count only at a collective's root (such as the counts and
// displacements of Gatherv and Scatterv) are checked only at the root: a
// root that refuses them returns its error at once while the other ranks
// wait in the collective for it, as they would in C (a Scatterv given nil
// counts at the root hung the other ranks under both libraries). Only the
// spawn and port calls broadcast the root's verdict (see "Dynamic processes
// and intercommunicators"); the collectives do not, as it would cost each
// call a broadcast.
//
// Init's MPI_ERRORS_RETURN can be changed per communicator:
// SetErrorMode(ErrorsFatal) makes MPI abort the job on any error of that
// communicator's calls, as C programs usually run. Comm.Attr reads the
// attributes MPI predefines on World (TAG_UB, HOST, IO, WTIME_IS_GLOBAL,
// UNIVERSE_SIZE, APPNUM); SetName and Name name communicators; Info objects
// (NewInfo, freed with Free) carry hints.
//
// # Limits
//
// Counts are C ints: a single buffer holds at most 2³¹-1 elements. NewOp can
// have 32 operators alive at once, as MPI's user function has no context
// argument and each needs a C trampoline of its own, and they work only in
// the blocking reductions. At most 1005 struct and array types can travel
// in one process (the table of datatypes that the C wrappers index).
//
// The persistent collectives are MPI 4.0's: MPICH 4 has them, and Open MPI
// 4.1 has them as MPIX_ functions of its pcollreq extension, which this
// package uses (PersistentCollectives reports it). MPICH 4.0.2's
// MPI_Allgather_init gathers stale values after its first round, from C as
// well.
//
// MPICH 4.0.2 can misplace a Put to a process's own WinCreate window when
// the origin lies just below the window in memory: a C program whose 8-byte
// origin and 8-byte window are neighbours in one allocation, with a
// collective between MPI_Win_create and the Put, fails its assertion
// "memcpy argument memory ranges overlap" (the destination it computes is
// the origin), and from Go, where the allocator puts two 8-byte objects
// next to each other, the value often did not land (31 runs of 70).
//
// # Performance
//
// A blocking Send or Recv is one cgo call straight into MPI_Send or MPI_Recv,
// through a C wrapper that checks the thread (shim.h): it does not poll, lock
// threads, allocate or pass through the Go scheduler. What Go adds is that
// crossing (runtime.cgocall and its two atomic state changes, about 21ns on
// a quiet machine, 28ns on a loaded one) and a few nanoseconds of argument
// checks. The wrappers take the buffer as uint8_t *, the datatype as an
// index and the communicator and request addresses as integers or uint8_t *,
// so that cgo does not look for Go pointers behind them on every call (an
// Open MPI handle is a C pointer: looking 64 of them up cost a WaitAll of 64
// more than its MPI work). The checks are one pass that returns two words,
// and Recv, Wait and Test have MPI write the status into their result: a
// struct of six arguments returned through memory, and a Status built in a
// temporary and copied, each stalled the processor on a failed
// store-to-load forward (perf annotate), 5-10ns a call. The wrappers whose
// pointers do not escape return nothing and store MPI's code through a
// pointer: for a C function that returns a value, cgo's wrapper asks the
// runtime for the top of the goroutine's stack before and after the call
// (_cgo_topofstack, twice), which with the wrapper took 10% of a loop of
// Sends to ProcNull under perf, 2.7% after. An Isend also
// allocates its Request and, above 256 bytes, pins its buffer (the runtime
// takes a lock to pin and to unpin), which Requests pays once per round for
// a shared buffer and Persistents once for its life.
// BenchmarkProcNull measures these calls to ProcNull beside a cgo call that
// does nothing and the same calls from C, and reports what Go adds in
// crossings. Five runs of each library (a crossing 23-24ns) spread by 0.07
// crossings or less per row; in three runs that alternated with the
// version before, Send added 1.20-1.23 crossings (Open MPI; 1.36-1.39
// before) and 1.19 (MPICH; 1.34-1.42), Recv 1.30 (1.51-1.52) and 1.25-1.29
// (1.47-1.52; C passes MPI_STATUS_IGNORE), IsendInto + Wait 2.78-2.85 for
// its two calls (3.18-3.21) and 2.79-2.89 (3.16-3.29). The change: the calls
// on a message's path count themselves towards the next look at the clock
// in their C wrapper, a relaxed load and store, where sched.CallDue's atomic
// Store is an xchg that waited for the crossing's stores to drain (check 13%
// of a loop of Sends under perf, 86% of it on that instruction):
//
//	go test -run '^$' -bench ProcNull -benchtime 1x ./mpi
//
// T's datatype is found by comparing T's type word with those of the common
// element types (byte, float64, int32, int64, float32, int) before the
// table of the others: a type switch jumped through a table on the type's
// hash, which stalled after every cgo call (typeIndex 11.7% of the samples
// of the Send loop, 6.3% with the compares). Those compares (commonIndex)
// and the argument checks (p2pOK) make no call, so they inline into Send,
// Recv, Isend, Irecv and the Requests adds, which call p2pType only when
// they fail: the call to p2pType, and p2pType's to typeIndex, made each
// keep its arguments on the stack across them (the package's share of a
// Send loop 17.5% before, 12% after). In BenchmarkProcNull, three runs of
// each library that alternated with the version before (load average 6-8,
// a crossing 24-28ns), Send added 0.99-1.14 crossings (Open MPI; 1.30-1.41
// before) and 1.06-1.29 (MPICH; 1.21-1.36), Recv 1.06-1.29 (1.75-1.77)
// and 1.09-1.31 (1.18-1.39), IsendInto + Wait 2.57-2.94 (2.69-2.96) and
// 2.31-2.96 (2.86-2.98); four more at load average 7-20 spread wider (Send
// 1.00-1.26 against 0.92-1.84, Open MPI; 1.10-1.74 against 1.15-1.37,
// MPICH). What perf shows of
// each call alone now (Open MPI, load average 12-16):
//
//	GOIPC_PROCNULL_ONLY=send perf record -e cpu-clock -F 20000 -o send.data -- \
//		go test -run '^$' -bench ProcNull -benchtime 1x ./mpi
//	perf report -i send.data --comm mpi.test --percentage relative --no-children --sort symbol
//
// Send: the crossing's runtime code (reentersyscall 20.3, exitsyscall
// 15.7, cgocall 6.2, asmcgocall 5.2, cgoNoCallback 4.4, getcallerfp 2.2,
// save 1.2) 55% of the samples, the kernel (a loaded machine's preemptions)
// 11%, this package 12% (Send with its inlined checks 6.4, the cgo
// wrapper's Go and C halves, with the thread check and the count, 5.8),
// MPI_Send 4.3%, the benchmark's loop 2.8%. Send's own code, 6.4% against
// the crossing's 55%, is about a tenth of a crossing, and its wrapper's
// six arguments, thread check and count, beyond those of the empty call
// the crossing is, the rest of what Send misses one crossing by. Recv
// (recv): the same, but Recv 7.2% (it fills Source and Tag from the status)
// and MPI_Recv 5.5% against MPI_Send's 4.3%: MPI writes the status, which
// C's loop asks it not to (MPI_STATUS_IGNORE), so Recv misses by more.
// An 8-byte ping-pong has one MPI call of each rank on the path of each message, so
// its one-way latency from Go can come within two crossings of C's: the
// fastest round trips of a loaded run were 288ns from C and 373ns from Go
// (398ns before), 42ns more one way, 1.5 crossings.
//
// Bandwidth with small messages is bounded by the same crossing: at 8KiB,
// MPICH moves a message in about 180ns on a quiet machine, so the one
// crossing of each Isend alone costs a tenth of it, and Go cannot come
// within 0.98x of C while it makes one call per message. A Persistents set
// starts a round of any size in one call and completes it in one: a window
// of 64 messages costs Go two crossings instead of 65, and
// `mpidemo bw --persistent` beside `mpi_bench bw --persistent` (the same
// MPI_Send_init, MPI_Startall and MPI_Waitall in C) compares that pattern
// with itself. To ProcNull, StartAll + WaitAll of a set of one took 73ns
// against 8-10ns for MPI_Start + MPI_Wait from C, 2.2-2.3 crossings added
// (a crossing 28ns), and of a set of eight 14ns per operation against 6.4ns,
// 0.26 crossings (BenchmarkProcNull, loaded machine). perf shows the round
// of one as the two crossings (runtime.cgocall, entersyscall, exitsyscall:
// over half the samples), MPI (6%) and this package's code (6%).
//
// mpidemo bw and mpi_bench bw are separate jobs, and on a VM whose CPUs
// move on the host, separate jobs meet different placements: the Go/C ratio of
// one pattern swung from 0.47 to 1.53 between runs minutes apart.
// BenchmarkBandwidthSameRanks runs both loops in the same two rank
// processes instead, block by block in turns: the Go loop through this
// package's API, the C loop plain C calling MPI directly (internal/cloop,
// one cgo call a block), and a second C loop as a control (Go C C', then
// C' C Go, ...). Adjacent blocks meet the same placement, so the median of
// the rounds' ratios says what Go costs, and the control's ratio of two
// identical C loops says how far noise alone moves such a median: a Go/C
// median outside the control's distance from 1 is Go's. The receiver checks
// each block's data. Figures are in README:
//
//	go test -run '^$' -bench BandwidthSameRanks -benchtime 1x ./mpi
//
// On a quiet machine (load average about 2; nine runs of each library,
// four of them with one of the changes tried below),
// the control's medians stayed within 0.97 to 1.04, and Go's at 1 MiB within
// 0.92 to 1.02, but at 8 KiB Go's were 0.74 to 0.95 with Isend and 0.75 to
// 1.02 with Persistents: a gap at 8 KiB that is Go's, not noise, some
// microseconds a window of 64 messages, where the calls Go adds cost well
// under one. It is not the yield of the calls' clock (YieldEvery at 2s: no
// different), nor the buffer's place in its page (the Go buffer 16 bytes
// off: no different), nor Go memory (the Go loop sending from and
// receiving into C memory: 0.77-0.85 with Isend), nor pinning one buffer 64
// times a window (a buffer per message: 0.62-0.94). With Isend, Go took
// 0.2-0.4µs more a message than C (e.g. 5,342 against 6,998 MB/s, Open
// MPI; 11,085 against 15,266, MPICH), 7 to 14 crossings, where
// BenchmarkProcNull's AddIsend + WaitAll of eight adds about two: the
// difference comes with a real peer. Two things make it, and the
// benchmark now shows them apart: beside the control it runs a fourth
// loop, the C loop's own MPI calls made from Go one cgo call each, with
// the yields every Go caller makes (internal/sched) and none of this
// package's code (cgo/c-median). Where cgo/c is as low as go/c, what Go
// loses is the crossings, not the package.
//
// The first is the scheduler, with one P. Open MPI binds each rank to one
// CPU, so the runtime gave it one P, and with one P there is never an idle
// one: a WaitAll that spans two of sysmon's looks (a window of 64 takes
// about 65µs) always had its P taken and handed to a thread woken on the
// rank's only CPU, and each such retake kept sysmon at its 20µs looks. Under
// Open MPI, in 8KiB Isend blocks, uprobes (runtime.retake, handoffp, startm,
// gosched_m) counted 1,657 handoffp and startm for Go against 67 for C,
// 7,312 retake looks against 156 and 17,980 context switches against 621
// (both ranks, probes slowing the loop); without probes rank 0's MPI thread
// was switched out 1,025 times in Go's blocks against 73 in C's and waited
// 18ms for its CPU against 2.8ms (GOIPC_BWSAME_THREADS=1 makes the benchmark
// count each block's thread switches and run times per rank). With an idle P
// beside it, sysmon leaves a call shorter than 10ms alone, so Init gives a
// rank that may run on one CPU only a second P (GOMAXPROCS 2, unless the
// GOMAXPROCS environment variable is set; internal/sched.SpareP). On
// 2026-12-02 (a slow hour of the VM: C moved 7-10GB/s at 8KiB), in ten runs
// of each build taking turns under Open MPI, the medians' mean
// (lowest-highest) went at 8KiB from 0.53 (0.50-0.57) to 0.89 (0.86-0.94)
// with Isend and from 0.55 (0.52-0.57) to 0.93 (0.87-0.96) with Persistents.
// It costs 1MiB a little: Persistents 0.97 (0.95-0.98) before and 0.93
// (0.84-0.98) after, Isend 0.95 (0.94-0.97) and 0.94 (0.89-0.98). The
// benchmark's thread counts (GOIPC_BWSAME_THREADS=1, rank 0, twenty 1MiB
// Persistents rounds, three runs of each) say where: in the Go blocks the
// rank's other threads ran 14-21ms with two Ps against 7-10ms with one
// (GOMAXPROCS=1 in the environment), and the MPI thread was switched out
// 528-744 times against 355-421 and waited 15-30ms for its CPU against
// 8-11ms (the C blocks showed no consistent difference). The other threads
// switched 80-310 times more, of the order of the yields (one every 2ms of
// blocks that last some 200ms). Uprobes in one run of each (runtime.wakep,
// startm, stopm, gosched_m) counted in the Go blocks 132 wakep against 40
// and 72 yields against 40, but startm about the same (97 against 102), and
// 229 context switches of rank 0's threads against 150: so it is not more
// threads started, and what the other threads do with the CPU is not yet
// shown. A WaitAll in 10µs slices (MPI_Testall in C), tried before, also
// stopped the retakes, but cost 1MiB a third. MPICH's Hydra binds nothing,
// so its ranks already had two Ps. Later that day, in a fast hour (C moved
// 10GB/s at 1MiB), the cost did not show. Three runs of ten rounds with two
// Ps, perf pinned to the other CPU sampling rank 0's alone (taskset -c 1
// perf record -C 0 -k CLOCK_MONOTONIC -F 4000, the samples sliced by the
// blocks' timestamps): the counters gave rank 0's other threads 3.8-4.7ms
// in Go's 1MiB Persistents blocks against 1.7-4.6ms in C's, perf 4-14
// samples of 0.25ms against 1-15, and the medians were 0.98-0.99. In every
// kind of block the other threads held 0.2-2% of the rank's CPU; in Go's
// 8KiB Isend blocks twice C's time (6.0-9.6ms against 3.1-3.8ms, in blocks
// of 470-720ms), with 780-920 switches of the MPI thread against 70-220, the
// yields' hand-offs. So the rest of the 8KiB gap is the MPI thread's own
// time: in the first run Go's 8KiB Isend blocks took 9% longer than C's and
// the MPI thread had 9% more samples (1,872 against 1,715), a fifth of the
// difference in the runtime's entry to and exit from the crossings, the
// rest spread over MPI's own functions (pthread_mutex_unlock 185 against
// 152, frames perf could not name 227 against 207, MPI's progress and send
// paths within their noise). What makes MPI's code slower when Go calls it
// is not shown.
//
// The second is the crossing itself, which costs more beside a real peer
// than in a loop to ProcNull. In a fast hour of the VM earlier that day,
// four runs gave MPICH's 8KiB Isend 0.71-0.73 against a control of 0.98-1.06
// (C about 230ns a message, Go about 110ns more). In six runs of each
// library in the slow hour the crossing loop lost as much as the package:
// MPICH 8KiB Isend go/c 0.62-0.89 against cgo/c 0.78-0.87, Persistents
// 0.79-0.97 against 0.86-1.03; Open MPI (one P then) 0.50-0.77 against
// 0.51-0.71. Timing the phases of each window: the sender's 64 Isends took
// about 1.6µs each from Go against 1.1µs from C (the receiver's 64 Irecvs
// 120ns against 41ns), while an empty crossing took 35-45ns that hour. Under
// perf (cpu-clock with CLOCK_MONOTONIC timestamps, sliced by the blocks'
// start and end), runtime.exitsyscall held 10% of rank 0's samples in Go's
// blocks, 85% of them on its compare-and-swap of the goroutine's status, and
// MPI's send path (ucp_tag_send_nbx, uct_mm_ep_am_bcopy, PMPI_Isend) fewer
// samples than in C's. Not the cause: a locked add before and after each of
// C's Isends (C/C' 1.00-1.01), a delay of 2x4 pauses (about 130ns) per C
// message (0.97-0.98: at this size MPI absorbs a short delay), UCX's
// shared-memory FIFO at 512 entries instead of 64 (no change), the scheduler
// (37 yields, 37 handoffp and 74 startm in 73ms of Go blocks: too few), the
// Go sender alone against a C receiver (0.56-0.85) or the Go receiver alone
// (0.85-1.00). Not yet found: why a crossing next to a peer that copies
// costs some 100ns more than an empty one, and what makes the rest of the
// Persistents' gap. Six alternating runs under MPICH of the crossing loop as
// it is and with the whole window in one crossing (and the yields) gave
// Isend 0.72-0.91 against 0.83-0.96, which is what the per-call crossings
// cost, but Persistents 0.86-0.94 against 0.86-0.96: a window in one call
// still loses 5-15% to C's whole block in one call. Part of it is the
// yields: with YieldEvery at 8ms instead of 2ms, five alternating runs gave
// 8KiB Persistents 0.89-0.95 against 0.83-0.90 (Isend and 1MiB no different
// beyond the noise). A yield hands the locked thread to another M and back,
// and here both CPUs are busy polling, so the other M waits for a CPU. 2ms
// stays: sysmon starts taking the P at 10ms, and a yield comes only at the
// end of a call, which can be late by a long call.
//
// Isend returns a *Request, which must stay valid, and inert, after Wait (a
// second Wait returns at once), so each Isend allocates it (64 bytes), and
// the allocation and the garbage collector's work it brings (mallocgc, heap
// bits, write barriers on the list that keeps unfinished Requests alive)
// took 17% of the samples of an Isend + Wait loop under perf, about one
// crossing. IsendInto and IrecvInto start the operation in a Request of the
// caller's instead, new or completed, and allocate nothing. Pinning the
// buffer and unpinning it at completion took another 24% (runtime.setPinned
// takes the span's lock both times): an Isend of at most 256 bytes does not
// pin, copying the message into C memory in the same call instead. To
// ProcNull, Isend + Wait added 3.8-6.7 crossings to C's 10-15ns and
// IsendInto + Wait 2.8-4.2 (MPICH 3.7-5.4 and 2.9-3.6; BenchmarkProcNull,
// three runs on a loaded machine, a crossing 28ns), short of the two that
// its two calls are. perf of an IsendInto + Wait loop (isendinto-wait, as
// above): the two crossings' runtime code 50% of the samples, MPI 7%, this
// package 28%, about 0.55 of a crossing each call, in some fifteen steps of
// 1-5% each: isend with its inlined checks (5.1%), IsendInto (2.6%) and
// Wait (4.3%), the C wrappers with the copy (6.7%), the list of active
// Requests that Finalize reports and that keeps a dropped one from the
// collector (insert, remove: 2.8%), the pool of C copies (get, put: 2.3%),
// and the Request's state (prepare, started, settle, release: 4.1%). None
// is large enough to remove on its own; a Persistents set of one is the
// path at one crossing per call, for a message sent again and again from
// the same buffer.
//
// Above ThreadSingle, Open MPI takes a lock inside every call. A Go process
// always runs several threads, so ThreadFunneled is the level the standard
// asks for when only the goroutine that called Init makes MPI calls; it is
// the level the benchmarks of this package and of cmd/mpidemo compare Go and
// C at.
//
// A goroutine that keeps calling into C and is never rescheduled looks, after
// 10ms, like one that hogs its P: from then on the Go scheduler's monitor
// thread (sysmon) takes the P whenever it finds the goroutine in a cgo call,
// asks for a preemption that never lands, and wakes another thread for the
// P, which finds nothing to do and sleeps again. With calls of 20µs or more
// (large messages), that is one hand-off for every four to seven calls, and
// on a machine whose cores are all busy polling, a 1MiB ping-pong
// (BenchmarkPingpong in cmd/mpidemo) took 1.4 times as long as in C
// (`mpiexec --bind-to none` and GOMAXPROCS made no difference). So the calls that take long (Send and Recv of 64KiB or more,
// Wait of such a request, WaitAll, Requests.WaitAll) yield the goroutine
// (runtime.Gosched) once every 2ms, which brings the 1MiB ping-pong to within
// a few percent of C. Collectives and other calls yield only as short calls
// do (below), reading the clock every 64th call; a loop of long ones can
// call runtime.Gosched every millisecond or so itself.
//
// Short calls yield too, by time: every call's result goes through one
// check, which counts the calls, reads the clock every 64th, and yields if
// 2ms have passed since the last yield (internal/sched.CallDue; the calls
// on a message's path count in their C wrapper, where the count costs two
// plain moves instead of CallDue's xchg: 3-4ns less a Send to ProcNull,
// 35.1-35.7ns to 31.3-32.7ns in BenchmarkProcNull). Without it, a loop of
// short calls (an 8-byte ping-pong) never passes through the scheduler, and
// from 10ms on sysmon finds it on the same tick at every look: it signals a
// preemption that cannot land in C, takes the P, and, having done work,
// keeps its shortest sleep (20µs, 70-90µs with the kernel's timer slack).
// Open MPI binds each rank to a core, so GOMAXPROCS is 1 and all of the
// rank's threads share that core: sysmon ran there 3,400-10,000 times a
// second, and each P it took woke a spinning M there as well, which the MPI
// call then waited for. Counted on a loaded machine (per-thread
// /proc/PID/task/*/status; uprobes on runtime.handoffp; perf stat on a
// rank), in a two-rank 8-byte ping-pong of 200,000 round trips under Open
// MPI, rank 0's threads switched 500-1,500 times during the loop before,
// 66-207 after (mostly the yields themselves), and round trips over 10µs
// fell from 700-2,300 to 120-630 (C: 37-49). Between two test hosts (20,000
// round trips), sysmon's sleeps fell from 6,135 to 725 and futex calls from
// 11,350 to 2,166 under Open MPI (C: 0 and 153); under MPICH from 2,418 to
// 303 and 2,535 to 1,048, context switches from 7,937 to 1,494 (C: 865).
//
// A yield is not free: runtime.Gosched of the locked goroutine hands its
// thread to another M and back, 5-8µs when the rank's threads share a core
// and about 30µs when they float (a loop of it, loaded machine), so once
// every 2ms it costs 0.3-1.5% of the time.
//
// What is left is sysmon's start-up: for about 5ms after it last took a P
// (at the latest during MPI_Init, which is one long call), sysmon looks
// every 20µs, then backs off to 10ms within another 10ms. 20,000 8-byte
// round trips on one host last about 10ms, so their mean is mostly that
// start-up: sysmon woke 59-95 times during such a loop and 12-15 times
// during one ten times longer, where the rank's main thread was switched
// out 72-85 times, about once per yield. So mpidemo's pingpong and bw call
// MPI on their own for 20ms (internal/sched.SettleTime) before their first
// message, as the repository's Go benchmarks warm up (testutil.WarmupTime):
// in 20,000-trip loops that cut the main thread's switches from 40-183 to
// 14-116, three alternating pairs.
// With one P (a rank bound to one core), a call that lasts longer than two
// of sysmon's looks also has its P taken, which starts the 20µs looks
// again; GOMAXPROCS=2, which avoids that, switched the main thread out
// more often, not less (135-154 times in the same loop). Init now gives
// such a rank its second P for bandwidth's sake (above); the latency did
// not suffer: BenchmarkPingpong's 8-byte median Go/C under Open MPI was
// 1.16-1.18 with two Ps against 1.20-1.24 with one (two runs each,
// GOMAXPROCS=2 in the environment, before Init did it).
package mpi
