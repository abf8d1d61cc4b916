// SPDX-License-Identifier: GPL-2.0
/*
 * `cranegate status`: the snapshot of the gate (kernel/status.c) printed
 * as text or JSON, with the shadow's lines (shadow.c) and the active
 * revision and a pending confirmation (history) after it. Nothing here
 * reads a map the snapshot has read already.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hex.h"
#include "history.h"
#include "loader.h"
#include "output.h"
#include "rxvlan.h"
#include "shadow.h"
#include "status_print.h"

static const char *const state_names[CG_S_MAX] = {
	[CG_S_CONN_OPENED] = "connections_opened",
	[CG_S_CONN_FAILED] = "connections_failed",
	[CG_S_CONN_EXPIRED] = "connections_expired",
	[CG_S_MAC_LEARNED] = "macs_learned",
	[CG_S_FRAG_TRACKED] = "fragments_tracked",
};

static void utc(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* "\"TEXT\"", or null for "". */
static void json_opt_time(FILE *out, const char *t)
{
	fprintf(out, "%s%s%s", *t ? "\"" : "", *t ? t : "null", *t ? "\"" : "");
}

static void print_attached(const struct cg_env *env,
			   const struct cg_snapshot *s, bool json, FILE *out)
{
	size_t i;

	fprintf(out, json ? "{\"pin_root\": " : "gate at %s\n", env->pin_root);
	if (json) {
		cg_json_str(out, env->pin_root);
		fputs(", \"attached\": [", out);
	} else {
		fputs("attached:", out);
	}
	for (i = 0; s->have_policy && i < s->n_attached; i++) {
		const struct cg_snap_iface *a = &s->attached[i];
		bool by_gate = a->rx_vlan == CG_RXV_FRAME_BY_GATE;

		if (json)
			fprintf(out,
				"%s{\"iface\": \"%s\", \"ifindex\": %u, "
				"\"mode\": \"%s\", \"vlan_tags\": \"%s\", "
				"\"rx_vlan_offload_off_by_gate\": %s}",
				i ? ", " : "", a->name, a->ifindex, a->mode,
				by_gate ? "frame" : cg_rx_vlan_name(a->rx_vlan),
				by_gate ? "true" : "false");
		else
			fprintf(out, " %s (%s, VLAN tags: %s)", a->name,
				a->mode, cg_rx_vlan_name(a->rx_vlan));
	}
	fputs(json ? "]" : (s->n_attached && s->have_policy ? "\n" : " none\n"),
	      out);
}

static void print_policy(const struct cg_snapshot *s, bool json, FILE *out)
{
	char t[32], sha[65];

	if (!s->have_policy) {
		fputs(json ? ", \"policy\": null" : "policy:   none\n", out);
		return;
	}
	utc((time_t)s->applied_at, t, sizeof(t));
	cg_hex(s->sha256, 32, sha);
	if (json) {
		fputs(", \"policy\": {\"name\": ", out);
		cg_json_str(out, s->policy_name);
		fprintf(out,
			", \"sha256\": \"%s\", \"applied_at\": \"%s\", "
			"\"mode\": \"%s\", \"program_id\": %u}",
			sha, t, s->monitor ? "monitor" : "enforce", s->prog_id);
	} else {
		fprintf(out, "policy:   %s (%s), sha256 %s\n", s->policy_name,
			s->monitor ? "monitor" : "enforce", sha);
		fprintf(out, "          applied %s, program %u\n", t,
			s->prog_id);
	}
}

/* Per-reason counters (state: they survive reloads). */
static void print_reasons(const struct cg_snapshot *s, bool json, FILE *out)
{
	unsigned r;
	bool first = true;

	fputs(json ? ", \"reasons\": {" : "reasons:\n", out);
	for (r = 0; s->have_gate && r < CG_R_MAX; r++) {
		if (json)
			fprintf(out,
				"%s\"%s\": {\"packets\": %llu, \"bytes\": "
				"%llu}",
				first ? "" : ", ", cg_reason_name(r),
				s->reasons[r].packets, s->reasons[r].bytes);
		else if (s->reasons[r].packets)
			fprintf(out, "  %-15s %12llu packets %14llu bytes\n",
				cg_reason_name(r), s->reasons[r].packets,
				s->reasons[r].bytes);
		first = false;
	}
	fputs(json ? "}" : "", out);
}

