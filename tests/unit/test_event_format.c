// SPDX-License-Identifier: GPL-2.0
/*
 * The event formatters without stdio (user/policy/output.c: cg_event_json_buf,
 * cg_event_brief_buf, which run's log and syslog lines use) against the
 * fprintf implementations they replaced, kept here as the reference: on
 * random events (names that need escaping, missing names, every flag,
 * family and reason, times across second boundaries), one buffer reused
 * across a run of events the way run reuses it, the bytes must be the same.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "output.h"

CG_TEST_GLOBALS;

/* ---- the reference: output.c's fprintf formatters before the change */

static void ref_json_str(FILE *out, const char *s)
{
	if (!s) {
		fputs("null", out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void ref_time(long long ns, char *buf, size_t len)
{
	time_t s = ns / 1000000000ll;
	struct tm tm;

	gmtime_r(&s, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (ns % 1000000000ll) / 1000);
}

static const char *name_of(const char *(*fn)(void *, unsigned), void *ctx,
			   unsigned id)
{
	return fn ? fn(ctx, id) : NULL;
}

static const char *zone_of(const struct cg_namer *n, unsigned id)
{
	if (id == CG_ZONE_NONE)
		return NULL;
	if (id == CG_ZONE_SELF)
		return "self";
	return name_of(n->zone, n->ctx, id);
}

static void shadow_text(FILE *out, const struct cg_event *e,
			const struct cg_namer *n)
{
	const char *flow =
		e->shadow_flow == CG_FLOW_NONE
			? NULL
			: name_of(n->shadow_flow, n->ctx, e->shadow_flow);

	if (!(e->flags & CG_EV_SHADOW))
		return;
	fprintf(out, " SHADOW: %s %s", cg_verdict_name(e->shadow_verdict),
		cg_reason_name(e->shadow_reason));
	if (flow)
		fprintf(out, " flow %s", flow);
}

static void ref_json(FILE *out, const struct cg_event *e,
			  const struct cg_namer *n, long long realtime_off_ns)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], t[64], mac[18];
	const char *iface = name_of(n->iface, n->ctx, e->ifindex);
	bool ip = e->family == 4 || e->family == 6;
	bool ports = ip && (e->flags & CG_EV_PORTS);

	cg_addr_format(e->family, e->src, src, sizeof(src));
	cg_addr_format(e->family, e->dst, dst, sizeof(dst));
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x",
		 e->src_mac[0], e->src_mac[1], e->src_mac[2], e->src_mac[3],
		 e->src_mac[4], e->src_mac[5]);
	if (realtime_off_ns) {
		ref_time((long long)e->ts_ns + realtime_off_ns, t,
			    sizeof(t));
		fprintf(out, "\"time\": \"%s\", ", t);
	}
	fputs("\"iface\": ", out);
	if (iface)
		ref_json_str(out, iface);
	else
		fprintf(out, "\"if%u\"", e->ifindex);
	fprintf(out, ", \"verdict\": \"%s\", \"reason\": \"%s\"",
		cg_verdict_name(e->verdict), cg_reason_name(e->reason));
	if (e->reason == CG_R_MONITOR)
		fprintf(out, ", \"would\": \"%s\"", cg_reason_name(e->would));
	/* deny: reset: the refused request was answered with a TCP RST. */
	if (e->flags & CG_EV_RESET)
		fputs(", \"reset\": true", out);
	fputs(", \"rule\": ", out);
	ref_json_str(out, e->flow == CG_FLOW_NONE
				 ? NULL
				 : name_of(n->flow, n->ctx, e->flow));
	fputs(", \"src\": ", out);
	ref_json_str(out, ip ? src : NULL);
	fputs(", \"dst\": ", out);
	ref_json_str(out, ip ? dst : NULL);
	fputs(", \"proto\": ", out);
	ref_json_str(out, ip ? cg_l4_name(e->proto) : NULL);
	if (ports)
		fprintf(out, ", \"sport\": %u, \"dport\": %u", e->sport,
			e->dport);
	else
		fputs(", \"sport\": null, \"dport\": null", out);
	fprintf(out, ", \"vlan\": %u, \"src_mac\": \"%s\"", e->vlan, mac);
	fputs(", \"zone_from\": ", out);
	ref_json_str(out, zone_of(n, e->zone_from));
	fputs(", \"zone_to\": ", out);
	ref_json_str(out, zone_of(n, e->zone_to));
	if (e->function == CG_FUNC_NONE)
		fputs(", \"function\": null", out);
	else
		fprintf(out, ", \"function\": %u, \"ics\": \"%s\"", e->function,
			cg_ics_proto_name(e->ics_proto));
	fprintf(out, ", \"len\": %u", e->pkt_len);
	if (n->revision) {
		unsigned rev = n->revision(n->ctx, e->policy_id);

		fprintf(out, ", \"policy_sha256\": \"%016llx\", \"revision\": ",
			(unsigned long long)e->policy_id);
		if (rev)
			fprintf(out, "%u", rev);
		else
			fputs("null", out);
	}
	if (e->flags & CG_EV_SHADOW) {
		fprintf(out,
			", \"shadow\": {\"verdict\": \"%s\", \"reason\": "
			"\"%s\"",
			cg_verdict_name(e->shadow_verdict),
			cg_reason_name(e->shadow_reason));
		if (e->shadow_reason == CG_R_MONITOR)
			fprintf(out, ", \"would\": \"%s\"",
				cg_reason_name(e->shadow_would));
		fputs(", \"rule\": ", out);
		ref_json_str(out, e->shadow_flow == CG_FLOW_NONE
					 ? NULL
					 : name_of(n->shadow_flow, n->ctx,
						   e->shadow_flow));
		fprintf(out, ", \"policy_sha256\": \"%016llx\"}",
			(unsigned long long)e->shadow_policy_id);
	}
}


