// SPDX-License-Identifier: GPL-2.0
/*
 * The reference evaluator against hand-worked cases: every step of
 * README's "How a frame is judged" and every reason it can give, with
 * frames from tests/lib/frames.c. The differential test trusts the
 * reference; this is what earns that trust, without BPF.
 */
#include "reftest.h"

CG_TEST_GLOBALS;

/*
 * Zone ids: 0 business, 1 control, 2 cctv, 3 mgmt.
 * Flow ids: 0 hmi-plc ... 6 wide-to-mgmt.
 */
static const char policy_yaml[] =
	"version: 1\n"
	"name: unit\n"
	"zones:\n"
	"  business:\n"
	"    interfaces: [biz0]\n"
	"    networks: [198.18.10.0/24, 2001:2:0:10::/64]\n"
	"  control:\n"
	"    interfaces: [crane0]\n"
	"    vlans: [100]\n"
	"    networks: [198.18.20.0/24, 2001:2:0:20::/64]\n"
	"  cctv:\n"
	"    interfaces: [crane0]\n"
	"    vlans: [200]\n"
	"    networks: [198.18.21.0/24]\n"
	"  mgmt:\n"
	"    interfaces: [mgmt0]\n"
	"    networks: [198.18.30.0/24]\n"
	"hosts:\n"
	"  hmi: 198.18.10.5\n"
	"  vms: 198.18.10.40\n"
	"flows:\n"
	"  - name: hmi-plc\n"
	"    from: hmi\n"
	"    to: control\n"
	"    proto: tcp\n"
	"    ports: [502]\n"
	"  - name: cctv-vms\n"
	"    from: cctv\n"
	"    to: vms\n"
	"    proto: tcp\n"
	"    ports: [554, \"8000-8010\"]\n"
	"  - name: ping-control\n"
	"    from: business\n"
	"    to: control\n"
	"    proto: icmp\n"
	"  - name: ping6-control\n"
	"    from: business\n"
	"    to: control\n"
	"    proto: icmpv6\n"
	"  - name: dns-out\n"
	"    from: mgmt\n"
	"    to: 198.18.200.0/24\n"
	"    proto: udp\n"
	"    ports: [53]\n"
	"  - name: mgmt-ports\n"
	"    from: mgmt\n"
	"    to: [control, 198.19.0.0/16]\n"
	"    proto: any\n"
	"    ports: [\"100-200\"]\n"
	"  - name: wide-to-mgmt\n"
	"    from: 198.18.0.0/15\n"
	"    to: mgmt\n"
	"    proto: any\n";

static void test_ethernet_and_zones(struct cg_refeval *r)
{
	struct cg_frame_spec s;
	struct cg_frame_layout lay;
	uint8_t buf[CG_FRAME_MAX];

	cg_frame_tcp(&s, "198.18.10.5", "198.18.20.7", 40000, 502, CG_TCP_SYN);
	build(&s, buf, &lay);
	expect_buf(r, "13 bytes: malformed", "biz0", buf, 13,
		   "malformed flow -1 from -1 to -1");

	tag(&s, 100);
	build(&s, buf, &lay);
	expect_buf(r, "tag cut short: malformed", "crane0", buf, 17,
		   "malformed flow -1 from -1 to -1");

	s.n_tags = 2;
	s.tags[0].tpid = 0x88a8;
	s.tags[1].tpid = 0x8100;
	s.tags[1].tci = 100;
	expect(r, "QinQ: vlan-violation", "crane0", &s,
	       "vlan-violation flow -1 from -1 to -1");
	expect(r, "QinQ on an unknown interface: vlan-violation", "eth9", &s,
	       "vlan-violation flow -1 from -1 to -1");

	tag(&s, 300);
	expect(r, "undeclared VLAN: vlan-violation", "crane0", &s,
	       "vlan-violation flow -1 from -1 to -1");
	tag(&s, 100);
	expect(r, "tagged on an unknown interface: unknown-zone", "eth9", &s,
	       "unknown-zone flow -1 from -1 to -1");
	expect(r,
	       "tagged where the interface has only untagged: vlan-violation",
	       "biz0", &s, "vlan-violation flow -1 from -1 to -1");
	s.n_tags = 0;
	expect(r, "untagged on an interface with only VLANs: unknown-zone",
	       "crane0", &s, "unknown-zone flow -1 from -1 to -1");

	cg_frame_arp(&s, "198.18.10.5", "198.18.10.1");
	expect(r, "ARP: arp", "biz0", &s, "arp flow -1 from 0 to -1");
	s.n_tags = 1;
	s.tags[0].tci = 5 << 13; /* priority tag: VLAN id 0 */
	expect(r, "priority-tagged ARP is untagged: arp", "biz0", &s,
	       "arp flow -1 from 0 to -1");
	tag(&s, 200);
	s.tags[0].tci |= 0xe000; /* PCP bits do not change the VLAN id */
	expect(r, "ARP on VLAN 200 with PCP: arp in cctv", "crane0", &s,
	       "arp flow -1 from 2 to -1");

	cg_frame_init(&s);
	s.kind = CG_FRAME_RAW;
	s.ethertype = 0x88cc;
	s.payload_len = 30;
	s.payload = buf + 100;
	memset(buf + 100, 0, 30);
	expect(r, "LLDP: ethertype", "biz0", &s,
	       "ethertype flow -1 from 0 to -1");
	s.ethertype = 0x9100; /* old QinQ TPID: not a tag here */
	expect(r, "0x9100: ethertype", "biz0", &s,
	       "ethertype flow -1 from 0 to -1");
}

