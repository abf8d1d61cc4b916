// SPDX-License-Identifier: GPL-2.0
/* Random policies and frames for the differential test; see gen.h.
 * This file: the PRNG, addresses and policies. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gen.h"
#include "gen_int.h"
#include "cip.h"
#include "ics.h"

const char *const cg_gen_ifnames[CG_GEN_N_IFNAMES] = {
	"gw0", "gw1", "gw2", "gw3", CG_GEN_IF_UNKNOWN,
};

/* ---- PRNG ---------------------------------------------------------- */

void cg_rng_seed(struct cg_rng *r, uint64_t seed)
{
	/* splitmix64 once, so that small and zero seeds spread out. */
	uint64_t z = seed + 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	r->s = z ? z : 1;
}

uint64_t cg_rng_next(struct cg_rng *r)
{
	/* xorshift64* */
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dull;
}

uint32_t cg_rng_below(struct cg_rng *r, uint32_t n)
{
	return n ? (uint32_t)((cg_rng_next(r) >> 32) % n) : 0;
}

bool cg_rng_pct(struct cg_rng *r, unsigned int percent)
{
	return cg_rng_below(r, 100) < percent;
}

uint32_t rng_range(struct cg_rng *r, uint32_t lo, uint32_t hi)
{
	return lo + cg_rng_below(r, hi - lo + 1);
}

/* ---- addresses ----------------------------------------------------- */

size_t alen(int family)
{
	return family == 4 ? 4 : 16;
}

/* Zero the bits of addr beyond len. */
static void mask_addr(uint8_t *addr, int family, unsigned int len)
{
	unsigned int i, bits = (unsigned int)alen(family) * 8;

	for (i = len; i < bits; i++)
		addr[i / 8] &= (uint8_t) ~(0x80 >> (i % 8));
}

void random_host_bits(struct cg_rng *r, uint8_t *addr, int family,
		      unsigned int len)
{
	unsigned int i, bits = (unsigned int)alen(family) * 8;

	for (i = len; i < bits; i++)
		if (cg_rng_pct(r, 50))
			addr[i / 8] |= (uint8_t)(0x80 >> (i % 8));
		else
			addr[i / 8] &= (uint8_t) ~(0x80 >> (i % 8));
}

/* Add +1 or -1 to an address, wrapping. */
static void addr_step(uint8_t *addr, int family, int dir)
{
	int i;

	for (i = (int)alen(family) - 1; i >= 0; i--) {
		if (dir > 0) {
			if (++addr[i] != 0)
				return;
		} else {
			if (addr[i]-- != 0)
				return;
		}
	}
}

static void format_addr(int family, const uint8_t *addr, char *buf, size_t size)
{
	inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, buf, (socklen_t)size);
}

static void format_prefix(const struct cg_prefix *p, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];

	format_addr(p->family, p->addr, a, sizeof(a));
	snprintf(buf, size, "%s/%u", a, p->len);
}

bool prefix_holds(const struct cg_prefix *p, int family, const uint8_t *addr)
{
	uint8_t a[16];

	if (p->family != family)
		return false;
	memcpy(a, addr, 16);
	mask_addr(a, family, p->len);
	return memcmp(a, p->addr, alen(family)) == 0;
}

/*
 * An address drawn from a prefix: mostly inside, sometimes its first or
 * last address, sometimes just outside either end.
 */
void addr_from_prefix(struct cg_rng *r, const struct cg_prefix *p, uint8_t *out)
{
	uint32_t mode = cg_rng_below(r, 100);

	memset(out, 0, 16);
	memcpy(out, p->addr, alen(p->family));
	if (mode < 70) {
		random_host_bits(r, out, p->family, p->len);
	} else if (mode < 78) {
		/* first address */
	} else if (mode < 86) {
		random_host_bits(r, out, p->family, p->len);
		{
			unsigned int i,
				bits = (unsigned int)alen(p->family) * 8;

			for (i = p->len; i < bits; i++)
				out[i / 8] |= (uint8_t)(0x80 >> (i % 8));
		}
	} else if (mode < 93) {
		addr_step(out, p->family, -1); /* just below */
	} else {
		unsigned int i, bits = (unsigned int)alen(p->family) * 8;

		for (i = p->len; i < bits; i++)
			out[i / 8] |= (uint8_t)(0x80 >> (i % 8));
		addr_step(out, p->family, +1); /* just above */
	}
}

