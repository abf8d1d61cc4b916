/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ICS inspection: Modbus/TCP (modbus.h) and S7comm requests judged
 * against a flow's class or rules, and their counters.
 * Included by gate.bpf.c, in order: each header uses the ones before it.
 */
#ifndef CRANEGATE_BPF_ICS_H
#define CRANEGATE_BPF_ICS_H

#define CG_MAX_MODBUS_ADUS 8
#define CG_MAX_TPKTS 4

#include "modbus.h"
#include "enip.h"

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

/* Step 12: is this request, on a flow with modbus:/s7comm:/enip:, refused?
 * A flow with several keys reads EtherNet/IP on port 44818, S7comm on 102
 * and Modbus elsewhere; a flow with one key reads its protocol anywhere. */
/*
 * Modbus and S7comm requests against the flow's rule `r` (ics_rules
 * index `idx`): 1 refused, 0 not. A global function, verified once
 * whatever state of the caller reaches it; EtherNet/IP stays with the
 * caller, as its walk's calls need the stack this frame would take.
 */
__noinline int cg_ics_refused(struct xdp_md *ctx, struct frame *f, __u32 idx)
{
	const struct cg_ics_rule *r;

	if (!ctx || !f)
		return 1;
	r = bpf_map_lookup_elem(&ics_rules, &idx);
	if (!r)
		return 1;
	if (r->s7comm && (!r->modbus || f->dport == 102))
		return s7comm_refused(ctx, f, r);
	if (r->modbus)
		return modbus_refused(ctx, f, r);
	return 0;
}

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
	if (r->enip &&
	    ((!r->modbus && !r->s7comm) || f->dport == CG_ENIP_PORT)) {
		int v;

		f->ics_proto = CG_ICS_PROTO_ENIP;
		v = cg_enip_refused(
			ctx, f->payload_off, f->payload_end, r->enip,
			(__u32)r->enip_allow_first << 8 | r->enip_allow_n);
		f->function = v & 0xffff;
		return v & CG_ENIP_REFUSED;
	}
	return cg_ics_refused(ctx, f, idx);
}

#endif /* CRANEGATE_BPF_ICS_H */
