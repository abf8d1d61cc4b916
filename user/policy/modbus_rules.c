// SPDX-License-Identifier: GPL-2.0
/* Modbus `allow:` rules: classes, text, lint (see modbus_rules.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modbus_rules.h"

const char *const cg_mb_class_names[CG_MB_CLASSES] = {
	[CG_MB_READ] = "read",
	[CG_MB_WRITE] = "write",
	[CG_MB_DIAGNOSTICS] = "diagnostics",
	[CG_MB_PROGRAM] = "program",
	[CG_MB_OTHER] = "other",
};

/*
 * read: the contract's read-only set. write: every function that changes
 * coils, registers or files. diagnostics: 8 (its sub-functions restart the
 * device's communications or force it listen-only). program: the codes
 * the Modbus specification reserves for legacy and vendor programming
 * (Modicon 9, 10, 13, 14; 41, 42; 90, 91 Schneider UMAS; 125-127).
 */
enum cg_mb_class cg_mb_class_of(uint8_t fc, int mei)
{
	switch (fc) {
	case 1:
	case 2:
	case 3:
	case 4:
	case 7:
	case 11:
	case 12:
	case 17:
	case 20:
	case 24:
		return CG_MB_READ;
	case 43:
		return mei == 14 ? CG_MB_READ : CG_MB_OTHER;
	case 5:
	case 6:
	case 15:
	case 16:
	case 21:
	case 22:
	case 23:
		return CG_MB_WRITE;
	case 8:
		return CG_MB_DIAGNOSTICS;
	case 9:
	case 10:
	case 13:
	case 14:
	case 41:
	case 42:
	case 90:
	case 91:
	case 125:
	case 126:
	case 127:
		return CG_MB_PROGRAM;
	default:
		return CG_MB_OTHER;
	}
}

bool cg_mb_has_addresses(uint8_t fc)
{
	return (fc >= 1 && fc <= 6) || fc == 15 || fc == 16 || fc == 22 ||
	       fc == 23;
}

void cg_allow_finish(struct cg_ics_allow *a)
{
	bool rd = a->classes & (1u << CG_MB_READ),
	     other = a->classes & (1u << CG_MB_OTHER);
	unsigned int fc;

	memcpy(a->codes, a->named, sizeof(a->codes));
	for (fc = 0; fc < 256; fc++) {
		if (a->classes & (1u << cg_mb_class_of((uint8_t)fc, 14)))
			cg_bit_set(a->codes, fc);
	}
	/* 43 is read with MEI type 14 and other without. */
	if (other)
		cg_bit_set(a->codes, 43);
	a->mei = CG_MEI_ANY;
	if (!cg_bit(a->named, 43) && rd != other)
		a->mei = rd ? CG_MEI_14 : CG_MEI_NOT_14;
}

static int range_cmp(const void *x, const void *y)
{
	const struct cg_addr_range *a = x, *b = y;

	return a->lo != b->lo ? (a->lo < b->lo ? -1 : 1)
			      : (a->hi < b->hi ? -1 : a->hi > b->hi);
}

size_t cg_allow_merged(const struct cg_ics_allow *a, uint16_t *lo, uint16_t *hi)
{
	struct cg_addr_range r[CG_ALLOW_RANGES];
	size_t n = a->n_ranges < CG_ALLOW_RANGES ? a->n_ranges
						 : CG_ALLOW_RANGES,
	       i, m = 0;

	memcpy(r, a->ranges, n * sizeof(*r));
	qsort(r, n, sizeof(*r), range_cmp);
	for (i = 0; i < n; i++) {
		if (m && (uint32_t)r[i].lo <= (uint32_t)hi[m - 1] + 1) {
			if (r[i].hi > hi[m - 1])
				hi[m - 1] = r[i].hi;
			continue;
		}
		lo[m] = r[i].lo;
		hi[m] = r[i].hi;
		m++;
	}
	return m;
}

#define APPEND(...)                                                            \
	do {                                                                   \
		if (off < len)                                                 \
			off += (size_t)snprintf(buf + off, len - off,          \
						__VA_ARGS__);                  \
	} while (0)

void cg_allow_text(const struct cg_ics_allow *a, char *buf, size_t len)
{
	size_t off = 0, i, k = 0;
	unsigned int c;

	buf[0] = 0;
	APPEND("functions [");
	for (c = 0; c < CG_MB_CLASSES; c++)
		if (a->classes & (1u << c))
			APPEND("%s%s", k++ ? ", " : "", cg_mb_class_names[c]);
	for (c = 0; c < 256; c++)
		if (cg_bit(a->named, c))
			APPEND("%s%u", k++ ? ", " : "", c);
	APPEND("]");
	if (a->has_units) {
		APPEND(" units [");
		for (c = 0, k = 0; c < 256; c++)
			if (cg_bit(a->units, c))
				APPEND("%s%u", k++ ? ", " : "", c);
		APPEND("]");
	}
	if (a->n_ranges) {
		APPEND(" addresses [");
		for (i = 0; i < a->n_ranges; i++) {
			const struct cg_addr_range *r = &a->ranges[i];

			if (r->lo == r->hi)
				APPEND("%s%u", i ? ", " : "", r->lo);
			else
				APPEND("%s%u-%u", i ? ", " : "", r->lo, r->hi);
		}
		APPEND("]");
	}
}

