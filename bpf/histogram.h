// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Bucket index of a duration, shared by the counting programs and the
 * test program that checks it against an exact reference in Go. */
#ifndef HISTOGRAM_H
#define HISTOGRAM_H

#include "syscalls.h"

/* Written by the loader: duration_bounds[j] = floor(1e9 * 2^(k/2^scale))
 * ns for k = first_bound + j, j < bound_count. A duration d (ns) lies in
 * bucket k-1 for the smallest such k with d <= bound; d <= bound is the
 * same as d/1e9 <= 2^(k/2^scale) because d is an integer.
 * bound_guess_offset = floor(2^scale * log2(1e9)) + first_bound turns the
 * estimate of 2^scale * log2(d) below into an index at most 2 below that
 * smallest one (see boundGuessOffset). Past bound_count the loader
 * fills duration_bounds with 2^63 - 1, which no duration passes. */
volatile const __s32 first_bound = 0;
volatile const __u32 bound_count = 1;
volatile const __u32 duration_scale = 0;
volatile const __s32 bound_guess_offset = 0;
volatile const __u64 duration_bounds[DURATION_BOUND_SLOTS] = {};

/* 1 if a > b, for a, b < 2^63, without a branch (BPF has no setcc, and a
 * branch on a duration is mispredicted as often as durations vary; the
 * one branch left, past the last bound, is taken only after 48 days). */
static __always_inline __u64 above(__u64 a, __u64 b)
{
	return (b - a) >> 63;
}

/* duration_bounds[j], for any j: the index masked into the array. */
static __always_inline __u64 bound_at(__u32 j)
{
	return duration_bounds[j & (DURATION_BOUND_SLOTS - 1)];
}

/* A global function by default: the verifier checks it once, on its own,
 * and the caller sees one call returning some bucket (5.10's verifier gave
 * up on the tracepoint program when an earlier version was inlined). The
 * tp_btf build, for newer kernels only, defines BUCKET_OF_INLINE: where the
 * kernel mitigates return-stack attacks every call and return costs (about
 * 18 ns per call on an AMD EPYC with "Safe RET"). */
#ifdef BUCKET_OF_INLINE
#define BUCKET_OF_LINKAGE static __always_inline
#else
#define BUCKET_OF_LINKAGE __noinline
#endif
BUCKET_OF_LINKAGE __s32 bucket_of(__u64 d)
{
	__u64 x = d, shift, guess;
	__s64 start;
	__u32 log2 = 0, j;

	/* floor(log2(d)), halving the range six times, no branch. */
	shift = above(x, 0xffffffff) << 5;
	x >>= shift;
	log2 |= shift;
	shift = above(x, 0xffff) << 4;
	x >>= shift;
	log2 |= shift;
	shift = above(x, 0xff) << 3;
	x >>= shift;
	log2 |= shift;
	shift = above(x, 0xf) << 2;
	x >>= shift;
	log2 |= shift;
	shift = above(x, 0x3) << 1;
	x >>= shift;
	log2 |= shift;
	log2 |= above(x, 0x1);
	log2 &= 63;

	/* Then the scale bits after the leading one, read as a linear
	 * fraction of the octave: 2^scale * log2(d), rounded down, is guess
	 * or up to 1.69 above it (log2(1+m) - m < 0.087 for m in [0, 1)). */
	guess = ((__u64)log2 << duration_scale) +
		(((d << (63 - log2)) >> (63 - (duration_scale & 3))) & ((1U << duration_scale) - 1));

	/* From at most 2 below the bound, up to it: the smallest j with
	 * d <= duration_bounds[j], or the last bound (over 48 days). The
	 * start is at least 0 (a negative one cleared by its own sign) and at
	 * most 2^scale * 64 <= DURATION_BOUND_SLOTS. The bounds increase, so
	 * the bounds d exceeds among j and j + 1 are the steps to take: two
	 * loads at once, not one after the other (3-8 ns less on nginx and
	 * redis). Past bound_count the entries, 2^63 - 1, stop every step. */
	start = (__s64)guess - bound_guess_offset - above(1, d); /* 0 ns: bound 0 */
	j = start & ~(start >> 63);
	j += above(d, bound_at(j)) + above(d, bound_at(j + 1));
	if (j >= bound_count)
		j = bound_count - 1;
	return first_bound + (__s32)j - 1;
}

#endif
