// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the policy parser (user/policy/policy.c): the prefix helpers,
 * the parsed struct of a valid policy down to every position, the
 * file's sha256, and the exact text and position of the messages for
 * broken policies, all of which must come out in one run.
 *
 * The golden files in tests/policy/ check the same messages through
 * `cranegate check`; these tests check what the CLI does not show.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "hex.h"
#include "policy.h"

CG_TEST_GLOBALS;

static char lbuf[256];
/* A test name built with printf. */
#define L(...) (snprintf(lbuf, sizeof(lbuf), __VA_ARGS__), lbuf)

/* Everything cg_diags_print() prints, as one malloc'ed string. */
static char *diag_text(const struct cg_diags *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cg_diags_print(d, f);
	fclose(f);
	return buf;
}

static int parse(const char *yaml, struct cg_policy **p, struct cg_diags *d)
{
	return cg_policy_parse("t.yaml", yaml, strlen(yaml), p, d);
}

/* A policy that must be refused with exactly these messages. */
static void expect_fail(const char *name, const char *yaml, const char *want)
{
	struct cg_diags d = {0};
	struct cg_policy *p = NULL;
	int err = parse(yaml, &p, &d);
	char *got = diag_text(&d);

	ASSERT_EQ(err, -EINVAL, L("%s: refused", name));
	ASSERT_TRUE(p == NULL, L("%s: no policy", name));
	ASSERT_STREQ(got, want, L("%s: messages", name));
	free(got);
	cg_policy_free(p);
	cg_diags_free(&d);
}

/* A policy that must parse, with exactly these warnings ("" for none). */
static void expect_ok(const char *name, const char *yaml, const char *want)
{
	struct cg_diags d = {0};
	struct cg_policy *p = NULL;
	int err = parse(yaml, &p, &d);
	char *got = diag_text(&d);

	ASSERT_OK(err, L("%s: accepted", name));
	ASSERT_TRUE(p != NULL, L("%s: a policy", name));
	ASSERT_STREQ(got, want, L("%s: warnings", name));
	free(got);
	cg_policy_free(p);
	cg_diags_free(&d);
}

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

/* ------------------------------------------------------------------ */

#define HEAD "version: 1\nname: t\n"
/* Lines 3..9: zone a (both families) and zone b (IPv4). */
#define ZONES_BODY                                                             \
	"zones:\n"                                                             \
	"  a:\n"                                                               \
	"    interfaces: [a0]\n"                                               \
	"    networks: [198.18.10.0/24, 2001:2:0:10::/64]\n"                   \
	"  b:\n"                                                               \
	"    interfaces: [b0]\n"                                               \
	"    networks: [198.18.20.0/24]\n"
#define ZONES HEAD ZONES_BODY
/* A flow from a to b on line 10..14, with `extra` (lines 15..) added. */
#define FLOW(proto, extra)                                                     \
	ZONES "flows:\n"                                                       \
	      "  - name: f\n"                                                  \
	      "    from: a\n"                                                  \
	      "    to: b\n"                                                    \
	      "    proto: " proto "\n" extra

