/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hex.h: bytes as lowercase hex, the one way every part of cranegate
 * prints a sha256 (whole or shortened), and reads one back.
 */
#ifndef CG_HEX_H
#define CG_HEX_H

#include <stdbool.h>
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

/* 2N hex digits (either case), exactly, into N bytes; false otherwise. */
static inline bool cg_unhex(const char *s, uint8_t *out, size_t n)
{
	size_t i;
	int d[2], k;

	for (i = 0; i < n; i++) {
		for (k = 0; k < 2; k++) {
			char c = s[2 * i + k];

			d[k] = c >= '0' && c <= '9'   ? c - '0'
			       : c >= 'a' && c <= 'f' ? c - 'a' + 10
			       : c >= 'A' && c <= 'F' ? c - 'A' + 10
						      : -1;
			if (d[k] < 0)
				return false; /* also the NUL of a short one */
		}
		out[i] = (uint8_t)(d[0] << 4 | d[1]);
	}
	return s[2 * n] == 0;
}

#endif
