/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The reference evaluator: README's "How a frame is judged", written as
 * plainly as possible over the parsed policy (struct cg_policy) with
 * linear scans over zones, networks and flows. It knows nothing of the
 * compiled map layout; the differential test (tests/bpf/test_diff.c) runs
 * it beside the XDP program and demands the same verdict for every frame.
 *
 * It is stateful: it keeps the connection table that `reply` needs, as a
 * plain array. Idle timeouts are ignored (the gate's are far longer than
 * any test), so a connection, once opened, stays open until the window of
 * the flow that opened it ends. Windows (`valid:`) are judged at the
 * evaluator's "now": the time it was created, or cg_ref_set_now().
 *
 * Zone ids are indexes into policy->zones and flow ids indexes into
 * policy->flows, as in the compiled policy.
 *
 * The evaluator's type is struct cg_refeval because struct cg_ref already
 * names a flow's from/to item in policy.h.
 */
#ifndef CRANEGATE_REFERENCE_H
#define CRANEGATE_REFERENCE_H

#include <stddef.h>
#include <stdint.h>

#include "policy.h"

struct cg_refeval;

/*
 * verdict: enum cg_verdict. reason: enum cg_reason (CG_R_MONITOR for a
 * would-be drop in monitor mode); would: the reason before monitor mode,
 * else equal to reason. flow: the flow that allowed the frame, whose ICS
 * inspection refused it (ics-denied), or that opened the connection a
 * reply belongs to; CG_FLOW_NONE otherwise. zone_from: the ingress zone;
 * zone_to: the destination zone (step 9); either CG_ZONE_NONE when there
 * is none or the judgement ended earlier. function: what step 12 read, as
 * events carry it (the Modbus function code, the S7 job function, 0x700 +
 * the S7 userdata group): the refused request's, or the last request's
 * of an allowed payload; CG_FUNC_NONE when the frame was not inspected,
 * its framing failed, or it carried no such request.
 */
struct cg_ref_result {
	uint8_t verdict;
	uint8_t reason;
	uint8_t would;
	uint32_t flow;
	uint16_t zone_from;
	uint16_t zone_to;
	uint16_t function;
	/* deny: reset answered the refused request with a TCP RST (the XDP
	 * action is XDP_TX; verdict and reason stay drop, ics-denied), and
	 * its connection was forgotten. */
	bool reset;
};

/*
 * A new evaluator for policy `p` (borrowed: it must outlive the
 * evaluator), with an empty connection table. NULL when out of memory.
 */
struct cg_refeval *cg_ref_new(const struct cg_policy *p);

/*
 * Judge one frame (starting at the Ethernet header) as if it arrived on
 * interface `ifname`. Opens a connection when a flow allows the frame
 * (not when its ICS inspection refuses it). Always fills *out.
 */
void cg_ref_eval(struct cg_refeval *r, const char *ifname, const uint8_t *frame,
		 size_t len, struct cg_ref_result *out);

/*
 * The gateway's own addresses (`self`; borrowed, NULL: none). The
 * evaluator knows no sockets: it has no reply to the gateway's own
 * connections (README, "The gateway itself").
 */
struct cg_self_set;
void cg_ref_set_self(struct cg_refeval *r, const struct cg_self_set *s);

/* The wall-clock time (Unix nanoseconds) at which windows are judged. */
void cg_ref_set_now(struct cg_refeval *r, int64_t unix_ns);

/* Connections currently open (for tests). */
size_t cg_ref_n_conns(const struct cg_refeval *r);

void cg_ref_free(struct cg_refeval *r); /* safe on NULL */

#endif