static void test_ip_headers(struct cg_refeval *r)
{
	struct cg_frame_spec s;
	struct cg_frame_layout lay;
	uint8_t buf[CG_FRAME_MAX];
	size_t len;

	cg_frame_tcp(&s, "198.18.10.5", "198.18.10.6", 40000, 22, CG_TCP_SYN);
	len = build(&s, buf, &lay);
	expect_buf(r, "IPv4 of 19 bytes: malformed", "biz0", buf, 14 + 19,
		   "malformed flow -1 from 0 to -1");
	buf[14] = 0x44;
	expect_buf(r, "IPv4 IHL 4: malformed", "biz0", buf, len,
		   "malformed flow -1 from 0 to -1");
	buf[14] = 0x55;
	expect_buf(r, "IPv4 version 5: malformed", "biz0", buf, len,
		   "malformed flow -1 from 0 to -1");
	buf[14] = 0x4f; /* 60-byte header, 54-byte frame */
	expect_buf(r, "IPv4 header beyond the frame: malformed", "biz0", buf,
		   len, "malformed flow -1 from 0 to -1");
	buf[14] = 0x45;
	buf[17]++; /* total length one beyond the frame */
	expect_buf(r, "IPv4 total length beyond the frame: malformed", "biz0",
		   buf, len, "malformed flow -1 from 0 to -1");
	buf[16] = 0;
	buf[17] = 19;
	expect_buf(r, "IPv4 total length below the header: malformed", "biz0",
		   buf, len, "malformed flow -1 from 0 to -1");

	s.pad_to = 80;
	s.ip4_opts_len = 12;
	expect(r, "IPv4 options and padding: intra-zone", "biz0", &s,
	       "intra-zone flow -1 from 0 to 0");
	s.pad_to = 0;
	s.ip4_opts_len = 0;

	cg_frame_tcp(&s, "2001:2:0:10::5", "2001:2:0:10::6", 40000, 22,
		     CG_TCP_SYN);
	len = build(&s, buf, &lay);
	expect_buf(r, "IPv6 of 39 bytes: malformed", "biz0", buf, 14 + 39,
		   "malformed flow -1 from 0 to -1");
	buf[14] = 0x40;
	expect_buf(r, "IPv6 version 4: malformed", "biz0", buf, len,
		   "malformed flow -1 from 0 to -1");
	buf[14] = 0x60;
	buf[19]++; /* payload length one beyond the frame */
	expect_buf(r, "IPv6 payload beyond the frame: malformed", "biz0", buf,
		   len, "malformed flow -1 from 0 to -1");

	/* Extension headers. */
	s.n_ext = 8;
	for (size_t i = 0; i < 8; i++) {
		memset(&s.ext[i], 0, sizeof(s.ext[i]));
		s.ext[i].type = i % 2 ? 60 : 0;
	}
	s.ext[3].type = 51;
	s.ext[3].len = 4;
	s.ext[5].type = 43;
	s.ext[6].type = 44; /* atomic fragment: offset 0, no M */
	s.ext[6].len = 7;   /* reserved byte: a fragment header is 8 bytes */
	expect(r, "8 extension headers: intra-zone", "biz0", &s,
	       "intra-zone flow -1 from 0 to 0");
	s.n_ext = 9;
	memset(&s.ext[8], 0, sizeof(s.ext[8]));
	s.ext[8].type = 60;
	expect(r, "9 extension headers: malformed", "biz0", &s,
	       "malformed flow -1 from 0 to -1");
	s.n_ext = 1;
	memset(&s.ext[0], 0, sizeof(s.ext[0]));
	s.ext[0].type = 43;
	s.ext[0].segs_left = 1;
	expect(r, "routing header with segments left: malformed", "biz0", &s,
	       "malformed flow -1 from 0 to -1");
	s.ext[0].segs_left = 0;
	expect(r, "routing header, no segments left: intra-zone", "biz0", &s,
	       "intra-zone flow -1 from 0 to 0");
	s.ext[0].type = 60;
	s.no_l4 = true;
	s.proto = 59;
	expect(r, "no next header: intra-zone", "biz0", &s,
	       "intra-zone flow -1 from 0 to 0");
	len = build(&s, buf, &lay);
	buf[lay.ext_off[0] + 1] = 1; /* 16 bytes, 8 there */
	expect_buf(r, "extension header beyond the payload: malformed", "biz0",
		   buf, len, "malformed flow -1 from 0 to -1");
	s.n_ext = 0;
	s.no_l4 = true;
	s.proto = 0; /* a hop-by-hop header that is not there */
	expect(r, "next header 0 with no room: malformed", "biz0", &s,
	       "malformed flow -1 from 0 to -1");
}

