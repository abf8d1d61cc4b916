/* SPDX-License-Identifier: GPL-2.0 */
/*
 * deny: reset (cranegate-policy(5), "Answering a refused request"): a
 * request refused as ics-denied on a flow with `deny: reset` is turned,
 * in place, into a TCP RST to the client and sent back out of the
 * interface it came in on (XDP_TX).
 * Included by gate.bpf.c, in order: each header uses the ones before it.
 *
 * Who gets the RST: the sender of the refused frame and no one else. Its
 * MAC addresses, IP addresses and ports are swapped, so the answer goes to
 * the station (source MAC), address and port that sent the request, out
 * of the ingress interface, on the frame's VLAN. The request passed the
 * source checks (zone, address/MAC bindings, multi-homed) before it was
 * inspected, so its source address is one the ingress zone holds.
 *
 * No amplification: the refused frame itself becomes the answer, so one
 * frame in gives at most one frame out, never larger; a segment carrying
 * RST or SYN, or without ACK, is never answered (no RST for a RST), nor
 * one from a group MAC address.
 *
 * Acceptance: the RST carries seq = the refused segment's ACK number,
 * which is what the client's stack had received when it sent it (its
 * RCV.NXT, unless the server's data crossed the request on the wire).
 * RFC 5961 section 3.2 (Linux follows it) resets a connection on a RST
 * whose sequence number is exactly RCV.NXT, and answers any other
 * in-window one with a challenge ACK. ack = the segment's sequence number
 * + its data (+ 1 for a FIN): what the client sent, acknowledged.
 */
#ifndef CRANEGATE_BPF_RESET_H
#define CRANEGATE_BPF_RESET_H

/*
 * Should the frame be answered with a RST? The cheap part of the rule,
 * from what parsing learned: the flow says `deny: reset`, the frame was
 * refused as ics-denied (not in monitor mode: then it passes), it is a
 * TCP segment with ACK and without RST or SYN from a unicast MAC, and its
 * IP header is the plain one (no IPv4 options, no IPv6 extension
 * headers: the stream rule refuses them on inspected connections anyway).
 * The reference evaluator holds the same rule (user/policy/reference.c).
 */
static __always_inline bool
reset_wanted(const struct frame *f, const struct cg_flow_info *fi, __u32 reason)
{
	if (is_shadow() || reason != CG_R_ICS_DENIED || !fi ||
	    !(fi->flags & CG_FLOW_RESET))
		return false;
	if (f->proto != IPPROTO_TCP_ || f->fragmented ||
	    (f->tcp_flags & (TCP_ACK | TCP_RST | TCP_SYN)) != TCP_ACK ||
	    (f->src_mac[0] & 1) || f->l3_off > ETH_HLEN + 4)
		return false;
	return f->family == 4 ? f->l4_off - f->l3_off == 20 : !f->ip6_ext;
}

/* A bpf_csum_diff() sum folded to the 16-bit checksum, as stored. */
static __always_inline __u16 csum_fold16(__s64 sum)
{
	__u32 v = (__u32)sum;

	v = (v & 0xffff) + (v >> 16);
	v = (v & 0xffff) + (v >> 16);
	return ~v & 0xffff;
}

