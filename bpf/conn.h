/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Connection tracking: keys, timeouts, the TCP options walk, the fast path
 * of established connections, opening, replies and ICMP errors.
 * Included by gate.bpf.c, in order: each header uses the ones before it.
 */
#ifndef CRANEGATE_BPF_CONN_H
#define CRANEGATE_BPF_CONN_H

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
	if (family == 4) {
		/* conns4's key, in the same storage (see conn_get). */
		struct cg_conn4_key *n = (struct cg_conn4_key *)k;

		__builtin_memcpy(n->a, src_first ? src : dst, 4);
		__builtin_memcpy(n->b, src_first ? dst : src, 4);
		n->aport = src_first ? sport : dport;
		n->bport = src_first ? dport : sport;
		n->proto = proto;
		n->family = 4;
		n->pad[0] = n->pad[1] = 0;
		return src_first ? 0 : 1;
	}
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

/*
 * The connection table of a key built by conn_key_of(): conns4 for IPv4
 * (the key's first 16 bytes are a struct cg_conn4_key), conns for IPv6.
 * Each map's call stays a call site of its own (the empty asm statements
 * differ), so that the verifier inlines both lookups; merged into one call
 * of either map, they would be an indirect call.
 */
static __always_inline struct cg_conn_val *conn_get(__u8 family,
						    const struct cg_conn_key *k)
{
	struct cg_conn_val *v;

	if (family == 4) {
		v = bpf_map_lookup_elem(&conns4, k);
		asm volatile("" : "+r"(v) : : "memory");
		return v;
	}
	v = bpf_map_lookup_elem(&conns, k);
	asm volatile("" : "+r"(v) : "r"(family) : "memory");
	return v;
}

static __always_inline long conn_put(__u8 family, const struct cg_conn_key *k,
				     const struct cg_conn_val *v)
{
	if (family == 4)
		return bpf_map_update_elem(&conns4, k, v, BPF_ANY);
	return bpf_map_update_elem(&conns, k, v, BPF_ANY);
}

static __always_inline void conn_del(__u8 family, const struct cg_conn_key *k)
{
	if (family == 4)
		bpf_map_delete_elem(&conns4, k);
	else
		bpf_map_delete_elem(&conns, k);
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
	c->val = conn_get(f->family, &c->key);
	/*
	 * Idle past its timeout, or past the window of the flow that opened
	 * it. The window is checked whatever this policy says (not behind
	 * cfg_timed), so that a reload cannot stretch a vendor's session.
	 */
	if (c->val && (since(now, c->val->last) >
			       (c->val->closing ? cfg_timeout_tcp_closing
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
	if (v && v->zone != f->zone_from &&
	    since(now, v->last) <= cfg_mac_hold) {
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
	if (since(now, e->mac_checked) > cfg_hz) {
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
	if (conn_put(f->family, &c->key, nv)) {
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
 * first 8 bytes of its transport header. 1 or 0. A global function,
 * verified once whatever state of the caller reaches it.
 */
__noinline int cg_icmp_error_reply(struct xdp_md *ctx, struct frame *f,
				   __u64 now)
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

	if (!ctx || !f)
		return 0;
	if (f->family == 4) {
		__u8 *ip = frame_ptr(ctx, off, 20);
		__u32 hl;

		if (!ip || (ip[0] >> 4) != 4 || (ip[0] & 15) < 5)
			return 0;
		hl = (ip[0] & 15) * 4;
		proto = ip[9];
		__builtin_memcpy(src, ip + 12, 4);
		__builtin_memcpy(dst, ip + 16, 4);
		l4 = off + hl;
	} else {
		__u8 *ip = frame_ptr(ctx, off, 40);

		if (!ip || (ip[0] >> 4) != 6)
			return 0;
		proto = ip[6];
		__builtin_memcpy(src, ip + 8, 16);
		__builtin_memcpy(dst, ip + 24, 16);
		l4 = off + 40;
	}
	if (l4 + 8 > f->inner_end)
		return 0;
	h = frame_ptr(ctx, l4, 8);
	if (!h)
		return 0;
	/* Sent by the error's destination. */
	if (((__u64 *)src)[0] != ((__u64 *)f->dst)[0] ||
	    ((__u64 *)src)[1] != ((__u64 *)f->dst)[1])
		return 0;
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
	v = conn_get(f->family, &k);
	if (!v ||
	    since(now, v->last) > (v->closing ? cfg_timeout_tcp_closing
					      : conn_timeout(proto)) ||
	    conn_cut(f, v))
		return 0;
	opener = &v->end[v->opener & 1];
	f->flow = opener->policy_id == cfg_policy_id ? opener->flow
						     : CG_FLOW_NONE;
	return 1;
}

#endif /* CRANEGATE_BPF_CONN_H */
