// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The settings the loader fixes before loading, and the maps every hook
 * counts into. */
#ifndef MAPS_BPF_H
#define MAPS_BPF_H

#include "syscalls.h"

/* Set by the loader before the programs are loaded. Being constants, the
 * verifier prunes the branches of every feature that is switched off, so
 * what is disabled costs nothing at run time. */
volatile const bool exclude_process = false; /* see excluded_tgid */
/* Parts of the duration path left out, for make bench only (it measures
 * what each costs); never set when counting. 0: none. */
volatile const __u32 ablate = 0;
volatile const bool group_by_process = false;
volatile const bool group_by_thread = false;
volatile const bool group_by_cgroup = false;
volatile const bool count_calls = true;
volatile const bool count_errors = true;
volatile const bool measure_duration = true;
/* duration.sample_one_in N > 1: a call is timed when a random u32 falls
 * below 2^32/N, so about 1 in N, chosen independently for each call; the
 * others are counted as calls only. 0: every call is timed. */
volatile const __u32 sample_below = 0;
volatile const bool filter_pids = false;
volatile const bool filter_comms = false;
volatile const __u32 filter_cgroup_count = 0;
volatile const bool filter_syscalls = false;
volatile const bool allow_high_syscalls = true; /* numbers >= SYSCALL_SLOTS */
volatile const __u64 syscall_mask[ALL_SYSCALL_SLOTS / 64] = {};

/* The bits of ablate. */
enum ablation {
	ABLATE_CLOCK = 1 << 0,	   /* no clock reads: every duration is 1 us */
	ABLATE_BUCKET = 1 << 1,	   /* no bucket search: every duration in one bucket */
	ABLATE_HISTOGRAM = 1 << 2, /* no histogram update (the call goes uncounted) */
};

/* bpf2go -type finds only types in an object's BTF, and clang puts there
 * only the types of globals and functions: this global brings in the enums
 * Go needs (see gen.go). Loaders skip a section they do not know, so it
 * is never loaded, and the programs do not change. */
struct go_enums {
	enum abi abi;
	enum limits limits;
	enum ablation ablation;
} go_enums SEC(".go_enums");

/* The entry time of a timed syscall: when it entered, or with
 * ABLATE_CLOCK a constant. */
static __always_inline __u64 entry_time(void)
{
	return (ablate & ABLATE_CLOCK) ? 1 : bpf_ktime_get_ns();
}

/* Whether this call is one of the timed ones (see sample_below). */
static __always_inline bool sampled(void)
{
	return !sample_below || bpf_get_prandom_u32() < sample_below;
}

/* Whether calls go to per-group maps (else to the host-wide array). */
#define GROUPED (group_by_process || group_by_thread || group_by_cgroup)
/* Whether one 64-bit word names a group, so that the per-call maps take
 * compact keys (see struct compact_key). */
#define COMPACT (GROUPED && !(group_by_cgroup && (group_by_process || group_by_thread)))

/* Calls indexed by abi * SYSCALL_SLOTS + nr: the whole host when nothing
 * is grouped, else the overflow group (groups past max_groups). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ALL_SYSCALL_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} array_calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* memory follows use, not max_entries */
	__uint(max_entries, 1024);	      /* sized by the loader */
	__type(key, struct syscall_key);
	__type(value, __u64);
} group_calls SEC(".maps");

/* The same under compact keys (see COMPACT): every group_by but a cgroup
 * with a process or thread. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1); /* sized by the loader */
	__type(key, struct compact_key);
	__type(value, __u64);
} compact_calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* memory follows use, not max_entries */
	__uint(max_entries, 1024);	      /* sized by the loader */
	__type(key, struct error_key);
	__type(value, __u64);
} error_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct overflow_error_key);
	__type(value, __u64);
} overflow_errors SEC(".maps");

/* Duration histograms, sparse since a syscall's durations span a few
 * buckets only: per (group, syscall, bucket) the count, sum, min and max of
 * the durations that fell in it. With calls counted at exit, a timed call
 * is counted here only, so that it costs one hash lookup, not two. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* memory follows use, not max_entries */
	__uint(max_entries, 1024);	      /* sized by the loader */
	__type(key, struct bucket_key);
	__type(value, struct bucket_durations);
} duration_buckets SEC(".maps");

/* The same under compact keys, by chunks of CHUNK_BUCKETS buckets (see
 * struct bucket_chunk). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1); /* sized by the loader */
	__type(key, struct compact_key);
	__type(value, struct bucket_chunk);
} compact_buckets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct overflow_bucket_key);
	__type(value, struct bucket_durations);
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

/* Non-zero once groups was found full; user space clears it when it has
 * freed room. Meanwhile a group that is not in the map goes straight to the
 * overflow slots instead of trying a full map (a locked update) on each of
 * its syscalls. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} groups_full SEC(".maps");

/* Comm and start time of tasks that exited (process leaders; every thread
 * when grouping by thread), so that short-lived ones still get a name. User
 * space deletes entries once exported; LRU bounds it if it falls behind. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 32768);
	__type(key, __u32);
	__type(value, struct exited_task);
} exited_tasks SEC(".maps");

/* The process whose syscalls are not counted (the collector itself). A
 * map, not a constant, so that a collector adopting pinned programs can
 * name itself. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} excluded_tgid SEC(".maps");

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

/* Returns the map's value for key, first inserting init if there is none.
 * NULL when the map is full. The insert fails when another CPU inserted the
 * key first: the second lookup then finds that one. */
static __always_inline void *lookup_or_try_init(void *map, const void *key, const void *init)
{
	void *value = bpf_map_lookup_elem(map, key);

	if (value)
		return value;
	bpf_map_update_elem(map, key, init, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, key);
}

static __always_inline void count_dropped(void)
{
	__u32 zero = 0;
	__u64 *dropped = bpf_map_lookup_elem(&dropped_updates, &zero);

	if (dropped)
		(*dropped)++;
}

#endif
