//go:build ignore

// SPDX-License-Identifier: GPL-2.0
/* Counts syscalls in the kernel: calls, errors and time spent, aggregated in
 * per-CPU maps that user space reads on each scrape; nothing is sent to user
 * space per syscall.
 *
 * One source, three builds, one per way of hooking the syscall path; the
 * loader picks the first the kernel supports:
 *   HOOK_TP_BTF      BTF-enabled raw tracepoints (tp_btf), Linux 5.15+ with
 *                    BTF. Calls and errors are counted at sys_exit, where
 *                    the return value is known; sys_enter times syscalls
 *                    and catches those the kernel renumbers (see
 *                    is_sigreturn).
 *   HOOK_RAW_TP      raw tracepoints, no BTF needed (Linux 5.5+). Built
 *                    twice: with CORE_READS, for kernels that have BTF but
 *                    not what tp_btf needs (5.10 to 5.14), the task's start
 *                    time is read through bpf_get_current_task() at offsets
 *                    relocated against the kernel's BTF; without, it loads
 *                    on kernels without BTF.
 *   HOOK_TRACEPOINT  classic tracepoints, no BTF needed (needs tracefs).
 * Without BTF the programs cannot read the task's start time, so a reused
 * pid is not told apart from the process that had it; with classic
 * tracepoints the task's registers are out of reach, so 32-bit processes'
 * syscalls cannot be told apart either. */
#include <stdbool.h>
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "syscalls.h"
#include "histogram.h"

char LICENSE[] SEC("license") = "GPL";

#if defined(HOOK_TP_BTF)
#define HAVE_BTF 1
#elif defined(HOOK_RAW_TP) || defined(HOOK_TRACEPOINT)
#define HAVE_BTF 0
#else
#error "build with -DHOOK_TP_BTF, -DHOOK_RAW_TP or -DHOOK_TRACEPOINT"
#endif
#if defined(CORE_READS) && defined(HOOK_RAW_TP)
#define HAVE_CORE 1 /* task fields read with bpf_probe_read_kernel, CO-RE */
#else
#define HAVE_CORE 0
#endif

#define TS_COMPAT 0x0002                /* x86: in a 32-bit syscall */
#define X32_SYSCALL_BIT 0x40000000      /* x86: x32 ABI syscall */
#define TIF_32BIT 22                    /* arm64: 32-bit task */

#if HAVE_BTF || HAVE_CORE
/* The few kernel fields we read, relocated against the running kernel's BTF
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
#endif

#if HAVE_CORE
/* The start time of the current thread, or of its process (its leader's),
 * without a BTF task pointer: read from kernel memory. */
static __always_inline __u64 current_start(bool thread)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	__u64 start = 0;

	if (!thread)
		bpf_probe_read_kernel(&t, sizeof(t), &t->group_leader);
	bpf_probe_read_kernel(&start, sizeof(start), &t->start_boottime);
	return start;
}
#endif

#if HAVE_BTF

struct pt_regs {
#if defined(__TARGET_ARCH_x86)
	unsigned long orig_ax;
#elif defined(__TARGET_ARCH_arm64)
	int syscallno;
#endif
} __attribute__((preserve_access_index));

/* The syscall number a task is in (or last returned from). */
static __always_inline long regs_nr(struct pt_regs *regs)
{
#if defined(__TARGET_ARCH_x86)
	return (long)regs->orig_ax;
#elif defined(__TARGET_ARCH_arm64)
	return regs->syscallno;
#endif
}
#endif /* HAVE_BTF */

#if defined(HOOK_RAW_TP)
/* Without BTF, struct pt_regs is read at fixed offsets: its layout is part
 * of each architecture's ptrace ABI. */
#if defined(__TARGET_ARCH_x86)
static __always_inline long regs_nr(void *regs)
{
	long orig_ax = -1;

	bpf_probe_read_kernel(&orig_ax, sizeof(orig_ax), regs + 15 * 8);
	return orig_ax;
}

