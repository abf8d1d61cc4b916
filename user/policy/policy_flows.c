// SPDX-License-Identifier: GPL-2.0
/*
 * The policy parser (policy.c has the overview): flows, their ports, their
 * ICS rules (modbus:, s7comm:, and modbus allow: rules) and their time
 * windows.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "policy_int.h"
#include "enip.h"
#include "modbus_rules.h"

/* ------------------------------------------------------------------ */
/* Flows                                                               */

enum {
	F_NAME,
	F_FROM,
	F_TO,
	F_PROTO,
	F_PORTS,
	F_LOG,
	F_MODBUS,
	F_S7,
	F_VALID,
	F_DENY,
	F_ENIP,
	F_N
};
static const char *const flow_keys[F_N] = {"name",  "from", "to",     "proto",
					   "ports", "log",  "modbus", "s7comm",
					   "valid", "deny", "enip"};

static const char *const proto_names[] = {
	[CG_P_ANY] = "any",   [CG_P_TCP] = "tcp",	[CG_P_UDP] = "udp",
	[CG_P_ICMP] = "icmp", [CG_P_ICMPV6] = "icmpv6",
};

/* "flow 'x'", or "flow #3" when it has no (valid) name. */
const char *flow_label(const struct cg_flow *f, size_t i, char *buf, size_t len)
{
	size_t l = f->name[0] ? strlen(f->name) : 0;

	/* Twice per flow: without snprintf when it fits, as it does. */
	if (l && l + 8 <= len) {
		memcpy(buf, "flow '", 6);
		memcpy(buf + 6, f->name, l);
		memcpy(buf + 6 + l, "'", 2);
	} else if (f->name[0])
		snprintf(buf, len, "flow '%s'", f->name);
	else
		snprintf(buf, len, "flow #%zu", i + 1);
	return buf;
}

/*
 * `from` or `to`: a zone name, a host name or a CIDR, or a list of them.
 * Returns false when any item is bad (reported).
 */
static bool parse_refs(struct pctx *c, cg_node_t *n, const char *side,
		       const char *label, struct cg_ref **out, size_t *nout)
{
	cg_node_t **items, *buf[8];
	struct cg_ref *refs;
	bool ok = true;
	long cnt, i;

	cnt = list_items_buf(c, n, "a zone, host or CIDR, or a list of them",
			     buf, 8, &items);
	if (cnt < 0)
		return false;
	if (cnt == 0) {
		err_at(c, npos(n),
		       "'%s' of %s is empty; expected a zone, host or CIDR, or "
		       "a list of them",
		       side, label);
		return false;
	}
	refs = xcalloc(c, cnt, sizeof(*refs));
	for (i = 0; i < cnt && refs; i++) {
		struct cg_ref *r = &refs[*nout];
		const char *s = scalar(c, items[i], "a zone, host or CIDR");
		const struct name_ent *e;
		const char *hint;

		if (!s) {
			ok = false;
			continue;
		}
		r->pos = npos(items[i]);
		if (!strcmp(s, "self")) {
			r->kind = CG_REF_SELF;
		} else if (looks_like_address(s)) {
			if (!parse_cidr(c, items[i], s, &r->cidr)) {
				ok = false;
				continue;
			}
			r->kind = CG_REF_CIDR;
		} else if ((e = lookup(c, s))) {
			r->kind = e->kind;
			r->index = e->index;
			/* A zone or host with a bad address was reported; do
			 * not judge the flow on what is left of it. */
			if (e->kind == CG_REF_ZONE
				    ? c->zone_flags[e->index] & ZF_BAD_NETS
				    : !c->p->hosts[e->index].addr.family)
				ok = false;
		} else {
			ok = false;
			if (!strcmp(s, "any"))
				err_at(c, r->pos,
				       "unknown zone or host 'any'; to mean "
				       "every address write 0.0.0.0/0 and "
				       "::/0");
			else if ((hint = suggest(c, s)))
				err_at(c, r->pos,
				       "unknown zone or host '%s'; did you "
				       "mean '%s'?",
				       s, hint);
			else
				err_at(c, r->pos,
				       "unknown zone or host '%.63s'", s);
			continue;
		}
		(*nout)++;
	}
	if (items != buf)
		free(items);
	*out = refs;
	return ok && refs;
}

