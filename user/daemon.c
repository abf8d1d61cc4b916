// SPDX-License-Identifier: GPL-2.0
/*
 * `cranegate run`: apply, then stream. One thread waits in epoll on three
 * sources: the event ring buffer, a signalfd (SIGHUP, SIGTERM, SIGINT)
 * and a timerfd for the periodic summary; libmicrohttpd serves /metrics
 * from a thread of its own, reading the maps on each scrape.
 *
 * The log is JSON lines, one object per line, each with a "type":
 *   apply    a policy was applied, or refused ("ok": false, "errors")
 *   event    a frame's event, with the fields of `events --json`
 *   summary  counts since the previous summary, per reason, and what
 *            happened to events (emitted, lost, suppressed)
 *   stop     the daemon stopped; "gate" says whether it stays enforcing
 * Each also goes to syslog(3) as one line (facility daemon).
 *
 * The gate does not depend on this process: the kernel holds the XDP
 * attachment, so SIGTERM, a crash or SIGKILL leave the last applied
 * policy enforcing (fail-closed). Only --detach-on-exit detaches, and
 * only on SIGTERM/SIGINT.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "compile.h"
#include "daemon.h"
#include "metrics.h"
#include "output.h"

struct run {
	const struct cg_env *env;
	const struct cg_run_opts *o;
	FILE *log;
	bool log_broken;	 /* a write failed; said so once */
	struct cg_snapshot base; /* counters at the previous summary */
	struct timespec base_at;
	unsigned long long n_events;
};

static void iso_now(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000);
}