static void test_nd_and_sources(struct cg_refeval *r)
{
	struct cg_frame_spec s;

	cg_frame_icmp(&s, "::", "ff02::1:ff00:5", 135, 0, 0);
	s.ttl = 255;
	s.payload_len = 16;
	s.payload = (const uint8_t *)"0123456789abcdef";
	expect(r, "neighbour solicitation for DAD: nd", "biz0", &s,
	       "nd flow -1 from 0 to -1");
	s.ttl = 254;
	expect(r, "neighbour solicitation, hop limit 254: spoofed-source",
	       "biz0", &s, "spoofed-source flow -1 from 0 to -1");
	s.ttl = 255;
	s.n_ext = 1;
	s.ext[0].type = 44;
	expect(r, "fragmented neighbour solicitation: spoofed-source", "biz0",
	       &s, "spoofed-source flow -1 from 0 to -1");
	s.n_ext = 1;
	s.ext[0].type = 0;
	expect(r, "neighbour solicitation behind hop-by-hop: nd", "biz0", &s,
	       "nd flow -1 from 0 to -1");

	cg_frame_tcp(&s, "198.18.99.1", "198.18.20.7", 40000, 502, CG_TCP_SYN);
	expect(r, "source in no zone: spoofed-source", "biz0", &s,
	       "spoofed-source flow -1 from 0 to -1");
	cg_frame_tcp(&s, "198.18.20.5", "198.18.20.7", 40000, 502, CG_TCP_SYN);
	expect(r, "source of another zone: multi-homed", "biz0", &s,
	       "multi-homed flow -1 from 0 to -1");
	cg_frame_tcp(&s, "198.18.10.255", "198.18.10.0", 1, 2, CG_TCP_ACK);
	expect(r, "last and first address of a network: intra-zone", "biz0", &s,
	       "intra-zone flow -1 from 0 to 0");
	cg_frame_tcp(&s, "198.18.11.0", "198.18.10.0", 1, 2, CG_TCP_ACK);
	expect(r, "one past the network: spoofed-source", "biz0", &s,
	       "spoofed-source flow -1 from 0 to -1");
}

