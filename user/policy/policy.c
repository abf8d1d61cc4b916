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
 *     second document. Syntax errors surface here first.
 *  2. The document API (yaml_parser_load) gives a tree whose nodes carry
 *     their marks; parse_*() walk it, check every value's type and form
 *     where it stands, and fill struct cg_policy. A bad item is reported
 *     and left out; the walk goes on so that one run reports everything.
 *  3. check_*(): the semantic checks that need the whole policy (pf's
 *     rule_consistent): name clashes, (interface, VLAN) claimed twice,
 *     overlapping zone networks, flows that can never match.
 *
 * libyaml's marks are 0-based; ours (struct cg_pos) are 1-based.
 * Diagnostics are sorted by position before returning.
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
#include "enip.h"
#include "modbus_rules.h"

/* Diagnostics kept in memory; the rest are only counted. */
#define CG_DIAGS_KEEP 1000

/* ------------------------------------------------------------------ */
/* Diagnostics                                                         */

/*
 * The code point if `s` starts with a bidirectional-override character in
 * UTF-8 (U+202A-U+202E embeddings and overrides, U+2066-U+2069 isolates),
 * else 0.
 */
static unsigned int bidi_override(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	if (u[0] != 0xe2)
		return 0;
	if (u[1] == 0x80 && u[2] >= 0xaa && u[2] <= 0xae)
		return 0x2000 + (u[2] - 0x80);
	if (u[1] == 0x81 && u[2] >= 0xa6 && u[2] <= 0xa9)
		return 0x2040 + (u[2] - 0x80);
	return 0;
}

static void diag_v(struct cg_diags *d, enum cg_severity sev, struct cg_pos pos,
		   const char *fmt, va_list ap)
{
	struct cg_diag *items;
	char *msg, *s;

	if (sev == CG_ERROR)
		d->n_errors++;
	else
		d->n_warnings++;
	if (d->n >= CG_DIAGS_KEEP)
		return;
	if (vasprintf(&msg, fmt, ap) < 0)
		return;
	/*
	 * Values quoted from the file may hold escaped control characters,
	 * or bidirectional overrides that would reorder what a terminal
	 * shows.
	 */
	for (s = msg; *s; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
		else if (bidi_override(s))
			s[0] = s[1] = s[2] = '?';
	}
	/* Grow by doubling: capacity is the next power of two >= 8. */
	if (d->n == 0 || (d->n >= 8 && !(d->n & (d->n - 1)))) {
		size_t cap = d->n < 8 ? 8 : 2 * d->n;

		items = realloc(d->items, cap * sizeof(*items));
		if (!items) {
			free(msg);
			return;
		}
		d->items = items;
	}
	d->items[d->n].severity = sev;
	d->items[d->n].pos = pos;
	d->items[d->n].msg = msg;
	d->n++;
}

void cg_diag_add(struct cg_diags *d, enum cg_severity sev, struct cg_pos pos,
		 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_v(d, sev, pos, fmt, ap);
	va_end(ap);
}

void cg_diags_print(const struct cg_diags *d, FILE *out)
{
	const char *file = d->file ? d->file : "<policy>";
	size_t i, shown_total = d->n_errors + d->n_warnings;

	for (i = 0; i < d->n; i++) {
		const struct cg_diag *g = &d->items[i];
		const char *sev = g->severity == CG_ERROR ? "error" : "warning";

		if (g->pos.line > 0)
			fprintf(out, "%s:%d:%d: %s: %s\n", file, g->pos.line,
				g->pos.col, sev, g->msg);
		else
			fprintf(out, "%s: %s: %s\n", file, sev, g->msg);
	}
	if (shown_total > d->n)
		fprintf(out,
			"%s: note: %zu more errors and warnings not shown\n",
			file, shown_total - d->n);
}

void cg_diags_free(struct cg_diags *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->n; i++)
		free(d->items[i].msg);
	free(d->items);
	d->items = NULL;
	d->n = d->n_errors = d->n_warnings = 0;
}

static int pos_cmp(struct cg_pos a, struct cg_pos b)
{
	if (a.line != b.line)
		return a.line < b.line ? -1 : 1;
	if (a.col != b.col)
		return a.col < b.col ? -1 : 1;
	return 0;
}

/* Stable insertion sort of d->items[from..] by position: at most
 * CG_DIAGS_KEEP items, most of them in order already. */
static void diags_sort(struct cg_diags *d, size_t from)
{
	size_t i, j;

	for (i = from + 1; i < d->n; i++) {
		struct cg_diag t = d->items[i];

		for (j = i; j > from && pos_cmp(d->items[j - 1].pos, t.pos) > 0;
		     j--)
			d->items[j] = d->items[j - 1];
		d->items[j] = t;
	}
}

/* ------------------------------------------------------------------ */
/* The parser context                                                  */

/* Flags per flow for the semantic pass: parts that already failed are
 * not checked again, so that one mistake gives one message. */
struct flow_aux {
	bool from_bad;
	bool to_bad;
	bool proto_bad;
};

/* A zone or host name, for resolving flow references. */
struct name_ent {
	const char *name;      /* the YAML scalar; lives as long as the doc */
	enum cg_ref_kind kind; /* CG_REF_ZONE or CG_REF_HOST */
	size_t index;
	struct cg_pos pos;
};

