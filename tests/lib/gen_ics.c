// SPDX-License-Identifier: GPL-2.0
/* ICS payloads (Modbus, S7comm, EtherNet/IP) of the generator, and
 * its mutations of frames (gen.h). */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gen.h"
#include "gen_int.h"
#include "cip.h"
#include "ics.h"

/* ---- ICS payloads -------------------------------------------------- */

static void lie16(struct cg_rng *r, uint8_t *p);

/* A Modbus function code, weighted toward what the rules tell apart. */
static uint8_t pick_modbus_fc(struct cg_rng *r, uint8_t *mei)
{
	static const uint8_t reads[] = {1, 2, 3, 4};
	static const uint8_t other_reads[] = {7, 11, 12, 17, 20, 24};
	static const uint8_t writes[] = {5, 6, 15, 16, 22, 23};
	static const uint8_t other[] = {8, 21, 90, 125, 126, 0,
					9, 13, 14, 40,	65,  100};
	static const uint8_t meis[] = {13, 0, 15, 255};
	uint32_t k = cg_rng_below(r, 100);

	*mei = 14;
	if (k < 35)
		return PICK(r, reads);
	if (k < 45)
		return PICK(r, other_reads);
	if (k < 53)
		return 43;
	if (k < 58) {
		*mei = PICK(r, meis);
		return 43;
	}
	if (k < 78)
		return PICK(r, writes);
	if (k < 88)
		return PICK(r, other);
	if (k < 94)
		return (uint8_t)(0x80 |
				 cg_rng_below(r, 128)); /* exception-like */
	return (uint8_t)cg_rng_below(r, 256);
}

/*
 * A request with addresses for `allow:` rules: a start near the edges of
 * the rules' ranges, a quantity at or just past the protocol's limits or
 * small, and a byte count that is right (mostly) or off by one.
 */
static size_t gen_modbus_addr(struct cg_rng *r, uint8_t *buf, size_t cap,
			      uint16_t tid, uint8_t unit)
{
	static const uint8_t fcs[] = {1, 2, 3, 4, 5, 6, 15, 16, 22, 23};
	static const uint16_t qtys[] = {1,   2,	   10,	 20,   0,    125,
					126, 2000, 2001, 1968, 1969, 123,
					124, 121,  122,	 4,    11,   8};
	uint8_t fc = PICK(r, fcs), bc;
	uint16_t start = PICK(r, modbus_edges), start2 = PICK(r, modbus_edges);
	uint16_t qty = cg_rng_pct(r, 50) ? (uint16_t)rng_range(r, 1, 12)
					 : PICK(r, qtys);
	uint16_t qty2 = cg_rng_pct(r, 60) ? (uint16_t)rng_range(r, 1, 12)
					  : PICK(r, qtys);
	size_t n_data;

	if (cg_rng_pct(r, 45) && start >= qty)
		start = (uint16_t)(start - qty + 1); /* ends on the edge */
	bc = cg_modbus_byte_count(fc, qty, qty2);
	n_data = bc;
	if (cg_rng_pct(r, 8))
		bc = (uint8_t)(bc + (cg_rng_pct(r, 50) ? 1 : -1));
	if (cg_rng_pct(r, 6))
		n_data = n_data + (cg_rng_pct(r, 50) ? 1 : -1);
	if (n_data > 300)
		n_data = 0;
	return cg_modbus_addr_request(buf, cap, tid, unit, fc, start, qty,
				      start2, qty2, bc, n_data);
}

/*
 * Modbus ADUs, one mostly, sometimes a few, sometimes around the limit of
 * 8; their offsets go into units[].
 */
static size_t gen_modbus(struct cg_rng *r, bool request, uint8_t *buf,
			 size_t cap, size_t *units, size_t *n_units)
{
	size_t off = 0, n, i, w;
	uint8_t fc, mei;

	n = cg_rng_pct(r, 72)	? 1
	    : cg_rng_pct(r, 65) ? rng_range(r, 2, 4)
				: rng_range(r, 7, 9);
	for (i = 0; i < n; i++) {
		uint16_t tid = (uint16_t)cg_rng_below(r, 65536);
		uint8_t unit = cg_rng_pct(r, 70) ? 1 : (uint8_t)cg_rng_next(r);

		fc = pick_modbus_fc(r, &mei);
		if (request && cg_rng_pct(r, 55))
			w = gen_modbus_addr(r, buf + off, cap - off, tid, unit);
		else if (request)
			w = cg_modbus_request(buf + off, cap - off, tid, unit,
					      fc, mei);
		else
			w = cg_modbus_response(buf + off, cap - off, tid, unit,
					       fc, cg_rng_pct(r, 20));
		if (!w)
			break;
		units[(*n_units)++] = off;
		off += w;
	}
	return off;
}

