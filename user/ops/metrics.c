// SPDX-License-Identifier: GPL-2.0
/*
 * Prometheus metrics. Names follow the Prometheus conventions: a
 * `cranegate_` prefix, `_total` on counters, base units (bytes, seconds),
 * and `_info` gauges of value 1 whose labels carry the information.
 *
 * Every reason and every flow of the active policy is always present, at
 * zero if nothing happened, so that rate() and alerts see a series from
 * the start; so is every reason of every interface with counters. ICS
 * series appear with their first request. Flow and ICS counters belong
 * to the policy instance: they restart at zero when a policy is applied
 * (flows a new policy keeps carry theirs over), which Prometheus treats
 * as a counter reset. Reason, interface and event counters live in the shared
 * state maps and survive reloads.
 *
 * The HTTP side is libmicrohttpd with its own polling thread; each scrape
 * reads the maps afresh, so nothing is shared with the event loop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "hex.h"
#include "metrics.h"
#include "output.h"

/* A label value: backslash, double quote and newline are escaped. */
static void label_value(FILE *out, const char *s)
{
	fputc('"', out);
	for (; s && *s; s++) {
		if (*s == '\\')
			fputs("\\\\", out);
		else if (*s == '"')
			fputs("\\\"", out);
		else if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

static void family(FILE *out, const char *name, const char *type,
		   const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static const char *verdict_of(unsigned reason)
{
	return reason >= CG_R_FIRST_DROP ? "drop" : "pass";
}

/* What happened to events, per reason: one family per field. */
static const struct {
	const char *name, *help;
} event_families[] = {
	{"cranegate_events_emitted_total",
	 "Events written to the ring buffer, by reason (the would-be reason "
	 "in monitor mode)."},
	{"cranegate_events_lost_total",
	 "Events lost because the ring buffer was full, by reason."},
	{"cranegate_events_suppressed_total",
	 "Events not sent because of a rate limit (per source or the "
	 "reason's ceiling), or because events are off, by reason."},
	{"cranegate_events_suppressed_by_source_total",
	 "Of the suppressed events, those held back by their source's own "
	 "limit, by reason."},
};

/* The field of *e that event_families[k] exports. */
static unsigned long long event_count(const struct cg_snap_events *e, int k)
{
	switch (k) {
	case 0:
		return e->emitted;
	case 1:
		return e->lost;
	case 2:
		return e->suppressed;
	default:
		return e->suppressed_source;
	}
}

void cg_metrics_write(FILE *out, const struct cg_snapshot *s)
{
	unsigned r;
	size_t i;
	int k;

	family(out, "cranegate_policy_active", "gauge",
	       "1 if a policy is applied under the pin root, else 0.");
	fprintf(out, "cranegate_policy_active %d\n", s->have_policy ? 1 : 0);

	family(out, "cranegate_policy_info", "gauge",
	       "The active policy: name, sha256 of its file, mode.");
	if (s->have_policy) {
		char hex[65];

		cg_hex(s->sha256, 32, hex);
		fputs("cranegate_policy_info{name=", out);
		label_value(out, s->policy_name);
		fprintf(out, ",sha256=\"%s\",mode=\"%s\"} 1\n", hex,
			s->monitor ? "monitor" : "enforce");
	}

	family(out, "cranegate_policy_applied_timestamp_seconds", "gauge",
	       "When the active policy was applied (Unix time).");
	if (s->have_policy)
		fprintf(out,
			"cranegate_policy_applied_timestamp_seconds %llu\n",
			s->applied_at);

	family(out, "cranegate_attached", "gauge",
	       "1 for each interface the active program is attached to, by XDP "
	       "mode.");
	for (i = 0; i < s->n_attached; i++) {
		fputs("cranegate_attached{iface=", out);
		label_value(out, s->attached[i].name);
		fputs(",mode=", out);
		label_value(out, s->attached[i].mode);
		fputs("} 1\n", out);
	}

	family(out, "cranegate_packets_total", "counter",
	       "Frames judged, by verdict reason.");
	for (r = 0; s->have_gate && r < CG_R_MAX; r++)
		fprintf(out,
			"cranegate_packets_total{reason=\"%s\",verdict=\"%s\"} "
			"%llu\n",
			cg_reason_name(r), verdict_of(r),
			s->reasons[r].packets);

	family(out, "cranegate_bytes_total", "counter",
	       "Bytes of the frames judged, by verdict reason.");
	for (r = 0; s->have_gate && r < CG_R_MAX; r++)
		fprintf(out,
			"cranegate_bytes_total{reason=\"%s\",verdict=\"%s\"} "
			"%llu\n",
			cg_reason_name(r), verdict_of(r), s->reasons[r].bytes);

	family(out, "cranegate_drops_total", "counter",
	       "Frames dropped, by reason.");
	for (r = CG_R_FIRST_DROP; s->have_gate && r < CG_R_MAX; r++)
		fprintf(out, "cranegate_drops_total{reason=\"%s\"} %llu\n",
			cg_reason_name(r), s->reasons[r].packets);

	family(out, "cranegate_flow_packets_total", "counter",
	       "Frames a flow of the active policy allowed (restarts when a "
	       "policy is applied).");
	for (i = 0; i < s->n_flows; i++) {
		fputs("cranegate_flow_packets_total{flow=", out);
		label_value(out, s->flows[i].name);
		fprintf(out, "} %llu\n", s->flows[i].c.packets);
	}

	family(out, "cranegate_flow_bytes_total", "counter",
	       "Bytes a flow of the active policy allowed (restarts when a "
	       "policy is applied).");
	for (i = 0; i < s->n_flows; i++) {
		fputs("cranegate_flow_bytes_total{flow=", out);
		label_value(out, s->flows[i].name);
		fprintf(out, "} %llu\n", s->flows[i].c.bytes);
	}

	family(out, "cranegate_flow_last_hit_timestamp_seconds", "gauge",
	       "When a flow last passed a frame (Unix time); flows that have "
	       "passed none have no series.");
	for (i = 0; i < s->n_flows; i++) {
		if (!s->flows[i].last_hit)
			continue;
		fputs("cranegate_flow_last_hit_timestamp_seconds{flow=", out);
		label_value(out, s->flows[i].name);
		fprintf(out, "} %lld\n", (long long)s->flows[i].last_hit);
	}

	for (k = 0; k < (int)(sizeof(event_families) / sizeof(*event_families));
	     k++) {
		family(out, event_families[k].name, "counter",
		       event_families[k].help);
		for (r = 0; s->have_gate && r < CG_R_MAX; r++)
			fprintf(out, "%s{reason=\"%s\"} %llu\n",
				event_families[k].name, cg_reason_name(r),
				event_count(&s->events[r], k));
	}

	/* Per interface: every reason, so that rate() sees each series
	 * from the start. Interfaces keep their counters across reloads. */
	for (k = 0; k < 2; k++) {
		const char *name = k ? "cranegate_interface_bytes_total"
				     : "cranegate_interface_packets_total";

		family(out, name, "counter",
		       k ? "Bytes of the frames that arrived on an interface, "
			   "by verdict reason."
			 : "Frames that arrived on an interface, by verdict "
			   "reason.");
		for (i = 0; i < s->n_ifstats; i++)
			for (r = 0; r < CG_R_MAX; r++) {
				const struct cg_snap_count *c =
					&s->ifstats[i].reasons[r];

				fprintf(out, "%s{iface=", name);
				label_value(out, s->ifstats[i].name);
				fprintf(out,
					",reason=\"%s\",verdict=\"%s\"} "
					"%llu\n",
					cg_reason_name(r), verdict_of(r),
					k ? c->bytes : c->packets);
			}
	}

	/* Inspected ICS requests: a series appears with the first request
	 * of its (flow, protocol, function, verdict). */
	for (k = 0; k < 2; k++) {
		const char *name = k ? "cranegate_ics_bytes_total"
				     : "cranegate_ics_requests_total";

		family(out, name, "counter",
		       k ? "Bytes of the inspected ICS requests, by flow, "
			   "protocol, function code and verdict."
			 : "Modbus/TCP and S7comm requests inspected on flows "
			   "with modbus:, s7comm: or enip:, by flow, protocol, "
			   "function code and verdict (restarts when a policy "
			   "is applied).");
		for (i = 0; i < s->n_ics; i++) {
			fprintf(out, "%s{flow=", name);
			label_value(out, s->ics[i].flow);
			fprintf(out,
				",protocol=\"%s\",function=\"%u\","
				"verdict=\"%s\"} %llu\n",
				s->ics[i].protocol, s->ics[i].function,
				s->ics[i].verdict,
				k ? s->ics[i].c.bytes : s->ics[i].c.packets);
		}
	}

	if (!s->have_gate)
		return;
	family(out, "cranegate_shadow_active", "gauge",
	       "1 if a shadow policy (apply --shadow) is being compared.");
	fprintf(out, "cranegate_shadow_active %d\n", s->shadow_active ? 1 : 0);
	family(out, "cranegate_shadow_frames_total", "counter",
	       "Frames judged by the shadow policy too, by whether its "
	       "verdict agreed with the live one (since the shadow or the "
	       "live policy last changed).");
	fprintf(out, "cranegate_shadow_frames_total{result=\"agree\"} %llu\n",
		s->shadow_frames - s->shadow_disagree);
	fprintf(out,
		"cranegate_shadow_frames_total{result=\"disagree\"} %llu\n",
		s->shadow_disagree);
}

int cg_metrics_print(const struct cg_env *env, FILE *out)
{
	struct cg_snapshot s;
	int err;

	if ((err = cg_snapshot_read(env, &s)))
		return err;
	cg_metrics_write(out, &s);
	cg_snapshot_free(&s);
	return ferror(out) ? -EIO : 0;
}

int cg_metrics_parse_addr(const char *spec, struct sockaddr_storage *ss,
			  socklen_t *len)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	char host[64];
	const char *colon, *h = spec;
	size_t hlen;
	char *end;
	long port;

	memset(ss, 0, sizeof(*ss));
	colon = spec ? strrchr(spec, ':') : NULL;
	if (!colon || colon == spec)
		return -EINVAL;
	hlen = colon - spec;
	if (spec[0] == '[') {
		if (hlen < 3 || spec[hlen - 1] != ']')
			return -EINVAL;
		h = spec + 1;
		hlen -= 2;
	}
	if (hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || port < 0 || port > 65535)
		return -EINVAL;
	if (spec[0] != '[' && inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
		return 0;
	}
	if (spec[0] == '[' && inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
		return 0;
	}
	return -EINVAL;
}

/*
 * A connection, from accept to close, with the time its current request
 * began: at accept, then again each time a request is answered (a kept
 * alive connection starts the next one).
 */
struct tracked {
	struct tracked *prev, *next;
	int fd;
	struct timespec since;
};

struct cg_metrics_server {
	struct MHD_Daemon *d;
	cg_metrics_fn fn;
	void *ctx;
	struct sockaddr_storage ss;
	socklen_t len;
	int fd; /* bound and listening, until the daemon takes it */
	/* The request deadline: see reaper(). */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct tracked *conns;
	pthread_t reaper;
	bool reaper_on, stopping;
};

static double since_s(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) + (now.tv_nsec - t->tv_nsec) / 1e9;
}

static void notify(void *cls, struct MHD_Connection *conn, void **sctx,
		   enum MHD_ConnectionNotificationCode toe)
{
	struct cg_metrics_server *m = cls;
	const union MHD_ConnectionInfo *i;
	struct tracked *t;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		i = MHD_get_connection_info(conn,
					    MHD_CONNECTION_INFO_CONNECTION_FD);
		t = calloc(1, sizeof(*t));
		if (!t || !i) {
			free(t);
			return;
		}
		t->fd = i->connect_fd;
		clock_gettime(CLOCK_MONOTONIC, &t->since);
		pthread_mutex_lock(&m->lock);
		t->next = m->conns;
		if (m->conns)
			m->conns->prev = t;
		m->conns = t;
		pthread_mutex_unlock(&m->lock);
		*sctx = t;
		return;
	}
	/* Closed: called before libmicrohttpd closes the socket, so the
	 * reaper never sees a descriptor that is already someone else's. */
	t = *sctx;
	if (!t)
		return;
	pthread_mutex_lock(&m->lock);
	if (t->prev)
		t->prev->next = t->next;
	else
		m->conns = t->next;
	if (t->next)
		t->next->prev = t->prev;
	pthread_mutex_unlock(&m->lock);
	free(t);
	*sctx = NULL;
}

