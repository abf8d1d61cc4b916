// SPDX-License-Identifier: GPL-2.0
/*
 * Connection records. The data plane counts on each connection's entry
 * (struct cg_conn_count); this file turns the table into records.
 *
 * The kernel neither tells userspace when an entry expires (an expired
 * entry stays in the table, counting as absent, until it is reused or
 * evicted) nor when the LRU evicts one. So `run` sweeps the table once a
 * second (bpf_map_lookup_batch) and keeps, per entry, the copy it read
 * last. A sweep decides:
 *
 *   ended     FIN or RST seen and the connection quiet for a second (or
 *             its closing timeout, if shorter): "fin" / "rst"; idle past
 *             its timeout: "idle"; past the window of the time-boxed flow
 *             that opened it: "window". One record, from the entry.
 *   replaced  the key's entry started anew (the old one had expired and
 *             a new connection reused the key before a sweep saw the
 *             expiry): the old one ends, "idle", with its last copy.
 *   vanished  an entry of the previous sweep is gone (LRU eviction): it
 *             ends, "evicted", with the counters of its last copy.
 *   interim   live, and `limits: record_interval` seconds since its start
 *             or its previous record: an interim record ("interim").
 *
 * What the sweep loses: the frames an evicted connection passed after
 * the last sweep that saw it (at most a second's worth), and a
 * connection that opened and was evicted between two sweeps entirely
 * (only under a table full of churn: the LRU evicts the least recently
 * used first). Connections that had ended before `run` started are not
 * reported.
 *
 * JSON records carry the totals of the connection so far; IPFIX records
 * carry octetDeltaCount / packetDeltaCount (and their reverse, RFC 5103)
 * since the previous record of the same connection, as those elements
 * mean.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <fixbuf/public.h>

#include "gate.h"
#include "loader.h"
#include "output.h"
#include "records.h"

#define TRACK_BUCKETS 65536
#define BATCH 1024

/*
 * The private enterprise number of cranegate's own information elements:
 * 32473, which RFC 5612 reserves for documentation and examples. A
 * deployment that registers its own number with IANA changes it here.
 */
#define CG_IPFIX_PEN 32473

enum end_reason {
	END_NONE = 0,
	END_FIN,
	END_RST,
	END_IDLE,
	END_WINDOW,
	END_EVICTED,
	END_INTERIM,
};

static const char *const end_names[] = {
	[END_NONE] = "none",	   [END_FIN] = "fin",
	[END_RST] = "rst",	   [END_IDLE] = "idle",
	[END_WINDOW] = "window",   [END_EVICTED] = "evicted",
	[END_INTERIM] = "interim",
};

/* flowEndReason (IANA): 1 idle, 2 active, 3 end of flow, 4 forced end,
 * 5 lack of resources. */
static const uint8_t end_ipfix[] = {
	[END_NONE] = 0,	  [END_FIN] = 3,     [END_RST] = 3,	[END_IDLE] = 1,
	[END_WINDOW] = 4, [END_EVICTED] = 5, [END_INTERIM] = 2,
};

static const char *const fclass_names[CG_FC_MAX] = {
	[CG_FC_READ] = "read",
	[CG_FC_WRITE] = "write",
	[CG_FC_CONTROL] = "control",
	[CG_FC_OTHER] = "other",
};

struct track {
	struct track *next;
	struct cg_conn_key key;
	struct cg_conn_val val; /* as the last sweep read it */
	unsigned long long gen; /* the last sweep that saw it */
	bool done;		/* its end was reported */
	long long last_report_ms;
	long long start_ms; /* wall time of its start, fixed when first seen */
	unsigned long long sent_pkts[2], sent_bytes[2]; /* in IPFIX records */
	char flow[CG_META_NAME_MAX], zone_from[CG_META_NAME_MAX],
		zone_to[CG_META_NAME_MAX];
	bool named;
};

/* The IPFIX record as it is laid out in memory (the internal template). */
struct ipfix_rec {
	uint64_t start_ms;
	uint64_t end_ms;
	uint64_t octets;
	uint64_t packets;
	uint64_t rev_octets;
	uint64_t rev_packets;
	uint8_t src6[16];
	uint8_t dst6[16];
	uint32_t src4;
	uint32_t dst4;
	uint16_t sport;
	uint16_t dport;
	uint16_t vlan;
	uint8_t proto;
	uint8_t end_reason;
	uint32_t req[CG_FC_MAX];
	uint32_t refused;
	uint32_t pad;
	fbVarfield_t flow;
	fbVarfield_t zone_from;
	fbVarfield_t zone_to;
	fbVarfield_t functions;
};

