/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The lint of `cranegate check`: warnings about a valid policy that
 * probably does not say what its author meant. Each is a warning at the
 * FILE:LINE:COL of the item it is about:
 *
 *  - a flow that never decides a frame, because an earlier flow matches
 *    everything it matches (duplicate, shadowed), because earlier flows
 *    together leave it nothing (its addresses are empty once theirs are
 *    subtracted), or because its traffic never needs a flow (within one
 *    zone: intra-zone; from outside every zone: spoofed-source);
 *  - a host that no flow uses;
 *  - a zone that no flow names, or reaches through an address inside it.
 *
 * Ports on `proto: any` are warned about by the parser already.
 */
#ifndef CRANEGATE_LINT_H
#define CRANEGATE_LINT_H

#include <stdbool.h>

#include "policy.h"

/*
 * Add the lint's warnings for a valid policy to `d`. Returns 0, or
 * -E2BIG when the policy is too large for the flow analysis (the other
 * checks still ran), or -ENOMEM.
 */
int cg_lint(const struct cg_policy *p, struct cg_diags *d);

/*
 * For `check`: lint `p` (printing a note to stderr when the flow analysis
 * had to be skipped), then, with `strict`, turn every warning in `d` into
 * an error. Returns -EINVAL when strict found a warning, else 0.
 */
int cg_lint_check(const struct cg_policy *p, struct cg_diags *d, bool strict);

#endif /* CRANEGATE_LINT_H */