struct pctx {
	struct cg_diags *d;
	const char *buf;
	size_t len;
	yaml_document_t doc;
	bool have_doc;
	struct cg_policy *p;
	struct flow_aux *aux;	/* p->n_flows entries */
	uint8_t *zone_flags;	/* p->n_zones entries of ZF_* */
	size_t n_suggest;	/* "did you mean" hints computed */
	struct name_ent *names; /* sorted by name */
	size_t n_names;
	bool oom;
};

/* What the semantic pass must know of a zone's mistakes, so that one
 * mistake gives one message. */
#define ZF_BAD_NETS 1u /* a network was bad (reported) */
#define ZF_VLANS 2u    /* `vlans` was written, even if no id in it was valid */

/* One key: value pair of a mapping. */
struct kv {
	yaml_node_t *key;
	yaml_node_t *val;
	const char *name;
	size_t seq;
};

static struct cg_pos npos(const yaml_node_t *n)
{
	return (struct cg_pos){(int)n->start_mark.line + 1,
			       (int)n->start_mark.column + 1};
}

static struct cg_pos mpos(yaml_mark_t m)
{
	return (struct cg_pos){(int)m.line + 1, (int)m.column + 1};
}

__attribute__((format(printf, 3, 4))) static void
err_at(struct pctx *c, struct cg_pos pos, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_v(c->d, CG_ERROR, pos, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 3, 4))) static void
warn_at(struct pctx *c, struct cg_pos pos, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_v(c->d, CG_WARNING, pos, fmt, ap);
	va_end(ap);
}

static void *xcalloc(struct pctx *c, size_t n, size_t size)
{
	void *p;

	if (n == 0)
		return NULL;
	p = calloc(n, size);
	if (!p && !c->oom) {
		c->oom = true;
		err_at(c, (struct cg_pos){0, 0}, "out of memory");
	}
	return p;
}

static yaml_node_t *node(struct pctx *c, int id)
{
	return yaml_document_get_node(&c->doc, id);
}

static const char *sval(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static bool is_plain(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE &&
	       n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* A plain empty scalar, `~` or `null`: YAML's null. */
static bool is_null(const yaml_node_t *n)
{
	const char *s;

	if (!is_plain(n))
		return false;
	s = sval(n);
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") ||
	       !strcmp(s, "Null") || !strcmp(s, "NULL");
}

/* What a node is, for "expected X, got Y" messages. */
static const char *describe(const yaml_node_t *n, char *buf, size_t len)
{
	size_t l;

	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_SCALAR_NODE:
		if (is_null(n))
			return "nothing";
		l = n->data.scalar.length;
		snprintf(buf, len,
			 is_plain(n) ? "'%.40s%s'" : "the string '%.40s%s'",
			 sval(n), l > 40 ? "..." : "");
		return buf;
	default:
		return "nothing";
	}
}

static void expected(struct pctx *c, const yaml_node_t *n, const char *what)
{
	char b[64];

	err_at(c, npos(n), "expected %s, got %s", what,
	       describe(n, b, sizeof(b)));
}

/* The text of a scalar, or NULL (reported) when n is not a scalar or
 * holds a NUL character. */
static const char *scalar(struct pctx *c, const yaml_node_t *n,
			  const char *what)
{
	if (n->type != YAML_SCALAR_NODE) {
		expected(c, n, what);
		return NULL;
	}
	if (strlen(sval(n)) != n->data.scalar.length) {
		err_at(c, npos(n),
		       "expected %s, got a string with a NUL character", what);
		return NULL;
	}
	return sval(n);
}

/*
 * A non-negative integer: decimal without leading zeros, or 0x hex when
 * allowed. Returns 0, -EINVAL (not a number) or -ERANGE (above max).
 */
static int parse_uint(const char *s, bool hex, unsigned long max,
		      unsigned long *out)
{
	unsigned long v = 0;
	int base = 10, digits = 0;

	if (hex && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	} else if (s[0] == '0' && s[1]) {
		return -EINVAL;
	}
	for (; *s; s++, digits++) {
		int dv;

		if (*s >= '0' && *s <= '9')
			dv = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			dv = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			dv = *s - 'A' + 10;
		else
			return -EINVAL;
		if (v > (ULONG_MAX - dv) / base)
			v = ULONG_MAX;
		else
			v = v * base + dv;
	}
	if (!digits)
		return -EINVAL;
	*out = v;
	return v > max ? -ERANGE : 0;
}

/*
 * An integer value lo..hi written as a plain YAML integer. `what` names
 * the value ("vlan id"). Returns true and sets *out, or reports.
 */
static bool get_int(struct pctx *c, const yaml_node_t *n, const char *what,
		    unsigned long lo, unsigned long hi, bool hex,
		    unsigned long *out)
{
	char w[96];
	unsigned long v;
	int r;

	snprintf(w, sizeof(w), "an integer %s %lu..%lu", what, lo, hi);
	if (n->type != YAML_SCALAR_NODE || is_null(n)) {
		expected(c, n, w);
		return false;
	}
	if (!is_plain(n)) {
		err_at(c, npos(n),
		       "expected %s, got the string '%.40s'; write numbers "
		       "without quotes",
		       w, sval(n));
		return false;
	}
	r = parse_uint(sval(n), hex, hi, &v);
	if (r == -EINVAL) {
		expected(c, n, w);
		return false;
	}
	if (r == -ERANGE || v < lo) {
		err_at(c, npos(n),
		       "%s %.40s is out of range; expected %lu..%lu", what,
		       sval(n), lo, hi);
		return false;
	}
	*out = v;
	return true;
}

static bool get_bool(struct pctx *c, const yaml_node_t *n, const char *what,
		     bool *out)
{
	const char *s = is_plain(n) ? sval(n) : NULL;

	if (s &&
	    (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))) {
		*out = true;
		return true;
	}
	if (s && (!strcmp(s, "false") || !strcmp(s, "False") ||
		  !strcmp(s, "FALSE"))) {
		*out = false;
		return true;
	}
	expected(c, n, what);
	return false;
}

