// SPDX-License-Identifier: GPL-2.0
/*
 * cranegate's XDP program: one frame in, one verdict out.
 *
 *   parse (eth -> <=1 VLAN tag -> IPv4/IPv6 + bounded ext headers -> L4)
 *   -> ingress zone -> source checks -> fragments -> destination zone
 *   -> reply? -> flow -> verdict
 *   -> counters, event (rate-limited) -> XDP_PASS / XDP_DROP
 *
 * The order of checks is specified in README.md ("How a frame is judged")
 * and checked against the reference evaluator (user/reference.c) by the
 * differential test. Every path ends at `out:`, which counts and logs.
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

#define TCP_SYN 0x02
#define TCP_ACK 0x10

/* The IPv6 extension-header walk stops after this many headers. */
#define CG_MAX_EXT 8

/* Configuration of this instance, set by the loader before load. */
const volatile __u32 cfg_mode = CG_MODE_ENFORCE;
const volatile __u64 cfg_policy_id = 0;
const volatile __u32 cfg_record = 0;
const volatile __u32 cfg_lookups = CG_LOOKUP_PORTS | CG_LOOKUP_PROTO | CG_LOOKUP_ANY;
const volatile __u64 cfg_ev_rate = 1000;	/* events/s per reason per CPU */
const volatile __u64 cfg_ev_burst = 200;
const volatile __u64 cfg_timeout_tcp_ns = 3600ull * 1000000000ull;
const volatile __u64 cfg_timeout_udp_ns = 120ull * 1000000000ull;
const volatile __u64 cfg_timeout_other_ns = 60ull * 1000000000ull;

/*
 * Policy maps: private to this instance, sized by the loader to the policy
 * (the max_entries below are placeholders).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct cg_zone_key);
	__type(value, struct cg_zone_val);
	__uint(max_entries, 1);
} zones SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct cg_lpm4_key);
	__type(value, struct cg_class_val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);
} classes4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct cg_lpm6_key);
	__type(value, struct cg_class_val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);
} classes6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, CG_PORT_CLASSES_ENTRIES);
} port_classes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct cg_flow_key);
	__type(value, struct cg_flow_val);
	__uint(max_entries, 1);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct cg_flow_info);
	__uint(max_entries, 1);
} flow_info SEC(".maps");

/* Per-CPU: XDP runs in softirq on one CPU, so plain adds need no atomics. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct cg_counter);
	__uint(max_entries, 1);
} flow_stats SEC(".maps");

/* Read back by userspace only (see maps/cranegate.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct cg_policy_meta);
	__uint(max_entries, 1);
} meta SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct cg_name);
	__uint(max_entries, 1);
} names SEC(".maps");

/* Record mode only (replay, tests): the last frame's event. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct cg_event);
	__uint(max_entries, 1);
} last SEC(".maps");

/*
 * State maps: shared by every instance through pins under --pin-root (or
 * private to a replay/test instance), so they survive policy reloads.
 */

/* Per-CPU, like flow_stats: no atomics needed. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct cg_counter);
	__uint(max_entries, CG_R_MAX);
} reason_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct cg_event_counter);
	__uint(max_entries, CG_R_MAX);
} event_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct cg_event_bucket);
	__uint(max_entries, CG_R_MAX);
} event_buckets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct cg_conn_key);
	__type(value, struct cg_conn_val);
	__uint(max_entries, 65536);
} conns SEC(".maps");

/* What parsing and classification learned about the frame. */
struct frame {
	__u32 ifindex;
	__u32 len;
	__u32 flow;
	__u32 src_class;
	__u32 dst_class;
	__u16 vlan;
	__u16 zone_from;
	__u16 zone_to;
	__u16 sport;
	__u16 dport;
	__u8 tagged;
	__u8 family;
	__u8 proto;
	__u8 has_ports;
	__u8 tcp_flags;
	__u8 fragmented;	/* a fragment, first or not */
	__u8 nonfirst;		/* a fragment other than the first */
	__u8 new_conn;		/* this frame opened a connection */
	__u8 src_mac[6];
	__u8 src[16];
	__u8 dst[16];
};

static __always_inline bool reason_drops(__u32 reason)
{
	return reason >= CG_R_FIRST_DROP;
}

/*
 * Bounds helper: a pointer to `n` bytes at offset `off` of the frame, or
 * NULL when they do not lie within it. `off` must be a bounded scalar.
 */
static __always_inline void *frame_ptr(struct xdp_md *ctx, __u32 off, __u32 n)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	if (off > 0xffff)
		return NULL;
	if (data + off + n > data_end)
		return NULL;
	return data + off;
}