/* Per-flow counters, last hits and windows (of the active policy). */
static void print_flows(const struct cg_snapshot *s, bool json, FILE *out)
{
	char hit_at[32];
	bool first = true;
	size_t f;

	fputs(json ? ", \"flows\": [" : "flows:\n", out);
	for (f = 0; f < s->n_flows; f++) {
		const struct cg_snap_flow *sf = &s->flows[f];
		const char *st = sf->window_state;

		if (!sf->counted)
			continue;
		hit_at[0] = 0;
		if (sf->last_hit)
			utc(sf->last_hit, hit_at, sizeof(hit_at));
		if (json) {
			fputs(first ? "{\"name\": " : ", {\"name\": ", out);
			cg_json_str(out, sf->name);
			fprintf(out, ", \"packets\": %llu, \"bytes\": %llu",
				sf->c.packets, sf->c.bytes);
			fputs(", \"last_hit\": ", out);
			json_opt_time(out, hit_at);
			if (sf->timed) {
				fprintf(out, ", \"window\": {\"state\": \"%s\"",
					st);
				fputs(", \"from\": ", out);
				json_opt_time(out, sf->window_from);
				fputs(", \"until\": ", out);
				json_opt_time(out, sf->window_until);
				fputs("}", out);
			}
			fputs("}", out);
		} else {
			fprintf(out, "  %-24s %12llu packets %14llu bytes",
				sf->name, sf->c.packets, sf->c.bytes);
			if (sf->last_hit)
				fprintf(out, "  last hit %s", hit_at);
			if (sf->timed && !strcmp(st, "not-yet"))
				fprintf(out, "  window not yet open (from %s)",
					sf->window_from);
			else if (sf->timed && !strcmp(st, "ended"))
				fprintf(out, "  window ended %s",
					sf->window_until);
			else if (sf->timed && *sf->window_until)
				fprintf(out, "  window open, until %s",
					sf->window_until);
			else if (sf->timed)
				fprintf(out, "  window open (since %s)",
					sf->window_from);
			fputs("\n", out);
		}
		first = false;
	}
	fputs(json ? "]" : "", out);
}

/* Per interface and reason (state: they survive reloads). */
static void print_interfaces(const struct cg_snapshot *s, bool json, FILE *out)
{
	size_t i;
	unsigned r;

	fputs(json ? ", \"interfaces\": [" : "interfaces:\n", out);
	for (i = 0; i < s->n_ifstats; i++) {
		const struct cg_snap_ifstat *is = &s->ifstats[i];
		unsigned long long tp = 0, tb = 0;
		bool first = true;

		for (r = 0; r < CG_R_MAX; r++) {
			tp += is->reasons[r].packets;
			tb += is->reasons[r].bytes;
		}
		if (json) {
			fputs(i ? ", {\"iface\": " : "{\"iface\": ", out);
			cg_json_str(out, is->name);
			fprintf(out,
				", \"ifindex\": %u, \"attached\": %s, "
				"\"packets\": %llu, \"bytes\": %llu, "
				"\"reasons\": {",
				is->ifindex, is->attached ? "true" : "false",
				tp, tb);
			for (r = 0; r < CG_R_MAX; r++) {
				if (!is->reasons[r].packets)
					continue;
				fprintf(out,
					"%s\"%s\": {\"packets\": %llu, "
					"\"bytes\": %llu}",
					first ? "" : ", ", cg_reason_name(r),
					is->reasons[r].packets,
					is->reasons[r].bytes);
				first = false;
			}
			fputs("}}", out);
			continue;
		}
		fprintf(out, "  %-15s %12llu packets %14llu bytes%s\n",
			is->name, tp, tb,
			is->attached ? "" : "  (not attached)");
		for (r = 0; r < CG_R_MAX; r++)
			if (is->reasons[r].packets)
				fprintf(out,
					"    %-13s %12llu packets %14llu "
					"bytes\n",
					cg_reason_name(r),
					is->reasons[r].packets,
					is->reasons[r].bytes);
	}
	fputs(json ? "]" : "", out);
}

/* The state tables: sizes, use and what happened in them. */
static void print_state(const struct cg_snapshot *s, bool json, FILE *out)
{
	bool first = true;
	size_t i;
	unsigned r;

	fputs(json ? ", \"state\": {" : "state:\n", out);
	for (i = 0; i < s->n_tables; i++) {
		const struct cg_snap_table *t = &s->tables[i];

		if (json)
			fprintf(out, "%s\"%s\": {\"entries\": %u, \"max\": %u}",
				first ? "" : ", ", t->name, t->entries, t->max);
		else
			fprintf(out, "  %-8s %8u of %u entries\n", t->name,
				t->entries, t->max);
		first = false;
	}
	for (r = 0; s->have_state_stats && r < CG_S_MAX; r++) {
		if (json)
			fprintf(out, "%s\"%s\": %llu", first ? "" : ", ",
				state_names[r], s->state[r]);
		else
			fprintf(out, "  %-20s %llu\n", state_names[r],
				s->state[r]);
		first = false;
	}
	fputs(json ? "}" : "", out);
}

