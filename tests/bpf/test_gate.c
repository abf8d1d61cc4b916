// SPDX-License-Identifier: GPL-2.0
/*
 * Crafted frames through the real XDP program (BPF_PROG_TEST_RUN), one
 * case per rule of README's "How a frame is judged": verdict, reason, the
 * flow that decided, the XDP action, and the counters.
 */
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

CG_TEST_GLOBALS;

static const char *policy_text =
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

static char ifnames[4][CG_IFNAME_MAX] = {"biz0", "crane0", "mgmt0", "other0"};

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
static bool run_expect(struct ctx *c, const char *name, const char *ifname,
		       const struct cg_rx_tag *rx, const uint8_t *frame,
		       size_t len, unsigned verdict, unsigned reason,
		       unsigned flow, bool full)
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

static bool expect(struct ctx *c, const char *name, const char *ifname,
		   const uint8_t *frame, size_t len, unsigned verdict,
		   unsigned reason, unsigned flow)
{
	return run_expect(c, name, ifname, NULL, frame, len, verdict, reason,
			  flow, true);
}

/* As expect(), with the outer tag stripped by the NIC: in the metadata
 * area, as the front program (bpf/front.bpf.c) leaves it. */
static bool expect_stripped(struct ctx *c, const char *name, const char *ifname,
			    const struct cg_rx_tag *rx, const uint8_t *frame,
			    size_t len, unsigned verdict, unsigned reason)
{
	return run_expect(c, name, ifname, rx, frame, len, verdict, reason,
			  CG_FLOW_NONE, false);
}

static size_t build(struct cg_frame_spec *s, uint8_t *buf)
{
	return cg_frame_build(s, buf, CG_FRAME_MAX);
}

#define PASS CG_V_PASS
#define DROP CG_V_DROP
#define NONE CG_FLOW_NONE

static void test_flows(struct ctx *c)
{
	struct cg_frame_spec s;
	uint8_t buf[CG_FRAME_MAX];
	size_t len;

	cg_frame_tcp(&s, "198.18.10.5", "198.18.20.11", 40000, 502, CG_TCP_SYN);
	len = build(&s, buf);
	expect(c, "allowed SYN", "biz0", buf, len, PASS, CG_R_ALLOWED,
	       F_HMI_PLC);

	cg_frame_tcp(&s, "198.18.20.11", "198.18.10.5", 502, 40000,
		     CG_TCP_SYN | CG_TCP_ACK);
	len = build(&s, buf);
	expect(c, "SYN-ACK is a reply", "crane0", buf, len, PASS, CG_R_REPLY,
	       F_HMI_PLC);

	cg_frame_tcp(&s, "198.18.20.11", "198.18.10.5", 502, 40000, CG_TCP_SYN);
	len = build(&s, buf);
	expect(c, "reverse SYN never a reply", "crane0", buf, len, DROP,
	       CG_R_NO_RULE, NONE);

	cg_frame_tcp(&s, "198.18.20.11", "198.18.10.5", 502, 40001, CG_TCP_ACK);
	len = build(&s, buf);
	expect(c, "reply to no connection", "crane0", buf, len, DROP,
	       CG_R_NO_RULE, NONE);

	cg_frame_tcp(&s, "198.18.10.5", "198.18.20.11", 40000, 503, CG_TCP_SYN);
	len = build(&s, buf);
	expect(c, "first match wins over a later flow", "biz0", buf, len, PASS,
	       CG_R_ALLOWED, F_SHADOWED);

	cg_frame_tcp(&s, "198.18.10.5", "198.18.20.11", 40000, 504, CG_TCP_SYN);
	len = build(&s, buf);
	expect(c, "no-rule: port", "biz0", buf, len, DROP, CG_R_NO_RULE, NONE);

	cg_frame_tcp(&s, "198.18.10.6", "198.18.20.11", 40000, 502, CG_TCP_SYN);
	len = build(&s, buf);
	expect(c, "no-rule: other business host", "biz0", buf, len, DROP,
	       CG_R_NO_RULE, NONE);

	cg_frame_tcp(&s, "198.18.10.5", "198.18.10.9", 40000, 22, CG_TCP_SYN);
	len = build(&s, buf);
	expect(c, "intra-zone", "biz0", buf, len, PASS, CG_R_INTRA_ZONE, NONE);

	cg_frame_tcp(&s, "198.18.10.5", "198.18.77.1", 40000, 502, CG_TCP_SYN);
	len = build(&s, buf);
	expect(c, "no-rule: destination outside every zone", "biz0", buf, len,
	       DROP, CG_R_NO_RULE, NONE);

	cg_frame_icmp(&s, "198.18.10.5", "198.18.20.11", 8, 0, 77);
	len = build(&s, buf);
	expect(c, "icmp echo allowed", "biz0", buf, len, PASS, CG_R_ALLOWED,
	       F_PING);
	cg_frame_icmp(&s, "198.18.20.11", "198.18.10.5", 0, 0, 77);
	len = build(&s, buf);
	expect(c, "icmp echo reply", "crane0", buf, len, PASS, CG_R_REPLY,
	       F_PING);
	cg_frame_icmp(&s, "198.18.20.11", "198.18.10.5", 8, 0, 77);
	len = build(&s, buf);
	expect(c, "echo request back along a ping is no reply", "crane0", buf,
	       len, DROP, CG_R_NO_RULE, NONE);
	cg_frame_icmp(&s, "198.18.20.11", "198.18.10.5", 0, 0, 77);
	len = build(&s, buf);
	expect(c, "echo replies still pass after it", "crane0", buf, len, PASS,
	       CG_R_REPLY, F_PING);
	cg_frame_icmp(&s, "198.18.20.11", "198.18.10.5", 0, 0, 78);
	len = build(&s, buf);
	expect(c, "icmp echo reply, other id", "crane0", buf, len, DROP,
	       CG_R_NO_RULE, NONE);

	cg_frame_udp(&s, "198.18.10.7", "198.18.22.5", 1234, 2000);
	len = build(&s, buf);
	expect(c, "udp range low edge", "biz0", buf, len, PASS, CG_R_ALLOWED,
	       F_RANGES);
	cg_frame_udp(&s, "198.18.10.7", "198.18.22.5", 1234, 2010);
	len = build(&s, buf);
	expect(c, "udp range high edge", "biz0", buf, len, PASS, CG_R_ALLOWED,
	       F_RANGES);
	cg_frame_udp(&s, "198.18.10.7", "198.18.22.5", 1234, 2011);
	len = build(&s, buf);
	expect(c, "udp range past the edge", "biz0", buf, len, DROP,
	       CG_R_NO_RULE, NONE);
	cg_frame_udp(&s, "198.18.10.7", "198.18.22.5", 1234, 1999);
	len = build(&s, buf);
	expect(c, "udp range before the edge", "biz0", buf, len, DROP,
	       CG_R_NO_RULE, NONE);

	cg_frame_init(&s);
	cg_frame_addrs(&s, "198.18.30.9", "198.18.20.11");
	s.proto = 47;
	len = build(&s, buf);
	expect(c, "proto any: GRE", "mgmt0", buf, len, PASS, CG_R_ALLOWED,
	       F_MGMT);

	cg_frame_tcp(&s, "2001:2:0:10::5", "2001:2:0:20::11", 40000, 502,
		     CG_TCP_SYN);
	len = build(&s, buf);
	expect(c, "ipv6 allowed", "biz0", buf, len, PASS, CG_R_ALLOWED, F_V6);
}