/* ---- a growing string ---------------------------------------------- */

struct sbuf {
	char *s;
	size_t len, cap;
};

static void __attribute__((format(printf, 2, 3)))
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		b->cap = b->cap ? b->cap * 2 : 4096;
		b->s = realloc(b->s, b->cap);
		if (!b->s)
			abort();
	}
}

/* ---- policies ------------------------------------------------------ */

/*
 * Address plan. IPv4: 198.18.0.0/15 in 32 blocks of /20; IPv6:
 * 2001:2::/48 in /64 blocks 2001:2:0:B::. Every zone network sits in a
 * block of its own, so networks never overlap; blocks no zone uses hold
 * the addresses outside every zone.
 */
#define V4_BLOCKS 32
#define V6_BLOCKS 64

static void v4_block(unsigned int b, struct cg_prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->family = 4;
	p->len = 20;
	p->addr[0] = 198;
	p->addr[1] = (uint8_t)(18 + (b >> 4));
	p->addr[2] = (uint8_t)((b & 15) << 4);
}

static void v6_block(unsigned int b, struct cg_prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->family = 6;
	p->len = 64;
	p->addr[0] = 0x20;
	p->addr[1] = 0x01;
	p->addr[3] = 0x02;
	p->addr[7] = (uint8_t)b;
}

/* A random sub-prefix of `outer`, min_extra..max_extra bits longer. */
static void sub_prefix(struct cg_rng *r, const struct cg_prefix *outer,
		       unsigned int len, struct cg_prefix *out)
{
	*out = *outer;
	out->len = (uint8_t)len;
	random_host_bits(r, out->addr, out->family, outer->len);
	mask_addr(out->addr, out->family, len);
}

struct gen_zone {
	char name[16];
	int ifaces[2];
	int n_ifaces;
	uint16_t vlans[3];
	int n_vlans;
	struct cg_prefix nets[3];
	int n_nets;
};

struct gen_host {
	char name[16];
	struct cg_prefix addr;
};

struct gen_plan {
	struct gen_zone zones[6];
	int n_zones;
	struct gen_host hosts[8];
	int n_hosts;
	bool v4_used[V4_BLOCKS];
	bool v6_used[V6_BLOCKS];
};

static int free_block(struct cg_rng *r, bool *used, int n)
{
	int i, b = (int)cg_rng_below(r, (uint32_t)n);

	for (i = 0; i < n; i++, b = (b + 1) % n)
		if (!used[b])
			return b;
	return -1;
}

