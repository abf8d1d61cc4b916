// SPDX-License-Identifier: GPL-2.0
/*
 * learn: observe connections, in a capture or in run's log, and print a
 * policy whose flows admit them and nothing much more.
 *
 * A connection is opened by a TCP SYN (without ACK), the first UDP
 * datagram of a (addresses, ports) pair not seen the other way, or an
 * ICMP/ICMPv6 echo request; a TCP connection picked up without its SYN
 * counts as opened by the end with the higher port (a client's
 * ephemeral port), unless the lower one is 502, 102 or 44818's peer.
 * From run's log, `connection` records and the events of monitor mode (what the
 * policy would have dropped) name the opener.
 *
 * Connections are grouped by (source, destination, protocol, ICS
 * protocol): one flow each, with the destination ports seen, from and to
 * the single hosts (by their `hosts:` name where they have one, else the
 * address), named after them and their zones. Traffic within one zone and
 * from addresses in no zone needs no flow and gets none. On Modbus (502)
 * and S7comm (102) flows the opener's requests are read: `read-only` when
 * every function seen is one it admits, else the list of the function
 * codes seen (S7: job functions; `any` when userdata beyond groups 3
 * and 4, or S7comm-plus, was seen). On EtherNet/IP (44818) flows
 * `read-only` when every request of a capture passes its walk
 * (policy/enip.h), or every CIP service of a log is one it admits, else
 * `any`. Each flow has a comment: how many
 * connections, the first and the last.
 *
 * The zones file is copied as it is, but for its version, name and flows.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pcap/pcap.h>

#include "enip.h"
#include "learn.h"
#include "policy.h"
#include "replay.h"

#define ICS_NONE 0
#define ICS_MODBUS 1
#define ICS_S7 2
#define ICS_ENIP 3

struct group {
	int family;
	uint8_t src[16], dst[16];
	uint8_t proto;
	int ics;
	uint16_t ports[64];
	int n_ports;
	bool all_ports; /* more than fit: every port */
	unsigned long long count;
	double first, last;
	uint64_t fn[4];	     /* Modbus codes or S7 job functions seen */
	uint16_t s7_groups;  /* S7 userdata groups seen */
	bool s7_plus, other; /* S7comm-plus; a request of another kind */
};

/* Connections seen: (family, addresses, ports, proto), opener first. */
struct seen {
	int family;
	uint8_t a[16], b[16];
	uint16_t ap, bp;
	uint8_t proto;
	struct group *g;
};

struct learn {
	struct cg_policy *p;
	struct group *groups;
	size_t n_groups, cap_groups;
	struct seen *seen;
	size_t n_seen, cap_seen;
	unsigned long long skipped_zone, intra;
};

static bool modbus_read(unsigned fc)
{
	static const unsigned rd[] = {1, 2, 3, 4, 7, 11, 12, 17, 20, 24, 43};
	size_t i;

	for (i = 0; i < sizeof(rd) / sizeof(rd[0]); i++)
		if (rd[i] == fc)
			return true;
	return false;
}

/* The zone index holding addr (most specific network), or -1. */
static int zone_of(const struct cg_policy *p, int family, const uint8_t *a)
{
	int best = -1, best_len = -1;
	size_t z, k;

	for (z = 0; z < p->n_zones; z++)
		for (k = 0; k < p->zones[z].n_nets; k++) {
			const struct cg_prefix *pf =
				&p->zones[z].nets[k].prefix;

			if (cg_prefix_has_addr(pf, family, a) &&
			    pf->len > best_len) {
				best = z;
				best_len = pf->len;
			}
		}
	return best;
}

/* The name of the single host at addr, or NULL. */
static const char *host_of(const struct cg_policy *p, int family,
			   const uint8_t *a)
{
	size_t h;

	for (h = 0; h < p->n_hosts; h++) {
		const struct cg_prefix *pf = &p->hosts[h].addr;

		if (pf->family == family &&
		    pf->len == (family == 4 ? 32 : 128) &&
		    cg_prefix_has_addr(pf, family, a))
			return p->hosts[h].name;
	}
	return NULL;
}

