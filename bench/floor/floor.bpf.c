//go:build ignore

// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The floors: programs that do nothing, or only the least that any way of
 * timing or counting per process must do, on the same hooks as the
 * receiver (BTF-enabled raw tracepoints). What they cost is what any eBPF
 * syscall counter pays for that much; the benchmark reports everything
 * else relative to them. */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct task_struct {
	int tgid;
} __attribute__((preserve_access_index));

struct pt_regs {
#if defined(__TARGET_ARCH_x86)
	unsigned long orig_ax;
#elif defined(__TARGET_ARCH_arm64)
	int syscallno;
#endif
} __attribute__((preserve_access_index));

static __always_inline __u32 syscall_nr(struct pt_regs *regs)
{
#if defined(__TARGET_ARCH_x86)
	return regs->orig_ax;
#elif defined(__TARGET_ARCH_arm64)
	return regs->syscallno;
#endif
}

SEC("tp_btf/sys_enter")
int floor_enter(void *ctx)
{
	return 0;
}

SEC("tp_btf/sys_exit")
int floor_exit(void *ctx)
{
	return 0;
}

/* Timing: the entry time kept with the task, the duration summed in one
 * per-CPU slot (so that neither clock read can be optimised away). */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} entry_time SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} total_ns SEC(".maps");

SEC("tp_btf/sys_enter")
int floor_timed_enter(void *ctx)
{
	__u64 *start = bpf_task_storage_get(&entry_time, bpf_get_current_task_btf(), 0,
					    BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (start)
		*start = bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/sys_exit")
int floor_timed_exit(void *ctx)
{
	__u64 *start = bpf_task_storage_get(&entry_time, bpf_get_current_task_btf(), 0, 0);
	__u32 zero = 0;
	__u64 *total;

	if (!start || !*start)
		return 0;
	total = bpf_map_lookup_elem(&total_ns, &zero);
	if (total)
		*total += bpf_ktime_get_ns() - *start;
	return 0;
}

/* Counting per process: one per-CPU hash increment per call, under the
 * smallest key that names a process and a syscall. */
struct process_syscall {
	__u32 tgid;
	__u32 nr;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, struct process_syscall);
	__type(value, __u64);
} process_calls SEC(".maps");

/* The process's slot for the syscall returning now, created if needed. */
static __always_inline __u64 *process_slot(void *map, struct task_struct *task, __u64 *ctx)
{
	struct process_syscall key = { .tgid = task->tgid, .nr = syscall_nr((struct pt_regs *)ctx[0]) };
	__u64 zero = 0, *slot = bpf_map_lookup_elem(map, &key);

	if (slot)
		return slot;
	bpf_map_update_elem(map, &key, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, &key);
}

SEC("tp_btf/sys_exit")
int floor_count_exit(__u64 *ctx)
{
	__u64 *calls = process_slot(&process_calls, bpf_get_current_task_btf(), ctx);

	if (calls)
		(*calls)++;
	return 0;
}

/* A per-process histogram's least work, in one exit program: the timing
 * floor's clock reads and the counting floor's hash add, the duration
 * summed under (process, syscall), with one read of the current task. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, struct process_syscall);
	__type(value, __u64);
} process_ns SEC(".maps");

SEC("tp_btf/sys_exit")
int floor_timed_count_exit(__u64 *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 *start = bpf_task_storage_get(&entry_time, task, 0, 0), *ns;

	if (!start || !*start)
		return 0;
	ns = process_slot(&process_ns, task, ctx);
	if (ns)
		*ns += bpf_ktime_get_ns() - *start;
	*start = 0;
	return 0;
}
