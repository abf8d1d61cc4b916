/* SPDX-License-Identifier: GPL-2.0 */
/* hash.h: FNV-1a over bytes, for the open-addressing tables of diff. */
#ifndef CRANEGATE_HASH_H
#define CRANEGATE_HASH_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t cg_hash_bytes(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 1469598103934665603ull;

	while (n--)
		h = (h ^ *b++) * 1099511628211ull;
	return h;
}

#endif /* CRANEGATE_HASH_H */
