/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cranegate: the one header shared by the XDP program (bpf/) and the loader
 * (user/). Everything that crosses the kernel/user boundary is declared
 * here: map keys and values, the event record, the verdict reasons and
 * their names. Nothing else is shared.
 *
 * Types use the kernel's __u8.. spellings so that the header compiles both
 * against vmlinux.h (BPF side) and <linux/types.h> (user side).
 *
 * A policy is loaded as one *instance*: the XDP program together with its
 * own policy maps (zones, address classes, port classes, flows, flow
 * metadata). Reloading a policy loads a complete new instance and swaps
 * the program on each interface in one step (bpf_xdp_attach with
 * XDP_FLAGS_REPLACE), so a frame always sees one whole policy. State that
 * must outlive a policy (reason counters, the event ring buffer, and later
 * the connection and MAC tables) lives in maps that every instance shares
 * through pins under --pin-root.
 */
#ifndef CRANEGATE_MAPS_H
#define CRANEGATE_MAPS_H

#ifndef __bpf__
#include <linux/types.h>
#endif

/*
 * Verdict reasons. The order is part of the map ABI (reason counters are
 * indexed by it): append only. Reasons below CG_R_FIRST_DROP pass the
 * frame, the rest drop it (unless the policy is in monitor mode).
 */
enum cg_reason {
	CG_R_ALLOWED = 0,    /* a flow allows it */
	CG_R_REPLY,	     /* reply within an allowed connection */
	CG_R_INTRA_ZONE,     /* source and destination in one zone */
	CG_R_MONITOR,	     /* would drop; passed because mode: monitor */
	CG_R_ARP,	     /* ARP within the ingress zone */
	CG_R_ND,	     /* IPv6 neighbour discovery within the zone */
	CG_R_NO_RULE,	     /* crosses zones and no flow allows it */
	CG_R_UNKNOWN_ZONE,   /* (interface, VLAN) maps to no zone */
	CG_R_SPOOFED_SOURCE, /* source address in no zone's networks */
	CG_R_MULTI_HOMED,    /* source belongs to another zone */
	CG_R_VLAN_VIOLATION, /* undeclared VLAN on the interface, or QinQ */
	CG_R_ICS_DENIED,     /* Modbus/S7comm function not allowed */
	CG_R_FRAGMENT,	     /* non-first IP fragment */
	CG_R_MALFORMED,	     /* truncated or inconsistent headers */
	CG_R_ETHERTYPE,	     /* non-IP, non-ARP ethertype */
	CG_R_STREAM,	     /* inspected TCP stream: not the next in-order
			      * data nor an exact retransmission, or a
			      * segment the receiver would discard */
	CG_R_MAX,
};

#define CG_R_FIRST_DROP CG_R_NO_RULE

enum cg_verdict {
	CG_V_PASS = 0,
	CG_V_DROP = 1,
};

/* Policy mode, set in the program's read-only data at load time. */
enum cg_mode {
	CG_MODE_ENFORCE = 0,
	CG_MODE_MONITOR = 1,
};

/* "No flow decided" and "no zone", in events and in map values. */
#define CG_FLOW_NONE 0xffffffffu
#define CG_ZONE_NONE 0xffffu

/*
 * Protocol numbers in flow keys. TCP, UDP, ICMP and ICMPv6 use their IANA
 * numbers; a flow with `proto: any` is stored under CG_PROTO_ANY (255 is
 * IANA's "reserved", never seen on the wire as a transport).
 */
#define CG_PROTO_ANY 255

/*
 * zones: (ingress ifindex, outer VLAN id) -> zone id. VLAN id 0 stands for
 * untagged and priority-tagged frames. For every interface the policy
 * names, the compiler also stores a marker entry with vlan = CG_VLAN_IFACE,
 * so that the program can tell "tagged with an undeclared VLAN on a known
 * interface" (vlan-violation) from "unknown interface" (unknown-zone).
 */
#define CG_VLAN_IFACE 0xffffu

struct cg_zone_key {
	__u32 ifindex;
	__u16 vlan;
	__u16 pad;
};

struct cg_zone_val {
	__u16 zone; /* CG_ZONE_NONE in the CG_VLAN_IFACE marker */
	__u16 pad;
};

/*
 * hosts4 / hosts6: HASH from a full address (/32, /128 classes) to its
 * class, looked up before the tries: host classes are the ones a large
 * policy has many of, and a hash lookup costs the same at any size, where
 * a trie's cost grows with its depth. The tries hold the shorter prefixes.
 *
 * classes4 / classes6: LPM tries from address to the most specific
 * *address class*. Every prefix the policy mentions (zone networks, hosts,
 * CIDRs in flows) is a class; the compiler merges classes that no flow can
 * tell apart. `zone` is the zone whose networks contain the class prefix,
 * or CG_ZONE_NONE for prefixes outside every zone; it drives the source
 * checks (spoofed-source, multi-homed) and the destination zone.
 */
struct cg_lpm4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct cg_lpm6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

struct cg_host4_key {
	__u8 addr[4];
};

struct cg_host6_key {
	__u8 addr[16];
};

struct cg_class_val {
	__u32 class_id;
	__u16 zone;
	__u8 has_mac; /* a host bound to `mac` (hosts4/hosts6 only) */
	__u8 pad;
	__u8 mac[6];
	__u8 pad2[2];
};