/* One item of `ports`: N, or "LO-HI". */
static bool parse_port(struct pctx *c, cg_node_t *n, struct cg_port_range *r)
{
	const char *s = NULL, *dash;
	unsigned long lo, hi;
	char part[24];
	int e1, e2;

	if (n->type == YAML_SCALAR_NODE && !is_null(n))
		s = scalar(c, n, "a port or a port range");
	else
		expected(c, n, "a port or a port range");
	if (!s)
		return false;
	r->pos = npos(n);
	dash = strchr(s, '-');
	if (!dash || dash == s) {
		e1 = parse_uint(s, false, 65535, &lo);
		if (e1 == -ERANGE) {
			err_at(c, r->pos,
			       "port %.20s is out of range; expected 0..65535",
			       s);
			return false;
		}
		if (e1) {
			err_at(c, r->pos,
			       "invalid port '%.40s'; expected a number "
			       "0..65535 or a range such as \"8000-8010\"",
			       s);
			return false;
		}
		r->lo = r->hi = (uint16_t)lo;
		return true;
	}
	if ((size_t)(dash - s) >= sizeof(part)) {
		e1 = -EINVAL;
	} else {
		memcpy(part, s, dash - s);
		part[dash - s] = '\0';
		e1 = parse_uint(part, false, 65535, &lo);
	}
	e2 = parse_uint(dash + 1, false, 65535, &hi);
	if (e1 == -EINVAL || e2 == -EINVAL) {
		err_at(c, r->pos,
		       "invalid port range '%.40s'; expected LO-HI such as "
		       "\"8000-8010\"",
		       s);
		return false;
	}
	if (e1 || e2) {
		err_at(c, r->pos,
		       "port range %.40s is out of range; expected ports "
		       "0..65535",
		       s);
		return false;
	}
	if (lo > hi) {
		err_at(c, r->pos,
		       "port range %s is reversed; expected LO-HI with LO <= "
		       "HI",
		       s);
		return false;
	}
	r->lo = (uint16_t)lo;
	r->hi = (uint16_t)hi;
	return true;
}

/* "port 80" or "ports 8000-8010". */
static const char *range_text(const struct cg_port_range *r, char *buf,
			      size_t len)
{
	if (r->lo == r->hi)
		snprintf(buf, len, "port %u", r->lo);
	else
		snprintf(buf, len, "ports %u-%u", r->lo, r->hi);
	return buf;
}

static int range_cmp(const void *a, const void *b)
{
	const struct cg_port_range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return pos_cmp(x->pos, y->pos);
}

static void parse_ports(struct pctx *c, struct cg_flow *f, cg_node_t *n,
			const char *label)
{
	struct cg_port_range *sorted;
	cg_node_t **items, *buf[8];
	long cnt, i;

	cnt = list_items_buf(c, n, "a list of ports", buf, 8, &items);
	if (cnt < 0)
		return;
	if (cnt == 0) {
		err_at(c, npos(n),
		       "ports of %s is empty; omit ports to allow every port",
		       label);
		return;
	}
	f->ports = xcalloc(c, cnt, sizeof(*f->ports));
	for (i = 0; i < cnt && f->ports; i++)
		if (parse_port(c, items[i], &f->ports[f->n_ports]))
			f->n_ports++;
	if (items != buf)
		free(items);

	/* A port written twice is harmless but a sign of a slip. */
	if (f->n_ports < 2)
		return;
	sorted = xcalloc(c, f->n_ports, sizeof(*sorted));
	if (!sorted)
		return;
	memcpy(sorted, f->ports, f->n_ports * sizeof(*sorted));
	qsort(sorted, f->n_ports, sizeof(*sorted), range_cmp);
	for (i = 1; i < (long)f->n_ports; i++) {
		const struct cg_port_range *a = &sorted[i - 1], *b = &sorted[i];
		const struct cg_port_range *early, *late;
		char t1[32], t2[32];

		if (b->lo > a->hi)
			continue;
		early = pos_cmp(a->pos, b->pos) < 0 ? a : b;
		late = early == a ? b : a;
		warn_at(c, late->pos, "%s overlaps %s (%d:%d) in %s",
			range_text(late, t1, sizeof(t1)),
			range_text(early, t2, sizeof(t2)), early->pos.line,
			early->pos.col, label);
	}
	free(sorted);
}

