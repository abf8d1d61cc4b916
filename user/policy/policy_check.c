// SPDX-License-Identifier: GPL-2.0
/*
 * The policy parser's third pass (policy.c has the overview): the semantic
 * checks that need the whole policy: flows that can never match, an
 * (interface, VLAN) claimed by two zones, overlapping zone networks.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <yaml.h>

#include "policy.h"
#include "policy_int.h"
#include "modbus_rules.h"

/* ------------------------------------------------------------------ */
/* Semantic checks                                                     */

#define FAM4 1u
#define FAM6 2u

static unsigned int fam_bit(int family)
{
	return family == 4 ? FAM4 : FAM6;
}

static const char *fam_text(unsigned int fams)
{
	return fams == FAM4   ? "IPv4 only"
	       : fams == FAM6 ? "IPv6 only"
			      : "IPv4 and IPv6";
}

/* The address families a list of references covers; *empty_zone gets a
 * zone without networks among them. */
static unsigned int ref_families(const struct cg_policy *p,
				 const struct cg_ref *r, size_t n,
				 const struct cg_zone **empty_zone)
{
	unsigned int fams = 0;
	size_t i, j;

	for (i = 0; i < n; i++) {
		if (r[i].kind == CG_REF_SELF) {
			fams |= FAM4 | FAM6; /* learned at apply */
		} else if (r[i].kind == CG_REF_CIDR) {
			fams |= fam_bit(r[i].cidr.family);
		} else if (r[i].kind == CG_REF_HOST) {
			if (p->hosts[r[i].index].addr.family)
				fams |= fam_bit(
					p->hosts[r[i].index].addr.family);
		} else {
			const struct cg_zone *z = &p->zones[r[i].index];

			for (j = 0; j < z->n_nets; j++)
				fams |= fam_bit(z->nets[j].prefix.family);
			if (!z->n_nets && !*empty_zone)
				*empty_zone = z;
		}
	}
	return fams;
}

/* Does the flow's port list include `port`? (No list: every port.) */
static bool flow_has_port(const struct cg_flow *f, uint16_t port)
{
	size_t i;

	if (!f->n_ports)
		return true;
	for (i = 0; i < f->n_ports; i++)
		if (f->ports[i].lo <= port && port <= f->ports[i].hi)
			return true;
	return false;
}

static void check_ics(struct pctx *c, const struct cg_flow *f,
		      const struct cg_ics *ics, const char *what, uint16_t port,
		      const char *label)
{
	if (ics->mode == CG_ICS_NONE)
		return;
	if (f->proto != CG_P_TCP) {
		err_at(c, ics->pos, "%s needs proto tcp; %s has proto %s", what,
		       label, cg_proto_name(f->proto));
		return;
	}
	if (!flow_has_port(f, port))
		warn_at(c, ics->pos,
			"%s is inspected on tcp port %u, which the ports of %s "
			"do not include",
			what, port, label);
}

/*
 * `deny: reset` answers a refused request with a TCP RST: only a TCP
 * flow has a connection to reset, and only a flow that inspects requests
 * refuses any on an admitted connection.
 */
static void check_deny(struct pctx *c, const struct cg_flow *f,
		       const char *label)
{
	if (!f->deny_reset)
		return;
	if (f->proto != CG_P_TCP) {
		err_at(c, f->deny_pos,
		       "deny: reset needs proto tcp; %s has proto %s (a "
		       "reset answers a TCP connection only)",
		       label, cg_proto_name(f->proto));
		return;
	}
	if (f->modbus.mode == CG_ICS_NONE && f->s7comm.mode == CG_ICS_NONE &&
	    f->enip.mode == CG_ICS_NONE)
		warn_at(c, f->deny_pos,
			"deny: reset on %s never answers: it inspects no "
			"requests (no modbus:, s7comm: or enip:), so it "
			"refuses none",
			label);
}

static bool refs_have_self(const struct cg_ref *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (r[i].kind == CG_REF_SELF)
			return true;
	return false;
}

