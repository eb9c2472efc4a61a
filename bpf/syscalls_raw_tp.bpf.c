//go:build ignore

// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Counts syscalls on raw tracepoints, on kernels without BTF (Linux 5.5+):
 * no task's start time can be read, so a reused pid is not told apart from
 * the process that had it. */
#include <stdbool.h>
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline __u64 start_time_of(void *task, bool thread)
{
	return 0;
}

#include "raw_tp_programs.bpf.h"

/* Nor the task's ptrace state: a skipped call's -ENOSYS is counted. */
static __always_inline bool killed_at_entry(void)
{
	return false;
}