static void test_fragments_and_transport(struct cg_refeval *r)
{
	struct cg_frame_spec s;
	struct cg_frame_layout lay;
	uint8_t buf[CG_FRAME_MAX];
	size_t len;

	cg_frame_tcp(&s, "198.18.10.5", "198.18.20.7", 40000, 502, CG_TCP_SYN);
	s.ip4_frag_off = 100;
	s.no_l4 = true;
	s.payload_len = 8;
	s.payload = (const uint8_t *)"fragment";
	expect(r, "IPv4 non-first fragment: fragment", "biz0", &s,
	       "fragment flow -1 from 0 to -1");
	cg_frame_tcp(&s, "198.18.99.5", "198.18.20.7", 40000, 502, CG_TCP_SYN);
	s.ip4_frag_off = 100;
	expect(r, "spoofed non-first fragment: spoofed-source", "biz0", &s,
	       "spoofed-source flow -1 from 0 to -1");

	cg_frame_tcp(&s, "198.18.10.5", "198.18.20.7", 40000, 502, CG_TCP_SYN);
	s.ip4_mf = true;
	expect(r, "IPv4 first fragment: allowed", "biz0", &s,
	       "allowed flow 0 from 0 to 1");
	len = build(&s, buf, &lay);
	buf[16] = 0;
	buf[17] = 20 + 12; /* the fragment holds 12 bytes of TCP */
	expect_buf(r, "first fragment cutting TCP: malformed", "biz0", buf, len,
		   "malformed flow -1 from 0 to -1");

	cg_frame_tcp(&s, "2001:2:0:10::5", "2001:2:0:20::7", 40000, 502,
		     CG_TCP_SYN);
	s.n_ext = 1;
	s.ext[0].type = 44;
	s.ext[0].frag_off = 185;
	s.ext[0].frag_more = true;
	s.no_l4 = true;
	s.proto = 60; /* fragment data, not a header: never walked */
	s.payload_len = 8;
	s.payload = (const uint8_t *)"\x06\xff\xff\xff\xff\xff\xff\xff";
	expect(r, "IPv6 non-first fragment: fragment", "biz0", &s,
	       "fragment flow -1 from 0 to -1");

	cg_frame_tcp(&s, "198.18.10.5", "198.18.20.7", 40000, 502, CG_TCP_SYN);
	len = build(&s, buf, &lay);
	buf[lay.l4_off + 12] = 4 << 4;
	expect_buf(r, "TCP data offset 4: malformed", "biz0", buf, len,
		   "malformed flow -1 from 0 to -1");
	buf[lay.l4_off + 12] = 6 << 4;
	expect_buf(r, "TCP data offset beyond the segment: malformed", "biz0",
		   buf, len, "malformed flow -1 from 0 to -1");
	buf[16] = 0;
	buf[17] = 20 + 19;
	expect_buf(r, "TCP of 19 bytes: malformed", "biz0", buf, len,
		   "malformed flow -1 from 0 to -1");

	cg_frame_udp(&s, "198.18.30.9", "198.18.200.1", 5353, 53);
	len = build(&s, buf, &lay);
	buf[lay.l4_off + 5] = 7;
	expect_buf(r, "UDP length 7: malformed", "mgmt0", buf, len,
		   "malformed flow -1 from 3 to -1");
	buf[lay.l4_off + 5] = 9;
	expect_buf(r, "UDP length beyond the payload: malformed", "mgmt0", buf,
		   len, "malformed flow -1 from 3 to -1");
	s.ip4_mf = true;
	len = build(&s, buf, &lay);
	buf[lay.l4_off + 5] = 200;
	expect_buf(r, "UDP length unchecked in a first fragment: allowed",
		   "mgmt0", buf, len, "allowed flow 4 from 3 to -1");

	cg_frame_icmp(&s, "198.18.10.9", "198.18.20.7", 8, 0, 7);
	len = build(&s, buf, &lay);
	buf[17] -= 4; /* 4 bytes of ICMP */
	expect_buf(r, "ICMP of 4 bytes: malformed", "biz0", buf, len,
		   "malformed flow -1 from 0 to -1");
}

