/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One `cranegate run` per pin root. run holds an flock on
 * RUNDIR/run-PINROOT.lock (RUNDIR: /run/cranegate, 0700, root's; PINROOT:
 * the pin root's absolute path with '/' as '_') for as long as it runs,
 * with its pid in the file. A second run refuses, naming the first; a
 * `detach` refuses while a run manages the gate, because run would put
 * the gate back at once (it re-guards unguarded interfaces).
 */
#ifndef CRANEGATE_RUNLOCK_H
#define CRANEGATE_RUNLOCK_H

#include <stdbool.h>

#include "loader.h"

#define CG_RUN_DIR "/run/cranegate"

/*
 * Take the lock for the life of the process: the descriptor (close-on-
 * exec), or -EBUSY after saying which pid holds it, or another -errno.
 */
int cg_run_lock(const struct cg_env *env);

/* Does a run hold the lock of env's pin root? Its pid in *pid (0: unknown). */
bool cg_run_holder(const struct cg_env *env, int *pid);

#endif