/* ------------------------------------------------------------------ */
/* modbus: {allow: [...]} (policy.h, struct cg_ics_allow)              */

#define FUNCTIONS_WANTED                                                       \
	"class names (read, write, diagnostics, program, other) or function "  \
	"codes 0..255"

static void parse_allow_functions(struct pctx *c, cg_node_t *n,
				  struct cg_ics_allow *a)
{
	cg_node_t **items, *first_code[256] = {0},
			   *first_class[CG_MB_CLASSES] = {0};
	unsigned long v;
	long cnt, i;
	unsigned int k;

	cnt = list_items(c, n, "a list of " FUNCTIONS_WANTED, &items);
	if (cnt < 0)
		return;
	if (cnt == 0)
		err_at(c, npos(n), "modbus rule has no functions; expected %s",
		       FUNCTIONS_WANTED);
	for (i = 0; i < cnt; i++) {
		const char *s =
			items[i]->type == YAML_SCALAR_NODE && !is_null(items[i])
				? sval(items[i])
				: NULL;

		if (s && *s >= '0' && *s <= '9') {
			if (!get_int(c, items[i], "function code", 0, 255, true,
				     &v))
				continue;
			if (first_code[v]) {
				err_at(c, npos(items[i]),
				       "duplicate modbus function code %lu "
				       "(first at %d:%d)",
				       v, npos(first_code[v]).line,
				       npos(first_code[v]).col);
				continue;
			}
			first_code[v] = items[i];
			cg_bit_set(a->named, (unsigned int)v);
			continue;
		}
		for (k = 0; s && k < CG_MB_CLASSES; k++)
			if (!strcmp(s, cg_mb_class_names[k]))
				break;
		if (!s) {
			expected(c, items[i], FUNCTIONS_WANTED);
			continue;
		}
		if (k == CG_MB_CLASSES) {
			char b[64];

			err_at(c, npos(items[i]),
			       "unknown modbus function class %s; expected %s",
			       describe(items[i], b, sizeof(b)),
			       FUNCTIONS_WANTED);
			continue;
		}
		if (first_class[k]) {
			err_at(c, npos(items[i]),
			       "duplicate modbus function class %s (first at "
			       "%d:%d)",
			       s, npos(first_class[k]).line,
			       npos(first_class[k]).col);
			continue;
		}
		first_class[k] = items[i];
		a->classes |= (uint8_t)(1u << k);
	}
	/* A code its classes already hold says nothing more. */
	for (k = 0; k < 256; k++) {
		enum cg_mb_class cl = cg_mb_class_of((uint8_t)k, 14);

		if (first_code[k] && k != 43 && (a->classes & (1u << cl)))
			warn_at(c, npos(first_code[k]),
				"modbus function code %u is in class %s, "
				"which this rule names already",
				k, cg_mb_class_names[cl]);
	}
	free(items);
	cg_allow_finish(a);
}

static void parse_allow_units(struct pctx *c, cg_node_t *n,
			      struct cg_ics_allow *a)
{
	cg_node_t **items, *first[256] = {0};
	unsigned long v;
	long cnt, i;

	cnt = list_items(c, n, "a list of unit ids 0..255", &items);
	if (cnt < 0)
		return;
	if (cnt == 0) {
		err_at(c, npos(n),
		       "modbus rule has an empty units list; expected unit "
		       "ids 0..255, or no units key for every unit");
		return;
	}
	a->has_units = true;
	for (i = 0; i < cnt; i++) {
		if (!get_int(c, items[i], "unit id", 0, 255, true, &v))
			continue;
		if (first[v]) {
			err_at(c, npos(items[i]),
			       "duplicate modbus unit id %lu (first at %d:%d)",
			       v, npos(first[v]).line, npos(first[v]).col);
			continue;
		}
		first[v] = items[i];
		cg_bit_set(a->units, (unsigned int)v);
	}
	free(items);
}

