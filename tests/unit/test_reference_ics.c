// SPDX-License-Identifier: GPL-2.0
/*
 * The reference evaluator against hand-worked cases, step 12: Modbus,
 * S7comm and EtherNet/IP requests on inspected flows and their framing
 * across segments, and deny: reset (test_reference.c has the steps
 * before, test_reference_stream.c the stream rule).
 */
#include "refics.h"

CG_TEST_GLOBALS;

static void test_modbus_read_only(struct cg_refeval *r)
{
	static const uint8_t reads[] = {1, 2, 3, 4, 7, 11, 12, 17, 20, 24};
	static const uint8_t denied[] = {5,  6,	 15,  16,  22, 23,   8,
					 21, 90, 125, 126, 0,  0x83, 0xff};
	uint8_t pl[512];
	char name[96], want[64];
	size_t n, i;

	for (i = 0; i < sizeof(reads); i++) {
		snprintf(name, sizeof(name), "modbus read-only: %u allowed",
			 reads[i]);
		snprintf(want, sizeof(want), "allowed flow 0 fn %#x", reads[i]);
		expect_ics(r, name, &hmi_502, pl, mb(pl, reads[i]), want);
	}
	expect_ics(r, "modbus read-only: 43/14 (device id) allowed", &hmi_502,
		   pl, mb(pl, 43), "allowed flow 0 fn 0x2b");
	for (i = 0; i < sizeof(denied); i++) {
		snprintf(name, sizeof(name), "modbus read-only: %u denied",
			 denied[i]);
		snprintf(want, sizeof(want), "ics-denied flow 0 fn %#x",
			 denied[i]);
		if (!denied[i])
			snprintf(want, sizeof(want), "ics-denied flow 0 fn 0");
		expect_ics(r, name, &hmi_502, pl, mb(pl, denied[i]), want);
	}
	n = cg_modbus_request(pl, sizeof(pl), 1, 1, 43, 13);
	expect_ics(r, "modbus read-only: 43/13 (CANopen) denied", &hmi_502, pl,
		   n, "ics-denied flow 0 fn 0x2b");
	n = cg_modbus_adu(pl, sizeof(pl), 1, 1, 43, NULL, 0);
	expect_ics(r, "modbus read-only: 43 without its MEI type denied",
		   &hmi_502, pl, n, "ics-denied flow 0 fn 0x2b");
	/* The MEI byte sits after the ADU, in the next ADU's header. */
	n = cg_modbus_adu(pl, sizeof(pl), 0x0e00, 1, 43, NULL, 0);
	n += cg_modbus_adu(pl + n, sizeof(pl) - n, 0x0e0e, 1, 3, NULL, 0);
	expect_ics(r, "modbus read-only: MEI type read within the ADU only",
		   &hmi_502, pl, n, "ics-denied flow 0 fn 0x2b");

	n = mb(pl, 3);
	n += mb(pl + n, 4);
	expect_ics(r, "modbus: two reads in one segment allowed", &hmi_502, pl,
		   n, "allowed flow 0 fn 0x4");
	n = mb(pl, 3);
	n += mb(pl + n, 6);
	n += mb(pl + n, 3);
	expect_ics(r, "modbus: a write behind a read denied", &hmi_502, pl, n,
		   "ics-denied flow 0 fn 0x6");
	for (i = 0, n = 0; i < 8; i++)
		n += mb(pl + n, 3);
	expect_ics(r, "modbus: 8 ADUs allowed", &hmi_502, pl, n,
		   "allowed flow 0 fn 0x3");
	n += mb(pl + n, 3);
	expect_ics(r, "modbus: 9 ADUs denied", &hmi_502, pl, n,
		   "ics-denied flow 0 fn -");
}

