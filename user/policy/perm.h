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

/*
 * The pin root or the state directory (`role` names which, for the
 * message): 0 if it is missing (it will be created 0700) or belongs to root
 * (or the user running cranegate) and is writable by no one else, and so
 * is every directory above it, up to `/` or, with `below_mount`, up to the
 * root of the filesystem it is on (bpffs is mounted 1777). -EPERM if not,
 * with one line on `out` (if not NULL) naming the directory and the fix.
 */
int cg_dir_perm_check(const char *dir, const char *role, bool below_mount,
		      FILE *out);

#endif