static void sha_hex(const unsigned char *sha, char *hex)
{
	int i;

	for (i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", sha[i]);
}

/* Start a log record: `{"type": "TYPE", "time": "..."`. */
static void rec_begin(struct run *r, const char *type)
{
	char t[64];

	iso_now(t, sizeof(t));
	fprintf(r->log, "{\"type\": \"%s\", \"time\": \"%s\"", type, t);
}

/* Write out what the log holds; say once when that fails. */
static void log_flush(struct run *r)
{
	if (fflush(r->log) || ferror(r->log)) {
		if (!r->log_broken)
			syslog(LOG_ERR, "cannot write to the event log %s: %m",
			       r->o->log_path ? r->o->log_path : "(stdout)");
		r->log_broken = true;
		clearerr(r->log);
	} else {
		r->log_broken = false;
	}
}

static void rec_end(struct run *r)
{
	fputs("}\n", r->log);
	log_flush(r);
}

static int open_log(struct run *r)
{
	FILE *f;
	int fd;

	if (!r->o->log_path) {
		r->log = stdout;
		setvbuf(stdout, NULL, _IOLBF, 0);
		return 0;
	}
	fd = open(r->o->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
		  0640);
	f = fd < 0 ? NULL : fdopen(fd, "a");
	if (!f) {
		int err = -errno;

		if (fd >= 0)
			close(fd);
		fprintf(stderr, "cranegate: cannot open the event log %s: %s\n",
			r->o->log_path, strerror(-err));
		syslog(LOG_ERR, "cannot open the event log %s: %s",
		       r->o->log_path, strerror(-err));
		return err;
	}
	setvbuf(f, NULL, _IOLBF, 0);
	if (r->log && r->log != stdout)
		fclose(r->log);
	r->log = f;
	return 0;
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

static int apply_fn(const struct cg_env *env, const char *path)
{
	return cg_apply(env, path);
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
static int apply_policy(struct run *r, const char *trigger)
{
	const char *path = r->o->policy;
	const char *keep = strcmp(trigger, "start") ? "the running policy stays"
						    : "nothing changed";
	struct cg_diags d = {.file = path};
	struct cg_policy *p = NULL;
	struct cg_compiled *c = NULL;
	struct cg_snapshot s;
	char *text = NULL, hex[65];
	size_t len = 0;
	FILE *m;
	int err;

	err = cg_policy_load(path, &p, &d);
	if (!err)
		err = cg_compile(p, &c, &d);
	m = open_memstream(&text, &len);
	if (m) {
		cg_diags_print(&d, m);
		fclose(m);
	}
	if (text && *text)
		fputs(text, stderr);
	cg_compiled_free(c);
	cg_policy_free(p);

	rec_begin(r, "apply");
	fprintf(r->log, ", \"trigger\": \"%s\", \"file\": ", trigger);
	cg_json_str(r->log, path);
	if (err) {
		syslog(LOG_ERR, "%s: policy %s refused (%zu errors); %s",
		       trigger, path, d.n_errors, keep);
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
	cg_snapshot_read(r->env, &s);
	sha_hex(s.sha256, hex);
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
	rec_end(r);
	cg_snapshot_free(&s);
out:
	free(text);
	cg_diags_free(&d);
	return err;
}

static int event_prio(const struct cg_event *e)
{
	if (e->verdict == CG_V_DROP)
		return LOG_WARNING;
	return e->reason == CG_R_MONITOR ? LOG_NOTICE : LOG_INFO;
}

static void on_event(void *ctx, const struct cg_event *e,
		     const struct cg_namer *n, long long off)
{
	struct run *r = ctx;
	char *line = NULL;
	size_t len = 0;
	FILE *m;

	/* The event's own time, when the frame was judged. Events are
	 * flushed once per batch (see the loop in cg_run), not one by one:
	 * a write(2) per line would bound the rate the log takes. */
	fputs("{\"type\": \"event\", ", r->log);
	cg_event_json_fields(r->log, e, n, off);
	fputs("}\n", r->log);
	r->n_events++;

	m = open_memstream(&line, &len);
	if (m) {
		cg_event_brief(m, e, n);
		fclose(m);
		syslog(event_prio(e), "%s", line);
	}
	free(line);
}

static unsigned long long delta(unsigned long long now,
				unsigned long long before)
{
	/* The state maps were recreated (detach, then apply): start over. */
	return now >= before ? now - before : now;
}

/*
 * Per interface with activity since the previous summary: frames, and
 * drops by reason, in the JSON record (`interfaces`) and, for drops, in
 * the syslog line.
 */
static void summary_ifaces(struct run *r, const struct cg_snapshot *now,
			   FILE *m)
{
	bool first = true, said = false;
	size_t i, j;
	unsigned k;

	for (i = 0; i < now->n_ifstats; i++) {
		const struct cg_snap_ifstat *is = &now->ifstats[i], *ps = NULL;
		unsigned long long p = 0, b = 0, d[CG_R_MAX] = {};
		bool first_r = true;

		for (j = 0; j < r->base.n_ifstats; j++)
			if (r->base.ifstats[j].ifindex == is->ifindex)
				ps = &r->base.ifstats[j];
		for (k = 0; k < CG_R_MAX; k++) {
			unsigned long long before =
				ps ? ps->reasons[k].packets : 0;

			d[k] = delta(is->reasons[k].packets, before);
			p += d[k];
			b += delta(is->reasons[k].bytes,
				   ps ? ps->reasons[k].bytes : 0);
		}
		if (!p)
			continue;
		fprintf(r->log, "%s", first ? "" : ", ");
		cg_json_str(r->log, is->name);
		fprintf(r->log,
			": {\"packets\": %llu, \"bytes\": %llu, \"drops\": {",
			p, b);
		for (k = CG_R_FIRST_DROP; k < CG_R_MAX; k++) {
			if (!d[k])
				continue;
			fprintf(r->log, "%s\"%s\": %llu", first_r ? "" : ", ",
				cg_reason_name(k), d[k]);
			fprintf(m, "%s %s %s %llu",
				said ? "," : "; drops by interface:", is->name,
				cg_reason_name(k), d[k]);
			first_r = false;
			said = true;
		}
		fputs("}}", r->log);
		first = false;
	}
}

/*
 * What happened since the previous summary: frames per reason, and
 * events per (would-be) reason with what became of them.
 */
static void summary(struct run *r)
{
	struct cg_snapshot now;
	struct cg_snap_events tot = {};
	struct timespec at;
	char *line = NULL;
	size_t len = 0;
	bool first = true;
	double secs;
	unsigned i;
	FILE *m;

	if (cg_snapshot_read(r->env, &now))
		return;
	clock_gettime(CLOCK_MONOTONIC, &at);
	secs = (at.tv_sec - r->base_at.tv_sec) +
	       (at.tv_nsec - r->base_at.tv_nsec) / 1e9;
	m = open_memstream(&line, &len);
	if (!m) {
		cg_snapshot_free(&now);
		return;
	}
	fprintf(m, "summary of the last %.0f s: packets", secs);

	rec_begin(r, "summary");
	fprintf(r->log, ", \"interval_s\": %.3f, \"reasons\": {", secs);
	for (i = 0; i < CG_R_MAX; i++) {
		unsigned long long p = delta(now.reasons[i].packets,
					     r->base.reasons[i].packets);
		unsigned long long b =
			delta(now.reasons[i].bytes, r->base.reasons[i].bytes);
		struct cg_snap_events ev = {
			delta(now.events[i].emitted, r->base.events[i].emitted),
			delta(now.events[i].lost, r->base.events[i].lost),
			delta(now.events[i].suppressed,
			      r->base.events[i].suppressed),
			delta(now.events[i].suppressed_source,
			      r->base.events[i].suppressed_source),
		};

		tot.emitted += ev.emitted;
		tot.lost += ev.lost;
		tot.suppressed += ev.suppressed;
		tot.suppressed_source += ev.suppressed_source;
		if (!p && !ev.emitted && !ev.lost && !ev.suppressed)
			continue;
		fprintf(r->log,
			"%s\"%s\": {\"packets\": %llu, \"bytes\": %llu, "
			"\"events\": %llu, \"lost\": %llu, \"suppressed\": "
			"%llu, \"suppressed_by_source\": %llu}",
			first ? "" : ", ", cg_reason_name(i), p, b, ev.emitted,
			ev.lost, ev.suppressed, ev.suppressed_source);
		if (p)
			fprintf(m, " %s %llu", cg_reason_name(i), p);
		if (ev.lost || ev.suppressed)
			fprintf(m,
				" (%s events: %llu lost, %llu suppressed, %llu "
				"of them by source)",
				cg_reason_name(i), ev.lost, ev.suppressed,
				ev.suppressed_source);
		first = false;
	}
	if (first)
		fputs(" none", m);
	fputs("}, \"interfaces\": {", r->log);
	summary_ifaces(r, &now, m);
	fprintf(r->log,
		"}, \"events\": {\"emitted\": %llu, \"lost\": %llu, "
		"\"suppressed\": %llu, \"suppressed_by_source\": %llu}, "
		"\"events_written\": %llu",
		tot.emitted, tot.lost, tot.suppressed, tot.suppressed_source,
		r->n_events);
	rec_end(r);
	fprintf(m,
		"; events %llu emitted, %llu lost, %llu suppressed (%llu by "
		"source)",
		tot.emitted, tot.lost, tot.suppressed, tot.suppressed_source);
	fclose(m);
	syslog(tot.lost ? LOG_WARNING : LOG_INFO, "%s", line);
	free(line);

	cg_snapshot_free(&r->base);
	r->base = now;
	r->base_at = at;
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
	sigset_t mask;

	openlog("cranegate", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	signal(SIGPIPE, SIG_IGN);
	/* Block the signals before any thread starts (libmicrohttpd's
	 * inherits the mask), then take them through a signalfd. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	/* Everything that can fail for local reasons fails before the
	 * gate changes: the log, then the metrics address. */
	if ((err = open_log(&r)))
		goto out;
	if (o->metrics && (err = cg_metrics_serve(o->metrics, metrics_body,
						  (void *)env, &ms)))
		goto out;
	if ((err = apply_policy(&r, "start")))
		goto out;
	if ((err = cg_event_stream_open(env, on_event, &r, &es)))
		goto out;

	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || epfd < 0) {
		err = -errno;
		goto out;
	}
	evfd = cg_event_stream_fd(es);
	if ((err = epoll_add(epfd, sfd)) || (err = epoll_add(epfd, evfd)))
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
	cg_snapshot_read(env, &r.base);
	clock_gettime(CLOCK_MONOTONIC, &r.base_at);
	syslog(LOG_NOTICE, "streaming events to %s%s%s",
	       o->log_path ? o->log_path : "stdout",
	       o->metrics ? "; metrics on http://" : "",
	       o->metrics ? o->metrics : "");

	while (!stop_sig) {
		struct epoll_event evs[4];
		int n, i;

		n = epoll_wait(epfd, evs, 4, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			break;
		}
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == evfd) {
				cg_event_stream_poll(es, 0);
				log_flush(&r);
			} else if (fd == tfd) {
				uint64_t ticks;

				if (read(tfd, &ticks, sizeof(ticks)) > 0)
					summary(&r);
			} else if (fd == sfd) {
				struct signalfd_siginfo si;

				if (read(sfd, &si, sizeof(si)) != sizeof(si))
					continue;
				if (si.ssi_signo != SIGHUP) {
					stop_sig = si.ssi_signo;
					continue;
				}
				/* logrotate moved the file: write a new one. */
				if (o->log_path)
					open_log(&r);
				apply_policy(&r, "sighup");
			}
		}
	}
	/* What is already in the ring buffer still goes out. */
	cg_event_stream_poll(es, 0);
	log_flush(&r);
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
	cg_event_stream_close(es);
	cg_snapshot_free(&r.base);
	if (tfd >= 0)
		close(tfd);
	if (sfd >= 0)
		close(sfd);
	if (epfd >= 0)
		close(epfd);
	if (r.log && r.log != stdout)
		fclose(r.log);
	closelog();
	return err;
}