static void test_modbus_framing(struct cg_refeval *r)
{
	uint8_t pl[512];
	size_t n;

	n = mb(pl, 3);
	pl[3] = 1;
	expect_ics(r, "modbus: protocol id 1 denied", &hmi_502, pl, n,
		   "ics-denied flow 0 fn -");
	n = mb(pl, 3);
	pl[2] = 0x80;
	expect_ics(r, "modbus: protocol id 0x8000 denied", &hmi_502, pl, n,
		   "ics-denied flow 0 fn -");
	n = mb(pl, 3);
	pl[5] = 1;
	expect_ics(r, "modbus: length 1 denied", &hmi_502, pl, n,
		   "ics-denied flow 0 fn -");
	pl[5] = 0;
	expect_ics(r, "modbus: length 0 denied", &hmi_502, pl, n,
		   "ics-denied flow 0 fn -");
	n = mb(pl, 3);
	pl[5]++;
	expect_ics(r, "modbus: length one past the payload denied", &hmi_502,
		   pl, n, "ics-denied flow 0 fn -");
	n = mb(pl, 3);
	pl[4] = 0xff;
	expect_ics(r, "modbus: length far past the payload denied", &hmi_502,
		   pl, n, "ics-denied flow 0 fn -");
	n = mb(pl, 3);
	pl[5]--;
	expect_ics(r, "modbus: length one short (a byte left over) denied",
		   &hmi_502, pl, n, "ics-denied flow 0 fn -");
	n = mb(pl, 3);
	pl[n++] = 0;
	expect_ics(r, "modbus: a trailing byte denied", &hmi_502, pl, n,
		   "ics-denied flow 0 fn -");
	n = mb(pl, 3);
	expect_ics(r, "modbus: MBAP without a function code denied", &hmi_502,
		   pl, 7, "ics-denied flow 0 fn -");
	expect_ics(r, "modbus: 3 bytes denied", &hmi_502, pl, 3,
		   "ics-denied flow 0 fn -");
	n = cg_modbus_adu(pl, sizeof(pl), 1, 1, 7, NULL, 0);
	expect_ics(r, "modbus: shortest ADU (length 2) allowed", &hmi_502, pl,
		   n, "allowed flow 0 fn 0x7");
	n = mb(pl, 3);
	n += mb(pl + n, 3);
	pl[n / 2 + 5]++; /* the second ADU's MBAP length, low byte */
	expect_ics(r, "modbus: second ADU's length lies denied", &hmi_502, pl,
		   n, "ics-denied flow 0 fn -");
}

