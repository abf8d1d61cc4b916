// SPDX-License-Identifier: GPL-2.0
/*
 * `cranegate run`: apply, then stream. One thread waits in epoll on three
 * sources: the event ring buffer, a signalfd (SIGHUP reloads, SIGUSR1
 * reopens the log, SIGTERM and SIGINT stop)
 * and a timerfd for the periodic summary; libmicrohttpd serves /metrics
 * from a thread of its own, reading the maps on each scrape.
 *
 * The log is JSON lines, one object per line, each with a "type":
 *   apply    a policy was applied, or refused ("ok": false, "errors")
 *   event    a frame's event, with the fields of `events --json`
 *   summary  counts since the previous summary, per reason, and what
 *            happened to events (emitted, lost, suppressed)
 *   stop     the daemon stopped; "gate" says whether it stays enforcing
 *   link     an interface of the policy went away, or is there unguarded
 *   watch    POLICY changed on disk (--watch), and what became of it
 *   privileges  the capabilities kept after the first apply
 *   connection  a connection ended (or an interim record of a long one):
 *            records.c, from a sweep of the connection table each second
 * Each also goes to syslog(3) as one line (facility daemon).
 *
 * The gate does not depend on this process: the kernel holds the XDP
 * attachment, so SIGTERM, a crash or SIGKILL leave the last applied
 * policy enforcing (fail-closed). Only --detach-on-exit detaches, and
 * only on SIGTERM/SIGINT.
 *
 * An interface that is deleted takes its XDP program with it; when one
 * of the same name appears again it has a new ifindex, which the live
 * policy's zones (keyed by ifindex) do not know. A NETLINK_ROUTE socket
 * subscribed to link changes wakes the loop; after a short pause (one
 * creation is a burst of messages) every interface of the policy is
 * looked at, and if one exists without the gate's program, the active
 * policy (its kept copy in the state directory; else POLICY) is applied
 * again, compiled against the current ifindexes, exactly as SIGHUP does.
 *
 * With --watch, inotify watches on the directories of every name on the
 * way from POLICY to the file it resolves to (editors and config
 * management replace a file by renaming a new one over it; symlinks such
 * as a ConfigMap's `..data` are swapped) wake the loop when POLICY, its
 * target or a symlink between them is written or renamed into place;
 * after 200 ms of quiet the names are resolved again, the bytes are
 * hashed, and a file that differs from what run last applied is applied
 * as SIGHUP would: all or nothing.
 *
 * One run per pin root (runlock.c). At start, a pending `apply --confirm`
 * is applied instead of POLICY and its watchdog restarted if it is gone
 * (history.c cg_confirm_resume); applying the same bytes again (a
 * re-guard) keeps it pending, a reload of other bytes ends it, and the
 * apply record says which (pending_confirm_rev, cancels_confirm_rev).
 *
 * After the first apply, run keeps only the capabilities a reload needs
 * (CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON, CAP_SYS_ADMIN; with --no-reload
 * only what reading the maps needs) in its effective and permitted sets
 * and its bounding set, clears the inheritable and ambient sets and sets
 * no_new_privs. Capabilities belong to threads, so the metrics thread
 * starts only after the drop.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cap-ng.h>
#include <openssl/evp.h>

#include "hex.h"
#include "compile.h"
#include "daemon.h"
#include "daemon_int.h"
#include "file_watch.h"
#include "fanout.h"
#include "history.h"
#include "metrics.h"
#include "output.h"
#include "perm.h"
#include "records.h"
#include "runlock.h"
#include "rxvlan.h"
#include "self.h"

/*
 * The gateway's addresses changed (or may have): write the current ones
 * to every instance of the gate (self.h), for the interfaces of the
 * policy that is enforcing.
 */
