// SPDX-License-Identifier: GPL-2.0
/*
 * The policy compiler. Turns a validated struct cg_policy into the images
 * of the policy maps described in maps/cranegate.h, so that the program's
 * per-frame work is a fixed number of lookups whatever the policy size:
 *
 *  - every prefix the policy mentions becomes an address class; an LPM
 *    trie per family maps an address to its most specific class, and each
 *    class knows the zone whose networks contain it;
 *  - the boundaries of all port ranges cut the port space into port
 *    classes (one array lookup per frame);
 *  - each flow expands to the (source class, destination class, protocol,
 *    port class) keys it covers; a key keeps the first flow covering it.
 *
 * A class lies in a flow's `from` when its prefix lies inside one of the
 * flow's prefixes. Since every flow prefix is itself a class, the most
 * specific class of an address lies in the flow's set exactly when the
 * address does.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compile.h"
#include "modbus_rules.h"
#include "u32vec.h"

/* A class: one distinct prefix of one family. */
struct class
{
	struct cg_prefix prefix;
	uint16_t zone;
};

static int addr_bytes(int family)
{
	return family == 4 ? 4 : 16;
}

/* Order classes by family, then address, then prefix length. */
static int cmp_class(const void *a, const void *b)
{
	const struct cg_prefix *x = &((const struct class *)a)->prefix;
	const struct cg_prefix *y = &((const struct class *)b)->prefix;
	int c;

	if (x->family != y->family)
		return x->family - y->family;
	c = memcmp(x->addr, y->addr, addr_bytes(x->family));
	if (c)
		return c;
	return x->len - y->len;
}

/* The last address of a prefix, into `last`. */
static void prefix_last(const struct cg_prefix *p, uint8_t *last)
{
	int n = addr_bytes(p->family), i;

	memcpy(last, p->addr, 16);
	for (i = 0; i < n * 8; i++)
		if (i >= p->len)
			last[i / 8] |= 0x80 >> (i % 8);
}

/*
 * Open-addressing hash from flow key to the first flow covering it. The
 * flows hash in the kernel gets exactly these entries. A key whose first
 * flow is time-boxed gets a chain instead (maps/cranegate.h): the flows
 * covering it in file order, up to and including the first untimed one.
 */
struct keytab {
	struct cg_flow_entry *slots;
	uint8_t *used;
	size_t cap, n;
	struct cg_flow_chain *chains;
	uint8_t *chain_len; /* flows in chains[i]; CG_CHAIN_MAX + 1: closed */
	size_t n_chains, cap_chains;
	uint32_t over_flow; /* a flow that overflowed a chain, or NONE */
	uint32_t over_chain;
};

#define CHAIN_CLOSED (CG_CHAIN_MAX + 1)