/*
 * The idle timeout does not stop a client that trickles a header line
 * every few seconds (slowloris): it is never idle. So a request has
 * CG_METRICS_REQUEST_S seconds to arrive whole; the reaper shuts the
 * socket of any connection past that, and libmicrohttpd, seeing the end
 * of the stream, closes it.
 */
static void *reaper(void *arg)
{
	struct cg_metrics_server *m = arg;
	struct timespec until;
	struct tracked *t;

	pthread_mutex_lock(&m->lock);
	while (!m->stopping) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		pthread_cond_timedwait(&m->wake, &m->lock, &until);
		for (t = m->conns; t && !m->stopping; t = t->next)
			if (since_s(&t->since) > CG_METRICS_REQUEST_S) {
				shutdown(t->fd, SHUT_RDWR);
				clock_gettime(CLOCK_MONOTONIC, &t->since);
			}
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status,
			     const char *type, char *body, size_t len)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, body,
					       MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn,
			      const char *url, const char *method,
			      const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	struct cg_metrics_server *m = cls;
	const union MHD_ConnectionInfo *i;
	char *body = NULL;
	size_t len = 0;
	FILE *out;
	int err;

	/* The request arrived whole: its deadline is met. */
	i = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (i && i->socket_context) {
		pthread_mutex_lock(&m->lock);
		clock_gettime(CLOCK_MONOTONIC,
			      &((struct tracked *)i->socket_context)->since);
		pthread_mutex_unlock(&m->lock);
	}

	if (strcmp(method, MHD_HTTP_METHOD_GET) &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
			     strdup("only GET and HEAD\n"), 18);
	if (!strcmp(url, "/"))
		return reply(conn, MHD_HTTP_OK, "text/plain",
			     strdup("cranegate: metrics at /metrics\n"), 31);
	if (strcmp(url, "/metrics"))
		return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain",
			     strdup("not found; try /metrics\n"), 24);
	out = open_memstream(&body, &len);
	if (!out)
		return MHD_NO;
	err = m->fn(m->ctx, out);
	fclose(out);
	if (err) {
		free(body);
		body = NULL;
		if (asprintf(&body, "cannot read the gate's counters: %s\n",
			     strerror(-err)) < 0)
			return MHD_NO;
		return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain",
			     body, strlen(body));
	}
	return reply(conn, MHD_HTTP_OK, CG_METRICS_CONTENT_TYPE, body, len);
}

