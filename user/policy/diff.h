/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The semantic model of one or two policies, and what it is used for:
 * `cranegate diff` (what a change newly allows and newly denies), the
 * shadowed-flow lint of `check` (lint.c), and the audit log's summary of
 * every change (history.c).
 *
 * The model is the compiler's, taken over both policies at once: every
 * prefix either policy mentions is an address *class*; the *region* of a
 * class is its prefix minus the more specific classes inside it, so that
 * every address lies in exactly one region and every address of a region
 * is judged alike by both policies. The boundaries of every port range of
 * both policies cut 0-65535 into port classes. A *cell* is (source region,
 * destination region, protocol bucket, port class); each policy gives
 * each cell one decision, computed in the order of README's "How a frame
 * is judged", for the first frame of a connection that arrives on the
 * interface of the zone holding its source:
 *
 *   source region in no zone          drop  spoofed-source
 *   destination in the source's zone  pass  intra-zone
 *   the first flow covering the cell  pass  allowed (by that flow)
 *   otherwise                         drop  no-rule
 *
 * Monitor mode is ignored here (it is reported as a change of mode), and
 * so are replies, which follow from the decisions of their connections.
 * Windows (`valid:`) are judged all open: the model is the policy at a
 * time when every time-boxed flow allows, and a window itself changing is
 * a flow change (its text names the window of a time-boxed flow).
 */
#ifndef CRANEGATE_DIFF_H
#define CRANEGATE_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "policy.h"

/* Protocol buckets of a cell: the protocols a flow can name, and the rest. */
enum cg_bucket {
	CG_B_TCP = 0,
	CG_B_UDP,
	CG_B_ICMP,   /* protocol 1, in either family */
	CG_B_ICMPV6, /* protocol 58, in either family */
	CG_B_OTHER,  /* every other IP protocol: only `proto: any` matches */
	CG_B_N,
};

/* The decision of one policy for one cell. */
struct cg_decision {
	uint8_t verdict; /* enum cg_verdict, as if enforced */
	uint8_t reason;	 /* allowed, intra-zone, no-rule, spoofed-source */
	uint32_t flow;	 /* allowed: index into the policy's flows */
};

struct cg_space;

/*
 * Build the model of `n` (1 or 2) validated policies, which must outlive
 * it. Returns 0, -E2BIG when the policies have too many regions for the
 * analysis to finish in reasonable time, or -ENOMEM.
 */
int cg_space_new(const struct cg_policy *const *pols, size_t n,
		 struct cg_space **out);
void cg_space_free(struct cg_space *s); /* safe on NULL */

/*
 * The decision of policy `k` for the first frame of a connection:
 * family 4 or 6, addresses in network byte order, IP protocol, and the
 * destination port (ignored for protocols other than TCP and UDP).
 */
void cg_space_decide(const struct cg_space *s, size_t k, int family,
		     const uint8_t *src, const uint8_t *dst, uint8_t proto,
		     uint16_t port, struct cg_decision *out);

/* The region holding an address (for tests): an index, or UINT32_MAX. */
uint32_t cg_space_region(const struct cg_space *s, int family,
			 const uint8_t *addr);

/*
 * Which flows of policy 0 ever decide a cell, for the lint. For a flow
 * that decides none, `takers` holds (up to CG_USAGE_TAKERS of) the earlier
 * flows that decide its cells instead, `n_takers` how many distinct ones
 * there were (it may exceed the array), and `zone_rules` which zone rules
 * took cells of it (CG_TAKEN_*).
 */
#define CG_USAGE_TAKERS 4
#define CG_TAKEN_INTRA (1u << 0) /* source and destination in one zone */
#define CG_TAKEN_SPOOF (1u << 1) /* source in no zone */

struct cg_flow_usage {
	bool decides; /* some cell's first flow */
	uint32_t takers[CG_USAGE_TAKERS];
	size_t n_takers;
	unsigned zone_rules;
};

/* usage: one entry per flow of policy 0. 0, -E2BIG or -ENOMEM. */
int cg_space_flow_usage(const struct cg_space *s, struct cg_flow_usage *usage);

/*
 * Does flow `j` of policy 0 match only traffic that flow `i` matches too
 * (from, to, protocols and ports, over the addresses that exist)?
 */
bool cg_space_flow_covers(const struct cg_space *s, size_t i, size_t j);

/* ------------------------------------------------------------------ */
/* The semantic diff                                                   */