#define T_V4 1
#define T_V6 2

static fbInfoElementSpec_t ipfix_spec[] = {
	{"flowStartMilliseconds", 8, 0},
	{"flowEndMilliseconds", 8, 0},
	{"octetDeltaCount", 8, 0},
	{"packetDeltaCount", 8, 0},
	{"reverseOctetDeltaCount", 8, 0},
	{"reversePacketDeltaCount", 8, 0},
	{"sourceIPv6Address", 16, T_V6},
	{"destinationIPv6Address", 16, T_V6},
	{"sourceIPv4Address", 4, T_V4},
	{"destinationIPv4Address", 4, T_V4},
	{"sourceTransportPort", 2, 0},
	{"destinationTransportPort", 2, 0},
	{"vlanId", 2, 0},
	{"protocolIdentifier", 1, 0},
	{"flowEndReason", 1, 0},
	{"cranegateReadRequests", 4, 0},
	{"cranegateWriteRequests", 4, 0},
	{"cranegateControlRequests", 4, 0},
	{"cranegateOtherRequests", 4, 0},
	{"cranegateRefusedRequests", 4, 0},
	{"paddingOctets", 4, T_V4 | T_V6},
	{"cranegateFlowName", FB_IE_VARLEN, 0},
	{"cranegateZoneFrom", FB_IE_VARLEN, 0},
	{"cranegateZoneTo", FB_IE_VARLEN, 0},
	{"cranegateFunctions", FB_IE_VARLEN, 0},
	FB_IESPEC_NULL,
};

#define CG_IE_U32(name, id, desc)                                              \
	FB_IE_INIT_FULL(name, CG_IPFIX_PEN, id, 4,                             \
			FB_IE_DELTACOUNTER | FB_IE_F_ENDIAN, 0, 0, FB_UINT_32, \
			desc)
#define CG_IE_STR(name, id, desc)                                              \
	FB_IE_INIT_FULL(name, CG_IPFIX_PEN, id, FB_IE_VARLEN, FB_IE_DEFAULT,   \
			0, 0, FB_STRING, desc)

static fbInfoElement_t cg_elements[] = {
	CG_IE_STR("cranegateFlowName", 1,
		  "the policy flow that allowed the connection"),
	CG_IE_STR("cranegateZoneFrom", 2, "the opener's zone"),
	CG_IE_STR("cranegateZoneTo", 3, "the responder's zone"),
	CG_IE_U32("cranegateReadRequests", 4,
		  "inspected ICS requests of the read class"),
	CG_IE_U32("cranegateWriteRequests", 5,
		  "inspected ICS requests of the write class"),
	CG_IE_U32("cranegateControlRequests", 6,
		  "inspected ICS requests of the control class"),
	CG_IE_U32("cranegateOtherRequests", 7, "other inspected ICS requests"),
	CG_IE_U32("cranegateRefusedRequests", 8,
		  "inspected ICS requests refused (ics-denied)"),
	CG_IE_STR("cranegateFunctions", 9,
		  "ICS protocol and function codes seen, e.g. modbus:3,6"),
	FB_IE_NULL,
};

struct cg_records {
	const struct cg_env *env;
	struct track *buckets[TRACK_BUCKETS];
	unsigned long long gen;
	struct cg_limits limits;
	/* IPFIX */
	char *host, *port;
	bool tcp;
	fbInfoModel_t *model;
	fbSession_t *session;
	fbExporter_t *exporter;
	fBuf_t *fbuf;
	uint16_t tid_int, tid_v4, tid_v6;
	long long tmpl_ms; /* templates last sent (UDP: resent each minute) */
	long long retry_ms;
	bool said_down;
	unsigned long long exported, lost;
	/* this sweep */
	unsigned long long jnow;
	unsigned hz;
	long long now_ms;
	unsigned long long tai_ns;
	long long off_ms; /* realtime - jiffies, in ms */
	bool off_set;
	int written;
};

static long long clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static unsigned hash_key(const struct cg_conn_key *k)
{
	const uint8_t *p = (const void *)k;
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 16777619u;
	return h % TRACK_BUCKETS;
}