/*
 * `self` in a flow: the gateway's frames to itself never cross the gate,
 * and the requests it sends leave without passing it, so neither can be
 * judged (README, "The gateway itself").
 */
static void check_self(struct pctx *c, const struct cg_flow *f,
		       struct cg_pos from_pos, const char *label)
{
	bool from = refs_have_self(f->from, f->n_from);

	if (from && refs_have_self(f->to, f->n_to))
		err_at(c, f->pos,
		       "%s names self in both from and to; the gateway's "
		       "traffic to itself never crosses the gate",
		       label);
	if (from &&
	    (f->modbus.mode != CG_ICS_NONE || f->s7comm.mode != CG_ICS_NONE ||
	     f->enip.mode != CG_ICS_NONE))
		err_at(c, from_pos,
		       "%s is from self and inspects ICS requests; the "
		       "gateway's own requests leave without passing the gate, "
		       "so they cannot be inspected",
		       label);
}

/*
 * Whether no two flows share a name, by hashing: the common case costs no
 * sort. false also when memory is short; the caller then sorts, which
 * finds (and reports) what there is.
 */
static bool flow_names_unique(const struct cg_policy *p)
{
	const char **tab;
	size_t size = 16, mask, i;
	bool unique = true;

	while (size < 2 * p->n_flows)
		size *= 2;
	mask = size - 1;
	tab = calloc(size, sizeof(*tab));
	if (!tab)
		return false;
	for (i = 0; i < p->n_flows && unique; i++) {
		const char *s = p->flows[i].name;
		uint64_t h = 14695981039346656037ull;
		size_t j;

		if (!s[0])
			continue;
		for (j = 0; s[j]; j++)
			h = (h ^ (unsigned char)s[j]) * 1099511628211ull;
		for (j = h & mask; tab[j]; j = (j + 1) & mask)
			if (!strcmp(tab[j], s)) {
				unique = false;
				break;
			}
		tab[j] = s;
	}
	free(tab);
	return unique;
}

void check_flows(struct pctx *c, const struct flow_pos *fps)
{
	const struct cg_policy *p = c->p;
	struct name_pos *names;
	size_t i, k, n = 0;

	/* Flow names are unique: they name counters and log lines. */
	names = flow_names_unique(p) ? NULL
				     : xcalloc(c, p->n_flows, sizeof(*names));
	for (i = 0; i < p->n_flows && names; i++)
		if (p->flows[i].name[0])
			names[n++] = (struct name_pos){p->flows[i].name,
						       fps[i].name};
	if (names)
		qsort(names, n, sizeof(*names), name_pos_cmp);
	for (i = 1, k = 0; i < n; i++) {
		if (strcmp(names[i].name, names[k].name)) {
			k = i;
			continue;
		}
		err_at(c, names[i].pos,
		       "duplicate flow name '%s' (first at %d:%d)",
		       names[i].name, names[k].pos.line, names[k].pos.col);
	}
	free(names);

	for (i = 0; i < p->n_flows; i++) {
		const struct cg_flow *f = &p->flows[i];
		const struct flow_aux *aux = &c->aux[i];
		const struct cg_zone *ez_from = NULL, *ez_to = NULL;
		unsigned int from = 0, to = 0, both;
		char label[CG_NAME_MAX + 16];

		flow_label(f, i, label, sizeof(label));
		if (!aux->proto_bad) {
			if (f->n_ports &&
			    (f->proto == CG_P_ICMP || f->proto == CG_P_ICMPV6))
				err_at(c, fps[i].ports,
				       "ports do not apply to proto %s (it has "
				       "no ports); remove ports from %s",
				       cg_proto_name(f->proto), label);
			if (f->n_ports && f->proto == CG_P_ANY)
				warn_at(c, fps[i].ports,
					"ports on proto any means tcp and udp "
					"on those ports; %s matches no other "
					"protocol",
					label);
			check_ics(c, f, &f->modbus, "modbus", 502, label);
			check_ics(c, f, &f->s7comm, "s7comm", 102, label);
			check_ics(c, f, &f->enip, "enip", 44818, label);
			check_deny(c, f, label);
		}

		if (!aux->from_bad && !aux->to_bad)
			check_self(c, f, fps[i].from, label);
		if (!aux->from_bad) {
			from = ref_families(p, f->from, f->n_from, &ez_from);
			if (!from)
				err_at(c, fps[i].from,
				       "%s can never match: from holds no "
				       "address (zone '%s' has no networks)",
				       label, ez_from ? ez_from->name : "?");
		}
		if (!aux->to_bad) {
			to = ref_families(p, f->to, f->n_to, &ez_to);
			if (!to)
				err_at(c, fps[i].to,
				       "%s can never match: to holds no "
				       "address (zone '%s' has no networks)",
				       label, ez_to ? ez_to->name : "?");
		}
		if (!from || !to)
			continue;
		both = from & to;
		if (!both) {
			err_at(c, f->pos,
			       "%s can never match: from is %s, to is %s",
			       label, fam_text(from), fam_text(to));
			continue;
		}
		if (aux->proto_bad)
			continue;
		if (f->proto == CG_P_ICMP && !(both & FAM4))
			err_at(c, f->proto_pos,
			       "%s can never match: proto icmp is IPv4 only, "
			       "but from and to share only IPv6; use icmpv6",
			       label);
		if (f->proto == CG_P_ICMPV6 && !(both & FAM6))
			err_at(c, f->proto_pos,
			       "%s can never match: proto icmpv6 is IPv6 only, "
			       "but from and to share only IPv4; use icmp",
			       label);
	}
}

