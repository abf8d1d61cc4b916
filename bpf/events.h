/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Counters and events: token buckets per reason and per source (a
 * count-min sketch), the ring buffer record, per-interface and state
 * counters.
 * Included by gate.bpf.c, in order: each header uses the ones before it.
 */
#ifndef CRANEGATE_BPF_EVENTS_H
#define CRANEGATE_BPF_EVENTS_H

/*
 * Refill a token bucket that gains `rate` events per second up to `cap`
 * (in 1/HZ events) to `now`, in jiffies; tokens are kept in units of 1/HZ
 * event, so that each jiffy adds `rate` units exactly. A bucket never used
 * (last == 0) starts full.
 */
static __always_inline void bucket_fill(struct cg_event_bucket *b, __u64 now,
					__u64 rate, __u64 cap)
{
	if (b->last == 0) {
		b->tokens = cap;
	} else if (now > b->last) {
		__u64 add = (now - b->last) * rate;

		b->tokens = (cap - b->tokens < add) ? cap : b->tokens + add;
	}
	b->last = now;
}

/* Take one event's worth from a bucket of depth `burst` events; true when
 * there was one. */
static __always_inline bool bucket_take(struct cg_event_bucket *b, __u64 now,
					__u64 rate, __u64 burst)
{
	bucket_fill(b, now, rate, burst * cfg_hz);
	if (b->tokens < cfg_hz)
		return false;
	b->tokens -= cfg_hz;
	return true;
}

/*
 * The ceiling: per (reason, CPU), refilled to now. NULL when it has no
 * token for an event (or cannot be found); take the token with
 * ceiling_take() once the source's own bucket allowed the event.
 */
static __always_inline struct cg_event_bucket *ceiling(__u32 reason, __u64 now)
{
	struct cg_event_bucket *b =
		bpf_map_lookup_elem(&event_buckets, &reason);

	if (!b)
		return NULL;
	bucket_fill(b, now, cfg_ev_rate, cfg_ev_burst * cfg_hz);
	return b->tokens < cfg_hz ? NULL : b;
}

static __always_inline void ceiling_take(struct cg_event_bucket *b)
{
	b->tokens -= cfg_hz;
}

/*
 * The per-(reason, source) limit: a count-min sketch of token buckets in a
 * per-CPU array (maps/cranegate.h, event_sketch). The (reason, source)
 * hashes with the loader's secret seed to one slot per row; the event
 * passes when each slot has a token, and takes one from each. Two array
 * lookups, no insert, no lock, whatever the source.
 */
_Static_assert(CG_SKETCH_ROWS == 2, "source_allowed() hashes to two rows");
static __always_inline bool source_allowed(const struct frame *f, __u32 reason,
					   __u64 now)
{
	__u64 cap = cfg_ev_src_burst * cfg_hz, cost = cfg_hz;
	__u64 a, b, h = cfg_sketch_seed;
	struct cg_event_bucket *b0, *b1;
	__u32 k0, k1;

	if (f->family) {
		__builtin_memcpy(&a, f->src, 8);
		__builtin_memcpy(&b, f->src + 8, 8);
	} else {
		a = 0;
		__builtin_memcpy(&a, f->src_mac, 6);
		b = 0;
	}
	/* A multiply-xorshift mix of the seed, the address, the family and
	 * the reason: every input bit reaches both halves of h. */
	h ^= a;
	h *= 0x9e3779b97f4a7c15ULL;
	h ^= h >> 32;
	h ^= b;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 29;
	h ^= ((__u64)f->family << 8) | reason;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	k0 = (__u32)h & cfg_sketch_mask;
	k1 = ((__u32)(h >> 32) & cfg_sketch_mask) + cfg_sketch_mask + 1;
	b0 = bpf_map_lookup_elem(&event_sketch, &k0);
	b1 = bpf_map_lookup_elem(&event_sketch, &k1);
	/* Outside the map (cannot happen: the loader sizes it): the
	 * ceiling still bounds the event. */
	if (!b0 || !b1)
		return true;
	bucket_fill(b0, now, cfg_ev_src_rate, cap);
	bucket_fill(b1, now, cfg_ev_src_rate, cap);
	if (b0->tokens < cost || b1->tokens < cost)
		return false;
	b0->tokens -= cost;
	b1->tokens -= cost;
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
	e->flags =
		(f->has_ports ? CG_EV_PORTS : 0) | (f->reset ? CG_EV_RESET : 0);
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
	struct cg_event_bucket *ceil;
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
	/*
	 * The ceiling is looked at first: with no token left, the event is
	 * suppressed whatever its source, and the sketch is not touched (a
	 * flood of random sources would write a cold slot of it per frame).
	 * Its token is taken only after the source's own bucket allowed the
	 * event, so that a noisy source spends its own budget, never the
	 * others' (maps/cranegate.h).
	 */
	ceil = ceiling(key, now);
	if (!ceil) {
		ec->suppressed++;
		return;
	}
	if (cfg_ev_src_limit && !source_allowed(f, key, now)) {
		ec->suppressed++;
		ec->suppressed_source++;
		return;
	}
	ceiling_take(ceil);
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

#endif /* CRANEGATE_BPF_EVENTS_H */
