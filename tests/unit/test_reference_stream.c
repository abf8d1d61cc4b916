// SPDX-License-Identifier: GPL-2.0
/*
 * The reference evaluator against hand-worked cases, step 11a: the stream
 * rule on inspected flows, with real sequence numbers: handshakes with and
 * without window scaling, data in order, retransmissions, windows,
 * connections picked up without their SYN, S7comm and IPv6, closing, and
 * monitor mode.
 */
#include "refics.h"

CG_TEST_GLOBALS;

/*
 * The stream rule (step 11a), clause by clause, on explicit segments: a
 * client (the opener) and its server, in the zone on crane0.
 */
struct st_conn {
	struct cg_refeval *r;
	const char *cli, *srv, *cif;
	uint16_t cport, sport;
};

/* A segment of the connection, from the client or from the server. */
static void st_spec(struct cg_frame_spec *s, const struct st_conn *c,
		    bool from_srv, uint8_t flags, uint32_t seq, uint32_t ack)
{
	if (from_srv)
		cg_frame_tcp(s, c->srv, c->cli, c->sport, c->cport, flags);
	else
		cg_frame_tcp(s, c->cli, c->srv, c->cport, c->sport, flags);
	s->tcp_seq = seq;
	s->tcp_ack = ack;
}

/* Judge it (its TCP checksum broken if `bad_csum`), compare, return why. */
static unsigned int st_expect(const struct st_conn *c, const char *name,
			      const struct cg_frame_spec *s, bool from_srv,
			      bool bad_csum, const char *want)
{
	static uint8_t frame[CG_FRAME_MAX];
	struct cg_frame_layout lay;
	struct cg_ref_result res;
	size_t n = cg_frame_build_layout(s, frame, sizeof(frame), &lay);

	if (!n) {
		ASSERT_TRUE(false, name);
		return CG_R_MAX;
	}
	if (bad_csum)
		frame[lay.l4_off + 17] ^= 0x01;
	cg_frame_station_mac(frame, n);
	cg_ref_eval(c->r, from_srv ? "crane0" : c->cif, frame, n, &res);
	expect_res(name, &res, want);
	return res.would;
}

/* A client segment carrying `pl`. */
static void st_data(const struct st_conn *c, const char *name, uint8_t flags,
		    uint32_t seq, const uint8_t *pl, size_t len,
		    const char *want)
{
	struct cg_frame_spec s;

	st_spec(&s, c, false, flags, seq, 5000);
	s.payload = pl;
	s.payload_len = len;
	st_expect(c, name, &s, false, false, want);
}

/* A server ACK (or another flag set) with a window. */
static void st_srv(const struct st_conn *c, const char *name, uint8_t flags,
		   uint32_t ack, uint16_t win, const char *want)
{
	struct cg_frame_spec s;

	st_spec(&s, c, true, flags, 5000, ack);
	s.tcp_win = win;
	st_expect(c, name, &s, true, false, want);
}

/* The window scale option (NOP, kind 3, length 3, value). */
static const uint8_t ws7[4] = {1, 3, 3, 7};
static const uint8_t ws20[4] = {1, 3, 3, 20};

/* A SYN (with window scale if `ws`) or a SYN-ACK. */
static void st_syn(const struct st_conn *c, const char *name, bool from_srv,
		   uint32_t seq, uint32_t ack, const uint8_t *ws,
		   const char *want)
{
	struct cg_frame_spec s;

	st_spec(&s, c, from_srv,
		from_srv ? CG_TCP_SYN | CG_TCP_ACK : CG_TCP_SYN, seq, ack);
	if (ws) {
		s.tcp_opts = ws;
		s.tcp_opts_len = 4;
	}
	st_expect(c, name, &s, from_srv, false, want);
}