/* One (interface, VLAN) claim of a zone; vlan 0 is untagged. */
struct claim {
	const char *ifname;
	uint16_t vlan;
	size_t zone;
	struct cg_pos pos;
};

static int claim_cmp(const void *a, const void *b)
{
	const struct claim *x = a, *y = b;
	int r = strcmp(x->ifname, y->ifname);

	if (r)
		return r;
	if (x->vlan != y->vlan)
		return x->vlan < y->vlan ? -1 : 1;
	return pos_cmp(x->pos, y->pos);
}

/* Every (interface, VLAN) belongs to at most one zone. */
void check_claims(struct pctx *c)
{
	const struct cg_policy *p = c->p;
	struct claim *cl;
	size_t n = 0, total = 0, i, j, k;

	for (i = 0; i < p->n_zones; i++) {
		const struct cg_zone *z = &p->zones[i];

		total += z->n_ifaces * (z->n_vlans ? z->n_vlans : 1);
		if (total > CG_POLICY_MAX_CLAIMS) {
			err_at(c, z->pos,
			       "the zones up to '%s' claim more than %d "
			       "(interface, vlan) pairs, the limit",
			       z->name, CG_POLICY_MAX_CLAIMS);
			return;
		}
	}
	cl = xcalloc(c, total, sizeof(*cl));
	if (!cl)
		return;
	for (i = 0; i < p->n_zones; i++) {
		const struct cg_zone *z = &p->zones[i];

		for (j = 0; j < z->n_ifaces; j++) {
			/* Not untagged if its vlans were all bad. */
			if (!z->n_vlans && !(c->zone_flags[i] & ZF_VLANS))
				cl[n++] = (struct claim){z->ifaces[j].name, 0,
							 i, z->ifaces[j].pos};
			for (k = 0; k < z->n_vlans; k++) {
				/* The later of the two positions says
				 * where the claim was completed. */
				struct cg_pos pos = z->vlans[k].pos;

				if (pos_cmp(z->ifaces[j].pos, pos) > 0)
					pos = z->ifaces[j].pos;
				cl[n++] =
					(struct claim){z->ifaces[j].name,
						       z->vlans[k].id, i, pos};
			}
		}
	}
	qsort(cl, n, sizeof(*cl), claim_cmp);
	for (i = 1, k = 0; i < n; i++) {
		const struct claim *a = &cl[k], *b = &cl[i];

		if (strcmp(a->ifname, b->ifname) || a->vlan != b->vlan) {
			k = i;
			continue;
		}
		if (a->zone == b->zone)
			continue;
		if (b->vlan)
			err_at(c, b->pos,
			       "interface '%s' vlan %u of zone '%s' is already "
			       "claimed by zone '%s' (%d:%d)",
			       b->ifname, b->vlan, p->zones[b->zone].name,
			       p->zones[a->zone].name, a->pos.line, a->pos.col);
		else
			err_at(c, b->pos,
			       "zone '%s' is a second untagged zone on "
			       "interface '%s' after zone '%s' (%d:%d); give "
			       "one of them vlans",
			       p->zones[b->zone].name, b->ifname,
			       p->zones[a->zone].name, a->pos.line, a->pos.col);
	}
	free(cl);
}

