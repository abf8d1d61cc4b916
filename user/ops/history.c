// SPDX-License-Identifier: GPL-2.0
/*
 * Change control: the state directory, audit log, history and rollback
 * (the hooks of apply and detach are in change.c, apply --confirm in
 * confirm.c). See history.h for the layout and the rules.
 *
 * The audit log is the record; `history` reads it back. Lines are written
 * with one write(2) on an O_APPEND descriptor, so that concurrent writers
 * (a check beside an apply) never interleave within a line. Revision
 * numbers are assigned under STATE/lock.
 */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "hex.h"
#include "diff.h"
#include "history.h"
#include "history_int.h"
#include "output.h"
#include "perm.h"

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

void cg_hist_iso_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

long long cg_hist_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000ll + ts.tv_nsec / 1000000;
}

/* Who is doing this: the sudo user, else the login, else the uid's name. */
void cg_hist_who_am_i(struct who *w)
{
	const char *sudo = getenv("SUDO_USER");
	struct passwd *pw;

	memset(w, 0, sizeof(*w));
	w->uid = getuid();
	if (getlogin_r(w->login, sizeof(w->login)))
		w->login[0] = 0;
	if (sudo)
		snprintf(w->sudo_user, sizeof(w->sudo_user), "%s", sudo);
	if (w->sudo_user[0])
		snprintf(w->user, sizeof(w->user), "%s", w->sudo_user);
	else if (w->login[0])
		snprintf(w->user, sizeof(w->user), "%s", w->login);
	else if ((pw = getpwuid(w->uid)))
		snprintf(w->user, sizeof(w->user), "%s", pw->pw_name);
	else
		snprintf(w->user, sizeof(w->user), "uid %u", w->uid);
}

void cg_hist_state_path(const struct cg_env *env, const char *name, char *buf,
			size_t len)
{
	snprintf(buf, len, "%s/%s", env->state_dir, name);
}

void cg_hist_policy_copy_path(const struct cg_env *env, const uint8_t *sha,
			      char *buf, size_t len)
{
	char h[65];

	cg_hex(sha, 32, h);
	snprintf(buf, len, "%s/policies/%s.yaml", env->state_dir, h);
}

int cg_hist_fsync_dir(const char *dir);
static void dir_of(const char *path, char *buf, size_t len);

/* mkdir 0700; if it made the directory, the entry is made durable. */
static int mkdir_durable(const char *dir)
{
	char parent[PATH_MAX];

	if (mkdir(dir, 0700))
		return errno == EEXIST ? 0 : -errno;
	dir_of(dir, parent, sizeof(parent));
	return cg_hist_fsync_dir(parent);
}

/*
 * Create the state directory (and policies/), 0700, after checking that
 * what is there belongs to root and is writable by no one else.
 */
int cg_hist_state_mkdir(const struct cg_env *env)
{
	char dir[PATH_MAX];
	int err;

	if (cg_dir_perm_check(env->state_dir, "state directory", false, stderr))
		return -EPERM;
	if ((err = mkdir_durable(env->state_dir)))
		goto fail;
	cg_hist_state_path(env, "policies", dir, sizeof(dir));
	if ((err = mkdir_durable(dir)))
		goto fail;
	return 0;
fail:
	errno = -err;
	fprintf(stderr, "cranegate: cannot create the state directory %s: %s\n",
		env->state_dir, strerror(errno));
	return -errno;
}

int cg_hist_state_lock(const struct cg_env *env)
{
	char path[PATH_MAX];
	int fd;

	cg_hist_state_path(env, "lock", path, sizeof(path));
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX)) {
		close(fd);
		return -errno;
	}
	return fd;
}

void cg_hist_state_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* The whole of a small file, NUL-terminated. NULL if unreadable. */
static char *slurp(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	ssize_t n;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || st.st_size > CG_POLICY_MAX_BYTES * 4) {
		close(fd);
		return NULL;
	}
	buf = malloc(st.st_size + 1);
	while (buf && got < (size_t)st.st_size &&
	       (n = read(fd, buf + got, st.st_size - got)) > 0)
		got += n;
	close(fd);
	if (buf)
		buf[got] = 0;
	if (len)
		*len = got;
	return buf;
}