static void self_refresh(const struct cg_env *env, const struct watched *ifs,
			 size_t n_ifs)
{
	char(*names)[CG_IFNAME_MAX] = calloc(n_ifs + 1, sizeof(*names));
	size_t i;
	int n;

	if (!names)
		return;
	for (i = 0; i < n_ifs; i++)
		memcpy(names[i], ifs[i].name, CG_IFNAME_MAX);
	n = cg_self_refresh_gate(env, names, n_ifs);
	if (n < 0)
		syslog(LOG_ERR,
		       "the gateway's addresses changed; updating the gate "
		       "failed (%s): traffic to a new address is judged as "
		       "before",
		       strerror(-n));
	else
		syslog(LOG_INFO,
		       "self: the gate knows %d addresses of the "
		       "gateway",
		       n);
	free(names);
}

/*
 * cg_apply reports on stdout, which may be the event stream: send its
 * chatter to stderr instead, where the journal keeps it.
 */
static int quietly(int (*fn)(const struct cg_env *, const char *),
		   const struct cg_env *env, const char *arg)
{
	int saved, err;

	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	if (saved >= 0)
		dup2(STDERR_FILENO, STDOUT_FILENO);
	err = fn(env, arg);
	fflush(stdout);
	if (saved >= 0) {
		dup2(saved, STDOUT_FILENO);
		close(saved);
	}
	return err;
}

/* What the last apply did to a pending `apply --confirm`. */
static struct cg_change last_change;

static int apply_fn(const struct cg_env *env, const char *path)
{
	memset(&last_change, 0, sizeof(last_change));
	last_change.action = "apply";
	return cg_apply_change(env, path, &last_change);
}

static int detach_fn(const struct cg_env *env, const char *unused)
{
	return cg_detach(env);
}

/* Every line of `text` to syslog, and as a JSON array to the log. */
static void log_lines(struct run *r, int prio, const char *key, char *text)
{
	char *line, *save = NULL;
	bool first = true;

	fprintf(r->log, ", \"%s\": [", key);
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		syslog(prio, "%s", line);
		fputs(first ? "" : ", ", r->log);
		cg_json_str(r->log, line);
		first = false;
	}
	fputc(']', r->log);
}

/*
 * Check, then apply, the policy file. Checking first (the same parser
 * and compiler, no kernel calls) lets the errors reach syslog and the
 * log with their FILE:LINE:COL; cg_apply itself changes nothing unless
 * all of it succeeds, so a refused reload leaves the running policy.
 */
