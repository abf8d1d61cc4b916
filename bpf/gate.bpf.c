// SPDX-License-Identifier: GPL-2.0
/*
 * cranegate's XDP program: one frame in, one verdict out.
 *
 *   parse (eth -> <=1 VLAN tag -> IPv4/IPv6 + bounded ext headers -> L4)
 *   -> ingress zone -> source checks -> fragments -> destination zone
 *   -> reply? -> flow -> verdict
 *   -> counters, event (rate-limited) -> XDP_PASS / XDP_DROP
 *
 * The order of checks is specified in cranegate-policy(5) ("How a frame is
 * judged") and checked against the reference evaluator
 * (user/policy/reference.c) by the differential test. Every path ends at
 * `out:`, which counts and logs.
 *
 * This file keeps the configuration, judge() and the entry point; the
 * headers below hold the rest by concern (bpf/README.md, "Where the code
 * is").
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "cranegate.h"

#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_ARP 0x0806
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88A8
#define ETH_P_IPV6 0x86DD

#define IPPROTO_HOPOPTS_ 0
#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_ROUTING_ 43
#define IPPROTO_FRAGMENT_ 44
#define IPPROTO_AH_ 51
#define IPPROTO_ICMPV6_ 58
#define IPPROTO_DSTOPTS_ 60

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10
#define TCP_URG 0x20

/* The IPv6 extension-header walk stops after this many headers. */
#define CG_MAX_EXT 8

/* Configuration of this instance, set by the loader before load. */
const volatile __u32 cfg_mode = CG_MODE_ENFORCE;
const volatile __u64 cfg_policy_id = 0;
const volatile __u32 cfg_record = 0;
const volatile __u32 cfg_slot = CG_SLOT_NONE;
const volatile __u32 cfg_lookups =
	CG_LOOKUP_PORTS | CG_LOOKUP_PROTO | CG_LOOKUP_ANY;
/*
 * Time in the hot path is jiffies (bpf_jiffies64() is inlined by the JIT;
 * bpf_ktime_get_ns() costs ~40 ns a call here). The loader sets the
 * kernel's HZ, and the timeouts in jiffies.
 */
const volatile __u64 cfg_hz = 250;
const volatile __u64 cfg_ev_rate = 1000; /* events/s per reason per CPU */
const volatile __u64 cfg_ev_burst = 200;
const volatile __u64 cfg_ev_src_rate = 10; /* events/s per (reason, source) */
const volatile __u64 cfg_ev_src_burst = 20;
const volatile __u32 cfg_ev_src_limit = 1;
/* The per-source sketch: slots per row - 1 (a power of two - 1), and the
 * hash seed; both set by the loader from the (pinned) event_sketch. */
const volatile __u32 cfg_sketch_mask = 8191;
const volatile __u64 cfg_sketch_seed = 0;
const volatile __u32 cfg_iface_stats = 1;
const volatile __u8 cfg_iface_slot[CG_IFINDEX_SLOTS] = {};
const volatile __u8 cfg_iface_zone[CG_IFINDEX_SLOTS] = {};
const volatile __u64 cfg_timeout_tcp = 3600 * 250;
const volatile __u64 cfg_timeout_udp = 120 * 250;
const volatile __u64 cfg_timeout_other = 60 * 250;
const volatile __u64 cfg_timeout_tcp_closing = 10 * 250;
const volatile __u64 cfg_mac_hold = 300 * 250;
const volatile __u64 cfg_frag_timeout = 10 * 250;
const volatile __u32 cfg_frag_pass = 0; /* fragments: pass */
/* The policy has time-boxed flows: the flows map holds chains. */
const volatile __u32 cfg_timed = 0;

#include "maps.h"

#include "records.h"

#include "frame.h"

#include "events.h"

#include "conn.h"

#include "ics.h"

#include "stream.h"

#include "flows.h"

#include "parse.h"

#include "neigh.h"

#include "frag.h"

#include "self.h"

#include "reset.h"

/*
 * An untagged frame's ingress zone + 1 from cfg_iface_zone, 0 for none, or
 * CG_IFZONE_HASH when `zones` must say (tagged frames, large ifindexes and
 * zone ids).
 */