/* One TPKT of an S7 conversation, from the client or from the PLC. */
static size_t gen_s7_unit(struct cg_rng *r, bool request, uint8_t *buf,
			  size_t cap)
{
	static const uint8_t reads[] = {0x04, 0xf0};
	static const uint8_t changes[] = {0x05, 0x1a, 0x1b, 0x1c, 0x1d,
					  0x1e, 0x1f, 0x28, 0x29};
	static const uint8_t cotp_other[] = {0x10, 0x20, 0x50,
					     0x60, 0x70, 0x00};
	static const uint8_t protos[] = {0x00, 0x31, 0x33, 0xff, 0x72, 0x32};
	uint16_t ref = (uint16_t)cg_rng_below(r, 65536);
	uint32_t k = cg_rng_below(r, 100);
	uint8_t func, group, type;

	if (!request) {
		if (k < 50)
			return cg_s7_ack_data(buf, cap, ref, PICK(r, reads));
		if (k < 70)
			return cg_cotp_tpdu(buf, cap, CG_COTP_CC);
		if (k < 85)
			return cg_s7_userdata(buf, cap, ref, CG_S7_UD_RESPONSE,
					      4, 1);
		if (k < 95)
			return cg_s7_pdu(buf, cap, CG_S7_PROTO, CG_S7_ACK, ref,
					 NULL, 0, NULL, 0);
		return cg_cotp_tpdu(buf, cap, CG_COTP_DC);
	}
	if (k < 10)
		return cg_cotp_tpdu(buf, cap, CG_COTP_CR);
	if (k < 13)
		return cg_cotp_tpdu(buf, cap, CG_COTP_CC);
	if (k < 16)
		return cg_cotp_tpdu(buf, cap, CG_COTP_DR);
	if (k < 19)
		return cg_cotp_tpdu(buf, cap, CG_COTP_DC);
	if (k < 22)
		return cg_cotp_tpdu(buf, cap, PICK(r, cotp_other));
	if (k < 30) {
		/*
		 * Parameters as short as the rules allow: a job's function
		 * byte, a userdata PDU's byte 5, and a few bytes either side.
		 */
		uint8_t param[12] = {0}, data[4] = {0};
		bool ud = cg_rng_pct(r, 40);
		size_t plen = ud ? rng_range(r, 4, 9) : rng_range(r, 0, 9);

		if (ud) {
			param[1] = 0x01;
			param[2] = 0x12;
			param[3] = 4;
			param[4] = 0x11;
			param[5] = (uint8_t)(CG_S7_UD_REQUEST << 4 |
					     rng_range(r, 2, 5));
		} else {
			param[0] = cg_rng_pct(r, 60) ? PICK(r, reads)
						     : PICK(r, changes);
		}
		return cg_s7_pdu(buf, cap, CG_S7_PROTO,
				 ud ? CG_S7_USERDATA : CG_S7_JOB, ref, param,
				 plen, data, cg_rng_below(r, 5));
	}
	if (k < 75) {
		uint32_t f = cg_rng_below(r, 100);

		func = f < 40	? PICK(r, reads)
		       : f < 85 ? PICK(r, changes)
				: (uint8_t)cg_rng_below(r, 256);
		return cg_s7_job(buf, cap, ref, func);
	}
	if (k < 88) {
		type = cg_rng_pct(r, 80)   ? CG_S7_UD_REQUEST
		       : cg_rng_pct(r, 50) ? CG_S7_UD_PUSH
					   : CG_S7_UD_RESPONSE;
		group = cg_rng_pct(r, 90) ? (uint8_t)rng_range(r, 1, 7)
					  : (uint8_t)cg_rng_below(r, 16);
		return cg_s7_userdata(buf, cap, ref, type, group,
				      cg_rng_pct(r, 80) ? 1 : 2);
	}
	if (k < 92)
		return cg_s7_ack_data(buf, cap, ref, PICK(r, reads));
	if (k < 97)
		return cg_s7plus(buf, cap, 0x31);
	{
		/* A job under another protocol id. */
		uint8_t param[2] = {PICK(r, reads), 0};

		return cg_s7_pdu(buf, cap, PICK(r, protos), CG_S7_JOB, ref,
				 param, 2, NULL, 0);
	}
}