/*
 * zone_nets: ARRAY of one struct cg_zone_nets, a policy map beside the
 * class maps, that says of most sources in no zone that they are in none,
 * without a lookup. Two levels, IPv4 and IPv6 apart:
 *
 *   w      one bit per /16 of the address space (an address's first 16
 *          bits) that an address or network of a class in a zone
 *          overlaps. Clear: in no zone. The program asks it of every IP
 *          frame before the connection table, so that a flood of random
 *          sources costs one read of it and no lookup.
 *   coarse one bit per /16 that a zone's network of /16 or shorter (IPv4)
 *          or /32 or shorter (IPv6) overlaps: too large a network for
 *          `sub`, whose bits its /16s do not use.
 *   sub    a one-hash Bloom filter of the /24s (IPv6: /48s) that an
 *          address or network of a class in a zone overlaps, asked at
 *          step 6 for a source whose /16 is set and not coarse. Clear: in
 *          no zone, without the class lookups.
 *
 * A set bit only means "look": every address in a zone has its bits set,
 * so no frame from a zone is ever called spoofed by them.
 */
#define CG_ZONE_NETS_WORDS (65536 / 64)

struct cg_zone_nets {
	__u64 w[2][CG_ZONE_NETS_WORDS]; /* [0]: IPv4, [1]: IPv6 */
	__u64 coarse[2][CG_ZONE_NETS_WORDS];
	__u64 sub[2][CG_ZONE_NETS_WORDS];
};

/* An address's bit in w and coarse: its first 16 bits. */
static inline __u32 cg_zone_nets_bit(const __u8 *addr)
{
	return ((__u32)addr[0] << 8) | addr[1];
}

/*
 * An address's bit in sub: its first 24 bits (IPv4) or 48 (IPv6), mixed
 * down to 16.
 */
static inline __u32 cg_zone_nets_sub_bit(const __u8 *addr, int v6)
{
	__u64 x = ((__u64)addr[0] << 16) | ((__u64)addr[1] << 8) | addr[2];

	if (v6)
		x = (x << 24) | ((__u64)addr[3] << 16) | ((__u64)addr[4] << 8) |
		    addr[5];
	return ((x ^ ((__u64)v6 << 56)) * 0x9e3779b97f4a7c15ULL) >> 48;
}

/*
 * port_classes: ARRAY of 65536 entries, destination port -> port class.
 * The boundaries of every port range in the policy cut 0..65535 into
 * intervals; each interval is one class, so a range check is one array
 * lookup. Only TCP and UDP frames have ports. A port in an interval that
 * no flow key names is CG_PCLASS_NONE: the program skips its flows
 * lookup, which could not match (a scan of unused ports costs one lookup
 * fewer).
 */
#define CG_PORT_CLASSES_ENTRIES 65536

/*
 * flows: HASH (source class, destination class, protocol, port class) ->
 * flow id. A frame does up to three lookups: (its protocol, its port
 * class) for flows with ports, (its protocol, CG_PCLASS_ALL) for flows on
 * that protocol without ports, and (CG_PROTO_ANY, CG_PCLASS_ALL) for
 * `proto: any` flows; the lowest flow id found wins, which is the first
 * matching flow in file order. The compiler stores, for each key, the
 * first flow that covers it, and tells the program (rodata cfg_lookups)
 * which of the three kinds the policy has, so that it skips the others.
 * Frames without ports (ICMP, other protocols) use CG_PCLASS_ALL.
 */
#define CG_PCLASS_ALL 0xffffffffu
#define CG_PCLASS_NONE 0xfffffffeu /* port_classes: no flow names it */
#define CG_LOOKUP_PORTS (1u << 0)
#define CG_LOOKUP_PROTO (1u << 1)
#define CG_LOOKUP_ANY (1u << 2)
struct cg_flow_key {
	__u32 src_class;
	__u32 dst_class;
	__u32 port_class;
	__u8 proto;
	__u8 pad[3];
};

struct cg_flow_val {
	__u32 flow; /* a flow id, or CG_FLOW_CHAIN | index into flow_chains */
};

/*
 * Time-boxed flows (`valid:`). Outside its window a flow is as if it were
 * not in the policy, so the next flow covering the same key decides. A key
 * whose first covering flow is time-boxed therefore stores, instead of a
 * flow id, CG_FLOW_CHAIN | an index into flow_chains: an ARRAY of the
 * covering flows in file order, up to and including the first one without
 * a window, at most CG_CHAIN_MAX (the compiler refuses a policy that needs
 * more), padded with CG_FLOW_NONE. The program takes the first whose
 * window is open at bpf_ktime_get_tai_ns(). Keys whose first flow has no
 * window store its id as before, and a policy without windows has no
 * chains at all (rodata cfg_timed = 0): it pays nothing for the feature.
 */
#define CG_FLOW_CHAIN 0x80000000u
#define CG_CHAIN_MAX 4

struct cg_flow_chain {
	__u32 flow[CG_CHAIN_MAX];
};

/* flow_info: ARRAY [flow id] -> what the program needs to know of a flow. */
#define CG_FLOW_LOG (1u << 0)	/* log: true - log every new connection */
#define CG_FLOW_ICS (1u << 1)	/* requests are inspected: see ics_rules */
#define CG_FLOW_TIMED (1u << 2) /* valid: - allows only in its window */
/*
 * deny: reset - a request refused as ics-denied on the flow's connection
 * is answered with a TCP RST to the client, sent back out of the ingress
 * interface (XDP_TX), and the connection is forgotten (bpf/reset.h).
 */
#define CG_FLOW_RESET (1u << 3)

/*
 * The window of a CG_FLOW_TIMED flow is [valid_from, valid_until) in
 * CLOCK_TAI nanoseconds (bpf_ktime_get_tai_ns), 0 for an open end. The
 * compiler converts the policy's UTC times with the TAI-UTC offset the
 * kernel has at compile time.
 */
struct cg_flow_info {
	__u32 flags;
	__u32 ics; /* index into ics_rules when CG_FLOW_ICS */
	__u64 valid_from;
	__u64 valid_until;
};

/*
 * ics_rules: ARRAY, one entry per flow with `modbus:` or `s7comm:`. What
 * a request on such a flow may do (README, step 12). Bitmaps hold bit
 * (code & 7) of byte (code >> 3).
 */
