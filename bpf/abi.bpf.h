// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Syscall numbers and ABIs: which table a number belongs to, and the few
 * syscalls counting must treat apart. Numbers per ABI, as fixed forever by
 * each architecture's syscall tables. */
#ifndef ABI_BPF_H
#define ABI_BPF_H

#include "syscalls.h"

#define TS_COMPAT	0x0002	   /* x86: in a 32-bit syscall */
#define X32_SYSCALL_BIT 0x40000000 /* x86: x32 ABI syscall */
#define TIF_32BIT	22	   /* arm64: 32-bit task */

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

/* Whether an entry could be a sigreturn's or an execve's under any ABI, as
 * the number arrives (x32's with its bit): a test on the number alone, so
 * that the untimed hook lets every other call go before it reads the task. */
static __always_inline bool maybe_sigreturn_or_execve(long nr)
{
#if defined(__TARGET_ARCH_x86)
	nr &= ~X32_SYSCALL_BIT;
	return nr == 15 || nr == 119 || nr == 173 || nr == 513 || maybe_execve(nr);
#elif defined(__TARGET_ARCH_arm64)
	return nr == 119 || nr == 139 || nr == 173 || maybe_execve(nr);
#endif
}

#endif
