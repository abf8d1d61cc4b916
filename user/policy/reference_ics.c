// SPDX-License-Identifier: GPL-2.0
/*
 * The reference evaluator (reference.c has the overview), step 12: the
 * requests of a Modbus or S7comm conversation against the flow's rule.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "enip.h"
#include "modbus_rules.h"
#include "reference_int.h"

/*
 * Step 12, ICS functions. Each walker takes the TCP payload of a request
 * (the opener's direction, allowed by a flow with `modbus:` or `s7comm:`)
 * and says whether the flow's rule lets all of it through. *function gets
 * what an event carries: the function of the last ADU or TPKT walked (the
 * refused one, on a refusal), CG_FUNC_NONE when that one names none.
 */
static bool ics_listed(const struct cg_ics *rule, unsigned int code)
{
	size_t i;

	for (i = 0; i < rule->n_codes; i++)
		if (rule->codes[i] == code)
			return true;
	return false;
}

/*
 * Modbus `read-only`: the reads of the contract. `pdu` is the function
 * code and what follows it in the ADU (pdu_len >= 1 bytes); the MEI type
 * of function 43 is the byte after the code, and must be in the ADU.
 */
static bool modbus_read_only(const uint8_t *pdu, size_t pdu_len)
{
	switch (pdu[0]) {
	case 1:
	case 2:
	case 3:
	case 4:
	case 7:
	case 11:
	case 12:
	case 17:
	case 20:
	case 24:
		return true;
	case 43:
		return pdu_len >= 2 && pdu[1] == 14;
	default:
		return false;
	}
}

/*
 * What a Modbus request with addresses touches, read from its PDU (the
 * function code and its data, `n` bytes) as the Modbus application
 * protocol specification (v1.1b3, section 6) lays it out. Returns false
 * for a PDU that breaks the layout: a length other than the function's,
 * a quantity outside the specification's limits, a byte count that is
 * not what the quantity needs, or a range past address 65535. Sets
 * *n_ranges to 0 for functions without addresses (always well-formed
 * here).
 */
struct mb_touch {
	int n_ranges;
	uint32_t lo[2], hi[2];
};

static bool mb_range(struct mb_touch *t, uint32_t start, uint32_t qty,
		     uint32_t max)
{
	if (qty < 1 || qty > max || start + qty - 1 > 65535)
		return false;
	t->lo[t->n_ranges] = start;
	t->hi[t->n_ranges] = start + qty - 1;
	t->n_ranges++;
	return true;
}

static bool modbus_touches(const uint8_t *pdu, size_t n, struct mb_touch *t)
{
	t->n_ranges = 0;
	switch (pdu[0]) {
	case 1: /* read coils */
	case 2: /* read discrete inputs */
		return n == 5 &&
		       mb_range(t, get16(pdu + 1), get16(pdu + 3), 2000);
	case 3: /* read holding registers */
	case 4: /* read input registers */
		return n == 5 &&
		       mb_range(t, get16(pdu + 1), get16(pdu + 3), 125);
	case 5: /* write single coil */
	case 6: /* write single register */
		return n == 5 && mb_range(t, get16(pdu + 1), 1, 1);
	case 22: /* mask write register */
		return n == 7 && mb_range(t, get16(pdu + 1), 1, 1);
	case 15: /* write multiple coils */
		return n >= 6 && pdu[5] == (get16(pdu + 3) + 7) / 8 &&
		       n == 6 + (size_t)pdu[5] &&
		       mb_range(t, get16(pdu + 1), get16(pdu + 3), 1968);
	case 16: /* write multiple registers */
		return n >= 6 && pdu[5] == 2 * get16(pdu + 3) &&
		       n == 6 + (size_t)pdu[5] &&
		       mb_range(t, get16(pdu + 1), get16(pdu + 3), 123);
	case 23: /* read/write multiple registers */
		return n >= 10 && pdu[9] == 2 * get16(pdu + 7) &&
		       n == 10 + (size_t)pdu[9] &&
		       mb_range(t, get16(pdu + 1), get16(pdu + 3), 125) &&
		       mb_range(t, get16(pdu + 5), get16(pdu + 7), 121);
	default:
		return true;
	}
}

