// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* A traced process killed in a syscall, at one of three points:
 *   entry  at the call's entry stop: the kernel skips the call
 *          (ptrace_report_syscall_entry finds the fatal signal) and still
 *          runs sys_exit for it, on x86 with its number and -ENOSYS;
 *   exit   at its exit stop: the call ran and returned;
 *   read   while it blocks in a read of an empty pipe: the call ran and
 *          returns -ERESTARTSYS at sys_exit.
 *
 * Usage: killed_at_entry entry|exit|read. It reads one byte from stdin
 * first (the test's go-ahead once its programs are loaded), forks the
 * victim, named "sc-victim", which makes its one call (getpriority, or
 * read for "read") under ptrace, and exits 0 when the victim was killed
 * where asked. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
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

/* Waits (up to 10 s) for pid to sleep in the kernel: state S in its stat. */
static int wait_sleeping(pid_t pid)
{
	char path[64], stat[512], *state;
	struct timespec tick = { 0, 1000000 };

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	for (int i = 0; i < 10000; i++) {
		FILE *f = fopen(path, "r");
		size_t n = f ? fread(stat, 1, sizeof(stat) - 1, f) : 0;

		if (f)
			fclose(f);
		stat[n] = 0;
		state = strrchr(stat, ')'); /* after the comm, which may hold anything */
		if (state && state[1] == ' ' && state[2] == 'S')
			return 0;
		nanosleep(&tick, 0);
	}
	fprintf(stderr, "the victim never slept in its read\n");
	return 1;
}

int main(int argc, char **argv)
{
	const char *mode = argc == 2 ? argv[1] : "";
	int in_read = !strcmp(mode, "read"), status, pipefd[2];
	long target = in_read ? SYS_read : SYS_getpriority, entered = -1;
	char go;
	pid_t victim;

	if (strcmp(mode, "entry") && strcmp(mode, "exit") && !in_read) {
		fprintf(stderr, "usage: %s entry|exit|read\n", argv[0]);
		return 2;
	}
	if (read(0, &go, 1) < 0)
		return fail("read");
	if (pipe(pipefd) < 0)
		return fail("pipe");
	victim = fork();
	if (victim < 0)
		return fail("fork");
	if (victim == 0) {
		prctl(PR_SET_NAME, "sc-victim");
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		raise(SIGSTOP);
		if (in_read)
			syscall(SYS_read, pipefd[0], &go, 1); /* nothing is ever written */
		else
			syscall(SYS_getpriority, PRIO_PROCESS, 0);
		_exit(0);
	}
	if (waitpid(victim, &status, 0) < 0 || !WIFSTOPPED(status))
		return fail("waitpid (SIGSTOP)");
	if (ptrace(PTRACE_SETOPTIONS, victim, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL) < 0)
		return fail("PTRACE_SETOPTIONS");
	/* Syscall stops, up to the one asked for: the target's entry (for
	 * "entry" and "read") or the exit of the call that entered as it. */
	for (;;) {
		struct __ptrace_syscall_info info;

		if (ptrace(PTRACE_SYSCALL, victim, 0, 0) < 0)
			return fail("PTRACE_SYSCALL");
		if (waitpid(victim, &status, 0) < 0)
			return fail("waitpid");
		if (!WIFSTOPPED(status)) {
			fprintf(stderr, "the victim ended before its call\n");
			return 1;
		}
		if (WSTOPSIG(status) != (SIGTRAP | 0x80))
			continue;
		if (ptrace(PTRACE_GET_SYSCALL_INFO, victim, sizeof(info), &info) < 0)
			return fail("PTRACE_GET_SYSCALL_INFO");
		if (info.op == PTRACE_SYSCALL_INFO_ENTRY) {
			entered = (long)info.entry.nr;
			if (entered == target && strcmp(mode, "exit"))
				break;
		} else if (info.op == PTRACE_SYSCALL_INFO_EXIT && entered == target) {
			break;
		}
	}
	if (in_read) {
		/* Into the call, which blocks: nothing is written to the pipe. */
		if (ptrace(PTRACE_SYSCALL, victim, 0, 0) < 0)
			return fail("PTRACE_SYSCALL (into read)");
		if (wait_sleeping(victim))
			return 1;
	}
	kill(victim, SIGKILL);
	if (waitpid(victim, &status, 0) < 0)
		return fail("waitpid (SIGKILL)");
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL ? 0 : 1;
}
