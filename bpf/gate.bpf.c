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
 * and checked against the reference evaluator (user/policy/reference.c) by the
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
const volatile __u32 cfg_iface_stats = 1;
const volatile __u8 cfg_iface_slot[CG_IFINDEX_SLOTS] = {};
const volatile __u64 cfg_timeout_tcp = 3600 * 250;
const volatile __u64 cfg_timeout_udp = 120 * 250;
const volatile __u64 cfg_timeout_other = 60 * 250;
const volatile __u64 cfg_timeout_tcp_closing = 10 * 250;
const volatile __u64 cfg_mac_hold = 300 * 250;
const volatile __u64 cfg_frag_timeout = 10 * 250;
const volatile __u32 cfg_frag_pass = 0; /* fragments: pass */
/* The policy has time-boxed flows: the flows map holds chains. */
const volatile __u32 cfg_timed = 0;

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
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct cg_host4_key);
	__type(value, struct cg_class_val);
	__uint(max_entries, 1);
} hosts4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct cg_host6_key);
	__type(value, struct cg_class_val);
	__uint(max_entries, 1);
} hosts6 SEC(".maps");

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

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct cg_ics_rule);
	__uint(max_entries, 1);
} ics_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct cg_flow_chain);
	__uint(max_entries, 1);
} flow_chains SEC(".maps");

/* Per-CPU: XDP runs in softirq on one CPU, so plain adds need no atomics. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct cg_counter);
	__uint(max_entries, 1);
} flow_stats SEC(".maps");

/* Per-CPU as well; entries appear as functions are seen. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__type(key, struct cg_ics_key);
	__type(value, struct cg_counter);
	__uint(max_entries, 4096);
} ics_stats SEC(".maps");

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

/* Shared by the CPUs (see maps/cranegate.h on the races this allows). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct cg_event_source_key);
	__type(value, struct cg_event_bucket);
	__uint(max_entries, 8192);
} event_sources SEC(".maps");

/* Per-CPU: no atomics needed. Indexed by slot (maps/cranegate.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct cg_iface_stats);
	__uint(max_entries, CG_IFACE_MAX);
} iface_stats SEC(".maps");

/* The loader's record of slots; the program never reads it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, CG_IFACE_MAX);
} iface_slots SEC(".maps");

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

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct cg_mac_key);
	__type(value, struct cg_mac_val);
	__uint(max_entries, 16384);
} macs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct cg_frag_key);
	__type(value, struct cg_frag_val);
	__uint(max_entries, 4096);
} frags SEC(".maps");

/* Per-CPU: no atomics needed. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, CG_S_MAX);
} state_stats SEC(".maps");

/* The hand-off between instances (see maps/cranegate.h). */
#include "handoff.h"

/* Shadow evaluation (see maps/cranegate.h). Per-CPU: no atomics needed. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct cg_shadow_in);
	__uint(max_entries, 1);
} shadow_in SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct cg_counter);
	__uint(max_entries, CG_SHADOW_PAIRS);
} shadow_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__type(key, struct cg_shadow_key);
	__type(value, struct cg_counter);
	__uint(max_entries, 1024);
} shadow_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct cg_event_counter);
	__uint(max_entries, 1);
} shadow_event_stats SEC(".maps");

/*
 * Scratch for the stream rule: the TCP segment of the frame being judged,
 * copied once for its checksum and the hashes of its data. Per-CPU: one
 * frame at a time per CPU (softirq). CG_STREAM_MAX bytes, plus room for
 * the zero padding of the checksum.
 */
struct cg_stream_buf {
	__u32 w_seq; /* the walk over passed data (rec_step) */
	__u32 w_poff;
	__u32 w_pos;
	__u32 w_stop;
	__u32 w_bad;
	__u32 hs_off; /* the hashes (stream_hash) */
	__u32 hs_end;
	__u32 hs_k1;
	__u32 hs_k2;
	__u32 hs_h1;
	__u32 hs_h2;
	__u32 cw_padded; /* the checksum (tcp_csum_ok) */
	__s64 cw_sum;
	__u8 ph[40];  /* its pseudo-header */
	__u8 opt[40]; /* TCP options (tcp_wscale) */
	/*
	 * What stream_judge leaves for step 12 and stream_commit. Kept here
	 * rather than in struct frame on the stack: the verifier does not
	 * track map memory, so the rule's many paths meet again before the
	 * ICS walk instead of each being walked through it on its own.
	 */
	__u32 next; /* the `next` the frame was judged against */
	__u32 len;  /* its data length */
	__u32 h1;   /* the hashes of its new data */
	__u32 h2;
	__u32 payload_off; /* where its new data starts */
	__u32 retrans;	   /* an exact copy of passed data */
	__u8 b[CG_STREAM_MAX + 8];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct cg_stream_buf);
	__uint(max_entries, 1);
} stream_buf SEC(".maps");

/* Scratch for a new connection's entry (conn_open), per-CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct cg_conn_val);
	__uint(max_entries, 1);
} conn_new SEC(".maps");

#include "records.h"

/* What parsing and classification learned about the frame. */
struct frame {
	__u64 tai; /* CLOCK_TAI ns, read when first needed; 0 = not yet */
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
	__u16 ethertype; /* inner ethertype */
	__u16 zone_seen; /* multi-homed by MAC: where it was seen */
	__u32 ip_id;	 /* IPv4 id / IPv6 fragment id */
	__u32 l3_off;
	__u8 family;
	__u8 proto;
	__u8 has_ports;
	__u8 tcp_flags;
	__u8 fragmented;   /* a fragment, first or not */
	__u8 nonfirst;	   /* a fragment other than the first */
	__u8 new_conn;	   /* this frame opened a connection */
	__u8 l2_reason;	   /* CG_R_MAX, or why L2 parsing stopped */
	__u8 ip_bad;	   /* IP header or extension headers malformed */
	__u8 l4_bad;	   /* transport header malformed */
	__u8 nd;	   /* ND or MLD, by type and hop limit (step 5) */
	__u8 echo_request; /* ICMP/ICMPv6 echo request */
	__u8 icmp_error;   /* ICMP/ICMPv6 error quoting a packet */
	/*
	 * Fragments' key: the IPv4 protocol, or the IPv6 fragment header's
	 * next header. It sits in what was padding: a field that moves the
	 * others changes how clang merges the stores that zero this struct,
	 * and the verifier's work more than doubled (past its 1M limit).
	 */
	__u8 frag_proto;
	/* The quoted packet of an error, or the message of an ND frame. */
	__u32 inner_off;
	__u32 inner_end;
	__u32 payload_off; /* TCP payload, up to payload_end */
	__u32 payload_end;
	__u16 function; /* ICS function of the frame, or CG_FUNC_NONE */
	__u8 ics_proto;
	__u8 src_mac[6];
	__u8 hop_limit;	 /* IPv4 TTL / IPv6 hop limit on arrival */
	__u8 opening;	 /* a flow allowed it on the full judgement */
	__u8 st_touched; /* the opener's frame on an inspected flow */
	__u8 ip6_ext;	 /* IPv6: an extension header was walked */
	__u32 l4_off;	 /* TCP header, up to payload_end (the IP end) */
	__u32 tcp_seq;
	__u32 tcp_ack;
	/* Aligned: conn_key_of() reads them 8 bytes at a time. */
	__u8 src[16] __attribute__((aligned(8)));
	__u8 dst[16] __attribute__((aligned(8)));
};

/* Two MAC addresses differ (clang has no inline memcmp for BPF). */
static __always_inline bool mac_differs(const __u8 *a, const __u8 *b)
{
	return (a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) |
	       (a[4] ^ b[4]) | (a[5] ^ b[5]);
}