static void *grow(void *arr, size_t *cap, size_t n, size_t size)
{
	void *m;

	if (n < *cap)
		return arr;
	*cap = *cap ? *cap * 2 : 64;
	m = realloc(arr, *cap * size);
	return m;
}

static struct seen *find_seen(struct learn *l, int family, const uint8_t *a,
			      const uint8_t *b, uint16_t ap, uint16_t bp,
			      uint8_t proto, bool *reversed)
{
	size_t i, n = family == 4 ? 4 : 16;

	for (i = l->n_seen; i-- > 0;) {
		struct seen *s = &l->seen[i];

		if (s->family != family || s->proto != proto)
			continue;
		if (!memcmp(s->a, a, n) && !memcmp(s->b, b, n) && s->ap == ap &&
		    s->bp == bp) {
			*reversed = false;
			return s;
		}
		if (!memcmp(s->a, b, n) && !memcmp(s->b, a, n) && s->ap == bp &&
		    s->bp == ap) {
			*reversed = true;
			return s;
		}
	}
	return NULL;
}

static struct group *group_for(struct learn *l, int family, const uint8_t *src,
			       const uint8_t *dst, uint8_t proto, int ics)
{
	size_t i, n = family == 4 ? 4 : 16;
	struct group *g;

	for (i = 0; i < l->n_groups; i++) {
		g = &l->groups[i];
		if (g->family == family && g->proto == proto && g->ics == ics &&
		    !memcmp(g->src, src, n) && !memcmp(g->dst, dst, n))
			return g;
	}
	g = grow(l->groups, &l->cap_groups, l->n_groups, sizeof(*g));
	if (!g)
		return NULL;
	l->groups = g;
	g = &l->groups[l->n_groups++];
	memset(g, 0, sizeof(*g));
	g->family = family;
	memcpy(g->src, src, n);
	memcpy(g->dst, dst, n);
	g->proto = proto;
	g->ics = ics;
	return g;
}

static void add_port(struct group *g, uint16_t port)
{
	int i;

	for (i = 0; i < g->n_ports; i++)
		if (g->ports[i] == port)
			return;
	if (g->n_ports == 64) {
		g->all_ports = true;
		return;
	}
	g->ports[g->n_ports++] = port;
}

/*
 * A connection opened by src: its group (NULL when it needs no flow).
 * `t` is its time (seconds since the epoch).
 */
static struct group *opened(struct learn *l, int family, const uint8_t *src,
			    const uint8_t *dst, uint8_t proto, uint16_t dport,
			    double t, bool again)
{
	int zs = zone_of(l->p, family, src), zd = zone_of(l->p, family, dst);
	int ics = ICS_NONE;
	struct group *g;

	if (zs < 0) {
		l->skipped_zone += !again;
		return NULL;
	}
	if (zs == zd) {
		l->intra += !again;
		return NULL;
	}
	if (proto == 6 && dport == 502)
		ics = ICS_MODBUS;
	else if (proto == 6 && dport == 102)
		ics = ICS_S7;
	else if (proto == 6 && dport == 44818)
		ics = ICS_ENIP;
	g = group_for(l, family, src, dst, proto, ics);
	if (!g)
		return NULL;
	if (proto == 6 || proto == 17)
		add_port(g, dport);
	if (!g->count || t < g->first)
		g->first = t;
	if (t > g->last)
		g->last = t;
	g->count += !again;
	return g;
}

static void set_fn(struct group *g, unsigned code)
{
	g->fn[(code >> 6) & 3] |= 1ull << (code & 63);
}

