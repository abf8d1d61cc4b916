/* SPDX-License-Identifier: GPL-2.0 */
/*
 * EtherNet/IP and CIP inspection (README, step 12; cranegate-policy(5),
 * "ICS function classes"): the new data of one TCP segment from the
 * client of a flow with `enip:` is whole encapsulation packets, and under
 * `read-only` every command and every CIP request in them is one the
 * class admits. Included by ics.h after frame_ptr() and bit_set().
 *
 * The walk is a global function (verified once, on its own) over a copy
 * of the payload in a per-CPU scratch buffer, so that every read is an
 * index masked to the buffer rather than a packet pointer the verifier
 * must follow through nested variable offsets. It has two bounded phases:
 *
 *   1. encapsulation packets (at most CG_ENIP_MAX_PDUS): a 24-byte little
 *      endian header whose length field says exactly how many bytes
 *      follow; a SendRRData / SendUnitData carries the Common Packet
 *      Format (interface handle, timeout, item count <= CG_ENIP_MAX_ITEMS,
 *      items ending exactly at the packet's end) with exactly one data
 *      item, whose CIP request is queued;
 *   2. the queue of CIP requests (at most CG_ENIP_MAX_REQS in all):
 *      each is judged by its service and class; an Unconnected_Send
 *      (0x52 on class 0x06) queues the request it carries and a
 *      Multiple_Service_Packet (0x0A) every request it packs, each one
 *      level deeper; a container deeper than CG_ENIP_MAX_DEPTH, a queue
 *      that overflows, or anything that does not fit is refused.
 *
 * Nothing is ever passed for want of looking: every bound ends in a
 * refusal. The reference evaluator (user/policy/reference.c, enip_allows)
 * walks the same way, in the same order, and the differential test holds
 * the two to the same verdicts and functions.
 */
#ifndef CRANEGATE_BPF_ENIP_H
#define CRANEGATE_BPF_ENIP_H

#define CG_ENIP_BUF CG_ENIP_MAX_PAYLOAD /* a power of 2: the mask */
#define CG_ENIP_MASK (CG_ENIP_BUF - 1)

struct cg_enip_scratch {
	__u8 b[CG_ENIP_BUF];
	__u16 q_off[CG_ENIP_MAX_REQS];	/* queued CIP requests: offset, */
	__u16 q_len[CG_ENIP_MAX_REQS];	/* length, */
	__u8 q_depth[CG_ENIP_MAX_REQS]; /* nesting depth (0: top) */
	__u32 len;			/* payload bytes in b */
	__u32 pos;			/* the packet walk's cursor */
	__u32 n;			/* requests queued */
	__u32 mode;			/* enum cg_ics_check */
	__u32 refused;
	__u32 done;	   /* the packet walk reached the payload's end */
	__u32 function;	   /* the CIP service judged last, or CG_FUNC_NONE */
	__u32 allow_first; /* CG_ICS_RULES: the flow's rules in ics_allow */
	__u32 allow_n;
};

/* Scratch for the walk, per-CPU: one frame at a time per CPU (softirq). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct cg_enip_scratch);
	__uint(max_entries, 1);
} enip_buf SEC(".maps");

/* Byte i of the payload; the mask is on the register that indexes. */
static __always_inline __u32 eb8(const struct cg_enip_scratch *s, __u64 i)
{
	asm volatile("%[i] &= 0xfff" : [i] "+r"(i));
	return s->b[i];
}

static __always_inline __u32 eb16(const struct cg_enip_scratch *s, __u32 i)
{
	return eb8(s, i) | (eb8(s, i + 1) << 8);
}

/* Queue the CIP request at [off, off + len); false when the queue is full. */
static __always_inline bool enip_queue(struct cg_enip_scratch *s, __u32 off,
				       __u32 len, __u32 depth)
{
	__u32 n = s->n;

	if (n >= CG_ENIP_MAX_REQS)
		return false;
	s->q_off[n] = off;
	s->q_len[n] = len;
	s->q_depth[n] = depth;
	s->n = n + 1;
	return true;
}