/* fe80::/10 */
static __always_inline bool addr_link_local(const __u8 *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/* :: */
static __always_inline bool addr_unspecified(const __u8 *a)
{
	return !((__u64 *)a)[0] && !((__u64 *)a)[1];
}

/*
 * The wall clock for windows, read at most once per frame and only by
 * frames that meet one: a time-boxed flow, or a connection it opened.
 */
static __always_inline __u64 frame_tai(struct frame *f)
{
	if (!f->tai)
		f->tai = bpf_ktime_get_tai_ns();
	return f->tai;
}

/* Has a connection opened by a time-boxed flow outlived its window? */
static __always_inline bool conn_cut(struct frame *f,
				     const struct cg_conn_val *v)
{
	return v->until && frame_tai(f) >= v->until;
}

static __always_inline bool reason_drops(__u32 reason)
{
	return reason >= CG_R_FIRST_DROP;
}

/*
 * A shadow instance (apply --shadow) judges and compares but writes no
 * state: every write to the shared tables, counters and events is guarded
 * by this. A rodata constant: the verifier prunes the guarded code from
 * the other instances, and the writes from the shadow.
 */
static __always_inline bool is_shadow(void)
{
	return cfg_slot == CG_SLOT_SHADOW;
}

/*
 * Bounds helper: a pointer to `n` bytes at offset `off` of the frame, or
 * NULL when they do not lie within it. Offsets past CG_MAX_OFF (larger
 * than any frame XDP sees without fragments) are refused, which also
 * keeps off + n within what the verifier accepts for packet ranges.
 */
#define CG_MAX_OFF 0x3fff

static __always_inline void *frame_ptr(struct xdp_md *ctx, __u32 off, __u32 n)
{
	/* Volatile: keep clang from folding the two context reads into one
	 * read at a computed offset, which the verifier refuses. */
	void *data = (void *)(long)*(volatile __u32 *)&ctx->data;
	void *data_end = (void *)(long)*(volatile __u32 *)&ctx->data_end;

	if (off > CG_MAX_OFF)
		return NULL;
	/*
	 * An opaque mask on the register that is added to the packet
	 * pointer: clang may bounds-check a copy, and the verifier needs the
	 * bound on this one.
	 */
	asm volatile("%[o] &= 0x3fff" : [o] "+r"(off));
	if (data + off + n > data_end)
		return NULL;
	return data + off;
}

/* frame_ptr() for a function that read the frame's bounds itself. */
static __always_inline void *pkt_ptr(void *data, void *data_end, __u32 off,
				     __u32 n)
{
	if (off > CG_MAX_OFF)
		return NULL;
	asm volatile("%[o] &= 0x3fff" : [o] "+r"(off));
	if (data + off + n > data_end)
		return NULL;
	return data + off;
}

/*
 * Take one event's worth from a token bucket that refills at `rate` events
 * per second up to `burst` events; true when there was one. `now` is in
 * jiffies; tokens are kept in units of 1/HZ event, so that each jiffy adds
 * `rate` units exactly. A bucket never used (last == 0) starts full.
 */
static __always_inline bool bucket_take(struct cg_event_bucket *b, __u64 now,
					__u64 rate, __u64 burst)
{
	__u64 cap = burst * cfg_hz;
	__u64 cost = cfg_hz;

	if (b->last == 0) {
		b->tokens = cap;
	} else if (now > b->last) {
		__u64 add = (now - b->last) * rate;

		b->tokens = (cap - b->tokens < add) ? cap : b->tokens + add;
	}
	b->last = now;
	if (b->tokens < cost)
		return false;
	b->tokens -= cost;
	return true;
}

/* The ceiling: per (reason, CPU). */
static __always_inline bool event_allowed(__u32 reason, __u64 now)
{
	struct cg_event_bucket *b =
		bpf_map_lookup_elem(&event_buckets, &reason);

	return b && bucket_take(b, now, cfg_ev_rate, cfg_ev_burst);
}

/*
 * The per-(reason, source) limit. A source seen for the first time gets a
 * full bucket, less this event; if the insert fails the event goes on to
 * the ceiling, which still bounds it.
 */
static __always_inline bool source_allowed(const struct frame *f, __u32 reason,
					   __u64 now)
{
	struct cg_event_source_key k = {};
	struct cg_event_bucket *b, nb;

	k.reason = reason;
	k.family = f->family;
	if (f->family)
		__builtin_memcpy(k.addr, f->src, 16);
	else
		__builtin_memcpy(k.addr, f->src_mac, 6);
	b = bpf_map_lookup_elem(&event_sources, &k);
	if (b)
		return bucket_take(b, now, cfg_ev_src_rate, cfg_ev_src_burst);
	nb.tokens = (cfg_ev_src_burst - 1) * cfg_hz;
	nb.last = now ?: 1;
	bpf_map_update_elem(&event_sources, &k, &nb, BPF_NOEXIST);
	return true;
}

static __always_inline void fill_event(struct cg_event *e,
				       const struct frame *f, __u32 verdict,
				       __u32 reason, __u32 would, __u64 now)
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
	e->function = f->function;
	e->ics_proto = f->ics_proto;
	e->zone_seen = f->zone_seen;
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
		c->last = now;
	}
}

static __always_inline void emit_event(struct xdp_md *ctx,
				       const struct frame *f, __u32 verdict,
				       __u32 reason, __u32 would, __u64 now)
{
	__u32 cap;
	struct cg_event_counter *ec;
	struct cg_event *e;
	__u32 key = would;

	ec = bpf_map_lookup_elem(&event_stats, &key);
	if (!ec)
		return;
	/* Events off (events_per_second: 0): counted, never sent. */
	if (!cfg_ev_rate) {
		ec->suppressed++;
		return;
	}
	/* The source's own bucket first: see maps/cranegate.h. */
	if (cfg_ev_src_limit && !source_allowed(f, key, now)) {
		ec->suppressed++;
		ec->suppressed_source++;
		return;
	}
	if (!event_allowed(key, now)) {
		ec->suppressed++;
		return;
	}
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		ec->lost++;
		return;
	}
	fill_event(e, f, verdict, reason, would, bpf_ktime_get_ns());
	e->shadow_policy_id = 0;
	cap = f->len < CG_EVENT_DATA ? f->len : CG_EVENT_DATA;
	e->cap_len = 0;
	if (cap && !bpf_xdp_load_bytes(ctx, 0, e->data, cap))
		e->cap_len = cap;
	bpf_ringbuf_submit(e, 0);
	ec->emitted++;
}

/* Frames and bytes per (ingress interface, reason). */
static __always_inline void iface_count(__u32 ifindex, __u32 reason, __u32 len)
{
	struct cg_iface_stats *s;
	__u64 r = reason;
	__u32 slot;

	/* One 64-bit register, checked and then used as the index: clang
	 * may otherwise check a zero-extended copy the verifier does not
	 * tie to it. */
	asm volatile("" : "+r"(r));
	if (ifindex >= CG_IFINDEX_SLOTS || r >= CG_R_MAX)
		return;
	slot = cfg_iface_slot[ifindex];
	if (!slot)
		return;
	s = bpf_map_lookup_elem(&iface_stats, &slot);
	if (!s)
		return;
	s->r[r].packets++;
	s->r[r].bytes += len;
}

static __always_inline void state_count(__u32 stat)
{
	__u64 *v = bpf_map_lookup_elem(&state_stats, &stat);

	if (v)
		(*v)++;
}

static __always_inline __u64 conn_timeout(__u8 proto)
{
	if (proto == IPPROTO_TCP_)
		return cfg_timeout_tcp;
	if (proto == IPPROTO_UDP_)
		return cfg_timeout_udp;
	return cfg_timeout_other;
}

/*
 * The connection key of a frame, ends in canonical order; returns the
 * frame's own end (0 = a, 1 = b).
 */
static __always_inline __u32 conn_key_of(const __u8 *src, const __u8 *dst,
					 __u16 sport, __u16 dport, __u8 proto,
					 __u8 family, struct cg_conn_key *k)
{
	__u64 s0 = bpf_be64_to_cpu(*(__u64 *)&src[0]);
	__u64 d0 = bpf_be64_to_cpu(*(__u64 *)&dst[0]);
	__u64 s1 = bpf_be64_to_cpu(*(__u64 *)&src[8]);
	__u64 d1 = bpf_be64_to_cpu(*(__u64 *)&dst[8]);
	bool src_first;

	if (s0 != d0)
		src_first = s0 < d0;
	else if (s1 != d1)
		src_first = s1 < d1;
	else
		src_first = sport <= dport;
	if (src_first) {
		__builtin_memcpy(k->a, src, 16);
		__builtin_memcpy(k->b, dst, 16);
		k->aport = sport;
		k->bport = dport;
	} else {
		__builtin_memcpy(k->a, dst, 16);
		__builtin_memcpy(k->b, src, 16);
		k->aport = dport;
		k->bport = sport;
	}
	k->proto = proto;
	k->family = family;
	return src_first ? 0 : 1;
}

static __always_inline __u32 conn_key(const struct frame *f,
				      struct cg_conn_key *k)
{
	return conn_key_of(f->src, f->dst, f->sport, f->dport, f->proto,
			   f->family, k);
}

/*
 * Frames that open a connection rather than answer one: a TCP SYN without
 * ACK and an echo request never count as replies, so that the responder
 * cannot open a connection back along the flow.
 */
