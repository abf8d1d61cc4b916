// SPDX-License-Identifier: GPL-2.0
/*
 * apply --confirm: the pending record, the watchdog that reverts at the
 * deadline unless `cranegate confirm` comes first, and run's resumption of
 * a pending confirmation after a restart. See history.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "hex.h"
#include "history.h"
#include "history_int.h"

/* ------------------------------------------------------------------ */
/* apply --confirm, and the watchdog                                   */

static void sleep_ms(long long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/*
 * Claim the pending record for the revert: renamed to pending.claimed, so
 * that a `confirm` from now on finds nothing pending, and put back if the
 * revert cannot happen yet. 1 claimed, 0 gone (confirmed, superseded),
 * -errno when the state directory refuses (read-only): try again later.
 */
static int claim_pending(const struct cg_env *env, const char *token,
			 struct pending *pd)
{
	char from[PATH_MAX], to[PATH_MAX];
	int lock, ret = 1;

	lock = cg_hist_state_lock(env);
	if (lock < 0)
		return lock;
	if (cg_hist_read_pending(env, pd) || strcmp(pd->token, token)) {
		ret = 0;
	} else {
		cg_hist_state_path(env, "pending.json", from, sizeof(from));
		cg_hist_state_path(env, "pending.claimed", to, sizeof(to));
		if (rename(from, to))
			ret = -errno;
	}
	cg_hist_state_unlock(lock);
	return ret;
}

static void unclaim_pending(const struct cg_env *env, bool revert_done)
{
	char from[PATH_MAX], to[PATH_MAX];
	int lock = cg_hist_state_lock(env);

	cg_hist_state_path(env, "pending.claimed", from, sizeof(from));
	cg_hist_state_path(env, "pending.json", to, sizeof(to));
	if (revert_done || !access(to, F_OK))
		unlink(from); /* done, or a newer apply is pending */
	else
		rename(from, to);
	cg_hist_fsync_dir(env->state_dir);
	cg_hist_state_unlock(lock);
}

/* Take revision pd->rev back: 0, -ESTALE (nothing to take back) or -errno. */
static int revert(const struct cg_env *env, const struct pending *pd)
{
	char path[PATH_MAX];
	int err;

	if (pd->revert_sha[0]) {
		struct cg_change ch = {.action = "revert",
				       .reverts_rev = pd->rev,
				       .expect_active = true};
		uint8_t sha[32];

		cg_unhex(pd->revert_sha, sha, 32);
		cg_unhex(pd->sha, ch.expect_sha, 32);
		cg_hist_policy_copy_path(env, sha, path, sizeof(path));
		err = cg_apply_change(env, path, &ch);
		if (err)
			syslog(LOG_ERR,
			       "revision %u '%s' was not confirmed by %s; "
			       "reverting to '%s' failed: %s",
			       pd->rev, pd->policy, pd->deadline,
			       pd->revert_policy, strerror(-err));
		else
			syslog(LOG_WARNING,
			       "revision %u '%s' was not confirmed by %s; "
			       "reverted to '%s' (revision %u)",
			       pd->rev, pd->policy, pd->deadline,
			       pd->revert_policy, ch.rev);
		return err;
	} else {
		struct active act;
		uint8_t sha[32];

		cg_hist_read_active(env, &act);
		cg_unhex(pd->sha, sha, 32);
		if (!act.have || memcmp(act.sha, sha, 32))
			return -ESTALE; /* something else is active now */
		cg_hist_detach_action = "revert";
		cg_hist_detach_reverts = pd->rev;
		err = cg_detach(env);
		syslog(err ? LOG_ERR : LOG_WARNING,
		       "revision %u '%s' was not confirmed by %s; no policy "
		       "was active before it: %s",
		       pd->rev, pd->policy, pd->deadline,
		       err ? "detaching failed" : "detached");
		return err;
	}
}

/*
 * The watchdog: wait for the applier's word ('1' applied, '0' failed, or
 * nothing: it died, and the pending record tells; rfd -1: resumed by run),
 * then for the deadline; revert unless the record is gone or belongs to
 * another apply. A revert that cannot be recorded (the state directory is
 * full or read-only) is not done: the record goes back, and the watchdog
 * tries again every few seconds, until it can or someone decides.
 */
static void watchdog(const struct cg_env *env, const char *token, int rfd)
{
	struct pending pd;
	char c = 0;
	bool said = false;
	int claimed, err;

	if (rfd >= 0 && read(rfd, &c, 1) == 1 && c == '0')
		return;
	if (rfd >= 0)
		close(rfd);
	openlog("cranegate", LOG_PID, LOG_DAEMON);
	for (;;) {
		long long left;

		if (cg_hist_read_pending(env, &pd) || strcmp(pd.token, token))
			break; /* confirmed, superseded, or never armed */
		left = pd.deadline_ms - cg_hist_now_ms();
		if (left > 0) {
			sleep_ms(left < 200 ? left : 200);
			continue;
		}
		claimed = claim_pending(env, token, &pd);
		if (claimed == 0)
			break;
		err = claimed < 0 ? claimed : revert(env, &pd);
		if (claimed > 0)
			unclaim_pending(env, !err || err == -ESTALE);
		if (!err || err == -ESTALE)
			break;
		if (!said)
			syslog(LOG_ERR,
			       "revision %u '%s' is due to revert, but it "
			       "cannot be done and recorded (%s); trying again "
			       "every 5 s",
			       pd.rev, pd.policy, strerror(-err));
		said = true;
		if (access(env->state_dir, F_OK))
			break;
		sleep_ms(5000);
	}
	closelog();
}

/*
 * In a child of fork(): become a watchdog that nothing the caller does can
 * reach. A new session, SIGHUP ignored, a second fork (the grandchild is
 * no one's child, so the caller's exit cannot take it along), its pid
 * written to `report_fd` (then closed), and the caller's directory and
 * terminal let go. Returns in the grandchild only.
 */
static void watchdog_detach(int report_fd)
{
	pid_t me;
	int fd;

	setsid();
	signal(SIGHUP, SIG_IGN);
	if (fork() != 0)
		_exit(0);
	me = getpid();
	if (write(report_fd, &me, sizeof(me)) != sizeof(me))
		_exit(1);
	close(report_fd);
	if (chdir("/"))
		_exit(1);
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
}

/* Make a path absolute (the watchdog runs from /). */
static const char *absolute(const char *path, char *buf, size_t len)
{
	char cwd[PATH_MAX];

	if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		return path;
	snprintf(buf, len, "%s/%s", cwd, path);
	return buf;
}

int cg_apply_confirmed(const struct cg_env *env, const char *policy_path,
		       const char *seconds)
{
	return cg_apply_confirmed_as(env, policy_path, seconds, "apply");
}

int cg_apply_confirmed_as(const struct cg_env *env, const char *policy_path,
			  const char *seconds, const char *action)
{
	char pin_root[2 * PATH_MAX + 2], state_dir[2 * PATH_MAX + 2], *end;
	struct cg_change ch = {.action = action};
	struct cg_env wenv = *env;
	uint8_t rnd[16];
	int to_wd[2], from_wd[2], err, status;
	long secs;
	pid_t pid;

	secs = strtol(seconds, &end, 10);
	if (*end || end == seconds || secs < 1 || secs > MAX_CONFIRM_S) {
		fprintf(stderr,
			"cranegate apply: --confirm wants seconds, 1 to %d\n",
			MAX_CONFIRM_S);
		return -EINVAL;
	}
	ch.confirm_s = secs;
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return -errno;
	cg_hex(rnd, sizeof(rnd), ch.token);
	wenv.pin_root = absolute(env->pin_root, pin_root, sizeof(pin_root));
	wenv.state_dir = absolute(env->state_dir, state_dir, sizeof(state_dir));

	/* The watchdog first: from here on, a dying shell cannot stop it. */
	if (pipe2(to_wd, O_CLOEXEC) || pipe2(from_wd, O_CLOEXEC))
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		close(to_wd[1]);
		close(from_wd[0]);
		watchdog_detach(from_wd[1]);
		watchdog(&wenv, ch.token, to_wd[0]);
		_exit(0);
	}
	close(to_wd[0]);
	close(from_wd[1]);
	waitpid(pid, &status, 0);
	if (read(from_wd[0], &ch.watchdog_pid, sizeof(ch.watchdog_pid)) !=
	    sizeof(ch.watchdog_pid))
		ch.watchdog_pid = 0;
	close(from_wd[0]);

	err = cg_apply_change(&wenv, policy_path, &ch);
	if (write(to_wd[1], err ? "0" : "1", 1) != 1)
		err = err ? err : -EIO;
	close(to_wd[1]);
	if (!err) {
		struct pending pd;

		if (!cg_hist_read_pending(&wenv, &pd))
			printf("revision %u: confirm within %ld s (cranegate "
			       "confirm), or it reverts to %s at %s\n",
			       ch.rev, secs,
			       pd.revert_sha[0] ? pd.revert_policy
						: "no policy (detach)",
			       pd.deadline);
	}
	return err;
}