/* One address or "LO-HI" range, 0..65535. */
static bool parse_address(struct pctx *c, cg_node_t *n, struct cg_addr_range *r)
{
	const char *s = NULL, *dash;
	unsigned long lo, hi;
	char part[24];
	int e1, e2;

	if (n->type == YAML_SCALAR_NODE && !is_null(n))
		s = scalar(c, n, "an address or an address range");
	else
		expected(c, n, "an address or an address range");
	if (!s)
		return false;
	r->pos = npos(n);
	dash = strchr(s, '-');
	if (!dash || dash == s) {
		e1 = parse_uint(s, true, 65535, &lo);
		if (e1 == -ERANGE) {
			err_at(c, r->pos,
			       "modbus address %.20s is out of range; expected "
			       "0..65535",
			       s);
			return false;
		}
		if (e1) {
			err_at(c, r->pos,
			       "invalid modbus address '%.40s'; expected a "
			       "number 0..65535 or a range such as 100-119",
			       s);
			return false;
		}
		r->lo = r->hi = (uint16_t)lo;
		return true;
	}
	if ((size_t)(dash - s) >= sizeof(part)) {
		e1 = -EINVAL;
	} else {
		memcpy(part, s, dash - s);
		part[dash - s] = '\0';
		e1 = parse_uint(part, true, 65535, &lo);
	}
	e2 = parse_uint(dash + 1, true, 65535, &hi);
	if (e1 == -EINVAL || e2 == -EINVAL) {
		err_at(c, r->pos,
		       "invalid modbus address range '%.40s'; expected LO-HI "
		       "such as 100-119",
		       s);
		return false;
	}
	if (e1 || e2) {
		err_at(c, r->pos,
		       "modbus address range %.40s is out of range; expected "
		       "addresses 0..65535",
		       s);
		return false;
	}
	if (lo > hi) {
		err_at(c, r->pos,
		       "modbus address range %s is reversed; expected LO-HI "
		       "with LO <= HI",
		       s);
		return false;
	}
	r->lo = (uint16_t)lo;
	r->hi = (uint16_t)hi;
	return true;
}

static void parse_allow_addresses(struct pctx *c, cg_node_t *n,
				  struct cg_ics_allow *a)
{
	cg_node_t **items;
	long cnt, i;

	cnt = list_items(c, n, "a list of addresses or address ranges", &items);
	if (cnt < 0)
		return;
	if (cnt == 0) {
		err_at(c, npos(n),
		       "modbus rule has an empty addresses list; expected "
		       "addresses or ranges such as 100-119, or no addresses "
		       "key for every address");
		free(items);
		return;
	}
	if (cnt > CG_ALLOW_RANGES) {
		err_at(c, npos(items[CG_ALLOW_RANGES]),
		       "modbus rule has %ld address ranges; the limit is %d "
		       "per rule (write another rule for the rest)",
		       cnt, CG_ALLOW_RANGES);
		cnt = CG_ALLOW_RANGES;
	}
	for (i = 0; i < cnt; i++)
		if (parse_address(c, items[i], &a->ranges[a->n_ranges]))
			a->n_ranges++;
	/* A rule whose every range was wrong must not admit every address. */
	if (!a->n_ranges)
		a->ranges[a->n_ranges++] = (struct cg_addr_range){1, 0, {0}};
	free(items);
}

static void parse_allow_rule(struct pctx *c, cg_node_t *n,
			     struct cg_ics_allow *a)
{
	static const char *const keys[] = {"functions", "units", "addresses"};
	cg_node_t *v[3];
	struct cg_pos kp[3];

	a->pos = npos(n);
	a->functions_pos = a->pos;
	if (n->type != YAML_MAPPING_NODE) {
		expected(c, n,
			 "a modbus rule (a mapping with functions, and "
			 "optionally units and addresses)");
		return;
	}
	map_fields(c, n, keys, 3, "in a modbus rule", v, kp);
	if (!v[0]) {
		err_at(c, a->pos, "modbus rule has no functions; expected %s",
		       FUNCTIONS_WANTED);
	} else {
		a->functions_pos = npos(v[0]);
		parse_allow_functions(c, v[0], a);
	}
	if (v[1])
		parse_allow_units(c, v[1], a);
	if (v[2])
		parse_allow_addresses(c, v[2], a);
}