static __always_inline bool opens(const struct frame *f)
{
	return (f->proto == IPPROTO_TCP_ &&
		(f->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) ||
	       f->echo_request;
}

/*
 * One step of the TCP option walk (bpf_loop keeps the verifier's work
 * small); the options are in the per-CPU scratch, to spare the stack.
 */
struct opt_walk {
	struct cg_stream_buf *ms;
	__u32 olen;
	__u32 i;
	int ws;
};

static long opt_step(__u64 n, void *data)
{
	struct opt_walk *w = data;
	__u8 *opt = w->ms->opt;
	__u32 i = w->i;
	__u8 kind, len;

	if (i >= w->olen || i >= 39)
		return 1;
	kind = opt[i];
	if (kind == 0)
		return 1;
	if (kind == 1) {
		w->i = i + 1;
		return 0;
	}
	len = opt[i + 1];
	if (len < 2)
		return 1;
	/* A later window scale option overrides an earlier one (Linux). */
	if (kind == 3 && len == 3 && i + 2 < w->olen && i < 37)
		w->ws = opt[i + 2];
	w->i = i + len;
	return 0;
}

/*
 * The window scale a SYN or SYN-ACK offers (TCP option 3), or -1. The
 * options lie between the 20-byte header and the data.
 */
static __always_inline int tcp_wscale(struct xdp_md *ctx, const struct frame *f)
{
	struct opt_walk w = {.ws = -1};
	__u64 olen = f->payload_off - f->l4_off - 20;
	__u32 zero = 0;

	w.ms = bpf_map_lookup_elem(&stream_buf, &zero);
	if (!w.ms)
		return -1;
	/* Masked in asm: the verifier needs the bounds on this register. */
	asm volatile("%[n] &= 0x3f" : [n] "+r"(olen));
	if (olen == 0 || olen > 40 || f->payload_off - f->l4_off > 60)
		return -1;
	if (bpf_xdp_load_bytes(ctx, f->l4_off + 20, w.ms->opt, olen))
		return -1;
	w.olen = olen;
	bpf_loop(40, opt_step, &w, 0);
	return w.ws;
}

static __always_inline void remember(struct cg_conn_end *e,
				     const struct frame *f, __u32 reason)
{
	e->policy_id = cfg_policy_id;
	e->ifindex = f->ifindex;
	e->vlan = f->vlan;
	e->flow = f->flow;
	e->zone_from = f->zone_from;
	e->zone_to = f->zone_to;
	e->reason = reason;
	__builtin_memcpy(e->src_mac, f->src_mac, 6);
}

/*
 * A frame's connection: its key, its end, and the live entry if any
 * (looked up once per frame, shared by the fast path, replies and opens).
 */
struct conn {
	struct cg_conn_key key;
	struct cg_conn_val *val; /* NULL: none, or expired */
	__u32 end;
	__u32 expired; /* an entry was there, idle past its timeout */
};

/* The hashes of the stream rule work modulo the prime 2^31 - 1. */
#define CG_P31 0x7fffffffu

/* x mod 2^31 - 1, for x < 2^62 (two folds and one subtraction). */
static __always_inline __u32 mod_p31(__u64 x)
{
	x = (x & CG_P31) + (x >> 31);
	x = (x & CG_P31) + (x >> 31);
	return x >= CG_P31 ? x - CG_P31 : x;
}

/*
 * (Re)start the opener's stream of an inspected connection: at a SYN, at
 * its sequence number, with fresh hash keys and noting whether it offers
 * window scaling (ws >= 0); without one, picked up (CG_ST_UNSYNCED) until
 * the responder's next ACK says where the stream stands.
 */
static __always_inline void stream_start(struct cg_stream *s,
					 const struct frame *f, int ws)
{
	__builtin_memset(s, 0, sizeof(*s));
	/* Keys for every stream: one picked up is synchronized later. */
	s->k1 = 1 + bpf_get_prandom_u32() % (CG_P31 - 1);
	s->k2 = 1 + bpf_get_prandom_u32() % (CG_P31 - 1);
	if (!(f->tcp_flags & TCP_SYN)) {
		s->state = CG_ST_UNSYNCED;
		return;
	}
	s->state = CG_ST_SYN;
	s->next = f->tcp_seq + 1;
	s->isn = f->tcp_seq;
	/* The handshake is seen: the shift is known (0 until the SYN-ACK
	 * says otherwise). */
	s->flags = CG_STF_SHIFT | (ws >= 0 ? CG_STF_SYN_WS : 0);
}

static __always_inline void conn_find(struct frame *f, struct conn *c,
				      __u64 now)
{
	c->end = conn_key(f, &c->key) & 1;
	c->val = bpf_map_lookup_elem(&conns, &c->key);
	/*
	 * Idle past its timeout, or past the window of the flow that opened
	 * it. The window is checked whatever this policy says (not behind
	 * cfg_timed), so that a reload cannot stretch a vendor's session.
	 */
	if (c->val &&
	    (now - c->val->last > (c->val->closing ? cfg_timeout_tcp_closing
						   : conn_timeout(f->proto)) ||
	     conn_cut(f, c->val))) {
		c->val = NULL;
		c->expired = 1;
	}
}

/* A FIN or RST starts the short closing timeout of a connection. */
static __always_inline void conn_seen(const struct frame *f,
				      struct cg_conn_val *v, __u64 now)
{
	if (is_shadow())
		return;
	v->last = now;
	if (f->proto == IPPROTO_TCP_ && (f->tcp_flags & (TCP_FIN | TCP_RST)))
		v->closing |=
			(f->tcp_flags & TCP_RST) ? CG_CLOSE_RST : CG_CLOSE_FIN;
}

/*
 * The MAC table: was this unicast source MAC seen in another zone within
 * the hold time? If not, (re)learn it in the frame's zone. Returns true
 * when the frame is multi-homed, with f->zone_seen set.
 */
static __always_inline bool mac_conflict(struct frame *f, __u64 now)
{
	struct cg_mac_key k = {};
	struct cg_mac_val *v, nv = {};

	if (f->src_mac[0] & 1)
		return false; /* group address: not a station */
	__builtin_memcpy(k.mac, f->src_mac, 6);
	v = bpf_map_lookup_elem(&macs, &k);
	if (v && v->zone != f->zone_from && now - v->last <= cfg_mac_hold) {
		f->zone_seen = v->zone;
		return true;
	}
	if (is_shadow())
		return false;
	if (v && v->zone == f->zone_from) {
		v->last = now;
		return false;
	}
	nv.last = now;
	nv.zone = f->zone_from;
	bpf_map_update_elem(&macs, &k, &nv, BPF_ANY);
	state_count(CG_S_MAC_LEARNED);
	return false;
}

/*
 * The fast path: the decision this end of a live connection received
 * before, if it arrives on the same ingress under the same policy.
 * Returns the reason (allowed or reply) or CG_R_MAX to judge in full.
 */
static __always_inline __u32 conn_fast(struct frame *f, struct conn *c,
				       __u64 now)
{
	struct cg_conn_end *e;

	if (!c->val)
		return CG_R_MAX;
	e = &c->val->end[c->end & 1];
	if (e->policy_id != cfg_policy_id || e->ifindex != f->ifindex ||
	    e->vlan != f->vlan || mac_differs(e->src_mac, f->src_mac))
		return CG_R_MAX;
	if (e->reason == CG_R_REPLY && opens(f))
		return CG_R_MAX;
	/* The MAC check, at most once a second per end. */
	if (now - e->mac_checked > cfg_hz) {
		f->zone_from = e->zone_from;
		if (mac_conflict(f, now))
			return CG_R_MAX;
		if (!is_shadow())
			e->mac_checked = now;
	}
	conn_seen(f, c->val, now);
	f->flow = e->flow;
	f->zone_from = e->zone_from;
	f->zone_to = e->zone_to;
	return e->reason;
}

/*
 * Open or refresh the connection of a frame a flow allowed. A connection
 * keeps the window end of the flow that opened it.
 */
static __always_inline void conn_open(struct xdp_md *ctx, struct frame *f,
				      struct conn *c,
				      const struct cg_flow_info *fi, __u64 now)
{
	struct cg_conn_val *nv;
	__u32 zero = 0;

	if (is_shadow())
		return;
	if (c->val) {
		conn_seen(f, c->val, now);
		remember(&c->val->end[c->end & 1], f, CG_R_ALLOWED);
		c->val->end[c->end & 1].mac_checked = now;
		return;
	}
	/* New, or expired: this end opens it afresh (built in scratch: the
	 * entry is too large for the stack beside the rest). */
	nv = bpf_map_lookup_elem(&conn_new, &zero);
	if (!nv)
		return;
	__builtin_memset(nv, 0, sizeof(*nv));
	nv->opener = c->end;
	if (f->st_touched)
		stream_start(&nv->stream, f,
			     (f->tcp_flags & TCP_SYN) ? tcp_wscale(ctx, f)
						      : -1);
	if (fi && (fi->flags & CG_FLOW_TIMED))
		nv->until = fi->valid_until;
	remember(&nv->end[c->end & 1], f, CG_R_ALLOWED);
	nv->end[c->end & 1].mac_checked = now;
	conn_seen(f, nv, now);
	if (cfg_conn_count)
		conn_count_first(nv, c->end, f->len, now);
	if (bpf_map_update_elem(&conns, &c->key, nv, BPF_ANY)) {
		state_count(CG_S_CONN_FAILED);
		return;
	}
	state_count(CG_S_CONN_OPENED);
	if (c->expired)
		state_count(CG_S_CONN_EXPIRED);
	f->new_conn = 1;
}

/*
 * A frame no flow allows: a reply if its connection is live and the other
 * end opened it (and it does not itself open: see opens()).
 */
static __always_inline bool conn_reply(struct frame *f, struct conn *c,
				       __u64 now)
{
	struct cg_conn_end *opener;

	if (opens(f) || !c->val || c->val->opener == c->end)
		return false;
	opener = &c->val->end[c->val->opener & 1];
	f->flow = opener->policy_id == cfg_policy_id ? opener->flow
						     : CG_FLOW_NONE;
	if (is_shadow())
		return true;
	conn_seen(f, c->val, now);
	remember(&c->val->end[c->end & 1], f, CG_R_REPLY);
	c->val->end[c->end & 1].mac_checked = now;
	return true;
}

/*
 * An ICMP/ICMPv6 error (unreachable, too big, time exceeded, parameter
 * problem) on its way back to the sender of the packet it quotes: a reply
 * if that packet belongs to a live connection. The quoted packet must have
 * been sent by the error's destination, and carry its IP header and the
 * first 8 bytes of its transport header.
 */
static __always_inline bool icmp_error_reply(struct xdp_md *ctx,
					     struct frame *f, __u64 now)
{
	struct cg_conn_key k = {};
	struct cg_conn_val *v;
	struct cg_conn_end *opener;
	__u8 src[16] __attribute__((aligned(8))) = {};
	__u8 dst[16] __attribute__((aligned(8))) = {};
	__u8 proto;
	__u16 sport = 0, dport = 0;
	__u32 off = f->inner_off, l4;
	__u8 *h;

	if (f->family == 4) {
		__u8 *ip = frame_ptr(ctx, off, 20);
		__u32 hl;

		if (!ip || (ip[0] >> 4) != 4 || (ip[0] & 15) < 5)
			return false;
		hl = (ip[0] & 15) * 4;
		proto = ip[9];
		__builtin_memcpy(src, ip + 12, 4);
		__builtin_memcpy(dst, ip + 16, 4);
		l4 = off + hl;
	} else {
		__u8 *ip = frame_ptr(ctx, off, 40);

		if (!ip || (ip[0] >> 4) != 6)
			return false;
		proto = ip[6];
		__builtin_memcpy(src, ip + 8, 16);
		__builtin_memcpy(dst, ip + 24, 16);
		l4 = off + 40;
	}
	if (l4 + 8 > f->inner_end)
		return false;
	h = frame_ptr(ctx, l4, 8);
	if (!h)
		return false;
	/* Sent by the error's destination. */
	if (((__u64 *)src)[0] != ((__u64 *)f->dst)[0] ||
	    ((__u64 *)src)[1] != ((__u64 *)f->dst)[1])
		return false;
	if (proto == IPPROTO_TCP_ || proto == IPPROTO_UDP_) {
		sport = ((__u16)h[0] << 8) | h[1];
		dport = ((__u16)h[2] << 8) | h[3];
	} else if ((f->family == 4 && proto == IPPROTO_ICMP_ &&
		    (h[0] == 0 || h[0] == 8)) ||
		   (f->family == 6 && proto == IPPROTO_ICMPV6_ &&
		    (h[0] == 128 || h[0] == 129))) {
		sport = ((__u16)h[4] << 8) | h[5];
		dport = sport;
	}
	conn_key_of(src, dst, sport, dport, proto, f->family, &k);
	v = bpf_map_lookup_elem(&conns, &k);
	if (!v ||
	    now - v->last > (v->closing ? cfg_timeout_tcp_closing
					: conn_timeout(proto)) ||
	    conn_cut(f, v))
		return false;
	opener = &v->end[v->opener & 1];
	f->flow = opener->policy_id == cfg_policy_id ? opener->flow
						     : CG_FLOW_NONE;
	return true;
}

static __always_inline bool bit_set(const __u8 *map, __u8 code)
{
	return map[code >> 3] & (1u << (code & 7));
}

#define CG_MAX_MODBUS_ADUS 8
#define CG_MAX_TPKTS 4

#include "modbus.h"

/*
 * A Modbus/TCP request (README step 12): whole ADUs, at most 8, each with
 * protocol id 0 and a length within the payload, ending exactly at the
 * payload's end; under a function check, allowed codes only. Returns true
 * when the request is refused.
 */
static __always_inline bool modbus_refused(struct xdp_md *ctx, struct frame *f,
					   const struct cg_ics_rule *r)
{
	__u32 pos = f->payload_off, end = f->payload_end, len;
	int i;

	f->ics_proto = CG_ICS_PROTO_MODBUS;
	for (i = 0; i < CG_MAX_MODBUS_ADUS; i++) {
		__u8 *h = frame_ptr(ctx, pos, 8);
		__u8 fc;

		f->function = CG_FUNC_NONE;
		if (!h || pos + 8 > end)
			return true;
		len = ((__u32)h[4] << 8) | h[5];
		if (h[2] || h[3] || len < 2 || pos + 6 + len > end)
			return true;
		fc = h[7];
		f->function = fc;
		if (r->modbus == CG_ICS_FUNCTIONS) {
			if (!bit_set(r->modbus_fc, fc))
				return true;
			if (fc == 43 && r->modbus_mei14) {
				__u8 *mei = frame_ptr(ctx, pos + 8, 1);

				if (len < 3 || !mei || *mei != 14)
					return true;
			}
		} else if (r->modbus == CG_ICS_RULES &&
			   cg_modbus_rules(ctx, pos, len, r->modbus_allow_first,
					   r->modbus_allow_n)) {
			return true;
		}
		pos += 6 + len;
		if (pos == end)
			return false;
	}
	/* More ADUs than the walk takes: refused, naming no function. */
	f->function = CG_FUNC_NONE;
	return true;
}

/*
 * The function an S7 PDU (protocol id 0x32) names, or CG_FUNC_NONE: the
 * job function (ROSCTR 1, at least one parameter byte), or 0x700 + the
 * group of a userdata PDU (ROSCTR 7, the 8-byte parameter header). The
 * lengths were checked against the TPKT by the caller.
 */
static __always_inline __u16 s7_function(struct xdp_md *ctx, __u32 s,
					 const __u8 *h, __u32 plen)
{
	__u8 *p;

	if (h[1] == 1 && plen >= 1) {
		p = frame_ptr(ctx, s + 10, 1);
		return p ? p[0] : CG_FUNC_NONE;
	}
	if (h[1] == 7 && plen >= 8) {
		p = frame_ptr(ctx, s + 10, 8);
		return p ? 0x700 + (p[5] & 15) : CG_FUNC_NONE;
	}
	return CG_FUNC_NONE;
}

/*
 * An S7comm request (README step 12): whole TPKTs, at most 4; COTP
 * connection management passes; a data TPDU carries an S7 PDU that must
 * fit, and under a function check be an allowed job or userdata request.
 * Returns true when the request is refused.
 */
static __always_inline bool s7comm_refused(struct xdp_md *ctx, struct frame *f,
					   const struct cg_ics_rule *r)
{
	__u32 pos = f->payload_off, end = f->payload_end, tl, li, s, slen;
	int i;

	f->ics_proto = CG_ICS_PROTO_S7COMM;
	for (i = 0; i < CG_MAX_TPKTS; i++) {
		__u8 *t = frame_ptr(ctx, pos, 6), *h, type;

		f->function = CG_FUNC_NONE;
		if (!t || pos + 6 > end || t[0] != 3 || t[1] != 0)
			return true;
		tl = ((__u32)t[2] << 8) | t[3];
		li = t[4];
		if (tl < 7 || pos + tl > end || li < 1 || 5 + li > tl)
			return true;
		type = t[5] & 0xf0;
		if (type == 0xf0) {
			s = pos + 5 + li;
			slen = tl - 5 - li;
			h = frame_ptr(ctx, s, 10);
			if (slen < 10 || !h)
				return true;
			if (h[0] == 0x72) {
				if (r->s7comm != CG_ICS_FRAMING)
					return true;
			} else if (h[0] != 0x32) {
				return true;
			} else {
				__u32 plen = ((__u32)h[6] << 8) | h[7];
				__u32 dlen = ((__u32)h[8] << 8) | h[9];
				__u16 fn;

				if (10 + plen + dlen > slen)
					return true;
				fn = s7_function(ctx, s, h, plen);
				f->function = fn;
				if (r->s7comm == CG_ICS_FUNCTIONS) {
					if (fn == CG_FUNC_NONE)
						return true;
					if (h[1] == 1 &&
					    !bit_set(r->s7_job, fn))
						return true;
					if (h[1] == 7) {
						__u8 *p = frame_ptr(ctx, s + 15,
								    1);

						if (!p || (p[0] >> 4) != 4 ||
						    !(r->s7_groups &
						      (1u << (p[0] & 15))))
							return true;
					}
				}
			}
		} else if (type != 0xe0 && type != 0xd0 && type != 0x80 &&
			   type != 0xc0) {
			return true;
		}
		pos += tl;
		if (pos == end)
			return false;
	}
	/* More TPKTs than the walk takes: refused, naming no function. */
	f->function = CG_FUNC_NONE;
	return true;
}

/* Count an inspected request per (flow, protocol, function, verdict). */
static __always_inline void ics_count(const struct frame *f, bool denied,
				      __u64 now)
{
	struct cg_ics_key k = {
		.flow = f->flow,
		.function = f->function,
		.proto = f->ics_proto,
		.verdict = denied ? CG_V_DROP : CG_V_PASS,
	};
	struct cg_counter *c = bpf_map_lookup_elem(&ics_stats, &k), nc = {};

	if (c) {
		c->packets++;
		c->bytes += f->len;
		c->last = now;
		return;
	}
	nc.packets = 1;
	nc.bytes = f->len;
	nc.last = now;
	bpf_map_update_elem(&ics_stats, &k, &nc, BPF_NOEXIST);
}

/* Step 12: is this request, on a flow with modbus:/s7comm:, refused? */
static __always_inline bool ics_refused(struct xdp_md *ctx, struct frame *f,
					const struct cg_flow_info *fi)
{
	const struct cg_ics_rule *r;
	__u32 idx = fi->ics;

	if (f->proto != IPPROTO_TCP_ || f->payload_off >= f->payload_end)
		return false;
	r = bpf_map_lookup_elem(&ics_rules, &idx);
	if (!r)
		return true;
	if (r->s7comm && (!r->modbus || f->dport == 102))
		return s7comm_refused(ctx, f, r);
	if (r->modbus)
		return modbus_refused(ctx, f, r);
	return false;
}

/*
 * The stream rule's judgement runs as a global function: the verifier
 * checks it once, on its own, instead of once for every way a frame can
 * reach step 12, and its walks keep their state in the per-CPU scratch
 * (struct cg_stream_buf), so that the stack of the whole call chain stays
 * within 512 bytes. The bpf_loop callbacks get this pointer pair.
 */
struct stream_walk {
	struct cg_stream_buf *ms;
	const struct cg_stream *s;
};

/* One step of the checksum: 512 bytes (bpf_csum_diff's most) at 512 * i. */
static long csum_step(__u64 i, void *data)
{
	struct cg_stream_buf *ms = ((struct stream_walk *)data)->ms;
	__u64 o, n;

	if (i >= CG_STREAM_MAX / 512)
		return 1;
	o = i << 9;
	if (o >= ms->cw_padded)
		return 1;
	n = ms->cw_padded - o;
	asm volatile("%[n] &= 0x1fff" : [n] "+r"(n));
	if (n > 512)
		n = 512;
	if (n == 0)
		return 1;
	ms->cw_sum =
		bpf_csum_diff(NULL, 0, (__be32 *)(ms->b + o), n, ms->cw_sum);
	return ms->cw_sum < 0;
}

/*
 * Is the TCP checksum of the segment in ms->b[0, seglen) right? The
 * buffer has room for the zero padding to a multiple of 4.
 */
static __always_inline bool tcp_csum_ok(const struct frame *f,
					struct stream_walk *w, __u32 seglen)
{
	struct cg_stream_buf *ms = w->ms;
	__u32 fold;

	if (seglen > CG_STREAM_MAX)
		return false;
	ms->b[seglen] = 0;
	ms->b[seglen + 1] = 0;
	ms->b[seglen + 2] = 0;
	ms->cw_padded = (seglen + 3) & ~3u;
	__builtin_memset(ms->ph, 0, sizeof(ms->ph));
	if (f->family == 4) {
		/* src, dst, zero, protocol, TCP length: 12 bytes. */
		__builtin_memcpy(ms->ph, f->src, 4);
		__builtin_memcpy(ms->ph + 4, f->dst, 4);
		ms->ph[9] = IPPROTO_TCP_;
		ms->ph[10] = seglen >> 8;
		ms->ph[11] = seglen & 0xff;
		ms->cw_sum = bpf_csum_diff(NULL, 0, (__be32 *)ms->ph, 12, 0);
	} else {
		/* src, dst, TCP length (32 bits), 3 zeros, next header. */
		__builtin_memcpy(ms->ph, f->src, 16);
		__builtin_memcpy(ms->ph + 16, f->dst, 16);
		ms->ph[34] = seglen >> 8;
		ms->ph[35] = seglen & 0xff;
		ms->ph[39] = IPPROTO_TCP_;
		ms->cw_sum = bpf_csum_diff(NULL, 0, (__be32 *)ms->ph, 40, 0);
	}
	if (ms->cw_sum < 0)
		return false;
	bpf_loop(CG_STREAM_MAX / 512, csum_step, w, 0);
	if (ms->cw_sum < 0)
		return false;
	fold = (__u32)ms->cw_sum;
	fold = (fold & 0xffff) + (fold >> 16);
	fold = (fold & 0xffff) + (fold >> 16);
	return fold == 0xffff;
}

/* One step of the stream hashes: the 16-bit word at hs_off + 2 * i. */
static long stream_hash_step(__u64 i, void *data)
{
	struct cg_stream_buf *ms = ((struct stream_walk *)data)->ms;
	__u64 pos = ms->hs_off + 2 * i;
	__u32 w;

	if (pos >= ms->hs_end || pos >= CG_STREAM_MAX)
		return 1;
	/* The bound again, on the register that indexes. */
	asm volatile("%[p] &= 0xfff" : [p] "+r"(pos));
	w = (__u32)ms->b[pos] << 8;
	if (pos + 1 < ms->hs_end)
		w |= ms->b[pos + 1];
	ms->hs_h1 = mod_p31((__u64)ms->hs_h1 * ms->hs_k1 + w + 1);
	ms->hs_h2 = mod_p31((__u64)ms->hs_h2 * ms->hs_k2 + w + 1);
	return 0;
}

/*
 * The two keyed hashes of ms->b[off, off + len), into hs_h1 and hs_h2:
 * polynomials in the keys over the data's 16-bit words (the last one
 * padded with a zero byte), then its length, mod 2^31 - 1.
 */
static __always_inline void stream_hash(struct stream_walk *w, __u32 off,
					__u32 len, const struct cg_stream *s)
{
	struct cg_stream_buf *ms = w->ms;

	ms->hs_off = off;
	ms->hs_end = off + len;
	ms->hs_k1 = s->k1;
	ms->hs_k2 = s->k2;
	ms->hs_h1 = 0;
	ms->hs_h2 = 0;
	bpf_loop((len + 1) / 2, stream_hash_step, w, 0);
	ms->hs_h1 = mod_p31((__u64)ms->hs_h1 * ms->hs_k1 + len);
	ms->hs_h2 = mod_p31((__u64)ms->hs_h2 * ms->hs_k2 + len);
}

/* The record of the stream that starts at `seq`, or NULL. */
static __always_inline const struct cg_stream_rec *
stream_rec(const struct cg_stream *s, __u32 seq)
{
	int i;

	for (i = 0; i < CG_STREAM_RECS; i++)
		if (s->rec[i].len && s->rec[i].start == seq)
			return &s->rec[i];
	return NULL;
}

/*
 * One step of the walk over passed data sent again: the record that starts
 * where the walk stands (w_pos) must lie within what is left and hash the
 * same.
 */
static long rec_step(__u64 i, void *data)
{
	struct stream_walk *w = data;
	struct cg_stream_buf *ms = w->ms;
	const struct cg_stream_rec *r;

	if (ms->w_pos == ms->w_stop)
		return 1;
	r = stream_rec(w->s, ms->w_pos);
	if (!r || r->len > ms->w_stop - ms->w_pos) {
		ms->w_bad = 1;
		return 1;
	}
	stream_hash(w, ms->w_poff + (ms->w_pos - ms->w_seq), r->len, w->s);
	if (ms->hs_h1 != r->h1 || ms->hs_h2 != r->h2) {
		ms->w_bad = 1;
		return 1;
	}
	ms->w_pos += r->len;
	return 0;
}

/*
 * The stream rule (README step 12) for a TCP frame from the opener of an
 * inspected connection (`key`; `exists`: the connection is live) or from
 * a frame that opens one, that a flow allowed. Returns CG_R_STREAM or
 * CG_R_ALLOWED. Writes no state: it leaves in the scratch where the new
 * data starts (payload_off), or that the frame is an exact copy of passed
 * data (retrans: nothing to inspect), and what stream_commit() needs.
 */
__noinline int cg_stream_judge(struct xdp_md *ctx, const struct frame *f,
			       const struct cg_conn_key *key, int exists)
{
	struct stream_walk w = {};
	struct cg_stream_buf *ms;
	struct cg_conn_val *v;
	const struct cg_stream *s = NULL;
	__u32 seglen, poff, L, E, next, zero = 0;
	__u8 state = CG_ST_NONE, fl;
	__u64 seg;
	__s32 d;

	if (!f || !key)
		return CG_R_STREAM;
	if (exists) {
		v = bpf_map_lookup_elem(&conns, key);
		if (!v)
			return CG_R_STREAM;
		s = &v->stream;
		state = s->state;
	}
	fl = f->tcp_flags;
	if (f->hop_limit <= 1 || (fl & TCP_URG))
		return CG_R_STREAM;
	/* IPv6 extension headers and IPv4 options: the receiver may discard
	 * or reroute what the gate would take for the stream. */
	if (f->family == 6 ? f->ip6_ext : f->l4_off - f->l3_off != 20)
		return CG_R_STREAM;
	/* Linux discards a segment without ACK (but a SYN or RST), and one
	 * that acknowledges what the responder never sent, or long ago. */
	if (!(fl & TCP_SYN)) {
		if (!(fl & (TCP_ACK | TCP_RST)))
			return CG_R_STREAM;
		if ((fl & TCP_ACK) && s && (s->flags & CG_STF_RSP) &&
		    ((__s32)(f->tcp_ack - s->rsp_next) > 0 ||
		     s->rsp_next - f->tcp_ack > CG_STREAM_ACK_OLD))
			return CG_R_STREAM;
	}
	seg = f->payload_end - f->l4_off;
	/* 64 bits, masked in asm: the verifier needs the bounds on the very
	 * register that is passed to the helper. */
	asm volatile("%[n] &= 0x1fff" : [n] "+r"(seg));
	if (f->payload_end - f->l4_off > CG_STREAM_MAX || seg < 20 ||
	    seg > CG_STREAM_MAX)
		return CG_R_STREAM;
	seglen = seg;
	ms = bpf_map_lookup_elem(&stream_buf, &zero);
	if (!ms)
		return CG_R_STREAM;
	w.ms = ms;
	w.s = s;
	ms->retrans = 0;
	ms->next = 0;
	ms->payload_off = f->payload_off;
	/* The IPv4 header checksum (20 bytes: options were refused). */
	if (f->family == 4) {
		__s64 sum;
		__u32 fold;

		if (bpf_xdp_load_bytes(ctx, f->l3_off, ms->ph, 20))
			return CG_R_STREAM;
		sum = bpf_csum_diff(NULL, 0, (__be32 *)ms->ph, 20, 0);
		fold = (__u32)sum;
		fold = (fold & 0xffff) + (fold >> 16);
		fold = (fold & 0xffff) + (fold >> 16);
		if (sum < 0 || fold != 0xffff)
			return CG_R_STREAM;
	}
	if (bpf_xdp_load_bytes(ctx, f->l4_off, ms->b, seg) ||
	    !tcp_csum_ok(f, &w, seglen))
		return CG_R_STREAM;
	L = f->payload_end - f->payload_off;
	poff = f->payload_off - f->l4_off;
	ms->len = L;

	if (fl & TCP_SYN) {
		if ((fl & (TCP_ACK | TCP_FIN | TCP_RST)) || L)
			return CG_R_STREAM;
		if (state == CG_ST_NONE || state == CG_ST_CLOSED ||
		    (state == CG_ST_SYN && s && f->tcp_seq == s->isn))
			return CG_R_ALLOWED;
		return CG_R_STREAM;
	}
	if (!s || state == CG_ST_NONE || state == CG_ST_UNSYNCED ||
	    state == CG_ST_CLOSED)
		return L ? CG_R_STREAM : CG_R_ALLOWED;
	next = (__u32)s->next;
	ms->next = next;
	if (state == CG_ST_SYN && f->tcp_seq != next)
		return CG_R_STREAM;
	if (L == 0)
		return CG_R_ALLOWED;
	d = (__s32)(f->tcp_seq - next);
	if (d > 0)
		return CG_R_STREAM;
	E = f->tcp_seq + L;
	if ((s->flags & CG_STF_WND) && (__s32)(E - s->wnd_end) > 0)
		return CG_R_STREAM;
	if (d < 0) {
		/* Passed data again: whole records, the same bytes. */
		ms->w_seq = f->tcp_seq;
		ms->w_poff = poff;
		ms->w_pos = f->tcp_seq;
		ms->w_stop = (__s32)(E - next) < 0 ? E : next;
		ms->w_bad = 0;
		bpf_loop(CG_STREAM_RECS, rec_step, &w, 0);
		if (ms->w_bad || ms->w_pos != ms->w_stop)
			return CG_R_STREAM;
		if (ms->w_stop == E) {
			ms->retrans = 1;
			return CG_R_ALLOWED;
		}
		ms->payload_off = f->payload_off + (next - f->tcp_seq);
	}
	/* New data, [next, E): recorded if step 12 lets it pass. */
	stream_hash(&w, poff + (next - f->tcp_seq), E - next, s);
	ms->h1 = ms->hs_h1;
	ms->h2 = ms->hs_h2;
	return CG_R_ALLOWED;
}

/*
 * Apply the stream rule's effect for a frame of an existing connection
 * that passes (it re-derives what stream_judge decided). Returns false
 * when another CPU moved the stream first (two frames for the same bytes
 * at once): this frame then drops.
 */
static __always_inline bool stream_commit(struct xdp_md *ctx, struct frame *f,
					  struct conn *c,
					  const struct cg_stream_buf *ms)
{
	struct cg_stream *s;
	__u8 fl = f->tcp_flags, state;
	__u32 E, h;

	if (!c->val || is_shadow())
		return true; /* a new connection: conn_open starts it */
	s = &c->val->stream;
	state = s->state;
	if (fl & TCP_SYN) {
		if (state != CG_ST_SYN)
			stream_start(s, f, tcp_wscale(ctx, f));
		return true;
	}
	if (state == CG_ST_NONE) {
		stream_start(s, f, -1);
		return true;
	}
	if (state != CG_ST_SYN && state != CG_ST_SYNCED)
		return true;
	if (ms->len == 0) {
		s->state = (fl & (TCP_FIN | TCP_RST)) && f->tcp_seq == ms->next
				   ? CG_ST_CLOSED
				   : CG_ST_SYNCED;
		return true;
	}
	/* New data [st_next, E). */
	E = f->tcp_seq + ms->len;
	if (__sync_val_compare_and_swap(&s->next, (__u64)ms->next, (__u64)E) !=
	    ms->next)
		return false;
	h = s->head & (CG_STREAM_RECS - 1);
	s->rec[h].start = ms->next;
	s->rec[h].len = E - ms->next;
	s->rec[h].h1 = ms->h1;
	s->rec[h].h2 = ms->h2;
	s->head = (h + 1) & (CG_STREAM_RECS - 1);
	s->state = (fl & (TCP_FIN | TCP_RST)) ? CG_ST_CLOSED : CG_ST_SYNCED;
	return true;
}

/*
 * A reply on an inspected connection: what the responder's segments say
 * of the opener's stream. Its SYN-ACK gives the window scale, its ACKs
 * the right edge of its window and, for a stream picked up without its
 * SYN, where the stream stands; its RST ends the stream.
 */
static __always_inline void stream_reply(struct xdp_md *ctx, struct frame *f,
					 struct conn *c)
{
	struct cg_stream *s;
	struct tcphdr *th;
	__u8 fl = f->tcp_flags;
	__u32 end;
	int ws;

	if (f->proto != IPPROTO_TCP_ || !c->val || is_shadow() ||
	    c->val->opener == c->end)
		return;
	s = &c->val->stream;
	if (s->state == CG_ST_NONE)
		return;
	/* Where the responder's own sequence numbers stand. */
	end = f->tcp_seq + (f->payload_end - f->payload_off) +
	      !!(fl & TCP_SYN) + !!(fl & TCP_FIN);
	if (!(s->flags & CG_STF_RSP) || (__s32)(end - s->rsp_next) > 0) {
		s->rsp_next = end;
		s->flags |= CG_STF_RSP;
	}
	if (fl & TCP_RST) {
		s->state = CG_ST_CLOSED;
		return;
	}
	if (fl & TCP_SYN) {
		if (fl & TCP_ACK) {
			ws = (s->flags & CG_STF_SYN_WS) ? tcp_wscale(ctx, f)
							: -1;
			s->shift = ws < 0 ? 0 : ws > 14 ? 14 : ws;
		}
		return;
	}
	if (!(fl & TCP_ACK))
		return;
	if (s->state == CG_ST_UNSYNCED) {
		__builtin_memset(s->rec, 0, sizeof(s->rec));
		s->next = f->tcp_ack;
		s->state = CG_ST_SYNCED;
		s->flags &= ~CG_STF_WND;
	}
	if (!(s->flags & CG_STF_SHIFT) ||
	    (s->state != CG_ST_SYN && s->state != CG_ST_SYNCED))
		return;
	th = frame_ptr(ctx, f->l4_off, 20);
	if (!th)
		return;
	end = f->tcp_ack + ((__u32)bpf_ntohs(th->window) << (s->shift & 15));
	if (!(s->flags & CG_STF_WND) || (__s32)(end - s->wnd_end) > 0) {
		s->wnd_end = end;
		s->flags |= CG_STF_WND;
	}
}

/*
 * Step 12 for a frame a flow allows, on the full judgement or the fast
 * path: looks up the flow's info (kept in *fip for the caller) and, on a
 * flow with modbus:/s7comm:, applies the stream rule to the opener's TCP
 * frames, then inspects the request and counts it. Returns the reason:
 * allowed, stream, fragment (an inspected flow is never passed
 * fragmented) or ics-denied.
 */
static __always_inline __u32 inspect(struct xdp_md *ctx, struct frame *f,
				     struct conn *c, struct cg_flow_info **fip,
				     __u64 now)
{
	struct cg_stream_buf *ms = NULL;
	struct cg_flow_info *fi;
	__u32 id = f->flow, r, zero = 0;
	bool refused;

	fi = bpf_map_lookup_elem(&flow_info, &id);
	*fip = fi;
	if (!fi || !(fi->flags & CG_FLOW_ICS))
		return CG_R_ALLOWED;
	if (f->proto == IPPROTO_TCP_ && (!c->val || c->val->opener == c->end)) {
		if (f->fragmented)
			return CG_R_FRAGMENT;
		f->st_touched = 1;
		r = cg_stream_judge(ctx, f, &c->key, c->val != NULL);
		if (r != CG_R_ALLOWED)
			return CG_R_STREAM;
		ms = bpf_map_lookup_elem(&stream_buf, &zero);
		if (!ms)
			return CG_R_STREAM;
		if (ms->retrans)
			return CG_R_ALLOWED;
		f->payload_off = ms->payload_off;
	}
	refused = ics_refused(ctx, f, fi);
	if (f->ics_proto && !is_shadow()) {
		ics_count(f, refused, now);
		if (cfg_conn_count && c->val)
			cg_conn_request(c->val, f->ics_proto, f->function,
					refused);
	}
	if (refused)
		return CG_R_ICS_DENIED;
	if (ms && !stream_commit(ctx, f, c, ms))
		return CG_R_STREAM;
	return CG_R_ALLOWED;
}

/* Is a flow's window open now? Flows without one always are. */
static __always_inline bool flow_open(struct frame *f,
				      const struct cg_flow_info *fi)
{
	__u64 t;

	if (!(fi->flags & CG_FLOW_TIMED))
		return true;
	t = frame_tai(f);
	return (!fi->valid_from || t >= fi->valid_from) &&
	       (!fi->valid_until || t < fi->valid_until);
}

/*
 * The flow a flows-map value stands for now: its flow id, or for a chain
 * (a key whose first flow is time-boxed) the first flow of the chain whose
 * window is open; CG_FLOW_NONE when none is.
 */
static __always_inline __u32 flow_pick(struct frame *f, __u32 v)
{
	struct cg_flow_chain *ch;
	__u32 idx, i;

	if (!cfg_timed || !(v & CG_FLOW_CHAIN))
		return v;
	idx = v & ~CG_FLOW_CHAIN;
	ch = bpf_map_lookup_elem(&flow_chains, &idx);
	if (!ch)
		return CG_FLOW_NONE;
	for (i = 0; i < CG_CHAIN_MAX; i++) {
		__u32 id = ch->flow[i];
		struct cg_flow_info *fi;

		if (id == CG_FLOW_NONE)
			break;
		fi = bpf_map_lookup_elem(&flow_info, &id);
		if (fi && flow_open(f, fi))
			return id;
	}
	return CG_FLOW_NONE;
}

/* The lower of `flow` and the flow the flows map gives for key *k now. */
static __always_inline __u32 flow_min(struct frame *f,
				      const struct cg_flow_key *k, __u32 flow)
{
	struct cg_flow_val *v = bpf_map_lookup_elem(&flows, k);
	__u32 id;

	if (!v)
		return flow;
	id = flow_pick(f, v->flow);
	return id < flow ? id : flow;
}

/*
 * The first matching flow: the lowest id of up to three lookups (see
 * maps/cranegate.h), each resolved to the flow whose window is open, or
 * CG_FLOW_NONE.
 */
static __always_inline __u32 flow_lookup(struct frame *f)
{
	struct cg_flow_key k = {};
	__u32 port = f->dport, flow = CG_FLOW_NONE;

	k.src_class = f->src_class;
	k.dst_class = f->dst_class;
	k.proto = f->proto;
	if (f->has_ports && (cfg_lookups & CG_LOOKUP_PORTS)) {
		__u32 *pc = bpf_map_lookup_elem(&port_classes, &port);

		if (pc) {
			k.port_class = *pc;
			flow = flow_min(f, &k, flow);
		}
	}
	k.port_class = CG_PCLASS_ALL;
	if (cfg_lookups & CG_LOOKUP_PROTO)
		flow = flow_min(f, &k, flow);
	if (cfg_lookups & CG_LOOKUP_ANY) {
		k.proto = CG_PROTO_ANY;
		flow = flow_min(f, &k, flow);
	}
	return flow;
}

/* The most specific class of an address: host hash first, then the trie. */
static __always_inline const struct cg_class_val *
class_lookup(const struct frame *f, const __u8 *addr)
{
	const struct cg_class_val *v;

	if (f->family == 4) {
		struct cg_lpm4_key k = {.prefixlen = 32};

		v = bpf_map_lookup_elem(&hosts4, addr);
		if (v)
			return v;
		__builtin_memcpy(k.addr, addr, 4);
		return bpf_map_lookup_elem(&classes4, &k);
	} else {
		struct cg_lpm6_key k = {.prefixlen = 128};

		v = bpf_map_lookup_elem(&hosts6, addr);
		if (v)
			return v;
		__builtin_memcpy(k.addr, addr, 16);
		return bpf_map_lookup_elem(&classes6, &k);
	}
}

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
		__u8 nh;
		int i;

		if (!ip6 || ip6->version != 6)
			goto bad;
		end = off + 40 + bpf_ntohs(ip6->payload_len);
		if (end > len)
			goto bad;
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
			if (i == CG_MAX_EXT || pos + 8 > end)
				goto bad;
			h = frame_ptr(ctx, pos, 8);
			if (!h)
				goto bad;
			f->ip6_ext = 1;
			if (nh == IPPROTO_FRAGMENT_) {
				__u16 fo = ((__u16)h[2] << 8) | h[3];

				f->fragmented = 1;
				f->frag_proto = h[0];
				f->ip_id = ((__u32)h[4] << 24) |
					   ((__u32)h[5] << 16) |
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
					goto bad;
				hlen = ((__u32)h[1] + 1) * 8;
			}
			nh = h[0];
			pos += hlen;
			if (pos > end)
				goto bad;
		}
		f->proto = nh;
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

