/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Modbus `allow:` rules (policy.h, struct cg_ics_allow): the function
 * classes, the rules' text for diff, and the lint of `check` (a rule that
 * an earlier rule of the same list shadows, or that can never match).
 * The parser (policy.c) and the compiler (compile.c) use the helpers.
 */
#ifndef CRANEGATE_MODBUS_RULES_H
#define CRANEGATE_MODBUS_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

/* The class names of enum cg_mb_class, as `functions:` writes them. */
extern const char *const cg_mb_class_names[CG_MB_CLASSES];

/*
 * The class of a Modbus function code; for 43 the MEI type decides
 * (`mei`: the byte after the code, or -1 when the request has none).
 */
enum cg_mb_class cg_mb_class_of(uint8_t fc, int mei);

/* Does bit `code` of a 256-bit map hold? */
static inline bool cg_bit(const uint8_t *map, unsigned int code)
{
	return map[(code >> 3) & 31] & (1u << (code & 7));
}

static inline void cg_bit_set(uint8_t *map, unsigned int code)
{
	map[(code >> 3) & 31] |= (uint8_t)(1u << (code & 7));
}

/*
 * Functions with a starting address and a quantity (1-6, 15, 16, 22, 23):
 * the only ones a rule with `addresses` can match.
 */
bool cg_mb_has_addresses(uint8_t fc);

/*
 * Fill a rule's `codes` and `mei` from its `classes` and `named` (the
 * parser calls it once both are known).
 */
void cg_allow_finish(struct cg_ics_allow *a);

/*
 * A rule's address ranges sorted, with overlapping and adjacent ranges
 * merged (100-109 and 110-119 are 100-119): what the data plane checks.
 * Returns the count (<= CG_ALLOW_RANGES).
 */
size_t cg_allow_merged(const struct cg_ics_allow *a, uint16_t *lo,
		       uint16_t *hi);

/*
 * The rule as one line, for diff: "functions [write, 6] units [1]
 * addresses [100-119, 200]" (units and addresses only when given).
 */
void cg_allow_text(const struct cg_ics_allow *a, char *buf, size_t len);

/*
 * Does every request rule `a` admits also match rule `b`? (Then `a`,
 * after `b` in a list, never decides anything.)
 */
bool cg_allow_covered(const struct cg_ics_allow *a,
		      const struct cg_ics_allow *b);

/*
 * The lint of check for every flow's `modbus: allow:`: warnings for a
 * rule shadowed by an earlier one, a rule with addresses whose functions
 * have none (it can never match), and overlapping ranges in a rule.
 */
void cg_lint_modbus(const struct cg_policy *p, struct cg_diags *d);

#endif /* CRANEGATE_MODBUS_RULES_H */
