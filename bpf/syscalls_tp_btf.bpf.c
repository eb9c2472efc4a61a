//go:build ignore

// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Counts syscalls on BTF-enabled raw tracepoints (tp_btf): the cheapest
 * and most exact hook, on kernels with BTF and bpf_get_current_task_btf
 * (Linux 5.11+). Calls and errors are counted at sys_exit, where the return
 * value is known; sys_enter times syscalls and catches those that change
 * their number or ABI as they run (see abi.bpf.h). Aggregated in per-CPU
 * maps that user space reads on each scrape; nothing is sent per syscall. */
#include <stdbool.h>
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* The few kernel fields we read, relocated against the running kernel's BTF
 * (CO-RE), so one object fits every kernel version. */
struct thread_info {
	unsigned long flags;
	__u32 status;
} __attribute__((preserve_access_index));

struct sigpending {
	struct {
		unsigned long sig[1];
	} signal;
} __attribute__((preserve_access_index));

struct task_struct {
	struct thread_info thread_info;
	unsigned int ptrace;
	struct sigpending pending;
	int pid;
	int tgid;
	__u64 start_boottime;
	struct task_struct *group_leader;
} __attribute__((preserve_access_index));

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

/* A reused pid makes a new group: groups are keyed by start time too. */
static __always_inline __u64 start_time_of(void *task, bool thread)
{
	struct task_struct *t = task;

	return thread ? t->start_boottime : t->group_leader->start_boottime;
}

/* What bpf_get_current_pid_tgid returns, read from the task we already
 * hold: two loads instead of a helper call on every syscall. */
static __always_inline __u64 pid_tgid_of(struct task_struct *task)
{
	return (__u64)(__u32)task->tgid << 32 | (__u32)task->pid;
}

/* The kernels tp_btf loads on (5.15+) verify the bucket search inlined
 * (the kernel matrix runs 6.1 and 6.12; 5.10 has no tp_btf). */
#define BUCKET_OF_INLINE
#include "count.bpf.h"

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

/* Whether the call returning ret was skipped as its traced task was killed
 * at entry (see traced_and_killed). */
static __always_inline bool skipped_as_killed(struct task_struct *task, long ret)
{
	return ret == -38 /* ENOSYS */ && traced_and_killed(task->ptrace, task->pending.signal.sig[0]);
}

/* The syscall each thread is in; task storage is freed with the task and
 * needs no hash lookup. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct inflight);
} inflight_syscalls SEC(".maps");

/* Times syscalls, counts sigreturns and remembers how an execve entered;
 * every other call and error is counted at exit. */
SEC("tp_btf/sys_enter")
int syscalls_enter(__u64 *ctx)
{
	long nr = (long)ctx[1];
	struct task_struct *task;
	bool sigreturn, exec;
	__u64 pid_tgid, start;
	struct inflight *entry;
	__u32 abi;

	/* Untimed, every other syscall has nothing to do here: most leave on
	 * their number, before the task is read. */
	if (!measure_duration && !(count_calls && maybe_sigreturn_or_execve(nr)))
		return 0;
	task = bpf_get_current_task_btf();
	abi = task_abi(task, &nr);
	sigreturn = is_sigreturn(nr, abi);
	exec = is_execve(nr, abi);
	if (!measure_duration && !(count_calls && (sigreturn || exec)))
		return 0;
	pid_tgid = pid_tgid_of(task);
	if (!selected(pid_tgid, nr, abi))
		return 0;
	if (sigreturn) {
		if (count_calls)
			count_call(pid_tgid, task, nr, abi);
		return 0; /* untimed: it returns to other code than its caller */
	}
	start = measure_duration && sampled() ? entry_time() : 0;
	/* A call not sampled finds the entry its task's last exit cleared:
	 * nothing to write, unless an execve's exit needs its number. */
	if (!start && !exec)
		return 0;
	entry = bpf_task_storage_get(&inflight_syscalls, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (entry) {
		entry->start_ns = start;
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
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 pid_tgid = pid_tgid_of(task), start = 0;
	__u32 abi = task_abi(task, &nr);
	bool exec = ret == 0 && maybe_execve(nr);

	/* nr is -1 after a sigreturn (counted at entry) and when a tracer or
	 * seccomp skipped the syscall. */
	if (nr < 0 || (!exec && !selected(pid_tgid, nr, abi)))
		return 0;
	/* None recorded: the syscall entered before we attached. */
	if (measure_duration || (count_calls && exec))
		start = take_entry(bpf_task_storage_get(&inflight_syscalls, task, 0, 0), &nr, &abi, exec);
	/* A call with an entry time entered, so it ran. */
	if (!start && skipped_as_killed(task, ret))
		return 0;
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
	__u64 pid_tgid = pid_tgid_of(task);
	long nr = regs_nr(regs);
	__u32 abi = task_abi(task, &nr);

	/* A task killed by a signal is not in a syscall (nr is -1) or has
	 * returned from its last one (already counted). */
	if (count_calls && is_exit(nr, abi) && selected(pid_tgid, nr, abi))
		count_call(pid_tgid, task, nr, abi);
	record_exit(pid_tgid, start_time_of(task, group_by_thread));
	return 0;
}
