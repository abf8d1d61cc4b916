// SPDX-License-Identifier: GPL-2.0
/* `run --watch` (see file_watch.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file_watch.h"

static void watch_add(struct file_watch *w, const char *dir, const char *name)
{
	int wd;

	if (w->n == WATCH_MAX_NAMES || strlen(name) > NAME_MAX)
		return;
	wd = inotify_add_watch(w->fd, *dir ? dir : "/",
			       IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE);
	if (wd < 0)
		return; /* that directory does not exist (yet): nothing to see
			 */
	w->names[w->n].wd = wd;
	strcpy(w->names[w->n].name, name);
	w->n++;
}

/*
 * (Re)build the watches for `path`: resolve it one name at a time as the
 * kernel would, following symlinks, and watch each symlink's name and the
 * final name in their directories. A name that does not exist is watched
 * for its creation, and the walk stops there.
 */
void file_watch_resolve(struct file_watch *w, const char *path)
{
	char dir[PATH_MAX] = "", rest[2 * PATH_MAX], link[PATH_MAX];
	char cwd[PATH_MAX];
	unsigned hops = 0;
	size_t i;

	for (i = 0; i < w->n; i++)
		inotify_rm_watch(w->fd, w->names[i].wd);
	w->n = 0;
	if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		snprintf(rest, sizeof(rest), "%s", path);
	else
		snprintf(rest, sizeof(rest), "%s/%s", cwd, path);
	while (rest[0]) {
		char name[NAME_MAX + 1], cand[PATH_MAX + NAME_MAX + 2];
		const char *p = rest, *slash;
		struct stat st;
		size_t len;
		ssize_t n;

		while (*p == '/')
			p++;
		slash = strchr(p, '/');
		len = slash ? (size_t)(slash - p) : strlen(p);
		if (len > NAME_MAX)
			return;
		memcpy(name, p, len);
		name[len] = '\0';
		memmove(rest, p + len, strlen(p + len) + 1);
		if (!len || !strcmp(name, "."))
			continue;
		if (!strcmp(name, "..")) {
			char *last = strrchr(dir, '/');

			if (last)
				*last = '\0';
			continue;
		}
		snprintf(cand, sizeof(cand), "%s/%s", dir, name);
		if (lstat(cand, &st)) {
			watch_add(w, dir, name);
			return;
		}
		if (S_ISLNK(st.st_mode)) {
			char next[2 * PATH_MAX];

			watch_add(w, dir, name);
			n = readlink(cand, link, sizeof(link) - 1);
			if (n <= 0 || ++hops > 40)
				return;
			link[n] = '\0';
			if (link[0] == '/')
				dir[0] = '\0';
			if ((size_t)snprintf(next, sizeof(next), "%s/%s", link,
					     rest) >= sizeof(next))
				return;
			strcpy(rest, next);
			continue;
		}
		if (!rest[strspn(rest, "/")]) {
			watch_add(w, dir, name);
			return;
		}
		if (strlen(cand) >= sizeof(dir))
			return;
		strcpy(dir, cand);
	}
}

/* An inotify instance watching what `path` resolves to, or -errno. */
int file_watch_open(struct file_watch *w, const char *path)
{
	w->n = 0;
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0)
		return -errno;
	file_watch_resolve(w, path);
	if (!w->n) {
		close(w->fd);
		w->fd = -1;
		return -ENOENT;
	}
	return w->fd;
}

/* Read what the watch has; true when one event names a watched name. */
bool file_watch_drain(struct file_watch *w)
{
	char buf[4096]
		__attribute__((aligned(__alignof__(struct inotify_event))));
	bool hit = false;
	ssize_t n;
	size_t i;

	while ((n = read(w->fd, buf, sizeof(buf))) > 0) {
		char *p = buf;

		while (p < buf + n) {
			const struct inotify_event *e = (const void *)p;

			if (e->mask & IN_Q_OVERFLOW)
				hit = true;
			for (i = 0; e->len && i < w->n; i++)
				if (e->wd == w->names[i].wd &&
				    !strcmp(e->name, w->names[i].name))
					hit = true;
			p += sizeof(*e) + e->len;
		}
	}
	return hit;
}
