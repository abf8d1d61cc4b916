// SPDX-License-Identifier: GPL-2.0
/*
 * The values of the policy language, apart from the parser: prefixes
 * (parse, contain, overlap, print), RFC 3339 times and windows, protocol
 * names. See policy.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy.h"

/* ------------------------------------------------------------------ */
/* Prefixes                                                            */

static int addr_bytes(int family)
{
	return family == 4 ? 4 : 16;
}

/* Zero every bit beyond p->len. */
static void prefix_mask(struct cg_prefix *p)
{
	int i;

	for (i = 0; i < 16; i++) {
		int bit = i * 8;

		if (i >= addr_bytes(p->family) || bit >= p->len)
			p->addr[i] = 0;
		else if (bit + 8 > p->len)
			p->addr[i] &= (uint8_t)(0xff << (8 - (p->len - bit)));
	}
}

/* Whether the first `len` bits of a and b are equal. */
static bool bits_equal(const uint8_t *a, const uint8_t *b, unsigned int len)
{
	unsigned int full = len / 8, rem = len % 8;

	if (memcmp(a, b, full))
		return false;
	if (rem) {
		uint8_t m = (uint8_t)(0xff << (8 - rem));

		return ((a[full] ^ b[full]) & m) == 0;
	}
	return true;
}

int cg_prefix_parse(const char *s, struct cg_prefix *out)
{
	char buf[INET6_ADDRSTRLEN];
	struct cg_prefix p = {0}, m;
	const char *slash;
	size_t alen;
	int max;

	if (!s)
		return -EINVAL;
	slash = strchr(s, '/');
	alen = slash ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, p.addr) == 1) {
		p.family = 4;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, p.addr) == 1) {
		p.family = 6;
		max = 128;
	} else {
		return -EINVAL;
	}
	if (slash) {
		const char *q = slash + 1;
		int len = 0;

		if (!*q || strlen(q) > 3)
			return -EINVAL;
		for (; *q; q++) {
			if (*q < '0' || *q > '9')
				return -EINVAL;
			len = len * 10 + (*q - '0');
		}
		if (len > max)
			return -EINVAL;
		p.len = (uint8_t)len;
	} else {
		p.len = (uint8_t)max;
	}
	m = p;
	prefix_mask(&m);
	*out = m;
	return memcmp(m.addr, p.addr, sizeof(p.addr)) ? -EDOM : 0;
}

bool cg_prefix_v4mapped(const struct cg_prefix *p)
{
	static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};

	return p->family == 6 && p->len >= 96 &&
	       !memcmp(p->addr, mapped, sizeof(mapped));
}

bool cg_prefix_contains(const struct cg_prefix *outer,
			const struct cg_prefix *inner)
{
	return outer->family == inner->family && outer->len <= inner->len &&
	       bits_equal(outer->addr, inner->addr, outer->len);
}

bool cg_prefix_overlaps(const struct cg_prefix *a, const struct cg_prefix *b)
{
	return a->family == b->family &&
	       bits_equal(a->addr, b->addr, a->len < b->len ? a->len : b->len);
}

bool cg_prefix_has_addr(const struct cg_prefix *p, int family,
			const uint8_t *addr)
{
	if (family == AF_INET)
		family = 4;
	else if (family == AF_INET6)
		family = 6;
	return p->family == family && bits_equal(p->addr, addr, p->len);
}

void cg_prefix_format(const struct cg_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(p->family == 4 ? AF_INET : AF_INET6, p->addr, a,
		       sizeof(a)))
		snprintf(a, sizeof(a), "?");
	snprintf(buf, len, "%s/%u", a, p->len);
}

/* Days from 1970-01-01 to the given proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* `n` decimal digits at s; -1 when they are not all digits. */
static int digits(const char *s, int n)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int cg_time_parse(const char *s, int64_t *out, const char **why)
{
	static const unsigned mdays[] = {31, 28, 31, 30, 31, 30,
					 31, 31, 30, 31, 30, 31};
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	const char *t;
	bool leap;

	*why = "expected an RFC 3339 time such as 2026-12-01T08:00:00Z";
	if (strlen(s) < 19)
		return -EINVAL;
	y = digits(s, 4);
	mo = digits(s + 5, 2);
	d = digits(s + 8, 2);
	h = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	sec = digits(s + 17, 2);
	if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || sec < 0 ||
	    s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
	    s[13] != ':' || s[16] != ':')
		return -EINVAL;
	t = s + 19;
	if (*t == '.') {
		*why = "fractional seconds are not supported; windows are in "
		       "whole seconds";
		return -EINVAL;
	}
	if ((*t == 'Z' || *t == 'z') && !t[1]) {
		/* UTC */
	} else if ((*t == '+' || *t == '-') && strlen(t) == 6 && t[3] == ':' &&
		   (oh = digits(t + 1, 2)) >= 0 &&
		   (om = digits(t + 4, 2)) >= 0) {
		sign = *t == '+' ? 1 : -1;
	} else {
		*why = "expected Z or an offset such as +01:00 after the "
		       "seconds (a time without one is ambiguous)";
		return -EINVAL;
	}
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 ||
	    d > (int)mdays[mo - 1] + (mo == 2 && leap) || h > 23 || mi > 59 ||
	    sec > 59 || oh > 23 || om > 59) {
		*why = "no such date or time (year from 1970, second 00-59)";
		return -EINVAL;
	}
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
	       sign * (oh * 3600 + om * 60);
	return 0;
}

void cg_time_format(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (!gmtime_r(&tt, &tm) ||
	    !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "@%lld", (long long)t);
}

bool cg_window_open(const struct cg_window *w, int64_t now_ns)
{
	/* In whole seconds: a window's bound in nanoseconds would overflow
	 * int64_t after 2262. Floor division keeps the comparisons exact. */
	int64_t now_s = now_ns / 1000000000LL - (now_ns % 1000000000LL < 0);

	if (!w->timed)
		return true;
	if (w->has_from && now_s < w->from)
		return false;
	if (w->has_until && now_s >= w->until)
		return false;
	return true;
}

const char *cg_proto_name(enum cg_proto p)
{
	switch (p) {
	case CG_P_ANY:
		return "any";
	case CG_P_TCP:
		return "tcp";
	case CG_P_UDP:
		return "udp";
	case CG_P_ICMP:
		return "icmp";
	case CG_P_ICMPV6:
		return "icmpv6";
	}
	return "?";
}