static __always_inline __u32 ingress_zone_untagged(const struct frame *f)
{
	__u64 i = f->ifindex;

	if (f->vlan)
		return CG_IFZONE_HASH;
	/* Checked and used as one register (see iface_count). */
	asm volatile("" : "+r"(i));
	if (i >= CG_IFINDEX_SLOTS)
		return CG_IFZONE_HASH;
	return cfg_iface_zone[i];
}

/*
 * 2. Ingress zone by (interface, VLAN id): an untagged frame's from the
 * read-only table (no lookup), the rest from `zones`. 0, with
 * f->zone_from set, or the reason to drop. A subprogram of its own: the
 * zone key stays off the entry point's stack (see cg_stream_judge).
 */
__noinline int cg_ingress_zone(struct frame *f)
{
	struct cg_zone_key zk = {};
	struct cg_zone_val *zv;
	__u32 iz;

	if (!f)
		return CG_R_UNKNOWN_ZONE;
	iz = ingress_zone_untagged(f);
	if (iz == 0)
		return CG_R_UNKNOWN_ZONE;
	if (iz != CG_IFZONE_HASH) {
		f->zone_from = iz - 1;
		return 0;
	}
	zk.ifindex = f->ifindex;
	zk.vlan = f->vlan;
	zv = bpf_map_lookup_elem(&zones, &zk);
	if (!zv) {
		if (f->vlan) {
			zk.vlan = CG_VLAN_IFACE;
			if (bpf_map_lookup_elem(&zones, &zk))
				return CG_R_VLAN_VIOLATION;
		}
		return CG_R_UNKNOWN_ZONE;
	}
	f->zone_from = zv->zone;
	return 0;
}

static __always_inline __u32 judge(struct xdp_md *ctx, struct frame *f,
				   struct conn *c, struct cg_flow_info **fi,
				   __u64 now)
{
	const struct cg_class_val *cls;
	int known = 0; /* the destination has a class: look up the flows */
	int r2;

	/* 2. Ingress zone by (interface, VLAN id). */
	r2 = cg_ingress_zone(f);
	if (r2)
		return r2;

	/* 3. Ethertype. */
	if (f->ethertype == ETH_P_ARP)
		return arp_spoofed(ctx, f) ? CG_R_SPOOFED_SOURCE : CG_R_ARP;
	if (f->ethertype != ETH_P_IP && f->ethertype != ETH_P_IPV6)
		return CG_R_ETHERTYPE;

	/*
	 * 4-5. IP headers; neighbour discovery that stays on its link, from
	 * a link-local, unspecified or ingress-zone address to a link-local,
	 * ff02::/16 or ingress-zone one. Other ND is judged like any frame.
	 */
	if (f->ip_bad)
		return CG_R_MALFORMED;
	if (f->nd) {
		__u32 r = cg_nd_judge(ctx, f->l3_off, f->inner_off,
				      f->inner_end, f->zone_from);

		if (r != CG_R_MAX)
			return r;
	}

	/*
	 * 6. Source: must lie in the ingress zone's networks, carry the MAC
	 * its host is bound to, and come from a MAC not seen in another zone.
	 */
	if (f->src_outside)
		return CG_R_SPOOFED_SOURCE;
	cls = class_lookup(f, f->src);
	if (!cls || cls->zone == CG_ZONE_NONE)
		return CG_R_SPOOFED_SOURCE;
	/* The gateway's own address, also spoofed: asked only of a source
	 * in a zone (the same verdict either way, one lookup fewer for a
	 * source in none). */
	if (cg_self_addr(f, 0))
		return CG_R_SPOOFED_SOURCE;
	if (cls->zone != f->zone_from)
		return CG_R_MULTI_HOMED;
	if (cls->has_mac && mac_differs(cls->mac, f->src_mac))
		return CG_R_SPOOFED_SOURCE;
	f->src_class = cls->class_id;
	if (mac_conflict(f, now))
		return CG_R_MULTI_HOMED;

	/* 7-8. Non-first fragments follow their first; or drop. */
	if (f->nonfirst)
		return frag_follow(f, now);
	if (f->l4_bad)
		return CG_R_MALFORMED;

	/*
	 * 9. Destination zone; traffic within one zone is not ours to judge.
	 * The gateway's own addresses are a zone of their own (self).
	 */
	if (cg_self_addr(f, 1)) {
		f->zone_to = CG_ZONE_SELF;
		f->dst_class = cfg_self_class;
		known = 1;
	} else {
		cls = class_lookup(f, f->dst);
		if (cls) {
			f->zone_to = cls->zone;
			if (cls->zone == f->zone_from)
				return CG_R_INTRA_ZONE;
			f->dst_class = cls->class_id;
			known = 1;
		}
	}
	if (known)
		f->flow = flow_lookup(f);

	/*
	 * 10. The allowlist; 7: inspected flows pass no fragments. Step 12
	 * (at the exit, for this path and the fast path alike) opens the
	 * connection if the request passes.
	 */
	if (f->flow != CG_FLOW_NONE) {
		if (f->fragmented && frag_inspected(f, NULL))
			return CG_R_FRAGMENT; /* see cg_frag_refused() */
		f->opening = 1;
		return CG_R_ALLOWED;
	}

	/* 11. Replies within a live connection, and errors about one. */
	if (f->icmp_error)
		return cg_icmp_error_reply(ctx, f, now) ? CG_R_REPLY
							: CG_R_NO_RULE;
	if (conn_reply(f, c, now))
		return CG_R_REPLY;
	/* A reply to the gateway's own connection (see cg_self_reply). */
	if (f->zone_to == CG_ZONE_SELF) {
		__u32 id = cg_self_reply(ctx, f);

		if (id != CG_FLOW_NONE) {
			f->flow = id;
			return CG_R_REPLY;
		}
	}
	return CG_R_NO_RULE;
}