static void test_s7_read_only(struct cg_refeval *r)
{
	static const uint8_t denied[] = {0x05, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e,
					 0x1f, 0x28, 0x29, 0x00, 0xff};
	uint8_t pl[512];
	char name[96], want[64];
	size_t n, i;
	uint8_t g;

	expect_ics(r, "s7 read-only: COTP CR allowed", &hmi_102, pl,
		   cg_cotp_tpdu(pl, sizeof(pl), CG_COTP_CR),
		   "allowed flow 1 fn -");
	expect_ics(r, "s7 read-only: COTP CC allowed", &hmi_102, pl,
		   cg_cotp_tpdu(pl, sizeof(pl), CG_COTP_CC),
		   "allowed flow 1 fn -");
	expect_ics(r, "s7 read-only: COTP DR allowed", &hmi_102, pl,
		   cg_cotp_tpdu(pl, sizeof(pl), CG_COTP_DR),
		   "allowed flow 1 fn -");
	expect_ics(r, "s7 read-only: COTP DC allowed", &hmi_102, pl,
		   cg_cotp_tpdu(pl, sizeof(pl), CG_COTP_DC),
		   "allowed flow 1 fn -");
	expect_ics(r, "s7 read-only: COTP expedited data denied", &hmi_102, pl,
		   cg_cotp_tpdu(pl, sizeof(pl), 0x10),
		   "ics-denied flow 1 fn -");
	expect_ics(r, "s7 read-only: COTP error TPDU denied", &hmi_102, pl,
		   cg_cotp_tpdu(pl, sizeof(pl), 0x70),
		   "ics-denied flow 1 fn -");
	expect_ics(r, "s7 read-only: setup communication allowed", &hmi_102, pl,
		   job(pl, 0xf0), "allowed flow 1 fn 0xf0");
	expect_ics(r, "s7 read-only: read variable allowed", &hmi_102, pl,
		   job(pl, 0x04), "allowed flow 1 fn 0x4");
	for (i = 0; i < sizeof(denied); i++) {
		snprintf(name, sizeof(name), "s7 read-only: job %#x denied",
			 denied[i]);
		snprintf(want, sizeof(want), "ics-denied flow 1 fn %#x",
			 denied[i]);
		if (!denied[i])
			snprintf(want, sizeof(want), "ics-denied flow 1 fn 0");
		expect_ics(r, name, &hmi_102, pl, job(pl, denied[i]), want);
	}
	for (g = 0; g < 16; g++) {
		bool ok = g == 3 || g == 4;

		snprintf(name, sizeof(name),
			 "s7 read-only: userdata request group %u %s", g,
			 ok ? "allowed" : "denied");
		snprintf(want, sizeof(want), "%s flow 1 fn %#x",
			 ok ? "allowed" : "ics-denied", 0x700 + g);
		expect_ics(r, name, &hmi_102, pl,
			   cg_s7_userdata(pl, sizeof(pl), 1, CG_S7_UD_REQUEST,
					  g, 1),
			   want);
	}
	expect_ics(r, "s7 read-only: userdata response (SZL) denied", &hmi_102,
		   pl,
		   cg_s7_userdata(pl, sizeof(pl), 1, CG_S7_UD_RESPONSE, 4, 1),
		   "ics-denied flow 1 fn 0x704");
	expect_ics(r, "s7 read-only: userdata push denied", &hmi_102, pl,
		   cg_s7_userdata(pl, sizeof(pl), 1, CG_S7_UD_PUSH, 3, 1),
		   "ics-denied flow 1 fn 0x703");
	expect_ics(r, "s7 read-only: an ack-data from the client denied",
		   &hmi_102, pl, cg_s7_ack_data(pl, sizeof(pl), 1, 0x04),
		   "ics-denied flow 1 fn -");
	expect_ics(r, "s7 read-only: S7comm-plus denied", &hmi_102, pl,
		   cg_s7plus(pl, sizeof(pl), 0x31), "ics-denied flow 1 fn -");
	n = cg_s7_pdu(pl, sizeof(pl), CG_S7_PROTO, CG_S7_JOB, 1, NULL, 0, NULL,
		      0);
	expect_ics(r, "s7 read-only: a job without parameters denied", &hmi_102,
		   pl, n, "ics-denied flow 1 fn -");
	{
		static const uint8_t fn[1] = {0x04};

		n = cg_s7_pdu(pl, sizeof(pl), CG_S7_PROTO, CG_S7_JOB, 1, fn, 1,
			      NULL, 0);
		expect_ics(r,
			   "s7 read-only: a read whose parameters are its "
			   "function byte alone allowed",
			   &hmi_102, pl, n, "allowed flow 1 fn 0x4");
	}
	{
		static const uint8_t ud[7] = {0x00, 0x01, 0x12, 0x04,
					      0x11, 0x44, 0x01};

		n = cg_s7_pdu(pl, sizeof(pl), CG_S7_PROTO, CG_S7_USERDATA, 1,
			      ud, sizeof(ud), NULL, 0);
		expect_ics(r,
			   "s7 read-only: userdata parameters shorter than "
			   "their 8-byte header denied",
			   &hmi_102, pl, n, "ics-denied flow 1 fn -");
	}
	n = job(pl, 0x04);
	pl[7] = 0x31; /* the protocol id, after TPKT (4) and COTP DT (3) */
	expect_ics(r, "s7: protocol id 0x31 denied", &hmi_102, pl, n,
		   "ics-denied flow 1 fn -");

	n = cg_cotp_tpdu(pl, sizeof(pl), CG_COTP_CR);
	n += job(pl + n, 0xf0);
	n += job(pl + n, 0x04);
	expect_ics(r, "s7: CR, setup and read in one segment allowed", &hmi_102,
		   pl, n, "allowed flow 1 fn 0x4");
	n += job(pl + n, 0x04);
	expect_ics(r, "s7: 4 TPKTs allowed", &hmi_102, pl, n,
		   "allowed flow 1 fn 0x4");
	n += job(pl + n, 0x04);
	expect_ics(r, "s7: 5 TPKTs denied", &hmi_102, pl, n,
		   "ics-denied flow 1 fn -");
	n = job(pl, 0x04);
	n += job(pl + n, 0x29);
	expect_ics(r, "s7: a stop behind a read denied", &hmi_102, pl, n,
		   "ics-denied flow 1 fn 0x29");
	n = job(pl, 0x04);
	n += cg_cotp_tpdu(pl + n, sizeof(pl) - n, CG_COTP_DR);
	expect_ics(r, "s7: function of the last TPKT (a DR names none)",
		   &hmi_102, pl, n, "allowed flow 1 fn -");
}