enum cg_ics_check {
	CG_ICS_OFF = 0,	  /* the key is absent */
	CG_ICS_FRAMING,	  /* any: framing only */
	CG_ICS_FUNCTIONS, /* framing and the allowed functions */
	CG_ICS_RULES,	  /* framing, then one of the ics_allow rules */
};

struct cg_ics_rule {
	__u8 modbus;	   /* enum cg_ics_check */
	__u8 s7comm;	   /* enum cg_ics_check */
	__u8 modbus_mei14; /* FC 43 only with MEI type 14 */
	__u8 enip;	   /* enum cg_ics_check: FRAMING, FUNCTIONS or RULES */
	__u16 s7_groups;   /* userdata request groups allowed, bit per group */
	/* enip CG_ICS_RULES: ics_allow[enip_allow_first, + enip_allow_n). */
	__u16 enip_allow_first;
	__u8 modbus_fc[32]; /* allowed Modbus function codes */
	__u8 s7_job[32];    /* allowed S7 job functions */
	/* CG_ICS_RULES: the flow's rules are ics_allow[first, first + n). */
	__u16 modbus_allow_first;
	__u8 modbus_allow_n;
	__u8 enip_allow_n;
};

/*
 * ics_allow: ARRAY of `allow:` rules (README, step 12). A flow's rules
 * are consecutive entries, in file order, at most CG_ICS_ALLOW_MAX; a
 * request passes if one of them matches all its fields:
 *
 *   codes    its function code (Modbus) - the bitmap of cg_ics_rule;
 *   units    its unit id (Modbus; every bit set when the rule names none);
 *   ranges   when n_ranges > 0, every address range the request touches
 *            lies within one of them (sorted, overlapping and adjacent
 *            ranges merged by the compiler); a request without addresses
 *            never matches such a rule;
 *   flags    CG_ALLOW_MEI14 / CG_ALLOW_NOT_MEI14: code 43 only with /
 *            without MEI type 14 (the classes read and other).
 *
 * The shape is the protocol's "what, to whom, where": another protocol's
 * rules (CIP services and object classes) can use codes and ranges the
 * same way.
 */
#define CG_ICS_ALLOW_MAX 16
#define CG_ICS_ALLOW_RANGES 8
#define CG_ALLOW_MEI14 (1u << 0)
#define CG_ALLOW_NOT_MEI14 (1u << 1)

/*
 * An `enip: allow:` rule uses the same entry: codes are the CIP services
 * it names as numbers, flags the service classes it names (bit per enum
 * cg_cip_class), ranges its object classes (lo == hi; n_ranges 0: any
 * class; a request whose path names no class never matches a rule with
 * classes); units are unused. A request matches when its service is
 * named or its service class is, and its class is one of the rule's.
 */
enum cg_cip_class {
	CG_CIP_READ = 0,   /* 0x01 0x03 0x0E 0x55 0x4C; 0x52 off class 6 */
	CG_CIP_WRITE,	   /* 0x02 0x04 0x08 0x09 0x0D 0x10 0x4D 0x53;
			    * 0x4E off class 6 */
	CG_CIP_CONTROL,	   /* 0x05 0x06 0x07 (reset, start, stop) */
	CG_CIP_CONNECTION, /* 0x54 0x5B 0x4E on class 6 */
	CG_CIP_OTHER,	   /* every other service */
	CG_CIP_CLASSES,
};
#define CG_CIP_CLASS_NONE 0xffffffffu /* the path names no object class */

struct cg_ics_range {
	__u16 lo; /* inclusive */
	__u16 hi; /* inclusive */
};

struct cg_ics_allow_rule {
	__u8 codes[32];
	__u8 units[32];
	__u8 flags;
	__u8 n_ranges;
	__u16 pad;
	struct cg_ics_range ranges[CG_ICS_ALLOW_RANGES];
};

/*
 * ics_stats: PERCPU_HASH (instance), requests inspected on flows with
 * modbus:/s7comm:, per (flow, protocol, function, verdict), for status
 * and metrics. Only inspected requests touch it.
 */
struct cg_ics_key {
	__u32 flow;
	__u16 function;
	__u8 proto;   /* enum cg_ics_proto */
	__u8 verdict; /* enum cg_verdict */
};

/* The ICS protocol of an event. */
enum cg_ics_proto {
	CG_ICS_PROTO_NONE = 0,
	CG_ICS_PROTO_MODBUS,
	CG_ICS_PROTO_S7COMM,
	CG_ICS_PROTO_ENIP,
};

/*
 * EtherNet/IP (TCP 44818) inspection bounds (bpf/enip.h; the reference
 * evaluator walks the same): encapsulation packets per segment, Common
 * Packet Format items per packet, CIP requests judged per segment (the
 * top ones and every one an Unconnected_Send or Multiple_Service_Packet
 * carries), requests per Multiple_Service_Packet, and how deep containers
 * nest (a container at this depth is refused). Beyond any bound, refused.
 */
#define CG_ENIP_PORT 44818
#define CG_ENIP_HDR 24
#define CG_ENIP_MAX_PAYLOAD 4096 /* a longer segment payload is refused */
#define CG_ENIP_MAX_PDUS 4
#define CG_ENIP_MAX_ITEMS 8
#define CG_ENIP_MAX_REQS 32
#define CG_ENIP_MAX_MSP 16
#define CG_ENIP_MAX_DEPTH 2
#define CG_ENIP_REFUSED 0x10000 /* cg_enip_refused(): refused, | function */

