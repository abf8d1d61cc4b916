// SPDX-License-Identifier: GPL-2.0
/*
 * The hooks of apply, detach and status (struct cg_change_hooks, wired by
 * cli/main.c): a change is recorded in the audit log before it happens
 * (begin: revision number, who, the policy kept by its sha256, a pending
 * confirmation) and its outcome after (end); a detach likewise. See
 * history.h for the rules.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hex.h"
#include "diff.h"
#include "history.h"
#include "history_int.h"
#include "perm.h"

/* Why begin refused, for the audit line and the operator. */
int cg_hist_refuse(struct cg_change *ch, int err, const char *what)
{
	snprintf(ch->whybuf, sizeof(ch->whybuf), "%s: %s", what,
		 strerror(-err));
	ch->why = ch->whybuf;
	fprintf(stderr,
		"cranegate: refusing the change: %s; nothing was changed\n",
		ch->whybuf);
	return err;
}

/*
 * The audit line's diff against the policy active before needs that
 * policy's kept copy parsed, and the two diffed: at 100,000 flows, about
 * as long as the rest of the apply. It runs in threads of its own, beside
 * the apply, on the other CPU:
 *   - prepare (before apply parses the new policy) starts parsing the
 *     active policy's copy;
 *   - begin (the new policy parsed; read-only from here until end) starts
 *     the diff, which first waits for that parse;
 *   - end waits for whatever runs, on every way out, and takes the result.
 * The threads write only their own struct; the policy code keeps no
 * mutable statics (cg_l4_name's buffer is thread-local).
 */
struct audit_prep {
	const struct cg_env *env;
	uint8_t prev_sha[32];
	pthread_t parse_th, diff_th;
	bool parsing, diffing;
	const struct cg_policy *p;
	struct audit a; /* diff, diff_note out */
	struct cg_policy *old;
	struct cg_diff *diff;
};

static void *audit_parse_run(void *arg)
{
	struct audit_prep *ap = arg;

	cg_hist_audit_old(ap->env, &ap->a, ap->prev_sha, &ap->old);
	return NULL;
}

static void *audit_diff_run(void *arg)
{
	struct audit_prep *ap = arg;

	if (ap->parsing) {
		pthread_join(ap->parse_th, NULL);
		ap->parsing = false;
	}
	cg_hist_audit_diff_of(&ap->a, ap->old, ap->p, &ap->diff);
	return NULL;
}

/* Wait for it (every way out of a change passes here). */
static struct audit_prep *audit_prep_take(struct cg_change *ch)
{
	struct audit_prep *ap = ch->audit_prep;

	if (!ap)
		return NULL;
	if (ap->diffing)
		pthread_join(ap->diff_th, NULL);
	else if (ap->parsing)
		pthread_join(ap->parse_th, NULL);
	ap->diffing = ap->parsing = false;
	ch->audit_prep = NULL;
	return ap;
}

static void audit_prep_free(struct audit_prep *ap)
{
	if (!ap)
		return;
	cg_diff_free(ap->diff);
	cg_policy_free(ap->old);
	free(ap);
}

static struct audit_prep *audit_parse_start(const struct cg_env *env,
					    const uint8_t *sha)
{
	struct audit_prep *ap = calloc(1, sizeof(*ap));

	if (!ap)
		return NULL;
	ap->env = env;
	memcpy(ap->prev_sha, sha, 32);
	if (pthread_create(&ap->parse_th, NULL, audit_parse_run, ap)) {
		free(ap);
		return NULL;
	}
	ap->parsing = true;
	return ap;
}

void cg_change_prepare(const struct cg_env *env, struct cg_change *ch)
{
	struct active act;

	cg_hist_read_active(env, &act);
	if (act.have && !ch->audit_prep)
		ch->audit_prep = audit_parse_start(env, act.sha);
}

/*
 * Start the diff against the policy active now (`sha`); without a thread,
 * end works it all out itself, as before.
 */