#include "shadow.h"

SEC("xdp")
int cranegate_xdp(struct xdp_md *ctx)
{
	struct frame f = {};
	struct conn c = {};
	struct cg_flow_info *fi = NULL;
	struct cg_live *l = NULL;
	__u32 reason = CG_R_MAX, verdict, would, l4_off = 0, l3_end = 0, off;
	__u32 action;
	__u64 now = bpf_jiffies64();
	__u8 hop_limit = 0;

	/*
	 * Another instance enforces: let it judge the frame. A tail call to
	 * an empty slot returns, and this instance judges (first apply).
	 * `l` is kept for the shadow hand-off at the exit.
	 */
	if (cfg_slot == CG_SLOT_A || cfg_slot == CG_SLOT_B) {
		__u32 zero = 0;

		l = bpf_map_lookup_elem(&live, &zero);
		if (l && l->slot != cfg_slot &&
		    (l->slot == CG_SLOT_A || l->slot == CG_SLOT_B))
			bpf_tail_call(ctx, &progs, l->slot);
	}

	f.ifindex = ctx->ingress_ifindex;
	f.len = ctx->data_end - ctx->data;
	f.flow = CG_FLOW_NONE;
	f.zone_from = CG_ZONE_NONE;
	f.zone_to = CG_ZONE_NONE;
	f.zone_seen = CG_ZONE_NONE;
	f.l2_reason = CG_R_MAX;
	f.function = CG_FUNC_NONE;

	/* 1. Parse everything first; judge in the specified order later. */
	off = parse_l2(ctx, &f);
	f.l3_off = off;
	if (f.l2_reason != CG_R_MAX) {
		reason = f.l2_reason;
		goto out;
	}
	if (f.ethertype == ETH_P_IP || f.ethertype == ETH_P_IPV6) {
		parse_ip(ctx, &f, off, &l4_off, &l3_end, &hop_limit);
		f.hop_limit = hop_limit;
		if (!f.ip_bad && !f.nonfirst)
			parse_l4(ctx, &f, l4_off, l3_end, hop_limit);
		/* A source in no zone: spoofed (step 6), found by reading
		 * zone_nets. It has no connection (none opens or answers
		 * from such a source), and judge() drops it before step 6
		 * needs one: no lookup, whatever the source. */
		if (!f.ip_bad)
			f.src_outside = !src_maybe_zoned(&f);
		/* Established traffic: the decision it had before. */
		if (!f.ip_bad && !f.nonfirst && !f.l4_bad && !f.src_outside) {
			conn_find(&f, &c, now);
			/* ICMP errors are judged by what they quote; ND in
			 * full (step 5). */
			if (!f.icmp_error && !f.nd)
				reason = conn_fast(&f, &c, now);
		}
	}
	if (reason == CG_R_MAX)
		reason = judge(ctx, &f, &c, &fi, now);

	/* 7. A first fragment of an inspected flow, on the fast path or a
	 * reply: dropped. */
	if (f.fragmented && !f.nonfirst)
		reason = cg_frag_refused(&f, reason);

	/* 12. Requests on flows that restrict ICS functions, new and
	 * established; a refused request opens nothing. */
	if (reason == CG_R_ALLOWED) {
		reason = inspect(ctx, &f, &c, &fi, now);
		if (reason == CG_R_ALLOWED && f.opening)
			conn_open(ctx, &f, &c, fi, now);
	}
	/* What the responder's segments say of an inspected stream. */
	if (reason == CG_R_REPLY && c.val)
		cg_stream_reply(ctx, &f, c.val, c.end);

out:
	/* 12. Verdict; monitor mode turns every drop into a logged pass. */
	would = reason;
	if (reason_drops(reason) && cfg_mode == CG_MODE_MONITOR)
		reason = CG_R_MONITOR;
	verdict = reason_drops(reason) ? CG_V_DROP : CG_V_PASS;

	/*
	 * deny: reset (bpf/reset.h): the refused request is answered with a
	 * RST and its connection forgotten, stream state and all; the
	 * server's side is left to its own timeout. Still a drop, counted
	 * and logged as ics-denied.
	 */
	f.reset = reset_wanted(&f, fi, reason);

	/* A shadow compares and returns the live action; it counts nothing
	 * of its own below. */
	if (is_shadow())
		return shadow_compare(ctx, &f, verdict, reason, would, now);

	/* No pass names an inspected flow here: see cg_frag_refused(). */
	if (f.fragmented && !f.nonfirst && verdict == CG_V_PASS &&
	    reason != CG_R_MONITOR)
		frag_remember(&f, reason, now);

	count(&reason_stats, reason, f.len, now);
	/* What crossed on a live connection, for its records. */
	if (cfg_conn_count && c.val && verdict == CG_V_PASS &&
	    (reason == CG_R_ALLOWED || reason == CG_R_REPLY ||
	     reason == CG_R_MONITOR))
		conn_count(c.val, c.end, f.len);
	if (cfg_iface_stats)
		iface_count(f.ifindex, reason, f.len);
	/* Per flow: what it passed (allowed, replies); a refusal is counted
	 * per reason and per ICS function, and its event names the flow. */
	if (f.flow != CG_FLOW_NONE && verdict == CG_V_PASS)
		count(&flow_stats, f.flow, f.len, now);

	if (verdict == CG_V_DROP || reason == CG_R_MONITOR) {
		emit_event(ctx, &f, verdict, reason, would, now);
	} else if (f.new_conn) {
		if (fi && (fi->flags & CG_FLOW_LOG))
			emit_event(ctx, &f, verdict, reason, would, now);
	}

	if (cfg_record) {
		__u32 zero = 0;
		struct cg_event *e = bpf_map_lookup_elem(&last, &zero);

		if (e)
			fill_event(e, &f, verdict, reason, would, 0);
	}
	action = verdict == CG_V_DROP ? XDP_DROP : XDP_PASS;
	if (f.reset)
		conn_del(f.family, &c.key);
	/* One already-loaded field when no shadow is configured. The shadow
	 * judges the request as it came, and builds the RST itself. */
	if ((cfg_slot == CG_SLOT_A || cfg_slot == CG_SLOT_B) && l && l->shadow)
		shadow_hand_off(ctx, &f, action, verdict, reason, would);
	if (f.reset)
		return reset_answer(ctx, &f);
	return action;
}

char LICENSE[] SEC("license") = "GPL";
