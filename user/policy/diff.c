// SPDX-License-Identifier: GPL-2.0
/*
 * `cranegate diff` of two policies: the changes of traffic (the model in
 * space.c, walked in diff_lines.c) and the changes that are not traffic
 * (zones, hosts, flows' texts, limits), as one struct cg_diff.
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
#include "diff_int.h"
#include "enip.h"
#include "modbus_rules.h"
#include "hash.h"
#include "output.h"

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
		zn = cg_diff_find_zone(n, zo->name, NULL);
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

		if (cg_diff_find_zone(o, zn->name, NULL))
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
		hn = cg_diff_find_host(n, ho->name);
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

		if (cg_diff_find_host(o, n->hosts[i].name))
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
	FT_DENY,
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
	sb_add(&t[FT_DENY], "%s", f->deny_reset ? "reset" : "drop");
}

static int diff_flows(struct cg_diff *d)
{
	static const char *const what[FT_N] = {
		"from",	  "to",	    "proto", "ports", "log",
		"modbus", "s7comm", "enip",  "valid", "deny"};
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
	/* The traffic walk first: it is what finds a pair of policies too
	 * large to diff, and then the item diffs would be thrown away. */
	if ((err = cg_diff_walk_pairs(&df)))
		goto fail;
	if ((err = diff_policy(d)) || (err = diff_zones(d)) ||
	    (err = diff_hosts(d)) || (err = diff_flows(d)))
		goto fail;
	mark = calloc(d->space->n_regions + 1, sizeof(*mark));
	if (!mark) {
		err = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < df.n_groups; i++)
		if ((err = cg_diff_group_lines(d, &df.groups[i], mark, &stamp)))
			goto fail;
	if ((err = cg_diff_merge_lines(d)))
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
		cg_diff_line_free(&d->lines[i]);
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
