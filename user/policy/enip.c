// SPDX-License-Identifier: GPL-2.0
/*
 * EtherNet/IP encapsulation (ODVA CIP Vol. 2, ch. 2: a 24-byte little
 * endian header - command, length, session handle, status, sender
 * context, options - then `length` bytes) and the CIP requests that
 * SendRRData and SendUnitData carry in their Common Packet Format (Vol.
 * 2, 2-6: interface handle, timeout, item count, items of type, length
 * and data), judged as cranegate-policy(5) says.
 *
 * A segment's payload must be whole encapsulation packets. Under
 * read-only the CIP requests are judged in the order of a queue: first
 * the requests of the packets, in order, then what each Unconnected_Send
 * and Multiple_Service_Packet carries, appended as they are judged; the
 * event names the service judged last (the refused one on a refusal).
 */
#include <stdio.h>
#include <string.h>

#include "cranegate.h"
#include "enip.h"
#include "modbus_rules.h"

const char *const cg_cip_class_names[CG_CIP_CLASSES] = {
	[CG_CIP_READ] = "read",	      [CG_CIP_WRITE] = "write",
	[CG_CIP_CONTROL] = "control", [CG_CIP_CONNECTION] = "connection",
	[CG_CIP_OTHER] = "other",
};

enum cg_cip_class cg_cip_class_of(uint8_t svc, long cls, bool symbolic)
{
	switch (svc) {
	case 0x01: /* Get_Attributes_All */
	case 0x03: /* Get_Attribute_List */
	case 0x0E: /* Get_Attribute_Single */
	case 0x55: /* Get_Instance_Attribute_List */
	case 0x4C: /* Read Tag */
		return CG_CIP_READ;
	case 0x52: /* Read Tag Fragmented (Unconnected_Send on class 6) */
		return cls >= 0 || symbolic ? CG_CIP_READ : CG_CIP_OTHER;
	case 0x54: /* Forward_Open */
	case 0x5B: /* Large_Forward_Open */
		return cls == 0x06 ? CG_CIP_CONNECTION : CG_CIP_OTHER;
	case 0x4E: /* Forward_Close; Read-Modify-Write on other objects */
		return cls == 0x06 ? CG_CIP_CONNECTION : CG_CIP_WRITE;
	case 0x02: /* Set_Attributes_All */
	case 0x04: /* Set_Attribute_List */
	case 0x08: /* Create */
	case 0x09: /* Delete */
	case 0x0D: /* Apply_Attributes */
	case 0x10: /* Set_Attribute_Single */
	case 0x4D: /* Write Tag */
	case 0x53: /* Write Tag Fragmented */
		return CG_CIP_WRITE;
	case 0x05: /* Reset */
	case 0x06: /* Start */
	case 0x07: /* Stop */
		return CG_CIP_CONTROL;
	}
	return CG_CIP_OTHER;
}

void cg_enip_allow_text(const struct cg_ics_allow *a, char *buf, size_t len)
{
	size_t n = 0, k;
	const char *sep = "";

#define PUT(...)                                                               \
	do {                                                                   \
		int w_ =                                                       \
			snprintf(buf + n, n < len ? len - n : 0, __VA_ARGS__); \
		if (w_ > 0)                                                    \
			n += (size_t)w_;                                       \
	} while (0)
	if (!len)
		return;
	buf[0] = 0;
	PUT("services: [");
	for (k = 0; k < CG_CIP_CLASSES; k++)
		if (a->classes & (1u << k)) {
			PUT("%s%s", sep, cg_cip_class_names[k]);
			sep = ", ";
		}
	for (k = 0; k < 256; k++)
		if (cg_bit(a->named, (unsigned int)k)) {
			PUT("%s0x%02X", sep, (unsigned int)k);
			sep = ", ";
		}
	PUT("]");
	if (a->n_ranges) {
		PUT(", classes: [");
		for (k = 0; k < a->n_ranges; k++)
			PUT("%s0x%02X", k ? ", " : "", a->ranges[k].lo);
		PUT("]");
	}
#undef PUT
}

/* Does rule `a` match service `svc` on object class `cls` (-1: none)? */
static bool rule_matches(const struct cg_ics_allow *a, uint8_t svc, long cls,
			 bool symbolic)
{
	enum cg_cip_class ec = cg_cip_class_of(svc, cls, symbolic);
	size_t j;

	if (!cg_bit(a->named, svc) && !(a->classes & (1u << ec)))
		return false;
	if (!a->n_ranges)
		return true;
	for (j = 0; j < a->n_ranges && cls >= 0; j++)
		if (a->ranges[j].lo <= cls && cls <= a->ranges[j].hi)
			return true;
	return false;
}

