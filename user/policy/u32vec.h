/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A growable array of uint32_t (class ids, regions, port classes), shared
 * by the compiler and the semantic diff.
 */
#ifndef CRANEGATE_U32VEC_H
#define CRANEGATE_U32VEC_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

struct u32vec {
	uint32_t *v;
	size_t n, cap;
};

/* Append x; 0 or -ENOMEM. */
static inline int u32vec_push(struct u32vec *a, uint32_t x)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 16;
		uint32_t *v = realloc(a->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = x;
	return 0;
}

static inline int u32vec_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Sort and drop duplicates. */
static inline void u32vec_sort_unique(struct u32vec *a)
{
	size_t i, j = 0;

	if (!a->n)
		return;
	qsort(a->v, a->n, sizeof(*a->v), u32vec_cmp);
	for (i = 1; i < a->n; i++)
		if (a->v[i] != a->v[j])
			a->v[++j] = a->v[i];
	a->n = j + 1;
}

/* x in a sorted vector. */
static inline bool u32vec_has(const struct u32vec *a, uint32_t x)
{
	size_t lo = 0, hi = a->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (a->v[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < a->n && a->v[lo] == x;
}

#endif
