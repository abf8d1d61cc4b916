/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the BPF_PROG_TEST_RUN tests of the gate share (test_gate.c,
 * test_gate_ics.c, test_gate_timed.c): the policy and its flow ids, the
 * interfaces, a frame run and checked, a request in order on its TCP
 * connection, and an instance loaded from YAML.
 */
#ifndef CRANEGATE_GATETEST_H
#define CRANEGATE_GATETEST_H

#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "frames.h"
#include "ics.h"
#include "gate.h"
#include "harness.h"

static const char *const policy_text __attribute__((unused)) =
	"version: 1\n"
	"name: bpf-tests\n"
	"zones:\n"
	"  business: {interfaces: [biz0], networks: [198.18.10.0/24, "
	"\"2001:2:0:10::/64\"]}\n"
	"  control: {interfaces: [crane0], networks: [198.18.20.0/24, "
	"\"2001:2:0:20::/64\"]}\n"
	"  drives: {interfaces: [crane0], vlans: [100], networks: "
	"[198.18.22.0/24]}\n"
	"  mgmt: {interfaces: [mgmt0], networks: [198.18.30.0/24]}\n"
	"hosts:\n"
	"  hmi: 198.18.10.5\n"
	"  plc: 198.18.20.11\n"
	"  plc-bound: {address: 198.18.20.12, mac: \"02:00:00:00:20:12\"}\n"
	"  plc6-bound: {address: \"2001:2:0:20::12\", mac: "
	"\"02:00:00:00:20:12\"}\n"
	"flows:\n"
	"  - {name: hmi-plc, from: hmi, to: control, proto: tcp, ports: "
	"[502]}\n"
	"  - {name: hmi-ping, from: hmi, to: plc, proto: icmp}\n"
	"  - {name: ranges, from: business, to: drives, proto: udp, ports: "
	"[\"2000-2010\"]}\n"
	"  - {name: v6-modbus, from: \"2001:2:0:10::/64\", to: "
	"\"2001:2:0:20::/64\", proto: tcp, ports: [502]}\n"
	"  - {name: mgmt-any, from: mgmt, to: control, proto: any}\n"
	"  - {name: shadowed, from: hmi, to: plc, proto: tcp, ports: [502, "
	"503]}\n"
	"  - {name: modbus-ro, from: 198.18.10.20, to: 198.18.20.30, proto: "
	"tcp, ports: [502], modbus: read-only}\n"
	"  - {name: modbus-any, from: 198.18.10.22, to: 198.18.20.30, proto: "
	"tcp, ports: [502], modbus: any}\n"
	"  - {name: modbus-list, from: 198.18.10.21, to: 198.18.20.30, proto: "
	"tcp, ports: [502], modbus: [3, 6]}\n"
	"  - {name: s7-ro, from: 198.18.10.20, to: 198.18.20.31, proto: tcp, "
	"ports: [102], s7comm: read-only}\n"
	"  - {name: s7-any, from: 198.18.10.22, to: 198.18.20.31, proto: tcp, "
	"ports: [102], s7comm: any}\n"
	"  - {name: web, from: 198.18.10.20, to: 198.18.20.30, proto: tcp, "
	"ports: [80]}\n"
	"  - {name: v6-web, from: \"2001:2:0:10::20\", to: "
	"\"2001:2:0:20::30\", proto: tcp, ports: [80]}\n"
	"  - {name: v6-mb-ro, from: \"2001:2:0:10::20\", to: "
	"\"2001:2:0:20::30\", proto: tcp, ports: [1502], modbus: read-only}\n";

enum {
	F_HMI_PLC,
	F_PING,
	F_RANGES,
	F_V6,
	F_MGMT,
	F_SHADOWED,
	F_MB_RO,
	F_MB_ANY,
	F_MB_LIST,
	F_S7_RO,
	F_S7_ANY,
	F_WEB,
	F_V6_WEB,
	F_V6_MB
};

static char ifnames[4][CG_IFNAME_MAX]
	__attribute__((unused)) = {"biz0", "crane0", "mgmt0", "other0"};

struct ctx {
	struct cg_gate *g;
	int n_sent[CG_R_MAX];
	bool keep_mac; /* the test chose the source MAC itself */
};

/*
 * Run one frame (with `rx`, the metadata the front leaves, or NULL) and
 * check its reason and XDP action; with `full`, its verdict and flow too.
 * The source MAC becomes its station's unless the test chose it (or the
 * frame carries metadata, whose tests never do).
 */
static inline bool run_expect(struct ctx *c, const char *name,
			      const char *ifname, const struct cg_rx_tag *rx,
			      const uint8_t *frame, size_t len,
			      unsigned verdict, unsigned reason, unsigned flow,
			      bool full)
{
	static uint8_t buf[CG_FRAME_MAX];
	struct cg_event ev;
	char what[160];
	int action, err;
	bool ok = true;

	memcpy(buf, frame, len);
	if (rx || !c->keep_mac)
		cg_frame_station_mac(buf, len);
	err = cg_gate_test_run_meta(c->g, if_nametoindex(ifname), rx,
				    rx ? sizeof(*rx) : 0, buf, len, &ev,
				    &action);
	snprintf(what, sizeof(what), "%s: test run", name);
	if (!ASSERT_OK(err, what))
		return false;
	c->n_sent[ev.reason < CG_R_MAX ? ev.reason : 0]++;
	snprintf(what, sizeof(what), "%s: reason %s", name,
		 cg_reason_names[reason]);
	ok &= ASSERT_EQ(ev.reason, reason, what);
	if (full) {
		snprintf(what, sizeof(what), "%s: verdict", name);
		ok &= ASSERT_EQ(ev.verdict, verdict, what);
	}
	snprintf(what, sizeof(what), "%s: XDP action", name);
	ok &= ASSERT_EQ(action, verdict == CG_V_DROP ? XDP_DROP : XDP_PASS,
			what);
	if (full) {
		snprintf(what, sizeof(what), "%s: flow", name);
		ok &= ASSERT_EQ(ev.flow, flow, what);
	}
	return ok;
}

