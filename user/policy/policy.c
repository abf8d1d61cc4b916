// SPDX-License-Identifier: GPL-2.0
/*
 * The policy parser: a YAML file -> struct cg_policy, or every problem
 * with it, each with its FILE:LINE:COL.
 *
 * Three passes, all over one context struct (struct pctx, no globals):
 *
 *  1. prescan(): libyaml's event API over the whole input, to refuse what
 *     the document API would silently resolve or could not bound: aliases
 *     and anchors, explicit tags, too deep nesting, too many nodes, a
 *     second document. Syntax errors surface here first. On the way it
 *     builds the first document's tree from the events, the same tree of
 *     cg_node_t that the document API (yaml_parser_load) would give, so
 *     that the input is parsed once (a policy with anchors, refused
 *     anyway, is loaded with the document API, whose composer reports
 *     repeated anchors).
 *  2. parse_*() walk the tree, whose nodes carry their marks, check every
 *     value's type and form where it stands, and fill struct cg_policy. A
 *     bad item is reported and left out; the walk goes on so that one run
 *     reports everything.
 *  3. check_*(): the semantic checks that need the whole policy (pf's
 *     rule_consistent): name clashes, (interface, VLAN) claimed twice,
 *     overlapping zone networks, flows that can never match.
 *
 * libyaml's marks are 0-based; ours (struct cg_pos) are 1-based.
 * Diagnostics are sorted by position before returning.
 *
 * This file holds the top level and the YAML input; names, zones and
 * hosts are parsed in policy_names.c, flows in policy_flows.c, and the
 * third pass is policy_check.c. All of them read nodes through
 * policy_node.c and report through policy_diag.c. What they share is in
 * policy_int.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <yaml.h>

#include "policy.h"
#include "policy_int.h"
#include "modbus_rules.h"

/* Diagnostics kept in memory; the rest are only counted. */
#define CG_DIAGS_KEEP 1000

/* ------------------------------------------------------------------ */
/* The top level                                                       */

enum {
	T_VERSION,
	T_NAME,
	T_MODE,
	T_FRAGMENTS,
	T_LIMITS,
	T_ZONES,
	T_HOSTS,
	T_FLOWS,
	T_N
};
static const char *const top_keys[T_N] = {"version",   "name",	 "mode",
					  "fragments", "limits", "zones",
					  "hosts",     "flows"};

enum {
	L_CONNECTIONS,
	L_TCP,
	L_TCP_CLOSING,
	L_UDP,
	L_OTHER,
	L_MACS,
	L_MAC_HOLD,
	L_FRAGMENTS,
	L_FRAGMENT_TIMEOUT,
	L_EVENTS_RATE,
	L_EVENTS_BURST,
	L_SOURCE_RATE,
	L_SOURCE_BURST,
	L_EVENT_SOURCES,
	L_RECORD_INTERVAL,
	L_N
};
static const char *const limit_keys[L_N] = {"connections",
					    "tcp_timeout",
					    "tcp_closing_timeout",
					    "udp_timeout",
					    "other_timeout",
					    "macs",
					    "mac_hold",
					    "fragments",
					    "fragment_timeout",
					    "events_per_second",
					    "events_burst",
					    "source_events_per_second",
					    "source_events_burst",
					    "event_sources",
					    "record_interval"};

/* Fewer tracked sources than this would evict a source between two of
 * its frames under the lightest flood: 0 (no per-source limit) or more. */
#define CG_EVENT_SOURCES_MIN 256

