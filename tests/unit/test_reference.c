// SPDX-License-Identifier: GPL-2.0
/*
 * The reference evaluator against hand-worked cases: every step of
 * README's "How a frame is judged" and every reason it can give, with
 * frames from tests/lib/frames.c. The differential test trusts the
 * reference; this is what earns that trust, without BPF.
 */
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "cranegate.h"
#include "reference.h"
#include "frames.h"
#include "harness.h"
#include "ics.h"

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

static struct cg_policy *load(const char *yaml, const char *mode)
{
	struct cg_diags d = {.file = "unit"};
	struct cg_policy *p = NULL;
	char *text;

	const char *zones = strstr(yaml, "zones:");

	/* "mode: ..." goes before the zones. */
	if (asprintf(&text, "%.*smode: %s\n%s", (int)(zones - yaml), yaml, mode,
		     zones) < 0)
		return NULL;
	if (cg_policy_parse("unit", text, strlen(text), &p, &d)) {
		cg_diags_print(&d, stdout);
		p = NULL;
	}
	cg_diags_free(&d);
	free(text);
	return p;
}

/* Tag a spec with one 802.1Q tag of VLAN `vid`. */
static void tag(struct cg_frame_spec *s, uint16_t vid)
{
	s->n_tags = 1;
	s->tags[0].tpid = 0x8100;
	s->tags[0].tci = vid;
}

/*
 * Judge a frame and compare "REASON flow F from Z to Z" (flow and zones
 * as numbers, -1 for none) with what is expected, in one assertion.
 */
static void expect_buf(struct cg_refeval *r, const char *name,
		       const char *ifname, const uint8_t *buf, size_t len,
		       const char *want)
{
	static uint8_t frame[CG_FRAME_MAX];
	struct cg_ref_result res;
	char got[128];

	/* Every host its own station MAC (the MAC table is not the point). */
	memcpy(frame, buf, len);
	cg_frame_station_mac(frame, len);
	cg_ref_eval(r, ifname, frame, len, &res);
	snprintf(got, sizeof(got), "%s%s%s flow %d from %d to %d",
		 cg_reason_names[res.reason],
		 res.would != res.reason ? " would " : "",
		 res.would != res.reason ? cg_reason_names[res.would] : "",
		 res.flow == CG_FLOW_NONE ? -1 : (int)res.flow,
		 res.zone_from == CG_ZONE_NONE ? -1 : res.zone_from,
		 res.zone_to == CG_ZONE_NONE ? -1 : res.zone_to);
	if ((res.verdict == CG_V_DROP) != (res.reason >= CG_R_FIRST_DROP)) {
		ASSERT_TRUE(false, "verdict follows reason");
		return;
	}
	ASSERT_STREQ(got, want, name);
}

static size_t build(const struct cg_frame_spec *s, uint8_t *buf,
		    struct cg_frame_layout *lay)
{
	return cg_frame_build_layout(s, buf, CG_FRAME_MAX, lay);
}

static void expect(struct cg_refeval *r, const char *name, const char *ifname,
		   const struct cg_frame_spec *s, const char *want)
{
	struct cg_frame_layout lay;
	uint8_t buf[CG_FRAME_MAX];
	size_t len = build(s, buf, &lay);

	if (!len) {
		ASSERT_TRUE(false, name); /* the spec does not build */
		return;
	}
	expect_buf(r, name, ifname, buf, len, want);
}

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

/*
 * Judge a TCP frame carrying `pl` and compare "REASON flow F fn X" (the
 * function as events carry it, in hex, "-" for none).
 */
