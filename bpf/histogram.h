// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Bucket index of a duration, shared by the counting programs and the
 * test program that checks it against an exact reference in Go. */
#ifndef HISTOGRAM_H
#define HISTOGRAM_H

#include "syscalls.h"

/* Written by the loader: duration_bounds[j] = floor(1e9 * 2^(k/2^scale))
 * ns for k = first_bound + j, j < bound_count. A duration d (ns) lies in
 * bucket k-1 for the smallest such k with d <= bound; d <= bound is the
 * same as d/1e9 <= 2^(k/2^scale) because d is an integer. */
volatile const __s32 first_bound = 0;
volatile const __u32 bound_count = 1;
volatile const __u64 duration_bounds[MAX_DURATION_BOUNDS] = {};

/* A global function, not inlined: the verifier checks it once, on its own,
 * and the caller sees one call returning some bucket. Inlined, its ten
 * data-dependent steps multiplied the caller's paths, and 5.10's verifier
 * gave up after a million instructions on the tracepoint program. */
__noinline __s32 bucket_of(__u64 d)
{
	__u32 lo = 0, hi = bound_count;

	/* Binary search: 10 steps cover 1024 bounds. */
	for (int step = 0; step < 10; step++) {
		__u32 mid = (lo + hi) / 2;

		if (lo >= hi || mid >= MAX_DURATION_BOUNDS)
			break;
		if (d <= duration_bounds[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	/* Past the last bound (over 48 days): the last bucket. */
	if (lo >= bound_count)
		lo = bound_count - 1;
	return first_bound + (__s32)lo - 1;
}

#endif