/*
 * `PROTO: {allow: [RULE, ...]}`, at most CG_ALLOW_RULES rules, each read
 * by `rule` (modbus and enip rules differ in their keys, not in the list).
 */
static void parse_allow_list(struct pctx *c, cg_node_t *n, struct cg_ics *ics,
			     const char *proto, const char *example,
			     void (*rule)(struct pctx *, cg_node_t *,
					  struct cg_ics_allow *))
{
	static const char *const keys[] = {"allow"};
	cg_node_t *v[1], **items;
	struct cg_pos kp[1];
	char where[32], what[48];
	long cnt, i;

	ics->mode = CG_ICS_ALLOW;
	snprintf(where, sizeof(where), "in %s", proto);
	snprintf(what, sizeof(what), "a list of %s rules", proto);
	map_fields(c, n, keys, 1, where, v, kp);
	if (!v[0]) {
		err_at(c, npos(n),
		       "%s mapping has no allow; expected allow: a list of "
		       "rules",
		       proto);
		return;
	}
	if (v[0]->type != YAML_SEQUENCE_NODE) {
		expected(c, v[0], what);
		return;
	}
	cnt = list_items(c, v[0], what, &items);
	if (cnt < 0)
		return;
	if (cnt == 0) {
		err_at(c, npos(v[0]),
		       "%s allow has no rules; expected at least one rule "
		       "such as %s",
		       proto, example);
		free(items);
		return;
	}
	if (cnt > CG_ALLOW_RULES) {
		err_at(c, npos(items[CG_ALLOW_RULES]),
		       "%s allow has %ld rules; the limit is %d per flow",
		       proto, cnt, CG_ALLOW_RULES);
		cnt = CG_ALLOW_RULES;
	}
	ics->allow = xcalloc(c, cnt, sizeof(*ics->allow));
	for (i = 0; i < cnt && ics->allow; i++)
		rule(c, items[i], &ics->allow[ics->n_allow++]);
	free(items);
}

/* `modbus:` or `s7comm:`: any, read-only, or a list of function codes. */
static void parse_ics(struct pctx *c, cg_node_t *n, struct cg_pos kpos,
		      const char *proto, struct cg_ics *ics)
{
	cg_node_t **items, *first[256] = {0};
	unsigned long v;
	long cnt, i;

	ics->pos = kpos;
	if (n->type == YAML_MAPPING_NODE && !strcmp(proto, "modbus")) {
		parse_allow_list(c, n, ics, "modbus", "{functions: [read]}",
				 parse_allow_rule);
		return;
	}
	if (n->type == YAML_MAPPING_NODE) {
		err_at(c, npos(n),
		       "expected any, read-only or a list of function codes, "
		       "got a mapping (allow: rules are for modbus)");
		return;
	}
	if (n->type == YAML_SCALAR_NODE && !is_null(n)) {
		const char *s = sval(n);

		if (!strcmp(s, "any")) {
			ics->mode = CG_ICS_ANY;
			return;
		}
		if (!strcmp(s, "read-only")) {
			ics->mode = CG_ICS_READ_ONLY;
			return;
		}
		if (!is_plain(n) || parse_uint(s, true, ULONG_MAX, &v)) {
			err_at(c, npos(n),
			       "unknown %s value '%.40s'; expected any, "
			       "read-only or a list of function codes",
			       proto, s);
			return;
		}
	}
	cnt = list_items(c, n, "any, read-only or a list of function codes",
			 &items);
	if (cnt < 0)
		return;
	if (cnt == 0) {
		err_at(c, npos(n),
		       "%s has no function codes; expected any, read-only or a "
		       "non-empty list of function codes",
		       proto);
		return;
	}
	ics->mode = CG_ICS_LIST;
	ics->codes = xcalloc(c, cnt, sizeof(*ics->codes));
	for (i = 0; i < cnt && ics->codes; i++) {
		if (!get_int(c, items[i], "function code", 0, 255, true, &v))
			continue;
		if (first[v]) {
			err_at(c, npos(items[i]),
			       "duplicate %s function code %lu (first at "
			       "%d:%d)",
			       proto, v, npos(first[v]).line,
			       npos(first[v]).col);
			continue;
		}
		first[v] = items[i];
		ics->codes[ics->n_codes++] = (uint8_t)v;
	}
	free(items);
}