/* One zone network, for the overlap check. */
struct znet {
	const struct cg_prefix *prefix;
	struct cg_pos pos;
	size_t zone;
};

static int znet_cmp(const void *a, const void *b)
{
	const struct znet *x = a, *y = b;
	int r;

	if (x->prefix->family != y->prefix->family)
		return x->prefix->family < y->prefix->family ? -1 : 1;
	r = memcmp(x->prefix->addr, y->prefix->addr, 16);
	if (r)
		return r;
	if (x->prefix->len != y->prefix->len)
		return x->prefix->len < y->prefix->len ? -1 : 1;
	return pos_cmp(x->pos, y->pos);
}

/*
 * Zone networks do not overlap: an address belongs to one zone. Sorted by
 * (family, address, length), a prefix overlaps an earlier one exactly when
 * one on the stack of enclosing prefixes contains it; the innermost is
 * reported. O(n log n) for any number of networks.
 */
void check_overlaps(struct pctx *c)
{
	const struct cg_policy *p = c->p;
	struct znet *v, **stack;
	size_t n = 0, depth = 0, i, j;

	for (i = 0; i < p->n_zones; i++)
		n += p->zones[i].n_nets;
	v = xcalloc(c, n, sizeof(*v));
	stack = xcalloc(c, n, sizeof(*stack));
	if (!v || !stack)
		goto out;
	for (i = 0, n = 0; i < p->n_zones; i++)
		for (j = 0; j < p->zones[i].n_nets; j++)
			v[n++] = (struct znet){&p->zones[i].nets[j].prefix,
					       p->zones[i].nets[j].pos, i};
	qsort(v, n, sizeof(*v), znet_cmp);
	for (i = 0; i < n; i++) {
		const struct znet *cur = &v[i], *top, *early, *late;
		char a[64], b[64];

		while (depth && !cg_prefix_contains(stack[depth - 1]->prefix,
						    cur->prefix))
			depth--;
		stack[depth++] = &v[i];
		if (depth < 2)
			continue;
		top = stack[depth - 2];
		/* An exact duplicate in one zone: report it against the
		 * first and leave the first on the stack for what follows. */
		if (top->zone == cur->zone &&
		    top->prefix->len == cur->prefix->len)
			depth--;
		early = pos_cmp(top->pos, cur->pos) < 0 ? top : cur;
		late = early == top ? cur : top;
		cg_prefix_format(late->prefix, a, sizeof(a));
		cg_prefix_format(early->prefix, b, sizeof(b));
		if (top->zone != cur->zone)
			err_at(c, late->pos,
			       "network %s of zone '%s' overlaps %s of zone "
			       "'%s' (%d:%d)",
			       a, p->zones[late->zone].name, b,
			       p->zones[early->zone].name, early->pos.line,
			       early->pos.col);
		else if (top->prefix->len == cur->prefix->len)
			err_at(c, late->pos,
			       "duplicate network %s in zone '%s' (first at "
			       "%d:%d)",
			       a, p->zones[cur->zone].name, early->pos.line,
			       early->pos.col);
		else
			warn_at(c, late->pos,
				"network %s of zone '%s' overlaps %s of the "
				"same zone (%d:%d); the smaller one adds "
				"nothing",
				a, p->zones[cur->zone].name, b, early->pos.line,
				early->pos.col);
	}
out:
	free(v);
	free(stack);
}
