// Package bpf holds the syscall-counting eBPF programs and their Go loader.
//
// The programs are compiled by bpf2go into the committed syscalls*_bpfel.o
// objects, so building this package needs no clang; `make generate` rebuilds
// them after a change to syscalls.bpf.c or syscalls.h. One source is built
// once per way of hooking the syscall path (see Hook), and raw_tracepoint
// twice: with and without start times read through the kernel's BTF.
package bpf

//go:generate go tool bpf2go -tags linux -target amd64,arm64 -type group_key -type syscall_key -type bucket_stats -type error_key -type overflow_error_key -type exited_task -type bucket_key -type overflow_bucket_key syscalls syscalls.bpf.c -- -DHOOK_TP_BTF -O2 -g -Wall -Werror -I/usr/include/x86_64-linux-gnu -I/usr/include/aarch64-linux-gnu
//go:generate go tool bpf2go -tags linux -target amd64,arm64 -output-stem syscalls_rawtp syscallsRawTP syscalls.bpf.c -- -DHOOK_RAW_TP -O2 -g -Wall -Werror -I/usr/include/x86_64-linux-gnu -I/usr/include/aarch64-linux-gnu
//go:generate go tool bpf2go -tags linux -target amd64,arm64 -output-stem syscalls_rawtpcore syscallsRawTPCORE syscalls.bpf.c -- -DHOOK_RAW_TP -DCORE_READS -O2 -g -Wall -Werror -I/usr/include/x86_64-linux-gnu -I/usr/include/aarch64-linux-gnu
//go:generate go tool bpf2go -tags linux -target amd64,arm64 -output-stem syscalls_tracepoint syscallsTracepoint syscalls.bpf.c -- -DHOOK_TRACEPOINT -O2 -g -Wall -Werror -I/usr/include/x86_64-linux-gnu -I/usr/include/aarch64-linux-gnu
//go:generate go tool bpf2go -tags linux -target amd64,arm64 -output-stem histogram -output-suffix _test histogramTest histogram_test.bpf.c -- -O2 -g -Wall -Werror -I/usr/include/x86_64-linux-gnu -I/usr/include/aarch64-linux-gnu
