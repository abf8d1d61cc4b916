// SPDX-License-Identifier: GPL-2.0
/*
 * `run`'s periodic summary (--summary SECONDS): what the gate counted
 * since the previous one, per reason, per interface and for events, as a
 * "summary" record in the log and one line in syslog.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "daemon_int.h"
#include "loader.h"
#include "output.h"

static unsigned long long delta(unsigned long long now,
				unsigned long long before)
{
	/* The state maps were recreated (detach, then apply): start over. */
	return now >= before ? now - before : now;
}

/*
 * Per interface with activity since the previous summary: frames, and
 * drops by reason, in the JSON record (`interfaces`) and, for drops, in
 * the syslog line.
 */
static void summary_ifaces(struct run *r, const struct cg_snapshot *now,
			   FILE *m)
{
	bool first = true, said = false;
	size_t i, j;
	unsigned k;

	for (i = 0; i < now->n_ifstats; i++) {
		const struct cg_snap_ifstat *is = &now->ifstats[i], *ps = NULL;
		unsigned long long p = 0, b = 0, d[CG_R_MAX] = {};
		bool first_r = true;

		for (j = 0; j < r->base.n_ifstats; j++)
			if (r->base.ifstats[j].ifindex == is->ifindex)
				ps = &r->base.ifstats[j];
		for (k = 0; k < CG_R_MAX; k++) {
			unsigned long long before =
				ps ? ps->reasons[k].packets : 0;

			d[k] = delta(is->reasons[k].packets, before);
			p += d[k];
			b += delta(is->reasons[k].bytes,
				   ps ? ps->reasons[k].bytes : 0);
		}
		if (!p)
			continue;
		fprintf(r->log, "%s", first ? "" : ", ");
		cg_json_str(r->log, is->name);
		fprintf(r->log,
			": {\"packets\": %llu, \"bytes\": %llu, \"drops\": {",
			p, b);
		for (k = CG_R_FIRST_DROP; k < CG_R_MAX; k++) {
			if (!d[k])
				continue;
			fprintf(r->log, "%s\"%s\": %llu", first_r ? "" : ", ",
				cg_reason_name(k), d[k]);
			fprintf(m, "%s %s %s %llu",
				said ? "," : "; drops by interface:", is->name,
				cg_reason_name(k), d[k]);
			first_r = false;
			said = true;
		}
		fputs("}}", r->log);
		first = false;
	}
}

/*
 * What happened since the previous summary: frames per reason, and
 * events per (would-be) reason with what became of them.
 */
void run_summary(struct run *r)
{
	struct cg_snapshot now;
	struct cg_snap_events tot = {};
	struct timespec at;
	char *line = NULL;
	size_t len = 0;
	bool first = true;
	double secs;
	unsigned i;
	FILE *m;

	if (cg_snapshot_read(r->env, &now))
		return;
	clock_gettime(CLOCK_MONOTONIC, &at);
	secs = (at.tv_sec - r->base_at.tv_sec) +
	       (at.tv_nsec - r->base_at.tv_nsec) / 1e9;
	m = open_memstream(&line, &len);
	if (!m) {
		cg_snapshot_free(&now);
		return;
	}
	fprintf(m, "summary of the last %.0f s: packets", secs);

	rec_begin(r, "summary");
	fprintf(r->log, ", \"interval_s\": %.3f, \"reasons\": {", secs);
	for (i = 0; i < CG_R_MAX; i++) {
		unsigned long long p = delta(now.reasons[i].packets,
					     r->base.reasons[i].packets);
		unsigned long long b =
			delta(now.reasons[i].bytes, r->base.reasons[i].bytes);
		struct cg_snap_events ev = {
			delta(now.events[i].emitted, r->base.events[i].emitted),
			delta(now.events[i].lost, r->base.events[i].lost),
			delta(now.events[i].suppressed,
			      r->base.events[i].suppressed),
			delta(now.events[i].suppressed_source,
			      r->base.events[i].suppressed_source),
		};

		tot.emitted += ev.emitted;
		tot.lost += ev.lost;
		tot.suppressed += ev.suppressed;
		tot.suppressed_source += ev.suppressed_source;
		if (!p && !ev.emitted && !ev.lost && !ev.suppressed)
			continue;
		fprintf(r->log,
			"%s\"%s\": {\"packets\": %llu, \"bytes\": %llu, "
			"\"events\": %llu, \"lost\": %llu, \"suppressed\": "
			"%llu, \"suppressed_by_source\": %llu}",
			first ? "" : ", ", cg_reason_name(i), p, b, ev.emitted,
			ev.lost, ev.suppressed, ev.suppressed_source);
		if (p)
			fprintf(m, " %s %llu", cg_reason_name(i), p);
		if (ev.lost || ev.suppressed)
			fprintf(m,
				" (%s events: %llu lost, %llu suppressed, %llu "
				"of them by source)",
				cg_reason_name(i), ev.lost, ev.suppressed,
				ev.suppressed_source);
		first = false;
	}
	if (first)
		fputs(" none", m);
	fputs("}, \"interfaces\": {", r->log);
	summary_ifaces(r, &now, m);
	fprintf(r->log,
		"}, \"events\": {\"emitted\": %llu, \"lost\": %llu, "
		"\"suppressed\": %llu, \"suppressed_by_source\": %llu}, "
		"\"events_written\": %llu",
		tot.emitted, tot.lost, tot.suppressed, tot.suppressed_source,
		r->n_events);
	rec_end(r);
	fprintf(m,
		"; events %llu emitted, %llu lost, %llu suppressed (%llu by "
		"source)",
		tot.emitted, tot.lost, tot.suppressed, tot.suppressed_source);
	fclose(m);
	syslog(tot.lost ? LOG_WARNING : LOG_INFO, "%s", line);
	free(line);

	cg_snapshot_free(&r->base);
	r->base = now;
	r->base_at = at;
}