/* The commands `read-only` admits. */
static __always_inline bool enip_command_read(__u32 cmd)
{
	return cmd == 0x0004 || cmd == 0x0063 || cmd == 0x0064 ||
	       cmd == 0x0065 || cmd == 0x0066 || cmd == 0x006F || cmd == 0x0070;
}

/*
 * One encapsulation packet at s->pos (a bpf_loop callback over at most
 * CG_ENIP_MAX_PDUS). The header and its length are framing (`any`
 * checks nothing more); under `read-only` the command must be admitted,
 * and a SendRRData or SendUnitData must hold a Common Packet Format whose
 * items end exactly at the packet's end, with exactly one data item
 * (unconnected 0xB2, or connected 0xB1 after its 2-byte sequence count),
 * whose CIP request is queued. Stops the walk on a refusal or at the end.
 */
static long enip_pdu_step(__u64 i, void *data)
{
	struct cg_enip_scratch *s = *(struct cg_enip_scratch **)data;
	__u32 pos = s->pos, len = s->len, plen, cmd, end, it, cnt, type, il;
	__u32 req = 0, rlen = 0, found = 0;
	int k;

	if (pos >= len || len - pos < CG_ENIP_HDR)
		goto refuse;
	cmd = eb16(s, pos);
	plen = eb16(s, pos + 2);
	if (plen > len - pos - CG_ENIP_HDR)
		goto refuse;
	end = pos + CG_ENIP_HDR + plen;
	s->pos = end;
	if (s->mode != CG_ICS_FRAMING) {
		if (!enip_command_read(cmd))
			goto refuse;
		if (cmd == 0x006F || cmd == 0x0070) {
			if (plen < 8)
				goto refuse;
			it = pos + CG_ENIP_HDR + 8;
			cnt = eb16(s, it - 2);
			if (cnt > CG_ENIP_MAX_ITEMS)
				goto refuse;
			for (k = 0; k < CG_ENIP_MAX_ITEMS; k++) {
				if (k >= cnt)
					break;
				if (it > end || end - it < 4)
					goto refuse;
				type = eb16(s, it);
				il = eb16(s, it + 2);
				if (il > end - it - 4)
					goto refuse;
				if (type == 0x00B2 || type == 0x00B1) {
					if (found)
						goto refuse;
					found = 1;
					req = it + 4;
					rlen = il;
					if (type == 0x00B1) {
						if (il < 2)
							goto refuse;
						req += 2;
						rlen -= 2;
					}
				} else if (type != 0x0000 && type != 0x00A1 &&
					   type != 0x8000 && type != 0x8001 &&
					   type != 0x8002) {
					goto refuse;
				}
				it += 4 + il;
			}
			if (it != end || !found || !enip_queue(s, req, rlen, 0))
				goto refuse;
		}
	}
	if (end == len) {
		s->done = 1;
		return 1;
	}
	return 0;
refuse:
	s->refused = 1;
	return 1;
}

/*
 * The service class (enum cg_cip_class) of a request that carries no
 * other: service `svc` on object class `cls` (CG_CIP_CLASS_NONE: the path
 * names none; `seg0`: the path's first segment byte). 0x52 off the
 * connection manager is Read Tag Fragmented, on a tag (a symbolic path)
 * or a named class; 0x4E is Forward_Close on class 6, else
 * Read-Modify-Write.
 */