static void test_errors(void)
{
	char *yaml;

	/* Input that is not a policy at all. */
	expect_fail("empty", "",
		    "t.yaml:1:1: error: the policy is empty; expected a "
		    "mapping with version, name, zones and flows\n");
	expect_fail("comments only", "# nothing\n\n   \n",
		    "t.yaml:1:1: error: the policy is empty; expected a "
		    "mapping with version, name, zones and flows\n");
	expect_fail("document marker only", "---\n",
		    "t.yaml:1:1: error: the policy is empty; expected a "
		    "mapping with version, name, zones and flows\n");
	expect_fail("scalar", "hello\n",
		    "t.yaml:1:1: error: expected a mapping with version, name, "
		    "zones and flows at the top level, got 'hello'\n");
	expect_fail("syntax", "version: 1\nname: [x\nzones: {}\n",
		    "t.yaml:3:6: error: did not find expected ',' or ']' while "
		    "parsing a flow sequence (started at 2:7)\n");
	expect_fail(
		"tab indentation", "version: 1\nzones:\n\ta: 1\n",
		"t.yaml:3:1: error: found character that cannot start any "
		"token while scanning for the next token (started at 3:1)\n");
	expect_fail("alias",
		    HEAD "zones:\n  a: &x {interfaces: [a0]}\n  b: *x\n",
		    "t.yaml:4:6: error: anchors are not allowed in a policy; "
		    "remove '&x'\n"
		    "t.yaml:5:6: error: aliases are not allowed in a policy; "
		    "write '*x' out in full\n");
	expect_fail("merge key", HEAD "zones:\n  a:\n    <<: *base\n",
		    "t.yaml:5:9: error: aliases are not allowed in a policy; "
		    "write '*base' out in full\n");
	expect_fail("tag", "version: !!str 1\nname: !custom t\n",
		    "t.yaml:1:1: error: missing 'zones' at the top level; "
		    "expected a mapping of zone names to zones\n"
		    "t.yaml:1:10: error: tags are not allowed in a policy; "
		    "remove '!!str'\n"
		    "t.yaml:2:7: error: tags are not allowed in a policy; "
		    "remove '!custom'\n");
	expect_fail("non-scalar key", HEAD "? [a]\n: 1\nzones: {}\n",
		    "t.yaml:3:3: error: expected a key name, got a list\n"
		    "t.yaml:5:1: error: zones is empty; expected at least one "
		    "zone\n");
	expect_fail(
		"NUL in a string",
		"version: 1\nname: \"a\\0b\"\nzones: {a: {interfaces: [a0]}}\n",
		"t.yaml:2:7: error: expected a policy name, got a string with "
		"a NUL character\n"
		"t.yaml:3:9: warning: zone 'a' has no networks: every frame "
		"from it is spoofed-source, and flows naming it match "
		"nothing\n");

	/* The top level. */
	expect_fail("missing everything", "mode: enforce\n",
		    "t.yaml:1:1: error: missing 'version' at the top level; "
		    "expected version: 1\n"
		    "t.yaml:1:1: error: missing 'name' at the top level; "
		    "expected the policy's name\n"
		    "t.yaml:1:1: error: missing 'zones' at the top level; "
		    "expected a mapping of zone names to zones\n");
	expect_fail("version as a float", "version: 1.0\nname: t\n" ZONES_BODY,
		    "t.yaml:1:10: error: expected version 1 (the number), got "
		    "'1.0'\n");
	expect_fail("version 0", "version: 0\nname: t\n" ZONES_BODY,
		    "t.yaml:1:10: error: unsupported policy version 0; this "
		    "cranegate reads version 1\n");
	expect_fail("unknown top key", ZONES "flow: []\n",
		    "t.yaml:10:1: error: unknown key 'flow' at the top level; "
		    "expected one of: version, name, mode, fragments, limits, "
		    "zones, hosts, flows\n");
	expect_fail(
		"duplicate top key", ZONES "version: 1\n",
		"t.yaml:10:1: error: duplicate key 'version' (first at 1:1)\n");
	expect_fail("name 64 characters",
		    "version: 1\nname: "
		    "0123456789012345678901234567890123456789012345678901234567"
		    "890123\n" ZONES_BODY,
		    "t.yaml:2:7: error: the policy name is 64 characters long; "
		    "the limit is 63\n");
	expect_ok("name 63 characters",
		  "version: 1\nname: "
		  "012345678901234567890123456789012345678901234567890123456789"
		  "012\n" ZONES_BODY,
		  "");
	expect_fail("mode", ZONES "mode: Enforce\n",
		    "t.yaml:10:7: error: unknown mode 'Enforce'; expected "
		    "enforce or monitor\n");
	expect_fail("flows as a mapping", ZONES "flows: {f: 1}\n",
		    "t.yaml:10:8: error: expected a list of flows, got a "
		    "mapping\n");
	expect_fail("hosts as a list", ZONES "hosts: [x]\n",
		    "t.yaml:10:8: error: expected a mapping of host names to "
		    "addresses, got a list\n");

	/* Zones. */
	expect_fail("zone name 64 characters",
		    HEAD "zones:\n  "
			 "z1234567890123456789012345678901234567890123456789012"
			 "34567890123"
			 ": {interfaces: [a0], networks: [198.18.10.0/24]}\n",
		    "t.yaml:4:3: error: zone name 'z1234567890123456789...' is "
		    "64 characters long; the limit is 63\n");
	expect_fail("zone name like an address",
		    HEAD "zones:\n  1.2.3.4: {interfaces: [a0], networks: "
			 "[198.18.10.0/24]}\n",
		    "t.yaml:4:3: error: zone name '1.2.3.4' reads as an "
		    "address; use a name with a letter in it\n");
	expect_ok("interface 15 characters",
		  HEAD "zones:\n  a: {interfaces: [abcdefghijklmno], networks: "
		       "[198.18.10.0/24]}\n",
		  "");
	expect_fail("interface 16 characters",
		    HEAD "zones:\n  a: {interfaces: [abcdefghijklmnop], "
			 "networks: [198.18.10.0/24]}\n",
		    "t.yaml:4:20: error: interface name 'abcdefghijklmnop' is "
		    "16 characters long; the limit is 15\n");
	expect_fail("interface '..'",
		    HEAD "zones:\n  a: {interfaces: [\"..\"], networks: "
			 "[198.18.10.0/24]}\n",
		    "t.yaml:4:20: error: '..' is not a valid interface name\n");
	expect_fail(
		"interface with a tab",
		HEAD "zones:\n  a: {interfaces: [\"a\\tb\"], networks: "
		     "[198.18.10.0/24]}\n",
		"t.yaml:4:20: error: interface name 'a?b' has the character "
		"'?'; interface names have no '/', ':' or white space\n");
	expect_fail("vlan bounds",
		    HEAD "zones:\n  a: {interfaces: [a0], vlans: [0, 1, 4094, "
			 "4095], networks: [198.18.10.0/24]}\n",
		    "t.yaml:4:33: error: vlan id 0 is out of range; expected "
		    "1..4094\n"
		    "t.yaml:4:45: error: vlan id 4095 is out of range; "
		    "expected 1..4094\n");
	expect_fail("vlan quoted",
		    HEAD "zones:\n  a: {interfaces: [a0], vlans: [\"7\"], "
			 "networks: [198.18.10.0/24]}\n",
		    "t.yaml:4:33: error: expected an integer vlan id 1..4094, "
		    "got the string '7'; write numbers without quotes\n");
	expect_fail("vlan with a leading zero",
		    HEAD "zones:\n  a: {interfaces: [a0], vlans: [010], "
			 "networks: [198.18.10.0/24]}\n",
		    "t.yaml:4:33: error: expected an integer vlan id 1..4094, "
		    "got '010'\n");
	expect_fail("zone as a list", HEAD "zones:\n  a: [a0]\n",
		    "t.yaml:4:6: error: expected a mapping with interfaces and "
		    "networks for zone 'a', got a list\n");
	expect_fail("zones empty", HEAD "zones:\n",
		    "t.yaml:3:1: error: zones is empty; expected at least one "
		    "zone\n");
	expect_fail("network host bits v6",
		    HEAD "zones:\n  a: {interfaces: [a0], networks: "
			 "[2001:2:0:10::9/125]}\n",
		    "t.yaml:4:36: error: 2001:2:0:10::9/125 has host bits set; "
		    "did you mean 2001:2:0:10::8/125?\n");
	expect_fail(
		"overlap between zones",
		ZONES
		"  c:\n    interfaces: [c0]\n    networks: [198.18.0.0/16]\n",
		"t.yaml:12:16: error: network 198.18.0.0/16 of zone 'c' "
		"overlaps 198.18.10.0/24 of zone 'a' (6:16)\n"
		"t.yaml:12:16: error: network 198.18.0.0/16 of zone 'c' "
		"overlaps 198.18.20.0/24 of zone 'b' (9:16)\n");
	expect_fail("same network in two zones",
		    ZONES "  c:\n    interfaces: [c0]\n    networks: "
			  "[2001:2:0:10::/64]\n",
		    "t.yaml:12:16: error: network 2001:2:0:10::/64 of zone 'c' "
		    "overlaps 2001:2:0:10::/64 of zone 'a' (6:32)\n");
	expect_fail("untagged twice",
		    ZONES "  c:\n    interfaces: [c0, b0]\n    networks: "
			  "[198.18.30.0/24]\n",
		    "t.yaml:11:22: error: zone 'c' is a second untagged zone "
		    "on interface 'b0' after zone 'b' (8:18); give one of them "
		    "vlans\n");
	/* Claims are compared by (interface, vlan) whatever their order. */
	expect_fail("vlan claimed twice, out of order",
		    HEAD "zones:\n  a: {interfaces: [t0], vlans: [100, 200], "
			 "networks: [198.18.10.0/24]}\n"
			 "  b: {interfaces: [t0], vlans: [300, 100], networks: "
			 "[198.18.20.0/24]}\n",
		    "t.yaml:5:38: error: interface 't0' vlan 100 of zone 'b' "
		    "is already claimed by zone 'a' (4:33)\n");
	expect_fail("duplicate zone: the second is not read",
		    ZONES "  a:\n    interfaces: [\"no/such\"]\n",
		    "t.yaml:10:3: error: duplicate key 'a' (first at 4:3)\n");
	expect_ok("tagged and untagged on one interface",
		  ZONES "  c:\n    interfaces: [c0, b0]\n    vlans: [7]\n    "
			"networks: [198.18.30.0/24]\n",
		  "");

	/* Hosts. */
	expect_fail("host name clash", ZONES "hosts:\n  b: 198.18.20.1\n",
		    "t.yaml:11:3: error: host 'b' has the name of zone 'b' "
		    "(7:3); zones and hosts share one namespace\n");
	expect_fail(
		"host mac",
		ZONES
		"hosts:\n  h: {address: 198.18.20.1, mac: 02-00-00-00-00-01}\n",
		"t.yaml:11:34: error: invalid mac '02-00-00-00-00-01'; "
		"expected six hex bytes such as 02:00:00:00:20:11\n");
	expect_fail("host broadcast mac",
		    ZONES "hosts:\n  h: {address: 198.18.20.1, mac: "
			  "\"ff:ff:ff:ff:ff:ff\"}\n",
		    "t.yaml:11:34: error: mac ff:ff:ff:ff:ff:ff is a multicast "
		    "address; expected a host's unicast mac\n");

	/* Flows. */
	expect_ok("a flow", FLOW("tcp", "    ports: [\"0-65535\"]\n"), "");
	expect_fail(
		"unknown reference",
		FLOW("tcp", "  - name: g\n    from: a\n    to: [b, bb, zzz, "
			    "crane-contrl]\n    proto: udp\n"),
		"t.yaml:17:13: error: unknown zone or host 'bb'; did you mean "
		"'b'?\n"
		"t.yaml:17:17: error: unknown zone or host 'zzz'\n"
		"t.yaml:17:22: error: unknown zone or host 'crane-contrl'\n");
	expect_fail("CIDR with host bits in a flow",
		    FLOW("tcp", "  - name: g\n    from: 198.18.10.7/24\n    "
				"to: b\n    proto: udp\n"),
		    "t.yaml:16:11: error: 198.18.10.7/24 has host bits set; "
		    "did you mean 198.18.10.0/24?\n");
	expect_fail(
		"empty from",
		FLOW("tcp",
		     "  - name: g\n    from: []\n    to: b\n    proto: udp\n"),
		"t.yaml:16:11: error: 'from' of flow 'g' is empty; expected a "
		"zone, host or CIDR, or a list of them\n");
	expect_fail("families",
		    FLOW("tcp", "  - name: g\n    from: b\n    to: "
				"2001:2::/48\n    proto: udp\n"),
		    "t.yaml:15:5: error: flow 'g' can never match: from is "
		    "IPv4 only, to is IPv6 only\n");
	expect_fail("families the other way",
		    FLOW("tcp", "  - name: g\n    from: [2001:2::1]\n    to: "
				"[b, 198.18.99.1]\n    proto: udp\n"),
		    "t.yaml:15:5: error: flow 'g' can never match: from is "
		    "IPv6 only, to is IPv4 only\n");
	expect_ok("families shared",
		  FLOW("tcp", "  - name: g\n    from: a\n    to: [b, "
			      "2001:2::/48]\n    proto: udp\n"),
		  "");
	expect_fail(
		"icmp between v6",
		FLOW("tcp", "  - name: g\n    from: a\n    to: 2001:2::/48\n   "
			    " proto: icmp\n"),
		"t.yaml:18:12: error: flow 'g' can never match: proto icmp is "
		"IPv4 only, but from and to share only IPv6; use icmpv6\n");
	expect_fail("proto", FLOW("TCP", ""),
		    "t.yaml:14:12: error: unknown proto 'TCP'; expected one "
		    "of: tcp, udp, icmp, icmpv6, any\n");
	expect_fail("ports on icmp", FLOW("icmp", "    ports: [1]\n"),
		    "t.yaml:15:5: error: ports do not apply to proto icmp (it "
		    "has no ports); remove ports from flow 'f'\n");
	expect_fail(
		"ports on icmpv6",
		FLOW("tcp", "  - name: g\n    from: a\n    to: 2001:2::/48\n   "
			    " proto: icmpv6\n    ports: [1]\n"),
		"t.yaml:19:5: error: ports do not apply to proto icmpv6 (it "
		"has no ports); remove ports from flow 'g'\n");
	expect_fail(
		"icmpv6 between v4", FLOW("icmpv6", ""),
		"t.yaml:14:12: error: flow 'f' can never match: proto icmpv6 "
		"is IPv6 only, but from and to share only IPv4; use icmp\n");
	expect_fail("ports reversed",
		    FLOW("tcp", "    ports: [\"65535-0\", 81-80]\n"),
		    "t.yaml:15:13: error: port range 65535-0 is reversed; "
		    "expected LO-HI with LO <= HI\n"
		    "t.yaml:15:24: error: port range 81-80 is reversed; "
		    "expected LO-HI with LO <= HI\n");
	expect_ok("port range of one",
		  FLOW("tcp", "    ports: [80-80, 65535-65535]\n"), "");
	expect_fail("port as a float",
		    FLOW("tcp", "    ports: [80.0, 1e3, 0x50]\n"),
		    "t.yaml:15:13: error: invalid port '80.0'; expected a "
		    "number 0..65535 or a range such as \"8000-8010\"\n"
		    "t.yaml:15:19: error: invalid port '1e3'; expected a "
		    "number 0..65535 or a range such as \"8000-8010\"\n"
		    "t.yaml:15:24: error: invalid port '0x50'; expected a "
		    "number 0..65535 or a range such as \"8000-8010\"\n");
	expect_fail("port null", FLOW("tcp", "    ports: [1, ~]\n"),
		    "t.yaml:15:16: error: expected a port or a port range, got "
		    "nothing\n");
	expect_fail("log", FLOW("tcp", "    log: 1\n"),
		    "t.yaml:15:10: error: expected true or false for log, got "
		    "'1'\n");
	expect_fail("modbus on udp", FLOW("udp", "    modbus: read-only\n"),
		    "t.yaml:15:5: error: modbus needs proto tcp; flow 'f' has "
		    "proto udp\n");
	expect_fail(
		"s7comm code", FLOW("tcp", "    s7comm: [0x100, -1, \"4\"]\n"),
		"t.yaml:15:14: error: function code 0x100 is out of range; "
		"expected 0..255\n"
		"t.yaml:15:21: error: expected an integer function code "
		"0..255, got '-1'\n"
		"t.yaml:15:25: error: expected an integer function code "
		"0..255, got the string '4'; write numbers without quotes\n");
	expect_fail("modbus mapping", FLOW("tcp", "    modbus: {read: only}\n"),
		    "t.yaml:15:13: error: modbus mapping has no allow; expected "
		    "allow: a list of rules\n"
		    "t.yaml:15:14: error: unknown key 'read' in modbus; expected "
		    "one of: allow\n");
	expect_ok("modbus single code", FLOW("tcp", "    modbus: 3\n"), "");
	expect_fail(
		"flow name clash",
		FLOW("tcp",
		     "  - name: f\n    from: b\n    to: a\n    proto: tcp\n"),
		"t.yaml:15:11: error: duplicate flow name 'f' (first at "
		"11:11)\n");
	expect_fail(
		"flow key duplicate", FLOW("tcp", "    from: b\n"),
		"t.yaml:15:5: error: duplicate key 'from' (first at 12:5)\n");
	expect_ok("flow names are not zone names",
		  FLOW("tcp",
		       "  - name: a\n    from: b\n    to: a\n    proto: tcp\n"),
		  "");

	/* The zone with a bad network is reported once, not again by every
	 * flow that names it. */
	yaml = HEAD
		"zones:\n  a: {interfaces: [a0], networks: [198.18.10.1/24]}\n"
		"  b: {interfaces: [b0], networks: [198.18.20.0/24]}\n"
		"flows:\n  - {name: f, from: a, to: b, proto: tcp}\n";
	expect_fail("no cascade", yaml,
		    "t.yaml:4:36: error: 198.18.10.1/24 has host bits set; did "
		    "you mean 198.18.10.0/24?\n");
	expect_fail("no cascade from a host",
		    ZONES "hosts:\n  h: 198.18.20.256\n"
			  "flows:\n  - {name: f, from: a, to: h, proto: tcp}\n",
		    "t.yaml:11:6: error: '198.18.20.256' is not an IPv4 or "
		    "IPv6 address or CIDR (such as 198.18.10.0/24 or "
		    "2001:2:0:10::/64)\n");
	expect_fail("no cascade from a vlan",
		    ZONES "  c: {interfaces: [b0], vlans: [0], networks: "
			  "[198.18.30.0/24]}\n",
		    "t.yaml:10:33: error: vlan id 0 is out of range; expected "
		    "1..4094\n");
}

