// SPDX-License-Identifier: Apache-2.0
/* A process whose signal handling is known exactly, for sigreturn_test.go.
 * Usage: signals SIGINFO PLAIN [EXEC]. It first reads a byte (or EOF) from
 * stdin, so that a test can name its pid in a filter. It then handles
 * SIGINFO signals with an
 * SA_SIGINFO handler and PLAIN signals with a plain one, each returning
 * through the kernel's sigreturn, then execs EXEC ("EXEC 0 0") if given.
 * Built 64-bit and as a static 32-bit binary: on i386 the SA_SIGINFO
 * handlers return by rt_sigreturn, the plain ones by sigreturn. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t handled;

static void on_siginfo(int sig, siginfo_t *info, void *ctx)
{
	(void)sig, (void)info, (void)ctx;
	handled++;
}

static void on_plain(int sig)
{
	(void)sig;
	handled++;
}

int main(int argc, char **argv)
{
	struct sigaction with_info, plain;
	char go;
	long n_info = argc > 1 ? strtol(argv[1], 0, 10) : 0;
	long n_plain = argc > 2 ? strtol(argv[2], 0, 10) : 0;

	if (read(0, &go, 1) < 0)
		return 2;
	memset(&with_info, 0, sizeof(with_info));
	with_info.sa_sigaction = on_siginfo;
	with_info.sa_flags = SA_SIGINFO;
	memset(&plain, 0, sizeof(plain));
	plain.sa_handler = on_plain;
	if (sigaction(SIGUSR1, &with_info, 0) || sigaction(SIGUSR2, &plain, 0))
		return 2;
	for (long i = 0; i < n_info; i++)
		kill(getpid(), SIGUSR1);
	for (long i = 0; i < n_plain; i++)
		kill(getpid(), SIGUSR2);
	if (handled != n_info + n_plain)
		return 3;
	if (argc > 3) {
		char *args[] = { argv[3], "0", "0", 0 };

		execv(argv[3], args);
		return 4;
	}
	return 0;
}
