// SPDX-License-Identifier: Apache-2.0
/* Programs whose syscalls are awkward to count, for the referee tests:
 *   cases seccomp      getppid denied by a seccomp filter with EPERM
 *   cases spawn        posix_spawn (clone with CLONE_VFORK) and vfork
 *   cases thread-exec  a non-leader thread execs while another sleeps
 *   cases killed       a child killed by SIGKILL while blocked in read
 *   cases eintr        reads interrupted by a signal (EINTR), whose
 *                      rt_sigreturn restores the -EINTR in the register */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int seccomp_denies_getppid(void)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(filter) / sizeof(filter[0]), .filter = filter };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		return 1;
	for (int i = 0; i < 7; i++)
		if (syscall(SYS_getppid) != -1 || errno != EPERM)
			return 1;
	return 0;
}

static int spawn(void)
{
	char *args[] = { "true", 0 };
	pid_t pid;
	int status;

	for (int i = 0; i < 3; i++) {
		if (posix_spawn(&pid, "/bin/true", 0, 0, args, environ) || waitpid(pid, &status, 0) != pid)
			return 1;
	}
	pid = vfork();
	if (pid == 0)
		_exit(0);
	return waitpid(pid, &status, 0) != pid;
}

static void *sleeper(void *arg)
{
	struct timespec ts = { .tv_sec = 10 };

	(void)arg;
	nanosleep(&ts, 0); /* ended by the other thread's execve */
	return 0;
}

static void *execer(void *arg)
{
	char *args[] = { "true", 0 };
	struct timespec ts = { .tv_nsec = 50 * 1000 * 1000 };

	(void)arg;
	nanosleep(&ts, 0); /* the sleeper is asleep by now */
	execve("/bin/true", args, environ);
	return 0;
}

static int thread_exec(void)
{
	pthread_t a, b;

	pthread_create(&a, 0, sleeper, 0);
	pthread_create(&b, 0, execer, 0);
	pthread_join(a, 0);
	return 1; /* not reached: the execve ends every thread */
}

static int killed(void)
{
	int ready[2], never[2], status;
	char c;
	struct timespec ts = { .tv_nsec = 50 * 1000 * 1000 };
	pid_t pid;

	if (pipe(ready) || pipe(never))
		return 1;
	pid = fork();
	if (pid == 0) {
		write(ready[1], "r", 1);
		read(never[0], &c, 1); /* blocks until killed */
		_exit(1);
	}
	read(ready[0], &c, 1);
	nanosleep(&ts, 0); /* the child is blocked in read by now */
	kill(pid, SIGKILL);
	return waitpid(pid, &status, 0) != pid || !WIFSIGNALED(status);
}

static void on_alarm(int sig)
{
	(void)sig;
}

static int eintr(void)
{
	struct sigaction sa;
	int never[2];
	char c;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm; /* no SA_RESTART: read fails with EINTR */
	if (sigaction(SIGALRM, &sa, 0) || pipe(never))
		return 1;
	for (int i = 0; i < 3; i++) {
		ualarm(20 * 1000, 0);
		if (read(never[0], &c, 1) != -1 || errno != EINTR)
			return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	if (!strcmp(argv[1], "seccomp"))
		return seccomp_denies_getppid();
	if (!strcmp(argv[1], "spawn"))
		return spawn();
	if (!strcmp(argv[1], "thread-exec"))
		return thread_exec();
	if (!strcmp(argv[1], "killed"))
		return killed();
	if (!strcmp(argv[1], "eintr"))
		return eintr();
	return 2;
}
