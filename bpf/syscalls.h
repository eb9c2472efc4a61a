// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Shared between the kernel programs (syscalls_*.bpf.c) and the Go loader
 * (bpf2go turns these structs into Go types). Keep layouts free of implicit
 * padding so both sides agree byte for byte. */
#ifndef SYSCALLS_H
#define SYSCALLS_H

/* The constants Go needs are enums, not #defines: bpf2go exports enums
 * found in the objects' BTF (see go_enums in maps.bpf.h), and gencons (run
 * by gen.go) writes them to zconstants.go, so that Go never copies a
 * number. */

/* Syscall ABIs a 64-bit kernel serves. */
enum abi {
	ABI_NATIVE = 0, /* x86_64, aarch64 */
	ABI_COMPAT = 1, /* i386 on x86-64, arm (aarch32) on arm64 */
	ABI_X32 = 2,	/* x86-64 x32: native numbers with __X32_SYSCALL_BIT */
	ABI_COUNT = 3,
};

enum limits {
	/* Syscall numbers per ABI kept in arrays and filter masks; larger
	 * numbers (none today) fall back to the hash maps. */
	SYSCALL_SLOTS = 1024,
	/* The kernel's error range: a return value in [-MAX_ERRNO, -1] is an
	 * errno. */
	MAX_ERRNO = 4095,
	/* The kernel comm is 16 bytes including the terminating NUL. */
	COMM_LEN = 16,
	/* Cgroups the filter may list. */
	MAX_FILTER_CGROUPS = 64,
	/* Duration bucket bounds at the finest scale (see below). */
	MAX_DURATION_BOUNDS = 52 * 8 + 1,
	/* The size of the bounds table: a power of two above it, so that an
	 * index masked with DURATION_BOUND_SLOTS - 1 is in bounds without a
	 * comparison (old verifiers lose the pointer when they walk the
	 * impossible side of one). */
	DURATION_BOUND_SLOTS = 512,
	/* Compact group ids (see struct compact_key): a pid or tid below
	 * 2^PID_BITS (the kernel's PID_MAX_LIMIT), beside its start time in
	 * units of 2^START_SHIFT ns. */
	PID_BITS = 22,
	START_SHIFT = 10,
	/* The call word of a compact key: nr | abi << CALL_ABI_SHIFT. */
	CALL_ABI_SHIFT = 30,
	/* The bucket word of a wide key's bucket: nr | abi <<
	 * BUCKET_ABI_SHIFT | (bucket - first_bound + 1) << BUCKET_INDEX_SHIFT;
	 * the index is below DURATION_BOUND_SLOTS, 9 bits. A compact key
	 * names a chunk of CHUNK_BUCKETS of them: the index / CHUNK_BUCKETS
	 * in its place. */
	BUCKET_ABI_SHIFT = 20,
	BUCKET_INDEX_SHIFT = 22,
	CHUNK_BUCKETS = 8,
};

/* Slots of the arrays indexed by abi * SYSCALL_SLOTS + nr. */
#define ALL_SYSCALL_SLOTS (ABI_COUNT * SYSCALL_SLOTS)

/* Who made a syscall, as far as group_by asks. Unused fields are 0. */
struct group_key {
	__u64 cgroup_id; /* group_by container: cgroup v2 id */
	__u64 start_ns;	 /* boot-time start of the process (or thread): a reused
			  * pid makes a new group, never inherits counts */
	__u32 tgid;	 /* group_by process or thread */
	__u32 tid;	 /* group_by thread */
};

struct syscall_key {
	struct group_key group;
	__u32 nr;
	__u32 abi;
};

/* The key of the per-call maps when one 64-bit word names the group: the
 * process or thread (start_ns >> START_SHIFT << PID_BITS | pid), or the
 * cgroup id. Three 32-bit words, which the kernel's jhash2 hashes in its
 * final round alone: 12 bytes cost about 7 ns less per call than the 32
 * of struct syscall_key. word packs the syscall (and the bucket), as
 * enum limits says; numbers too large for it use the wide keys. */
struct compact_key {
	__u32 id_lo;
	__u32 id_hi;
	__u32 word;
};

/* Duration histograms: OTel base-2 exponential buckets, bucket i holding
 * durations in (2^(i/2^scale), 2^((i+1)/2^scale)] seconds. The loader
 * writes the bucket bounds in ns for the configured scale (0..3), from
 * 2^-30 s (below 1 ns) to 2^22 s (48 days), into duration_bounds: at
 * most MAX_DURATION_BOUNDS of them. */

/* The durations that fell in one bucket (calls when counted at exit). */
struct bucket_durations {
	__u64 count;
	__u64 duration_ns; /* their sum */
	__u64 min_ns;
	__u64 max_ns;
};

/* CHUNK_BUCKETS neighbouring buckets of one (group, syscall), under a
 * compact key: at the finer scales a syscall's durations spread over tens
 * of buckets, and one hash entry for each missed the cache (10-15 ns per
 * call on nginx and redis). 8 buckets, one octave at scale 3, took as
 * little time as 16 at half the memory. The sum, min and max are the
 * chunk's, which user space folds into the syscall's. */
struct bucket_chunk {
	__u64 count[CHUNK_BUCKETS]; /* first: see add_to_chunk */
	__u64 duration_ns;
	__u64 min_ns;
	__u64 max_ns;
};

struct bucket_key {
	struct group_key group;
	__u32 nr;
	__u16 abi;
	__s16 bucket;
};

/* Histogram buckets of groups that did not fit in the maps. */
struct overflow_bucket_key {
	__u32 nr;
	__u16 abi;
	__s16 bucket;
};

struct error_key {
	struct group_key group;
	__u32 nr;
	__u16 abi;
	__u16 errno_;
};

/* Errors of groups that did not fit in the maps. */
struct overflow_error_key {
	__u32 nr;
	__u16 abi;
	__u16 errno_;
};

struct exited_task {
	__u64 start_ns;
	char comm[COMM_LEN];
};

#endif