#define PA (CG_TCP_PSH | CG_TCP_ACK)
#define OK_READ "allowed flow 0 fn 0x3"
#define OK_NONE "allowed flow 0 fn -"
#define STREAM "stream flow 0 fn -"
#define REPLY "reply flow 0 fn -"

static void test_stream_handshake_and_data(struct cg_refeval *r)
{
	struct st_conn c = {r,	    "198.18.10.5", "198.18.20.11",
			    "biz0", 50000,	   502};
	const uint32_t isn = 0xfffffff0; /* the stream wraps past 2^32 */
	uint8_t a[16], b[16], cc[16], w[16], two[64], buf[512];
	size_t la = mb(a, 3), lb, lc, lw = mb(w, 6), n, i;
	uint32_t nx = isn + 1, edge;
	struct cg_frame_spec s;

	lb = cg_modbus_request(b, sizeof(b), 2, 1, 4, 14);
	lc = cg_modbus_request(cc, sizeof(cc), 3, 1, 1, 14);

	/* 4. SYNs. */
	st_syn(&c, "stream: the opener's SYN (window scale) passes", false, isn,
	       0, ws7, OK_NONE);
	st_syn(&c, "stream: its retransmission (same ISN) passes", false, isn,
	       0, ws7, OK_NONE);
	st_syn(&c, "stream: a SYN with another ISN on a live connection", false,
	       isn + 7, 0, NULL, STREAM);
	st_spec(&s, &c, false, CG_TCP_SYN | CG_TCP_ACK, isn, 1);
	st_expect(&c, "stream: SYN+ACK from the opener", &s, false, false,
		  STREAM);
	st_spec(&s, &c, false, CG_TCP_SYN | CG_TCP_FIN, isn, 0);
	st_expect(&c, "stream: SYN+FIN", &s, false, false, STREAM);
	st_syn(&c, "stream: SYN-ACK (window scale 7) is a reply", true, 4999,
	       nx, ws7, REPLY);

	/* 5. The opener's first segment after its SYN must start at isn+1. */
	st_data(&c, "stream: first segment at isn+2", CG_TCP_ACK, nx + 1, NULL,
		0, STREAM);
	st_data(&c, "stream: data at isn+2 (a hole)", PA, nx + 1, a, la,
		STREAM);
	st_data(&c, "stream: handshake ACK at isn+1", CG_TCP_ACK, nx, NULL, 0,
		OK_NONE);
	/* Window: ack + (1 << 7) = isn + 1 + 128. */
	st_srv(&c, "stream: the server's ACK sets the window", CG_TCP_ACK, nx,
	       1, REPLY);
	edge = nx + 128;

	/* 6. In order, retransmissions, overlaps, holes. */
	st_data(&c, "stream: in-order read", PA, nx, a, la, OK_READ);
	st_data(&c, "stream: exact retransmission passes uninspected", PA, nx,
		a, la, OK_NONE);
	memcpy(buf, w, lw);
	st_data(&c, "stream: rewritten retransmission (a write)", PA, nx, w, lw,
		STREAM);
	memcpy(buf, a, la);
	buf[la - 1] ^= 0xff;
	st_data(&c, "stream: retransmission with one byte changed", PA, nx, buf,
		la, STREAM);
	nx += (uint32_t)la;
	st_data(&c, "stream: a hole before the data", PA, nx + 1, b, lb,
		STREAM);
	st_data(&c, "stream: a write in order: ics-denied, nothing moves", PA,
		nx, w, lw, "ics-denied flow 0 fn 0x6");
	st_data(&c, "stream: the next read in order", PA, nx, b, lb,
		"allowed flow 0 fn 0x4");
	memcpy(two, a, la);
	memcpy(two + la, b, lb);
	st_data(&c, "stream: two runs collapsed into one retransmission", PA,
		nx - (uint32_t)la, two, la + lb, OK_NONE);
	st_data(&c, "stream: partial retransmission (half a run)", PA,
		nx - (uint32_t)la, a, la / 2, STREAM);
	st_data(&c, "stream: retransmission from inside a run", PA,
		nx - (uint32_t)la + 4, a + 4, la - 4, STREAM);
	nx += (uint32_t)lb;
	/* Forward overlap: the tail of b, then new bytes parsed from b's
	 * middle (the attack of issue 12). */
	memcpy(buf, b + 4, lb - 4);
	n = lb - 4 + lw;
	memcpy(buf + lb - 4, w, lw);
	st_data(&c, "stream: forward overlap from inside a passed run", PA,
		nx - (uint32_t)lb + 4, buf, n, STREAM);
	/* Backward overlap: passed runs again, then new data. */
	memcpy(two, a, la);
	memcpy(two + la, b, lb);
	memcpy(two + la + lb, cc, lc);
	st_data(&c, "stream: old runs then new data: the new part inspected",
		PA, nx - (uint32_t)(la + lb), two, la + lb + lc,
		"allowed flow 0 fn 0x1");
	nx += (uint32_t)lc;
	memcpy(two, b, lb);
	two[lb - 1] ^= 1;
	memcpy(two + lb, a, la);
	st_data(&c, "stream: a rewritten old run before new data", PA,
		nx - (uint32_t)(lb + lc), two, lb + lc + la, STREAM);
	memcpy(two, cc, lc);
	memcpy(two + lc, w, lw);
	st_data(&c, "stream: an old run then a write: ics-denied", PA,
		nx - (uint32_t)lc, two, lc + lw, "ics-denied flow 0 fn 0x6");

	/* The window: isn + 129 is its right edge. */
	n = 0;
	for (i = 0; n + la <= (size_t)(edge - nx); i++)
		n += mb(buf + n, 3);
	st_data(&c, "stream: data one ADU past the window", PA, nx, buf,
		n + mb(buf + n, 3), STREAM);
	n = 0;
	for (i = 0; n + la <= (size_t)(edge - nx) && i < 8; i++)
		n += mb(buf + n, 3);
	st_data(&c, "stream: data up to the window's edge", PA, nx, buf, n,
		OK_READ);
	nx += (uint32_t)n;
	st_data(&c, "stream: the next read is past the window", PA, nx, a, la,
		STREAM);
	st_srv(&c, "stream: the server opens the window", CG_TCP_ACK, nx, 1,
	       REPLY);
	st_srv(&c, "stream: a smaller window does not shrink it", CG_TCP_ACK,
	       nx, 0, REPLY);
	st_data(&c, "stream: now it fits", PA, nx, a, la, OK_READ);
	nx += (uint32_t)la;
	memcpy(two, a, la);
	st_data(&c, "stream: a run older than the last 4 is forgotten", PA,
		isn + 1, two, la, STREAM);

	/* 1-3. What the receiver would never see, or see otherwise. */
	st_spec(&s, &c, false, PA, nx, 5000);
	s.payload = a;
	s.payload_len = la;
	s.ttl = 1;
	st_expect(&c, "stream: TTL 1", &s, false, false, STREAM);
	s.ttl = 0;
	st_expect(&c, "stream: TTL 0", &s, false, false, STREAM);
	s.ttl = 2;
	st_expect(&c, "stream: bad TCP checksum", &s, false, true, STREAM);
	s.tcp_flags = PA | 0x20;
	st_expect(&c, "stream: URG", &s, false, false, STREAM);
	s.tcp_flags = PA;
	st_expect(&c, "stream: TTL 2, right checksum: in order", &s, false,
		  false, OK_READ);
	nx += (uint32_t)la;

	/* Keepalive, window probe without data, FIN. */
	st_data(&c, "stream: keepalive at next-1", CG_TCP_ACK, nx - 1, NULL, 0,
		OK_NONE);
	st_data(&c, "stream: FIN not at next: stays open",
		CG_TCP_FIN | CG_TCP_ACK, nx - 1, NULL, 0, OK_NONE);
	st_data(&c, "stream: FIN with a read", CG_TCP_FIN | PA, nx, a, la,
		OK_READ);
	nx += (uint32_t)la;
	st_data(&c, "stream: closed: data", PA, nx + 1, b, lb, STREAM);
	st_data(&c, "stream: closed: a bare ACK passes", CG_TCP_ACK, nx + 1,
		NULL, 0, OK_NONE);
	st_syn(&c, "stream: closed: a new SYN starts afresh", false, 777, 0,
	       NULL, OK_NONE);
	st_data(&c, "stream: and its first data at isn+1", PA, 778, a, la,
		OK_READ);
	st_data(&c, "stream: old records were emptied", PA, isn + 1, a, la,
		STREAM);
	st_srv(&c, "stream: the server's RST is a reply", CG_TCP_RST, 0, 0,
	       REPLY);
	st_data(&c, "stream: after the server's RST: data", PA, 778 + la, b, lb,
		STREAM);
	st_spec(&s, &c, true, PA, 5000, 1);
	n = cg_modbus_response(buf, sizeof(buf), 1, 1, 16, 0);
	buf[4] = 0x7f; /* a broken MBAP length */
	s.payload = buf;
	s.payload_len = n;
	st_expect(&c, "stream: a (broken) response is a reply, not inspected",
		  &s, true, false, REPLY);
	s.payload_len = 0;
	s.tcp_flags = CG_TCP_ACK;
	s.ttl = 1;
	st_expect(&c, "stream: the server's frames never drop for it (TTL 1)",
		  &s, true, false, REPLY);
	s.ttl = 64;
	st_expect(&c, "stream: nor for a bad checksum", &s, true, true, REPLY);
}