/*
 * Wall time (ms) of a jiffies stamp: realtime - jiffies, measured at the
 * first sweep and kept while the two clocks agree within 100 ms (reading
 * them is not atomic: a fresh offset every sweep would move a connection's
 * start by a few ms from one record to the next).
 */
static long long wall_ms(const struct cg_records *r, unsigned long long j)
{
	if (!j || j > r->jnow)
		return r->now_ms;
	return r->off_ms + (long long)(j * 1000 / r->hz);
}

/*
 * A connection's start is converted once, when a sweep first sees it: the
 * offset between the clocks may be measured again later (a loaded machine,
 * a clock step), and every record of one connection must carry the same
 * start. Its end is never before its start.
 */
static long long end_ms(const struct cg_records *r, const struct track *t)
{
	long long e = wall_ms(r, t->val.last);

	return e < t->start_ms ? t->start_ms : e;
}

static void iso_ms(long long ms, char *buf, size_t len)
{
	time_t s = ms / 1000;
	struct tm tm;

	gmtime_r(&s, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, ms % 1000);
}

/* "modbus:3,6" or "s7comm:4,240,1796", or "" (into buf). */
static void functions_text(const struct cg_conn_count *c, char *buf, size_t len)
{
	size_t n = 0;
	unsigned b;
	bool first = true;

	buf[0] = 0;
	if (!c->ics_proto)
		return;
	n = snprintf(buf, len, "%s:", cg_ics_proto_name(c->ics_proto));
	for (b = 0; b < 256 && n < len; b++) {
		unsigned code = b;

		if (!(c->functions[b >> 6] & (1ull << (b & 63))))
			continue;
		if (c->ics_proto == CG_ICS_PROTO_S7COMM && b > 0xF0)
			code = 0x700 + (b - 0xF0);
		n += snprintf(buf + n, len - n, "%s%u", first ? "" : ",", code);
		first = false;
	}
}

static void json_record(struct cg_records *r, FILE *log, const struct track *t,
			enum end_reason why)
{
	const struct cg_conn_val *v = &t->val;
	const struct cg_conn_key *k = &t->key;
	unsigned o = v->opener & 1;
	const struct cg_conn_end *e = &v->end[o];
	char src[64], dst[64], ts[80], tstart[80], tend[80],
		ifname[IF_NAMESIZE];
	char fn[1200];
	long long s_ms = t->start_ms, e_ms = end_ms(r, t);
	unsigned i;

	cg_addr_format(k->family, o ? k->b : k->a, src, sizeof(src));
	cg_addr_format(k->family, o ? k->a : k->b, dst, sizeof(dst));
	iso_ms(clock_ms(CLOCK_REALTIME), ts, sizeof(ts));
	iso_ms(s_ms, tstart, sizeof(tstart));
	iso_ms(e_ms, tend, sizeof(tend));
	fprintf(log,
		"{\"type\": \"connection\", \"time\": \"%s\", \"record\": "
		"\"%s\", \"start\": \"%s\", \"end\": \"%s\", "
		"\"duration_s\": %.3f, \"flow\": ",
		ts, why == END_INTERIM ? "interim" : "end", tstart, tend,
		(e_ms - s_ms) / 1000.0);
	cg_json_str(log, t->flow[0] ? t->flow : NULL);
	fputs(", \"zone_from\": ", log);
	cg_json_str(log, t->zone_from[0] ? t->zone_from : NULL);
	fputs(", \"zone_to\": ", log);
	cg_json_str(log, t->zone_to[0] ? t->zone_to : NULL);
	fputs(", \"iface\": ", log);
	cg_json_str(log, if_indextoname(e->ifindex, ifname) ? ifname : NULL);
	fprintf(log,
		", \"vlan\": %u, \"src\": \"%s\", \"dst\": \"%s\", "
		"\"proto\": \"%s\", \"sport\": %u, \"dport\": %u, "
		"\"packets_fwd\": %llu, \"packets_rev\": %llu, "
		"\"bytes_fwd\": %llu, \"bytes_rev\": %llu, \"end_reason\": "
		"\"%s\"",
		e->vlan, src, dst, cg_l4_name(k->proto),
		o ? k->bport : k->aport, o ? k->aport : k->bport,
		(unsigned long long)cg_conn_packets(&v->cnt, o),
		(unsigned long long)cg_conn_packets(&v->cnt, !o),
		(unsigned long long)cg_conn_bytes(&v->cnt, o),
		(unsigned long long)cg_conn_bytes(&v->cnt, !o), end_names[why]);
	if (v->cnt.ics_proto) {
		functions_text(&v->cnt, fn, sizeof(fn));
		fprintf(log,
			", \"ics\": {\"protocol\": \"%s\", \"requests\": {",
			cg_ics_proto_name(v->cnt.ics_proto));
		for (i = 0; i < CG_FC_MAX; i++)
			fprintf(log, "%s\"%s\": %u", i ? ", " : "",
				fclass_names[i], v->cnt.requests[i]);
		fprintf(log, "}, \"refused\": %u, \"functions\": [%s]}",
			v->cnt.refused, strchr(fn, ':') + 1);
	}
	fputs("}\n", log);
}

