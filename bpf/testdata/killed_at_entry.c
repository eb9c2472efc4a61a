// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* A traced process killed at the entry of a syscall: the kernel skips the
 * call (ptrace_report_syscall_entry finds the fatal signal) and still runs
 * sys_exit for it, with the call's number and -ENOSYS. With "exit" it is
 * killed at the syscall's exit stop instead: the call ran.
 *
 * Usage: killed_at_entry entry|exit. It reads one byte from stdin first
 * (the test's go-ahead once its programs are loaded), forks the victim,
 * named "sc-victim", which calls getpriority once under ptrace, and exits
 * 0 when the victim was killed where asked. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int fail(const char *what)
{
	perror(what);
	return 1;
}

int main(int argc, char **argv)
{
	int at_entry, status;
	char go;
	pid_t victim;

	if (argc != 2 || (strcmp(argv[1], "entry") && strcmp(argv[1], "exit"))) {
		fprintf(stderr, "usage: %s entry|exit\n", argv[0]);
		return 2;
	}
	at_entry = !strcmp(argv[1], "entry");
	if (read(0, &go, 1) < 0)
		return fail("read");
	victim = fork();
	if (victim < 0)
		return fail("fork");
	if (victim == 0) {
		prctl(PR_SET_NAME, "sc-victim");
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		raise(SIGSTOP);
		syscall(SYS_getpriority, PRIO_PROCESS, 0);
		_exit(0);
	}
	if (waitpid(victim, &status, 0) < 0 || !WIFSTOPPED(status))
		return fail("waitpid (SIGSTOP)");
	if (ptrace(PTRACE_SETOPTIONS, victim, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL) < 0)
		return fail("PTRACE_SETOPTIONS");
	for (;;) {
		struct __ptrace_syscall_info info;
		unsigned char want = at_entry ? PTRACE_SYSCALL_INFO_ENTRY : PTRACE_SYSCALL_INFO_EXIT;

		if (ptrace(PTRACE_SYSCALL, victim, 0, 0) < 0)
			return fail("PTRACE_SYSCALL");
		if (waitpid(victim, &status, 0) < 0)
			return fail("waitpid");
		if (!WIFSTOPPED(status)) {
			fprintf(stderr, "the victim ended before its getpriority\n");
			return 1;
		}
		if (WSTOPSIG(status) != (SIGTRAP | 0x80))
			continue;
		if (ptrace(PTRACE_GET_SYSCALL_INFO, victim, sizeof(info), &info) < 0)
			return fail("PTRACE_GET_SYSCALL_INFO");
		if (info.op != want)
			continue;
		/* At the exit stop, the entry's number is gone from info: the
		 * victim's only call after its SIGSTOP's exit is getpriority. */
		if (at_entry && info.entry.nr != SYS_getpriority)
			continue;
		if (!at_entry && info.exit.rval < 0)
			continue; /* the exit of raise's tgkill is 0; getpriority's is positive */
		break;
	}
	kill(victim, SIGKILL);
	if (waitpid(victim, &status, 0) < 0)
		return fail("waitpid (SIGKILL)");
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL ? 0 : 1;
}
