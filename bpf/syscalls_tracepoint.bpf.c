//go:build ignore

// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Counts syscalls on classic tracepoints: no BTF needed, but tracefs must
 * be mounted. The task's registers are out of reach, so 32-bit processes'
 * syscalls are named from the native table. */
#include <stdbool.h>
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* No start times here: a reused pid is not told apart. */
static __always_inline __u64 start_time_of(void *task, bool thread)
{
	return 0;
}

#include "entry_counting.bpf.h"

/* Nor the task's ptrace state: a skipped call's -ENOSYS is counted. */
static __always_inline bool killed_at_entry(void)
{
	return false;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* The records of the raw_syscalls tracepoints (see their format files in
 * tracefs), after the 8-byte common header. */
struct sys_enter_args {
	__u64 common;
	long id;
	unsigned long args[6];
};

struct sys_exit_args {
	__u64 common;
	long id;
	long ret;
};

SEC("tracepoint/raw_syscalls/sys_enter")
int syscalls_enter(struct sys_enter_args *ctx)
{
	long nr = ctx->id;
	__u32 abi = native_abi(&nr);

	enter(bpf_get_current_pid_tgid(), nr, abi);
	return 0;
}

SEC("tracepoint/raw_syscalls/sys_exit")
int syscalls_exit(struct sys_exit_args *ctx)
{
	long nr = ctx->id;
	__u32 abi = native_abi(&nr);

	leave(bpf_get_current_pid_tgid(), nr, abi, ctx->ret);
	return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int syscalls_task_exit(void *ctx)
{
	task_exit(bpf_get_current_pid_tgid());
	return 0;
}
