// SPDX-License-Identifier: GPL-2.0
/*
 * Change control for shadow evaluation: the candidate's kept copy, and the
 * audit lines of apply --shadow, --shadow-stop and --promote. See
 * history.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
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
#include "diff.h"
#include "history.h"
#include "history_int.h"
#include "output.h"
#include "perm.h"
#include "runlock.h"

/* ------------------------------------------------------------------ */
/* Shadow evaluation (apply --shadow, --promote, --shadow-stop)         */

int cg_history_keep(const struct cg_env *env, const struct cg_policy *p,
		    const char *policy_path)
{
	int err = cg_hist_state_mkdir(env);

	return err ? err : cg_hist_keep_policy(env, p, policy_path);
}

int cg_history_copy(const struct cg_env *env, const uint8_t *sha, char *buf,
		    size_t len)
{
	cg_hist_policy_copy_path(env, sha, buf, len);
	return access(buf, R_OK) ? -ENOENT : 0;
}

void cg_audit_shadow(const struct cg_env *env, const char *action,
		     const struct cg_policy *p, const char *name,
		     const uint8_t *sha, const char *policy_path, int err,
		     const char *why)
{
	struct audit a = {.action = action, .file = policy_path};
	struct cg_policy *old = NULL;
	struct cg_diff *diff = NULL;
	struct hrow *rows = NULL;
	struct active act;
	char errbuf[160], h[65];
	size_t n = 0;
	int lock;

	if (cg_hist_state_mkdir(env))
		return;
	a.policy = p ? p->name : name;
	a.sha = p ? p->sha256 : sha;
	a.result = err ? "failed" : "ok";
	if (err) {
		snprintf(errbuf, sizeof(errbuf), "%s",
			 why ? why : strerror(-err));
		a.error = errbuf;
	}
	/* What the candidate would change against the live policy. */
	cg_hist_read_active(env, &act);
	if (act.have) {
		a.has_prev = true;
		a.prev_name = act.name;
		a.prev_sha = act.sha;
	}
	if (p)
		cg_hist_audit_diff(env, &a, p, &old, &diff);
	lock = cg_hist_state_lock(env);
	if (act.have && !cg_hist_read_history(env, &rows, &n)) {
		cg_hex(act.sha, 32, h);
		a.prev_rev = cg_hist_rev_of_sha(rows, n, h);
	}
	cg_hist_audit_write(env, &a);
	cg_hist_state_unlock(lock);
	free(rows);
	cg_diff_free(diff);
	cg_policy_free(old);
}

unsigned cg_history_rev_of_id(const struct cg_env *env, unsigned long long id)
{
	struct hrow *rows = NULL;
	unsigned rev = 0;
	char prefix[17];
	size_t n = 0, i;

	snprintf(prefix, sizeof(prefix), "%016llx", id);
	if (cg_hist_read_history(env, &rows, &n))
		return 0;
	for (i = n; i-- > 0 && !rev;)
		if (cg_hist_is_revision(&rows[i]) &&
		    !strncmp(rows[i].sha, prefix, 16))
			rev = rows[i].rev;
	free(rows);
	return rev;
}

/*
 * Whether the pin root and the state directory are root's alone (apply,
 * rollback and run refuse them otherwise), and the run managing the gate.
 */
static void dirs_status(const struct cg_env *env, FILE *out, bool json)
{
	const char *dirs[2] = {env->pin_root, env->state_dir};
	const char *roles[2] = {"pin root", "state directory"};
	char *msg[2] = {};
	size_t len, i;
	bool bad = false;
	int pid;

	for (i = 0; i < 2; i++) {
		FILE *m = open_memstream(&msg[i], &len);

		if (m) {
			bad |= cg_dir_perm_check(dirs[i], roles[i], i == 0, m);
			fclose(m);
		}
		if (msg[i] && (len = strlen(msg[i])) && msg[i][len - 1] == '\n')
			msg[i][len - 1] = 0;
	}
	if (json) {
		fprintf(out,
			", \"directories_ok\": %s, \"directory_problems\": [",
			bad ? "false" : "true");
		for (i = 0, len = 0; i < 2; i++)
			if (msg[i] && msg[i][0]) {
				fputs(len++ ? ", " : "", out);
				cg_json_str(out, msg[i]);
			}
		fputs("], \"run_pid\": ", out);
		if (cg_run_holder(env, &pid) && pid > 0)
			fprintf(out, "%d", pid);
		else
			fputs("null", out);
	} else {
		if (!bad)
			fprintf(out,
				"access:   pin root %s and state directory %s "
				"are root's and writable by no one else\n",
				env->pin_root, env->state_dir);
		for (i = 0; i < 2; i++)
			if (msg[i] && msg[i][0])
				fprintf(out, "access:   %s\n", msg[i]);
		if (cg_run_holder(env, &pid))
			fprintf(out,
				"run:      `cranegate run` (pid %d) manages "
				"this gate (detach refuses while it runs)\n",
				pid);
	}
	free(msg[0]);
	free(msg[1]);
}

