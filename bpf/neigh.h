/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ARP and ND: bindings of addresses to MACs, ND kept on its link, and
 * the options that name link-layer addresses.
 * Included by gate.bpf.c, in order: each header uses the ones before it.
 */
#ifndef CRANEGATE_BPF_NEIGH_H
#define CRANEGATE_BPF_NEIGH_H

/*
 * The full judgement, in the order of README's "How a frame is judged"
 * (steps 2-11; step 1 is parse_l2). Returns the reason.
 */
/*
 * ARP (README step 3): every ARP packet Linux takes on Ethernet (hardware
 * type 1 or 6, protocol 0x0800, address lengths 6 and 4, all 28 bytes
 * present; arp_rcv() and arp_process()) whose sender address is a host
 * bound to a MAC must carry that MAC as its sender hardware address and
 * come from it.
 */
static __always_inline bool arp_spoofed(struct xdp_md *ctx,
					const struct frame *f)
{
	const struct cg_class_val *cls;
	__u8 *a = frame_ptr(ctx, f->l3_off, 28);

	if (!a || a[0] != 0 || (a[1] != 1 && a[1] != 6) || a[2] != 0x08 ||
	    a[3] != 0 || a[4] != 6 || a[5] != 4)
		return false;
	cls = bpf_map_lookup_elem(&hosts4, &a[14]);
	return cls && cls->has_mac &&
	       (mac_differs(cls->mac, &a[8]) ||
		mac_differs(cls->mac, f->src_mac));
}

/* Is an IPv6 address link-local, or in the ingress zone? */
static __always_inline bool nd_on_link(__u32 zone, const __u8 *a)
{
	const struct cg_class_val *cls;
	struct cg_lpm6_key k = {.prefixlen = 128};

	if (addr_link_local(a))
		return true;
	cls = bpf_map_lookup_elem(&hosts6, a);
	if (!cls) {
		__builtin_memcpy(k.addr, a, 16);
		cls = bpf_map_lookup_elem(&classes6, &k);
	}
	return cls && cls->zone == zone;
}

/* The MAC an IPv6 address is bound to, or NULL. */
static __always_inline const __u8 *bound_mac6(const __u8 *a)
{
	const struct cg_class_val *cls = bpf_map_lookup_elem(&hosts6, a);

	return cls && cls->has_mac ? cls->mac : NULL;
}

#define CG_MAX_ND_OPTS 32

/*
 * Step 5 for ND and MLD that stay on their link: the bindings (README
 * step 5). The source address, and the target of an NA or a redirect,
 * when bound to a MAC, must come with it: from it (source; NA target),
 * and in every source (type 1) or target (type 2) link-layer option.
 * The options of an ND message (types 133-137) are walked, at most
 * CG_MAX_ND_OPTS of them, and must tile the message. `pos` and `end`
 * delimit the ICMPv6 message of the IPv6 packet at `l3_off`, of `type`.
 * Returns the reason: nd, spoofed-source or malformed.
 *
 * A global function: the verifier checks it once, not once for every
 * path of the caller that reaches it (rare frames, a loop of options).
 */
__noinline int cg_nd_judge(struct xdp_md *ctx, __u32 l3_off, __u32 pos,
			   __u32 end, __u32 zone)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 addr[16] __attribute__((aligned(8)));
	const __u8 *sb, *tb = NULL, *b;
	__u8 *mac, *src, *dst, *ih, *o;
	__u32 fixed, type, i;

	mac = pkt_ptr(data, data_end, 6, 6);
	src = pkt_ptr(data, data_end, l3_off + 8, 32);
	if (!mac || !src)
		return CG_R_MALFORMED;
	/* On its link: from link-local, :: or the ingress zone, to
	 * link-local, ff02::/16 or the ingress zone. */
	dst = src + 16;
	__builtin_memcpy(addr, dst, 16);
	if (!(dst[0] == 0xff && dst[1] == 0x02) && !nd_on_link(zone, addr))
		return CG_R_MAX;
	__builtin_memcpy(addr, src, 16);
	if (!addr_unspecified(addr) && !nd_on_link(zone, addr))
		return CG_R_MAX;
	ih = pkt_ptr(data, data_end, pos, 8);
	if (!ih)
		return CG_R_MALFORMED;
	type = ih[0];
	sb = bound_mac6(addr);
	if (sb && mac_differs(sb, mac))
		return CG_R_SPOOFED_SOURCE;
	if (type < 133 || type > 137)
		return CG_R_ND; /* MLD: no options */
	fixed = type == 133 ? 8 : type == 134 ? 16 : type == 137 ? 40 : 24;
	if (pos + fixed > end)
		return CG_R_MALFORMED;
	if (type == 136 || type == 137) {
		ih = pkt_ptr(data, data_end, pos + 8, 16);
		if (!ih)
			return CG_R_MALFORMED;
		__builtin_memcpy(addr, ih, 16);
		tb = bound_mac6(addr);
		if (tb && type == 136 && mac_differs(tb, mac))
			return CG_R_SPOOFED_SOURCE;
	}
	pos += fixed;
	for (i = 0; i < CG_MAX_ND_OPTS; i++) {
		if (pos >= end)
			break;
		o = pkt_ptr(data, data_end, pos, 8);
		if (!o || o[1] == 0 || pos + o[1] * 8 > end)
			return CG_R_MALFORMED;
		b = o[0] == 1 ? sb : o[0] == 2 ? tb : NULL;
		if (b && mac_differs(b, o + 2))
			return CG_R_SPOOFED_SOURCE;
		pos += o[1] * 8;
	}
	return pos == end ? CG_R_ND : CG_R_MALFORMED;
}

#endif /* CRANEGATE_BPF_NEIGH_H */