static void test_s7_framing(struct cg_refeval *r)
{
	uint8_t pl[512];
	size_t n;

	n = job(pl, 0x04);
	pl[0] = 2;
	expect_ics(r, "s7: TPKT version 2 denied", &hmi_102, pl, n,
		   "ics-denied flow 1 fn -");
	n = job(pl, 0x04);
	pl[1] = 0x40;
	expect_ics(r, "s7: TPKT reserved byte not 0 denied", &hmi_102, pl, n,
		   "ics-denied flow 1 fn -");
	n = job(pl, 0x04);
	pl[3]++;
	expect_ics(r, "s7: TPKT length one past the payload denied", &hmi_102,
		   pl, n, "ics-denied flow 1 fn -");
	n = job(pl, 0x04);
	pl[3]--;
	expect_ics(r, "s7: TPKT length one short denied", &hmi_102, pl, n,
		   "ics-denied flow 1 fn -");
	n = job(pl, 0x04);
	pl[2] = 0;
	pl[3] = 6;
	expect_ics(r, "s7: TPKT length 6 denied", &hmi_102, pl, n,
		   "ics-denied flow 1 fn -");
	expect_ics(r, "s7: 3 bytes denied", &hmi_102, pl, 3,
		   "ics-denied flow 1 fn -");
	{
		/* The shortest TPKT: 7 bytes, COTP LI 2 holding a DC. */
		static const uint8_t tiny[] = {3, 0, 0, 7, 2, 0xc0, 0};

		expect_ics(r, "s7: a 7-byte TPKT with a DC allowed", &hmi_102,
			   tiny, sizeof(tiny), "allowed flow 1 fn -");
	}
	n = job(pl, 0x04);
	pl[4] = 0;
	expect_ics(r, "s7: COTP length indicator 0 denied", &hmi_102, pl, n,
		   "ics-denied flow 1 fn -");
	n = cg_cotp_tpdu(pl, sizeof(pl), CG_COTP_CR);
	pl[4]++;
	expect_ics(r, "s7: COTP header past its TPKT denied", &hmi_102, pl, n,
		   "ics-denied flow 1 fn -");
	pl[4]--;
	expect_ics(r, "s7: COTP header filling its TPKT allowed", &hmi_102, pl,
		   n, "allowed flow 1 fn -");
	n = job(pl, 0x04);
	pl[4] = 0x20; /* the S7 PDU starts past the TPKT's end */
	expect_ics(r, "s7: COTP DT header past its TPKT denied", &hmi_102, pl,
		   n, "ics-denied flow 1 fn -");
	{
		/* A DT with a 9-byte S7 PDU. */
		static const uint8_t short_pdu[] = {3,	  0,	0, 16, 2, 0xf0,
						    0x80, 0x32, 1, 0,  0, 0,
						    1,	  0,	0, 0};

		expect_ics(r, "s7: a 9-byte S7 PDU denied", &hmi_102, short_pdu,
			   sizeof(short_pdu), "ics-denied flow 1 fn -");
	}
	n = job(pl, 0x04);
	pl[7 + 7]++; /* parameter length, low byte */
	expect_ics(r, "s7: parameter length one too long denied", &hmi_102, pl,
		   n, "ics-denied flow 1 fn -");
	n = job(pl, 0x04);
	pl[7 + 9] = 1; /* data length */
	expect_ics(r, "s7: data length past the TPKT denied", &hmi_102, pl, n,
		   "ics-denied flow 1 fn -");
	n = job(pl, 0x04);
	pl[7 + 7]--;
	expect_ics(r, "s7: parameters shorter than the PDU still fit", &hmi_102,
		   pl, n, "allowed flow 1 fn 0x4");
}