/*
 * conns: LRU_HASH, the connection table of IPv6 (shared, survives
 * reloads; IPv4's is conns4, below, with the same entries). A
 * connection is keyed by its two ends in a canonical order (end `a` is the
 * lower of (address, port)), so both directions find the same entry with
 * one lookup. Ports are the TCP/UDP ports; ICMP and ICMPv6 echo use the
 * echo identifier as both ports; other frames use 0.
 *
 * The entry remembers which end opened it (its allowed frame created it)
 * and, per end, the decision its frames last received: the ingress
 * (ifindex, VLAN), the policy, and the verdict (allowed by flow F, or
 * reply). That decision is a pure function of the frame's ingress, its
 * tuple and the policy, so a frame of that end arriving on the same
 * ingress under the same policy gets it again without the zone, class and
 * flow lookups: the fast path for established traffic. A new policy (new
 * policy_id) or another ingress falls back to the full judgement.
 *
 * `until`: a connection opened by a time-boxed flow ends when the flow's
 * window does (CLOCK_TAI ns; 0 = never). From then on the entry counts as
 * absent, for both directions and under any policy, so that every frame
 * of it is judged afresh.
 */
struct cg_conn_key {
	__u8 a[16];
	__u8 b[16];
	__u16 aport;
	__u16 bport;
	__u8 proto;
	__u8 family; /* 4 or 6 */
	__u8 pad[2];
};

/*
 * conns4: LRU_HASH, the connection table of IPv4, beside conns (which then
 * holds IPv6 only): the same entries under a 16-byte key, the same ends in
 * the same order. The kernel hashes the whole key on every lookup (jhash),
 * and 16 bytes instead of 40 take about 7 ns off every IPv4 frame here
 * (tests/bench/README.md). Both tables are sized by limits.connections.
 */
struct cg_conn4_key {
	__u8 a[4];
	__u8 b[4];
	__u16 aport;
	__u16 bport;
	__u8 proto;
	__u8 family; /* 4 */
	__u8 pad[2];
};

#ifndef __bpf__
/* An IPv4 key in the wide form of cg_conn_key, and back. */
static inline void cg_conn4_key_widen(const struct cg_conn4_key *n,
				      struct cg_conn_key *w)
{
	__builtin_memset(w, 0, sizeof(*w));
	__builtin_memcpy(w->a, n->a, 4);
	__builtin_memcpy(w->b, n->b, 4);
	w->aport = n->aport;
	w->bport = n->bport;
	w->proto = n->proto;
	w->family = 4;
}

static inline void cg_conn4_key_narrow(const struct cg_conn_key *w,
				       struct cg_conn4_key *n)
{
	__builtin_memset(n, 0, sizeof(*n));
	__builtin_memcpy(n->a, w->a, 4);
	__builtin_memcpy(n->b, w->b, 4);
	n->aport = w->aport;
	n->bport = w->bport;
	n->proto = w->proto;
	n->family = 4;
}
#endif

struct cg_conn_end {
	__u64 policy_id;   /* 0: nothing cached for this end */
	__u64 mac_checked; /* jiffies of the last MAC-table check */
	__u32 ifindex;
	__u32 flow; /* CG_FLOW_NONE if opened under another policy */
	__u16 vlan;
	__u16 zone_from;
	__u16 zone_to;
	__u8 reason; /* CG_R_ALLOWED or CG_R_REPLY */
	__u8 pad;
	__u8 src_mac[6]; /* the decision holds for this source MAC */
	__u8 pad2[2];
};

/*
 * The opener's byte stream on an inspected connection (one opened by a
 * flow with modbus:/s7comm:), normalized (README, "How a frame is judged",
 * step 12, the stream rule): the gate passes the opener's data only in
 * order, at `next`, or as an exact copy of data it passed before, so that
 * it judges the very bytes the receiver's stack will deliver.
 *
 * `rec` holds the last CG_STREAM_RECS runs of new data passed, oldest
 * replaced first: their start, length and two keyed hashes of their bytes
 * (polynomials mod 2^31 - 1 at the connection's secret points k1, k2,
 * drawn when the stream starts). A retransmission passes only if it is a
 * run of whole records with equal hashes; an attacker who does not know
 * the keys finds other bytes with both hashes equal with probability
 * about (length / 2^31)^2 per try.
 *
 * The state is written without locks by the CPU that sees the frame; the
 * step that passes new data moves `next` with a compare-and-swap, so two
 * CPUs racing with different bytes for the same sequence cannot both pass.
 */
#define CG_STREAM_RECS 4
#define CG_STREAM_MAX 4096 /* longest TCP segment (header + data) judged */

enum cg_stream_state {
	CG_ST_NONE = 0, /* not an inspected connection (yet) */
	CG_ST_SYN,	/* the opener's SYN seen: next = isn + 1 */
	CG_ST_SYNCED,	/* next is known */
	CG_ST_UNSYNCED, /* picked up without its SYN: next unknown */
	CG_ST_CLOSED,	/* the opener's stream ended (FIN, RST) */
};

#define CG_STF_WND (1u << 0)	/* wnd_end is known */
#define CG_STF_SYN_WS (1u << 1) /* the opener's SYN offered window scaling */
#define CG_STF_SHIFT (1u << 2)	/* the window shift is known */
#define CG_STF_RSP (1u << 3)	/* rsp_next is known */
/* An opener's ACK this far behind rsp_next is too old for the receiver. */
#define CG_STREAM_ACK_OLD (1u << 30)

struct cg_stream_rec {
	__u32 start;
	__u32 len; /* 0: empty */
	__u32 h1;
	__u32 h2;
};

struct cg_stream {
	/* The next sequence number the receiver expects, below 2^32: 64 bits
	 * wide for a compare-and-swap that needs no -mcpu=v3. */
	__u64 next;
	__u32 isn;     /* the opener's initial sequence number */
	__u32 wnd_end; /* right edge of the receiver's window */
	__u32 k1;      /* hash keys, 1 .. 2^31 - 2 */
	__u32 k2;
	__u32 rsp_next; /* after the last byte (SYN, FIN) the responder sent */
	__u32 pad;
	__u8 state; /* enum cg_stream_state */
	__u8 shift; /* the receiver's window scale */
	__u8 flags; /* CG_STF_* */
	__u8 head;  /* the record replaced next */
	struct cg_stream_rec rec[CG_STREAM_RECS];
};