static void gen_zones(struct cg_rng *r, struct gen_plan *pl)
{
	static const uint16_t vlan_pool[] = {10, 20, 30, 100, 200, 4094};
	int n_if = (int)rng_range(r, 1, 4);
	bool untagged_taken[4] = {false};
	bool vlan_taken[4][6] = {{false}};
	int z, i, k;

	pl->n_zones = (int)rng_range(r, 2, 6);
	for (z = 0; z < pl->n_zones; z++) {
		struct gen_zone *zn = &pl->zones[z];

		snprintf(zn->name, sizeof(zn->name), "z%d", z);
		zn->ifaces[0] = (int)cg_rng_below(r, (uint32_t)n_if);
		zn->n_ifaces = 1;
		if (n_if > 1 && cg_rng_pct(r, 15)) {
			zn->ifaces[1] = (zn->ifaces[0] + 1) % n_if;
			zn->n_ifaces = 2;
		}
		/* Untagged if free on every interface, else VLANs. */
		bool untagged = cg_rng_pct(r, 45);

		for (i = 0; i < zn->n_ifaces; i++)
			if (untagged_taken[zn->ifaces[i]])
				untagged = false;
		if (untagged) {
			for (i = 0; i < zn->n_ifaces; i++)
				untagged_taken[zn->ifaces[i]] = true;
		} else {
			int want = (int)rng_range(r, 1, 3);

			for (k = 0; k < 6 && zn->n_vlans < want; k++) {
				int v = (int)cg_rng_below(r, 6), free = 1;

				for (i = 0; i < zn->n_ifaces; i++)
					if (vlan_taken[zn->ifaces[i]][v])
						free = 0;
				if (!free)
					continue;
				for (i = 0; i < zn->n_ifaces; i++)
					vlan_taken[zn->ifaces[i]][v] = true;
				zn->vlans[zn->n_vlans++] = vlan_pool[v];
			}
			if (zn->n_vlans == 0) {
				/*
				 * Every VLAN of the pool taken: untagged on an
				 * interface whose untagged zone is free, else
				 * a VLAN id no other zone uses.
				 */
				for (i = 0; i < 4; i++)
					if (!untagged_taken[i])
						break;
				if (i < 4) {
					untagged_taken[i] = true;
				} else {
					i = 0;
					zn->vlans[zn->n_vlans++] =
						(uint16_t)(4000 + z);
				}
				zn->ifaces[0] = i;
				zn->n_ifaces = 1;
			}
		}

		/* Networks: 1-2 IPv4, and IPv6 in most zones. */
		int n4 = (int)rng_range(r, 1, 2),
		    n6 = cg_rng_pct(r, 65) ? 1 : 0;

		for (i = 0; i < n4; i++) {
			struct cg_prefix blk;
			int b = free_block(r, pl->v4_used, V4_BLOCKS);

			if (b < 0)
				break;
			pl->v4_used[b] = true;
			v4_block((unsigned int)b, &blk);
			sub_prefix(r, &blk, rng_range(r, 20, 28),
				   &zn->nets[zn->n_nets++]);
		}
		for (i = 0; i < n6; i++) {
			static const uint8_t lens[] = {64, 72,	80,
						       96, 112, 120};
			struct cg_prefix blk;
			int b = free_block(r, pl->v6_used, V6_BLOCKS);

			if (b < 0)
				break;
			pl->v6_used[b] = true;
			v6_block((unsigned int)b, &blk);
			sub_prefix(r, &blk, PICK(r, lens),
				   &zn->nets[zn->n_nets++]);
		}
	}
}

/* A prefix outside every zone: inside an unused block. */
static void outside_prefix(struct cg_rng *r, struct gen_plan *pl, int family,
			   struct cg_prefix *out)
{
	struct cg_prefix blk;
	int b;

	if (family == 4) {
		b = free_block(r, pl->v4_used, V4_BLOCKS);
		v4_block(b < 0 ? 31 : (unsigned int)b, &blk);
		sub_prefix(r, &blk, rng_range(r, 20, 32), out);
	} else {
		b = free_block(r, pl->v6_used, V6_BLOCKS);
		v6_block(b < 0 ? 255 : (unsigned int)b, &blk);
		sub_prefix(r, &blk, rng_range(r, 64, 128), out);
	}
}

static const struct cg_prefix *random_zone_net(struct cg_rng *r,
					       const struct gen_plan *pl)
{
	const struct gen_zone *zn =
		&pl->zones[cg_rng_below(r, (uint32_t)pl->n_zones)];

	return &zn->nets[cg_rng_below(r, (uint32_t)zn->n_nets)];
}

/* An address (/32, /128) or small prefix inside a zone net or outside. */
static void gen_hosts(struct cg_rng *r, struct gen_plan *pl)
{
	int h;

	pl->n_hosts = (int)cg_rng_below(r, 7);
	for (h = 0; h < pl->n_hosts; h++) {
		struct gen_host *gh = &pl->hosts[h];

		snprintf(gh->name, sizeof(gh->name), "h%d", h);
		if (cg_rng_pct(r, 75)) {
			const struct cg_prefix *n = random_zone_net(r, pl);
			unsigned int max = n->family == 4 ? 32 : 128;
			unsigned int len = cg_rng_pct(r, 80)
						   ? max
						   : rng_range(r, n->len, max);

			sub_prefix(r, n, len, &gh->addr);
		} else {
			outside_prefix(r, pl, cg_rng_pct(r, 70) ? 4 : 6,
				       &gh->addr);
			if (cg_rng_pct(r, 70))
				sub_prefix(r, &gh->addr,
					   gh->addr.family == 4 ? 32 : 128,
					   &gh->addr);
		}
	}
}