int cg_confirm(const struct cg_env *env)
{
	struct audit a = {.action = "confirm"};
	struct pending pd;
	uint8_t sha[32];
	int lock;

	if (access(env->state_dir, F_OK)) {
		fprintf(stderr,
			"cranegate: nothing to confirm: no state in %s\n",
			env->state_dir);
		return -ENOENT;
	}
	lock = cg_hist_state_lock(env);
	if (lock < 0)
		return lock;
	if (cg_hist_read_pending(env, &pd)) {
		a.result = "nothing pending";
		cg_hist_audit_write(env, &a);
		cg_hist_state_unlock(lock);
		fprintf(stderr,
			"cranegate: no apply is waiting for confirmation (see "
			"cranegate history: it may have been reverted)\n");
		return -ENOENT;
	}
	a.rev = pd.rev;
	a.policy = pd.policy;
	a.sha = cg_unhex(pd.sha, sha, 32) ? sha : NULL;
	a.result = "ok";
	/* Recorded before it takes effect: else the revert still comes. */
	if (cg_hist_audit_write(env, &a)) {
		cg_hist_state_unlock(lock);
		fprintf(stderr,
			"cranegate: not confirmed: the confirmation cannot be "
			"recorded in %s; revision %u still reverts at %s\n",
			env->state_dir, pd.rev, pd.deadline);
		return -EIO;
	}
	if (cg_hist_remove_pending(env)) {
		cg_hist_state_unlock(lock);
		fprintf(stderr,
			"cranegate: not confirmed: cannot remove "
			"%s/pending.json "
			"(%s); revision %u still reverts at %s\n",
			env->state_dir, strerror(errno), pd.rev, pd.deadline);
		return -EIO;
	}
	cg_hist_state_unlock(lock);
	printf("confirmed revision %u, policy '%s': it stays\n", pd.rev,
	       pd.policy);
	return 0;
}