/*
 * What a connection carried, for its connection records (cranegate(8),
 * "Connection records and learning a policy"): frames and bytes that passed
 * from each end (end[0] = end a of the key), when it started, and, on an
 * inspected connection, its requests by function class and how many were
 * refused. Every CPU that sees a frame of the connection adds to the one shared
 * entry, so the counters take atomic adds (one locked add each; a
 * per-CPU copy per connection would multiply the table by the CPUs).
 * `run` reads them by sweeping the table (user/ops/records.c).
 *
 * `functions` has bit F set when a request named function F: a Modbus
 * function code, an S7 job function, or 0xF0 + group for S7 userdata
 * (groups 0..15; the S7 setup function 0xF0 itself is group 0). It is
 * set with an atomic or, and only when not yet set.
 */
enum cg_fclass {
	CG_FC_READ = 0, /* what `read-only` admits */
	CG_FC_WRITE,	/* writes to data: Modbus 5 6 15 16 21 22 23, S7 0x05 */
	CG_FC_CONTROL,	/* programs, diagnostics, start/stop: Modbus 8 90,
			 * S7 0x1A-0x1F 0x28 0x29 */
	CG_FC_OTHER,	/* everything else, and requests that did not frame */
	CG_FC_MAX,
};

/*
 * What passed from end a and end b, each end's counts in two parts: the
 * CPU that owns the end (the first to count for it; RSS keeps an end's
 * frames on one CPU) adds to own_* without a lock, as it does to the
 * per-CPU counters, and any other CPU adds to shared_* atomically. Read
 * the sums with cg_conn_packets() and cg_conn_bytes().
 */
struct cg_conn_count {
	__u64 start; /* bpf_jiffies64() when the entry was created */
	__u64 own_packets[2];
	__u64 own_bytes[2];
	__u64 shared_packets[2];
	__u64 shared_bytes[2];
	__u64 owner[2]; /* the CPU + 1 owning end a, end b; 0: none yet */
	__u32 requests[CG_FC_MAX];
	__u32 refused;	/* of the requests: refused (ics-denied) */
	__u8 ics_proto; /* enum cg_ics_proto of the requests */
	__u8 pad[3];
	__u64 functions[4]; /* bit F: word F / 64, bit F % 64 */
};

/* Frames and bytes passed from end `end` (0: a, 1: b). */
static inline __u64 cg_conn_packets(const struct cg_conn_count *c,
				    unsigned int end)
{
	return c->own_packets[end & 1] + c->shared_packets[end & 1];
}

static inline __u64 cg_conn_bytes(const struct cg_conn_count *c,
				  unsigned int end)
{
	return c->own_bytes[end & 1] + c->shared_bytes[end & 1];
}

/* cg_conn_val.closing: how the connection ended (bits; 0 = not yet). */
#define CG_CLOSE_FIN (1u << 0)
#define CG_CLOSE_RST (1u << 1)

struct cg_conn_val {
	__u64 last;   /* bpf_jiffies64() of the last frame */
	__u64 until;  /* CLOCK_TAI ns: the opening flow's window ends; 0 */
	__u8 opener;  /* 0: end a opened it, 1: end b */
	__u8 closing; /* CG_CLOSE_*: FIN or RST seen: short timeout */
	__u8 pad[6];
	struct cg_conn_end end[2];
	struct cg_stream stream;
	struct cg_conn_count cnt;
};

/*
 * macs: LRU_HASH, source MAC -> the zone it was last seen in (shared
 * state). A frame whose source MAC was seen in another zone within the
 * hold time (rodata cfg_mac_hold) is `multi-homed`. Only unicast source
 * MACs of frames whose source address passed the zone checks are learned.
 */
struct cg_mac_key {
	__u8 mac[6];
	__u8 pad[2];
};

struct cg_mac_val {
	__u64 last; /* jiffies */
	__u16 zone;
	__u8 pad[6];
};

/*
 * frags: LRU_HASH, datagrams whose first fragment passed (shared state).
 * Non-first fragments of the same (addresses, protocol, IP id) pass with
 * the first fragment's decision until cfg_frag_timeout.
 */
struct cg_frag_key {
	__u8 src[16];
	__u8 dst[16];
	__u32 id;
	__u8 proto;
	__u8 family;
	__u8 pad[2];
};

struct cg_frag_val {
	__u64 last; /* jiffies */
	__u32 flow;
	__u16 zone_to;
	__u8 reason;
	__u8 pad;
};

/*
 * state_stats [enum cg_state_stat]: what happened in the state tables
 * (per-CPU counters, summed by userspace).
 */
enum cg_state_stat {
	CG_S_CONN_OPENED = 0, /* connections created */
	CG_S_CONN_FAILED,  /* creation failed (table full of pinned entries) */
	CG_S_CONN_EXPIRED, /* found idle past their timeout and replaced */
	CG_S_MAC_LEARNED,  /* MAC entries created */
	CG_S_FRAG_TRACKED, /* first fragments remembered */
	CG_S_MAX,
};

/*
 * Counters. All counter maps are PERCPU_ARRAYs: XDP runs in softirq
 * context on one CPU at a time, so each CPU increments its own copy with
 * plain adds, no atomics; userspace sums over CPUs.
 *
 * reason_stats [enum cg_reason] and flow_stats [flow id] hold one of these.
 */
struct cg_counter {
	__u64 packets;
	__u64 bytes;
	__u64 last; /* bpf_jiffies64() of the last hit, 0 = never */
};

