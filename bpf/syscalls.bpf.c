//go:build ignore

// SPDX-License-Identifier: GPL-2.0
/* Counts syscalls in the kernel: calls at entry; errors and time spent at
 * return. Everything is aggregated in per-CPU maps that user space reads on
 * each scrape; nothing is sent to user space per syscall. */
#include <stdbool.h>
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "syscalls.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by the loader before the programs are loaded. Being constants, the
 * verifier prunes the branches of every feature that is switched off, so
 * what is disabled costs nothing at run time. */
volatile const __u32 self_tgid = 0;       /* excluded process, 0 = none */
volatile const bool per_process = false;  /* key counts by tgid */
volatile const bool count_calls = true;
volatile const bool count_errors = true;
volatile const bool measure_duration = true;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SYSCALL_ARRAY_SIZE);
	__type(key, __u32);
	__type(value, struct syscall_stats);
} system_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 32768); /* resized by the loader */
	__type(key, struct syscall_key);
	__type(value, struct syscall_stats);
} process_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16384); /* resized by the loader */
	__type(key, struct error_key);
	__type(value, __u64);
} error_counts SEC(".maps");

/* Comm of each thread-group leader that exited, so that processes living
 * less than a scrape interval still get a name. User space deletes entries
 * once exported; LRU bounds it if user space falls behind. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 32768);
	__type(key, __u32);
	__type(value, struct exited_process);
} exited_processes SEC(".maps");

/* Counter updates that failed because a hash map was full. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} dropped_updates SEC(".maps");

/* The syscall a thread is in and when it entered it. Task storage is freed
 * with the task and needs no hash lookup keyed by thread id. */
struct inflight {
	__u64 start_ns;
	__u32 nr;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct inflight);
} inflight_syscalls SEC(".maps");

static __always_inline void count_dropped(void)
{
	__u32 zero = 0;
	__u64 *dropped = bpf_map_lookup_elem(&dropped_updates, &zero);

	if (dropped)
		(*dropped)++;
}

/* Returns this CPU's counters for (tgid, nr), creating them if needed. */
static __always_inline struct syscall_stats *stats_for(__u32 tgid, __u32 nr)
{
	struct syscall_key key = {};
	struct syscall_stats zero = {}, *stats;

	if (!per_process && nr < SYSCALL_ARRAY_SIZE)
		return bpf_map_lookup_elem(&system_stats, &nr);

	key.tgid = per_process ? tgid : 0;
	key.nr = nr;
	stats = bpf_map_lookup_elem(&process_stats, &key);
	if (stats)
		return stats;
	/* Fails when another CPU created the key meanwhile (the lookup below
	 * then finds it) or when the map is full (counted as dropped). */
	bpf_map_update_elem(&process_stats, &key, &zero, BPF_NOEXIST);
	stats = bpf_map_lookup_elem(&process_stats, &key);
	if (!stats)
		count_dropped();
	return stats;
}

static __always_inline void count_error(__u32 tgid, __u32 nr, __u32 errno_)
{
	struct error_key key = {
		.tgid = per_process ? tgid : 0,
		.nr = nr,
		.errno_ = errno_,
	};
	__u64 one = 1, *count;

	count = bpf_map_lookup_elem(&error_counts, &key);
	if (count) {
		(*count)++;
		return;
	}
	if (bpf_map_update_elem(&error_counts, &key, &one, BPF_NOEXIST)) {
		/* Lost the race to another CPU: count on the entry it made. */
		count = bpf_map_lookup_elem(&error_counts, &key);
		if (count)
			(*count)++;
		else
			count_dropped();
	}
}

SEC("raw_tracepoint/sys_enter")
int syscalls_enter(struct bpf_raw_tracepoint_args *ctx)
{
	long nr = (long)ctx->args[1];
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct syscall_stats *stats;
	struct inflight *inflight;

	/* nr is -1 when a tracer or seccomp skipped the syscall. */
	if (nr < 0 || (self_tgid && tgid == self_tgid))
		return 0;

	if (count_calls) {
		stats = stats_for(tgid, nr);
		if (stats)
			stats->calls++;
	}

	if (count_errors || measure_duration) {
		inflight = bpf_task_storage_get(&inflight_syscalls, bpf_get_current_task_btf(), 0,
						BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (inflight) {
			inflight->nr = nr;
			if (measure_duration)
				inflight->start_ns = bpf_ktime_get_ns();
		}
	}
	return 0;
}

SEC("raw_tracepoint/sys_exit")
int syscalls_exit(struct bpf_raw_tracepoint_args *ctx)
{
	long ret = (long)ctx->args[1];
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct syscall_stats *stats;
	struct inflight *inflight;
	__u32 nr;

	if (!count_errors && !measure_duration)
		return 0;
	if (self_tgid && tgid == self_tgid)
		return 0;

	inflight = bpf_task_storage_get(&inflight_syscalls, bpf_get_current_task_btf(), 0, 0);
	if (!inflight)
		return 0; /* the syscall entered before we attached */
	nr = inflight->nr;
	if (nr == NO_SYSCALL)
		return 0;
	inflight->nr = NO_SYSCALL;

	if (measure_duration) {
		stats = stats_for(tgid, nr);
		if (stats)
			stats->duration_ns += bpf_ktime_get_ns() - inflight->start_ns;
	}
	if (count_errors && ret < 0 && ret >= -MAX_ERRNO)
		count_error(tgid, nr, -ret);
	return 0;
}

/* Records the comm of an exiting thread-group leader (the process's name). */
SEC("raw_tracepoint/sched_process_exit")
int syscalls_process_exit(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;
	struct exited_process exited = {};

	if (!per_process || (__u32)pid_tgid != tgid)
		return 0;
	bpf_get_current_comm(exited.comm, sizeof(exited.comm));
	bpf_map_update_elem(&exited_processes, &tgid, &exited, BPF_ANY);
	return 0;
}
