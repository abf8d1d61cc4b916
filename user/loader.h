/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The live gate: applying a policy to the interfaces it names (swapping
 * instances atomically), reading it back, detaching it. Everything lives
 * under one pin root:
 *
 *   PIN_ROOT/prog           the active instance's program (its policy
 *                           maps are reachable through it)
 *   PIN_ROOT/reason_stats   state maps shared by every instance
 *   PIN_ROOT/event_stats, event_buckets, events, conns
 *
 * The interfaces the gate is attached to are the ones whose XDP program
 * is PIN_ROOT/prog: the kernel is the record, so a loader that died
 * leaves nothing to reconcile.
 */
#ifndef CRANEGATE_LOADER_H
#define CRANEGATE_LOADER_H

#include <stdbool.h>
#include <stdio.h>

struct cg_env {
	const char *pin_root;	/* default /sys/fs/bpf/cranegate */
	const char *state_dir;	/* default /var/lib/cranegate */
	bool verbose;
	bool json;
};

/* Lock the pin root (creating it, and mounting bpffs if needed). */
int cg_lock(const struct cg_env *env, int *lock_fd);
void cg_unlock(int lock_fd);

int cg_apply(const struct cg_env *env, const char *policy_path);
int cg_detach(const struct cg_env *env);
int cg_status(const struct cg_env *env, FILE *out);
/* Stream events until signalled, `max` events (0: no limit) or `timeout_s` seconds (0: none). */
int cg_events_run(const struct cg_env *env, long long max, int timeout_s);

/* The active instance, read back from the pins. */
struct cg_active;
int cg_active_open(const struct cg_env *env, struct cg_active **out);
void cg_active_close(struct cg_active *a);
/* Name of zone `id` / flow `id` in the active policy, or NULL. */
const char *cg_active_zone(const struct cg_active *a, unsigned id);
const char *cg_active_flow(const struct cg_active *a, unsigned id);
unsigned long long cg_active_policy_id(const struct cg_active *a);

#endif
