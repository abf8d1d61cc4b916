// SPDX-License-Identifier: GPL-2.0
/*
 * The Prometheus exposition of a made-up snapshot: every family has its
 * HELP and TYPE once, before its samples; every sample line parses; label
 * values are escaped; the numbers are the snapshot's. Then the HTTP side:
 * libmicrohttpd serves /metrics on the address it is given, with the
 * exposition content type, and 404 elsewhere; ADDR:PORT parsing refuses
 * what it must.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "metrics.h"

CG_TEST_GLOBALS;

static struct cg_snap_iface ifaces[] = {
	{"biz0", 2, "native"},
	{"crane0", 3, "generic"},
};

static struct cg_snap_flow flows[] = {
	{"scada-polls-plcs", {10, 1000}},
	{"odd \"name\" \\ with\nnewline", {3, 300}},
};

static struct cg_snap_ifstat ifstats[1] = {
	{.name = "crane0", .ifindex = 7, .attached = true},
};

static struct cg_snap_ics ics[1] = {
	{"scada-polls-plcs", "modbus", 6, "drop", {2, 132}},
};

static void fill(struct cg_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->have_gate = true;
	s->have_policy = true;
	snprintf(s->policy_name, sizeof(s->policy_name), "berth-4 \"test\"");
	memset(s->sha256, 0xab, sizeof(s->sha256));
	s->applied_at = 1700000000;
	s->attached = ifaces;
	s->n_attached = 2;
	s->flows = flows;
	s->n_flows = 2;
	s->reasons[CG_R_ALLOWED].packets = 42;
	s->reasons[CG_R_ALLOWED].bytes = 4200;
	s->reasons[CG_R_NO_RULE].packets = 7;
	s->reasons[CG_R_NO_RULE].bytes = 700;
	s->events[CG_R_NO_RULE].emitted = 5;
	s->events[CG_R_NO_RULE].lost = 1;
	s->events[CG_R_NO_RULE].suppressed = 1;
	s->events[CG_R_NO_RULE].suppressed_source = 1;
	ifstats[0].reasons[CG_R_NO_RULE].packets = 4;
	ifstats[0].reasons[CG_R_NO_RULE].bytes = 400;
	s->ifstats = ifstats;
	s->n_ifstats = 1;
	s->ics = ics;
	s->n_ics = 1;
}

static char *render(const struct cg_snapshot *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cg_metrics_write(f, s);
	fclose(f);
	return buf;
}

/* Does `text` contain `line` as a whole line? */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line))) {
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || !p[n]))
			return true;
		p++;
	}
	return false;
}

