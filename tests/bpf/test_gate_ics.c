// SPDX-License-Identifier: GPL-2.0
/*
 * Crafted frames through the real XDP program (BPF_PROG_TEST_RUN): ICS
 * inspection (step 12) and the stream rule (step 11a) on the policy of
 * test_gate.c, each request in order on its own TCP connection.
 */
#include "gatetest.h"

CG_TEST_GLOBALS;

static void test_ics(struct ctx *c)
{
	struct cg_frame_spec s;
	struct cg_event ev;
	uint8_t buf[CG_FRAME_MAX];
	size_t len;
	int action;
	const char *ops = "198.18.10.20", *plc = "198.18.20.30";

	/* Modbus, read-only, over an established connection. */
	cg_frame_tcp(&s, ops, plc, 41000, 502, CG_TCP_SYN);
	len = build(&s, buf);
	expect(c, "modbus: SYN opens", "biz0", buf, len, PASS, CG_R_ALLOWED,
	       F_MB_RO);
	req_next[41000] = 1001;
	REQ("modbus: read holding registers", "biz0", ops, plc, 41000, 502,
	    PASS, CG_R_ALLOWED, F_MB_RO, 0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 10);
	REQ("modbus: write single register refused", "biz0", ops, plc, 41000,
	    502, DROP, CG_R_ICS_DENIED, F_MB_RO, 0, 2, 0, 0, 0, 6, 1, 6, 0, 1,
	    0, 42);
	cg_gate_test_run(c->g, if_nametoindex("biz0"), buf,
			 request(c, buf, ops, plc, 41000, 502,
				 (const uint8_t[]){0, 3, 0, 0, 0, 7, 1, 16, 0,
						   1, 0, 1, 2},
				 13),
			 &ev, &action);
	c->n_sent[ev.reason]++;
	ASSERT_EQ(ev.reason, CG_R_ICS_DENIED, "modbus: write multiple refused");
	ASSERT_EQ(ev.function, 16, "modbus: event names the function code");
	ASSERT_EQ(ev.ics_proto, CG_ICS_PROTO_MODBUS,
		  "modbus: and the protocol");
	REQ("modbus: two reads in one segment", "biz0", ops, plc, 41000, 502,
	    PASS, CG_R_ALLOWED, F_MB_RO, 0, 4, 0, 0, 0, 6, 1, 3, 0, 0, 0, 1, 0,
	    5, 0, 0, 0, 6, 1, 4, 0, 0, 0, 1);
	REQ("modbus: a read then a write in one segment", "biz0", ops, plc,
	    41000, 502, DROP, CG_R_ICS_DENIED, F_MB_RO, 0, 4, 0, 0, 0, 6, 1, 3,
	    0, 0, 0, 1, 0, 5, 0, 0, 0, 6, 1, 5, 0, 0, 0xff, 0);
	REQ("modbus: device identification (43/14)", "biz0", ops, plc, 41000,
	    502, PASS, CG_R_ALLOWED, F_MB_RO, 0, 6, 0, 0, 0, 5, 1, 43, 14, 1,
	    0);
	REQ("modbus: 43 with another MEI type", "biz0", ops, plc, 41000, 502,
	    DROP, CG_R_ICS_DENIED, F_MB_RO, 0, 6, 0, 0, 0, 5, 1, 43, 13, 1, 0);
	REQ("modbus: diagnostics (8)", "biz0", ops, plc, 41000, 502, DROP,
	    CG_R_ICS_DENIED, F_MB_RO, 0, 7, 0, 0, 0, 6, 1, 8, 0, 0, 0, 0);
	REQ("modbus: protocol id not 0", "biz0", ops, plc, 41000, 502, DROP,
	    CG_R_ICS_DENIED, F_MB_RO, 0, 8, 0, 1, 0, 6, 1, 3, 0, 0, 0, 10);
	REQ("modbus: length past the segment", "biz0", ops, plc, 41000, 502,
	    DROP, CG_R_ICS_DENIED, F_MB_RO, 0, 9, 0, 0, 0, 9, 1, 3, 0, 0, 0,
	    10);
	REQ("modbus: trailing bytes after the ADU", "biz0", ops, plc, 41000,
	    502, DROP, CG_R_ICS_DENIED, F_MB_RO, 0, 9, 0, 0, 0, 6, 1, 3, 0, 0,
	    0, 10, 0);
	REQ("modbus: header cut short", "biz0", ops, plc, 41000, 502, DROP,
	    CG_R_ICS_DENIED, F_MB_RO, 0, 9, 0, 0, 0);
	cg_frame_tcp(&s, plc, ops, 502, 41000, CG_TCP_ACK | CG_TCP_PSH);
	s.payload = (const uint8_t[]){0, 2, 0, 0, 0, 3, 1, 0x86, 2};
	s.payload_len = 9;
	len = build(&s, buf);
	expect(c, "modbus: responses are replies, not inspected", "crane0", buf,
	       len, PASS, CG_R_REPLY, F_MB_RO);

	/* any: framing only; a list: exactly its codes. */
	REQ("modbus any: a write passes", "biz0", "198.18.10.22", plc, 41001,
	    502, PASS, CG_R_ALLOWED, F_MB_ANY, 0, 2, 0, 0, 0, 6, 1, 6, 0, 1, 0,
	    42);
	REQ("modbus any: framing still checked", "biz0", "198.18.10.22", plc,
	    41001, 502, DROP, CG_R_ICS_DENIED, F_MB_ANY, 0, 2, 0, 0, 0, 60, 1,
	    6, 0, 1, 0, 42);
	REQ("modbus list: 6 listed", "biz0", "198.18.10.21", plc, 41002, 502,
	    PASS, CG_R_ALLOWED, F_MB_LIST, 0, 2, 0, 0, 0, 6, 1, 6, 0, 1, 0, 42);
	REQ("modbus list: 4 not listed", "biz0", "198.18.10.21", plc, 41002,
	    502, DROP, CG_R_ICS_DENIED, F_MB_LIST, 0, 2, 0, 0, 0, 6, 1, 4, 0, 1,
	    0, 1);

	/* S7comm, read-only. */
	plc = "198.18.20.31";
	REQ("s7: COTP connection request passes", "biz0", ops, plc, 42000, 102,
	    PASS, CG_R_ALLOWED, F_S7_RO, 3, 0, 0, 22, 17, 0xe0, 0, 0, 0, 1, 0,
	    0xc1, 2, 1, 0, 0xc2, 2, 1, 2, 0xc0, 1, 9);
	REQ("s7: setup communication", "biz0", ops, plc, 42000, 102, PASS,
	    CG_R_ALLOWED, F_S7_RO, 3, 0, 0, 25, 2, 0xf0, 0x80, 0x32, 1, 0, 0, 0,
	    1, 0, 8, 0, 0, 0xf0, 0, 0, 1, 0, 1, 1, 0xe0);
	REQ("s7: read variable", "biz0", ops, plc, 42000, 102, PASS,
	    CG_R_ALLOWED, F_S7_RO, 3, 0, 0, 31, 2, 0xf0, 0x80, 0x32, 1, 0, 0, 0,
	    2, 0, 14, 0, 0, 4, 1, 0x12, 10, 0x10, 2, 0, 1, 0, 1, 0x84, 0, 0, 0);
	REQ("s7: write variable refused", "biz0", ops, plc, 42000, 102, DROP,
	    CG_R_ICS_DENIED, F_S7_RO, 3, 0, 0, 36, 2, 0xf0, 0x80, 0x32, 1, 0, 0,
	    0, 3, 0, 14, 0, 5, 5, 1, 0x12, 10, 0x10, 2, 0, 1, 0, 1, 0x84, 0, 0,
	    0, 0, 4, 0, 8, 0x2a);
	REQ("s7: PLC stop refused", "biz0", ops, plc, 42000, 102, DROP,
	    CG_R_ICS_DENIED, F_S7_RO, 3, 0, 0, 33, 2, 0xf0, 0x80, 0x32, 1, 0, 0,
	    0, 4, 0, 16, 0, 0, 0x29, 0, 0, 0, 0, 0, 9, 'P', '_', 'P', 'R', 'O',
	    'G', 'R', 'A', 'M');
	REQ("s7: userdata SZL read (group 4)", "biz0", ops, plc, 42000, 102,
	    PASS, CG_R_ALLOWED, F_S7_RO, 3, 0, 0, 33, 2, 0xf0, 0x80, 0x32, 7, 0,
	    0, 0, 5, 0, 8, 0, 8, 0, 1, 0x12, 4, 0x11, 0x44, 1, 0, 0xff, 9, 0, 4,
	    0, 0x11, 0, 0);
	REQ("s7: userdata of group 1 refused", "biz0", ops, plc, 42000, 102,
	    DROP, CG_R_ICS_DENIED, F_S7_RO, 3, 0, 0, 33, 2, 0xf0, 0x80, 0x32, 7,
	    0, 0, 0, 5, 0, 8, 0, 8, 0, 1, 0x12, 4, 0x11, 0x41, 1, 0, 0xff, 9, 0,
	    4, 0, 0x11, 0, 0);
	REQ("s7: S7comm-plus refused under read-only", "biz0", ops, plc, 42000,
	    102, DROP, CG_R_ICS_DENIED, F_S7_RO, 3, 0, 0, 17, 2, 0xf0, 0x80,
	    0x72, 1, 0, 0, 0, 0, 0, 0, 0, 0);
	REQ("s7: parameter length past the TPKT", "biz0", ops, plc, 42000, 102,
	    DROP, CG_R_ICS_DENIED, F_S7_RO, 3, 0, 0, 25, 2, 0xf0, 0x80, 0x32, 1,
	    0, 0, 0, 1, 0, 80, 0, 0, 0xf0, 0, 0, 1, 0, 1, 1, 0xe0);
	REQ("s7: TPKT version not 3", "biz0", ops, plc, 42000, 102, DROP,
	    CG_R_ICS_DENIED, F_S7_RO, 2, 0, 0, 25, 2, 0xf0, 0x80, 0x32, 1, 0, 0,
	    0, 1, 0, 8, 0, 0, 0xf0, 0, 0, 1, 0, 1, 1, 0xe0);
	REQ("s7 any: S7comm-plus passes", "biz0", "198.18.10.22", plc, 42001,
	    102, PASS, CG_R_ALLOWED, F_S7_ANY, 3, 0, 0, 17, 2, 0xf0, 0x80, 0x72,
	    1, 0, 0, 0, 0, 0, 0, 0, 0);
	REQ("s7 any: PLC stop passes", "biz0", "198.18.10.22", plc, 42001, 102,
	    PASS, CG_R_ALLOWED, F_S7_ANY, 3, 0, 0, 33, 2, 0xf0, 0x80, 0x32, 1,
	    0, 0, 0, 4, 0, 16, 0, 0, 0x29, 0, 0, 0, 0, 0, 9, 'P', '_', 'P', 'R',
	    'O', 'G', 'R', 'A', 'M');
}

