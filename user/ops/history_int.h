/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by history.c and confirm.c (apply --confirm and its watchdog):
 * the state directory's records and locks. Not an interface of the layer;
 * history.h is.
 */
#ifndef CRANEGATE_HISTORY_INT_H
#define CRANEGATE_HISTORY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "history.h"

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
bool cg_hist_unhex(const char *s, uint8_t *out, size_t n);
int cg_hist_write_pending(const struct cg_env *env, const struct pending *pd);

/* apply --confirm SECONDS: at most a day. */
#define MAX_CONFIRM_S (24 * 3600)

/* Set by the watchdog, so that its detach is audited as the revert. */
extern const char *cg_hist_detach_action;
extern unsigned cg_hist_detach_reverts;

#endif /* CRANEGATE_HISTORY_INT_H */