/* `limits:`: each key an integer within a sane range. */
static void parse_limits(struct pctx *c, cg_node_t *n)
{
	static const unsigned long lo[L_N] = {1024, 1, 1, 1, 1, 1024, 0, 64,
					      1,    0, 1, 1, 1, 0,    0};
	static const unsigned long hi[L_N] = {
		1u << 24, 7 * 86400, 3600,     7 * 86400, 7 * 86400,
		1u << 22, 86400,     1u << 20, 600,	  1000000,
		1000000,  1000000,   1000000,  1u << 20,  86400};
	uint32_t *field[L_N] = {
		&c->p->limits.connections,
		&c->p->limits.tcp_timeout,
		&c->p->limits.tcp_closing_timeout,
		&c->p->limits.udp_timeout,
		&c->p->limits.other_timeout,
		&c->p->limits.macs,
		&c->p->limits.mac_hold,
		&c->p->limits.fragments,
		&c->p->limits.fragment_timeout,
		&c->p->limits.events_per_second,
		&c->p->limits.events_burst,
		&c->p->limits.source_events_per_second,
		&c->p->limits.source_events_burst,
		&c->p->limits.event_sources,
		&c->p->limits.record_interval,
	};
	cg_node_t *v[L_N];
	struct cg_pos kp[L_N];
	unsigned long val;
	size_t i;

	if (is_null(n))
		return;
	if (n->type != YAML_MAPPING_NODE) {
		expected(c, n, "a mapping of limits");
		return;
	}
	map_fields(c, n, limit_keys, L_N, "in limits", v, kp);
	for (i = 0; i < L_N; i++) {
		if (!v[i] ||
		    !get_int(c, v[i], limit_keys[i], lo[i], hi[i], false, &val))
			continue;
		if (i == L_EVENT_SOURCES && val && val < CG_EVENT_SOURCES_MIN) {
			err_at(c, npos(v[i]),
			       "event_sources %lu is too small; expected 0 (no "
			       "per-source limit) or %d..%lu",
			       val, CG_EVENT_SOURCES_MIN, hi[i]);
			continue;
		}
		*field[i] = val;
	}
}

static void parse_name(struct pctx *c, cg_node_t *n)
{
	const char *s = scalar(c, n, "a policy name");
	size_t len, i;

	if (!s)
		return;
	len = strlen(s);
	if (!len || is_null(n)) {
		err_at(c, npos(n), "the policy name is empty");
		return;
	}
	if (len >= CG_NAME_MAX) {
		err_at(c, npos(n),
		       "the policy name is %zu characters long; the limit is "
		       "%d",
		       len, CG_NAME_MAX - 1);
		return;
	}
	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			err_at(c, npos(n),
			       "the policy name has a control character");
			return;
		}
		if (bidi_override(s + i)) {
			err_at(c, npos(n),
			       "the policy name has the bidirectional-override "
			       "character U+%04X",
			       bidi_override(s + i));
			return;
		}
	}
	memcpy(c->p->name, s, len + 1);
}

static void parse_flows(struct pctx *c, cg_node_t *n)
{
	struct cg_policy *p = c->p;
	struct flow_pos *fps;
	yaml_node_item_t *it;
	size_t cnt;

	if (is_null(n))
		return;
	if (n->type != YAML_SEQUENCE_NODE) {
		expected(c, n, "a list of flows");
		return;
	}
	cnt = n->data.sequence.items.top - n->data.sequence.items.start;
	p->flows = xcalloc(c, cnt, sizeof(*p->flows));
	c->aux = xcalloc(c, cnt, sizeof(*c->aux));
	fps = xcalloc(c, cnt, sizeof(*fps));
	if (cnt && (!p->flows || !c->aux || !fps)) {
		free(fps);
		return;
	}
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		parse_flow(c, p->n_flows, node(c, *it), &fps[p->n_flows]);
		p->n_flows++;
	}
	check_flows(c, fps);
	free(fps);
}

