// SPDX-License-Identifier: GPL-2.0
/*
 * The parser's diagnostics (policy.h): kept in memory up to a bound,
 * sorted by position, printed as FILE:LINE:COL: error: MESSAGE, with
 * bidirectional-override characters refused in what they quote.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "policy_int.h"

/* Diagnostics kept in memory; the rest are only counted. */
#define CG_DIAGS_KEEP 1000

/* ------------------------------------------------------------------ */
/* Diagnostics                                                         */

/*
 * The code point if `s` starts with a bidirectional-override character in
 * UTF-8 (U+202A-U+202E embeddings and overrides, U+2066-U+2069 isolates),
 * else 0.
 */
unsigned int bidi_override(const char *s)
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

void diag_v(struct cg_diags *d, enum cg_severity sev, struct cg_pos pos,
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

int pos_cmp(struct cg_pos a, struct cg_pos b)
{
	if (a.line != b.line)
		return a.line < b.line ? -1 : 1;
	if (a.col != b.col)
		return a.col < b.col ? -1 : 1;
	return 0;
}

/* Stable insertion sort of d->items[from..] by position: at most
 * CG_DIAGS_KEEP items, most of them in order already. */
void diags_sort(struct cg_diags *d, size_t from)
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
