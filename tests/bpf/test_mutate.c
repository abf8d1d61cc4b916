// SPDX-License-Identifier: GPL-2.0
/*
 * The differential test in mutation mode: valid frames, systematically
 * broken, through the real XDP program (BPF_PROG_TEST_RUN) and through
 * the reference evaluator, which must agree on every one: verdict,
 * reason, the reason it would have had, the deciding flow and the zones
 * (as tests/bpf/test_diff.c demands).
 *
 * Where test_diff.c draws random frames, this test walks the mutations a
 * parser gets wrong, exhaustively where that is affordable:
 *
 *   truncate   every frame cut at every offset from 14 bytes to its end
 *   bitflip    every bit of the first 96 bytes flipped, one at a time,
 *              then 64 random multi-bit flips per frame
 *   lies       every length field (IPv4 IHL and total length, IPv6
 *              payload length and extension header lengths, TCP data
 *              offset, UDP length, MBAP, TPKT, COTP and S7 lengths) set
 *              to the values around its true value and to the extremes
 *   vlan       every frame under 0 to 4 tags of each TPID and VLAN id
 *   ext6       IPv6 extension header chains of 0 to 12 headers, past the
 *              walk limit of 8, of every kind, ending in each transport
 *   frag       fragment trains: in order, overlapping, non-first first,
 *              duplicated, re-used ids, tiny first fragments, ICS payloads
 *              split across fragments, for IPv4 and IPv6
 *   gen        frames of random policies (tests/lib/gen.c), each cut at
 *              every offset, bit-flipped and mutated by cg_gen_mutate()
 *
 * The fixed policy below uses every feature the judgement has. Each class
 * runs on a fresh instance and a fresh reference (connection, MAC and
 * fragment state carry from frame to frame within a class, identically on
 * both sides). One TAP line per class and policy.
 *
 * Environment:
 *   CG_MUTATE_SEED      seed of the random parts (default a fixed one, so
 *                       that `make test` is reproducible; "random": from
 *                       the clock; always printed)
 *   CG_MUTATE_POLICIES  random policies in the gen class (default 6)
 *   CG_MUTATE_VERBOSE   print every mismatch, not the first 10
 */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/bpf.h>

#include "cranegate.h"
#include "compile.h"
#include "gate.h"
#include "reference.h"
#include "frames.h"
#include "gen.h"
#include "harness.h"
#include "mutate.h"

CG_TEST_GLOBALS;

/* A class's TAP line, its reasons, and the totals. */
static void mut_run_end(struct run *r)
{
	char name[160];
	int i;

	snprintf(name, sizeof(name), "%s / %s: %lu frames agree",
		 r->policy_name, r->cls, r->frames);
	if (r->failed)
		ASSERT_TRUE(false, name);
	else
		ASSERT_EQ(r->mismatches, 0, name);
	printf("#   reasons:");
	for (i = 0; i < CG_R_MAX; i++)
		if (r->hits[i])
			printf(" %s %lu", mut_reason_name(i), r->hits[i]);
	printf("%s\n",
	       r->skipped ? " (and frames outside 14..3500 bytes)" : "");
	mut_total_frames += r->frames;
	mut_total_mismatches += r->mismatches;
	cg_ref_free(r->ref);
	cg_gate_free(r->gate);
}

/* ------------------------------------------------------------ classes */

static void cls_truncate(struct run *r, const struct frame *fs, size_t n)
{
	char what[160];
	size_t i, cut;

	for (i = 0; i < n; i++) {
		/* The whole frame first: what follows depends on its state. */
		for (cut = fs[i].len; cut >= 14 && cut <= fs[i].len; cut--) {
			snprintf(what, sizeof(what), "%s cut to %zu of %zu",
				 fs[i].what, cut, fs[i].len);
			if (!mut_judge(r, fs[i].ifname, fs[i].buf, cut, what))
				return;
		}
	}
}

static void cls_bitflip(struct run *r, const struct frame *fs, size_t n,
			struct cg_rng *rng)
{
	uint8_t buf[CG_FRAME_MAX];
	char what[160];
	size_t i, bit, k;

