// SPDX-License-Identifier: GPL-2.0
/* TCP streams with real sequence numbers on inspected flows, for the
 * generator's frames (gen.h). */
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

/* ---- TCP streams on inspected flows --------------------------------- */

/*
 * Window scale options for SYNs and SYN-ACKs (NOP, kind 3, length 3,
 * shift), some past the cap of 14, and a broken one.
 */
static const uint8_t ws_opts[][4] = {
	{1, 3, 3, 0},  {1, 3, 3, 2},  {1, 3, 3, 7}, {1, 3, 3, 14},
	{1, 3, 3, 15}, {1, 3, 3, 30}, {3, 3, 5, 0}, {1, 3, 2, 7},
};

static void stream_remember_run(struct gen_stream *st, uint32_t start,
				const uint8_t *data, size_t len)
{
	size_t i = st->next_run;

	if (!len || len > GEN_PAYLOAD_MAX)
		return;
	st->run_start[i] = start;
	st->run_len[i] = (uint32_t)len;
	memcpy(st->run[i], data, len);
	st->next_run = (st->next_run + 1) % GEN_RUNS;
	if (st->n_runs < GEN_RUNS)
		st->n_runs++;
}

/* The run that starts at `start`, or -1. */
static int stream_run_at(const struct gen_stream *st, uint32_t start)
{
	size_t i;

	for (i = 0; i < st->n_runs; i++)
		if (st->run_start[i] == start && st->run_len[i])
			return (int)i;
	return -1;
}

/*
 * A frame that the generator made cleanly along an inspected flow (a SYN
 * or a request from the client, on the client's own ingress) starts a
 * stream that later frames continue with real sequence numbers.
 */
void stream_start(struct gen_stream *st, struct cg_rng *r,
		  const struct cg_policy *p, const struct cg_frame_spec *s,
		  const char *ifname, enum gen_ics ics)
{
	int zone = zone_of(p, s->family, s->dst);

	memset(st, 0, sizeof(*st));
	st->active = true;
	st->spec = *s;
	st->spec.payload = NULL;
	st->spec.payload_len = 0;
	st->spec.tcp_opts = NULL;
	st->spec.tcp_opts_len = 0;
	st->spec.pad_to = 0;
	st->ifname = ifname;
	st->ics = ics;
	st->srv_ifname = ifname;
	if (zone >= 0)
		zone_ingress(r, &p->zones[zone], &st->srv_ifname, &st->srv_vid);
	st->srv_seq = (uint32_t)cg_rng_next(r);
	st->isn = s->tcp_seq;
	st->next = s->tcp_seq + 1;
	st->synced = (s->tcp_flags & CG_TCP_SYN) != 0;
	if (!st->synced) /* picked up: where the server stands */
		st->next = s->tcp_seq + (uint32_t)s->payload_len +
			   (cg_rng_pct(r, 70) ? 0 : cg_rng_below(r, 100));
}

/*
 * The next frame of the stream; *bad_csum: break its TCP checksum (1) or
 * its IPv4 header checksum (2).
 */