static void test_stream_syn_and_window(struct cg_refeval *r)
{
	struct st_conn c = {r,	    "198.18.10.5", "198.18.20.11",
			    "biz0", 50001,	   502};
	uint8_t a[16], buf[4200];
	size_t la = mb(a, 3), n;

	{
		struct cg_frame_spec s;

		st_spec(&s, &c, false, CG_TCP_SYN, 100, 0);
		s.payload = a;
		s.payload_len = la;
		st_expect(&c, "stream: a SYN carrying data", &s, false, false,
			  STREAM);
	}
	/* No window scale offered: the server's scale counts for nothing. */
	st_syn(&c, "window: SYN without window scale", false, 100, 0, NULL,
	       OK_NONE);
	st_syn(&c, "window: SYN-ACK with scale 7", true, 4999, 101, ws7, REPLY);
	st_data(&c, "window: unknown before the server's first ACK", PA, 101, a,
		la, OK_READ);
	st_srv(&c, "window: server ACK, window 24 unscaled", CG_TCP_ACK,
	       101 + la, 24, REPLY);
	n = mb(buf, 3);
	n += mb(buf + n, 3);
	st_data(&c, "window: 24 bytes fit", PA, 101 + la, buf, n, OK_READ);
	st_data(&c, "window: one byte more does not", PA, 101 + la + n, a, 1,
		STREAM);

	/* A segment of 4,096 bytes is judged; 4,097 drops. */
	c.cport = 50002;
	st_syn(&c, "size: SYN", false, 100, 0, NULL, OK_NONE);
	memset(buf, 0, sizeof(buf));
	st_data(&c, "size: 4,096-byte segment reaches inspection", PA, 101, buf,
		4076, "ics-denied flow 0 fn -");
	st_data(&c, "size: 4,097-byte segment", PA, 101, buf, 4077, STREAM);

	/* The scale is capped at 14. */
	c.cport = 50003;
	st_syn(&c, "cap: SYN with window scale", false, 100, 0, ws7, OK_NONE);
	st_syn(&c, "cap: SYN-ACK with scale 20", true, 4999, 101, ws20, REPLY);
	/* ack = next - 16384 + 24, window 1: the edge is next + 24 with
	 * the scale capped at 14 (it would be far beyond at 20). */
	st_srv(&c, "cap: server ACK", CG_TCP_ACK, 101 - 16384 + 24, 1, REPLY);
	n = mb(buf, 3);
	n += mb(buf + n, 3);
	st_data(&c, "cap: 24 bytes fit", PA, 101, buf, n, OK_READ);
	st_data(&c, "cap: the next read is past the edge", PA, 101 + n, a, la,
		STREAM);
}