/*
 * Does rule `b` match every request rule `a` matches? The requests are
 * every service on every object class `a` names, or, when it names none,
 * on the connection manager, another class, a tag and a path with
 * neither (the only cases in which a service's class differs).
 */
static bool enip_covered(const struct cg_ics_allow *a,
			 const struct cg_ics_allow *b)
{
	static const struct {
		long cls;
		bool symbolic;
	} any[] = {{0x06, false}, {0x01, false}, {-1, true}, {-1, false}};
	unsigned int svc;
	size_t k;

	for (svc = 0; svc < 256; svc++) {
		if (a->n_ranges) {
			for (k = 0; k < a->n_ranges; k++)
				if (rule_matches(a, (uint8_t)svc,
						 a->ranges[k].lo, false) &&
				    !rule_matches(b, (uint8_t)svc,
						  a->ranges[k].lo, false))
					return false;
			continue;
		}
		for (k = 0; k < sizeof(any) / sizeof(any[0]); k++)
			if (rule_matches(a, (uint8_t)svc, any[k].cls,
					 any[k].symbolic) &&
			    !rule_matches(b, (uint8_t)svc, any[k].cls,
					  any[k].symbolic))
				return false;
	}
	return true;
}

void cg_lint_enip(const struct cg_policy *p, struct cg_diags *d)
{
	size_t f, i, j;

	for (f = 0; f < p->n_flows; f++) {
		const struct cg_ics *m = &p->flows[f].enip;

		if (m->mode != CG_ICS_ALLOW)
			continue;
		for (j = 0; j < m->n_allow; j++)
			for (i = 0; i < j; i++) {
				if (!enip_covered(&m->allow[j], &m->allow[i]))
					continue;
				cg_diag_add(d, CG_WARNING, m->allow[j].pos,
					    "enip rule %zu of flow '%s' is "
					    "shadowed by rule %zu (line %d), "
					    "which matches every request it "
					    "matches; it never decides a "
					    "request",
					    j + 1, p->flows[f].name, i + 1,
					    m->allow[i].pos.line);
				break;
			}
	}
}

/* Does one of the rules match service `svc` of class `ec` on `cls`? */
static bool rules_match(const struct cg_ics *rule, uint8_t svc,
			enum cg_cip_class ec, long cls)
{
	size_t i, j;

	for (i = 0; i < rule->n_allow; i++) {
		const struct cg_ics_allow *a = &rule->allow[i];

		if (!cg_bit(a->named, svc) && !(a->classes & (1u << ec)))
			continue;
		if (!a->n_ranges)
			return true;
		for (j = 0; j < a->n_ranges && cls >= 0; j++)
			if (a->ranges[j].lo <= cls && cls <= a->ranges[j].hi)
				return true;
	}
	return false;
}

