// SPDX-License-Identifier: GPL-2.0
/*
 * The lint of `cranegate check` (see lint.h). The flow checks read the
 * semantic model of diff.h: a flow "decides" a cell when it is the first
 * flow covering it and the zone rules leave the cell to flows; a flow that
 * decides no cell can be deleted without changing any verdict.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diff.h"
#include "lint.h"
#include "enip.h"
#include "modbus_rules.h"

/* "'a', 'b' and 'c'", or "'a', 'b', 'c', 'd' and others". */
static void takers_text(const struct cg_policy *p,
			const struct cg_flow_usage *u, char *buf, size_t len)
{
	size_t i, n = u->n_takers < CG_USAGE_TAKERS ? u->n_takers
						    : CG_USAGE_TAKERS;
	size_t off = 0;

	buf[0] = 0;
	for (i = 0; i < n && off < len; i++) {
		const char *sep = !i				     ? ""
				  : (i + 1 == n && u->n_takers <= n) ? " and "
								     : ", ";

		off += snprintf(buf + off, len - off, "%s'%s'", sep,
				p->flows[u->takers[i]].name);
	}
	if (u->n_takers > n && off < len)
		snprintf(buf + off, len - off, " and others");
}

static void lint_dead_flow(const struct cg_policy *p, const struct cg_space *s,
			   const struct cg_flow_usage *usage, size_t j,
			   struct cg_diags *d)
{
	const struct cg_flow *f = &p->flows[j];
	const struct cg_flow_usage *u = &usage[j];
	char takers[4 * (CG_NAME_MAX + 4) + 16];
	size_t i;

	/* One earlier flow that matches all of it: shadowed or duplicate. */
	for (i = 0; i < j; i++) {
		const struct cg_flow *e = &p->flows[i];

		if (e->valid.timed || !cg_space_flow_covers(s, i, j))
			continue;
		if (cg_space_flow_covers(s, j, i))
			cg_diag_add(d, CG_WARNING, f->pos,
				    "flow '%s' duplicates flow '%s' (line %d): "
				    "both match the same traffic and the first "
				    "match wins, so '%s' never decides a frame",
				    f->name, e->name, e->pos.line, f->name);
		else
			cg_diag_add(
				d, CG_WARNING, f->pos,
				"flow '%s' is shadowed by flow '%s' (line %d), "
				"which matches everything '%s' matches and "
				"comes first; '%s' never decides a frame",
				f->name, e->name, e->pos.line, f->name,
				f->name);
		return;
	}
	/*
	 * A time-boxed flow takes nothing for good: outside its window the
	 * next matching flow decides. The analysis judges with every window
	 * open, so it holds back where a time-boxed flow is the taker, or
	 * may be among takers it did not name. (An untimed flow that covers
	 * this one, above, shadows it whatever the time.)
	 */
	for (i = 0; i < u->n_takers && i < CG_USAGE_TAKERS; i++)
		if (p->flows[u->takers[i]].valid.timed)
			return;
	if (u->n_takers > CG_USAGE_TAKERS)
		for (i = 0; i < j; i++)
			if (p->flows[i].valid.timed)
				return;

	takers_text(p, u, takers, sizeof(takers));
	if (u->n_takers && !u->zone_rules)
		cg_diag_add(d, CG_WARNING, f->pos,
			    "flow '%s' matches nothing once earlier flows are "
			    "subtracted: every address, protocol and port it "
			    "matches is taken first by %s; it never decides a "
			    "frame",
			    f->name, takers);
	else if (!u->n_takers && u->zone_rules == CG_TAKEN_INTRA)
		cg_diag_add(d, CG_WARNING, f->pos,
			    "flow '%s' never decides a frame: its sources and "
			    "destinations lie in one zone, and traffic within "
			    "a zone passes as intra-zone without a flow",
			    f->name);
	else if (!u->n_takers && u->zone_rules == CG_TAKEN_SPOOF)
		cg_diag_add(d, CG_WARNING, f->pos,
			    "flow '%s' never decides a frame: its sources lie "
			    "in no zone, and such frames drop as "
			    "spoofed-source before any flow is looked at",
			    f->name);
	else
		cg_diag_add(d, CG_WARNING, f->pos,
			    "flow '%s' never decides a frame: what it matches "
			    "is taken first by %s%s%s%s",
			    f->name, u->n_takers ? takers : "",
			    u->n_takers ? ", and by " : "",
			    u->zone_rules & CG_TAKEN_INTRA
				    ? "traffic within one zone (intra-zone)"
				    : "",
			    u->zone_rules & CG_TAKEN_SPOOF
				    ? (u->zone_rules & CG_TAKEN_INTRA
					       ? " and sources in no zone "
						 "(spoofed-source)"
					       : "sources in no zone "
						 "(spoofed-source)")
				    : "");
}

static bool host_used(const struct cg_policy *p, size_t h)
{
	size_t i, j;

	for (i = 0; i < p->n_flows; i++) {
		const struct cg_flow *f = &p->flows[i];

		for (j = 0; j < f->n_from; j++)
			if (f->from[j].kind == CG_REF_HOST &&
			    f->from[j].index == h)
				return true;
		for (j = 0; j < f->n_to; j++)
			if (f->to[j].kind == CG_REF_HOST && f->to[j].index == h)
				return true;
	}
	return false;
}