/* A 32-bit task enters the kernel from the 32-bit code segment. */
static __always_inline bool regs_compat(void *regs)
{
	__u64 cs = 0;

	bpf_probe_read_kernel(&cs, sizeof(cs), regs + 17 * 8);
	return cs == 0x23; /* __USER32_CS */
}
#elif defined(__TARGET_ARCH_arm64)
static __always_inline long regs_nr(void *regs)
{
	int syscallno = -1;

	bpf_probe_read_kernel(&syscallno, sizeof(syscallno), regs + 35 * 8);
	return syscallno;
}

static __always_inline bool regs_compat(void *regs)
{
	__u64 pstate = 0;

	bpf_probe_read_kernel(&pstate, sizeof(pstate), regs + 33 * 8);
	return pstate & 0x10; /* PSR_MODE32_BIT */
}
#endif
#endif /* HOOK_RAW_TP */

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

/* Calls indexed by abi * SYSCALL_SLOTS + nr: the whole host when nothing
 * is grouped, else the overflow group (groups past max_groups). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ABI_COUNT * SYSCALL_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} array_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* memory follows use, not max_entries */
	__uint(max_entries, 1024); /* sized by the loader */
	__type(key, struct syscall_key);
	__type(value, __u64);
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

/* Duration histograms, sparse since a syscall's durations span a few
 * buckets only: per (group, syscall, bucket) the count, sum, min and max of
 * the durations that fell in it. With calls counted at exit, a timed call
 * is counted here only, so that it costs one hash lookup, not two. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* memory follows use, not max_entries */
	__uint(max_entries, 1024); /* sized by the loader */
	__type(key, struct bucket_key);
	__type(value, struct bucket_stats);
} duration_buckets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct overflow_bucket_key);
	__type(value, struct bucket_stats);
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

/* The syscall each thread is in, as it entered: when (for syscall.duration)
 * and, for an execve, the number and ABI it was made with. */
struct inflight {
	__u64 start_ns; /* 0: not timed */
	__s32 nr;       /* -1: none recorded */
	__u32 abi;
};

#if HAVE_BTF
/* Task storage is freed with the task and needs no hash lookup. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct inflight);
} inflight_syscalls SEC(".maps");
#else
/* By thread id; an exiting thread deletes its entry. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct inflight);
} inflight_syscalls SEC(".maps");
#endif

static __always_inline void count_dropped(void)
{
	__u32 zero = 0;
	__u64 *dropped = bpf_map_lookup_elem(&dropped_updates, &zero);

	if (dropped)
		(*dropped)++;
}

/* x86-64 marks x32 syscalls with a bit in the number; strip it. */
static __always_inline __u32 native_abi(long *nr)
{
#if defined(__TARGET_ARCH_x86)
	if (*nr & X32_SYSCALL_BIT) {
		*nr &= ~X32_SYSCALL_BIT;
		return ABI_X32;
	}
#endif
	return ABI_NATIVE;
}

#if HAVE_BTF
/* Which syscall table nr belongs to, as the kernel itself decides. */
static __always_inline __u32 task_abi(struct task_struct *task, long *nr)
{
#if defined(__TARGET_ARCH_x86)
	if (task->thread_info.status & TS_COMPAT)
		return ABI_COMPAT;
#elif defined(__TARGET_ARCH_arm64)
	if (task->thread_info.flags & (1UL << TIF_32BIT))
		return ABI_COMPAT;
#endif
	return native_abi(nr);
}

/* Counting at sys_exit needs two corrections: a new task's first return
 * (from fork, vfork, clone or clone3, with 0) is not a call of its own, and
 * exit and exit_group never return, so they are counted when the task
 * exits. Numbers per ABI, as fixed forever by each syscall table. */
