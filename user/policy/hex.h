/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hex.h: bytes as lowercase hex, the one way every part of cranegate
 * prints a sha256 (whole or shortened).
 */
#ifndef CG_HEX_H
#define CG_HEX_H

#include <stddef.h>
#include <stdint.h>

/* The first N bytes of B as 2N hex digits and a NUL, into OUT (2N + 1). */
static inline void cg_hex(const uint8_t *b, size_t n, char *out)
{
	static const char digit[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digit[b[i] >> 4];
		out[2 * i + 1] = digit[b[i] & 15];
	}
	out[2 * n] = 0;
}

#endif