static inline bool expect(struct ctx *c, const char *name, const char *ifname,
			  const uint8_t *frame, size_t len, unsigned verdict,
			  unsigned reason, unsigned flow)
{
	return run_expect(c, name, ifname, NULL, frame, len, verdict, reason,
			  flow, true);
}

/* As expect(), with the outer tag stripped by the NIC: in the metadata
 * area, as the front program (bpf/front.bpf.c) leaves it. */
static inline bool expect_stripped(struct ctx *c, const char *name,
				   const char *ifname,
				   const struct cg_rx_tag *rx,
				   const uint8_t *frame, size_t len,
				   unsigned verdict, unsigned reason)
{
	return run_expect(c, name, ifname, rx, frame, len, verdict, reason,
			  CG_FLOW_NONE, false);
}

static inline size_t build(struct cg_frame_spec *s, uint8_t *buf)
{
	return cg_frame_build(s, buf, CG_FRAME_MAX);
}

#define PASS CG_V_PASS
#define DROP CG_V_DROP
#define NONE CG_FLOW_NONE

static inline void set_mac(struct cg_frame_spec *s, uint8_t last)
{
	static const uint8_t base[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x00};

	memcpy(s->src_mac, base, 6);
	s->src_mac[5] = last;
}

/*
 * The opener's next sequence number, per source port of the ICS tests: the
 * stream rule passes a request only at the next byte of its stream, so a
 * connection starts with a SYN (sequence number 1000; sent here the first
 * time a port is used) and moves on with each request that passes.
 */
static uint32_t req_next[65536] __attribute__((unused));

/* One request over TCP (ACK|PSH) from src:sport to dst:dport, in order. */
static inline size_t request(struct ctx *c, uint8_t *buf, const char *src,
			     const char *dst, uint16_t sport, uint16_t dport,
			     const uint8_t *pl, size_t n)
{
	struct cg_frame_spec s;
	struct cg_event ev = {};
	size_t syn;
	int action;

	if (!req_next[sport]) {
		cg_frame_tcp(&s, src, dst, sport, dport, CG_TCP_SYN);
		s.tcp_seq = 1000;
		syn = build(&s, buf);
		cg_frame_station_mac(buf, syn);
		if (!cg_gate_test_run(c->g, if_nametoindex("biz0"), buf, syn,
				      &ev, &action))
			c->n_sent[ev.reason < CG_R_MAX ? ev.reason : 0]++;
		ASSERT_EQ(ev.reason, CG_R_ALLOWED, "ics: the SYN opens");
		req_next[sport] = 1001;
	}
	cg_frame_tcp(&s, src, dst, sport, dport, CG_TCP_ACK | CG_TCP_PSH);
	s.tcp_seq = req_next[sport];
	s.payload = pl;
	s.payload_len = n;
	return build(&s, buf);
}

#define REQ(name, ifn, src, dst, sport, dport, verdict, reason, flow, ...)     \
	do {                                                                   \
		static const uint8_t pl[] = {__VA_ARGS__};                     \
		size_t n = request(c, buf, src, dst, sport, dport, pl,         \
				   sizeof(pl));                                \
		if (expect(c, name, ifn, buf, n, verdict, reason, flow) &&     \
		    (verdict) == PASS)                                         \
			req_next[sport] += sizeof(pl);                         \
	} while (0)

static inline struct cg_gate *load(const char *text, struct cg_policy **pp,
				   struct cg_compiled **cp)
{
	struct cg_diags d = {.file = "test.yaml"};
	struct cg_gate_opts o = {.record = true};
	struct cg_gate *g = NULL;
	int err;

	err = cg_policy_parse("test.yaml", text, strlen(text), pp, &d);
	if (!err)
		err = cg_compile(*pp, cp, &d);
	cg_diags_print(&d, stdout);
	cg_diags_free(&d);
	if (!ASSERT_OK(err, "policy parses and compiles"))
		return NULL;
	if (!ASSERT_OK(cg_gate_load(*cp, &o, &g), "instance loads (verifier)"))
		return NULL;
	return g;
}
/* An ND message: the 8-byte ICMPv6 header, then `body` (target, options). */
static inline size_t nd_frame(uint8_t *buf, const char *src, const char *dst,
			      uint8_t type, const uint8_t *body, size_t n,
			      uint8_t mac_last)
{
	struct cg_frame_spec s;

	cg_frame_icmp(&s, src, dst, type, 0, 0);
	s.ttl = 255;
	s.payload = body;
	s.payload_len = n;
	set_mac(&s, mac_last);
	if (mac_last == 0x12)
		s.src_mac[4] = 0x20;
	return build(&s, buf);
}

/* A target address, then one link-layer option (type, MAC ..:mac_last). */
static inline size_t nd_body(uint8_t *b, const char *target, uint8_t opt,
			     uint8_t mac_last)
{
	size_t n = 0;

	if (target) {
		cg_frame_parse_addr(target, b);
		n = 16;
	}
	if (opt) {
		static const uint8_t base[6] = {0x02, 0, 0, 0, 0, 0};

		b[n] = opt;
		b[n + 1] = 1;
		memcpy(b + n + 2, base, 6);
		b[n + 7] = mac_last;
		if (mac_last == 0x12)
			b[n + 6] = 0x20;
		n += 8;
	}
	return n;
}

#endif