static void audit_diff_start(const struct cg_env *env, struct cg_change *ch,
			     const uint8_t *sha, const struct cg_policy *p)
{
	struct audit_prep *ap = ch->audit_prep;

	if (ap && memcmp(ap->prev_sha, sha, 32)) {
		/* Another policy became active since prepare. */
		audit_prep_free(audit_prep_take(ch));
		ap = NULL;
	}
	if (!ap && !(ap = ch->audit_prep = audit_parse_start(env, sha)))
		return;
	ap->p = p;
	if (!pthread_create(&ap->diff_th, NULL, audit_diff_run, ap))
		ap->diffing = true;
	else
		ap->p = NULL; /* end diffs (its parse it takes over) */
}

int cg_change_begin(const struct cg_env *env, struct cg_change *ch,
		    const struct cg_policy *p, const char *policy_path)
{
	struct audit a = {.action = ch->action ? ch->action : "apply",
			  .result = "started"};
	struct active act;
	struct pending pd = {}, old_pd;
	struct hrow *rows = NULL;
	size_t n = 0;
	struct who w;
	char path[PATH_MAX], h[65];
	int err, lock;

	ch->begun = true;
	cg_hist_read_active(env, &act);
	ch->had_old = act.have;
	memcpy(ch->old_sha, act.sha, 32);
	snprintf(ch->old_name, sizeof(ch->old_name), "%s", act.name);

	if (ch->expect_active &&
	    (!act.have || memcmp(act.sha, ch->expect_sha, 32))) {
		fprintf(stderr, "cranegate: the policy awaiting confirmation "
				"is no longer active; nothing to revert\n");
		ch->why = "the policy awaiting confirmation is no longer "
			  "active";
		return -ESTALE;
	}
	if ((err = cg_hist_state_mkdir(env))) {
		ch->no_state = true;
		return err;
	}
	/* Recorded before it happens: the copy first, then the line. */
	if ((err = cg_hist_keep_policy(env, p, policy_path)))
		return cg_hist_refuse(ch, err,
				      "cannot keep a copy of the policy");

	lock = cg_hist_state_lock(env);
	if (lock < 0)
		return cg_hist_refuse(ch, lock,
				      "cannot lock the state directory");
	if ((err = cg_hist_read_history(env, &rows, &n))) {
		cg_hist_state_unlock(lock);
		return cg_hist_refuse(ch, err, "cannot read the audit log");
	}
	if (ch->confirm_s) {
		/* apply --confirm: the way back must be there. */
		if (!cg_hist_read_pending(env, &old_pd)) {
			/* Unconfirmed over unconfirmed: back to the last
			 * confirmed. */
			snprintf(pd.revert_sha, sizeof(pd.revert_sha), "%s",
				 old_pd.revert_sha);
			snprintf(pd.revert_policy, sizeof(pd.revert_policy),
				 "%s", old_pd.revert_policy);
			pd.revert_rev = old_pd.revert_rev;
		} else if (act.have) {
			cg_hex(act.sha, 32, pd.revert_sha);
			snprintf(pd.revert_policy, sizeof(pd.revert_policy),
				 "%s", act.name);
			pd.revert_rev =
				cg_hist_rev_of_sha(rows, n, pd.revert_sha);
		}
		if (pd.revert_sha[0]) {
			uint8_t sha[32];

			cg_unhex(pd.revert_sha, sha, 32);
			cg_hist_policy_copy_path(env, sha, path, sizeof(path));
			if (access(path, R_OK)) {
				fprintf(stderr,
					"cranegate: cannot arm the revert: the "
					"active policy '%s' has no copy in "
					"%s/policies (it was applied with "
					"another --state-dir); apply it once "
					"with this one, or apply without "
					"--confirm\n",
					pd.revert_policy, env->state_dir);
				cg_hist_state_unlock(lock);
				free(rows);
				ch->why = "the active policy has no copy to "
					  "revert to";
				return -ENOENT;
			}
		}
		cg_hist_who_am_i(&w);
		snprintf(pd.token, sizeof(pd.token), "%s", ch->token);
		snprintf(pd.policy, sizeof(pd.policy), "%s", p->name);
		cg_hex(p->sha256, 32, pd.sha);
		snprintf(pd.user, sizeof(pd.user), "%s", w.user);
		pd.deadline_ms = cg_hist_now_ms() + ch->confirm_s * 1000ll;
		cg_hist_iso_time(pd.deadline_ms / 1000, pd.deadline,
				 sizeof(pd.deadline));
		pd.watchdog_pid = ch->watchdog_pid;
	}

	/* The revision: one more than any number given out before. */
	ch->rev = cg_hist_max_rev(rows, n) + 1;
	a.rev = ch->rev;
	a.policy = p->name;
	a.sha = p->sha256;
	a.file = policy_path;
	a.from_rev = ch->from_rev;
	a.reverts_rev = ch->reverts_rev;
	a.confirm_by = pd.token[0] ? pd.deadline : NULL;
	if (act.have) {
		a.has_prev = true;
		a.prev_name = act.name;
		a.prev_sha = act.sha;
		cg_hex(act.sha, 32, h);
		a.prev_rev = cg_hist_rev_of_sha(rows, n, h);
	}
	free(rows);
	if ((err = cg_hist_audit_write(env, &a))) {
		cg_hist_state_unlock(lock);
		ch->rev = 0; /* not recorded: not given out */
		return cg_hist_refuse(ch, err,
				      "cannot record the change in the "
				      "audit log");
	}
	if (pd.token[0]) {
		/* Armed before anything switches. */
		pd.rev = ch->rev;
		if ((err = cg_hist_write_pending(env, &pd))) {
			cg_hist_state_unlock(lock);
			return cg_hist_refuse(
				ch, err,
				"cannot write the pending confirmation");
		}
		ch->armed = true;
	}
	cg_hist_state_unlock(lock);
	if (act.have)
		audit_diff_start(env, ch, act.sha, p);
	return 0;
}

