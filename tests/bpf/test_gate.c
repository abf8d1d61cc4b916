// SPDX-License-Identifier: GPL-2.0
/*
 * Crafted frames through the real XDP program (BPF_PROG_TEST_RUN), one
 * case per rule of README's "How a frame is judged": verdict, reason, the
 * flow that decided, the XDP action, and the counters.
 */
#include "gatetest.h"

CG_TEST_GLOBALS;

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
		test_nd_arp_frags(&c);
		test_counters(&c);
	}
	cg_gate_free(c.g);
	cg_compiled_free(cp);
	cg_policy_free(p);
	test_monitor();
	return cg_test_done();
}