static void parse_top(struct pctx *c, cg_node_t *root)
{
	struct cg_policy *p = c->p;
	cg_node_t *v[T_N];
	struct cg_pos kp[T_N];
	struct kv *zones = NULL, *hosts = NULL;
	size_t nz = 0, nh = 0, i;
	unsigned long ver;
	const char *s;

	if (root->type != YAML_MAPPING_NODE) {
		expected(c, root,
			 "a mapping with version, name, zones and flows at the "
			 "top level");
		return;
	}
	map_fields(c, root, top_keys, T_N, "at the top level", v, kp);

	if (!v[T_VERSION]) {
		err_at(c, npos(root),
		       "missing 'version' at the top level; expected version: "
		       "1");
	} else if (!is_plain(v[T_VERSION]) ||
		   parse_uint(sval(v[T_VERSION]), false, INT_MAX, &ver)) {
		expected(c, v[T_VERSION], "version 1 (the number)");
	} else if (ver != 1) {
		err_at(c, npos(v[T_VERSION]),
		       "unsupported policy version %lu; this cranegate reads "
		       "version 1",
		       ver);
	}

	if (!v[T_NAME])
		err_at(c, npos(root),
		       "missing 'name' at the top level; expected the policy's "
		       "name");
	else
		parse_name(c, v[T_NAME]);

	if (v[T_MODE] && (s = scalar(c, v[T_MODE], "enforce or monitor"))) {
		if (!strcmp(s, "enforce"))
			p->mode = CG_POLICY_ENFORCE;
		else if (!strcmp(s, "monitor"))
			p->mode = CG_POLICY_MONITOR;
		else
			err_at(c, npos(v[T_MODE]),
			       "unknown mode '%.40s'; expected enforce or "
			       "monitor",
			       s);
	}

	if (v[T_FRAGMENTS] &&
	    (s = scalar(c, v[T_FRAGMENTS], "track or pass"))) {
		if (!strcmp(s, "track"))
			p->fragments = CG_FRAG_TRACK;
		else if (!strcmp(s, "pass"))
			p->fragments = CG_FRAG_PASS;
		else
			err_at(c, npos(v[T_FRAGMENTS]),
			       "unknown fragments mode '%.40s'; expected track "
			       "(non-first fragments follow their first) or "
			       "pass (all pass)",
			       s);
	}
	if (v[T_LIMITS])
		parse_limits(c, v[T_LIMITS]);

	if (!v[T_ZONES]) {
		err_at(c, npos(root),
		       "missing 'zones' at the top level; expected a mapping "
		       "of zone names to zones");
	} else if (v[T_ZONES]->type != YAML_MAPPING_NODE) {
		if (is_null(v[T_ZONES]))
			err_at(c, kp[T_ZONES],
			       "zones is empty; expected at least one zone");
		else
			expected(c, v[T_ZONES],
				 "a mapping of zone names to zones");
	} else {
		nz = map_pairs(c, v[T_ZONES], &zones);
		if (!nz && !c->oom)
			err_at(c, kp[T_ZONES],
			       "zones is empty; expected at least one zone");
		p->zones = xcalloc(c, nz, sizeof(*p->zones));
		c->zone_flags = xcalloc(c, nz, sizeof(*c->zone_flags));
		for (i = 0; i < nz && p->zones && c->zone_flags; i++)
			parse_zone(c, &p->zones[p->n_zones++], &zones[i]);
	}

	if (v[T_HOSTS] && !is_null(v[T_HOSTS])) {
		if (v[T_HOSTS]->type != YAML_MAPPING_NODE) {
			expected(c, v[T_HOSTS],
				 "a mapping of host names to addresses");
		} else {
			nh = map_pairs(c, v[T_HOSTS], &hosts);
			p->hosts = xcalloc(c, nh, sizeof(*p->hosts));
			for (i = 0; i < nh && p->hosts; i++)
				parse_host(c, &p->hosts[p->n_hosts++],
					   &hosts[i]);
		}
	}

	build_names(c, zones, nz, hosts, nh);
	if (v[T_FLOWS])
		parse_flows(c, v[T_FLOWS]);
	check_claims(c);
	check_overlaps(c);
	free(zones);
	free(hosts);
}

/* ------------------------------------------------------------------ */
/* YAML input                                                          */

/* Line and column of a byte offset (libyaml's reader errors have no
 * mark). Columns count characters, as libyaml's marks do. */
static struct cg_pos offset_pos(const struct pctx *c, size_t off)
{
	struct cg_pos pos = {1, 1};
	size_t i;

	for (i = 0; i < off && i < c->len; i++) {
		if (c->buf[i] == '\n') {
			pos.line++;
			pos.col = 1;
		} else if (((unsigned char)c->buf[i] & 0xc0) != 0x80) {
			pos.col++;
		}
	}
	return pos;
}

static void yaml_error(struct pctx *c, const yaml_parser_t *ps)
{
	const char *problem = ps->problem ? ps->problem : "invalid YAML";

	switch (ps->error) {
	case YAML_MEMORY_ERROR:
		err_at(c, (struct cg_pos){0, 0}, "out of memory reading YAML");
		return;
	case YAML_READER_ERROR:
		if (ps->problem_value != -1)
			err_at(c, offset_pos(c, ps->problem_offset),
			       "%s (0x%x); a policy is UTF-8 text", problem,
			       ps->problem_value);
		else
			err_at(c, offset_pos(c, ps->problem_offset),
			       "%s; a policy is UTF-8 text", problem);
		return;
	default:
		break;
	}
	if (ps->context)
		err_at(c, mpos(ps->problem_mark), "%s %s (started at %d:%d)",
		       problem, ps->context, mpos(ps->context_mark).line,
		       mpos(ps->context_mark).col);
	else
		err_at(c, mpos(ps->problem_mark), "%s", problem);
}