static void ref_brief(FILE *out, const struct cg_event *e,
		    const struct cg_namer *n)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	const char *iface = name_of(n->iface, n->ctx, e->ifindex);
	const char *flow = e->flow == CG_FLOW_NONE
				   ? NULL
				   : name_of(n->flow, n->ctx, e->flow);
	const char *zf = zone_of(n, e->zone_from);
	const char *zt = zone_of(n, e->zone_to);
	bool ip = e->family == 4 || e->family == 6;

	cg_addr_format(e->family, e->src, src, sizeof(src));
	cg_addr_format(e->family, e->dst, dst, sizeof(dst));
	fprintf(out, "%s %s", cg_verdict_name(e->verdict),
		cg_reason_name(e->reason));
	if (e->reason == CG_R_MONITOR)
		fprintf(out, " (would: %s)", cg_reason_name(e->would));
	if (iface)
		fprintf(out, " on %s", iface);
	else
		fprintf(out, " on if%u", e->ifindex);
	if (e->vlan)
		fprintf(out, " vlan %u", e->vlan);
	if (ip && (e->flags & CG_EV_PORTS))
		fprintf(out, ": %s %s:%u -> %s:%u", cg_l4_name(e->proto), src,
			e->sport, dst, e->dport);
	else if (ip)
		fprintf(out, ": %s %s -> %s", cg_l4_name(e->proto), src, dst);
	else
		fprintf(out, ": src mac %02x:%02x:%02x:%02x:%02x:%02x",
			e->src_mac[0], e->src_mac[1], e->src_mac[2],
			e->src_mac[3], e->src_mac[4], e->src_mac[5]);
	if (zf || zt)
		fprintf(out, " (%s -> %s)", zf ? zf : "?", zt ? zt : "?");
	if (flow)
		fprintf(out, " flow %s", flow);
	if (e->function != CG_FUNC_NONE)
		fprintf(out, " %s function %u", cg_ics_proto_name(e->ics_proto),
			e->function);
	if (e->flags & CG_EV_RESET)
		fputs(" (answered with a TCP reset)", out);
	shadow_text(out, e, n);
}

/* ---- random events and names */

static unsigned long long rnd_state = 0x9e3779b97f4a7c15ull;

static unsigned long long rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static const char *names[] = {
	"crane0", "business", "a\"quoted\"name", "back\\slash", "tab\there",
	"nl\nx", "\x01\x1f", "", "ünïcode", "modbus-read",
};
#define N_NAMES (sizeof(names) / sizeof(names[0]))

/* NULL for ids that are multiples of 5, so both paths are taken. */
static const char *some_name(void *ctx, unsigned id)
{
	(void)ctx;
	return id % 5 == 0 ? NULL : names[id % N_NAMES];
}

static unsigned some_rev(void *ctx, unsigned long long id)
{
	(void)ctx;
	return id % 3 ? (unsigned)(id % 100000) : 0;
}