static void test_sources_and_zones(struct ctx *c)
{
	struct cg_frame_spec s;
	uint8_t buf[CG_FRAME_MAX];
	size_t len;

	cg_frame_tcp(&s, "198.18.99.1", "198.18.20.11", 40000, 502, CG_TCP_SYN);
	len = build(&s, buf);
	expect(c, "spoofed-source", "biz0", buf, len, DROP, CG_R_SPOOFED_SOURCE,
	       NONE);

	cg_frame_tcp(&s, "198.18.20.11", "198.18.10.5", 40000, 502, CG_TCP_SYN);
	len = build(&s, buf);
	expect(c, "multi-homed: control address on business", "biz0", buf, len,
	       DROP, CG_R_MULTI_HOMED, NONE);

	cg_frame_tcp(&s, "198.18.22.5", "198.18.10.5", 40000, 502, CG_TCP_SYN);
	len = build(&s, buf);
	expect(c, "multi-homed: drives address untagged", "crane0", buf, len,
	       DROP, CG_R_MULTI_HOMED, NONE);

	s.n_tags = 1;
	s.tags[0].tci = 100;
	len = build(&s, buf);
	expect(c, "VLAN 100 belongs to drives", "crane0", buf, len, DROP,
	       CG_R_NO_RULE, NONE);

	s.tags[0].tci = 300;
	len = build(&s, buf);
	expect(c, "undeclared VLAN", "crane0", buf, len, DROP,
	       CG_R_VLAN_VIOLATION, NONE);

	cg_frame_tcp(&s, "198.18.10.5", "198.18.20.11", 40000, 502, CG_TCP_SYN);
	s.n_tags = 1;
	s.tags[0].tci = 100;
	len = build(&s, buf);
	expect(c, "VLAN on an untagged-only interface", "biz0", buf, len, DROP,
	       CG_R_VLAN_VIOLATION, NONE);

	s.tags[0].tci = (5 << 13) | 0; /* priority tag, VID 0 */
	len = build(&s, buf);
	expect(c, "priority tag counts as untagged", "biz0", buf, len, PASS,
	       CG_R_ALLOWED, F_HMI_PLC);

	s.n_tags = 2;
	s.tags[0].tci = 0;
	s.tags[1].tci = 100;
	len = build(&s, buf);
	expect(c, "double tag", "biz0", buf, len, DROP, CG_R_VLAN_VIOLATION,
	       NONE);

	s.n_tags = 1;
	s.tags[0].tpid = 0x88a8;
	s.tags[0].tci = 100;
	len = build(&s, buf);
	expect(c, "802.1ad tag is a tag", "biz0", buf, len, DROP,
	       CG_R_VLAN_VIOLATION, NONE);

	cg_frame_tcp(&s, "198.18.10.5", "198.18.20.11", 40000, 502, CG_TCP_SYN);
	len = build(&s, buf);
	expect(c, "unknown-zone: interface not in the policy", "other0", buf,
	       len, DROP, CG_R_UNKNOWN_ZONE, NONE);
	s.n_tags = 1;
	s.tags[0].tci = 100;
	len = build(&s, buf);
	expect(c, "unknown-zone: tagged on an unknown interface", "other0", buf,
	       len, DROP, CG_R_UNKNOWN_ZONE, NONE);

	cg_frame_arp(&s, "198.18.10.5", "198.18.10.1");
	len = build(&s, buf);
	expect(c, "arp", "biz0", buf, len, PASS, CG_R_ARP, NONE);

	cg_frame_init(&s);
	s.kind = CG_FRAME_RAW;
	s.ethertype = 0x88cc; /* LLDP */
	len = build(&s, buf);
	expect(c, "ethertype", "biz0", buf, len, DROP, CG_R_ETHERTYPE, NONE);
}

/*
 * Tags the NIC stripped (rx VLAN offload): the same judgement as a tag in
 * the frame. Without the metadata record these frames are untagged.
 */
static void test_stripped_tags(struct ctx *c)
{
	struct cg_rx_tag rx = {.magic = CG_RX_TAG_MAGIC, .present = 1};
	struct cg_frame_spec s;
	uint8_t buf[CG_FRAME_MAX];
	size_t len;

	cg_frame_tcp(&s, "198.18.22.5", "198.18.10.5", 40000, 502, CG_TCP_SYN);
	len = build(&s, buf);
	rx.tci = 100;
	expect_stripped(c, "stripped VLAN 100 is judged in drives", "crane0",
			&rx, buf, len, DROP, CG_R_NO_RULE);
	rx.tci = (3 << 13) | 100;
	expect_stripped(c, "stripped tag: priority bits do not matter",
			"crane0", &rx, buf, len, DROP, CG_R_NO_RULE);
	rx.tci = 300;
	expect_stripped(c, "stripped undeclared VLAN", "crane0", &rx, buf, len,
			DROP, CG_R_VLAN_VIOLATION);
	rx.present = 0;
	expect_stripped(c, "front saw no tag: untagged", "crane0", &rx, buf,
			len, DROP, CG_R_MULTI_HOMED);
	rx.present = 1;
	rx.magic = 0;
	expect_stripped(c, "metadata without the magic is not a tag", "crane0",
			&rx, buf, len, DROP, CG_R_MULTI_HOMED);
	rx.magic = CG_RX_TAG_MAGIC;

	cg_frame_tcp(&s, "198.18.10.5", "198.18.20.11", 40000, 502, CG_TCP_SYN);
	len = build(&s, buf);
	rx.tci = 100;
	expect_stripped(c, "stripped tag on an untagged-only interface", "biz0",
			&rx, buf, len, DROP, CG_R_VLAN_VIOLATION);
	rx.tci = 5 << 13;
	expect_stripped(c, "stripped priority tag counts as untagged", "biz0",
			&rx, buf, len, PASS, CG_R_ALLOWED);
	s.n_tags = 1;
	s.tags[0].tci = 0;
	len = build(&s, buf);
	expect_stripped(c, "a tag in the frame behind a stripped one", "biz0",
			&rx, buf, len, DROP, CG_R_VLAN_VIOLATION);
}

