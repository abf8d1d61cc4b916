// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the policy parser (user/policy/policy*.c): the exact text
 * and position of the messages for broken policies, all of which must
 * come out in one run, warnings, limits, far windows, loading a file, and
 * self (test_policy_valid.c has a valid policy parsed down to every
 * position).
 *
 * The golden files in tests/policy/ check the same messages through
 * `cranegate check`; these tests check what the CLI does not show.
 */
#include <arpa/inet.h>
#include "compile.h"
#include "policytest.h"

CG_TEST_GLOBALS;

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
	expect_fail(
		"modbus mapping", FLOW("tcp", "    modbus: {read: only}\n"),
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

/*
 * A port in an interval no flow names is CG_PCLASS_NONE in port_classes
 * (the program skips its flows lookup); every port a flow names keeps a
 * class that a flow key carries. All 65,536 ports are checked.
 */
static void test_port_classes(void)
{
	struct cg_diags d = {0};
	struct cg_policy *p = NULL;
	struct cg_compiled *c = NULL;
	unsigned port, wrong = 0, unkeyed = 0, none = 0;
	size_t i;

	if (!ASSERT_OK(parse(ZONES "flows:\n"
				   "  - name: f\n"
				   "    from: a\n"
				   "    to: b\n"
				   "    proto: tcp\n"
				   "    ports: [502, 1000-2000]\n"
				   "  - name: g\n"
				   "    from: b\n"
				   "    to: a\n"
				   "    proto: udp\n"
				   "    ports: [53]\n",
			     &p, &d),
		       "port classes: parses") ||
	    !ASSERT_OK(cg_compile(p, &c, &d), "port classes: compiles"))
		goto out;
	for (port = 0; port < CG_PORT_CLASSES_ENTRIES; port++) {
		bool named = port == 53 || port == 502 ||
			     (port >= 1000 && port <= 2000);
		uint32_t pc = c->port_classes[port];
		bool keyed = false;

		none += pc == CG_PCLASS_NONE;
		if (named != (pc != CG_PCLASS_NONE)) {
			wrong++;
			continue;
		}
		for (i = 0; named && i < c->n_flow_keys && !keyed; i++)
			keyed = c->flows[i].key.port_class == pc;
		unkeyed += named && !keyed;
	}
	ASSERT_EQ(wrong, 0, "port classes: NONE exactly for the ports no flow names");
	ASSERT_EQ(unkeyed, 0, "port classes: a named port's class is in a flow key");
	ASSERT_EQ(none, 65536 - 1003, "port classes: 64,533 ports unnamed");
out:
	cg_compiled_free(c);
	cg_policy_free(p);
	cg_diags_free(&d);
}

/* The zone_nets bit of one address (maps/cranegate.h). */
static bool zone_net(const struct cg_zone_nets *zn, int v6, const char *a)
{
	uint8_t b[16] = {0};
	uint32_t bit;

	if (inet_pton(v6 ? AF_INET6 : AF_INET, a, b) != 1)
		return false;
	bit = cg_zone_nets_bit(b);
	return (zn->w[v6][bit / 64] >> (bit % 64)) & 1;
}

/* What the program asks at step 6 (bpf/flows.h, src_maybe_zoned). */
static bool maybe_zoned(const struct cg_zone_nets *zn, int v6, const char *a)
{
	uint8_t b[16] = {0};
	uint32_t bit, sub;

	if (inet_pton(v6 ? AF_INET6 : AF_INET, a, b) != 1)
		return true;
	bit = cg_zone_nets_bit(b);
	sub = cg_zone_nets_sub_bit(b, v6);
	if (!((zn->w[v6][bit / 64] >> (bit % 64)) & 1))
		return false;
	return ((zn->coarse[v6][bit / 64] >> (bit % 64)) & 1) ||
	       ((zn->sub[v6][sub / 64] >> (sub % 64)) & 1);
}

/*
 * zone_nets: a bit for every /16 that a network or host in a zone
 * overlaps (a network shorter than /16 sets each of its /16s), none for
 * the rest, nor for an address a flow names outside every zone. A clear
 * bit drops a frame as spoofed-source without a lookup.
 */
static void test_zone_nets(void)
{
	struct cg_diags d = {0};
	struct cg_policy *p = NULL;
	struct cg_compiled *c = NULL;
	struct cg_zone_nets zn;
	unsigned i, set4 = 0, set6 = 0;

	if (!ASSERT_OK(parse(HEAD "zones:\n"
				  "  a:\n"
				  "    interfaces: [a0]\n"
				  "    networks: [198.18.10.0/24, 2001:2:0:10::/64]\n"
				  "  b:\n"
				  "    interfaces: [b0]\n"
				  "    networks: [198.24.0.0/13, 2002::/15, 198.51.96.0/20,\n"
				  "               2001:db8:ab00::/40]\n"
				  "flows:\n"
				  "  - name: f\n"
				  "    from: a\n"
				  "    to: 203.0.113.9\n"
				  "    proto: tcp\n"
				  "    ports: [502]\n",
			     &p, &d),
		       "zone nets: parses") ||
	    !ASSERT_OK(cg_compile(p, &c, &d), "zone nets: compiles"))
		goto out;
	cg_zone_nets_of(c, &zn);
	for (i = 0; i < CG_ZONE_NETS_WORDS; i++) {
		set4 += __builtin_popcountll(zn.w[0][i]);
		set6 += __builtin_popcountll(zn.w[1][i]);
	}
	ASSERT_TRUE(zone_net(&zn, 0, "198.18.10.1"), "zone nets: a's /24");
	ASSERT_TRUE(zone_net(&zn, 0, "198.24.0.1"), "zone nets: the /13's first /16");
	ASSERT_TRUE(zone_net(&zn, 0, "198.31.255.255"), "zone nets: the /13's last /16");
	ASSERT_FALSE(zone_net(&zn, 0, "198.32.0.1"), "zone nets: past the /13");
	ASSERT_FALSE(zone_net(&zn, 0, "198.23.255.255"), "zone nets: before the /13");
	ASSERT_FALSE(zone_net(&zn, 0, "203.0.113.9"), "zone nets: a flow's address in no zone");
	ASSERT_EQ(set4, 10, "zone nets: IPv4, a's /16, the /13's 8, the /20's");
	ASSERT_TRUE(zone_net(&zn, 1, "2001:2:0:10::5"), "zone nets: a's /64");
	ASSERT_TRUE(zone_net(&zn, 1, "2002::1"), "zone nets: the /15's first /16");
	ASSERT_TRUE(zone_net(&zn, 1, "2003:ffff::1"), "zone nets: the /15's second /16");
	ASSERT_FALSE(zone_net(&zn, 1, "2004::1"), "zone nets: past the /15");
	ASSERT_EQ(set6, 3, "zone nets: IPv6, a's /16 and the /15's 2");
	/* The second level: /24s (IPv6: /48s) of /16s that are not coarse. */
	ASSERT_TRUE(maybe_zoned(&zn, 0, "198.18.10.200"), "zone nets: in a's /24");
	ASSERT_FALSE(maybe_zoned(&zn, 0, "198.18.11.1"), "zone nets: beside a's /24");
	ASSERT_TRUE(maybe_zoned(&zn, 0, "198.27.1.1"), "zone nets: in the coarse /13");
	ASSERT_TRUE(maybe_zoned(&zn, 0, "198.51.96.1"), "zone nets: the /20's first /24");
	ASSERT_TRUE(maybe_zoned(&zn, 0, "198.51.111.9"), "zone nets: the /20's last /24");
	ASSERT_FALSE(maybe_zoned(&zn, 0, "198.51.112.1"), "zone nets: past the /20");
	ASSERT_FALSE(maybe_zoned(&zn, 0, "198.51.95.255"), "zone nets: before the /20");
	ASSERT_TRUE(maybe_zoned(&zn, 1, "2001:2:0:10::5"), "zone nets: in a's /64");
	ASSERT_FALSE(maybe_zoned(&zn, 1, "2001:2:1::1"), "zone nets: beside a's /48");
	ASSERT_TRUE(maybe_zoned(&zn, 1, "2001:db8:ab00::1"), "zone nets: the /40's first /48");
	ASSERT_TRUE(maybe_zoned(&zn, 1, "2001:db8:abff:ffff::1"), "zone nets: the /40's last /48");
	ASSERT_FALSE(maybe_zoned(&zn, 1, "2001:db8:ac00::1"), "zone nets: past the /40");
	ASSERT_TRUE(maybe_zoned(&zn, 1, "2003:1234::1"), "zone nets: in the coarse /15");
out:
	cg_compiled_free(c);
	cg_policy_free(p);
	cg_diags_free(&d);
}

/*
 * The tree walked is built from the prescan's events (libyaml's document
 * API only for a policy with anchors); the messages below are those the
 * document API's tree gave, before the change.
 */
static void test_tree(void)
{
	expect_fail("anchor without alias: the walk still runs",
		    HEAD "zones:\n"
			 "  a: &x {interfaces: [a0], networks: "
			 "[198.18.10.0/24]}\n"
			 "  b: {interfaces: [b0], networks: [10.0.0.0/8], "
			 "vlans: []}\n"
			 "flows: [{name: f, from: a, to: c, proto: tcp}]\n",
		    "t.yaml:4:6: error: anchors are not allowed in a policy; "
		    "remove '&x'\n"
		    "t.yaml:5:56: error: zone 'b' has an empty vlans list; "
		    "omit vlans to make it the untagged zone of its "
		    "interfaces\n"
		    "t.yaml:6:32: error: unknown zone or host 'c'\n");
	expect_fail("repeated anchor",
		    HEAD "zones:\n  a: &x {interfaces: [a0]}\n"
			 "  b: &x {interfaces: [b0]}\n",
		    "t.yaml:4:6: error: anchors are not allowed in a policy; "
		    "remove '&x'\n"
		    "t.yaml:5:6: error: anchors are not allowed in a policy; "
		    "remove '&x'\n"
		    "t.yaml:5:6: error: second occurrence found duplicate "
		    "anchor; first occurrence (started at 4:6)\n");
	expect_fail("only the first document is walked",
		    ZONES "flows: [{name: f, from: a, to: b, proto: tcp, "
			  "ports: []}]\n---\nversion: 2\nbogus: [1\n, 2]\n",
		    "t.yaml:10:54: error: ports of flow 'f' is empty; omit "
		    "ports to allow every port\n"
		    "t.yaml:11:1: error: a second YAML document; a policy "
		    "file holds one\n");
	expect_fail("repeated flow names, empty and long lists",
		    ZONES "flows:\n"
			  "  - {name: f, from: a, to: b, proto: tcp}\n"
			  "  - {name: g, from: a, to: b, proto: udp}\n"
			  "  - {name: f, from: b, to: a, proto: tcp}\n"
			  "  - {name: g, from: [], to: {}, proto: tcp, ports: "
			  "[1, 2, 3, 4, 5, 6, 7, 8, 9, 1]}\n",
		    "t.yaml:13:12: error: duplicate flow name 'f' (first at "
		    "11:12)\n"
		    "t.yaml:14:12: error: duplicate flow name 'g' (first at "
		    "12:12)\n"
		    "t.yaml:14:21: error: 'from' of flow 'g' is empty; "
		    "expected a zone, host or CIDR, or a list of them\n"
		    "t.yaml:14:29: error: expected a zone, host or CIDR, or a "
		    "list of them, got a mapping\n"
		    "t.yaml:14:80: warning: port 1 overlaps port 1 (14:53) in "
		    "flow 'g'\n");
	expect_fail("a repeated key in a mapping of 17 keys",
		    ZONES "limits: {connections: 2000, tcp_timeout: 1, "
			  "tcp_closing_timeout: 1, udp_timeout: 1, "
			  "other_timeout: 1, macs: 2000, mac_hold: 1, "
			  "fragments: 64, fragment_timeout: 1, "
			  "events_per_second: 1, events_burst: 1, "
			  "source_events_per_second: 1, source_events_burst: "
			  "1, event_sources: 0, record_interval: 1, zz: 1, "
			  "macs: 3000}\n",
		    "t.yaml:10:294: error: unknown key 'zz' in limits; "
		    "expected one of: connections, tcp_timeout, "
		    "tcp_closing_timeout, udp_timeout, other_timeout, macs, "
		    "mac_hold, fragments, fragment_timeout, "
		    "events_per_second, events_burst, "
		    "source_events_per_second, source_events_burst, "
		    "event_sources, record_interval\n"
		    "t.yaml:10:301: error: duplicate key 'macs' (first at "
		    "10:103)\n");
}

int main(void)
{
	test_errors();
	test_tree();
	test_all_at_once();
	test_warnings();
	test_limits();
	test_far_windows();
	test_load();
	test_diags();
	test_self();
	test_port_classes();
	test_zone_nets();
	return cg_test_done();
}