/* One CIDR for a flow's from/to. */
static void gen_cidr(struct cg_rng *r, struct gen_plan *pl,
		     struct cg_prefix *out)
{
	uint32_t kind = cg_rng_below(r, 100);
	const struct cg_prefix *n = random_zone_net(r, pl);
	unsigned int max = n->family == 4 ? 32 : 128;

	if (kind < 30) {
		/* inside a zone network */
		sub_prefix(r, n, rng_range(r, n->len, max), out);
	} else if (kind < 55) {
		/* wider than a zone network: its block or more */
		static const uint8_t w4[] = {15, 16, 18, 19, 20};
		static const uint8_t w6[] = {48, 56, 60, 62, 64};
		uint8_t len = n->family == 4 ? PICK(r, w4) : PICK(r, w6);

		*out = *n;
		if (len > n->len)
			len = n->len;
		out->len = len;
		mask_addr(out->addr, out->family, len);
	} else if (kind < 80) {
		outside_prefix(r, pl, n->family, out);
	} else {
		sub_prefix(r, n, max, out);
	}
}

static void emit_prefix_item(struct sbuf *b, const struct cg_prefix *p)
{
	char buf[64];

	if (p->len == (p->family == 4 ? 32 : 128))
		format_addr(p->family, p->addr, buf, sizeof(buf));
	else
		format_prefix(p, buf, sizeof(buf));
	/* "2001:2::" ends in ':', which YAML would read as a key. */
	if (buf[strlen(buf) - 1] == ':')
		sb_printf(b, "\"%s\"", buf);
	else
		sb_printf(b, "%s", buf);
}

static unsigned int fam_bit(int family)
{
	return family == 4 ? 1u : 2u;
}

/*
 * A flow's `from` or `to`: 1-3 items (zones, hosts, CIDRs) written into
 * `b`; returns the address families they hold (bit 0 IPv4, bit 1 IPv6).
 */
static unsigned int gen_endpoints(struct cg_rng *r, struct gen_plan *pl,
				  struct sbuf *b, const char *key)
{
	int n = cg_rng_pct(r, 70) ? 1 : (int)rng_range(r, 2, 3), i, k;
	bool list = n > 1 || cg_rng_pct(r, 20);
	unsigned int fams = 0;

	sb_printf(b, "    %s: %s", key, list ? "[" : "");
	for (i = 0; i < n; i++) {
		uint32_t kind = cg_rng_below(r, 100);

		if (i)
			sb_printf(b, ", ");
		if (kind < 50) {
			const struct gen_zone *zn = &pl->zones[cg_rng_below(
				r, (uint32_t)pl->n_zones)];

			for (k = 0; k < zn->n_nets; k++)
				fams |= fam_bit(zn->nets[k].family);
			sb_printf(b, "%s", zn->name);
		} else if (kind < 70 && pl->n_hosts) {
			const struct gen_host *gh = &pl->hosts[cg_rng_below(
				r, (uint32_t)pl->n_hosts)];

			fams |= fam_bit(gh->addr.family);
			sb_printf(b, "%s", gh->name);
		} else {
			struct cg_prefix c;

			gen_cidr(r, pl, &c);
			fams |= fam_bit(c.family);
			emit_prefix_item(b, &c);
		}
	}
	sb_printf(b, "%s\n", list ? "]" : "");
	return fams;
}