static void sha256_of(const char *buf, size_t len, uint8_t *out)
{
	unsigned int n = 32;

	EVP_Digest(buf, len, out, &n, EVP_sha256(), NULL);
}

/* fsync a directory, so that a rename or create in it is on disk. */
int cg_hist_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) && errno != EINVAL)
		err = -errno;
	close(fd);
	return err;
}

/* The directory part of a path, into buf. */
static void dir_of(const char *path, char *buf, size_t len)
{
	char *slash;

	snprintf(buf, len, "%s", path);
	slash = strrchr(buf, '/');
	if (slash && slash != buf)
		*slash = 0;
	else
		snprintf(buf, len, "%s", slash ? "/" : ".");
}

/*
 * Write a file durably, mode 0600: a temporary file written and fsync'ed,
 * renamed over the name, then the directory fsync'ed. 0 or -errno (ENOSPC,
 * EIO, EROFS, EDQUOT ...); on failure the old file, if any, is untouched.
 */
static int write_file(const char *path, const char *buf, size_t len)
{
	char tmp[PATH_MAX + 8], dir[PATH_MAX];
	size_t off = 0;
	ssize_t n = 0;
	int fd, err;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (off < len && (n = write(fd, buf + off, len - off)) > 0)
		off += n;
	if (off < len || fsync(fd)) {
		err = off < len && n >= 0 ? -ENOSPC : -errno;
		close(fd);
		unlink(tmp);
		return err;
	}
	if (close(fd)) {
		err = -errno;
		unlink(tmp);
		return err;
	}
	if (rename(tmp, path)) {
		err = -errno;
		unlink(tmp);
		return err;
	}
	dir_of(path, dir, sizeof(dir));
	return cg_hist_fsync_dir(dir);
}

/*
 * Keep the policy's bytes under policies/SHA.yaml: the bytes that were
 * parsed, so the file is read again and must hash to the policy's sha256.
 */
int cg_hist_keep_policy(const struct cg_env *env, const struct cg_policy *p,
			const char *path)
{
	char dst[PATH_MAX], *buf, *old;
	uint8_t sha[32];
	size_t len, olen;
	int err;

	cg_hist_policy_copy_path(env, p->sha256, dst, sizeof(dst));
	old = slurp(dst, &olen);
	if (old) {
		sha256_of(old, olen, sha);
		free(old);
		if (!memcmp(sha, p->sha256, 32))
			return 0;
	}
	buf = slurp(path, &len);
	if (!buf)
		return -errno ? -errno : -EIO;
	sha256_of(buf, len, sha);
	if (memcmp(sha, p->sha256, 32)) {
		free(buf);
		fprintf(stderr,
			"cranegate: %s changed while it was applied; no copy "
			"kept in %s\n",
			path, env->state_dir);
		return -ESTALE;
	}
	err = write_file(dst, buf, len);
	free(buf);
	if (err)
		fprintf(stderr, "cranegate: cannot keep a copy in %s: %s\n",
			dst, strerror(-err));
	return err;
}

/* ------------------------------------------------------------------ */
/* Reading JSON lines back (our own, flat keys first)                  */

/*
 * The string value of the first "key" in a line; false when it is absent
 * or not a string (null). Only the first occurrence counts: the top-level
 * keys come before the nested objects, which reuse some names.
 */
static bool json_get_str(const char *line, const char *key, char *out,
			 size_t len)
{
	char pat[64];
	const char *s;
	size_t n = 0;

	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	s = strstr(line, pat);
	if (len)
		out[0] = 0;
	if (!s || s[strlen(pat)] != '"')
		return false;
	for (s += strlen(pat) + 1; *s && *s != '"'; s++) {
		char c = *s;

		if (c == '\\' && s[1]) {
			c = *++s;
			if (c == 'u') {
				c = '?';
				s += s[1] && s[2] && s[3] && s[4] ? 4 : 0;
			}
		}
		if (n + 1 < len)
			out[n++] = c;
	}
	if (len)
		out[n] = 0;
	return true;
}

/* The number value of the first "key": N (0 for null or absent). */
static long long json_get_num(const char *line, const char *key)
{
	char pat[64];
	const char *s;

	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	s = strstr(line, pat);
	if (!s)
		return 0;
	s += strlen(pat);
	return (*s >= '0' && *s <= '9') || *s == '-' ? strtoll(s, NULL, 10) : 0;
}

