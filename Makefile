# Everything needs Linux; loading the eBPF programs (run, test) needs root.
GO       ?= go
OCB_VERSION := v0.165.0
GOBIN    := $(shell $(GO) env GOPATH)/bin
OCB      := $(GOBIN)/builder
OTELCOL  := _build/otelcol-syscalls
TOOL     := _build/syscalls
CONFIG   ?= config.yaml

.PHONY: all build otelcol tool lint run test test-kernels e2e soak tools bench bench-compare bench-compare-real generate clean distclean

# What the end-to-end tests run besides the collector: real backends
# (VictoriaMetrics, Prometheus) and offline validators (kubectl-validate,
# dockerfile-utils), built or fetched once and cached under _build/tools (gitignored; `make clean` keeps it, `make distclean`
# removes it). Versions are part of the paths, so bumping one rebuilds it.
TOOLS      := _build/tools
VM_VERSION := v1.151.0
VM         := $(TOOLS)/victoria-metrics-$(VM_VERSION)/victoria-metrics
PROMETHEUS := $(TOOLS)/prometheus/usr/bin/prometheus
# Prometheus 3 (module v0.316.0), for its OTLP receiver and native histograms.
PROMETHEUS3_VERSION := v0.316.0
PROMETHEUS3 := $(TOOLS)/prometheus-$(PROMETHEUS3_VERSION)/prometheus
KUBECTL_VALIDATE_VERSION := v0.0.4
KUBECTL_VALIDATE := $(TOOLS)/kubectl-validate-$(KUBECTL_VALIDATE_VERSION)/kubectl-validate
HELM_VERSION := v3.22.0
HELM         := $(TOOLS)/helm-$(HELM_VERSION)/helm
# The official collector chart, unmodified, from the team's shared
# reference (the chart repository cannot be reached from CI).
OTEL_COLLECTOR_CHART ?= $(abspath ../shared/charts/opentelemetry-collector)
DOCKERFILE_UTILS_VERSION := 0.16.3
DOCKERFILE_LINT := $(TOOLS)/npm/node_modules/.bin/dockerfile-utils
GOLANGCI_LINT_VERSION := v2.15.0
GOLANGCI_LINT := $(TOOLS)/golangci-lint-$(GOLANGCI_LINT_VERSION)/golangci-lint
# Every platform a collector distribution ships: each must compile and vet.
PLATFORMS := linux/amd64 linux/arm64 linux/386 linux/arm linux/ppc64le linux/s390x linux/riscv64 \
	darwin/amd64 darwin/arm64 windows/amd64
# What `make generate` writes, checked to be current by `make lint`.
GENERATED := bpf bench/floor internal/sysnames receiver/syscallsreceiver/internal receiver/syscallsreceiver/documentation.md \
	receiver/syscallsreceiver/generated_component_test.go receiver/syscallsreceiver/generated_package_test.go
E2E_ENV     = OTELCOL_BIN=$(abspath $(OTELCOL)) \
	VICTORIA_METRICS_BIN=$(abspath $(VM)) \
	PROMETHEUS_BIN=$(abspath $(PROMETHEUS)) \
	PROMETHEUS3_BIN=$(abspath $(PROMETHEUS3)) \
	KUBECTL_VALIDATE_BIN=$(abspath $(KUBECTL_VALIDATE)) \
	DOCKERFILE_LINT_BIN=$(abspath $(DOCKERFILE_LINT)) \
	HELM_BIN=$(abspath $(HELM)) \
	OTEL_COLLECTOR_CHART=$(OTEL_COLLECTOR_CHART)

# `make`: the collector and, next to it, the strace -c tool.
all: otelcol tool

# Plain build of every package: needs neither clang nor mdatagen.
build:
	$(GO) build ./...

$(OCB):
	$(GO) install go.opentelemetry.io/collector/cmd/builder@$(OCB_VERSION)

# The custom collector, built by ocb from builder-config.yaml.
otelcol: $(OCB)
	$(OCB) --config builder-config.yaml

# strace -c from the same engine: _build/syscalls -c -- CMD (needs root).
tool:
	$(GO) build -o $(TOOL) ./cmd/syscalls