/* Does rule `b` admit code 43 whenever rule `a` does? */
static bool mei_covered(const struct cg_ics_allow *a,
			const struct cg_ics_allow *b)
{
	return b->mei == CG_MEI_ANY || b->mei == a->mei;
}

bool cg_allow_covered(const struct cg_ics_allow *a,
		      const struct cg_ics_allow *b)
{
	uint16_t alo[CG_ALLOW_RANGES], ahi[CG_ALLOW_RANGES];
	uint16_t blo[CG_ALLOW_RANGES], bhi[CG_ALLOW_RANGES];
	size_t na, nb, i, j;
	unsigned int fc, u;

	/* Functions: with addresses, `a` matches address functions only. */
	for (fc = 0; fc < 256; fc++) {
		if (!cg_bit(a->codes, fc) ||
		    (a->n_ranges && !cg_mb_has_addresses((uint8_t)fc)))
			continue;
		if (!cg_bit(b->codes, fc))
			return false;
		if (b->n_ranges && !cg_mb_has_addresses((uint8_t)fc))
			return false;
		if (fc == 43 && !mei_covered(a, b))
			return false;
	}
	if (b->has_units) {
		if (!a->has_units)
			return false;
		for (u = 0; u < 256; u++)
			if (cg_bit(a->units, u) && !cg_bit(b->units, u))
				return false;
	}
	if (!b->n_ranges)
		return true;
	nb = cg_allow_merged(b, blo, bhi);
	if (!a->n_ranges) {
		na = 1;
		alo[0] = 0;
		ahi[0] = 65535;
	} else {
		na = cg_allow_merged(a, alo, ahi);
	}
	for (i = 0; i < na; i++) {
		for (j = 0; j < nb; j++)
			if (blo[j] <= alo[i] && ahi[i] <= bhi[j])
				break;
		if (j == nb)
			return false;
	}
	return true;
}

static bool any_address_function(const struct cg_ics_allow *a)
{
	unsigned int fc;

	for (fc = 0; fc < 256; fc++)
		if (cg_bit(a->codes, fc) && cg_mb_has_addresses((uint8_t)fc))
			return true;
	return false;
}

static void lint_rules(const struct cg_flow *f, struct cg_diags *d)
{
	const struct cg_ics *m = &f->modbus;
	size_t i, j, k;

	for (j = 0; j < m->n_allow; j++) {
		const struct cg_ics_allow *a = &m->allow[j];

		if (a->n_ranges && !any_address_function(a)) {
			cg_diag_add(d, CG_WARNING, a->pos,
				    "modbus rule %zu of flow '%s' can never "
				    "match: it has addresses, and none of its "
				    "functions has an address (those are 1-6, "
				    "15, 16, 22, 23)",
				    j + 1, f->name);
			continue;
		}
		for (i = 0; i < j; i++) {
			if (!cg_allow_covered(a, &m->allow[i]))
				continue;
			cg_diag_add(d, CG_WARNING, a->pos,
				    "modbus rule %zu of flow '%s' is shadowed "
				    "by rule %zu (line %d), which matches "
				    "every request it matches; it never "
				    "decides a request",
				    j + 1, f->name, i + 1,
				    m->allow[i].pos.line);
			break;
		}
		for (i = 0; i < a->n_ranges; i++)
			for (k = 0; k < i; k++) {
				const struct cg_addr_range *x = &a->ranges[k],
							   *y = &a->ranges[i];

				if (y->lo > x->hi || x->lo > y->hi)
					continue;
				cg_diag_add(d, CG_WARNING, y->pos,
					    "addresses %u-%u overlap "
					    "%u-%u (%d:%d) in modbus rule %zu "
					    "of flow '%s'",
					    y->lo, y->hi, x->lo, x->hi,
					    x->pos.line, x->pos.col, j + 1,
					    f->name);
				break;
			}
	}
}

void cg_lint_modbus(const struct cg_policy *p, struct cg_diags *d)
{
	size_t i;

	for (i = 0; i < p->n_flows; i++)
		if (p->flows[i].modbus.mode == CG_ICS_ALLOW)
			lint_rules(&p->flows[i], d);
}