/* --- IPFIX ---------------------------------------------------------- */

static void ipfix_drop(struct cg_records *r)
{
	if (r->fbuf)
		fBufFree(r->fbuf); /* frees the exporter too */
	else if (r->exporter)
		fbExporterClose(r->exporter);
	r->fbuf = NULL;
	r->exporter = NULL;
	r->session = NULL; /* owned by the buffer */
}

static fbTemplate_t *tmpl_of(struct cg_records *r, uint32_t flags)
{
	fbTemplate_t *t = fbTemplateAlloc(r->model);
	GError *err = NULL;

	if (!fbTemplateAppendSpecArray(t, ipfix_spec, flags, &err)) {
		fprintf(stderr, "cranegate: IPFIX template: %s\n",
			err ? err->message : "?");
		g_clear_error(&err);
		fbTemplateFreeUnused(t);
		return NULL;
	}
	return t;
}

/* Connect (or reconnect) to the collector and send the templates. */
static int ipfix_connect(struct cg_records *r)
{
	fbConnSpec_t spec = {.transport = r->tcp ? FB_TCP : FB_UDP,
			     .host = r->host,
			     .svc = r->port};
	fbTemplate_t *ti, *t4, *t6;
	GError *err = NULL;

	if (r->fbuf)
		return 0;
	if (r->now_ms < r->retry_ms)
		return -EAGAIN;
	r->session = fbSessionAlloc(r->model);
	ti = tmpl_of(r, T_V4 | T_V6);
	t4 = tmpl_of(r, T_V4);
	t6 = tmpl_of(r, T_V6);
	if (!ti || !t4 || !t6)
		goto fail;
	r->tid_int =
		fbSessionAddTemplate(r->session, TRUE, FB_TID_AUTO, ti, &err);
	if (!r->tid_int)
		goto fail;
	r->tid_v4 =
		fbSessionAddTemplate(r->session, FALSE, FB_TID_AUTO, t4, &err);
	if (!r->tid_v4)
		goto fail;
	r->tid_v6 =
		fbSessionAddTemplate(r->session, FALSE, FB_TID_AUTO, t6, &err);
	if (!r->tid_v6)
		goto fail;
	/* RFC 5610: collectors learn our elements' names and types. */
	fbSessionSetMetadataExportElements(r->session, TRUE, FB_TID_AUTO, &err);
	g_clear_error(&err);
	r->exporter = fbExporterAllocNet(&spec);
	if (!r->exporter)
		goto fail;
	r->fbuf = fBufAllocForExport(r->session, r->exporter);
	if (!fbSessionExportTemplates(r->session, &err) ||
	    !fBufSetInternalTemplate(r->fbuf, r->tid_int, &err))
		goto fail_buf;
	r->tmpl_ms = r->now_ms;
	r->said_down = false;
	return 0;
fail:
	if (r->session && !r->exporter)
		fbSessionFree(r->session);
	r->session = NULL;
	r->exporter = NULL;
	r->retry_ms = r->now_ms + 5000;
	if (!r->said_down)
		fprintf(stderr, "cranegate: IPFIX collector %s:%s: %s\n",
			r->host, r->port, err ? err->message : "cannot set up");
	r->said_down = true;
	g_clear_error(&err);
	return -EIO;
fail_buf:
	ipfix_drop(r);
	goto fail;
}

static void ipfix_record(struct cg_records *r, struct track *t,
			 enum end_reason why)
{
	const struct cg_conn_val *v = &t->val;
	const struct cg_conn_key *k = &t->key;
	unsigned o = v->opener & 1, i;
	struct ipfix_rec rec = {};
	char fn[1200];
	GError *err = NULL;

