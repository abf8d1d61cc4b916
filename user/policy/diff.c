// SPDX-License-Identifier: GPL-2.0
/*
 * The semantic model of policies (see diff.h) and `cranegate diff`.
 *
 * Regions are kept sorted by (family, address, prefix length), so that a
 * prefix is followed by everything inside it (the compiler's order), and
 * each region knows its parent (the smallest region around it). A region
 * is empty when its children tile its prefix; no address lies in it, and
 * no cell of it is ever looked at.
 *
 * A diff walks every (source, destination) pair of non-empty regions of
 * one family. For most pairs no flow of either policy covers both ends,
 * and the zone rules alone decide: that costs two comparisons. Pairs that
 * a flow covers get a grid of cells, one per (protocol bucket, port
 * class), painted flow by flow in file order, where the first paint wins.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "compile.h"
#include "cranegate.h"
#include "diff.h"
#include "enip.h"
#include "modbus_rules.h"
#include "u32vec.h"
#include "hash.h"
#include "output.h"

#define NONE32 UINT32_MAX
#define NO_ZONE 0xffffu

/* Grid values besides flow indexes: the zone rules, and no rule at all. */
#define D_NORULE 0xffffff01u
#define D_INTRA 0xffffff02u
#define D_SPOOF 0xffffff03u

/* Bounds on the work of one analysis (pairs of regions, cells painted). */
#define MAX_PAIRS (64ull << 20)
#define MAX_CELL_WORK (2000ull << 20)

