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
#include "histogram.h"

char LICENSE[] SEC("license") = "GPL";

/* The few task fields we read, relocated against the running kernel's BTF
 * (CO-RE), so one object fits every kernel version. */
struct thread_info {
	unsigned long flags;
	__u32 status;
} __attribute__((preserve_access_index));

struct task_struct {
	struct thread_info thread_info;
	__u64 start_boottime;
	struct task_struct *group_leader;
} __attribute__((preserve_access_index));

#define TS_COMPAT 0x0002                /* x86: in a 32-bit syscall */
#define X32_SYSCALL_BIT 0x40000000      /* x86: x32 ABI syscall */
#define TIF_32BIT 22                    /* arm64: 32-bit task */

/* Set by the loader before the programs are loaded. Being constants, the
 * verifier prunes the branches of every feature that is switched off, so
 * what is disabled costs nothing at run time. */
volatile const __u32 self_tgid = 0;      /* excluded process, 0 = none */
volatile const bool group_by_process = false;
volatile const bool group_by_thread = false;
volatile const bool group_by_cgroup = false;
volatile const bool count_calls = true;
volatile const bool count_errors = true;
volatile const bool measure_duration = true;
volatile const bool filter_pids = false;
volatile const bool filter_comms = false;
volatile const __u32 filter_cgroup_count = 0;
volatile const bool filter_syscalls = false;
volatile const bool allow_high_syscalls = true; /* numbers >= SYSCALL_SLOTS */
volatile const __u64 syscall_mask[ABI_COUNT * SYSCALL_SLOTS / 64] = {};

#define grouped (group_by_process || group_by_thread || group_by_cgroup)

/* Counts indexed by abi * SYSCALL_SLOTS + nr: the whole host when nothing
 * is grouped, else the overflow group (groups past max_groups). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ABI_COUNT * SYSCALL_SLOTS);
	__type(key, __u32);
	__type(value, struct syscall_stats);
} array_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* memory follows use, not max_entries */
	__uint(max_entries, 1024); /* sized by the loader */
	__type(key, struct syscall_key);
	__type(value, struct syscall_stats);
} group_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* memory follows use, not max_entries */
	__uint(max_entries, 1024); /* sized by the loader */
	__type(key, struct error_key);
	__type(value, __u64);
} error_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct overflow_error_key);
	__type(value, __u64);
} overflow_errors SEC(".maps");

/* Duration histograms: one count per (group, syscall, bucket), sparse,
 * since a syscall's durations span a few buckets only. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* memory follows use, not max_entries */
	__uint(max_entries, 1024); /* sized by the loader */
	__type(key, struct bucket_key);
	__type(value, __u64);
} duration_buckets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct overflow_bucket_key);
	__type(value, __u64);
} overflow_buckets SEC(".maps");

/* The groups being counted: max_entries is max_groups, the hard bound on
 * distinct groups. A group that does not fit is counted as overflow. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1); /* sized by the loader */
	__type(key, struct group_key);
	__type(value, __u8);
} groups SEC(".maps");

/* Comm and start time of tasks that exited (process leaders; every thread
 * when grouping by thread), so that short-lived ones still get a name. User
 * space deletes entries once exported; LRU bounds it if it falls behind. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 32768);
	__type(key, __u32);
	__type(value, struct exited_task);
} exited_tasks SEC(".maps");

/* Counter updates lost because every fallback map was full. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} dropped_updates SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} filter_pid_set SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, char[COMM_LEN]);
	__type(value, __u8);
} filter_comm_set SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, MAX_FILTER_CGROUPS);
	__type(key, __u32);
	__type(value, __u32);
} filter_cgroup_set SEC(".maps");

/* The syscall a thread is in and when it entered it. Task storage is freed
 * with the task and needs no hash lookup keyed by thread id. */
