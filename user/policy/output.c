// SPDX-License-Identifier: GPL-2.0
/* Printing events and verdicts, as JSON lines and as text. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "output.h"

const char *cg_reason_name(unsigned reason)
{
	return reason < CG_R_MAX ? cg_reason_names[reason] : "unknown";
}

const char *cg_verdict_name(unsigned verdict)
{
	return verdict == CG_V_DROP ? "drop" : "pass";
}

const char *cg_l4_name(unsigned proto)
{
	static __thread char buf[8];

	switch (proto) {
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 1:
		return "icmp";
	case 58:
		return "icmpv6";
	}
	snprintf(buf, sizeof(buf), "%u", proto);
	return buf;
}

void cg_addr_format(int family, const unsigned char *addr, char *buf,
		    size_t len)
{
	if (family == 4 || family == 6)
		inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, buf, len);
	else
		snprintf(buf, len, "-");
}

void cg_json_str(FILE *out, const char *s)
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

long long cg_realtime_offset(void)
{
	struct timespec rt, mono;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	return (rt.tv_sec - mono.tv_sec) * 1000000000ll + rt.tv_nsec -
	       mono.tv_nsec;
}

static void format_time(long long ns, char *buf, size_t len)
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

/* A zone's name; the gateway's own addresses are the zone `self`. */
static const char *zone_of(const struct cg_namer *n, unsigned id)
{
	if (id == CG_ZONE_NONE)
		return NULL;
	if (id == CG_ZONE_SELF)
		return "self";
	return name_of(n->zone, n->ctx, id);
}

/* ---- formatting into a cg_sbuf, without stdio */