/* One line of the audit log, as history needs it. */

static void hrow_parse(const char *line, struct hrow *r)
{
	memset(r, 0, sizeof(*r));
	json_get_str(line, "time", r->time, sizeof(r->time));
	json_get_str(line, "action", r->action, sizeof(r->action));
	json_get_str(line, "policy", r->policy, sizeof(r->policy));
	json_get_str(line, "sha256", r->sha, sizeof(r->sha));
	json_get_str(line, "user", r->user, sizeof(r->user));
	json_get_str(line, "result", r->result, sizeof(r->result));
	json_get_str(line, "error", r->error, sizeof(r->error));
	json_get_str(line, "confirm_by", r->confirm_by, sizeof(r->confirm_by));
	r->rev = json_get_num(line, "rev");
	r->from_rev = json_get_num(line, "from_rev");
	r->reverts_rev = json_get_num(line, "reverts_rev");
}

/*
 * A line of the audit log that is a whole record: one JSON object ended by
 * a newline. A crash (or an older writer on a full disk) can leave the
 * last line cut off; the next writer then ends it with a newline before
 * its own line, so a cut line can also sit in the middle.
 */
static bool whole_line(const char *line, size_t n)
{
	return n >= 3 && line[0] == '{' && line[n - 1] == '\n' &&
	       line[n - 2] == '}';
}

/*
 * A change is recorded twice: a line with result "started" before the
 * switch, and the same action and revision with its result after. Drop
 * the "started" lines whose result is there; one without a result (the
 * applier died, or could not write it) stays, as "unrecorded": the switch
 * may have happened, and its kept copy is there to roll back to.
 */
static size_t settle_started(struct hrow *rows, size_t n)
{
	size_t i, j, out = 0;

	for (i = 0; i < n; i++) {
		bool settled = false;

		if (!strcmp(rows[i].result, "started")) {
			for (j = i + 1; j < n && !settled; j++)
				settled = rows[j].rev == rows[i].rev &&
					  !strcmp(rows[j].action,
						  rows[i].action) &&
					  strcmp(rows[j].result, "started");
			if (settled)
				continue;
			snprintf(rows[i].result, sizeof(rows[i].result),
				 "unrecorded");
		}
		rows[out++] = rows[i];
	}
	return out;
}

static unsigned warned_torn;

/* Every audit line but checks, oldest first. */
int cg_hist_read_history(const struct cg_env *env, struct hrow **out,
			 size_t *n_out)
{
	char path[PATH_MAX], *line = NULL;
	struct hrow *rows = NULL, *v;
	size_t n = 0, cap = 0, lcap = 0, lineno = 0;
	ssize_t len;
	FILE *f;

	*out = NULL;
	*n_out = 0;
	cg_hist_state_path(env, "audit.jsonl", path, sizeof(path));
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	/* Line by line: the log only grows. */
	while ((len = getline(&line, &lcap, f)) > 0) {
		struct hrow r;

		lineno++;
		if (!whole_line(line, len)) {
			/* Once per process: history is read often. */
			if (!warned_torn++)
				fprintf(stderr,
					"cranegate: warning: %s:%zu: %s; "
					"skipped\n",
					path, lineno,
					line[len - 1] != '\n'
						? "the last line is cut off "
						  "(a write that did not "
						  "finish)"
						: "not a whole record");
			continue;
		}
		hrow_parse(line, &r);
		if (!r.action[0] || !strcmp(r.action, "check"))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			v = realloc(rows, cap * sizeof(*v));
			if (!v) {
				free(rows);
				free(line);
				fclose(f);
				return -ENOMEM;
			}
			rows = v;
		}
		rows[n++] = r;
	}
	free(line);
	fclose(f);
	*out = rows;
	*n_out = settle_started(rows, n);
	return 0;
}

bool cg_hist_is_revision(const struct hrow *r)
{
	return r->rev &&
	       (!strcmp(r->result, "ok") || !strcmp(r->result, "unrecorded")) &&
	       (!strcmp(r->action, "apply") || !strcmp(r->action, "rollback") ||
		!strcmp(r->action, "revert") || !strcmp(r->action, "promote"));
}