static void test_ics_lists_and_any(struct cg_refeval *r)
{
	struct ics_seg eng = {"198.18.10.6", "198.18.20.11",
			      "biz0",	     43000,
			      502,	     CG_TCP_PSH | CG_TCP_ACK};
	struct ics_seg mgt = {"198.18.30.9", "198.18.20.11",
			      "mgmt0",	     44000,
			      502,	     CG_TCP_PSH | CG_TCP_ACK};
	struct ics_seg scada = {"198.18.10.7", "198.18.20.11",
				"biz0",	       45000,
				102,	       CG_TCP_PSH | CG_TCP_ACK};
	struct ics_seg hist = {"198.18.10.8", "198.18.20.11",
			       "biz0",	      46000,
			       502,	      CG_TCP_PSH | CG_TCP_ACK};
	struct ics_seg hmi6 = {
		"2001:2:0:10::5",	"2001:2:0:20::11", "biz0", 47000, 502,
		CG_TCP_PSH | CG_TCP_ACK};
	uint8_t pl[512];
	size_t n;

	expect_ics(r, "modbus list [3, 6]: 3 allowed", &eng, pl, mb(pl, 3),
		   "allowed flow 2 fn 0x3");
	expect_ics(r, "modbus list [3, 6]: 6 allowed", &eng, pl, mb(pl, 6),
		   "allowed flow 2 fn 0x6");
	expect_ics(r, "modbus list [3, 6]: 4 (a read) denied", &eng, pl,
		   mb(pl, 4), "ics-denied flow 2 fn 0x4");
	expect_ics(r, "modbus list [3, 6]: 16 denied", &eng, pl, mb(pl, 16),
		   "ics-denied flow 2 fn 0x10");
	expect_ics(r, "modbus list: framing still checked", &eng, pl, 7,
		   "ics-denied flow 2 fn -");
	eng.dport = 102;
	expect_ics(r, "s7 list [4, 5]: write allowed", &eng, pl, job(pl, 0x05),
		   "allowed flow 2 fn 0x5");
	expect_ics(r, "s7 list [4, 5]: read allowed", &eng, pl, job(pl, 0x04),
		   "allowed flow 2 fn 0x4");
	expect_ics(r, "s7 list [4, 5]: setup denied", &eng, pl, job(pl, 0xf0),
		   "ics-denied flow 2 fn 0xf0");
	expect_ics(r, "s7 list: userdata (SZL read) denied", &eng, pl,
		   cg_s7_userdata(pl, sizeof(pl), 1, CG_S7_UD_REQUEST, 4, 1),
		   "ics-denied flow 2 fn 0x704");
	expect_ics(r, "s7 list: COTP CR allowed", &eng, pl,
		   cg_cotp_tpdu(pl, sizeof(pl), CG_COTP_CR),
		   "allowed flow 2 fn -");
	expect_ics(r, "s7 list: S7comm-plus denied", &eng, pl,
		   cg_s7plus(pl, sizeof(pl), 0x31), "ics-denied flow 2 fn -");
	expect_ics(r, "both keys: Modbus on 102 is read as S7comm", &eng, pl,
		   mb(pl, 3), "ics-denied flow 2 fn -");

	expect_ics(r, "modbus any: write allowed", &mgt, pl, mb(pl, 16),
		   "allowed flow 3 fn 0x10");
	expect_ics(r, "modbus any: exception-like code allowed", &mgt, pl,
		   mb(pl, 0x90), "allowed flow 3 fn 0x90");
	n = mb(pl, 16);
	pl[3] = 1;
	expect_ics(r, "modbus any: framing still checked", &mgt, pl, n,
		   "ics-denied flow 3 fn -");
	mgt.dport = 8080;
	expect_ics(r, "both keys: Modbus on any other port", &mgt, pl,
		   mb(pl, 16), "allowed flow 3 fn 0x10");
	expect_ics(r, "both keys: S7comm on another port is framed as Modbus",
		   &mgt, pl, job(pl, 0x04), "ics-denied flow 3 fn -");
	mgt.dport = 102;
	expect_ics(r, "s7 any: PLC stop allowed", &mgt, pl, job(pl, 0x29),
		   "allowed flow 3 fn 0x29");
	expect_ics(r, "s7 any: download allowed", &mgt, pl, job(pl, 0x1a),
		   "allowed flow 3 fn 0x1a");
	expect_ics(r, "s7 any: userdata of group 7 allowed", &mgt, pl,
		   cg_s7_userdata(pl, sizeof(pl), 1, CG_S7_UD_REQUEST, 7, 1),
		   "allowed flow 3 fn 0x707");
	expect_ics(r, "s7 any: S7comm-plus allowed", &mgt, pl,
		   cg_s7plus(pl, sizeof(pl), 0x31), "allowed flow 3 fn -");
	expect_ics(r, "s7 any: an ack-data allowed", &mgt, pl,
		   cg_s7_ack_data(pl, sizeof(pl), 1, 0x04),
		   "allowed flow 3 fn -");
	n = job(pl, 0x29);
	pl[3] += 2;
	expect_ics(r, "s7 any: framing still checked", &mgt, pl, n,
		   "ics-denied flow 3 fn -");

	expect_ics(r, "modbus on every port: a read to 102 allowed", &scada, pl,
		   mb(pl, 3), "allowed flow 4 fn 0x3");
	expect_ics(r, "modbus on every port: a write to 102 denied", &scada, pl,
		   mb(pl, 6), "ics-denied flow 4 fn 0x6");
	expect_ics(r, "no ICS key: a write passes uninspected", &hist, pl,
		   mb(pl, 6), "allowed flow 5 fn -");
	expect_ics(r, "no ICS key: nor is the framing checked", &hist, pl, 5,
		   "allowed flow 5 fn -");
	expect_ics(r, "IPv6: a read allowed", &hmi6, pl, mb(pl, 3),
		   "allowed flow 6 fn 0x3");
	expect_ics(r, "IPv6: a write denied", &hmi6, pl, mb(pl, 6),
		   "ics-denied flow 6 fn 0x6");
}

