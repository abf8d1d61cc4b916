// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the policy parser: the prefix helpers, the parsed struct
 * of a valid policy down to every position, the file's sha256, and the
 * hex helpers that print and read it back.
 */
#include "policytest.h"

CG_TEST_GLOBALS;

/* ------------------------------------------------------------------ */

static void test_prefix(void)
{
	static const char *const bad[] = {
		"",
		"/24",
		"198.18.10.0/",
		"198.18.10.0/33",
		"2001:2::/129",
		"198.18.10",
		"198.18.10.0/24x",
		"198.18.10.0/-1",
		"198.18.10.0/+8",
		"01.2.3.4",
		"fe80::1%eth0",
		" 198.18.10.0/24",
		"198.18.10.0 /24",
		"crane-control",
		"198.18.10.0/1234",
	};
	struct cg_prefix p, q, r;
	char buf[64];
	size_t i;
	uint8_t a4[4] = {198, 18, 10, 77}, a6[16] = {0x20, 0x01, 0, 2};

	ASSERT_OK(cg_prefix_parse("198.18.10.0/24", &p), "prefix: v4 cidr");
	ASSERT_EQ(p.family, 4, "prefix: v4 family");
	ASSERT_EQ(p.len, 24, "prefix: v4 len");
	ASSERT_TRUE(p.addr[0] == 198 && p.addr[1] == 18 && p.addr[2] == 10 &&
			    p.addr[3] == 0,
		    "prefix: v4 address");

	ASSERT_OK(cg_prefix_parse("198.18.10.5", &q), "prefix: bare v4");
	ASSERT_EQ(q.len, 32, "prefix: bare v4 is /32");
	ASSERT_OK(cg_prefix_parse("2001:2:0:10::/64", &r), "prefix: v6 cidr");
	ASSERT_EQ(r.family, 6, "prefix: v6 family");
	ASSERT_EQ(r.len, 64, "prefix: v6 len");
	ASSERT_TRUE(r.addr[0] == 0x20 && r.addr[1] == 0x01 && r.addr[3] == 2 &&
			    r.addr[7] == 0x10 && r.addr[15] == 0,
		    "prefix: v6 address");
	ASSERT_OK(cg_prefix_parse("2001:2::1", &r), "prefix: bare v6");
	ASSERT_EQ(r.len, 128, "prefix: bare v6 is /128");
	ASSERT_OK(cg_prefix_parse("::/0", &r), "prefix: ::/0");
	ASSERT_EQ(r.len, 0, "prefix: ::/0 len");
	ASSERT_OK(cg_prefix_parse("0.0.0.0/0", &r), "prefix: 0.0.0.0/0");
	ASSERT_OK(cg_prefix_parse("198.18.10.128/25", &r), "prefix: /25");

	/* Host bits: -EDOM, with the prefix the operator probably meant. */
	ASSERT_EQ(cg_prefix_parse("198.18.10.1/24", &r), -EDOM,
		  "prefix: host bits v4");
	cg_prefix_format(&r, buf, sizeof(buf));
	ASSERT_STREQ(buf, "198.18.10.0/24", "prefix: host bits v4 masked");
	ASSERT_EQ(cg_prefix_parse("198.18.11.0/23", &r), -EDOM,
		  "prefix: host bit inside a byte");
	cg_prefix_format(&r, buf, sizeof(buf));
	ASSERT_STREQ(buf, "198.18.10.0/23", "prefix: /23 masked");
	ASSERT_EQ(cg_prefix_parse("198.18.10.129/25", &r), -EDOM,
		  "prefix: host bits /25");
	ASSERT_EQ(cg_prefix_parse("2001:2:0:10::1/64", &r), -EDOM,
		  "prefix: host bits v6");
	cg_prefix_format(&r, buf, sizeof(buf));
	ASSERT_STREQ(buf, "2001:2:0:10::/64", "prefix: host bits v6 masked");
	ASSERT_EQ(cg_prefix_parse("0.0.0.1/0", &r), -EDOM,
		  "prefix: host bits /0");

	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		memset(&r, 0xa5, sizeof(r));
		ASSERT_EQ(cg_prefix_parse(bad[i], &r), -EINVAL,
			  L("prefix: '%s' is refused", bad[i]));
		ASSERT_EQ(r.family, 0xa5, L("prefix: '%s' leaves out", bad[i]));
	}

	/* p = 198.18.10.0/24, q = 198.18.10.5/32 */
	ASSERT_TRUE(cg_prefix_contains(&p, &q), "contains: /24 holds /32");
	ASSERT_FALSE(cg_prefix_contains(&q, &p), "contains: not the reverse");
	ASSERT_TRUE(cg_prefix_contains(&p, &p), "contains: itself");
	cg_prefix_parse("198.18.11.0/24", &r);
	ASSERT_FALSE(cg_prefix_contains(&p, &r), "contains: a neighbour");
	ASSERT_FALSE(cg_prefix_overlaps(&p, &r), "overlaps: a neighbour");
	ASSERT_TRUE(cg_prefix_overlaps(&p, &q), "overlaps: inner");
	ASSERT_TRUE(cg_prefix_overlaps(&q, &p), "overlaps: symmetric");
	cg_prefix_parse("0.0.0.0/0", &r);
	ASSERT_TRUE(cg_prefix_contains(&r, &p), "contains: /0 holds all");
	cg_prefix_parse("::/0", &r);
	ASSERT_FALSE(cg_prefix_contains(&r, &p), "contains: families differ");
	ASSERT_FALSE(cg_prefix_overlaps(&r, &p), "overlaps: families differ");
	cg_prefix_parse("198.18.10.0/25", &r);
	ASSERT_TRUE(cg_prefix_contains(&p, &r), "contains: lower half");
	cg_prefix_parse("198.18.10.128/25", &r);
	ASSERT_TRUE(cg_prefix_contains(&p, &r), "contains: upper half");
	cg_prefix_parse("198.18.10.0/25", &q);
	ASSERT_FALSE(cg_prefix_overlaps(&q, &r), "overlaps: two halves");

	ASSERT_TRUE(cg_prefix_has_addr(&p, 4, a4), "has_addr: v4 inside");
	ASSERT_TRUE(cg_prefix_has_addr(&p, AF_INET, a4),
		    "has_addr: AF_INET spelling");
	ASSERT_FALSE(cg_prefix_has_addr(&r, 4, a4), "has_addr: other half");
	ASSERT_FALSE(cg_prefix_has_addr(&p, 6, a6), "has_addr: wrong family");
	cg_prefix_parse("2001:2::/48", &r);
	ASSERT_TRUE(cg_prefix_has_addr(&r, 6, a6), "has_addr: v6 inside");
	a6[5] = 1;
	ASSERT_FALSE(cg_prefix_has_addr(&r, 6, a6), "has_addr: v6 outside");

	cg_prefix_parse("198.18.10.5", &r);
	cg_prefix_format(&r, buf, sizeof(buf));
	ASSERT_STREQ(buf, "198.18.10.5/32", "format: /32 keeps its length");
	cg_prefix_parse("::/0", &r);
	cg_prefix_format(&r, buf, sizeof(buf));
	ASSERT_STREQ(buf, "::/0", "format: ::/0");

	ASSERT_STREQ(cg_proto_name(CG_P_ANY), "any", "proto name any");
	ASSERT_STREQ(cg_proto_name(CG_P_TCP), "tcp", "proto name tcp");
	ASSERT_STREQ(cg_proto_name(CG_P_UDP), "udp", "proto name udp");
	ASSERT_STREQ(cg_proto_name(CG_P_ICMP), "icmp", "proto name icmp");
	ASSERT_STREQ(cg_proto_name(CG_P_ICMPV6), "icmpv6", "proto name icmpv6");
}

