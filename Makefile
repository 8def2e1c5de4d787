# goipc: `make demo` and `make test` are all a fresh Debian machine needs; both
# install missing system packages first (.ci/deps).

GO      ?= go
export PATH := $(PATH):/usr/local/go/bin
BIN     := bin
# The C peers and baselines: csrc/mpi_*.c are built once per MPI library, the
# others against libc.
CSRC    := $(wildcard csrc/*.c)
C_PLAIN := $(patsubst csrc/%.c,$(BIN)/%,$(filter-out csrc/mpi_%,$(CSRC)))
C_MPI   := $(patsubst csrc/%.c,$(BIN)/openmpi/%,$(filter csrc/mpi_%,$(CSRC))) \
           $(patsubst csrc/%.c,$(BIN)/mpich/%,$(filter csrc/mpi_%,$(CSRC)))
CFLAGS  ?= -O2 -Wall
# Open MPI refuses root without these; containers need the single-copy
# mechanism off.
export OMPI_ALLOW_RUN_AS_ROOT := 1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM := 1
export OMPI_MCA_btl_vader_single_copy_mechanism := none
# Without CMA, osc rdma fails MPI_Win_create: use the shared-memory and message-based one-sided components.
export OMPI_MCA_osc := sm,pt2pt
export OMPI_MCA_rmaps_base_oversubscribe := 1

.PHONY: all deps build test demo bench lint clean

all: build

deps:
	@.ci/deps

build: deps
	$(GO) build -o $(BIN)/ipc ./cmd/ipc
	@if [ -d cmd/mpidemo ]; then \
		echo $(GO) build -o $(BIN)/mpidemo ./cmd/mpidemo; $(GO) build -o $(BIN)/mpidemo ./cmd/mpidemo && \
		echo $(GO) build -tags mpich -o $(BIN)/mpich/mpidemo ./cmd/mpidemo; $(GO) build -tags mpich -o $(BIN)/mpich/mpidemo ./cmd/mpidemo; fi
	@$(MAKE) --no-print-directory csrc

.PHONY: csrc
csrc: $(C_PLAIN) $(C_MPI)

# Every program depends on every header of csrc/: they are few and quick to
# build, and a change to goipc_ring.h or pin.h must reach the programs that
# include it.
C_HEADERS := $(wildcard csrc/*.h)

$(BIN)/%: csrc/%.c $(C_HEADERS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< -lrt -pthread

$(BIN)/openmpi/mpi_%: csrc/mpi_%.c $(C_HEADERS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $$(pkg-config --cflags --libs ompi-c)

$(BIN)/mpich/mpi_%: csrc/mpi_%.c $(C_HEADERS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $$(pkg-config --cflags --libs mpich)

demo: build
	$(BIN)/ipc demo
	@if [ -x $(BIN)/mpidemo ]; then echo mpiexec.openmpi -n 2 $(BIN)/mpidemo; mpiexec.openmpi -n 2 $(BIN)/mpidemo; fi

lint: deps
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then \
		echo "gofmt: these files need formatting:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	@if [ -d mpi ]; then echo $(GO) vet -tags mpich ./mpi/... ./cmd/mpidemo/...; $(GO) vet -tags mpich ./mpi/... ./cmd/mpidemo/...; fi

# The tests run against real kernel objects, real MPI runtimes and real
# foreign peers; GOIPC_STRICT=1 turns a missing peer into a failure, not a
# skip. A snapshot of the machine's IPC objects before and after fails the run
# if the tests left one behind, even when a test binary crashed; the tests run
# with a private TMPDIR (sticky and world-writable, as /tmp), which must be
# empty again at the end.
test: lint
	@snapshot=$$(mktemp); tmp=$$(mktemp -d) && chmod 1777 $$tmp; $(GO) run ./inventory/leakcheck save $$snapshot; status=0; \
	echo GOIPC_STRICT=1 $(GO) test -race -count=1 ./...; \
	TMPDIR=$$tmp GOIPC_STRICT=1 $(GO) test -race -count=1 ./... || status=1; \
	if [ -d mpi ]; then \
		echo GOIPC_STRICT=1 $(GO) test -race -count=1 -tags mpich ./mpi/... ./cmd/mpidemo/...; \
		TMPDIR=$$tmp GOIPC_STRICT=1 $(GO) test -race -count=1 -tags mpich ./mpi/... ./cmd/mpidemo/... || status=1; \
	fi; \
	$(GO) run ./inventory/leakcheck compare $$snapshot $$tmp || status=1; rm -rf $$snapshot $$tmp; exit $$status

# Benchmarks: Go beside the C baselines of csrc/ in the same run. ipc bench
# measures every mechanism, both placements and modes, against Go, C and
# Python peers: table on stdout, JSON and chart in bin/.
bench: build
	$(BIN)/ipc bench --placement both --mode both --json-file $(BIN)/bench.json --chart $(BIN)/bench.png
	$(GO) test -run '^$$' -bench . -benchmem ./...
	@if [ -d cmd/mpidemo ]; then echo $(GO) test -run '^$$' -bench . -tags mpich ./mpi/ ./cmd/mpidemo/; $(GO) test -run '^$$' -bench . -tags mpich ./mpi/ ./cmd/mpidemo/; fi


clean:
	rm -rf $(BIN)
	$(GO) clean -testcache