/* Is pid a cranegate process (a watchdog), not a pid reused after a boot? */
static bool is_cranegate(int pid)
{
	char path[64], comm[32] = "";
	FILE *f;

	if (pid <= 0 || kill(pid, 0))
		return false;
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = 0;
	fclose(f);
	return !strncmp(comm, "cranegate", 9);
}

int cg_confirm_resume(const struct cg_env *env, char *buf, size_t len,
		      unsigned *rev)
{
	char pin_root[2 * PATH_MAX + 2], state_dir[2 * PATH_MAX + 2];
	struct cg_env wenv = *env;
	struct pending pd;
	uint8_t sha[32];
	int status, pfd[2], lock;
	pid_t pid, wd = 0;

	if (access(env->state_dir, F_OK) || cg_hist_read_pending(env, &pd) ||
	    !cg_unhex(pd.sha, sha, 32))
		return -ENOENT;
	cg_hist_policy_copy_path(env, sha, buf, len);
	if (access(buf, R_OK)) {
		fprintf(stderr,
			"cranegate: revision %u awaits confirmation, but its "
			"policy has no copy in %s/policies\n",
			pd.rev, env->state_dir);
		return -ENOENT;
	}
	*rev = pd.rev;
	if (is_cranegate(pd.watchdog_pid))
		return 0;

	/* Its watchdog is gone (a reboot): a new one, as apply starts it. */
	wenv.pin_root = absolute(env->pin_root, pin_root, sizeof(pin_root));
	wenv.state_dir = absolute(env->state_dir, state_dir, sizeof(state_dir));
	if (pipe2(pfd, O_CLOEXEC))
		return 0;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		close(pfd[0]);
		watchdog_detach(pfd[1]);
		/* Nothing of run's: not its log, socket or locks. */
		close_range(3, ~0U, 0);
		watchdog(&wenv, pd.token, -1);
		_exit(0);
	}
	close(pfd[1]);
	if (pid > 0) {
		waitpid(pid, &status, 0);
		if (read(pfd[0], &wd, sizeof(wd)) != sizeof(wd))
			wd = 0;
	}
	close(pfd[0]);
	if (wd <= 0) {
		fprintf(stderr,
			"cranegate: cannot start a watchdog for revision %u: "
			"it will not revert by itself\n",
			pd.rev);
		return 0;
	}
	lock = cg_hist_state_lock(env);
	if (!cg_hist_read_pending(env, &pd) && pd.rev == *rev) {
		pd.watchdog_pid = wd;
		cg_hist_write_pending(env, &pd);
	}
	cg_hist_state_unlock(lock);
	syslog(LOG_NOTICE,
	       "revision %u '%s' awaits confirmation until %s; its watchdog "
	       "was gone, a new one (pid %d) reverts it unless confirmed",
	       pd.rev, pd.policy, pd.deadline, wd);
	return 0;
}