void stream_frame(struct cg_gen_frames *g, struct cg_rng *r,
		  struct cg_frame_spec *s, const char **ifname,
		  uint8_t *payload, char *what, size_t what_size, int *bad_csum)
{
	struct gen_stream *st = &g->proposed;
	uint32_t k = cg_rng_below(r, 100), seq;

	*st = g->stream;
	g->has_proposed = true;
	seq = st->next;
	char how[64] = "";
	size_t len = 0, n;
	const char *did;
	bool server = false;
	int i;

	*s = st->spec;
	s->payload = payload;
	*ifname = st->ifname;
	s->tcp_flags = cg_rng_pct(r, 80) ? CG_TCP_PSH | CG_TCP_ACK : CG_TCP_ACK;
	s->tcp_ack = st->srv_seq;
	g->ics = st->ics;
	g->ics_clean = true;

	if (k < 22) {
		len = ics_payload(r, st->ics, true, payload, how, sizeof(how));
		if (cg_rng_pct(r, 3))
			s->tcp_flags |= CG_TCP_FIN;
		did = "in order";
	} else if (k < 30 && st->n_runs) {
		i = (int)cg_rng_below(r, (uint32_t)st->n_runs);
		seq = st->run_start[i];
		len = st->run_len[i];
		memcpy(payload, st->run[i], len);
		did = "exact retransmission";
	} else if (k < 34 && st->n_runs) {
		i = (int)cg_rng_below(r, (uint32_t)st->n_runs);
		seq = st->run_start[i];
		len = cg_rng_pct(r, 50) ? st->run_len[i]
					: ics_payload(r, st->ics, true, payload,
						      how, sizeof(how));
		if (len == st->run_len[i]) {
			memcpy(payload, st->run[i], len);
			payload[cg_rng_below(r, (uint32_t)len)] ^=
				(uint8_t)rng_range(r, 1, 255);
		}
		did = "rewritten retransmission";
	} else if (k < 38 && st->n_runs) {
		/* Two runs in one, when the one after it is known. */
		i = (int)cg_rng_below(r, (uint32_t)st->n_runs);
		seq = st->run_start[i];
		len = st->run_len[i];
		memcpy(payload, st->run[i], len);
		n = (size_t)stream_run_at(st, seq + (uint32_t)len) + 1;
		if (n && len + st->run_len[n - 1] <= GEN_PAYLOAD_MAX) {
			memcpy(payload + len, st->run[n - 1],
			       st->run_len[n - 1]);
			len += st->run_len[n - 1];
		}
		if (cg_rng_pct(r, 40) && len + 64 <= GEN_PAYLOAD_MAX)
			len += ics_payload(r, st->ics, true, payload + len, how,
					   sizeof(how)) %
			       64;
		did = "collapsed retransmission";
	} else if (k < 41 && st->n_runs) {
		i = (int)cg_rng_below(r, (uint32_t)st->n_runs);
		seq = st->run_start[i];
		len = rng_range(r, 1, st->run_len[i]);
		memcpy(payload, st->run[i], len);
		did = "partial retransmission";
	} else if (k < 45 && st->n_runs) {
		/* From inside a run (forward overlap), then new data. */
		i = (int)cg_rng_below(r, (uint32_t)st->n_runs);
		n = rng_range(r, 1, st->run_len[i]);
		seq = st->run_start[i] + (uint32_t)n;
		len = st->run_len[i] - n;
		memcpy(payload, st->run[i] + n, len);
		len += ics_payload(r, st->ics, true, payload + len, how,
				   sizeof(how)) %
		       (GEN_PAYLOAD_MAX - len);
		did = "overlap from inside a run";
	} else if (k < 49) {
		/* Before next by a few bytes (backward overlap), new after. */
		n = rng_range(r, 1, 16);
		seq = st->next - (uint32_t)n;
		len = ics_payload(r, st->ics, true, payload, how, sizeof(how));
		did = "overlap before next";
	} else if (k < 53) {
		seq = st->next + rng_range(r, 1, 2000);
		len = ics_payload(r, st->ics, true, payload, how, sizeof(how));
		did = "after a hole";
	} else if (k < 55) {
		/* In order, in a segment the receiver discards (or reroutes):
		 * the gate must not take it for the stream. */
		uint32_t q = cg_rng_below(r, 6);

		len = ics_payload(r, st->ics, true, payload, how, sizeof(how));
		if (q == 0) {
			s->tcp_flags &= (uint8_t)~CG_TCP_ACK;
			did = "no ACK";
		} else if (q == 1) {
			s->tcp_ack = st->srv_seq + rng_range(r, 1, 5000);
			did = "ACK of unsent data";
		} else if (q == 2) {
			s->tcp_ack = st->srv_seq - (1u << 30) -
				     rng_range(r, 1, 5000);
			did = "ACK too old";
		} else if (q == 3 && s->family == 4) {
			*bad_csum = 2;
			did = "bad IPv4 header checksum";
		} else if (s->family == 4) {
			s->ip4_opts_len = 4;
			did = "IPv4 options";
		} else {
			s->n_ext = 1;
			s->ext[0].type = 60;
			s->ext[0].len = 0;
			did = "IPv6 destination options";
		}
	} else if (k < 56) {
		len = 0;
		while (len + 300 <= GEN_PAYLOAD_MAX)
			len += ics_payload(r, st->ics, true, payload + len, how,
					   sizeof(how)) %
			       300;
		did = "a lot of data";
	} else if (k < 59) {
		len = ics_payload(r, st->ics, true, payload, how, sizeof(how));
		s->ttl = (uint8_t)cg_rng_below(r, 3);
		did = "TTL/hop limit 0-2";
	} else if (k < 62) {
		len = ics_payload(r, st->ics, true, payload, how, sizeof(how));
		*bad_csum = 1;
		did = "bad TCP checksum";
	} else if (k < 64) {
		len = ics_payload(r, st->ics, true, payload, how, sizeof(how));
		s->tcp_flags |= 0x20;
		did = "URG";
	} else if (k < 67) {
		s->tcp_flags = CG_TCP_SYN;
		seq = cg_rng_pct(r, 50) ? st->isn : (uint32_t)cg_rng_next(r);
		if (cg_rng_pct(r, 30))
			s->tcp_flags |= PICK(
				r, ((const uint8_t[]){CG_TCP_ACK, CG_TCP_FIN,
						      CG_TCP_RST, CG_TCP_PSH}));
		if (cg_rng_pct(r, 10))
			len = ics_payload(r, st->ics, true, payload, how,
					  sizeof(how));
		/* If it passes, the stream starts (again) from it. */
		st->isn = seq;
		st->next = seq + 1;
		st->n_runs = 0;
		st->closed = false;
		did = "SYN again";
	} else if (k < 70) {
		s->tcp_flags = cg_rng_pct(r, 50) ? CG_TCP_FIN | CG_TCP_ACK
						 : CG_TCP_RST;
		if (cg_rng_pct(r, 30))
			seq -= 1;
		did = "FIN/RST";
	} else if (k < 73 || (st->closed && k < 80)) {
		s->tcp_flags = CG_TCP_ACK;
		seq -= cg_rng_pct(r, 70) ? 1 : 0;
		did = "keepalive/ACK";
	} else if (k < 76 || (st->closed && k < 90)) {
		/* A new connection on the same ends: a fresh handshake. */
		s->tcp_flags = CG_TCP_SYN;
		seq = (uint32_t)cg_rng_next(r);
		if (cg_rng_pct(r, 60)) {
			s->tcp_opts = ws_opts[cg_rng_below(
				r, sizeof(ws_opts) / sizeof(ws_opts[0]))];
			s->tcp_opts_len = 4;
		}
		st->isn = seq;
		st->next = seq + 1;
		st->n_runs = 0;
		st->closed = false;
		did = "new SYN";
	} else {
		/* The server: SYN-ACK, ACKs with windows, RST. */
		uint32_t q = cg_rng_below(r, 100);

		server = true;
		swap_ends(s);
		*ifname = st->srv_ifname;
		s->n_tags = 0;
		if (st->srv_vid) {
			s->n_tags = 1;
			s->tags[0].tpid = 0x8100;
			s->tags[0].tci = st->srv_vid;
		}
		g->ics_response = true;
		seq = st->srv_seq;
		s->tcp_ack = st->next;
		s->tcp_flags = CG_TCP_ACK;
		if (q < 25) {
			s->tcp_flags = CG_TCP_SYN | CG_TCP_ACK;
			s->tcp_ack = st->isn + 1;
			seq = st->srv_seq - 1;
			if (cg_rng_pct(r, 60)) {
				s->tcp_opts = ws_opts[cg_rng_below(
					r,
					sizeof(ws_opts) / sizeof(ws_opts[0]))];
				s->tcp_opts_len = 4;
			}
			did = "SYN-ACK";
		} else if (q < 85) {
			s->tcp_win =
				cg_rng_pct(r, 60)
					? 65535
					: PICK(r, ((const uint16_t[]){
							  0, 1, 2, 16, 64, 100,
							  300, 1024}));
			if (cg_rng_pct(r, 20))
				s->tcp_ack -= rng_range(r, 1, 200);
			if (cg_rng_pct(r, 5))
				s->tcp_ack = (uint32_t)cg_rng_next(r);
			if (cg_rng_pct(r, 30)) {
				s->tcp_flags |= CG_TCP_PSH;
				len = ics_payload(r, st->ics, false, payload,
						  how, sizeof(how));
				st->srv_seq += (uint32_t)len;
			}
			did = "server ACK";
		} else if (q < 88) {
			s->tcp_flags = CG_TCP_RST | CG_TCP_ACK;
			st->closed = true;
			did = "server RST";
		} else {
			s->tcp_flags = CG_TCP_FIN | CG_TCP_ACK;
			did = "server FIN";
		}
	}
	s->tcp_seq = seq;
	s->payload_len = len;
	/*
	 * If the client's frame passes, what it did to the receiver's
	 * stream: new data after next, a FIN or RST at next.
	 */
	if (!server && !(s->tcp_flags & CG_TCP_SYN)) {
		uint32_t end = seq + (uint32_t)len;

		if (len && (int32_t)(seq - st->next) <= 0 &&
		    (int32_t)(end - st->next) > 0) {
			stream_remember_run(st, st->next,
					    payload + (st->next - seq),
					    end - st->next);
			st->next = end;
			if (s->tcp_flags & (CG_TCP_FIN | CG_TCP_RST))
				st->closed = true;
		} else if (!len && seq == st->next &&
			   (s->tcp_flags & (CG_TCP_FIN | CG_TCP_RST))) {
			st->closed = true;
		}
	}
	snprintf(what, what_size, "stream %s%s%s%s", server ? "server: " : "",
		 did, *how ? ": " : "", how);
}