/* ------------------------------------------------------------------ */

/* Line numbers in the comments; the tests check positions against them. */
static const char valid_yaml[] =
	"version: 1\n"						       /* 1 */
	"name: unit-test\n"					       /* 2 */
	"mode: monitor\n"					       /* 3 */
	"zones:\n"						       /* 4 */
	"  biz:\n"						       /* 5 */
	"    interfaces: [biz0, biz1]\n"			       /* 6 */
	"    networks: [198.18.10.0/24, 2001:2:0:10::/64]\n"	       /* 7 */
	"  ctl:\n"						       /* 8 */
	"    interfaces: [crane0]\n"				       /* 9 */
	"    vlans: [100, 4094]\n"				       /* 10 */
	"    networks: [198.18.20.0/24]\n"			       /* 11 */
	"  spare:\n"						       /* 12 */
	"    interfaces: crane0\n"				       /* 13 */
	"    vlans: [1]\n"					       /* 14 */
	"hosts:\n"						       /* 15 */
	"  hmi: 198.18.10.5\n"					       /* 16 */
	"  plc: {address: 198.18.20.11, mac: \"02:00:00:00:20:1F\"}\n" /* 17 */
	"  v6net: 2001:2:0:10:1::/80\n"				       /* 18 */
	"flows:\n"						       /* 19 */
	"  - name: poll\n"					       /* 20 */
	"    from: hmi\n"					       /* 21 */
	"    to: [ctl, 198.18.99.0/24, plc]\n"			       /* 22 */
	"    proto: tcp\n"					       /* 23 */
	"    ports: [502, \"8000-8010\", 0, 65535]\n"		       /* 24 */
	"    modbus: read-only\n"				       /* 25 */
	"    log: true\n"					       /* 26 */
	"  - name: s7\n"					       /* 27 */
	"    from: biz\n"					       /* 28 */
	"    to: plc\n"						       /* 29 */
	"    proto: tcp\n"					       /* 30 */
	"    ports: 102\n"					       /* 31 */
	"    s7comm: [4, 0xF0, 0x29, 0, 255]\n"			       /* 32 */
	"  - name: v6\n"					       /* 33 */
	"    from: v6net\n"					       /* 34 */
	"    to: 2001:2:0:10::1\n"				       /* 35 */
	"    proto: icmpv6\n"					       /* 36 */
	"  - name: anything\n"					       /* 37 */
	"    from: biz\n"					       /* 38 */
	"    to: ctl\n"						       /* 39 */
	"    proto: any\n"					       /* 40 */
	"    modbus: any\n"					       /* 41 */
	"    log: false\n";					       /* 42 */

