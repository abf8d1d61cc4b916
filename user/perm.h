/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Who may change a policy file before the gate reads it. A policy file is
 * trusted when no one but root (or the user running cranegate) can write
 * it or replace it: the checks of sshd's StrictModes, applied to the file
 * and to every directory above it.
 */
#ifndef CRANEGATE_PERM_H
#define CRANEGATE_PERM_H

#include <stdbool.h>
#include <stdio.h>

/*
 * 0 if `path` is trusted, -EPERM if not, with one line on `out` naming
 * the file (or directory), what is wrong and the fix. With `warn_only`
 * the line is a warning and the return is 0. Paths that cannot be
 * resolved or are not regular files (a pipe given as /dev/stdin) are
 * left to the parser, which reports them: 0.
 */
int cg_policy_perm_check(const char *path, bool warn_only, FILE *out);

#endif