/* TCP options, Ethernet padding and fragments around the payload. */
static void test_ics_payload_bounds(struct cg_refeval *r)
{
	static const struct ics_seg seg = {
		"198.18.10.5", "198.18.20.11", "biz0", 48000, 502, CG_TCP_ACK};
	struct ics_conv *cv = ics_conv(r, &seg);
	struct cg_frame_spec s;
	uint8_t pl[512], buf[CG_FRAME_MAX];
	size_t n;

	if (!ASSERT_TRUE(cv, "payload bounds: the connection opens"))
		return;
	cg_frame_tcp(&s, "198.18.10.5", "198.18.20.11", 48000, 502,
		     CG_TCP_PSH | CG_TCP_ACK);
	s.tcp_seq = cv->next;
	s.tcp_opts_len = 12;
	s.payload = pl;
	s.payload_len = mb(pl, 3);
	expect(r, "modbus behind TCP options: read allowed", "biz0", &s,
	       "allowed flow 0 from 0 to 1");
	s.tcp_seq += (uint32_t)s.payload_len;
	s.payload_len = mb(pl, 6);
	expect(r, "modbus behind TCP options: write denied", "biz0", &s,
	       "ics-denied flow 0 from 0 to 1");

	s.tcp_opts_len = 0;
	s.payload_len = 0;
	s.pad_to = 60;
	expect(r, "Ethernet padding is not payload: bare ACK allowed", "biz0",
	       &s, "allowed flow 0 from 0 to 1");
	s.pad_to = 0;
	s.payload_len = mb(pl, 3);
	n = cg_frame_build(&s, buf, sizeof(buf));
	memset(buf + n, 0, 16);
	expect_buf(r, "padding after a whole ADU is ignored", "biz0", buf,
		   n + 16, "allowed flow 0 from 0 to 1");

	s.tcp_seq += (uint32_t)s.payload_len;
	s.ip4_mf = true;
	s.ip_id = 77;
	s.payload_len = mb(pl, 6);
	expect(r,
	       "a first fragment on an inspected flow: fragment (its "
	       "checksum cannot be verified)",
	       "biz0", &s, "fragment flow 0 from 0 to 1");
	s.ip4_frag_off = 4;
	s.ip4_mf = false;
	s.no_l4 = true;
	expect(r, "and its next fragment has no decision to follow", "biz0", &s,
	       "fragment flow -1 from 0 to -1");
	s.ip_id = 78;
	s.ip4_frag_off = 0;
	s.ip4_mf = true;
	s.no_l4 = false;
	s.payload_len = mb(pl, 3);
	expect(r, "a first fragment with a read: fragment too", "biz0", &s,
	       "fragment flow 0 from 0 to 1");
	s.ip4_frag_off = 4;
	s.ip4_mf = false;
	s.no_l4 = true;
	s.payload_len = mb(pl, 6);
	expect(r, "but its next fragment does not follow it", "biz0", &s,
	       "fragment flow -1 from 0 to -1");

	/* Nor do a reply's fragments, on an ICS flow. */
	cg_frame_tcp(&s, "198.18.10.5", "198.18.20.11", 48001, 502, CG_TCP_SYN);
	expect(r, "a SYN opens the connection", "biz0", &s,
	       "allowed flow 0 from 0 to 1");
	cg_frame_tcp(&s, "198.18.20.11", "198.18.10.5", 502, 48001,
		     CG_TCP_PSH | CG_TCP_ACK);
	s.ip4_mf = true;
	s.ip_id = 79;
	s.payload = pl;
	s.payload_len = cg_modbus_response(pl, sizeof(pl), 1, 1, 3, 0);
	expect(r, "the PLC's first fragment (a reply): fragment", "crane0", &s,
	       "fragment flow 0 from 1 to 0");
	s.ip4_mf = false;
	s.ip4_frag_off = 4;
	s.no_l4 = true;
	expect(r, "its next fragment does not follow it", "crane0", &s,
	       "fragment flow -1 from 1 to -1");

	/* On a flow without ICS keys, fragments follow as ever. */
	cg_frame_tcp(&s, "198.18.10.8", "198.18.20.11", 48002, 502,
		     CG_TCP_PSH | CG_TCP_ACK);
	s.ip4_mf = true;
	s.ip_id = 80;
	s.payload = pl;
	s.payload_len = mb(pl, 6);
	expect(r, "uninspected flow: first fragment allowed", "biz0", &s,
	       "allowed flow 5 from 0 to 1");
	s.ip4_mf = false;
	s.ip4_frag_off = 4;
	s.no_l4 = true;
	expect(r, "uninspected flow: its next fragment follows", "biz0", &s,
	       "allowed flow 5 from 0 to 1");
}