/*
 * The items of a list. A single scalar stands for a list of one item; null
 * is an empty list. A mapping is reported (returns -1). *items is
 * malloc'ed, or NULL when there are none.
 */
static long list_items(struct pctx *c, yaml_node_t *n, const char *what,
		       yaml_node_t ***items)
{
	yaml_node_t **v;
	yaml_node_item_t *it;
	long i = 0;

	*items = NULL;
	if (n->type == YAML_MAPPING_NODE) {
		expected(c, n, what);
		return -1;
	}
	if (n->type == YAML_SCALAR_NODE) {
		if (is_null(n))
			return 0;
		v = xcalloc(c, 1, sizeof(*v));
		if (!v)
			return -1;
		v[0] = n;
		*items = v;
		return 1;
	}
	if (n->data.sequence.items.top == n->data.sequence.items.start)
		return 0;
	v = xcalloc(c,
		    n->data.sequence.items.top - n->data.sequence.items.start,
		    sizeof(*v));
	if (!v)
		return -1;
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++)
		v[i++] = node(c, *it);
	*items = v;
	return i;
}

static int kv_cmp(const void *a, const void *b)
{
	const struct kv *x = a, *y = b;
	int r = strcmp(x->name, y->name);

	if (r)
		return r;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * The pairs of a mapping in file order, without those whose key is not a
 * scalar or repeats an earlier key (both reported). Returns the count;
 * *out is malloc'ed (NULL when empty).
 */
static size_t map_pairs(struct pctx *c, yaml_node_t *map, struct kv **out)
{
	yaml_node_pair_t *pr;
	struct kv *v, *sorted;
	size_t n = map->data.mapping.pairs.top - map->data.mapping.pairs.start;
	size_t m = 0, i, k;

	*out = NULL;
	v = xcalloc(c, n, sizeof(*v));
	if (!v)
		return 0;
	for (pr = map->data.mapping.pairs.start;
	     pr < map->data.mapping.pairs.top; pr++) {
		yaml_node_t *key = node(c, pr->key);
		const char *s = scalar(c, key, "a key name");

		if (!s)
			continue;
		v[m] = (struct kv){key, node(c, pr->value), s, m};
		m++;
	}
	sorted = xcalloc(c, m, sizeof(*sorted));
	if (!sorted) {
		free(v);
		return 0;
	}
	memcpy(sorted, v, m * sizeof(*v));
	qsort(sorted, m, sizeof(*sorted), kv_cmp);
	for (i = 1, k = 0; i < m; i++) {
		if (strcmp(sorted[i].name, sorted[k].name)) {
			k = i;
			continue;
		}
		err_at(c, npos(sorted[i].key),
		       "duplicate key '%s' (first at %d:%d)", sorted[i].name,
		       npos(sorted[k].key).line, npos(sorted[k].key).col);
		v[sorted[i].seq].name = NULL;
	}
	free(sorted);
	for (i = 0, k = 0; i < m; i++)
		if (v[i].name)
			v[k++] = v[i];
	if (!k) {
		free(v);
		v = NULL;
	}
	*out = v;
	return k;
}

/*
 * A mapping with a fixed set of keys: vals[i] and kpos[i] receive the
 * value and key position of keys[i] (NULL when absent). Unknown keys are
 * reported with the list of known ones; `where` is "in flow", "at the top
 * level", ...
 */
static void map_fields(struct pctx *c, yaml_node_t *map,
		       const char *const *keys, size_t nkeys, const char *where,
		       yaml_node_t **vals, struct cg_pos *kpos)
{
	struct kv *v;
	size_t n, i, j;

	memset(vals, 0, nkeys * sizeof(*vals));
	n = map_pairs(c, map, &v);
	for (i = 0; i < n; i++) {
		for (j = 0; j < nkeys; j++)
			if (!strcmp(v[i].name, keys[j]))
				break;
		if (j < nkeys) {
			vals[j] = v[i].val;
			kpos[j] = npos(v[i].key);
			continue;
		}
		char list[256] = "";

		for (j = 0; j < nkeys; j++) {
			if (j)
				strncat(list, ", ",
					sizeof(list) - strlen(list) - 1);
			strncat(list, keys[j], sizeof(list) - strlen(list) - 1);
		}
		err_at(c, npos(v[i].key),
		       "unknown key '%.40s' %s; expected one of: %s", v[i].name,
		       where, list);
	}
	free(v);
}

/* ------------------------------------------------------------------ */
/* Names, interfaces, addresses                                        */

/* Could `s` be meant as an address or CIDR rather than a name? */
static bool looks_like_address(const char *s)
{
	bool dot = false;

	if (strchr(s, ':') || strchr(s, '/'))
		return true;
	for (; *s; s++) {
		if (*s == '.')
			dot = true;
		else if (*s < '0' || *s > '9')
			return false;
	}
	return dot;
}

/* A zone, host or flow name: 1..63 of [A-Za-z0-9._-], not an address. */
static bool check_name(struct pctx *c, const yaml_node_t *n, const char *s,
		       const char *kind, char out[CG_NAME_MAX])
{
	size_t len = strlen(s), i;

	if (!len) {
		err_at(c, npos(n), "%s name is empty", kind);
		return false;
	}
	if (len >= CG_NAME_MAX) {
		err_at(c, npos(n),
		       "%s name '%.20s...' is %zu characters long; the limit "
		       "is %d",
		       kind, s, len, CG_NAME_MAX - 1);
		return false;
	}
	for (i = 0; i < len; i++) {
		if (bidi_override(s + i)) {
			err_at(c, npos(n),
			       "%s name has the bidirectional-override "
			       "character "
			       "U+%04X; names use letters, digits, '.', '_' "
			       "and "
			       "'-'",
			       kind, bidi_override(s + i));
			return false;
		}
	}
	for (i = 0; i < len; i++) {
		char ch = s[i];

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
		    ch == '-')
			continue;
		err_at(c, npos(n),
		       "%s name '%s' has the character '%c'; names use "
		       "letters, digits, '.', '_' and '-'",
		       kind, s, ch);
		return false;
	}
	if (looks_like_address(s)) {
		err_at(c, npos(n),
		       "%s name '%s' reads as an address; use a name with a "
		       "letter in it",
		       kind, s);
		return false;
	}
	memcpy(out, s, len + 1);
	return true;
}