/* A non-first fragment: the decision of its datagram's first fragment. */
static __always_inline __u32 frag_follow(struct frame *f, __u64 now)
{
	struct cg_frag_key k = {};
	struct cg_frag_val *v;

	if (cfg_frag_pass)
		return CG_R_ALLOWED;
	__builtin_memcpy(k.src, f->src, 16);
	__builtin_memcpy(k.dst, f->dst, 16);
	k.id = f->ip_id;
	k.proto = f->frag_proto;
	k.family = f->family;
	v = bpf_map_lookup_elem(&frags, &k);
	if (!v || now - v->last > cfg_frag_timeout)
		return CG_R_FRAGMENT;
	f->flow = v->flow;
	f->zone_to = v->zone_to;
	return v->reason;
}

/*
 * Is the frame's flow one whose requests are inspected? Then none of its
 * fragments pass: a payload split across fragments cannot be inspected
 * whole (see cg_frag_refused()).
 */
static __always_inline bool frag_inspected(const struct frame *f,
					   const struct cg_flow_info *fi)
{
	__u32 id = f->flow;

	if (f->flow == CG_FLOW_NONE)
		return false;
	if (!fi)
		fi = bpf_map_lookup_elem(&flow_info, &id);
	return fi && (fi->flags & CG_FLOW_ICS);
}

