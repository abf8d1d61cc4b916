/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the reference evaluator's unit tests share (test_reference.c,
 * test_reference_ics.c): a policy from YAML in a given mode, and a frame
 * judged against what it must get.
 */
#ifndef CRANEGATE_REFTEST_H
#define CRANEGATE_REFTEST_H

#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "cranegate.h"
#include "reference.h"
#include "frames.h"
#include "harness.h"
#include "ics.h"

static inline struct cg_policy *load(const char *yaml, const char *mode)
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
static inline void tag(struct cg_frame_spec *s, uint16_t vid)
{
	s->n_tags = 1;
	s->tags[0].tpid = 0x8100;
	s->tags[0].tci = vid;
}

/*
 * Judge a frame and compare "REASON flow F from Z to Z" (flow and zones
 * as numbers, -1 for none) with what is expected, in one assertion.
 */
static inline void expect_buf(struct cg_refeval *r, const char *name,
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

static inline size_t build(const struct cg_frame_spec *s, uint8_t *buf,
		    struct cg_frame_layout *lay)
{
	return cg_frame_build_layout(s, buf, CG_FRAME_MAX, lay);
}

static inline void expect(struct cg_refeval *r, const char *name, const char *ifname,
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

#endif