/* Inspected ICS requests, per flow, protocol, function and verdict. */
static void print_ics(const struct cg_snapshot *s, bool json, FILE *out)
{
	size_t i;

	fputs(json ? ", \"ics\": [" : "", out);
	for (i = 0; i < s->n_ics; i++) {
		const struct cg_snap_ics *c = &s->ics[i];

		if (json) {
			fputs(i ? ", {\"flow\": " : "{\"flow\": ", out);
			cg_json_str(out, c->flow);
			fprintf(out,
				", \"protocol\": \"%s\", \"function\": %u, "
				"\"verdict\": \"%s\", \"packets\": %llu, "
				"\"bytes\": %llu}",
				c->protocol, c->function, c->verdict,
				c->c.packets, c->c.bytes);
		} else {
			if (!i)
				fputs("ics requests:\n", out);
			fprintf(out,
				"  %-24s %-7s function %-5u %-4s %12llu "
				"packets\n",
				c->flow, c->protocol, c->function, c->verdict,
				c->c.packets);
		}
	}
	fputs(json ? "]" : "", out);
}

/* What happened to events: in all, and per reason where anything did. */
static void print_events(const struct cg_snapshot *s, bool json, FILE *out)
{
	struct cg_snap_events t = {};
	bool first = true;
	unsigned r;

	if (!s->have_events)
		return;
	for (r = 0; r < CG_R_MAX; r++) {
		t.emitted += s->events[r].emitted;
		t.lost += s->events[r].lost;
		t.suppressed += s->events[r].suppressed;
		t.suppressed_source += s->events[r].suppressed_source;
	}
	if (json)
		fprintf(out,
			", \"events\": {\"emitted\": %llu, \"lost\": %llu, "
			"\"suppressed\": %llu, \"suppressed_by_source\": %llu, "
			"\"by_reason\": {",
			t.emitted, t.lost, t.suppressed, t.suppressed_source);
	else
		fprintf(out,
			"events:   %llu emitted, %llu lost (ring buffer full), "
			"%llu suppressed (rate limits; %llu of them by the "
			"per-source limit)\n",
			t.emitted, t.lost, t.suppressed, t.suppressed_source);
	/* The reason a frame had, or would have had in monitor mode. */
	for (r = 0; r < CG_R_MAX; r++) {
		const struct cg_snap_events *e = &s->events[r];

		if (!e->emitted && !e->lost && !e->suppressed)
			continue;
		if (json)
			fprintf(out,
				"%s\"%s\": {\"emitted\": %llu, \"lost\": %llu, "
				"\"suppressed\": %llu, "
				"\"suppressed_by_source\": %llu}",
				first ? "" : ", ", cg_reason_name(r),
				e->emitted, e->lost, e->suppressed,
				e->suppressed_source);
		else
			fprintf(out,
				"  %-15s %12llu emitted %8llu lost %8llu "
				"suppressed (%llu by source)\n",
				cg_reason_name(r), e->emitted, e->lost,
				e->suppressed, e->suppressed_source);
		first = false;
	}
	fputs(json ? "}}" : "", out);
}

int cg_status(const struct cg_env *env, FILE *out)
{
	struct cg_snapshot s;
	struct cg_active *live = NULL;
	bool json = env->json;
	int err;

	err = cg_snapshot_read(env, &s);
	if (err)
		return err;
	cg_snapshot_tables(env, &s);
	print_attached(env, &s, json, out);
	print_policy(&s, json, out);
	/* The shadow names the live policy's flows beside its own. */
	cg_active_open(env, &live);
	cg_shadow_status(env, out, json, live);
	cg_active_close(live);
	print_reasons(&s, json, out);
	print_flows(&s, json, out);
	print_interfaces(&s, json, out);
	print_state(&s, json, out);
	print_ics(&s, json, out);
	print_events(&s, json, out);
	cg_history_status(env, out, json);
	fputs(json ? "}\n" : "", out);
	cg_snapshot_free(&s);
	return 0;
}