void cg_sbuf_free(struct cg_sbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* Room for n more bytes (and a NUL); false when it could not grow. */
static bool sb_room(struct cg_sbuf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->len + n + 1 <= b->cap)
		return true;
	cap = b->cap ? b->cap : 1024;
	while (cap < b->len + n + 1)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

static void sb_put(struct cg_sbuf *b, const char *s, size_t n)
{
	if (!sb_room(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

void cg_sbuf_puts(struct cg_sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

#define SB_LIT(b, lit) sb_put(b, lit, sizeof(lit) - 1)

static void sb_putc(struct cg_sbuf *b, char c)
{
	if (sb_room(b, 1))
		b->p[b->len++] = c;
}

/* %u / %llu */
static void sb_u(struct cg_sbuf *b, unsigned long long v)
{
	char t[24];
	int i = sizeof(t);

	do {
		t[--i] = '0' + v % 10;
		v /= 10;
	} while (v);
	sb_put(b, t + i, sizeof(t) - i);
}

/* %0Nllx, N <= 16 */
static void sb_hex(struct cg_sbuf *b, unsigned long long v, int width)
{
	static const char hex[] = "0123456789abcdef";
	char t[16];
	int i = sizeof(t);

	do {
		t[--i] = hex[v & 15];
		v >>= 4;
	} while (v);
	while (i > (int)sizeof(t) - width)
		t[--i] = '0';
	sb_put(b, t + i, sizeof(t) - i);
}

/* cg_json_str's bytes. */
static void sb_json_str(struct cg_sbuf *b, const char *s)
{
	const char *run;

	if (!s) {
		SB_LIT(b, "null");
		return;
	}
	sb_putc(b, '"');
	for (run = s; *s; s++) {
		unsigned char c = *s;

		if (c != '"' && c != '\\' && c >= 0x20)
			continue;
		sb_put(b, run, s - run);
		run = s + 1;
		if (c == '"' || c == '\\') {
			sb_putc(b, '\\');
			sb_putc(b, c);
		} else {
			SB_LIT(b, "\\u00");
			sb_hex(b, c, 2);
		}
	}
	sb_put(b, run, s - run);
	sb_putc(b, '"');
}

/* format_time's bytes; the date and seconds are formatted once a second. */
static void sb_time(struct cg_sbuf *b, long long ns)
{
	long long sec = ns / 1000000000ll;
	unsigned long long us;
	char t[64];
	int i;

	if (ns < 0) { /* not a time events carry: as format_time has it */
		format_time(ns, t, sizeof(t));
		cg_sbuf_puts(b, t);
		return;
	}
	if (!b->sec_text[0] || sec != b->sec) {
		format_time(ns, t, sizeof(t));
		/* "YYYY-MM-DDTHH:MM:SS." then 6 digits and Z */
		if (strlen(t) != 27) {
			b->sec_text[0] = 0;
			cg_sbuf_puts(b, t);
			return;
		}
		memcpy(b->sec_text, t, 20);
		b->sec_text[20] = 0;
		b->sec = sec;
	}
	sb_put(b, b->sec_text, 20);
	us = (ns % 1000000000ll) / 1000;
	for (i = 5; i >= 0; i--) {
		t[i] = '0' + us % 10;
		us /= 10;
	}
	t[6] = 'Z';
	sb_put(b, t, 7);
}

static void sb_mac(struct cg_sbuf *b, const unsigned char *m)
{
	int i;

	for (i = 0; i < 6; i++) {
		if (i)
			sb_putc(b, ':');
		sb_hex(b, m[i], 2);
	}
}

void cg_event_json_buf(struct cg_sbuf *b, const struct cg_event *e,
		       const struct cg_namer *n, long long realtime_off_ns)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	const char *iface = name_of(n->iface, n->ctx, e->ifindex);
	bool ip = e->family == 4 || e->family == 6;
	bool ports = ip && (e->flags & CG_EV_PORTS);

	if (ip) {
		cg_addr_format(e->family, e->src, src, sizeof(src));
		cg_addr_format(e->family, e->dst, dst, sizeof(dst));
	}
	if (realtime_off_ns) {
		SB_LIT(b, "\"time\": \"");
		sb_time(b, (long long)e->ts_ns + realtime_off_ns);
		SB_LIT(b, "\", ");
	}
	SB_LIT(b, "\"iface\": ");
	if (iface) {
		sb_json_str(b, iface);
	} else {
		SB_LIT(b, "\"if");
		sb_u(b, e->ifindex);
		sb_putc(b, '"');
	}
	SB_LIT(b, ", \"verdict\": \"");
	cg_sbuf_puts(b, cg_verdict_name(e->verdict));
	SB_LIT(b, "\", \"reason\": \"");
	cg_sbuf_puts(b, cg_reason_name(e->reason));
	sb_putc(b, '"');
	if (e->reason == CG_R_MONITOR) {
		SB_LIT(b, ", \"would\": \"");
		cg_sbuf_puts(b, cg_reason_name(e->would));
		sb_putc(b, '"');
	}
	/* deny: reset: the refused request was answered with a TCP RST. */
	if (e->flags & CG_EV_RESET)
		SB_LIT(b, ", \"reset\": true");
	SB_LIT(b, ", \"rule\": ");
	sb_json_str(b, e->flow == CG_FLOW_NONE
			       ? NULL
			       : name_of(n->flow, n->ctx, e->flow));
	SB_LIT(b, ", \"src\": ");
	sb_json_str(b, ip ? src : NULL);
	SB_LIT(b, ", \"dst\": ");
	sb_json_str(b, ip ? dst : NULL);
	SB_LIT(b, ", \"proto\": ");
	sb_json_str(b, ip ? cg_l4_name(e->proto) : NULL);
	if (ports) {
		SB_LIT(b, ", \"sport\": ");
		sb_u(b, e->sport);
		SB_LIT(b, ", \"dport\": ");
		sb_u(b, e->dport);
	} else {
		SB_LIT(b, ", \"sport\": null, \"dport\": null");
	}
	SB_LIT(b, ", \"vlan\": ");
	sb_u(b, e->vlan);
	SB_LIT(b, ", \"src_mac\": \"");
	sb_mac(b, e->src_mac);
	SB_LIT(b, "\", \"zone_from\": ");
	sb_json_str(b, zone_of(n, e->zone_from));
	SB_LIT(b, ", \"zone_to\": ");
	sb_json_str(b, zone_of(n, e->zone_to));
	if (e->function == CG_FUNC_NONE) {
		SB_LIT(b, ", \"function\": null");
	} else {
		SB_LIT(b, ", \"function\": ");
		sb_u(b, e->function);
		SB_LIT(b, ", \"ics\": \"");
		cg_sbuf_puts(b, cg_ics_proto_name(e->ics_proto));
		sb_putc(b, '"');
	}
	SB_LIT(b, ", \"len\": ");
	sb_u(b, e->pkt_len);
	if (n->revision) {
		unsigned rev = n->revision(n->ctx, e->policy_id);

		SB_LIT(b, ", \"policy_sha256\": \"");
		sb_hex(b, e->policy_id, 16);
		SB_LIT(b, "\", \"revision\": ");
		if (rev)
			sb_u(b, rev);
		else
			SB_LIT(b, "null");
	}
	if (e->flags & CG_EV_SHADOW) {
		SB_LIT(b, ", \"shadow\": {\"verdict\": \"");
		cg_sbuf_puts(b, cg_verdict_name(e->shadow_verdict));
		SB_LIT(b, "\", \"reason\": \"");
		cg_sbuf_puts(b, cg_reason_name(e->shadow_reason));
		sb_putc(b, '"');
		if (e->shadow_reason == CG_R_MONITOR) {
			SB_LIT(b, ", \"would\": \"");
			cg_sbuf_puts(b, cg_reason_name(e->shadow_would));
			sb_putc(b, '"');
		}
		SB_LIT(b, ", \"rule\": ");
		sb_json_str(b, e->shadow_flow == CG_FLOW_NONE
				       ? NULL
				       : name_of(n->shadow_flow, n->ctx,
						 e->shadow_flow));
		SB_LIT(b, ", \"policy_sha256\": \"");
		sb_hex(b, e->shadow_policy_id, 16);
		SB_LIT(b, "\"}");
	}
}

void cg_event_json_fields(FILE *out, const struct cg_event *e,
			  const struct cg_namer *n, long long realtime_off_ns)
{
	struct cg_sbuf b = {};

	cg_event_json_buf(&b, e, n, realtime_off_ns);
	if (b.len)
		fwrite(b.p, 1, b.len, out);
	cg_sbuf_free(&b);
}

/* " SHADOW: drop no-rule [flow F]" after a disagreement's live fields. */
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

void cg_event_text(FILE *out, const struct cg_event *e,
		   const struct cg_namer *n, long long realtime_off_ns)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], t[64] = "";
	const char *iface = name_of(n->iface, n->ctx, e->ifindex);
	const char *flow = e->flow == CG_FLOW_NONE
				   ? NULL
				   : name_of(n->flow, n->ctx, e->flow);
	bool ip = e->family == 4 || e->family == 6;

	cg_addr_format(e->family, e->src, src, sizeof(src));
	cg_addr_format(e->family, e->dst, dst, sizeof(dst));
	if (realtime_off_ns)
		format_time((long long)e->ts_ns + realtime_off_ns, t,
			    sizeof(t));
	fprintf(out, "%s%s%s %s %-14s", t, *t ? " " : "", iface ? iface : "?",
		cg_verdict_name(e->verdict), cg_reason_name(e->reason));
	if (e->reason == CG_R_MONITOR)
		fprintf(out, " (would: %s)", cg_reason_name(e->would));
	if (ip && (e->flags & CG_EV_PORTS))
		fprintf(out, " %s %s:%u -> %s:%u", cg_l4_name(e->proto), src,
			e->sport, dst, e->dport);
	else if (ip)
		fprintf(out, " %s %s -> %s", cg_l4_name(e->proto), src, dst);
	if (e->vlan)
		fprintf(out, " vlan %u", e->vlan);
	if (flow)
		fprintf(out, " flow %s", flow);
	if (e->flags & CG_EV_RESET)
		fputs(" reset-sent", out);
	if (n->revision) {
		unsigned rev = n->revision(n->ctx, e->policy_id);

		if (rev)
			fprintf(out, " rev %u", rev);
	}
	shadow_text(out, e, n);
	fputc('\n', out);
}

void cg_event_brief_buf(struct cg_sbuf *b, const struct cg_event *e,
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

	if (ip) {
		cg_addr_format(e->family, e->src, src, sizeof(src));
		cg_addr_format(e->family, e->dst, dst, sizeof(dst));
	}
	cg_sbuf_puts(b, cg_verdict_name(e->verdict));
	sb_putc(b, ' ');
	cg_sbuf_puts(b, cg_reason_name(e->reason));
	if (e->reason == CG_R_MONITOR) {
		SB_LIT(b, " (would: ");
		cg_sbuf_puts(b, cg_reason_name(e->would));
		sb_putc(b, ')');
	}
	if (iface) {
		SB_LIT(b, " on ");
		cg_sbuf_puts(b, iface);
	} else {
		SB_LIT(b, " on if");
		sb_u(b, e->ifindex);
	}
	if (e->vlan) {
		SB_LIT(b, " vlan ");
		sb_u(b, e->vlan);
	}
	if (ip) {
		SB_LIT(b, ": ");
		cg_sbuf_puts(b, cg_l4_name(e->proto));
		sb_putc(b, ' ');
		cg_sbuf_puts(b, src);
		if (e->flags & CG_EV_PORTS) {
			sb_putc(b, ':');
			sb_u(b, e->sport);
		}
		SB_LIT(b, " -> ");
		cg_sbuf_puts(b, dst);
		if (e->flags & CG_EV_PORTS) {
			sb_putc(b, ':');
			sb_u(b, e->dport);
		}
	} else {
		SB_LIT(b, ": src mac ");
		sb_mac(b, e->src_mac);
	}
	if (zf || zt) {
		SB_LIT(b, " (");
		cg_sbuf_puts(b, zf ? zf : "?");
		SB_LIT(b, " -> ");
		cg_sbuf_puts(b, zt ? zt : "?");
		sb_putc(b, ')');
	}
	if (flow) {
		SB_LIT(b, " flow ");
		cg_sbuf_puts(b, flow);
	}
	if (e->function != CG_FUNC_NONE) {
		sb_putc(b, ' ');
		cg_sbuf_puts(b, cg_ics_proto_name(e->ics_proto));
		SB_LIT(b, " function ");
		sb_u(b, e->function);
	}
	if (e->flags & CG_EV_RESET)
		SB_LIT(b, " (answered with a TCP reset)");
	if (e->flags & CG_EV_SHADOW) {
		const char *sf = e->shadow_flow == CG_FLOW_NONE
					 ? NULL
					 : name_of(n->shadow_flow, n->ctx,
						   e->shadow_flow);

		SB_LIT(b, " SHADOW: ");
		cg_sbuf_puts(b, cg_verdict_name(e->shadow_verdict));
		sb_putc(b, ' ');
		cg_sbuf_puts(b, cg_reason_name(e->shadow_reason));
		if (sf) {
			SB_LIT(b, " flow ");
			cg_sbuf_puts(b, sf);
		}
	}
	if (sb_room(b, 0))
		b->p[b->len] = 0;
}

void cg_event_brief(FILE *out, const struct cg_event *e,
		    const struct cg_namer *n)
{
	struct cg_sbuf b = {};

	cg_event_brief_buf(&b, e, n);
	if (b.len)
		fwrite(b.p, 1, b.len, out);
	cg_sbuf_free(&b);
}