static void test_malformed_and_fragments(struct ctx *c)
{
	struct cg_frame_spec s;
	struct cg_frame_layout lay;
	uint8_t buf[CG_FRAME_MAX];
	size_t len, i;

	expect(c, "runt frame", "biz0",
	       (const uint8_t *)"\0\0\0\0\0\0\0\0\0\0\0\0\x81\0", 14, DROP,
	       CG_R_MALFORMED, NONE);

	cg_frame_tcp(&s, "198.18.10.5", "198.18.20.11", 40000, 502, CG_TCP_SYN);
	len = cg_frame_build_layout(&s, buf, sizeof(buf), &lay);
	buf[lay.l3_off] = 0x44; /* IHL 4 */
	expect(c, "IPv4 IHL < 5", "biz0", buf, len, DROP, CG_R_MALFORMED, NONE);

	len = cg_frame_build_layout(&s, buf, sizeof(buf), &lay);
	buf[lay.l3_off + 2] = 0x0f; /* total length past the frame */
	expect(c, "IPv4 total length past the frame", "biz0", buf, len, DROP,
	       CG_R_MALFORMED, NONE);

	len = cg_frame_build_layout(&s, buf, sizeof(buf), &lay);
	expect(c, "TCP header cut short", "biz0", buf, lay.l4_off + 10, DROP,
	       CG_R_MALFORMED, NONE);

	len = cg_frame_build_layout(&s, buf, sizeof(buf), &lay);
	buf[lay.l4_off + 12] = 0x40; /* data offset 4 */
	expect(c, "TCP data offset < 5", "biz0", buf, len, DROP, CG_R_MALFORMED,
	       NONE);

	s.ip4_opts_len = 8;
	len = build(&s, buf);
	expect(c, "IPv4 options are skipped", "biz0", buf, len, PASS,
	       CG_R_ALLOWED, F_HMI_PLC);

	cg_frame_udp(&s, "198.18.10.7", "198.18.22.5", 1234, 2000);
	len = cg_frame_build_layout(&s, buf, sizeof(buf), &lay);
	buf[lay.l4_off + 4] = 0x10; /* UDP length 4096 */
	expect(c, "UDP length past the payload", "biz0", buf, len, DROP,
	       CG_R_MALFORMED, NONE);

	cg_frame_tcp(&s, "198.18.10.5", "198.18.20.11", 40000, 502, CG_TCP_SYN);
	s.ip4_frag_off = 10;
	len = build(&s, buf);
	expect(c, "IPv4 non-first fragment", "biz0", buf, len, DROP,
	       CG_R_FRAGMENT, NONE);
	s.ip4_frag_off = 0;
	s.ip4_mf = true;
	len = build(&s, buf);
	expect(c, "IPv4 first fragment judged like any frame", "biz0", buf, len,
	       PASS, CG_R_ALLOWED, F_HMI_PLC);
	s.ip4_frag_off = 10;
	cg_frame_addrs(&s, "198.18.99.1", "198.18.20.11");
	len = build(&s, buf);
	expect(c, "source is checked before fragments", "biz0", buf, len, DROP,
	       CG_R_SPOOFED_SOURCE, NONE);

	/* IPv6 extension headers. */
	cg_frame_tcp(&s, "2001:2:0:10::5", "2001:2:0:20::11", 40000, 502,
		     CG_TCP_SYN);
	s.n_ext = 2;
	s.ext[0].type = 0;
	s.ext[1].type = 60;
	len = build(&s, buf);
	expect(c, "IPv6 hop-by-hop + destination options", "biz0", buf, len,
	       PASS, CG_R_ALLOWED, F_V6);
	s.n_ext = 1;
	memset(&s.ext[0], 0, sizeof(s.ext[0]));
	s.ext[0].type = 43;
	s.ext[0].segs_left = 1;
	len = build(&s, buf);
	expect(c, "IPv6 routing header with segments left", "biz0", buf, len,
	       DROP, CG_R_MALFORMED, NONE);
	s.ext[0].segs_left = 0;
	len = build(&s, buf);
	expect(c, "IPv6 routing header, no segments left", "biz0", buf, len,
	       PASS, CG_R_ALLOWED, F_V6);
	s.n_ext = 8;
	for (i = 0; i < 8; i++) {
		memset(&s.ext[i], 0, sizeof(s.ext[i]));
		s.ext[i].type = 60;
	}
	len = build(&s, buf);
	expect(c, "IPv6 8 extension headers", "biz0", buf, len, PASS,
	       CG_R_ALLOWED, F_V6);
	s.n_ext = 9;
	memset(&s.ext[8], 0, sizeof(s.ext[8]));
	s.ext[8].type = 60;
	len = build(&s, buf);
	expect(c, "IPv6 9 extension headers", "biz0", buf, len, DROP,
	       CG_R_MALFORMED, NONE);
	s.n_ext = 1;
	memset(&s.ext[0], 0, sizeof(s.ext[0]));
	s.ext[0].type = 44;
	s.ext[0].frag_off = 100;
	len = build(&s, buf);
	expect(c, "IPv6 non-first fragment", "biz0", buf, len, DROP,
	       CG_R_FRAGMENT, NONE);

	/* Neighbour discovery: on-link only. */
	cg_frame_icmp(&s, "fe80::1", "ff02::1:ff00:11", 135, 0, 0);
	s.ttl = 255;
	s.payload = (const uint8_t *)"\x20\x01\x00\x02\x00\x00\x00\x20"
				     "\x00\x00\x00\x00\x00\x00\x00\x11";
	s.payload_len = 16;
	len = build(&s, buf);
	expect(c, "nd: neighbour solicitation, hop limit 255", "biz0", buf, len,
	       PASS, CG_R_ND, NONE);
	s.ttl = 64;
	len = build(&s, buf);
	expect(c, "nd: hop limit 64 is not on-link", "biz0", buf, len, DROP,
	       CG_R_SPOOFED_SOURCE, NONE);
	cg_frame_icmp(&s, "fe80::1", "ff02::16", 143, 0, 0);
	s.ttl = 1;
	len = build(&s, buf);
	expect(c, "nd: MLDv2 report from link-local, hop limit 1", "biz0", buf,
	       len, PASS, CG_R_ND, NONE);
	cg_frame_icmp(&s, "::", "ff02::16", 143, 0, 0);
	s.ttl = 1;
	len = build(&s, buf);
	expect(c, "nd: MLDv2 report from ::", "biz0", buf, len, PASS, CG_R_ND,
	       NONE);
	cg_frame_icmp(&s, "2001:2:0:10::5", "ff02::16", 143, 0, 0);
	s.ttl = 1;
	len = build(&s, buf);
	expect(c, "nd: MLD from a global address is judged like any frame",
	       "biz0", buf, len, DROP, CG_R_NO_RULE, NONE);
}

static void set_mac(struct cg_frame_spec *s, uint8_t last)
{
	static const uint8_t base[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x00};

	memcpy(s->src_mac, base, 6);
	s->src_mac[5] = last;
}