static void rnd_event(struct cg_event *e)
{
	unsigned i;

	memset(e, 0, sizeof(*e));
	e->ts_ns = rnd() % 4000000000000000ull;
	e->policy_id = rnd() >> (rnd() % 64);
	e->ifindex = rnd() % 12;
	e->flow = rnd() % 4 ? rnd() % 40 : CG_FLOW_NONE;
	e->pkt_len = rnd() % 70000;
	e->vlan = rnd() % 3 ? 0 : rnd() % 4096;
	e->zone_from = rnd() % 4 ? rnd() % 12 : (rnd() % 2 ? CG_ZONE_NONE : CG_ZONE_SELF);
	e->zone_to = rnd() % 4 ? rnd() % 12 : (rnd() % 2 ? CG_ZONE_NONE : CG_ZONE_SELF);
	e->sport = rnd();
	e->dport = rnd();
	e->function = rnd() % 2 ? CG_FUNC_NONE : rnd() % 256;
	e->ics_proto = rnd() % 4;
	e->verdict = rnd() % 3;
	e->reason = rnd() % (CG_R_MAX + 2);
	if (rnd() % 4 == 0)
		e->reason = CG_R_MONITOR;
	e->would = rnd() % (CG_R_MAX + 1);
	e->family = (unsigned[]){0, 4, 6, 4, 6, 5}[rnd() % 6];
	e->proto = (unsigned[]){6, 17, 1, 58, 0, 132, 255}[rnd() % 7];
	for (i = 0; i < 6; i++)
		e->src_mac[i] = rnd();
	e->flags = rnd() & 0xff;
	for (i = 0; i < 16; i++) {
		e->src[i] = rnd() % 3 ? 0 : rnd();
		e->dst[i] = rnd() % 3 ? 0 : rnd();
	}
	e->shadow_policy_id = rnd() >> (rnd() % 64);
	e->shadow_flow = rnd() % 3 ? rnd() % 40 : CG_FLOW_NONE;
	e->shadow_verdict = rnd() % 3;
	e->shadow_reason = rnd() % (CG_R_MAX + 1);
	if (rnd() % 3 == 0)
		e->shadow_reason = CG_R_MONITOR;
	e->shadow_would = rnd() % (CG_R_MAX + 1);
}

#define N_EVENTS 20000

int main(void)
{
	struct cg_namer full = {some_name, some_name, some_name, NULL,
				some_name, some_rev};
	struct cg_namer bare = {};
	const struct cg_namer *namers[] = {&full, &bare};
	struct cg_sbuf json = {}, brief = {};
	char *ref = NULL, *refb = NULL;
	size_t ref_len = 0, refb_len = 0;
	int k, i, bad_json = 0, bad_brief = 0;

	for (k = 0; k < 2; k++) {
		const struct cg_namer *n = namers[k];
		/* Some runs with a fixed wall-clock offset (times a few µs
		 * apart, crossing seconds as run's do), some with none. */
		long long off = k ? 0 : 1700000000000000000ll;
		unsigned long long ts = 5000000000ull;
		FILE *f = open_memstream(&ref, &ref_len);

		json.len = 0;
		for (i = 0; i < N_EVENTS; i++) {
			struct cg_event e;

			rnd_event(&e);
			if (i % 2) { /* a flood: close together in time */
				ts += rnd() % 300000;
				e.ts_ns = ts;
			}
			fputs("{\"type\": \"event\", ", f);
			ref_json(f, &e, n, i % 7 ? off : 0);
			fputs("}\n", f);
			cg_sbuf_puts(&json, "{\"type\": \"event\", ");
			cg_event_json_buf(&json, &e, n, i % 7 ? off : 0);
			cg_sbuf_puts(&json, "}\n");

			FILE *g = open_memstream(&refb, &refb_len);
			ref_brief(g, &e, n);
			fclose(g);
			brief.len = 0;
			cg_event_brief_buf(&brief, &e, n);
			if (brief.len != refb_len ||
			    memcmp(brief.p, refb, refb_len) ||
			    brief.p[brief.len]) {
				if (!bad_brief++)
					fprintf(stderr, "brief:\n  want %s\n  got  %.*s\n",
						refb, (int)brief.len, brief.p);
			}
			free(refb);
			refb = NULL;
		}
		fclose(f);
		if (json.len != ref_len || memcmp(json.p, ref, ref_len)) {
			size_t at = 0;

			while (at < json.len && at < ref_len &&
			       json.p[at] == ref[at])
				at++;
			fprintf(stderr, "json differs at byte %zu:\n  want %.120s\n  got  %.120s\n",
				at, ref + (at > 40 ? at - 40 : 0),
				json.p + (at > 40 ? at - 40 : 0));
			bad_json++;
		}
		ASSERT_FALSE(json.oom || brief.oom, "no allocation failed");
		ASSERT_EQ(bad_json, 0, k ? "json lines, bare namer, no time"
					 : "json lines, full namer, with time");
		ASSERT_EQ(bad_brief, 0, k ? "brief lines, bare namer"
					  : "brief lines, full namer");
		free(ref);
		ref = NULL;
	}
	/* The FILE wrappers write the same bytes. */
	{
		struct cg_event e;
		char *a = NULL;
		size_t al = 0;
		FILE *f = open_memstream(&a, &al);

		rnd_event(&e);
		cg_event_json_fields(f, &e, &full, 1700000000000000000ll);
		fclose(f);
		json.len = 0;
		cg_event_json_buf(&json, &e, &full, 1700000000000000000ll);
		ASSERT_TRUE(al == json.len && !memcmp(a, json.p, al),
			    "cg_event_json_fields writes the buffer's bytes");
		free(a);
	}
	cg_sbuf_free(&json);
	cg_sbuf_free(&brief);
	printf("1..%d\n", cg_test_n);
	return cg_test_done();
}