/* TPKTs: mostly one, sometimes a few, sometimes past the limit of 4. */
static size_t gen_s7(struct cg_rng *r, bool request, uint8_t *buf, size_t cap,
		     size_t *units, size_t *n_units)
{
	size_t off = 0, n, i, w;

	n = cg_rng_pct(r, 78)	? 1
	    : cg_rng_pct(r, 64) ? rng_range(r, 2, 3)
				: rng_range(r, 4, 5);
	for (i = 0; i < n; i++) {
		w = gen_s7_unit(r, request, buf + off, cap - off);
		if (!w)
			break;
		units[(*n_units)++] = off;
		off += w;
	}
	return off;
}

/*
 * A CIP request for EtherNet/IP conversations: services read-only admits
 * and those it refuses, on the connection manager, the message router,
 * other objects and tags; Unconnected_Sends and Multiple_Service_Packets
 * nest up to three deep (one past the bound); responses now and then.
 */
static size_t gen_cip(struct cg_rng *r, int depth, uint8_t *buf, size_t cap)
{
	static const uint8_t svcs[] = {0x01, 0x03, 0x0e, 0x55, 0x4c, 0x52,
				       0x54, 0x5b, 0x4e, 0x0a, 0x02, 0x04,
				       0x10, 0x05, 0x06, 0x07, 0x4d, 0x53,
				       0x08, 0x09, 0x0d, 0x4b, 0xcc, 0x00};
	static const int classes[] = {0x06, 0x06, 0x02,	 0x01,
				      0x6b, 0x8e, 0x300, CG_CIP_NO_CLASS,
				      -2,   -2};
	uint8_t inner[GEN_PAYLOAD_MAX], data[8];
	uint8_t svc = cg_rng_pct(r, 95) ? PICK(r, svcs)
					: (uint8_t)cg_rng_below(r, 256);
	int cls = PICK(r, classes);
	size_t n, i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)cg_rng_below(r, 4);
	if (svc == 0x52 && cls == 0x06 && depth < 3 && cg_rng_pct(r, 80)) {
		n = gen_cip(r, depth + 1, inner, cap > 64 ? cap - 64 : 0);
		return n ? cg_cip_unconnected_send(buf, cap, inner, n) : 0;
	}
	if (svc == 0x0a && depth < 3 && cg_rng_pct(r, 80)) {
		uint8_t reqs[3][GEN_PAYLOAD_MAX / 4];
		const uint8_t *rp[3];
		size_t lens[3], k = rng_range(r, 0, 3);

		for (i = 0; i < k; i++) {
			lens[i] =
				gen_cip(r, depth + 1, reqs[i], sizeof(reqs[i]));
			rp[i] = reqs[i];
		}
		return cg_cip_msp(buf, cap, rp, lens, k);
	}
	if (cls == -2)
		return cg_cip_tag_request(buf, cap, svc, "Boom_Angle", data,
					  cg_rng_below(r, 8));
	return cg_cip_request(buf, cap, svc, cls, data, cg_rng_below(r, 8));
}

/* One encapsulation packet: mostly SendRRData / SendUnitData. */
static size_t gen_enip_unit(struct cg_rng *r, bool request, uint8_t *buf,
			    size_t cap)
{
	static const uint16_t cmds[] = {0x0004, 0x0063, 0x0064, 0x0065, 0x0066,
					0x0000, 0x0072, 0x0073, 0x00c8, 0x0001};
	uint8_t cip[GEN_PAYLOAD_MAX], d[4] = {1, 0, 0, 0};
	uint32_t k = cg_rng_below(r, 100);
	size_t n;

	if (k < 15)
		return cg_enip_encap(buf, cap, PICK(r, cmds), 1, d,
				     cg_rng_below(r, 5));
	if (request) {
		n = gen_cip(r, 0, cip, cap > 64 ? cap - 64 : 0);
	} else {
		cip[0] = (uint8_t)(0x80 | PICK(r, ((const uint8_t[]){0x4c, 0x4d,
								     0x01})));
		cip[1] = 0;
		cip[2] = 0;
		cip[3] = 0;
		n = 4;
	}
	if (!n)
		return 0;
	return k < 70 ? cg_enip_rr(buf, cap, cip, n)
		      : cg_enip_unit(buf, cap, (uint16_t)k, cip, n);
}