	for (i = 0; i < n; i++) {
		const struct frame *f = &fs[i];
		size_t bits = 8 * (f->len < FLIP_BYTES ? f->len : FLIP_BYTES);

		for (bit = 0; bit < bits; bit++) {
			memcpy(buf, f->buf, f->len);
			buf[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
			snprintf(what, sizeof(what), "%s, bit %zu flipped",
				 f->what, bit);
			if (!mut_judge(r, f->ifname, buf, f->len, what))
				return;
		}
		for (k = 0; k < RANDOM_FLIPS; k++) {
			unsigned int flips = 2 + cg_rng_below(rng, 6), j;

			memcpy(buf, f->buf, f->len);
			for (j = 0; j < flips; j++) {
				size_t b = cg_rng_below(rng, (uint32_t)f->len);

				buf[b] ^= (uint8_t)(1u << cg_rng_below(rng, 8));
			}
			snprintf(what, sizeof(what),
				 "%s, %u random bits flipped", f->what, flips);
			if (!mut_judge(r, f->ifname, buf, f->len, what))
				return;
		}
	}
}

/*
 * A lie inside an ICS request reaches step 12 only as in-order data with
 * a right TCP checksum (README step 11a): give the frame (IPv4, TCP) a
 * connection of its own, a fresh client port opened by its SYN, and the
 * checksum its new bytes have. Judges the SYN; false on a harness failure.
 */
static bool ics_prime(struct run *r, const struct frame *f, uint8_t *buf,
		      size_t len)
{
	static uint16_t port = 20000;
	const struct cg_frame_layout *l = &f->lay;
	size_t l3 = l->l3_off, l4 = l->l4_off, tcp_len, i;
	uint8_t syn[CG_FRAME_MAX];
	struct cg_frame_spec s;
	uint32_t sum = 0;
	size_t n;

	if (buf[l3] >> 4 != 4 || buf[l3 + 9] != 6 || l4 + 20 > len)
		return true;
	port = port >= 60000 ? 20000 : port + 1;
	mut_put16(buf + l4, port);
	tcp_len = (size_t)(buf[l3 + 2] << 8 | buf[l3 + 3]) -
		  (size_t)(buf[l3] & 0x0f) * 4;
	if (l4 + tcp_len <= len) {
		buf[l4 + 16] = buf[l4 + 17] = 0;
		for (i = 0; i < 8; i += 2)
			sum += (uint32_t)(buf[l3 + 12 + i] << 8 |
					  buf[l3 + 13 + i]);
		sum += 6 + (uint32_t)tcp_len;
		for (i = 0; i + 1 < tcp_len; i += 2)
			sum += (uint32_t)(buf[l4 + i] << 8 | buf[l4 + i + 1]);
		if (tcp_len & 1)
			sum += (uint32_t)buf[l4 + tcp_len - 1] << 8;
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		mut_put16(buf + l4 + 16, (uint16_t)~sum);
	}
	cg_frame_init(&s);
	s.family = 4;
	memcpy(s.src, buf + l3 + 12, 4);
	memcpy(s.dst, buf + l3 + 16, 4);
	s.proto = 6;
	s.sport = port;
	s.dport = (uint16_t)(buf[l4 + 2] << 8 | buf[l4 + 3]);
	s.tcp_flags = CG_TCP_SYN;
	s.tcp_seq = ((uint32_t)buf[l4 + 4] << 24 | buf[l4 + 5] << 16 |
		     buf[l4 + 6] << 8 | buf[l4 + 7]) -
		    1;
	n = cg_frame_build(&s, syn, sizeof(syn));
	if (!n)
		return true;
	cg_frame_station_mac(syn, n);
	return mut_judge(r, f->ifname, syn, n, "its SYN");
}

/* Values a 16-bit length field is set to: around the truth, and absurd. */
static void lie16_all(struct run *r, const struct frame *f, size_t off,
		      const char *field)
{
	uint8_t buf[CG_FRAME_MAX];
	char what[160];
	unsigned int truth, v;
	int k;
	static const int deltas[] = {-9, -8, -2, -1, 1, 2, 7, 8, 9, 64};
	static const unsigned int abs_values[] = {
		0, 1, 2, 6, 7, 8, 10, 19, 20, 39, 40, 0x7fff, 0x8000, 0xffff};

	if (off + 2 > f->len)
		return;
	truth = (unsigned int)(f->buf[off] << 8 | f->buf[off + 1]);
	for (k = 0;
	     k < (int)(sizeof(deltas) / sizeof(deltas[0])) +
			 (int)(sizeof(abs_values) / sizeof(abs_values[0]));
	     k++) {
		if (k < (int)(sizeof(deltas) / sizeof(deltas[0])))
			v = (truth + (unsigned int)deltas[k]) & 0xffff;
		else
			v = abs_values[k - sizeof(deltas) / sizeof(deltas[0])];
		memcpy(buf, f->buf, f->len);
		mut_put16(buf + off, (uint16_t)v);
		snprintf(what, sizeof(what), "%s, %s %u (truth %u)", f->what,
			 field, v, truth);
		if (f->ics != ICS_NONE && off >= f->lay.payload_off &&
		    !ics_prime(r, f, buf, f->len))
			return;
		if (!mut_judge(r, f->ifname, buf, f->len, what))
			return;
	}
}

/* Every value of a byte (or of the nibble `mask` selects). */
static void lie8_all(struct run *r, const struct frame *f, size_t off,
		     uint8_t mask, const char *field)
{
	uint8_t buf[CG_FRAME_MAX];
	char what[160];
	unsigned int v, shift = 0;

	if (off >= f->len)
		return;
	while (!((mask >> shift) & 1))
		shift++;
	for (v = 0; v <= (unsigned int)(mask >> shift); v++) {
		memcpy(buf, f->buf, f->len);
		buf[off] = (uint8_t)((buf[off] & ~mask) | (v << shift));
		snprintf(what, sizeof(what), "%s, %s %u", f->what, field, v);
		if (f->ics != ICS_NONE && off >= f->lay.payload_off &&
		    !ics_prime(r, f, buf, f->len))
			return;
		if (!mut_judge(r, f->ifname, buf, f->len, what))
			return;
	}
}

static void cls_lies(struct run *r, const struct frame *fs, size_t n)
{
	size_t i, e;

	for (i = 0; i < n; i++) {
		const struct frame *f = &fs[i];
		const struct cg_frame_layout *l = &f->lay;
		size_t l3 = l->l3_off, l4 = l->l4_off, pl = l->payload_off;
		uint8_t ver;

		if (!f->has_lay)
			continue;
		ver = f->buf[l3] >> 4;
		if (ver == 4) {
			lie8_all(r, f, l3, 0x0f, "ipv4 ihl");
			lie16_all(r, f, l3 + 2, "ipv4 total length");
		} else if (ver == 6) {
			lie16_all(r, f, l3 + 4, "ipv6 payload length");
			for (e = 0; e < CG_FRAME_MAX_EXT && l->ext_off[e] &&
				    l->ext_off[e] < l4;
			     e++)
				lie8_all(r, f, l->ext_off[e] + 1, 0xff,
					 "ipv6 extension header length");
		}
		if (l4 >= f->len)
			continue;
		/* The transport: TCP data offset, UDP length. */
		if ((ver == 4 && f->buf[l3 + 9] == 6) ||
		    (ver == 6 && f->buf[l3 + 6] == 6 && !l->ext_off[0]))
			lie8_all(r, f, l4 + 12, 0xf0, "tcp data offset");
		if ((ver == 4 && f->buf[l3 + 9] == 17) ||
		    (ver == 6 && f->buf[l3 + 6] == 17 && !l->ext_off[0]))
			lie16_all(r, f, l4 + 4, "udp length");
		if (f->ics == ICS_MODBUS) {
			lie16_all(r, f, pl + 2, "mbap protocol id");
			lie16_all(r, f, pl + 4, "mbap length");
		} else if (f->ics == ICS_S7) {
			lie16_all(r, f, pl + 2, "tpkt length");
			lie8_all(r, f, pl + 4, 0xff, "cotp length indicator");
			if (pl + 7 < f->len && f->buf[pl + 5] == 0xf0) {
				lie16_all(r, f, pl + 7 + 6,
					  "s7 parameter length");
				lie16_all(r, f, pl + 7 + 8, "s7 data length");
			}
		}
	}
}

/* Insert a 4-byte tag after the MAC addresses. */
static size_t push_tag(uint8_t *buf, size_t len, uint16_t tpid, uint16_t tci)
{
	memmove(buf + 16, buf + 12, len - 12);
	mut_put16(buf + 12, tpid);
	mut_put16(buf + 14, tci);
	return len + 4;
}

static void cls_vlan(struct run *r, const struct frame *fs, size_t n)
{
	static const uint16_t tpids[] = {0x8100, 0x88a8, 0x9100};
	static const uint16_t vids[] = {0, 1, 100, 101, 200, 4095};
	uint8_t buf[CG_FRAME_MAX];
	char what[160];
	size_t i, len;
	unsigned int depth, t, v, combo;

	for (i = 0; i < n; i++) {
		const struct frame *f = &fs[i];

		for (depth = 1; depth <= 4; depth++) {
			/* The outer tag walks every (TPID, VID); the inner
			 * ones follow a pattern derived from it. */
			for (combo = 0; combo < 3 * 6; combo++) {
				t = combo / 6;
				v = combo % 6;
				memcpy(buf, f->buf, f->len);
				len = f->len;
				for (unsigned int d = depth; d-- > 0;) {
					unsigned int tt = d ? (t + d) % 3 : t;
					unsigned int vv =
						d ? (v + 2 * d) % 6 : v;

					len = push_tag(buf, len, tpids[tt],
						       (uint16_t)(vids[vv] |
								  (d << 13)));
				}
				snprintf(what, sizeof(what),
					 "%s under %u tags, outer %04x vid %u",
					 f->what, depth, tpids[t], vids[v]);
				if (!mut_judge(r, f->ifname, buf, len, what))
					return;
				if (depth > 2 && combo > 5)
					break;
			}
		}
	}
}

static void cls_ext6(struct run *r, struct cg_rng *rng)
{
	static const uint8_t kinds[] = {0, 60, 43, 44, 51, 0, 60, 135, 59};
	static const char *const ends[] = {"icmpv6 echo", "tcp syn", "udp",
					   "nd"};
	struct frame f;
	struct cg_frame_spec s;
	char what[160];
	unsigned int chain, k, end, trial;

	for (chain = 0; chain <= 12; chain++) {
		for (end = 0; end < 4; end++) {
			for (trial = 0; trial < 24; trial++) {
				const char *src = MGT6, *dst = PLC6;
				const char *ifn = "gw3";
				int pos = 0;

				if (end == 0) {
					cg_frame_icmp(&s, HMI6, PLC6, 128, 0,
						      (uint16_t)trial);
					ifn = "gw0";
				} else if (end == 1) {
					cg_frame_tcp(&s, src, dst,
						     (uint16_t)(41000 + trial),
						     22, CG_TCP_SYN);
				} else if (end == 2) {
					cg_frame_udp(&s, src, dst,
						     (uint16_t)(41000 + trial),
						     53);
				} else {
					cg_frame_icmp(&s, HMI6,
						      "ff02::1:ff00:1", 135, 0,
						      0);
					s.ttl = 255;
					ifn = "gw0";
				}
				s.n_ext = chain;
				for (k = 0; k < chain; k++) {
					struct cg_frame_ext *x = &s.ext[k];

					x->type = kinds[(trial + k * 3 + pos) %
							sizeof(kinds)];
					/* Unknown kinds (135, 59) only in
					 * some trials: they end the walk. */
					if ((x->type == 135 || x->type == 59) &&
					    trial % 4)
						x->type = 60;
					x->len =
						(uint8_t)(cg_rng_below(rng, 3));
					if (x->type == 43) {
						x->routing_type =
							(uint8_t)(trial % 5);
						x->segs_left =
							(uint8_t)(trial % 3 ==
								  0);
					}
					if (x->type == 44) {
						x->frag_off =
							(uint16_t)(trial % 2);
						x->frag_more = trial % 3;
						x->frag_id = 1000 + trial;
					}
					pos++;
				}
				if (!mut_build(&f, &s, ifn, "ext6"))
					continue;
				snprintf(what, sizeof(what),
					 "ipv6 %s after %u extension headers "
					 "(trial %u)",
					 ends[end], chain, trial);
				if (!mut_judge(r, f.ifname, f.buf, f.len, what))
					return;
				/* And cut inside the chain. */
				if (chain && f.lay.l4_off > f.lay.ext_off[0]) {
					size_t cut =
						f.lay.ext_off[0] +
						cg_rng_below(
							rng,
							(uint32_t)(f.lay.l4_off -
								   f.lay.ext_off
									   [0]));

					snprintf(what, sizeof(what),
						 "ipv6 %s after %u extension "
						 "headers, cut to %zu",
						 ends[end], chain, cut);
					if (!mut_judge(r, f.ifname, f.buf, cut,
						       what))
						return;
				}
			}
		}
	}
}

/*
 * One fragment of a datagram whose transport bytes are `l4` (l4_len):
 * bytes [off8 * 8, off8 * 8 + len) of it, with MF as given.
 */
static bool frag4(struct frame *f, const char *src, const char *dst,
		  uint8_t proto, uint16_t id, const uint8_t *l4, size_t l4_len,
		  unsigned int off8, size_t len, bool mf, const char *ifn)
{
	struct cg_frame_spec s;

	if (off8 * 8 > l4_len)
		return false;
	if (off8 * 8 + len > l4_len)
		len = l4_len - off8 * 8;
	cg_frame_init(&s);
	cg_frame_addrs(&s, src, dst);
	s.proto = proto;
	s.no_l4 = true;
	s.ip_id = id;
	s.ip4_frag_off = (uint16_t)off8;
	s.ip4_mf = mf;
	s.payload = l4 + off8 * 8;
	s.payload_len = len;
	return mut_build(f, &s, ifn, "frag4");
}

static bool frag6(struct frame *f, const char *src, const char *dst,
		  uint8_t proto, uint32_t id, const uint8_t *l4, size_t l4_len,
		  unsigned int off8, size_t len, bool mf, const char *ifn)
{
	struct cg_frame_spec s;

	if (off8 * 8 > l4_len)
		return false;
	if (off8 * 8 + len > l4_len)
		len = l4_len - off8 * 8;
	cg_frame_init(&s);
	cg_frame_addrs(&s, src, dst);
	s.proto = proto;
	s.no_l4 = true;
	s.n_ext = 1;
	s.ext[0].type = 44;
	s.ext[0].frag_off = (uint16_t)off8;
	s.ext[0].frag_more = mf;
	s.ext[0].frag_id = id;
	s.payload = l4 + off8 * 8;
	s.payload_len = len;
	return mut_build(f, &s, ifn, "frag6");
}

/* A transport segment as bytes, to cut into fragments. */
static size_t l4_bytes(struct cg_frame_spec *s, uint8_t *out, size_t cap)
{
	struct cg_frame_layout lay;
	uint8_t buf[CG_FRAME_MAX];
	size_t len = cg_frame_build_layout(s, buf, sizeof(buf), &lay);

	if (!len || lay.ip_end - lay.l4_off > cap)
		return 0;
	memcpy(out, buf + lay.l4_off, lay.ip_end - lay.l4_off);
	return lay.ip_end - lay.l4_off;
}

static void cls_frag(struct run *r, struct cg_rng *rng)
{
	/* Each train: (offset in 8-byte units, length in bytes, MF). */
	static const struct {
		const char *name;
		unsigned int n;
		struct {
			unsigned int off8;
			unsigned int len;
			bool mf;
		} p[5];
	} trains[] = {
		{"in order",
		 3,
		 {{0, 24, true}, {3, 24, true}, {6, 200, false}}},
		{"last first",
		 3,
		 {{6, 200, false}, {3, 24, true}, {0, 24, true}}},
		{"overlap", 3, {{0, 24, true}, {2, 24, true}, {1, 200, false}}},
		{"duplicate first",
		 3,
		 {{0, 24, true}, {0, 24, true}, {3, 200, false}}},
		{"tiny first", 2, {{0, 8, true}, {1, 200, false}}},
		{"first too short for tcp",
		 2,
		 {{0, 16, true}, {2, 200, false}}},
		{"offset 1 overlap",
		 3,
		 {{0, 48, true}, {1, 16, true}, {6, 200, false}}},
		{"only non-first", 2, {{3, 24, true}, {6, 200, false}}},
		{"unfragmented with offset", 1, {{5, 64, false}}},
	};
	static const char *const kinds[] = {
		"udp plc->drive",	 "tcp mgmt->plc",   "modbus hmi->plc",
		"icmp hmi->plc",	 "udp mgmt6->plc6", "tcp mgmt6->plc6",
		"udp plc->hmi (no-rule)"};
	uint8_t l4[512], pay[160];
	struct cg_frame_spec s;
	struct frame f;
	char what[200];
	unsigned int t, k, i, round;
	size_t l4_len;
	uint32_t id = 1;

	memset(pay, 'F', sizeof(pay));
	for (round = 0; round < 3; round++) {
		for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
			bool v6 = k == 4 || k == 5;
			const char *src, *dst, *ifn;
			uint8_t proto;

			switch (k) {
			case 0:
				cg_frame_udp(&s, PLC, DRIVE, 2222, 2222);
				src = PLC, dst = DRIVE, ifn = "gw1", proto = 17;
				break;
			case 1:
				cg_frame_tcp(&s, MGT, PLC, 42000, 22,
					     CG_TCP_SYN);
				src = MGT, dst = PLC, ifn = "gw3", proto = 6;
				break;
			case 2:
				cg_frame_tcp(&s, HMI, PLC, 42001, 502,
					     CG_TCP_PSH | CG_TCP_ACK);
				pay[0] = 0, pay[1] = 1, pay[2] = 0, pay[3] = 0;
				pay[4] = 0, pay[5] = 6, pay[6] = 1, pay[7] = 6;
				src = HMI, dst = PLC, ifn = "gw0", proto = 6;
				break;
			case 3:
				cg_frame_icmp(&s, HMI, PLC, 8, 0, 77);
				src = HMI, dst = PLC, ifn = "gw0", proto = 1;
				break;
			case 4:
				cg_frame_udp(&s, MGT6, PLC6, 42002, 53);
				src = MGT6, dst = PLC6, ifn = "gw3", proto = 17;
				break;
			case 5:
				cg_frame_tcp(&s, MGT6, PLC6, 42003, 8080,
					     CG_TCP_SYN);
				src = MGT6, dst = PLC6, ifn = "gw3", proto = 6;
				break;
			default:
				cg_frame_udp(&s, PLC, HMI, 42004, 9);
				src = PLC, dst = HMI, ifn = "gw1", proto = 17;
				break;
			}
			s.payload = pay;
			s.payload_len = k == 2 ? 12 : 100 + round * 24;
			l4_len = l4_bytes(&s, l4, sizeof(l4));
			if (!l4_len)
				continue;
			for (t = 0; t < sizeof(trains) / sizeof(trains[0]);
			     t++) {
				/* Rounds after the first re-use ids. */
				uint32_t this_id =
					round == 2 ? 7 : (round ? id % 5 : id);

				id++;
				for (i = 0; i < trains[t].n; i++) {
					bool built =
						v6 ? frag6(&f, src, dst, proto,
							   this_id, l4, l4_len,
							   trains[t].p[i].off8,
							   trains[t].p[i].len,
							   trains[t].p[i].mf,
							   ifn)
						   : frag4(&f, src, dst, proto,
							   (uint16_t)this_id,
							   l4, l4_len,
							   trains[t].p[i].off8,
							   trains[t].p[i].len,
							   trains[t].p[i].mf,
							   ifn);

					if (!built)
						continue;
					snprintf(what, sizeof(what),
						 "%s, train '%s' id %u, "
						 "fragment %u (offset %u)",
						 kinds[k], trains[t].name,
						 this_id, i,
						 trains[t].p[i].off8);
					if (!mut_judge(r, f.ifname, f.buf,
						       f.len, what))
						return;
					/* Now and then the same fragment,
					 * bit-flipped. */
					if (cg_rng_pct(rng, 10)) {
						f.buf[14 +
						      cg_rng_below(
							      rng,
							      (uint32_t)(f.len -
									 14))] ^=
							(uint8_t)(1u
								  << cg_rng_below(
									     rng,
									     8));
						if (!mut_judge(r, f.ifname,
							       f.buf, f.len,
							       what))
							return;
					}
				}
			}
		}
	}
}