/* Every error of a policy comes out of one run, sorted by position. */
static void test_all_at_once(void)
{
	static const char yaml[] =
		"version: 7\n"					 /* 1 */
		"name: all\n"					 /* 2 */
		"mode: loud\n"					 /* 3 */
		"zones:\n"					 /* 4 */
		"  a:\n"					 /* 5 */
		"    interfaces: [a0, a0]\n"			 /* 6 */
		"    vlans: [9999]\n"				 /* 7 */
		"    networks: [198.18.10.0/24]\n"		 /* 8 */
		"  b:\n"					 /* 9 */
		"    interfaces: [b0]\n"			 /* 10 */
		"    networks: [198.18.10.128/25, 10.0.0.0/8]\n" /* 11 */
		"    colour: blue\n"				 /* 12 */
		"hosts:\n"					 /* 13 */
		"  a: 198.18.10.9\n"				 /* 14 */
		"  h: 198.18.10.300\n"				 /* 15 */
		"flows:\n"					 /* 16 */
		"  - name: f\n"					 /* 17 */
		"    from: x\n"					 /* 18 */
		"    to: b\n"					 /* 19 */
		"    proto: icmp\n"				 /* 20 */
		"    ports: [1]\n"				 /* 21 */
		"  - name: f\n"					 /* 22 */
		"    from: a\n"					 /* 23 */
		"    to: 2001:2::/48\n"				 /* 24 */
		"    proto: tcp\n"				 /* 25 */
		"    s7comm: [300]\n";				 /* 26 */
	static const int lines[] = {1,	3,  6,	7,  11, 12, 14,
				    15, 18, 21, 22, 22, 26};
	struct cg_diags d = {0};
	struct cg_policy *p = NULL;
	size_t i, n = sizeof(lines) / sizeof(*lines);
	bool sorted = true;
	char *text;
	int err;

	/* The ASSERT_ macros evaluate their arguments twice: call first. */
	err = parse(yaml, &p, &d);
	ASSERT_EQ(err, -EINVAL, "all at once: refused");
	text = diag_text(&d);
	for (i = 0; i < d.n; i++)
		printf("# %d:%d: %s\n", d.items[i].pos.line, d.items[i].pos.col,
		       d.items[i].msg);
	ASSERT_EQ(d.n_errors, n, "all at once: every error");
	ASSERT_EQ(d.n_warnings, 0, "all at once: no warnings");
	for (i = 0; i < d.n && i < n; i++)
		ASSERT_EQ(d.items[i].pos.line, lines[i],
			  L("all at once: error %zu on line %d", i + 1,
			    lines[i]));
	for (i = 1; i < d.n; i++)
		if (d.items[i].pos.line < d.items[i - 1].pos.line ||
		    (d.items[i].pos.line == d.items[i - 1].pos.line &&
		     d.items[i].pos.col < d.items[i - 1].pos.col))
			sorted = false;
	ASSERT_TRUE(sorted, "all at once: sorted by position");
	ASSERT_TRUE(strstr(text,
			   "t.yaml:22:5: error: flow 'f' can never match: "
			   "from is IPv4 only, to is IPv6 only\n") != NULL,
		    "all at once: a semantic error among them");
	ASSERT_TRUE(strstr(text, "t.yaml:22:11: error: duplicate flow name 'f' "
				 "(first at 17:11)\n") != NULL,
		    "all at once: the duplicate flow");
	free(text);
	cg_diags_free(&d);
}

