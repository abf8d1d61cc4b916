/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Parsing: Ethernet and at most one VLAN tag, IPv4/IPv6 with a bounded
 * walk of extension headers, and the L4 header.
 * Included by gate.bpf.c, in order: each header uses the ones before it.
 */
#ifndef CRANEGATE_BPF_PARSE_H
#define CRANEGATE_BPF_PARSE_H

/*
 * Ethernet and at most one VLAN tag. Sets ethertype, vlan and src_mac;
 * returns the offset of the L3 header, with f->l2_reason set to
 * malformed or vlan-violation when parsing cannot go on.
 */
static __always_inline __u32 parse_l2(struct xdp_md *ctx, struct frame *f)
{
	struct ethhdr *eth = frame_ptr(ctx, 0, ETH_HLEN);
	struct cg_rx_tag *rx = (void *)(long)ctx->data_meta;
	__u32 off = ETH_HLEN;
	__u16 proto;
	int tagged = 0;

	if (!eth) {
		f->l2_reason = CG_R_MALFORMED;
		return 0;
	}
	__builtin_memcpy(f->src_mac, eth->h_source, 6);
	proto = bpf_ntohs(eth->h_proto);
	/* The outer tag, if the NIC stripped it (see struct cg_rx_tag). */
	if ((void *)(rx + 1) <= (void *)(long)ctx->data &&
	    rx->magic == CG_RX_TAG_MAGIC && rx->present) {
		f->vlan = rx->tci & 0x0fff;
		tagged = 1;
	}
	if (proto == ETH_P_8021Q || proto == ETH_P_8021AD) {
		__u8 *tag = frame_ptr(ctx, off, 4);

		if (!tag) {
			f->l2_reason = CG_R_MALFORMED;
			return 0;
		}
		/* Behind a stripped tag, a tag in the frame is an inner one. */
		if (tagged) {
			f->l2_reason = CG_R_VLAN_VIOLATION;
			return 0;
		}
		f->vlan = (((__u16)tag[0] << 8) | tag[1]) & 0x0fff;
		proto = ((__u16)tag[2] << 8) | tag[3];
		off += 4;
		if (proto == ETH_P_8021Q || proto == ETH_P_8021AD) {
			f->l2_reason = CG_R_VLAN_VIOLATION;
			return 0;
		}
	}
	f->ethertype = proto;
	return off;
}

/*
 * The IPv6 extension-header walk from `pos` (the header after the fixed
 * one, `nh`) to the transport header, within `end`: at most CG_MAX_EXT
 * headers. Sets f->proto and the fragment state; returns the transport
 * header's offset, or CG_IP6_BAD when the headers are malformed. A global
 * function: the verifier checks its loop once, rather than once for each
 * state of the entry point that reaches it, and the entry point goes on
 * from one state (which took a third of every apply's verification).
 */
#define CG_IP6_BAD 0xffffffffu

__noinline __u32 cg_ip6_ext(struct xdp_md *ctx, struct frame *f, __u8 nh,
			    __u32 pos, __u32 end)
{
	int i;

	if (!f)
		return CG_IP6_BAD;
	for (i = 0; i < CG_MAX_EXT + 1; i++) {
		__u8 *h;
		__u32 hlen;

		if (nh != IPPROTO_HOPOPTS_ && nh != IPPROTO_ROUTING_ &&
		    nh != IPPROTO_FRAGMENT_ && nh != IPPROTO_DSTOPTS_ &&
		    nh != IPPROTO_AH_)
			break;
		if (i == CG_MAX_EXT || pos + 8 > end)
			return CG_IP6_BAD;
		h = frame_ptr(ctx, pos, 8);
		if (!h)
			return CG_IP6_BAD;
		f->ip6_ext = 1;
		if (nh == IPPROTO_FRAGMENT_) {
			__u16 fo = ((__u16)h[2] << 8) | h[3];

			f->fragmented = 1;
			f->frag_proto = h[0];
			f->ip_id = ((__u32)h[4] << 24) | ((__u32)h[5] << 16) |
				   ((__u32)h[6] << 8) | h[7];
			hlen = 8;
			if (fo >> 3) {
				/* The rest is fragment data. */
				f->nonfirst = 1;
				nh = h[0];
				pos += hlen;
				break;
			}
		} else if (nh == IPPROTO_AH_) {
			hlen = ((__u32)h[1] + 2) * 4;
		} else {
			if (nh == IPPROTO_ROUTING_ && h[3] != 0)
				return CG_IP6_BAD;
			hlen = ((__u32)h[1] + 1) * 8;
		}
		nh = h[0];
		pos += hlen;
		if (pos > end)
			return CG_IP6_BAD;
	}
	f->proto = nh;
	return pos;
}

/*
 * The IP header at `off` and, for IPv6, the extension-header walk. Fills
 * family, addresses, proto and fragment state; sets f->ip_bad when the
 * headers are malformed. *l4_off / *l3_end delimit the transport header.
 */
