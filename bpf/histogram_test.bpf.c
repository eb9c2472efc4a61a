//go:build ignore

// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Runs bucket_of on a value given by BPF_PROG_TEST_RUN, so a Go test can
 * compare the kernel's bucket index with an exact reference. */
#include <stdbool.h>
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "histogram.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Offset so that negative indexes fit the unsigned return value. */
#define INDEX_OFFSET 100000

SEC("raw_tracepoint/bucket_of")
int bucket_of_arg(struct bpf_raw_tracepoint_args *ctx)
{
	return bucket_of(ctx->args[0]) + INDEX_OFFSET;
}
