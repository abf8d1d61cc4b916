// SPDX-License-Identifier: GPL-2.0
/* The floor for benchmarks: an XDP program that passes every frame. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("xdp")
int empty_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