static __always_inline void put16(__u8 *p, __u32 v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static __always_inline void put32(__u8 *p, __u32 v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static __always_inline __u32 get32(const __u8 *p)
{
	return ((__u32)p[0] << 24) | ((__u32)p[1] << 16) | ((__u32)p[2] << 8) |
	       p[3];
}

/*
 * The TCP header of the RST at th, from the refused segment's: ports
 * swapped, seq = its ACK number, ack = what it sent, RST|ACK, no
 * options, no window; the checksum over it and the pseudo-header sum
 * `sum` (raw, as bpf_csum_diff() keeps it). Returns 0, or negative.
 */
static __always_inline int rst_tcp(__u8 *th, __u32 data_len, __s64 sum)
{
	__u16 port = *(__u16 *)th;
	__u32 rst_seq = get32(th + 8);
	__u32 rst_ack = get32(th + 4) + data_len + !!(th[13] & TCP_FIN);
	__u32 v = (__u32)sum;

	*(__u16 *)th = *(__u16 *)(th + 2);
	*(__u16 *)(th + 2) = port;
	put32(th + 4, rst_seq);
	put32(th + 8, rst_ack);
	th[12] = 5 << 4;
	th[13] = TCP_RST | TCP_ACK;
	*(__u32 *)(th + 16) = 0; /* checksum, urgent pointer */
	th[14] = 0;
	th[15] = 0;
	/* The pseudo-header's protocol and TCP length, one 16-bit word. */
	v = (v & 0xffff) + (v >> 16);
	v = (v & 0xffff) + (v >> 16);
	v += bpf_htons(IPPROTO_TCP_ + 20);
	sum = bpf_csum_diff(NULL, 0, (__be32 *)th, 20, v);
	if (sum < 0)
		return -1;
	*(__u16 *)(th + 16) = csum_fold16(sum);
	return 0;
}

/*
 * Rewrite the frame's headers into the RST that answers it (see above).
 * `l3_off` is the IP header's offset (14, or 18 behind a tag in the
 * frame), `family` 4 or 6; reset_wanted() held. Returns the RST's length
 * (its headers), for cg_rst_finish(), or negative when the frame cannot
 * be answered: the caller drops it. Split from cg_rst_finish(): the call
 * chain's stack is nearly full.
 */
__noinline int cg_tcp_reset(struct xdp_md *ctx, __u32 l3_off, __u32 family)
{
	__u8 h[64] __attribute__((aligned(8)));
	__u32 len = ctx->data_end - ctx->data, ip_end, doff, i;
	__s64 sum;
	__u64 a;
	__u8 t;

	if ((l3_off != ETH_HLEN && l3_off != ETH_HLEN + 4) ||
	    (family != 4 && family != 6))
		return -1;
	/* Never to a group address (the request's source MAC). */
	if (bpf_xdp_load_bytes(ctx, 6, h, 1) || (h[0] & 1))
		return -1;
	if (family == 4) {
		if (len < l3_off + 40 || bpf_xdp_load_bytes(ctx, l3_off, h, 40))
			return -1;
		ip_end = ((__u32)h[2] << 8) | h[3];
		doff = (h[32] >> 4) * 4;
		if (h[0] != 0x45 || h[9] != IPPROTO_TCP_ || doff < 20 ||
		    20 + doff > ip_end || l3_off + ip_end > len ||
		    (h[33] & (TCP_ACK | TCP_RST | TCP_SYN)) != TCP_ACK)
			return -1;
		/* The addresses swapped, a fresh header of the RST's length. */
		a = *(__u32 *)(h + 12);
		*(__u32 *)(h + 12) = *(__u32 *)(h + 16);
		*(__u32 *)(h + 16) = a;
		h[1] = 0;
		put16(h + 2, 40);
		*(__u32 *)(h + 4) = 0;
		put16(h + 6, 0x4000); /* DF */
		h[8] = 64;
		*(__u16 *)(h + 10) = 0;
		sum = bpf_csum_diff(NULL, 0, (__be32 *)h, 20, 0);
		if (sum < 0)
			return -1;
		*(__u16 *)(h + 10) = csum_fold16(sum);
		sum = bpf_csum_diff(NULL, 0, (__be32 *)(h + 12), 8, 0);
		if (sum < 0 || rst_tcp(h + 20, ip_end - 20 - doff, sum) ||
		    bpf_xdp_store_bytes(ctx, l3_off, h, 40))
			return -1;
	} else {
		if (len < l3_off + 60 || bpf_xdp_load_bytes(ctx, l3_off, h, 60))
			return -1;
		ip_end = 40 + (((__u32)h[4] << 8) | h[5]);
		doff = (h[52] >> 4) * 4;
		if ((h[0] >> 4) != 6 || h[6] != IPPROTO_TCP_ || doff < 20 ||
		    40 + doff > ip_end || l3_off + ip_end > len ||
		    (h[53] & (TCP_ACK | TCP_RST | TCP_SYN)) != TCP_ACK)
			return -1;
		for (i = 0; i < 2; i++) {
			a = *(__u64 *)(h + 8 + 8 * i);
			*(__u64 *)(h + 8 + 8 * i) = *(__u64 *)(h + 24 + 8 * i);
			*(__u64 *)(h + 24 + 8 * i) = a;
		}
		*(__u32 *)h = bpf_htonl(0x60000000);
		put16(h + 4, 20);
		h[7] = 64;
		sum = bpf_csum_diff(NULL, 0, (__be32 *)(h + 8), 32, 0);
		if (sum < 0 || rst_tcp(h + 40, ip_end - 40 - doff, sum) ||
		    bpf_xdp_store_bytes(ctx, l3_off, h, 60))
			return -1;
	}
	/* Ethernet: back to the sender; a tag in the frame stays. */
	if (bpf_xdp_load_bytes(ctx, 0, h, 12))
		return -1;
	for (i = 0; i < 6; i++) {
		t = h[i];
		h[i] = h[6 + i];
		h[6 + i] = t;
	}
	if (bpf_xdp_store_bytes(ctx, 0, h, 12))
		return -1;
	return l3_off + (family == 4 ? 40 : 60);
}

/*
 * Trim the frame to the RST's `len` bytes and put back a tag the NIC
 * stripped (struct cg_rx_tag), in front of the ethertype, so that the
 * answer leaves on the VLAN the request came from (TPID 0x8100: the
 * record keeps no other). Returns 0, or negative: drop the frame.
 */
__noinline int cg_rst_finish(struct xdp_md *ctx, __u32 len)
{
	struct cg_rx_tag *rx = (void *)(long)ctx->data_meta;
	__u32 have = ctx->data_end - ctx->data;
	__u8 h[18];
	__u16 tci = 0;
	bool tagged;

	if (len < ETH_HLEN + 40 || len > have)
		return -1;
	/* The tag the NIC stripped: read before the frame moves. */
	tagged = (void *)(rx + 1) <= (void *)(long)ctx->data &&
		 rx->magic == CG_RX_TAG_MAGIC && rx->present;
	if (tagged)
		tci = rx->tci;
	if (have > len && bpf_xdp_adjust_tail(ctx, (int)len - (int)have))
		return -1;
	if (!tagged)
		return 0;
	if (bpf_xdp_load_bytes(ctx, 0, h, ETH_HLEN) ||
	    bpf_xdp_adjust_head(ctx, -4))
		return -1;
	h[16] = h[12];
	h[17] = h[13];
	h[12] = ETH_P_8021Q >> 8;
	h[13] = ETH_P_8021Q & 0xff;
	put16(h + 14, tci);
	return bpf_xdp_store_bytes(ctx, 0, h, 18) ? -1 : 0;
}

/* The frame answered: XDP_TX with the RST in it, or XDP_DROP. */
static __always_inline int reset_answer(struct xdp_md *ctx,
					const struct frame *f)
{
	int len = cg_tcp_reset(ctx, f->l3_off, f->family);

	if (len < 0 || cg_rst_finish(ctx, len))
		return XDP_DROP;
	return XDP_TX;
}

#endif /* CRANEGATE_BPF_RESET_H */
