// SPDX-License-Identifier: GPL-2.0
/*
 * The front of the gate on an interface whose NIC strips VLAN tags: read
 * the stripped tag from the driver (device-bound kfunc), leave it for the
 * gate in the frame's XDP metadata, and hand the frame to the live
 * instance. See "A VLAN tag that the NIC took out of the frame" in
 * maps/cranegate.h. The loader loads one front per interface (a
 * device-bound program is bound to one device) and keeps it attached
 * across policy changes: the policy is in the instances, not here.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "cranegate.h"

#define ENODATA_ 61

extern int bpf_xdp_metadata_rx_vlan_tag(const struct xdp_md *ctx,
					__be16 *vlan_proto,
					__u16 *vlan_tci) __ksym;

/* The hand-off between instances (see maps/cranegate.h). */
#include "handoff.h"

SEC("xdp")
int cranegate_front(struct xdp_md *ctx)
{
	struct cg_rx_tag *t;
	struct cg_live *l;
	__be16 proto = 0;
	__u16 tci = 0;
	__u32 zero = 0;
	int ret;

	/*
	 * Without a metadata area the gate would not learn of the tag: a
	 * frame that cannot be judged whole does not pass.
	 */
	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*t)))
		return XDP_DROP;
	t = (void *)(long)ctx->data_meta;
	if ((void *)(t + 1) > (void *)(long)ctx->data)
		return XDP_DROP;
	ret = bpf_xdp_metadata_rx_vlan_tag(ctx, &proto, &tci);
	/* -ENODATA: no tag. Anything else: the tag is unknown, and a frame
	 * whose zone is unknown does not pass. */
	if (ret && ret != -ENODATA_)
		return XDP_DROP;
	t->magic = CG_RX_TAG_MAGIC;
	t->tci = ret ? 0 : tci;
	t->present = ret ? 0 : 1;
	t->pad = 0;

	l = bpf_map_lookup_elem(&live, &zero);
	if (!l)
		return XDP_DROP;
	if (l->slot == CG_SLOT_A || l->slot == CG_SLOT_B) {
		bpf_tail_call(ctx, &progs, l->slot);
		/* Never another slot: it may hold an uncommitted policy. */
		return XDP_DROP;
	}
	/* Before the first switch of `live`: the one instance installed. */
	bpf_tail_call(ctx, &progs, CG_SLOT_A);
	bpf_tail_call(ctx, &progs, CG_SLOT_B);
	/* No instance to judge the frame: it does not pass unjudged. */
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