	if (ipfix_connect(r)) {
		r->lost++;
		return;
	}
	rec.start_ms = t->start_ms;
	rec.end_ms = end_ms(r, t);
	rec.packets = cg_conn_packets(&v->cnt, o) - t->sent_pkts[0];
	rec.octets = cg_conn_bytes(&v->cnt, o) - t->sent_bytes[0];
	rec.rev_packets = cg_conn_packets(&v->cnt, !o) - t->sent_pkts[1];
	rec.rev_octets = cg_conn_bytes(&v->cnt, !o) - t->sent_bytes[1];
	if (k->family == 4) {
		memcpy(&rec.src4, o ? k->b : k->a, 4);
		memcpy(&rec.dst4, o ? k->a : k->b, 4);
		rec.src4 = ntohl(rec.src4);
		rec.dst4 = ntohl(rec.dst4);
	} else {
		memcpy(rec.src6, o ? k->b : k->a, 16);
		memcpy(rec.dst6, o ? k->a : k->b, 16);
	}
	rec.sport = o ? k->bport : k->aport;
	rec.dport = o ? k->aport : k->bport;
	rec.vlan = v->end[o].vlan;
	rec.proto = k->proto;
	rec.end_reason = end_ipfix[why];
	for (i = 0; i < CG_FC_MAX; i++)
		rec.req[i] = v->cnt.requests[i];
	rec.refused = v->cnt.refused;
	rec.flow.buf = (uint8_t *)t->flow;
	rec.flow.len = strlen(t->flow);
	rec.zone_from.buf = (uint8_t *)t->zone_from;
	rec.zone_from.len = strlen(t->zone_from);
	rec.zone_to.buf = (uint8_t *)t->zone_to;
	rec.zone_to.len = strlen(t->zone_to);
	functions_text(&v->cnt, fn, sizeof(fn));
	rec.functions.buf = (uint8_t *)fn;
	rec.functions.len = strlen(fn);
	if (!fBufSetExportTemplate(
		    r->fbuf, k->family == 4 ? r->tid_v4 : r->tid_v6, &err) ||
	    !fBufAppend(r->fbuf, (uint8_t *)&rec, sizeof(rec), &err)) {
		if (!r->said_down)
			fprintf(stderr, "cranegate: IPFIX export: %s\n",
				err ? err->message : "?");
		r->said_down = true;
		g_clear_error(&err);
		ipfix_drop(r);
		r->lost++;
		return;
	}
	t->sent_pkts[0] = cg_conn_packets(&v->cnt, o);
	t->sent_pkts[1] = cg_conn_packets(&v->cnt, !o);
	t->sent_bytes[0] = cg_conn_bytes(&v->cnt, o);
	t->sent_bytes[1] = cg_conn_bytes(&v->cnt, !o);
	r->exported++;
}

static void ipfix_flush(struct cg_records *r)
{
	GError *err = NULL;

	if (!r->fbuf)
		return;
	if (!fBufEmit(r->fbuf, &err)) {
		if (!r->said_down)
			fprintf(stderr, "cranegate: IPFIX export: %s\n",
				err ? err->message : "?");
		r->said_down = true;
		g_clear_error(&err);
		ipfix_drop(r);
		return;
	}
	/* Over UDP a collector that starts later learns the templates
	 * within a minute (RFC 7011, 10.3.6). */
	if (!r->tcp && r->now_ms - r->tmpl_ms >= 60000) {
		if (fbSessionExportTemplates(r->session, &err))
			r->tmpl_ms = r->now_ms;
		g_clear_error(&err);
	}
}

/* --- the sweep ------------------------------------------------------ */

static void emit(struct cg_records *r, FILE *log, struct track *t,
		 enum end_reason why)
{
	if (log)
		json_record(r, log, t, why);
	if (r->host)
		ipfix_record(r, t, why);
	t->last_report_ms = r->now_ms;
	if (why != END_INTERIM)
		t->done = true;
	r->written++;
}

/* How the connection of this copy ended, as of now, or END_NONE. */
static enum end_reason ended(const struct cg_records *r,
			     const struct cg_conn_val *v)
{
	const struct cg_limits *l = &r->limits;
	unsigned long long idle = r->jnow > v->last ? r->jnow - v->last : 0;
	unsigned long long quiet =
		l->tcp_closing_timeout < 1 ? l->tcp_closing_timeout : 1;

	if (v->until && r->tai_ns >= v->until)
		return END_WINDOW;
	if (v->closing && idle >= quiet * r->hz)
		return (v->closing & CG_CLOSE_RST) ? END_RST : END_FIN;
	return END_NONE;
}