static uint64_t key_hash(const struct cg_flow_key *k)
{
	uint64_t h = 1469598103934665603ull;
	const uint8_t *p = (const uint8_t *)k;
	size_t i;

	for (i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h ^ (h >> 29);
}

static int keytab_init(struct keytab *t, size_t expect)
{
	size_t cap = 64;

	while (cap < expect * 2)
		cap *= 2;
	t->slots = calloc(cap, sizeof(*t->slots));
	t->used = calloc(cap, 1);
	t->cap = cap;
	t->n = 0;
	t->over_flow = CG_FLOW_NONE;
	return t->slots && t->used ? 0 : -ENOMEM;
}

/* A new chain holding `flow`; its index, or -ENOMEM. */
static long chain_new(struct keytab *t, uint32_t flow)
{
	size_t i;

	if (t->n_chains == t->cap_chains) {
		size_t cap = t->cap_chains ? t->cap_chains * 2 : 64;
		struct cg_flow_chain *c = realloc(t->chains, cap * sizeof(*c));
		uint8_t *l;

		if (!c)
			return -ENOMEM;
		t->chains = c;
		l = realloc(t->chain_len, cap);
		if (!l)
			return -ENOMEM;
		t->chain_len = l;
		t->cap_chains = cap;
	}
	for (i = 0; i < CG_CHAIN_MAX; i++)
		t->chains[t->n_chains].flow[i] = CG_FLOW_NONE;
	t->chains[t->n_chains].flow[0] = flow;
	t->chain_len[t->n_chains] = 1;
	return (long)t->n_chains++;
}

/*
 * Flows arrive in file order. A key keeps its first flow; while that and
 * every later flow covering the key are time-boxed, they line up in the
 * key's chain, which closes with the first flow without a window (nothing
 * after it can ever decide). A full chain that would need one more flow
 * is recorded in over_flow/over_chain for the caller's error.
 */
static int keytab_add(struct keytab *t, const struct cg_flow_key *k,
		      uint32_t flow, bool timed)
{
	size_t i = key_hash(k) & (t->cap - 1);
	uint32_t v, c;
	long ci;

	while (t->used[i]) {
		if (memcmp(&t->slots[i].key, k, sizeof(*k))) {
			i = (i + 1) & (t->cap - 1);
			continue;
		}
		v = t->slots[i].val.flow;
		if (!(v & CG_FLOW_CHAIN))
			return 0;
		c = v & ~CG_FLOW_CHAIN;
		if (t->chain_len[c] == CHAIN_CLOSED)
			return 0;
		if (t->chain_len[c] == CG_CHAIN_MAX) {
			if (t->over_flow == CG_FLOW_NONE) {
				t->over_flow = flow;
				t->over_chain = c;
			}
			t->chain_len[c] = CHAIN_CLOSED;
			return 0;
		}
		t->chains[c].flow[t->chain_len[c]++] = flow;
		if (!timed)
			t->chain_len[c] = CHAIN_CLOSED;
		return 0;
	}
	t->used[i] = 1;
	t->slots[i].key = *k;
	t->slots[i].val.flow = flow;
	t->n++;
	if (timed) {
		ci = chain_new(t, flow);
		if (ci < 0)
			return (int)ci;
		t->slots[i].val.flow = CG_FLOW_CHAIN | (uint32_t)ci;
	}
	return 0;
}

/*
 * CLOCK_TAI - CLOCK_REALTIME in whole seconds (the kernel keeps it an
 * integer; rounding drops the time between the two reads). 0 until
 * something (chrony, ntpd, adjtimex) tells the kernel the offset.
 */
static int64_t tai_offset_s(void)
{
	struct timespec r, t;

	if (clock_gettime(CLOCK_REALTIME, &r) || clock_gettime(CLOCK_TAI, &t))
		return 0;
	return (int64_t)t.tv_sec - r.tv_sec +
	       ((int64_t)t.tv_nsec - r.tv_nsec >= 500000000 ? 1 : 0) -
	       ((int64_t)t.tv_nsec - r.tv_nsec <= -500000000 ? 1 : 0);
}

/*
 * Unix seconds -> CLOCK_TAI nanoseconds, never 0 (0 means "open"). The
 * parser refuses times from CG_TIME_LIMIT on; should one get here anyway,
 * it saturates (a `from` that never comes, an `until` that never ends)
 * rather than wrapping into the past.
 */
static uint64_t tai_ns(int64_t unix_s, int64_t offset_s)
{
	int64_t s = unix_s + offset_s;

	if (s <= 0)
		return 1;
	if ((uint64_t)s > UINT64_MAX / 1000000000ull)
		return UINT64_MAX;
	return (uint64_t)s * 1000000000ull;
}

struct compiler {
	const struct cg_policy *p;
	struct cg_diags *d;
	struct class *classes; /* sorted, v4 first */
	size_t n_classes;
	size_t first6;		/* index of the first IPv6 class */
	uint32_t bounds[65537]; /* port-class boundaries, sorted */
	size_t n_bounds;
};

static int add_prefix(struct compiler *cc, size_t *cap,
		      const struct cg_prefix *pf)
{
	if (cc->n_classes == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct class *v = realloc(cc->classes, ncap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		cc->classes = v;
		*cap = ncap;
	}
	cc->classes[cc->n_classes].prefix = *pf;
	cc->classes[cc->n_classes].zone = CG_ZONE_NONE;
	cc->n_classes++;
	return 0;
}

static int collect_classes(struct compiler *cc)
{
	const struct cg_policy *p = cc->p;
	size_t cap = 0, i, j, k;
	int err;

	for (i = 0; i < p->n_zones; i++)
		for (j = 0; j < p->zones[i].n_nets; j++)
			if ((err = add_prefix(cc, &cap,
					      &p->zones[i].nets[j].prefix)))
				return err;
	for (i = 0; i < p->n_hosts; i++)
		if ((err = add_prefix(cc, &cap, &p->hosts[i].addr)))
			return err;
	for (i = 0; i < p->n_flows; i++) {
		const struct cg_flow *f = &p->flows[i];

		for (k = 0; k < 2; k++) {
			const struct cg_ref *refs = k ? f->to : f->from;
			size_t n = k ? f->n_to : f->n_from;

			for (j = 0; j < n; j++)
				if (refs[j].kind == CG_REF_CIDR &&
				    (err = add_prefix(cc, &cap, &refs[j].cidr)))
					return err;
		}
	}
	if (cc->n_classes)
		qsort(cc->classes, cc->n_classes, sizeof(*cc->classes),
		      cmp_class);
	/* Remove duplicates. */
	for (i = 0, j = 0; i < cc->n_classes; i++)
		if (!j || cmp_class(&cc->classes[i], &cc->classes[j - 1]))
			cc->classes[j++] = cc->classes[i];
	cc->n_classes = j;
	for (cc->first6 = 0; cc->first6 < cc->n_classes; cc->first6++)
		if (cc->classes[cc->first6].prefix.family == 6)
			break;
	/* The zone of a class: the zone whose networks contain it. */
	for (i = 0; i < cc->n_classes; i++)
		for (j = 0; j < p->n_zones; j++)
			for (k = 0; k < p->zones[j].n_nets; k++)
				if (cg_prefix_contains(
					    &p->zones[j].nets[k].prefix,
					    &cc->classes[i].prefix))
					cc->classes[i].zone = j;
	return 0;
}

/* Index of the class equal to `pf`; it exists (every prefix is a class). */
static size_t class_index(const struct compiler *cc, const struct cg_prefix *pf)
{
	size_t lo = 0, hi = cc->n_classes;
	struct class key = {.prefix = *pf};

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (cmp_class(&cc->classes[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Append every class inside `pf` to `out`: a contiguous run from `pf`. */
static int classes_inside(const struct compiler *cc, const struct cg_prefix *pf,
			  struct u32vec *out)
{
	uint8_t last[16];
	size_t i = class_index(cc, pf);
	int n = addr_bytes(pf->family), err;

	prefix_last(pf, last);
	for (; i < cc->n_classes; i++) {
		const struct cg_prefix *c = &cc->classes[i].prefix;

		if (c->family != pf->family || memcmp(c->addr, last, n) > 0)
			break;
		if ((err = u32vec_push(out, i)))
			return err;
	}
	return 0;
}

static int expand_refs(const struct compiler *cc, const struct cg_ref *refs,
		       size_t n, struct u32vec *out)
{
	const struct cg_policy *p = cc->p;
	size_t i, j;
	int err = 0;

	out->n = 0;
	for (i = 0; i < n && !err; i++) {
		switch (refs[i].kind) {
		case CG_REF_ZONE:
			for (j = 0; j < p->zones[refs[i].index].n_nets && !err;
			     j++)
				err = classes_inside(
					cc,
					&p->zones[refs[i].index].nets[j].prefix,
					out);
			break;
		case CG_REF_HOST:
			err = classes_inside(cc, &p->hosts[refs[i].index].addr,
					     out);
			break;
		case CG_REF_CIDR:
			err = classes_inside(cc, &refs[i].cidr, out);
			break;
		case CG_REF_SELF:
			/* One class past the prefix classes: the program
			 * gives it to a destination in the self set. */
			err = u32vec_push(out, (uint32_t)cc->n_classes);
			break;
		}
	}
	u32vec_sort_unique(out);
	return err;
}

/*
 * Can a source of class a meet a destination of class b? Not across
 * address families; the self class (n_classes) holds both families.
 */
static bool families_meet(const struct compiler *cc, uint32_t a, uint32_t b)
{
	if (a >= cc->n_classes || b >= cc->n_classes)
		return true;
	return cc->classes[a].prefix.family == cc->classes[b].prefix.family;
}

static bool flow_has_ports(const struct cg_flow *f)
{
	return f->n_ports && (f->proto == CG_P_TCP || f->proto == CG_P_UDP ||
			      f->proto == CG_P_ANY);
}

/* The protocol numbers a flow is stored under. */
static size_t flow_protos(const struct cg_flow *f, uint8_t *out)
{
	switch (f->proto) {
	case CG_P_TCP:
		out[0] = 6;
		return 1;
	case CG_P_UDP:
		out[0] = 17;
		return 1;
	case CG_P_ICMP:
		out[0] = 1;
		return 1;
	case CG_P_ICMPV6:
		out[0] = 58;
		return 1;
	case CG_P_ANY:
		if (f->n_ports) {
			out[0] = 6;
			out[1] = 17;
			return 2;
		}
		out[0] = CG_PROTO_ANY;
		return 1;
	}
	return 0;
}

static void collect_port_bounds(struct compiler *cc)
{
	static uint8_t is_bound[65537];
	size_t i, j;

	memset(is_bound, 0, sizeof(is_bound));
	is_bound[0] = 1;
	for (i = 0; i < cc->p->n_flows; i++) {
		const struct cg_flow *f = &cc->p->flows[i];

		if (!flow_has_ports(f))
			continue;
		for (j = 0; j < f->n_ports; j++) {
			is_bound[f->ports[j].lo] = 1;
			is_bound[(uint32_t)f->ports[j].hi + 1] = 1;
		}
	}
	cc->n_bounds = 0;
	for (i = 0; i < 65536; i++)
		if (is_bound[i])
			cc->bounds[cc->n_bounds++] = i;
}

/* The port classes a flow's port list covers, into `out`. */
/*
 * Ports whose class no flow key names (maps/cranegate.h, port_classes)
 * become CG_PCLASS_NONE, once every key is built: the program skips the
 * flows lookup that could not match. 0 or -ENOMEM.
 */
static int unnamed_ports(struct cg_compiled *c)
{
	uint8_t *named = calloc(c->n_port_classes + 1, 1);
	size_t i;

	if (!named)
		return -ENOMEM;
	for (i = 0; i < c->n_flow_keys; i++) {
		uint32_t pc = c->flows[i].key.port_class;

		if (pc < c->n_port_classes)
			named[pc] = 1;
	}
	for (i = 0; i < CG_PORT_CLASSES_ENTRIES; i++)
		if (c->port_classes[i] >= c->n_port_classes ||
		    !named[c->port_classes[i]])
			c->port_classes[i] = CG_PCLASS_NONE;
	free(named);
	return 0;
}

static int flow_port_classes(const struct compiler *cc,
			     const struct cg_compiled *c,
			     const struct cg_flow *f, struct u32vec *out)
{
	size_t j;
	uint32_t pc;
	int err;

	out->n = 0;
	for (j = 0; j < f->n_ports; j++)
		for (pc = c->port_classes[f->ports[j].lo];
		     pc <= c->port_classes[f->ports[j].hi]; pc++)
			if ((err = u32vec_push(out, pc)))
				return err;
	u32vec_sort_unique(out);
	return 0;
}

/* The MAC a host address is bound to (`hosts: NAME: {address, mac}`). */
static void bind_mac(const struct cg_policy *p, const struct cg_prefix *pf,
		     struct cg_class_val *v)
{
	size_t i;

	for (i = 0; i < p->n_hosts; i++) {
		const struct cg_prefix *h = &p->hosts[i].addr;

		if (p->hosts[i].has_mac && h->family == pf->family &&
		    h->len == pf->len &&
		    !memcmp(h->addr, pf->addr, pf->family == 4 ? 4 : 16)) {
			v->has_mac = 1;
			memcpy(v->mac, p->hosts[i].mac, 6);
			return;
		}
	}
}

static void set_bit(uint8_t *map, unsigned code)
{
	map[(code >> 3) & 31] |= 1u << (code & 7);
}

/*
 * What a request on a flow with modbus:/s7comm: may do (README, step 12;
 * the read-only classes are the contract's).
 */
static void ics_rule(const struct cg_flow *f, struct cg_ics_rule *r)
{
	static const uint8_t modbus_read[] = {1,  2,  3,  4,  7, 11,
					      12, 17, 20, 24, 43};
	size_t i;

	memset(r, 0, sizeof(*r));
	switch (f->modbus.mode) {
	case CG_ICS_NONE:
		break;
	case CG_ICS_ANY:
		r->modbus = CG_ICS_FRAMING;
		break;
	case CG_ICS_READ_ONLY:
		r->modbus = CG_ICS_FUNCTIONS;
		r->modbus_mei14 = 1;
		for (i = 0; i < sizeof(modbus_read); i++)
			set_bit(r->modbus_fc, modbus_read[i]);
		break;
	case CG_ICS_LIST:
		r->modbus = CG_ICS_FUNCTIONS;
		for (i = 0; i < f->modbus.n_codes; i++)
			set_bit(r->modbus_fc, f->modbus.codes[i]);
		break;
	case CG_ICS_ALLOW:
		r->modbus = CG_ICS_RULES; /* ics_allow_rules() fills the rest */
		break;
	}
	switch (f->s7comm.mode) {
	case CG_ICS_NONE:
		break;
	case CG_ICS_ANY:
		r->s7comm = CG_ICS_FRAMING;
		break;
	case CG_ICS_READ_ONLY:
		r->s7comm = CG_ICS_FUNCTIONS;
		set_bit(r->s7_job, 0x04);	      /* read variable */
		set_bit(r->s7_job, 0xf0);	      /* setup communication */
		r->s7_groups = (1u << 3) | (1u << 4); /* block info, CPU/SZL */
		break;
	case CG_ICS_LIST:
	case CG_ICS_ALLOW: /* the parser takes allow: for modbus only */
		r->s7comm = CG_ICS_FUNCTIONS;
		for (i = 0; i < f->s7comm.n_codes; i++)
			set_bit(r->s7_job, f->s7comm.codes[i]);
		break;
	}
	/* enip: any, read-only or allow: (enip_allow_rules fills the rest). */
	if (f->enip.mode == CG_ICS_ANY)
		r->enip = CG_ICS_FRAMING;
	else if (f->enip.mode == CG_ICS_ALLOW)
		r->enip = CG_ICS_RULES;
	else if (f->enip.mode != CG_ICS_NONE)
		r->enip = CG_ICS_FUNCTIONS;
}

_Static_assert(CG_ALLOW_RULES <= CG_ICS_ALLOW_MAX,
	       "the parser admits more rules than the program walks");
_Static_assert(CG_ALLOW_RANGES <= CG_ICS_ALLOW_RANGES,
	       "the parser admits more ranges than a rule entry holds");

/*
 * A flow's `modbus: allow:` rules as ics_allow entries, appended at
 * c->ics_allow[c->n_ics_allow]; `r` learns where they are.
 */
static void ics_allow_rules(const struct cg_flow *f, struct cg_compiled *c,
			    struct cg_ics_rule *r)
{
	uint16_t lo[CG_ALLOW_RANGES], hi[CG_ALLOW_RANGES];
	size_t i, k, n;

	r->modbus_allow_first = (uint16_t)c->n_ics_allow;
	r->modbus_allow_n = (uint8_t)f->modbus.n_allow;
	for (i = 0; i < f->modbus.n_allow; i++) {
		const struct cg_ics_allow *a = &f->modbus.allow[i];
		struct cg_ics_allow_rule *e = &c->ics_allow[c->n_ics_allow++];

		memset(e, 0, sizeof(*e));
		memcpy(e->codes, a->codes, sizeof(e->codes));
		if (a->has_units)
			memcpy(e->units, a->units, sizeof(e->units));
		else
			memset(e->units, 0xff, sizeof(e->units));
		e->flags = a->mei == CG_MEI_14	     ? CG_ALLOW_MEI14
			   : a->mei == CG_MEI_NOT_14 ? CG_ALLOW_NOT_MEI14
						     : 0;
		n = cg_allow_merged(a, lo, hi);
		for (k = 0; k < n; k++)
			e->ranges[k] = (struct cg_ics_range){lo[k], hi[k]};
		e->n_ranges = (uint8_t)n;
	}
}

/*
 * A flow's `enip: allow:` rules as ics_allow entries (maps/cranegate.h):
 * the services named as codes, the service classes as flags, the object
 * classes as ranges of one.
 */
static void enip_allow_rules(const struct cg_flow *f, struct cg_compiled *c,
			     struct cg_ics_rule *r)
{
	size_t i, k;

	r->enip_allow_first = (uint16_t)c->n_ics_allow;
	r->enip_allow_n = (uint8_t)f->enip.n_allow;
	for (i = 0; i < f->enip.n_allow; i++) {
		const struct cg_ics_allow *a = &f->enip.allow[i];
		struct cg_ics_allow_rule *e = &c->ics_allow[c->n_ics_allow++];

		memset(e, 0, sizeof(*e));
		memcpy(e->codes, a->named, sizeof(e->codes));
		e->flags = a->classes;
		for (k = 0; k < a->n_ranges && k < CG_ICS_ALLOW_RANGES; k++)
			e->ranges[k] = (struct cg_ics_range){a->ranges[k].lo,
							     a->ranges[k].hi};
		e->n_ranges = (uint8_t)k;
	}
}

static int check_limit(struct cg_diags *d, const char *what, size_t need,
		       size_t limit)
{
	struct cg_pos pos = {1, 1};

	if (need <= limit)
		return 0;
	cg_diag_add(d, CG_ERROR, pos,
		    "policy needs %zu %s; the limit is %zu (over by %zu)", need,
		    what, limit, need - limit);
	return -E2BIG;
}

int cg_compile(const struct cg_policy *p, struct cg_compiled **out,
	       struct cg_diags *d)
{
	struct compiler cc = {.p = p, .d = d};
	struct u32vec src = {}, dst = {}, pcs = {};
	struct cg_compiled *c;
	struct keytab kt = {};
	int64_t tai_off = tai_offset_s();
	size_t i, j, a, b, q, total = 0;
	uint8_t protos[2];
	int err = -ENOMEM;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->policy = p;
	for (i = 0; i < 8; i++)
		c->policy_id = (c->policy_id << 8) | p->sha256[i];

	if ((err = check_limit(d, "zones", p->n_zones, CG_MAX_ZONES)) ||
	    (err = check_limit(d, "flows", p->n_flows, CG_MAX_FLOWS)))
		goto fail;

	/* Zones, and the interfaces they name. */
	err = -ENOMEM;
	for (i = 0; i < p->n_zones; i++)
		total += p->zones[i].n_ifaces *
			 (p->zones[i].n_vlans ? p->zones[i].n_vlans : 1);
	c->zones = calloc(total + 1, sizeof(*c->zones));
	c->ifnames = calloc(total + 1, sizeof(*c->ifnames));
	if (!c->zones || !c->ifnames)
		goto fail;
	for (i = 0; i < p->n_zones; i++) {
		const struct cg_zone *z = &p->zones[i];

		for (j = 0; j < z->n_ifaces; j++) {
			size_t nv = z->n_vlans ? z->n_vlans : 1;

			for (a = 0; a < nv; a++) {
				struct cg_zone_entry *e =
					&c->zones[c->n_zones++];

				memcpy(e->ifname, z->ifaces[j].name,
				       CG_IFNAME_MAX);
				e->vlan = z->n_vlans ? z->vlans[a].id : 0;
				e->zone = i;
			}
			for (a = 0; a < c->n_ifnames; a++)
				if (!strcmp(c->ifnames[a], z->ifaces[j].name))
					break;
			if (a == c->n_ifnames)
				memcpy(c->ifnames[c->n_ifnames++],
				       z->ifaces[j].name, CG_IFNAME_MAX);
		}
	}

	/* Address classes. */
	if ((err = collect_classes(&cc)))
		goto fail;
	if ((err = check_limit(d, "IPv4 address classes", cc.first6,
			       CG_MAX_CLASSES4)) ||
	    (err = check_limit(d, "IPv6 address classes",
			       cc.n_classes - cc.first6, CG_MAX_CLASSES6)))
		goto fail;
	err = -ENOMEM;
	c->n_classes = cc.n_classes;
	c->self_class = cc.n_classes;
	c->classes4 = calloc(cc.first6 + 1, sizeof(*c->classes4));
	c->classes6 =
		calloc(cc.n_classes - cc.first6 + 1, sizeof(*c->classes6));
	c->hosts4 = calloc(cc.first6 + 1, sizeof(*c->hosts4));
	c->hosts6 = calloc(cc.n_classes - cc.first6 + 1, sizeof(*c->hosts6));
	if (!c->classes4 || !c->classes6 || !c->hosts4 || !c->hosts6)
		goto fail;
	for (i = 0; i < cc.n_classes; i++) {
		const struct class *cl = &cc.classes[i];

		if (cl->prefix.family == 4 && cl->prefix.len == 32) {
			struct cg_host4_entry *e = &c->hosts4[c->n_hosts4++];

			memcpy(e->key.addr, cl->prefix.addr, 4);
			e->val.class_id = i;
			e->val.zone = cl->zone;
			bind_mac(p, &cl->prefix, &e->val);
		} else if (cl->prefix.family == 6 && cl->prefix.len == 128) {
			struct cg_host6_entry *e = &c->hosts6[c->n_hosts6++];

			memcpy(e->key.addr, cl->prefix.addr, 16);
			e->val.class_id = i;
			e->val.zone = cl->zone;
			bind_mac(p, &cl->prefix, &e->val);
		} else if (cl->prefix.family == 4) {
			struct cg_class4_entry *e =
				&c->classes4[c->n_classes4++];

			e->key.prefixlen = cl->prefix.len;
			memcpy(e->key.addr, cl->prefix.addr, 4);
			e->val.class_id = i;
			e->val.zone = cl->zone;
		} else {
			struct cg_class6_entry *e =
				&c->classes6[c->n_classes6++];

			e->key.prefixlen = cl->prefix.len;
			memcpy(e->key.addr, cl->prefix.addr, 16);
			e->val.class_id = i;
			e->val.zone = cl->zone;
		}
	}

	/* Port classes: interval k holds the ports [bounds[k], bounds[k+1]). */
	collect_port_bounds(&cc);
	c->port_classes = calloc(CG_PORT_CLASSES_ENTRIES, sizeof(uint32_t));
	if (!c->port_classes)
		goto fail;
	for (i = 0, j = 0; i < CG_PORT_CLASSES_ENTRIES; i++) {
		while (j + 1 < cc.n_bounds && cc.bounds[j + 1] <= i)
			j++;
		c->port_classes[i] = j;
	}
	c->n_port_classes = cc.n_bounds;

	/* Flow keys. Count first, so that a huge policy fails fast. */
	c->flow_info = calloc(p->n_flows + 1, sizeof(*c->flow_info));
	c->ics_rules = calloc(p->n_flows + 1, sizeof(*c->ics_rules));
	if (!c->flow_info || !c->ics_rules)
		goto fail;
	for (i = 0, total = 0; i < p->n_flows; i++)
		total += (p->flows[i].modbus.mode == CG_ICS_ALLOW
				  ? p->flows[i].modbus.n_allow
				  : 0) +
			 (p->flows[i].enip.mode == CG_ICS_ALLOW
				  ? p->flows[i].enip.n_allow
				  : 0);
	if ((err = check_limit(d, "allow rules (modbus and enip)", total,
			       CG_MAX_ALLOW_RULES)))
		goto fail;
	err = -ENOMEM;
	c->ics_allow = calloc(total + 1, sizeof(*c->ics_allow));
	if (!c->ics_allow)
		goto fail;
	for (i = 0; i < p->n_flows; i++) {
		const struct cg_flow *f = &p->flows[i];

		if (f->modbus.mode == CG_ICS_NONE &&
		    f->s7comm.mode == CG_ICS_NONE &&
		    f->enip.mode == CG_ICS_NONE)
			continue;
		c->flow_info[i].flags |= CG_FLOW_ICS;
		c->flow_info[i].ics = c->n_ics_rules;
		ics_rule(f, &c->ics_rules[c->n_ics_rules]);
		if (f->modbus.mode == CG_ICS_ALLOW)
			ics_allow_rules(f, c, &c->ics_rules[c->n_ics_rules]);
		if (f->enip.mode == CG_ICS_ALLOW)
			enip_allow_rules(f, c, &c->ics_rules[c->n_ics_rules]);
		c->n_ics_rules++;
	}
	total = 0;
	for (i = 0; i < p->n_flows; i++) {
		const struct cg_flow *f = &p->flows[i];
		size_t np = flow_protos(f, protos), npc = 1;

		c->flow_info[i].flags |= f->log ? CG_FLOW_LOG : 0;
		c->flow_info[i].flags |= f->deny_reset ? CG_FLOW_RESET : 0;
		if (f->valid.timed) {
			c->flow_info[i].flags |= CG_FLOW_TIMED;
			if (f->valid.has_from)
				c->flow_info[i].valid_from =
					tai_ns(f->valid.from, tai_off);
			if (f->valid.has_until)
				c->flow_info[i].valid_until =
					tai_ns(f->valid.until, tai_off);
			c->n_timed++;
		}
		if ((err = expand_refs(&cc, f->from, f->n_from, &src)) ||
		    (err = expand_refs(&cc, f->to, f->n_to, &dst)))
			goto fail;
		if (flow_has_ports(f)) {
			if ((err = flow_port_classes(&cc, c, f, &pcs)))
				goto fail;
			npc = pcs.n;
			c->lookups |= CG_LOOKUP_PORTS;
		} else {
			c->lookups |= f->proto == CG_P_ANY ? CG_LOOKUP_ANY
							   : CG_LOOKUP_PROTO;
		}
		total += src.n * dst.n * np * npc;
		if (total > CG_MAX_FLOW_KEYS)
			break;
	}
	if ((err = check_limit(d, "flow-table entries", total,
			       CG_MAX_FLOW_KEYS)))
		goto fail;
	if ((err = keytab_init(&kt, total)))
		goto fail;
	for (i = 0; i < p->n_flows; i++) {
		const struct cg_flow *f = &p->flows[i];
		size_t np = flow_protos(f, protos);
		struct cg_flow_key k = {};

		if ((err = expand_refs(&cc, f->from, f->n_from, &src)) ||
		    (err = expand_refs(&cc, f->to, f->n_to, &dst)))
			goto fail;
		pcs.n = 0;
		if (flow_has_ports(f)) {
			if ((err = flow_port_classes(&cc, c, f, &pcs)))
				goto fail;
		} else if ((err = u32vec_push(&pcs, CG_PCLASS_ALL))) {
			goto fail;
		}
		for (a = 0; a < src.n; a++) {
			for (b = 0; b < dst.n; b++) {
				/* An IPv4 source never meets an IPv6
				 * destination. */
				if (!families_meet(&cc, src.v[a], dst.v[b]))
					continue;
				k.src_class = src.v[a];
				k.dst_class = dst.v[b];
				for (q = 0; q < np; q++) {
					k.proto = protos[q];
					for (j = 0; j < pcs.n; j++) {
						k.port_class = pcs.v[j];
						if ((err = keytab_add(
							     &kt, &k, i,
							     f->valid.timed)))
							goto fail;
					}
				}
			}
		}
	}
	if (kt.over_flow != CG_FLOW_NONE) {
		const struct cg_flow *f = &p->flows[kt.over_flow];
		const struct cg_flow_chain *ch = &kt.chains[kt.over_chain];

		cg_diag_add(
			d, CG_ERROR, f->pos,
			"flow '%s' matches traffic that %d time-boxed "
			"flows before it ('%s', '%s', ... '%s') match as "
			"well; the gate falls through at most %d flows with "
			"valid: for the same traffic. Give them disjoint "
			"addresses or ports, or merge their windows",
			f->name, CG_CHAIN_MAX, p->flows[ch->flow[0]].name,
			p->flows[ch->flow[1]].name,
			p->flows[ch->flow[CG_CHAIN_MAX - 1]].name,
			CG_CHAIN_MAX);
		err = -E2BIG;
		goto fail;
	}
	err = -ENOMEM;
	c->flows = malloc((kt.n + 1) * sizeof(*c->flows));
	if (!c->flows)
		goto fail;
	for (i = 0; i < kt.cap; i++)
		if (kt.used[i])
			c->flows[c->n_flow_keys++] = kt.slots[i];
	if ((err = unnamed_ports(c)))
		goto fail;
	err = -ENOMEM;
	c->chains = kt.chains;
	c->n_chains = kt.n_chains;
	kt.chains = NULL;
	err = 0;
	*out = c;
	c = NULL;
fail:
	free(kt.slots);
	free(kt.used);
	free(kt.chains);
	free(kt.chain_len);
	free(src.v);
	free(dst.v);
	free(pcs.v);
	free(cc.classes);
	cg_compiled_free(c);
	return err;
}

static void bit_set(__u64 *w, uint32_t bit)
{
	w[(bit / 64) % CG_ZONE_NETS_WORDS] |= 1ull << (bit % 64);
}

/*
 * Set the bits of a network of a zone, address `a` of prefix `len`: the
 * /16s it overlaps, and either their coarse bits or the sub bits of the
 * /24s (IPv6: /48s) it overlaps.
 */
static void zone_nets_set(struct cg_zone_nets *zn, int v6, const uint8_t *a,
			  uint32_t len)
{
	uint32_t first = cg_zone_nets_bit(a), n = 1, i;
	uint32_t sub_len = v6 ? 48 : 24, coarse_len = v6 ? 32 : 16;
	uint8_t b[16];

	if (len < 16) {
		n = 1u << (16 - len);
		first &= ~(n - 1);
	}
	for (i = first; i < first + n; i++) {
		bit_set(zn->w[v6], i);
		if (len <= coarse_len)
			bit_set(zn->coarse[v6], i);
	}
	if (len <= coarse_len)
		return;
	/* The /24s (/48s) of the network: at most 2^16 of them. */
	n = len < sub_len ? 1u << (sub_len - len) : 1;
	memcpy(b, a, v6 ? 16 : 4);
	for (i = 0; i < n; i++) {
		/* The i-th /24 (/48): the index in the bits from len on. */
		uint64_t unit = 0;
		unsigned k, bytes = sub_len / 8;

		for (k = 0; k < bytes; k++)
			unit = unit << 8 | a[k];
		unit = (unit & ~((uint64_t)n - 1)) + i;
		for (k = 0; k < bytes; k++)
			b[bytes - 1 - k] = (uint8_t)(unit >> (8 * k));
		bit_set(zn->sub[v6], cg_zone_nets_sub_bit(b, v6));
	}
}

void cg_zone_nets_of(const struct cg_compiled *c, struct cg_zone_nets *zn)
{
	size_t i;

	memset(zn, 0, sizeof(*zn));
	for (i = 0; i < c->n_hosts4; i++)
		if (c->hosts4[i].val.zone != CG_ZONE_NONE)
			zone_nets_set(zn, 0, c->hosts4[i].key.addr, 32);
	for (i = 0; i < c->n_classes4; i++)
		if (c->classes4[i].val.zone != CG_ZONE_NONE)
			zone_nets_set(zn, 0, c->classes4[i].key.addr,
				      c->classes4[i].key.prefixlen);
	for (i = 0; i < c->n_hosts6; i++)
		if (c->hosts6[i].val.zone != CG_ZONE_NONE)
			zone_nets_set(zn, 1, c->hosts6[i].key.addr, 128);
	for (i = 0; i < c->n_classes6; i++)
		if (c->classes6[i].val.zone != CG_ZONE_NONE)
			zone_nets_set(zn, 1, c->classes6[i].key.addr,
				      c->classes6[i].key.prefixlen);
}

void cg_compiled_free(struct cg_compiled *c)
{
	if (!c)
		return;
	free(c->zones);
	free(c->hosts4);
	free(c->hosts6);
	free(c->classes4);
	free(c->classes6);
	free(c->port_classes);
	free(c->flows);
	free(c->flow_info);
	free(c->ics_rules);
	free(c->ics_allow);
	free(c->chains);
	free(c->ifnames);
	free(c);
}

/*
 * Rough kernel memory of the policy maps: element sizes plus the kernel's
 * per-element overhead (hash: ~48 bytes of htab_elem; LPM: ~40 bytes of
 * node). Good enough to tell an operator the order of magnitude.
 */
void cg_compiled_summary(const struct cg_compiled *c, FILE *out)
{
	size_t i, enip_rules;
	size_t zones_b = c->n_zones * (sizeof(struct cg_zone_key) +
				       sizeof(struct cg_zone_val) + 48);
	size_t lpm_b = c->n_classes4 * (sizeof(struct cg_lpm4_key) + 8 + 40) +
		       c->n_classes6 * (sizeof(struct cg_lpm6_key) + 8 + 40) +
		       c->n_hosts4 * (4 + 8 + 48) + c->n_hosts6 * (16 + 8 + 48);
	size_t ports_b =
		CG_PORT_CLASSES_ENTRIES * 4 + sizeof(struct cg_zone_nets);
	size_t flows_b = c->n_flow_keys * (sizeof(struct cg_flow_key) +
					   sizeof(struct cg_flow_val) + 48);
	size_t info_b = c->policy->n_flows * (sizeof(struct cg_flow_info) +
					      sizeof(struct cg_counter) * 2) +
			c->n_chains * sizeof(struct cg_flow_chain) +
			c->n_ics_allow * sizeof(struct cg_ics_allow_rule);

	fprintf(out, "compiled:\n");
	fprintf(out, "  zones         %zu entries (%zu interfaces)\n",
		c->n_zones, c->n_ifnames);
	fprintf(out,
		"  classes       %u (IPv4: %zu hosts, %zu prefixes; IPv6: %zu "
		"hosts, %zu prefixes)\n",
		c->n_classes, c->n_hosts4, c->n_classes4, c->n_hosts6,
		c->n_classes6);
	fprintf(out, "  port classes  %u\n", c->n_port_classes);
	fprintf(out, "  flow keys     %zu for %zu flows (limit %u)\n",
		c->n_flow_keys, c->policy->n_flows, CG_MAX_FLOW_KEYS);
	if (c->n_timed)
		fprintf(out,
			"  time-boxed    %zu flows; %zu flow keys fall "
			"through a chain (limit %d flows each)\n",
			c->n_timed, c->n_chains, CG_CHAIN_MAX);
	for (i = 0, enip_rules = 0; i < c->n_ics_rules; i++)
		enip_rules += c->ics_rules[i].enip_allow_n;
	if (c->n_ics_allow - enip_rules)
		fprintf(out,
			"  modbus rules  %zu (limits %d per flow, %d address "
			"ranges per rule)\n",
			c->n_ics_allow - enip_rules, CG_ALLOW_RULES,
			CG_ALLOW_RANGES);
	if (enip_rules)
		fprintf(out,
			"  enip rules    %zu (limits %d per flow, %d classes "
			"per rule)\n",
			enip_rules, CG_ALLOW_RULES, CG_ALLOW_RANGES);
	fprintf(out, "  map memory    ~%zu KiB\n",
		(zones_b + lpm_b + ports_b + flows_b + info_b + 1023) / 1024);
}
