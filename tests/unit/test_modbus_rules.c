// SPDX-License-Identifier: GPL-2.0
/*
 * `modbus: allow:` rules in the parser and the compiler: what each class
 * holds, code 43's MEI condition, units, ranges sorted and merged into
 * the ics_allow entries, where a flow's rules start, and the shadowing
 * test behind check's lint (cg_allow_covered).
 */
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "harness.h"
#include "modbus_rules.h"

CG_TEST_GLOBALS;

static const char *policy_text =
	"version: 1\n"
	"name: rules\n"
	"zones:\n"
	"  a: {interfaces: [biz0], networks: [198.18.10.0/24]}\n"
	"  b: {interfaces: [crane0], networks: [198.18.20.0/24]}\n"
	"flows:\n"
	"  - {name: ro, from: 198.18.10.1, to: b, proto: tcp, ports: [502], "
	"modbus: "
	"read-only}\n"
	"  - name: rules\n"
	"    from: 198.18.10.2\n"
	"    to: b\n"
	"    proto: tcp\n"
	"    ports: [502]\n"
	"    modbus:\n"
	"      allow:\n"
	"        - functions: [read]\n"
	"        - functions: [other]\n"
	"          units: [0, 255]\n"
	"        - functions: [read, other]\n"
	"        - functions: [6, 0x10, program]\n"
	"          units: [1]\n"
	"          addresses: [200, 110-119, 100-109, 115, 65535]\n"
	"  - name: second\n"
	"    from: 198.18.10.3\n"
	"    to: b\n"
	"    proto: tcp\n"
	"    ports: [502]\n"
	"    modbus: {allow: [{functions: [43]}, {functions: "
	"[diagnostics]}]}\n";

static bool all_ones(const uint8_t *m)
{
	int i;

	for (i = 0; i < 32; i++)
		if (m[i] != 0xff)
			return false;
	return true;
}

static void test_classes(void)
{
	static const uint8_t rd[] = {1, 2, 3, 4, 7, 11, 12, 17, 20, 24};
	static const uint8_t wr[] = {5, 6, 15, 16, 21, 22, 23};
	static const uint8_t pg[] = {9,	 10, 13,  14,  41, 42,
				     90, 91, 125, 126, 127};
	size_t i;
	char w[64];

	for (i = 0; i < sizeof(rd); i++) {
		snprintf(w, sizeof(w), "class of %u: read", rd[i]);
		ASSERT_EQ(cg_mb_class_of(rd[i], -1), CG_MB_READ, w);
	}
	for (i = 0; i < sizeof(wr); i++) {
		snprintf(w, sizeof(w), "class of %u: write", wr[i]);
		ASSERT_EQ(cg_mb_class_of(wr[i], -1), CG_MB_WRITE, w);
	}
	for (i = 0; i < sizeof(pg); i++) {
		snprintf(w, sizeof(w), "class of %u: program", pg[i]);
		ASSERT_EQ(cg_mb_class_of(pg[i], -1), CG_MB_PROGRAM, w);
	}
	ASSERT_EQ(cg_mb_class_of(8, -1), CG_MB_DIAGNOSTICS,
		  "class of 8: diagnostics");
	ASSERT_EQ(cg_mb_class_of(43, 14), CG_MB_READ, "class of 43/14: read");
	ASSERT_EQ(cg_mb_class_of(43, 13), CG_MB_OTHER, "class of 43/13: other");
	ASSERT_EQ(cg_mb_class_of(43, -1), CG_MB_OTHER,
		  "class of 43 without a MEI type: other");
	ASSERT_EQ(cg_mb_class_of(65, -1), CG_MB_OTHER, "class of 65: other");
	ASSERT_EQ(cg_mb_class_of(0x83, -1), CG_MB_OTHER,
		  "class of 0x83: other");
}