static void emit_ports(struct cg_rng *r, struct sbuf *b)
{
	static const uint16_t pool[] = {1,   22,   53,	 80,   102,   123,  443,
					502, 1024, 8000, 8080, 20000, 65535};
	int n = (int)rng_range(r, 1, 3), i;

	sb_printf(b, "    ports: [");
	for (i = 0; i < n; i++) {
		uint32_t lo = cg_rng_pct(r, 60) ? PICK(r, pool)
						: rng_range(r, 1, 65535);

		if (i)
			sb_printf(b, ", ");
		if (cg_rng_pct(r, 60)) {
			sb_printf(b, "%u", lo);
		} else {
			uint32_t hi =
				lo +
				cg_rng_below(r, cg_rng_pct(r, 70) ? 16 : 5000);

			if (hi > 65535)
				hi = 65535;
			sb_printf(b, "\"%u-%u\"", lo, hi);
		}
	}
	sb_printf(b, "]\n");
}

/*
 * `modbus:` and `s7comm:` on a TCP flow, with ports that hold the
 * protocols' ports (or none): any, read-only, or a list of codes drawn
 * from those the contract names and a few others.
 */
static void emit_ics_rule(struct cg_rng *r, struct sbuf *b, const char *key,
			  const uint8_t *pool, size_t n_pool)
{
	bool seen[256] = {false};
	uint32_t k = cg_rng_below(r, 100), n, i;

	if (k < 30) {
		sb_printf(b, "    %s: any\n", key);
		return;
	}
	if (k < 75) {
		sb_printf(b, "    %s: read-only\n", key);
		return;
	}
	n = rng_range(r, 1, 5);
	sb_printf(b, "    %s: [", key);
	for (i = 0; i < n; i++) {
		uint8_t code = cg_rng_pct(r, 90)
				       ? pool[cg_rng_below(r, (uint32_t)n_pool)]
				       : (uint8_t)cg_rng_below(r, 256);

		if (seen[code])
			continue;
		seen[code] = true;
		sb_printf(b, "%s%u", i ? ", " : "", code);
	}
	sb_printf(b, "]\n");
}

