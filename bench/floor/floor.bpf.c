//go:build ignore

// SPDX-License-Identifier: GPL-2.0
/* The floor: programs that do nothing, on the same raw tracepoints as the
 * receiver. What they cost is what any eBPF syscall counter pays for the
 * hook alone; the benchmark reports everything else relative to it. */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("raw_tracepoint/sys_enter")
int floor_enter(struct bpf_raw_tracepoint_args *ctx)
{
	return 0;
}

SEC("raw_tracepoint/sys_exit")
int floor_exit(struct bpf_raw_tracepoint_args *ctx)
{
	return 0;
}
