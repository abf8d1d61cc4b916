// SPDX-License-Identifier: GPL-2.0
/*
 * The policy file's permissions, checked before apply and run read it.
 *
 * The rule is sshd's StrictModes (secure_filename), which sudo applies to
 * sudoers in the same spirit: the file must belong to root or to the user
 * running cranegate and must not be writable by its group or by others;
 * every directory the path passes through must belong to root or that
 * user and must not be writable by group or others, unless it is sticky
 * (/tmp: others may add files there but cannot rename or remove ours).
 * Then only root (or the caller) can change what the gate will enforce,
 * and the file cannot be swapped between this check and the read. The
 * directories are checked along the path as given (where symbolic links
 * live) and along the resolved path (where the file lives).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "perm.h"

struct judge {
	const char *path; /* the policy file as the operator named it */
	bool warn_only;
	FILE *out;
	uid_t me;
};

static void say(const struct judge *j, const char *what, const char *fix,
		const char *obj)
{
	if (j->warn_only)
		fprintf(j->out,
			"cranegate: warning: %s: apply and run will refuse "
			"this policy: %s (fix: %s %s, or pass --insecure)\n",
			j->path, what, fix, obj);
	else
		fprintf(j->out,
			"cranegate: %s: refusing the policy: %s (fix: %s %s, "
			"or pass --insecure)\n",
			j->path, what, fix, obj);
}

static const char *writers(mode_t mode)
{
	if ((mode & S_IWGRP) && (mode & S_IWOTH))
		return "its group and others";
	return mode & S_IWGRP ? "its group" : "others";
}

/* One file or directory on the way: 0, or -EPERM after saying why. */
static int trusted(const struct judge *j, const char *obj, bool is_file)
{
	char who[PATH_MAX + 32], what[PATH_MAX + 128];
	struct stat st;

	/* What cannot be looked up the parser will report. */
	if (stat(obj, &st))
		return 0;
	if (is_file)
		snprintf(who, sizeof(who), "the file");
	else
		snprintf(who, sizeof(who), "its directory %s", obj);
	if (st.st_uid != 0 && st.st_uid != j->me) {
		snprintf(what, sizeof(what),
			 "%s belongs to uid %u, not to root%s", who,
			 (unsigned)st.st_uid, j->me ? " or to you" : "");
		say(j, what, "chown root", obj);
		return -EPERM;
	}
	if (!(st.st_mode & (S_IWGRP | S_IWOTH)))
		return 0;
	if (!is_file && (st.st_mode & S_ISVTX))
		return 0;
	snprintf(what, sizeof(what), "%s is mode %04o, writable by %s%s", who,
		 (unsigned)(st.st_mode & 07777), writers(st.st_mode),
		 is_file ? "" : ", who can replace the file");
	say(j, what, "chmod go-w", obj);
	return -EPERM;
}

/* Every directory above `abs` (an absolute path), deepest first. */
static int trusted_dirs(const struct judge *j, const char *abs)
{
	char dir[PATH_MAX], *slash;
	int err;

	if (snprintf(dir, sizeof(dir), "%s", abs) >= (int)sizeof(dir))
		return 0;
	while ((slash = strrchr(dir, '/'))) {
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
		if ((err = trusted(j, dir, false)))
			return err;
		if (slash == dir)
			break;
	}
	return 0;
}

int cg_policy_perm_check(const char *path, bool warn_only, FILE *out)
{
	struct judge j = {.path = path,
			  .warn_only = warn_only,
			  .out = out,
			  .me = geteuid()};
	char given[PATH_MAX], cwd[PATH_MAX], *real;
	struct stat st;
	int err;

	/* A pipe or terminal (/dev/stdin) is the caller's own stream. */
	if (stat(path, &st) || !S_ISREG(st.st_mode))
		return 0;
	real = realpath(path, NULL);
	if (!real)
		return 0;
	err = trusted(&j, real, true);
	if (!err)
		err = trusted_dirs(&j, real);
	if (!err && path[0] != '/' && getcwd(cwd, sizeof(cwd)) &&
	    snprintf(given, sizeof(given), "%s/%s", cwd, path) <
		    (int)sizeof(given))
		err = trusted_dirs(&j, given);
	else if (!err && path[0] == '/')
		err = trusted_dirs(&j, path);
	free(real);
	return warn_only ? 0 : err;
}

/* ---- the pin root and the state directory */

/*
 * One directory of the gate's own (`own`: the pin root or state directory
 * itself; else one above it): 0, or -EPERM after saying why and the fix.
 */
static int dir_trusted(const char *role, const char *top, const char *dir,
		       const struct stat *st, bool own, FILE *out)
{
	uid_t me = geteuid();
	char what[PATH_MAX + 128];

	if (st->st_uid != 0 && st->st_uid != me)
		snprintf(what, sizeof(what), "belongs to uid %u, not to root",
			 (unsigned)st->st_uid);
	else if ((st->st_mode & (S_IWGRP | S_IWOTH)) &&
		 (own || !(st->st_mode & S_ISVTX)))
		snprintf(what, sizeof(what), "is mode %04o, writable by %s",
			 (unsigned)(st->st_mode & 07777), writers(st->st_mode));
	else
		return 0;
	if (!out)
		return -EPERM;
	if (own)
		fprintf(out,
			"cranegate: refusing the %s %s: it %s, so someone "
			"else could hold its lock or replace what is in it "
			"(fix: remove it, and cranegate creates it 0700 owned "
			"by root; or chown root:root %s && chmod 0700 %s)\n",
			role, top, what, dir, dir);
	else
		fprintf(out,
			"cranegate: refusing the %s %s: the directory %s "
			"above it %s, so someone else could replace it (fix: "
			"chown root %s && chmod go-w %s)\n",
			role, top, dir, what, dir, dir);
	return -EPERM;
}

int cg_dir_perm_check(const char *dir, const char *role, bool below_mount,
		      FILE *out)
{
	char *real, up[PATH_MAX + 4], *slash;
	struct stat st, pst, gst;
	dev_t dev;
	int err;

	if (stat(dir, &st))
		return 0; /* not there yet: created 0700 */
	real = realpath(dir, NULL);
	if (!real)
		return 0;
	err = dir_trusted(role, dir, real, &st, true, out);
	dev = st.st_dev;
	while (!err && (slash = strrchr(real, '/'))) {
		if (slash == real)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (stat(real, &pst))
			break;
		if (below_mount) {
			/* Stop at the mount: its root is the system's. */
			snprintf(up, sizeof(up), "%s/..", real);
			if (pst.st_dev != dev || stat(up, &gst) ||
			    gst.st_dev != pst.st_dev)
				break;
		}
		err = dir_trusted(role, dir, real, &pst, false, out);
		if (slash == real)
			break;
	}
	free(real);
	return err;
}