/* Anchors and tags on a node: refused, the policy is plain data. */
static void check_props(struct pctx *c, const yaml_event_t *ev,
			const yaml_char_t *anchor, const yaml_char_t *tag)
{
	if (anchor)
		err_at(c, mpos(ev->start_mark),
		       "anchors are not allowed in a policy; remove '&%.40s'",
		       (const char *)anchor);
	/* libyaml expands "!!x" to the full tag; show what was written. */
	if (tag && !strncmp((const char *)tag, "tag:yaml.org,2002:", 18))
		err_at(c, mpos(ev->start_mark),
		       "tags are not allowed in a policy; remove '!!%.40s'",
		       (const char *)tag + 18);
	else if (tag)
		err_at(c, mpos(ev->start_mark),
		       "tags are not allowed in a policy; remove '%.40s'",
		       (const char *)tag);
}

/*
 * The tree of the first document, built from the prescan's events so that
 * the input is parsed once: the same nodes, in the same order, with the
 * same marks, as yaml_parser_load() would give (node ids count from 1 in
 * the order the nodes start; a mapping's pairs and a list's items are in
 * file order). Scalars, items and pairs live in an arena freed at once.
 */
struct arena_chunk {
	struct arena_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

#define ARENA_CHUNK ((size_t)1 << 20)

static void *arena_alloc(struct pctx *c, size_t size)
{
	struct arena_chunk *a = c->arena, *nc;
	void *p;

	size = (size + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	if (a && a->cap - a->used >= size) {
		p = (char *)a->data + a->used;
		a->used += size;
		return p;
	}
	/* A large block gets a chunk of its own, behind the current one. */
	nc = malloc(sizeof(*nc) +
		    (size > ARENA_CHUNK / 8 ? size : ARENA_CHUNK));
	if (!nc)
		return NULL;
	nc->cap = size > ARENA_CHUNK / 8 ? size : ARENA_CHUNK;
	nc->used = size;
	if (size > ARENA_CHUNK / 8 && a) {
		nc->next = a->next;
		a->next = nc;
	} else {
		nc->next = a;
		c->arena = nc;
	}
	return nc->data;
}

static void arena_free(struct pctx *c)
{
	struct arena_chunk *a, *next;

	for (a = c->arena; a; a = next) {
		next = a->next;
		free(a);
	}
	c->arena = NULL;
}

struct build {
	size_t cap; /* of c->nodes */
	int *pend;  /* the children of the open lists and mappings */
	size_t n_pend, cap_pend;
	struct {
		int id;
		size_t base; /* its first child in pend */
	} open[CG_POLICY_MAX_DEPTH + 2];
	int depth;
	bool oom;
};

/* A new node for the event, added to the open list or mapping. */
static cg_node_t *tree_add(struct pctx *c, struct build *b,
			   const yaml_event_t *ev, yaml_node_type_t type)
{
	cg_node_t *n;

	if (c->n_nodes == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 1024;

		n = realloc(c->nodes, cap * sizeof(*n));
		if (!n)
			goto oom;
		c->nodes = n;
		b->cap = cap;
	}
	if (b->depth) {
		if (b->n_pend == b->cap_pend) {
			size_t cap = b->cap_pend ? 2 * b->cap_pend : 256;
			int *p = realloc(b->pend, cap * sizeof(*p));

			if (!p)
				goto oom;
			b->pend = p;
			b->cap_pend = cap;
		}
		b->pend[b->n_pend++] = (int)c->n_nodes + 1;
	}
	n = &c->nodes[c->n_nodes++];
	memset(n, 0, sizeof(*n));
	n->type = type;
	n->start_mark.line = (uint32_t)ev->start_mark.line;
	n->start_mark.column = (uint32_t)ev->start_mark.column;
	return n;
oom:
	b->oom = true;
	return NULL;
}

static void tree_event(struct pctx *c, struct build *b, const yaml_event_t *ev)
{
	cg_node_t *n;
	size_t cnt;
	char *v;

	if (b->oom)
		return;
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		n = tree_add(c, b, ev, YAML_SCALAR_NODE);
		v = n ? arena_alloc(c, ev->data.scalar.length + 1) : NULL;
		if (!v) {
			b->oom = true;
			return;
		}
		memcpy(v, ev->data.scalar.value, ev->data.scalar.length + 1);
		n->data.scalar.value = (yaml_char_t *)v;
		n->data.scalar.length = (uint32_t)ev->data.scalar.length;
		n->data.scalar.style = ev->data.scalar.style;
		return;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (b->depth >= CG_POLICY_MAX_DEPTH + 2) {
			b->oom = true; /* prescan() stops before this */
			return;
		}
		n = tree_add(c, b, ev,
			     ev->type == YAML_SEQUENCE_START_EVENT
				     ? YAML_SEQUENCE_NODE
				     : YAML_MAPPING_NODE);
		if (!n)
			return;
		b->open[b->depth].id = (int)c->n_nodes;
		b->open[b->depth++].base = b->n_pend;
		return;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (!b->depth)
			return;
		b->depth--;
		n = &c->nodes[b->open[b->depth].id - 1];
		cnt = b->n_pend - b->open[b->depth].base;
		if (n->type == YAML_SEQUENCE_NODE) {
			yaml_node_item_t *it =
				arena_alloc(c, (cnt ? cnt : 1) * sizeof(*it));

			if (!it) {
				b->oom = true;
				return;
			}
			if (cnt)
				memcpy(it, b->pend + b->open[b->depth].base,
				       cnt * sizeof(*it));
			n->data.sequence.items.start = it;
			n->data.sequence.items.top = it + cnt;
		} else {
			const int *kv =
				b->pend ? b->pend + b->open[b->depth].base
					: NULL;
			yaml_node_pair_t *pr = arena_alloc(
				c, (cnt / 2 ? cnt / 2 : 1) * sizeof(*pr));
			size_t i;

			if (!pr) {
				b->oom = true;
				return;
			}
			for (i = 0; i < cnt / 2; i++)
				pr[i] = (yaml_node_pair_t){kv[2 * i],
							   kv[2 * i + 1]};
			n->data.mapping.pairs.start = pr;
			n->data.mapping.pairs.top = pr + cnt / 2;
		}
		b->n_pend = b->open[b->depth].base;
		return;
	default:
		return;
	}
}

/*
 * The first pass, over libyaml's events. Returns false when the document
 * must not be walked: a syntax error, an alias (the loader would share
 * the node, and walking it could cost exponential time), or nesting or a
 * node count beyond the limits. Builds the first document's tree on the
 * way (struct build); *anchors says whether any node had an anchor, in
 * which case the caller loads the document with libyaml instead, whose
 * composer has its own say about anchors (a repeated one is an error).
 */
static bool prescan(struct pctx *c, bool *anchors)
{
	yaml_parser_t ps;
	yaml_event_t ev;
	struct build b = {0};
	size_t nodes = 0;
	int depth = 0, docs = 0;
	bool ok = true, done = false, in_first = false;

	*anchors = false;
	if (!yaml_parser_initialize(&ps)) {
		err_at(c, (struct cg_pos){0, 0}, "out of memory reading YAML");
		return false;
	}
	yaml_parser_set_input_string(&ps, (const unsigned char *)c->buf,
				     c->len);
	while (!done) {
		if (!yaml_parser_parse(&ps, &ev)) {
			yaml_error(c, &ps);
			ok = false;
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs == 2)
				err_at(c, mpos(ev.start_mark),
				       "a second YAML document; a policy file "
				       "holds one");
			in_first = docs == 1;
			break;
		case YAML_DOCUMENT_END_EVENT:
			in_first = false;
			break;
		case YAML_ALIAS_EVENT:
			err_at(c, mpos(ev.start_mark),
			       "aliases are not allowed in a policy; write "
			       "'*%.40s' out in full",
			       (const char *)ev.data.alias.anchor);
			ok = false;
			break;
		case YAML_SCALAR_EVENT:
			check_props(c, &ev, ev.data.scalar.anchor,
				    ev.data.scalar.tag);
			*anchors |= ev.data.scalar.anchor != NULL;
			nodes++;
			break;
		case YAML_SEQUENCE_START_EVENT:
			check_props(c, &ev, ev.data.sequence_start.anchor,
				    ev.data.sequence_start.tag);
			*anchors |= ev.data.sequence_start.anchor != NULL;
			nodes++;
			depth++;
			break;
		case YAML_MAPPING_START_EVENT:
			check_props(c, &ev, ev.data.mapping_start.anchor,
				    ev.data.mapping_start.tag);
			*anchors |= ev.data.mapping_start.anchor != NULL;
			nodes++;
			depth++;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		default:
			break;
		}
		if (in_first && ok)
			tree_event(c, &b, &ev);
		if (depth > CG_POLICY_MAX_DEPTH) {
			err_at(c, mpos(ev.start_mark),
			       "the policy nests deeper than %d levels",
			       CG_POLICY_MAX_DEPTH);
			ok = false;
			done = true;
		}
		if (nodes > CG_POLICY_MAX_NODES) {
			err_at(c, mpos(ev.start_mark),
			       "the policy has more than %d YAML nodes",
			       CG_POLICY_MAX_NODES);
			ok = false;
			done = true;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&ps);
	free(b.pend);
	if (ok && b.oom && !*anchors) {
		err_at(c, (struct cg_pos){0, 0}, "out of memory reading YAML");
		ok = false;
	}
	return ok;
}

/* Our tree of libyaml's document; its strings, items and pairs stay in
 * the document. */
static bool doc_tree(struct pctx *c)
{
	size_t n = c->doc.nodes.top - c->doc.nodes.start, i;

	free(c->nodes);
	c->n_nodes = 0;
	c->nodes = n ? calloc(n, sizeof(*c->nodes)) : NULL;
	if (n && !c->nodes) {
		err_at(c, (struct cg_pos){0, 0}, "out of memory reading YAML");
		return false;
	}
	for (i = 0; i < n; i++) {
		const yaml_node_t *y = &c->doc.nodes.start[i];
		cg_node_t *t = &c->nodes[i];

		t->type = y->type;
		t->start_mark.line = (uint32_t)y->start_mark.line;
		t->start_mark.column = (uint32_t)y->start_mark.column;
		if (y->type == YAML_SCALAR_NODE) {
			t->data.scalar.value = y->data.scalar.value;
			t->data.scalar.length = (uint32_t)y->data.scalar.length;
			t->data.scalar.style = y->data.scalar.style;
		} else if (y->type == YAML_SEQUENCE_NODE) {
			t->data.sequence.items.start =
				y->data.sequence.items.start;
			t->data.sequence.items.top = y->data.sequence.items.top;
		} else if (y->type == YAML_MAPPING_NODE) {
			t->data.mapping.pairs.start =
				y->data.mapping.pairs.start;
			t->data.mapping.pairs.top = y->data.mapping.pairs.top;
		}
	}
	c->n_nodes = n;
	return true;
}

static bool load(struct pctx *c)
{
	yaml_parser_t ps;
	bool ok;

	if (!yaml_parser_initialize(&ps)) {
		err_at(c, (struct cg_pos){0, 0}, "out of memory reading YAML");
		return false;
	}
	yaml_parser_set_input_string(&ps, (const unsigned char *)c->buf,
				     c->len);
	ok = yaml_parser_load(&ps, &c->doc);
	if (ok)
		c->have_doc = true;
	else
		yaml_error(c, &ps);
	yaml_parser_delete(&ps);
	return ok && doc_tree(c);
}

int cg_policy_parse(const char *path, const char *buf, size_t len,
		    struct cg_policy **out, struct cg_diags *d)
{
	struct cg_diags local = {0};
	struct pctx c = {0};
	size_t first, errors;
	cg_node_t *root;
	bool anchors;
	int ret = 0;