void cg_history_status(const struct cg_env *env, FILE *out, bool json)
{
	struct hrow *rows = NULL;
	struct active act;
	struct pending pd;
	size_t n = 0;
	unsigned rev = 0;
	char sha[65];
	bool pending;

	dirs_status(env, out, json);
	cg_hist_read_active(env, &act);
	if (act.have && !cg_hist_read_history(env, &rows, &n)) {
		cg_hex(act.sha, 32, sha);
		rev = cg_hist_rev_of_sha(rows, n, sha);
	}
	free(rows);
	pending = !cg_hist_read_pending(env, &pd);
	if (json) {
		fputs(", \"revision\": ", out);
		if (rev)
			fprintf(out, "%u", rev);
		else
			fputs("null", out);
		fputs(", \"pending_confirm\": ", out);
		if (!pending) {
			fputs("null", out);
			return;
		}
		fprintf(out, "{\"rev\": %u, \"policy\": ", pd.rev);
		cg_json_str(out, pd.policy);
		fprintf(out,
			", \"sha256\": \"%s\", \"deadline\": \"%s\", "
			"\"seconds_left\": %lld, \"revert_to\": ",
			pd.sha, pd.deadline,
			pd.deadline_ms > cg_hist_now_ms()
				? (pd.deadline_ms - cg_hist_now_ms() + 999) /
					  1000
				: 0);
		cg_json_str(out, pd.revert_sha[0] ? pd.revert_policy : NULL);
		fputs(", \"revert_rev\": ", out);
		if (pd.revert_rev)
			fprintf(out, "%u", pd.revert_rev);
		else
			fputs("null", out);
		fprintf(out,
			", \"watchdog_pid\": %d, \"watchdog_running\": %s}",
			pd.watchdog_pid,
			pd.watchdog_pid > 0 && !kill(pd.watchdog_pid, 0)
				? "true"
				: "false");
		return;
	}
	if (rev)
		fprintf(out, "revision: %u (cranegate history)\n", rev);
	if (!pending)
		return;
	if (pd.deadline_ms > cg_hist_now_ms())
		fprintf(out,
			"confirm:  revision %u '%s' reverts to %s in %lld s "
			"(at %s) unless `cranegate confirm` runs\n",
			pd.rev, pd.policy,
			pd.revert_sha[0] ? pd.revert_policy
					 : "no policy (detach)",
			(pd.deadline_ms - cg_hist_now_ms() + 999) / 1000,
			pd.deadline);
	else
		fprintf(out,
			"confirm:  revision %u '%s' was due to revert at "
			"%s%s\n",
			pd.rev, pd.policy, pd.deadline,
			pd.watchdog_pid > 0 && !kill(pd.watchdog_pid, 0)
				? " (reverting)"
				: "; its watchdog is gone: `cranegate "
				  "rollback` or `cranegate confirm`");
}

void cg_audit_check(const struct cg_env *env, const char *path,
		    const struct cg_policy *p, const struct cg_diags *d,
		    int err)
{
	struct audit a = {.action = "check", .file = path, .counts = true};
	struct cg_policy *old = NULL;
	struct cg_diff *diff = NULL;
	struct active act;
	struct stat st;
	int lock;

	/* A check must not need (or create) the state of a live gate. */
	if (stat(env->state_dir, &st) || !S_ISDIR(st.st_mode) ||
	    access(env->state_dir, W_OK) ||
	    cg_dir_perm_check(env->state_dir, "state directory", false, NULL))
		return;
	a.policy = p ? p->name : NULL;
	a.sha = p ? p->sha256 : NULL;
	a.result = err ? "invalid" : "valid";
	a.errors = d->n_errors;
	a.warnings = d->n_warnings;
	if (!err && p) {
		cg_hist_read_active(env, &act);
		if (act.have) {
			a.has_prev = true;
			a.prev_name = act.name;
			a.prev_sha = act.sha;
		}
		cg_hist_audit_diff(env, &a, p, &old, &diff);
	}
	lock = cg_hist_state_lock(env);
	if (lock >= 0)
		cg_hist_audit_write(env, &a);
	cg_hist_state_unlock(lock);
	cg_diff_free(diff);
	cg_policy_free(old);
}