/*
 * Disagreements found by this test and mut_reported, each as the smallest
 * frame that shows it. While one disagrees its TAP line is a TODO (not
 * counted as a failure); once fixed it passes like any other.
 */
static void cls_known(const struct cg_policy *p, uint64_t seed)
{
	/*
	 * bpf/gate.bpf.c s7comm_refused() reads the parameters of a job
	 * with frame_ptr(ctx, s + 10, 8): a job whose S7 PDU ends fewer
	 * than 8 bytes after its header (a setup communication with 1 or 5
	 * parameter bytes) is refused as ics-denied, where README step 12
	 * (and the reference) need only the function byte. Found with
	 * CG_MUTATE_SEED=1795657901.
	 */
	static const struct {
		const char *what;
		uint8_t param[8];
		size_t plen, dlen;
	} cases[] = {
		{"s7 setup communication, 1 parameter byte", {0xf0}, 1, 0},
		{"s7 setup communication, 5 parameter and 2 data bytes",
		 {0xf0},
		 5,
		 2},
		{"s7 read variable, 1 parameter byte", {0x04}, 1, 0},
	};
	uint8_t pay[64], buf[CG_FRAME_MAX];
	struct cg_frame_spec s;
	struct cg_frame_layout lay;
	size_t i, len;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct run r;
		char name[160];
		size_t pl = mut_s7_pdu(pay, 1, cases[i].param, cases[i].plen);

		/* The data bytes follow the parameters. */
		memset(pay + pl, 0, cases[i].dlen);
		mut_put16(pay + 2, (uint16_t)(pl + cases[i].dlen));
		mut_put16(pay + 15, (uint16_t)cases[i].dlen);
		pl += cases[i].dlen;
		cg_frame_tcp(&s, MGT, PLC, 43000 + (uint16_t)i, 102,
			     CG_TCP_PSH | CG_TCP_ACK);
		s.payload = pay;
		s.payload_len = pl;
		len = cg_frame_build_layout(&s, buf, sizeof(buf), &lay);
		cg_frame_station_mac(buf, len);
		if (mut_run_begin(&r, "fixed policy", (struct cg_policy *)p,
				  "known", seed))
			continue;
		{
			/* Its SYN first: data passes in order (step 11a). */
			uint8_t syn[CG_FRAME_MAX];
			struct cg_frame_spec ss;
			size_t sl;

			cg_frame_tcp(&ss, MGT, PLC, 43000 + (uint16_t)i, 102,
				     CG_TCP_SYN);
			ss.tcp_seq = s.tcp_seq - 1;
			sl = cg_frame_build(&ss, syn, sizeof(syn));
			cg_frame_station_mac(syn, sl);
			mut_judge(&r, "gw3", syn, sl, "its SYN");
		}
		mut_judge(&r, "gw3", buf, len, cases[i].what);
		snprintf(name, sizeof(name), "fixed policy / known: %s",
			 cases[i].what);
		mut_total_frames += r.frames;
		if (r.mismatches || r.failed) {
			mut_total_mismatches_known += r.mismatches;
			cg_test_n++;
			printf("not ok %d - %s # TODO bpf: s7comm_refused() "
			       "wants "
			       "8 bytes after a job's header (reported)\n",
			       cg_test_n, name);
		} else {
			ASSERT_TRUE(true, name);
		}
		cg_ref_free(r.ref);
		cg_gate_free(r.gate);
	}
}

