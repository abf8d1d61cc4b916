/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shadow evaluation: a candidate policy judged in the data plane beside
 * the live one, on live traffic, without changing a verdict (the data
 * plane's side is described in maps/cranegate.h, "Shadow evaluation").
 *
 *   apply --shadow POLICY   load POLICY into progs[CG_SLOT_SHADOW] with
 *                           the shared state maps, reset the shadow
 *                           counters, then set live.shadow (one write)
 *   apply --promote         apply the shadowed candidate (its kept copy)
 *                           as the live policy, then stop the shadow
 *   apply --shadow-stop     clear live.shadow (one write), empty the slot
 *
 * The kernel is the record: the candidate's name, sha256 and load time
 * are read back from its program's metadata map, the counts from the
 * pinned shadow maps. A plain apply keeps the shadow (the candidate is
 * then compared with the new live policy, from zero); detach ends it.
 */
#ifndef CRANEGATE_SHADOW_H
#define CRANEGATE_SHADOW_H

#include <stdbool.h>
#include <stdio.h>

#include "loader.h"
#include "shadow_maps.h"

int cg_shadow_start(const struct cg_env *env, const char *policy_path);
int cg_shadow_stop(const struct cg_env *env);
/* confirm_s: apply --promote --confirm SECONDS, or NULL. */
int cg_shadow_promote(const struct cg_env *env, const char *confirm_s);

/* The shadow, for status: text lines or a `, "shadow": ...` member. */
void cg_shadow_status(const struct cg_env *env, FILE *out, bool json,
		      const struct cg_active *live);

#endif