/*
 * The highest revision number ever given out, by any line (also a change
 * that failed or never recorded its result): numbers are never reused.
 */
unsigned cg_hist_max_rev(const struct hrow *rows, size_t n)
{
	unsigned m = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(rows[i].action, "confirm") && rows[i].rev > m)
			m = rows[i].rev;
	return m;
}

/* The newest revision holding `sha` (hex), or 0. */
unsigned cg_hist_rev_of_sha(const struct hrow *rows, size_t n, const char *sha)
{
	size_t i;

	for (i = n; i-- > 0;)
		if (cg_hist_is_revision(&rows[i]) && !strcmp(rows[i].sha, sha))
			return rows[i].rev;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The active policy, and the pending confirmation                     */

/* The active policy's identity: its metadata only, no counters. */
void cg_hist_read_active(const struct cg_env *env, struct active *a)
{
	struct cg_active *ac = NULL;

	memset(a, 0, sizeof(*a));
	if (cg_active_open(env, &ac) || !ac)
		return;
	a->have = true;
	memcpy(a->sha, cg_active_meta(ac)->sha256, 32);
	snprintf(a->name, sizeof(a->name), "%s", cg_active_meta(ac)->name);
	cg_active_close(ac);
}

int cg_hist_read_pending(const struct cg_env *env, struct pending *pd)
{
	char path[PATH_MAX], *buf;

	memset(pd, 0, sizeof(*pd));
	cg_hist_state_path(env, "pending.json", path, sizeof(path));
	buf = slurp(path, NULL);
	if (!buf)
		return -ENOENT;
	json_get_str(buf, "token", pd->token, sizeof(pd->token));
	json_get_str(buf, "policy", pd->policy, sizeof(pd->policy));
	json_get_str(buf, "sha256", pd->sha, sizeof(pd->sha));
	json_get_str(buf, "user", pd->user, sizeof(pd->user));
	json_get_str(buf, "deadline", pd->deadline, sizeof(pd->deadline));
	json_get_str(buf, "revert_policy", pd->revert_policy,
		     sizeof(pd->revert_policy));
	json_get_str(buf, "revert_sha256", pd->revert_sha,
		     sizeof(pd->revert_sha));
	pd->rev = json_get_num(buf, "rev");
	pd->revert_rev = json_get_num(buf, "revert_rev");
	pd->deadline_ms = json_get_num(buf, "deadline_ms");
	pd->watchdog_pid = json_get_num(buf, "watchdog_pid");
	free(buf);
	return pd->token[0] ? 0 : -ENOENT;
}

int cg_hist_write_pending(const struct cg_env *env, const struct pending *pd)
{
	char path[PATH_MAX], *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int err;

	if (!f)
		return -ENOMEM;
	fprintf(f, "{\"token\": \"%s\", \"rev\": ", pd->token);
	if (pd->rev)
		fprintf(f, "%u", pd->rev);
	else
		fputs("null", f);
	fputs(", \"policy\": ", f);
	cg_json_str(f, pd->policy);
	fprintf(f, ", \"sha256\": \"%s\", \"user\": ", pd->sha);
	cg_json_str(f, pd->user);
	fprintf(f,
		", \"deadline\": \"%s\", \"deadline_ms\": %lld, "
		"\"revert_policy\": ",
		pd->deadline, pd->deadline_ms);
	cg_json_str(f, pd->revert_sha[0] ? pd->revert_policy : NULL);
	fputs(", \"revert_sha256\": ", f);
	cg_json_str(f, pd->revert_sha[0] ? pd->revert_sha : NULL);
	fputs(", \"revert_rev\": ", f);
	if (pd->revert_rev)
		fprintf(f, "%u", pd->revert_rev);
	else
		fputs("null", f);
	fprintf(f, ", \"watchdog_pid\": %d}\n", pd->watchdog_pid);
	fclose(f);
	cg_hist_state_path(env, "pending.json", path, sizeof(path));
	err = buf ? write_file(path, buf, len) : -ENOMEM;
	free(buf);
	return err;
}

int cg_hist_remove_pending(const struct cg_env *env)
{
	char path[PATH_MAX];

	cg_hist_state_path(env, "pending.json", path, sizeof(path));
	if (unlink(path) && errno != ENOENT)
		return -errno;
	cg_hist_fsync_dir(env->state_dir);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Audit lines                                                         */

static void json_opt_num(FILE *f, const char *key, unsigned v)
{
	if (v)
		fprintf(f, ", \"%s\": %u", key, v);
	else
		fprintf(f, ", \"%s\": null", key);
}

static int audit_append(const struct cg_env *env, const char *line, size_t len);

/*
 * One audit line, appended durably (see audit_append); the caller holds
 * STATE/lock. 0 or -errno (said on stderr).
 */
int cg_hist_audit_write(const struct cg_env *env, const struct audit *a)
{
	char t[32], h[65], *buf = NULL;
	char *abs = a->file ? realpath(a->file, NULL) : NULL;
	struct who w;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int err;

	if (!f) {
		free(abs);
		return -ENOMEM;
	}
	cg_hist_who_am_i(&w);
	cg_hist_iso_time(time(NULL), t, sizeof(t));
	fprintf(f, "{\"time\": \"%s\", \"user\": ", t);
	cg_json_str(f, w.user);
	fputs(", \"login\": ", f);
	cg_json_str(f, w.login[0] ? w.login : NULL);
	fputs(", \"sudo_user\": ", f);
	cg_json_str(f, w.sudo_user[0] ? w.sudo_user : NULL);
	fprintf(f, ", \"uid\": %u, \"action\": \"%s\"", w.uid, a->action);
	json_opt_num(f, "rev", a->rev);
	fputs(", \"policy\": ", f);
	cg_json_str(f, a->policy);
	if (a->sha) {
		cg_hex(a->sha, 32, h);
		fprintf(f, ", \"sha256\": \"%s\"", h);
	} else {
		fputs(", \"sha256\": null", f);
	}
	fputs(", \"file\": ", f);
	cg_json_str(f, abs ? abs : a->file);
	json_opt_num(f, "from_rev", a->from_rev);
	json_opt_num(f, "reverts_rev", a->reverts_rev);
	fputs(", \"confirm_by\": ", f);
	cg_json_str(f, a->confirm_by);
	fputs(", \"result\": ", f);
	cg_json_str(f, a->result);
	fputs(", \"error\": ", f);
	cg_json_str(f, a->error);
	if (a->counts)
		fprintf(f, ", \"errors\": %zu, \"warnings\": %zu", a->errors,
			a->warnings);
	if (a->cancels_confirm_rev)
		fprintf(f, ", \"cancels_confirm_rev\": %u",
			a->cancels_confirm_rev);
	fputs(", \"previous\": ", f);
	if (a->has_prev) {
		fputs("{\"policy\": ", f);
		cg_json_str(f, a->prev_name);
		cg_hex(a->prev_sha, 32, h);
		fprintf(f, ", \"sha256\": \"%s\"", h);
		json_opt_num(f, "rev", a->prev_rev);
		fputc('}', f);
	} else {
		fputs("null", f);
	}
	fputs(", \"diff\": ", f);
	if (a->diff) {
		fputc('{', f);
		cg_diff_summary_json(a->diff, f);
		fputc('}', f);
	} else if (a->diff_note) {
		fputs("{\"note\": ", f);
		cg_json_str(f, a->diff_note);
		fputc('}', f);
	} else {
		fputs("null", f);
	}
	fputs("}\n", f);
	fclose(f);
	free(abs);
	if (!buf)
		return -ENOMEM;
	err = audit_append(env, buf, len);
	free(buf);
	return err;
}

/*
 * Append a line to STATE/audit.jsonl: one write(2) on an O_APPEND
 * descriptor, so that lines never interleave, then fsync. A last line
 * left cut off (by a crash) is ended first, so that this one starts on a
 * line of its own; a short write (a full disk) is cut back off, so that
 * the log never ends in half a line. Under STATE/lock.
 */
static int audit_append(const struct cg_env *env, const char *line, size_t len)
{
	char path[PATH_MAX], last = '\n', *buf = NULL;
	const char *out = line;
	struct stat st;
	ssize_t n;
	bool fresh;
	int fd, err = 0;

	cg_hist_state_path(env, "audit.jsonl", path, sizeof(path));
	fresh = access(path, F_OK) != 0;
	fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	if (fstat(fd, &st)) {
		err = -errno;
		goto out;
	}
	if (st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) != 1)
		last = '\n';
	if (last != '\n') {
		buf = malloc(len + 1);
		if (!buf) {
			err = -ENOMEM;
			goto out;
		}
		buf[0] = '\n';
		memcpy(buf + 1, line, len);
		out = buf;
		len++;
	}
	n = write(fd, out, len);
	if (n != (ssize_t)len) {
		err = n < 0 ? -errno : -ENOSPC;
		if (n > 0 && ftruncate(fd, st.st_size))
			err = -errno;
	} else if (fsync(fd)) {
		err = -errno;
	} else if (fresh) {
		err = cg_hist_fsync_dir(env->state_dir);
	}
out:
	if (err)
		fprintf(stderr,
			"cranegate: cannot write the audit log %s: %s\n", path,
			strerror(-err));
	if (fd >= 0)
		close(fd);
	free(buf);
	return err;
}

/*
 * The kept copy of the policy whose sha256 is `sha`, parsed into *old; NULL
 * (and a->diff_note set) when it has no copy or does not load as itself.
 */
void cg_hist_audit_old(const struct cg_env *env, struct audit *a,
		       const uint8_t *sha, struct cg_policy **old)
{
	struct cg_diags d = {};
	char path[PATH_MAX];
	int err;

	*old = NULL;
	cg_hist_policy_copy_path(env, sha, path, sizeof(path));
	d.file = path;
	if (access(path, R_OK)) {
		a->diff_note = "the previous policy has no copy in the state "
			       "directory";
		return;
	}
	err = cg_policy_load(path, old, &d);
	cg_diags_free(&d);
	if (err || memcmp((*old)->sha256, sha, 32)) {
		cg_policy_free(*old);
		*old = NULL;
		a->diff_note = "the copy of the previous policy does not load";
	}
}

/* The diff of `p` against `old` (from cg_hist_audit_old, or NULL). */
void cg_hist_audit_diff_of(struct audit *a, const struct cg_policy *old,
			   const struct cg_policy *p, struct cg_diff **diff)
{
	int err;

	*diff = NULL;
	if (!old)
		return;
	err = cg_diff_policies(old, p, diff);
	if (err)
		a->diff_note =
			err == -E2BIG ? "too large to diff" : "the diff failed";
	a->diff = *diff;
}

/*
 * The diff of `p` against the policy active before (its kept copy).
 * Sets a->diff (to free with cg_diff_free, with *old) or a->diff_note.
 */
void cg_hist_audit_diff(const struct cg_env *env, struct audit *a,
			const struct cg_policy *p, struct cg_policy **old,
			struct cg_diff **diff)
{
	*old = NULL;
	*diff = NULL;
	if (!a->has_prev || !p) {
		a->diff_note =
			a->has_prev || !p ? NULL : "no policy was active";
		return;
	}
	cg_hist_audit_old(env, a, a->prev_sha, old);
	cg_hist_audit_diff_of(a, *old, p, diff);
}

/* ------------------------------------------------------------------ */
/* history and rollback                                                */

int cg_history_print(const struct cg_env *env, FILE *out)
{
	struct hrow *rows = NULL;
	struct active act;
	struct pending pd;
	size_t n = 0, i, j;
	bool pending, first = true, active_seen = false;
	char sha[65];
	int err;

	if ((err = cg_hist_read_history(env, &rows, &n))) {
		fprintf(stderr, "cranegate: cannot read %s/audit.jsonl: %s\n",
			env->state_dir, strerror(-err));
		return err;
	}
	cg_hist_read_active(env, &act);
	cg_hex(act.sha, 32, sha);
	pending = !cg_hist_read_pending(env, &pd);
	if (env->json)
		fputc('[', out);
	else
		fprintf(out, "%-5s %-20s %-8s %-24s %-12s %-12s %s\n", "REV",
			"TIME", "ACTION", "POLICY", "SHA256", "USER", "RESULT");
	for (i = n; i-- > 0;) {
		const struct hrow *r = &rows[i];
		char result[256], revs[16];
		bool confirmed = false, reverted = false, is_active = false;

		snprintf(result, sizeof(result), "%s", r->result);
		if (cg_hist_is_revision(r)) {
			for (j = i + 1; j < n; j++) {
				if (!strcmp(rows[j].action, "confirm") &&
				    rows[j].rev == r->rev &&
				    !strcmp(rows[j].result, "ok"))
					confirmed = true;
				if (!strcmp(rows[j].action, "revert") &&
				    rows[j].reverts_rev == r->rev &&
				    !strcmp(rows[j].result, "ok"))
					reverted = true;
			}
			is_active = act.have && !active_seen &&
				    !strcmp(r->sha, sha);
			active_seen |= is_active;
			snprintf(result, sizeof(result), "%s%s%s%s%s",
				 is_active ? "active" : "applied",
				 confirmed ? ", confirmed" : "",
				 reverted ? ", reverted" : "",
				 pending && pd.rev == r->rev
					 ? ", awaiting confirm"
					 : "",
				 strcmp(r->result, "unrecorded")
					 ? ""
					 : ", result not recorded");
		} else if (!strcmp(r->result, "failed")) {
			snprintf(result, sizeof(result), "failed: %s",
				 r->error);
		}
		if (env->json) {
			fprintf(out, "%s{\"rev\": ", first ? "" : ", ");
			if (r->rev && strcmp(r->action, "confirm"))
				fprintf(out, "%u", r->rev);
			else
				fputs("null", out);
			fprintf(out,
				", \"time\": \"%s\", \"action\": \"%s\", "
				"\"policy\": ",
				r->time, r->action);
			cg_json_str(out, r->policy[0] ? r->policy : NULL);
			fputs(", \"sha256\": ", out);
			cg_json_str(out, r->sha[0] ? r->sha : NULL);
			fputs(", \"user\": ", out);
			cg_json_str(out, r->user);
			fputs(", \"result\": ", out);
			cg_json_str(out, result);
			fprintf(out,
				", \"active\": %s, \"confirmed\": %s, "
				"\"reverted\": %s",
				is_active ? "true" : "false",
				confirmed ? "true" : "false",
				reverted ? "true" : "false");
			json_opt_num(out, "from_rev", r->from_rev);
			json_opt_num(out, "reverts_rev", r->reverts_rev);
			if (!strcmp(r->action, "confirm"))
				json_opt_num(out, "confirms_rev", r->rev);
			fputc('}', out);
			first = false;
			continue;
		}
		if (!strcmp(r->action, "confirm") && r->rev)
			snprintf(result + strlen(result),
				 sizeof(result) - strlen(result),
				 " (revision %u)", r->rev);
		if (r->from_rev)
			snprintf(result + strlen(result),
				 sizeof(result) - strlen(result),
				 " (revision %u again)", r->from_rev);
		if (r->reverts_rev)
			snprintf(result + strlen(result),
				 sizeof(result) - strlen(result),
				 " (revision %u not confirmed)",
				 r->reverts_rev);
		if (cg_hist_is_revision(r))
			snprintf(revs, sizeof(revs), "%s%u",
				 is_active ? "*" : "", r->rev);
		else
			snprintf(revs, sizeof(revs), "-");
		fprintf(out, "%-5s %-20s %-8s %-24s %-12.12s %-12s %s\n", revs,
			r->time, r->action, r->policy[0] ? r->policy : "-",
			r->sha[0] ? r->sha : "-", r->user, result);
	}
	if (env->json)
		fputs("]\n", out);
	free(rows);
	return 0;
}

int cg_history_policy_path(const struct cg_env *env, const char *ref, char *buf,
			   size_t len)
{
	struct hrow *rows = NULL;
	struct active act;
	uint8_t sha[32];
	size_t n = 0, i;
	char *end;
	bool found = false;

	if (!strcmp(ref, "active")) {
		cg_hist_read_active(env, &act);
		if (!act.have) {
			fprintf(stderr,
				"cranegate: no policy is active at %s\n",
				env->pin_root);
			return -ENOENT;
		}
		memcpy(sha, act.sha, 32);
		found = true;
	} else {
		unsigned long rev = strtoul(ref, &end, 10);

		if (!cg_hist_read_history(env, &rows, &n))
			for (i = 0; !*end && end != ref && i < n; i++)
				if (cg_hist_is_revision(&rows[i]) &&
				    rows[i].rev == rev &&
				    cg_unhex(rows[i].sha, sha, 32))
					found = true;
		free(rows);
		if (!found) {
			fprintf(stderr,
				"cranegate: no revision '%s' in %s (see "
				"cranegate history)\n",
				ref, env->state_dir);
			return -ENOENT;
		}
	}
	cg_hist_policy_copy_path(env, sha, buf, len);
	if (access(buf, R_OK)) {
		fprintf(stderr,
			"cranegate: %s: no kept copy of that policy in "
			"%s/policies\n",
			ref, env->state_dir);
		return -ENOENT;
	}
	return 0;
}

int cg_rollback(const struct cg_env *env, const char *rev_text)
{
	struct cg_change ch = {.action = "rollback"};
	struct cg_diags d = {};
	struct cg_policy *p = NULL;
	struct hrow *rows = NULL;
	const struct hrow *target = NULL;
	struct active act;
	char path[PATH_MAX], sha[65], *end;
	uint8_t want[32];
	size_t n = 0, i, cur = SIZE_MAX;
	int err, lock;

	if ((err = cg_hist_read_history(env, &rows, &n)))
		return err;
	if (rev_text) {
		unsigned long rev = strtoul(rev_text, &end, 10);

		for (i = 0; !*end && end != rev_text && i < n; i++)
			if (cg_hist_is_revision(&rows[i]) && rows[i].rev == rev)
				target = &rows[i];
		if (!target) {
			fprintf(stderr,
				"cranegate: no revision '%s' in %s (see "
				"cranegate history)\n",
				rev_text, env->state_dir);
			err = -ENOENT;
			goto out;
		}
	} else {
		/* The revision active before the current one. */
		cg_hist_read_active(env, &act);
		cg_hex(act.sha, 32, sha);
		for (i = n; act.have && i-- > 0;)
			if (cg_hist_is_revision(&rows[i]) &&
			    !strcmp(rows[i].sha, sha)) {
				cur = i;
				break;
			}
		if (!act.have) {
			/* Detached: the last policy applied. */
			for (i = n; i-- > 0 && !target;)
				if (cg_hist_is_revision(&rows[i]))
					target = &rows[i];
		} else {
			for (i = cur == SIZE_MAX ? n : cur; i-- > 0 && !target;)
				if (cg_hist_is_revision(&rows[i]) &&
				    strcmp(rows[i].sha, sha))
					target = &rows[i];
		}
		if (!target) {
			fprintf(stderr,
				"cranegate: no earlier policy to roll back to "
				"in %s (see cranegate history)\n",
				env->state_dir);
			err = -ENOENT;
			goto out;
		}
	}
	if (!cg_unhex(target->sha, want, 32)) {
		err = -EINVAL;
		goto out;
	}
	cg_hist_policy_copy_path(env, want, path, sizeof(path));
	d.file = path;
	err = cg_policy_load(path, &p, &d);
	cg_diags_free(&d);
	if (err || memcmp(p->sha256, want, 32)) {
		fprintf(stderr,
			"cranegate: the copy of revision %u (%s) is missing or "
			"altered; not rolling back\n",
			target->rev, path);
		err = err ? err : -EBADMSG;
		goto out;
	}
	ch.from_rev = target->rev;
	printf("rolling back to revision %u, policy '%s' (applied %s)\n",
	       target->rev, target->policy, target->time);
	/* From here on, cg_apply_change audits what happens. */
	err = cg_apply_change(env, path, &ch);
	goto done;
out:
	if (err && !access(env->state_dir, W_OK)) {
		struct audit a = {.action = "rollback", .result = "failed"};
		char why[64];

		a.from_rev = target ? target->rev : 0;
		snprintf(why, sizeof(why), "%s",
			 !target ? "no such revision"
				 : "the kept copy is missing or altered");
		a.error = why;
		lock = cg_hist_state_lock(env);
		if (lock >= 0)
			cg_hist_audit_write(env, &a);
		cg_hist_state_unlock(lock);
	}
done:
	cg_policy_free(p);
	free(rows);
	return err;
}