/* Frames of random policies: each cut at every offset and bit-flipped. */
static void cls_gen(uint64_t seed, unsigned long n_policies)
{
	struct cg_gen_frame *gf = malloc(sizeof(*gf));
	uint8_t buf[CG_FRAME_MAX];
	char what[256], pname[64];
	unsigned long pi;

	if (!gf)
		return;
	for (pi = 0; pi < n_policies; pi++) {
		struct cg_diags d = {.file = "generated"};
		struct cg_policy *p = NULL;
		struct cg_gen_frames *g;
		struct cg_rng rng;
		struct run r;
		unsigned int fi;
		size_t cut, len;
		char *yaml;

		cg_rng_seed(&rng, seed ^ (0x9e3779b97f4a7c15ull * (pi + 1)));
		yaml = cg_gen_policy(&rng);
		snprintf(pname, sizeof(pname), "generated policy %lu", pi);
		if (cg_policy_parse("generated", yaml, strlen(yaml), &p, &d)) {
			cg_diags_print(&d, stdout);
			ASSERT_TRUE(false, pname);
			cg_diags_free(&d);
			free(yaml);
			continue;
		}
		cg_diags_free(&d);
		if (mut_run_begin(&r, pname, p, "gen", seed)) {
			mut_run_end(&r);
			cg_policy_free(p);
			free(yaml);
			continue;
		}
		g = cg_gen_frames_new(p);
		for (fi = 0; g && fi < 150 && !r.failed; fi++) {
			cg_gen_frame(g, &rng, gf);
			if (!mut_judge(&r, gf->ifname, gf->buf, gf->len,
				       gf->what))
				break;
			/* Every fifth frame: every cut, then flips, then
			 * the generator's own mutations. */
			if (fi % 5)
				continue;
			for (cut = gf->len; cut-- > 14;) {
				snprintf(what, sizeof(what),
					 "%.180s, cut to %zu", gf->what, cut);
				mut_judge(&r, gf->ifname, gf->buf, cut, what);
			}
			for (unsigned int k = 0; k < 64 && gf->len; k++) {
				memcpy(buf, gf->buf, gf->len);
				buf[cg_rng_below(&rng, (uint32_t)gf->len)] ^=
					(uint8_t)(1u << cg_rng_below(&rng, 8));
				snprintf(what, sizeof(what),
					 "%.180s, a bit flipped", gf->what);
				mut_judge(&r, gf->ifname, buf, gf->len, what);
				memcpy(buf, gf->buf, gf->len);
				len = gf->len;
				what[0] = '\0';
				cg_gen_mutate(&rng, buf, &len, NULL, what,
					      sizeof(what));
				mut_judge(&r, gf->ifname, buf, len, what);
			}
		}
		if (r.mismatches)
			printf("# the policy (CG_MUTATE_SEED=%llu):\n%s\n",
			       (unsigned long long)seed, yaml);
		mut_run_end(&r);
		cg_gen_frames_free(g);
		cg_policy_free(p);
		free(yaml);
	}
	free(gf);
}

