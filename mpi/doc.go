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
//     pinned and MPI's until Finalize.
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
// Each Isend and Irecv allocates its Request. A loop that starts operations
// round after round uses a Requests set instead, which the caller owns and
// reuses: AddIsend and AddIrecv start operations in it, Requests.WaitAll
// completes the round, and no handle to a single operation leaves the set, so
// none can be used after its round; a round allocates nothing and pins a
// shared buffer once. A set dropped with operations unfinished is kept, and
// reported by Finalize, as a Request is.
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
// and return ctx.Err(), at once even for a send that MPI cannot cancel
// (see Lifetimes). MPI has no way to interrupt MPI_Recv itself.
//
// # Errors
//
// Init sets MPI_ERRORS_RETURN on World and Self (communicators made from them
// inherit it), so a failing call returns an *Error carrying the MPI error
// class and the library's message instead of aborting the job; errors.Is(err,
// mpi.ErrTruncate) tests the class. Bad input (an empty buffer for a
// collective, buffer lengths that disagree with each other or with the
// communicator's size, counts beyond MPI's int range, ranks and tags outside
// int32 and tags above TagUB, which a C int would silently wrap, send and
// receive buffers that overlap, an operator made for another type, a call
// from the wrong thread) is caught before the call: such errors also match
// syscall.EINVAL. To work in place, a collective takes InPlace[T]() as the
// buffer MPI_IN_PLACE replaces (see InPlace).
//
// # Limits
//
// Counts are C ints: a single buffer holds at most 2³¹-1 elements. NewOp can
// have 32 operators alive at once, as MPI's user function has no context
// argument and each needs a C trampoline of its own.
//
// # Performance
//
// Each call crosses from Go to C (runtime.cgocall and its two atomic state
// changes), and the package adds a few nanoseconds on top. Send, Recv, Isend
// and Irecv go through small C wrappers that take the buffer as uint8_t *,
// the datatype as an index and the communicator as an integer, so that cgo
// does not inspect them for Go pointers on every call; the blocking calls are
// marked noescape and nocallback, so they do not allocate. An Isend also
// allocates its Request and pins its buffer (the runtime takes a lock to pin
// and to unpin), which Requests pays once per round for a shared buffer.
// BenchmarkProcNull measures these costs beside the same calls from C (on
// Open MPI, an 8-byte Send took 33ns from Go and 2ns from C; an Isend and its
// Wait 149ns and one allocation; a Requests round of one 127ns and none):
//
//	go test -run '^$' -bench ProcNull -benchtime 1x ./mpi
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
// a few percent of C. Collectives and other calls do not; a loop that makes
// only long calls of those can call runtime.Gosched every millisecond or so
// itself.
package mpi