/* A Linux interface name (the kernel's dev_valid_name()). */
static bool check_ifname(struct pctx *c, const yaml_node_t *n, const char *s)
{
	size_t len = strlen(s), i;

	if (!len) {
		err_at(c, npos(n), "interface name is empty");
		return false;
	}
	if (len >= CG_IFNAME_MAX) {
		err_at(c, npos(n),
		       "interface name '%.40s' is %zu characters long; the "
		       "limit is %d",
		       s, len, CG_IFNAME_MAX - 1);
		return false;
	}
	if (!strcmp(s, ".") || !strcmp(s, "..")) {
		err_at(c, npos(n), "'%s' is not a valid interface name", s);
		return false;
	}
	for (i = 0; i < len; i++) {
		if (s[i] == '/' || s[i] == ':' || s[i] == ' ' ||
		    (s[i] >= '\t' && s[i] <= '\r')) {
			err_at(c, npos(n),
			       "interface name '%s' has the character '%c'; "
			       "interface names have no '/', ':' or white "
			       "space",
			       s, s[i]);
			return false;
		}
	}
	return true;
}

/*
 * An address or CIDR, with a message that says what is wrong with it.
 * A bare address is a /32 or /128; host bits beyond the prefix length are
 * an error.
 */
static bool parse_cidr(struct pctx *c, const yaml_node_t *n, const char *s,
		       struct cg_prefix *out)
{
	char fixed[INET6_ADDRSTRLEN + 8], addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	struct cg_prefix p;
	int r = cg_prefix_parse(s, &p);

