// Package floor attaches empty eBPF programs to the syscall tracepoints, as
// BTF-enabled raw tracepoints (tp_btf) like the receiver:
// the cheapest possible eBPF syscall hook, against which the benchmark
// measures the receiver and its peers.
//
// The objects are committed (floor_*_bpfel.o); `go generate ./bench/floor`
// rebuilds them with clang, like the receiver's own in ../../bpf.
package floor

//go:generate go tool bpf2go -tags linux -target amd64,arm64 -type process_syscall floor floor.bpf.c -- -O2 -g -Wall -Werror -I/usr/include/x86_64-linux-gnu -I/usr/include/aarch64-linux-gnu