static void test_flows_and_replies(struct cg_refeval *r)
{
	struct cg_frame_spec s;

	cg_frame_tcp(&s, "198.18.10.5", "198.18.10.6", 40000, 502, CG_TCP_SYN);
	expect(r, "same zone: intra-zone", "biz0", &s,
	       "intra-zone flow -1 from 0 to 0");

	cg_frame_tcp(&s, "198.18.20.7", "198.18.10.5", 502, 40002,
		     CG_TCP_SYN | CG_TCP_ACK);
	tag(&s, 100);
	expect(r, "SYN-ACK before any SYN: no-rule", "crane0", &s,
	       "no-rule flow -1 from 1 to 0");

	cg_frame_tcp(&s, "198.18.10.5", "198.18.20.7", 40000, 502, CG_TCP_SYN);
	expect(r, "HMI to PLC port 502: allowed", "biz0", &s,
	       "allowed flow 0 from 0 to 1");
	cg_frame_tcp(&s, "198.18.10.5", "198.18.20.7", 40000, 503, CG_TCP_SYN);
	expect(r, "HMI to PLC port 503: no-rule", "biz0", &s,
	       "no-rule flow -1 from 0 to 1");
	cg_frame_tcp(&s, "198.18.10.6", "198.18.20.7", 40000, 502, CG_TCP_SYN);
	expect(r, "not the HMI: no-rule", "biz0", &s,
	       "no-rule flow -1 from 0 to 1");

	cg_frame_tcp(&s, "198.18.20.7", "198.18.10.5", 502, 40000,
		     CG_TCP_SYN | CG_TCP_ACK);
	tag(&s, 100);
	expect(r, "PLC's SYN-ACK: reply", "crane0", &s,
	       "reply flow 0 from 1 to 0");
	s.tcp_flags = CG_TCP_ACK | CG_TCP_PSH;
	expect(r, "PLC's data: reply", "crane0", &s,
	       "reply flow 0 from 1 to 0");
	s.tcp_flags = CG_TCP_SYN;
	expect(r, "PLC's SYN along the reverse tuple: no-rule", "crane0", &s,
	       "no-rule flow -1 from 1 to 0");
	cg_frame_tcp(&s, "198.18.20.7", "198.18.10.5", 502, 40001, CG_TCP_ACK);
	tag(&s, 100);
	expect(r, "other client port: no-rule", "crane0", &s,
	       "no-rule flow -1 from 1 to 0");
	cg_frame_udp(&s, "198.18.20.7", "198.18.10.5", 502, 40000);
	tag(&s, 100);
	expect(r, "UDP on a TCP connection's tuple: no-rule", "crane0", &s,
	       "no-rule flow -1 from 1 to 0");

	cg_frame_tcp(&s, "198.18.21.9", "198.18.10.40", 1000, 8010, CG_TCP_SYN);
	tag(&s, 200);
	expect(r, "camera to VMS port 8010: allowed", "crane0", &s,
	       "allowed flow 1 from 2 to 0");
	s.dport = 8011;
	expect(r, "camera to VMS port 8011: no-rule", "crane0", &s,
	       "no-rule flow -1 from 2 to 0");
	s.dport = 554;
	expect(r, "camera to VMS port 554: allowed", "crane0", &s,
	       "allowed flow 1 from 2 to 0");

	cg_frame_icmp(&s, "198.18.10.9", "198.18.20.7", 8, 0, 7);
	expect(r, "echo request to control: allowed", "biz0", &s,
	       "allowed flow 2 from 0 to 1");
	cg_frame_icmp(&s, "198.18.20.7", "198.18.10.9", 0, 0, 7);
	tag(&s, 100);
	expect(r, "echo reply, same id: reply", "crane0", &s,
	       "reply flow 2 from 1 to 0");
	s.icmp_id = 8;
	expect(r, "echo reply, other id: no-rule", "crane0", &s,
	       "no-rule flow -1 from 1 to 0");
	cg_frame_icmp(&s, "2001:2:0:10::9", "2001:2:0:20::7", 128, 0, 9);
	expect(r, "ICMPv6 echo request: allowed", "biz0", &s,
	       "allowed flow 3 from 0 to 1");
	cg_frame_icmp(&s, "2001:2:0:20::7", "2001:2:0:10::9", 129, 0, 9);
	tag(&s, 100);
	expect(r, "ICMPv6 echo reply: reply", "crane0", &s,
	       "reply flow 3 from 1 to 0");

	cg_frame_udp(&s, "198.18.30.9", "198.18.200.1", 5353, 53);
	expect(r, "DNS to a CIDR outside every zone: allowed", "mgmt0", &s,
	       "allowed flow 4 from 3 to -1");
	cg_frame_udp(&s, "198.18.30.9", "198.18.20.7", 5353, 150);
	expect(r, "any with ports, UDP 150: allowed", "mgmt0", &s,
	       "allowed flow 5 from 3 to 1");
	cg_frame_tcp(&s, "198.18.30.9", "198.19.7.7", 5353, 200, CG_TCP_SYN);
	expect(r, "any with ports, TCP 200 to a wide CIDR: allowed", "mgmt0",
	       &s, "allowed flow 5 from 3 to -1");
	cg_frame_icmp(&s, "198.18.30.9", "198.18.20.7", 8, 0, 150);
	expect(r, "any with ports takes no ICMP: no-rule", "mgmt0", &s,
	       "no-rule flow -1 from 3 to 1");
	s.proto = 47;
	s.icmp_type = 0;
	expect(r, "any with ports takes no GRE: no-rule", "mgmt0", &s,
	       "no-rule flow -1 from 3 to 1");

	cg_frame_init(&s);
	cg_frame_addrs(&s, "198.18.21.9", "198.18.30.1");
	s.proto = 47;
	tag(&s, 200);
	expect(r, "GRE from a wide CIDR to mgmt: allowed", "crane0", &s,
	       "allowed flow 6 from 2 to 3");
	cg_frame_addrs(&s, "198.18.30.1", "198.18.21.9");
	s.n_tags = 0;
	expect(r, "GRE back: reply (ports 0)", "mgmt0", &s,
	       "reply flow 6 from 3 to 2");
	cg_frame_udp(&s, "198.18.20.7", "198.18.30.9", 150, 5353);
	tag(&s, 100);
	expect(r, "control to mgmt by the wide flow: allowed", "crane0", &s,
	       "allowed flow 6 from 1 to 3");
	cg_frame_udp(&s, "198.18.30.9", "198.18.20.7", 5353, 150);
	expect(r, "its answer, which a flow allows too: allowed, not reply",
	       "mgmt0", &s, "allowed flow 5 from 3 to 1");

	cg_frame_icmp(&s, "2001:2:0:10::9", "2001:2:0:30::1", 128, 0, 1);
	expect(r, "IPv6 to no zone, no flow: no-rule", "biz0", &s,
	       "no-rule flow -1 from 0 to -1");
}

