//go:build ignore

// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Counts syscalls on raw tracepoints where the kernel has BTF but not what
 * tp_btf needs (Linux 5.10 to 5.14): the task's start time is read through
 * bpf_get_current_task() at offsets relocated against the kernel's BTF
 * (CO-RE), so a reused pid is a new group. Where it does not load (no
 * BTF), the loader falls back to syscalls_raw_tp.bpf.c. */
#include <stdbool.h>
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct sigpending {
	struct {
		unsigned long sig[1];
	} signal;
} __attribute__((preserve_access_index));

struct task_struct {
	unsigned int ptrace;
	struct sigpending pending;
	__u64 start_boottime;
	struct task_struct *group_leader;
} __attribute__((preserve_access_index));

/* The start time of the current thread, or of its process (its leader's),
 * read from kernel memory: without a BTF task pointer, task is unused. */
static __always_inline __u64 start_time_of(void *task, bool thread)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	__u64 start = 0;

	if (!thread)
		bpf_probe_read_kernel(&t, sizeof(t), &t->group_leader);
	bpf_probe_read_kernel(&start, sizeof(start), &t->start_boottime);
	return start;
}

#include "raw_tp_programs.bpf.h"

/* Read only for a call returning -ENOSYS: two more reads of kernel memory. */
static __always_inline bool killed_at_entry(void)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	unsigned long signals = 0;
	unsigned int ptrace = 0;

	bpf_probe_read_kernel(&ptrace, sizeof(ptrace), &t->ptrace);
	bpf_probe_read_kernel(&signals, sizeof(signals), &t->pending.signal.sig[0]);
	return traced_and_killed(ptrace, signals);
}
