/* SPDX-License-Identifier: GPL-2.0 */
/* Printing events and verdicts, as JSON lines and as text. */
#ifndef CRANEGATE_OUTPUT_H
#define CRANEGATE_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>
#include "cranegate.h"

/* Resolves the ids in an event to names; any callback may return NULL. */
struct cg_namer {
	const char *(*zone)(void *ctx, unsigned id);
	const char *(*flow)(void *ctx, unsigned id);
	const char *(*iface)(void *ctx, unsigned ifindex);
	void *ctx;
	/* Optional (the live event stream): a shadow event's candidate flow
	 * names, and the history's revision of a policy id (0: none). With
	 * `revision`, events name the policy that decided them. */
	const char *(*shadow_flow)(void *ctx, unsigned id);
	unsigned (*revision)(void *ctx, unsigned long long policy_id);
};

const char *cg_reason_name(unsigned reason);
const char *cg_verdict_name(unsigned verdict);
/* "tcp", "udp", "icmp", "icmpv6", or the number as text (static buffer). */
const char *cg_l4_name(unsigned proto);
void cg_addr_format(int family, const unsigned char *addr, char *buf,
		    size_t len);

/* Print a JSON string literal (with quotes), or null for NULL. */
void cg_json_str(FILE *out, const char *s);

/*
 * The fields of an event, as the members of a JSON object (without the
 * braces), so that callers can add their own: time, iface, verdict,
 * reason, rule, src, dst, proto, sport, dport, vlan, src_mac, zone_from,
 * zone_to, function, and would (monitor mode); with a `revision`
 * namer, policy_sha256 (the 16 hex digits events carry) and revision; for
 * a shadow disagreement (CG_EV_SHADOW), "shadow": {verdict, reason, rule,
 * policy_sha256} beside the live fields.
 * `realtime_off_ns` turns the event's CLOCK_MONOTONIC stamp into wall
 * time; pass 0 to print no time.
 */
void cg_event_json_fields(FILE *out, const struct cg_event *e,
			  const struct cg_namer *n, long long realtime_off_ns);
void cg_event_text(FILE *out, const struct cg_event *e,
		   const struct cg_namer *n, long long realtime_off_ns);

/*
 * One concise line for syslog, without time or newline: "drop no-rule on
 * crane0 vlan 100: tcp 198.18.20.11:40000 -> 198.18.10.5:8502
 * (crane-control -> business)".
 */
void cg_event_brief(FILE *out, const struct cg_event *e,
		    const struct cg_namer *n);

/*
 * A growing byte buffer that events are formatted into without stdio (run
 * formats a batch of events into one and writes it with one write(2)).
 * `oom` is set when growing failed; what did not fit is missing then.
 * Zero-initialised is empty; cg_sbuf_free releases it.
 */
struct cg_sbuf {
	char *p;
	size_t len, cap;
	bool oom;
	long long sec; /* the last second formatted, and its text */
	char sec_text[24];
};

void cg_sbuf_free(struct cg_sbuf *b);
/* cg_event_json_fields and cg_event_brief appended to b, byte for byte
 * the same; cg_event_brief_buf also leaves a NUL after the text (not
 * counted in len). */
void cg_event_json_buf(struct cg_sbuf *b, const struct cg_event *e,
		       const struct cg_namer *n, long long realtime_off_ns);
void cg_event_brief_buf(struct cg_sbuf *b, const struct cg_event *e,
			const struct cg_namer *n);
void cg_sbuf_puts(struct cg_sbuf *b, const char *s);

/* CLOCK_REALTIME - CLOCK_MONOTONIC, in ns. */
long long cg_realtime_offset(void);

#endif