/* The opener's payload on an ICS flow: its functions. */
static void requests(struct group *g, const uint8_t *d, size_t n)
{
	size_t pos = 0;
	uint16_t fn;
	int i;

	if (g->ics == ICS_ENIP) {
		/* The gate's own walk: a request it would refuse under
		 * read-only (a write, a split packet) makes the flow any. */
		static const struct cg_ics read_only = {
			.mode = CG_ICS_READ_ONLY};

		if (!cg_enip_allows(&read_only, d, n, &fn))
			g->other = true;
		if (fn != CG_FUNC_NONE)
			set_fn(g, fn);
		return;
	}
	if (g->ics == ICS_MODBUS) {
		for (i = 0; i < 8 && pos + 8 <= n; i++) {
			size_t len = (size_t)d[pos + 4] << 8 | d[pos + 5];

			if (d[pos + 2] || d[pos + 3] || len < 2)
				return;
			set_fn(g, d[pos + 7]);
			if (d[pos + 7] == 43 &&
			    (len < 3 || pos + 8 >= n || d[pos + 8] != 14))
				g->other = true;
			pos += 6 + len;
		}
		return;
	}
	for (i = 0; i < 4 && pos + 7 <= n; i++) {
		size_t tl = (size_t)d[pos + 2] << 8 | d[pos + 3];
		size_t li = d[pos + 4], s = pos + 5 + li;

		if (d[pos] != 3 || tl < 7 || pos + tl > n)
			return;
		if ((d[pos + 5] >> 4) == 0xF && s + 10 <= pos + tl) {
			if (d[s] == 0x72) {
				g->s7_plus = true;
			} else if (d[s] == 0x32 && d[s + 1] == 1 &&
				   s + 10 < pos + tl) {
				set_fn(g, d[s + 10]);
			} else if (d[s] == 0x32 && d[s + 1] == 7 &&
				   s + 10 + 8 <= pos + tl) {
				if ((d[s + 10 + 5] >> 4) == 4)
					g->s7_groups |= 1u << (d[s + 15] & 15);
			}
		}
		pos += tl;
	}
}

/* --- captures ------------------------------------------------------- */

static void frame(struct learn *l, const uint8_t *f, size_t len, double t)
{
	size_t off = 12, l4, end;
	uint16_t type, sp = 0, dp = 0;
	uint8_t src[16] = {}, dst[16] = {}, proto, flags = 0;
	int family;
	struct seen *s;
	bool rev;

	if (len < 14)
		return;
	type = f[off] << 8 | f[off + 1];
	while ((type == 0x8100 || type == 0x88a8) && len >= off + 6) {
		off += 4;
		type = f[off] << 8 | f[off + 1];
	}
	off += 2;
	if (type == 0x0800 && len >= off + 20) {
		size_t ihl = (f[off] & 15) * 4;

		family = 4;
		memcpy(src, f + off + 12, 4);
		memcpy(dst, f + off + 16, 4);
		proto = f[off + 9];
		/* non-first fragments carry no ports */
		if ((f[off + 6] & 0x1f) || f[off + 7])
			return;
		end = off + ((size_t)f[off + 2] << 8 | f[off + 3]);
		l4 = off + ihl;
	} else if (type == 0x86dd && len >= off + 40) {
		family = 6;
		memcpy(src, f + off + 8, 16);
		memcpy(dst, f + off + 24, 16);
		proto = f[off + 6];
		end = off + 40 + ((size_t)f[off + 4] << 8 | f[off + 5]);
		l4 = off + 40;
	} else {
		return;
	}
	if (end > len || end < l4)
		end = len;
	if (proto == 6 || proto == 17) {
		if (l4 + 8 > end)
			return;
		sp = f[l4] << 8 | f[l4 + 1];
		dp = f[l4 + 2] << 8 | f[l4 + 3];
	}
	if (proto == 6) {
		if (l4 + 20 > end)
			return;
		flags = f[l4 + 13];
	}
	s = find_seen(l, family, src, dst, sp, dp, proto, &rev);
	if (!s) {
		bool opens;

		if (proto == 6)
			/* A SYN; or, picked up mid-stream, the client side. */
			opens = (flags & 0x12) == 0x02 ||
				(!(flags & 0x02) &&
				 (dp == 502 || dp == 102 || dp == 44818 ||
				  (sp != 502 && sp != 102 && sp != 44818 &&
				   sp > dp)));
		else if (proto == 17)
			opens = true;
		else if (proto == 1)
			opens = l4 < end && f[l4] == 8;
		else if (proto == 58)
			opens = l4 < end && f[l4] == 128;
		else
			opens = true;
		if (!opens)
			return;
		s = grow(l->seen, &l->cap_seen, l->n_seen, sizeof(*s));
		if (!s)
			return;
		l->seen = s;
		s = &l->seen[l->n_seen++];
		memset(s, 0, sizeof(*s));
		s->family = family;
		memcpy(s->a, src, 16);
		memcpy(s->b, dst, 16);
		s->ap = sp;
		s->bp = dp;
		s->proto = proto;
		s->g = opened(l, family, src, dst, proto, dp, t, false);
		rev = false;
	} else if (!rev && proto == 6 && (flags & 0x12) == 0x02 && s->g) {
		/* A new SYN on a pair seen before: another connection. */
		s->g = opened(l, family, src, dst, proto, dp, t, false);
	}
	if (!rev && s->g && s->g->ics && proto == 6) {
		size_t doff = l4 + (f[l4 + 12] >> 4) * 4;

		if (doff < end)
			requests(s->g, f + doff, end - doff);
	}
}

