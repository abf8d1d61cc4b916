/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The shadow's counters in the pinned state maps (shadow_stats,
 * shadow_flows, shadow_event_stats; maps/cranegate.h): the kernel layer's
 * part of shadow evaluation, which the apply transaction and the snapshot
 * use. ops/shadow.h starts, stops, promotes and prints.
 */
#ifndef CRANEGATE_SHADOW_MAPS_H
#define CRANEGATE_SHADOW_MAPS_H

#include <stdbool.h>

#include "loader.h"

/* Does a reason drop the frame? (The shadow compares pass and drop.) */
static inline bool cg_reason_drops(unsigned r)
{
	return r >= CG_R_FIRST_DROP;
}

/* A per-CPU counter summed over CPUs: packets and bytes. */
int cg_counter_sum(int fd, const void *key, struct cg_counter *sum);

/* Zero the shadow counters (under the pin root's lock). */
void cg_shadow_reset(const struct cg_env *env);

/* The shadow counters, summed: the reason matrix and its totals. */
struct cg_shadow_matrix {
	struct cg_counter pair[CG_R_MAX][CG_R_MAX];
	unsigned long long frames, disagree, pass_drop, drop_pass;
};
int cg_shadow_matrix_read(const struct cg_env *env, struct cg_shadow_matrix *t);

struct cg_shadow_totals {
	bool active; /* a candidate is in the slot and live.shadow is set */
	unsigned long long frames, disagree;
};
int cg_shadow_totals_read(const struct cg_env *env, struct cg_shadow_totals *t);

#endif /* CRANEGATE_SHADOW_MAPS_H */
