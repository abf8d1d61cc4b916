/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Change control: the state directory, the audit log, the history of
 * applied policies, rollback, and commit-confirmed apply.
 *
 *   STATE/audit.jsonl          one JSON object per line for every check,
 *                              apply, rollback, revert, confirm and
 *                              detach: the record; `history` is a view
 *   STATE/policies/SHA.yaml    every applied policy, by its sha256
 *   STATE/pending.json         an `apply --confirm` awaiting `confirm`
 *   STATE/pending.claimed      ... that its watchdog is reverting now
 *   STATE/lock                 flock'ed while the files above change
 *
 * Directories are created 0700 and files 0600: policies and the audit
 * log describe the plant's network.
 *
 * Every change gets the next *revision* number (one more than any given
 * out before, failed ones included) and is recorded before it happens: a
 * line with "result": "started", then, after the switch, the same action
 * and rev with its result. An audit line holds
 * its top-level keys first and nested objects (`previous`, `diff`) last,
 * in this order: time, user, login, sudo_user, uid, action, rev, policy,
 * sha256, file, from_rev, reverts_rev, confirm_by, result, error, then
 * the action's own keys.
 *
 * Commit-confirmed: `apply --confirm S` forks a watchdog first (double
 * fork, setsid, stdio on /dev/null, so that it outlives the shell), then
 * applies; the apply writes STATE/pending.json, naming the policy to go
 * back to, before it switches anything. The watchdog sleeps until the
 * deadline and then, unless `confirm` removed the pending record (or a
 * later apply superseded it), claims the record (renamed to
 * STATE/pending.claimed) and applies the previous policy again (or
 * detaches, if there was none); a revert that cannot be recorded puts the
 * record back and is tried again. An apply of other bytes without
 * --confirm, a rollback or a detach cancels a pending confirmation; the
 * same bytes again (run's re-guard or restart) keep it; an `apply
 * --confirm` over a pending one keeps its way back (the last confirmed
 * policy).
 */
#ifndef CRANEGATE_HISTORY_H
#define CRANEGATE_HISTORY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "loader.h"
#include "policy.h"

/*
 * Hooks of cg_apply_change. begin runs under the pin root's lock, after
 * the policy compiled and before anything is switched: it keeps a copy of
 * the policy, gives the change its revision and records it in the audit
 * log ("result": "started"), each written durably; if any of that fails
 * (ENOSPC, EIO, EROFS, EDQUOT, ...) it returns non-zero and the apply
 * stops with nothing changed. end runs on every exit path (p is NULL when
 * the policy did not parse); it records the result.
 *
 * A pending confirmation survives a change of the same bytes (run's
 * re-guard, a restart, applying the pending policy again); any other
 * change without --confirm is a decision and ends it (cancelled_rev).
 */
/* prepare: before the policy is read, start parsing the active policy's
 * kept copy for end's diff (change.c says how the work overlaps). */
void cg_change_prepare(const struct cg_env *env, struct cg_change *ch);
int cg_change_begin(const struct cg_env *env, struct cg_change *ch,
		    const struct cg_policy *p, const char *policy_path);
void cg_change_end(const struct cg_env *env, struct cg_change *ch,
		   const struct cg_policy *p, const char *policy_path, int err);

/*
 * Hooks of cg_detach: detaching records a "started" line first (non-zero:
 * it cannot be recorded, and cg_detach changes nothing); detached audits
 * the result and cancels a pending confirmation.
 */
int cg_change_detaching(const struct cg_env *env);
void cg_change_detached(const struct cg_env *env, int err);

/* status's last lines: the active revision and a pending confirmation. */
void cg_history_status(const struct cg_env *env, FILE *out, bool json);

/* `check`: an audit line, if the state directory exists (never made). */
void cg_audit_check(const struct cg_env *env, const char *path,
		    const struct cg_policy *p, const struct cg_diags *d,
		    int err);

/*
 * The kept copy of an applied policy, for `diff @active NEW` and
 * `diff @REV NEW`: `ref` is "active" or a revision number. 0 with the
 * path in buf, or -ENOENT (with a message).
 */
int cg_history_policy_path(const struct cg_env *env, const char *ref, char *buf,
			   size_t len);

/*
 * Shadow evaluation (shadow.c). keep: a copy of the candidate under
 * policies/SHA.yaml (promote applies that copy). copy: its path, or
 * -ENOENT. audit_shadow: an audit line for "shadow", "shadow-stop" (p
 * NULL: name and sha given) with the diff against the live policy.
 */
int cg_history_keep(const struct cg_env *env, const struct cg_policy *p,
		    const char *policy_path);
int cg_history_copy(const struct cg_env *env, const uint8_t *sha, char *buf,
		    size_t len);
void cg_audit_shadow(const struct cg_env *env, const char *action,
		     const struct cg_policy *p, const char *name,
		     const uint8_t *sha, const char *policy_path, int err,
		     const char *why);

/*
 * The newest revision whose sha256 starts with the 8 bytes of a policy
 * id (events carry those), or 0 when the history has none.
 */
unsigned cg_history_rev_of_id(const struct cg_env *env, unsigned long long id);

/* The commands. 0 or a negative errno. */
int cg_apply_confirmed(const struct cg_env *env, const char *policy_path,
		       const char *seconds);
/* The same, audited as `action` (apply --promote --confirm: "promote"). */
int cg_apply_confirmed_as(const struct cg_env *env, const char *policy_path,
			  const char *seconds, const char *action);
int cg_confirm(const struct cg_env *env);

/*
 * For `run` at start: if an `apply --confirm` is pending, the kept copy of
 * its policy (to apply instead of POLICY, so that a restart or a reboot
 * does not decide for the operator) in buf, its revision in *rev, and a
 * watchdog started again if none runs (after a reboot), so that the revert
 * still happens at the deadline. 0, or -ENOENT when nothing is pending.
 */
int cg_confirm_resume(const struct cg_env *env, char *buf, size_t len,
		      unsigned *rev);
int cg_history_print(const struct cg_env *env, FILE *out);
int cg_rollback(const struct cg_env *env, const char *rev);

#endif /* CRANEGATE_HISTORY_H */