static void test_ics(void)
{
	struct cg_policy *p = load(ics_yaml, "enforce");
	struct cg_refeval *r = p ? cg_ref_new(p) : NULL;
	struct cg_policy *pm = load(ics_yaml, "monitor");
	struct cg_refeval *rm = pm ? cg_ref_new(pm) : NULL;
	uint8_t pl[512];

	if (!ASSERT_TRUE(r && rm, "ICS policies load"))
		goto out;
	test_modbus_read_only(r);
	test_modbus_framing(r);
	test_s7_read_only(r);
	test_s7_framing(r);
	test_ics_lists_and_any(r);
	test_ics_payload_bounds(r);

	expect_ics(rm, "monitor: a write passes as monitor", &hmi_502, pl,
		   mb(pl, 6), "monitor would ics-denied flow 0 fn 0x6");
	ASSERT_EQ(cg_ref_n_conns(rm), 1,
		  "monitor: a would-be denial opens nothing (one connection: "
		  "the handshake's)");
	expect_ics(rm, "monitor: a read is allowed", &hmi_502, pl, mb(pl, 3),
		   "allowed flow 0 fn 0x3");
out:
	cg_ref_free(r);
	cg_policy_free(p);
	cg_ref_free(rm);
	cg_policy_free(pm);
}