/*
 * One TCP segment of the stream tests, from ops:sport to the PLC's 502,
 * with what `how` changes; judged and compared.
 */
struct seg {
	uint32_t seq;
	uint32_t ack;
	uint8_t flags;
	uint8_t ttl;
	bool bad_csum;
	bool ip_opts;
};

static void stream_seg(struct ctx *c, const char *name, uint16_t sport,
		       const struct seg *sg, const uint8_t *pl, size_t n,
		       unsigned verdict, unsigned reason)
{
	struct cg_frame_spec s;
	struct cg_frame_layout lay;
	uint8_t buf[CG_FRAME_MAX];
	size_t len;

	cg_frame_tcp(&s, "198.18.10.20", "198.18.20.30", sport, 502,
		     sg->flags ? sg->flags : CG_TCP_ACK | CG_TCP_PSH);
	s.tcp_seq = sg->seq;
	s.tcp_ack = sg->ack;
	if (sg->ttl)
		s.ttl = sg->ttl;
	if (sg->ip_opts)
		s.ip4_opts_len = 4;
	s.payload = pl;
	s.payload_len = n;
	len = cg_frame_build_layout(&s, buf, sizeof(buf), &lay);
	if (sg->bad_csum)
		buf[lay.l4_off + 16] ^= 0x5a;
	expect(c, name, "biz0", buf, len, verdict, reason,
	       reason == CG_R_ICS_DENIED || reason == CG_R_ALLOWED ||
			       reason == CG_R_STREAM
		       ? F_MB_RO
		       : NONE);
}

