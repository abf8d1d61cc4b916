// SPDX-License-Identifier: GPL-2.0
/* Random policies and frames for the differential test; see gen.h. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gen.h"
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

static uint32_t rng_range(struct cg_rng *r, uint32_t lo, uint32_t hi)
{
	return lo + cg_rng_below(r, hi - lo + 1);
}

#define PICK(r, arr) ((arr)[cg_rng_below((r), sizeof(arr) / sizeof((arr)[0]))])

/* ---- addresses ----------------------------------------------------- */

static size_t alen(int family)
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

static void random_host_bits(struct cg_rng *r, uint8_t *addr, int family,
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

static bool prefix_holds(const struct cg_prefix *p, int family,
			 const uint8_t *addr)
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
static void addr_from_prefix(struct cg_rng *r, const struct cg_prefix *p,
			     uint8_t *out)
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
static const uint16_t modbus_edges[] = {
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

/* ---- frames -------------------------------------------------------- */

#define HIST 16
#define GEN_PAYLOAD_MAX 512 /* room for several ADUs or TPKTs */

/* What a TCP payload carries, for the ICS sequels of a frame. */
enum gen_ics {
	GEN_ICS_NONE = 0,
	GEN_ICS_MODBUS,
	GEN_ICS_S7,
	GEN_ICS_ENIP,
};

struct hist_entry {
	struct cg_frame_spec spec;
	const char *ifname;
	enum gen_ics ics;  /* the protocol of its conversation */
	bool ics_response; /* it went from the server to the client */
	uint8_t payload[GEN_PAYLOAD_MAX];
};

/*
 * A TCP stream on an inspected flow, followed with real sequence
 * numbers: the client's ISN and next, the last runs of data it sent in
 * order (which the gate passed, if it judged them as the generator
 * hopes), the server's side.
 */
#define GEN_RUNS 6
struct gen_stream {
	bool active;
	bool synced; /* started with a SYN, not picked up */
	bool closed; /* the client's FIN or RST, or the server's RST, sent */
	struct cg_frame_spec spec; /* client to server */
	const char *ifname, *srv_ifname;
	uint16_t srv_vid;
	enum gen_ics ics;
	uint32_t isn, next, srv_seq;
	uint32_t run_start[GEN_RUNS], run_len[GEN_RUNS];
	uint8_t run[GEN_RUNS][GEN_PAYLOAD_MAX];
	size_t n_runs, next_run;
};

struct cg_gen_frames {
	const struct cg_policy *p;
	struct cg_prefix *pfx; /* every prefix the policy mentions */
	size_t n_pfx;
	uint16_t *ports; /* every port range edge, and its neighbours */
	size_t n_ports;
	struct hist_entry hist[HIST];
	size_t n_hist, next_hist;
	/*
	 * The latest ICS conversation, continued often, so that requests
	 * inside established connections (the program's fast path) are
	 * common; `ics` and `ics_response` describe the frame being made.
	 */
	struct hist_entry conv;
	bool has_conv;
	enum gen_ics ics;
	bool ics_response;
	bool ics_clean; /* the frame starts or continues a clean conversation */
	bool ics_start; /* ics_fresh made it: it may start a stream */
	/*
	 * The stream followed, and what it becomes if the frame just made
	 * passes (see cg_gen_feedback): what the generator believes of the
	 * receiver's stream moves only with what the gate let through.
	 */
	struct gen_stream stream, proposed;
	bool has_proposed;
	/*
	 * A shared-id sequence in progress (1-3, 0: none): a first fragment
	 * between the ICS conversation's two hosts on another port, one on
	 * the conversation itself, then a tail, all with one IP id.
	 */
	int shared_step;
	bool shared_dstopts; /* IPv6: fragment -> destination options */
	uint8_t arp_hrd;     /* the frame is ARP: its hardware type, 1 or 6 */
	bool arp_sha_other;  /* ... and its sender MAC is not the frame's */
};

/*
 * Fragment ids: often one shared value, so that datagrams of different
 * flows between the same hosts collide in the fragment table.
 */
static uint32_t frag_id(struct cg_rng *r)
{
	return cg_rng_pct(r, 40) ? 4242 : (uint32_t)cg_rng_next(r);
}

/* The station MAC the generator gives an address (see cg_gen_frame). */
static void station_mac(int family, const uint8_t *addr, uint8_t *mac)
{
	size_t n = family == 4 ? 4 : 16;

	mac[0] = 0x02;
	mac[1] = 0x01;
	memcpy(mac + 2, addr + n - 4, 4);
}

/* A bound host's address of `family` (random among them), or false. */
static bool bound_host(struct cg_rng *r, const struct cg_policy *p, int family,
		       uint8_t *addr)
{
	size_t i, n = 0, pick;

	for (i = 0; i < p->n_hosts; i++)
		if (p->hosts[i].has_mac && p->hosts[i].addr.family == family)
			n++;
	if (!n)
		return false;
	pick = cg_rng_below(r, (uint32_t)n);
	for (i = 0; i < p->n_hosts; i++)
		if (p->hosts[i].has_mac && p->hosts[i].addr.family == family &&
		    !pick--) {
			memcpy(addr, p->hosts[i].addr.addr, 16);
			return true;
		}
	return false;
}

/*
 * An ND message of type 133-137 (README step 5): on-link or not, its
 * fixed part (sometimes cut short), a target that is often a bound host,
 * and 0-3 options: link-layer options naming the source's station, the
 * target's, or another MAC; other options; sometimes a bad length.
 * Writes the body (after the 8-byte ICMPv6 header) into `payload`.
 */
static size_t nd_message(struct cg_gen_frames *g, struct cg_rng *r,
			 struct cg_frame_spec *s, uint8_t *payload)
{
	static const uint8_t fixed[] = {0, 8, 16, 16, 32}; /* after 8 */
	uint8_t t = s->icmp_type, tgt[16] = {0}, mac[6];
	size_t n, i, opts;

	/* On-link addresses, mostly. */
	if (cg_rng_pct(r, 40)) {
		memset(s->src, 0, 16);
		if (cg_rng_pct(r, 85)) {
			s->src[0] = 0xfe;
			s->src[1] = 0x80;
			s->src[15] = (uint8_t)cg_rng_below(r, 8);
		}
	} else if (cg_rng_pct(r, 30)) {
		bound_host(r, g->p, 6, s->src);
	}
	if (cg_rng_pct(r, 40)) {
		memset(s->dst, 0, 16);
		s->dst[0] = 0xff;
		s->dst[1] = cg_rng_pct(r, 85) ? 0x02 : 0x05;
		s->dst[15] = (uint8_t)cg_rng_below(r, 3);
	} else if (cg_rng_pct(r, 20)) {
		memset(s->dst, 0, 16);
		s->dst[0] = 0xfe;
		s->dst[1] = 0x80;
		s->dst[15] = 1;
	}
	s->ttl = cg_rng_pct(r, 90) ? 255 : 64;

	n = fixed[t - 133];
	memset(payload, 0, n);
	if (t >= 135) {
		if (!bound_host(r, g->p, 6, tgt) || cg_rng_pct(r, 30))
			memcpy(tgt, cg_rng_pct(r, 50) ? s->src : s->dst, 16);
		memcpy(payload, tgt, 16);
		if (t == 137)
			memcpy(payload + 16, tgt, 16);
	}
	if (cg_rng_pct(r, 5))
		n = cg_rng_below(r, (uint32_t)n + 1); /* cut short */
	opts = cg_rng_below(r, 4);
	for (i = 0; i < opts && n + 16 <= 200; i++) {
		uint8_t type = cg_rng_pct(r, 80) ? (uint8_t)rng_range(r, 1, 2)
						 : (uint8_t)rng_range(r, 3, 25);
		uint8_t len =
			cg_rng_pct(r, 90) ? 1 : (uint8_t)cg_rng_below(r, 3);
		uint32_t k = cg_rng_below(r, 100);

		if (k < 40)
			station_mac(6, s->src, mac);
		else if (k < 80)
			station_mac(6, tgt, mac);
		else
			for (k = 0; k < 6; k++)
				mac[k] = (uint8_t)cg_rng_next(r);
		memset(payload + n, 0, 16);
		payload[n] = type;
		payload[n + 1] = len;
		memcpy(payload + n + 2, mac, 6);
		n += len ? (size_t)len * 8 : 8;
	}
	if (n >= 8 && cg_rng_pct(r, 5))
		n -= cg_rng_below(r, 4); /* an option past the end */
	return n;
}

static void add_pfx(struct cg_gen_frames *g, const struct cg_prefix *p)
{
	g->pfx = realloc(g->pfx, (g->n_pfx + 1) * sizeof(*g->pfx));
	if (!g->pfx)
		abort();
	g->pfx[g->n_pfx++] = *p;
}

static void add_port(struct cg_gen_frames *g, long port)
{
	if (port < 0 || port > 65535)
		return;
	g->ports = realloc(g->ports, (g->n_ports + 1) * sizeof(*g->ports));
	if (!g->ports)
		abort();
	g->ports[g->n_ports++] = (uint16_t)port;
}

struct cg_gen_frames *cg_gen_frames_new(const struct cg_policy *p)
{
	struct cg_gen_frames *g = calloc(1, sizeof(*g));
	size_t z, n, f, i;

	if (!g)
		return NULL;
	g->p = p;
	for (z = 0; z < p->n_zones; z++)
		for (n = 0; n < p->zones[z].n_nets; n++)
			add_pfx(g, &p->zones[z].nets[n].prefix);
	for (n = 0; n < p->n_hosts; n++)
		add_pfx(g, &p->hosts[n].addr);
	for (f = 0; f < p->n_flows; f++) {
		const struct cg_flow *fl = &p->flows[f];

		for (i = 0; i < fl->n_from; i++)
			if (fl->from[i].kind == CG_REF_CIDR)
				add_pfx(g, &fl->from[i].cidr);
		for (i = 0; i < fl->n_to; i++)
			if (fl->to[i].kind == CG_REF_CIDR)
				add_pfx(g, &fl->to[i].cidr);
		for (i = 0; i < fl->n_ports; i++) {
			add_port(g, fl->ports[i].lo - 1L);
			add_port(g, fl->ports[i].lo);
			add_port(g, fl->ports[i].hi);
			add_port(g, fl->ports[i].hi + 1L);
		}
	}
	add_port(g, 502);
	add_port(g, 102);
	add_port(g, 0);
	return g;
}

void cg_gen_frames_free(struct cg_gen_frames *g)
{
	if (!g)
		return;
	free(g->pfx);
	free(g->ports);
	free(g);
}

/* The zone holding an address (most specific network), -1 if none. */
static int zone_of(const struct cg_policy *p, int family, const uint8_t *addr)
{
	int zone = -1, best = -1;
	size_t z, n;

	for (z = 0; z < p->n_zones; z++)
		for (n = 0; n < p->zones[z].n_nets; n++) {
			const struct cg_prefix *pf =
				&p->zones[z].nets[n].prefix;

			if (prefix_holds(pf, family, addr) && pf->len > best) {
				best = pf->len;
				zone = (int)z;
			}
		}
	return zone;
}

static int ifname_index(const char *name)
{
	int i;

	for (i = 0; i < CG_GEN_N_IFNAMES; i++)
		if (!strcmp(cg_gen_ifnames[i], name))
			return i;
	return CG_GEN_N_IFNAMES - 1;
}

/* Where a frame from zone z arrives: one of its interfaces and VLANs. */
static void zone_ingress(struct cg_rng *r, const struct cg_zone *zn,
			 const char **ifname, uint16_t *vid)
{
	*ifname = cg_gen_ifnames[ifname_index(
		zn->ifaces[cg_rng_below(r, (uint32_t)zn->n_ifaces)].name)];
	*vid = zn->n_vlans
		       ? zn->vlans[cg_rng_below(r, (uint32_t)zn->n_vlans)].id
		       : 0;
}

/* Any ingress at all: an interface of the pool and a VLAN, maybe wrong. */
static void random_ingress(struct cg_rng *r, const struct cg_policy *p,
			   const char **ifname, uint16_t *vid)
{
	static const uint16_t odd[] = {1, 10, 20, 99, 100, 4094, 4095};
	uint32_t k = cg_rng_below(r, 100);

	*ifname = cg_gen_ifnames[cg_rng_below(r, CG_GEN_N_IFNAMES)];
	if (k < 40) {
		*vid = 0;
	} else if (k < 80 && p->n_zones) {
		const struct cg_zone *zn =
			&p->zones[cg_rng_below(r, (uint32_t)p->n_zones)];

		*vid = zn->n_vlans
			       ? zn->vlans[cg_rng_below(r,
							(uint32_t)zn->n_vlans)]
					 .id
			       : PICK(r, odd);
	} else {
		*vid = PICK(r, odd);
	}
}

/* The prefixes one from/to item stands for, of `family` (0 = any). */
static size_t ref_prefixes(const struct cg_policy *p, const struct cg_ref *rf,
			   int family, const struct cg_prefix **out, size_t max)
{
	size_t n = 0, k;

	switch (rf->kind) {
	case CG_REF_ZONE:
		for (k = 0; k < p->zones[rf->index].n_nets && n < max; k++) {
			const struct cg_prefix *pf =
				&p->zones[rf->index].nets[k].prefix;

			if (!family || pf->family == family)
				out[n++] = pf;
		}
		break;
	case CG_REF_HOST:
		if (!family || p->hosts[rf->index].addr.family == family)
			out[n++] = &p->hosts[rf->index].addr;
		break;
	case CG_REF_CIDR:
		if (!family || rf->cidr.family == family)
			out[n++] = &rf->cidr;
		break;
	case CG_REF_SELF: /* no prefix: the test picks hosts as self */
		break;
	}
	return n;
}

/*
 * An address from one of a flow's items; false if none has `family`.
 * `inside`: well inside the item, never at or past its edges.
 */
static bool addr_from_refs(struct cg_rng *r, const struct cg_policy *p,
			   const struct cg_ref *refs, size_t n_refs,
			   bool inside, int *family, uint8_t *out)
{
	const struct cg_prefix *cand[32];
	size_t n = 0, i;

	for (i = 0; i < n_refs && n < 32; i++)
		n += ref_prefixes(p, &refs[i], *family, cand + n, 32 - n);
	if (!n)
		return false;
	const struct cg_prefix *pf = cand[cg_rng_below(r, (uint32_t)n)];

	*family = pf->family;
	if (inside) {
		memset(out, 0, 16);
		memcpy(out, pf->addr, alen(pf->family));
		random_host_bits(r, out, pf->family, pf->len);
	} else {
		addr_from_prefix(r, pf, out);
	}
	return true;
}

static void addr_anywhere(struct cg_rng *r, struct cg_gen_frames *g,
			  int *family, uint8_t *out)
{
	uint32_t k = cg_rng_below(r, 100);
	size_t tries;

	if (k < 85 && g->n_pfx) {
		for (tries = 0; tries < 16; tries++) {
			const struct cg_prefix *pf =
				&g->pfx[cg_rng_below(r, (uint32_t)g->n_pfx)];

			if (*family && pf->family != *family)
				continue;
			*family = pf->family;
			addr_from_prefix(r, pf, out);
			return;
		}
	}
	if (!*family)
		*family = cg_rng_pct(r, 60) ? 4 : 6;
	struct cg_prefix wide;

	memset(&wide, 0, sizeof(wide));
	wide.family = (uint8_t)*family;
	if (*family == 4) {
		cg_frame_parse_addr("198.18.0.0", wide.addr);
		wide.len = k < 95 ? 15 : 0;
	} else {
		cg_frame_parse_addr("2001:2::", wide.addr);
		wide.len = k < 95 ? 48 : 0;
	}
	memset(out, 0, 16);
	memcpy(out, wide.addr, 16);
	random_host_bits(r, out, *family, wide.len);
}

static uint16_t pick_dport(struct cg_rng *r, struct cg_gen_frames *g,
			   const struct cg_flow *fl)
{
	static const uint16_t common[] = {22, 53, 80, 102, 443, 502, 8080};

	if (fl && fl->n_ports && cg_rng_pct(r, 70)) {
		const struct cg_port_range *pr =
			&fl->ports[cg_rng_below(r, (uint32_t)fl->n_ports)];

		return (uint16_t)rng_range(r, pr->lo, pr->hi);
	}
	if (g->n_ports && cg_rng_pct(r, 60))
		return g->ports[cg_rng_below(r, (uint32_t)g->n_ports)];
	if (cg_rng_pct(r, 50))
		return PICK(r, common);
	return (uint16_t)cg_rng_below(r, 65536);
}

static uint16_t pick_sport(struct cg_rng *r)
{
	static const uint16_t pool[] = {1024, 40000, 40001, 502, 80, 5353};

	if (cg_rng_pct(r, 50))
		return PICK(r, pool);
	return (uint16_t)rng_range(r, 1, 65535);
}

static uint8_t pick_tcp_flags(struct cg_rng *r)
{
	uint32_t k = cg_rng_below(r, 100);

	if (k < 40)
		return CG_TCP_SYN;
	if (k < 55)
		return CG_TCP_SYN | CG_TCP_ACK;
	if (k < 75)
		return CG_TCP_ACK;
	if (k < 85)
		return CG_TCP_PSH | CG_TCP_ACK;
	if (k < 90)
		return CG_TCP_RST;
	if (k < 95)
		return CG_TCP_FIN | CG_TCP_ACK;
	return (uint8_t)cg_rng_below(r, 256);
}

static void pick_icmp(struct cg_rng *r, struct cg_frame_spec *s)
{
	static const uint8_t other4[] = {3, 5, 11, 13, 14};
	static const uint8_t other6[] = {1, 2, 3, 4, 130, 143};
	static const uint16_t ids[] = {1, 7, 0x1234};
	uint32_t k = cg_rng_below(r, 100);
	bool v6 = s->proto == 58;

	s->icmp_id = cg_rng_pct(r, 50) ? PICK(r, ids)
				       : (uint16_t)cg_rng_below(r, 65536);
	s->icmp_seq = (uint16_t)cg_rng_below(r, 100);
	if (k < 40) {
		s->icmp_type = v6 ? 128 : 8;
	} else if (k < 60) {
		s->icmp_type = v6 ? 129 : 0;
	} else if (v6 && k < 85) {
		s->icmp_type = (uint8_t)rng_range(r, 133, 137);
		s->ttl = cg_rng_pct(r, 75) ? 255
					   : (cg_rng_pct(r, 50) ? 254 : 64);
	} else {
		s->icmp_type = v6 ? PICK(r, other6) : PICK(r, other4);
		/* Multicast listener reports, as every IPv6 host sends. */
		if (v6 && (s->icmp_type == 130 || s->icmp_type == 143) &&
		    cg_rng_pct(r, 60)) {
			s->ttl = cg_rng_pct(r, 80) ? 1 : 2;
			memset(s->src, 0, 16);
			if (cg_rng_pct(r, 75)) {
				s->src[0] = 0xfe;
				s->src[1] = cg_rng_pct(r, 90) ? 0x80 : 0xc0;
				s->src[15] = (uint8_t)cg_rng_below(r, 256);
			}
		}
	}
	if (cg_rng_pct(r, 3))
		s->icmp_type = (uint8_t)cg_rng_below(r, 256);
}

/* 1-3 extension headers, sometimes 7-10; see the README's step 4. */
static void add_ext_chain(struct cg_rng *r, struct cg_frame_spec *s)
{
	static const uint8_t types[] = {0, 60, 43, 51, 44, 60, 0};
	static const uint8_t routing_types[] = {0, 2, 4};
	bool long_chain = cg_rng_pct(r, 15);
	size_t n = long_chain ? rng_range(r, 7, 10) : rng_range(r, 1, 3), i;

	for (i = 0; i < n && s->n_ext < CG_FRAME_MAX_EXT; i++) {
		struct cg_frame_ext *e = &s->ext[s->n_ext++];

		memset(e, 0, sizeof(*e));
		e->type = PICK(r, types);
		if (cg_rng_pct(r, 30))
			e->len = (uint8_t)cg_rng_below(r, 3);
		if (e->type == 51)
			e->len = (uint8_t)rng_range(r, 1, 4);
		if (e->type == 43) {
			e->routing_type = PICK(r, routing_types);
			if (cg_rng_pct(r, 35))
				e->segs_left = (uint8_t)rng_range(r, 1, 5);
		}
		if (e->type == 44) {
			if (cg_rng_pct(r, 45))
				e->frag_off = (uint16_t)rng_range(r, 1, 8191);
			e->frag_more = cg_rng_pct(r, 60);
			e->frag_id = (uint32_t)cg_rng_next(r);
		}
	}
}

/* ---- ICS payloads -------------------------------------------------- */

static void lie16(struct cg_rng *r, uint8_t *p);
static void swap_ends(struct cg_frame_spec *s);

/* A Modbus function code, weighted toward what the rules tell apart. */
static uint8_t pick_modbus_fc(struct cg_rng *r, uint8_t *mei)
{
	static const uint8_t reads[] = {1, 2, 3, 4};
	static const uint8_t other_reads[] = {7, 11, 12, 17, 20, 24};
	static const uint8_t writes[] = {5, 6, 15, 16, 22, 23};
	static const uint8_t other[] = {8, 21, 90, 125, 126, 0,
					9, 13, 14, 40,	65,  100};
	static const uint8_t meis[] = {13, 0, 15, 255};
	uint32_t k = cg_rng_below(r, 100);

	*mei = 14;
	if (k < 35)
		return PICK(r, reads);
	if (k < 45)
		return PICK(r, other_reads);
	if (k < 53)
		return 43;
	if (k < 58) {
		*mei = PICK(r, meis);
		return 43;
	}
	if (k < 78)
		return PICK(r, writes);
	if (k < 88)
		return PICK(r, other);
	if (k < 94)
		return (uint8_t)(0x80 |
				 cg_rng_below(r, 128)); /* exception-like */
	return (uint8_t)cg_rng_below(r, 256);
}

/*
 * A request with addresses for `allow:` rules: a start near the edges of
 * the rules' ranges, a quantity at or just past the protocol's limits or
 * small, and a byte count that is right (mostly) or off by one.
 */
static size_t gen_modbus_addr(struct cg_rng *r, uint8_t *buf, size_t cap,
			      uint16_t tid, uint8_t unit)
{
	static const uint8_t fcs[] = {1, 2, 3, 4, 5, 6, 15, 16, 22, 23};
	static const uint16_t qtys[] = {1,   2,	   10,	 20,   0,    125,
					126, 2000, 2001, 1968, 1969, 123,
					124, 121,  122,	 4,    11,   8};
	uint8_t fc = PICK(r, fcs), bc;
	uint16_t start = PICK(r, modbus_edges), start2 = PICK(r, modbus_edges);
	uint16_t qty = cg_rng_pct(r, 50) ? (uint16_t)rng_range(r, 1, 12)
					 : PICK(r, qtys);
	uint16_t qty2 = cg_rng_pct(r, 60) ? (uint16_t)rng_range(r, 1, 12)
					  : PICK(r, qtys);
	size_t n_data;

	if (cg_rng_pct(r, 45) && start >= qty)
		start = (uint16_t)(start - qty + 1); /* ends on the edge */
	bc = cg_modbus_byte_count(fc, qty, qty2);
	n_data = bc;
	if (cg_rng_pct(r, 8))
		bc = (uint8_t)(bc + (cg_rng_pct(r, 50) ? 1 : -1));
	if (cg_rng_pct(r, 6))
		n_data = n_data + (cg_rng_pct(r, 50) ? 1 : -1);
	if (n_data > 300)
		n_data = 0;
	return cg_modbus_addr_request(buf, cap, tid, unit, fc, start, qty,
				      start2, qty2, bc, n_data);
}

/*
 * Modbus ADUs, one mostly, sometimes a few, sometimes around the limit of
 * 8; their offsets go into units[].
 */
static size_t gen_modbus(struct cg_rng *r, bool request, uint8_t *buf,
			 size_t cap, size_t *units, size_t *n_units)
{
	size_t off = 0, n, i, w;
	uint8_t fc, mei;

	n = cg_rng_pct(r, 72)	? 1
	    : cg_rng_pct(r, 65) ? rng_range(r, 2, 4)
				: rng_range(r, 7, 9);
	for (i = 0; i < n; i++) {
		uint16_t tid = (uint16_t)cg_rng_below(r, 65536);
		uint8_t unit = cg_rng_pct(r, 70) ? 1 : (uint8_t)cg_rng_next(r);

		fc = pick_modbus_fc(r, &mei);
		if (request && cg_rng_pct(r, 55))
			w = gen_modbus_addr(r, buf + off, cap - off, tid, unit);
		else if (request)
			w = cg_modbus_request(buf + off, cap - off, tid, unit,
					      fc, mei);
		else
			w = cg_modbus_response(buf + off, cap - off, tid, unit,
					       fc, cg_rng_pct(r, 20));
		if (!w)
			break;
		units[(*n_units)++] = off;
		off += w;
	}
	return off;
}

/* One TPKT of an S7 conversation, from the client or from the PLC. */
static size_t gen_s7_unit(struct cg_rng *r, bool request, uint8_t *buf,
			  size_t cap)
{
	static const uint8_t reads[] = {0x04, 0xf0};
	static const uint8_t changes[] = {0x05, 0x1a, 0x1b, 0x1c, 0x1d,
					  0x1e, 0x1f, 0x28, 0x29};
	static const uint8_t cotp_other[] = {0x10, 0x20, 0x50,
					     0x60, 0x70, 0x00};
	static const uint8_t protos[] = {0x00, 0x31, 0x33, 0xff, 0x72, 0x32};
	uint16_t ref = (uint16_t)cg_rng_below(r, 65536);
	uint32_t k = cg_rng_below(r, 100);
	uint8_t func, group, type;

	if (!request) {
		if (k < 50)
			return cg_s7_ack_data(buf, cap, ref, PICK(r, reads));
		if (k < 70)
			return cg_cotp_tpdu(buf, cap, CG_COTP_CC);
		if (k < 85)
			return cg_s7_userdata(buf, cap, ref, CG_S7_UD_RESPONSE,
					      4, 1);
		if (k < 95)
			return cg_s7_pdu(buf, cap, CG_S7_PROTO, CG_S7_ACK, ref,
					 NULL, 0, NULL, 0);
		return cg_cotp_tpdu(buf, cap, CG_COTP_DC);
	}
	if (k < 10)
		return cg_cotp_tpdu(buf, cap, CG_COTP_CR);
	if (k < 13)
		return cg_cotp_tpdu(buf, cap, CG_COTP_CC);
	if (k < 16)
		return cg_cotp_tpdu(buf, cap, CG_COTP_DR);
	if (k < 19)
		return cg_cotp_tpdu(buf, cap, CG_COTP_DC);
	if (k < 22)
		return cg_cotp_tpdu(buf, cap, PICK(r, cotp_other));
	if (k < 30) {
		/*
		 * Parameters as short as the rules allow: a job's function
		 * byte, a userdata PDU's byte 5, and a few bytes either side.
		 */
		uint8_t param[12] = {0}, data[4] = {0};
		bool ud = cg_rng_pct(r, 40);
		size_t plen = ud ? rng_range(r, 4, 9) : rng_range(r, 0, 9);

		if (ud) {
			param[1] = 0x01;
			param[2] = 0x12;
			param[3] = 4;
			param[4] = 0x11;
			param[5] = (uint8_t)(CG_S7_UD_REQUEST << 4 |
					     rng_range(r, 2, 5));
		} else {
			param[0] = cg_rng_pct(r, 60) ? PICK(r, reads)
						     : PICK(r, changes);
		}
		return cg_s7_pdu(buf, cap, CG_S7_PROTO,
				 ud ? CG_S7_USERDATA : CG_S7_JOB, ref, param,
				 plen, data, cg_rng_below(r, 5));
	}
	if (k < 75) {
		uint32_t f = cg_rng_below(r, 100);

		func = f < 40	? PICK(r, reads)
		       : f < 85 ? PICK(r, changes)
				: (uint8_t)cg_rng_below(r, 256);
		return cg_s7_job(buf, cap, ref, func);
	}
	if (k < 88) {
		type = cg_rng_pct(r, 80)   ? CG_S7_UD_REQUEST
		       : cg_rng_pct(r, 50) ? CG_S7_UD_PUSH
					   : CG_S7_UD_RESPONSE;
		group = cg_rng_pct(r, 90) ? (uint8_t)rng_range(r, 1, 7)
					  : (uint8_t)cg_rng_below(r, 16);
		return cg_s7_userdata(buf, cap, ref, type, group,
				      cg_rng_pct(r, 80) ? 1 : 2);
	}
	if (k < 92)
		return cg_s7_ack_data(buf, cap, ref, PICK(r, reads));
	if (k < 97)
		return cg_s7plus(buf, cap, 0x31);
	{
		/* A job under another protocol id. */
		uint8_t param[2] = {PICK(r, reads), 0};

		return cg_s7_pdu(buf, cap, PICK(r, protos), CG_S7_JOB, ref,
				 param, 2, NULL, 0);
	}
}

/* TPKTs: mostly one, sometimes a few, sometimes past the limit of 4. */
static size_t gen_s7(struct cg_rng *r, bool request, uint8_t *buf, size_t cap,
		     size_t *units, size_t *n_units)
{
	size_t off = 0, n, i, w;

	n = cg_rng_pct(r, 78)	? 1
	    : cg_rng_pct(r, 64) ? rng_range(r, 2, 3)
				: rng_range(r, 4, 5);
	for (i = 0; i < n; i++) {
		w = gen_s7_unit(r, request, buf + off, cap - off);
		if (!w)
			break;
		units[(*n_units)++] = off;
		off += w;
	}
	return off;
}

/*
 * A CIP request for EtherNet/IP conversations: services read-only admits
 * and those it refuses, on the connection manager, the message router,
 * other objects and tags; Unconnected_Sends and Multiple_Service_Packets
 * nest up to three deep (one past the bound); responses now and then.
 */
static size_t gen_cip(struct cg_rng *r, int depth, uint8_t *buf, size_t cap)
{
	static const uint8_t svcs[] = {0x01, 0x03, 0x0e, 0x55, 0x4c, 0x52,
				       0x54, 0x5b, 0x4e, 0x0a, 0x02, 0x04,
				       0x10, 0x05, 0x06, 0x07, 0x4d, 0x53,
				       0x08, 0x09, 0x0d, 0x4b, 0xcc, 0x00};
	static const int classes[] = {0x06, 0x06, 0x02,	 0x01,
				      0x6b, 0x8e, 0x300, CG_CIP_NO_CLASS,
				      -2,   -2};
	uint8_t inner[GEN_PAYLOAD_MAX], data[8];
	uint8_t svc = cg_rng_pct(r, 95) ? PICK(r, svcs)
					: (uint8_t)cg_rng_below(r, 256);
	int cls = PICK(r, classes);
	size_t n, i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)cg_rng_below(r, 4);
	if (svc == 0x52 && cls == 0x06 && depth < 3 && cg_rng_pct(r, 80)) {
		n = gen_cip(r, depth + 1, inner, cap > 64 ? cap - 64 : 0);
		return n ? cg_cip_unconnected_send(buf, cap, inner, n) : 0;
	}
	if (svc == 0x0a && depth < 3 && cg_rng_pct(r, 80)) {
		uint8_t reqs[3][GEN_PAYLOAD_MAX / 4];
		const uint8_t *rp[3];
		size_t lens[3], k = rng_range(r, 0, 3);

		for (i = 0; i < k; i++) {
			lens[i] =
				gen_cip(r, depth + 1, reqs[i], sizeof(reqs[i]));
			rp[i] = reqs[i];
		}
		return cg_cip_msp(buf, cap, rp, lens, k);
	}
	if (cls == -2)
		return cg_cip_tag_request(buf, cap, svc, "Boom_Angle", data,
					  cg_rng_below(r, 8));
	return cg_cip_request(buf, cap, svc, cls, data, cg_rng_below(r, 8));
}

/* One encapsulation packet: mostly SendRRData / SendUnitData. */
static size_t gen_enip_unit(struct cg_rng *r, bool request, uint8_t *buf,
			    size_t cap)
{
	static const uint16_t cmds[] = {0x0004, 0x0063, 0x0064, 0x0065, 0x0066,
					0x0000, 0x0072, 0x0073, 0x00c8, 0x0001};
	uint8_t cip[GEN_PAYLOAD_MAX], d[4] = {1, 0, 0, 0};
	uint32_t k = cg_rng_below(r, 100);
	size_t n;

	if (k < 15)
		return cg_enip_encap(buf, cap, PICK(r, cmds), 1, d,
				     cg_rng_below(r, 5));
	if (request) {
		n = gen_cip(r, 0, cip, cap > 64 ? cap - 64 : 0);
	} else {
		cip[0] = (uint8_t)(0x80 | PICK(r, ((const uint8_t[]){0x4c, 0x4d,
								     0x01})));
		cip[1] = 0;
		cip[2] = 0;
		cip[3] = 0;
		n = 4;
	}
	if (!n)
		return 0;
	return k < 70 ? cg_enip_rr(buf, cap, cip, n)
		      : cg_enip_unit(buf, cap, (uint16_t)k, cip, n);
}

/* Encapsulation packets: mostly one, sometimes past the limit of 4. */
static size_t gen_enip(struct cg_rng *r, bool request, uint8_t *buf, size_t cap,
		       size_t *units, size_t *n_units)
{
	size_t off = 0, n, i, w;

	n = cg_rng_pct(r, 80) ? 1 : rng_range(r, 2, 5);
	for (i = 0; i < n; i++) {
		w = gen_enip_unit(r, request, buf + off, cap - off);
		if (!w)
			break;
		units[(*n_units)++] = off;
		off += w;
	}
	return off;
}

/*
 * Make one ICS unit's framing lie: the MBAP length or protocol id; the
 * TPKT version or length, the COTP length indicator, the S7 protocol id,
 * parameter or data length; or cut the payload short, or add bytes.
 */
static void ics_mutate(struct cg_rng *r, enum gen_ics kind, uint8_t *buf,
		       size_t *len, const size_t *units, size_t n_units,
		       char *what, size_t what_size)
{
	size_t u = n_units ? units[cg_rng_below(r, (uint32_t)n_units)] : 0;
	size_t n = strlen(what), li;
	uint32_t k = cg_rng_below(r, 100);
	const char *did;

	if (k < 20 || u + 10 > *len) {
		*len = cg_rng_below(r, (uint32_t)*len);
		did = "cut short";
	} else if (k < 28) {
		size_t extra = rng_range(r, 1, 8), i;

		for (i = 0; i < extra && *len < GEN_PAYLOAD_MAX; i++)
			buf[(*len)++] = (uint8_t)cg_rng_next(r);
		did = "bytes added";
	} else if (kind == GEN_ICS_ENIP) {
		if (k < 55) {
			buf[u + cg_rng_below(r, (uint32_t)(*len - u))] =
				(uint8_t)cg_rng_next(r);
			did = "a byte changed";
		} else if (k < 80) {
			buf[u + 2] = (uint8_t)(buf[u + 2] +
					       (int)rng_range(r, 0, 8) - 4);
			did = "encapsulation length lies";
		} else {
			size_t at = u + 24 + 6 + cg_rng_below(r, 12);

			if (at < *len)
				buf[at] =
					(uint8_t)(buf[at] +
						  (int)rng_range(r, 0, 4) - 2);
			did = "CPF count or item length lies";
		}
	} else if (kind == GEN_ICS_MODBUS) {
		if (k < 70) {
			lie16(r, buf + u + 4);
			did = "MBAP length lies";
		} else if (k < 85) {
			buf[u + 2 + cg_rng_below(r, 2)] =
				(uint8_t)rng_range(r, 1, 255);
			did = "MBAP protocol id";
		} else {
			buf[u + 4] = 0;
			buf[u + 5] = (uint8_t)cg_rng_below(r, 2);
			did = "MBAP length 0 or 1";
		}
	} else {
		li = buf[u + 4];
		if (k < 45) {
			lie16(r, buf + u + 2);
			did = "TPKT length lies";
		} else if (k < 52) {
			buf[u] = (uint8_t)cg_rng_below(r, 8);
			did = "TPKT version";
		} else if (k < 68) {
			buf[u + 4] = cg_rng_pct(r, 30) ? 0
				     : cg_rng_pct(r, 50)
					     ? (uint8_t)(li + 1)
					     : (uint8_t)cg_rng_next(r);
			did = "COTP length indicator";
		} else if (u + 5 + li + 10 <= *len && k < 80) {
			lie16(r, buf + u + 5 + li + 6);
			did = "S7 parameter length lies";
		} else if (u + 5 + li + 10 <= *len && k < 92) {
			lie16(r, buf + u + 5 + li + 8);
			did = "S7 data length lies";
		} else if (u + 5 + li < *len) {
			buf[u + 5 + li] = (uint8_t)cg_rng_next(r);
			did = "S7 protocol id";
		} else {
			*len = cg_rng_below(r, (uint32_t)*len);
			did = "cut short";
		}
	}
	if (n < what_size)
		snprintf(what + n, what_size - n, ", %s", did);
}

/*
 * An ICS payload of `kind`: requests or responses, valid mostly, with a
 * share of lying framings. Returns its length.
 */
static size_t ics_payload(struct cg_rng *r, enum gen_ics kind, bool request,
			  uint8_t *buf, char *what, size_t what_size)
{
	size_t units[16], n_units = 0, len;

	if (kind == GEN_ICS_MODBUS)
		len = gen_modbus(r, request, buf, GEN_PAYLOAD_MAX, units,
				 &n_units);
	else if (kind == GEN_ICS_ENIP)
		len = gen_enip(r, request, buf, GEN_PAYLOAD_MAX, units,
			       &n_units);
	else
		len = gen_s7(r, request, buf, GEN_PAYLOAD_MAX, units, &n_units);
	snprintf(what, what_size, "%s %s, %zu unit%s",
		 kind == GEN_ICS_MODBUS ? "modbus"
		 : kind == GEN_ICS_ENIP ? "enip"
					: "s7comm",
		 request ? "request" : "response", n_units,
		 n_units == 1 ? "" : "s");
	if (len && cg_rng_pct(r, 22))
		ics_mutate(r, kind, buf, &len, units, n_units, what, what_size);
	return len;
}

static bool flow_has_ics(const struct cg_flow *fl)
{
	return fl->modbus.mode != CG_ICS_NONE ||
	       fl->s7comm.mode != CG_ICS_NONE || fl->enip.mode != CG_ICS_NONE;
}

/* ---- TCP streams on inspected flows --------------------------------- */

/*
 * Window scale options for SYNs and SYN-ACKs (NOP, kind 3, length 3,
 * shift), some past the cap of 14, and a broken one.
 */
static const uint8_t ws_opts[][4] = {
	{1, 3, 3, 0},  {1, 3, 3, 2},  {1, 3, 3, 7}, {1, 3, 3, 14},
	{1, 3, 3, 15}, {1, 3, 3, 30}, {3, 3, 5, 0}, {1, 3, 2, 7},
};

static void stream_remember_run(struct gen_stream *st, uint32_t start,
				const uint8_t *data, size_t len)
{
	size_t i = st->next_run;

	if (!len || len > GEN_PAYLOAD_MAX)
		return;
	st->run_start[i] = start;
	st->run_len[i] = (uint32_t)len;
	memcpy(st->run[i], data, len);
	st->next_run = (st->next_run + 1) % GEN_RUNS;
	if (st->n_runs < GEN_RUNS)
		st->n_runs++;
}

/* The run that starts at `start`, or -1. */
static int stream_run_at(const struct gen_stream *st, uint32_t start)
{
	size_t i;

	for (i = 0; i < st->n_runs; i++)
		if (st->run_start[i] == start && st->run_len[i])
			return (int)i;
	return -1;
}

/*
 * A frame that the generator made cleanly along an inspected flow (a SYN
 * or a request from the client, on the client's own ingress) starts a
 * stream that later frames continue with real sequence numbers.
 */
static void stream_start(struct gen_stream *st, struct cg_rng *r,
			 const struct cg_policy *p,
			 const struct cg_frame_spec *s, const char *ifname,
			 enum gen_ics ics)
{
	int zone = zone_of(p, s->family, s->dst);

	memset(st, 0, sizeof(*st));
	st->active = true;
	st->spec = *s;
	st->spec.payload = NULL;
	st->spec.payload_len = 0;
	st->spec.tcp_opts = NULL;
	st->spec.tcp_opts_len = 0;
	st->spec.pad_to = 0;
	st->ifname = ifname;
	st->ics = ics;
	st->srv_ifname = ifname;
	if (zone >= 0)
		zone_ingress(r, &p->zones[zone], &st->srv_ifname, &st->srv_vid);
	st->srv_seq = (uint32_t)cg_rng_next(r);
	st->isn = s->tcp_seq;
	st->next = s->tcp_seq + 1;
	st->synced = (s->tcp_flags & CG_TCP_SYN) != 0;
	if (!st->synced) /* picked up: where the server stands */
		st->next = s->tcp_seq + (uint32_t)s->payload_len +
			   (cg_rng_pct(r, 70) ? 0 : cg_rng_below(r, 100));
}

/*
 * The next frame of the stream; *bad_csum: break its TCP checksum (1) or
 * its IPv4 header checksum (2).
 */
static void stream_frame(struct cg_gen_frames *g, struct cg_rng *r,
			 struct cg_frame_spec *s, const char **ifname,
			 uint8_t *payload, char *what, size_t what_size,
			 int *bad_csum)
{
	struct gen_stream *st = &g->proposed;
	uint32_t k = cg_rng_below(r, 100), seq;

	*st = g->stream;
	g->has_proposed = true;
	seq = st->next;
	char how[64] = "";
	size_t len = 0, n;
	const char *did;
	bool server = false;
	int i;

	*s = st->spec;
	s->payload = payload;
	*ifname = st->ifname;
	s->tcp_flags = cg_rng_pct(r, 80) ? CG_TCP_PSH | CG_TCP_ACK : CG_TCP_ACK;
	s->tcp_ack = st->srv_seq;
	g->ics = st->ics;
	g->ics_clean = true;

	if (k < 22) {
		len = ics_payload(r, st->ics, true, payload, how, sizeof(how));
		if (cg_rng_pct(r, 3))
			s->tcp_flags |= CG_TCP_FIN;
		did = "in order";
	} else if (k < 30 && st->n_runs) {
		i = (int)cg_rng_below(r, (uint32_t)st->n_runs);
		seq = st->run_start[i];
		len = st->run_len[i];
		memcpy(payload, st->run[i], len);
		did = "exact retransmission";
	} else if (k < 34 && st->n_runs) {
		i = (int)cg_rng_below(r, (uint32_t)st->n_runs);
		seq = st->run_start[i];
		len = cg_rng_pct(r, 50) ? st->run_len[i]
					: ics_payload(r, st->ics, true, payload,
						      how, sizeof(how));
		if (len == st->run_len[i]) {
			memcpy(payload, st->run[i], len);
			payload[cg_rng_below(r, (uint32_t)len)] ^=
				(uint8_t)rng_range(r, 1, 255);
		}
		did = "rewritten retransmission";
	} else if (k < 38 && st->n_runs) {
		/* Two runs in one, when the one after it is known. */
		i = (int)cg_rng_below(r, (uint32_t)st->n_runs);
		seq = st->run_start[i];
		len = st->run_len[i];
		memcpy(payload, st->run[i], len);
		n = (size_t)stream_run_at(st, seq + (uint32_t)len) + 1;
		if (n && len + st->run_len[n - 1] <= GEN_PAYLOAD_MAX) {
			memcpy(payload + len, st->run[n - 1],
			       st->run_len[n - 1]);
			len += st->run_len[n - 1];
		}
		if (cg_rng_pct(r, 40) && len + 64 <= GEN_PAYLOAD_MAX)
			len += ics_payload(r, st->ics, true, payload + len, how,
					   sizeof(how)) %
			       64;
		did = "collapsed retransmission";
	} else if (k < 41 && st->n_runs) {
		i = (int)cg_rng_below(r, (uint32_t)st->n_runs);
		seq = st->run_start[i];
		len = rng_range(r, 1, st->run_len[i]);
		memcpy(payload, st->run[i], len);
		did = "partial retransmission";
	} else if (k < 45 && st->n_runs) {
		/* From inside a run (forward overlap), then new data. */
		i = (int)cg_rng_below(r, (uint32_t)st->n_runs);
		n = rng_range(r, 1, st->run_len[i]);
		seq = st->run_start[i] + (uint32_t)n;
		len = st->run_len[i] - n;
		memcpy(payload, st->run[i] + n, len);
		len += ics_payload(r, st->ics, true, payload + len, how,
				   sizeof(how)) %
		       (GEN_PAYLOAD_MAX - len);
		did = "overlap from inside a run";
	} else if (k < 49) {
		/* Before next by a few bytes (backward overlap), new after. */
		n = rng_range(r, 1, 16);
		seq = st->next - (uint32_t)n;
		len = ics_payload(r, st->ics, true, payload, how, sizeof(how));
		did = "overlap before next";
	} else if (k < 53) {
		seq = st->next + rng_range(r, 1, 2000);
		len = ics_payload(r, st->ics, true, payload, how, sizeof(how));
		did = "after a hole";
	} else if (k < 55) {
		/* In order, in a segment the receiver discards (or reroutes):
		 * the gate must not take it for the stream. */
		uint32_t q = cg_rng_below(r, 6);

		len = ics_payload(r, st->ics, true, payload, how, sizeof(how));
		if (q == 0) {
			s->tcp_flags &= (uint8_t)~CG_TCP_ACK;
			did = "no ACK";
		} else if (q == 1) {
			s->tcp_ack = st->srv_seq + rng_range(r, 1, 5000);
			did = "ACK of unsent data";
		} else if (q == 2) {
			s->tcp_ack = st->srv_seq - (1u << 30) -
				     rng_range(r, 1, 5000);
			did = "ACK too old";
		} else if (q == 3 && s->family == 4) {
			*bad_csum = 2;
			did = "bad IPv4 header checksum";
		} else if (s->family == 4) {
			s->ip4_opts_len = 4;
			did = "IPv4 options";
		} else {
			s->n_ext = 1;
			s->ext[0].type = 60;
			s->ext[0].len = 0;
			did = "IPv6 destination options";
		}
	} else if (k < 56) {
		len = 0;
		while (len + 300 <= GEN_PAYLOAD_MAX)
			len += ics_payload(r, st->ics, true, payload + len, how,
					   sizeof(how)) %
			       300;
		did = "a lot of data";
	} else if (k < 59) {
		len = ics_payload(r, st->ics, true, payload, how, sizeof(how));
		s->ttl = (uint8_t)cg_rng_below(r, 3);
		did = "TTL/hop limit 0-2";
	} else if (k < 62) {
		len = ics_payload(r, st->ics, true, payload, how, sizeof(how));
		*bad_csum = 1;
		did = "bad TCP checksum";
	} else if (k < 64) {
		len = ics_payload(r, st->ics, true, payload, how, sizeof(how));
		s->tcp_flags |= 0x20;
		did = "URG";
	} else if (k < 67) {
		s->tcp_flags = CG_TCP_SYN;
		seq = cg_rng_pct(r, 50) ? st->isn : (uint32_t)cg_rng_next(r);
		if (cg_rng_pct(r, 30))
			s->tcp_flags |= PICK(
				r, ((const uint8_t[]){CG_TCP_ACK, CG_TCP_FIN,
						      CG_TCP_RST, CG_TCP_PSH}));
		if (cg_rng_pct(r, 10))
			len = ics_payload(r, st->ics, true, payload, how,
					  sizeof(how));
		/* If it passes, the stream starts (again) from it. */
		st->isn = seq;
		st->next = seq + 1;
		st->n_runs = 0;
		st->closed = false;
		did = "SYN again";
	} else if (k < 70) {
		s->tcp_flags = cg_rng_pct(r, 50) ? CG_TCP_FIN | CG_TCP_ACK
						 : CG_TCP_RST;
		if (cg_rng_pct(r, 30))
			seq -= 1;
		did = "FIN/RST";
	} else if (k < 73 || (st->closed && k < 80)) {
		s->tcp_flags = CG_TCP_ACK;
		seq -= cg_rng_pct(r, 70) ? 1 : 0;
		did = "keepalive/ACK";
	} else if (k < 76 || (st->closed && k < 90)) {
		/* A new connection on the same ends: a fresh handshake. */
		s->tcp_flags = CG_TCP_SYN;
		seq = (uint32_t)cg_rng_next(r);
		if (cg_rng_pct(r, 60)) {
			s->tcp_opts = ws_opts[cg_rng_below(
				r, sizeof(ws_opts) / sizeof(ws_opts[0]))];
			s->tcp_opts_len = 4;
		}
		st->isn = seq;
		st->next = seq + 1;
		st->n_runs = 0;
		st->closed = false;
		did = "new SYN";
	} else {
		/* The server: SYN-ACK, ACKs with windows, RST. */
		uint32_t q = cg_rng_below(r, 100);

		server = true;
		swap_ends(s);
		*ifname = st->srv_ifname;
		s->n_tags = 0;
		if (st->srv_vid) {
			s->n_tags = 1;
			s->tags[0].tpid = 0x8100;
			s->tags[0].tci = st->srv_vid;
		}
		g->ics_response = true;
		seq = st->srv_seq;
		s->tcp_ack = st->next;
		s->tcp_flags = CG_TCP_ACK;
		if (q < 25) {
			s->tcp_flags = CG_TCP_SYN | CG_TCP_ACK;
			s->tcp_ack = st->isn + 1;
			seq = st->srv_seq - 1;
			if (cg_rng_pct(r, 60)) {
				s->tcp_opts = ws_opts[cg_rng_below(
					r,
					sizeof(ws_opts) / sizeof(ws_opts[0]))];
				s->tcp_opts_len = 4;
			}
			did = "SYN-ACK";
		} else if (q < 85) {
			s->tcp_win =
				cg_rng_pct(r, 60)
					? 65535
					: PICK(r, ((const uint16_t[]){
							  0, 1, 2, 16, 64, 100,
							  300, 1024}));
			if (cg_rng_pct(r, 20))
				s->tcp_ack -= rng_range(r, 1, 200);
			if (cg_rng_pct(r, 5))
				s->tcp_ack = (uint32_t)cg_rng_next(r);
			if (cg_rng_pct(r, 30)) {
				s->tcp_flags |= CG_TCP_PSH;
				len = ics_payload(r, st->ics, false, payload,
						  how, sizeof(how));
				st->srv_seq += (uint32_t)len;
			}
			did = "server ACK";
		} else if (q < 88) {
			s->tcp_flags = CG_TCP_RST | CG_TCP_ACK;
			st->closed = true;
			did = "server RST";
		} else {
			s->tcp_flags = CG_TCP_FIN | CG_TCP_ACK;
			did = "server FIN";
		}
	}
	s->tcp_seq = seq;
	s->payload_len = len;
	/*
	 * If the client's frame passes, what it did to the receiver's
	 * stream: new data after next, a FIN or RST at next.
	 */
	if (!server && !(s->tcp_flags & CG_TCP_SYN)) {
		uint32_t end = seq + (uint32_t)len;

		if (len && (int32_t)(seq - st->next) <= 0 &&
		    (int32_t)(end - st->next) > 0) {
			stream_remember_run(st, st->next,
					    payload + (st->next - seq),
					    end - st->next);
			st->next = end;
			if (s->tcp_flags & (CG_TCP_FIN | CG_TCP_RST))
				st->closed = true;
		} else if (!len && seq == st->next &&
			   (s->tcp_flags & (CG_TCP_FIN | CG_TCP_RST))) {
			st->closed = true;
		}
	}
	snprintf(what, what_size, "stream %s%s%s%s", server ? "server: " : "",
		 did, *how ? ": " : "", how);
}

/*
 * A TCP frame along an ICS flow: its destination port and what the flow
 * inspects there (mostly the right protocol), a SYN or a request.
 */
static void ics_fresh(struct cg_gen_frames *g, struct cg_rng *r,
		      const struct cg_flow *fl, struct cg_frame_spec *s,
		      uint8_t *payload, char *what, size_t what_size)
{
	bool modbus = fl->modbus.mode != CG_ICS_NONE,
	     s7 = fl->s7comm.mode != CG_ICS_NONE,
	     enip = fl->enip.mode != CG_ICS_NONE;
	enum gen_ics kinds[3], kind;
	size_t nk = 0;
	char how[64];

	if (modbus)
		kinds[nk++] = GEN_ICS_MODBUS;
	if (s7)
		kinds[nk++] = GEN_ICS_S7;
	if (enip)
		kinds[nk++] = GEN_ICS_ENIP;
	kind = kinds[cg_rng_below(r, (uint32_t)nk)];
	s->proto = 6;
	if (cg_rng_pct(r, 85))
		s->dport = kind == GEN_ICS_MODBUS ? CG_MODBUS_PORT
			   : kind == GEN_ICS_S7	  ? CG_S7_PORT
						  : CG_ENIP_TEST_PORT;
	else
		s->dport = pick_dport(r, g, fl);
	/* What the flow inspects on that port (bpf/ics.h, ics_refused). */
	if (enip && ((!modbus && !s7) || s->dport == CG_ENIP_TEST_PORT))
		kind = GEN_ICS_ENIP;
	else if (s7 && (!modbus || s->dport == CG_S7_PORT))
		kind = GEN_ICS_S7;
	else
		kind = GEN_ICS_MODBUS;
	if (cg_rng_pct(r, 6))
		kind = (enum gen_ics)(1 + (kind + cg_rng_below(r, 2)) % 3);
	g->ics = kind;
	g->ics_response = false;
	g->ics_start = true;
	/* Worth continuing only if it crosses from a zone to another. */
	if (zone_of(g->p, s->family, s->src) < 0 ||
	    zone_of(g->p, s->family, s->src) ==
		    zone_of(g->p, s->family, s->dst))
		g->ics_clean = false;

	s->tcp_seq = (uint32_t)cg_rng_next(r);
	s->tcp_ack = (uint32_t)cg_rng_next(r);
	if (cg_rng_pct(r, 10))
		s->tcp_opts_len = (uint8_t)(4 * rng_range(r, 1, 10));
	if (cg_rng_pct(r, 30))
		s->pad_to = 60 + cg_rng_below(r, 20); /* Ethernet padding */
	if (cg_rng_pct(r, 25)) {
		s->tcp_flags = CG_TCP_SYN;
		s->payload_len = 0;
		if (cg_rng_pct(r, 50)) {
			s->tcp_opts = ws_opts[cg_rng_below(
				r, sizeof(ws_opts) / sizeof(ws_opts[0]))];
			s->tcp_opts_len = 4;
		}
		snprintf(what, what_size, "ics SYN to %u", s->dport);
		return;
	}
	s->tcp_flags = cg_rng_pct(r, 80) ? CG_TCP_PSH | CG_TCP_ACK : CG_TCP_ACK;
	if (cg_rng_pct(r, 3))
		s->tcp_flags = (uint8_t)cg_rng_below(r, 256);
	s->payload = payload;
	s->payload_len = ics_payload(r, kind, true, payload, how, sizeof(how));
	if (cg_rng_pct(r, 3)) {
		/* A first fragment: the payload continues elsewhere. */
		if (s->family == 4) {
			s->ip4_mf = true;
			s->ip_id = (uint16_t)frag_id(r);
		} else if (s->n_ext < CG_FRAME_MAX_EXT) {
			struct cg_frame_ext *e = &s->ext[s->n_ext++];

			memset(e, 0, sizeof(*e));
			e->type = 44;
			e->frag_more = true;
			e->frag_id = frag_id(r);
		}
	}
	snprintf(what, what_size, "ics fresh to %u: %s", s->dport, how);
}

/* Swap the two ends of a frame: addresses, ports and MACs. */
static void swap_ends(struct cg_frame_spec *s)
{
	uint8_t tmp[16];
	uint16_t port = s->sport;

	memcpy(tmp, s->src, 16);
	memcpy(s->src, s->dst, 16);
	memcpy(s->dst, tmp, 16);
	memcpy(tmp, s->src_mac, 6);
	memcpy(s->src_mac, s->dst_mac, 6);
	memcpy(s->dst_mac, tmp, 6);
	s->sport = s->dport;
	s->dport = port;
}

/*
 * The next frame of an ICS conversation: another request from the client
 * on the established connection (the fast path), or the server's answer.
 */
static void ics_sequel(struct cg_gen_frames *g, struct cg_rng *r,
		       const struct hist_entry *h, struct cg_frame_spec *s,
		       const char **ifname, uint8_t *payload, char *what,
		       size_t what_size)
{
	bool same = cg_rng_pct(r, 65), request;
	uint16_t vid = 0;
	char how[64];
	int zone;

	*s = h->spec;
	s->payload = payload;
	s->ip4_mf = false;
	s->ip4_frag_off = 0;
	s->n_ext = 0;
	s->no_l4 = false;
	s->tcp_seq += (uint32_t)h->spec.payload_len + 1;
	request = same != h->ics_response;
	g->ics = h->ics;
	g->ics_response = !request;

	if (same) {
		*ifname = h->ifname;
	} else {
		swap_ends(s);
		zone = zone_of(g->p, s->family, s->src);
		s->n_tags = 0;
		if (zone >= 0 && cg_rng_pct(r, 95))
			zone_ingress(r, &g->p->zones[zone], ifname, &vid);
		else
			random_ingress(r, g->p, ifname, &vid);
		if (vid) {
			s->n_tags = 1;
			s->tags[0].tpid = 0x8100;
			s->tags[0].tci = vid;
		}
	}
	if (!same && h->spec.tcp_flags == CG_TCP_SYN) {
		s->tcp_flags = CG_TCP_SYN | CG_TCP_ACK;
		s->payload_len = 0;
		snprintf(what, what_size, "ics SYN-ACK");
		return;
	}
	s->tcp_flags = cg_rng_pct(r, 85) ? CG_TCP_PSH | CG_TCP_ACK
		       : cg_rng_pct(r, 60)
			       ? CG_TCP_ACK
			       : CG_TCP_FIN | CG_TCP_PSH | CG_TCP_ACK;
	if (cg_rng_pct(r, 5)) {
		s->payload_len = 0; /* a bare ACK */
		snprintf(what, what_size, "ics bare ACK");
		return;
	}
	s->payload_len =
		ics_payload(r, h->ics, request, payload, how, sizeof(how));
	if (cg_rng_pct(r, 5)) {
		/* A first fragment inside the connection (fast path). */
		if (s->family == 4) {
			s->ip4_mf = true;
			s->ip_id = (uint16_t)frag_id(r);
		} else {
			memset(&s->ext[0], 0, sizeof(s->ext[0]));
			s->n_ext = 1;
			s->ext[0].type = 44;
			s->ext[0].frag_more = true;
			s->ext[0].frag_id = frag_id(r);
		}
	}
	snprintf(what, what_size, "ics %s: %s", same ? "again" : "other way",
		 how);
}

/*
 * One frame of a shared-id sequence (issue 19, 1): step 1 a first
 * fragment from the conversation's source to its destination on another
 * port, step 2 a first fragment on the conversation's own ports (its
 * connection: the fast path), step 3 a non-first fragment of the same
 * (addresses, id, protocol) that follows whatever the table holds.
 */
static void shared_id_frame(struct cg_gen_frames *g, struct cg_rng *r,
			    struct cg_frame_spec *s, const char **ifname,
			    uint8_t *payload, char *what, size_t what_size)
{
	const struct hist_entry *h = &g->conv;
	int step = g->shared_step;

	*s = h->spec;
	memcpy(payload, h->payload, sizeof(h->payload));
	s->payload = payload;
	*ifname = h->ifname;
	s->n_ext = 0;
	s->ip4_mf = false;
	s->ip4_frag_off = 0;
	s->no_l4 = step == 3;
	s->tcp_flags = CG_TCP_PSH | CG_TCP_ACK;
	if (step == 1) {
		s->dport = pick_dport(r, g, NULL);
		s->payload_len = 8;
	}
	if (step == 3)
		s->payload_len = 16;
	if (s->family == 4) {
		s->ip_id = 4242;
		s->ip4_mf = step < 3;
		s->ip4_frag_off = step == 3 ? 3 : 0;
	} else {
		memset(&s->ext[0], 0, sizeof(s->ext[0]) * 2);
		s->n_ext = 1;
		s->ext[0].type = 44;
		s->ext[0].frag_id = 4242;
		s->ext[0].frag_more = step < 3;
		s->ext[0].frag_off = step == 3 ? 3 : 0;
		if (g->shared_dstopts) {
			s->n_ext = 2;
			s->ext[1].type = 60;
		}
	}
	snprintf(what, what_size, "shared id step %d%s", step,
		 g->shared_dstopts ? " (dstopts)" : "");
	g->shared_step = step == 3 ? 0 : step + 1;
}

/* A fresh frame, not related to earlier ones. */
static void fresh_frame(struct cg_gen_frames *g, struct cg_rng *r,
			struct cg_frame_spec *s, const char **ifname,
			uint8_t *payload, char *what, size_t what_size)
{
	static const uint16_t other_types[] = {0x88cc, 0x8847, 0x0842, 0x9100,
					       0x8035, 0x0600, 0x0100, 0x88e3};
	static const uint8_t other_protos[] = {47, 50, 132, 59,	 0, 43,
					       44, 60, 51,  255, 4, 41};
	const struct cg_policy *p = g->p;
	const struct cg_flow *fl = NULL;
	uint32_t kind = cg_rng_below(r, 100);
	int family = 0, zone;
	uint16_t vid = 0;
	size_t i;

	cg_frame_init(s);
	s->src_mac[5] = (uint8_t)cg_rng_below(r, 8); /* a small pool */
	s->src_mac[4] = 1;

	/*
	 * Addresses: along a flow (both ends), or anywhere interesting. Most
	 * frames along an ICS flow are a clean start of a conversation that
	 * later frames continue (see ics_sequel): inside the flow's ends, on
	 * the source's own ingress, from its own station.
	 */
	if (p->n_flows && cg_rng_pct(r, 50)) {
		fl = &p->flows[cg_rng_below(r, (uint32_t)p->n_flows)];
		g->ics_clean = flow_has_ics(fl) && cg_rng_pct(r, 60);
		if (!addr_from_refs(r, p, fl->from, fl->n_from, g->ics_clean,
				    &family, s->src))
			addr_anywhere(r, g, &family, s->src);
		if (!addr_from_refs(r, p, fl->to, fl->n_to, g->ics_clean,
				    &family, s->dst))
			addr_anywhere(r, g, &family, s->dst);
	} else {
		addr_anywhere(r, g, &family, s->src);
		addr_anywhere(r, g, &family, s->dst);
	}
	s->family = family;

	/* Ingress: mostly the source's own zone. */
	zone = zone_of(p, family, s->src);
	if (zone >= 0 && (g->ics_clean || cg_rng_pct(r, 80)))
		zone_ingress(r, &p->zones[zone], ifname, &vid);
	else if (p->n_zones && cg_rng_pct(r, 60))
		zone_ingress(r,
			     &p->zones[cg_rng_below(r, (uint32_t)p->n_zones)],
			     ifname, &vid);
	else
		random_ingress(r, p, ifname, &vid);

	if (vid) {
		s->n_tags = 1;
		s->tags[0].tpid = cg_rng_pct(r, 85) ? 0x8100 : 0x88a8;
		s->tags[0].tci = (uint16_t)(vid | cg_rng_below(r, 16) << 12);
	} else if (cg_rng_pct(r, 8)) {
		s->n_tags = 1; /* priority tag */
		s->tags[0].tci = (uint16_t)(cg_rng_below(r, 8) << 13);
	}
	if (!g->ics_clean && cg_rng_pct(r, 3)) {
		s->tags[s->n_tags].tpid = cg_rng_pct(r, 50) ? 0x8100 : 0x88a8;
		s->tags[s->n_tags].tci = (uint16_t)cg_rng_below(r, 4096);
		s->n_tags++;
	}

	if (kind < 5) {
		s->kind = CG_FRAME_ARP;
		if (family != 4)
			cg_frame_parse_addr("198.18.0.1", s->src);
		s->family = 4;
		s->arp_op = (uint16_t)rng_range(r, 1, 2);
		/* Bound senders, hardware type 1 or 6 (both taken by Linux
		 * on Ethernet), a sender MAC that is not the frame's. */
		if (cg_rng_pct(r, 40)) {
			bound_host(r, p, 4, s->src);
			zone = zone_of(p, 4, s->src);
			if (zone >= 0) {
				vid = 0;
				zone_ingress(r, &p->zones[zone], ifname, &vid);
				s->n_tags = vid ? 1 : 0;
				s->tags[0].tpid = 0x8100;
				s->tags[0].tci = vid;
			}
		}
		g->arp_hrd = cg_rng_pct(r, 30) ? 6 : 1;
		g->arp_sha_other = cg_rng_pct(r, 10);
		snprintf(what, what_size, "arp hrd %u%s", g->arp_hrd,
			 g->arp_sha_other ? " sha other" : "");
		return;
	}
	if (kind < 8) {
		s->kind = CG_FRAME_RAW;
		s->ethertype = PICK(r, other_types);
		s->payload_len = cg_rng_below(r, 48);
		for (i = 0; i < s->payload_len; i++)
			payload[i] = (uint8_t)cg_rng_next(r);
		s->payload = payload;
		snprintf(what, what_size, "ethertype %#06x", s->ethertype);
		return;
	}

	/* Protocol. */
	if (fl && fl->proto != CG_P_ANY && cg_rng_pct(r, 85)) {
		static const uint8_t num[] = {[CG_P_TCP] = 6,
					      [CG_P_UDP] = 17,
					      [CG_P_ICMP] = 1,
					      [CG_P_ICMPV6] = 58};
		s->proto = num[fl->proto];
	} else {
		uint32_t k = cg_rng_below(r, 100);

		if (k < 40)
			s->proto = 6;
		else if (k < 65)
			s->proto = 17;
		else if (k < 85)
			s->proto = family == 4 ? 1 : 58;
		else if (k < 90)
			s->proto = family == 4 ? 58 : 1;
		else
			s->proto = PICK(r, other_protos);
	}
	s->sport = pick_sport(r);
	if (fl && flow_has_ics(fl) && (g->ics_clean || cg_rng_pct(r, 75))) {
		ics_fresh(g, r, fl, s, payload, what, what_size);
		return;
	}
	s->dport = pick_dport(r, g, fl);
	s->tcp_flags = pick_tcp_flags(r);
	s->tcp_seq = (uint32_t)cg_rng_next(r);
	if (cg_rng_pct(r, 10))
		s->tcp_opts_len = (uint8_t)(4 * rng_range(r, 1, 10));
	if (s->proto == 1 || s->proto == 58)
		pick_icmp(r, s);
	if (cg_rng_pct(r, 5))
		s->ttl = (uint8_t)cg_rng_below(r, 256);

	/* IP options, extension headers, fragments. */
	if (family == 4 && cg_rng_pct(r, 6))
		s->ip4_opts_len = (uint8_t)(4 * rng_range(r, 1, 10));
	if (family == 6 && cg_rng_pct(r, 20))
		add_ext_chain(r, s);
	if (cg_rng_pct(r, 10)) {
		bool first = cg_rng_pct(r, 40);

		if (family == 4) {
			s->ip4_mf = first || cg_rng_pct(r, 50);
			s->ip4_frag_off =
				(uint16_t)(first ? 0 : rng_range(r, 1, 8191));
			s->ip_id = (uint16_t)frag_id(r);
		} else if (s->n_ext < CG_FRAME_MAX_EXT) {
			struct cg_frame_ext *e = &s->ext[s->n_ext++];

			memset(e, 0, sizeof(*e));
			e->type = 44;
			e->frag_off =
				(uint16_t)(first ? 0 : rng_range(r, 1, 8191));
			e->frag_more = first || cg_rng_pct(r, 50);
			e->frag_id = frag_id(r);
			/* Fragment, then destination options (RFC 8200). */
			if (first && s->n_ext < CG_FRAME_MAX_EXT &&
			    cg_rng_pct(r, 20)) {
				e = &s->ext[s->n_ext++];
				memset(e, 0, sizeof(*e));
				e->type = 60;
			}
		}
		if (!first && cg_rng_pct(r, 50))
			s->no_l4 = true;
	}

	s->payload_len =
		cg_rng_pct(r, 60) ? cg_rng_below(r, 17) : cg_rng_below(r, 64);
	for (i = 0; i < s->payload_len; i++)
		payload[i] = (uint8_t)cg_rng_next(r);
	s->payload = payload;
	if (s->proto == 58 && family == 6 && s->icmp_type >= 133 &&
	    s->icmp_type <= 137 && !s->no_l4 && cg_rng_pct(r, 85)) {
		s->payload_len = nd_message(g, r, s, payload);
		snprintf(what, what_size, "nd %u", s->icmp_type);
		return;
	}
	if (cg_rng_pct(r, 30))
		s->pad_to = 60;

	snprintf(what, what_size, "fresh%s proto %u", fl ? " along a flow" : "",
		 s->proto);
}

/* A frame that follows an earlier one: its reply, a reverse SYN, or more. */
static void sequel_frame(struct cg_gen_frames *g, struct cg_rng *r,
			 const struct hist_entry *h, struct cg_frame_spec *s,
			 const char **ifname, uint8_t *payload, char *what,
			 size_t what_size)
{
	uint32_t k = cg_rng_below(r, 100);
	uint16_t vid = 0;
	int zone;

	*s = h->spec;
	memcpy(payload, h->payload, sizeof(h->payload));
	s->payload = payload;
	s->ip4_mf = false;
	s->ip4_frag_off = 0;
	s->no_l4 = false;
	if (cg_rng_pct(r, 80))
		s->n_ext = 0;

	if (k >= 8 && k < 14 && s->kind == CG_FRAME_IP && h->spec.n_tags < 2 &&
	    !h->spec.ip4_frag_off) {
		/*
		 * An ICMP error about that packet, back to its sender: from
		 * its destination (or a router by it), quoting its IP header
		 * and 8 bytes of what follows.
		 */
		static uint8_t quote[CG_FRAME_MAX];
		struct cg_frame_spec q = h->spec;
		struct cg_frame_layout lay;
		size_t n;
		int zone;

		q.payload = h->payload;
		n = cg_frame_build_layout(&q, quote, sizeof(quote), &lay);
		if (n > lay.l3_off && n - lay.l3_off >= 28) {
			size_t qlen = lay.l4_off - lay.l3_off + 8;

			if (qlen > n - lay.l3_off)
				qlen = n - lay.l3_off;
			if (cg_rng_pct(r, 20) && qlen > 20)
				qlen -= cg_rng_below(r, 8) + 1;
			cg_frame_init(s);
			s->family = h->spec.family;
			memcpy(s->src, h->spec.dst, 16);
			memcpy(s->dst, h->spec.src, 16);
			if (cg_rng_pct(r, 20))
				s->src[s->family == 4 ? 3 : 15] ^= 1;
			s->proto = s->family == 4 ? 1 : 58;
			s->icmp_type = s->family == 4
					       ? (cg_rng_pct(r, 70) ? 3 : 11)
					       : (uint8_t)rng_range(r, 1, 4);
			memcpy(payload, quote + lay.l3_off,
			       qlen < 64 ? qlen : 64);
			s->payload = payload;
			s->payload_len = qlen < 64 ? qlen : 64;
			zone = zone_of(g->p, s->family, s->src);
			vid = 0;
			if (zone >= 0)
				zone_ingress(r, &g->p->zones[zone], ifname,
					     &vid);
			else
				random_ingress(r, g->p, ifname, &vid);
			if (vid) {
				s->n_tags = 1;
				s->tags[0].tpid = 0x8100;
				s->tags[0].tci = vid;
			}
			snprintf(what, what_size, "icmp error about proto %u",
				 q.proto);
			return;
		}
	}
	if (k < 8 && s->kind == CG_FRAME_IP) {
		/* The next fragment of the same datagram (a train). */
		*ifname = h->ifname;
		if (s->family == 4) {
			s->ip4_frag_off = (uint16_t)rng_range(r, 1, 200);
			s->ip4_mf = cg_rng_pct(r, 50);
			s->ip_id = h->spec.ip_id;
		} else {
			uint32_t id = (uint32_t)cg_rng_next(r);
			size_t i;

			uint8_t after = 0;

			for (i = 0; i < h->spec.n_ext; i++)
				if (h->spec.ext[i].type == 44) {
					id = h->spec.ext[i].frag_id;
					if (i + 1 < h->spec.n_ext)
						after = h->spec.ext[i + 1].type;
				}
			memset(&s->ext[0], 0, sizeof(s->ext[0]) * 2);
			s->n_ext = 1;
			/* The fragment header names what its first did. */
			if (after && cg_rng_pct(r, 80)) {
				s->n_ext = 2;
				s->ext[1].type = after;
			}
			s->ext[0].type = 44;
			s->ext[0].frag_off = (uint16_t)rng_range(r, 1, 200);
			s->ext[0].frag_more = cg_rng_pct(r, 50);
			s->ext[0].frag_id = id;
		}
		s->no_l4 = true;
		snprintf(what, what_size, "next fragment proto %u", s->proto);
		return;
	}
	if (k < 25) {
		/* The same direction again: established traffic. */
		*ifname = h->ifname;
		if (s->proto == 6)
			s->tcp_flags = cg_rng_pct(r, 70)
					       ? CG_TCP_ACK
					       : CG_TCP_PSH | CG_TCP_ACK;
		snprintf(what, what_size, "repeat proto %u", s->proto);
		return;
	}

	/* The other direction: swap addresses, ports and MACs. */
	swap_ends(s);

	if (k < 80) {
		if (s->proto == 6)
			s->tcp_flags = h->spec.tcp_flags == CG_TCP_SYN
					       ? CG_TCP_SYN | CG_TCP_ACK
					       : CG_TCP_ACK;
		if (s->icmp_type == 8 || s->icmp_type == 128)
			s->icmp_type = s->icmp_type == 8 ? 0 : 129;
		snprintf(what, what_size, "reply proto %u", s->proto);
	} else {
		if (s->proto == 6)
			s->tcp_flags = CG_TCP_SYN;
		if (s->icmp_type == 0 || s->icmp_type == 129)
			s->icmp_type = s->icmp_type == 0 ? 8 : 128;
		snprintf(what, what_size, "reverse open proto %u", s->proto);
	}

	zone = zone_of(g->p, s->family, s->src);
	s->n_tags = 0;
	if (zone >= 0 && cg_rng_pct(r, 90))
		zone_ingress(r, &g->p->zones[zone], ifname, &vid);
	else
		random_ingress(r, g->p, ifname, &vid);
	if (vid) {
		s->n_tags = 1;
		s->tags[0].tpid = 0x8100;
		s->tags[0].tci = vid;
	}
}

static void remember_in(struct hist_entry *h, const struct cg_gen_frames *g,
			const struct cg_frame_spec *s, const char *ifname)
{
	memmove(h->payload, s->payload,
		s->payload_len < sizeof(h->payload) ? s->payload_len
						    : sizeof(h->payload));
	h->spec = *s;
	if (h->spec.payload_len > sizeof(h->payload))
		h->spec.payload_len = sizeof(h->payload);
	h->spec.payload = h->payload;
	h->ifname = ifname;
	h->ics = g->ics;
	h->ics_response = g->ics_response;
}

static void remember(struct cg_gen_frames *g, const struct cg_frame_spec *s,
		     const char *ifname)
{
	remember_in(&g->hist[g->next_hist], g, s, ifname);
	if (g->ics != GEN_ICS_NONE && g->ics_clean) {
		remember_in(&g->conv, g, s, ifname);
		g->has_conv = true;
	}
	g->next_hist = (g->next_hist + 1) % HIST;
	if (g->n_hist < HIST)
		g->n_hist++;
}

void cg_gen_feedback(struct cg_gen_frames *g, bool passed)
{
	if (g->has_proposed && passed)
		g->stream = g->proposed;
	g->has_proposed = false;
}

void cg_gen_frame(struct cg_gen_frames *g, struct cg_rng *r,
		  struct cg_gen_frame *out)
{
	/* Room for a stream's overlaps: old bytes, then a new payload. */
	uint8_t payload[2 * GEN_PAYLOAD_MAX];
	struct cg_frame_spec s;
	struct cg_frame_layout lay;
	const struct hist_entry *h;
	int bad_csum = 0;
	bool streamed = false;

	/* No word on the previous frame: take it as passed. */
	cg_gen_feedback(g, true);
	g->ics = GEN_ICS_NONE;
	g->ics_response = false;
	g->ics_clean = false;
	g->ics_start = false;
	g->arp_hrd = 0;
	g->arp_sha_other = false;
	if (!g->shared_step && g->has_conv && g->conv.spec.proto == 6 &&
	    cg_rng_pct(r, 2)) {
		g->shared_step = 1;
		g->shared_dstopts = cg_rng_pct(r, 50);
	}
	if (g->shared_step) {
		shared_id_frame(g, r, &s, &out->ifname, payload, out->what,
				sizeof(out->what));
	} else if (g->stream.active && cg_rng_pct(r, 35)) {
		stream_frame(g, r, &s, &out->ifname, payload, out->what,
			     sizeof(out->what), &bad_csum);
		streamed = true;
	} else if (g->has_conv && cg_rng_pct(r, 20)) {
		ics_sequel(g, r, &g->conv, &s, &out->ifname, payload, out->what,
			   sizeof(out->what));
		g->ics_clean = true;
	} else if (g->n_hist && cg_rng_pct(r, 25)) {
		h = &g->hist[cg_rng_below(r, (uint32_t)g->n_hist)];
		if (h->ics != GEN_ICS_NONE && cg_rng_pct(r, 70))
			ics_sequel(g, r, h, &s, &out->ifname, payload,
				   out->what, sizeof(out->what));
		else
			sequel_frame(g, r, h, &s, &out->ifname, payload,
				     out->what, sizeof(out->what));
	} else
		fresh_frame(g, r, &s, &out->ifname, payload, out->what,
			    sizeof(out->what));

	/*
	 * Stations: most frames carry their host's own MAC (derived from the
	 * source address, so replies and repeats agree); some carry one of
	 * a small pool shared across zones, which the MAC table must catch.
	 */
	if ((s.kind == CG_FRAME_IP || s.kind == CG_FRAME_ARP) &&
	    (g->ics_clean || !cg_rng_pct(r, 6))) {
		size_t n = s.family == 4 ? 4 : 16;

		s.src_mac[0] = 0x02;
		s.src_mac[1] = 0x01;
		memcpy(s.src_mac + 2, s.src + n - 4, 4);
	}

	out->len = cg_frame_build_layout(&s, out->buf, sizeof(out->buf), &lay);
	if (!out->len) {
		/* Cannot happen with the specs above; keep going anyway. */
		memset(out->buf, 0, 60);
		out->len = 60;
		snprintf(out->what, sizeof(out->what), "zero frame");
		return;
	}
	if (s.kind == CG_FRAME_ARP && g->arp_hrd &&
	    out->len >= lay.l3_off + 28) {
		out->buf[lay.l3_off + 1] = g->arp_hrd;
		if (g->arp_sha_other)
			out->buf[lay.l3_off + 13] ^= 0x5a;
	}
	if (bad_csum == 1 && s.proto == 6 && lay.l4_off + 18 <= out->len)
		out->buf[lay.l4_off + 16 + cg_rng_below(r, 2)] ^=
			(uint8_t)rng_range(r, 1, 255);
	if (bad_csum == 2 && s.family == 4 && lay.l3_off + 12 <= out->len)
		out->buf[lay.l3_off + 10 + cg_rng_below(r, 2)] ^=
			(uint8_t)rng_range(r, 1, 255);
	/*
	 * A clean SYN along an inspected flow starts a stream (if it
	 * passes); a clean request, one picked up without its SYN.
	 */
	if (g->ics_start && g->ics_clean && s.proto == 6 && !s.ip4_mf &&
	    !s.n_ext && cg_rng_pct(r, 60)) {
		if (s.tcp_flags & CG_TCP_SYN) {
			stream_start(&g->proposed, r, g->p, &s, out->ifname,
				     g->ics);
			g->has_proposed = true;
		} else if (cg_rng_pct(r, 30)) {
			stream_start(&g->stream, r, g->p, &s, out->ifname,
				     g->ics);
		}
	}
	if (streamed)
		return; /* its sequels are the stream's own */
	if (s.kind == CG_FRAME_IP && s.n_tags < 2)
		remember(g, &s, out->ifname);
	if (cg_rng_pct(r, 8))
		cg_gen_mutate(r, out->buf, &out->len, &lay, out->what,
			      sizeof(out->what));
}

/* ---- mutations ----------------------------------------------------- */

static void append_what(char *what, size_t size, const char *fmt, ...)
{
	size_t n = strlen(what);
	va_list ap;

	if (n >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(what + n, size - n, fmt, ap);
	va_end(ap);
}

static void lie16(struct cg_rng *r, uint8_t *p)
{
	uint16_t v = (uint16_t)(p[0] << 8 | p[1]);

	if (cg_rng_pct(r, 70))
		v = (uint16_t)(v + (int)rng_range(r, 0, 16) - 8);
	else
		v = (uint16_t)cg_rng_below(r, 65536);
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void cg_gen_mutate(struct cg_rng *r, uint8_t *buf, size_t *len,
		   const struct cg_frame_layout *lay, char *what,
		   size_t what_size)
{
	uint32_t k = cg_rng_below(r, 100);
	size_t l3 = lay ? lay->l3_off : 14, l4 = lay ? lay->l4_off : 34;
	int version = *len > l3 ? buf[l3] >> 4 : 0;

	if (*len == 0)
		return;
	if (k < 30) {
		/* Truncate, mostly inside the headers. */
		size_t cut = cg_rng_pct(r, 70) && l4 + 24 < *len
				     ? cg_rng_below(r, (uint32_t)(l4 + 24))
				     : cg_rng_below(r, (uint32_t)*len);

		*len = cut;
		append_what(what, what_size, ", truncated to %zu", cut);
	} else if (k < 55) {
		int n = (int)rng_range(r, 1, 3), i;
		size_t span = *len < 96 ? *len : 96;

		for (i = 0; i < n; i++) {
			size_t at = cg_rng_below(r, (uint32_t)span);

			buf[at] ^= (uint8_t)(1 << cg_rng_below(r, 8));
			append_what(what, what_size, ", bit flip at %zu", at);
		}
	} else if (k < 75 && version == 4 && *len >= l3 + 20) {
		if (cg_rng_pct(r, 70)) {
			lie16(r, buf + l3 + 2);
			append_what(what, what_size,
				    ", IPv4 total length lies");
		} else {
			buf[l3] = (uint8_t)(0x40 | cg_rng_below(r, 16));
			append_what(what, what_size, ", IPv4 IHL lies");
		}
	} else if (k < 75 && version == 6 && *len >= l3 + 40) {
		lie16(r, buf + l3 + 4);
		append_what(what, what_size, ", IPv6 payload length lies");
	} else if (k < 90 && lay && lay->ext_off[0] &&
		   lay->ext_off[0] + 2 <= *len && cg_rng_pct(r, 50)) {
		size_t at = lay->ext_off[0] + 1;

		buf[at] = (uint8_t)cg_rng_below(r, 256);
		append_what(what, what_size, ", extension length lies");
	} else if (k < 90 && *len >= l4 + 14) {
		if (cg_rng_pct(r, 50)) {
			lie16(r, buf + l4 + 4); /* UDP length / TCP seq */
			append_what(what, what_size, ", L4 length lies");
		} else {
			buf[l4 + 12] = (uint8_t)(cg_rng_below(r, 16) << 4);
			append_what(what, what_size, ", TCP data offset lies");
		}
	} else {
		/* Trailing bytes past the IP packet: padding. */
		size_t extra = rng_range(r, 1, 32);

		if (*len + extra <= CG_FRAME_MAX) {
			memset(buf + *len, 0xa5, extra);
			*len += extra;
		}
		append_what(what, what_size, ", %zu bytes appended", extra);
	}
}