#define ASSERT_POS(p, l, c, name)                                              \
	cg_test_report((p).line == (l) && (p).col == (c), (name),              \
		       "got line %lld, col %lld", (p).line, (p).col)

static void test_valid(void)
{
	struct cg_diags d = {0};
	struct cg_policy *p = NULL;
	const struct cg_zone *z;
	const struct cg_host *h;
	const struct cg_flow *f;
	char *text, buf[64];
	int err;

	err = parse(valid_yaml, &p, &d);
	/* `anything` carries modbus on proto any: an error, so take it out
	 * first and check that this one line is the only complaint. */
	text = diag_text(&d);
	ASSERT_EQ(err, -EINVAL, "valid: modbus on proto any is refused");
	ASSERT_STREQ(text,
		     "t.yaml:12:3: warning: zone 'spare' has no networks: "
		     "every frame from it is spoofed-source, and flows naming "
		     "it match nothing\n"
		     "t.yaml:41:5: error: modbus needs proto tcp; flow "
		     "'anything' has proto any\n",
		     "valid: only that error, and the warning");
	free(text);
	cg_diags_free(&d);

	char yaml[sizeof(valid_yaml)];

	memcpy(yaml, valid_yaml, sizeof(yaml));
	memcpy(strstr(yaml, "    modbus: any\n"), "#   modbus: any\n", 16);
	err = parse(yaml, &p, &d);
	if (!ASSERT_OK(err, "valid: parses") ||
	    !ASSERT_TRUE(p, "valid: policy"))
		goto out;
	ASSERT_EQ(d.n_errors, 0, "valid: no errors");
	ASSERT_EQ(d.n_warnings, 1, "valid: one warning");
	ASSERT_STREQ(d.file, "t.yaml", "valid: diags name the file");
	ASSERT_STREQ(p->file, "t.yaml", "valid: policy names the file");
	ASSERT_STREQ(p->name, "unit-test", "valid: name");
	ASSERT_EQ(p->mode, CG_POLICY_MONITOR, "valid: mode monitor");

	/* Zones, in file order. */
	if (!ASSERT_EQ(p->n_zones, 3, "valid: 3 zones"))
		goto out;
	z = &p->zones[0];
	ASSERT_STREQ(z->name, "biz", "zone 0: name");
	ASSERT_POS(z->pos, 5, 3, "zone 0: position");
	ASSERT_EQ(z->n_ifaces, 2, "zone 0: 2 interfaces");
	ASSERT_STREQ(z->ifaces[0].name, "biz0", "zone 0: interface 0");
	ASSERT_STREQ(z->ifaces[1].name, "biz1", "zone 0: interface 1");
	ASSERT_POS(z->ifaces[0].pos, 6, 18, "zone 0: interface 0 position");
	ASSERT_POS(z->ifaces[1].pos, 6, 24, "zone 0: interface 1 position");
	ASSERT_EQ(z->n_vlans, 0, "zone 0: untagged");
	ASSERT_TRUE(z->vlans == NULL, "zone 0: no vlan array");
	if (ASSERT_EQ(z->n_nets, 2, "zone 0: 2 networks")) {
		cg_prefix_format(&z->nets[0].prefix, buf, sizeof(buf));
		ASSERT_STREQ(buf, "198.18.10.0/24", "zone 0: network 0");
		ASSERT_EQ(z->nets[0].prefix.family, 4, "zone 0: network 0 v4");
		cg_prefix_format(&z->nets[1].prefix, buf, sizeof(buf));
		ASSERT_STREQ(buf, "2001:2:0:10::/64", "zone 0: network 1");
		ASSERT_EQ(z->nets[1].prefix.family, 6, "zone 0: network 1 v6");
		ASSERT_POS(z->nets[0].pos, 7, 16, "zone 0: network 0 position");
		ASSERT_POS(z->nets[1].pos, 7, 32, "zone 0: network 1 position");
	}
	z = &p->zones[1];
	ASSERT_STREQ(z->name, "ctl", "zone 1: name");
	if (ASSERT_EQ(z->n_vlans, 2, "zone 1: 2 vlans")) {
		ASSERT_EQ(z->vlans[0].id, 100, "zone 1: vlan 100");
		ASSERT_EQ(z->vlans[1].id, 4094, "zone 1: vlan 4094");
		ASSERT_POS(z->vlans[0].pos, 10, 13, "zone 1: vlan 0 position");
		ASSERT_POS(z->vlans[1].pos, 10, 18, "zone 1: vlan 1 position");
	}
	z = &p->zones[2];
	ASSERT_STREQ(z->name, "spare", "zone 2: name");
	ASSERT_EQ(z->n_ifaces, 1, "zone 2: a scalar is a one-item list");
	ASSERT_STREQ(z->ifaces[0].name, "crane0", "zone 2: interface");
	ASSERT_POS(z->ifaces[0].pos, 13, 17, "zone 2: interface position");
	ASSERT_EQ(z->n_vlans, 1, "zone 2: vlan 1");
	ASSERT_EQ(z->vlans[0].id, 1, "zone 2: vlan id 1");
	ASSERT_EQ(z->n_nets, 0, "zone 2: no networks");

	/* Hosts. */
	if (!ASSERT_EQ(p->n_hosts, 3, "valid: 3 hosts"))
		goto out;
	h = &p->hosts[0];
	ASSERT_STREQ(h->name, "hmi", "host 0: name");
	ASSERT_POS(h->pos, 16, 3, "host 0: position");
	cg_prefix_format(&h->addr, buf, sizeof(buf));
	ASSERT_STREQ(buf, "198.18.10.5/32", "host 0: address");
	ASSERT_FALSE(h->has_mac, "host 0: no mac");
	h = &p->hosts[1];
	ASSERT_STREQ(h->name, "plc", "host 1: name");
	cg_prefix_format(&h->addr, buf, sizeof(buf));
	ASSERT_STREQ(buf, "198.18.20.11/32", "host 1: address");
	ASSERT_TRUE(h->has_mac, "host 1: mac");
	ASSERT_TRUE(!memcmp(h->mac, "\x02\x00\x00\x00\x20\x1f", 6),
		    "host 1: mac bytes");
	h = &p->hosts[2];
	cg_prefix_format(&h->addr, buf, sizeof(buf));
	ASSERT_STREQ(buf, "2001:2:0:10:1::/80", "host 2: a prefix");

	/* Flows, with their references resolved. */
	if (!ASSERT_EQ(p->n_flows, 4, "valid: 4 flows"))
		goto out;
	f = &p->flows[0];
	ASSERT_STREQ(f->name, "poll", "flow 0: name");
	ASSERT_POS(f->pos, 20, 5, "flow 0: position");
	if (ASSERT_EQ(f->n_from, 1, "flow 0: one from")) {
		ASSERT_EQ(f->from[0].kind, CG_REF_HOST, "flow 0: from a host");
		ASSERT_EQ(f->from[0].index, 0, "flow 0: from hmi");
		ASSERT_POS(f->from[0].pos, 21, 11, "flow 0: from position");
	}
	if (ASSERT_EQ(f->n_to, 3, "flow 0: three to")) {
		ASSERT_EQ(f->to[0].kind, CG_REF_ZONE, "flow 0: to[0] a zone");
		ASSERT_EQ(f->to[0].index, 1, "flow 0: to[0] ctl");
		ASSERT_POS(f->to[0].pos, 22, 10, "flow 0: to[0] position");
		ASSERT_EQ(f->to[1].kind, CG_REF_CIDR, "flow 0: to[1] a CIDR");
		cg_prefix_format(&f->to[1].cidr, buf, sizeof(buf));
		ASSERT_STREQ(buf, "198.18.99.0/24", "flow 0: to[1] prefix");
		ASSERT_POS(f->to[1].pos, 22, 15, "flow 0: to[1] position");
		ASSERT_EQ(f->to[2].kind, CG_REF_HOST, "flow 0: to[2] a host");
		ASSERT_EQ(f->to[2].index, 1, "flow 0: to[2] plc");
		ASSERT_POS(f->to[2].pos, 22, 31, "flow 0: to[2] position");
	}
	ASSERT_EQ(f->proto, CG_P_TCP, "flow 0: tcp");
	ASSERT_POS(f->proto_pos, 23, 12, "flow 0: proto position");
	if (ASSERT_EQ(f->n_ports, 4, "flow 0: 4 port items")) {
		ASSERT_TRUE(f->ports[0].lo == 502 && f->ports[0].hi == 502,
			    "flow 0: port 502");
		ASSERT_TRUE(f->ports[1].lo == 8000 && f->ports[1].hi == 8010,
			    "flow 0: range 8000-8010");
		ASSERT_TRUE(f->ports[2].lo == 0 && f->ports[2].hi == 0,
			    "flow 0: port 0");
		ASSERT_TRUE(f->ports[3].lo == 65535 && f->ports[3].hi == 65535,
			    "flow 0: port 65535");
		ASSERT_POS(f->ports[0].pos, 24, 13, "flow 0: port 0 position");
		ASSERT_POS(f->ports[1].pos, 24, 18, "flow 0: range position");
		ASSERT_POS(f->ports[3].pos, 24, 34, "flow 0: port 3 position");
	}
	ASSERT_EQ(f->modbus.mode, CG_ICS_READ_ONLY, "flow 0: modbus read-only");
	ASSERT_POS(f->modbus.pos, 25, 5, "flow 0: modbus position");
	ASSERT_EQ(f->s7comm.mode, CG_ICS_NONE, "flow 0: no s7comm");
	ASSERT_TRUE(f->log, "flow 0: log");

	f = &p->flows[1];
	ASSERT_STREQ(f->name, "s7", "flow 1: name");
	ASSERT_EQ(f->from[0].kind, CG_REF_ZONE, "flow 1: from a zone");
	ASSERT_EQ(f->from[0].index, 0, "flow 1: from biz");
	ASSERT_EQ(f->to[0].kind, CG_REF_HOST, "flow 1: to a host");
	ASSERT_EQ(f->to[0].index, 1, "flow 1: to plc");
	ASSERT_EQ(f->n_ports, 1, "flow 1: a scalar port");
	ASSERT_TRUE(f->ports[0].lo == 102 && f->ports[0].hi == 102,
		    "flow 1: port 102");
	if (ASSERT_EQ(f->s7comm.mode, CG_ICS_LIST, "flow 1: s7comm list") &&
	    ASSERT_EQ(f->s7comm.n_codes, 5, "flow 1: 5 codes")) {
		ASSERT_EQ(f->s7comm.codes[0], 4, "flow 1: code 4");
		ASSERT_EQ(f->s7comm.codes[1], 0xf0, "flow 1: code 0xF0");
		ASSERT_EQ(f->s7comm.codes[2], 0x29, "flow 1: code 0x29");
		ASSERT_EQ(f->s7comm.codes[3], 0, "flow 1: code 0");
		ASSERT_EQ(f->s7comm.codes[4], 255, "flow 1: code 255");
	}
	ASSERT_POS(f->s7comm.pos, 32, 5, "flow 1: s7comm position");
	ASSERT_FALSE(f->log, "flow 1: log defaults to false");

	f = &p->flows[2];
	ASSERT_EQ(f->proto, CG_P_ICMPV6, "flow 2: icmpv6");
	ASSERT_EQ(f->from[0].kind, CG_REF_HOST, "flow 2: from a prefix host");
	ASSERT_EQ(f->from[0].index, 2, "flow 2: from v6net");
	ASSERT_EQ(f->to[0].kind, CG_REF_CIDR, "flow 2: to an address");
	cg_prefix_format(&f->to[0].cidr, buf, sizeof(buf));
	ASSERT_STREQ(buf, "2001:2:0:10::1/128", "flow 2: bare address is /128");
	ASSERT_EQ(f->n_ports, 0, "flow 2: no ports");

	f = &p->flows[3];
	ASSERT_EQ(f->proto, CG_P_ANY, "flow 3: any");
	ASSERT_EQ(f->n_ports, 0, "flow 3: all ports");
	ASSERT_EQ(f->modbus.mode, CG_ICS_NONE, "flow 3: no modbus");
	ASSERT_FALSE(f->log, "flow 3: log false");
out:
	cg_policy_free(p);
	cg_diags_free(&d);
	ASSERT_TRUE(d.n == 0 && d.items == NULL && d.n_errors == 0 &&
			    d.n_warnings == 0,
		    "diags_free: empties the list");

	/* Defaults: mode enforce, no hosts, no flows. */
	p = NULL;
	err = parse("version: 1\nname: min\nzones:\n  a: {interfaces: [a0], "
		    "networks: [198.18.10.0/24]}\n",
		    &p, &d);
	if (ASSERT_OK(err, "minimal: parses")) {
		ASSERT_EQ(p->mode, CG_POLICY_ENFORCE, "minimal: enforce");
		ASSERT_EQ(p->n_hosts, 0, "minimal: no hosts");
		ASSERT_EQ(p->n_flows, 0, "minimal: no flows");
		ASSERT_EQ(d.n, 0, "minimal: no messages");
	}
	cg_policy_free(p);
	cg_diags_free(&d);
}