static void test_monitor(void)
{
	struct cg_policy *p = load(policy_yaml, "monitor");
	struct cg_refeval *r = p ? cg_ref_new(p) : NULL;
	struct cg_frame_spec s;
	struct cg_ref_result res;
	uint8_t buf[CG_FRAME_MAX];
	size_t len;

	if (!ASSERT_TRUE(r, "monitor policy loads"))
		goto out;
	cg_frame_tcp(&s, "198.18.10.5", "198.18.20.7", 40000, 503, CG_TCP_SYN);
	expect(r, "monitor: no-rule passes as monitor", "biz0", &s,
	       "monitor would no-rule flow -1 from 0 to 1");
	len = cg_frame_build(&s, buf, sizeof(buf));
	cg_ref_eval(r, "biz0", buf, len, &res);
	ASSERT_EQ(res.verdict, CG_V_PASS, "monitor: verdict pass");
	expect_buf(r, "monitor: malformed passes as monitor", "biz0", buf, 10,
		   "monitor would malformed flow -1 from -1 to -1");
	s.dport = 502;
	expect(r, "monitor: allowed stays allowed", "biz0", &s,
	       "allowed flow 0 from 0 to 1");
	ASSERT_EQ(cg_ref_n_conns(r), 1, "monitor: only allowed frames open");
out:
	cg_ref_free(r);
	cg_policy_free(p);
}

int main(void)
{
	struct cg_policy *p = load(policy_yaml, "enforce");
	struct cg_refeval *r = p ? cg_ref_new(p) : NULL;

	if (ASSERT_TRUE(r, "policy loads")) {
		test_ethernet_and_zones(r);
		test_ip_headers(r);
		test_nd_and_sources(r);
		test_fragments_and_transport(r);
		test_flows_and_replies(r);
	}
	cg_ref_free(r);
	cg_policy_free(p);
	test_monitor();
	return cg_test_done();
}
