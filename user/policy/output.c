// SPDX-License-Identifier: GPL-2.0
/* Printing events and verdicts, as JSON lines and as text. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
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
	static char buf[8];

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

void cg_event_json_fields(FILE *out, const struct cg_event *e,
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
		format_time((long long)e->ts_ns + realtime_off_ns, t,
			    sizeof(t));
		fprintf(out, "\"time\": \"%s\", ", t);
	}
	fputs("\"iface\": ", out);
	if (iface)
		cg_json_str(out, iface);
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
	cg_json_str(out, e->flow == CG_FLOW_NONE
				 ? NULL
				 : name_of(n->flow, n->ctx, e->flow));
	fputs(", \"src\": ", out);
	cg_json_str(out, ip ? src : NULL);
	fputs(", \"dst\": ", out);
	cg_json_str(out, ip ? dst : NULL);
	fputs(", \"proto\": ", out);
	cg_json_str(out, ip ? cg_l4_name(e->proto) : NULL);
	if (ports)
		fprintf(out, ", \"sport\": %u, \"dport\": %u", e->sport,
			e->dport);
	else
		fputs(", \"sport\": null, \"dport\": null", out);
	fprintf(out, ", \"vlan\": %u, \"src_mac\": \"%s\"", e->vlan, mac);
	fputs(", \"zone_from\": ", out);
	cg_json_str(out, zone_of(n, e->zone_from));
	fputs(", \"zone_to\": ", out);
	cg_json_str(out, zone_of(n, e->zone_to));
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
		cg_json_str(out, e->shadow_flow == CG_FLOW_NONE
					 ? NULL
					 : name_of(n->shadow_flow, n->ctx,
						   e->shadow_flow));
		fprintf(out, ", \"policy_sha256\": \"%016llx\"}",
			(unsigned long long)e->shadow_policy_id);
	}
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

void cg_event_brief(FILE *out, const struct cg_event *e,
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
