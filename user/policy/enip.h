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

/*
 * Does the TCP payload p[0, len) of a client's segment pass a flow with
 * `enip:` (`read_only`: read-only, else any)? *function gets the CIP
 * service an event names: the one refused, or the last one judged;
 * CG_FUNC_NONE when the payload was refused before any CIP request, or
 * carried none.
 */
bool cg_enip_allows(bool read_only, const uint8_t *p, size_t len,
		    uint16_t *function);

/* Is `cmd` an encapsulation command that `read-only` admits? */
bool cg_enip_command_read(uint16_t cmd);

#endif