static void test_stream_picked_up(struct cg_refeval *r)
{
	struct st_conn c = {r,	    "198.18.10.5", "198.18.20.11",
			    "biz0", 50010,	   502};
	uint8_t a[16], buf[128];
	size_t la = mb(a, 3), n = 0, conns, i;

	conns = cg_ref_n_conns(r);
	st_data(&c, "picked up: data without a SYN", PA, 9000, a, la, STREAM);
	ASSERT_EQ(cg_ref_n_conns(r), conns,
		  "picked up: a stream drop opens no connection");
	st_srv(&c, "picked up: so the server's ACK is no reply", CG_TCP_ACK,
	       9000, 0, "no-rule flow -1 fn -");
	c.cport = 50011;
	st_syn(&c, "picked up: (another connection) SYN", false, 1, 0, NULL,
	       OK_NONE);
	st_data(&c, "picked up: a denied first segment", PA, 2, a, mb(a, 6),
		"ics-denied flow 0 fn 0x6");
	mb(a, 3);
	c.cport = 50010;
	st_data(&c, "picked up: a bare ACK opens it", CG_TCP_ACK, 9000, NULL, 0,
		OK_NONE);
	st_data(&c, "picked up: data while unsynchronized", PA, 9000, a, la,
		STREAM);
	st_syn(&c, "picked up: a SYN on it", false, 8999, 0, NULL, STREAM);
	st_srv(&c, "picked up: the server's ACK tells next", CG_TCP_ACK, 9100,
	       0, REPLY);
	st_data(&c, "picked up: data before next", PA, 9000, a, la, STREAM);
	for (i = 0; i < 8; i++)
		n += mb(buf + n, 3);
	st_data(&c, "picked up: data at next, no window check", PA, 9100, buf,
		n, OK_READ);
	st_data(&c, "picked up: its retransmission", PA, 9100, buf, n, OK_NONE);
}

