// Package bpf holds the syscall-counting eBPF programs and their Go loader.
//
// The programs are compiled by bpf2go into the committed syscalls*_bpfel.o
// objects, so building this package needs no clang; `make generate` rebuilds
// them after a change to the C. One small program per way of hooking the
// syscall path (see Hook): syscalls_tp_btf.bpf.c; syscalls_raw_tp_core.bpf.c
// and syscalls_raw_tp.bpf.c, raw tracepoints with and without start times
// read through the kernel's BTF; syscalls_tracepoint.bpf.c. They share
// abi.bpf.h (syscall numbers and ABIs), maps.bpf.h (settings and maps),
// count.bpf.h (counting), entry_counting.bpf.h (the hooks that count at
// sys_enter) and raw_tp_programs.bpf.h. All builds define the same maps and
// programs, so they load into the same Go type; the Go types of their keys
// and values come from the first.
//
// The constants Go shares with the C (ABIs, limits, ablations) are C enums,
// exported by the first bpf2go line; gencons copies them into the untagged
// zconstants.go, which every platform builds.
package bpf

//go:generate go tool bpf2go -tags linux -target amd64,arm64 -type abi -type limits -type ablation -type group_key -type syscall_key -type bucket_durations -type error_key -type overflow_error_key -type exited_task -type bucket_key -type overflow_bucket_key -type compact_key -type bucket_chunk syscalls syscalls_tp_btf.bpf.c -- -O2 -g -Wall -Werror -I/usr/include/x86_64-linux-gnu -I/usr/include/aarch64-linux-gnu
//go:generate go tool bpf2go -tags linux -target amd64,arm64 -no-global-types -output-stem syscalls_rawtpcore syscallsRawTPCORE syscalls_raw_tp_core.bpf.c -- -O2 -g -Wall -Werror -I/usr/include/x86_64-linux-gnu -I/usr/include/aarch64-linux-gnu
//go:generate go tool bpf2go -tags linux -target amd64,arm64 -no-global-types -output-stem syscalls_rawtp syscallsRawTP syscalls_raw_tp.bpf.c -- -O2 -g -Wall -Werror -I/usr/include/x86_64-linux-gnu -I/usr/include/aarch64-linux-gnu
//go:generate go tool bpf2go -tags linux -target amd64,arm64 -no-global-types -output-stem syscalls_tracepoint syscallsTracepoint syscalls_tracepoint.bpf.c -- -O2 -g -Wall -Werror -I/usr/include/x86_64-linux-gnu -I/usr/include/aarch64-linux-gnu
//go:generate go tool bpf2go -tags linux -target amd64,arm64 -output-stem histogram -output-suffix _test histogramTest histogram_test.bpf.c -- -O2 -g -Wall -Werror -I/usr/include/x86_64-linux-gnu -I/usr/include/aarch64-linux-gnu
//go:generate go run ./internal/gencons -o zconstants.go syscalls_x86_bpfel.go syscalls_arm64_bpfel.go