#define SERVICES_WANTED                                                        \
	"CIP service codes 0..255 or the classes read, write, control, "       \
	"connection, other"

/* An enip rule's `services`: codes (bits of named), classes (bits). */
static void parse_enip_services(struct pctx *c, cg_node_t *n,
				struct cg_ics_allow *a)
{
	cg_node_t **items, *first_code[256] = {0},
			   *first_class[CG_CIP_CLASSES] = {0};
	unsigned long v;
	long cnt, i;
	unsigned int k;

	cnt = list_items(c, n, "a list of " SERVICES_WANTED, &items);
	if (cnt < 0)
		return;
	if (cnt == 0)
		err_at(c, npos(n), "enip rule has no services; expected %s",
		       SERVICES_WANTED);
	for (i = 0; i < cnt; i++) {
		const char *s =
			items[i]->type == YAML_SCALAR_NODE && !is_null(items[i])
				? sval(items[i])
				: NULL;

		if (s && *s >= '0' && *s <= '9') {
			if (!get_int(c, items[i], "CIP service", 0, 255, true,
				     &v))
				continue;
			if (first_code[v]) {
				err_at(c, npos(items[i]),
				       "duplicate enip service %#lx (first at "
				       "%d:%d)",
				       v, npos(first_code[v]).line,
				       npos(first_code[v]).col);
				continue;
			}
			first_code[v] = items[i];
			cg_bit_set(a->named, (unsigned int)v);
			cg_bit_set(a->codes, (unsigned int)v);
			continue;
		}
		if (!s) {
			expected(c, items[i], SERVICES_WANTED);
			continue;
		}
		for (k = 0; k < CG_CIP_CLASSES; k++)
			if (!strcmp(s, cg_cip_class_names[k]))
				break;
		if (k == CG_CIP_CLASSES) {
			char b[64];

			err_at(c, npos(items[i]),
			       "unknown enip service class %s; expected %s",
			       describe(items[i], b, sizeof(b)),
			       SERVICES_WANTED);
			continue;
		}
		if (first_class[k]) {
			err_at(c, npos(items[i]),
			       "duplicate enip service class %s (first at "
			       "%d:%d)",
			       s, npos(first_class[k]).line,
			       npos(first_class[k]).col);
			continue;
		}
		first_class[k] = items[i];
		a->classes |= (uint8_t)(1u << k);
	}
	free(items);
}

/* An enip rule's `classes`: object class ids, kept as ranges lo == hi. */
static void parse_enip_classes(struct pctx *c, cg_node_t *n,
			       struct cg_ics_allow *a)
{
	cg_node_t **items;
	unsigned long v;
	long cnt, i;

	cnt = list_items(c, n, "a list of object class ids", &items);
	if (cnt < 0)
		return;
	if (cnt == 0) {
		err_at(c, npos(n),
		       "enip rule has an empty classes list; expected object "
		       "class ids such as 0x6B, or no classes key for every "
		       "class");
		free(items);
		return;
	}
	if (cnt > CG_ALLOW_RANGES) {
		err_at(c, npos(items[CG_ALLOW_RANGES]),
		       "enip rule has %ld classes; the limit is %d per rule "
		       "(write another rule for the rest)",
		       cnt, CG_ALLOW_RANGES);
		cnt = CG_ALLOW_RANGES;
	}
	for (i = 0; i < cnt; i++) {
		if (!get_int(c, items[i], "object class", 0, 65535, true, &v))
			continue;
		a->ranges[a->n_ranges].lo = a->ranges[a->n_ranges].hi =
			(uint16_t)v;
		a->ranges[a->n_ranges++].pos = npos(items[i]);
	}
	/* A rule whose every class was wrong must not admit every class. */
	if (!a->n_ranges)
		a->ranges[a->n_ranges++] = (struct cg_addr_range){1, 0, {0}};
	free(items);
}

static void parse_enip_rule(struct pctx *c, cg_node_t *n,
			    struct cg_ics_allow *a)
{
	static const char *const keys[] = {"services", "classes"};
	cg_node_t *v[2];
	struct cg_pos kp[2];

