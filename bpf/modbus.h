/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Modbus `allow:` rules in the data plane (README, step 12): one ADU of a
 * request against its flow's rules (maps/cranegate.h, ics_allow).
 * Included by gate.bpf.c after frame_ptr() and bit_set().
 *
 * The judgement is a global function: the verifier checks it once, on
 * its own, however many ADUs and call sites reach it, and its loops over
 * rules and ranges stay out of the main program's budget.
 */
#ifndef CRANEGATE_BPF_MODBUS_H
#define CRANEGATE_BPF_MODBUS_H

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct cg_ics_allow_rule);
	__uint(max_entries, 1); /* set by the loader */
} ics_allow SEC(".maps");

/* Is [lo, hi] within one of the rule's (merged) ranges? */
static __always_inline bool allow_in_range(const struct cg_ics_allow_rule *r,
					   __u32 lo, __u32 hi)
{
	int j;

	for (j = 0; j < CG_ICS_ALLOW_RANGES; j++) {
		if (j >= r->n_ranges)
			break;
		if (r->ranges[j].lo <= lo && hi <= r->ranges[j].hi)
			return true;
	}
	return false;
}

static __always_inline __u32 get16(const __u8 *p)
{
	return ((__u32)p[0] << 8) | p[1];
}

/* What the rule walk (match_step) knows of the request. */
struct modbus_req {
	__u32 first; /* its flow's first rule in ics_allow */
	__u32 lo1, hi1, lo2, hi2;
	__u32 fc, unit, ranges;
	int mei;
	int matched;
};

/*
 * One rule of the walk, a bpf_loop callback: the verifier checks it once
 * for any rule index, instead of once per unrolled iteration (16 rules of
 * 8 ranges cost it about 95,000 instructions unrolled).
 */
static long match_step(__u64 i, void *data)
{
	struct modbus_req *q = data;
	const struct cg_ics_allow_rule *r;
	__u32 idx = q->first + (__u32)i;

	r = bpf_map_lookup_elem(&ics_allow, &idx);
	if (!r)
		return 1;
	if (!bit_set(r->codes, q->fc & 0xff) ||
	    !bit_set(r->units, q->unit & 0xff))
		return 0;
	if (q->fc == 43 && (r->flags & CG_ALLOW_MEI14) && q->mei != 14)
		return 0;
	if (q->fc == 43 && (r->flags & CG_ALLOW_NOT_MEI14) && q->mei == 14)
		return 0;
	if (r->n_ranges) {
		if (!q->ranges || !allow_in_range(r, q->lo1, q->hi1))
			return 0;
		if (q->ranges == 2 && !allow_in_range(r, q->lo2, q->hi2))
			return 0;
	}
	q->matched = 1;
	return 1;
}

/*
 * One Modbus ADU at `pos` whose MBAP length `len` (>= 2) the caller
 * checked to lie within the payload, against the rules ics_allow[first,
 * first + n). Returns 0 when one rule matches, 1 when the request is
 * refused: no rule matches, or the PDU is malformed.
 *
 * Functions with addresses (1-6, 15, 16, 22, 23) are read whole: the
 * MBAP length must be exactly what the function's fields say (no bytes
 * before the next ADU that a server would take for another request),
 * quantities within the protocol's limits (1-2000 coils or inputs,
 * 1-125 registers read, 1-1968 coils and 1-123 registers written, FC 23:
 * 1-125 read and 1-121 written), byte counts equal to what the quantity
 * needs, and the touched range [start, start + quantity - 1] within
 * 0..65535. FC 23 touches two ranges; each must lie in one of the rule's
 * ranges.
 */
__noinline int cg_modbus_rules(struct xdp_md *ctx, __u32 pos, __u32 len,
			       __u32 first, __u32 n)
{
	__u32 lo1 = 0, hi1 = 0, lo2 = 0, hi2 = 0, q, bc, need = 0;
	struct modbus_req req;
	int ranges = 0, mei = -1;
	__u8 *h, *d, fc, unit;

	h = frame_ptr(ctx, pos, 8);
	if (!h)
		return 1;
	unit = h[6];
	fc = h[7];
	switch (fc) {
	case 1:
	case 2:
	case 3:
	case 4:
	case 5:
	case 6:
		d = frame_ptr(ctx, pos + 8, 4);
		if (!d || len != 6)
			return 1;
		lo1 = get16(d);
		q = get16(d + 2);
		if (fc >= 5) /* one coil or register; the value is free */
			q = 1;
		if (q < 1 || q > (fc <= 2 ? 2000 : 125))
			return 1;
		hi1 = lo1 + q - 1;
		ranges = 1;
		break;
	case 15:
	case 16:
		d = frame_ptr(ctx, pos + 8, 5);
		if (!d)
			return 1;
		lo1 = get16(d);
		q = get16(d + 2);
		bc = d[4];
		if (fc == 15) {
			if (q < 1 || q > 1968)
				return 1;
			need = (q + 7) / 8;
		} else {
			if (q < 1 || q > 123)
				return 1;
			need = 2 * q;
		}
		if (bc != need || len != 7 + bc)
			return 1;
		hi1 = lo1 + q - 1;
		ranges = 1;
		break;
	case 22:
		d = frame_ptr(ctx, pos + 8, 2);
		if (!d || len != 8)
			return 1;
		lo1 = hi1 = get16(d);
		ranges = 1;
		break;
	case 23:
		d = frame_ptr(ctx, pos + 8, 9);
		if (!d)
			return 1;
		lo1 = get16(d);
		q = get16(d + 2);
		if (q < 1 || q > 125)
			return 1;
		hi1 = lo1 + q - 1;
		lo2 = get16(d + 4);
		q = get16(d + 6);
		bc = d[8];
		if (q < 1 || q > 121 || bc != 2 * q || len != 11 + bc)
			return 1;
		hi2 = lo2 + q - 1;
		ranges = 2;
		break;
	case 43:
		d = frame_ptr(ctx, pos + 8, 1);
		if (d && len >= 3)
			mei = d[0];
		break;
	default:
		break;
	}
	if (hi1 > 0xffff || hi2 > 0xffff)
		return 1;
	req.first = first;
	req.lo1 = lo1;
	req.hi1 = hi1;
	req.lo2 = lo2;
	req.hi2 = hi2;
	req.fc = fc;
	req.unit = unit;
	req.ranges = ranges;
	req.mei = mei;
	req.matched = 0;
	bpf_loop(n < CG_ICS_ALLOW_MAX ? n : CG_ICS_ALLOW_MAX, match_step, &req,
		 0);
	return !req.matched;
}

#endif /* CRANEGATE_BPF_MODBUS_H */
