/* SPDX-License-Identifier: GPL-2.0 */
/*
 * `cranegate run`: the gate as a service. Applies a policy, then streams
 * events as JSON lines to a log (stdout or a file) and to syslog, serves
 * metrics, writes a periodic summary, reloads on SIGHUP and reopens the
 * log on SIGUSR1. Applies the active policy again when an interface it
 * names comes back (rtnetlink).
 * Drops every capability it does not need once the gate is attached.
 */
#ifndef CRANEGATE_DAEMON_H
#define CRANEGATE_DAEMON_H

#include <stdbool.h>

#include "loader.h"

struct cg_run_opts {
	const char *policy;   /* applied at start and on every SIGHUP */
	const char *log_path; /* JSON lines; NULL: stdout */
	const char *metrics;  /* ADDR:PORT to serve /metrics on, or NULL */
	int summary_s;	      /* seconds between summaries; 0: none */
	bool detach_on_exit;  /* detach on SIGTERM/SIGINT (default: stay) */
	bool no_reload;	      /* SIGHUP does nothing; fewer caps */
	bool insecure;	      /* accept a policy file others can write */
	bool watch;	      /* also reload when POLICY changes on disk */
	const char *ipfix;    /* connection records to HOST:PORT, or NULL */
};

/*
 * Runs until SIGTERM or SIGINT. Returns 0 after a clean stop, or a
 * negative errno if the first apply (or opening the log, or the metrics
 * server) failed; a gate applied before stays as it was.
 */
int cg_run(const struct cg_env *env, const struct cg_run_opts *o);

#endif