static int apply_policy(struct run *r, const char *trigger, const char *path)
{
	const char *keep = strcmp(trigger, "start") ? "the running policy stays"
						    : "nothing changed";
	struct cg_diags d = {.file = path};
	struct cg_policy *p = NULL;
	struct cg_compiled *c = NULL;
	struct cg_snapshot s;
	struct watched *w = NULL;
	char *text = NULL, hex[65];
	size_t len = 0, n_w = 0, i;
	FILE *m;
	int err;

	m = open_memstream(&text, &len);
	if (!r->o->insecure &&
	    cg_policy_perm_check(path, false, m ? m : stderr)) {
		err = -EPERM;
	} else {
		err = cg_policy_load(path, &p, &d);
		if (!err)
			err = cg_compile(p, &c, &d);
		cg_diags_print(&d, m ? m : stderr);
	}
	if (m)
		fclose(m);
	if (text && *text)
		fputs(text, stderr);
	if (!err) {
		r->limits = p->limits;
		n_w = c->n_ifnames;
		w = calloc(n_w + 1, sizeof(*w));
		for (i = 0; w && i < n_w; i++)
			snprintf(w[i].name, sizeof(w[i].name), "%s",
				 c->ifnames[i]);
	}
	cg_compiled_free(c);
	cg_policy_free(p);

	rec_begin(r, "apply");
	fprintf(r->log, ", \"trigger\": \"%s\", \"file\": ", trigger);
	cg_json_str(r->log, path);
	if (err) {
		syslog(LOG_ERR, "%s: policy %s refused; %s", trigger, path,
		       keep);
		fputs(", \"ok\": false", r->log);
		if (text && *text) {
			log_lines(r, LOG_ERR, "errors", text);
		} else {
			/* No diagnostics: the file could not be read. */
			char *msg = NULL;

			if (asprintf(&msg, "%s: %s", path, strerror(-err)) < 0)
				msg = NULL;
			fputs(", \"errors\": [", r->log);
			cg_json_str(r->log, msg);
			fputc(']', r->log);
			free(msg);
			syslog(LOG_ERR, "%s: %s", path, strerror(-err));
		}
		rec_end(r);
		goto out;
	}
	if (text && *text)
		log_lines(r, LOG_WARNING, "warnings", text);

	err = quietly(apply_fn, r->env, path);
	if (err) {
		syslog(LOG_ERR, "%s: applying %s failed (%s); %s", trigger,
		       path, strerror(-err), keep);
		fprintf(r->log,
			", \"ok\": false, \"errors\": [\"apply failed: %s\"]",
			strerror(-err));
		rec_end(r);
		goto out;
	}
	/* Watch the interfaces of what is now enforcing. */
	if (w) {
		for (i = 0; i < n_w; i++)
			w[i].ifindex = if_nametoindex(w[i].name);
		free(r->ifaces);
		r->ifaces = w;
		r->n_ifaces = n_w;
		w = NULL;
	}
	r->failed_sig = 0;
	cg_records_limits(r->rec, &r->limits);
	if (r->es)
		cg_event_stream_forget(r->es);
	cg_snapshot_read(r->env, &s);
	memcpy(r->applied_sha, s.sha256, sizeof(r->applied_sha));
	cg_hex(s.sha256, 32, hex);
	syslog(LOG_NOTICE,
	       "%s: applied policy '%s' (%s, sha256 %s) from %s on %zu "
	       "interfaces",
	       trigger, s.policy_name, s.monitor ? "monitor" : "enforce", hex,
	       path, s.n_attached);
	fputs(", \"ok\": true, \"policy\": ", r->log);
	cg_json_str(r->log, s.policy_name);
	fprintf(r->log,
		", \"sha256\": \"%s\", \"mode\": \"%s\", \"attached\": %zu",
		hex, s.monitor ? "monitor" : "enforce", s.n_attached);
	if (last_change.rev)
		fprintf(r->log, ", \"rev\": %u", last_change.rev);
	/* A reload of other bytes is a decision; the same bytes are not. */
	if (last_change.cancelled_rev) {
		fprintf(r->log, ", \"cancels_confirm_rev\": %u",
			last_change.cancelled_rev);
		syslog(LOG_WARNING,
		       "%s: this apply ends the pending confirmation of "
		       "revision %u (it will not revert)",
		       trigger, last_change.cancelled_rev);
	} else if (last_change.kept_rev) {
		fprintf(r->log, ", \"pending_confirm_rev\": %u",
			last_change.kept_rev);
	}
	rec_end(r);
	cg_snapshot_free(&s);
out:
	free(w);
	free(text);
	cg_diags_free(&d);
	return err;
}

/* ---- the policy file changing on disk (--watch) */