static int learn_pcap(struct learn *l, const char *path)
{
	struct pcap_pkthdr *h;
	const u_char *d;
	uint64_t frames = 0;
	pcap_t *pc;
	int rc, err;

	err = cg_capture_open(path, &pc);
	if (err)
		return CG_EXIT_TROUBLE;
	while ((rc = pcap_next_ex(pc, &h, &d)) == 1) {
		frames++;
		frame(l, d, h->caplen, h->ts.tv_sec + h->ts.tv_usec / 1e6);
	}
	err = cg_capture_ended(path, pc, rc, frames) ? 0 : CG_EXIT_TROUBLE;
	pcap_close(pc);
	return err;
}

/* "3, 6]": the function codes of a connection record. */
static void parse_functions(struct group *g, const char *fs)
{
	char *e;

	while (*fs && *fs != ']') {
		unsigned long c = strtoul(fs, &e, 10);

		if (e == fs)
			return;
		if (g->ics == ICS_S7 && c >= 0x700)
			g->s7_groups |= 1u << (c & 15);
		else
			set_fn(g, c);
		for (fs = e; *fs == ',' || *fs == ' ';)
			fs++;
	}
}

/*
 * The connections of the log's records, by "src sport dst dport start":
 * interim and end records of one connection count once.
 */
#define SEEN_BUCKETS 4096

struct seen_key {
	struct seen_key *next;
	char k[];
};