static __always_inline __u32 cip_class(__u32 svc, __u32 cls, __u32 seg0)
{
	switch (svc) {
	case 0x01:
	case 0x03:
	case 0x0E:
	case 0x55:
	case 0x4C:
		return CG_CIP_READ;
	case 0x52:
		return cls != CG_CIP_CLASS_NONE || seg0 == 0x91 ? CG_CIP_READ
								: CG_CIP_OTHER;
	case 0x54:
	case 0x5B:
		return cls == 0x06 ? CG_CIP_CONNECTION : CG_CIP_OTHER;
	case 0x4E:
		return cls == 0x06 ? CG_CIP_CONNECTION : CG_CIP_WRITE;
	case 0x02:
	case 0x04:
	case 0x08:
	case 0x09:
	case 0x0D:
	case 0x10:
	case 0x4D:
	case 0x53:
		return CG_CIP_WRITE;
	case 0x05:
	case 0x06:
	case 0x07:
		return CG_CIP_CONTROL;
	}
	return CG_CIP_OTHER;
}

/*
 * Does one of the flow's `allow:` rules (ics_allow[first, first + n))
 * match service `svc` of class `ec` on object class `cls`? 1 if so.
 * A global function: the verifier checks its two nested loops once,
 * instead of once for every state of the request walk that calls it
 * (which was half of the program's verification, and so of every apply).
 */
__noinline int cg_cip_rules_match(__u32 first, __u32 n, __u32 svc, __u32 ec,
				  __u32 cls)
{
	const struct cg_ics_allow_rule *r;
	__u32 idx;
	int k, j;

	for (k = 0; k < CG_ICS_ALLOW_MAX; k++) {
		if (k >= n)
			break;
		idx = first + k;
		r = bpf_map_lookup_elem(&ics_allow, &idx);
		if (!r)
			break;
		if (!bit_set(r->codes, svc & 0xff) &&
		    !(ec < 32 && (r->flags & (1u << ec))))
			continue;
		if (!r->n_ranges)
			return 1;
		if (cls == CG_CIP_CLASS_NONE)
			continue;
		for (j = 0; j < CG_ICS_ALLOW_RANGES; j++) {
			if (j >= r->n_ranges)
				break;
			if (r->ranges[j].lo <= cls && cls <= r->ranges[j].hi)
				return 1;
		}
	}
	return 0;
}

/*
 * One queued CIP request (a bpf_loop callback over the queue, which grows
 * while it is walked): service, path size in 16-bit words, path, data.
 * The class is the path's first segment when that is a logical class
 * segment (0x20: 8-bit, 0x21: pad byte and 16-bit), else unknown.
 * Responses (bit 7 of the service) pass. Unconnected_Send (0x52 on class
 * 0x06: priority/tick, timeout ticks, message size, then the request)
 * and Multiple_Service_Packet (0x0A: a count, then as many offsets from
 * the count field, strictly increasing, each request running to the next
 * offset or the end) queue what they carry, one level deeper. 0x52 on
 * any other class is Read Tag Fragmented, and with no class in the path
 * only when the path is a symbolic (0x91) tag name.
 */
