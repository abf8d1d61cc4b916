// SPDX-License-Identifier: GPL-2.0
/*
 * The lock of `cranegate run` (see runlock.h). An flock belongs to the
 * open file: the kernel drops it when run exits or is killed, so a stale
 * file never blocks a new run; the pid in it is only for the message.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "perm.h"
#include "runlock.h"

static void lock_path(const struct cg_env *env, char *buf, size_t len)
{
	char cwd[PATH_MAX] = "", abs[2 * PATH_MAX + 2], *c;

	if (env->pin_root[0] != '/' && !getcwd(cwd, sizeof(cwd)))
		cwd[0] = 0;
	snprintf(abs, sizeof(abs), "%s%s%s", cwd, cwd[0] ? "/" : "",
		 env->pin_root);
	for (c = abs; *c; c++)
		if (*c == '/')
			*c = '_';
	snprintf(buf, len, "%s/run-%.200s.lock", CG_RUN_DIR, abs);
}

static int read_pid(int fd)
{
	char buf[32] = "";
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	return n > 0 ? atoi(buf) : 0;
}

int cg_run_lock(const struct cg_env *env)
{
	char path[PATH_MAX], buf[32];
	int fd, pid, err, n;

	if (mkdir(CG_RUN_DIR, 0700) && errno != EEXIST) {
		err = -errno;
		fprintf(stderr, "cranegate: cannot create %s: %s\n", CG_RUN_DIR,
			strerror(errno));
		return err;
	}
	if (cg_dir_perm_check(CG_RUN_DIR, "run directory", false, stderr))
		return -EPERM;
	lock_path(env, path, sizeof(path));
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		err = -errno;
		fprintf(stderr, "cranegate: cannot open %s: %s\n", path,
			strerror(-err));
		return err;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		pid = read_pid(fd);
		close(fd);
		if (err == -EBUSY)
			fprintf(stderr,
				"cranegate: another `cranegate run` (pid %d) "
				"already manages the gate at %s; stop it "
				"first (systemctl stop cranegate, or kill "
				"%d), or use another --pin-root\n",
				pid, env->pin_root, pid);
		return err;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) || pwrite(fd, buf, n, 0) != n)
		fprintf(stderr, "cranegate: warning: cannot write %s: %s\n",
			path, strerror(errno));
	return fd;
}

bool cg_run_holder(const struct cg_env *env, int *pid)
{
	char path[PATH_MAX];
	bool held = false;
	int fd;

	*pid = 0;
	lock_path(env, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	if (flock(fd, LOCK_SH | LOCK_NB) && errno == EWOULDBLOCK) {
		held = true;
		*pid = read_pid(fd);
	}
	close(fd);
	return held;
}
