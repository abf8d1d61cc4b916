// SPDX-License-Identifier: GPL-2.0
/*
 * The diff of traffic: every (source, destination) pair of non-empty
 * regions of one family is walked. For most pairs no flow of either policy
 * covers both ends, and the zone rules alone decide: that costs two
 * comparisons. Pairs that a flow covers are cut into cells and evaluated
 * in both policies (space.c); the pairs whose decision changed are grouped
 * by kind, decisions, protocol and ports, and each group becomes lines
 * named after zones and hosts.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "cranegate.h"
#include "diff_int.h"
#include "hash.h"
#include "modbus_rules.h"
#include "output.h"

/* ------------------------------------------------------------------ */
/* The diff: cells to lines                                            */

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
	if (!cg_space_is_pass(o) && cg_space_is_pass(n))
		return CG_DIFF_ALLOWED;
	if (cg_space_is_pass(o) && !cg_space_is_pass(n))
		return CG_DIFF_DENIED;
	if (cg_space_is_pass(o) && cg_space_is_pass(n))
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
			 hi = cg_space_pc_last_port(s, pcs->v[i + 1]);

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
int cg_diff_walk_pairs(struct differ *df)
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
					    (err = cg_space_pair_flows(
						     s, k, src, dst,
						     &flows[k])))
						goto out;
				}
				/* The zone rules alone, on both sides. */
				u[0] = cg_space_zone_rule(s, 0, src, dst);
				u[1] = cg_space_zone_rule(s, 1, src, dst);
				if ((u[0] != D_NORULE || !flows[0].n) &&
				    (u[1] != D_NORULE || !flows[1].n) &&
				    same_decision(s, u[0], u[1]))
					continue;
				if ((err = cg_cells_cut(&cl, s, &flows[0],
							&flows[1])))
					goto out;
				for (k = 0; k < 2; k++)
					u[k] = cg_space_eval_pair(
						s, k, src, dst, &flows[k], &cl,
						&work);
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
	cg_cells_free(&cl);
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

const struct cg_host *cg_diff_find_host(const struct cg_policy *p,
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

	if (cg_space_is_self(&rg->prefix)) {
		snprintf(buf, len, "self");
		return;
	}
	for (k = s->n_pol; k-- > 0;) {
		const struct cg_policy *p = s->pol[k].p;

		for (i = 0; i < p->n_hosts; i++) {
			const struct cg_host *other;

			if (cg_space_cmp_prefix(&p->hosts[i].addr, &rg->prefix))
				continue;
			snprintf(buf, len, "%s", p->hosts[i].name);
			/* The name moved to another address: say which. */
			other = s->n_pol == 2
					? cg_diff_find_host(s->pol[!k].p,
							    p->hosts[i].name)
					: NULL;
			if (other &&
			    cg_space_cmp_prefix(&other->addr, &rg->prefix)) {
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

const struct cg_zone *cg_diff_find_zone(const struct cg_policy *p,
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
			    cg_diff_find_zone(s->pol[k + 1].p,
					      sp->p->zones[z].name, NULL))
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
	cg_space_code_decision(g->old, &l->old);
	cg_space_code_decision(g->new_, &l->new_);
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
int cg_diff_group_lines(struct cg_diff *d, struct group *g, uint32_t *mark,
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

void cg_diff_line_free(struct cg_diff_line *l)
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
int cg_diff_merge_lines(struct cg_diff *d)
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
			cg_diff_line_free(l);
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