	if (r == 0 && cg_prefix_v4mapped(&p)) {
		struct cg_prefix v4 = {.family = 4, .len = p.len - 96};

		memcpy(v4.addr, p.addr + 12, 4);
		cg_prefix_format(&v4, fixed, sizeof(fixed));
		if (!slash)
			*strchr(fixed, '/') = '\0';
		err_at(c, npos(n),
		       "'%.60s' is an IPv4-mapped IPv6 address, which never "
		       "matches: the gate judges IPv4 frames by their IPv4 "
		       "addresses; write %s",
		       s, fixed);
		return false;
	}
	if (r == 0) {
		*out = p;
		return true;
	}
	if (r == -EDOM) {
		cg_prefix_format(&p, fixed, sizeof(fixed));
		err_at(c, npos(n), "%s has host bits set; did you mean %s?", s,
		       fixed);
		return false;
	}
	/* Tell a bad address from a bad length. */
	if (slash && (size_t)(slash - s) < sizeof(addr)) {
		memcpy(addr, s, slash - s);
		addr[slash - s] = '\0';
		if (cg_prefix_parse(addr, &p) == 0) {
			err_at(c, npos(n),
			       "invalid prefix length in '%.60s'; expected "
			       "0..%d for %s",
			       s, p.family == 4 ? 32 : 128,
			       p.family == 4 ? "IPv4" : "IPv6");
			return false;
		}
	}
	err_at(c, npos(n),
	       "'%.60s' is not an IPv4 or IPv6 address or CIDR (such as "
	       "198.18.10.0/24 or 2001:2:0:10::/64)",
	       s);
	return false;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static bool parse_mac(struct pctx *c, const yaml_node_t *n, const char *s,
		      uint8_t mac[6])
{
	int i;

	if (strlen(s) != 17)
		goto bad;
	for (i = 0; i < 6; i++) {
		int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			goto bad;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	if (mac[0] & 1) {
		err_at(c, npos(n),
		       "mac %s is a multicast address; expected a host's "
		       "unicast mac",
		       s);
		return false;
	}
	if (!(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5])) {
		err_at(c, npos(n), "mac %s is all zeros; expected a host's mac",
		       s);
		return false;
	}
	return true;
bad:
	err_at(c, npos(n),
	       "invalid mac '%.40s'; expected six hex bytes such as "
	       "02:00:00:00:20:11",
	       s);
	return false;
}

/* A name and where it was written, for finding duplicates by sorting. */
struct name_pos {
	const char *name;
	struct cg_pos pos;
	size_t index;
};

static int name_pos_cmp(const void *a, const void *b)
{
	const struct name_pos *x = a, *y = b;
	int r = strcmp(x->name, y->name);

	return r ? r : pos_cmp(x->pos, y->pos);
}

/* Report and drop interfaces listed twice in a zone. */
static void dedupe_ifaces(struct pctx *c, struct cg_zone *z)
{
	struct name_pos *v;
	bool *drop;
	size_t i, k;

	v = xcalloc(c, z->n_ifaces, sizeof(*v));
	drop = xcalloc(c, z->n_ifaces, sizeof(*drop));
	if (!v || !drop)
		goto out;
	for (i = 0; i < z->n_ifaces; i++)
		v[i] = (struct name_pos){z->ifaces[i].name, z->ifaces[i].pos,
					 i};
	qsort(v, z->n_ifaces, sizeof(*v), name_pos_cmp);
	for (i = 1, k = 0; i < z->n_ifaces; i++) {
		if (strcmp(v[i].name, v[k].name)) {
			k = i;
			continue;
		}
		err_at(c, v[i].pos,
		       "duplicate interface '%s' in zone '%s' (first at %d:%d)",
		       v[i].name, z->name, v[k].pos.line, v[k].pos.col);
		drop[v[i].index] = true;
	}
	for (i = 0, k = 0; i < z->n_ifaces; i++)
		if (!drop[i])
			z->ifaces[k++] = z->ifaces[i];
	z->n_ifaces = k;
out:
	free(v);
	free(drop);
}

/* ------------------------------------------------------------------ */
/* Zones                                                               */

enum { Z_IFACES, Z_VLANS, Z_NETS, Z_N };
static const char *const zone_keys[Z_N] = {"interfaces", "vlans", "networks"};

static void parse_zone(struct pctx *c, struct cg_zone *z, const struct kv *e)
{
	yaml_node_t *f[Z_N], **items;
	struct cg_pos kp[Z_N];
	uint8_t seen_vlan[4096 / 8] = {0};
	long n, i, j;

	z->pos = npos(e->key);
	/* A bad name is reported and kept, cut short, for later messages. */
	if (!check_name(c, e->key, e->name, "zone", z->name))
		snprintf(z->name, sizeof(z->name), "%s", e->name);
	if (e->val->type != YAML_MAPPING_NODE) {
		char b[64];

		err_at(c, npos(e->val),
		       "expected a mapping with interfaces and networks for "
		       "zone '%s', got %s",
		       e->name, describe(e->val, b, sizeof(b)));
		return;
	}
	map_fields(c, e->val, zone_keys, Z_N, "in zone", f, kp);

	/* interfaces: required, at least one, each once. */
	if (!f[Z_IFACES]) {
		err_at(c, z->pos,
		       "missing 'interfaces' in zone '%s'; expected a list of "
		       "interface names",
		       e->name);
	} else if ((n = list_items(c, f[Z_IFACES], "a list of interface names",
				   &items)) >= 0) {
		if (n == 0)
			err_at(c, npos(f[Z_IFACES]),
			       "zone '%s' has no interfaces; expected at least "
			       "one interface name",
			       e->name);
		z->ifaces = xcalloc(c, n, sizeof(*z->ifaces));
		for (i = 0; i < n && z->ifaces; i++) {
			const char *s =
				scalar(c, items[i], "an interface name");

			if (!s || !check_ifname(c, items[i], s))
				continue;
			memcpy(z->ifaces[z->n_ifaces].name, s, strlen(s) + 1);
			z->ifaces[z->n_ifaces++].pos = npos(items[i]);
		}
		free(items);
		dedupe_ifaces(c, z);
	}

	/* vlans: optional; when present, at least one, each once. */
	if (f[Z_VLANS])
		c->zone_flags[z - c->p->zones] |= ZF_VLANS;
	if (f[Z_VLANS] && (n = list_items(c, f[Z_VLANS], "a list of vlan ids",
					  &items)) >= 0) {
		if (n == 0)
			err_at(c, npos(f[Z_VLANS]),
			       "zone '%s' has an empty vlans list; omit vlans "
			       "to make it the untagged zone of its interfaces",
			       e->name);
		z->vlans = xcalloc(c, n, sizeof(*z->vlans));
		for (i = 0; i < n && z->vlans; i++) {
			unsigned long v;

			if (!get_int(c, items[i], "vlan id", 1, 4094, false,
				     &v))
				continue;
			if (seen_vlan[v / 8] & (1u << (v % 8))) {
				for (j = 0; z->vlans[j].id != v; j++)
					;
				err_at(c, npos(items[i]),
				       "duplicate vlan %lu in zone '%s' (first "
				       "at %d:%d)",
				       v, e->name, z->vlans[j].pos.line,
				       z->vlans[j].pos.col);
				continue;
			}
			seen_vlan[v / 8] |= 1u << (v % 8);
			z->vlans[z->n_vlans].id = (uint16_t)v;
			z->vlans[z->n_vlans++].pos = npos(items[i]);
		}
		free(items);
	}

	/* networks: optional; a zone without them holds no address. */
	if (!f[Z_NETS]) {
		n = 0;
	} else if ((n = list_items(c, f[Z_NETS], "a list of networks (CIDRs)",
				   &items)) > 0) {
		z->nets = xcalloc(c, n, sizeof(*z->nets));
		for (i = 0; i < n && z->nets; i++) {
			const char *s = scalar(c, items[i], "a network (CIDR)");

			if (!s || !parse_cidr(c, items[i], s,
					      &z->nets[z->n_nets].prefix)) {
				c->zone_flags[z - c->p->zones] |= ZF_BAD_NETS;
				continue;
			}
			z->nets[z->n_nets++].pos = npos(items[i]);
		}
		free(items);
	}
	if (n < 0)
		c->zone_flags[z - c->p->zones] |= ZF_BAD_NETS;
	if (n == 0)
		warn_at(c, z->pos,
			"zone '%s' has no networks: every frame from it is "
			"spoofed-source, and flows naming it match nothing",
			e->name);
}

/* ------------------------------------------------------------------ */
/* Hosts                                                               */

enum { H_ADDR, H_MAC, H_N };
static const char *const host_keys[H_N] = {"address", "mac"};

static void parse_host(struct pctx *c, struct cg_host *h, const struct kv *e)
{
	yaml_node_t *f[H_N], *addr;
	struct cg_pos kp[H_N];
	const char *s;

	h->pos = npos(e->key);
	if (!check_name(c, e->key, e->name, "host", h->name))
		snprintf(h->name, sizeof(h->name), "%s", e->name);
	h->addr.family = 0;
	if (e->val->type == YAML_SCALAR_NODE && !is_null(e->val)) {
		addr = e->val;
		f[H_MAC] = NULL;
	} else if (e->val->type == YAML_MAPPING_NODE) {
		map_fields(c, e->val, host_keys, H_N, "in host", f, kp);
		addr = f[H_ADDR];
		if (!addr)
			err_at(c, h->pos,
			       "missing 'address' in host '%s'; expected an "
			       "address or CIDR",
			       e->name);
	} else {
		char b[64];

		err_at(c, npos(e->val),
		       "expected an address or a mapping with address and mac "
		       "for host '%s', got %s",
		       e->name, describe(e->val, b, sizeof(b)));
		return;
	}
	if (addr && (s = scalar(c, addr, "an address or CIDR")))
		parse_cidr(c, addr, s, &h->addr);
	if (f[H_MAC] && (s = scalar(c, f[H_MAC], "a mac address")) &&
	    parse_mac(c, f[H_MAC], s, h->mac)) {
		h->has_mac = true;
		if (h->addr.family &&
		    h->addr.len != (h->addr.family == 4 ? 32 : 128))
			err_at(c, npos(f[H_MAC]),
			       "host '%s' has a mac but its address is a "
			       "prefix; a mac belongs to one address",
			       e->name);
	}
}

/* ------------------------------------------------------------------ */
/* Name lookup                                                         */

static int name_cmp(const void *a, const void *b)
{
	const struct name_ent *x = a, *y = b;
	int r = strcmp(x->name, y->name);

	if (r)
		return r;
	if (x->kind != y->kind)
		return x->kind == CG_REF_ZONE ? -1 : 1;
	return pos_cmp(x->pos, y->pos);
}

/*
 * Zones and hosts share one namespace: index both, sorted, and report a
 * host that takes a zone's name. Raw YAML names are indexed (even invalid
 * ones, which were reported) so that references to them do not add a
 * second message.
 */
static void build_names(struct pctx *c, struct kv *zones, size_t nz,
			struct kv *hosts, size_t nh)
{
	size_t i, k;