static void test_state(struct ctx *c)
{
	struct cg_frame_spec s;
	struct cg_event ev;
	uint8_t buf[CG_FRAME_MAX];
	size_t len;
	int action;

	c->keep_mac = true;

	/* MAC table: one station, two zones. */
	cg_frame_tcp(&s, "198.18.10.50", "198.18.10.51", 40000, 22, CG_TCP_SYN);
	set_mac(&s, 0x50);
	len = build(&s, buf);
	expect(c, "mac: first seen in business", "biz0", buf, len, PASS,
	       CG_R_INTRA_ZONE, NONE);
	cg_frame_tcp(&s, "198.18.20.50", "198.18.20.51", 40000, 22, CG_TCP_SYN);
	set_mac(&s, 0x50);
	len = build(&s, buf);
	expect(c, "mac: same station in control is multi-homed", "crane0", buf,
	       len, DROP, CG_R_MULTI_HOMED, NONE);
	cg_gate_test_run(c->g, if_nametoindex("crane0"), buf, len, &ev,
			 &action);
	c->n_sent[ev.reason]++;
	ASSERT_EQ(ev.zone_seen, 0,
		  "mac: the event names the zone it was seen in");
	ASSERT_EQ(ev.zone_from, 1, "mac: and the zone it arrived in");
	cg_frame_tcp(&s, "198.18.10.50", "198.18.10.51", 40000, 22, CG_TCP_SYN);
	set_mac(&s, 0x50);
	len = build(&s, buf);
	expect(c, "mac: still fine at home", "biz0", buf, len, PASS,
	       CG_R_INTRA_ZONE, NONE);
	cg_frame_tcp(&s, "198.18.20.50", "198.18.20.51", 40000, 22, CG_TCP_SYN);
	s.dst_mac[0] = 0x01; /* irrelevant: only the source MAC counts */
	s.src_mac[0] = 0x03; /* a group address is no station */
	len = build(&s, buf);
	expect(c, "mac: group source addresses are not learned", "crane0", buf,
	       len, PASS, CG_R_INTRA_ZONE, NONE);

	/* Address/MAC binding. */
	cg_frame_tcp(&s, "198.18.20.12", "198.18.20.13", 40000, 22, CG_TCP_SYN);
	set_mac(&s, 0x99);
	len = build(&s, buf);
	expect(c, "binding: bound address, other MAC", "crane0", buf, len, DROP,
	       CG_R_SPOOFED_SOURCE, NONE);
	s.src_mac[4] = 0x20;
	s.src_mac[5] = 0x12;
	len = build(&s, buf);
	expect(c, "binding: bound address, its MAC", "crane0", buf, len, PASS,
	       CG_R_INTRA_ZONE, NONE);
	cg_frame_arp(&s, "198.18.20.12", "198.18.20.1");
	set_mac(&s, 0x98);
	len = build(&s, buf);
	expect(c, "binding: ARP claiming a bound address", "crane0", buf, len,
	       DROP, CG_R_SPOOFED_SOURCE, NONE);
	s.src_mac[4] = 0x20;
	s.src_mac[5] = 0x12;
	len = build(&s, buf);
	expect(c, "binding: ARP from the bound MAC", "crane0", buf, len, PASS,
	       CG_R_ARP, NONE);

	/* Fragment trains. */
	cg_frame_udp(&s, "198.18.10.7", "198.18.22.5", 1234, 2001);
	set_mac(&s, 0x07);
	s.ip_id = 4242;
	s.ip4_mf = true;
	len = build(&s, buf);
	expect(c, "frag: first fragment allowed", "biz0", buf, len, PASS,
	       CG_R_ALLOWED, F_RANGES);
	s.ip4_frag_off = 3;
	s.no_l4 = true;
	len = build(&s, buf);
	expect(c, "frag: the rest of its datagram follows", "biz0", buf, len,
	       PASS, CG_R_ALLOWED, F_RANGES);
	s.ip_id = 4243;
	len = build(&s, buf);
	expect(c, "frag: another datagram's does not", "biz0", buf, len, DROP,
	       CG_R_FRAGMENT, NONE);
	cg_frame_tcp(&s, "2001:2:0:10::5", "2001:2:0:20::11", 40001, 502,
		     CG_TCP_SYN);
	set_mac(&s, 0x05);
	s.n_ext = 1;
	memset(&s.ext[0], 0, sizeof(s.ext[0]));
	s.ext[0].type = 44;
	s.ext[0].frag_more = true;
	s.ext[0].frag_id = 0xabcdef01;
	len = build(&s, buf);
	expect(c, "frag: IPv6 first fragment allowed", "biz0", buf, len, PASS,
	       CG_R_ALLOWED, F_V6);
	s.ext[0].frag_off = 10;
	s.no_l4 = true;
	len = build(&s, buf);
	expect(c, "frag: IPv6 rest follows", "biz0", buf, len, PASS,
	       CG_R_ALLOWED, F_V6);
	cg_frame_udp(&s, "198.18.10.7", "198.18.22.5", 1234, 2011);
	set_mac(&s, 0x07);
	s.ip_id = 4244;
	s.ip4_mf = true;
	len = build(&s, buf);
	expect(c, "frag: first fragment dropped", "biz0", buf, len, DROP,
	       CG_R_NO_RULE, NONE);
	s.ip4_frag_off = 3;
	s.no_l4 = true;
	len = build(&s, buf);
	expect(c, "frag: and so is the rest", "biz0", buf, len, DROP,
	       CG_R_FRAGMENT, NONE);

	c->keep_mac = false;

	/* ICMP errors about a live connection travel back as replies. */
	{
		struct cg_frame_spec q;
		struct cg_frame_layout lay;
		uint8_t quote[CG_FRAME_MAX];
		size_t qn;

		cg_frame_tcp(&q, "198.18.10.5", "198.18.20.11", 40000, 502,
			     CG_TCP_ACK);
		qn = cg_frame_build_layout(&q, quote, sizeof(quote), &lay);
		cg_frame_icmp(&s, "198.18.20.1", "198.18.10.5", 3, 4, 0);
		s.payload = quote + lay.l3_off;
		s.payload_len = lay.l4_off - lay.l3_off + 8;
		len = build(&s, buf);
		expect(c, "icmp error quoting a live connection", "crane0", buf,
		       len, PASS, CG_R_REPLY, F_HMI_PLC);
		s.payload_len = lay.l4_off - lay.l3_off + 4;
		len = build(&s, buf);
		expect(c, "icmp error quoting too little", "crane0", buf, len,
		       DROP, CG_R_NO_RULE, NONE);
		cg_frame_tcp(&q, "198.18.10.5", "198.18.20.11", 40999, 502,
			     CG_TCP_ACK);
		qn = cg_frame_build_layout(&q, quote, sizeof(quote), &lay);
		s.payload = quote + lay.l3_off;
		s.payload_len = lay.l4_off - lay.l3_off + 8;
		len = build(&s, buf);
		expect(c, "icmp error quoting no connection", "crane0", buf,
		       len, DROP, CG_R_NO_RULE, NONE);
		(void)qn;
	}
}

/*
 * The opener's next sequence number, per source port of the ICS tests: the
 * stream rule passes a request only at the next byte of its stream, so a
 * connection starts with a SYN (sequence number 1000; sent here the first
 * time a port is used) and moves on with each request that passes.
 */
static uint32_t req_next[65536];