static void test_format(void)
{
	struct cg_snapshot s;
	regex_t sample;
	char *text, *copy, *line, *save = NULL;
	char seen_type[64][80];
	int n_types = 0, bad = 0, i, samples = 0, orphans = 0;

	fill(&s);
	text = render(&s);
	ASSERT_TRUE(text && *text, "exposition is not empty");

	/* name{label="value",...} number; values may hold escaped quotes. */
	regcomp(&sample,
		"^[a-zA-Z_:][a-zA-Z0-9_:]*"
		"(\\{[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\n]|\\\\[\\\\\"n])*\""
		"(,[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\n]|\\\\[\\\\\"n])*\")*\\}"
		")?"
		" [0-9]+(\\.[0-9]+)?$",
		REG_EXTENDED | REG_NOSUB);
	copy = strdup(text);
	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char name[80];

		if (!strncmp(line, "# HELP ", 7))
			continue;
		if (!strncmp(line, "# TYPE ", 7)) {
			char type[16];

			if (sscanf(line + 7, "%79s %15s", name, type) != 2 ||
			    (strcmp(type, "counter") && strcmp(type, "gauge")))
				bad++;
			for (i = 0; i < n_types; i++)
				if (!strcmp(seen_type[i], name))
					bad++;
			if (n_types < 64)
				snprintf(seen_type[n_types++], 80, "%s", name);
			continue;
		}
		samples++;
		if (regexec(&sample, line, 0, NULL, 0)) {
			printf("# bad sample line: %s\n", line);
			bad++;
		}
		/* A sample belongs to the last TYPE'd family. */
		sscanf(line, "%79[^{ ]", name);
		if (!n_types || strcmp(seen_type[n_types - 1], name))
			orphans++;
	}
	free(copy);
	regfree(&sample);
	ASSERT_EQ(bad, 0, "every line is HELP, TYPE or a well-formed sample");
	ASSERT_EQ(orphans, 0, "every sample follows its family's TYPE line");
	ASSERT_TRUE(samples > 40, "every reason has its series");

	ASSERT_TRUE(has_line(text, "# TYPE cranegate_packets_total counter"),
		    "packets_total is a counter");
	ASSERT_TRUE(has_line(text, "# TYPE cranegate_attached gauge"),
		    "attached is a gauge");
	ASSERT_TRUE(has_line(text, "cranegate_packets_total{reason=\"allowed\","
				   "verdict=\"pass\"} 42"),
		    "packets_total of allowed, with verdict pass");
	ASSERT_TRUE(has_line(text, "cranegate_packets_total{reason=\"no-rule\","
				   "verdict=\"drop\"} 7"),
		    "packets_total of no-rule, with verdict drop");
	ASSERT_TRUE(has_line(text, "cranegate_bytes_total{reason=\"no-rule\","
				   "verdict=\"drop\"} 700"),
		    "bytes_total of no-rule");
	ASSERT_TRUE(
		has_line(text, "cranegate_drops_total{reason=\"no-rule\"} 7"),
		"drops_total of no-rule");
	ASSERT_FALSE(strstr(text, "cranegate_drops_total{reason=\"allowed\"}"),
		     "drops_total has no pass reasons");
	ASSERT_TRUE(
		has_line(
			text,
			"cranegate_events_emitted_total{reason=\"no-rule\"} 5"),
		"events_emitted_total by reason");
	ASSERT_TRUE(
		has_line(text,
			 "cranegate_events_lost_total{reason=\"no-rule\"} 1"),
		"events_lost_total by reason");
	ASSERT_TRUE(has_line(text, "cranegate_events_suppressed_total{reason="
				   "\"no-rule\"} 1"),
		    "events_suppressed_total by reason");
	ASSERT_TRUE(has_line(text, "cranegate_events_suppressed_by_source_"
				   "total{reason=\"no-rule\"} 1"),
		    "events_suppressed_by_source_total by reason");
	ASSERT_TRUE(has_line(text, "cranegate_interface_packets_total{iface="
				   "\"crane0\",reason=\"no-rule\",verdict="
				   "\"drop\"} 4"),
		    "interface_packets_total by iface, reason and verdict");
	ASSERT_TRUE(has_line(text, "cranegate_interface_bytes_total{iface="
				   "\"crane0\",reason=\"no-rule\",verdict="
				   "\"drop\"} 400"),
		    "interface_bytes_total by iface, reason and verdict");
	ASSERT_TRUE(has_line(text, "cranegate_interface_packets_total{iface="
				   "\"crane0\",reason=\"allowed\",verdict="
				   "\"pass\"} 0"),
		    "interface_packets_total has every reason, at zero too");
	ASSERT_TRUE(has_line(text, "cranegate_ics_requests_total{flow=\"scada-"
				   "polls-plcs\",protocol=\"modbus\",function="
				   "\"6\",verdict=\"drop\"} 2"),
		    "ics_requests_total by flow, protocol, function, verdict");
	ASSERT_TRUE(has_line(text, "cranegate_ics_bytes_total{flow=\"scada-"
				   "polls-plcs\",protocol=\"modbus\",function="
				   "\"6\",verdict=\"drop\"} 132"),
		    "ics_bytes_total by flow, protocol, function, verdict");
	ASSERT_TRUE(has_line(text, "cranegate_flow_packets_total{flow=\"scada-"
				   "polls-plcs\"} 10"),
		    "flow_packets_total by flow");
	ASSERT_TRUE(has_line(text, "cranegate_flow_bytes_total{flow=\"scada-"
				   "polls-plcs\"} 1000"),
		    "flow_bytes_total by flow");
	ASSERT_TRUE(has_line(text, "cranegate_flow_packets_total{flow=\"odd "
				   "\\\"name\\\" \\\\ with\\nnewline\"} 3"),
		    "label values escape quote, backslash and newline");
	ASSERT_TRUE(
		has_line(text,
			 "cranegate_policy_info{name=\"berth-4 \\\"test\\\"\","
			 "sha256="
			 "\"abababababababababababababababababababababababababa"
			 "babababababab\","
			 "mode=\"enforce\"} 1"),
		"policy_info carries name, sha256 and mode");
	ASSERT_TRUE(has_line(text, "cranegate_attached{iface=\"crane0\",mode="
				   "\"generic\"} 1"),
		    "attached by iface and mode");
	ASSERT_TRUE(has_line(text, "cranegate_policy_active 1"),
		    "policy_active is 1");
	free(text);

	/* No gate at all: families stay, samples go, nothing is invented. */
	memset(&s, 0, sizeof(s));
	text = render(&s);
	ASSERT_TRUE(has_line(text, "cranegate_policy_active 0"),
		    "without a gate, policy_active is 0");
	ASSERT_FALSE(strstr(text, "cranegate_packets_total{"),
		     "without a gate, no packet series");
	ASSERT_TRUE(has_line(text, "# TYPE cranegate_packets_total counter"),
		    "without a gate, the families are still declared");
	free(text);
}