/* sha256 of a file's bytes; false when it cannot be read. */
static bool file_sha(const char *path, unsigned char *sha)
{
	unsigned char buf[65536];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	FILE *f = fopen(path, "rb");
	bool ok = f && ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	size_t n;

	while (ok && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		ok = EVP_DigestUpdate(ctx, buf, n);
	ok = ok && !ferror(f) && EVP_DigestFinal_ex(ctx, sha, NULL);
	if (f)
		fclose(f);
	EVP_MD_CTX_free(ctx);
	return ok;
}

/*
 * POLICY settled after a change: apply it if its bytes differ from what
 * was applied last (an editor saving the same text changes nothing), and
 * do not log the same refused file twice.
 */
static void file_changed(struct run *r)
{
	unsigned char sha[32];
	char hex[65], *resolved;

	/* A symlink on the way may point elsewhere now: watch that. */
	file_watch_resolve(r->fw, r->o->policy);
	if (!file_sha(r->o->policy, sha)) {
		rec_begin(r, "watch");
		fputs(", \"file\": ", r->log);
		cg_json_str(r->log, r->o->policy);
		fprintf(r->log,
			", \"change\": \"unreadable\", \"error\": \"%s\"",
			strerror(errno));
		rec_end(r);
		syslog(LOG_WARNING,
		       "watch: %s cannot be read (%m); the running policy "
		       "stays",
		       r->o->policy);
		return;
	}
	if (!memcmp(sha, r->applied_sha, sizeof(sha)) ||
	    !memcmp(sha, r->refused_sha, sizeof(sha)))
		return;
	cg_hex(sha, 32, hex);
	rec_begin(r, "watch");
	fputs(", \"file\": ", r->log);
	cg_json_str(r->log, r->o->policy);
	fprintf(r->log, ", \"change\": \"modified\", \"sha256\": \"%s\"", hex);
	resolved = realpath(r->o->policy, NULL);
	if (resolved && strcmp(resolved, r->o->policy)) {
		fputs(", \"resolved\": ", r->log);
		cg_json_str(r->log, resolved);
	}
	free(resolved);
	rec_end(r);
	if (apply_policy(r, "watch", r->o->policy))
		memcpy(r->refused_sha, sha, sizeof(sha));
}

/* ---- interfaces that come back */

/* A socket that hears of every link change, or -errno. */
static int link_watch_open(void)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK,
				 .nl_groups = RTMGRP_LINK};
	int fd;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/*
 * Read what is waiting; true if a link was added, changed or removed.
 * The messages themselves are not needed: the interfaces are looked up
 * by name afterwards. An overrun (ENOBUFS) lost some, so counts as one.
 */
static bool link_watch_drain(int fd)
{
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
	bool changed = false;
	struct nlmsghdr *nh;
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == ENOBUFS) {
			changed = true;
			continue;
		}
		if (n <= 0)
			break;
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n);
		     nh = NLMSG_NEXT(nh, n))
			if (nh->nlmsg_type == RTM_NEWLINK ||
			    nh->nlmsg_type == RTM_DELLINK)
				changed = true;
	}
	return changed;
}

static unsigned pinned_prog_id(const struct cg_env *env)
{
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info);
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/prog", env->pin_root);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		info.id = 0;
	close(fd);
	return info.id;
}

static void link_record(struct run *r, const struct watched *w,
			unsigned ifindex, const char *state)
{
	rec_begin(r, "link");
	fputs(", \"iface\": ", r->log);
	cg_json_str(r->log, w->name);
	fprintf(r->log, ", \"state\": \"%s\", \"ifindex\": %u", state, ifindex);
	if (w->ifindex && ifindex && w->ifindex != ifindex)
		fprintf(r->log, ", \"old_ifindex\": %u", w->ifindex);
	rec_end(r);
}

/*
 * After link changes: note interfaces of the policy that went away, and
 * apply the active policy again if one is there without the gate. A
 * re-guard that failed is not retried until the ifindexes change again.
 */
static void link_check(struct run *r)
{
	unsigned prog = pinned_prog_id(r->env);
	unsigned long long sig = 0;
	bool need = false;
	char path[4096];
	const char *from = r->o->policy;
	size_t i;

	for (i = 0; i < r->n_ifaces; i++) {
		struct watched *w = &r->ifaces[i];
		unsigned idx = if_nametoindex(w->name);
		uint32_t cur = 0;

		if (!idx) {
			if (w->ifindex) {
				link_record(r, w, 0, "gone");
				syslog(LOG_WARNING,
				       "interface %s of the policy is gone; it "
				       "will be guarded again when it comes "
				       "back",
				       w->name);
			}
			w->ifindex = 0;
			continue;
		}
		sig = sig * 1000003 + idx;
		bpf_xdp_query_id(idx, 0, &cur);
		if (prog && cg_guarded(r->env, cur, prog)) {
			w->ifindex = idx;
			continue;
		}
		if (w->ifindex != idx || !r->failed_sig) {
			link_record(r, w, idx, "unguarded");
			syslog(LOG_WARNING,
			       "interface %s (ifindex %u) of the policy is not "
			       "guarded%s",
			       w->name, idx,
			       r->o->no_reload
				       ? "; run has --no-reload: apply the "
					 "policy"
				       : "; applying the active policy again");
		}
		w->ifindex = idx;
		need = true;
	}
	if (!need || r->o->no_reload || sig == r->failed_sig)
		return;
	/* The policy that is enforcing, not whatever POLICY holds now. */
	if (!cg_history_policy_path(r->env, "active", path, sizeof(path)))
		from = path;
	if (apply_policy(r, "link", from))
		r->failed_sig = sig ? sig : 1;
}