int cg_metrics_bind(const char *spec, cg_metrics_fn fn, void *ctx,
		    struct cg_metrics_server **out)
{
	struct cg_metrics_server *m;
	int one = 1;

	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->fn = fn;
	m->ctx = ctx;
	m->fd = -1;
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->wake, NULL);
	if (cg_metrics_parse_addr(spec, &m->ss, &m->len)) {
		fprintf(stderr,
			"cranegate: --metrics wants ADDR:PORT with a numeric "
			"address, e.g. 127.0.0.1:9123 or [::1]:9123; got "
			"'%s'\n",
			spec);
		free(m);
		return -EINVAL;
	}
	m->fd = socket(m->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (m->fd < 0 ||
	    setsockopt(m->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(m->fd, (struct sockaddr *)&m->ss, m->len) ||
	    listen(m->fd, CG_METRICS_MAX_CONNECTIONS)) {
		int err = -errno;

		fprintf(stderr,
			"cranegate: cannot serve metrics on %s: %s (address in "
			"use, or not an address of this host?)\n",
			spec, strerror(-err));
		if (m->fd >= 0)
			close(m->fd);
		free(m);
		return err;
	}
	*out = m;
	return 0;
}

/*
 * One polling thread (epoll) serves every connection: a request is
 * answered from the maps in microseconds, so a slow client costs a socket,
 * never a turn. What bounds slow clients is the number of sockets: room
 * for many more than a scraper needs, a share per client address so that
 * one host cannot take it all, and an idle timeout. A client that trickles
 * a header line now and then (slowloris) keeps its socket until the idle
 * timeout or its share runs out, but never delays another client's GET.
 */
int cg_metrics_start(struct cg_metrics_server *m)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;

	if (m->ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	m->d = MHD_start_daemon(
		flags, 0, NULL, NULL, handle, m, MHD_OPTION_LISTEN_SOCKET,
		m->fd, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)CG_METRICS_MAX_CONNECTIONS,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		(unsigned)CG_METRICS_MAX_PER_ADDRESS,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CG_METRICS_IDLE_S,
		MHD_OPTION_NOTIFY_CONNECTION, notify, m, MHD_OPTION_END);
	if (!m->d) {
		fprintf(stderr, "cranegate: cannot start the metrics server\n");
		return -ENOMEM;
	}
	/* The daemon owns the socket now and closes it when it stops. */
	m->fd = -1;
	if (pthread_create(&m->reaper, NULL, reaper, m)) {
		fprintf(stderr, "cranegate: cannot start the metrics server\n");
		return -EAGAIN;
	}
	m->reaper_on = true;
	return 0;
}

