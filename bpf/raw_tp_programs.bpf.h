// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The raw tracepoint programs, shared by the two raw_tracepoint builds
 * (syscalls_raw_tp.bpf.c, syscalls_raw_tp_core.bpf.c). */
#ifndef RAW_TP_PROGRAMS_BPF_H
#define RAW_TP_PROGRAMS_BPF_H

#include "entry_counting.bpf.h"

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

#endif