struct inflight {
	__u64 start_ns;
	__u32 nr;
	__u32 abi;
	struct group_key group; /* computed at entry, reused at exit */
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

/* Which syscall table nr belongs to. */
static __always_inline __u32 syscall_abi(struct task_struct *task, long *nr)
{
#if defined(__TARGET_ARCH_x86)
	if (task->thread_info.status & TS_COMPAT)
		return ABI_COMPAT;
	if (*nr & X32_SYSCALL_BIT) {
		*nr &= ~X32_SYSCALL_BIT;
		return ABI_X32;
	}
#elif defined(__TARGET_ARCH_arm64)
	if (task->thread_info.flags & (1UL << TIF_32BIT))
		return ABI_COMPAT;
#endif
	return ABI_NATIVE;
}

static __always_inline bool syscall_selected(__u32 nr, __u32 abi)
{
	__u32 word;

	if (!filter_syscalls)
		return true;
	if (nr >= SYSCALL_SLOTS)
		return allow_high_syscalls;
	word = abi * (SYSCALL_SLOTS / 64) + nr / 64;
	barrier_var(word); /* keep this check on word itself: the verifier needs it */
	if (word >= ABI_COUNT * SYSCALL_SLOTS / 64)
		return false;
	return syscall_mask[word] & (1ULL << (nr % 64));
}

static __always_inline bool task_selected(__u32 tgid)
{
	if (filter_pids && !bpf_map_lookup_elem(&filter_pid_set, &tgid))
		return false;
	if (filter_comms) {
		char comm[COMM_LEN] = {};

		bpf_get_current_comm(comm, sizeof(comm));
		if (!bpf_map_lookup_elem(&filter_comm_set, comm))
			return false;
	}
	if (filter_cgroup_count) {
		bool inside = false;

		for (__u32 i = 0; i < MAX_FILTER_CGROUPS && i < filter_cgroup_count; i++) {
			if (bpf_current_task_under_cgroup(&filter_cgroup_set, i) == 1) {
				inside = true;
				break;
			}
		}
		if (!inside)
			return false;
	}
	return true;
}

static __always_inline void group_of(struct group_key *g, struct task_struct *task, __u64 pid_tgid)
{
	if (group_by_thread) {
		g->tgid = pid_tgid >> 32;
		g->tid = (__u32)pid_tgid;
		g->start_ns = task->start_boottime;
	} else if (group_by_process) {
		g->tgid = pid_tgid >> 32;
		g->start_ns = task->group_leader->start_boottime;
	}
	if (group_by_cgroup)
		g->cgroup_id = bpf_get_current_cgroup_id();
}

/* The array slot for the host (nothing grouped) or the overflow group. */
static __always_inline struct syscall_stats *array_slot(__u32 nr, __u32 abi)
{
	__u32 index = abi * SYSCALL_SLOTS + nr;

	if (nr >= SYSCALL_SLOTS)
		return 0;
	return bpf_map_lookup_elem(&array_stats, &index);
}

/* Admits a new group unless max_groups are already counted. */
static __always_inline bool admit(struct group_key *g)
{
	__u8 one = 1;

	if (bpf_map_lookup_elem(&groups, g))
		return true;
	if (!bpf_map_update_elem(&groups, g, &one, BPF_NOEXIST))
		return true;
	return bpf_map_lookup_elem(&groups, g) != 0; /* another CPU added it */
}

/* Returns this CPU's counters for the group's syscall, creating them if
 * needed; a group past max_groups, or a full map, lands in the overflow
 * slot so that sums over all groups stay exact. */
static __always_inline struct syscall_stats *stats_for(struct group_key *g, __u32 nr, __u32 abi)
{
	struct syscall_key key = { .group = *g, .nr = nr, .abi = abi };
	struct syscall_stats zero = {}, *stats;

	if (!grouped) {
		stats = array_slot(nr, abi);
		if (stats)
			return stats;
	} else {
		stats = bpf_map_lookup_elem(&group_stats, &key);
		if (stats)
			return stats;
		if (!admit(g))
			goto overflow;
	}
	/* Fails if another CPU created the key meanwhile (the lookup then
	 * finds it) or if the map is full. */
	bpf_map_update_elem(&group_stats, &key, &zero, BPF_NOEXIST);
	stats = bpf_map_lookup_elem(&group_stats, &key);
	if (stats)
		return stats;
overflow:
	stats = array_slot(nr, abi);
	if (!stats)
		count_dropped();
	return stats;
}

static __always_inline void increment(void *map, void *key)
{
	__u64 one = 1, *count = bpf_map_lookup_elem(map, key);

	if (count) {
		(*count)++;
		return;
	}
	if (!bpf_map_update_elem(map, key, &one, BPF_NOEXIST))
		return;
	count = bpf_map_lookup_elem(map, key); /* lost a race, or full */
	if (count)
		(*count)++;
	else
		count_dropped();
}

static __always_inline void count_error(struct group_key *g, __u32 nr, __u32 abi, __u32 errno_)
{
	struct error_key key = { .group = *g, .nr = nr, .abi = abi, .errno_ = errno_ };
	struct overflow_error_key okey = { .nr = nr, .abi = abi, .errno_ = errno_ };
	__u64 one = 1, *count;

	count = bpf_map_lookup_elem(&error_counts, &key);
	if (count) {
		(*count)++;
		return;
	}
	if ((!grouped || admit(g)) && !bpf_map_update_elem(&error_counts, &key, &one, BPF_NOEXIST))
		return;
	count = bpf_map_lookup_elem(&error_counts, &key);
	if (count) {
		(*count)++;
		return;
	}
	increment(&overflow_errors, &okey);
}

/* Adds one measured duration to the group's sum, min, max and histogram. */
static __always_inline void record_duration(struct group_key *g, __u32 nr, __u32 abi, __u64 d)
{
	struct syscall_stats *stats = stats_for(g, nr, abi);
	__s16 bucket = bucket_of(d);
	struct bucket_key key = { .group = *g, .nr = nr, .abi = abi, .bucket = bucket };
	struct overflow_bucket_key okey = { .nr = nr, .abi = abi, .bucket = bucket };
	__u64 one = 1, *count;

	if (stats) {
		stats->duration_ns += d;
		if (!stats->min_ns || d < stats->min_ns)
			stats->min_ns = d;
		if (d > stats->max_ns)
			stats->max_ns = d;
	}
	count = bpf_map_lookup_elem(&duration_buckets, &key);
	if (count) {
		(*count)++;
		return;
	}
	if ((!grouped || admit(g)) && !bpf_map_update_elem(&duration_buckets, &key, &one, BPF_NOEXIST))
		return;
	count = bpf_map_lookup_elem(&duration_buckets, &key);
	if (count) {
		(*count)++;
		return;
	}
	increment(&overflow_buckets, &okey);
}

SEC("raw_tracepoint/sys_enter")
int syscalls_enter(struct bpf_raw_tracepoint_args *ctx)
{
	long nr = (long)ctx->args[1];
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32, abi;
	struct task_struct *task;
	struct syscall_stats *stats;
	struct inflight *inflight;
	struct group_key g = {};

	/* nr is -1 when a tracer or seccomp skipped the syscall. */
	if (nr < 0 || (self_tgid && tgid == self_tgid))
		return 0;
	task = bpf_get_current_task_btf();
	abi = syscall_abi(task, &nr);
	if (!syscall_selected(nr, abi) || !task_selected(tgid))
		return 0;

	group_of(&g, task, pid_tgid);
	if (count_calls) {
		stats = stats_for(&g, nr, abi);
		if (stats)
			stats->calls++;
	}

	if (count_errors || measure_duration) {
		inflight = bpf_task_storage_get(&inflight_syscalls, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (inflight) {
			inflight->nr = nr;
			inflight->abi = abi;
			inflight->group = g;
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
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct task_struct *task;
	struct inflight *inflight;
	struct group_key g = {};
	__u32 nr;

	if (!count_errors && !measure_duration)
		return 0;
	if (self_tgid && (pid_tgid >> 32) == self_tgid)
		return 0;

	task = bpf_get_current_task_btf();
	inflight = bpf_task_storage_get(&inflight_syscalls, task, 0, 0);
	/* No entry: the syscall entered before we attached, or was filtered. */
	if (!inflight || inflight->nr == NO_SYSCALL)
		return 0;
	nr = inflight->nr;
	inflight->nr = NO_SYSCALL;
	g = inflight->group;

	/* A start of 0 means the entry was recorded with timing off. */
	if (measure_duration && inflight->start_ns)
		record_duration(&g, nr, inflight->abi, bpf_ktime_get_ns() - inflight->start_ns);
	if (count_errors && ret < 0 && ret >= -MAX_ERRNO)
		count_error(&g, nr, inflight->abi, -ret);
	return 0;
}

/* Records the comm of an exiting process (or thread, when grouping by
 * thread): the name of tasks gone before the next scrape. */
SEC("raw_tracepoint/sched_process_exit")
int syscalls_task_exit(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct task_struct *task = bpf_get_current_task_btf();
	struct exited_task exited = {};

	if (!group_by_process && !group_by_thread)
		return 0;
	if (!group_by_thread && tid != (pid_tgid >> 32))
		return 0;
	exited.start_ns = task->start_boottime;
	bpf_get_current_comm(exited.comm, sizeof(exited.comm));
	bpf_map_update_elem(&exited_tasks, &tid, &exited, BPF_ANY);
	return 0;
}