/* ---- capabilities */

/* What reloads need: load programs and maps (CAP_BPF, with CAP_PERFMON
 * for the program's helpers), attach XDP (CAP_NET_ADMIN), open the
 * active program's maps by id and mount bpffs (CAP_SYS_ADMIN). */
static const int reload_caps[] = {CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON,
				  CAP_SYS_ADMIN};
/* Streaming and metrics: bpf() on the pinned maps (CAP_BPF: Debian
 * disables unprivileged bpf()) and their maps by id (CAP_SYS_ADMIN);
 * --detach-on-exit also needs to detach (CAP_NET_ADMIN). */
static const int stream_caps[] = {CAP_BPF, CAP_SYS_ADMIN, CAP_NET_ADMIN};

static int drop_privileges(struct run *r)
{
	const int *keep = r->o->no_reload ? stream_caps : reload_caps;
	size_t n = r->o->no_reload ? (r->o->detach_on_exit ? 3 : 2) : 4, i;
	bool have[4] = {};
	char *eff, *bnd;
	int err = 0;

	/* Keep what we have of the list: a capset can only shrink. */
	capng_get_caps_process();
	for (i = 0; i < n; i++)
		have[i] = capng_have_capability(CAPNG_PERMITTED, keep[i]);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	capng_clear(CAPNG_SELECT_ALL);
	for (i = 0; i < n; i++)
		if (have[i])
			capng_update(CAPNG_ADD,
				     CAPNG_EFFECTIVE | CAPNG_PERMITTED |
					     CAPNG_BOUNDING_SET,
				     keep[i]);
	/* The bounding set shrinks only with CAP_SETPCAP, which a systemd
	 * unit's CapabilityBoundingSet= may have taken already; with
	 * no_new_privs, what left the permitted set cannot come back
	 * through execve either way. */
	if (capng_apply(CAPNG_SELECT_BOUNDS))
		syslog(LOG_INFO, "cannot shrink the capability bounding set "
				 "(no CAP_SETPCAP); no_new_privs is set");
	if (capng_apply(CAPNG_SELECT_CAPS) || capng_apply(CAPNG_SELECT_AMBIENT))
		err = -EPERM;

	capng_get_caps_process();
	eff = capng_print_caps_text(CAPNG_PRINT_BUFFER, CAPNG_PERMITTED);
	bnd = capng_print_caps_text(CAPNG_PRINT_BUFFER, CAPNG_BOUNDING_SET);
	rec_begin(r, "privileges");
	fputs(", \"capabilities\": ", r->log);
	cg_json_str(r->log, eff ? eff : "none");
	fputs(", \"bounding\": ", r->log);
	cg_json_str(r->log, bnd ? bnd : "none");
	fprintf(r->log, ", \"no_new_privs\": true, \"ok\": %s",
		err ? "false" : "true");
	rec_end(r);
	syslog(err ? LOG_ERR : LOG_NOTICE, "capabilities %s: %s",
	       err ? "could not be dropped; still" : "dropped to",
	       eff ? eff : "none");
	free(eff);
	free(bnd);
	return err;
}

static int event_prio(const struct cg_event *e)
{
	if (e->flags & CG_EV_SHADOW)
		return LOG_NOTICE;
	if (e->verdict == CG_V_DROP)
		return LOG_WARNING;
	return e->reason == CG_R_MONITOR ? LOG_NOTICE : LOG_INFO;
}

/* Bytes of event lines that are written out even within a batch. */
#define EV_BATCH (256 * 1024)

/*
 * Before each batch of events: is there a syslog socket? Without one,
 * syslog(3) (no LOG_CONS) drops the line after a socket(2), connect(2)
 * and close(2) of its own, per line: four fifths of run's system calls in
 * a flood. A daemon that appears is used from the next batch on.
 */