/*
 * Token bucket per (reason, CPU): returns true when an event may be sent.
 * Tokens are kept in units of 1/1e9 event so that refill is exact.
 */
static __always_inline bool event_allowed(__u32 reason, __u64 now)
{
	struct cg_event_bucket *b = bpf_map_lookup_elem(&event_buckets, &reason);
	__u64 cap = cfg_ev_burst * 1000000000ull;
	__u64 cost = 1000000000ull;

	if (!b)
		return false;
	if (b->last_ns == 0) {
		b->tokens = cap;
	} else if (now > b->last_ns) {
		__u64 add = (now - b->last_ns) * cfg_ev_rate;

		b->tokens = (cap - b->tokens < add) ? cap : b->tokens + add;
	}
	b->last_ns = now;
	if (b->tokens < cost)
		return false;
	b->tokens -= cost;
	return true;
}

static __always_inline void fill_event(struct cg_event *e, const struct frame *f,
				       __u32 verdict, __u32 reason,
				       __u32 would, __u64 now)
{
	e->ts_ns = now;
	e->policy_id = cfg_policy_id;
	e->ifindex = f->ifindex;
	e->flow = f->flow;
	e->pkt_len = f->len;
	e->vlan = f->vlan;
	e->zone_from = f->zone_from;
	e->zone_to = f->zone_to;
	e->sport = f->sport;
	e->dport = f->dport;
	e->function = CG_FUNC_NONE;
	e->verdict = verdict;
	e->reason = reason;
	e->would = would;
	e->family = f->family;
	e->proto = f->proto;
	__builtin_memcpy(e->src_mac, f->src_mac, 6);
	e->flags = f->has_ports ? CG_EV_PORTS : 0;
	__builtin_memcpy(e->src, f->src, 16);
	__builtin_memcpy(e->dst, f->dst, 16);
}

static __always_inline void count(void *map, __u32 idx, __u32 len, __u64 now)
{
	struct cg_counter *c = bpf_map_lookup_elem(map, &idx);

	if (c) {
		c->packets++;
		c->bytes += len;
		c->last_ns = now;
	}
}

static __always_inline void emit_event(const struct frame *f, __u32 verdict,
				       __u32 reason, __u32 would, __u64 now)
{
	struct cg_event_counter *ec;
	struct cg_event *e;
	__u32 key = would;

	ec = bpf_map_lookup_elem(&event_stats, &key);
	if (!ec)
		return;
	if (!event_allowed(key, now)) {
		ec->suppressed++;
		return;
	}
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		ec->lost++;
		return;
	}
	fill_event(e, f, verdict, reason, would, now);
	bpf_ringbuf_submit(e, 0);
	ec->emitted++;
}

static __always_inline __u64 conn_timeout(__u8 proto)
{
	if (proto == IPPROTO_TCP_)
		return cfg_timeout_tcp_ns;
	if (proto == IPPROTO_UDP_)
		return cfg_timeout_udp_ns;
	return cfg_timeout_other_ns;
}

/*
 * Is the frame a reply within a live connection? Looks up its reversed
 * tuple; a TCP SYN without ACK never is (the responder cannot open a
 * connection back along the flow). Refreshes the connection and sets
 * f->flow to the flow that opened it, if that was under this policy.
 */
