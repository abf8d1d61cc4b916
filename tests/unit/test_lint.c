// SPDX-License-Identifier: GPL-2.0
/*
 * The lint of `cranegate check` (user/policy/lint.c): each warning's exact text
 * and position, what must not warn, and --strict. The golden files in
 * tests/policy/lint/ check the same through the CLI; tests/unit/test_diff.c
 * checks on random policies that "never decides a frame" is exact.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "lint.h"

CG_TEST_GLOBALS;

static char lbuf[256];
#define L(...) (snprintf(lbuf, sizeof(lbuf), __VA_ARGS__), lbuf)

static char *diag_text(const struct cg_diags *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cg_diags_print(d, f);
	fclose(f);
	return buf;
}

/* Lint a valid policy; its diagnostics must be exactly `want`. */
static void expect_lint(const char *name, const char *yaml, bool strict,
			int want_err, const char *want)
{
	struct cg_diags d = {.file = "t.yaml"};
	struct cg_policy *p = NULL;
	char *got;
	int err;

	err = cg_policy_parse("t.yaml", yaml, strlen(yaml), &p, &d);
	if (!ASSERT_OK(err, L("%s: parses", name))) {
		cg_diags_print(&d, stdout);
		cg_diags_free(&d);
		return;
	}
	err = cg_lint_check(p, &d, strict);
	ASSERT_EQ(err, want_err, L("%s: lint result", name));
	got = diag_text(&d);
	ASSERT_STREQ(got, want, L("%s: messages", name));
	free(got);
	cg_policy_free(p);
	cg_diags_free(&d);
}

#define ZONES                                                                  \
	"version: 1\n"                                                         \
	"name: t\n"                                                            \
	"zones:\n"                                                             \
	"  a:\n"                                                               \
	"    interfaces: [a0]\n"                                               \
	"    networks: [198.18.1.0/24, 2001:2:0:1::/64]\n"                     \
	"  b:\n"                                                               \
	"    interfaces: [b0]\n"                                               \
	"    networks: [198.18.2.0/24, 2001:2:0:2::/64]\n"