static void test_warnings(void)
{
	struct cg_diags d = {0};
	struct cg_policy *p = NULL;
	int err;

	err = parse(FLOW("any",
			 "    ports: [53, \"50-60\"]\n    s7comm: read-only\n"),
		    &p, &d);
	ASSERT_EQ(err, -EINVAL, "warnings: s7comm on any is an error");
	cg_diags_free(&d);

	err = parse(FLOW("any", "    ports: [53, \"50-60\"]\n"), &p, &d);
	if (ASSERT_OK(err, "warnings: do not fail a policy")) {
		char *text = diag_text(&d);

		ASSERT_EQ(d.n_warnings, 2, "warnings: two");
		ASSERT_EQ(d.n_errors, 0, "warnings: no errors");
		ASSERT_STREQ(text,
			     "t.yaml:15:5: warning: ports on proto any means "
			     "tcp and udp on those ports; flow 'f' matches no "
			     "other protocol\n"
			     "t.yaml:15:17: warning: ports 50-60 overlaps port "
			     "53 (15:13) in flow 'f'\n",
			     "warnings: text");
		free(text);
	}
	cg_policy_free(p);
	cg_diags_free(&d);

	expect_ok("modbus off its port",
		  FLOW("tcp", "    ports: [503]\n    modbus: any\n"),
		  "t.yaml:16:5: warning: modbus is inspected on tcp port 502, "
		  "which the ports of flow 'f' do not include\n");
	expect_ok("s7comm on its port",
		  FLOW("tcp", "    ports: [\"100-110\"]\n    s7comm: any\n"),
		  "");
	expect_ok("network inside another of its zone",
		  HEAD "zones:\n  a: {interfaces: [a0], networks: "
		       "[198.18.0.0/16, 198.18.10.0/24]}\n",
		  "t.yaml:4:51: warning: network 198.18.10.0/24 of zone 'a' "
		  "overlaps 198.18.0.0/16 of the same zone (4:36); the smaller "
		  "one adds nothing\n");
}