static __always_inline void parse_ip(struct xdp_md *ctx, struct frame *f,
				     __u32 off, __u32 *l4_off, __u32 *l3_end,
				     __u8 *hop_limit)
{
	__u32 len = ctx->data_end - ctx->data;

	if (f->ethertype == ETH_P_IP) {
		struct iphdr *ip = frame_ptr(ctx, off, sizeof(*ip));
		__u32 hl, tot;
		__u16 frag;

		if (!ip || ip->version != 4 || ip->ihl < 5)
			goto bad;
		hl = ip->ihl * 4;
		tot = bpf_ntohs(ip->tot_len);
		if (off + hl > len || tot < hl || off + tot > len)
			goto bad;
		f->family = 4;
		__builtin_memcpy(f->src, &ip->saddr, 4);
		__builtin_memcpy(f->dst, &ip->daddr, 4);
		f->proto = ip->protocol;
		f->frag_proto = ip->protocol;
		f->ip_id = bpf_ntohs(ip->id);
		frag = bpf_ntohs(ip->frag_off);
		f->nonfirst = (frag & 0x1fff) != 0;
		f->fragmented = f->nonfirst || (frag & 0x2000);
		*l4_off = off + hl;
		*l3_end = off + tot;
		*hop_limit = ip->ttl;
		return;
	} else {
		struct ipv6hdr *ip6 = frame_ptr(ctx, off, sizeof(*ip6));
		__u32 end, pos;

		if (!ip6 || ip6->version != 6)
			goto bad;
		end = off + 40 + bpf_ntohs(ip6->payload_len);
		if (end > len)
			goto bad;
		f->family = 6;
		__builtin_memcpy(f->src, &ip6->saddr, 16);
		__builtin_memcpy(f->dst, &ip6->daddr, 16);
		*hop_limit = ip6->hop_limit;
		pos = cg_ip6_ext(ctx, f, ip6->nexthdr, off + 40, end);
		if (pos == CG_IP6_BAD)
			goto bad;
		*l4_off = pos;
		*l3_end = end;
		return;
	}
bad:
	f->ip_bad = 1;
}

/*
 * The transport header at l4_off..l3_end: ports for TCP and UDP, the echo
 * identifier (as both ports) for ICMP/ICMPv6 echo, and whether this is
 * neighbour discovery. Sets f->l4_bad when it is malformed.
 */
static __always_inline void parse_l4(struct xdp_md *ctx, struct frame *f,
				     __u32 l4_off, __u32 l3_end, __u8 hop_limit)
{
	__u32 avail = l3_end - l4_off;

	if (l4_off > l3_end) {
		f->l4_bad = 1;
		return;
	}
	if (f->proto == IPPROTO_TCP_) {
		struct tcphdr *th = frame_ptr(ctx, l4_off, sizeof(*th));

		if (!th || avail < 20 || th->doff < 5 || th->doff * 4 > avail) {
			f->l4_bad = 1;
			return;
		}
		f->sport = bpf_ntohs(th->source);
		f->dport = bpf_ntohs(th->dest);
		f->tcp_flags = ((__u8 *)th)[13];
		f->tcp_seq = bpf_ntohl(th->seq);
		f->tcp_ack = bpf_ntohl(th->ack_seq);
		f->l4_off = l4_off;
		f->has_ports = 1;
		f->payload_off = l4_off + th->doff * 4;
		f->payload_end = l3_end;
	} else if (f->proto == IPPROTO_UDP_) {
		struct udphdr *uh = frame_ptr(ctx, l4_off, sizeof(*uh));
		__u32 ulen;

		if (!uh || avail < 8) {
			f->l4_bad = 1;
			return;
		}
		ulen = bpf_ntohs(uh->len);
		if (!f->fragmented && (ulen < 8 || ulen > avail)) {
			f->l4_bad = 1;
			return;
		}
		f->sport = bpf_ntohs(uh->source);
		f->dport = bpf_ntohs(uh->dest);
		f->has_ports = 1;
	} else if ((f->proto == IPPROTO_ICMP_ && f->family == 4) ||
		   (f->proto == IPPROTO_ICMPV6_ && f->family == 6)) {
		__u8 *ih = frame_ptr(ctx, l4_off, 8);
		__u8 t;

		if (!ih || avail < 8) {
			f->l4_bad = 1;
			return;
		}
		t = ih[0];
		if ((f->family == 4 && (t == 0 || t == 8)) ||
		    (f->family == 6 && (t == 128 || t == 129))) {
			f->sport = ((__u16)ih[4] << 8) | ih[5];
			f->dport = f->sport;
			f->echo_request = t == 8 || t == 128;
		}
		if ((f->family == 4 && (t == 3 || t == 11 || t == 12)) ||
		    (f->family == 6 && t >= 1 && t <= 4)) {
			f->icmp_error = 1;
			f->inner_off = l4_off + 8;
			f->inner_end = l3_end;
		}
		/*
		 * Neighbour discovery (RFC 4861: hop limit 255), and multicast
		 * listener discovery (RFC 2710, 3810): hop limit 1, from a
		 * link-local or the unspecified address. Whether it stays on
		 * its link is judged in step 5.
		 */
		if (f->family == 6 && t >= 133 && t <= 137 &&
		    hop_limit == 255 && !f->fragmented)
			f->nd = 1;
		if (f->family == 6 && !f->fragmented && hop_limit == 1 &&
		    (t == 130 || t == 131 || t == 132 || t == 143) &&
		    (addr_link_local(f->src) || addr_unspecified(f->src)))
			f->nd = 1;
		if (f->nd) {
			f->inner_off = l4_off;
			f->inner_end = l3_end;
		}
	}
}

#endif /* CRANEGATE_BPF_PARSE_H */