	*out = NULL;
	if (!path)
		path = "<policy>";
	if (!d)
		d = &local;
	if (!d->file)
		d->file = path;
	first = d->n;
	errors = d->n_errors;
	c.d = d;
	c.buf = buf;
	c.len = len;

	if (len > CG_POLICY_MAX_BYTES) {
		err_at(&c, (struct cg_pos){0, 0},
		       "the policy is %zu bytes long; the limit is %d MiB", len,
		       CG_POLICY_MAX_BYTES >> 20);
		goto done;
	}
	c.p = calloc(1, sizeof(*c.p));
	if (!c.p || !(c.p->file = strdup(path))) {
		ret = -ENOMEM;
		goto done;
	}
	c.p->limits = CG_LIMITS_DEFAULT;
	if (!EVP_Digest(buf, len, c.p->sha256, NULL, EVP_sha256(), NULL)) {
		err_at(&c, (struct cg_pos){0, 0},
		       "cannot compute the policy's sha256 (OpenSSL failed)");
		goto done;
	}
	if (!prescan(&c, &anchors) || (anchors && !load(&c)))
		goto done;
	root = c.n_nodes ? &c.nodes[0] : NULL;
	if (!root || is_null(root))
		err_at(&c, (struct cg_pos){1, 1},
		       "the policy is empty; expected a mapping with version, "
		       "name, zones and flows");
	else
		parse_top(&c, root);
done:
	diags_sort(d, first);
	if (c.oom)
		ret = -ENOMEM;
	if (!ret && d->n_errors > errors)
		ret = -EINVAL;
	if (ret) {
		cg_policy_free(c.p);
		if (ret == -ENOMEM && d->n_errors == errors)
			err_at(&c, (struct cg_pos){0, 0}, "out of memory");
	} else {
		*out = c.p;
	}
	free(c.names);
	free(c.aux);
	free(c.zone_flags);
	if (c.have_doc)
		yaml_document_delete(&c.doc);
	free(c.nodes);
	arena_free(&c);
	if (d == &local)
		cg_diags_free(&local);
	return ret;
}

/* strerror(), lower-cased to read as the rest of our messages. */
static const char *errtext(int e, char *buf, size_t len)
{
	snprintf(buf, len, "%s", strerror(e));
	if (buf[0] >= 'A' && buf[0] <= 'Z' && !(buf[1] >= 'A' && buf[1] <= 'Z'))
		buf[0] = (char)(buf[0] - 'A' + 'a');
	return buf;
}

int cg_policy_load(const char *path, struct cg_policy **out, struct cg_diags *d)
{
	struct cg_pos none = {0, 0};
	struct cg_diags local = {0};
	size_t len = 0, cap = 0;
	char msg[128];
	char *buf = NULL, *nb;
	int fd, err = 0;
	ssize_t r;

	*out = NULL;
	if (!d)
		d = &local;
	if (!d->file)
		d->file = path;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		cg_diag_add(d, CG_ERROR, none, "cannot open the policy: %s",
			    errtext(errno, msg, sizeof(msg)));
		goto out;
	}
	/* Read at most one byte past the limit, to tell "too big". */
	for (;;) {
		if (len == cap) {
			cap = cap ? 2 * cap : 64 * 1024;
			if (cap > CG_POLICY_MAX_BYTES + 1)
				cap = CG_POLICY_MAX_BYTES + 1;
			nb = realloc(buf, cap);
			if (!nb) {
				err = -ENOMEM;
				cg_diag_add(d, CG_ERROR, none, "out of memory");
				goto out;
			}
			buf = nb;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			cg_diag_add(d, CG_ERROR, none,
				    "cannot read the policy: %s",
				    errtext(errno, msg, sizeof(msg)));
			goto out;
		}
		if (r == 0)
			break;
		len += r;
		if (len > CG_POLICY_MAX_BYTES) {
			err = -EFBIG;
			cg_diag_add(d, CG_ERROR, none,
				    "the policy is larger than %d MiB, the "
				    "limit; is this the right file?",
				    CG_POLICY_MAX_BYTES >> 20);
			goto out;
		}
	}
	err = cg_policy_parse(path, buf ? buf : "", len, out, d);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	if (d == &local)
		cg_diags_free(&local);
	return err;
}

static void ics_free(struct cg_ics *ics)
{
	free(ics->codes);
	free(ics->allow);
}

void cg_policy_free(struct cg_policy *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n_zones; i++) {
		free(p->zones[i].ifaces);
		free(p->zones[i].vlans);
		free(p->zones[i].nets);
	}
	for (i = 0; i < p->n_flows; i++) {
		free(p->flows[i].from);
		free(p->flows[i].to);
		free(p->flows[i].ports);
		ics_free(&p->flows[i].modbus);
		ics_free(&p->flows[i].s7comm);
		ics_free(&p->flows[i].enip);
	}
	free(p->zones);
	free(p->hosts);
	free(p->flows);
	free(p->file);
	free(p);
}