static bool seen_before(struct seen_key **set, const char *k)
{
	uint32_t h = 2166136261u;
	const char *p;
	struct seen_key *e;

	for (p = k; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	h %= SEEN_BUCKETS;
	for (e = set[h]; e; e = e->next)
		if (!strcmp(e->k, k))
			return true;
	e = malloc(sizeof(*e) + strlen(k) + 1);
	if (e) {
		strcpy(e->k, k);
		e->next = set[h];
		set[h] = e;
	}
	return false;
}

static void seen_free(struct seen_key **set)
{
	size_t i;

	for (i = 0; i < SEEN_BUCKETS; i++)
		while (set[i]) {
			struct seen_key *n = set[i]->next;

			free(set[i]);
			set[i] = n;
		}
	free(set);
}

/* An event's function (a number as text) on an ICS flow. */
static void add_function(struct group *g, const char *text)
{
	unsigned long c = strtoul(text, NULL, 10);

	if (g->ics == ICS_S7 && c >= 0x700)
		g->s7_groups |= 1u << (c & 15);
	else
		set_fn(g, c);
}

/* --- run's log ------------------------------------------------------ */

/* The value of "key" in a JSON line of ours (a string or a number). */
static bool jfield(const char *line, const char *key, char *buf, size_t len)
{
	char pat[64];
	const char *p, *e;

	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	p = strstr(line, pat);
	if (!p)
		return false;
	p += strlen(pat);
	if (*p == '"') {
		e = strchr(++p, '"');
	} else {
		e = p + strcspn(p, ",}]");
	}
	if (!e || (size_t)(e - p) >= len)
		return false;
	memcpy(buf, p, e - p);
	buf[e - p] = 0;
	return true;
}

static double iso_time(const char *s)
{
	struct tm tm = {};
	double frac = 0;
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);

	if (!p)
		return 0;
	if (*p == '.')
		frac = strtod(p, NULL);
	return (double)timegm(&tm) + frac;
}

static int learn_log(struct learn *l, const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, src[64], dst[64], proto[16], dport[16], tm[64],
	     buf[64], sport[16], key[256];
	struct seen_key **set;
	size_t cap = 0;

	if (!f) {
		fprintf(stderr, "cranegate learn: cannot read %s: %s\n", path,
			strerror(errno));
		return CG_EXIT_TROUBLE;
	}
	set = calloc(SEEN_BUCKETS, sizeof(*set));
	while (getline(&line, &cap, f) > 0) {
		uint8_t a[16] = {}, b[16] = {};
		int family, pn;
		bool conn = strstr(line, "\"type\": \"connection\"") != NULL;
		struct group *g;

		/* Connection records; in monitor mode, would-be drops. */
		if (!conn && !(strstr(line, "\"type\": \"event\"") &&
			       strstr(line, "\"reason\": \"monitor\"")))
			continue;
		if (!jfield(line, "src", src, sizeof(src)) ||
		    !jfield(line, "dst", dst, sizeof(dst)) ||
		    !jfield(line, "proto", proto, sizeof(proto)))
			continue;
		family = strchr(src, ':') ? 6 : 4;
		if (inet_pton(family == 4 ? AF_INET : AF_INET6, src, a) != 1 ||
		    inet_pton(family == 4 ? AF_INET : AF_INET6, dst, b) != 1)
			continue;
		pn = !strcmp(proto, "tcp")	? 6
		     : !strcmp(proto, "udp")	? 17
		     : !strcmp(proto, "icmp")	? 1
		     : !strcmp(proto, "icmpv6") ? 58
						: atoi(proto);
		if (!jfield(line, "dport", dport, sizeof(dport)))
			strcpy(dport, "0");
		if (!jfield(line, conn ? "start" : "time", tm, sizeof(tm)))
			tm[0] = 0;
		if (!jfield(line, "sport", sport, sizeof(sport)))
			strcpy(sport, "0");
		/*
		 * An event is a frame: the first of its (addresses, ports)
		 * opens, in either direction; the other end's frames after it
		 * are its replies (in monitor mode, with no connection open,
		 * they are events too).
		 */
		if (!conn) {
			bool rev;
			struct seen *sn =
				find_seen(l, family, a, b, atoi(sport),
					  atoi(dport), pn, &rev);

			if (sn) {
				if (!rev && sn->g && sn->g->ics &&
				    jfield(line, "function", buf,
					   sizeof(buf)) &&
				    strcmp(buf, "null"))
					add_function(sn->g, buf);
				continue;
			}
			sn = grow(l->seen, &l->cap_seen, l->n_seen,
				  sizeof(*sn));
			if (!sn)
				continue;
			l->seen = sn;
			sn = &l->seen[l->n_seen++];
			memset(sn, 0, sizeof(*sn));
			sn->family = family;
			memcpy(sn->a, a, 16);
			memcpy(sn->b, b, 16);
			sn->ap = atoi(sport);
			sn->bp = atoi(dport);
			sn->proto = pn;
			sn->g = opened(l, family, a, b, pn, atoi(dport),
				       iso_time(tm), false);
			if (sn->g && sn->g->ics &&
			    jfield(line, "function", buf, sizeof(buf)) &&
			    strcmp(buf, "null"))
				add_function(sn->g, buf);
			continue;
		}
		snprintf(key, sizeof(key), "%s %s %s %s %s", src, sport, dst,
			 dport, tm);
		g = opened(l, family, a, b, pn, atoi(dport), iso_time(tm),
			   conn && set && seen_before(set, key));
		if (!g || !g->ics)
			continue;
		if (conn) {
			const char *fs = strstr(line, "\"functions\": [");

			if (jfield(line, "end", tm, sizeof(tm)) &&
			    iso_time(tm) > g->last)
				g->last = iso_time(tm);
			if (fs)
				parse_functions(g, fs + 14);
		}
	}
	free(line);
	fclose(f);
	if (set)
		seen_free(set);
	return 0;
}

