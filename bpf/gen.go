// Package bpf holds the syscall-counting eBPF programs and their Go loader.
//
// The programs are compiled by bpf2go into the committed syscalls_*_bpfel.o
// objects, so building this package needs no clang; `make generate` rebuilds
// them after a change to syscalls.bpf.c or syscalls.h.
package bpf

//go:generate go tool bpf2go -tags linux -target amd64,arm64 -type group_key -type syscall_key -type syscall_stats -type error_key -type overflow_error_key -type exited_task syscalls syscalls.bpf.c -- -O2 -g -Wall -Werror -I/usr/include/x86_64-linux-gnu -I/usr/include/aarch64-linux-gnu
