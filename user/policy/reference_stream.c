// SPDX-License-Identifier: GPL-2.0
/*
 * The reference evaluator (reference.c has the overview): the stream rule
 * of inspected flows.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "reference_int.h"

/*
 * Step 11a, the stream rule, for inspected connections: the opener's
 * byte stream passes only where the gate can prove what the receiver
 * will deliver. All sequence numbers compare modulo 2^32.
 */
static bool seq_after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

/* The TCP checksum over the pseudo-header and the segment: right? */
static bool tcp_checksum_ok(const struct ref_packet *pk)
{
	uint32_t sum = 0;
	size_t i, n = addr_len(pk->family);

	for (i = 0; i < n; i += 2)
		sum += get16(pk->src + i) + get16(pk->dst + i);
	sum += IPPROTO_TCP;
	sum += (uint32_t)(pk->l4_len >> 16) + (uint32_t)(pk->l4_len & 0xffff);
	for (i = 0; i + 1 < pk->l4_len; i += 2)
		sum += get16(pk->l4 + i);
	if (pk->l4_len & 1)
		sum += (uint32_t)pk->l4[pk->l4_len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/* The IPv4 header checksum over its `hlen` bytes: right? */
static bool ipv4_checksum_ok(const uint8_t *ip, size_t hlen)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < hlen; i += 2)
		sum += get16(ip + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/*
 * The window scale option (kind 3, length 3) among a TCP header's
 * options, read as Linux reads them: end of list (0) stops, no-op (1) is
 * one byte, every other option has a length byte >= 2 that must fit in
 * the options, else the walk stops; a later window scale option
 * overrides an earlier one. Returns whether one was found.
 */
static bool tcp_wscale(const struct ref_packet *pk, uint8_t *value)
{
	const uint8_t *h = pk->l4;
	size_t doff = (size_t)(h[12] >> 4) * 4, off = 20, olen;
	bool found = false;

	while (off < doff) {
		if (h[off] == TCP_OPT_EOL)
			break;
		if (h[off] == TCP_OPT_NOP) {
			off++;
			continue;
		}
		if (off + 2 > doff)
			break;
		olen = h[off + 1];
		if (olen < 2 || off + olen > doff)
			break;
		if (h[off] == TCP_OPT_WSCALE && olen == 3) {
			*value = h[off + 2];
			found = true;
		}
		off += olen;
	}
	return found;
}

void stream_records_empty(struct ref_stream *st)
{
	unsigned int i;

	for (i = 0; i < STREAM_RECORDS; i++) {
		free(st->rec[i].bytes);
		st->rec[i].bytes = NULL;
		st->rec[i].len = 0;
	}
	st->rec_next = 0;
}

/*
 * The rule for a TCP frame from the opener of an inspected connection
 * (st: its stream, NULL when this frame opens the connection). Returns
 * CG_R_STREAM (or CG_R_FRAGMENT), or CG_R_ALLOWED with *plan filled.
 */
enum cg_reason stream_judge(const struct ref_stream *st,
			    const struct ref_packet *pk,
			    struct stream_plan *plan)
{
	enum ref_stream_state state = st ? st->state : STREAM_NONE;
	const uint8_t *h = pk->l4;
	uint8_t flags = pk->tcp_flags, ws;
	uint32_t seq = (uint32_t)get16(h + 4) << 16 | get16(h + 6);
	uint32_t len = (uint32_t)pk->payload_len, next, end, upto, cur;
	unsigned int i, walked;

	memset(plan, 0, sizeof(*plan));
	plan->applies = true;
	plan->inspect = true;
	plan->data = pk->payload;
	plan->len = pk->payload_len;
	plan->seq = seq;

	/* Fragments never get here: their checksum cannot be verified. */
	if (pk->fragmented)
		return CG_R_FRAGMENT;
	/* 1. The gateway will not forward it. */
	if (pk->ttl <= 1)
		return CG_R_STREAM;
	/* 2. The receiver would discard it, or it is too long to judge. */
	if (!tcp_checksum_ok(pk) || pk->l4_len > TCP_SEGMENT_MAX)
		return CG_R_STREAM;
	/* 3. Urgent data may be taken out of the stream. */
	if (flags & TCP_URG)
		return CG_R_STREAM;
	/* 3a. IP headers the receiver may discard, or route by: a wrong
	 * IPv4 header checksum, IPv4 options, IPv6 extension headers. */
	if (pk->family == 4 &&
	    (pk->l3_hlen != 20 || !ipv4_checksum_ok(pk->l3, pk->l3_hlen)))
		return CG_R_STREAM;
	if (pk->family == 6 && pk->ip6_ext)
		return CG_R_STREAM;
	/* 3b. Linux discards a segment without ACK (but a SYN or RST), and
	 * one acknowledging what the responder never sent, or long ago. */
	if (!(flags & TCP_SYN)) {
		uint32_t ack = (uint32_t)get16(h + 8) << 16 | get16(h + 10);

		if (!(flags & (TCP_ACK | TCP_RST)))
			return CG_R_STREAM;
		if ((flags & TCP_ACK) && st && st->rsp_known &&
		    (seq_after(ack, st->rsp_next) ||
		     st->rsp_next - ack > STREAM_ACK_OLD))
			return CG_R_STREAM;
	}

	/* 4. SYNs. */
	if (flags & TCP_SYN) {
		if (flags & (TCP_ACK | TCP_FIN | TCP_RST) || len)
			return CG_R_STREAM;
		if (state == STREAM_NONE || state == STREAM_CLOSED) {
			plan->set_syn = true;
			plan->ws_offered = tcp_wscale(pk, &ws);
			return CG_R_ALLOWED;
		}
		if (state == STREAM_SYN && seq == st->isn)
			return CG_R_ALLOWED;
		return CG_R_STREAM;
	}

	/* 5. The states where next is not (yet) known. */
	switch (state) {
	case STREAM_SYN:
		if (seq != st->isn + 1)
			return CG_R_STREAM;
		plan->set_synced = true;
		next = st->isn + 1;
		break;
	case STREAM_NONE:
	case STREAM_UNSYNCED:
		if (len)
			return CG_R_STREAM;
		plan->set_unsynced = state == STREAM_NONE;
		return CG_R_ALLOWED;
	case STREAM_CLOSED:
		return len ? CG_R_STREAM : CG_R_ALLOWED;
	default:
		next = st->next;
		break;
	}

	/* 6. SYNCED. */
	end = seq + len;
	if (len == 0) {
		plan->close = (flags & (TCP_FIN | TCP_RST)) && seq == next;
		return CG_R_ALLOWED;
	}
	if (seq_after(seq, next))
		return CG_R_STREAM; /* a hole before it */
	if (st->wnd_known && seq_after(end, st->wnd_end))
		return CG_R_STREAM; /* beyond the receiver's window */
	/* What overlaps passed data must be exactly the runs passed. */
	upto = seq_after(end, next) ? next : end;
	cur = seq;
	for (walked = 0; cur != upto; walked++) {
		const struct ref_record *rc = NULL;

		if (walked == STREAM_RECORDS)
			return CG_R_STREAM;
		for (i = 0; i < STREAM_RECORDS; i++)
			if (st->rec[i].len && st->rec[i].start == cur)
				rc = &st->rec[i];
		if (!rc || rc->len > end - cur ||
		    seq_after(cur + rc->len, upto) ||
		    memcmp(rc->bytes, pk->payload + (cur - seq), rc->len))
			return CG_R_STREAM;
		cur += rc->len;
	}
	if (!seq_after(end, next)) {
		plan->inspect = false; /* a retransmission, inspected before */
		return CG_R_ALLOWED;
	}
	plan->data = pk->payload + (next - seq);
	plan->len = end - next;
	plan->record = true;
	plan->close = (flags & (TCP_FIN | TCP_RST)) != 0;
	return CG_R_ALLOWED;
}

/* The frame passed: make the plan's changes. */
void stream_commit(struct ref_stream *st, const struct stream_plan *p)
{
	struct ref_record *rc;

	if (p->set_syn) {
		stream_records_empty(st);
		st->state = STREAM_SYN;
		st->isn = p->seq;
		st->next = p->seq + 1;
		st->handshake = true;
		st->ws_offered = p->ws_offered;
		st->shift = 0;
		st->wnd_known = false;
		st->rsp_known = false;
		return;
	}
	if (p->set_unsynced)
		st->state = STREAM_UNSYNCED;
	if (p->set_synced) {
		st->state = STREAM_SYNCED;
		st->next = st->isn + 1;
	}
	if (p->record) {
		rc = &st->rec[st->rec_next];
		st->rec_next = (st->rec_next + 1) % STREAM_RECORDS;
		free(rc->bytes);
		rc->bytes = malloc(p->len);
		if (rc->bytes) {
			memcpy(rc->bytes, p->data, p->len);
			rc->start = st->next;
			rc->len = (uint32_t)p->len;
		} else {
			rc->len = 0;
		}
		st->next += (uint32_t)p->len;
	}
	if (p->close)
		st->state = STREAM_CLOSED;
}

/*
 * A reply from the responder of an inspected connection: its window
 * scale (SYN-ACK), where the receiver's stream and window stand (ACK),
 * the end of the stream (RST). Replies never drop for this.
 */
void stream_reply(struct ref_stream *st, const struct ref_packet *pk)
{
	const uint8_t *h = pk->l4;
	uint8_t flags = pk->tcp_flags, ws = 0;
	uint32_t ack, edge, end;

	if (st->state == STREAM_NONE)
		return;
	/* Where the responder's own sequence numbers stand. */
	end = ((uint32_t)get16(h + 4) << 16 | get16(h + 6)) +
	      (uint32_t)pk->payload_len + !!(flags & TCP_SYN) +
	      !!(flags & TCP_FIN);
	if (!st->rsp_known || seq_after(end, st->rsp_next)) {
		st->rsp_next = end;
		st->rsp_known = true;
	}
	if ((flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK)) {
		bool has = tcp_wscale(pk, &ws);

		st->shift =
			st->ws_offered && has
				? (ws > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : ws)
				: 0;
	} else if (flags & TCP_ACK && !(flags & TCP_SYN)) {
		ack = (uint32_t)get16(h + 8) << 16 | get16(h + 10);
		if (st->state == STREAM_UNSYNCED) {
			st->next = ack;
			st->state = STREAM_SYNCED;
			stream_records_empty(st);
			st->wnd_known = false;
		}
		if (st->handshake &&
		    (st->state == STREAM_SYN || st->state == STREAM_SYNCED)) {
			edge = ack + ((uint32_t)get16(h + 14) << st->shift);
			if (!st->wnd_known || seq_after(edge, st->wnd_end)) {
				st->wnd_end = edge;
				st->wnd_known = true;
			}
		}
	}
	if (flags & TCP_RST)
		st->state = STREAM_CLOSED;
}
