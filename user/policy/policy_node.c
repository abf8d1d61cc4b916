// SPDX-License-Identifier: GPL-2.0
/*
 * The parser's view of YAML nodes (policy_int.h): positions, messages at
 * a node, and a node read as a scalar, a number, a boolean, a list or a
 * mapping with known keys, each with its "expected X, got Y" message.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "policy.h"
#include "policy_int.h"

/* ------------------------------------------------------------------ */
/* The parser context                                                  */

struct cg_pos npos(const cg_node_t *n)
{
	return (struct cg_pos){(int)n->start_mark.line + 1,
			       (int)n->start_mark.column + 1};
}

struct cg_pos mpos(yaml_mark_t m)
{
	return (struct cg_pos){(int)m.line + 1, (int)m.column + 1};
}

__attribute__((format(printf, 3, 4))) void
err_at(struct pctx *c, struct cg_pos pos, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_v(c->d, CG_ERROR, pos, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 3, 4))) void
warn_at(struct pctx *c, struct cg_pos pos, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_v(c->d, CG_WARNING, pos, fmt, ap);
	va_end(ap);
}

void *xcalloc(struct pctx *c, size_t n, size_t size)
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

cg_node_t *node(struct pctx *c, int id)
{
	return id > 0 && (size_t)id <= c->n_nodes ? &c->nodes[id - 1] : NULL;
}

const char *sval(const cg_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

bool is_plain(const cg_node_t *n)
{
	return n->type == YAML_SCALAR_NODE &&
	       n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* A plain empty scalar, `~` or `null`: YAML's null. */
bool is_null(const cg_node_t *n)
{
	const char *s;

	if (!is_plain(n))
		return false;
	s = sval(n);
	switch (*s) {
	case '\0':
		return true;
	case '~':
		return !s[1];
	case 'n':
	case 'N':
		return !strcmp(s, "null") || !strcmp(s, "Null") ||
		       !strcmp(s, "NULL");
	default:
		return false;
	}
}

/* What a node is, for "expected X, got Y" messages. */
const char *describe(const cg_node_t *n, char *buf, size_t len)
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

void expected(struct pctx *c, const cg_node_t *n, const char *what)
{
	char b[64];

	err_at(c, npos(n), "expected %s, got %s", what,
	       describe(n, b, sizeof(b)));
}

/* The text of a scalar, or NULL (reported) when n is not a scalar or
 * holds a NUL character. */
const char *scalar(struct pctx *c, const cg_node_t *n, const char *what)
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
int parse_uint(const char *s, bool hex, unsigned long max, unsigned long *out)
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
bool get_int(struct pctx *c, const cg_node_t *n, const char *what,
	     unsigned long lo, unsigned long hi, bool hex, unsigned long *out)
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

bool get_bool(struct pctx *c, const cg_node_t *n, const char *what, bool *out)
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
 * is an empty list. A mapping is reported (returns -1). *items is buf when
 * the items fit its nbuf entries, else malloc'ed, or NULL when there are
 * none.
 */
long list_items_buf(struct pctx *c, cg_node_t *n, const char *what,
		    cg_node_t **buf, size_t nbuf, cg_node_t ***items)
{
	cg_node_t **v;
	yaml_node_item_t *it;
	size_t cnt;
	long i = 0;

	*items = NULL;
	if (n->type == YAML_MAPPING_NODE) {
		expected(c, n, what);
		return -1;
	}
	if (n->type == YAML_SCALAR_NODE) {
		if (is_null(n))
			return 0;
		v = nbuf ? buf : xcalloc(c, 1, sizeof(*v));
		if (!v)
			return -1;
		v[0] = n;
		*items = v;
		return 1;
	}
	if (n->data.sequence.items.top == n->data.sequence.items.start)
		return 0;
	cnt = n->data.sequence.items.top - n->data.sequence.items.start;
	v = cnt <= nbuf ? buf : xcalloc(c, cnt, sizeof(*v));
	if (!v)
		return -1;
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++)
		v[i++] = node(c, *it);
	*items = v;
	return i;
}

/* list_items_buf() without a buffer: *items is malloc'ed or NULL. */
long list_items(struct pctx *c, cg_node_t *n, const char *what,
		cg_node_t ***items)
{
	return list_items_buf(c, n, what, NULL, 0, items);
}

static int kv_cmp(const void *a, const void *b)
{
	const struct kv *x = a, *y = b;
	int r = strcmp(x->name, y->name);

	if (r)
		return r;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* At most this many pairs: duplicates are looked for pair by pair, and
 * map_fields() keeps the pairs on its stack. */
#define SMALL_MAP 16

/*
 * The pairs of a mapping in file order into v (room for all of them),
 * without those whose key is not a scalar or repeats an earlier key (both
 * reported). Returns the count.
 */
static size_t collect_pairs(struct pctx *c, cg_node_t *map, struct kv *v)
{
	yaml_node_pair_t *pr;
	struct kv *sorted;
	size_t m = 0, i, k;
	bool dup = false;

	for (pr = map->data.mapping.pairs.start;
	     pr < map->data.mapping.pairs.top; pr++) {
		cg_node_t *key = node(c, pr->key);
		const char *s = scalar(c, key, "a key name");

		if (!s)
			continue;
		v[m] = (struct kv){key, node(c, pr->value), s, m};
		m++;
	}
	/* Most mappings are small and have no duplicate: no sorting. */
	if (m <= SMALL_MAP) {
		for (i = 1; i < m && !dup; i++)
			for (k = 0; k < i && !dup; k++)
				dup = !strcmp(v[i].name, v[k].name);
		if (!dup)
			return m;
	}
	sorted = xcalloc(c, m, sizeof(*sorted));
	if (!sorted)
		return 0;
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
	return k;
}

/*
 * The pairs of a mapping in file order, without those whose key is not a
 * scalar or repeats an earlier key (both reported). Returns the count;
 * *out is malloc'ed (NULL when empty).
 */
size_t map_pairs(struct pctx *c, cg_node_t *map, struct kv **out)
{
	size_t n = map->data.mapping.pairs.top - map->data.mapping.pairs.start;
	struct kv *v;

	*out = NULL;
	v = xcalloc(c, n, sizeof(*v));
	if (!v)
		return 0;
	n = collect_pairs(c, map, v);
	if (!n) {
		free(v);
		v = NULL;
	}
	*out = v;
	return n;
}

/*
 * A mapping with a fixed set of keys: vals[i] and kpos[i] receive the
 * value and key position of keys[i] (NULL when absent). Unknown keys are
 * reported with the list of known ones; `where` is "in flow", "at the top
 * level", ...
 */
void map_fields(struct pctx *c, cg_node_t *map, const char *const *keys,
		size_t nkeys, const char *where, cg_node_t **vals,
		struct cg_pos *kpos)
{
	struct kv small[SMALL_MAP], *v;
	size_t n, i, j;

	memset(vals, 0, nkeys * sizeof(*vals));
	n = map->data.mapping.pairs.top - map->data.mapping.pairs.start;
	if (!n)
		return;
	v = n <= SMALL_MAP ? small : xcalloc(c, n, sizeof(*v));
	if (!v)
		return;
	n = collect_pairs(c, map, v);
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
	if (v != small)
		free(v);
}
