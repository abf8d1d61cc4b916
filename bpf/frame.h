/* SPDX-License-Identifier: GPL-2.0 */
/*
 * struct frame (what parsing and classification learned about a frame),
 * small predicates on it, and bounds-checked packet access.
 * Included by gate.bpf.c, in order: each header uses the ones before it.
 */
#ifndef CRANEGATE_BPF_FRAME_H
#define CRANEGATE_BPF_FRAME_H

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
	__u8 hop_limit;	  /* IPv4 TTL / IPv6 hop limit on arrival */
	__u8 opening;	  /* a flow allowed it on the full judgement */
	__u8 st_touched;  /* the opener's frame on an inspected flow */
	__u8 ip6_ext;	  /* IPv6: an extension header was walked */
	__u8 reset;	  /* refused and answered with a RST (deny: reset) */
	__u8 src_outside; /* the source is in no zone (src_maybe_zoned) */
	__u32 l4_off;	  /* TCP header, up to payload_end (the IP end) */
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
 * Jiffies since `then`, a time another CPU may have written after this
 * frame read `now`: such a time is 0 ago, not 2^64 - 1 (an entry seen a
 * tick later elsewhere is live, not expired).
 */
static __always_inline __u64 since(__u64 now, __u64 then)
{
	return now > then ? now - then : 0;
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

/* A code's bit in a bitmap of 256 (ICS function lists and rules). */
static __always_inline bool bit_set(const __u8 *map, __u8 code)
{
	return map[code >> 3] & (1u << (code & 7));
}

#endif /* CRANEGATE_BPF_FRAME_H */