/*
 * event_stats [enum cg_reason]: what happened to events of each reason.
 * Every frame that should have produced an event is counted exactly once
 * as emitted, lost or suppressed; suppressed_source is the part of
 * suppressed that its source's own limit held back while the reason's
 * ceiling had room (the rest hit the ceiling, or events are off).
 */
struct cg_event_counter {
	__u64 emitted;
	__u64 lost;	  /* ring buffer full: bpf_ringbuf_reserve failed */
	__u64 suppressed; /* over a rate limit (either), or events off */
	__u64 suppressed_source; /* of those: over the source's own limit */
};

/*
 * Events pass two token buckets (rates and depths are rodata, from the
 * policy's `limits:`):
 *
 *   event_sketch   PERCPU_ARRAY: the per-(reason, source) limit, a
 *                  count-min sketch of token buckets. CG_SKETCH_ROWS rows
 *                  of `width` slots (a power of two, from limits
 *                  event_sources), then one more element that holds the
 *                  hash seed (in .tokens of every CPU's copy). A (reason,
 *                  source) hashes, with the seed, to one slot in each row;
 *                  an event passes when every one of its slots has a token,
 *                  and then takes one from each. One source flooding one
 *                  reason empties its own slots only, so the events of
 *                  (almost) every other source still get through. Taken
 *                  from before the ceiling below, so that a flooder's
 *                  suppressed events take nothing from it; but not even
 *                  looked at while the ceiling has no token (the event is
 *                  suppressed then whatever its source, and a flood of
 *                  random sources writes no cold slot). Fixed size: a
 *                  frame from a source never seen inserts nothing and
 *                  takes no lock.
 *   event_buckets  PERCPU_ARRAY [reason]: the ceiling per reason and CPU,
 *                  so that no flood, however many sources it uses, can
 *                  swamp the ring buffer or the log.
 *
 * A source is the frame's source address; for frames without one (non-IP
 * ethertypes, headers too broken to read) its source MAC, family 0.
 *
 * What holds (per CPU, as every copy is its own sketch): in any t seconds a
 * (reason, source) gets at most burst + rate x t events, as with a bucket
 * of its own, because each of its events took a token from each of its
 * slots and a slot's bucket neither holds more than burst nor gains more
 * than rate x t, however many sources share it. Sharing (a collision) can
 * only take tokens away: a source gets fewer than its own budget only
 * while each of its CG_SKETCH_ROWS slots is also used by another source.
 * A source whose frames reach k CPUs gets at most k times the budget.
 */
#define CG_SKETCH_ROWS 2

struct cg_event_bucket {
	__u64 tokens; /* in 1/HZ events */
	__u64 last;   /* jiffies */
};

/*
 * Per-interface counters: frames and bytes per (ingress interface, reason),
 * state that survives reloads. Each interface the gate counts has a *slot*
 * 1..CG_IFACE_MAX-1:
 *
 *   iface_slots  HASH ifindex -> slot, read and written by the loader only:
 *                the record of which interface owns which slot.
 *   iface_stats  PERCPU_ARRAY [slot] -> struct cg_iface_stats.
 *
 * The program finds a frame's slot in its read-only data (cfg_iface_slot,
 * indexed by ifindex, filled by the loader for the interfaces the policy
 * names), so the hot path pays one array lookup (inlined by the JIT) and
 * no hash. Slot 0 means "not counted per interface": an interface outside
 * the policy (a test run on another device), or an ifindex of
 * CG_IFINDEX_SLOTS or more.
 */
#define CG_IFACE_MAX 256
#define CG_IFINDEX_SLOTS 65536u

/*
 * cfg_iface_zone[ifindex] (read-only data, by the loader from the same
 * entries as `zones`): the ingress zone of untagged frames, without a
 * lookup. 0: (ifindex, untagged) is in no zone; zone + 1; or
 * CG_IFZONE_HASH: look in `zones` (a zone id of 254 or more, or the
 * table could not say).
 */
#define CG_IFZONE_HASH 0xffu

struct cg_iface_count {
	__u64 packets;
	__u64 bytes;
};

struct cg_iface_stats {
	struct cg_iface_count r[CG_R_MAX];
};

/* Bytes of the frame carried in an event, for `cranegate capture`. */
#define CG_EVENT_DATA 128

/*
 * The event record in the ring buffer. One per dropped frame, per frame
 * passed by a flow with `log: true` when it opens a connection, and per
 * frame in record mode (replay and tests). Addresses are in network byte
 * order; an IPv4 address occupies the first 4 bytes. Ports are in host
 * byte order. `ts_ns` is bpf_ktime_get_ns() (CLOCK_MONOTONIC).
 */
struct cg_event {
	__u64 ts_ns;
	__u64 policy_id; /* first 8 bytes of the policy's sha256 */
	__u32 ifindex;
	__u32 flow; /* CG_FLOW_NONE when no flow decided */
	__u32 pkt_len;
	__u16 vlan;	 /* 0 = untagged */
	__u16 zone_from; /* CG_ZONE_NONE when unknown */
	__u16 zone_to;
	__u16 sport;
	__u16 dport;
	__u16 function;	 /* ICS function code, CG_FUNC_NONE if none */
	__u16 zone_seen; /* multi-homed by MAC: where the MAC was seen */
	__u8 ics_proto;	 /* enum cg_ics_proto, with `function` */
	__u8 pad3;
	__u8 verdict; /* enum cg_verdict */
	__u8 reason;  /* enum cg_reason */
	__u8 would;   /* in monitor mode: the reason it would have had */
	__u8 family;  /* 0 (not IP), 4 or 6 */
	__u8 proto;   /* L4 protocol, 0 when not known */
	__u8 src_mac[6];
	__u8 flags; /* CG_EV_* */
	__u8 src[16];
	__u8 dst[16];
	__u32 cap_len;		  /* bytes of the frame in data[] */
	__u8 data[CG_EVENT_DATA]; /* the frame's first bytes (capture) */
	/*
	 * CG_EV_SHADOW only: the candidate's decision. The fields above
	 * then hold the live decision (policy_id, flow, verdict, reason,
	 * would, zones are the live instance's), so that they read like
	 * any other event; these say what the shadow would have done.
	 */
	__u64 shadow_policy_id;
	__u32 shadow_flow;
	__u8 shadow_verdict;
	__u8 shadow_reason;
	__u8 shadow_would;
	__u8 pad4;
};