static unsigned le16(const uint8_t *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

bool cg_enip_command_read(uint16_t cmd)
{
	switch (cmd) {
	case 0x0004: /* ListServices */
	case 0x0063: /* ListIdentity */
	case 0x0064: /* ListInterfaces */
	case 0x0065: /* RegisterSession */
	case 0x0066: /* UnRegisterSession */
	case 0x006F: /* SendRRData */
	case 0x0070: /* SendUnitData */
		return true;
	}
	return false;
}

/* A CIP request to judge: where in the payload, and how deep it nests. */
struct cip_req {
	size_t off, len;
	unsigned depth;
};

struct walk {
	const struct cg_ics *rule;
	const uint8_t *p;
	struct cip_req q[CG_ENIP_MAX_REQS];
	size_t n;
};

static bool push(struct walk *w, size_t off, size_t len, unsigned depth)
{
	if (w->n == CG_ENIP_MAX_REQS)
		return false;
	w->q[w->n++] = (struct cip_req){off, len, depth};
	return true;
}

/*
 * The Common Packet Format of a SendRRData / SendUnitData whose data
 * (after the 24-byte header) is p[d, end): interface handle (4), timeout
 * (2), item count, then items that end exactly at `end`; address items
 * (null, connected address, sequenced address, socket address info) and
 * exactly one data item, unconnected (0xB2: the request) or connected
 * (0xB1: a 2-byte sequence count, then the request), whose request is
 * queued.
 */
static bool cpf_request(struct walk *w, size_t d, size_t end)
{
	size_t it = d + 8, cnt, k, il, req = 0, rlen = 0;
	bool found = false;

	if (end - d < 8)
		return false;
	cnt = le16(w->p + d + 6);
	if (cnt > CG_ENIP_MAX_ITEMS)
		return false;
	for (k = 0; k < cnt; k++) {
		unsigned type;

		if (end - it < 4)
			return false;
		type = le16(w->p + it);
		il = le16(w->p + it + 2);
		if (il > end - it - 4)
			return false;
		switch (type) {
		case 0x00B2:
		case 0x00B1:
			if (found || (type == 0x00B1 && il < 2))
				return false;
			found = true;
			req = it + 4 + (type == 0x00B1 ? 2 : 0);
			rlen = il - (type == 0x00B1 ? 2 : 0);
			break;
		case 0x0000:
		case 0x00A1:
		case 0x8000:
		case 0x8001:
		case 0x8002:
			break;
		default:
			return false;
		}
		it += 4 + il;
	}
	return it == end && found && push(w, req, rlen, 0);
}

/*
 * One CIP request: service, path size in words, path, data. Returns
 * whether read-only admits it, queueing what an Unconnected_Send or a
 * Multiple_Service_Packet carries (each judged later, on its own).
 */
static bool cip_request(struct walk *w, const struct cip_req *r,
			uint16_t *function)
{
	const uint8_t *m = w->p + r->off;
	size_t words, dat, dlen, cnt, j;
	enum cg_cip_class ec;
	long cls = -1;
	uint8_t svc;

	*function = CG_FUNC_NONE;
	if (r->len < 2)
		return false;
	svc = m[0];
	words = m[1];
	*function = svc;
	if (2 + 2 * words > r->len)
		return false;
	if (svc & 0x80) /* a response */
		return true;
	if (words >= 1 && m[2] == 0x20)
		cls = m[3];
	else if (words >= 2 && m[2] == 0x21)
		cls = (long)le16(m + 4);
	dat = r->off + 2 + 2 * words;
	dlen = r->len - 2 - 2 * words;
	switch (svc) {
	case 0x52:
		if (cls != 0x06)
			break; /* Read Tag Fragmented */
		/* Unconnected_Send: priority/tick, timeout ticks, size. */
		if (r->depth >= CG_ENIP_MAX_DEPTH || dlen < 4)
			return false;
		cnt = le16(w->p + dat + 2);
		return cnt <= dlen - 4 && push(w, dat + 4, cnt, r->depth + 1);
	case 0x0A: /* Multiple_Service_Packet */
		if (r->depth >= CG_ENIP_MAX_DEPTH || dlen < 2)
			return false;
		cnt = le16(w->p + dat);
		if (cnt > CG_ENIP_MAX_MSP || 2 + 2 * cnt > dlen)
			return false;
		for (j = 0; j < cnt; j++) {
			size_t o = le16(w->p + dat + 2 + 2 * j);
			size_t nx = j + 1 < cnt ? le16(w->p + dat + 4 + 2 * j)
						: dlen;

			if (o < 2 + 2 * cnt || o >= nx || nx > dlen ||
			    !push(w, dat + o, nx - o, r->depth + 1))
				return false;
		}
		return true;
	}
	/* A request that carries none: read-only admits the classes read
	 * and connection; allow:, what one of its rules names. */
	ec = cg_cip_class_of(svc, cls, words >= 1 && m[2] == 0x91);
	if (w->rule->mode == CG_ICS_ALLOW)
		return rules_match(w->rule, svc, ec, cls);
	return ec == CG_CIP_READ || ec == CG_CIP_CONNECTION;
}

bool cg_enip_allows(const struct cg_ics *rule, const uint8_t *p, size_t len,
		    uint16_t *function)
{
	bool read_only = rule->mode != CG_ICS_ANY;
	struct walk w = {.rule = rule, .p = p};
	size_t off = 0, i;
	int pdus = 0;

	*function = CG_FUNC_NONE;
	if (len > CG_ENIP_MAX_PAYLOAD)
		return false;
	while (off < len) {
		size_t plen, end;
		unsigned cmd;

		if (pdus++ == CG_ENIP_MAX_PDUS || len - off < CG_ENIP_HDR)
			return false;
		cmd = le16(p + off);
		plen = le16(p + off + 2);
		if (plen > len - off - CG_ENIP_HDR)
			return false;
		end = off + CG_ENIP_HDR + plen;
		if (read_only) {
			if (!cg_enip_command_read((uint16_t)cmd))
				return false;
			if ((cmd == 0x006F || cmd == 0x0070) &&
			    !cpf_request(&w, off + CG_ENIP_HDR, end))
				return false;
		}
		off = end;
	}
	if (len == 0)
		return false;
	/* The queue grows while it is walked, up to CG_ENIP_MAX_REQS. */
	for (i = 0; i < w.n; i++)
		if (!cip_request(&w, &w.q[i], function))
			return false;
	return true;
}
