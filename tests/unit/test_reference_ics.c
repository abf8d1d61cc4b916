// SPDX-License-Identifier: GPL-2.0
/*
 * The reference evaluator against hand-worked cases, step 12 and the
 * stream rule: Modbus, S7comm and EtherNet/IP requests on inspected flows,
 * their framing across segments, and the stream rule's handshakes,
 * windows, retransmissions and pick-ups (test_reference.c has the other
 * steps).
 */
#include "reftest.h"

CG_TEST_GLOBALS;

/*
 * ICS functions (step 12). Zone ids: 0 business, 1 control, 2 mgmt. Flow
 * ids: 0 hmi-modbus (read-only), 1 hmi-s7 (read-only), 2 eng-lists (both
 * keys, lists), 3 mgmt-any (both keys, any, every port), 4 scada-modbus
 * (read-only on every port), 5 historian (no inspection), 6 hmi6-modbus.
 */
static const char ics_yaml[] =
	"version: 1\n"
	"name: ics\n"
	"zones:\n"
	"  business:\n"
	"    interfaces: [biz0]\n"
	"    networks: [198.18.10.0/24, 2001:2:0:10::/64]\n"
	"  control:\n"
	"    interfaces: [crane0]\n"
	"    networks: [198.18.20.0/24, 2001:2:0:20::/64]\n"
	"  mgmt:\n"
	"    interfaces: [mgmt0]\n"
	"    networks: [198.18.30.0/24]\n"
	"flows:\n"
	"  - name: hmi-modbus\n"
	"    from: 198.18.10.5\n"
	"    to: control\n"
	"    proto: tcp\n"
	"    ports: [502]\n"
	"    modbus: read-only\n"
	"  - name: hmi-s7\n"
	"    from: 198.18.10.5\n"
	"    to: control\n"
	"    proto: tcp\n"
	"    ports: [102]\n"
	"    s7comm: read-only\n"
	"  - name: eng-lists\n"
	"    from: 198.18.10.6\n"
	"    to: control\n"
	"    proto: tcp\n"
	"    ports: [102, 502]\n"
	"    modbus: [3, 6]\n"
	"    s7comm: [0x04, 0x05]\n"
	"  - name: mgmt-any\n"
	"    from: mgmt\n"
	"    to: control\n"
	"    proto: tcp\n"
	"    modbus: any\n"
	"    s7comm: any\n"
	"  - name: scada-modbus\n"
	"    from: 198.18.10.7\n"
	"    to: control\n"
	"    proto: tcp\n"
	"    modbus: read-only\n"
	"  - name: historian\n"
	"    from: 198.18.10.8\n"
	"    to: control\n"
	"    proto: tcp\n"
	"    ports: [502]\n"
	"  - name: hmi6-modbus\n"
	"    from: 2001:2:0:10::5\n"
	"    to: control\n"
	"    proto: tcp\n"
	"    ports: [502]\n"
	"    modbus: read-only\n";

/* A TCP segment of an ICS conversation and what it carries. */
struct ics_seg {
	const char *src, *dst, *ifname;
	uint16_t sport, dport;
	uint8_t flags;
};

/* "REASON flow F fn X": the function as events carry it, "-" for none. */
static void expect_res(const char *name, const struct cg_ref_result *res,
		       const char *want)
{
	char got[96], fn[16];

	if (res->function == CG_FUNC_NONE)
		snprintf(fn, sizeof(fn), "-");
	else
		snprintf(fn, sizeof(fn), "%#x", res->function);
	snprintf(got, sizeof(got), "%s%s%s flow %d fn %s",
		 cg_reason_names[res->reason],
		 res->would != res->reason ? " would " : "",
		 res->would != res->reason ? cg_reason_names[res->would] : "",
		 res->flow == CG_FLOW_NONE ? -1 : (int)res->flow, fn);
	ASSERT_STREQ(got, want, name);
}

/* Judge a built TCP spec; fills *res. Returns false if it does not build. */
static bool judge_spec(struct cg_refeval *r, const char *ifname,
		       const struct cg_frame_spec *s, struct cg_ref_result *res)
{
	static uint8_t frame[CG_FRAME_MAX];
	size_t n = cg_frame_build(s, frame, sizeof(frame));

	if (!n)
		return false;
	cg_frame_station_mac(frame, n);
	cg_ref_eval(r, ifname, frame, n, res);
	return true;
}