#define CG_FUNC_NONE 0xffffu
#define CG_EV_PORTS (1u << 0)  /* sport/dport were parsed */
#define CG_EV_SHADOW (1u << 1) /* live and shadow disagree (see below) */
/* The refused request was answered with a TCP RST (deny: reset); the
 * verdict stays drop and the reason ics-denied. */
#define CG_EV_RESET (1u << 2)

/*
 * The hand-off that makes a policy change one step for every interface.
 *
 * `progs` (a pinned program array) holds the instances of the gate by
 * slot, and `live` (a pinned one-entry array) says which slot enforces.
 * An instance attached to an interface first reads `live`: if another
 * slot enforces, it tail-calls that slot's program, which judges the
 * frame instead. `apply` loads the new instance into the slot that is not
 * live, attaches it to every interface (where it still hands every frame
 * to the old one), and then switches `live` with a single map write: all
 * interfaces change policy at that instant, and a loader killed at any
 * point leaves each frame judged by one whole policy, never a mix.
 *
 * Private instances (replay, diff, tests) have slot CG_SLOT_NONE and never
 * read `live`. Slot CG_SLOT_SHADOW holds a candidate policy evaluated
 * beside the live one (apply --shadow) and never decides a verdict.
 */
enum cg_slot {
	CG_SLOT_NONE = 0,
	CG_SLOT_A = 1,
	CG_SLOT_B = 2,
	CG_SLOT_SHADOW = 3,
	CG_SLOTS,
};

struct cg_live {
	__u32 slot;   /* enum cg_slot: the instance that enforces */
	__u32 shadow; /* non-zero: hand every judged frame to the shadow */
};

/*
 * A VLAN tag that the NIC took out of the frame (rx VLAN offload).
 *
 * A driver that strips the outer tag keeps it in the receive descriptor
 * (or, on veth, in the skb), where the gate's parser cannot see it. On an
 * interface whose driver reports the tag to XDP (the
 * bpf_xdp_metadata_rx_vlan_tag kfunc), the loader attaches a small
 * device-bound "front" program (bpf/front.bpf.c, one per interface) instead
 * of the gate. The front reads the tag, writes this record into the
 * frame's XDP metadata area (just before ctx->data) and tail-calls the
 * live slot's instance through `progs`, so that the hand-off above stays
 * one write of `live` for every interface. (The kernel refuses
 * device-bound programs *in* a program array, but lets one tail-call out
 * of it into ordinary programs.)
 *
 * The gate takes the record only when its magic matches; a frame that did
 * not pass a front has an empty metadata area. A tag found here is the
 * outer tag: a tag still in the frame is then a second, inner tag.
 */
#define CG_RX_TAG_MAGIC 0xc6a7e7a9u

struct cg_rx_tag {
	__u32 magic;  /* CG_RX_TAG_MAGIC */
	__u16 tci;    /* the stripped tag's TCI, when present */
	__u8 present; /* 1: the NIC stripped a tag; 0: it reported none */
	__u8 pad;
};

/*
 * Shadow evaluation (apply --shadow). When live.shadow is set, the live
 * instance ends every frame, after it has counted and logged it, by
 * writing its decision to `shadow_in` (per-CPU scratch) and tail-calling
 * progs[CG_SLOT_SHADOW]. The shadow instance (rodata cfg_slot ==
 * CG_SLOT_SHADOW) judges the frame with its own policy maps, reading the
 * shared connection, MAC and fragment tables but writing no state and no
 * normal counter or event; it counts the pair of decisions, logs a
 * disagreement (verdicts differ) as a CG_EV_SHADOW event, and returns the
 * live XDP action from the scratch: a shadow never changes a verdict. An
 * empty slot makes the tail call return, and the live action stands.
 *
 * shadow_in [1], per-CPU: written by the live instance just before the
 * tail call, read by the shadow in the same softirq on the same CPU.
 * `pending` tells the shadow that it was entered through the tail call
 * (it is cleared there), not run on its own.
 * CG_SHADOW_PENDING_RESET says, in the same field, that the live instance
 * answers the frame with a RST (deny: reset): the shadow builds it from
 * the frame and returns XDP_TX. `action` then says XDP_DROP, so that a
 * shadow from before deny: reset drops the request rather than pass it.
 */
#define CG_SHADOW_PENDING_RESET 2

struct cg_shadow_in {
	__u64 policy_id; /* the live instance's */
	__u32 action;	 /* the live XDP action, returned by the shadow */
	__u32 flow;
	__u16 zone_from;
	__u16 zone_to;
	__u8 verdict;
	__u8 reason;
	__u8 would;
	__u8 pending;
	struct cg_event_bucket bucket; /* rate limit of shadow events */
};

/*
 * shadow_stats [live reason * CG_R_MAX + shadow reason], per-CPU
 * counters: every frame compared, by the pair of final reasons (after
 * monitor mode). The verdicts follow from the reasons, so agreements and
 * disagreements, in each direction, are sums over this matrix.
 *
 * shadow_flows, PERCPU_HASH: the disagreements only, by (live flow,
 * shadow flow, live reason, shadow reason); flow ids belong to the live
 * and to the shadow policy respectively. Bounded: pairs beyond its size
 * are not broken down (shadow_stats still counts them).
 *
 * shadow_event_stats [1]: what happened to disagreement events.
 */