static __always_inline bool is_fork(long nr, __u32 abi)
{
#if defined(__TARGET_ARCH_x86)
	if (abi == ABI_COMPAT) /* i386 */
		return nr == 2 || nr == 120 || nr == 190 || nr == 435;
	return nr == 56 || nr == 57 || nr == 58 || nr == 435;
#elif defined(__TARGET_ARCH_arm64)
	if (abi == ABI_COMPAT) /* arm */
		return nr == 2 || nr == 120 || nr == 190 || nr == 435;
	return nr == 220 || nr == 435;
#endif
}

static __always_inline bool is_exit(long nr, __u32 abi)
{
#if defined(__TARGET_ARCH_x86)
	if (abi == ABI_COMPAT)
		return nr == 1 || nr == 252;
	return nr == 60 || nr == 231;
#elif defined(__TARGET_ARCH_arm64)
	if (abi == ABI_COMPAT)
		return nr == 1 || nr == 248;
	return nr == 93 || nr == 94;
#endif
}
#endif /* HAVE_BTF */

/* Two kinds of syscall change their own number or ABI while they run, so
 * the kernel's view at sys_exit is not the call that was made. Both are
 * counted as they entered, as strace does:
 * - sigreturn and rt_sigreturn restore the interrupted code's registers,
 *   the syscall number with them (-1 at sys_exit): counted at sys_enter;
 * - an execve that switches between 64 and 32 bits returns as the new
 *   personality's execve (x86) or with the new ABI's flag (arm64): its
 *   entry is remembered in inflight_syscalls and used at sys_exit. */
static __always_inline bool is_sigreturn(long nr, __u32 abi)
{
	if (abi == ABI_COMPAT) /* i386, arm */
		return nr == 119 || nr == 173;
#if defined(__TARGET_ARCH_x86)
	if (abi == ABI_X32)
		return nr == 513;
	return nr == 15;
#elif defined(__TARGET_ARCH_arm64)
	return nr == 139;
#endif
}

static __always_inline bool is_execve(long nr, __u32 abi)
{
#if defined(__TARGET_ARCH_x86)
	if (abi == ABI_COMPAT)
		return nr == 11 || nr == 358;
	if (abi == ABI_X32)
		return nr == 520 || nr == 545;
	return nr == 59 || nr == 322;
#elif defined(__TARGET_ARCH_arm64)
	if (abi == ABI_COMPAT)
		return nr == 11 || nr == 387;
	return nr == 221 || nr == 281;
#endif
}

/* Whether an exit could be an execve's under any ABI (the exit's ABI may be
 * the new one): the only untimed exits that read their entry record. */
static __always_inline bool maybe_execve(long nr)
{
#if defined(__TARGET_ARCH_x86)
	return nr == 11 || nr == 59 || nr == 322 || nr == 358 || nr == 520 || nr == 545;
#elif defined(__TARGET_ARCH_arm64)
	return nr == 11 || nr == 221 || nr == 281 || nr == 387;
#endif
}

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

/* Who made the syscall, as far as group_by asks. task is the current task
 * (a BTF pointer; NULL without BTF), passed in so that the helper runs once. */