/* Does every address from lo to hi lie in one of the rule's ranges? */
static bool rule_holds_addresses(const struct cg_ics_allow *a, uint32_t lo,
				 uint32_t hi)
{
	uint32_t x;
	size_t i;

	for (x = lo; x <= hi; x++) {
		for (i = 0; i < a->n_ranges; i++)
			if (a->ranges[i].lo <= x && x <= a->ranges[i].hi)
				break;
		if (i == a->n_ranges)
			return false;
	}
	return true;
}

/*
 * `modbus: allow:`: a well-formed request passes if one rule matches its
 * function (43: with its MEI type's class), its unit, and, when the rule
 * has addresses, every address it touches.
 */
static bool modbus_rules_allow(const struct cg_ics *rule, uint8_t unit,
			       const uint8_t *pdu, size_t n)
{
	int mei = pdu[0] == 43 && n >= 2 ? pdu[1] : -1;
	struct mb_touch t;
	size_t i;
	int k;

	if (!modbus_touches(pdu, n, &t))
		return false;
	for (i = 0; i < rule->n_allow; i++) {
		const struct cg_ics_allow *a = &rule->allow[i];
		bool ok = cg_bit(a->codes, pdu[0]);

		if (pdu[0] == 43 && a->mei == CG_MEI_14)
			ok = ok && mei == 14;
		if (pdu[0] == 43 && a->mei == CG_MEI_NOT_14)
			ok = ok && mei != 14;
		if (a->has_units)
			ok = ok && cg_bit(a->units, unit);
		if (a->n_ranges) {
			ok = ok && t.n_ranges > 0;
			for (k = 0; ok && k < t.n_ranges; k++)
				ok = rule_holds_addresses(a, t.lo[k], t.hi[k]);
		}
		if (ok)
			return true;
	}
	return false;
}

/*
 * Modbus/TCP: the payload is whole ADUs, at most MODBUS_MAX_ADUS, ending
 * exactly at its end. Each ADU is the MBAP header (transaction id,
 * protocol id 0, length, unit id) and a PDU; the MBAP length counts the
 * unit id and the PDU, so it is at least 2 (unit id and function code)
 * and the ADU is 6 + length bytes.
 */
static bool modbus_allows(const struct cg_ics *rule, const uint8_t *p,
			  size_t len, uint16_t *function)
{
	size_t off = 0, n = 0, room, mlen;
	const uint8_t *adu, *pdu;
	bool ok;

	while (off < len) {
		*function = CG_FUNC_NONE;
		if (n++ == MODBUS_MAX_ADUS)
			return false;
		adu = p + off;
		room = len - off;
		if (room < MODBUS_MBAP_LEN + 1 || get16(adu + 2) != 0)
			return false;
		mlen = get16(adu + 4);
		if (mlen < 2 || 6 + mlen > room)
			return false;
		pdu = adu + MODBUS_MBAP_LEN;
		*function = pdu[0];
		switch (rule->mode) {
		case CG_ICS_READ_ONLY:
			ok = modbus_read_only(pdu, mlen - 1);
			break;
		case CG_ICS_LIST:
			ok = ics_listed(rule, pdu[0]);
			break;
		case CG_ICS_ALLOW:
			ok = modbus_rules_allow(rule, adu[6], pdu, mlen - 1);
			break;
		default:
			ok = true;
			break;
		}
		if (!ok)
			return false;
		off += 6 + mlen;
	}
	return true;
}

/*
 * One S7 PDU (what a COTP data TPDU carries, `len` bytes up to the end of
 * its TPKT). S7comm (protocol id 0x32) has a 10-byte header: protocol id,
 * ROSCTR, redundancy id (2), PDU reference (2), parameter length (2),
 * data length (2); the parameters follow. (Acknowledgements, ROSCTR 2
 * and 3, carry 2 more header bytes; they are responses, and a request
 * that claims to be one is refused under anything but `any`.) A job's
 * function is its first parameter byte; a userdata PDU's parameters
 * start with an 8-byte header whose byte 5 holds the type (4: request)
 * in its high nibble and the function group in its low nibble.
 * S7comm-plus (0x72) has another layout: only its protocol id is read.
 */
