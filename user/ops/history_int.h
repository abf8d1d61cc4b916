/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by history.c, confirm.c (apply --confirm and its watchdog) and
 * shadow_audit.c: the state directory's records and locks. Not an
 * interface of the layer; history.h is.
 */
#ifndef CRANEGATE_HISTORY_INT_H
#define CRANEGATE_HISTORY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "history.h"

struct hrow {
	char time[32], action[16], policy[CG_NAME_MAX], sha[65], user[64];
	char result[32], error[160], confirm_by[32];
	unsigned rev, from_rev, reverts_rev;
};

struct active {
	bool have;
	uint8_t sha[32];
	char name[CG_NAME_MAX];
};

struct pending {
	char token[33], policy[CG_NAME_MAX], sha[65], user[64];
	char deadline[32], revert_policy[CG_NAME_MAX], revert_sha[65];
	unsigned rev, revert_rev;
	long long deadline_ms;
	int watchdog_pid;
};

struct audit {
	const char *action;
	unsigned rev;
	const char *policy; /* name */
	const uint8_t *sha;
	const char *file;
	unsigned from_rev, reverts_rev;
	const char *confirm_by;
	const char *result;
	const char *error;
	unsigned cancels_confirm_rev; /* a decision ended that confirmation */
	/* check */
	bool counts;
	size_t errors, warnings;
	/* the policy active before, and what changes against it */
	bool has_prev;
	const char *prev_name;
	const uint8_t *prev_sha;
	unsigned prev_rev;
	const struct cg_diff *diff;
	const char *diff_note; /* why there is no diff */
};

/* Who is doing this: the sudo user, else the login, else the uid's name. */
struct who {
	char user[64], login[64], sudo_user[64];
	unsigned uid;
};
void cg_hist_who_am_i(struct who *w);
void cg_hist_iso_time(time_t t, char *buf, size_t len);
/* The highest revision number ever given out (numbers are never reused). */
unsigned cg_hist_max_rev(const struct hrow *rows, size_t n);
int cg_hist_audit_write(const struct cg_env *env, const struct audit *a);
int cg_hist_fsync_dir(const char *dir);
long long cg_hist_now_ms(void);
void cg_hist_policy_copy_path(const struct cg_env *env, const uint8_t *sha,
			      char *buf, size_t len);
void cg_hist_read_active(const struct cg_env *env, struct active *a);
int cg_hist_read_pending(const struct cg_env *env, struct pending *pd);
int cg_hist_remove_pending(const struct cg_env *env);
int cg_hist_state_lock(const struct cg_env *env);
void cg_hist_state_path(const struct cg_env *env, const char *name, char *buf,
			size_t len);
void cg_hist_state_unlock(int fd);
int cg_hist_write_pending(const struct cg_env *env, const struct pending *pd);

void cg_hist_audit_diff(const struct cg_env *env, struct audit *a,
			const struct cg_policy *p, struct cg_policy **old,
			struct cg_diff **diff);
/* Its two halves: the previous policy's copy parsed, and the diff. */
void cg_hist_audit_old(const struct cg_env *env, struct audit *a,
		       const uint8_t *sha, struct cg_policy **old);
void cg_hist_audit_diff_of(struct audit *a, const struct cg_policy *old,
			   const struct cg_policy *p, struct cg_diff **diff);
bool cg_hist_is_revision(const struct hrow *r);
int cg_hist_keep_policy(const struct cg_env *env, const struct cg_policy *p,
			const char *path);
int cg_hist_read_history(const struct cg_env *env, struct hrow **out,
			 size_t *n_out);
int cg_hist_refuse(struct cg_change *ch, int err, const char *what);
unsigned cg_hist_rev_of_sha(const struct hrow *rows, size_t n, const char *sha);
int cg_hist_state_mkdir(const struct cg_env *env);

/* apply --confirm SECONDS: at most a day. */
#define MAX_CONFIRM_S (24 * 3600)

/* Set by the watchdog, so that its detach is audited as the revert. */
extern const char *cg_hist_detach_action;
extern unsigned cg_hist_detach_reverts;

#endif /* CRANEGATE_HISTORY_INT_H */
