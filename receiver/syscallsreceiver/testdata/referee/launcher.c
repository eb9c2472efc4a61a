// SPDX-License-Identifier: Apache-2.0
/* Stops itself, then execs its arguments once continued (SIGCONT). The
 * referee tests start it inside a cgroup of their own and attach the
 * receiver and the referee (strace -p, bpftrace) while it is stopped, so
 * that both see the same syscalls from the program's execve on. */
#include <signal.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	kill(getpid(), SIGSTOP);
	execvp(argv[1], argv + 1);
	return 127;
}