/* The responder's SYN-ACK (sequence number 4999) of a stream test. */
static void stream_synack(struct ctx *c, uint16_t sport, uint32_t ack)
{
	struct cg_frame_spec s;
	uint8_t buf[CG_FRAME_MAX];
	size_t len;

	cg_frame_tcp(&s, "198.18.20.30", "198.18.10.20", 502, sport,
		     CG_TCP_SYN | CG_TCP_ACK);
	s.tcp_seq = 4999;
	s.tcp_ack = ack;
	len = build(&s, buf);
	expect(c, "stream: the SYN-ACK is a reply", "crane0", buf, len, PASS,
	       CG_R_REPLY, F_MB_RO);
}

/*
 * The stream rule on the real program: the overlap (a read at S,
 * then at S+4 bytes that the receiver would take as a write), rewritten
 * retransmissions, reordering, insertion, urgent data. What the gate
 * passes is what the receiver delivers.
 */
static void test_stream(struct ctx *c)
{
	static const uint8_t rd[] = {0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 1};
	/* From S+4: 8 bytes the receiver drops as old, then FC 6 1 := 42. */
	static const uint8_t ov[] = {0, 6, 1, 3, 0, 0, 0, 1, 0, 2,
				     0, 0, 0, 6, 1, 6, 0, 1, 0, 0x2a};
	static const uint8_t rd2[] = {0, 2, 0, 0, 0, 6, 1, 4, 0, 0, 0, 1};
	static const uint8_t wr[] = {0, 2, 0, 0, 0, 6, 1, 6, 0, 1, 0, 0x2a};
	const uint16_t sp = 43000;
	const uint32_t isn = 7000;
	struct seg sg = {.seq = isn, .flags = CG_TCP_SYN};

	stream_seg(c, "stream: SYN opens", sp, &sg, NULL, 0, PASS,
		   CG_R_ALLOWED);
	stream_synack(c, sp, isn + 1);
	sg = (struct seg){.seq = isn + 1, .ack = 5000};
	stream_seg(c, "stream: a read in order passes", sp, &sg, rd, sizeof(rd),
		   PASS, CG_R_ALLOWED);
	sg.seq = isn + 5;
	stream_seg(c, "stream: overlap forward (the issue's write) drops", sp,
		   &sg, ov, sizeof(ov), DROP, CG_R_STREAM);
	sg.seq = isn + 1;
	stream_seg(c, "stream: an exact retransmission passes", sp, &sg, rd,
		   sizeof(rd), PASS, CG_R_ALLOWED);
	stream_seg(c, "stream: a rewritten retransmission drops", sp, &sg, wr,
		   sizeof(wr), DROP, CG_R_STREAM);
	sg.seq = isn + 13 + 12;
	stream_seg(c, "stream: data after a hole drops", sp, &sg, rd2,
		   sizeof(rd2), DROP, CG_R_STREAM);
	sg.seq = isn + 13;
	sg.ttl = 1;
	stream_seg(c, "stream: TTL 1 (insertion) drops", sp, &sg, rd2,
		   sizeof(rd2), DROP, CG_R_STREAM);
	sg.ttl = 0;
	sg.bad_csum = true;
	stream_seg(c, "stream: a bad TCP checksum (insertion) drops", sp, &sg,
		   rd2, sizeof(rd2), DROP, CG_R_STREAM);
	sg.bad_csum = false;
	sg.flags = CG_TCP_ACK | CG_TCP_PSH | 0x20;
	stream_seg(c, "stream: URG drops", sp, &sg, rd2, sizeof(rd2), DROP,
		   CG_R_STREAM);
	sg.flags = CG_TCP_PSH;
	stream_seg(c, "stream: data without ACK drops", sp, &sg, rd2,
		   sizeof(rd2), DROP, CG_R_STREAM);
	sg.flags = 0;
	sg.ack = 9000;
	stream_seg(c, "stream: an ACK of unsent data drops", sp, &sg, rd2,
		   sizeof(rd2), DROP, CG_R_STREAM);
	sg.ack = 5000;
	sg.ip_opts = true;
	stream_seg(c, "stream: IPv4 options drop", sp, &sg, rd2, sizeof(rd2),
		   DROP, CG_R_STREAM);
	sg.ip_opts = false;
	stream_seg(c, "stream: one byte of an ADU drops", sp, &sg, rd2, 1, DROP,
		   CG_R_ICS_DENIED);
	stream_seg(c, "stream: the write in order is refused", sp, &sg, wr,
		   sizeof(wr), DROP, CG_R_ICS_DENIED);
	stream_seg(c, "stream: after all that, the next read passes", sp, &sg,
		   rd2, sizeof(rd2), PASS, CG_R_ALLOWED);
	sg = (struct seg){.seq = 123456, .flags = CG_TCP_SYN};
	stream_seg(c, "stream: another ISN on the live stream drops", sp, &sg,
		   NULL, 0, DROP, CG_R_STREAM);
	/* Picked up: data drops until the responder's ACK says where. */
	sg = (struct seg){.seq = 9000, .ack = 5000};
	stream_seg(c, "stream: picked up, a bare ACK opens it", 43001, &sg,
		   NULL, 0, PASS, CG_R_ALLOWED);
	stream_seg(c, "stream: picked up, data drops", 43001, &sg, rd,
		   sizeof(rd), DROP, CG_R_STREAM);
	{
		struct cg_frame_spec s;
		uint8_t buf[CG_FRAME_MAX];
		size_t len;

		cg_frame_tcp(&s, "198.18.20.30", "198.18.10.20", 502, 43001,
			     CG_TCP_ACK);
		s.tcp_seq = 5000;
		s.tcp_ack = 9000;
		len = build(&s, buf);
		expect(c, "stream: picked up, the responder's ACK", "crane0",
		       buf, len, PASS, CG_R_REPLY, F_MB_RO);
	}
	stream_seg(c, "stream: picked up, then data at its ACK passes", 43001,
		   &sg, rd, sizeof(rd), PASS, CG_R_ALLOWED);
}

int main(void)
{
	struct ctx c = {};
	struct cg_policy *p = NULL;
	struct cg_compiled *cp = NULL;

	if (!ASSERT_OK(cg_sandbox_enter(ifnames, 4), "private namespace"))
		return cg_test_done();
	c.g = load(policy_text, &p, &cp);
	if (c.g) {
		test_ics(&c);
		test_stream(&c);
	}
	cg_gate_free(c.g);
	cg_compiled_free(cp);
	cg_policy_free(p);
	return cg_test_done();
}
