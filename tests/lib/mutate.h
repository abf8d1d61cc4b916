/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The mutation test's frames and judging (tests/bpf/test_mutate.c): the
 * fixed policy, its valid frames, and a run that judges a frame through the
 * real program and the reference evaluator and counts disagreements.
 */
#ifndef CRANEGATE_TEST_MUTATE_H
#define CRANEGATE_TEST_MUTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cranegate.h"
#include "compile.h"
#include "gate.h"
#include "reference.h"
#include "frames.h"

#define MAX_REPORTED 10
#define FLIP_BYTES 96
#define RANDOM_FLIPS 64

#define HMI "198.18.10.5"
#define PLC "198.18.20.11"
#define DRIVE "198.18.22.7"
#define CAM "198.18.21.7"
#define MGT "198.18.30.9"
#define HMI6 "2001:2:0:10::5"
#define PLC6 "2001:2:0:20::11"
#define MGT6 "2001:2:0:30::9"

/* One frame to mut_judge, with what the layout of its unmutated form was. */
struct frame {
	const char *ifname;
	char what[96];
	size_t len;
	uint8_t buf[CG_FRAME_MAX];
	struct cg_frame_layout lay;
	bool has_lay;
	enum { ICS_NONE, ICS_MODBUS, ICS_S7 } ics;
};

/* A class's run: one instance, one reference, counts. */
struct run {
	const char *policy_name;
	const char *cls;
	uint64_t seed;
	struct cg_policy *policy;
	struct cg_gate *gate;
	struct cg_refeval *ref;
	unsigned long frames, skipped, mismatches;
	unsigned long hits[CG_R_MAX];
	bool failed;
};
extern const char mut_fixed_policy[];
extern bool mut_verbose;
extern unsigned long mut_reported;
extern unsigned long mut_total_frames, mut_total_mismatches,
	mut_total_mismatches_known;

void mut_put16(uint8_t *p, uint16_t v);
size_t mut_modbus_adu(uint8_t *b, uint16_t tid, uint8_t fc, const uint8_t *data,
		      size_t dlen);
size_t mut_s7_pdu(uint8_t *b, uint8_t rosctr, const uint8_t *param,
		  size_t plen);
size_t mut_cotp_cr(uint8_t *b);
bool mut_build(struct frame *f, struct cg_frame_spec *s, const char *ifname,
	       const char *what);
size_t mut_base_frames(struct frame *out, size_t cap);
const char *mut_reason_name(unsigned int r);
bool mut_agrees(const struct cg_event *ev, int action,
		const struct cg_ref_result *res);
int mut_run_begin(struct run *r, const char *policy_name, struct cg_policy *p,
		  const char *cls, uint64_t seed);
bool mut_judge(struct run *r, const char *ifname, const uint8_t *buf,
	       size_t len, const char *what);

#endif