static void test_sha256(void)
{
	static const char yaml[] = "version: 1\nname: sha\nzones:\n  a:\n"
				   "    interfaces: [a0]\n"
				   "    networks: [198.18.10.0/24]\n";
	/* sha256sum of the same bytes */
	static const uint8_t want[32] = {
		0xd2, 0x68, 0x18, 0xb5, 0x88, 0x41, 0xf8, 0x19,
		0x04, 0x61, 0xaa, 0x41, 0xdd, 0x55, 0x66, 0x5c,
		0x6a, 0x7e, 0x62, 0x64, 0x23, 0x93, 0x4d, 0xa2,
		0x41, 0x27, 0xd5, 0xca, 0x4a, 0x99, 0x2d, 0x64,
	};
	struct cg_policy *p = NULL, *q = NULL;
	char yaml2[sizeof(yaml) + 16];
	int err;

	err = parse(yaml, &p, NULL);
	if (ASSERT_OK(err, "sha256: parses"))
		ASSERT_TRUE(!memcmp(p->sha256, want, 32),
			    "sha256: of the file's bytes");
	/* A comment changes the bytes, hence the hash. */
	snprintf(yaml2, sizeof(yaml2), "%s# note\n", yaml);
	err = parse(yaml2, &q, NULL);
	if (ASSERT_OK(err, "sha256: with a comment") && p)
		ASSERT_TRUE(memcmp(p->sha256, q->sha256, 32),
			    "sha256: a comment changes it");
	cg_policy_free(p);
	cg_policy_free(q);
}