/*
 * A TCP frame along an ICS flow: its destination port and what the flow
 * inspects there (mostly the right protocol), a SYN or a request.
 */
void ics_fresh(struct cg_gen_frames *g, struct cg_rng *r,
	       const struct cg_flow *fl, struct cg_frame_spec *s,
	       uint8_t *payload, char *what, size_t what_size)
{
	bool modbus = fl->modbus.mode != CG_ICS_NONE,
	     s7 = fl->s7comm.mode != CG_ICS_NONE,
	     enip = fl->enip.mode != CG_ICS_NONE;
	enum gen_ics kinds[3], kind;
	size_t nk = 0;
	char how[64];

	if (modbus)
		kinds[nk++] = GEN_ICS_MODBUS;
	if (s7)
		kinds[nk++] = GEN_ICS_S7;
	if (enip)
		kinds[nk++] = GEN_ICS_ENIP;
	kind = kinds[cg_rng_below(r, (uint32_t)nk)];
	s->proto = 6;
	if (cg_rng_pct(r, 85))
		s->dport = kind == GEN_ICS_MODBUS ? CG_MODBUS_PORT
			   : kind == GEN_ICS_S7	  ? CG_S7_PORT
						  : CG_ENIP_TEST_PORT;
	else
		s->dport = pick_dport(r, g, fl);
	/* What the flow inspects on that port (bpf/ics.h, ics_refused). */
	if (enip && ((!modbus && !s7) || s->dport == CG_ENIP_TEST_PORT))
		kind = GEN_ICS_ENIP;
	else if (s7 && (!modbus || s->dport == CG_S7_PORT))
		kind = GEN_ICS_S7;
	else
		kind = GEN_ICS_MODBUS;
	if (cg_rng_pct(r, 6))
		kind = (enum gen_ics)(1 + (kind + cg_rng_below(r, 2)) % 3);
	g->ics = kind;
	g->ics_response = false;
	g->ics_start = true;
	/* Worth continuing only if it crosses from a zone to another. */
	if (zone_of(g->p, s->family, s->src) < 0 ||
	    zone_of(g->p, s->family, s->src) ==
		    zone_of(g->p, s->family, s->dst))
		g->ics_clean = false;

	s->tcp_seq = (uint32_t)cg_rng_next(r);
	s->tcp_ack = (uint32_t)cg_rng_next(r);
	if (cg_rng_pct(r, 10))
		s->tcp_opts_len = (uint8_t)(4 * rng_range(r, 1, 10));
	if (cg_rng_pct(r, 30))
		s->pad_to = 60 + cg_rng_below(r, 20); /* Ethernet padding */
	if (cg_rng_pct(r, 25)) {
		s->tcp_flags = CG_TCP_SYN;
		s->payload_len = 0;
		if (cg_rng_pct(r, 50)) {
			s->tcp_opts = ws_opts[cg_rng_below(
				r, sizeof(ws_opts) / sizeof(ws_opts[0]))];
			s->tcp_opts_len = 4;
		}
		snprintf(what, what_size, "ics SYN to %u", s->dport);
		return;
	}
	s->tcp_flags = cg_rng_pct(r, 80) ? CG_TCP_PSH | CG_TCP_ACK : CG_TCP_ACK;
	if (cg_rng_pct(r, 3))
		s->tcp_flags = (uint8_t)cg_rng_below(r, 256);
	s->payload = payload;
	s->payload_len = ics_payload(r, kind, true, payload, how, sizeof(how));
	if (cg_rng_pct(r, 3)) {
		/* A first fragment: the payload continues elsewhere. */
		if (s->family == 4) {
			s->ip4_mf = true;
			s->ip_id = (uint16_t)frag_id(r);
		} else if (s->n_ext < CG_FRAME_MAX_EXT) {
			struct cg_frame_ext *e = &s->ext[s->n_ext++];

			memset(e, 0, sizeof(*e));
			e->type = 44;
			e->frag_more = true;
			e->frag_id = frag_id(r);
		}
	}
	snprintf(what, what_size, "ics fresh to %u: %s", s->dport, how);
}

