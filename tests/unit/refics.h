/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ICS fixtures of the reference evaluator's unit tests
 * (test_reference_ics.c, test_reference_stream.c): the policy with
 * inspected flows, a TCP conversation per (ends, ports) with its
 * handshake, and a request judged against what it must get.
 */
#ifndef CRANEGATE_REFICS_H
#define CRANEGATE_REFICS_H

#include "reftest.h"

/*
 * ICS functions (step 12). Zone ids: 0 business, 1 control, 2 mgmt. Flow
 * ids: 0 hmi-modbus (read-only), 1 hmi-s7 (read-only), 2 eng-lists (both
 * keys, lists), 3 mgmt-any (both keys, any, every port), 4 scada-modbus
 * (read-only on every port), 5 historian (no inspection), 6 hmi6-modbus.
 */
static const char ics_yaml[] __attribute__((unused)) =
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
static inline void expect_res(const char *name, const struct cg_ref_result *res,
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
static inline bool judge_spec(struct cg_refeval *r, const char *ifname,
			      const struct cg_frame_spec *s,
			      struct cg_ref_result *res)
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
static inline struct ics_conv *ics_conv(struct cg_refeval *r,
					const struct ics_seg *sg)
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
static inline void expect_ics(struct cg_refeval *r, const char *name,
			      const struct ics_seg *sg, const uint8_t *pl,
			      size_t len, const char *want)
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

static const struct ics_seg hmi_502 __attribute__((unused)) = {
	"198.18.10.5", "198.18.20.11",	       "biz0", 41000,
	502,	       CG_TCP_PSH | CG_TCP_ACK};
static const struct ics_seg hmi_102 __attribute__((unused)) = {
	"198.18.10.5", "198.18.20.11",	       "biz0", 41001,
	102,	       CG_TCP_PSH | CG_TCP_ACK};

/* One Modbus request of `fc` (MEI type 14 for 43). */
static inline size_t mb(uint8_t *buf, uint8_t fc)
{
	return cg_modbus_request(buf, 512, 1, 1, fc, 14);
}

/* One S7 job of `func`. */
static inline size_t job(uint8_t *buf, uint8_t func)
{
	return cg_s7_job(buf, 512, 0x0100, func);
}

#endif