static long cip_req_step(__u64 i, void *data)
{
	struct cg_enip_scratch *s = *(struct cg_enip_scratch **)data;
	__u32 off, n, depth, svc, ps, seg0 = 0, cls = CG_CIP_CLASS_NONE, dat,
				      dlen, ec;
	__u32 cnt, o, nx, msz;
	int j;

	if (i >= s->n || i >= CG_ENIP_MAX_REQS)
		return 1;
	off = s->q_off[i & (CG_ENIP_MAX_REQS - 1)];
	n = s->q_len[i & (CG_ENIP_MAX_REQS - 1)];
	depth = s->q_depth[i & (CG_ENIP_MAX_REQS - 1)];
	s->function = CG_FUNC_NONE;
	if (n < 2)
		goto refuse;
	svc = eb8(s, off);
	ps = eb8(s, off + 1);
	s->function = svc;
	if (2 + 2 * ps > n)
		goto refuse;
	if (svc & 0x80)
		return 0;
	if (ps >= 1) {
		seg0 = eb8(s, off + 2);
		if (seg0 == 0x20)
			cls = eb8(s, off + 3);
		else if (seg0 == 0x21 && ps >= 2)
			cls = eb16(s, off + 4);
	}
	dat = off + 2 + 2 * ps;
	dlen = n - 2 - 2 * ps;
	if (svc == 0x52 && cls == 0x06) {
		/* Unconnected_Send: judge the request it carries. */
		if (depth >= CG_ENIP_MAX_DEPTH || dlen < 4)
			goto refuse;
		msz = eb16(s, dat + 2);
		if (msz > dlen - 4 || !enip_queue(s, dat + 4, msz, depth + 1))
			goto refuse;
		return 0;
	}
	if (svc == 0x0A) {
		/* Multiple_Service_Packet: every request in it. */
		if (depth >= CG_ENIP_MAX_DEPTH || dlen < 2)
			goto refuse;
		cnt = eb16(s, dat);
		if (cnt > CG_ENIP_MAX_MSP || 2 + 2 * cnt > dlen)
			goto refuse;
		for (j = 0; j < CG_ENIP_MAX_MSP; j++) {
			if (j >= cnt)
				break;
			o = eb16(s, dat + 2 + 2 * j);
			nx = j + 1 < cnt ? eb16(s, dat + 4 + 2 * j) : dlen;
			if (o < 2 + 2 * cnt || o >= nx || nx > dlen ||
			    !enip_queue(s, dat + o, nx - o, depth + 1))
				goto refuse;
		}
		return 0;
	}
	/* A request that carries none: read-only admits the classes read and
	 * connection; rules, the services and classes they name. */
	ec = cip_class(svc, cls, seg0);
	if (s->mode == CG_ICS_RULES
		    ? cg_cip_rules_match(s->allow_first, s->allow_n, svc,
					  ec, cls)
		    : ec == CG_CIP_READ || ec == CG_CIP_CONNECTION)
		return 0;
refuse:
	s->refused = 1;
	return 1;
}

/*
 * The request in the TCP payload [off, end) of a flow with `enip:`
 * (mode: CG_ICS_FRAMING, CG_ICS_FUNCTIONS for read-only, or CG_ICS_RULES
 * with `allow` = first rule << 8 | number of rules). Returns the function an
 * event names (the CIP service judged last, CG_FUNC_NONE when none), with
 * CG_ENIP_REFUSED set when the request is refused.
 */
__noinline int cg_enip_refused(struct xdp_md *ctx, __u32 off, __u32 end,
			       __u32 mode, __u32 allow)
{
	struct cg_enip_scratch *s;
	__u32 zero = 0;
	__u64 len;

	s = bpf_map_lookup_elem(&enip_buf, &zero);
	if (!s || !ctx)
		return CG_ENIP_REFUSED | CG_FUNC_NONE;
	len = end - off;
	asm volatile("%[n] &= 0x1fff" : [n] "+r"(len));
	if (end <= off || end - off > CG_ENIP_BUF || len == 0 ||
	    len > CG_ENIP_BUF)
		return CG_ENIP_REFUSED | CG_FUNC_NONE;
	if (bpf_xdp_load_bytes(ctx, off, s->b, len))
		return CG_ENIP_REFUSED | CG_FUNC_NONE;
	s->len = len;
	s->pos = 0;
	s->n = 0;
	s->refused = 0;
	s->done = 0;
	s->mode = mode;
	s->function = CG_FUNC_NONE;
	s->allow_first = allow >> 8;
	s->allow_n = allow & 0xff;
	bpf_loop(CG_ENIP_MAX_PDUS, enip_pdu_step, &s, 0);
	if (s->refused || !s->done)
		return CG_ENIP_REFUSED | CG_FUNC_NONE;
	bpf_loop(CG_ENIP_MAX_REQS, cip_req_step, &s, 0);
	return (s->refused ? CG_ENIP_REFUSED : 0) | s->function;
}

#endif /* CRANEGATE_BPF_ENIP_H */
