// SPDX-License-Identifier: GPL-2.0
/*
 * The EtherNet/IP walk of the reference evaluator (user/policy/enip.c) on
 * frames written out byte by byte from the specification (ODVA CIP Vol. 2
 * encapsulation, Common Packet Format; Logix tag services), independent
 * of the test builders (tests/lib/cip.c) that the BPF test uses: the Stop
 * request of ../shared/captures/cip_stop_plc.pcap as it was captured, a
 * Read Tag, a Write Tag, an Unconnected_Send and a Multiple_Service_Packet,
 * each under read-only and any, with the service each must name.
 */
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "cranegate.h"
#include "enip.h"
#include "harness.h"
#include "modbus_rules.h"

CG_TEST_GLOBALS;

/* "6f00 ..." -> bytes; spaces ignored. */
static size_t unhex(const char *h, uint8_t *out, size_t cap)
{
	size_t n = 0;

	while (*h && n < cap) {
		unsigned v;

		if (*h == ' ') {
			h++;
			continue;
		}
		if (sscanf(h, "%2x", &v) != 1)
			break;
		out[n++] = (uint8_t)v;
		h += 2;
	}
	return n;
}

struct frame_case {
	const char *name;
	const char *hex;
	bool read_only_passes;
	bool any_passes;
	unsigned function; /* under read-only */
};

static const struct frame_case cases[] = {
	/* The capture's frame: SendUnitData, connected address 0xff954022,
	 * connected data (sequence 0x0106): Stop (0x07) on class 0x8E. */
	{"capture: Stop in SendUnitData",
	 "7000 1c00 01002a00 00000000 0000000000000000 00000000"
	 " 00000000 0000 0200 a100 0400 224095ff b100 0800 0601"
	 " 07 02 208e 2401",
	 false, true, 0x07},
	/* SendRRData, null address, unconnected data: Read Tag "Speed". */
	{"Read Tag Speed",
	 "6f00 1c00 01002a00 00000000 0000000000000000 00000000"
	 " 00000000 0a00 0200 0000 0000 b200 0c00"
	 " 4c 04 9105 5370656564 00 0100",
	 true, true, 0x4c},
	/* The same with Write Tag Speed = DINT 42. */
	{"Write Tag Speed",
	 "6f00 2200 01002a00 00000000 0000000000000000 00000000"
	 " 00000000 0a00 0200 0000 0000 b200 1200"
	 " 4d 04 9105 5370656564 00 c400 0100 2a000000",
	 false, true, 0x4d},
	/* Unconnected_Send (class 6 instance 1) of Read Tag Speed, route
	 * port 1 slot 0. */
	{"Unconnected_Send of Read Tag",
	 "6f00 2a00 01002a00 00000000 0000000000000000 00000000"
	 " 00000000 0a00 0200 0000 0000 b200 1a00"
	 " 52 02 2006 2401 0a 0e 0c00 4c 04 9105 5370656564 00 0100"
	 " 01 00 0100",
	 true, true, 0x4c},
	/* Multiple_Service_Packet (class 2 instance 1): Read Tag, Write Tag. */
	{"MSP of a Read Tag and a Write Tag",
	 "6f00 3a00 01002a00 00000000 0000000000000000 00000000"
	 " 00000000 0a00 0200 0000 0000 b200 2a00"
	 " 0a 02 2002 2401 0200 0600 1200"
	 " 4c 04 9105 5370656564 00 0100"
	 " 4d 04 9105 5370656564 00 c400 0100 2a000000",
	 false, true, 0x4d},
	/* RegisterSession, protocol version 1. */
	{"RegisterSession",
	 "6500 0400 00000000 00000000 0000000000000000"
	 " 00000000 0100 0000",
	 true, true, CG_FUNC_NONE},
	/* The Read Tag with its length one byte too long. */
	{"Read Tag, length 0x1d for 0x1c bytes",
	 "6f00 1d00 01002a00 00000000 0000000000000000 00000000"
	 " 00000000 0a00 0200 0000 0000 b200 0c00"
	 " 4c 04 9105 5370656564 00 0100",
	 false, false, CG_FUNC_NONE},
};

static const struct cg_ics read_only = {.mode = CG_ICS_READ_ONLY};
static const struct cg_ics any_rule = {.mode = CG_ICS_ANY};

int main(void)
{
	uint8_t buf[512];
	char what[160];
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct frame_case *c = &cases[i];
		uint16_t fn, fa;
		bool ro, any;

		n = unhex(c->hex, buf, sizeof(buf));
		ro = cg_enip_allows(&read_only, buf, n, &fn);
		any = cg_enip_allows(&any_rule, buf, n, &fa);
		snprintf(what, sizeof(what), "%s: read-only %s", c->name,
			 c->read_only_passes ? "passes" : "refuses");
		ASSERT_EQ(ro, c->read_only_passes, what);
		snprintf(what, sizeof(what), "%s: any %s", c->name,
			 c->any_passes ? "passes" : "refuses");
		ASSERT_EQ(any, c->any_passes, what);
		snprintf(what, sizeof(what), "%s: names service %#x", c->name,
			 c->function);
		ASSERT_EQ(fn, c->function, what);
		/* Every byte cut off the end breaks the framing. */
		while (n-- > 1) {
			if (cg_enip_allows(&any_rule, buf, n, &fa))
				break;
		}
		snprintf(what, sizeof(what), "%s: no shorter prefix frames",
			 c->name);
		ASSERT_EQ(n, 0, what);
	}
	ASSERT_TRUE(!cg_enip_allows(&read_only, buf, 0, &(uint16_t){0}),
		    "an empty payload is no request");

	/* allow: rule 1 {services: [0x4D], classes: [0x6B]}, rule 2
	 * {services: [control]}: a Write Tag by name (no class in its path)
	 * matches neither; Stop matches rule 2; a read matches none. */
	{
		struct cg_ics_allow r[2] = {};
		struct cg_ics rules = {
			.mode = CG_ICS_ALLOW, .allow = r, .n_allow = 2};
		uint16_t fn;

		cg_bit_set(r[0].named, 0x4d);
		r[0].n_ranges = 1;
		r[0].ranges[0].lo = r[0].ranges[0].hi = 0x6b;
		r[1].classes = 1u << CG_CIP_CONTROL;
		n = unhex(cases[2].hex, buf, sizeof(buf));
		ASSERT_TRUE(!cg_enip_allows(&rules, buf, n, &fn),
			    "rules: Write Tag by name matches no rule");
		n = unhex(cases[0].hex, buf, sizeof(buf));
		ASSERT_TRUE(cg_enip_allows(&rules, buf, n, &fn) && fn == 0x07,
			    "rules: the capture's Stop matches {services: "
			    "[control]}");
		n = unhex(cases[1].hex, buf, sizeof(buf));
		ASSERT_TRUE(!cg_enip_allows(&rules, buf, n, &fn),
			    "rules: Read Tag matches no rule");
	}
	ASSERT_EQ(cg_cip_class_of(0x4e, 0x06, false), CG_CIP_CONNECTION,
		  "0x4E on class 6 is connection");
	ASSERT_EQ(cg_cip_class_of(0x4e, -1, true), CG_CIP_WRITE,
		  "0x4E on a tag is write (Read-Modify-Write)");
	ASSERT_EQ(cg_cip_class_of(0x52, -1, false), CG_CIP_OTHER,
		  "0x52 with neither class nor tag is other");
	return cg_test_done();
}