/* --- the policy ----------------------------------------------------- */

static bool name_char(char c)
{
	return isalnum((unsigned char)c) || c == '.' || c == '_' || c == '-';
}

/* Does LINE hold the key `to:` (not `proto:`) with the value self? */
static bool names_to_self(const char *line)
{
	const char *k, *v;

	for (k = strstr(line, "to:"); k; k = strstr(k + 1, "to:")) {
		if (k > line && name_char(k[-1]))
			continue;
		v = k + 3 + strspn(k + 3, " ");
		if (!strncmp(v, "self", 4) && !name_char(v[4]))
			return true;
	}
	return false;
}

/*
 * The zones file without its version, name and flows; its flows that
 * reach the gateway itself (`to: self`, management access that traffic
 * through the gate cannot show) go to KEPT, as they are.
 */
static int copy_zones(const char *path, FILE *out, FILE *kept)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, *item = NULL;
	size_t cap = 0, item_len = 0;
	FILE *cur = NULL;
	bool skip = false, in_flows = false, to_self = false;

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		bool top = line[0] != ' ' && line[0] != '\t' &&
			   line[0] != '#' && line[0] != '\n' && line[0] != '-';
		const char *t = line + strspn(line, " \t");
		bool starts_item = in_flows && !top && !strncmp(t, "- ", 2) &&
				   t - line <= 2;

		if ((top || starts_item) && cur) {
			fclose(cur);
			cur = NULL;
			if (to_self)
				fwrite(item, 1, item_len, kept);
			free(item);
			item = NULL;
		}
		if (top) {
			in_flows = !strncmp(line, "flows:", 6);
			skip = in_flows || !strncmp(line, "version:", 8) ||
			       !strncmp(line, "name:", 5) ||
			       !strncmp(line, "mode:", 5) ||
			       !strncmp(line, "---", 3);
		}
		if (starts_item) {
			cur = open_memstream(&item, &item_len);
			to_self = false;
		}
		if (cur) {
			fputs(line, cur);
			if (names_to_self(line))
				to_self = true;
		}
		if (!skip)
			fputs(line, out);
	}
	if (cur) {
		fclose(cur);
		if (to_self)
			fwrite(item, 1, item_len, kept);
		free(item);
	}
	free(line);
	fclose(f);
	return 0;
}

static void addr_str(int family, const uint8_t *a, char *buf, size_t len)
{
	inet_ntop(family == 4 ? AF_INET : AF_INET6, a, buf, len);
}

/* A host's name, else its address; dashes for dots and colons. */
static void end_name(const struct cg_policy *p, int family, const uint8_t *a,
		     char *buf, size_t len)
{
	const char *h = host_of(p, family, a);
	char s[64];
	size_t i;

	if (h) {
		snprintf(buf, len, "%s", h);
		return;
	}
	addr_str(family, a, s, sizeof(s));
	for (i = 0; s[i]; i++)
		if (s[i] == '.' || s[i] == ':')
			s[i] = '-';
	snprintf(buf, len, "%s", s);
}