#define CG_SHADOW_PAIRS (CG_R_MAX * CG_R_MAX)

struct cg_shadow_key {
	__u32 live_flow;
	__u32 shadow_flow;
	__u8 live_reason;
	__u8 shadow_reason;
	__u8 pad[2];
};

/*
 * meta [1] and names [zones + flows]: what an operator needs to read the
 * instance back (status, events) from the kernel alone. The program never
 * reads them; the loader binds them to it (bpf_prog_bind_map) so that
 * they are found through the pinned program. names[] holds the zone
 * names (ids 0..n_zones-1), then the flow names (n_zones + flow id).
 */
#define CG_META_NAME_MAX 64

struct cg_policy_meta {
	char name[CG_META_NAME_MAX];
	__u8 sha256[32];
	__u64 applied_at; /* Unix time, seconds */
	__u32 n_zones;
	__u32 n_flows;
	__u32 mode; /* enum cg_mode */
	__u32 pad;
};

struct cg_name {
	char name[CG_META_NAME_MAX];
};

/*
 * Read-only configuration of one instance, set by the loader before load
 * (the program's `const volatile` globals). Listed here for reference:
 *   cfg_mode           enum cg_mode
 *   cfg_policy_id      __u64
 *   cfg_record         non-zero: write every frame's event to `last`
 *                      (replay and tests only; dead code otherwise)
 *   cfg_ev_rate        events per second per reason per CPU (the
 *                      ceiling); 0: no events, every one suppressed
 *   cfg_ev_burst       the ceiling's bucket depth
 *   cfg_ev_src_rate    events per second per (reason, source)
 *   cfg_ev_src_burst   its bucket depth
 *   cfg_ev_src_limit   non-zero: use the per-source buckets
 *   cfg_iface_stats    non-zero: count per interface (benchmarks turn it
 *                      off to measure what it costs)
 *   cfg_iface_slot     [ifindex] -> the interface's slot in iface_stats
 *   cfg_slot           enum cg_slot of this instance; CG_SLOT_SHADOW
 *                      makes it a shadow (see cg_shadow_in)
 *   cfg_timed          non-zero: the flows map holds CG_FLOW_CHAIN values
 */

/*
 * The gateway itself (`self`, README "The gateway itself").
 *
 * self4 / self6: HASH, policy maps of the instance, from an address of the
 * gateway (on an interface the policy names) to a struct cg_self_val. The
 * loader fills them from rtnetlink before the instance goes live, and
 * `run` keeps them current as addresses come and go, one element at a
 * time: an address is added before any is removed, so an address that
 * stays is never missing. A frame to one of them has zone_to CG_ZONE_SELF
 * and the destination class cfg_self_class (rodata): it is judged like
 * traffic between zones, never intra-zone. A frame *from* one of them
 * arriving on an interface is spoofed-source: the gateway's own frames
 * leave it, they never come in.
 */
#define CG_ZONE_SELF 0xfffeu
#define CG_SELF_MAX 1024 /* addresses per family */

struct cg_self_val {
	__u32 ifindex; /* the interface that holds it (information only) */
};

/*
 * self_filter: ARRAY of one struct cg_self_filter, a policy map beside
 * self4/self6: one bit per address of the gateway (a one-hash Bloom
 * filter), so that a frame whose address has a clear bit, nearly every
 * frame, skips the self4/self6 lookup. A set bit only means "look":
 * another address sharing the bit costs the lookup, never a wrong answer.
 * Written with the maps (cg_self_fill): the bits of the new set are added
 * before the maps change and the filter is made exact after, so that it
 * never misses an address the maps hold.
 */
#define CG_SELF_FILTER_SHIFT 12 /* 4096 bits */
#define CG_SELF_FILTER_WORDS ((1u << CG_SELF_FILTER_SHIFT) / 64)

struct cg_self_filter {
	__u64 w[CG_SELF_FILTER_WORDS];
};

/*
 * The filter's bit for an address: `x`, its first 32-bit word as stored
 * (IPv4), or the xor of its four (IPv6), mixed with the family.
 */
static inline __u32 cg_self_filter_bit(__u32 x, __u32 family)
{
	return ((x ^ family) * 0x9e3779b1u) >> (32 - CG_SELF_FILTER_SHIFT);
}

#ifndef __bpf__
static const char *const cg_reason_names[CG_R_MAX] = {
	[CG_R_ALLOWED] = "allowed",
	[CG_R_REPLY] = "reply",
	[CG_R_INTRA_ZONE] = "intra-zone",
	[CG_R_MONITOR] = "monitor",
	[CG_R_ARP] = "arp",
	[CG_R_ND] = "nd",
	[CG_R_NO_RULE] = "no-rule",
	[CG_R_UNKNOWN_ZONE] = "unknown-zone",
	[CG_R_SPOOFED_SOURCE] = "spoofed-source",
	[CG_R_MULTI_HOMED] = "multi-homed",
	[CG_R_VLAN_VIOLATION] = "vlan-violation",
	[CG_R_ICS_DENIED] = "ics-denied",
	[CG_R_FRAGMENT] = "fragment",
	[CG_R_MALFORMED] = "malformed",
	[CG_R_ETHERTYPE] = "ethertype",
	[CG_R_STREAM] = "stream",
};

/* The name of an enum cg_ics_proto, as events, status and records write it. */
static inline const char *cg_ics_proto_name(unsigned int proto)
{
	return proto == CG_ICS_PROTO_ENIP     ? "enip"
	       : proto == CG_ICS_PROTO_S7COMM ? "s7comm"
					      : "modbus";
}
#endif

#endif /* CRANEGATE_MAPS_H */