static __always_inline bool conn_reply(struct frame *f, __u64 now)
{
	struct cg_conn_key k = {};
	struct cg_conn_val *v;

	if (f->proto == IPPROTO_TCP_ &&
	    (f->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN)
		return false;
	__builtin_memcpy(k.src, f->dst, 16);
	__builtin_memcpy(k.dst, f->src, 16);
	k.sport = f->dport;
	k.dport = f->sport;
	k.proto = f->proto;
	k.family = f->family;
	v = bpf_map_lookup_elem(&conns, &k);
	if (!v || now - v->last_ns > conn_timeout(f->proto))
		return false;
	v->last_ns = now;
	if (v->policy_id == cfg_policy_id)
		f->flow = v->flow;
	return true;
}

/* Open or refresh the connection of a frame a flow allowed. */
static __always_inline void conn_open(struct frame *f, __u64 now)
{
	struct cg_conn_key k = {};
	struct cg_conn_val *v, nv = {};

	__builtin_memcpy(k.src, f->src, 16);
	__builtin_memcpy(k.dst, f->dst, 16);
	k.sport = f->sport;
	k.dport = f->dport;
	k.proto = f->proto;
	k.family = f->family;
	v = bpf_map_lookup_elem(&conns, &k);
	if (v) {
		if (now - v->last_ns > conn_timeout(f->proto))
			f->new_conn = 1;
		v->last_ns = now;
		v->policy_id = cfg_policy_id;
		v->flow = f->flow;
		return;
	}
	nv.last_ns = now;
	nv.policy_id = cfg_policy_id;
	nv.flow = f->flow;
	bpf_map_update_elem(&conns, &k, &nv, BPF_ANY);
	f->new_conn = 1;
}

/*
 * The first matching flow: the lowest id of up to three lookups (see
 * maps/cranegate.h), or CG_FLOW_NONE.
 */
static __always_inline __u32 flow_lookup(const struct frame *f)
{
	struct cg_flow_key k = {};
	struct cg_flow_val *v;
	__u32 port = f->dport, flow = CG_FLOW_NONE;

	k.src_class = f->src_class;
	k.dst_class = f->dst_class;
	k.proto = f->proto;
	if (f->has_ports && (cfg_lookups & CG_LOOKUP_PORTS)) {
		__u32 *pc = bpf_map_lookup_elem(&port_classes, &port);

		if (pc) {
			k.port_class = *pc;
			v = bpf_map_lookup_elem(&flows, &k);
			if (v)
				flow = v->flow;
		}
	}
	k.port_class = CG_PCLASS_ALL;
	if (cfg_lookups & CG_LOOKUP_PROTO) {
		v = bpf_map_lookup_elem(&flows, &k);
		if (v && v->flow < flow)
			flow = v->flow;
	}
	if (cfg_lookups & CG_LOOKUP_ANY) {
		k.proto = CG_PROTO_ANY;
		v = bpf_map_lookup_elem(&flows, &k);
		if (v && v->flow < flow)
			flow = v->flow;
	}
	return flow;
}

static __always_inline const struct cg_class_val *class_lookup(const struct frame *f,
							       const __u8 *addr)
{
	if (f->family == 4) {
		struct cg_lpm4_key k = { .prefixlen = 32 };

		__builtin_memcpy(k.addr, addr, 4);
		return bpf_map_lookup_elem(&classes4, &k);
	} else {
		struct cg_lpm6_key k = { .prefixlen = 128 };

		__builtin_memcpy(k.addr, addr, 16);
		return bpf_map_lookup_elem(&classes6, &k);
	}
}

/*
 * Parse the IP header at `off` and the transport header behind it. Fills
 * family, addresses, proto, fragment state, ports and flags. Returns the
 * reason that ends the judgement (malformed, nd), or CG_R_MAX to go on.
 * `*l4_off` / `*l3_end` delimit the transport header for later checks.
 */
static __always_inline __u32 parse_ip(struct xdp_md *ctx, struct frame *f,
				      __u16 proto, __u32 off, __u32 *l4_off,
				      __u32 *l3_end, __u8 *hop_limit)
{
	__u32 len = ctx->data_end - ctx->data;

	if (proto == ETH_P_IP) {
		struct iphdr *ip = frame_ptr(ctx, off, sizeof(*ip));
		__u32 hl, tot;
		__u16 frag;

		if (!ip || ip->version != 4 || ip->ihl < 5)
			return CG_R_MALFORMED;
		hl = ip->ihl * 4;
		tot = bpf_ntohs(ip->tot_len);
		if (off + hl > len || tot < hl || off + tot > len)
			return CG_R_MALFORMED;
		f->family = 4;
		__builtin_memcpy(f->src, &ip->saddr, 4);
		__builtin_memcpy(f->dst, &ip->daddr, 4);
		f->proto = ip->protocol;
		frag = bpf_ntohs(ip->frag_off);
		f->nonfirst = (frag & 0x1fff) != 0;
		f->fragmented = f->nonfirst || (frag & 0x2000);
		*l4_off = off + hl;
		*l3_end = off + tot;
		*hop_limit = ip->ttl;
		return CG_R_MAX;
	} else {
		struct ipv6hdr *ip6 = frame_ptr(ctx, off, sizeof(*ip6));
		__u32 end, pos;
		__u8 nh;
		int i;

		if (!ip6 || ip6->version != 6)
			return CG_R_MALFORMED;
		end = off + 40 + bpf_ntohs(ip6->payload_len);
		if (end > len)
			return CG_R_MALFORMED;
		f->family = 6;
		__builtin_memcpy(f->src, &ip6->saddr, 16);
		__builtin_memcpy(f->dst, &ip6->daddr, 16);
		*hop_limit = ip6->hop_limit;
		nh = ip6->nexthdr;
		pos = off + 40;
		for (i = 0; i < CG_MAX_EXT + 1; i++) {
			__u8 *h;
			__u32 hlen;

			if (nh != IPPROTO_HOPOPTS_ && nh != IPPROTO_ROUTING_ &&
			    nh != IPPROTO_FRAGMENT_ && nh != IPPROTO_DSTOPTS_ &&
			    nh != IPPROTO_AH_)
				break;
			if (i == CG_MAX_EXT)
				return CG_R_MALFORMED;
			if (pos + 8 > end)
				return CG_R_MALFORMED;
			h = frame_ptr(ctx, pos, 8);
			if (!h)
				return CG_R_MALFORMED;
			if (nh == IPPROTO_FRAGMENT_) {
				__u16 fo = ((__u16)h[2] << 8) | h[3];

				f->fragmented = 1;
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
					return CG_R_MALFORMED;
				hlen = ((__u32)h[1] + 1) * 8;
			}
			nh = h[0];
			pos += hlen;
			if (pos > end)
				return CG_R_MALFORMED;
		}
		f->proto = nh;
		*l4_off = pos;
		*l3_end = end;
		return CG_R_MAX;
	}
}

/*
 * Parse the transport header at l4_off..l3_end: ports for TCP and UDP,
 * echo identifier (as both ports) for ICMP/ICMPv6 echo. Returns
 * CG_R_MALFORMED or CG_R_MAX.
 */
static __always_inline __u32 parse_l4(struct xdp_md *ctx, struct frame *f,
				      __u32 l4_off, __u32 l3_end)
{
	__u32 avail = l3_end - l4_off;

	if (f->proto == IPPROTO_TCP_) {
		struct tcphdr *th = frame_ptr(ctx, l4_off, sizeof(*th));

		if (!th || avail < 20 || th->doff < 5 || th->doff * 4 > avail)
			return CG_R_MALFORMED;
		f->sport = bpf_ntohs(th->source);
		f->dport = bpf_ntohs(th->dest);
		f->tcp_flags = ((__u8 *)th)[13];
		f->has_ports = 1;
	} else if (f->proto == IPPROTO_UDP_) {
		struct udphdr *uh = frame_ptr(ctx, l4_off, sizeof(*uh));
		__u32 ulen;

		if (!uh || avail < 8)
			return CG_R_MALFORMED;
		ulen = bpf_ntohs(uh->len);
		if (!f->fragmented && (ulen < 8 || ulen > avail))
			return CG_R_MALFORMED;
		f->sport = bpf_ntohs(uh->source);
		f->dport = bpf_ntohs(uh->dest);
		f->has_ports = 1;
	} else if ((f->proto == IPPROTO_ICMP_ && f->family == 4) ||
		   (f->proto == IPPROTO_ICMPV6_ && f->family == 6)) {
		__u8 *ih = frame_ptr(ctx, l4_off, 8);
		__u8 t;

		if (!ih || avail < 8)
			return CG_R_MALFORMED;
		t = ih[0];
		if (t == 0 || t == 8 || t == 128 || t == 129) {
			if ((f->family == 4 && (t == 0 || t == 8)) ||
			    (f->family == 6 && (t == 128 || t == 129))) {
				f->sport = ((__u16)ih[4] << 8) | ih[5];
				f->dport = f->sport;
			}
		}
	}
	return CG_R_MAX;
}

SEC("xdp")
int cranegate_xdp(struct xdp_md *ctx)
{
	struct frame f = {};
	const struct cg_class_val *cls;
	struct cg_zone_val *zv;
	struct cg_zone_key zk = {};
	struct ethhdr *eth;
	__u32 reason = CG_R_MAX, verdict, would, l4_off = 0, l3_end = 0, off;
	__u64 now = bpf_ktime_get_ns();
	__u16 proto;
	__u8 hop_limit = 0;

	f.ifindex = ctx->ingress_ifindex;
	f.len = ctx->data_end - ctx->data;
	f.flow = CG_FLOW_NONE;
	f.zone_from = CG_ZONE_NONE;
	f.zone_to = CG_ZONE_NONE;

	/* 1. Ethernet and at most one VLAN tag. */
	eth = frame_ptr(ctx, 0, ETH_HLEN);
	if (!eth) {
		reason = CG_R_MALFORMED;
		goto out;
	}
	__builtin_memcpy(f.src_mac, eth->h_source, 6);
	proto = bpf_ntohs(eth->h_proto);
	off = ETH_HLEN;
	if (proto == ETH_P_8021Q || proto == ETH_P_8021AD) {
		__u8 *tag = frame_ptr(ctx, off, 4);

		if (!tag) {
			reason = CG_R_MALFORMED;
			goto out;
		}
		f.tagged = 1;
		f.vlan = (((__u16)tag[0] << 8) | tag[1]) & 0x0fff;
		proto = ((__u16)tag[2] << 8) | tag[3];
		off += 4;
		if (proto == ETH_P_8021Q || proto == ETH_P_8021AD) {
			reason = CG_R_VLAN_VIOLATION;
			goto out;
		}
	}

	/* 2. Ingress zone by (interface, VLAN id). */
	zk.ifindex = f.ifindex;
	zk.vlan = f.vlan;
	zv = bpf_map_lookup_elem(&zones, &zk);
	if (!zv) {
		reason = CG_R_UNKNOWN_ZONE;
		if (f.vlan) {
			zk.vlan = CG_VLAN_IFACE;
			if (bpf_map_lookup_elem(&zones, &zk))
				reason = CG_R_VLAN_VIOLATION;
		}
		goto out;
	}
	f.zone_from = zv->zone;

	/* 3. Ethertype. */
	if (proto == ETH_P_ARP) {
		reason = CG_R_ARP;
		goto out;
	}
	if (proto != ETH_P_IP && proto != ETH_P_IPV6) {
		reason = CG_R_ETHERTYPE;
		goto out;
	}

	/* 4. IP header (and the IPv6 extension-header walk). */
	reason = parse_ip(ctx, &f, proto, off, &l4_off, &l3_end, &hop_limit);
	if (reason != CG_R_MAX)
		goto out;

	/* 5. Neighbour discovery: on-link (hop limit 255), unfragmented. */
	if (f.family == 6 && f.proto == IPPROTO_ICMPV6_ && !f.fragmented &&
	    hop_limit == 255 && l4_off + 8 <= l3_end) {
		__u8 *ih = frame_ptr(ctx, l4_off, 1);

		if (ih && ih[0] >= 133 && ih[0] <= 137) {
			reason = CG_R_ND;
			goto out;
		}
	}

	/* 6. Source: must lie in the ingress zone's networks. */
	cls = class_lookup(&f, f.src);
	if (!cls || cls->zone == CG_ZONE_NONE) {
		reason = CG_R_SPOOFED_SOURCE;
		goto out;
	}
	if (cls->zone != f.zone_from) {
		reason = CG_R_MULTI_HOMED;
		goto out;
	}
	f.src_class = cls->class_id;

	/* 7. Non-first fragments carry no transport header to judge. */
	if (f.nonfirst) {
		reason = CG_R_FRAGMENT;
		goto out;
	}

	/* 8. Transport header. */
	reason = parse_l4(ctx, &f, l4_off, l3_end);
	if (reason != CG_R_MAX)
		goto out;

	/* 9. Destination zone; traffic within one zone is not ours to judge. */
	cls = class_lookup(&f, f.dst);
	if (cls) {
		f.zone_to = cls->zone;
		if (cls->zone == f.zone_from) {
			reason = CG_R_INTRA_ZONE;
			goto out;
		}
	}

	/* 10. Replies within a live connection. */
	if (conn_reply(&f, now)) {
		reason = CG_R_REPLY;
		goto out;
	}

	/* 11. The allowlist. */
	if (!cls) {
		reason = CG_R_NO_RULE;
		goto out;
	}
	f.dst_class = cls->class_id;
	f.flow = flow_lookup(&f);
	if (f.flow == CG_FLOW_NONE) {
		reason = CG_R_NO_RULE;
		goto out;
	}
	reason = CG_R_ALLOWED;
	conn_open(&f, now);

out:
	/* 12. Verdict; monitor mode turns every drop into a logged pass. */
	would = reason;
	if (reason_drops(reason) && cfg_mode == CG_MODE_MONITOR)
		reason = CG_R_MONITOR;
	verdict = reason_drops(reason) ? CG_V_DROP : CG_V_PASS;

	count(&reason_stats, reason, f.len, now);
	if (f.flow != CG_FLOW_NONE)
		count(&flow_stats, f.flow, f.len, now);

	if (verdict == CG_V_DROP || reason == CG_R_MONITOR) {
		emit_event(&f, verdict, reason, would, now);
	} else if (reason == CG_R_ALLOWED && f.new_conn) {
		__u32 id = f.flow;
		struct cg_flow_info *fi = bpf_map_lookup_elem(&flow_info, &id);

		if (fi && (fi->flags & CG_FLOW_LOG))
			emit_event(&f, verdict, reason, would, now);
	}

	if (cfg_record) {
		__u32 zero = 0;
		struct cg_event *e = bpf_map_lookup_elem(&last, &zero);

		if (e)
			fill_event(e, &f, verdict, reason, would, now);
	}
	return verdict == CG_V_DROP ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