static void syslog_probe(struct run *r)
{
	r->no_syslogd = access(_PATH_LOG, F_OK) != 0;
}

static void on_event(void *ctx, const struct cg_event *e,
		     const struct cg_namer *n, long long off)
{
	struct run *r = ctx;
	size_t at = r->evbuf.len;

	/* The event's own time, when the frame was judged. Event lines
	 * collect in evbuf and go out once per batch (log_flush after the
	 * poll in cg_run), or when EV_BATCH bytes are waiting: a write(2)
	 * per line would bound the rate the log takes. */
	r->evbuf.oom = false;
	cg_sbuf_puts(&r->evbuf, "{\"type\": \"event\", ");
	cg_event_json_buf(&r->evbuf, e, n, off);
	cg_sbuf_puts(&r->evbuf, "}\n");
	if (r->evbuf.oom) /* no half line: the event is not in the log */
		r->evbuf.len = at;
	r->n_events++;
	if (r->evbuf.len >= EV_BATCH)
		log_flush(r);
	/* The log first; subscribers get a copy queued, never a wait. */
	cg_fanout_event(r->fan, e);

	r->brief.len = 0;
	r->brief.oom = false;
	cg_event_brief_buf(&r->brief, e, n);
	if (!r->brief.oom && !r->no_syslogd)
		syslog(event_prio(e), "%s", r->brief.p);
}

static int metrics_body(void *ctx, FILE *out)
{
	return cg_metrics_print(ctx, out);
}