/* The bounds on the input, and on the messages kept. */
static void test_limits(void)
{
	struct cg_diags d = {0};
	struct cg_policy *p = NULL;
	size_t big = CG_POLICY_MAX_BYTES + 1, i, len;
	char *buf, *text;
	int err;

	buf = malloc(big);
	if (!ASSERT_TRUE(buf, "limits: allocate"))
		return;
	memset(buf, '#', big);
	err = cg_policy_parse("t.yaml", buf, big, &p, &d);
	ASSERT_EQ(err, -EINVAL, "limits: 16 MiB + 1 refused");
	text = diag_text(&d);
	ASSERT_STREQ(text,
		     "t.yaml: error: the policy is 16777217 bytes long; the "
		     "limit is 16 MiB\n",
		     "limits: size message");
	free(text);
	cg_diags_free(&d);

	/* Nesting: one level more than allowed. */
	len = 0;
	len += sprintf(buf + len, "a: ");
	for (i = 0; i < CG_POLICY_MAX_DEPTH; i++)
		buf[len++] = '[';
	for (i = 0; i < CG_POLICY_MAX_DEPTH; i++)
		buf[len++] = ']';
	buf[len++] = '\n';
	err = cg_policy_parse("t.yaml", buf, len, &p, &d);
	ASSERT_EQ(err, -EINVAL, "limits: too deep");
	text = diag_text(&d);
	ASSERT_STREQ(
		text,
		"t.yaml:1:35: error: the policy nests deeper than 32 levels\n",
		"limits: depth message");
	free(text);
	cg_diags_free(&d);

	/* Node count: a list with one item too many. */
	len = sprintf(buf, "a: [");
	for (i = 0; i < CG_POLICY_MAX_NODES; i++)
		len += sprintf(buf + len, "0,");
	len += sprintf(buf + len, "0]\n");
	err = cg_policy_parse("t.yaml", buf, len, &p, &d);
	ASSERT_EQ(err, -EINVAL, "limits: too many nodes");
	text = diag_text(&d);
	ASSERT_STREQ(text,
		     "t.yaml:1:4194303: error: the policy has more than "
		     "2097152 YAML nodes\n",
		     "limits: node message");
	free(text);
	cg_diags_free(&d);

	/* 1500 bad vlans: 1000 messages kept, the rest counted. */
	len = sprintf(buf, HEAD "zones:\n  a:\n    interfaces: [a0]\n"
				"    networks: [198.18.10.0/24]\n    vlans:\n");
	for (i = 0; i < 1500; i++)
		len += sprintf(buf + len, "      - %zu\n", 5000 + i);
	err = cg_policy_parse("t.yaml", buf, len, &p, &d);
	ASSERT_EQ(err, -EINVAL, "limits: 1500 errors");
	ASSERT_EQ(d.n_errors, 1500, "limits: all counted");
	ASSERT_EQ(d.n, 1000, "limits: 1000 kept");
	text = diag_text(&d);
	ASSERT_TRUE(strstr(text, "t.yaml:8:9: error: vlan id 5000 is out of "
				 "range; expected 1..4094\n") == text,
		    "limits: first message");
	ASSERT_TRUE(strstr(text, "\nt.yaml: note: 500 more errors and warnings "
				 "not shown\n") != NULL,
		    "limits: the rest noted");
	free(text);
	cg_diags_free(&d);
	free(buf);
}

