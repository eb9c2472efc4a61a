/* A 32-bit (i386) process for TestI386SyscallNames: it makes exactly
 * argv[1] getppid calls through the i386 syscall table (int $0x80, eax = 64;
 * on x86_64, 64 is semop) and exits. Built by the test with
 * `gcc -m32 -static` (Debian: gcc-multilib). */
#include <stdlib.h>

static long getppid32(void)
{
	long ret;

	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(64L) : "memory");
	return ret;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], 0, 10) : 0;

	for (long i = 0; i < n; i++)
		if (getppid32() <= 0)
			return 1;
	return 0;
}
