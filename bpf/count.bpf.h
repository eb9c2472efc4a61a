// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Counting, shared by every hook: which calls are selected, whose they are,
 * and the counters, errors and durations they add to.
 *
 * The file that includes this one first defines how its hook reads a
 * task's start time:
 *   static __always_inline __u64 start_time_of(void *task, bool thread);
 * (0 where the hook cannot read it). */
#ifndef COUNT_BPF_H
#define COUNT_BPF_H

#include "syscalls.h"
#include "histogram.h"
#include "abi.bpf.h"
#include "maps.bpf.h"

/* The syscall each thread is in, as it entered: when (for syscall.duration)
 * and, for an execve, the number and ABI it was made with. */
struct inflight {
	__u64 start_ns; /* 0: not timed */
	__s32 nr;	/* -1: none recorded */
	__u32 abi;
};

/* Consumes the entry record of the syscall returning now: returns when it
 * entered (0 if untimed) and, for a successful execve, puts back the
 * number and ABI it was made with. */
static __always_inline __u64 take_entry(struct inflight *entry, long *nr, __u32 *abi, bool exec)
{
	__u64 start;

	if (!entry)
		return 0;
	start = entry->start_ns;
	if (exec && is_execve(entry->nr, entry->abi)) {
		*nr = entry->nr;
		*abi = entry->abi;
	}
	entry->start_ns = 0;
	entry->nr = -1;
	return start;
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
	if (word >= ALL_SYSCALL_SLOTS / 64)
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

/* Who made the syscall, as far as group_by asks. task is the current task
 * (a BTF pointer; NULL without BTF), passed in so that the helper runs once. */
static __always_inline void group_of(struct group_key *g, __u64 pid_tgid, void *task)
{
	if (group_by_thread) {
		g->tgid = pid_tgid >> 32;
		g->tid = (__u32)pid_tgid;
		g->start_ns = start_time_of(task, true);
	} else if (group_by_process) {
		g->tgid = pid_tgid >> 32;
		g->start_ns = start_time_of(task, false);
	}
	if (group_by_cgroup)
		g->cgroup_id = bpf_get_current_cgroup_id();
}

/* The array slot for the host (nothing grouped) or the overflow group. */
static __always_inline __u64 *array_slot(__u32 nr, __u32 abi)
{
	__u32 index = abi * SYSCALL_SLOTS + nr;

	if (nr >= SYSCALL_SLOTS)
		return 0;
	return bpf_map_lookup_elem(&array_calls, &index);
}

/* Admits a new group unless max_groups are already counted. */
static __always_inline bool admit(struct group_key *g)
{
	__u32 zero = 0, *full;
	__u8 one = 1;

	if (bpf_map_lookup_elem(&groups, g))
		return true;
	full = bpf_map_lookup_elem(&groups_full, &zero);
	if (full && *full)
		return false;
	if (!bpf_map_update_elem(&groups, g, &one, BPF_NOEXIST))
		return true;
	if (bpf_map_lookup_elem(&groups, g)) /* another CPU added it */
		return true;
	if (full)
		*full = 1;
	return false;
}

/* The group's compact id (see struct compact_key). Two processes share it
 * only if one reuses the other's pid at the same microsecond of a
 * 2^(64 - PID_BITS + START_SHIFT) ns (52-day) cycle while the other's
 * counters are still in the maps: as good as never. */
static __always_inline struct compact_key compact_key_of(struct group_key *g, __u32 word)
{
	__u64 id;

	if (group_by_cgroup)
		id = g->cgroup_id;
	else
		id = (g->start_ns >> START_SHIFT) << PID_BITS | (group_by_thread ? g->tid : g->tgid);

	return (struct compact_key){ .id_lo = (__u32)id, .id_hi = id >> 32, .word = word };
}

/* Returns this CPU's call counter for the group's syscall in map under key,
 * creating it if needed; NULL past max_groups or when the map is full. */
static __always_inline __u64 *group_counter(void *map, void *key, struct group_key *g)
{
	__u64 zero = 0, *calls = bpf_map_lookup_elem(map, key);

	if (calls)
		return calls;
	if (!admit(g))
		return 0;
	return lookup_or_try_init(map, key, &zero);
}

/* Returns this CPU's call counter for the group's syscall, creating it if
 * needed; a group past max_groups, or a full map, lands in the overflow
 * slot so that sums over all groups stay exact. */
static __always_inline __u64 *calls_for(struct group_key *g, __u32 nr, __u32 abi)
{
	__u64 zero = 0, *calls;

	/* Each key is built in its branch only: the verifier prunes the
	 * branches of the other modes, not stores made before them. */
	if (!GROUPED) {
		calls = array_slot(nr, abi);
		if (calls)
			return calls;
		/* A number past the array: the hash, under the zero group. */
		struct syscall_key key = { .nr = nr, .abi = abi };

		calls = lookup_or_try_init(&group_calls, &key, &zero);
	} else if (COMPACT && nr < (1U << CALL_ABI_SHIFT)) {
		struct compact_key key = compact_key_of(g, nr | abi << CALL_ABI_SHIFT);

		calls = group_counter(&compact_calls, &key, g);
	} else {
		struct syscall_key key = { .group = *g, .nr = nr, .abi = abi };

		calls = group_counter(&group_calls, &key, g);
	}
	if (calls)
		return calls;
	calls = array_slot(nr, abi);
	if (!calls)
		count_dropped();
	return calls;
}

static __always_inline void increment(void *map, void *key)
{
	__u64 zero = 0, *count = lookup_or_try_init(map, key, &zero);

	if (count)
		(*count)++;
	else
		count_dropped();
}

static __always_inline void count_error(struct group_key *g, __u32 nr, __u32 abi, __u32 errno_)
{
	struct error_key key = { .group = *g, .nr = nr, .abi = abi, .errno_ = errno_ };
	struct overflow_error_key okey = { .nr = nr, .abi = abi, .errno_ = errno_ };
	__u64 zero = 0, *count = bpf_map_lookup_elem(&error_counts, &key);

	if (!count && (!GROUPED || admit(g)))
		count = lookup_or_try_init(&error_counts, &key, &zero);
	if (count)
		(*count)++;
	else
		increment(&overflow_errors, &okey);
}

/* Adds duration d to a sum, min (0: none yet) and max of durations. */
static __always_inline void add_to_sums(__u64 *sum, __u64 *min, __u64 *max, __u64 d)
{
	*sum += d;
	if (!*min || d < *min)
		*min = d;
	if (d > *max)
		*max = d;
}

static __always_inline void add_duration(struct bucket_durations *stats, __u64 d)
{
	stats->count++;
	add_to_sums(&stats->duration_ns, &stats->min_ns, &stats->max_ns, d);
}

/* Creates the key's bucket in map (on a miss only: its zero value is 32
 * bytes of stores). */
static __always_inline struct bucket_durations *new_bucket(void *map, void *key)
{
	struct bucket_durations zero = {};

	return lookup_or_try_init(map, key, &zero);
}

/* Adds one duration to the chunk of the group's buckets that holds bucket
 * (the index of bucket - first_bound + 1 is masked in bounds), creating
 * the chunk if needed. Returns false past max_groups or a full map. */
static __always_inline bool add_to_chunk(struct group_key *g, __u32 nr, __u32 abi, __u32 index, __u64 d)
{
	__u32 word = nr | abi << BUCKET_ABI_SHIFT | (index / CHUNK_BUCKETS) << BUCKET_INDEX_SHIFT;
	struct compact_key key = compact_key_of(g, word);
	struct bucket_chunk *chunk = bpf_map_lookup_elem(&compact_buckets, &key);

	if (!chunk) {
		struct bucket_chunk zero = {};

		if (!admit(g))
			return false;
		chunk = lookup_or_try_init(&compact_buckets, &key, &zero);
		if (!chunk)
			return false;
	}
	/* The count last, and first in the value: a snapshot, which copies
	 * the value in address order, sees the sum, min and max of every call
	 * it counts (x86 keeps stores in order; elsewhere, nearly always). */
	add_to_sums(&chunk->duration_ns, &chunk->min_ns, &chunk->max_ns, d);
	chunk->count[index % CHUNK_BUCKETS]++;
	return true;
}

/* Adds one measured duration to the group's histogram bucket, creating it
 * if needed; past max_groups or a full map, to the overflow group's. */
static __always_inline void record_duration(struct group_key *g, __u32 nr, __u32 abi, __u64 d)
{
	__s16 bucket = (ablate & ABLATE_BUCKET) ? first_bound : bucket_of(d);
	struct bucket_durations *stats = 0;

	if (COMPACT && nr < (1U << BUCKET_ABI_SHIFT)) {
		if (add_to_chunk(g, nr, abi, (__u32)(bucket - first_bound + 1) & (DURATION_BOUND_SLOTS - 1),
				 d))
			return;
	} else {
		struct bucket_key key = { .group = *g, .nr = nr, .abi = abi, .bucket = bucket };

		stats = bpf_map_lookup_elem(&duration_buckets, &key);
		if (!stats && (!GROUPED || admit(g)))
			stats = new_bucket(&duration_buckets, &key);
	}
	if (!stats) {
		struct overflow_bucket_key key = { .nr = nr, .abi = abi, .bucket = bucket };

		stats = new_bucket(&overflow_buckets, &key);
	}
	if (stats)
		add_duration(stats, d);
	else
		count_dropped();
}

/* Whether a task with these ptrace flags and pending signals, returning
 * -ENOSYS, never ran its call: a traced task killed as it entered (SIGKILL
 * pending after, or instead of, its ptrace entry stop). The kernel skipped
 * the call and still runs sys_exit, with the call's number on x86; no
 * sys_enter saw it, and strace shows it as died or not at all: not a call,
 * and no error. */
static __always_inline bool traced_and_killed(unsigned int ptrace, unsigned long signals)
{
	return (ptrace & 1 /* PT_PTRACED */) && (signals & (1UL << (9 /* SIGKILL */ - 1)));
}

/* Whether this syscall of the current task is counted at all. */
static __always_inline bool selected(__u64 pid_tgid, long nr, __u32 abi)
{
	/* nr is -1 when a tracer or seccomp skipped the syscall. */
	if (nr < 0)
		return false;
	if (exclude_process) {
		__u32 zero = 0, *tgid = bpf_map_lookup_elem(&excluded_tgid, &zero);

		if (tgid && *tgid == (pid_tgid >> 32))
			return false;
	}
	return syscall_selected(nr, abi) && task_selected(pid_tgid >> 32);
}

static __always_inline void count_call(__u64 pid_tgid, void *task, long nr, __u32 abi)
{
	struct group_key g = {};
	__u64 *calls;

	group_of(&g, pid_tgid, task);
	calls = calls_for(&g, nr, abi);
	if (calls)
		(*calls)++;
}

/* Counts what a returning syscall tells: its error, its duration, and with
 * count_call_at_exit the call itself (the hooks that count calls at
 * sys_enter pass false). start is when it entered, 0 if unknown. A timed
 * call is counted in its histogram bucket only (see duration_buckets). */
static __always_inline void count_return(__u64 pid_tgid, void *task, long nr, __u32 abi, long ret,
					 __u64 start, bool count_call_at_exit)
{
	struct group_key g = {};
	__u64 *calls;
	bool failed = count_errors && ret < 0 && ret >= -MAX_ERRNO;
	bool timed = measure_duration && start;

	if (!count_call_at_exit && !failed && !timed)
		return;
	group_of(&g, pid_tgid, task);
	if (timed) {
		__u64 d = (ablate & ABLATE_CLOCK) ? 1000 : bpf_ktime_get_ns() - start;

		if (!(ablate & ABLATE_HISTOGRAM))
			record_duration(&g, nr, abi, d);
	} else if (count_call_at_exit) {
		calls = calls_for(&g, nr, abi);
		if (calls)
			(*calls)++;
	}
	if (failed)
		count_error(&g, nr, abi, -ret);
}

/* Records the comm of an exiting process (or thread, when grouping by
 * thread): the name of tasks gone before the next scrape. */
static __always_inline void record_exit(__u64 pid_tgid, __u64 start_ns)
{
	__u32 tid = (__u32)pid_tgid;
	struct exited_task exited = { .start_ns = start_ns };

	if (!group_by_process && !group_by_thread)
		return;
	if (!group_by_thread && tid != (pid_tgid >> 32))
		return;
	bpf_get_current_comm(exited.comm, sizeof(exited.comm));
	bpf_map_update_elem(&exited_tasks, &tid, &exited, BPF_ANY);
}

#endif
