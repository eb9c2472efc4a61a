/* Shared between the kernel programs (syscalls.bpf.c) and the Go loader
 * (bpf2go turns these structs into Go types). Keep layouts free of implicit
 * padding so both sides agree byte for byte. */
#ifndef SYSCALLS_H
#define SYSCALLS_H

/* System-wide counts go into a per-CPU array indexed by syscall number, the
 * cheapest possible counter; larger numbers fall back to the hash. */
#define SYSCALL_ARRAY_SIZE 1024

/* Marks a thread that is not inside a syscall we saw enter. */
#define NO_SYSCALL 0xffffffff

/* The kernel's error range: a return value in [-MAX_ERRNO, -1] is an errno. */
#define MAX_ERRNO 4095

/* The kernel comm is 16 bytes including the terminating NUL. */
#define COMM_LEN 16

struct syscall_key {
	__u32 tgid; /* 0 when counting system-wide */
	__u32 nr;
};

struct syscall_stats {
	__u64 calls;
	__u64 duration_ns;
};

struct error_key {
	__u32 tgid; /* 0 when counting system-wide */
	__u32 nr;
	__u32 errno_;
};

struct exited_process {
	char comm[COMM_LEN];
};

#endif