static int epoll_add(int epfd, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

int cg_run(const struct cg_env *env, const struct cg_run_opts *o)
{
	struct run r = {.env = env, .o = o};
	struct cg_metrics_server *ms = NULL;
	struct cg_event_stream *es = NULL;
	int sfd = -1, tfd = -1, epfd = -1, evfd, err, stop_sig = 0;
	int lfd = -1, dfd = -1, ifd = -1, wfd = -1, rlfd, ffd = -1, ferr;
	int cfd = -1;
	int afd = -1; /* the gateway's addresses (self.h) */
	struct file_watch fw = {.fd = -1};
	const char *first = o->policy;
	char kept[4096];
	unsigned pending_rev = 0;
	sigset_t mask;

	openlog("cranegate", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	signal(SIGPIPE, SIG_IGN);
	/* Block the signals before any thread starts (libmicrohttpd's
	 * inherits the mask), then take them through a signalfd. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	/* One run per pin root: a second would fight the first. */
	rlfd = cg_run_lock(env);
	if (rlfd < 0) {
		closelog();
		return rlfd;
	}
	/* Everything that can fail for local reasons fails before the
	 * gate changes: the log, then the metrics address. */
	if ((err = open_log(&r)))
		goto out;
	if ((err = cg_records_open(env, o->ipfix, &r.rec)))
		goto out;
	if (o->metrics &&
	    (err = cg_metrics_bind(o->metrics, metrics_body, (void *)env, &ms)))
		goto out;
	/*
	 * An `apply --confirm` awaiting its decision is what the operator
	 * is trying: a restart (or a reboot) keeps it, and its watchdog
	 * still reverts at the deadline.
	 */
	if (!cg_confirm_resume(env, kept, sizeof(kept), &pending_rev)) {
		first = kept;
		syslog(LOG_NOTICE,
		       "revision %u awaits confirmation: applying it (%s), not "
		       "%s, until it is confirmed or reverted",
		       pending_rev, kept, o->policy);
	}
	if ((err = apply_policy(&r, "start", first)))
		goto out;
	if ((err = cg_event_stream_open_owner(env, on_event, &r, &es)))
		goto out;
	r.es = es;
	/*
	 * run owns the ring buffer and hands every event on to events and
	 * capture (one reading position: any other reader would take events
	 * from the log). Without the socket they read the ring buffer.
	 */
	ferr = cg_fanout_open(env, &r.fan);
	if (ferr == -EADDRINUSE)
		fprintf(stderr,
			"cranegate: another run already serves this gate's "
			"events; two runs take events from each other's "
			"logs\n");
	else if (ferr)
		fprintf(stderr,
			"cranegate: cannot offer events to other readers in "
			"%s: %s; events and capture will take events from "
			"this log\n",
			env->state_dir, strerror(-ferr));
	/* Addresses that come and go while run runs are the gateway's:
	 * `self` follows them. One refresh after subscribing closes the
	 * window since the apply learned them. */
	afd = cg_self_watch_open();
	if (afd < 0) {
		err = afd;
		fprintf(stderr,
			"cranegate: cannot watch the gateway's addresses "
			"(netlink): %s\n",
			strerror(-err));
		goto out;
	}
	self_refresh(env, r.ifaces, r.n_ifaces);
	lfd = link_watch_open();
	if (lfd < 0) {
		err = lfd;
		fprintf(stderr,
			"cranegate: cannot watch interfaces (netlink): %s\n",
			strerror(-err));
		goto out;
	}
	/* Link changes settle for 100 ms before the interfaces are looked at.
	 */
	dfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (dfd < 0) {
		err = -errno;
		goto out;
	}
	if (o->watch) {
		r.fw = &fw;
		ifd = file_watch_open(&fw, o->policy);
		wfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
		if (ifd < 0 || wfd < 0) {
			err = ifd < 0 ? ifd : -errno;
			fprintf(stderr,
				"cranegate: cannot watch %s (inotify): %s\n",
				o->policy, strerror(-err));
			goto out;
		}
	}
	if ((err = drop_privileges(&r))) {
		fprintf(stderr, "cranegate: cannot drop capabilities: %s\n",
			strerror(-err));
		goto out;
	}
	if (ms && (err = cg_metrics_start(ms)))
		goto out;

	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || epfd < 0) {
		err = -errno;
		goto out;
	}
	evfd = cg_event_stream_fd(es);
	ffd = r.fan ? cg_fanout_fd(r.fan) : -1;
	if ((ffd >= 0 && (err = epoll_add(epfd, ffd))) ||
	    (err = epoll_add(epfd, sfd)) || (err = epoll_add(epfd, evfd)) ||
	    (err = epoll_add(epfd, lfd)) || (err = epoll_add(epfd, dfd)) ||
	    (err = epoll_add(epfd, afd)) ||
	    (ifd >= 0 &&
	     ((err = epoll_add(epfd, ifd)) || (err = epoll_add(epfd, wfd)))))
		goto out;
	if (o->summary_s > 0) {
		struct itimerspec it = {
			.it_interval = {.tv_sec = o->summary_s},
			.it_value = {.tv_sec = o->summary_s},
		};

		tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
		if (tfd < 0 || timerfd_settime(tfd, 0, &it, NULL)) {
			err = -errno;
			goto out;
		}
		if ((err = epoll_add(epfd, tfd)))
			goto out;
	}
	/* Connection records: a sweep of the connection table a second. */
	{
		struct itimerspec it = {.it_interval = {.tv_sec = 1},
					.it_value = {.tv_sec = 1}};

		cfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
		if (cfd < 0 || timerfd_settime(cfd, 0, &it, NULL) ||
		    (err = epoll_add(epfd, cfd))) {
			err = err ? err : -errno;
			goto out;
		}
		cg_records_sweep(r.rec, r.log);
	}
	cg_snapshot_read(env, &r.base);
	clock_gettime(CLOCK_MONOTONIC, &r.base_at);
	syslog(LOG_NOTICE, "streaming events to %s%s%s",
	       o->log_path ? o->log_path : "stdout",
	       o->metrics ? "; metrics on http://" : "",
	       o->metrics ? o->metrics : "");

	while (!stop_sig) {
		struct epoll_event evs[8];
		int n, i;

		n = epoll_wait(epfd, evs, 8, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			break;
		}
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == evfd) {
				syslog_probe(&r);
				cg_event_stream_poll(es, 0);
				log_flush(&r);
				cg_fanout_flush(r.fan);
			} else if (fd == ffd) {
				cg_fanout_service(r.fan);
			} else if (fd == afd) {
				if (cg_self_watch_drain(afd))
					self_refresh(env, r.ifaces, r.n_ifaces);
			} else if (fd == lfd) {
				struct itimerspec settle = {
					.it_value = {.tv_nsec = 100000000}};

				if (link_watch_drain(lfd))
					timerfd_settime(dfd, 0, &settle, NULL);
			} else if (fd == dfd) {
				uint64_t ticks;

				if (read(dfd, &ticks, sizeof(ticks)) > 0)
					link_check(&r);
			} else if (fd == ifd) {
				struct itimerspec settle = {
					.it_value = {.tv_nsec = 200000000}};

				if (file_watch_drain(&fw))
					timerfd_settime(wfd, 0, &settle, NULL);
			} else if (fd == wfd) {
				uint64_t ticks;

				if (read(wfd, &ticks, sizeof(ticks)) > 0)
					file_changed(&r);
			} else if (fd == cfd) {
				uint64_t ticks;

				if (read(cfd, &ticks, sizeof(ticks)) > 0) {
					cg_records_sweep(r.rec, r.log);
					log_flush(&r);
				}
			} else if (fd == tfd) {
				uint64_t ticks;

				if (read(tfd, &ticks, sizeof(ticks)) > 0)
					run_summary(&r);
			} else if (fd == sfd) {
				struct signalfd_siginfo si;

				if (read(sfd, &si, sizeof(si)) != sizeof(si))
					continue;
				if (si.ssi_signo == SIGUSR1) {
					/* logrotate moved the file: write a
					 * new one. Nothing else. */
					if (o->log_path)
						open_log(&r);
					syslog(LOG_NOTICE,
					       "SIGUSR1: log reopened");
					continue;
				}
				if (si.ssi_signo != SIGHUP) {
					stop_sig = si.ssi_signo;
					continue;
				}
				if (o->no_reload)
					syslog(LOG_NOTICE, "SIGHUP: run has "
							   "--no-reload, the "
							   "policy stays");
				else
					apply_policy(&r, "sighup", o->policy);
			}
		}
	}
	/* What is already in the ring buffer still goes out; so do the
	 * records of connections that ended since the last sweep. */
	syslog_probe(&r);
	cg_event_stream_poll(es, 0);
	log_flush(&r); /* the events, then the records */
	cg_records_sweep(r.rec, r.log);
	log_flush(&r);
	cg_fanout_flush(r.fan);
	if (stop_sig) {
		bool detached = false;

		err = 0;
		if (o->detach_on_exit)
			detached = !quietly(detach_fn, env, NULL);
		rec_begin(&r, "stop");
		fprintf(r.log,
			", \"signal\": \"%s\", \"events_written\": %llu, "
			"\"gate\": \"%s\"",
			sigabbrev_np(stop_sig), r.n_events,
			detached ? "detached" : "enforcing");
		rec_end(&r);
		syslog(LOG_NOTICE, "stopping on SIG%s; %s",
		       sigabbrev_np(stop_sig),
		       detached ? "detached from every interface"
				: "the gate stays attached and enforcing");
	}
out:
	cg_metrics_stop(ms);
	cg_fanout_close(r.fan);
	cg_event_stream_close(es);
	cg_snapshot_free(&r.base);
	cg_records_close(r.rec);
	if (cfd >= 0)
		close(cfd);
	if (tfd >= 0)
		close(tfd);
	if (dfd >= 0)
		close(dfd);
	if (lfd >= 0)
		close(lfd);
	if (afd >= 0)
		close(afd);
	if (ifd >= 0)
		close(ifd);
	if (wfd >= 0)
		close(wfd);
	free(r.ifaces);
	if (sfd >= 0)
		close(sfd);
	if (epfd >= 0)
		close(epfd);
	if (r.log && r.evbuf.len)
		log_flush(&r);
	cg_sbuf_free(&r.evbuf);
	cg_sbuf_free(&r.brief);
	if (r.log && r.log != stdout)
		fclose(r.log);
	close(rlfd);
	closelog();
	return err;
}