static enum end_reason expired(const struct cg_records *r,
			       const struct cg_conn_key *k,
			       const struct cg_conn_val *v)
{
	const struct cg_limits *l = &r->limits;
	unsigned long long idle = r->jnow > v->last ? r->jnow - v->last : 0;
	unsigned long long t = k->proto == 6	? l->tcp_timeout
			       : k->proto == 17 ? l->udp_timeout
						: l->other_timeout;

	if (v->closing)
		t = l->tcp_closing_timeout;
	return idle > t * r->hz ? END_IDLE : END_NONE;
}

static void name_track(struct cg_records *r, struct cg_active *a,
		       struct track *t)
{
	const struct cg_conn_end *e = &t->val.end[t->val.opener & 1];
	const char *s;

	if (t->named || !a || e->policy_id != cg_active_policy_id(a))
		return;
	if (e->flow != CG_FLOW_NONE && (s = cg_active_flow(a, e->flow)))
		snprintf(t->flow, sizeof(t->flow), "%s", s);
	if ((s = cg_active_zone(a, e->zone_from)))
		snprintf(t->zone_from, sizeof(t->zone_from), "%s", s);
	if ((s = cg_active_zone(a, e->zone_to)))
		snprintf(t->zone_to, sizeof(t->zone_to), "%s", s);
	t->named = true;
}

static void see(struct cg_records *r, FILE *log, struct cg_active *a,
		const struct cg_conn_key *k, const struct cg_conn_val *v)
{
	unsigned h = hash_key(k);
	struct track *t;
	enum end_reason why;

	for (t = r->buckets[h]; t; t = t->next)
		if (!memcmp(&t->key, k, sizeof(*k)))
			break;
	if (t && t->val.cnt.start != v->cnt.start) {
		/* The key was reused: the connection we knew had expired. */
		if (!t->done)
			emit(r, log, t, END_IDLE);
		memset((char *)t + sizeof(t->next), 0,
		       sizeof(*t) - sizeof(t->next));
		t->key = *k;
		t->val = *v;
		t->start_ms = wall_ms(r, v->cnt.start);
		t->last_report_ms = t->start_ms;
	} else if (!t) {
		t = calloc(1, sizeof(*t));
		if (!t)
			return;
		t->key = *k;
		t->val = *v;
		t->next = r->buckets[h];
		r->buckets[h] = t;
		t->start_ms = wall_ms(r, v->cnt.start);
		t->last_report_ms = t->start_ms;
		/* Ended before this run looked: not ours to report. */
		if (r->gen == 1 && (ended(r, v) || expired(r, k, v)))
			t->done = true;
	}
	t->val = *v;
	t->gen = r->gen;
	name_track(r, a, t);
	if (t->done)
		return;
	why = ended(r, v);
	if (!why)
		why = expired(r, k, v);
	if (why) {
		emit(r, log, t, why);
		return;
	}
	if (r->limits.record_interval &&
	    r->now_ms - t->last_report_ms >=
		    (long long)r->limits.record_interval * 1000)
		emit(r, log, t, END_INTERIM);
}

/*
 * One connection table's entries, each to see(): conns (IPv6) holds wide
 * keys, conns4 (IPv4) the 16-byte ones, widened here. 0 or a negative
 * errno.
 */
static int sweep_table(struct cg_records *r, FILE *log, struct cg_active *a,
		       int fd, bool v4)
{
	static struct cg_conn_key keys[BATCH];
	static struct cg_conn4_key keys4[BATCH];
	static struct cg_conn_val vals[BATCH];
	unsigned char batch[sizeof(struct cg_conn_key)];
	bool first = true;
	int err = 0;
	unsigned i;

	for (;;) {
		LIBBPF_OPTS(bpf_map_batch_opts, o);
		__u32 n = BATCH;

		err = bpf_map_lookup_batch(fd, first ? NULL : batch, batch,
					   v4 ? (void *)keys4 : (void *)keys,
					   vals, &n, &o);
		if (err)
			err = -errno;
		for (i = 0; i < n; i++) {
			if (v4)
				cg_conn4_key_widen(&keys4[i], &keys[i]);
			see(r, log, a, &keys[i], &vals[i]);
		}
		first = false;
		if (err)
			break;
	}
	return err == -ENOENT ? 0 : err;
}