/* Encapsulation packets: mostly one, sometimes past the limit of 4. */
static size_t gen_enip(struct cg_rng *r, bool request, uint8_t *buf, size_t cap,
		       size_t *units, size_t *n_units)
{
	size_t off = 0, n, i, w;

	n = cg_rng_pct(r, 80) ? 1 : rng_range(r, 2, 5);
	for (i = 0; i < n; i++) {
		w = gen_enip_unit(r, request, buf + off, cap - off);
		if (!w)
			break;
		units[(*n_units)++] = off;
		off += w;
	}
	return off;
}

/*
 * Make one ICS unit's framing lie: the MBAP length or protocol id; the
 * TPKT version or length, the COTP length indicator, the S7 protocol id,
 * parameter or data length; or cut the payload short, or add bytes.
 */
static void ics_mutate(struct cg_rng *r, enum gen_ics kind, uint8_t *buf,
		       size_t *len, const size_t *units, size_t n_units,
		       char *what, size_t what_size)
{
	size_t u = n_units ? units[cg_rng_below(r, (uint32_t)n_units)] : 0;
	size_t n = strlen(what), li;
	uint32_t k = cg_rng_below(r, 100);
	const char *did;

	if (k < 20 || u + 10 > *len) {
		*len = cg_rng_below(r, (uint32_t)*len);
		did = "cut short";
	} else if (k < 28) {
		size_t extra = rng_range(r, 1, 8), i;

		for (i = 0; i < extra && *len < GEN_PAYLOAD_MAX; i++)
			buf[(*len)++] = (uint8_t)cg_rng_next(r);
		did = "bytes added";
	} else if (kind == GEN_ICS_ENIP) {
		if (k < 55) {
			buf[u + cg_rng_below(r, (uint32_t)(*len - u))] =
				(uint8_t)cg_rng_next(r);
			did = "a byte changed";
		} else if (k < 80) {
			buf[u + 2] = (uint8_t)(buf[u + 2] +
					       (int)rng_range(r, 0, 8) - 4);
			did = "encapsulation length lies";
		} else {
			size_t at = u + 24 + 6 + cg_rng_below(r, 12);

			if (at < *len)
				buf[at] =
					(uint8_t)(buf[at] +
						  (int)rng_range(r, 0, 4) - 2);
			did = "CPF count or item length lies";
		}
	} else if (kind == GEN_ICS_MODBUS) {
		if (k < 70) {
			lie16(r, buf + u + 4);
			did = "MBAP length lies";
		} else if (k < 85) {
			buf[u + 2 + cg_rng_below(r, 2)] =
				(uint8_t)rng_range(r, 1, 255);
			did = "MBAP protocol id";
		} else {
			buf[u + 4] = 0;
			buf[u + 5] = (uint8_t)cg_rng_below(r, 2);
			did = "MBAP length 0 or 1";
		}
	} else {
		li = buf[u + 4];
		if (k < 45) {
			lie16(r, buf + u + 2);
			did = "TPKT length lies";
		} else if (k < 52) {
			buf[u] = (uint8_t)cg_rng_below(r, 8);
			did = "TPKT version";
		} else if (k < 68) {
			buf[u + 4] = cg_rng_pct(r, 30) ? 0
				     : cg_rng_pct(r, 50)
					     ? (uint8_t)(li + 1)
					     : (uint8_t)cg_rng_next(r);
			did = "COTP length indicator";
		} else if (u + 5 + li + 10 <= *len && k < 80) {
			lie16(r, buf + u + 5 + li + 6);
			did = "S7 parameter length lies";
		} else if (u + 5 + li + 10 <= *len && k < 92) {
			lie16(r, buf + u + 5 + li + 8);
			did = "S7 data length lies";
		} else if (u + 5 + li < *len) {
			buf[u + 5 + li] = (uint8_t)cg_rng_next(r);
			did = "S7 protocol id";
		} else {
			*len = cg_rng_below(r, (uint32_t)*len);
			did = "cut short";
		}
	}
	if (n < what_size)
		snprintf(what + n, what_size - n, ", %s", did);
}

/*
 * An ICS payload of `kind`: requests or responses, valid mostly, with a
 * share of lying framings. Returns its length.
 */