static void test_stream_s7_and_v6(struct cg_refeval *r)
{
	struct st_conn c = {r,	    "198.18.10.5", "198.18.20.11",
			    "biz0", 50020,	   102};
	struct st_conn c6 = {
		r, "2001:2:0:10::5", "2001:2:0:20::11", "biz0", 50021, 502};
	uint8_t cr[64], rd[64], wr[64];
	size_t lcr = cg_cotp_tpdu(cr, sizeof(cr), CG_COTP_CR),
	       lrd = job(rd, 0x04), lwr = job(wr, 0x05);
	struct cg_frame_spec s;
	uint8_t a[16];
	size_t la = mb(a, 3);

	st_syn(&c, "s7 stream: SYN", false, 10, 0, NULL, "allowed flow 1 fn -");
	st_data(&c, "s7 stream: COTP CR", PA, 11, cr, lcr,
		"allowed flow 1 fn -");
	st_data(&c, "s7 stream: read job", PA, 11 + lcr, rd, lrd,
		"allowed flow 1 fn 0x4");
	st_data(&c, "s7 stream: its retransmission", PA, 11 + lcr, rd, lrd,
		"allowed flow 1 fn -");
	st_data(&c, "s7 stream: rewritten as a write (same length)", PA,
		11 + lcr, wr, lwr < lrd ? lwr : lrd, "stream flow 1 fn -");
	st_data(&c, "s7 stream: a write in order", PA, 11 + lcr + lrd, wr, lwr,
		"ics-denied flow 1 fn 0x5");

	st_syn(&c6, "IPv6 stream: SYN", false, 10, 0, NULL,
	       "allowed flow 6 fn -");
	st_spec(&s, &c6, false, PA, 11, 5000);
	s.payload = a;
	s.payload_len = la;
	s.ttl = 1;
	st_expect(&c6, "IPv6 stream: hop limit 1", &s, false, false,
		  "stream flow 6 fn -");
	s.ttl = 64;
	st_expect(&c6, "IPv6 stream: bad checksum", &s, false, true,
		  "stream flow 6 fn -");
	st_expect(&c6, "IPv6 stream: in order", &s, false, false,
		  "allowed flow 6 fn 0x3");
}