	a->pos = npos(n);
	a->functions_pos = a->pos;
	if (n->type != YAML_MAPPING_NODE) {
		expected(c, n,
			 "an enip rule (a mapping with services, and "
			 "optionally classes)");
		return;
	}
	map_fields(c, n, keys, 2, "in an enip rule", v, kp);
	if (!v[0]) {
		err_at(c, a->pos, "enip rule has no services; expected %s",
		       SERVICES_WANTED);
	} else {
		a->functions_pos = npos(v[0]);
		parse_enip_services(c, v[0], a);
	}
	if (v[1])
		parse_enip_classes(c, v[1], a);
}

/*
 * `enip:`: any, read-only, or `allow:` rules. EtherNet/IP has no list of
 * codes: a CIP service means different things on different objects.
 */
static void parse_enip(struct pctx *c, cg_node_t *n, struct cg_pos kpos,
		       struct cg_ics *ics)
{
	const char *s = n->type == YAML_SCALAR_NODE ? sval(n) : NULL;

	ics->pos = kpos;
	if (n->type == YAML_MAPPING_NODE) {
		parse_allow_list(c, n, ics, "enip", "{services: [read]}",
				 parse_enip_rule);
		return;
	}
	if (s && !strcmp(s, "any")) {
		ics->mode = CG_ICS_ANY;
		return;
	}
	if (s && !strcmp(s, "read-only")) {
		ics->mode = CG_ICS_READ_ONLY;
		return;
	}
	if (s && !is_null(n))
		err_at(c, npos(n),
		       "unknown enip value '%.40s'; expected any, read-only or "
		       "allow: rules",
		       s);
	else if (s)
		err_at(c, npos(n),
		       "enip has no value; expected any, read-only or allow: "
		       "rules");
	else
		err_at(c, npos(n),
		       "enip takes any, read-only or allow: rules, not a list "
		       "of services (a CIP service means different things on "
		       "different objects)");
}

/*
 * `valid: {from: TIME, until: TIME}`, at least one of the two; until after
 * from. Times are RFC 3339 with an offset (cg_time_parse).
 */
static void parse_valid(struct pctx *c, cg_node_t *n, struct cg_pos kpos,
			const char *label, struct cg_window *w)
{
	static const char *const keys[] = {"from", "until"};
	cg_node_t *v[2];
	struct cg_pos kp[2];
	bool ok = true;
	int i;

	w->pos = kpos;
	if (n->type != YAML_MAPPING_NODE) {
		expected(c, n, "a window (a mapping with from and/or until)");
		return;
	}
	map_fields(c, n, keys, 2, "in valid", v, kp);
	if (!v[0] && !v[1]) {
		err_at(c, npos(n),
		       "valid in %s has neither from nor until; expected at "
		       "least one of them",
		       label);
		return;
	}
	for (i = 0; i < 2; i++) {
		const char *s, *why;
		int64_t t;

		if (!v[i])
			continue;
		s = scalar(c, v[i], "an RFC 3339 time");
		if (!s) {
			ok = false;
			continue;
		}
		if (cg_time_parse(s, &t, &why)) {
			err_at(c, npos(v[i]), "bad %s time '%.40s' in %s: %s",
			       keys[i], s, label, why);
			ok = false;
			continue;
		}
		if (t >= CG_TIME_LIMIT) {
			char lim[32];

			cg_time_format(CG_TIME_LIMIT, lim, sizeof(lim));
			err_at(c, npos(v[i]),
			       "%s time '%.40s' in %s is not before %s, the "
			       "end of the gate's clock (windows are kept in "
			       "64-bit nanoseconds); write an earlier time%s",
			       keys[i], s, label, lim,
			       i ? ", or leave until out for a window that "
				   "does not end"
				 : "");
			ok = false;
			continue;
		}
		if (i == 0) {
			w->has_from = true;
			w->from = t;
		} else {
			w->has_until = true;
			w->until = t;
			w->until_pos = npos(v[i]);
		}
	}
	if (ok && w->has_from && w->has_until && w->until <= w->from) {
		char a[32], b[32];

		cg_time_format(w->from, a, sizeof(a));
		cg_time_format(w->until, b, sizeof(b));
		err_at(c, w->until_pos,
		       "until (%s) is not after from (%s) in %s; the window "
		       "would never open",
		       b, a, label);
		ok = false;
	}
	w->timed = ok;
}