void cg_change_end(const struct cg_env *env, struct cg_change *ch,
		   const struct cg_policy *p, const char *policy_path, int err)
{
	struct audit a = {.action = ch->action ? ch->action : "apply"};
	struct cg_policy *old = NULL;
	struct cg_diff *diff = NULL;
	struct pending pd;
	struct hrow *rows = NULL;
	size_t n = 0;
	char errbuf[160], sha_hex[65];
	struct audit_prep *ap = audit_prep_take(ch);
	int lock, werr;

	if (ch->no_state || (!ch->begun && cg_hist_state_mkdir(env))) {
		audit_prep_free(ap);
		return; /* no state directory that can hold the record */
	}
	a.rev = ch->rev;
	a.policy = p ? p->name : NULL;
	a.sha = p ? p->sha256 : NULL;
	a.file = policy_path;
	a.from_rev = ch->from_rev;
	a.reverts_rev = ch->reverts_rev;
	if (ch->begun && ch->had_old) {
		a.has_prev = true;
		a.prev_name = ch->old_name;
		a.prev_sha = ch->old_sha;
	}
	if (ap && ap->p && a.has_prev && p == ap->p &&
	    !memcmp(a.prev_sha, ap->prev_sha, 32)) {
		/* Worked out beside the load: take it over. */
		old = ap->old;
		diff = ap->diff;
		ap->old = NULL;
		ap->diff = NULL;
		a.diff = diff;
		a.diff_note = ap->a.diff_note;
	} else {
		cg_hist_audit_diff(env, &a, p, &old, &diff);
	}
	audit_prep_free(ap);

	lock = cg_hist_state_lock(env);
	if (!cg_hist_read_history(env, &rows, &n) && a.has_prev) {
		cg_hex(ch->old_sha, 32, sha_hex);
		a.prev_rev = cg_hist_rev_of_sha(rows, n, sha_hex);
	}
	if (err) {
		a.result = "failed";
		if (!p)
			snprintf(errbuf, sizeof(errbuf),
				 "the policy does not parse or validate");
		else if (ch->why)
			snprintf(errbuf, sizeof(errbuf), "%s", ch->why);
		else
			snprintf(errbuf, sizeof(errbuf), "%s", strerror(-err));
		a.error = errbuf;
		/* Disarm: nothing switched, or everything switched back. */
		if (ch->armed && !cg_hist_read_pending(env, &pd) &&
		    !strcmp(pd.token, ch->token))
			cg_hist_remove_pending(env);
	} else {
		a.result = "ok";
		if (!cg_hist_read_pending(env, &pd)) {
			cg_hex(p->sha256, 32, sha_hex);
			if (ch->armed && !strcmp(pd.token, ch->token)) {
				a.confirm_by = pd.deadline;
			} else if (!ch->armed && !ch->expect_active &&
				   !strcmp(pd.sha, sha_hex)) {
				/* The same bytes again (a re-guard, a
				 * restart): not a decision. */
				ch->kept_rev = pd.rev;
			} else if (!ch->armed && !ch->expect_active) {
				/* A deliberate change without a way back. */
				fprintf(stderr,
					"cranegate: note: this %s cancels the "
					"pending confirmation of revision %u\n",
					a.action, pd.rev);
				cg_hist_remove_pending(env);
				ch->cancelled_rev = pd.rev;
				a.cancels_confirm_rev = pd.rev;
			}
		}
	}
	werr = cg_hist_audit_write(env, &a);
	if (werr && !err && a.rev)
		fprintf(stderr,
			"cranegate: warning: revision %u is in force, but its "
			"result could not be recorded; `history` lists it as "
			"\"unrecorded\"\n",
			a.rev);
	cg_hist_state_unlock(lock);
	free(rows);
	cg_diff_free(diff);
	cg_policy_free(old);
}