/* Does a flow reference name zone z, or hold an address of it? */
static bool ref_reaches_zone(const struct cg_policy *p, const struct cg_ref *r,
			     size_t z)
{
	const struct cg_zone *zone = &p->zones[z];
	const struct cg_prefix *q;
	size_t i;

	switch (r->kind) {
	case CG_REF_ZONE:
		return r->index == z;
	case CG_REF_HOST:
		q = &p->hosts[r->index].addr;
		break;
	default:
		q = &r->cidr;
	}
	for (i = 0; i < zone->n_nets; i++)
		if (cg_prefix_overlaps(&zone->nets[i].prefix, q))
			return true;
	return false;
}

static bool zone_used(const struct cg_policy *p, size_t z)
{
	size_t i, j;

	for (i = 0; i < p->n_flows; i++) {
		const struct cg_flow *f = &p->flows[i];

		for (j = 0; j < f->n_from; j++)
			if (ref_reaches_zone(p, &f->from[j], z))
				return true;
		for (j = 0; j < f->n_to; j++)
			if (ref_reaches_zone(p, &f->to[j], z))
				return true;
	}
	return false;
}

static bool flow_from_self(const struct cg_flow *f)
{
	size_t j;

	for (j = 0; j < f->n_from; j++)
		if (f->from[j].kind == CG_REF_SELF)
			return true;
	return false;
}

int cg_lint(const struct cg_policy *p, struct cg_diags *d)
{
	const struct cg_policy *pols[1] = {p};
	struct cg_flow_usage *usage = NULL;
	struct cg_space *s = NULL;
	int64_t now;
	size_t i;
	int err;

	for (i = 0; i < p->n_zones; i++)
		if (!zone_used(p, i))
			cg_diag_add(
				d, CG_WARNING, p->zones[i].pos,
				"zone '%s' is not used by any flow: no flow "
				"names it or an address in it, so its hosts "
				"reach only their own zone",
				p->zones[i].name);
	/* A host with a mac binding is used by the binding. */
	for (i = 0; i < p->n_hosts; i++)
		if (!p->hosts[i].has_mac && !host_used(p, i))
			cg_diag_add(d, CG_WARNING, p->hosts[i].pos,
				    "host '%s' is not used by any flow",
				    p->hosts[i].name);

	/* A window that has ended: the flow will never allow again. */
	now = time(NULL);
	for (i = 0; i < p->n_flows; i++) {
		const struct cg_window *w = &p->flows[i].valid;
		char t[32];

		if (!w->timed || !w->has_until || w->until > now)
			continue;
		cg_time_format(w->until, t, sizeof(t));
		cg_diag_add(d, CG_WARNING, w->pos,
			    "the window of flow '%s' ended at %s; the flow "
			    "allows nothing any more (remove it, or move its "
			    "until)",
			    p->flows[i].name, t);
	}

	/* modbus: and enip: allow: rules that never decide a request. */
	cg_lint_modbus(p, d);
	cg_lint_enip(p, d);

	if ((err = cg_space_new(pols, 1, &s)))
		return err;
	usage = calloc(p->n_flows + 1, sizeof(*usage));
	if (!usage) {
		err = -ENOMEM;
		goto out;
	}
	if ((err = cg_space_flow_usage(s, usage)))
		goto out;
	/* The model cannot see the gateway's own connections (README, "The
	 * gateway itself"): a flow from self decides replies to them. */
	for (i = 0; i < p->n_flows; i++)
		if (!usage[i].decides && !flow_from_self(&p->flows[i]))
			lint_dead_flow(p, s, usage, i, d);
out:
	free(usage);
	cg_space_free(s);
	return err;
}

static int pos_cmp(struct cg_pos a, struct cg_pos b)
{
	if (a.line != b.line)
		return a.line < b.line ? -1 : 1;
	return a.col < b.col ? -1 : a.col > b.col;
}

/* Stable insertion sort by position, as the parser orders its own. */
static void sort_diags(struct cg_diags *d)
{
	size_t i, j;

	for (i = 1; i < d->n; i++) {
		struct cg_diag t = d->items[i];

		for (j = i; j > 0 && pos_cmp(d->items[j - 1].pos, t.pos) > 0;
		     j--)
			d->items[j] = d->items[j - 1];
		d->items[j] = t;
	}
}

int cg_lint_check(const struct cg_policy *p, struct cg_diags *d, bool strict)
{
	size_t i, n = 0;
	int err = cg_lint(p, d);

	sort_diags(d);

	if (err == -E2BIG)
		fprintf(stderr,
			"%s: note: the policy is too large for the analysis of "
			"shadowed flows; it was skipped\n",
			d->file ? d->file : "<policy>");
	else if (err)
		fprintf(stderr, "%s: note: the lint did not finish: %s\n",
			d->file ? d->file : "<policy>", strerror(-err));
	if (!strict)
		return 0;
	/* As a compiler's -Werror: the same message, as an error. */
	for (i = 0; i < d->n; i++) {
		struct cg_diag *g = &d->items[i];
		char *msg;

		if (g->severity != CG_WARNING)
			continue;
		if (asprintf(&msg, "%s [--strict]", g->msg) >= 0) {
			free(g->msg);
			g->msg = msg;
		}
		g->severity = CG_ERROR;
		n++;
	}
	/* Warnings past what the list keeps are counted only. */
	n += d->n_warnings > n ? d->n_warnings - n : 0;
	d->n_errors += n;
	d->n_warnings = 0;
	return n ? -EINVAL : 0;
}