/* A time as RFC 3339, in UTC or (half the time) with an offset. */
static void emit_time(struct cg_rng *r, struct sbuf *b, const char *key,
		      time_t t)
{
	static const int offsets[] = {60, -300, 330, 120}; /* minutes */
	int off = cg_rng_pct(r, 50) ? offsets[cg_rng_below(r, 4)] : 0;
	time_t local = t + off * 60;
	struct tm tm;
	char buf[32];

	gmtime_r(&local, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	if (off)
		sb_printf(b, "%s: %s%c%02d:%02d", key, buf, off < 0 ? '-' : '+',
			  abs(off) / 60, abs(off) % 60);
	else
		sb_printf(b, "%s: %sZ", key, buf);
}

/*
 * `valid:` windows that are clearly past, clearly future or clearly
 * current: every bound lies at least an hour from `now`, so the verdict
 * does not depend on how long the test takes. Half-open windows too.
 */
static void emit_valid(struct cg_rng *r, struct sbuf *b, time_t now)
{
	time_t h = 3600;
	time_t from = 0, until = 0;

	switch (cg_rng_below(r, 5)) {
	case 0: /* ended */
		until = now - (time_t)rng_range(r, 1, 48) * h;
		from = cg_rng_pct(r, 70)
			       ? until - (time_t)rng_range(r, 1, 8) * h
			       : 0;
		break;
	case 1: /* not yet */
		from = now + (time_t)rng_range(r, 1, 48) * h;
		until = cg_rng_pct(r, 70)
				? from + (time_t)rng_range(r, 1, 8) * h
				: 0;
		break;
	case 2: /* open, until */
		until = now + (time_t)rng_range(r, 1, 48) * h;
		break;
	case 3: /* open, from */
		from = now - (time_t)rng_range(r, 1, 48) * h;
		break;
	default: /* open, both */
		from = now - (time_t)rng_range(r, 1, 48) * h;
		until = now + (time_t)rng_range(r, 1, 48) * h;
		break;
	}
	sb_printf(b, "    valid: {");
	if (from)
		emit_time(r, b, "from", from);
	if (from && until)
		sb_printf(b, ", ");
	if (until)
		emit_time(r, b, "until", until);
	sb_printf(b, "}\n");
}

/*
 * Address ranges of `modbus: allow:` rules come from this pool, and the
 * requests' addresses from around its edges (modbus_edges), so that
 * requests land on, inside and just outside them.
 */
static const char *const mb_range_pool[] = {
	"0-9",	     "10-19",	  "100-119",	 "120-130", "200",
	"1000-1009", "2000-2003", "65530-65535", "50-59",   "60-69",
};
const uint16_t modbus_edges[] = {
	0,    1,    5,	   9,	  10,	 19,	20,   50,   55,	   60,
	69,   70,   99,	   100,	  101,	 118,	119,  120,  130,   131,
	199,  200,  201,   999,	  1000,	 1005,	1009, 1010, 1999,  2000,
	2003, 2004, 65529, 65530, 65534, 65535, 300,  4096, 40000, 7,
};

/* `modbus: {allow: [...]}`: 1-4 rules over classes, codes, units, ranges. */
static void emit_modbus_allow(struct cg_rng *r, struct sbuf *b)
{
	static const char *const classes[] = {"read", "write", "diagnostics",
					      "program", "other"};
	static const uint8_t codes[] = {1,  2,	3,  4, 5,  6, 15, 16,
					22, 23, 43, 8, 90, 7, 21, 65};
	uint32_t n = rng_range(r, 1, 4), i, k, m;

	sb_printf(b, "    modbus:\n      allow:\n");
	for (i = 0; i < n; i++) {
		bool seen_c[5] = {false}, seen_f[256] = {false};
		bool seen_u[256] = {false};
		int first = 1;

		sb_printf(b, "        - {functions: [");
		m = rng_range(r, 1, 3);
		for (k = 0; k < m; k++) {
			if (cg_rng_pct(r, 45)) {
				uint32_t c = cg_rng_below(r, 5);

				if (seen_c[c])
					continue;
				seen_c[c] = true;
				sb_printf(b, "%s%s", first ? "" : ", ",
					  classes[c]);
			} else {
				uint8_t c = PICK(r, codes);

				if (seen_f[c])
					continue;
				seen_f[c] = true;
				sb_printf(b, "%s%u", first ? "" : ", ", c);
			}
			first = 0;
		}
		sb_printf(b, "]");
		if (cg_rng_pct(r, 50)) {
			sb_printf(b, ", units: [");
			m = rng_range(r, 1, 3);
			for (k = 0, first = 1; k < m; k++) {
				uint8_t u =
					cg_rng_pct(r, 60)
						? (uint8_t)rng_range(r, 1, 2)
						: (uint8_t)cg_rng_next(r);

				if (seen_u[u])
					continue;
				seen_u[u] = true;
				sb_printf(b, "%s%u", first ? "" : ", ", u);
				first = 0;
			}
			sb_printf(b, "]");
		}
		if (cg_rng_pct(r, 60)) {
			bool seen_r[10] = {false};

			sb_printf(b, ", addresses: [");
			m = rng_range(r, 1, 4);
			for (k = 0, first = 1; k < m; k++) {
				uint32_t a = cg_rng_below(r, 10);

				if (seen_r[a])
					continue;
				seen_r[a] = true;
				sb_printf(b, "%s%s", first ? "" : ", ",
					  mb_range_pool[a]);
				first = 0;
			}
			sb_printf(b, "]");
		}
		sb_printf(b, "}\n");
	}
}

/*
 * `enip: {allow: [...]}`: 1-4 rules over service classes and codes, some
 * with object classes, drawn from what the CIP generator sends.
 */
static void emit_enip_allow(struct cg_rng *r, struct sbuf *b)
{
	static const char *const names[] = {"read", "write", "control",
					    "connection", "other"};
	static const uint8_t codes[] = {0x4d, 0x10, 0x07, 0x4e, 0x52,
					0x54, 0x0a, 0x02, 0x4c, 0x32};
	static const unsigned objs[] = {0x06, 0x6b, 0x8e, 0x01,
					0x02, 0xf5, 0x300};
	uint32_t n = rng_range(r, 1, 4), i, k, m;
	bool seen_c[5], seen_x[256], seen_o[7];

	sb_printf(b, "    enip:\n      allow:\n");
	for (i = 0; i < n; i++) {
		const char *sep = "";

		memset(seen_c, 0, sizeof(seen_c));
		memset(seen_x, 0, sizeof(seen_x));
		memset(seen_o, 0, sizeof(seen_o));
		sb_printf(b, "        - {services: [");
		m = rng_range(r, 1, 3);
		for (k = 0; k < m; k++) {
			if (cg_rng_pct(r, 55)) {
				uint32_t c = cg_rng_below(r, 5);

				if (seen_c[c])
					continue;
				seen_c[c] = true;
				sb_printf(b, "%s%s", sep, names[c]);
			} else {
				uint8_t c = PICK(r, codes);

				if (seen_x[c])
					continue;
				seen_x[c] = true;
				sb_printf(b, "%s0x%02x", sep, c);
			}
			sep = ", ";
		}
		if (!*sep)
			sb_printf(b, "read");
		sb_printf(b, "]");
		if (cg_rng_pct(r, 45)) {
			sep = "";
			sb_printf(b, ", classes: [");
			m = rng_range(r, 1, 3);
			for (k = 0; k < m; k++) {
				uint32_t o = cg_rng_below(r, 7);

				if (seen_o[o])
					continue;
				seen_o[o] = true;
				sb_printf(b, "%s0x%x", sep, objs[o]);
				sep = ", ";
			}
			sb_printf(b, "]");
		}
		sb_printf(b, "}\n");
	}
}

static void emit_ics(struct cg_rng *r, struct sbuf *b)
{
	static const uint8_t modbus_pool[] = {1,  2,  3,  4,  5,  6,   7,
					      8,  15, 16, 17, 22, 23,  43,
					      90, 20, 21, 24, 0,  129, 255};
	static const uint8_t s7_pool[] = {0x04, 0xf0, 0x05, 0x1a, 0x1b, 0x1c,
					  0x1d, 0x1e, 0x1f, 0x28, 0x29, 0x00};
	uint32_t k = cg_rng_below(r, 100);
	bool modbus = k < 80, s7 = k >= 45, enip = cg_rng_pct(r, 35);
	const char *sep = "";

	/* EtherNet/IP alone, or beside the others (read on 44818). */
	if (enip && cg_rng_pct(r, 50))
		modbus = s7 = false;
	if (cg_rng_pct(r, 55)) {
		sb_printf(b, "    ports: [");
		if (modbus) {
			sb_printf(b, "502");
			sep = ", ";
		}
		if (s7) {
			sb_printf(b, "%s102", sep);
			sep = ", ";
		}
		if (enip)
			sb_printf(b, "%s%u", sep, CG_ENIP_TEST_PORT);
		if (cg_rng_pct(r, 25))
			sb_printf(b, ", \"%u-%u\"", 1000,
				  1000 + cg_rng_below(r, 16));
		sb_printf(b, "]\n");
	}
	if (modbus && cg_rng_pct(r, 35))
		emit_modbus_allow(r, b);
	else if (modbus)
		emit_ics_rule(r, b, "modbus", modbus_pool, sizeof(modbus_pool));
	if (s7)
		emit_ics_rule(r, b, "s7comm", s7_pool, sizeof(s7_pool));
	if (enip && cg_rng_pct(r, 35))
		emit_enip_allow(r, b);
	else if (enip)
		sb_printf(b, "    enip: %s\n",
			  cg_rng_pct(r, 70) ? "read-only" : "any");
}

char *cg_gen_policy(struct cg_rng *r)
{
	static const char *const protos[] = {"tcp",  "tcp",    "udp", "udp",
					     "icmp", "icmpv6", "any", "any"};
	struct gen_plan pl;
	struct sbuf b = {0};
	int i, k, n_flows, n_timed = 0;
	/* Whole hours, so that a seed gives the same policy within an hour. */
	time_t now = time(NULL) / 3600 * 3600;

	memset(&pl, 0, sizeof(pl));
	gen_zones(r, &pl);
	gen_hosts(r, &pl);

	sb_printf(&b, "version: 1\nname: generated\n");
	if (cg_rng_pct(r, 15))
		sb_printf(&b, "mode: monitor\n");
	if (cg_rng_pct(r, 10))
		sb_printf(&b, "fragments: pass\n");
	sb_printf(&b, "zones:\n");
	for (i = 0; i < pl.n_zones; i++) {
		const struct gen_zone *zn = &pl.zones[i];

		sb_printf(&b, "  %s:\n    interfaces: [", zn->name);
		for (k = 0; k < zn->n_ifaces; k++)
			sb_printf(&b, "%s%s", k ? ", " : "",
				  cg_gen_ifnames[zn->ifaces[k]]);
		sb_printf(&b, "]\n");
		if (zn->n_vlans) {
			sb_printf(&b, "    vlans: [");
			for (k = 0; k < zn->n_vlans; k++)
				sb_printf(&b, "%s%u", k ? ", " : "",
					  zn->vlans[k]);
			sb_printf(&b, "]\n");
		}
		sb_printf(&b, "    networks: [");
		for (k = 0; k < zn->n_nets; k++) {
			char buf[64];

			format_prefix(&zn->nets[k], buf, sizeof(buf));
			sb_printf(&b, "%s%s", k ? ", " : "", buf);
		}
		sb_printf(&b, "]\n");
	}
	if (pl.n_hosts) {
		sb_printf(&b, "hosts:\n");
		for (i = 0; i < pl.n_hosts; i++) {
			const struct cg_prefix *a = &pl.hosts[i].addr;
			unsigned int n = a->family == 4 ? 4 : 16;

			sb_printf(&b, "  %s: ", pl.hosts[i].name);
			/* Half the single hosts are bound to their station
			 * MAC (02:01 + the address's last four bytes). */
			if (a->len == n * 8 && cg_rng_pct(r, 50)) {
				sb_printf(&b, "{address: ");
				emit_prefix_item(&b, a);
				sb_printf(
					&b,
					", mac: \"02:01:%02x:%02x:%02x:%02x\"}",
					a->addr[n - 4], a->addr[n - 3],
					a->addr[n - 2], a->addr[n - 1]);
			} else {
				emit_prefix_item(&b, a);
			}
			sb_printf(&b, "\n");
		}
	}

	n_flows = (int)rng_range(r, 1, 40);
	sb_printf(&b, "flows:\n");
	for (i = 0; i < n_flows; i++) {
		struct sbuf ends = {0};
		unsigned int both = 0;
		const char *proto;
		bool portable;

		/* from and to must share a family; icmp needs IPv4 in
		 * both, icmpv6 IPv6 (the parser refuses the rest). */
		while (!both) {
			ends.len = 0;
			both = gen_endpoints(r, &pl, &ends, "from");
			/* Some flows reach the gateway itself (`self`:
			 * either family, learned at apply). */
			if (cg_rng_below(r, 8) == 0)
				sb_printf(&ends, "    to: self\n");
			else
				both &= gen_endpoints(r, &pl, &ends, "to");
		}
		do
			proto = PICK(r, protos);
		while ((!strcmp(proto, "icmp") && !(both & 1)) ||
		       (!strcmp(proto, "icmpv6") && !(both & 2)));
		portable = !strcmp(proto, "tcp") || !strcmp(proto, "udp") ||
			   !strcmp(proto, "any");

		sb_printf(&b, "  - name: f%d\n%s", i, ends.s);
		free(ends.s);
		sb_printf(&b, "    proto: %s\n", proto);
		if (!strcmp(proto, "tcp") && cg_rng_pct(r, 45)) {
			emit_ics(r, &b);
			/* A refused request answered with a RST. */
			if (cg_rng_pct(r, 40))
				sb_printf(&b, "    deny: reset\n");
		} else if (portable &&
			   cg_rng_pct(r, strcmp(proto, "any") ? 60 : 25))
			emit_ports(r, &b);
		if (cg_rng_pct(r, 10))
			sb_printf(&b, "    log: true\n");
		/* At most 3 time-boxed flows: a chain (CG_CHAIN_MAX) then
		 * always fits, as the compiler demands. */
		if (n_timed < 3 && cg_rng_pct(r, 20)) {
			emit_valid(r, &b, now);
			n_timed++;
		}
	}
	return b.s;
}