$(GOLANGCI_LINT):
	GOBIN=$(abspath $(dir $@)) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

# Fails on any finding: golangci-lint (.golangci.yml), go vet on every
# platform, clang-format on the eBPF C, go.mod tidy, and generated files
# equal to what `make generate` makes from their sources.
lint: $(GOLANGCI_LINT)
	$(GOLANGCI_LINT) run ./...
	@for p in $(PLATFORMS); do echo "go vet $$p"; GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) vet ./... || exit 1; done
	@command -v clang-format >/dev/null || (apt-get update -qq && apt-get install -y -qq clang-format)
	clang-format --dry-run --Werror bpf/*.bpf.c bpf/*.h bench/floor/*.bpf.c
	$(GO) mod tidy -diff
	@# Only what generation itself changes counts, not edits in progress
	@# in the same directories.
	@before=$$(git diff -- $(GENERATED); git status --porcelain -- $(GENERATED)); \
	$(MAKE) generate && \
	after=$$(git diff -- $(GENERATED); git status --porcelain -- $(GENERATED)); \
	[ "$$before" = "$$after" ] || \
		{ git diff --stat -- $(GENERATED); echo "generated files differ from their sources: run make generate and commit"; exit 1; }

# Builds the collector and runs it on the default config (needs root).
run: otelcol
	./$(OTELCOL) --config $(CONFIG)

# Every test: unit, kernel integration (loads real eBPF programs, needs root),
# collector end to end (runs the ocb-built binary) against real backends, and
# the deployment files.
test: otelcol tools
	$(E2E_ENV) $(GO) test -count=1 -p 1 ./...

# The bpf package's kernel tests on other kernels: each of test/kernels/matrix
# (Debian's 5.10, 6.1 and 6.12 for amd64 and arm64) booted under qemu, then
# this host's; prints kernel × arch × hook × test (also to
# _build/kernels/report.md). Needs root, qemu and the cross compilers
# (.ci/run installs them); kernels are cached in _build/tools/kernels.
# KERNELS_ONLY="6.1-arm64" boots one, TESTARGS="-test.run=TestX" narrows.
test-kernels:
	GO=$(GO) test/kernels/run.sh

# The end-to-end tests alone: the collector against real backends
# (VictoriaMetrics via OTLP, Debian's Prometheus scraping), the dashboard's
# queries, the deployment files (needs root).
e2e: otelcol tools
	$(E2E_ENV) $(GO) test -count=1 -p 1 -v ./e2e/... ./deploy/...

# The syscall storm at full length: getppid on every CPU for
# SOAK_SECONDS (60), collected every second; totals must be exact (`make
# test` runs the same test for 5 s).
SOAK_SECONDS ?= 60
soak:
	SYSCALLS_STORM_SECONDS=$(SOAK_SECONDS) $(GO) test -count=1 -run 'TestSyscallStorm' -v -timeout 30m ./receiver/syscallsreceiver/

tools: $(VM) $(PROMETHEUS) $(PROMETHEUS3) $(KUBECTL_VALIDATE) $(DOCKERFILE_LINT) $(HELM)

# Offline Kubernetes schema validation (built-in 1.23-1.30 schemas); a cold
# build takes 6-12 minutes on 2 cores, a rebuild from Go's cache seconds.
$(KUBECTL_VALIDATE):
	GOBIN=$(abspath $(dir $@)) $(GO) install sigs.k8s.io/kubectl-validate@$(KUBECTL_VALIDATE_VERSION)

$(HELM):
	GOBIN=$(abspath $(dir $@)) $(GO) install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)

# Dockerfile linter (syntax and instruction arguments) from npm.
$(DOCKERFILE_LINT):
	npm install --silent --no-audit --no-fund --prefix $(abspath $(TOOLS)/npm) dockerfile-utils@$(DOCKERFILE_UTILS_VERSION)

# VictoriaMetrics single-node, built from the Go module proxy (~1-2 min cold).
$(VM):
	GOBIN=$(abspath $(dir $@)) $(GO) install github.com/VictoriaMetrics/VictoriaMetrics/app/victoria-metrics@$(VM_VERSION)

# Prometheus 3 from the Go module proxy: the API and the OTLP receiver, no
# web UI assets (~11-18 min cold on 2 cores, cached after).
$(PROMETHEUS3):
	GOBIN=$(abspath $(dir $@)) $(GO) install github.com/prometheus/prometheus/cmd/prometheus@$(PROMETHEUS3_VERSION)

# Debian's Prometheus, unpacked from its .deb (not installed: no service,
# no user); apt-get update only if the package lists are missing.
$(PROMETHEUS):
	rm -rf $(TOOLS)/prometheus && mkdir -p $(TOOLS)/prometheus
	cd $(TOOLS)/prometheus && { apt-get download prometheus 2>/dev/null || \
		{ apt-get update -qq && apt-get download prometheus; }; } && \
		dpkg-deb -x prometheus_*.deb . && rm prometheus_*.deb
	test -x $@

# The overhead benchmark (root, ~10 min on 2 quiet CPUs): installs the peer
# tools when missing, runs the Go benchmark of snapshot → pdata, then
# bench/cmd/syscallbench, which prints the table (copied to _build/bench.txt).
# BENCH_ROUNDS, BENCH_N, BENCH_PROCS, BENCH_STEADY_SECONDS, BENCH_ONLY, …:
# see bench/cmd/syscallbench.
BENCH_TOOLS    := bpftrace syscount strace bpftool redis-server redis-benchmark nginx wrk fio
# The packages that hold them; policy-rc.d keeps redis and nginx from
# starting as services when installed: the benchmark starts its own.
BENCH_PACKAGES := bpftrace libbpf-tools strace bpftool redis-server redis-tools nginx wrk fio
BENCH_REVISION ?= $(shell git describe --always --dirty 2>/dev/null)
bench: otelcol tool
	@for tool in $(BENCH_TOOLS); do command -v $$tool >/dev/null || missing=1; done; \
	if [ -n "$$missing" ]; then \
		export DEBIAN_FRONTEND=noninteractive; \
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; \
		apt-get install -y -qq $(BENCH_PACKAGES) || \
		{ apt-get update -qq && apt-get install -y -qq $(BENCH_PACKAGES); }; \
		rm -f /usr/sbin/policy-rc.d; \
	fi
	$(GO) test -run '^$$' -bench BenchmarkEmit10kSeries -benchmem -count 5 ./receiver/syscallsreceiver/ > _build/bench-emit.txt || \
		{ cat _build/bench-emit.txt; exit 1; }
	$(GO) build -o _build/syscallbench ./bench/cmd/syscallbench
	BENCH_REVISION="$(BENCH_REVISION)" ./_build/syscallbench \
		-gobench _build/bench-emit.txt -otelcol $(OTELCOL) -tool $(TOOL) -o _build/bench.txt

# The getppid benchmark of BASE and of this checkout, side by side in one
# run (alternating rounds), with head ÷ base per variant: the regression
# check for a change to the programs or the engine (root).
# make bench-compare BASE=main [COMPARE_ROUNDS=5]
bench-compare:
	GO=$(GO) bench/compare.sh $(or $(BASE),$(error set BASE to a git revision))

# The collector of BASE and of this checkout on redis, side by side in one
# run: throughput loss and in-kernel ns per program run (root).
# make bench-compare-real BASE=main [COMPARE_ROUNDS=7] [COMPARE_EXTRA="duration: {sample_one_in: 16}"]
bench-compare-real:
	GO=$(GO) bench/compare-real.sh $(or $(BASE),$(error set BASE to a git revision))

# Regenerates the BPF objects (bpf2go, clang), the syscall name tables and
# the mdatagen code. Installs clang and the libbpf headers when missing.
generate:
	@command -v clang >/dev/null && test -f /usr/include/bpf/bpf_helpers.h || \
		(apt-get update -qq && apt-get install -y -qq clang llvm libbpf-dev linux-libc-dev)
	$(GO) generate ./...

# Keeps the cached tools (_build/tools).
clean:
	find _build -mindepth 1 -maxdepth 1 ! -name tools -exec rm -rf {} + 2>/dev/null || true

distclean:
	rm -rf _build