	c->names = xcalloc(c, nz + nh, sizeof(*c->names));
	if (!c->names)
		return;
	for (i = 0; i < nz && i < c->p->n_zones; i++)
		c->names[c->n_names++] = (struct name_ent){
			zones[i].name, CG_REF_ZONE, i, npos(zones[i].key)};
	for (i = 0; i < nh && i < c->p->n_hosts; i++)
		c->names[c->n_names++] = (struct name_ent){
			hosts[i].name, CG_REF_HOST, i, npos(hosts[i].key)};
	/* `self` names the gateway in flows: no zone or host may take it. */
	for (i = 0; i < c->n_names; i++)
		if (!strcmp(c->names[i].name, "self"))
			err_at(c, c->names[i].pos,
			       "'self' is reserved: in a flow it names the "
			       "gateway's own addresses; give this %s another "
			       "name",
			       c->names[i].kind == CG_REF_ZONE ? "zone"
							       : "host");
	qsort(c->names, c->n_names, sizeof(*c->names), name_cmp);
	for (i = 1, k = 0; i < c->n_names; i++) {
		if (strcmp(c->names[i].name, c->names[k].name)) {
			c->names[++k] = c->names[i];
			continue;
		}
		/* Same name: a zone sorts first, so this one is a host. */
		err_at(c, c->names[i].pos,
		       "host '%s' has the name of zone '%s' (%d:%d); zones and "
		       "hosts share one namespace",
		       c->names[i].name, c->names[k].name, c->names[k].pos.line,
		       c->names[k].pos.col);
	}
	if (c->n_names)
		c->n_names = k + 1;
}

static int name_key_cmp(const void *a, const void *b)
{
	return strcmp(((const struct name_ent *)a)->name,
		      ((const struct name_ent *)b)->name);
}

static const struct name_ent *lookup(struct pctx *c, const char *s)
{
	struct name_ent key = {.name = s};

	if (!c->n_names)
		return NULL;
	return bsearch(&key, c->names, c->n_names, sizeof(key), name_key_cmp);
}

/* Levenshtein distance of two names, for "did you mean" hints. */
static int edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	int row[CG_NAME_MAX + 1];

	if (la >= CG_NAME_MAX || lb >= CG_NAME_MAX)
		return INT_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (i = 1; i <= la; i++) {
		int prev = row[0];

		row[0] = (int)i;
		for (j = 1; j <= lb; j++) {
			int t = row[j], best = prev + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = t;
		}
	}
	return row[lb];
}