int cg_records_sweep(struct cg_records *r, FILE *log)
{
	struct cg_active *a = NULL;
	int fd, fd4, err = 0;
	unsigned i;

	fd = cg_pin_fd(r->env, "conns");
	if (fd < 0)
		return -errno;
	/* A gate of an older version has no conns4: its IPv4 connections
	 * are in conns. */
	fd4 = cg_pin_fd(r->env, "conns4");
	/*
	 * The offset between the clocks: realtime read on both sides of the
	 * jiffies, so a read delayed by load (a flood, a busy CPU) is seen
	 * and does not move the offset.
	 */
	{
		long long t0 = clock_ms(CLOCK_REALTIME), t1, off;

		if (cg_kernel_jiffies(&r->jnow)) {
			close(fd);
			if (fd4 >= 0)
				close(fd4);
			return -ENOENT;
		}
		t1 = clock_ms(CLOCK_REALTIME);
		r->hz = cg_kernel_hz();
		r->now_ms = t1;
		off = (t0 + t1) / 2 - (long long)(r->jnow * 1000 / r->hz);
		if (!r->off_set ||
		    (t1 - t0 <= 20 && llabs(off - r->off_ms) > 100))
			r->off_ms = off;
		r->off_set = true;
	}
	r->tai_ns = (unsigned long long)clock_ms(CLOCK_TAI) * 1000000ull;
	r->gen++;
	r->written = 0;
	cg_active_open(r->env, &a);
	err = sweep_table(r, log, a, fd, false);
	if (!err && fd4 >= 0)
		err = sweep_table(r, log, a, fd4, true);
	close(fd);
	if (fd4 >= 0)
		close(fd4);
	/* What the table no longer holds: evicted (or deleted). */
	for (i = 0; i < TRACK_BUCKETS && !err; i++) {
		struct track **pp = &r->buckets[i], *t;

		while ((t = *pp)) {
			if (t->gen == r->gen) {
				pp = &t->next;
				continue;
			}
			if (!t->done)
				emit(r, log, t, END_EVICTED);
			*pp = t->next;
			free(t);
		}
	}
	cg_active_close(a);
	if (r->host && r->written)
		ipfix_flush(r);
	if (log && r->written)
		fflush(log);
	return err ? err : r->written;
}

/* --- setup ---------------------------------------------------------- */

int cg_records_open(const struct cg_env *env, const char *ipfix,
		    struct cg_records **out)
{
	struct cg_records *r = calloc(1, sizeof(*r));
	const char *hp = ipfix, *colon;

	*out = NULL;
	if (!r)
		return -ENOMEM;
	r->env = env;
	r->limits = CG_LIMITS_DEFAULT;
	if (ipfix) {
		if (!strncmp(hp, "tcp://", 6)) {
			r->tcp = true;
			hp += 6;
		} else if (!strncmp(hp, "udp://", 6)) {
			hp += 6;
		}
		colon = strrchr(hp, ':');
		if (!colon || colon == hp || !colon[1] ||
		    strspn(colon + 1, "0123456789") != strlen(colon + 1)) {
			fprintf(stderr,
				"cranegate: --ipfix %s: expected HOST:PORT, "
				"e.g. 127.0.0.1:4739 (or tcp://HOST:PORT)\n",
				ipfix);
			free(r);
			return -EINVAL;
		}
		/* [v6]:port */
		if (hp[0] == '[' && colon[-1] == ']')
			r->host = strndup(hp + 1, colon - hp - 2);
		else
			r->host = strndup(hp, colon - hp);
		r->port = strdup(colon + 1);
		r->model = fbInfoModelAlloc();
		fbInfoModelAddElementArray(r->model, cg_elements);
	}
	*out = r;
	return 0;
}

void cg_records_limits(struct cg_records *r, const struct cg_limits *l)
{
	if (r && l)
		r->limits = *l;
}

unsigned long long cg_records_exported(const struct cg_records *r)
{
	return r ? r->exported : 0;
}

void cg_records_close(struct cg_records *r)
{
	unsigned i;

	if (!r)
		return;
	if (r->host)
		ipfix_flush(r);
	ipfix_drop(r);
	for (i = 0; i < TRACK_BUCKETS; i++) {
		struct track *t = r->buckets[i], *n;

		for (; t; t = n) {
			n = t->next;
			free(t);
		}
	}
	if (r->model)
		fbInfoModelFree(r->model);
	free(r->host);
	free(r->port);
	free(r);
}