/* Swap the two ends of a frame: addresses, ports and MACs. */
void swap_ends(struct cg_frame_spec *s)
{
	uint8_t tmp[16];
	uint16_t port = s->sport;

	memcpy(tmp, s->src, 16);
	memcpy(s->src, s->dst, 16);
	memcpy(s->dst, tmp, 16);
	memcpy(tmp, s->src_mac, 6);
	memcpy(s->src_mac, s->dst_mac, 6);
	memcpy(s->dst_mac, tmp, 6);
	s->sport = s->dport;
	s->dport = port;
}

/*
 * The next frame of an ICS conversation: another request from the client
 * on the established connection (the fast path), or the server's answer.
 */
void ics_sequel(struct cg_gen_frames *g, struct cg_rng *r,
		const struct hist_entry *h, struct cg_frame_spec *s,
		const char **ifname, uint8_t *payload, char *what,
		size_t what_size)
{
	bool same = cg_rng_pct(r, 65), request;
	uint16_t vid = 0;
	char how[64];
	int zone;

	*s = h->spec;
	s->payload = payload;
	s->ip4_mf = false;
	s->ip4_frag_off = 0;
	s->n_ext = 0;
	s->no_l4 = false;
	s->tcp_seq += (uint32_t)h->spec.payload_len + 1;
	request = same != h->ics_response;
	g->ics = h->ics;
	g->ics_response = !request;

	if (same) {
		*ifname = h->ifname;
	} else {
		swap_ends(s);
		zone = zone_of(g->p, s->family, s->src);
		s->n_tags = 0;
		if (zone >= 0 && cg_rng_pct(r, 95))
			zone_ingress(r, &g->p->zones[zone], ifname, &vid);
		else
			random_ingress(r, g->p, ifname, &vid);
		if (vid) {
			s->n_tags = 1;
			s->tags[0].tpid = 0x8100;
			s->tags[0].tci = vid;
		}
	}
	if (!same && h->spec.tcp_flags == CG_TCP_SYN) {
		s->tcp_flags = CG_TCP_SYN | CG_TCP_ACK;
		s->payload_len = 0;
		snprintf(what, what_size, "ics SYN-ACK");
		return;
	}
	s->tcp_flags = cg_rng_pct(r, 85) ? CG_TCP_PSH | CG_TCP_ACK
		       : cg_rng_pct(r, 60)
			       ? CG_TCP_ACK
			       : CG_TCP_FIN | CG_TCP_PSH | CG_TCP_ACK;
	if (cg_rng_pct(r, 5)) {
		s->payload_len = 0; /* a bare ACK */
		snprintf(what, what_size, "ics bare ACK");
		return;
	}
	s->payload_len =
		ics_payload(r, h->ics, request, payload, how, sizeof(how));
	if (cg_rng_pct(r, 5)) {
		/* A first fragment inside the connection (fast path). */
		if (s->family == 4) {
			s->ip4_mf = true;
			s->ip_id = (uint16_t)frag_id(r);
		} else {
			memset(&s->ext[0], 0, sizeof(s->ext[0]));
			s->n_ext = 1;
			s->ext[0].type = 44;
			s->ext[0].frag_more = true;
			s->ext[0].frag_id = frag_id(r);
		}
	}
	snprintf(what, what_size, "ics %s: %s", same ? "again" : "other way",
		 how);
}

/*
 * One frame of a shared-id sequence (issue 19, 1): step 1 a first
 * fragment from the conversation's source to its destination on another
 * port, step 2 a first fragment on the conversation's own ports (its
 * connection: the fast path), step 3 a non-first fragment of the same
 * (addresses, id, protocol) that follows whatever the table holds.
 */
