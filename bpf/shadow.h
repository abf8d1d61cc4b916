/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shadow evaluation: the hand-off to the candidate, its events, and the
 * comparison of the two verdicts.
 * Included by gate.bpf.c, in order: each header uses the ones before it.
 */
#ifndef CRANEGATE_BPF_SHADOW_H
#define CRANEGATE_BPF_SHADOW_H

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
	/* A RST to build (deny: reset): the action stays XDP_DROP, so that
	 * a shadow that knows no resets drops the request. */
	si->pending = f->reset ? CG_SHADOW_PENDING_RESET : 1;
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
	bool reset;

	if (cfg_record) {
		struct cg_event *e = bpf_map_lookup_elem(&last, &zero);

		if (e)
			fill_event(e, f, verdict, reason, would, 0);
	}
	si = bpf_map_lookup_elem(&shadow_in, &zero);
	if (!si || !si->pending)
		return verdict == CG_V_DROP ? XDP_DROP : XDP_PASS;
	reset = si->pending == CG_SHADOW_PENDING_RESET;
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
	/* The live instance's RST, built from the request as it came. */
	if (reset)
		return reset_answer(ctx, f);
	return si->action == XDP_DROP ? XDP_DROP : XDP_PASS;
}

#endif /* CRANEGATE_BPF_SHADOW_H */