int main(void)
{
	char ifnames[CG_GEN_N_IFNAMES][CG_IFNAME_MAX];
	struct cg_diags d = {.file = "mutate"};
	struct cg_policy *p = NULL;
	struct frame *fs;
	struct timespec t0, t1;
	struct cg_rng rng;
	const char *s;
	uint64_t seed;
	unsigned long n_gen;
	struct run r;
	size_t n, i;
	int err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* A fixed seed by default, so that `make test` is reproducible;
	 * CG_MUTATE_SEED=random explores. */
	s = getenv("CG_MUTATE_SEED");
	if (s && !strcmp(s, "random"))
		seed = (uint64_t)time(NULL);
	else
		seed = s && *s ? strtoull(s, NULL, 0) : 20261126;
	s = getenv("CG_MUTATE_POLICIES");
	n_gen = s && *s ? strtoul(s, NULL, 0) : 6;
	mut_verbose = getenv("CG_MUTATE_VERBOSE") != NULL;
	printf("# seed %llu (CG_MUTATE_SEED=%llu reproduces this run)\n",
	       (unsigned long long)seed, (unsigned long long)seed);
	clock_gettime(CLOCK_MONOTONIC, &t0);

	for (i = 0; i < CG_GEN_N_IFNAMES; i++)
		snprintf(ifnames[i], CG_IFNAME_MAX, "%s", cg_gen_ifnames[i]);
	err = cg_sandbox_enter(ifnames, CG_GEN_N_IFNAMES);
	if (err) {
		printf("1..0 # SKIP cannot enter a network sandbox (%s); run "
		       "as root\n",
		       strerror(-err));
		return 0;
	}
	err = cg_policy_parse("mutate", mut_fixed_policy,
			      strlen(mut_fixed_policy), &p, &d);
	if (err)
		cg_diags_print(&d, stdout);
	cg_diags_free(&d);
	if (!ASSERT_OK(err, "the fixed policy parses"))
		return cg_test_done();
	fs = calloc(64, sizeof(*fs));
	if (!ASSERT_TRUE(fs != NULL, "allocate the base frames"))
		return cg_test_done();
	n = mut_base_frames(fs, 64);
	ASSERT_TRUE(n >= 25, "build the base frames");
	cg_rng_seed(&rng, seed);

	if (!mut_run_begin(&r, "fixed policy", p, "whole frames", seed))
		for (i = 0; i < n; i++)
			mut_judge(&r, fs[i].ifname, fs[i].buf, fs[i].len,
				  fs[i].what);
	mut_run_end(&r);
	if (!mut_run_begin(&r, "fixed policy", p, "truncate", seed))
		cls_truncate(&r, fs, n);
	mut_run_end(&r);
	if (!mut_run_begin(&r, "fixed policy", p, "bitflip", seed))
		cls_bitflip(&r, fs, n, &rng);
	mut_run_end(&r);
	if (!mut_run_begin(&r, "fixed policy", p, "lies", seed))
		cls_lies(&r, fs, n);
	mut_run_end(&r);
	if (!mut_run_begin(&r, "fixed policy", p, "vlan", seed))
		cls_vlan(&r, fs, n);
	mut_run_end(&r);
	if (!mut_run_begin(&r, "fixed policy", p, "ext6", seed))
		cls_ext6(&r, &rng);
	mut_run_end(&r);
	if (!mut_run_begin(&r, "fixed policy", p, "frag", seed))
		cls_frag(&r, &rng);
	mut_run_end(&r);
	cls_known(p, seed);
	cls_gen(seed, n_gen);

	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# %lu frames judged by both, %lu mismatches (and %lu known, "
	       "reported), %.1f s\n",
	       mut_total_frames, mut_total_mismatches,
	       mut_total_mismatches_known,
	       (double)(t1.tv_sec - t0.tv_sec) +
		       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	free(fs);
	cg_policy_free(p);
	printf("1..%d\n", cg_test_n);
	return cg_test_done();
}