/*
 * Windows at the end of the gate's clock (issue 19.4): the data plane
 * keeps them in 64-bit CLOCK_TAI nanoseconds, which end in 2554, so the
 * parser refuses times from 2554-01-01 on, at their place; the last
 * second before passes. cg_window_open, which the reference evaluator
 * uses, compares in seconds: in nanoseconds an int64_t ends in 2262.
 */
static void test_far_windows(void)
{
	struct cg_diags d = {0};
	struct cg_policy *p = NULL;
	struct cg_window w = {.timed = true};
	struct cg_prefix q;
	int64_t now = 1795000000LL * 1000000000LL; /* 2026-11-18 */
	int err;

	err = parse(FLOW("tcp", "    valid: {until: 2553-12-31T23:59:59Z}\n"),
		    &p, &d);
	if (ASSERT_OK(err, "far: the last second before 2554 is accepted") &&
	    ASSERT_TRUE(p && p->n_flows == 1, "far: one flow")) {
		ASSERT_TRUE(p->flows[0].valid.has_until, "far: has until");
		ASSERT_EQ(p->flows[0].valid.until, CG_TIME_LIMIT - 1,
			  "far: until is CG_TIME_LIMIT - 1");
	}
	cg_policy_free(p);
	cg_diags_free(&d);
	expect_fail("far: from 2554",
		    FLOW("tcp", "    valid: {from: 2554-01-01T00:00:00Z}\n"),
		    "t.yaml:15:19: error: from time '2554-01-01T00:00:00Z' in "
		    "flow 'f' is not before 2554-01-01T00:00:00Z, the end of "
		    "the gate's clock (windows are kept in 64-bit "
		    "nanoseconds); write an earlier time\n");
	expect_fail("far: until 2600 (would wrap to 2015)",
		    FLOW("tcp", "    valid: {until: 2600-01-01T00:00:00Z}\n"),
		    "t.yaml:15:20: error: until time '2600-01-01T00:00:00Z' in "
		    "flow 'f' is not before 2554-01-01T00:00:00Z, the end of "
		    "the gate's clock (windows are kept in 64-bit "
		    "nanoseconds); write an earlier time, or leave until out "
		    "for a window that does not end\n");

	/* Bounds beyond 2262 (int64_t nanoseconds) judged right. */
	w.has_from = true;
	w.from = 13569465600LL; /* 2400-01-01 */
	ASSERT_FALSE(cg_window_open(&w, now),
		     "far: from 2400 not open in 2026");
	w.has_from = false;
	w.has_until = true;
	w.until = 13569465600LL;
	ASSERT_TRUE(cg_window_open(&w, now), "far: until 2400 open in 2026");
	ASSERT_TRUE(cg_window_open(&w, INT64_MAX),
		    "far: until 2400 open in 2262");
	w.until = 1795000000LL;
	ASSERT_FALSE(cg_window_open(&w, now), "far: until is exclusive");
	ASSERT_TRUE(cg_window_open(&w, now - 1), "far: one ns before until");
	w.has_from = true;
	w.from = 0;
	ASSERT_FALSE(cg_window_open(&w, -1), "far: 1969 is before from 1970");

	/* IPv4-mapped IPv6 prefixes ("Also" of issue 19). */
	ASSERT_OK(cg_prefix_parse("::ffff:198.18.10.5", &q), "mapped: parses");
	ASSERT_TRUE(cg_prefix_v4mapped(&q), "mapped: ::ffff:198.18.10.5");
	ASSERT_OK(cg_prefix_parse("::ffff:0:0/96", &q), "mapped: /96 parses");
	ASSERT_TRUE(cg_prefix_v4mapped(&q), "mapped: ::ffff:0:0/96");
	ASSERT_OK(cg_prefix_parse("::/64", &q), "mapped: ::/64 parses");
	ASSERT_FALSE(cg_prefix_v4mapped(&q), "mapped: ::/64 is wider, allowed");
	ASSERT_OK(cg_prefix_parse("::198.18.10.5", &q),
		  "mapped: compat parses");
	ASSERT_FALSE(cg_prefix_v4mapped(&q), "mapped: ::a.b.c.d is not mapped");
	ASSERT_OK(cg_prefix_parse("198.18.10.5", &q), "mapped: v4 parses");
	ASSERT_FALSE(cg_prefix_v4mapped(&q), "mapped: IPv4 is not mapped");
	expect_fail(
		"mapped: host", ZONES "hosts:\n  h: \"::ffff:198.18.10.5\"\n",
		"t.yaml:11:6: error: '::ffff:198.18.10.5' is an IPv4-mapped "
		"IPv6 address, which never matches: the gate judges IPv4 "
		"frames by their IPv4 addresses; write 198.18.10.5\n");
}