static bool has(const struct u32vec *a, uint32_t x)
{
	size_t lo = 0, hi = a->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (a->v[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < a->n && a->v[lo] == x;
}

/* ------------------------------------------------------------------ */
/* Prefixes                                                            */

static int nbytes(int family)
{
	return family == 4 ? 4 : 16;
}

static int cmp_prefix(const struct cg_prefix *x, const struct cg_prefix *y)
{
	int c;

	if (x->family != y->family)
		return x->family - y->family;
	c = memcmp(x->addr, y->addr, nbytes(x->family));
	if (c)
		return c;
	return x->len - y->len;
}

static void last_addr(const struct cg_prefix *p, uint8_t *last)
{
	int i;

	memcpy(last, p->addr, 16);
	for (i = p->len; i < nbytes(p->family) * 8; i++)
		last[i / 8] |= 0x80 >> (i % 8);
}

/* a + 1 over n bytes; false when a was the last address. */
static bool addr_next(uint8_t *a, int n)
{
	int i;

	for (i = n - 1; i >= 0; i--)
		if (++a[i])
			return true;
	return false;
}

/* ------------------------------------------------------------------ */
/* The model                                                           */

struct region {
	struct cg_prefix prefix;
	uint32_t parent; /* NONE32: none */
	bool empty;	 /* its children tile it */
	bool has_children;
	uint16_t zone[2]; /* per policy; NO_ZONE */
};

/* A flow, as the model sees it. */
struct sflow {
	struct u32vec from, to; /* regions, sorted */
	unsigned buckets;	/* 1 << enum cg_bucket */
	struct u32vec pcs; /* TCP/UDP port classes as lo,hi pairs; none: all */
};

struct spol {
	const struct cg_policy *p;
	struct sflow *flows;
	uint32_t *by_src_off; /* flows whose `from` holds region r: */
	uint32_t *by_src;     /* by_src[by_src_off[r] .. by_src_off[r + 1]) */
	struct u32vec *zone_regions; /* non-empty regions of each zone */
	uint32_t *peer; /* the flow of the same name in the other policy */
};

struct cg_space {
	struct spol pol[2];
	size_t n_pol;
	struct region *regions;
	size_t n_regions;
	uint32_t *bounds; /* first port of each port class */
	size_t n_pc;
	uint32_t *port_class; /* port -> port class, 65536 entries */
};

static uint32_t pc_last_port(const struct cg_space *s, uint32_t pc)
{
	return pc + 1 < s->n_pc ? s->bounds[pc + 1] - 1 : 65535;
}

static bool flow_has_ports(const struct cg_flow *f)
{
	return f->n_ports && (f->proto == CG_P_TCP || f->proto == CG_P_UDP ||
			      f->proto == CG_P_ANY);
}

static unsigned flow_buckets(const struct cg_flow *f)
{
	switch (f->proto) {
	case CG_P_TCP:
		return 1u << CG_B_TCP;
	case CG_P_UDP:
		return 1u << CG_B_UDP;
	case CG_P_ICMP:
		return 1u << CG_B_ICMP;
	case CG_P_ICMPV6:
		return 1u << CG_B_ICMPV6;
	case CG_P_ANY:
		break;
	}
	if (f->n_ports)
		return 1u << CG_B_TCP | 1u << CG_B_UDP;
	return (1u << CG_B_N) - 1;
}

static int add_prefix(struct cg_space *s, size_t *cap,
		      const struct cg_prefix *p)
{
	if (!p->family)
		return 0;
	if (s->n_regions == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct region *v = realloc(s->regions, ncap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->regions = v;
		*cap = ncap;
	}
	memset(&s->regions[s->n_regions], 0, sizeof(*s->regions));
	s->regions[s->n_regions].prefix = *p;
	s->regions[s->n_regions].zone[0] = NO_ZONE;
	s->regions[s->n_regions].zone[1] = NO_ZONE;
	s->n_regions++;
	return 0;
}

static int cmp_region(const void *a, const void *b)
{
	return cmp_prefix(&((const struct region *)a)->prefix,
			  &((const struct region *)b)->prefix);
}

/*
 * `self` in the model: the gateway's addresses are learned at apply, so
 * the model gives them two regions of their own, 0.0.0.0/32 and ::/128
 * (addresses no frame carries), in no zone.
 */
static struct cg_prefix self_prefix(int family)
{
	struct cg_prefix p = {.family = family, .len = family == 4 ? 32 : 128};

	return p;
}

static bool is_self_region(const struct cg_prefix *p)
{
	static const uint8_t zero[16];

	return p->len == (p->family == 4 ? 32 : 128) &&
	       !memcmp(p->addr, zero, p->family == 4 ? 4 : 16);
}

static int collect_regions(struct cg_space *s)
{
	size_t cap = 0, k, i, j;
	struct cg_prefix sp4 = self_prefix(4), sp6 = self_prefix(6);
	int err;

	if ((err = add_prefix(s, &cap, &sp4)) ||
	    (err = add_prefix(s, &cap, &sp6)))
		return err;
	for (k = 0; k < s->n_pol; k++) {
		const struct cg_policy *p = s->pol[k].p;

		for (i = 0; i < p->n_zones; i++)
			for (j = 0; j < p->zones[i].n_nets; j++)
				if ((err = add_prefix(
					     s, &cap,
					     &p->zones[i].nets[j].prefix)))
					return err;
		for (i = 0; i < p->n_hosts; i++)
			if ((err = add_prefix(s, &cap, &p->hosts[i].addr)))
				return err;
		for (i = 0; i < p->n_flows; i++) {
			const struct cg_flow *f = &p->flows[i];

			for (j = 0; j < f->n_from; j++)
				if (f->from[j].kind == CG_REF_CIDR &&
				    (err = add_prefix(s, &cap,
						      &f->from[j].cidr)))
					return err;
			for (j = 0; j < f->n_to; j++)
				if (f->to[j].kind == CG_REF_CIDR &&
				    (err = add_prefix(s, &cap, &f->to[j].cidr)))
					return err;
		}
	}
	if (s->n_regions)
		qsort(s->regions, s->n_regions, sizeof(*s->regions),
		      cmp_region);
	for (i = 0, j = 0; i < s->n_regions; i++)
		if (!j || cmp_region(&s->regions[i], &s->regions[j - 1]))
			s->regions[j++] = s->regions[i];
	s->n_regions = j;
	return s->n_regions <= MAX_PAIRS ? 0 : -E2BIG;
}

/*
 * Parents (a stack walk over the sorted regions), then emptiness: the
 * direct children of a region are disjoint and in address order, so they
 * tile it when the first starts at its first address, each next one
 * starts right after the previous one, and the last ends at its end.
 */
static int link_regions(struct cg_space *s)
{
	uint32_t *stack, *prev_ok;
	uint8_t(*prev_last)[16];
	size_t n = s->n_regions, depth = 0, i;
	int err = -ENOMEM;

	stack = calloc(n + 1, sizeof(*stack));
	prev_ok = calloc(n + 1, sizeof(*prev_ok));
	prev_last = calloc(n + 1, sizeof(*prev_last));
	if (!stack || !prev_ok || !prev_last)
		goto out;
	for (i = 0; i < n; i++) {
		struct region *r = &s->regions[i];

		while (depth &&
		       !cg_prefix_contains(&s->regions[stack[depth - 1]].prefix,
					   &r->prefix))
			depth--;
		r->parent = depth ? stack[depth - 1] : NONE32;
		stack[depth++] = i;
		if (r->parent != NONE32) {
			struct region *p = &s->regions[r->parent];
			int nb = nbytes(p->prefix.family);

			if (!p->has_children) {
				p->has_children = true;
				prev_ok[r->parent] = !memcmp(
					r->prefix.addr, p->prefix.addr, nb);
			} else if (prev_ok[r->parent]) {
				uint8_t next[16];

				memcpy(next, prev_last[r->parent], 16);
				prev_ok[r->parent] =
					addr_next(next, nb) &&
					!memcmp(next, r->prefix.addr, nb);
			}
			last_addr(&r->prefix, prev_last[r->parent]);
		}
	}
	for (i = 0; i < n; i++) {
		struct region *r = &s->regions[i];
		uint8_t last[16];

		if (!r->has_children || !prev_ok[i])
			continue;
		last_addr(&r->prefix, last);
		r->empty =
			!memcmp(last, prev_last[i], nbytes(r->prefix.family));
	}
	err = 0;
out:
	free(stack);
	free(prev_ok);
	free(prev_last);
	return err;
}

/* Index of the region equal to `p` (it exists), or NONE32. */
static uint32_t region_index(const struct cg_space *s,
			     const struct cg_prefix *p)
{
	size_t lo = 0, hi = s->n_regions;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (cmp_prefix(&s->regions[mid].prefix, p) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < s->n_regions && !cmp_prefix(&s->regions[lo].prefix, p))
		return lo;
	return NONE32;
}

/* Every region inside `p` (a contiguous run from `p` itself). */
static int regions_inside(const struct cg_space *s, const struct cg_prefix *p,
			  struct u32vec *out)
{
	uint32_t i = region_index(s, p);
	uint8_t last[16];
	int nb = nbytes(p->family), err;

	if (i == NONE32)
		return 0;
	last_addr(p, last);
	for (; i < s->n_regions; i++) {
		const struct cg_prefix *q = &s->regions[i].prefix;

		if (q->family != p->family || memcmp(q->addr, last, nb) > 0)
			break;
		if ((err = u32vec_push(out, i)))
			return err;
	}
	return 0;
}

static int expand_refs(const struct cg_space *s, const struct cg_policy *p,
		       const struct cg_ref *refs, size_t n, struct u32vec *out)
{
	size_t i, j;
	int err = 0;

	for (i = 0; i < n && !err; i++) {
		switch (refs[i].kind) {
		case CG_REF_ZONE:
			for (j = 0; j < p->zones[refs[i].index].n_nets && !err;
			     j++)
				err = regions_inside(
					s,
					&p->zones[refs[i].index].nets[j].prefix,
					out);
			break;
		case CG_REF_HOST:
			err = regions_inside(s, &p->hosts[refs[i].index].addr,
					     out);
			break;
		case CG_REF_CIDR:
			err = regions_inside(s, &refs[i].cidr, out);
			break;
		case CG_REF_SELF: {
			struct cg_prefix s4 = self_prefix(4),
					 s6 = self_prefix(6);

			if (!(err = regions_inside(s, &s4, out)))
				err = regions_inside(s, &s6, out);
			break;
		}
		}
	}
	u32vec_sort_unique(out);
	return err;
}

static int collect_ports(struct cg_space *s)
{
	uint8_t *is_bound = calloc(65537, 1);
	size_t k, i, j, c;

	if (!is_bound)
		return -ENOMEM;
	is_bound[0] = 1;
	for (k = 0; k < s->n_pol; k++) {
		const struct cg_policy *p = s->pol[k].p;

		for (i = 0; i < p->n_flows; i++) {
			const struct cg_flow *f = &p->flows[i];

			if (!flow_has_ports(f))
				continue;
			for (j = 0; j < f->n_ports; j++) {
				is_bound[f->ports[j].lo] = 1;
				is_bound[(uint32_t)f->ports[j].hi + 1] = 1;
			}
		}
	}
	s->bounds = calloc(65536, sizeof(*s->bounds));
	s->port_class = calloc(65536, sizeof(*s->port_class));
	if (!s->bounds || !s->port_class) {
		free(is_bound);
		return -ENOMEM;
	}
	for (i = 0, c = 0; i < 65536; i++) {
		if (is_bound[i])
			s->bounds[c++] = i;
		s->port_class[i] = c - 1;
	}
	s->n_pc = c;
	free(is_bound);
	return 0;
}

static int prepare_policy(struct cg_space *s, size_t k)
{
	struct spol *sp = &s->pol[k];
	const struct cg_policy *p = sp->p;
	size_t i, j, r, total = 0;
	int err;

	sp->flows = calloc(p->n_flows + 1, sizeof(*sp->flows));
	sp->by_src_off = calloc(s->n_regions + 2, sizeof(*sp->by_src_off));
	sp->zone_regions = calloc(p->n_zones + 1, sizeof(*sp->zone_regions));
	if (!sp->flows || !sp->by_src_off || !sp->zone_regions)
		return -ENOMEM;

	/* Zones of regions, and the non-empty regions of each zone. */
	for (i = 0; i < p->n_zones; i++) {
		struct u32vec in = {};

		for (j = 0; j < p->zones[i].n_nets; j++)
			if ((err = regions_inside(
				     s, &p->zones[i].nets[j].prefix, &in))) {
				free(in.v);
				return err;
			}
		u32vec_sort_unique(&in);
		for (j = 0; j < in.n; j++) {
			if (is_self_region(&s->regions[in.v[j]].prefix))
				continue;
			s->regions[in.v[j]].zone[k] = i;
			if (!s->regions[in.v[j]].empty &&
			    (err = u32vec_push(&sp->zone_regions[i],
					       in.v[j]))) {
				free(in.v);
				return err;
			}
		}
		free(in.v);
	}

	for (i = 0; i < p->n_flows; i++) {
		const struct cg_flow *f = &p->flows[i];
		struct sflow *sf = &sp->flows[i];

		if ((err = expand_refs(s, p, f->from, f->n_from, &sf->from)) ||
		    (err = expand_refs(s, p, f->to, f->n_to, &sf->to)))
			return err;
		sf->buckets = flow_buckets(f);
		if (flow_has_ports(f)) {
			struct u32vec lo = {};

			/* Port-class spans, sorted and merged. */
			for (j = 0; j < f->n_ports; j++)
				if ((err = u32vec_push(
					     &lo,
					     s->port_class[f->ports[j].lo])) ||
				    (err = u32vec_push(
					     &lo,
					     s->port_class[f->ports[j].hi]))) {
					free(lo.v);
					return err;
				}
			for (j = 0; j < lo.n; j += 2) {
				size_t m;

				for (m = j + 2; m < lo.n; m += 2)
					if (lo.v[m] < lo.v[j]) {
						uint32_t a = lo.v[j],
							 b = lo.v[j + 1];

						lo.v[j] = lo.v[m];
						lo.v[j + 1] = lo.v[m + 1];
						lo.v[m] = a;
						lo.v[m + 1] = b;
					}
			}
			for (j = 0; j < lo.n; j += 2) {
				if (sf->pcs.n &&
				    lo.v[j] <= sf->pcs.v[sf->pcs.n - 1] + 1) {
					if (lo.v[j + 1] >
					    sf->pcs.v[sf->pcs.n - 1])
						sf->pcs.v[sf->pcs.n - 1] =
							lo.v[j + 1];
					continue;
				}
				if ((err = u32vec_push(&sf->pcs, lo.v[j])) ||
				    (err = u32vec_push(&sf->pcs,
						       lo.v[j + 1]))) {
					free(lo.v);
					return err;
				}
			}
			free(lo.v);
		}
		total += sf->from.n;
	}

	/* Flows by source region, in file order (CSR). */
	sp->by_src = calloc(total + 1, sizeof(*sp->by_src));
	if (!sp->by_src)
		return -ENOMEM;
	for (i = 0; i < p->n_flows; i++)
		for (j = 0; j < sp->flows[i].from.n; j++)
			sp->by_src_off[sp->flows[i].from.v[j] + 1]++;
	for (r = 0; r < s->n_regions; r++)
		sp->by_src_off[r + 1] += sp->by_src_off[r];
	{
		uint32_t *fill = calloc(s->n_regions + 1, sizeof(*fill));

		if (!fill)
			return -ENOMEM;
		for (i = 0; i < p->n_flows; i++)
			for (j = 0; j < sp->flows[i].from.n; j++) {
				r = sp->flows[i].from.v[j];
				sp->by_src[sp->by_src_off[r] + fill[r]++] = i;
			}
		free(fill);
	}
	return 0;
}

/* Flow names of one policy, sorted, to find a flow's peer by name. */
struct peer_name {
	const char *name;
	uint32_t id;
};

static int cmp_peer_name(const void *a, const void *b)
{
	return strcmp(((const struct peer_name *)a)->name,
		      ((const struct peer_name *)b)->name);
}

static int pair_peers(struct cg_space *s)
{
	size_t k, i;

	for (k = 0; k < 2; k++) {
		const struct cg_policy *p = s->pol[k].p, *q = s->pol[!k].p;
		struct peer_name *sorted, key = {0}, *hit;

		s->pol[k].peer = calloc(p->n_flows + 1, sizeof(uint32_t));
		sorted = calloc(q->n_flows + 1, sizeof(*sorted));
		if (!s->pol[k].peer || !sorted) {
			free(sorted);
			return -ENOMEM;
		}
		for (i = 0; i < q->n_flows; i++) {
			sorted[i].name = q->flows[i].name;
			sorted[i].id = i;
		}
		/* Names are unique within a policy (the parser says so). */
		qsort(sorted, q->n_flows, sizeof(*sorted), cmp_peer_name);
		for (i = 0; i < p->n_flows; i++) {
			key.name = p->flows[i].name;
			hit = bsearch(&key, sorted, q->n_flows, sizeof(*sorted),
				      cmp_peer_name);
			s->pol[k].peer[i] = hit ? hit->id : NONE32;
		}
		free(sorted);
	}
	return 0;
}

void cg_space_free(struct cg_space *s)
{
	size_t k, i;

	if (!s)
		return;
	for (k = 0; k < s->n_pol; k++) {
		struct spol *sp = &s->pol[k];

		for (i = 0; sp->flows && i < sp->p->n_flows; i++) {
			free(sp->flows[i].from.v);
			free(sp->flows[i].to.v);
			free(sp->flows[i].pcs.v);
		}
		for (i = 0; sp->zone_regions && i < sp->p->n_zones; i++)
			free(sp->zone_regions[i].v);
		free(sp->flows);
		free(sp->by_src_off);
		free(sp->by_src);
		free(sp->zone_regions);
		free(sp->peer);
	}
	free(s->regions);
	free(s->bounds);
	free(s->port_class);
	free(s);
}

int cg_space_new(const struct cg_policy *const *pols, size_t n,
		 struct cg_space **out)
{
	struct cg_space *s;
	size_t k;
	int err;

	*out = NULL;
	if (n < 1 || n > 2)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->n_pol = n;
	for (k = 0; k < n; k++)
		s->pol[k].p = pols[k];
	if ((err = collect_regions(s)) || (err = link_regions(s)) ||
	    (err = collect_ports(s)))
		goto fail;
	for (k = 0; k < n; k++)
		if ((err = prepare_policy(s, k)))
			goto fail;
	if (n == 2 && (err = pair_peers(s)))
		goto fail;
	*out = s;
	return 0;
fail:
	cg_space_free(s);
	return err;
}

/* ------------------------------------------------------------------ */
/* Deciding cells                                                      */

static bool is_pass(uint32_t code)
{
	return code == D_INTRA || code < D_NORULE;
}

static void code_decision(uint32_t code, struct cg_decision *d)
{
	d->flow = CG_FLOW_NONE;
	switch (code) {
	case D_SPOOF:
		d->verdict = CG_V_DROP;
		d->reason = CG_R_SPOOFED_SOURCE;
		break;
	case D_INTRA:
		d->verdict = CG_V_PASS;
		d->reason = CG_R_INTRA_ZONE;
		break;
	case D_NORULE:
		d->verdict = CG_V_DROP;
		d->reason = CG_R_NO_RULE;
		break;
	default:
		d->verdict = CG_V_PASS;
		d->reason = CG_R_ALLOWED;
		d->flow = code;
	}
}

/* What the zone rules decide for a pair, before any flow: a D_ code. */
static uint32_t zone_rule(const struct cg_space *s, size_t k, uint32_t src,
			  uint32_t dst)
{
	uint16_t zs = s->regions[src].zone[k];

	if (zs == NO_ZONE)
		return D_SPOOF;
	if (zs == s->regions[dst].zone[k])
		return D_INTRA;
	return D_NORULE;
}

/* The flows of policy k covering (src, dst), in file order, into `out`. */
static int pair_flows(const struct cg_space *s, size_t k, uint32_t src,
		      uint32_t dst, struct u32vec *out)
{
	const struct spol *sp = &s->pol[k];
	uint32_t i;
	int err;

	out->n = 0;
	for (i = sp->by_src_off[src]; i < sp->by_src_off[src + 1]; i++)
		if (has(&sp->flows[sp->by_src[i]].to, dst) &&
		    (err = u32vec_push(out, sp->by_src[i])))
			return err;
	return 0;
}

/*
 * The cells of one pair of regions, one per (protocol bucket, segment):
 * the port classes are cut further only where a flow covering the pair
 * starts or ends, so that a pair costs what its own flows cost, whatever
 * the size of the policies. Segment i holds the port classes
 * [cuts[i], cuts[i + 1]); cell[k] holds policy k's decisions.
 */
struct cells {
	struct u32vec cuts;
	size_t n_seg, n, cap;
	uint32_t *cell[2];
};

static size_t cell_index(const struct cells *c, int b, size_t seg)
{
	switch (b) {
	case CG_B_TCP:
		return seg;
	case CG_B_UDP:
		return c->n_seg + seg;
	case CG_B_ICMP:
		return 2 * c->n_seg;
	case CG_B_ICMPV6:
		return 2 * c->n_seg + 1;
	default:
		return 2 * c->n_seg + 2;
	}
}

/* The segment starting at port class pc (a cut). */
static size_t seg_of(const struct cells *c, uint32_t pc)
{
	size_t lo = 0, hi = c->cuts.n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (c->cuts.v[mid] < pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void cells_free(struct cells *c)
{
	free(c->cuts.v);
	free(c->cell[0]);
	free(c->cell[1]);
}

/* Cut at the port ranges of the given flows of policies 0 and 1. */
static int cells_cut(struct cells *c, const struct cg_space *s,
		     const struct u32vec *flows0, const struct u32vec *flows1)
{
	const struct u32vec *fl[2] = {flows0, flows1};
	size_t k, i, j;
	int err;

	c->cuts.n = 0;
	if ((err = u32vec_push(&c->cuts, 0)) ||
	    (err = u32vec_push(&c->cuts, s->n_pc)))
		return err;
	for (k = 0; k < 2; k++)
		for (i = 0; fl[k] && i < fl[k]->n; i++) {
			const struct u32vec *pcs =
				&s->pol[k].flows[fl[k]->v[i]].pcs;

			for (j = 0; j < pcs->n; j += 2)
				if ((err = u32vec_push(&c->cuts, pcs->v[j])) ||
				    (err = u32vec_push(&c->cuts,
						       pcs->v[j + 1] + 1)))
					return err;
		}
	u32vec_sort_unique(&c->cuts);
	c->n_seg = c->cuts.n - 1;
	c->n = 2 * c->n_seg + 3;
	if (c->n > c->cap) {
		for (k = 0; k < 2; k++) {
			uint32_t *v = realloc(c->cell[k], c->n * sizeof(*v));

			if (!v)
				return -ENOMEM;
			c->cell[k] = v;
		}
		c->cap = c->n;
	}
	return 0;
}

/*
 * Paint flow f of policy k onto `grid` (the cells of c): each cell it
 * covers that no earlier flow took becomes its. Cells taken already are
 * reported to `taken` (when not NULL). Returns how many cells f took.
 */
static size_t paint(const struct cg_space *s, size_t k, uint32_t f,
		    const struct cells *c, uint32_t *grid,
		    void (*taken)(void *, uint32_t, uint32_t), void *ctx,
		    unsigned long long *work)
{
	const struct sflow *sf = &s->pol[k].flows[f];
	size_t got = 0, j, seg, lo, hi;
	int b;

	for (b = 0; b < CG_B_N; b++) {
		if (!(sf->buckets & (1u << b)))
			continue;
		for (j = 0; j < (sf->pcs.n ? sf->pcs.n : 2); j += 2) {
			if (b != CG_B_TCP && b != CG_B_UDP) {
				lo = 0;
				hi = 1;
			} else if (!sf->pcs.n) {
				lo = 0;
				hi = c->n_seg;
			} else {
				lo = seg_of(c, sf->pcs.v[j]);
				hi = seg_of(c, sf->pcs.v[j + 1] + 1);
			}
			*work += hi - lo;
			for (seg = lo; seg < hi; seg++) {
				size_t i = cell_index(c, b, seg);

				if (grid[i] == D_NORULE) {
					grid[i] = f;
					got++;
				} else if (taken) {
					taken(ctx, f, grid[i]);
				}
			}
			if (b != CG_B_TCP && b != CG_B_UDP)
				break;
		}
	}
	return got;
}

/*
 * Decide every cell of (src, dst) under policy k. Returns the code when
 * the zone rules decide the whole pair (the cells are untouched), or
 * NONE32 with c->cell[k] filled.
 */
static uint32_t eval_pair(const struct cg_space *s, size_t k, uint32_t src,
			  uint32_t dst, const struct u32vec *flows,
			  const struct cells *c, unsigned long long *work)
{
	uint32_t z = zone_rule(s, k, src, dst);
	size_t i;

	if (z != D_NORULE || !flows->n)
		return z;
	for (i = 0; i < c->n; i++)
		c->cell[k][i] = D_NORULE;
	*work += c->n;
	for (i = 0; i < flows->n; i++)
		paint(s, k, flows->v[i], c, c->cell[k], NULL, NULL, work);
	return NONE32;
}

/* The most specific non-empty region holding an address, or NONE32. */
static uint32_t region_of(const struct cg_space *s, int family,
			  const uint8_t *addr)
{
	size_t lo = 0, hi = s->n_regions;
	int nb = nbytes(family);
	uint32_t r;

	/* The last region whose (family, address) is <= the address. */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct cg_prefix *q = &s->regions[mid].prefix;
		int c = q->family != family ? q->family - family
					    : memcmp(q->addr, addr, nb);

		if (c <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NONE32;
	for (r = lo - 1; r != NONE32; r = s->regions[r].parent)
		if (cg_prefix_has_addr(&s->regions[r].prefix, family, addr))
			return r;
	return NONE32;
}

uint32_t cg_space_region(const struct cg_space *s, int family,
			 const uint8_t *addr)
{
	return region_of(s, family, addr);
}

void cg_space_decide(const struct cg_space *s, size_t k, int family,
		     const uint8_t *src, const uint8_t *dst, uint8_t proto,
		     uint16_t port, struct cg_decision *out)
{
	uint32_t rs = region_of(s, family, src), rd = region_of(s, family, dst);
	struct u32vec flows = {};
	enum cg_bucket b;
	uint32_t code = D_SPOOF, pc = s->port_class[port];
	size_t i;

	b = proto == 6	  ? CG_B_TCP
	    : proto == 17 ? CG_B_UDP
	    : proto == 1  ? CG_B_ICMP
	    : proto == 58 ? CG_B_ICMPV6
			  : CG_B_OTHER;
	if (rs != NONE32 && rd == NONE32)
		code = s->regions[rs].zone[k] == NO_ZONE ? D_SPOOF : D_NORULE;
	else if (rs != NONE32)
		code = zone_rule(s, k, rs, rd);
	if (code == D_NORULE && rd != NONE32 &&
	    !pair_flows(s, k, rs, rd, &flows)) {
		for (i = 0; i < flows.n; i++) {
			const struct sflow *sf = &s->pol[k].flows[flows.v[i]];
			size_t j;
			bool hit = false;

			if (!(sf->buckets & (1u << b)))
				continue;
			if ((b != CG_B_TCP && b != CG_B_UDP) || !sf->pcs.n)
				hit = true;
			for (j = 0; j < sf->pcs.n && !hit; j += 2)
				hit = sf->pcs.v[j] <= pc &&
				      pc <= sf->pcs.v[j + 1];
			if (hit) {
				code = flows.v[i];
				break;
			}
		}
	}
	free(flows.v);
	code_decision(code, out);
}

/* ------------------------------------------------------------------ */
/* Flow usage, for the lint                                            */

static void add_taker(void *ctx, uint32_t f, uint32_t by)
{
	struct cg_flow_usage *u = &((struct cg_flow_usage *)ctx)[f];
	size_t i;

	if (by == D_INTRA) {
		u->zone_rules |= CG_TAKEN_INTRA;
		return;
	}
	if (by == D_SPOOF) {
		u->zone_rules |= CG_TAKEN_SPOOF;
		return;
	}
	for (i = 0; i < u->n_takers && i < CG_USAGE_TAKERS; i++)
		if (u->takers[i] == by)
			return;
	/* Past the array, distinct takers can no longer be told apart;
	 * n_takers then only says "more than CG_USAGE_TAKERS". */
	if (u->n_takers < CG_USAGE_TAKERS)
		u->takers[u->n_takers] = by;
	if (u->n_takers <= CG_USAGE_TAKERS)
		u->n_takers++;
}

int cg_space_flow_usage(const struct cg_space *s, struct cg_flow_usage *usage)
{
	const struct spol *sp = &s->pol[0];
	struct u32vec cand = {}, flows = {};
	struct cells cl = {};
	uint32_t *stamp = NULL, src, i;
	unsigned long long work = 0;
	size_t j, c;
	int err = -ENOMEM;

	memset(usage, 0, sp->p->n_flows * sizeof(*usage));
	stamp = calloc(s->n_regions + 1, sizeof(*stamp));
	if (!stamp)
		goto out;
	for (src = 0; src < s->n_regions; src++) {
		if (s->regions[src].empty)
			continue;
		/* The destinations some flow from here covers. */
		cand.n = 0;
		for (i = sp->by_src_off[src]; i < sp->by_src_off[src + 1];
		     i++) {
			const struct u32vec *to = &sp->flows[sp->by_src[i]].to;

			for (j = 0; j < to->n; j++) {
				uint32_t d = to->v[j];

				if (stamp[d] == src + 1 ||
				    s->regions[d].empty ||
				    s->regions[d].prefix.family !=
					    s->regions[src].prefix.family)
					continue;
				stamp[d] = src + 1;
				if ((err = u32vec_push(&cand, d)))
					goto out;
			}
		}
		for (j = 0; j < cand.n; j++) {
			uint32_t dst = cand.v[j], z = zone_rule(s, 0, src, dst);

			if ((err = pair_flows(s, 0, src, dst, &flows)))
				goto out;
			if (z != D_NORULE) {
				for (c = 0; c < flows.n; c++)
					add_taker(usage, flows.v[c], z);
				continue;
			}
			if ((err = cells_cut(&cl, s, &flows, NULL)))
				goto out;
			for (c = 0; c < cl.n; c++)
				cl.cell[0][c] = D_NORULE;
			work += cl.n;
			for (c = 0; c < flows.n; c++)
				if (paint(s, 0, flows.v[c], &cl, cl.cell[0],
					  add_taker, usage, &work))
					usage[flows.v[c]].decides = true;
			if (work > MAX_CELL_WORK) {
				err = -E2BIG;
				goto out;
			}
		}
	}
	err = 0;
out:
	free(cand.v);
	free(flows.v);
	free(stamp);
	cells_free(&cl);
	return err;
}

/* a ⊆ b over the non-empty regions of the given family. */
static bool regions_subset(const struct cg_space *s, const struct u32vec *a,
			   const struct u32vec *b, int family)
{
	size_t i;

	for (i = 0; i < a->n; i++) {
		const struct region *r = &s->regions[a->v[i]];

		if (r->empty || r->prefix.family != family)
			continue;
		if (!has(b, a->v[i]))
			return false;
	}
	return true;
}

static bool has_family(const struct cg_space *s, const struct u32vec *a,
		       int family)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (!s->regions[a->v[i]].empty &&
		    s->regions[a->v[i]].prefix.family == family)
			return true;
	return false;
}

/* The port classes of flow j (TCP/UDP) lie inside those of flow i. */
static bool ports_subset(const struct cg_space *s, const struct sflow *j,
			 const struct sflow *i)
{
	size_t a, b;

	if (!i->pcs.n)
		return true;
	if (!j->pcs.n)
		return false;
	for (a = 0; a < j->pcs.n; a += 2) {
		for (b = 0; b < i->pcs.n; b += 2)
			if (i->pcs.v[b] <= j->pcs.v[a] &&
			    j->pcs.v[a + 1] <= i->pcs.v[b + 1])
				break;
		if (b >= i->pcs.n)
			return false;
	}
	return true;
}

bool cg_space_flow_covers(const struct cg_space *s, size_t i, size_t j)
{
	const struct sflow *fi = &s->pol[0].flows[i], *fj = &s->pol[0].flows[j];
	int fam;

	if ((fj->buckets & fi->buckets) != fj->buckets)
		return false;
	if ((fj->buckets & (1u << CG_B_TCP | 1u << CG_B_UDP)) &&
	    !ports_subset(s, fj, fi))
		return false;
	/* Per family: the sources and destinations of j that meet. */
	for (fam = 4; fam <= 6; fam += 2) {
		if (!has_family(s, &fj->from, fam) ||
		    !has_family(s, &fj->to, fam))
			continue;
		if (!regions_subset(s, &fj->from, &fi->from, fam) ||
		    !regions_subset(s, &fj->to, &fi->to, fam))
			return false;
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* The diff: cells to lines                                            */

/* A group of changed pairs that share kind, decisions, protocol, ports. */
struct group {
	char *key;
	enum cg_diff_kind kind;
	uint32_t old, new_;
	char proto[24];
	char *ports;
	unsigned buckets;
	struct cg_port_span *spans;
	size_t n_spans;
	struct u32vec pairs; /* src, dst, src, dst, ... in src order */
};

struct differ {
	struct cg_space *s;
	const struct cg_policy *old, *new_;
	struct group *groups;
	size_t n_groups, cap_groups;
	uint32_t *slots; /* hash of keys -> group index + 1 */
	size_t n_slots;
};

static int grow_slots(struct differ *df)
{
	size_t n = df->n_slots ? df->n_slots * 2 : 64, i;
	uint32_t *slots = calloc(n, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (i = 0; i < df->n_groups; i++) {
		const char *k = df->groups[i].key;
		size_t h = cg_hash_bytes(k, strlen(k)) & (n - 1);

		while (slots[h])
			h = (h + 1) & (n - 1);
		slots[h] = i + 1;
	}
	free(df->slots);
	df->slots = slots;
	df->n_slots = n;
	return 0;
}

static struct group *find_group(struct differ *df, const char *key)
{
	size_t h;
	int err;

	if (df->n_groups * 2 >= df->n_slots && (err = grow_slots(df)))
		return NULL;
	h = cg_hash_bytes(key, strlen(key)) & (df->n_slots - 1);
	while (df->slots[h]) {
		struct group *g = &df->groups[df->slots[h] - 1];

		if (!strcmp(g->key, key))
			return g;
		h = (h + 1) & (df->n_slots - 1);
	}
	if (df->n_groups == df->cap_groups) {
		size_t cap = df->cap_groups ? df->cap_groups * 2 : 16;
		struct group *v = realloc(df->groups, cap * sizeof(*v));

		if (!v)
			return NULL;
		df->groups = v;
		df->cap_groups = cap;
	}
	memset(&df->groups[df->n_groups], 0, sizeof(*df->groups));
	df->groups[df->n_groups].key = strdup(key);
	if (!df->groups[df->n_groups].key)
		return NULL;
	df->slots[h] = ++df->n_groups;
	return &df->groups[df->n_groups - 1];
}

static bool same_decision(const struct cg_space *s, uint32_t o, uint32_t n)
{
	if (o >= D_NORULE || n >= D_NORULE)
		return o == n;
	return s->pol[0].peer[o] == n;
}

static int change_kind(uint32_t o, uint32_t n)
{
	if (!is_pass(o) && is_pass(n))
		return CG_DIFF_ALLOWED;
	if (is_pass(o) && !is_pass(n))
		return CG_DIFF_DENIED;
	if (is_pass(o) && is_pass(n))
		return CG_DIFF_MOVED;
	return -1;
}

/*
 * Port spans of sorted, disjoint port-class ranges (lo, hi pairs), and
 * their text. None (not TCP/UDP), or all of them: no spans, "".
 */
static int spans_of(const struct cg_space *s, const struct u32vec *pcs,
		    struct cg_port_span **out, size_t *n_out, char **text)
{
	struct cg_port_span *sp;
	size_t i, n = 0, len = 0;
	char *t;

	*out = NULL;
	*n_out = 0;
	*text = strdup("");
	if (!*text)
		return -ENOMEM;
	if (!pcs->n || (pcs->n == 2 && !pcs->v[0] && pcs->v[1] == s->n_pc - 1))
		return 0;
	sp = calloc(pcs->n / 2 + 1, sizeof(*sp));
	t = malloc(pcs->n / 2 * 12 + 1);
	if (!sp || !t) {
		free(sp);
		free(t);
		return -ENOMEM;
	}
	for (i = 0; i < pcs->n; i += 2) {
		uint32_t lo = s->bounds[pcs->v[i]],
			 hi = pc_last_port(s, pcs->v[i + 1]);

		if (n && (uint32_t)sp[n - 1].hi + 1 == lo)
			sp[n - 1].hi = hi;
		else
			sp[n++] = (struct cg_port_span){lo, hi};
	}
	for (i = 0; i < n; i++) {
		if (sp[i].lo == sp[i].hi)
			len += sprintf(t + len, "%s%u", i ? "," : "", sp[i].lo);
		else
			len += sprintf(t + len, "%s%u-%u", i ? "," : "",
				       sp[i].lo, sp[i].hi);
	}
	free(*text);
	*text = t;
	*out = sp;
	*n_out = n;
	return 0;
}

/* Add (src, dst) to the group of (kind, o, n, proto, port classes). */
static int add_change(struct differ *df, int kind, uint32_t o, uint32_t n,
		      const char *proto, unsigned buckets,
		      const struct u32vec *pcs, uint32_t src, uint32_t dst)
{
	struct cg_port_span *spans = NULL;
	size_t n_spans = 0;
	char *ports = NULL, *key = NULL;
	struct group *g;
	int err;

	if ((err = spans_of(df->s, pcs, &spans, &n_spans, &ports)))
		return err;
	if (asprintf(&key, "%d:%u:%u:%s:%s", kind, o, n, proto, ports) < 0) {
		err = -ENOMEM;
		goto out;
	}
	g = find_group(df, key);
	if (!g) {
		err = -ENOMEM;
		goto out;
	}
	if (!g->ports) {
		g->kind = kind;
		g->old = o;
		g->new_ = n;
		snprintf(g->proto, sizeof(g->proto), "%s", proto);
		g->buckets = buckets;
		g->ports = ports;
		g->spans = spans;
		g->n_spans = n_spans;
		ports = NULL;
		spans = NULL;
	}
	if ((err = u32vec_push(&g->pairs, src)) ||
	    (err = u32vec_push(&g->pairs, dst)))
		goto out;
	err = 0;
out:
	free(key);
	free(ports);
	free(spans);
	return err;
}

/* Append the port classes of segment seg to lo,hi ranges, merging. */
static int add_seg(struct u32vec *r, const struct cells *c, size_t seg)
{
	uint32_t lo = c->cuts.v[seg], hi = c->cuts.v[seg + 1] - 1;
	int err;

	if (r->n && r->v[r->n - 1] + 1 == lo) {
		r->v[r->n - 1] = hi;
		return 0;
	}
	if ((err = u32vec_push(r, lo)))
		return err;
	return u32vec_push(r, hi);
}

/*
 * The changes of one pair: for each (old, new) combination among its
 * changed cells, the protocols and ports it covers. go/gn: the cells of
 * each policy, or NULL when uo/un decides the whole pair.
 */
static int pair_changes(struct differ *df, uint32_t src, uint32_t dst,
			const struct cells *c, uint32_t uo, const uint32_t *go,
			uint32_t un, const uint32_t *gn)
{
	const struct cg_space *s = df->s;
	struct u32vec combos = {}, tcp = {}, udp = {}, none = {};
	uint32_t o, n;
	size_t k, i, all;
	int err = 0, kind;

	/* Distinct (old, new) combinations; a pair rarely has many. */
	for (i = 0; i < c->n && !err; i++) {
		o = go ? go[i] : uo;
		n = gn ? gn[i] : un;
		if (same_decision(s, o, n) || change_kind(o, n) < 0)
			continue;
		for (k = 0; k < combos.n; k += 2)
			if (combos.v[k] == o && combos.v[k + 1] == n)
				break;
		if (k == combos.n && !(err = u32vec_push(&combos, o)))
			err = u32vec_push(&combos, n);
	}
	for (k = 0; k < combos.n && !err; k += 2) {
		bool icmp = false, icmp6 = false, other = false;

		o = combos.v[k];
		n = combos.v[k + 1];
		kind = change_kind(o, n);
		tcp.n = udp.n = 0;
		all = 0;
		for (i = 0; i < c->n && !err; i++) {
			if ((go ? go[i] : uo) != o || (gn ? gn[i] : un) != n)
				continue;
			all++;
			if (i < c->n_seg)
				err = add_seg(&tcp, c, i);
			else if (i < 2 * c->n_seg)
				err = add_seg(&udp, c, i - c->n_seg);
			else if (i == 2 * c->n_seg)
				icmp = true;
			else if (i == 2 * c->n_seg + 1)
				icmp6 = true;
			else
				other = true;
		}
		if (err)
			break;
		if (all == c->n) {
			err = add_change(df, kind, o, n, "any",
					 (1u << CG_B_N) - 1, &none, src, dst);
			continue;
		}
		if (tcp.n && tcp.n == udp.n &&
		    !memcmp(tcp.v, udp.v, tcp.n * sizeof(*tcp.v))) {
			err = add_change(df, kind, o, n, "tcp+udp",
					 1u << CG_B_TCP | 1u << CG_B_UDP, &tcp,
					 src, dst);
		} else {
			if (tcp.n && !err)
				err = add_change(df, kind, o, n, "tcp",
						 1u << CG_B_TCP, &tcp, src,
						 dst);
			if (udp.n && !err)
				err = add_change(df, kind, o, n, "udp",
						 1u << CG_B_UDP, &udp, src,
						 dst);
		}
		if (icmp && !err)
			err = add_change(df, kind, o, n, "icmp",
					 1u << CG_B_ICMP, &none, src, dst);
		if (icmp6 && !err)
			err = add_change(df, kind, o, n, "icmpv6",
					 1u << CG_B_ICMPV6, &none, src, dst);
		if (other && !err)
			err = add_change(df, kind, o, n, "other",
					 1u << CG_B_OTHER, &none, src, dst);
	}
	free(combos.v);
	free(tcp.v);
	free(udp.v);
	return err;
}

/* Every pair of regions of one family, compared cell by cell. */
static int walk_pairs(struct differ *df)
{
	const struct cg_space *s = df->s;
	struct u32vec regs = {}, flows[2] = {};
	struct cells cl = {};
	uint32_t *stamp[2] = {}, src, dst, u[2];
	unsigned long long pairs = 0, work = 0;
	size_t a, b, k, i, j;
	int err = -ENOMEM, fam;

	for (k = 0; k < 2; k++) {
		stamp[k] = calloc(s->n_regions + 1, sizeof(uint32_t));
		if (!stamp[k])
			goto out;
	}
	for (fam = 4; fam <= 6; fam += 2) {
		regs.n = 0;
		for (i = 0; i < s->n_regions; i++)
			if (!s->regions[i].empty &&
			    s->regions[i].prefix.family == fam &&
			    (err = u32vec_push(&regs, i)))
				goto out;
		pairs += (unsigned long long)regs.n * regs.n;
		if (pairs > MAX_PAIRS) {
			err = -E2BIG;
			goto out;
		}
		for (a = 0; a < regs.n; a++) {
			src = regs.v[a];
			/* Destinations some flow from here covers, per policy.
			 */
			for (k = 0; k < 2; k++) {
				const struct spol *sp = &s->pol[k];

				for (i = sp->by_src_off[src];
				     i < sp->by_src_off[src + 1]; i++) {
					const struct u32vec *to =
						&sp->flows[sp->by_src[i]].to;

					for (j = 0; j < to->n; j++)
						stamp[k][to->v[j]] = src + 1;
				}
			}
			for (b = 0; b < regs.n; b++) {
				dst = regs.v[b];
				for (k = 0; k < 2; k++) {
					flows[k].n = 0;
					if (stamp[k][dst] == src + 1 &&
					    (err = pair_flows(s, k, src, dst,
							      &flows[k])))
						goto out;
				}
				/* The zone rules alone, on both sides. */
				u[0] = zone_rule(s, 0, src, dst);
				u[1] = zone_rule(s, 1, src, dst);
				if ((u[0] != D_NORULE || !flows[0].n) &&
				    (u[1] != D_NORULE || !flows[1].n) &&
				    same_decision(s, u[0], u[1]))
					continue;
				if ((err = cells_cut(&cl, s, &flows[0],
						     &flows[1])))
					goto out;
				for (k = 0; k < 2; k++)
					u[k] = eval_pair(s, k, src, dst,
							 &flows[k], &cl, &work);
				if (u[0] != NONE32 && u[1] != NONE32 &&
				    same_decision(s, u[0], u[1]))
					continue;
				if ((err = pair_changes(
					     df, src, dst, &cl, u[0],
					     u[0] == NONE32 ? cl.cell[0] : NULL,
					     u[1],
					     u[1] == NONE32 ? cl.cell[1]
							    : NULL)))
					goto out;
				work += cl.n;
				if (work > MAX_CELL_WORK) {
					err = -E2BIG;
					goto out;
				}
			}
		}
	}
	err = 0;
out:
	free(regs.v);
	for (k = 0; k < 2; k++) {
		free(flows[k].v);
		free(stamp[k]);
	}
	cells_free(&cl);
	return err;
}

/* ------------------------------------------------------------------ */
/* Naming regions                                                      */

struct names {
	char **v;
	size_t n, cap;
};

static int names_add(struct names *nm, const char *s)
{
	/* self stands for two regions (one per family): name it once. */
	if (!strcmp(s, "self") && nm->n && !strcmp(nm->v[nm->n - 1], "self"))
		return 0;
	if (nm->n == nm->cap) {
		size_t cap = nm->cap ? nm->cap * 2 : 8;
		char **v = realloc(nm->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		nm->v = v;
		nm->cap = cap;
	}
	nm->v[nm->n] = strdup(s);
	return nm->v[nm->n++] ? 0 : -ENOMEM;
}

static char *names_join(const struct names *nm)
{
	size_t len = 1, i;
	char *t;

	for (i = 0; i < nm->n; i++)
		len += strlen(nm->v[i]) + 2;
	t = malloc(len);
	if (!t)
		return NULL;
	t[0] = 0;
	for (i = 0; i < nm->n; i++) {
		if (i)
			strcat(t, ", ");
		strcat(t, nm->v[i]);
	}
	return t;
}

static void names_free(struct names *nm)
{
	size_t i;

	for (i = 0; i < nm->n; i++)
		free(nm->v[i]);
	free(nm->v);
	nm->v = NULL;
	nm->n = nm->cap = 0;
}

static const struct cg_host *find_host(const struct cg_policy *p,
				       const char *name)
{
	size_t i;

	for (i = 0; i < p->n_hosts; i++)
		if (!strcmp(p->hosts[i].name, name))
			return &p->hosts[i];
	return NULL;
}

/* A host name for the region (NEW's first), else its prefix. */
static void region_name(const struct cg_space *s, uint32_t r, char *buf,
			size_t len)
{
	const struct region *rg = &s->regions[r];
	size_t k, i;

	if (is_self_region(&rg->prefix)) {
		snprintf(buf, len, "self");
		return;
	}
	for (k = s->n_pol; k-- > 0;) {
		const struct cg_policy *p = s->pol[k].p;

		for (i = 0; i < p->n_hosts; i++) {
			const struct cg_host *other;

			if (cmp_prefix(&p->hosts[i].addr, &rg->prefix))
				continue;
			snprintf(buf, len, "%s", p->hosts[i].name);
			/* The name moved to another address: say which. */
			other = s->n_pol == 2 ? find_host(s->pol[!k].p,
							  p->hosts[i].name)
					      : NULL;
			if (other && cmp_prefix(&other->addr, &rg->prefix)) {
				char a[64];

				cg_prefix_format(&rg->prefix, a, sizeof(a));
				snprintf(buf + strlen(buf), len - strlen(buf),
					 " (%s, as in %s)", a,
					 k ? "NEW" : "OLD");
			}
			return;
		}
	}
	cg_prefix_format(&rg->prefix, buf, len);
	/* The addresses of the prefix that no smaller class took. */
	if (rg->has_children)
		snprintf(buf + strlen(buf), len - strlen(buf), " (rest)");
}

static const struct cg_zone *find_zone(const struct cg_policy *p,
				       const char *name, size_t *idx)
{
	size_t i;

	for (i = 0; p && i < p->n_zones; i++)
		if (!strcmp(p->zones[i].name, name)) {
			if (idx)
				*idx = i;
			return &p->zones[i];
		}
	return NULL;
}

/*
 * Name a set of regions (of one family, or of both: a line's sources
 * never meet its destinations across families). A zone is named where the
 * set holds every address it has in the set's families, or all but a few
 * whole prefixes, named as exceptions; NEW's zones first, then zones only
 * OLD has. The regions left are named one by one.
 */
#define MAX_EXCEPT 4

static int name_regions(const struct cg_space *s, const uint32_t *set, size_t n,
			uint32_t *mark, uint32_t stamp, struct names *out)
{
	char buf[CG_NAME_MAX + 64], text[(CG_NAME_MAX + 64) * (MAX_EXCEPT + 1)];
	uint32_t except[MAX_EXCEPT];
	unsigned fams = 0;
	bool bulk;
	size_t k, z, i, in, n_out;
	int err;

	for (i = 0; i < n; i++) {
		mark[set[i]] = stamp;
		fams |= 1u << s->regions[set[i]].prefix.family;
	}
	for (k = s->n_pol; k-- > 0;) {
		const struct spol *sp = &s->pol[k];

		for (z = 0; z < sp->p->n_zones; z++) {
			const struct u32vec *zr = &sp->zone_regions[z];

			if (k + 1 < s->n_pol &&
			    find_zone(s->pol[k + 1].p, sp->p->zones[z].name,
				      NULL))
				continue; /* named by NEW's zone */
			in = n_out = 0;
			bulk = false;
			for (i = 0; i < zr->n; i++) {
				const struct region *r = &s->regions[zr->v[i]];

				if (!(fams & (1u << r->prefix.family)))
					continue;
				if (mark[zr->v[i]] == stamp) {
					in++;
					bulk |= r->has_children;
					continue;
				}
				/* Exceptions must be whole prefixes. */
				if (n_out == MAX_EXCEPT || r->has_children)
					break;
				except[n_out++] = zr->v[i];
			}
			/* Most of the zone: a network's rest, or most regions.
			 */
			if (i < zr->n || !in || (n_out && !bulk && n_out >= in))
				continue;
			for (i = 0; i < zr->n; i++)
				if (mark[zr->v[i]] == stamp)
					mark[zr->v[i]] = 0;
			snprintf(text, sizeof(text), "%s",
				 sp->p->zones[z].name);
			for (i = 0; i < n_out; i++) {
				region_name(s, except[i], buf, sizeof(buf));
				snprintf(text + strlen(text),
					 sizeof(text) - strlen(text), "%s%s",
					 i ? ", " : " (except ", buf);
			}
			if (n_out)
				snprintf(text + strlen(text),
					 sizeof(text) - strlen(text), ")");
			if ((err = names_add(out, text)))
				return err;
		}
	}
	for (i = 0; i < n; i++) {
		if (mark[set[i]] != stamp)
			continue;
		region_name(s, set[i], buf, sizeof(buf));
		if ((err = names_add(out, buf)))
			return err;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Groups to lines                                                     */

static int add_line(struct cg_diff *d, const struct group *g,
		    const uint32_t *srcs, size_t n_src, const uint32_t *dsts,
		    size_t n_dst, uint32_t *mark, uint32_t *stamp)
{
	struct cg_diff_line *l, *v;
	struct names fn = {}, tn = {};
	int err = -ENOMEM;

	v = realloc(d->lines, (d->n_lines + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	d->lines = v;
	l = &d->lines[d->n_lines];
	memset(l, 0, sizeof(*l));
	l->kind = g->kind;
	code_decision(g->old, &l->old);
	code_decision(g->new_, &l->new_);
	snprintf(l->proto, sizeof(l->proto), "%s", g->proto);
	l->buckets = g->buckets;
	l->ports = strdup(g->ports);
	l->spans = calloc(g->n_spans + 1, sizeof(*l->spans));
	l->src_regions = malloc((n_src + 1) * sizeof(uint32_t));
	l->dst_regions = malloc((n_dst + 1) * sizeof(uint32_t));
	if (!l->ports || !l->spans || !l->src_regions || !l->dst_regions)
		goto out;
	memcpy(l->spans, g->spans, g->n_spans * sizeof(*l->spans));
	l->n_spans = g->n_spans;
	memcpy(l->src_regions, srcs, n_src * sizeof(uint32_t));
	memcpy(l->dst_regions, dsts, n_dst * sizeof(uint32_t));
	l->n_src = n_src;
	l->n_dst = n_dst;
	if ((err = name_regions(d->space, srcs, n_src, mark, ++*stamp, &fn)) ||
	    (err = name_regions(d->space, dsts, n_dst, mark, ++*stamp, &tn)))
		goto out;
	err = -ENOMEM;
	l->from = names_join(&fn);
	l->to = names_join(&tn);
	if (!l->from || !l->to)
		goto out;
	l->from_names = fn.v;
	l->n_from_names = fn.n;
	l->to_names = tn.v;
	l->n_to_names = tn.n;
	fn = (struct names){};
	tn = (struct names){};
	err = 0;
out:
	names_free(&fn);
	names_free(&tn);
	d->n_lines++; /* even half-built: cg_diff_free frees it */
	return err;
}

/* The zones (NEW's, else OLD's) of a set of regions, sorted. */
static int zones_of(const struct cg_space *s, const struct u32vec *set,
		    struct u32vec *out)
{
	size_t i, k;
	int err;

	out->n = 0;
	for (i = 0; i < set->n; i++) {
		const struct region *r = &s->regions[set->v[i]];
		uint32_t z = NO_ZONE;

		for (k = s->n_pol; k-- > 0 && z == NO_ZONE;)
			if (r->zone[k] != NO_ZONE)
				z = k << 16 | r->zone[k];
		if ((err = u32vec_push(out, z)))
			return err;
	}
	u32vec_sort_unique(out);
	return 0;
}

static bool same_vec(const struct u32vec *a, const struct u32vec *b)
{
	return a->n == b->n && !memcmp(a->v, b->v, a->n * sizeof(*a->v));
}

/*
 * The pairs of a group, factored into lines: sources whose sets of
 * destinations are equal share a line. Then an IPv4 line and an IPv6
 * line between the same zones become one: sources of one family never
 * meet destinations of the other, so the union of the two products is
 * the product of the unions.
 */
static int group_lines(struct cg_diff *d, struct group *g, uint32_t *mark,
		       uint32_t *stamp)
{
	struct row {
		struct u32vec src, dst, zsrc, zdst;
		int family;
		bool done;
	} *rows = NULL;
	struct run {
		uint32_t src;
		size_t off, n; /* destinations: g->pairs.v[off + 2i + 1] */
		bool done;
	} * runs;
	size_t n_runs = 0, n_rows = 0, i, j, m;
	int err = -ENOMEM;

	runs = calloc(g->pairs.n / 2 + 1, sizeof(*runs));
	rows = calloc(g->pairs.n / 2 + 1, sizeof(*rows));
	if (!runs || !rows)
		goto out;
	for (i = 0; i < g->pairs.n; i += 2) {
		if (!n_runs || runs[n_runs - 1].src != g->pairs.v[i]) {
			runs[n_runs].src = g->pairs.v[i];
			runs[n_runs].off = i;
			n_runs++;
		}
		runs[n_runs - 1].n++;
	}
	for (i = 0; i < n_runs; i++) {
		struct row *r = &rows[n_rows];

		if (runs[i].done)
			continue;
		n_rows++;
		r->family = d->space->regions[runs[i].src].prefix.family;
		for (m = 0; m < runs[i].n; m++)
			if ((err = u32vec_push(
				     &r->dst,
				     g->pairs.v[runs[i].off + 2 * m + 1])))
				goto out;
		for (j = i; j < n_runs; j++) {
			if (runs[j].done || runs[j].n != runs[i].n)
				continue;
			for (m = 0; m < runs[j].n; m++)
				if (g->pairs.v[runs[j].off + 2 * m + 1] !=
				    r->dst.v[m])
					break;
			if (m < runs[j].n)
				continue;
			runs[j].done = true;
			if ((err = u32vec_push(&r->src, runs[j].src)))
				goto out;
		}
		if ((err = zones_of(d->space, &r->src, &r->zsrc)) ||
		    (err = zones_of(d->space, &r->dst, &r->zdst)))
			goto out;
	}
	for (i = 0; i < n_rows; i++) {
		struct row *r = &rows[i];

		if (r->done)
			continue;
		for (j = i + 1; j < n_rows; j++) {
			struct row *q = &rows[j];

			if (q->done || q->family == r->family ||
			    !same_vec(&q->zsrc, &r->zsrc) ||
			    !same_vec(&q->zdst, &r->zdst))
				continue;
			for (m = 0; m < q->src.n; m++)
				if ((err = u32vec_push(&r->src, q->src.v[m])))
					goto out;
			for (m = 0; m < q->dst.n; m++)
				if ((err = u32vec_push(&r->dst, q->dst.v[m])))
					goto out;
			q->done = true;
			break;
		}
		if ((err = add_line(d, g, r->src.v, r->src.n, r->dst.v,
				    r->dst.n, mark, stamp)))
			goto out;
	}
	err = 0;
out:
	for (i = 0; rows && i < n_rows; i++) {
		free(rows[i].src.v);
		free(rows[i].dst.v);
		free(rows[i].zsrc.v);
		free(rows[i].zdst.v);
	}
	free(rows);
	free(runs);
	return err;
}

static int cmp_line(const void *a, const void *b)
{
	const struct cg_diff_line *x = a, *y = b;
	int c;

	if (x->kind != y->kind)
		return x->kind - y->kind;
	if ((c = strcmp(x->from, y->from)))
		return c;
	if ((c = strcmp(x->to, y->to)))
		return c;
	if ((c = strcmp(x->proto, y->proto)))
		return c;
	if ((c = strcmp(x->ports, y->ports)))
		return c;
	if (x->old.flow != y->old.flow)
		return x->old.flow < y->old.flow ? -1 : 1;
	if (x->old.reason != y->old.reason)
		return x->old.reason - y->old.reason;
	if (x->new_.flow != y->new_.flow)
		return x->new_.flow < y->new_.flow ? -1 : 1;
	return x->new_.reason - y->new_.reason;
}

static void line_free(struct cg_diff_line *l)
{
	size_t i;

	for (i = 0; i < l->n_from_names; i++)
		free(l->from_names[i]);
	for (i = 0; i < l->n_to_names; i++)
		free(l->to_names[i]);
	free(l->from_names);
	free(l->to_names);
	free(l->from);
	free(l->to);
	free(l->ports);
	free(l->spans);
	free(l->src_regions);
	free(l->dst_regions);
}

/* Lines of both families that read alike become one (dual-stack zones). */
static int merge_lines(struct cg_diff *d)
{
	size_t i, j = 0;

	if (d->n_lines)
		qsort(d->lines, d->n_lines, sizeof(*d->lines), cmp_line);
	for (i = 0; i < d->n_lines; i++) {
		struct cg_diff_line *l = &d->lines[i];

		if (j && !cmp_line(&d->lines[j - 1], l)) {
			struct cg_diff_line *k = &d->lines[j - 1];
			uint32_t *s =
				realloc(k->src_regions,
					(k->n_src + l->n_src) * sizeof(*s));
			uint32_t *t =
				s ? realloc(k->dst_regions,
					    (k->n_dst + l->n_dst) * sizeof(*t))
				  : NULL;

			if (s)
				k->src_regions = s;
			if (!s || !t)
				return -ENOMEM;
			k->dst_regions = t;
			memcpy(s + k->n_src, l->src_regions,
			       l->n_src * sizeof(*s));
			memcpy(t + k->n_dst, l->dst_regions,
			       l->n_dst * sizeof(*t));
			k->n_src += l->n_src;
			k->n_dst += l->n_dst;
			line_free(l);
			continue;
		}
		d->lines[j++] = *l;
	}
	d->n_lines = j;
	memset(d->n_kind, 0, sizeof(d->n_kind));
	for (i = 0; i < d->n_lines; i++)
		d->n_kind[d->lines[i].kind]++;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Changes that are not traffic                                        */

static int add_item(struct cg_diff *d, const char *kind, const char *subject,
		    const char *what, const char *old, const char *new_,
		    bool counts)
{
	struct cg_diff_item *v, *it;

	v = realloc(d->items, (d->n_items + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	d->items = v;
	it = &d->items[d->n_items++];
	it->kind = kind;
	it->what = what;
	it->subject = strdup(subject);
	it->old = old ? strdup(old) : NULL;
	it->new_ = new_ ? strdup(new_) : NULL;
	it->counts = counts;
	if (counts)
		d->n_counted_items++;
	if (!it->subject || (old && !it->old) || (new_ && !it->new_))
		return -ENOMEM;
	return 0;
}

/* Text builders for lists: "[a, b]". */
struct sbuf {
	char *s;
	size_t n, cap;
};

static void sb_add(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int need;

	va_start(ap, fmt);
	need = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (need < 0)
		return;
	if (b->n + need + 1 > b->cap) {
		size_t cap = (b->n + need + 1) * 2;
		char *s = realloc(b->s, cap);

		if (!s)
			return;
		b->s = s;
		b->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
	va_end(ap);
	b->n += need;
}

static const char *sb_str(struct sbuf *b)
{
	return b->s ? b->s : "";
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A sorted "[x, y]" of strings (sorted, since order carries no meaning). */
static void sb_set(struct sbuf *b, char **v, size_t n)
{
	size_t i;

	if (n)
		qsort(v, n, sizeof(*v), cmp_str);
	sb_add(b, "[");
	for (i = 0; i < n; i++)
		sb_add(b, "%s%s", i ? ", " : "", v[i]);
	sb_add(b, "]");
}

static int cmp_vlan(const void *a, const void *b)
{
	return (int)((const struct cg_vlan *)a)->id -
	       (int)((const struct cg_vlan *)b)->id;
}

static void zone_text(const struct cg_zone *z, struct sbuf *ifs,
		      struct sbuf *vlans, struct sbuf *nets)
{
	char **v = calloc(z->n_ifaces + z->n_nets + 1, sizeof(*v));
	struct cg_vlan *ids = calloc(z->n_vlans + 1, sizeof(*ids));
	char buf[64];
	size_t i;

	if (!v || !ids) {
		free(v);
		free(ids);
		return;
	}
	for (i = 0; i < z->n_ifaces; i++)
		v[i] = strdup(z->ifaces[i].name);
	sb_set(ifs, v, z->n_ifaces);
	for (i = 0; i < z->n_ifaces; i++)
		free(v[i]);
	memcpy(ids, z->vlans, z->n_vlans * sizeof(*ids));
	if (z->n_vlans)
		qsort(ids, z->n_vlans, sizeof(*ids), cmp_vlan);
	sb_add(vlans, "[");
	for (i = 0; i < z->n_vlans; i++)
		sb_add(vlans, "%s%u", i ? ", " : "", ids[i].id);
	sb_add(vlans, "]");
	for (i = 0; i < z->n_nets; i++) {
		cg_prefix_format(&z->nets[i].prefix, buf, sizeof(buf));
		v[i] = strdup(buf);
	}
	sb_set(nets, v, z->n_nets);
	for (i = 0; i < z->n_nets; i++)
		free(v[i]);
	free(v);
	free(ids);
}

static int diff_zones(struct cg_diff *d)
{
	const struct cg_policy *o = d->old, *n = d->new_;
	size_t i;
	int err = 0;

	for (i = 0; i < o->n_zones && !err; i++) {
		const struct cg_zone *zo = &o->zones[i], *zn;
		struct sbuf a[3] = {}, b[3] = {};
		static const char *const what[3] = {"interfaces", "vlans",
						    "networks"};
		int w;

		zone_text(zo, &a[0], &a[1], &a[2]);
		zn = find_zone(n, zo->name, NULL);
		if (!zn) {
			struct sbuf t = {};

			sb_add(&t, "interfaces %s, %s%s%snetworks %s",
			       sb_str(&a[0]), zo->n_vlans ? "vlans " : "",
			       zo->n_vlans ? sb_str(&a[1]) : "",
			       zo->n_vlans ? ", " : "", sb_str(&a[2]));
			err = add_item(d, "zone", zo->name, "removed",
				       sb_str(&t), NULL, true);
			free(t.s);
		} else {
			zone_text(zn, &b[0], &b[1], &b[2]);
			for (w = 0; w < 3 && !err; w++)
				if (strcmp(sb_str(&a[w]), sb_str(&b[w])))
					err = add_item(d, "zone", zo->name,
						       what[w], sb_str(&a[w]),
						       sb_str(&b[w]), true);
		}
		for (w = 0; w < 3; w++) {
			free(a[w].s);
			free(b[w].s);
		}
	}
	for (i = 0; i < n->n_zones && !err; i++) {
		const struct cg_zone *zn = &n->zones[i];
		struct sbuf b[3] = {}, t = {};
		int w;

		if (find_zone(o, zn->name, NULL))
			continue;
		zone_text(zn, &b[0], &b[1], &b[2]);
		sb_add(&t, "interfaces %s, %s%s%snetworks %s", sb_str(&b[0]),
		       zn->n_vlans ? "vlans " : "",
		       zn->n_vlans ? sb_str(&b[1]) : "",
		       zn->n_vlans ? ", " : "", sb_str(&b[2]));
		err = add_item(d, "zone", zn->name, "added", NULL, sb_str(&t),
			       true);
		free(t.s);
		for (w = 0; w < 3; w++)
			free(b[w].s);
	}
	return err;
}

static void host_text(const struct cg_host *h, struct sbuf *addr,
		      struct sbuf *mac)
{
	char buf[64];

	cg_prefix_format(&h->addr, buf, sizeof(buf));
	sb_add(addr, "%s", buf);
	if (h->has_mac)
		sb_add(mac, "%02x:%02x:%02x:%02x:%02x:%02x", h->mac[0],
		       h->mac[1], h->mac[2], h->mac[3], h->mac[4], h->mac[5]);
	else
		sb_add(mac, "none");
}

static int diff_hosts(struct cg_diff *d)
{
	const struct cg_policy *o = d->old, *n = d->new_;
	size_t i;
	int err = 0;

	for (i = 0; i < o->n_hosts && !err; i++) {
		const struct cg_host *ho = &o->hosts[i], *hn;
		struct sbuf a[2] = {}, b[2] = {};

		host_text(ho, &a[0], &a[1]);
		hn = find_host(n, ho->name);
		if (!hn) {
			err = add_item(d, "host", ho->name, "removed",
				       sb_str(&a[0]), NULL, false);
		} else {
			host_text(hn, &b[0], &b[1]);
			if (strcmp(sb_str(&a[0]), sb_str(&b[0])))
				err = add_item(d, "host", ho->name, "address",
					       sb_str(&a[0]), sb_str(&b[0]),
					       false);
			if (!err && strcmp(sb_str(&a[1]), sb_str(&b[1])))
				err = add_item(d, "host", ho->name, "mac",
					       sb_str(&a[1]), sb_str(&b[1]),
					       true);
		}
		free(a[0].s);
		free(a[1].s);
		free(b[0].s);
		free(b[1].s);
	}
	for (i = 0; i < n->n_hosts && !err; i++) {
		struct sbuf a[2] = {};

		if (find_host(o, n->hosts[i].name))
			continue;
		host_text(&n->hosts[i], &a[0], &a[1]);
		err = add_item(d, "host", n->hosts[i].name, "added", NULL,
			       sb_str(&a[0]), false);
		free(a[0].s);
		free(a[1].s);
	}
	return err;
}

static void refs_text(const struct cg_policy *p, const struct cg_ref *r,
		      size_t n, struct sbuf *b)
{
	char **v = calloc(n + 1, sizeof(*v));
	char buf[64];
	size_t i;

	if (!v)
		return;
	for (i = 0; i < n; i++) {
		if (r[i].kind == CG_REF_ZONE)
			v[i] = strdup(p->zones[r[i].index].name);
		else if (r[i].kind == CG_REF_HOST)
			v[i] = strdup(p->hosts[r[i].index].name);
		else if (r[i].kind == CG_REF_SELF)
			v[i] = strdup("self");
		else {
			cg_prefix_format(&r[i].cidr, buf, sizeof(buf));
			v[i] = strdup(buf);
		}
		if (!v[i])
			v[i] = strdup("?");
	}
	sb_set(b, v, n);
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void ports_text(const struct cg_flow *f, struct sbuf *b)
{
	size_t i;

	if (!f->n_ports) {
		sb_add(b, "all");
		return;
	}
	for (i = 0; i < f->n_ports; i++) {
		if (f->ports[i].lo == f->ports[i].hi)
			sb_add(b, "%s%u", i ? "," : "", f->ports[i].lo);
		else
			sb_add(b, "%s%u-%u", i ? "," : "", f->ports[i].lo,
			       f->ports[i].hi);
	}
}

static void ics_text(const struct cg_ics *ics, struct sbuf *b,
		     void (*rule_text)(const struct cg_ics_allow *, char *,
				       size_t))
{
	size_t i;

	switch (ics->mode) {
	case CG_ICS_NONE:
		sb_add(b, "none");
		break;
	case CG_ICS_ANY:
		sb_add(b, "any");
		break;
	case CG_ICS_READ_ONLY:
		sb_add(b, "read-only");
		break;
	case CG_ICS_LIST:
		sb_add(b, "[");
		for (i = 0; i < ics->n_codes; i++)
			sb_add(b, "%s%u", i ? ", " : "", ics->codes[i]);
		sb_add(b, "]");
		break;
	case CG_ICS_ALLOW:
		sb_add(b, "allow [");
		for (i = 0; i < ics->n_allow; i++) {
			char t[1024];

			rule_text(&ics->allow[i], t, sizeof(t));
			sb_add(b, "%s{%s}", i ? ", " : "", t);
		}
		sb_add(b, "]");
		break;
	}
}

/* Rule `i` of a modbus allow list as "rule N: TEXT". */
static void allow_item(const struct cg_ics *m, size_t i, char *buf, size_t len)
{
	int n = snprintf(buf, len, "rule %zu: ", i + 1);

	cg_allow_text(&m->allow[i], buf + n, len - (size_t)n);
}

static bool allow_has(const struct cg_ics *m, const char *text)
{
	char t[1024];
	size_t i;

	for (i = 0; i < m->n_allow; i++) {
		cg_allow_text(&m->allow[i], t, sizeof(t));
		if (!strcmp(t, text))
			return true;
	}
	return false;
}

/*
 * `modbus: allow:` on both sides: the rules that changed in place (the
 * same position, old text gone, new text new), were removed or added, or
 * that only their order changed (no verdict depends on the order, but
 * check's shadowing lint does).
 */
static int diff_allow(struct cg_diff *d, const char *flow,
		      const struct cg_ics *o, const struct cg_ics *n)
{
	bool gone[CG_ALLOW_RULES] = {false}, fresh[CG_ALLOW_RULES] = {false};
	char a[1100], b[1100], t[1024];
	size_t i, changes = 0;
	int err = 0;

	for (i = 0; i < o->n_allow && i < CG_ALLOW_RULES; i++) {
		cg_allow_text(&o->allow[i], t, sizeof(t));
		gone[i] = !allow_has(n, t);
		changes += gone[i];
	}
	for (i = 0; i < n->n_allow && i < CG_ALLOW_RULES; i++) {
		cg_allow_text(&n->allow[i], t, sizeof(t));
		fresh[i] = !allow_has(o, t);
		changes += fresh[i];
	}
	if (!changes)
		return add_item(d, "flow", flow, "modbus rule order changed",
				NULL, NULL, true);
	/* A rule replaced in place: one change, old -> new. */
	for (i = 0; i < CG_ALLOW_RULES && !err; i++) {
		if (!gone[i] || !fresh[i])
			continue;
		gone[i] = fresh[i] = false;
		allow_item(o, i, a, sizeof(a));
		allow_item(n, i, b, sizeof(b));
		err = add_item(d, "flow", flow, "modbus rule changed", a, b,
			       true);
	}
	for (i = 0; i < CG_ALLOW_RULES && !err; i++) {
		if (!gone[i])
			continue;
		allow_item(o, i, a, sizeof(a));
		err = add_item(d, "flow", flow, "modbus rule removed", a, NULL,
			       true);
	}
	for (i = 0; i < CG_ALLOW_RULES && !err; i++) {
		if (!fresh[i])
			continue;
		allow_item(n, i, b, sizeof(b));
		err = add_item(d, "flow", flow, "modbus rule added", NULL, b,
			       true);
	}
	return err;
}

/*
 * A flow's window as diff and status print it: "always" without one,
 * "FROM..UNTIL" in UTC otherwise, an open end as "-".
 */
void cg_window_text(const struct cg_window *w, char *buf, size_t len)
{
	char a[32] = "-", b[32] = "-";

	if (!w->timed) {
		snprintf(buf, len, "always");
		return;
	}
	if (w->has_from)
		cg_time_format(w->from, a, sizeof(a));
	if (w->has_until)
		cg_time_format(w->until, b, sizeof(b));
	snprintf(buf, len, "%s..%s", a, b);
}

enum {
	FT_FROM,
	FT_TO,
	FT_PROTO,
	FT_PORTS,
	FT_LOG,
	FT_MODBUS,
	FT_S7,
	FT_ENIP,
	FT_VALID,
	FT_N
};

static void flow_texts(const struct cg_policy *p, const struct cg_flow *f,
		       struct sbuf *t)
{
	refs_text(p, f->from, f->n_from, &t[FT_FROM]);
	refs_text(p, f->to, f->n_to, &t[FT_TO]);
	sb_add(&t[FT_PROTO], "%s", cg_proto_name(f->proto));
	ports_text(f, &t[FT_PORTS]);
	sb_add(&t[FT_LOG], "%s", f->log ? "true" : "false");
	ics_text(&f->modbus, &t[FT_MODBUS], cg_allow_text);
	ics_text(&f->s7comm, &t[FT_S7], cg_allow_text);
	ics_text(&f->enip, &t[FT_ENIP], cg_enip_allow_text);
	{
		char w[80];

		cg_window_text(&f->valid, w, sizeof(w));
		sb_add(&t[FT_VALID], "%s", w);
	}
}

static int diff_flows(struct cg_diff *d)
{
	static const char *const what[FT_N] = {"from",	 "to",	 "proto",
					       "ports",	 "log",	 "modbus",
					       "s7comm", "enip", "valid"};
	const struct cg_policy *o = d->old, *n = d->new_;
	char where[PATH_MAX + 32];
	size_t i, j;
	int err = 0, w;

	for (i = 0; i < o->n_flows && !err; i++) {
		const struct cg_flow *fo = &o->flows[i];
		uint32_t peer = d->space->pol[0].peer[i];
		struct sbuf a[FT_N] = {}, b[FT_N] = {};

		if (peer == NONE32) {
			snprintf(where, sizeof(where), "was at %s:%d:%d",
				 o->file ? o->file : "OLD", fo->pos.line,
				 fo->pos.col);
			err = add_item(d, "flow", fo->name, "removed", where,
				       NULL, false);
			continue;
		}
		flow_texts(o, fo, a);
		flow_texts(n, &n->flows[peer], b);
		for (w = 0; w < FT_N && !err; w++) {
			if (!strcmp(sb_str(&a[w]), sb_str(&b[w])))
				continue;
			if (w == FT_MODBUS && fo->modbus.mode == CG_ICS_ALLOW &&
			    n->flows[peer].modbus.mode == CG_ICS_ALLOW)
				err = diff_allow(d, fo->name, &fo->modbus,
						 &n->flows[peer].modbus);
			else
				err = add_item(d, "flow", fo->name, what[w],
					       sb_str(&a[w]), sb_str(&b[w]),
					       w >= FT_LOG);
		}
		for (w = 0; w < FT_N; w++) {
			free(a[w].s);
			free(b[w].s);
		}
	}
	for (j = 0; j < n->n_flows && !err; j++) {
		const struct cg_flow *fn = &n->flows[j];

		if (d->space->pol[1].peer[j] != NONE32)
			continue;
		snprintf(where, sizeof(where), "at %s:%d:%d",
			 n->file ? n->file : "NEW", fn->pos.line, fn->pos.col);
		err = add_item(d, "flow", fn->name, "added", NULL, where,
			       false);
	}
	/* Same flows in another order: the traffic part says what it does. */
	if (!err) {
		size_t last = 0;
		bool moved = false;

		for (i = 0; i < o->n_flows; i++) {
			uint32_t peer = d->space->pol[0].peer[i];

			if (peer == NONE32)
				continue;
			if (peer < last)
				moved = true;
			last = peer;
		}
		if (moved)
			err = add_item(d, "policy", "", "flow order changed",
				       NULL, NULL, false);
	}
	return err;
}

static int diff_limits(struct cg_diff *d, const struct cg_limits *o,
		       const struct cg_limits *n)
{
	static const struct {
		const char *what;
		size_t off;
	} f[] = {
#define LIMIT(x) {"limits." #x, offsetof(struct cg_limits, x)}
		LIMIT(connections),
		LIMIT(tcp_timeout),
		LIMIT(tcp_closing_timeout),
		LIMIT(udp_timeout),
		LIMIT(other_timeout),
		LIMIT(macs),
		LIMIT(mac_hold),
		LIMIT(fragments),
		LIMIT(fragment_timeout),
		LIMIT(events_per_second),
		LIMIT(events_burst),
		LIMIT(source_events_per_second),
		LIMIT(source_events_burst),
		LIMIT(event_sources),
		LIMIT(record_interval),
#undef LIMIT
	};
	char a[16], b[16];
	size_t i;
	int err = 0;

	for (i = 0; i < sizeof(f) / sizeof(*f) && !err; i++) {
		uint32_t x = *(const uint32_t *)((const char *)o + f[i].off);
		uint32_t y = *(const uint32_t *)((const char *)n + f[i].off);

		if (x == y)
			continue;
		snprintf(a, sizeof(a), "%u", x);
		snprintf(b, sizeof(b), "%u", y);
		err = add_item(d, "policy", "", f[i].what, a, b, true);
	}
	return err;
}

static int diff_policy(struct cg_diff *d)
{
	const struct cg_policy *o = d->old, *n = d->new_;
	int err = 0;

	if (o->mode != n->mode)
		err = add_item(
			d, "policy", "", "mode",
			o->mode == CG_POLICY_MONITOR ? "monitor" : "enforce",
			n->mode == CG_POLICY_MONITOR ? "monitor" : "enforce",
			true);
	if (!err && o->fragments != n->fragments)
		err = add_item(d, "policy", "", "fragments",
			       o->fragments == CG_FRAG_PASS ? "pass" : "track",
			       n->fragments == CG_FRAG_PASS ? "pass" : "track",
			       true);
	if (!err)
		err = diff_limits(d, &o->limits, &n->limits);
	if (!err && strcmp(o->name, n->name))
		err = add_item(d, "policy", "", "name", o->name, n->name,
			       false);
	return err;
}

int cg_diff_policies(const struct cg_policy *old, const struct cg_policy *new_,
		     struct cg_diff **out)
{
	const struct cg_policy *pols[2] = {old, new_};
	struct differ df = {.old = old, .new_ = new_};
	struct cg_diff *d;
	uint32_t *mark = NULL, stamp = 0;
	size_t i;
	int err;

	*out = NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->old = old;
	d->new_ = new_;
	if ((err = cg_space_new(pols, 2, &d->space)))
		goto fail;
	df.s = d->space;
	if ((err = diff_policy(d)) || (err = diff_zones(d)) ||
	    (err = diff_hosts(d)) || (err = diff_flows(d)))
		goto fail;
	if ((err = walk_pairs(&df)))
		goto fail;
	mark = calloc(d->space->n_regions + 1, sizeof(*mark));
	if (!mark) {
		err = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < df.n_groups; i++)
		if ((err = group_lines(d, &df.groups[i], mark, &stamp)))
			goto fail;
	if ((err = merge_lines(d)))
		goto fail;
	*out = d;
	d = NULL;
fail:
	for (i = 0; i < df.n_groups; i++) {
		free(df.groups[i].key);
		free(df.groups[i].ports);
		free(df.groups[i].spans);
		free(df.groups[i].pairs.v);
	}
	free(df.groups);
	free(df.slots);
	free(mark);
	cg_diff_free(d);
	return err;
}

void cg_diff_free(struct cg_diff *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->n_lines; i++)
		line_free(&d->lines[i]);
	for (i = 0; i < d->n_items; i++) {
		free(d->items[i].subject);
		free(d->items[i].old);
		free(d->items[i].new_);
	}
	free(d->lines);
	free(d->items);
	cg_space_free(d->space);
	free(d);
}

bool cg_diff_differs(const struct cg_diff *d)
{
	return d->n_lines || d->n_counted_items;
}