int cg_metrics_serve(const char *spec, cg_metrics_fn fn, void *ctx,
		     struct cg_metrics_server **out)
{
	int err;

	if ((err = cg_metrics_bind(spec, fn, ctx, out)))
		return err;
	if ((err = cg_metrics_start(*out))) {
		cg_metrics_stop(*out);
		*out = NULL;
	}
	return err;
}

unsigned cg_metrics_port(const struct cg_metrics_server *m)
{
	const union MHD_DaemonInfo *i;

	i = MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_BIND_PORT);
	return i ? i->port : 0;
}

void cg_metrics_stop(struct cg_metrics_server *m)
{
	if (!m)
		return;
	if (m->reaper_on) {
		pthread_mutex_lock(&m->lock);
		m->stopping = true;
		pthread_cond_signal(&m->wake);
		pthread_mutex_unlock(&m->lock);
		pthread_join(m->reaper, NULL);
	}
	if (m->d)
		MHD_stop_daemon(m->d);
	if (m->fd >= 0)
		close(m->fd);
	pthread_mutex_destroy(&m->lock);
	pthread_cond_destroy(&m->wake);
	free(m);
}

/* top: rates between two snapshots, busiest first. */
struct top_row {
	const char *name;
	const char *verdict;
	double pps, bps;
	unsigned long long total;
};