size_t ics_payload(struct cg_rng *r, enum gen_ics kind, bool request,
		   uint8_t *buf, char *what, size_t what_size)
{
	size_t units[16], n_units = 0, len;

	if (kind == GEN_ICS_MODBUS)
		len = gen_modbus(r, request, buf, GEN_PAYLOAD_MAX, units,
				 &n_units);
	else if (kind == GEN_ICS_ENIP)
		len = gen_enip(r, request, buf, GEN_PAYLOAD_MAX, units,
			       &n_units);
	else
		len = gen_s7(r, request, buf, GEN_PAYLOAD_MAX, units, &n_units);
	snprintf(what, what_size, "%s %s, %zu unit%s",
		 kind == GEN_ICS_MODBUS ? "modbus"
		 : kind == GEN_ICS_ENIP ? "enip"
					: "s7comm",
		 request ? "request" : "response", n_units,
		 n_units == 1 ? "" : "s");
	if (len && cg_rng_pct(r, 22))
		ics_mutate(r, kind, buf, &len, units, n_units, what, what_size);
	return len;
}

bool gen_flow_has_ics(const struct cg_flow *fl)
{
	return fl->modbus.mode != CG_ICS_NONE ||
	       fl->s7comm.mode != CG_ICS_NONE || fl->enip.mode != CG_ICS_NONE;
}

/* ---- mutations ----------------------------------------------------- */

static void append_what(char *what, size_t size, const char *fmt, ...)
{
	size_t n = strlen(what);
	va_list ap;

	if (n >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(what + n, size - n, fmt, ap);
	va_end(ap);
}

static void lie16(struct cg_rng *r, uint8_t *p)
{
	uint16_t v = (uint16_t)(p[0] << 8 | p[1]);

	if (cg_rng_pct(r, 70))
		v = (uint16_t)(v + (int)rng_range(r, 0, 16) - 8);
	else
		v = (uint16_t)cg_rng_below(r, 65536);
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void cg_gen_mutate(struct cg_rng *r, uint8_t *buf, size_t *len,
		   const struct cg_frame_layout *lay, char *what,
		   size_t what_size)
{
	uint32_t k = cg_rng_below(r, 100);
	size_t l3 = lay ? lay->l3_off : 14, l4 = lay ? lay->l4_off : 34;
	int version = *len > l3 ? buf[l3] >> 4 : 0;

	if (*len == 0)
		return;
	if (k < 30) {
		/* Truncate, mostly inside the headers. */
		size_t cut = cg_rng_pct(r, 70) && l4 + 24 < *len
				     ? cg_rng_below(r, (uint32_t)(l4 + 24))
				     : cg_rng_below(r, (uint32_t)*len);

		*len = cut;
		append_what(what, what_size, ", truncated to %zu", cut);
	} else if (k < 55) {
		int n = (int)rng_range(r, 1, 3), i;
		size_t span = *len < 96 ? *len : 96;

		for (i = 0; i < n; i++) {
			size_t at = cg_rng_below(r, (uint32_t)span);

			buf[at] ^= (uint8_t)(1 << cg_rng_below(r, 8));
			append_what(what, what_size, ", bit flip at %zu", at);
		}
	} else if (k < 75 && version == 4 && *len >= l3 + 20) {
		if (cg_rng_pct(r, 70)) {
			lie16(r, buf + l3 + 2);
			append_what(what, what_size,
				    ", IPv4 total length lies");
		} else {
			buf[l3] = (uint8_t)(0x40 | cg_rng_below(r, 16));
			append_what(what, what_size, ", IPv4 IHL lies");
		}
	} else if (k < 75 && version == 6 && *len >= l3 + 40) {
		lie16(r, buf + l3 + 4);
		append_what(what, what_size, ", IPv6 payload length lies");
	} else if (k < 90 && lay && lay->ext_off[0] &&
		   lay->ext_off[0] + 2 <= *len && cg_rng_pct(r, 50)) {
		size_t at = lay->ext_off[0] + 1;

		buf[at] = (uint8_t)cg_rng_below(r, 256);
		append_what(what, what_size, ", extension length lies");
	} else if (k < 90 && *len >= l4 + 14) {
		if (cg_rng_pct(r, 50)) {
			lie16(r, buf + l4 + 4); /* UDP length / TCP seq */
			append_what(what, what_size, ", L4 length lies");
		} else {
			buf[l4 + 12] = (uint8_t)(cg_rng_below(r, 16) << 4);
			append_what(what, what_size, ", TCP data offset lies");
		}
	} else {
		/* Trailing bytes past the IP packet: padding. */
		size_t extra = rng_range(r, 1, 32);

		if (*len + extra <= CG_FRAME_MAX) {
			memset(buf + *len, 0xa5, extra);
			*len += extra;
		}
		append_what(what, what_size, ", %zu bytes appended", extra);
	}
}