static bool s7_pdu_allows(const struct cg_ics *rule, const uint8_t *s,
			  size_t len, uint16_t *function)
{
	size_t plen, dlen;
	const uint8_t *par;

	if (len < S7_HEADER_LEN)
		return false;
	if (s[0] == S7_PROTO_PLUS)
		return rule->mode == CG_ICS_ANY;
	if (s[0] != S7_PROTO)
		return false;
	plen = get16(s + 6);
	dlen = get16(s + 8);
	if (S7_HEADER_LEN + plen + dlen > len)
		return false;
	par = s + S7_HEADER_LEN;

	if (s[1] == S7_JOB && plen >= 1) {
		*function = par[0];
		if (rule->mode == CG_ICS_READ_ONLY)
			return par[0] == 0x04 || par[0] == 0xf0;
		if (rule->mode == CG_ICS_LIST)
			return ics_listed(rule, par[0]);
		return true;
	}
	if (s[1] == S7_USERDATA && plen >= S7_USERDATA_PARAM_LEN) {
		uint8_t type = par[5] >> 4, group = par[5] & 0x0f;

		*function = (uint16_t)(0x700 + group);
		if (rule->mode == CG_ICS_READ_ONLY)
			return type == 4 && (group == 3 || group == 4);
		return rule->mode == CG_ICS_ANY;
	}
	/* A job or userdata PDU too short to name its function, or another
	 * ROSCTR: only framing is asked of it, and only under `any`. */
	return rule->mode == CG_ICS_ANY;
}

/*
 * S7comm: the payload is whole TPKTs (RFC 1006: version 3, a reserved
 * byte 0, a length that counts the 4-byte TPKT header), at most
 * S7_MAX_TPKTS, each holding a COTP TPDU (ISO 8073): a length indicator
 * (the header's length after that byte) and the TPDU code in the high
 * nibble of the next byte. Connection request (0xE), confirm (0xD),
 * disconnect request (0x8) and confirm (0xC) pass; a data TPDU (0xF)
 * carries an S7 PDU after the COTP header; any other TPDU is refused.
 */
static bool s7comm_allows(const struct cg_ics *rule, const uint8_t *p,
			  size_t len, uint16_t *function)
{
	size_t off = 0, n = 0, room, tlen, li;
	const uint8_t *t;

	while (off < len) {
		*function = CG_FUNC_NONE;
		if (n++ == S7_MAX_TPKTS)
			return false;
		t = p + off;
		room = len - off;
		if (room < 4 || t[0] != 3 || t[1] != 0)
			return false;
		tlen = get16(t + 2);
		if (tlen < 7 || tlen > room)
			return false;
		li = t[4];
		if (li < 1 || 5 + li > tlen)
			return false;
		switch (t[5] >> 4) {
		case 0xe:
		case 0xd:
		case 0x8:
		case 0xc:
			break;
		case 0xf:
			if (!s7_pdu_allows(rule, t + 5 + li, tlen - 5 - li,
					   function))
				return false;
			break;
		default:
			return false;
		}
		off += tlen;
	}
	return true;
}

bool flow_has_ics(const struct cg_flow *fl)
{
	return fl->modbus.mode != CG_ICS_NONE ||
	       fl->s7comm.mode != CG_ICS_NONE || fl->enip.mode != CG_ICS_NONE;
}

/*
 * Does the flow's ICS rule let this frame's payload through? Only TCP
 * payload is inspected. A flow with several keys reads EtherNet/IP on
 * destination port 44818, S7comm on 102 and Modbus elsewhere; a flow
 * with one key reads its protocol on every port.
 */
bool ics_allows(const struct cg_flow *fl, const struct ref_packet *pk,
		uint16_t *function)
{
	*function = CG_FUNC_NONE;
	if (pk->proto != IPPROTO_TCP || pk->payload_len == 0)
		return true;
	if (fl->enip.mode != CG_ICS_NONE && ((fl->modbus.mode == CG_ICS_NONE &&
					      fl->s7comm.mode == CG_ICS_NONE) ||
					     pk->dport == CG_ENIP_PORT))
		return cg_enip_allows(&fl->enip, pk->payload, pk->payload_len,
				      function);
	if (fl->s7comm.mode != CG_ICS_NONE &&
	    (fl->modbus.mode == CG_ICS_NONE || pk->dport == S7_PORT))
		return s7comm_allows(&fl->s7comm, pk->payload, pk->payload_len,
				     function);
	if (fl->modbus.mode != CG_ICS_NONE)
		return modbus_allows(&fl->modbus, pk->payload, pk->payload_len,
				     function);
	return true;
}
