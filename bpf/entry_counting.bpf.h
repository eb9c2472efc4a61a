// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Counting at sys_enter, for the hooks without a BTF task pointer
 * (raw_tracepoint, tracepoint): a call is counted as it enters, since the
 * exit cannot always tell which call returns. The file that includes this
 * one first defines start_time_of (see count.bpf.h) for the current task:
 * 0 where the hook cannot read it, and then a reused pid is not told apart
 * from the process that had it. */
#ifndef ENTRY_COUNTING_BPF_H
#define ENTRY_COUNTING_BPF_H

#include "count.bpf.h"

/* Whether the current task is traced with SIGKILL pending (see
 * traced_and_killed): defined after this file by the one that includes it,
 * false where the hook cannot read the task. */
static __always_inline bool killed_at_entry(void);

/* The syscall each thread is in, by thread id; an exiting thread deletes
 * its entry. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct inflight);
} inflight_syscalls SEC(".maps");

/* Counts the call; if it is timed, records when it entered, by thread id. */
static __always_inline void enter(__u64 pid_tgid, long nr, __u32 abi)
{
	__u32 tid = (__u32)pid_tgid;

	if (!selected(pid_tgid, nr, abi))
		return;
	if (count_calls)
		count_call(pid_tgid, 0, nr, abi);
	/* A call not sampled finds its thread's entry cleared by the last
	 * exit (or none): untimed, as it should be. These hooks count the call
	 * here, so its exit needs no number from the entry. */
	if (measure_duration && !is_sigreturn(nr, abi) && sampled()) {
		struct inflight entry = { .start_ns = entry_time(), .nr = nr, .abi = abi };

		bpf_map_update_elem(&inflight_syscalls, &tid, &entry, BPF_ANY);
	}
}

static __always_inline void leave(__u64 pid_tgid, long nr, __u32 abi, long ret)
{
	__u32 tid = (__u32)pid_tgid;
	__u64 start = 0;
	bool exec = ret == 0 && maybe_execve(nr);

	if (nr < 0 || (!exec && !selected(pid_tgid, nr, abi)))
		return;
	if (measure_duration)
		start = take_entry(bpf_map_lookup_elem(&inflight_syscalls, &tid), &nr, &abi, exec);
	/* A call with an entry time entered, so it ran; the call itself was
	 * counted at sys_enter, which a skipped one never reached. */
	if (ret == -38 /* ENOSYS */ && count_errors && !start && killed_at_entry())
		return;
	if (exec && !selected(pid_tgid, nr, abi))
		return;
	count_return(pid_tgid, 0, nr, abi, ret, start, false);
}

static __always_inline void task_exit(__u64 pid_tgid)
{
	__u32 tid = (__u32)pid_tgid;

	/* A later thread with this id must not find this one's start time. */
	if (measure_duration)
		bpf_map_delete_elem(&inflight_syscalls, &tid);
	record_exit(pid_tgid, start_time_of(0, group_by_thread));
}

#endif