/* The closest known name to `s`, if it is close enough to be a typo. */
static const char *suggest(struct pctx *c, const char *s)
{
	const char *best = NULL;
	int best_d = INT_MAX, limit;
	size_t i, len = strlen(s);

	limit = len < 2 ? 0 : len < 4 ? 1 : len < 9 ? 2 : 3;
	/* Bounded work however many names and typos a file has. */
	if (c->n_names > 10000 || ++c->n_suggest > 100)
		return NULL;
	for (i = 0; i < c->n_names; i++) {
		int dist = edit_distance(s, c->names[i].name);

		if (dist < best_d) {
			best_d = dist;
			best = c->names[i].name;
		}
	}
	return best_d <= limit ? best : NULL;
}

/* ------------------------------------------------------------------ */
/* Flows                                                               */

/* Where each part of a flow was written, for the semantic pass. */
struct flow_pos {
	struct cg_pos name, from, to, ports;
};

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
	F_ENIP,
	F_N
};
static const char *const flow_keys[F_N] = {"name",  "from", "to",     "proto",
					   "ports", "log",  "modbus", "s7comm",
					   "valid", "enip"};

static const char *const proto_names[] = {
	[CG_P_ANY] = "any",   [CG_P_TCP] = "tcp",	[CG_P_UDP] = "udp",
	[CG_P_ICMP] = "icmp", [CG_P_ICMPV6] = "icmpv6",
};

/* "flow 'x'", or "flow #3" when it has no (valid) name. */
static const char *flow_label(const struct cg_flow *f, size_t i, char *buf,
			      size_t len)
{
	if (f->name[0])
		snprintf(buf, len, "flow '%s'", f->name);
	else
		snprintf(buf, len, "flow #%zu", i + 1);
	return buf;
}

/*
 * `from` or `to`: a zone name, a host name or a CIDR, or a list of them.
 * Returns false when any item is bad (reported).
 */
static bool parse_refs(struct pctx *c, yaml_node_t *n, const char *side,
		       const char *label, struct cg_ref **out, size_t *nout)
{
	yaml_node_t **items;
	struct cg_ref *refs;
	bool ok = true;
	long cnt, i;

	cnt = list_items(c, n, "a zone, host or CIDR, or a list of them",
			 &items);
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
	free(items);
	*out = refs;
	return ok && refs;
}

/* One item of `ports`: N, or "LO-HI". */
static bool parse_port(struct pctx *c, yaml_node_t *n, struct cg_port_range *r)
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

