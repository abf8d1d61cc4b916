/* SPDX-License-Identifier: GPL-2.0 */
/*
 * `run --watch`: the policy file changing on disk, through inotify.
 */
#ifndef CRANEGATE_FILE_WATCH_H
#define CRANEGATE_FILE_WATCH_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * What --watch looks at: every name on the way from POLICY to the file it
 * resolves to. A symlink is watched in its directory (its own name: a
 * `..data` swapped by rename, a link re-pointed), and so is the final
 * file (written in place, or renamed over). Kubernetes publishes a
 * ConfigMap as `policy.yaml -> ..data/policy.yaml` with
 * `..data -> ..2026_12_02_...`, and swaps `..data` atomically; a deploy
 * tool may point `policy.yaml` at `releases/v7/policy.yaml` and edit or
 * re-point that. After any change the names are resolved again.
 */
#define WATCH_MAX_NAMES 48 /* 40 symlinks (the kernel's limit), then some */

struct watch_name {
	int wd;
	char name[NAME_MAX + 1];
};

struct file_watch {
	int fd;
	size_t n;
	struct watch_name names[WATCH_MAX_NAMES];
};

/* Watch every name on the way to `path` again (after a change). */
void file_watch_resolve(struct file_watch *w, const char *path);
/* An inotify instance watching what `path` resolves to, or -errno. */
int file_watch_open(struct file_watch *w, const char *path);
/* Read what the watch has; true when one event names a watched name. */
bool file_watch_drain(struct file_watch *w);

#endif /* CRANEGATE_FILE_WATCH_H */