static void test_load(void)
{
	static const char yaml[] = "version: 1\nname: sha\nzones:\n  a:\n"
				   "    interfaces: [a0]\n"
				   "    networks: [198.18.10.0/24]\n";
	char path[] = "/tmp/cranegate-test-policy.XXXXXX";
	struct cg_diags d = {0};
	struct cg_policy *p = NULL, *q = NULL;
	char *text, want[256];
	int fd, err, err2;
	ssize_t n;

	err = cg_policy_load("/nonexistent/policy.yaml", &p, &d);
	ASSERT_EQ(err, -ENOENT, "load: missing file");
	ASSERT_TRUE(p == NULL, "load: missing file, no policy");
	text = diag_text(&d);
	ASSERT_STREQ(text,
		     "/nonexistent/policy.yaml: error: cannot open the policy: "
		     "no such file or directory\n",
		     "load: missing file message");
	free(text);
	cg_diags_free(&d);

	d.file = NULL;
	err = cg_policy_load("/tmp", &p, &d);
	ASSERT_EQ(err, -EISDIR, "load: a directory");
	text = diag_text(&d);
	ASSERT_STREQ(text,
		     "/tmp: error: cannot read the policy: is a directory\n",
		     "load: directory message");
	free(text);
	cg_diags_free(&d);

	fd = mkstemp(path);
	if (!ASSERT_TRUE(fd >= 0, "load: temporary file"))
		return;
	n = write(fd, yaml, strlen(yaml));
	ASSERT_EQ(n, (long long)strlen(yaml), "load: write policy");
	d.file = NULL;
	err = cg_policy_load(path, &p, &d);
	err2 = parse(yaml, &q, NULL);
	if (ASSERT_OK(err, "load: parses") &&
	    ASSERT_OK(err2, "load: same bytes parse")) {
		ASSERT_STREQ(p->file, path, "load: file name kept");
		ASSERT_STREQ(d.file, path, "load: diags name the file");
		ASSERT_TRUE(!memcmp(p->sha256, q->sha256, 32),
			    "load: sha256 of the file's bytes");
		ASSERT_EQ(p->n_zones, 1, "load: the zone");
	}
	cg_policy_free(p);
	cg_policy_free(q);
	p = NULL;
	cg_diags_free(&d);

	/* A file past the limit is refused without being read whole. */
	err = ftruncate(fd, CG_POLICY_MAX_BYTES + 4096);
	ASSERT_OK(err, "load: grow file");
	d.file = NULL;
	err = cg_policy_load(path, &p, &d);
	ASSERT_EQ(err, -EFBIG, "load: too big");
	text = diag_text(&d);
	snprintf(want, sizeof(want),
		 "%s: error: the policy is larger than 16 MiB, the limit; is "
		 "this the right file?\n",
		 path);
	ASSERT_STREQ(text, want, "load: too big message");
	free(text);
	cg_diags_free(&d);
	close(fd);
	unlink(path);
}