int main(void)
{
	expect_lint("clean",
		    ZONES "flows:\n"
			  "  - name: ab\n"
			  "    from: a\n"
			  "    to: b\n"
			  "    proto: tcp\n"
			  "    ports: [22]\n"
			  "  - name: ab-more\n"
			  "    from: a\n"
			  "    to: b\n"
			  "    proto: tcp\n"
			  "    ports: [\"22-23\"]\n",
		    false, 0, "");

	expect_lint("duplicate",
		    ZONES "flows:\n"
			  "  - name: ab\n"
			  "    from: a\n"
			  "    to: b\n"
			  "    proto: udp\n"
			  "  - name: ab2\n"
			  "    from: [198.18.1.0/24, 2001:2:0:1::/64]\n"
			  "    to: b\n"
			  "    proto: udp\n",
		    false, 0,
		    "t.yaml:15:5: warning: flow 'ab2' duplicates flow 'ab' "
		    "(line 11): both match the same traffic and the first "
		    "match wins, so 'ab2' never decides a frame\n");

	expect_lint("shadowed by any",
		    ZONES "flows:\n"
			  "  - name: all\n"
			  "    from: a\n"
			  "    to: b\n"
			  "    proto: any\n"
			  "  - name: ssh\n"
			  "    from: 198.18.1.7\n"
			  "    to: b\n"
			  "    proto: tcp\n"
			  "    ports: [22]\n",
		    false, 0,
		    "t.yaml:15:5: warning: flow 'ssh' is shadowed by flow "
		    "'all' (line 11), which matches everything 'ssh' matches "
		    "and comes first; 'ssh' never decides a frame\n");

	/* tcp 22 does not cover tcp+udp 22 (ports on any). */
	expect_lint(
		"any with ports is not shadowed by tcp",
		ZONES "flows:\n"
		      "  - name: tcp22\n"
		      "    from: a\n"
		      "    to: b\n"
		      "    proto: tcp\n"
		      "    ports: [22]\n"
		      "  - name: any22\n"
		      "    from: a\n"
		      "    to: b\n"
		      "    proto: any\n"
		      "    ports: [22]\n",
		false, 0,
		"t.yaml:20:5: warning: ports on proto any means tcp and udp on "
		"those ports; flow 'any22' matches no other protocol\n");

	expect_lint("taken by several",
		    ZONES "flows:\n"
			  "  - name: v4\n"
			  "    from: 198.18.1.0/24\n"
			  "    to: b\n"
			  "    proto: udp\n"
			  "  - name: v6\n"
			  "    from: 2001:2:0:1::/64\n"
			  "    to: b\n"
			  "    proto: udp\n"
			  "  - name: both\n"
			  "    from: a\n"
			  "    to: b\n"
			  "    proto: udp\n",
		    false, 0,
		    "t.yaml:19:5: warning: flow 'both' matches nothing once "
		    "earlier flows are subtracted: every address, protocol and "
		    "port it matches is taken first by 'v4' and 'v6'; it never "
		    "decides a frame\n");

	expect_lint("intra-zone and taken",
		    ZONES "flows:\n"
			  "  - name: ab\n"
			  "    from: a\n"
			  "    to: b\n"
			  "    proto: udp\n"
			  "  - name: a-anywhere\n"
			  "    from: a\n"
			  "    to: [a, b]\n"
			  "    proto: udp\n",
		    false, 0,
		    "t.yaml:15:5: warning: flow 'a-anywhere' never decides a "
		    "frame: what it matches is taken first by 'ab', and by "
		    "traffic within one zone (intra-zone)\n");

	expect_lint(
		"unused names",
		ZONES
		"  c:\n"
		"    interfaces: [c0]\n"
		"    networks: [198.18.3.0/24]\n"
		"hosts:\n"
		"  used: 198.18.1.5\n"
		"  unused: 198.18.1.6\n"
		"  bound: {address: 198.18.1.7, mac: \"02:00:00:00:01:07\"}\n"
		"  in-c: 198.18.3.9\n"
		"flows:\n"
		"  - name: used\n"
		"    from: used\n"
		"    to: b\n"
		"    proto: icmp\n"
		"  - name: wide\n"
		"    from: b\n"
		"    to: 198.18.0.0/16\n"
		"    proto: icmp\n",
		false, 0,
		"t.yaml:15:3: warning: host 'unused' is not used by any flow\n"
		"t.yaml:17:3: warning: host 'in-c' is not used by any flow\n");

	expect_lint("a zone nothing reaches",
		    ZONES "  c:\n"
			  "    interfaces: [c0]\n"
			  "    networks: [198.18.3.0/24]\n"
			  "flows:\n"
			  "  - name: ab\n"
			  "    from: a\n"
			  "    to: b\n"
			  "    proto: icmp\n",
		    false, 0,
		    "t.yaml:10:3: warning: zone 'c' is not used by any flow: "
		    "no flow names it or an address in it, so its hosts reach "
		    "only their own zone\n");

	expect_lint("strict",
		    ZONES "hosts:\n"
			  "  unused: 198.18.1.6\n"
			  "flows:\n"
			  "  - name: ab\n"
			  "    from: a\n"
			  "    to: b\n"
			  "    proto: any\n"
			  "    ports: [53]\n",
		    true, -EINVAL,
		    "t.yaml:11:3: error: host 'unused' is not used by any flow "
		    "[--strict]\n"
		    "t.yaml:17:5: error: ports on proto any means tcp and udp "
		    "on those ports; flow 'ab' matches no other protocol "
		    "[--strict]\n");

	expect_lint("strict and clean",
		    ZONES "flows:\n"
			  "  - name: ab\n"
			  "    from: a\n"
			  "    to: b\n"
			  "    proto: icmp\n",
		    true, 0, "");

	printf("1..%d\n", cg_test_n);
	return cg_test_done();
}