enum cg_diff_kind {
	CG_DIFF_ALLOWED = 0, /* dropped by OLD, passed by NEW */
	CG_DIFF_DENIED,	     /* passed by OLD, dropped by NEW */
	CG_DIFF_MOVED,	     /* passed by both, by another flow or rule */
	CG_DIFF_N_KINDS,
};

struct cg_port_span {
	uint16_t lo, hi;
};

/*
 * One line of the traffic part of a diff: every source in `from` to every
 * destination in `to` (same family), on these protocols and ports, is
 * decided `old` by OLD and `new_` by NEW.
 */
struct cg_diff_line {
	enum cg_diff_kind kind;
	struct cg_decision old, new_;
	char *from, *to;	       /* "zone, host, CIDR (rest)" lists */
	char **from_names, **to_names; /* the same, one name each */
	size_t n_from_names, n_to_names;
	char proto[24];		    /* "tcp", "tcp+udp", "any", "other", ... */
	char *ports;		    /* "22,8000-8010", or "" for all */
	unsigned buckets;	    /* 1 << enum cg_bucket */
	struct cg_port_span *spans; /* TCP/UDP ports; none: all ports */
	size_t n_spans;
	uint32_t *src_regions, *dst_regions; /* for tests */
	size_t n_src, n_dst;
};

/* A change of the policy, a zone, a host or a flow that is not traffic. */
struct cg_diff_item {
	const char *kind; /* "policy", "zone", "host", "flow" */
	char *subject;	  /* its name ("" for the policy) */
	const char *what; /* "mode", "added", "removed", "interfaces", ... */
	char *old, *new_; /* as text; NULL where there is none */
	bool counts;	  /* a change of behaviour (not only a name) */
};

struct cg_diff {
	const struct cg_policy *old, *new_;
	struct cg_space *space;
	struct cg_diff_line *lines; /* sorted: kind, from, to, proto */
	size_t n_lines;
	size_t n_kind[CG_DIFF_N_KINDS];
	struct cg_diff_item *items;
	size_t n_items;
	size_t n_counted_items;
};

/*
 * The semantic diff of two validated policies (borrowed; they must
 * outlive the result). Returns 0, -E2BIG (too large to analyse) or
 * -ENOMEM.
 */
int cg_diff_policies(const struct cg_policy *old, const struct cg_policy *new_,
		     struct cg_diff **out);
void cg_diff_free(struct cg_diff *d); /* safe on NULL */

/* Anything that changes behaviour: traffic, zones, mode, flows. */
bool cg_diff_differs(const struct cg_diff *d);

void cg_diff_print_text(const struct cg_diff *d, FILE *out);
void cg_diff_print_json(const struct cg_diff *d, FILE *out);
/* {"file": ..., "name": ..., "sha256": ...} of one side. */
void cg_policy_json(FILE *out, const struct cg_policy *p);
/* "2 newly allowed, 1 newly denied, ..." */
void cg_diff_summary(const struct cg_diff *d, char *buf, size_t len);
/* The summary as the members of a JSON object, for the audit log. */
void cg_diff_summary_json(const struct cg_diff *d, FILE *out);

/* A flow's window: "always", or "FROM..UNTIL" in UTC with "-" for an
 * open end. buf of at least 48 bytes. */
void cg_window_text(const struct cg_window *w, char *buf, size_t len);

/* Text of a decision: "no-rule", "intra-zone", "flow NAME", "flow NAME,
 * valid FROM..UNTIL" for a time-boxed flow, ... */
const char *cg_decision_text(const struct cg_decision *dec,
			     const struct cg_policy *p, char *buf, size_t len);

/* ------------------------------------------------------------------ */
/* The commands                                                        */

struct cg_diff_opts {
	/* Files (the caller resolves @active / @REV to the kept copy). */
	const char *old_path, *new_path;
	const char *capture; /* --pcap: impact on recorded traffic */
	const char *iface;   /* with capture: --iface, or NULL */
	bool by_source;	     /* with capture: --by-source */
	bool json;
	bool verbose;
};

/*
 * `cranegate diff` (diff_run.c). Returns 0 when the policies behave the same
 * (on the capture, with --pcap), 1 when they differ, or a negative errno when
 * it could not tell (diff(1)'s "trouble").
 */
int cg_diff_run(const struct cg_diff_opts *o);

#endif /* CRANEGATE_DIFF_H */
