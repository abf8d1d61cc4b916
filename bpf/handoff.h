/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The hand-off maps (see maps/cranegate.h), declared once for the two
 * programs that use them: the gate (bpf/gate.bpf.c), whose attached
 * instance tail-calls the live slot, and the front (bpf/front.bpf.c),
 * which always does. The loader reuses the pinned ones.
 */
#ifndef CRANEGATE_HANDOFF_H
#define CRANEGATE_HANDOFF_H

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, CG_SLOTS);
} progs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct cg_live);
	__uint(max_entries, 1);
} live SEC(".maps");

#endif