static void end_ref(const struct cg_policy *p, int family, const uint8_t *a,
		    char *buf, size_t len)
{
	const char *h = host_of(p, family, a);
	char s[64];

	addr_str(family, a, s, sizeof(s));
	if (h)
		snprintf(buf, len, "%s", h);
	else
		snprintf(buf, len, "\"%s/%d\"", s, family == 4 ? 32 : 128);
}

static void when(double t, char *buf, size_t len)
{
	time_t s = (time_t)t;
	struct tm tm;

	gmtime_r(&s, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int cmp_port(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* A CIP service that read-only admits (on some object, at least). */
static bool cip_read(unsigned sc)
{
	static const unsigned rd[] = {0x01, 0x03, 0x0E, 0x0A, 0x4C,
				      0x4E, 0x52, 0x54, 0x55, 0x5B};
	size_t i;

	for (i = 0; i < sizeof(rd) / sizeof(rd[0]); i++)
		if (rd[i] == sc)
			return true;
	return false;
}

static void print_ics(const struct group *g, FILE *out)
{
	bool all_read = true, any_fn = false, first = true;
	unsigned c;

	if (g->ics == ICS_ENIP) {
		for (c = 0; c < 256; c++)
			if ((g->fn[c >> 6] & (1ull << (c & 63))) &&
			    !cip_read(c) && !(c & 0x80))
				all_read = false;
		fprintf(out, "    enip: %s\n",
			all_read && !g->other ? "read-only" : "any");
		return;
	}

	for (c = 0; c < 256; c++) {
		if (!(g->fn[c >> 6] & (1ull << (c & 63))))
			continue;
		any_fn = true;
		if (g->ics == ICS_MODBUS ? !modbus_read(c)
					 : (c != 0x04 && c != 0xF0))
			all_read = false;
	}
	if (g->ics == ICS_MODBUS) {
		if (all_read && !g->other) {
			fputs("    modbus: read-only\n", out);
			return;
		}
		fputs("    modbus: [", out);
	} else {
		bool ud_read = !(g->s7_groups & ~((1u << 3) | (1u << 4)));

		if (g->s7_plus || !ud_read) {
			fputs("    s7comm: any\n", out);
			return;
		}
		if (all_read) {
			fputs("    s7comm: read-only\n", out);
			return;
		}
		if (g->s7_groups) {
			/* a list refuses userdata: only any admits both */
			fputs("    s7comm: any\n", out);
			return;
		}
		fputs("    s7comm: [", out);
	}
	for (c = 0; c < 256; c++)
		if (g->fn[c >> 6] & (1ull << (c & 63))) {
			fprintf(out, "%s%u", first ? "" : ", ", c);
			first = false;
		}
	fputs("]\n", out);
	(void)any_fn;
}

static void print_policy(struct learn *l, const struct cg_learn_opts *o,
			 FILE *out)
{
	const char *base = o->pcap ? o->pcap : o->log, *slash;
	char nm[400], sn[80], dn[80], sr[80], dr[80], t1[32], t2[32];
	size_t i, j, kept_len = 0;
	char *kept_text = NULL;
	FILE *kept;

	slash = strrchr(base, '/');
	base = slash ? slash + 1 : base;
	fprintf(out,
		"# Learned by `cranegate learn` from %s (%s): review it with\n"
		"# `cranegate check --strict` and `cranegate diff`, try it "
		"with\n"
		"# `apply --shadow`, apply it with `apply --confirm`.\n",
		o->pcap ? o->pcap : o->log, o->pcap ? "capture" : "run's log");
	fprintf(out, "version: 1\nname: learned-%.*s\nmode: enforce\n",
		(int)strcspn(base, "."), base);
	kept = open_memstream(&kept_text, &kept_len);
	if (kept) {
		copy_zones(o->zones, out, kept);
		fclose(kept);
	}
	if (!l->n_groups && !kept_len) {
		fputs("flows: []\n", out);
		free(kept_text);
		return;
	}
	fputs("flows:\n", out);
	if (kept_len)
		fprintf(out,
			"  # kept from %s: access to the gateway itself\n%s",
			o->zones, kept_text);
	free(kept_text);
	for (i = 0; i < l->n_groups; i++) {
		struct group *g = &l->groups[i];
		int zs = zone_of(l->p, g->family, g->src);
		int zd = zone_of(l->p, g->family, g->dst);
		const char *pn = g->proto == 6	  ? "tcp"
				 : g->proto == 17 ? "udp"
				 : g->proto == 1  ? "icmp"
				 : g->proto == 58 ? "icmpv6"
						  : "any";

		end_name(l->p, g->family, g->src, sn, sizeof(sn));
		end_name(l->p, g->family, g->dst, dn, sizeof(dn));
		end_ref(l->p, g->family, g->src, sr, sizeof(sr));
		end_ref(l->p, g->family, g->dst, dr, sizeof(dr));
		snprintf(nm, sizeof(nm), "%s-%s-to-%s-%s-%s%s",
			 zs >= 0 ? l->p->zones[zs].name : "any", sn,
			 zd >= 0 ? l->p->zones[zd].name : "outside", dn, pn,
			 g->ics == ICS_MODBUS ? "-modbus"
			 : g->ics == ICS_S7   ? "-s7comm"
			 : g->ics == ICS_ENIP ? "-enip"
					      : "");
		/* Names have at most CG_NAME_MAX - 1 characters: drop the
		 * zones, then fall back to a number. */
		if (strlen(nm) >= CG_NAME_MAX)
			snprintf(nm, sizeof(nm), "%s-to-%s-%s", sn, dn, pn);
		if (strlen(nm) >= CG_NAME_MAX)
			snprintf(nm, sizeof(nm), "learned-%zu-%s", i + 1, pn);
		when(g->first, t1, sizeof(t1));
		when(g->last, t2, sizeof(t2));
		fprintf(out,
			"  # learned: %llu connection%s, first %s, last %s\n",
			g->count, g->count == 1 ? "" : "s", t1, t2);
		fprintf(out, "  - name: %s\n    from: %s\n    to: %s\n", nm, sr,
			dr);
		fprintf(out, "    proto: %s\n", pn);
		if ((g->proto == 6 || g->proto == 17) && !g->all_ports) {
			qsort(g->ports, g->n_ports, sizeof(g->ports[0]),
			      cmp_port);
			fputs("    ports: [", out);
			for (j = 0; j < (size_t)g->n_ports; j++)
				fprintf(out, "%s%u", j ? ", " : "",
					g->ports[j]);
			fputs("]\n", out);
		}
		if (g->ics)
			print_ics(g, out);
	}
	if (l->intra || l->skipped_zone)
		fprintf(out,
			"# not in a flow: %llu connection%s within one zone, "
			"%llu from addresses in no zone\n",
			l->intra, l->intra == 1 ? "" : "s", l->skipped_zone);
}

int cg_learn(const struct cg_learn_opts *o, FILE *out)
{
	struct cg_diags d = {.file = o->zones};
	struct learn l = {};
	int err;

	err = cg_policy_load(o->zones, &l.p, &d);
	cg_diags_print(&d, stderr);
	cg_diags_free(&d);
	if (err)
		return CG_EXIT_TROUBLE;
	err = o->pcap ? learn_pcap(&l, o->pcap) : learn_log(&l, o->log);
	if (!err)
		print_policy(&l, o, out);
	free(l.groups);
	free(l.seen);
	cg_policy_free(l.p);
	return err;
}