static void test_stream_close(struct cg_refeval *r)
{
	struct st_conn c = {r,	    "198.18.10.5", "198.18.20.11",
			    "biz0", 50030,	   502};
	uint8_t a[16];
	size_t la = mb(a, 3);

	st_syn(&c, "close: SYN", false, 100, 0, NULL, OK_NONE);
	st_data(&c, "close: a read", PA, 101, a, la, OK_READ);
	st_data(&c, "close: a bare FIN at next", CG_TCP_FIN | CG_TCP_ACK,
		101 + la, NULL, 0, OK_NONE);
	st_data(&c, "close: then data", PA, 101 + la, a, la, STREAM);
	st_data(&c, "close: even a retransmission", PA, 101, a, la, STREAM);

	c.cport = 50031;
	st_syn(&c, "close: SYN (2)", false, 100, 0, NULL, OK_NONE);
	st_data(&c, "close: a RST carrying a read", CG_TCP_RST | CG_TCP_ACK,
		101, a, la, OK_READ);
	st_data(&c, "close: then data (2)", PA, 101 + la, a, la, STREAM);
	st_data(&c, "close: a RST not at next", CG_TCP_RST, 7, NULL, 0,
		OK_NONE);
}

/* Monitor mode: a would-be stream drop passes and changes nothing. */
static void test_stream_monitor(struct cg_refeval *rm)
{
	struct st_conn c = {rm,	    "198.18.10.5", "198.18.20.11",
			    "biz0", 50040,	   502};
	uint8_t a[16], w[16];
	size_t la = mb(a, 3), lw = mb(w, 6);

	st_syn(&c, "monitor stream: SYN", false, 100, 0, NULL, OK_NONE);
	st_data(&c, "monitor stream: a read", PA, 101, a, la, OK_READ);
	st_data(&c, "monitor stream: rewritten retransmission", PA, 101, w, lw,
		"monitor would stream flow 0 fn -");
	st_data(&c, "monitor stream: the retransmission is still exact", PA,
		101, a, la, OK_NONE);
	st_data(&c, "monitor stream: a hole", PA, 200, a, la,
		"monitor would stream flow 0 fn -");
	st_data(&c, "monitor stream: next has not moved", PA, 101 + la, a, la,
		OK_READ);
}

static void test_stream(struct cg_refeval *r)
{
	test_stream_handshake_and_data(r);
	test_stream_syn_and_window(r);
	test_stream_picked_up(r);
	test_stream_s7_and_v6(r);
	test_stream_close(r);
}

int main(void)
{
	struct cg_policy *p = load(ics_yaml, "enforce");
	struct cg_refeval *r = p ? cg_ref_new(p) : NULL;
	struct cg_policy *pm = load(ics_yaml, "monitor");
	struct cg_refeval *rm = pm ? cg_ref_new(pm) : NULL;

	if (ASSERT_TRUE(r && rm, "ICS policies load")) {
		test_stream(r);
		test_stream_monitor(rm);
	}
	cg_ref_free(r);
	cg_policy_free(p);
	cg_ref_free(rm);
	cg_policy_free(pm);
	return cg_test_done();
}
