/* SPDX-License-Identifier: GPL-2.0 */
/*
 * `cranegate status` (status_print.c): the gate's snapshot, the shadow,
 * and change control's active revision, as text or JSON (env->json).
 */
#ifndef CRANEGATE_STATUS_PRINT_H
#define CRANEGATE_STATUS_PRINT_H

#include <stdio.h>

#include "loader.h"

int cg_status(const struct cg_env *env, FILE *out);

#endif