static void parse_ports(struct pctx *c, struct cg_flow *f, yaml_node_t *n,
			const char *label)
{
	struct cg_port_range *sorted;
	yaml_node_t **items;
	long cnt, i;

	cnt = list_items(c, n, "a list of ports", &items);
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
	free(items);

	/* A port written twice is harmless but a sign of a slip. */
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

static void parse_allow_functions(struct pctx *c, yaml_node_t *n,
				  struct cg_ics_allow *a)
{
	yaml_node_t **items, *first_code[256] = {0},
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

static void parse_allow_units(struct pctx *c, yaml_node_t *n,
			      struct cg_ics_allow *a)
{
	yaml_node_t **items, *first[256] = {0};
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
static bool parse_address(struct pctx *c, yaml_node_t *n,
			  struct cg_addr_range *r)
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

static void parse_allow_addresses(struct pctx *c, yaml_node_t *n,
				  struct cg_ics_allow *a)
{
	yaml_node_t **items;
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

static void parse_allow_rule(struct pctx *c, yaml_node_t *n,
			     struct cg_ics_allow *a)
{
	static const char *const keys[] = {"functions", "units", "addresses"};
	yaml_node_t *v[3];
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

/* `modbus: {allow: [RULE, ...]}`, at most CG_ALLOW_RULES rules. */
static void parse_modbus_allow(struct pctx *c, yaml_node_t *n,
			       struct cg_ics *ics)
{
	static const char *const keys[] = {"allow"};
	yaml_node_t *v[1], **items;
	struct cg_pos kp[1];
	long cnt, i;

	ics->mode = CG_ICS_ALLOW;
	map_fields(c, n, keys, 1, "in modbus", v, kp);
	if (!v[0]) {
		err_at(c, npos(n),
		       "modbus mapping has no allow; expected allow: a list "
		       "of rules");
		return;
	}
	if (v[0]->type != YAML_SEQUENCE_NODE) {
		expected(c, v[0], "a list of modbus rules");
		return;
	}
	cnt = list_items(c, v[0], "a list of modbus rules", &items);
	if (cnt < 0)
		return;
	if (cnt == 0) {
		err_at(c, npos(v[0]),
		       "modbus allow has no rules; expected at least one rule "
		       "such as {functions: [read]}");
		return;
	}
	if (cnt > CG_ALLOW_RULES) {
		err_at(c, npos(items[CG_ALLOW_RULES]),
		       "modbus allow has %ld rules; the limit is %d per flow",
		       cnt, CG_ALLOW_RULES);
		cnt = CG_ALLOW_RULES;
	}
	ics->allow = xcalloc(c, cnt, sizeof(*ics->allow));
	for (i = 0; i < cnt && ics->allow; i++)
		parse_allow_rule(c, items[i], &ics->allow[ics->n_allow++]);
	free(items);
}

/* `modbus:` or `s7comm:`: any, read-only, or a list of function codes. */
static void parse_ics(struct pctx *c, yaml_node_t *n, struct cg_pos kpos,
		      const char *proto, struct cg_ics *ics)
{
	yaml_node_t **items, *first[256] = {0};
	unsigned long v;
	long cnt, i;

	ics->pos = kpos;
	if (n->type == YAML_MAPPING_NODE && !strcmp(proto, "modbus")) {
		parse_modbus_allow(c, n, ics);
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
static void parse_enip_services(struct pctx *c, yaml_node_t *n,
				struct cg_ics_allow *a)
{
	yaml_node_t **items, *first_code[256] = {0},
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
static void parse_enip_classes(struct pctx *c, yaml_node_t *n,
			       struct cg_ics_allow *a)
{
	yaml_node_t **items;
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

static void parse_enip_rule(struct pctx *c, yaml_node_t *n,
			    struct cg_ics_allow *a)
{
	static const char *const keys[] = {"services", "classes"};
	yaml_node_t *v[2];
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

/* `enip: {allow: [RULE, ...]}`, at most CG_ALLOW_RULES rules. */
static void parse_enip_allow(struct pctx *c, yaml_node_t *n, struct cg_ics *ics)
{
	static const char *const keys[] = {"allow"};
	yaml_node_t *v[1], **items;
	struct cg_pos kp[1];
	long cnt, i;

	ics->mode = CG_ICS_ALLOW;
	map_fields(c, n, keys, 1, "in enip", v, kp);
	if (!v[0]) {
		err_at(c, npos(n),
		       "enip mapping has no allow; expected allow: a list of "
		       "rules");
		return;
	}
	if (v[0]->type != YAML_SEQUENCE_NODE) {
		expected(c, v[0], "a list of enip rules");
		return;
	}
	cnt = list_items(c, v[0], "a list of enip rules", &items);
	if (cnt < 0)
		return;
	if (cnt == 0) {
		err_at(c, npos(v[0]),
		       "enip allow has no rules; expected at least one rule "
		       "such as {services: [read]}");
		free(items);
		return;
	}
	if (cnt > CG_ALLOW_RULES) {
		err_at(c, npos(items[CG_ALLOW_RULES]),
		       "enip allow has %ld rules; the limit is %d per flow",
		       cnt, CG_ALLOW_RULES);
		cnt = CG_ALLOW_RULES;
	}
	ics->allow = xcalloc(c, cnt, sizeof(*ics->allow));
	for (i = 0; i < cnt && ics->allow; i++)
		parse_enip_rule(c, items[i], &ics->allow[ics->n_allow++]);
	free(items);
}

/*
 * `enip:`: any, read-only, or `allow:` rules. EtherNet/IP has no list of
 * codes: a CIP service means different things on different objects.
 */
static void parse_enip(struct pctx *c, yaml_node_t *n, struct cg_pos kpos,
		       struct cg_ics *ics)
{
	const char *s = n->type == YAML_SCALAR_NODE ? sval(n) : NULL;

	ics->pos = kpos;
	if (n->type == YAML_MAPPING_NODE) {
		parse_enip_allow(c, n, ics);
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
static void parse_valid(struct pctx *c, yaml_node_t *n, struct cg_pos kpos,
			const char *label, struct cg_window *w)
{
	static const char *const keys[] = {"from", "until"};
	yaml_node_t *v[2];
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

static void parse_flow(struct pctx *c, size_t idx, yaml_node_t *n,
		       struct flow_pos *fp)
{
	struct cg_flow *f = &c->p->flows[idx];
	struct flow_aux *aux = &c->aux[idx];
	yaml_node_t *v[F_N];
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
}

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

static void check_flows(struct pctx *c, const struct flow_pos *fps)
{
	const struct cg_policy *p = c->p;
	struct name_pos *names;
	size_t i, k, n = 0;

	/* Flow names are unique: they name counters and log lines. */
	names = xcalloc(c, p->n_flows, sizeof(*names));
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
static void check_claims(struct pctx *c)
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
static void check_overlaps(struct pctx *c)
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
static void parse_limits(struct pctx *c, yaml_node_t *n)
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
	yaml_node_t *v[L_N];
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

static void parse_name(struct pctx *c, yaml_node_t *n)
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

static void parse_flows(struct pctx *c, yaml_node_t *n)
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

static void parse_top(struct pctx *c, yaml_node_t *root)
{
	struct cg_policy *p = c->p;
	yaml_node_t *v[T_N];
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
 * The first pass, over libyaml's events. Returns false when the document
 * must not be loaded: a syntax error, an alias (the loader would share
 * the node, and walking it could cost exponential time), or nesting or a
 * node count beyond the limits.
 */
static bool prescan(struct pctx *c)
{
	yaml_parser_t ps;
	yaml_event_t ev;
	size_t nodes = 0;
	int depth = 0, docs = 0;
	bool ok = true, done = false;

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
			nodes++;
			break;
		case YAML_SEQUENCE_START_EVENT:
			check_props(c, &ev, ev.data.sequence_start.anchor,
				    ev.data.sequence_start.tag);
			nodes++;
			depth++;
			break;
		case YAML_MAPPING_START_EVENT:
			check_props(c, &ev, ev.data.mapping_start.anchor,
				    ev.data.mapping_start.tag);
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
	return ok;
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
	return ok;
}

int cg_policy_parse(const char *path, const char *buf, size_t len,
		    struct cg_policy **out, struct cg_diags *d)
{
	struct cg_diags local = {0};
	struct pctx c = {0};
	size_t first, errors;
	yaml_node_t *root;
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
	if (!prescan(&c) || !load(&c))
		goto done;
	root = yaml_document_get_root_node(&c.doc);
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