/*
 * A first fragment on an inspected flow (allowed by it, or a reply in its
 * connection, on the fast path or not) drops as `fragment`, and takes
 * with it whatever the table remembers for its key: a tail with the same
 * (addresses, IP id, protocol) cannot follow an older datagram's
 * decision. judge() refuses it at step 10 already (so that it opens no
 * connection and is not inspected); the one delete is here. Returns the
 * reason. A global function, checked once by the verifier: only
 * fragments come here.
 */
__noinline int cg_frag_refused(const struct frame *f, __u32 reason)
{
	struct cg_frag_key k = {};

	if (!f ||
	    (reason != CG_R_ALLOWED && reason != CG_R_REPLY &&
	     reason != CG_R_FRAGMENT) ||
	    !frag_inspected(f, NULL))
		return reason;
	if (!is_shadow()) {
		__builtin_memcpy(k.src, f->src, 16);
		__builtin_memcpy(k.dst, f->dst, 16);
		k.id = f->ip_id;
		k.proto = f->frag_proto;
		k.family = f->family;
		bpf_map_delete_elem(&frags, &k);
	}
	return CG_R_FRAGMENT;
}

/* A first fragment passed: its datagram's other fragments may follow. */
static __always_inline void frag_remember(const struct frame *f, __u32 reason,
					  __u64 now)
{
	struct cg_frag_key k = {};
	struct cg_frag_val v = {};

	__builtin_memcpy(k.src, f->src, 16);
	__builtin_memcpy(k.dst, f->dst, 16);
	k.id = f->ip_id;
	k.proto = f->frag_proto;
	k.family = f->family;
	v.last = now;
	v.flow = f->flow;
	v.zone_to = f->zone_to;
	v.reason = reason;
	bpf_map_update_elem(&frags, &k, &v, BPF_ANY);
	state_count(CG_S_FRAG_TRACKED);
}