/* Set by the watchdog, so that its detach is audited as the revert. */
const char *cg_hist_detach_action = "detach";
unsigned cg_hist_detach_reverts;

int cg_change_detaching(const struct cg_env *env)
{
	struct audit a = {.action = cg_hist_detach_action,
			  .reverts_rev = cg_hist_detach_reverts,
			  .result = "started"};
	int lock, err;

	if (access(env->state_dir, F_OK))
		return 0; /* never used with this state directory */
	if (cg_dir_perm_check(env->state_dir, "state directory", false, stderr))
		return -EPERM;
	lock = cg_hist_state_lock(env);
	err = lock < 0 ? lock : cg_hist_audit_write(env, &a);
	cg_hist_state_unlock(lock);
	if (err)
		fprintf(stderr,
			"cranegate: refusing to detach: it cannot be recorded "
			"in %s (%s); nothing was changed\n",
			env->state_dir, strerror(-err));
	return err;
}

void cg_change_detached(const struct cg_env *env, int err)
{
	struct audit a = {.action = cg_hist_detach_action,
			  .reverts_rev = cg_hist_detach_reverts};
	struct pending pd;
	char errbuf[128];
	int lock;

	if (access(env->state_dir, F_OK))
		return; /* never used with this state directory */
	lock = cg_hist_state_lock(env);
	if (!err && !cg_hist_detach_reverts &&
	    !cg_hist_read_pending(env, &pd)) {
		fprintf(stderr,
			"cranegate: note: detach cancels the pending "
			"confirmation of revision %u\n",
			pd.rev);
		cg_hist_remove_pending(env);
	}
	a.result = err ? "failed" : "ok";
	if (err) {
		snprintf(errbuf, sizeof(errbuf), "%s", strerror(-err));
		a.error = errbuf;
	}
	cg_hist_audit_write(env, &a);
	cg_hist_state_unlock(lock);
}
