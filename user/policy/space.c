// SPDX-License-Identifier: GPL-2.0
/*
 * The semantic model of policies (see diff.h): regions, flows over them,
 * and the decision of any (source, destination, protocol, port).
 *
 * Regions are kept sorted by (family, address, prefix length), so that a
 * prefix is followed by everything inside it (the compiler's order), and
 * each region knows its parent (the smallest region around it). A region
 * is empty when its children tile its prefix; no address lies in it, and
 * no cell of it is ever looked at.
 *
 * Pairs of regions that a flow covers get a grid of cells, one per
 * (protocol bucket, port class), painted flow by flow in file order, where
 * the first paint wins. The diff (diff_lines.c) walks the pairs.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "cranegate.h"
#include "space_int.h"

/* ------------------------------------------------------------------ */
/* Prefixes                                                            */

static int nbytes(int family)
{
	return family == 4 ? 4 : 16;
}

int cg_space_cmp_prefix(const struct cg_prefix *x, const struct cg_prefix *y)
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

uint32_t cg_space_pc_last_port(const struct cg_space *s, uint32_t pc)
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
	return cg_space_cmp_prefix(&((const struct region *)a)->prefix,
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

bool cg_space_is_self(const struct cg_prefix *p)
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

		if (cg_space_cmp_prefix(&s->regions[mid].prefix, p) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < s->n_regions &&
	    !cg_space_cmp_prefix(&s->regions[lo].prefix, p))
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
			if (cg_space_is_self(&s->regions[in.v[j]].prefix))
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

bool cg_space_is_pass(uint32_t code)
{
	return code == D_INTRA || code < D_NORULE;
}

void cg_space_code_decision(uint32_t code, struct cg_decision *d)
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
uint32_t cg_space_zone_rule(const struct cg_space *s, size_t k, uint32_t src,
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
int cg_space_pair_flows(const struct cg_space *s, size_t k, uint32_t src,
			uint32_t dst, struct u32vec *out)
{
	const struct spol *sp = &s->pol[k];
	uint32_t i;
	int err;

	out->n = 0;
	for (i = sp->by_src_off[src]; i < sp->by_src_off[src + 1]; i++)
		if (u32vec_has(&sp->flows[sp->by_src[i]].to, dst) &&
		    (err = u32vec_push(out, sp->by_src[i])))
			return err;
	return 0;
}

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

void cg_cells_free(struct cells *c)
{
	free(c->cuts.v);
	free(c->cell[0]);
	free(c->cell[1]);
}

/* Cut at the port ranges of the given flows of policies 0 and 1. */
int cg_cells_cut(struct cells *c, const struct cg_space *s,
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
uint32_t cg_space_eval_pair(const struct cg_space *s, size_t k, uint32_t src,
			    uint32_t dst, const struct u32vec *flows,
			    const struct cells *c, unsigned long long *work)
{
	uint32_t z = cg_space_zone_rule(s, k, src, dst);
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
		code = cg_space_zone_rule(s, k, rs, rd);
	if (code == D_NORULE && rd != NONE32 &&
	    !cg_space_pair_flows(s, k, rs, rd, &flows)) {
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
	cg_space_code_decision(code, out);
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
			uint32_t dst = cand.v[j],
				 z = cg_space_zone_rule(s, 0, src, dst);

			if ((err = cg_space_pair_flows(s, 0, src, dst, &flows)))
				goto out;
			if (z != D_NORULE) {
				for (c = 0; c < flows.n; c++)
					add_taker(usage, flows.v[c], z);
				continue;
			}
			if ((err = cg_cells_cut(&cl, s, &flows, NULL)))
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
	cg_cells_free(&cl);
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
		if (!u32vec_has(b, a->v[i]))
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