/* One request over TCP (ACK|PSH) from src:sport to dst:dport, in order. */
static size_t request(struct ctx *c, uint8_t *buf, const char *src,
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

/* An ND message: the 8-byte ICMPv6 header, then `body` (target, options). */
static size_t nd_frame(uint8_t *buf, const char *src, const char *dst,
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
static size_t nd_body(uint8_t *b, const char *target, uint8_t opt,
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

/*
 * ND stays on its link (README step 5), bindings hold for ARP of every
 * shape Linux takes and for ND (source, NA target, link-layer options),
 * and inspected flows pass no fragments (step 7).
 */
static void test_nd_arp_frags(struct ctx *c)
{
	struct cg_frame_spec s;
	struct cg_frame_layout lay;
	uint8_t buf[CG_FRAME_MAX], body[1024];
	size_t len, n;
	int t;

	c->keep_mac = true;

	/* Across zones, with a body: judged like any ICMPv6 frame. */
	for (t = 135; t <= 137; t++) {
		char name[96];

		memset(body, 0x41, 800);
		nd_body(body, "2001:2:0:20::11", 0, 0);
		len = nd_frame(buf, "2001:2:0:10::5", "2001:2:0:20::11", t,
			       body, 800, 0x05);
		snprintf(name, sizeof(name),
			 "nd %d, business -> crane global: no-rule", t);
		expect(c, name, "biz0", buf, len, DROP, CG_R_NO_RULE, NONE);
		len = nd_frame(buf, "2001:2:0:99::5", "2001:2:0:20::11", t,
			       body, 800, 0x05);
		snprintf(name, sizeof(name),
			 "nd %d, from an address in no zone: spoofed-source",
			 t);
		expect(c, name, "biz0", buf, len, DROP, CG_R_SPOOFED_SOURCE,
		       NONE);
	}
	n = nd_body(body, "2001:2:0:20::11", 0, 0);
	len = nd_frame(buf, "fe80::5", "2001:2:0:20::11", 135, body, n, 0x05);
	expect(c, "nd: link-local to another zone's global address", "biz0",
	       buf, len, DROP, CG_R_SPOOFED_SOURCE, NONE);
	n = nd_body(body, "2001:2:0:10::6", 1, 0x05);
	len = nd_frame(buf, "2001:2:0:10::5", "2001:2:0:10::6", 135, body, n,
		       0x05);
	expect(c, "nd: NS within the ingress zone's addresses", "biz0", buf,
	       len, PASS, CG_R_ND, NONE);
	len = nd_frame(buf, "::", "ff02::1:ff00:6", 135, body, 16, 0x05);
	expect(c, "nd: DAD from ::", "biz0", buf, len, PASS, CG_R_ND, NONE);
	cg_frame_icmp(&s, "fe80::1", "ff05::2", 143, 0, 0);
	s.ttl = 1;
	len = build(&s, buf);
	expect(c, "nd: MLD to a site-scope group is judged like any frame",
	       "biz0", buf, len, DROP, CG_R_SPOOFED_SOURCE, NONE);
	n = nd_body(body, NULL, 0, 0);
	len = nd_frame(buf, "fe80::1", "ff02::2", 133, body, n, 0x05);
	expect(c, "nd: RS, no options", "biz0", buf, len, PASS, CG_R_ND, NONE);
	len = nd_frame(buf, "fe80::1", "ff02::1", 136, body, 8, 0x05);
	expect(c, "nd: NA without its target: malformed", "biz0", buf, len,
	       DROP, CG_R_MALFORMED, NONE);
	n = nd_body(body, "2001:2:0:10::6", 1, 0x05);
	body[17] = 0;
	len = nd_frame(buf, "fe80::1", "ff02::1", 136, body, n, 0x05);
	expect(c, "nd: an option of length 0: malformed", "biz0", buf, len,
	       DROP, CG_R_MALFORMED, NONE);
	n = nd_body(body, "2001:2:0:10::6", 1, 0x05);
	len = nd_frame(buf, "fe80::1", "ff02::1", 136, body, n - 2, 0x05);
	expect(c, "nd: an option past the end: malformed", "biz0", buf, len,
	       DROP, CG_R_MALFORMED, NONE);

	/* Bindings: 2001:2:0:20::12 is bound to 02:00:00:00:20:12. */
	n = nd_body(body, "2001:2:0:20::12", 2, 0x66);
	len = nd_frame(buf, "2001:2:0:20::12", "ff02::1", 136, body, n, 0x66);
	expect(c, "nd binding: unsolicited NA for a bound address, other MAC",
	       "crane0", buf, len, DROP, CG_R_SPOOFED_SOURCE, NONE);
	len = nd_frame(buf, "fe80::66", "ff02::1", 136, body, n, 0x66);
	expect(c, "nd binding: NA target bound, from another MAC", "crane0",
	       buf, len, DROP, CG_R_SPOOFED_SOURCE, NONE);
	len = nd_frame(buf, "fe80::66", "ff02::1", 136, body, n, 0x12);
	expect(c, "nd binding: NA target bound, another MAC in its option",
	       "crane0", buf, len, DROP, CG_R_SPOOFED_SOURCE, NONE);
	n = nd_body(body, "2001:2:0:20::12", 2, 0x12);
	len = nd_frame(buf, "2001:2:0:20::12", "ff02::1", 136, body, n, 0x12);
	expect(c, "nd binding: NA from the bound MAC, naming it", "crane0", buf,
	       len, PASS, CG_R_ND, NONE);
	n = nd_body(body, "2001:2:0:20::1", 1, 0x66);
	len = nd_frame(buf, "2001:2:0:20::12", "ff02::1:ff00:1", 135, body, n,
		       0x12);
	expect(c, "nd binding: NS from a bound source, another MAC in SLL",
	       "crane0", buf, len, DROP, CG_R_SPOOFED_SOURCE, NONE);
	len = nd_frame(buf, "2001:2:0:20::12", "ff02::1:ff00:1", 135, body, n,
		       0x66);
	expect(c, "nd binding: NS from a bound source, another frame MAC",
	       "crane0", buf, len, DROP, CG_R_SPOOFED_SOURCE, NONE);
	n = nd_body(body, "2001:2:0:20::1", 1, 0x12);
	len = nd_frame(buf, "2001:2:0:20::12", "ff02::1:ff00:1", 135, body, n,
		       0x12);
	expect(c, "nd binding: NS from the bound MAC", "crane0", buf, len, PASS,
	       CG_R_ND, NONE);
	/* Redirect: target, destination, then a target LL option. */
	cg_frame_parse_addr("2001:2:0:20::12", body);
	n = 16 + nd_body(body + 16, "2001:2:0:20::12", 2, 0x66);
	len = nd_frame(buf, "fe80::1", "fe80::99", 137, body, n, 0x01);
	expect(c, "nd binding: redirect to a bound target, another MAC",
	       "crane0", buf, len, DROP, CG_R_SPOOFED_SOURCE, NONE);

	/* ARP: hardware type 6 (IEEE 802) is held to the binding too. */
	cg_frame_arp(&s, "198.18.20.12", "198.18.20.1");
	set_mac(&s, 0x98);
	len = cg_frame_build_layout(&s, buf, sizeof(buf), &lay);
	buf[lay.l3_off + 1] = 6;
	expect(c, "binding: ARP (hardware type 6) claiming a bound address",
	       "crane0", buf, len, DROP, CG_R_SPOOFED_SOURCE, NONE);
	s.src_mac[4] = 0x20;
	s.src_mac[5] = 0x12;
	len = cg_frame_build_layout(&s, buf, sizeof(buf), &lay);
	buf[lay.l3_off + 1] = 6;
	expect(c, "binding: ARP (hardware type 6) from the bound MAC", "crane0",
	       buf, len, PASS, CG_R_ARP, NONE);
	memcpy(buf + 6, "\x02\x00\x00\x00\x00\x97", 6);
	expect(c, "binding: ARP naming the bound MAC from another one",
	       "crane0", buf, len, DROP, CG_R_SPOOFED_SOURCE, NONE);

	/*
	 * Issue 19, 1: a datagram to :80 with id 4242, then a Modbus
	 * segment fragmented with the same id on an established connection.
	 */
	cg_frame_tcp(&s, "198.18.10.20", "198.18.20.30", 41000, 80,
		     CG_TCP_PSH | CG_TCP_ACK);
	set_mac(&s, 0x20);
	s.ip_id = 4242;
	s.ip4_mf = true;
	len = build(&s, buf);
	expect(c, "frag id: first fragment to :80", "biz0", buf, len, PASS,
	       CG_R_ALLOWED, F_WEB);
	s.ip4_mf = false;
	s.ip4_frag_off = 3;
	s.no_l4 = true;
	len = build(&s, buf);
	expect(c, "frag id: its tail", "biz0", buf, len, PASS, CG_R_ALLOWED,
	       F_WEB);
	cg_frame_tcp(&s, "198.18.10.20", "198.18.20.30", 41001, 502,
		     CG_TCP_SYN);
	set_mac(&s, 0x20);
	len = build(&s, buf);
	expect(c, "frag id: Modbus SYN", "biz0", buf, len, PASS, CG_R_ALLOWED,
	       F_MB_RO);
	{
		uint8_t pl[64];

		cg_frame_tcp(&s, "198.18.10.20", "198.18.20.30", 41001, 502,
			     CG_TCP_PSH | CG_TCP_ACK);
		set_mac(&s, 0x20);
		s.payload = pl;
		s.payload_len = cg_modbus_request(pl, sizeof(pl), 1, 1, 3, 0);
		s.tcp_seq = 1001; /* the stream's next byte after the SYN */
		len = build(&s, buf);
		expect(c, "frag id: an established read passes", "biz0", buf,
		       len, PASS, CG_R_ALLOWED, F_MB_RO);
		s.ip_id = 4242;
		s.ip4_mf = true;
		len = build(&s, buf);
		expect(c, "frag id: its first fragment (fast path): fragment",
		       "biz0", buf, len, DROP, CG_R_FRAGMENT, F_MB_RO);
		s.ip4_mf = false;
		s.ip4_frag_off = 3;
		s.no_l4 = true;
		s.payload_len = cg_modbus_request(pl, sizeof(pl), 2, 1, 6, 0);
		len = build(&s, buf);
		expect(c, "frag id: the tail with the write follows nothing",
		       "biz0", buf, len, DROP, CG_R_FRAGMENT, NONE);

		/* Judged in full (no connection yet): the same. */
		cg_frame_tcp(&s, "198.18.10.20", "198.18.20.30", 41002, 502,
			     CG_TCP_SYN);
		set_mac(&s, 0x20);
		s.ip_id = 4300;
		s.ip4_mf = true;
		len = build(&s, buf);
		expect(c, "frag: an inspected flow's fragmented SYN", "biz0",
		       buf, len, DROP, CG_R_FRAGMENT, F_MB_RO);
		s.ip4_mf = false;
		s.ip4_frag_off = 0;
		s.tcp_flags = CG_TCP_ACK;
		len = build(&s, buf);
		expect(c, "frag: and it opened no connection", "biz0", buf, len,
		       PASS, CG_R_ALLOWED, F_MB_RO);
		cg_frame_tcp(&s, "198.18.20.30", "198.18.10.20", 502, 41001,
			     CG_TCP_PSH | CG_TCP_ACK);
		set_mac(&s, 0x30);
		s.ip_id = 4301;
		s.ip4_mf = true;
		len = build(&s, buf);
		expect(c, "frag: an inspected flow's fragmented reply",
		       "crane0", buf, len, DROP, CG_R_FRAGMENT, F_MB_RO);

		/* IPv6: one atomic fragment to :80 primes the id. */
		cg_frame_tcp(&s, "2001:2:0:10::20", "2001:2:0:20::30", 41003,
			     80, CG_TCP_SYN);
		set_mac(&s, 0x21);
		s.n_ext = 1;
		memset(&s.ext[0], 0, sizeof(s.ext[0]));
		s.ext[0].type = 44;
		s.ext[0].frag_id = 0x4242;
		len = build(&s, buf);
		expect(c, "frag6 id: an atomic fragment to :80", "biz0", buf,
		       len, PASS, CG_R_ALLOWED, F_V6_WEB);
		cg_frame_tcp(&s, "2001:2:0:10::20", "2001:2:0:20::30", 41004,
			     1502, CG_TCP_SYN);
		set_mac(&s, 0x21);
		len = build(&s, buf);
		expect(c, "frag6 id: Modbus SYN", "biz0", buf, len, PASS,
		       CG_R_ALLOWED, F_V6_MB);
		s.tcp_flags = CG_TCP_PSH | CG_TCP_ACK;
		s.payload = pl;
		s.payload_len = cg_modbus_request(pl, sizeof(pl), 1, 1, 3, 0);
		s.n_ext = 1;
		memset(&s.ext[0], 0, sizeof(s.ext[0]));
		s.ext[0].type = 44;
		s.ext[0].frag_more = true;
		s.ext[0].frag_id = 0x4242;
		len = build(&s, buf);
		expect(c, "frag6 id: a Modbus first fragment: fragment", "biz0",
		       buf, len, DROP, CG_R_FRAGMENT, F_V6_MB);
		s.ext[0].frag_more = false;
		s.ext[0].frag_off = 4;
		s.no_l4 = true;
		s.payload_len = cg_modbus_request(pl, sizeof(pl), 2, 1, 6, 0);
		len = build(&s, buf);
		expect(c, "frag6 id: its tail follows nothing", "biz0", buf,
		       len, DROP, CG_R_FRAGMENT, NONE);
	}

	/* IPv6 fragment -> destination options -> TCP (RFC 8200). */
	cg_frame_tcp(&s, "2001:2:0:10::20", "2001:2:0:20::30", 41005, 80,
		     CG_TCP_SYN);
	set_mac(&s, 0x21);
	s.n_ext = 2;
	memset(&s.ext[0], 0, sizeof(s.ext[0]) * 2);
	s.ext[0].type = 44;
	s.ext[0].frag_more = true;
	s.ext[0].frag_id = 0x5151;
	s.ext[1].type = 60;
	len = build(&s, buf);
	expect(c, "frag6 dstopts: first fragment", "biz0", buf, len, PASS,
	       CG_R_ALLOWED, F_V6_WEB);
	s.ext[0].frag_more = false;
	s.ext[0].frag_off = 4;
	s.no_l4 = true;
	len = build(&s, buf);
	expect(c, "frag6 dstopts: the rest follows", "biz0", buf, len, PASS,
	       CG_R_ALLOWED, F_V6_WEB);

	c->keep_mac = false;
}

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

static void test_counters(struct ctx *c)
{
	struct cg_counter cnt;
	unsigned r;
	char what[96];

	for (r = 0; r < CG_R_MAX; r++) {
		if (r == CG_R_MONITOR)
			continue;
		if (!ASSERT_OK(cg_gate_reason_count(c->g, r, &cnt),
			       "read reason counter"))
			return;
		snprintf(what, sizeof(what), "counter %s counts every frame",
			 cg_reason_names[r]);
		ASSERT_EQ(cnt.packets, c->n_sent[r], what);
	}
	ASSERT_OK(cg_gate_flow_count(c->g, F_RANGES, &cnt),
		  "read flow counter");
	ASSERT_EQ(cnt.packets, 4, "flow counter: four frames of 'ranges'");
}

static struct cg_gate *load(const char *text, struct cg_policy **pp,
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

static void test_monitor(void)
{
	struct ctx c = {};
	struct cg_policy *p = NULL;
	struct cg_compiled *cp = NULL;
	struct cg_frame_spec s;
	struct cg_event ev;
	uint8_t buf[CG_FRAME_MAX];
	size_t len, n = strlen(policy_text) + 32;
	char *text = malloc(n);
	int action;

	snprintf(text, n, "mode: monitor\n%s", policy_text);
	c.g = load(text, &p, &cp);
	if (!c.g)
		goto out;
	cg_frame_tcp(&s, "198.18.10.5", "198.18.20.11", 40000, 504, CG_TCP_SYN);
	len = build(&s, buf);
	expect(&c, "monitor: no-rule passes", "biz0", buf, len, PASS,
	       CG_R_MONITOR, NONE);
	cg_gate_test_run(c.g, if_nametoindex("biz0"), buf, len, &ev, &action);
	ASSERT_EQ(ev.would, CG_R_NO_RULE,
		  "monitor: event keeps the would-be reason");
	cg_frame_tcp(&s, "198.18.10.5", "198.18.20.11", 40000, 502, CG_TCP_SYN);
	len = build(&s, buf);
	expect(&c, "monitor: allowed stays allowed", "biz0", buf, len, PASS,
	       CG_R_ALLOWED, F_HMI_PLC);
out:
	cg_gate_free(c.g);
	cg_compiled_free(cp);
	cg_policy_free(p);
	free(text);
}

/* A Unix time as RFC 3339 in UTC. */
static const char *rfc3339(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

enum {
	T_ENDED,
	T_NOT_YET,
	T_OPEN,
	T_CLOSED_FIRST,
	T_OPEN_SECOND,
	T_FALLBACK,
	T_UDP_ENDED,
	T_UDP_FALLBACK,
	T_ANY_ENDED,
	T_TCP_PORT,
	T_SHORT,
};

/*
 * Time-boxed flows (`valid:`): before, in and after the window; falling
 * through to the next covering flow (within one lookup kind, and across
 * kinds); and an established connection cut when its window ends, for
 * both directions, on the fast path.
 */
static void test_timed(void)
{
	struct ctx c = {};
	struct cg_policy *p = NULL;
	struct cg_compiled *cp = NULL;
	struct cg_frame_spec s;
	uint8_t buf[CG_FRAME_MAX];
	char t[8][32], *text = NULL;
	const char *hmi = "198.18.10.5", *plc = "198.18.20.11";
	time_t now = time(NULL), end = now + 8;
	size_t len;
	int n;

	rfc3339(now - 7200, t[0], sizeof(t[0]));
	rfc3339(now + 7200, t[1], sizeof(t[1]));
	rfc3339(now + 3600, t[2], sizeof(t[2]));
	rfc3339(now + 10800, t[3], sizeof(t[3]));
	rfc3339(now - 3600, t[4], sizeof(t[4]));
	rfc3339(end, t[5], sizeof(t[5]));
	n = asprintf(
		&text,
		"version: 1\n"
		"name: timed\n"
		"zones:\n"
		"  business: {interfaces: [biz0], networks: [198.18.10.0/24]}\n"
		"  control: {interfaces: [crane0], networks: "
		"[198.18.20.0/24]}\n"
		"hosts: {hmi: 198.18.10.5, plc: 198.18.20.11}\n"
		"flows:\n"
		"  - {name: ended, from: hmi, to: plc, proto: tcp, ports: "
		"[8080], valid: {until: %s}}\n"
		"  - {name: not-yet, from: hmi, to: plc, proto: tcp, ports: "
		"[8081], valid: {from: %s}}\n"
		"  - {name: open, from: hmi, to: plc, proto: tcp, ports: "
		"[8082], valid: {from: %s, until: %s}}\n"
		"  - {name: closed-first, from: hmi, to: plc, proto: tcp, "
		"ports: [8083], valid: {from: %s, until: %s}}\n"
		"  - {name: open-second, from: hmi, to: plc, proto: tcp, "
		"ports: [8083, 8084], valid: {until: %s}}\n"
		"  - {name: fallback, from: hmi, to: plc, proto: tcp, ports: "
		"[\"8083-8085\"]}\n"
		"  - {name: udp-ended, from: hmi, to: plc, proto: udp, ports: "
		"[9000], valid: {from: %s, until: %s}}\n"
		"  - {name: udp-fallback, from: business, to: control, proto: "
		"udp, ports: [9000]}\n"
		"  - {name: any-ended, from: hmi, to: plc, proto: any, valid: "
		"{until: %s}}\n"
		"  - {name: tcp-port, from: hmi, to: plc, proto: tcp, ports: "
		"[8086]}\n"
		"  - {name: short, from: hmi, to: plc, proto: tcp, ports: "
		"[8090], valid: {until: %s}}\n",
		t[0], t[1], t[0], t[1], t[2], t[1], t[3], t[0], t[4], t[4],
		t[5]);
	if (!ASSERT_TRUE(n > 0, "timed: policy text"))
		return;
	c.g = load(text, &p, &cp);
	if (!c.g)
		goto out;
	ASSERT_TRUE(cp->n_chains > 0, "timed: the compiler made chains");

#define TIMED(name, sport, dport, flags, verdict, reason, flow)                \
	do {                                                                   \
		cg_frame_tcp(&s, hmi, plc, sport, dport, flags);               \
		len = build(&s, buf);                                          \
		expect(&c, name, "biz0", buf, len, verdict, reason, flow);     \
	} while (0)

	TIMED("timed: after the window: no-rule", 40000, 8080, CG_TCP_SYN, DROP,
	      CG_R_NO_RULE, NONE);
	TIMED("timed: before the window: no-rule", 40000, 8081, CG_TCP_SYN,
	      DROP, CG_R_NO_RULE, NONE);
	TIMED("timed: in the window: allowed", 40000, 8082, CG_TCP_SYN, PASS,
	      CG_R_ALLOWED, T_OPEN);
	TIMED("timed: falls through to the next open flow", 40000, 8083,
	      CG_TCP_SYN, PASS, CG_R_ALLOWED, T_OPEN_SECOND);
	TIMED("timed: later port of the second flow", 40000, 8084, CG_TCP_SYN,
	      PASS, CG_R_ALLOWED, T_OPEN_SECOND);
	TIMED("timed: untimed flow on its own port", 40000, 8085, CG_TCP_SYN,
	      PASS, CG_R_ALLOWED, T_FALLBACK);
	TIMED("timed: a closed proto-any flow yields to a port flow", 40000,
	      8086, CG_TCP_SYN, PASS, CG_R_ALLOWED, T_TCP_PORT);
	cg_frame_udp(&s, hmi, plc, 40000, 9000);
	len = build(&s, buf);
	expect(&c, "timed: falls through to a later untimed flow", "biz0", buf,
	       len, PASS, CG_R_ALLOWED, T_UDP_FALLBACK);
	cg_frame_icmp(&s, hmi, plc, 8, 0, 7);
	len = build(&s, buf);
	expect(&c, "timed: closed proto-any flow, nothing else: no-rule",
	       "biz0", buf, len, DROP, CG_R_NO_RULE, NONE);

	/*
	 * A connection in the window, established, then cut at its end. The
	 * window must outlast the load (the verifier takes seconds on a busy
	 * machine).
	 */
	if (!ASSERT_TRUE(time(NULL) + 2 <= end,
			 "timed: loaded well before the short window ends"))
		goto out;
	TIMED("timed: short window opens a connection", 41000, 8090, CG_TCP_SYN,
	      PASS, CG_R_ALLOWED, T_SHORT);
	cg_frame_tcp(&s, plc, hmi, 8090, 41000, CG_TCP_SYN | CG_TCP_ACK);
	len = build(&s, buf);
	expect(&c, "timed: reply in the window", "crane0", buf, len, PASS,
	       CG_R_REPLY, T_SHORT);
	TIMED("timed: established, in the window", 41000, 8090, CG_TCP_ACK,
	      PASS, CG_R_ALLOWED, T_SHORT);
	/* Past the end (whole seconds; a margin for the clocks' rounding). */
	while (time(NULL) <= end)
		usleep(100000);
	usleep(200000);
	cg_frame_tcp(&s, plc, hmi, 8090, 41000, CG_TCP_ACK);
	len = build(&s, buf);
	expect(&c, "timed: reply after the window: cut", "crane0", buf, len,
	       DROP, CG_R_NO_RULE, NONE);
	TIMED("timed: established after the window: cut", 41000, 8090,
	      CG_TCP_ACK, DROP, CG_R_NO_RULE, NONE);
	TIMED("timed: no new connection after the window", 41001, 8090,
	      CG_TCP_SYN, DROP, CG_R_NO_RULE, NONE);
#undef TIMED
out:
	cg_gate_free(c.g);
	cg_compiled_free(cp);
	cg_policy_free(p);
	free(text);
}

/*
 * The gateway itself (`self`, README "The gateway itself"): its addresses,
 * learned from the sandbox's biz0 as apply learns them, are reached only
 * through `to: self`; ARP and ND still pass; a frame from them is spoofed;
 * a reply to a connection the gateway opened (a real socket in this
 * namespace) passes along a `from: self` flow only.
 */
static const char *self_text =
	"version: 1\n"
	"name: bpf-self\n"
	"zones:\n"
	"  business: {interfaces: [biz0], networks: [198.18.10.0/24, "
	"\"2001:2:0:10::/64\"]}\n"
	"  control: {interfaces: [crane0], networks: [198.18.20.0/24]}\n"
	"  mgmt: {interfaces: [mgmt0], networks: [198.18.30.0/24]}\n"
	"flows:\n"
	"  - {name: mgmt-ssh-gw, from: mgmt, to: self, proto: tcp, ports: "
	"[22]}\n"
	"  - {name: gw-fetch, from: self, to: business, proto: tcp, ports: "
	"[8080]}\n"
	"  - {name: ping-gw, from: business, to: self, proto: icmp}\n";

/* A socket of the gateway connecting to ADDR:PORT; its local port, or 0. */
static uint16_t gw_connect(const char *addr, uint16_t port, int *fd)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(port)};
	socklen_t sl = sizeof(sa);

	*fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (*fd < 0 || inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		return 0;
	if (connect(*fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    errno != EINPROGRESS)
		return 0;
	if (getsockname(*fd, (struct sockaddr *)&sa, &sl))
		return 0;
	return ntohs(sa.sin_port);
}

static void test_self(void)
{
	struct ctx c = {};
	struct cg_policy *p = NULL;
	struct cg_compiled *cp = NULL;
	struct cg_diags d = {.file = "self.yaml"};
	struct cg_gate_opts o = {.record = true, .learn_self = true};
	struct cg_frame_spec s;
	struct sockaddr_in la = {.sin_family = AF_INET, .sin_port = htons(22)};
	uint8_t buf[CG_FRAME_MAX], body[64];
	int lfd = -1, fd1 = -1, fd2 = -1, one = 1, err;
	uint16_t p1, p2;
	size_t len, n;

	/* The gateway's addresses on biz0, and a route for its connections. */
	if (!ASSERT_OK(system("ip link set lo up && ip link set biz0 up && "
			      "ip link set cgp0 up && "
			      "ip addr add 198.18.10.1/24 dev biz0 && "
			      "ip addr add 2001:2:0:10::1/64 dev biz0 nodad"),
		       "self: addresses on biz0"))
		return;
	err = cg_policy_parse("self.yaml", self_text, strlen(self_text), &p,
			      &d);
	if (!err)
		err = cg_compile(p, &cp, &d);
	cg_diags_print(&d, stdout);
	cg_diags_free(&d);
	if (!ASSERT_OK(err, "self: policy compiles") ||
	    !ASSERT_OK(cg_gate_load(cp, &o, &c.g),
		       "self: instance loads and learns biz0's addresses"))
		goto out;

	cg_frame_tcp(&s, "198.18.10.5", "198.18.10.1", 40000, 22, CG_TCP_SYN);
	len = build(&s, buf);
	expect(&c, "self: business -> its gateway's address, TCP 22: no-rule",
	       "biz0", buf, len, DROP, CG_R_NO_RULE, NONE);
	cg_frame_tcp(&s, "198.18.10.5", "198.18.10.77", 40000, 22, CG_TCP_SYN);
	len = build(&s, buf);
	expect(&c, "self: business -> another business host: intra-zone",
	       "biz0", buf, len, PASS, CG_R_INTRA_ZONE, NONE);
	cg_frame_tcp(&s, "198.18.30.5", "198.18.10.1", 40000, 22, CG_TCP_SYN);
	len = build(&s, buf);
	expect(&c, "self: mgmt -> the gateway, TCP 22: allowed (to: self)",
	       "mgmt0", buf, len, PASS, CG_R_ALLOWED, 0);
	cg_frame_tcp(&s, "198.18.30.5", "198.18.10.1", 40000, 23, CG_TCP_SYN);
	len = build(&s, buf);
	expect(&c, "self: mgmt -> the gateway, TCP 23: no-rule", "mgmt0", buf,
	       len, DROP, CG_R_NO_RULE, NONE);
	cg_frame_icmp(&s, "198.18.10.5", "198.18.10.1", 8, 0, 7);
	len = build(&s, buf);
	expect(&c, "self: business pings the gateway: allowed (ping-gw)",
	       "biz0", buf, len, PASS, CG_R_ALLOWED, 2);
	cg_frame_tcp(&s, "2001:2:0:10::5", "2001:2:0:10::1", 40000, 22,
		     CG_TCP_SYN);
	len = build(&s, buf);
	expect(&c, "self: business -> the gateway over IPv6: no-rule", "biz0",
	       buf, len, DROP, CG_R_NO_RULE, NONE);
	cg_frame_tcp(&s, "198.18.10.1", "198.18.20.11", 40000, 502, CG_TCP_SYN);
	len = build(&s, buf);
	expect(&c,
	       "self: a frame from the gateway's address coming in: "
	       "spoofed-source",
	       "biz0", buf, len, DROP, CG_R_SPOOFED_SOURCE, NONE);
	cg_frame_arp(&s, "198.18.10.5", "198.18.10.1");
	len = build(&s, buf);
	expect(&c, "self: ARP for the gateway passes", "biz0", buf, len, PASS,
	       CG_R_ARP, NONE);
	n = nd_body(body, "2001:2:0:10::1", 1, 0x05);
	c.keep_mac = true;
	len = nd_frame(buf, "2001:2:0:10::5", "ff02::1:ff00:1", 135, body, n,
		       0x05);
	expect(&c, "self: neighbour solicitation for the gateway passes",
	       "biz0", buf, len, PASS, CG_R_ND, NONE);
	c.keep_mac = false;

	/* The gateway's own connections: real sockets in this namespace. */
	p1 = gw_connect("198.18.10.5", 8080, &fd1);
	p2 = gw_connect("198.18.10.5", 8081, &fd2);
	if (!ASSERT_NEQ(p1, 0, "self: the gateway connects to :8080") ||
	    !ASSERT_NEQ(p2, 0, "self: the gateway connects to :8081"))
		goto out;
	cg_frame_tcp(&s, "198.18.10.5", "198.18.10.1", 8080, p1,
		     CG_TCP_SYN | CG_TCP_ACK);
	len = build(&s, buf);
	expect(&c,
	       "self: the SYN-ACK to the gateway's connection: reply "
	       "(from: self)",
	       "biz0", buf, len, PASS, CG_R_REPLY, 1);
	cg_frame_tcp(&s, "198.18.10.5", "198.18.10.1", 8081, p2,
		     CG_TCP_SYN | CG_TCP_ACK);
	len = build(&s, buf);
	expect(&c, "self: a reply on a port no from: self flow names: no-rule",
	       "biz0", buf, len, DROP, CG_R_NO_RULE, NONE);
	cg_frame_tcp(&s, "198.18.10.5", "198.18.10.1", 8080, p1, CG_TCP_SYN);
	len = build(&s, buf);
	expect(&c, "self: a bare SYN to the connection's port is no reply",
	       "biz0", buf, len, DROP, CG_R_NO_RULE, NONE);
	cg_frame_tcp(&s, "198.18.10.5", "198.18.10.1", 8080, p1 ^ 1,
		     CG_TCP_ACK);
	len = build(&s, buf);
	expect(&c, "self: an ACK to a port with no socket: no-rule", "biz0",
	       buf, len, DROP, CG_R_NO_RULE, NONE);

	/* A service: a listener bound to its port is reached by to: self
	 * only, whatever the frame's flags. */
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	inet_pton(AF_INET, "198.18.10.1", &la.sin_addr);
	if (!ASSERT_OK(bind(lfd, (struct sockaddr *)&la, sizeof(la)) ||
			       listen(lfd, 4),
		       "self: a service listens on 198.18.10.1:22"))
		goto out;
	cg_frame_tcp(&s, "198.18.10.5", "198.18.10.1", 8080, 22, CG_TCP_ACK);
	len = build(&s, buf);
	expect(&c,
	       "self: an ACK from :8080 to the service's port: no-rule "
	       "(a service is no connection of the gateway)",
	       "biz0", buf, len, DROP, CG_R_NO_RULE, NONE);
out:
	if (lfd >= 0)
		close(lfd);
	if (fd1 >= 0)
		close(fd1);
	if (fd2 >= 0)
		close(fd2);
	cg_gate_free(c.g);
	cg_compiled_free(cp);
	cg_policy_free(p);
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
		test_flows(&c);
		test_sources_and_zones(&c);
		test_stripped_tags(&c);
		test_malformed_and_fragments(&c);
		test_state(&c);
		test_ics(&c);
		test_stream(&c);
		test_nd_arp_frags(&c);
		test_counters(&c);
	}
	cg_gate_free(c.g);
	cg_compiled_free(cp);
	cg_policy_free(p);
	test_monitor();
	test_timed();
	test_self();
	return cg_test_done();
}
