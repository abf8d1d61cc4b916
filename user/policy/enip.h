/* SPDX-License-Identifier: GPL-2.0 */
/*
 * EtherNet/IP and CIP requests judged by `enip: read-only | any`
 * (cranegate-policy(5), "ICS function classes"), written from the
 * protocol, for the reference evaluator, `learn` and the tests. The data
 * plane (bpf/enip.h) walks the same bounds (maps/cranegate.h, CG_ENIP_*)
 * in the same order; the differential test holds the two together.
 */
#ifndef CRANEGATE_ENIP_H
#define CRANEGATE_ENIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cranegate.h"
#include "policy.h"

/* The names of enum cg_cip_class, as `services:` writes them. */
extern const char *const cg_cip_class_names[CG_CIP_CLASSES];

/*
 * The service class of a CIP request that carries no other: service
 * `svc` on object class `cls` (-1: the path names none), `symbolic`:
 * the path starts with a symbolic (0x91) segment.
 */
enum cg_cip_class cg_cip_class_of(uint8_t svc, long cls, bool symbolic);

/* check's lint: an enip rule an earlier rule of its list shadows. */
void cg_lint_enip(const struct cg_policy *p, struct cg_diags *d);

/* An enip allow rule as `services: [...], classes: [...]`, for diff. */
void cg_enip_allow_text(const struct cg_ics_allow *a, char *buf, size_t len);

/*
 * Does the TCP payload p[0, len) of a client's segment pass a flow with
 * `enip:` (`rule`: any, read-only or allow:)? *function gets the CIP
 * service an event names: the one refused, or the last one judged;
 * CG_FUNC_NONE when the payload was refused before any CIP request, or
 * carried none.
 */
bool cg_enip_allows(const struct cg_ics *rule, const uint8_t *p, size_t len,
		    uint16_t *function);

/* Is `cmd` an encapsulation command that `read-only` admits? */
bool cg_enip_command_read(uint16_t cmd);

#endif