static void test_compiled(void)
{
	struct cg_diags d = {.file = "t.yaml"};
	struct cg_policy *p = NULL;
	struct cg_compiled *c = NULL;
	const struct cg_ics_allow_rule *e;
	const struct cg_ics_rule *r;
	int err;

	err = cg_policy_parse("t.yaml", policy_text, strlen(policy_text), &p,
			      &d);
	if (!err)
		err = cg_compile(p, &c, &d);
	cg_diags_print(&d, stdout);
	cg_diags_free(&d);
	if (!ASSERT_OK(err, "policy parses and compiles"))
		goto out;
	ASSERT_EQ(p->flows[1].modbus.mode, CG_ICS_ALLOW, "flow 1: allow mode");
	ASSERT_EQ(p->flows[1].modbus.n_allow, 4, "flow 1: four rules");
	ASSERT_EQ(p->flows[1].modbus.allow[3].pos.line, 19,
		  "rule 4 at its line");
	ASSERT_EQ(c->n_ics_rules, 3, "three flows inspected");
	if (!ASSERT_EQ(c->n_ics_allow, 6, "six ics_allow entries"))
		goto out;

	r = &c->ics_rules[0];
	ASSERT_EQ(r->modbus, CG_ICS_FUNCTIONS, "read-only: a function bitmap");
	ASSERT_EQ(r->modbus_allow_n, 0, "read-only: no rules");
	r = &c->ics_rules[1];
	ASSERT_EQ(r->modbus, CG_ICS_RULES, "flow 1: rules");
	ASSERT_EQ(r->modbus_allow_first, 0, "flow 1: from entry 0");
	ASSERT_EQ(r->modbus_allow_n, 4, "flow 1: four entries");
	r = &c->ics_rules[2];
	ASSERT_EQ(r->modbus_allow_first, 4, "flow 2: from entry 4");
	ASSERT_EQ(r->modbus_allow_n, 2, "flow 2: two entries");

	e = &c->ics_allow[0];
	ASSERT_TRUE(cg_bit(e->codes, 3) && cg_bit(e->codes, 24) &&
			    cg_bit(e->codes, 43) && !cg_bit(e->codes, 6) &&
			    !cg_bit(e->codes, 8),
		    "read: 3, 24 and 43 in, 6 and 8 out");
	ASSERT_EQ(e->flags, CG_ALLOW_MEI14, "read: 43 only with MEI 14");
	ASSERT_TRUE(all_ones(e->units), "no units: every unit");
	ASSERT_EQ(e->n_ranges, 0, "no addresses: no ranges");

	e = &c->ics_allow[1];
	ASSERT_TRUE(cg_bit(e->codes, 65) && cg_bit(e->codes, 43) &&
			    cg_bit(e->codes, 0x83) && !cg_bit(e->codes, 3) &&
			    !cg_bit(e->codes, 90),
		    "other: 65, 43, 0x83 in, 3 and 90 out");
	ASSERT_EQ(e->flags, CG_ALLOW_NOT_MEI14,
		  "other: 43 only without MEI 14");
	ASSERT_TRUE(cg_bit(e->units, 0) && cg_bit(e->units, 255) &&
			    !cg_bit(e->units, 1),
		    "units 0 and 255 only");

	ASSERT_EQ(c->ics_allow[2].flags, 0,
		  "read and other: 43 with any MEI type");

	e = &c->ics_allow[3];
	ASSERT_TRUE(cg_bit(e->codes, 6) && cg_bit(e->codes, 16) &&
			    cg_bit(e->codes, 90) && !cg_bit(e->codes, 5),
		    "6, 0x10 and program: 6, 16, 90 in, 5 out");
	if (ASSERT_EQ(e->n_ranges, 3, "five ranges merge into three")) {
		ASSERT_TRUE(e->ranges[0].lo == 100 && e->ranges[0].hi == 119,
			    "100-109, 110-119 and 115 merge into 100-119");
		ASSERT_TRUE(e->ranges[1].lo == 200 && e->ranges[1].hi == 200,
			    "then 200");
		ASSERT_TRUE(e->ranges[2].lo == 65535 &&
				    e->ranges[2].hi == 65535,
			    "then 65535");
	}
	ASSERT_EQ(c->ics_allow[4].flags, 0, "43 as a code: any MEI type");
	ASSERT_TRUE(cg_bit(c->ics_allow[5].codes, 8) &&
			    !cg_bit(c->ics_allow[5].codes, 7),
		    "diagnostics: 8, not 7");

	/* Shadowing, as check's lint reads it. */
	{
		const struct cg_ics_allow *a = p->flows[1].modbus.allow;

		ASSERT_TRUE(cg_allow_covered(&a[0], &a[2]),
			    "read is covered by read+other");
		ASSERT_FALSE(cg_allow_covered(&a[2], &a[0]),
			     "read+other is not covered by read");
		ASSERT_FALSE(cg_allow_covered(&a[1], &a[0]),
			     "other on units 0, 255 is not covered by read");
		ASSERT_FALSE(cg_allow_covered(&a[0], &a[3]),
			     "read is not covered by a rule with addresses");
	}
out:
	cg_compiled_free(c);
	cg_policy_free(p);
}

int main(void)
{
	test_classes();
	test_compiled();
	return cg_test_done();
}