/* hex.h: a sha256 printed, and read back from the state directory. */
static void test_hex(void)
{
	uint8_t b[4] = {0x00, 0x9f, 0xa0, 0xff}, r[4];
	char h[9];

	cg_hex(b, 4, h);
	ASSERT_STREQ(h, "009fa0ff", "hex: lowercase, two digits a byte");
	ASSERT_TRUE(cg_unhex(h, r, 4) && !memcmp(r, b, 4),
		    "unhex: reads back what hex wrote");
	ASSERT_TRUE(cg_unhex("009FA0FF", r, 4) && !memcmp(r, b, 4),
		    "unhex: upper case too");
	ASSERT_FALSE(cg_unhex("009fa0f", r, 4), "unhex: one digit short");
	ASSERT_FALSE(cg_unhex("009fa0ff0", r, 4), "unhex: one digit long");
	ASSERT_FALSE(cg_unhex("009fa0fg", r, 4), "unhex: not a digit");
	ASSERT_FALSE(cg_unhex("+09fa0ff", r, 4), "unhex: no sign");
	ASSERT_FALSE(cg_unhex(" 09fa0ff", r, 4), "unhex: no blank");
}

int main(void)
{
	test_hex();
	test_prefix();
	test_valid();
	test_sha256();
	return cg_test_done();
}