#include "self.h"

static __always_inline __u32 judge(struct xdp_md *ctx, struct frame *f,
				   struct conn *c, struct cg_flow_info **fi,
				   __u64 now)
{
	const struct cg_class_val *cls;
	struct cg_zone_key zk = {};
	struct cg_zone_val *zv;
	int known = 0; /* the destination has a class: look up the flows */

	/* 2. Ingress zone by (interface, VLAN id). */
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
	if (cg_self_addr(f, 0))
		return CG_R_SPOOFED_SOURCE; /* the gateway's own address */
	cls = class_lookup(f, f->src);
	if (!cls || cls->zone == CG_ZONE_NONE)
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
		return icmp_error_reply(ctx, f, now) ? CG_R_REPLY
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

/*
 * The live instance's last step when a shadow is configured: leave its
 * decision in the per-CPU scratch and hand the frame to the shadow, which
 * returns this action. An empty slot returns here: the action stands.
 */
static __always_inline void shadow_hand_off(struct xdp_md *ctx,
					    const struct frame *f, __u32 action,
					    __u32 verdict, __u32 reason,
					    __u32 would)
{
	struct cg_shadow_in *si;
	__u32 zero = 0;

	si = bpf_map_lookup_elem(&shadow_in, &zero);
	if (!si)
		return;
	si->policy_id = cfg_policy_id;
	si->action = action;
	si->flow = f->flow;
	si->zone_from = f->zone_from;
	si->zone_to = f->zone_to;
	si->verdict = verdict;
	si->reason = reason;
	si->would = would;
	si->pending = 1;
	bpf_tail_call(ctx, &progs, CG_SLOT_SHADOW);
	si->pending = 0;
}

/*
 * A disagreement, as an event: the live decision in the usual fields (so
 * that names resolve through the live policy), the shadow's beside it.
 * Rate-limited by its own per-CPU bucket, so that a candidate that drops
 * a busy flow cannot use up the budget of the live drops.
 */
static __always_inline void shadow_event(struct xdp_md *ctx,
					 const struct frame *f,
					 struct cg_shadow_in *si, __u32 verdict,
					 __u32 reason, __u32 would, __u64 now)
{
	struct cg_event_counter *ec;
	struct cg_event *e;
	__u32 zero = 0, cap;

	ec = bpf_map_lookup_elem(&shadow_event_stats, &zero);
	if (!ec)
		return;
	if (!bucket_take(&si->bucket, now, cfg_ev_rate, cfg_ev_burst)) {
		ec->suppressed++;
		return;
	}
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		ec->lost++;
		return;
	}
	fill_event(e, f, si->verdict, si->reason, si->would,
		   bpf_ktime_get_ns());
	e->policy_id = si->policy_id;
	e->flow = si->flow;
	e->zone_from = si->zone_from;
	e->zone_to = si->zone_to;
	e->zone_seen = CG_ZONE_NONE;
	e->flags |= CG_EV_SHADOW;
	e->shadow_policy_id = cfg_policy_id;
	e->shadow_flow = f->flow;
	e->shadow_verdict = verdict;
	e->shadow_reason = reason;
	e->shadow_would = would;
	e->pad4 = 0;
	cap = f->len < CG_EVENT_DATA ? f->len : CG_EVENT_DATA;
	e->cap_len = 0;
	if (cap && !bpf_xdp_load_bytes(ctx, 0, e->data, cap))
		e->cap_len = cap;
	bpf_ringbuf_submit(e, 0);
	ec->emitted++;
}