static int top_cmp(const void *a, const void *b)
{
	const struct top_row *x = a, *y = b;

	if (x->pps != y->pps)
		return x->pps < y->pps ? 1 : -1;
	return x->total < y->total ? 1 : x->total > y->total ? -1 : 0;
}

static double rate(unsigned long long now, unsigned long long before,
		   double secs)
{
	return now >= before && secs > 0 ? (now - before) / secs : 0;
}

static void top_screen(FILE *out, const struct cg_snapshot *s,
		       const struct cg_snapshot *prev, double secs)
{
	struct top_row rows[CG_R_MAX], *frows, *irows;
	char(*inames)[48];
	double ev[4] = {};
	size_t i, n = 0, nf = 0, ni = 0;
	char hex[13];
	int k;

	cg_hex(s->sha256, 6, hex);
	if (s->have_policy)
		fprintf(out, "policy %s (%s, sha256 %s...), on", s->policy_name,
			s->monitor ? "monitor" : "enforce", hex);
	else
		fputs("no policy applied; on", out);
	for (i = 0; i < s->n_attached; i++)
		fprintf(out, " %s", s->attached[i].name);
	fputs(s->n_attached ? "\n\n" : " no interface\n\n", out);

	for (k = 0; k < CG_R_MAX; k++) {
		const struct cg_snap_count *c = &s->reasons[k];
		const struct cg_snap_count *p = &prev->reasons[k];

		ev[0] += rate(s->events[k].emitted, prev->events[k].emitted,
			      secs);
		ev[1] += rate(s->events[k].lost, prev->events[k].lost, secs);
		ev[2] += rate(s->events[k].suppressed,
			      prev->events[k].suppressed, secs);
		ev[3] += rate(s->events[k].suppressed_source,
			      prev->events[k].suppressed_source, secs);
		if (!c->packets)
			continue;
		rows[n++] = (struct top_row){cg_reason_name(k), verdict_of(k),
					     rate(c->packets, p->packets, secs),
					     rate(c->bytes, p->bytes, secs) * 8,
					     c->packets};
	}
	qsort(rows, n, sizeof(*rows), top_cmp);
	fprintf(out, "%-16s %-7s %12s %12s %14s\n", "REASON", "VERDICT",
		"PACKETS/S", "BITS/S", "PACKETS");
	for (i = 0; i < n; i++)
		fprintf(out, "%-16s %-7s %12.0f %12.0f %14llu\n", rows[i].name,
			rows[i].verdict, rows[i].pps, rows[i].bps,
			rows[i].total);

	frows = calloc(s->n_flows + 1, sizeof(*frows));
	for (i = 0; frows && i < s->n_flows; i++) {
		const struct cg_snap_count *c = &s->flows[i].c;
		unsigned long long pp = 0, pb = 0;
		size_t j;

		/* The previous snapshot may be of another policy. */
		for (j = 0; j < prev->n_flows; j++)
			if (!strcmp(prev->flows[j].name, s->flows[i].name)) {
				pp = prev->flows[j].c.packets;
				pb = prev->flows[j].c.bytes;
			}
		frows[nf++] = (struct top_row){
			s->flows[i].name, "", rate(c->packets, pp, secs),
			rate(c->bytes, pb, secs) * 8, c->packets};
	}
	if (frows)
		qsort(frows, nf, sizeof(*frows), top_cmp);
	fprintf(out, "\n%-32s %12s %12s %14s\n", "FLOW", "PACKETS/S", "BITS/S",
		"PACKETS");
	for (i = 0; i < nf && i < 15; i++)
		fprintf(out, "%-32s %12.0f %12.0f %14llu\n", frows[i].name,
			frows[i].pps, frows[i].bps, frows[i].total);
	free(frows);

	/* The busiest (interface, reason) pairs. */
	irows = calloc(s->n_ifstats * CG_R_MAX + 1, sizeof(*irows));
	inames = calloc(s->n_ifstats * CG_R_MAX + 1, sizeof(*inames));
	for (i = 0; irows && inames && i < s->n_ifstats; i++) {
		const struct cg_snap_ifstat *is = &s->ifstats[i], *ps = NULL;
		size_t j;

		for (j = 0; j < prev->n_ifstats; j++)
			if (prev->ifstats[j].ifindex == is->ifindex)
				ps = &prev->ifstats[j];
		for (k = 0; k < CG_R_MAX; k++) {
			const struct cg_snap_count *c = &is->reasons[k];

			if (!c->packets)
				continue;
			snprintf(inames[ni], sizeof(inames[ni]), "%s %s",
				 is->name, cg_reason_name(k));
			irows[ni] = (struct top_row){
				inames[ni], verdict_of(k),
				rate(c->packets,
				     ps ? ps->reasons[k].packets : 0, secs),
				rate(c->bytes, ps ? ps->reasons[k].bytes : 0,
				     secs) *
					8,
				c->packets};
			ni++;
		}
	}
	if (irows)
		qsort(irows, ni, sizeof(*irows), top_cmp);
	fprintf(out, "\n%-32s %-7s %12s %12s %14s\n", "INTERFACE REASON",
		"VERDICT", "PACKETS/S", "BITS/S", "PACKETS");
	for (i = 0; i < ni && i < 15; i++)
		fprintf(out, "%-32s %-7s %12.0f %12.0f %14llu\n", irows[i].name,
			irows[i].verdict, irows[i].pps, irows[i].bps,
			irows[i].total);
	free(irows);
	free(inames);

	fprintf(out,
		"\nevents/s: %.0f emitted, %.0f lost, %.0f suppressed (%.0f by "
		"source)\n",
		ev[0], ev[1], ev[2], ev[3]);
}