/*
 * The conversations expect_ics keeps in order, so that each request is
 * judged as the next data of a synchronized connection (the stream rule,
 * step 11a): one per (client, client port, server port), with the next
 * sequence number its server expects.
 */
struct ics_conv {
	const struct cg_refeval *r;
	char src[48];
	uint16_t sport, dport;
	uint32_t next;
};

#define ICS_CONVS 64
#define ICS_ISN 1000 /* every conversation's initial sequence number */
static struct ics_conv ics_convs[ICS_CONVS];
static size_t n_ics_convs;

/*
 * The conversation of a segment, opened if new: the client's SYN and the
 * server's SYN-ACK (every server of these tests is in the zone on
 * crane0). NULL if the handshake does not pass.
 */
static struct ics_conv *ics_conv(struct cg_refeval *r, const struct ics_seg *sg)
{
	struct cg_frame_spec s;
	struct cg_ref_result res;
	struct ics_conv *cv;
	size_t i;

	for (i = 0; i < n_ics_convs; i++) {
		cv = &ics_convs[i];
		if (cv->r == r && !strcmp(cv->src, sg->src) &&
		    cv->sport == sg->sport && cv->dport == sg->dport)
			return cv;
	}
	if (n_ics_convs == ICS_CONVS)
		return NULL;
	cg_frame_tcp(&s, sg->src, sg->dst, sg->sport, sg->dport, CG_TCP_SYN);
	s.tcp_seq = ICS_ISN;
	if (!judge_spec(r, sg->ifname, &s, &res) || res.reason != CG_R_ALLOWED)
		return NULL;
	cg_frame_tcp(&s, sg->dst, sg->src, sg->dport, sg->sport,
		     CG_TCP_SYN | CG_TCP_ACK);
	s.tcp_ack = ICS_ISN + 1;
	if (!judge_spec(r, "crane0", &s, &res) || res.reason != CG_R_REPLY)
		return NULL;
	cv = &ics_convs[n_ics_convs++];
	cv->r = r;
	snprintf(cv->src, sizeof(cv->src), "%s", sg->src);
	cv->sport = sg->sport;
	cv->dport = sg->dport;
	cv->next = ICS_ISN + 1;
	return cv;
}

/*
 * Judge a TCP frame carrying `pl` as the next data of its conversation
 * (opened first if new) and compare "REASON flow F fn X". What passes
 * moves the conversation on.
 */
static void expect_ics(struct cg_refeval *r, const char *name,
		       const struct ics_seg *sg, const uint8_t *pl, size_t len,
		       const char *want)
{
	struct cg_frame_spec s;
	struct cg_ref_result res;
	struct ics_conv *cv = ics_conv(r, sg);

	if (!cv || cg_frame_tcp(&s, sg->src, sg->dst, sg->sport, sg->dport,
				sg->flags)) {
		ASSERT_TRUE(false, name);
		return;
	}
	s.tcp_seq = cv->next;
	s.payload = pl;
	s.payload_len = len;
	if (!judge_spec(r, sg->ifname, &s, &res)) {
		ASSERT_TRUE(false, name);
		return;
	}
	if (res.reason == CG_R_ALLOWED)
		cv->next += (uint32_t)len;
	expect_res(name, &res, want);
}

static const struct ics_seg hmi_502 = {"198.18.10.5", "198.18.20.11",
				       "biz0",	      41000,
				       502,	      CG_TCP_PSH | CG_TCP_ACK};
static const struct ics_seg hmi_102 = {"198.18.10.5", "198.18.20.11",
				       "biz0",	      41001,
				       102,	      CG_TCP_PSH | CG_TCP_ACK};

/* One Modbus request of `fc` (MEI type 14 for 43). */
static size_t mb(uint8_t *buf, uint8_t fc)
{
	return cg_modbus_request(buf, 512, 1, 1, fc, 14);
}

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

/* One S7 job of `func`. */
static size_t job(uint8_t *buf, uint8_t func)
{
	return cg_s7_job(buf, 512, 0x0100, func);
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
	test_stream(r);

	expect_ics(rm, "monitor: a write passes as monitor", &hmi_502, pl,
		   mb(pl, 6), "monitor would ics-denied flow 0 fn 0x6");
	ASSERT_EQ(cg_ref_n_conns(rm), 1,
		  "monitor: a would-be denial opens nothing (one connection: "
		  "the handshake's)");
	expect_ics(rm, "monitor: a read is allowed", &hmi_502, pl, mb(pl, 3),
		   "allowed flow 0 fn 0x3");
	test_stream_monitor(rm);
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