static void test_parse_addr(void)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	static const char *const bad[] = {
		"9123",
		":9123",
		"127.0.0.1",
		"127.0.0.1:",
		"127.0.0.1:65536",
		"127.0.0.1:-1",
		"127.0.0.1:12x",
		"localhost:9123",
		"::1:9123",
		"[127.0.0.1]:9123",
		"[::1:9123",
		"",
	};
	size_t i;
	int nbad = 0;

	ASSERT_OK(cg_metrics_parse_addr("127.0.0.1:9123", &ss, &len),
		  "parse 127.0.0.1:9123");
	ASSERT_EQ(ss.ss_family, AF_INET, "... is IPv4");
	ASSERT_EQ(ntohs(s4->sin_port), 9123, "... port 9123");
	ASSERT_EQ(ntohl(s4->sin_addr.s_addr), 0x7f000001, "... 127.0.0.1");
	ASSERT_OK(cg_metrics_parse_addr("[::1]:9100", &ss, &len),
		  "parse [::1]:9100");
	ASSERT_EQ(ss.ss_family, AF_INET6, "... is IPv6");
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		if (cg_metrics_parse_addr(bad[i], &ss, &len) != -EINVAL) {
			printf("# accepted: '%s'\n", bad[i]);
			nbad++;
		}
	}
	ASSERT_EQ(nbad, 0, "malformed and non-numeric ADDR:PORT are refused");
}

static int fake_body(void *ctx, FILE *out)
{
	struct cg_snapshot s;

	fill(&s);
	cg_metrics_write(out, &s);
	return 0;
}

/* One HTTP/1.0 request over a plain socket; the whole answer, or NULL. */
static char *http_get(const char *addr, unsigned port, const char *path)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(port)};
	struct timeval tv = {.tv_sec = 5};
	char req[256], *buf = NULL;
	size_t len = 0;
	ssize_t n;
	char chunk[4096];
	FILE *f;
	int fd;

	inet_pton(AF_INET, addr, &sa.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return NULL;
	}
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", path,
		 addr);
	if (write(fd, req, strlen(req)) < 0) {
		close(fd);
		return NULL;
	}
	f = open_memstream(&buf, &len);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		fwrite(chunk, 1, n, f);
	fclose(f);
	close(fd);
	return buf;
}

static void test_server(void)
{
	struct cg_metrics_server *m = NULL;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	char *resp;
	unsigned port;
	int fd;

	ASSERT_EQ(cg_metrics_serve("localhost:0", fake_body, NULL, &m), -EINVAL,
		  "serve refuses a host name");
	if (!ASSERT_OK(cg_metrics_serve("127.0.0.1:0", fake_body, NULL, &m),
		       "serve on 127.0.0.1:0"))
		return;
	port = cg_metrics_port(m);
	ASSERT_TRUE(port > 0, "the bound port is known");

	resp = http_get("127.0.0.1", port, "/metrics");
	ASSERT_TRUE(resp && !strncmp(resp, "HTTP/1.", 7) &&
			    !strncmp(resp + 8, " 200", 4),
		    "GET /metrics is 200");
	ASSERT_TRUE(
		resp && strcasestr(resp,
				   "Content-Type: " CG_METRICS_CONTENT_TYPE),
		"with the exposition content type");
	ASSERT_TRUE(resp && strstr(resp, "\ncranegate_drops_total{reason=\"no-"
					 "rule\"} 7\n"),
		    "and the exposition text");
	free(resp);

	resp = http_get("127.0.0.1", port, "/other");
	ASSERT_TRUE(resp && strstr(resp, " 404 "), "GET /other is 404");
	free(resp);

	/* Bound to 127.0.0.1 only: another loopback address is refused. */
	sa.sin_port = htons(port);
	inet_pton(AF_INET, "127.0.0.2", &sa.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_TRUE(
		connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0,
		"nothing listens on 127.0.0.2 (bound to the address given)");
	close(fd);
	cg_metrics_stop(m);
}

int main(void)
{
	test_format();
	test_parse_addr();
	test_server();
	return cg_test_done();
}
