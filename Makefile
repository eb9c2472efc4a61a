# Everything needs Linux; loading the eBPF programs (run, test) needs root.
GO       ?= go
OCB_VERSION := v0.165.0
GOBIN    := $(shell $(GO) env GOPATH)/bin
OCB      := $(GOBIN)/builder
OTELCOL  := _build/otelcol-syscalls
CONFIG   ?= config.yaml

.PHONY: all build otelcol run test generate clean

all: build

# Plain build of every package: needs neither clang nor mdatagen.
build:
	$(GO) build ./...

$(OCB):
	$(GO) install go.opentelemetry.io/collector/cmd/builder@$(OCB_VERSION)

# The custom collector, built by ocb from builder-config.yaml.
otelcol: $(OCB)
	$(OCB) --config builder-config.yaml

# Builds the collector and runs it on the default config (needs root).
run: otelcol
	./$(OTELCOL) --config $(CONFIG)

# Every test: unit, kernel integration (loads real eBPF programs, needs root)
# and collector end to end (runs the ocb-built binary).
test: otelcol
	OTELCOL_BIN=$(abspath $(OTELCOL)) $(GO) test -count=1 -p 1 ./...

# Regenerates the BPF objects (bpf2go, clang), the syscall name tables and
# the mdatagen code. Installs clang and the libbpf headers when missing.
generate:
	@command -v clang >/dev/null && test -f /usr/include/bpf/bpf_helpers.h || \
		(apt-get update -qq && apt-get install -y -qq clang llvm libbpf-dev linux-libc-dev)
	$(GO) generate ./...

clean:
	rm -rf _build