static void test_diags(void)
{
	struct cg_diags d = {0};
	char *text;

	d.file = "x.yaml";
	cg_diag_add(&d, CG_ERROR, (struct cg_pos){3, 7}, "bad %s %d", "thing",
		    42);
	cg_diag_add(&d, CG_WARNING, (struct cg_pos){0, 0}, "no position");
	ASSERT_EQ(d.n, 2, "diags: two kept");
	ASSERT_EQ(d.n_errors, 1, "diags: one error");
	ASSERT_EQ(d.n_warnings, 1, "diags: one warning");
	text = diag_text(&d);
	ASSERT_STREQ(text,
		     "x.yaml:3:7: error: bad thing 42\n"
		     "x.yaml: warning: no position\n",
		     "diags: printed");
	free(text);
	cg_diags_free(&d);
	cg_diags_free(NULL);
	cg_policy_free(NULL);
	ASSERT_EQ(d.n, 0, "diags: freed");
}

/* `self` in from/to names the gateway (README, "The gateway itself"). */
static void test_self(void)
{
	struct cg_diags d = {0};
	struct cg_policy *p = NULL;
	int err;

	err = parse(ZONES "flows:\n"
			  "  - name: to-gw\n"
			  "    from: [a, self]\n"
			  "    to: self\n"
			  "    proto: tcp\n",
		    &p, &d);
	/* from [a, self] to self: an error (self to self). */
	ASSERT_TRUE(err != 0, "self: self to self is refused");
	cg_policy_free(p);
	cg_diags_free(&d);
	p = NULL;
	memset(&d, 0, sizeof(d));
	err = parse(ZONES "flows:\n"
			  "  - name: to-gw\n"
			  "    from: a\n"
			  "    to: [self, b]\n"
			  "    proto: icmp\n",
		    &p, &d);
	if (ASSERT_OK(err, "self: a flow to [self, b] parses") &&
	    ASSERT_TRUE(p && p->n_flows == 1 && p->flows[0].n_to == 2,
			"self: two items in to")) {
		ASSERT_EQ(p->flows[0].to[0].kind, CG_REF_SELF,
			  "self: to[0] is self");
		ASSERT_EQ(p->flows[0].to[1].kind, CG_REF_ZONE,
			  "self: to[1] is a zone");
	}
	cg_policy_free(p);
	cg_diags_free(&d);
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
	test_errors();
	test_all_at_once();
	test_warnings();
	test_limits();
	test_far_windows();
	test_load();
	test_diags();
	test_self();
	return cg_test_done();
}