static volatile sig_atomic_t top_stop;

static void top_signal(int sig)
{
	top_stop = 1;
}

int cg_top_run(const struct cg_env *env, long long refreshes)
{
	struct cg_snapshot prev, now;
	struct timespec a, b;
	bool tty = isatty(STDOUT_FILENO);
	long long n = 0;
	int err;

	if ((err = cg_snapshot_read(env, &prev)))
		return err;
	if (!prev.have_gate) {
		fprintf(stderr,
			"cranegate: no gate at %s (apply a policy first)\n",
			env->pin_root);
		cg_snapshot_free(&prev);
		return -ENOENT;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	signal(SIGINT, top_signal);
	signal(SIGTERM, top_signal);
	while (!top_stop && (!refreshes || n < refreshes)) {
		sleep(1);
		if ((err = cg_snapshot_read(env, &now)))
			break;
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (tty)
			fputs("\033[H\033[2J", stdout);
		else if (n)
			fputs("\n", stdout);
		top_screen(stdout, &now, &prev,
			   (b.tv_sec - a.tv_sec) +
				   (b.tv_nsec - a.tv_nsec) / 1e9);
		fflush(stdout);
		cg_snapshot_free(&prev);
		prev = now;
		a = b;
		n++;
	}
	cg_snapshot_free(&prev);
	return err;
}