/*
 * The shadow instance's exit: count the pair of decisions, log a
 * disagreement, and return the live action. Run on its own (not through
 * the hand-off: no pending decision), it compares nothing and returns its
 * own verdict.
 */
static __always_inline int shadow_compare(struct xdp_md *ctx,
					  const struct frame *f, __u32 verdict,
					  __u32 reason, __u32 would, __u64 now)
{
	struct cg_shadow_in *si;
	struct cg_shadow_key k = {};
	struct cg_counter *c, nc = {};
	__u32 zero = 0, live_reason;

	if (cfg_record) {
		struct cg_event *e = bpf_map_lookup_elem(&last, &zero);

		if (e)
			fill_event(e, f, verdict, reason, would, 0);
	}
	si = bpf_map_lookup_elem(&shadow_in, &zero);
	if (!si || !si->pending)
		return verdict == CG_V_DROP ? XDP_DROP : XDP_PASS;
	si->pending = 0;
	live_reason = si->reason;
	if (live_reason < CG_R_MAX && reason < CG_R_MAX)
		count(&shadow_stats, live_reason * CG_R_MAX + reason, f->len,
		      now);
	if (verdict != si->verdict) {
		k.live_flow = si->flow;
		k.shadow_flow = f->flow;
		k.live_reason = live_reason;
		k.shadow_reason = reason;
		c = bpf_map_lookup_elem(&shadow_flows, &k);
		if (c) {
			c->packets++;
			c->bytes += f->len;
			c->last = now;
		} else {
			nc.packets = 1;
			nc.bytes = f->len;
			nc.last = now;
			bpf_map_update_elem(&shadow_flows, &k, &nc,
					    BPF_NOEXIST);
		}
		shadow_event(ctx, f, si, verdict, reason, would, now);
	}
	return si->action == XDP_DROP ? XDP_DROP : XDP_PASS;
}

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
		/* Established traffic: the decision it had before. */
		if (!f.ip_bad && !f.nonfirst && !f.l4_bad) {
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
		stream_reply(ctx, &f, &c);

out:
	/* 12. Verdict; monitor mode turns every drop into a logged pass. */
	would = reason;
	if (reason_drops(reason) && cfg_mode == CG_MODE_MONITOR)
		reason = CG_R_MONITOR;
	verdict = reason_drops(reason) ? CG_V_DROP : CG_V_PASS;

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
	/* One already-loaded field when no shadow is configured. */
	if ((cfg_slot == CG_SLOT_A || cfg_slot == CG_SLOT_B) && l && l->shadow)
		shadow_hand_off(ctx, &f, action, verdict, reason, would);
	return action;
}

char LICENSE[] SEC("license") = "GPL";