void parse_flow(struct pctx *c, size_t idx, cg_node_t *n, struct flow_pos *fp)
{
	struct cg_flow *f = &c->p->flows[idx];
	struct flow_aux *aux = &c->aux[idx];
	cg_node_t *v[F_N];
	struct cg_pos kp[F_N];
	char label[CG_NAME_MAX + 16];
	const char *s;
	size_t i;

	f->pos = npos(n);
	fp->name = fp->from = fp->to = fp->ports = f->pos;
	aux->from_bad = aux->to_bad = aux->proto_bad = true;
	if (n->type != YAML_MAPPING_NODE) {
		expected(c, n,
			 "a flow (a mapping with name, from, to and proto)");
		return;
	}
	map_fields(c, n, flow_keys, F_N, "in flow", v, kp);

	if (!v[F_NAME])
		err_at(c, f->pos,
		       "missing 'name' in flow; every flow needs a unique "
		       "name");
	else if ((s = scalar(c, v[F_NAME], "a flow name")))
		check_name(c, v[F_NAME], s, "flow", f->name);
	if (v[F_NAME])
		fp->name = npos(v[F_NAME]);
	flow_label(f, idx, label, sizeof(label));

	if (!v[F_FROM])
		err_at(c, f->pos,
		       "missing 'from' in %s; expected a zone, host or CIDR, "
		       "or a list of them",
		       label);
	else
		aux->from_bad = !parse_refs(c, v[F_FROM], "from", label,
					    &f->from, &f->n_from);
	if (!v[F_TO])
		err_at(c, f->pos,
		       "missing 'to' in %s; expected a zone, host or CIDR, or "
		       "a list of them",
		       label);
	else
		aux->to_bad =
			!parse_refs(c, v[F_TO], "to", label, &f->to, &f->n_to);
	if (v[F_FROM])
		fp->from = npos(v[F_FROM]);
	if (v[F_TO])
		fp->to = npos(v[F_TO]);

	f->proto_pos = f->pos;
	if (!v[F_PROTO]) {
		err_at(c, f->pos,
		       "missing 'proto' in %s; expected one of: tcp, udp, "
		       "icmp, icmpv6, any",
		       label);
	} else if ((s = scalar(c, v[F_PROTO], "a protocol"))) {
		f->proto_pos = npos(v[F_PROTO]);
		for (i = 0; i < sizeof(proto_names) / sizeof(*proto_names); i++)
			if (!strcmp(s, proto_names[i]))
				break;
		if (i < sizeof(proto_names) / sizeof(*proto_names)) {
			f->proto = (enum cg_proto)i;
			aux->proto_bad = false;
		} else {
			err_at(c, f->proto_pos,
			       "unknown proto '%.40s'; expected one of: tcp, "
			       "udp, icmp, icmpv6, any",
			       s);
		}
	}

	if (v[F_PORTS]) {
		fp->ports = kp[F_PORTS];
		parse_ports(c, f, v[F_PORTS], label);
	}
	if (v[F_LOG])
		get_bool(c, v[F_LOG], "true or false for log", &f->log);
	if (v[F_MODBUS])
		parse_ics(c, v[F_MODBUS], kp[F_MODBUS], "modbus", &f->modbus);
	if (v[F_S7])
		parse_ics(c, v[F_S7], kp[F_S7], "s7comm", &f->s7comm);
	if (v[F_ENIP])
		parse_enip(c, v[F_ENIP], kp[F_ENIP], &f->enip);
	if (v[F_VALID])
		parse_valid(c, v[F_VALID], kp[F_VALID], label, &f->valid);
	if (v[F_DENY] && (s = scalar(c, v[F_DENY], "drop or reset"))) {
		f->deny_pos = npos(v[F_DENY]);
		if (!strcmp(s, "reset"))
			f->deny_reset = true;
		else if (strcmp(s, "drop"))
			err_at(c, f->deny_pos,
			       "unknown deny '%.40s' in %s; expected drop or "
			       "reset",
			       s, label);
	}
}