static __always_inline void group_of(struct group_key *g, __u64 pid_tgid, void *task)
{
#if HAVE_BTF
	struct task_struct *t = task;
#endif

	if (group_by_thread) {
		g->tgid = pid_tgid >> 32;
		g->tid = (__u32)pid_tgid;
#if HAVE_BTF
		g->start_ns = t->start_boottime;
#elif HAVE_CORE
		g->start_ns = current_start(true);
#endif
	} else if (group_by_process) {
		g->tgid = pid_tgid >> 32;
#if HAVE_BTF
		g->start_ns = t->group_leader->start_boottime;
#elif HAVE_CORE
		g->start_ns = current_start(false);
#endif
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
	return bpf_map_lookup_elem(&array_stats, &index);
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

/* Returns this CPU's call counter for the group's syscall, creating it if
 * needed; a group past max_groups, or a full map, lands in the overflow
 * slot so that sums over all groups stay exact. */
static __always_inline __u64 *calls_for(struct group_key *g, __u32 nr, __u32 abi)
{
	struct syscall_key key = { .group = *g, .nr = nr, .abi = abi };
	__u64 zero = 0, *stats;

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

static __always_inline void add_duration(struct bucket_stats *stats, __u64 d)
{
	stats->count++;
	stats->duration_ns += d;
	if (!stats->min_ns || d < stats->min_ns)
		stats->min_ns = d;
	if (d > stats->max_ns)
		stats->max_ns = d;
}

/* Adds one measured duration to the group's histogram bucket, creating it
 * if needed; past max_groups or a full map, to the overflow group's. */
static __always_inline void record_duration(struct group_key *g, __u32 nr, __u32 abi, __u64 d)
{
	__s16 bucket = bucket_of(d);
	struct bucket_key key = { .group = *g, .nr = nr, .abi = abi, .bucket = bucket };
	struct overflow_bucket_key okey = { .nr = nr, .abi = abi, .bucket = bucket };
	struct bucket_stats zero = {}, *stats;

	stats = bpf_map_lookup_elem(&duration_buckets, &key);
	if (stats)
		goto add;
	if (!grouped || admit(g)) {
		bpf_map_update_elem(&duration_buckets, &key, &zero, BPF_NOEXIST);
		stats = bpf_map_lookup_elem(&duration_buckets, &key); /* or a racing CPU's */
		if (stats)
			goto add;
	}
	stats = bpf_map_lookup_elem(&overflow_buckets, &okey);
	if (!stats) {
		bpf_map_update_elem(&overflow_buckets, &okey, &zero, BPF_NOEXIST);
		stats = bpf_map_lookup_elem(&overflow_buckets, &okey);
	}
	if (!stats) {
		count_dropped();
		return;
	}
add:
	add_duration(stats, d);
}

/* Whether this syscall of the current task is counted at all. */
static __always_inline bool selected(__u64 pid_tgid, long nr, __u32 abi)
{
	/* nr is -1 when a tracer or seccomp skipped the syscall. */
	if (nr < 0 || (self_tgid && (pid_tgid >> 32) == self_tgid))
		return false;
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

/* Counts what a returning syscall tells: the call itself (when counted at
 * exit), its error, its duration. start is when it entered, 0 if unknown.
 * A timed call is counted in its histogram bucket (see duration_buckets). */
static __always_inline void count_return(__u64 pid_tgid, void *task, long nr, __u32 abi, long ret, __u64 start,
					 bool call)
{
	struct group_key g = {};
	__u64 *calls;
	bool failed = count_errors && ret < 0 && ret >= -MAX_ERRNO;
	bool timed = measure_duration && start;

	if (!call && !failed && !timed)
		return;
	group_of(&g, pid_tgid, task);
	if (timed) {
		record_duration(&g, nr, abi, bpf_ktime_get_ns() - start);
	} else if (call) {
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

#if defined(HOOK_TP_BTF)

/* Times syscalls, counts sigreturns and remembers how an execve entered;
 * every other call and error is counted at exit. */
SEC("tp_btf/sys_enter")
int syscalls_enter(__u64 *ctx)
{
	long nr = (long)ctx[1];
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 abi = task_abi(task, &nr);
	bool sigreturn = is_sigreturn(nr, abi), exec = is_execve(nr, abi);
	__u64 pid_tgid;
	struct inflight *entry;

	/* Untimed, every other syscall has nothing to do here. */
	if (!measure_duration && !(count_calls && (sigreturn || exec)))
		return 0;
	pid_tgid = bpf_get_current_pid_tgid();
	if (!selected(pid_tgid, nr, abi))
		return 0;
	if (sigreturn) {
		if (count_calls)
			count_call(pid_tgid, task, nr, abi);
		return 0; /* untimed: it returns to other code than its caller */
	}
	entry = bpf_task_storage_get(&inflight_syscalls, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (entry) {
		entry->start_ns = measure_duration ? bpf_ktime_get_ns() : 0;
		entry->nr = nr;
		entry->abi = abi;
	}
	return 0;
}

SEC("tp_btf/sys_exit")
int syscalls_exit(__u64 *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx[0];
	long ret = (long)ctx[1], nr = regs_nr(regs);
	__u64 pid_tgid = bpf_get_current_pid_tgid(), start = 0;
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 abi = task_abi(task, &nr);
	bool exec = ret == 0 && maybe_execve(nr);

	/* nr is -1 after a sigreturn (counted at entry) and when a tracer or
	 * seccomp skipped the syscall. */
	if (nr < 0 || (!exec && !selected(pid_tgid, nr, abi)))
		return 0;
	/* None recorded: the syscall entered before we attached. */
	if (measure_duration || (count_calls && exec))
		start = take_entry(bpf_task_storage_get(&inflight_syscalls, task, 0, 0), &nr, &abi, exec);
	if ((exec && !selected(pid_tgid, nr, abi)) || (ret == 0 && is_fork(nr, abi)))
		return 0;
	count_return(pid_tgid, task, nr, abi, ret, start, count_calls);
	return 0;
}

/* Counts the exit or exit_group the task is leaving by, and records it. */
SEC("tp_btf/sched_process_exit")
int syscalls_task_exit(__u64 *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	long nr = regs_nr(regs);
	__u32 abi = task_abi(task, &nr);

	/* A task killed by a signal is not in a syscall (nr is -1) or has
	 * returned from its last one (already counted). */
	if (count_calls && is_exit(nr, abi) && selected(pid_tgid, nr, abi))
		count_call(pid_tgid, task, nr, abi);
	record_exit(pid_tgid, group_by_thread ? task->start_boottime : task->group_leader->start_boottime);
	return 0;
}

#else /* no BTF: calls are counted at entry */

/* Counts the call; if it is timed, records when it entered, by thread id. */
static __always_inline void enter(__u64 pid_tgid, long nr, __u32 abi)
{
	__u32 tid = (__u32)pid_tgid;

	if (!selected(pid_tgid, nr, abi))
		return;
	if (count_calls)
		count_call(pid_tgid, 0, nr, abi);
	if (measure_duration && !is_sigreturn(nr, abi)) {
		struct inflight entry = { .start_ns = bpf_ktime_get_ns(), .nr = nr, .abi = abi };

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
#if HAVE_CORE
	record_exit(pid_tgid, current_start(group_by_thread));
#else
	record_exit(pid_tgid, 0);
#endif
}

#if defined(HOOK_RAW_TP)

SEC("raw_tracepoint/sys_enter")
int syscalls_enter(struct bpf_raw_tracepoint_args *ctx)
{
	long nr = (long)ctx->args[1];
	__u32 abi = regs_compat((void *)ctx->args[0]) ? ABI_COMPAT : native_abi(&nr);

	enter(bpf_get_current_pid_tgid(), nr, abi);
	return 0;
}

SEC("raw_tracepoint/sys_exit")
int syscalls_exit(struct bpf_raw_tracepoint_args *ctx)
{
	void *regs = (void *)ctx->args[0];
	long nr = regs_nr(regs);
	__u32 abi = regs_compat(regs) ? ABI_COMPAT : native_abi(&nr);

	leave(bpf_get_current_pid_tgid(), nr, abi, (long)ctx->args[1]);
	return 0;
}

SEC("raw_tracepoint/sched_process_exit")
int syscalls_task_exit(struct bpf_raw_tracepoint_args *ctx)
{
	task_exit(bpf_get_current_pid_tgid());
	return 0;
}

#else /* HOOK_TRACEPOINT */

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

#endif
#endif