/*
 * deny: reset: a refused request is answered (res.reset) and its
 * connection forgotten; never in monitor mode, for a segment with RST, or
 * on a deny: drop flow; the connection of a drop stays.
 */
static const char reset_yaml[] =
	"version: 1\n"
	"name: reset\n"
	"zones:\n"
	"  business: {interfaces: [biz0], networks: [198.18.10.0/24]}\n"
	"  control: {interfaces: [crane0], networks: [198.18.20.0/24]}\n"
	"flows:\n"
	"  - {name: drop, from: 198.18.10.9, to: control, proto: tcp, "
	"ports: [502], modbus: read-only}\n"
	"  - {name: reset, from: business, to: control, proto: tcp, "
	"ports: [502], modbus: read-only, deny: reset}\n";

static void reset_case(const char *mode, const char *src, uint8_t flags,
		       bool want_reset, size_t want_conns, const char *what)
{
	struct cg_policy *p = load(reset_yaml, mode);
	struct cg_refeval *r = p ? cg_ref_new(p) : NULL;
	struct ics_seg sg = {src, "198.18.20.11", "biz0", 42000, 502, flags};
	struct ics_conv *cv;
	struct cg_frame_spec s;
	struct cg_ref_result res = {0};
	uint8_t pl[64];
	char name[160];
	size_t n = mb(pl, 6);

	if (!ASSERT_TRUE(r, "reset: policy loads"))
		goto out;
	cv = ics_conv(r, &sg);
	if (!ASSERT_TRUE(cv, "reset: handshake") ||
	    cg_frame_tcp(&s, src, "198.18.20.11", 42000, 502, flags))
		goto out;
	s.tcp_seq = cv->next;
	s.tcp_ack = 1;
	s.payload = pl;
	s.payload_len = n;
	judge_spec(r, "biz0", &s, &res);
	snprintf(name, sizeof(name), "reset: %s: the write is refused", what);
	ASSERT_EQ(res.would, CG_R_ICS_DENIED, name);
	snprintf(name, sizeof(name), "reset: %s: a write is %s", what,
		 want_reset ? "answered with a RST" : "not answered");
	ASSERT_EQ(res.reset, want_reset, name);
	snprintf(name, sizeof(name), "reset: %s: connections left", what);
	ASSERT_EQ(cg_ref_n_conns(r), want_conns, name);
out:
	n_ics_convs = 0;
	cg_ref_free(r);
	cg_policy_free(p);
}

static void test_reset(void)
{
	reset_case("enforce", "198.18.10.5", CG_TCP_PSH | CG_TCP_ACK, true, 0,
		   "deny: reset");
	reset_case("enforce", "198.18.10.9", CG_TCP_PSH | CG_TCP_ACK, false, 1,
		   "deny: drop");
	reset_case("monitor", "198.18.10.5", CG_TCP_PSH | CG_TCP_ACK, false, 1,
		   "monitor");
	reset_case("enforce", "198.18.10.5", CG_TCP_RST | CG_TCP_ACK, false, 1,
		   "RST|ACK with a write");
}

int main(void)
{
	test_ics();
	test_reset();
	return cg_test_done();
}