static void expect_ics(struct cg_refeval *r, const char *name,
		       const struct ics_seg *sg, const uint8_t *pl, size_t len,
		       const char *want)
{
	static uint8_t frame[CG_FRAME_MAX];
	struct cg_frame_spec s;
	struct cg_ref_result res;
	char got[96], fn[16];
	size_t n;

	if (cg_frame_tcp(&s, sg->src, sg->dst, sg->sport, sg->dport,
			 sg->flags)) {
		ASSERT_TRUE(false, name);
		return;
	}
	s.payload = pl;
	s.payload_len = len;
	n = cg_frame_build(&s, frame, sizeof(frame));
	if (!n) {
		ASSERT_TRUE(false, name);
		return;
	}
	cg_frame_station_mac(frame, n);
	cg_ref_eval(r, sg->ifname, frame, n, &res);
	if (res.function == CG_FUNC_NONE)
		snprintf(fn, sizeof(fn), "-");
	else
		snprintf(fn, sizeof(fn), "%#x", res.function);
	snprintf(got, sizeof(got), "%s%s%s flow %d fn %s",
		 cg_reason_names[res.reason],
		 res.would != res.reason ? " would " : "",
		 res.would != res.reason ? cg_reason_names[res.would] : "",
		 res.flow == CG_FLOW_NONE ? -1 : (int)res.flow, fn);
	ASSERT_STREQ(got, want, name);
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

static void test_modbus_connection(struct cg_refeval *r)
{
	struct ics_seg syn = hmi_502,
		       plc = {"198.18.20.11", "198.18.10.5",
			      "crane0",	      502,
			      42000,	      CG_TCP_PSH | CG_TCP_ACK};
	uint8_t pl[512];
	size_t n, conns;

	syn.sport = 42000;
	syn.flags = CG_TCP_SYN;
	expect_ics(r, "modbus: SYN without payload allowed", &syn, pl, 0,
		   "allowed flow 0 fn -");
	plc.flags = CG_TCP_SYN | CG_TCP_ACK;
	expect_ics(r, "modbus: SYN-ACK reply", &plc, pl, 0,
		   "reply flow 0 fn -");
	syn.flags = CG_TCP_PSH | CG_TCP_ACK;
	expect_ics(r, "modbus: established read allowed", &syn, pl, mb(pl, 3),
		   "allowed flow 0 fn 0x3");
	expect_ics(r, "modbus: established write denied", &syn, pl, mb(pl, 16),
		   "ics-denied flow 0 fn 0x10");
	plc.flags = CG_TCP_PSH | CG_TCP_ACK;
	n = cg_modbus_response(pl, sizeof(pl), 1, 1, 16, 0);
	expect_ics(r, "modbus: a response is a reply, not inspected", &plc, pl,
		   n, "reply flow 0 fn -");
	pl[4] = 0x7f;
	expect_ics(r, "modbus: even a broken one", &plc, pl, n,
		   "reply flow 0 fn -");
	syn.flags = CG_TCP_ACK;
	expect_ics(r, "modbus: bare ACK allowed", &syn, pl, 0,
		   "allowed flow 0 fn -");

	conns = cg_ref_n_conns(r);
	syn.sport = 42001;
	syn.flags = CG_TCP_PSH | CG_TCP_ACK;
	expect_ics(r, "modbus: a denied first segment", &syn, pl, mb(pl, 6),
		   "ics-denied flow 0 fn 0x6");
	ASSERT_EQ(cg_ref_n_conns(r), conns,
		  "modbus: a denied frame opens no connection");
	plc.dport = 42001;
	expect_ics(r, "modbus: so the answer is no reply", &plc, pl,
		   cg_modbus_response(pl, sizeof(pl), 1, 1, 6, 0),
		   "no-rule flow -1 fn -");
	syn.flags = CG_TCP_SYN | CG_TCP_PSH;
	expect_ics(r, "modbus: a SYN carrying a write denied", &syn, pl,
		   mb(pl, 5), "ics-denied flow 0 fn 0x5");
	syn.flags = CG_TCP_FIN | CG_TCP_ACK;
	expect_ics(r, "modbus: a FIN carrying a read allowed", &syn, pl,
		   mb(pl, 1), "allowed flow 0 fn 0x1");
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
	struct cg_frame_spec s;
	uint8_t pl[512], buf[CG_FRAME_MAX];
	size_t n;

	cg_frame_tcp(&s, "198.18.10.5", "198.18.20.11", 48000, 502,
		     CG_TCP_PSH | CG_TCP_ACK);
	s.tcp_opts_len = 12;
	s.payload = pl;
	s.payload_len = mb(pl, 3);
	expect(r, "modbus behind TCP options: read allowed", "biz0", &s,
	       "allowed flow 0 from 0 to 1");
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

	s.ip4_mf = true;
	s.ip_id = 77;
	s.payload_len = mb(pl, 6);
	expect(r, "an inspected flow's first fragment (a write): fragment",
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
	expect(r, "an inspected flow's first fragment (a read): fragment",
	       "biz0", &s, "fragment flow 0 from 0 to 1");
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
	test_modbus_connection(r);
	test_s7_read_only(r);
	test_s7_framing(r);
	test_ics_lists_and_any(r);
	test_ics_payload_bounds(r);

	expect_ics(rm, "monitor: a write passes as monitor", &hmi_502, pl,
		   mb(pl, 6), "monitor would ics-denied flow 0 fn 0x6");
	ASSERT_EQ(cg_ref_n_conns(rm), 0,
		  "monitor: a would-be denial opens nothing");
	expect_ics(rm, "monitor: a read is allowed", &hmi_502, pl, mb(pl, 3),
		   "allowed flow 0 fn 0x3");
out:
	cg_ref_free(r);
	cg_policy_free(p);
	cg_ref_free(rm);
	cg_policy_free(pm);
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
	test_ics();
	return cg_test_done();
}
