/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Inside `run` (daemon.c): its state, shared with the periodic summary
 * (summary.c). Not for use outside user/ops/.
 */
#ifndef CRANEGATE_DAEMON_INT_H
#define CRANEGATE_DAEMON_INT_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "daemon.h"
#include "fanout.h"
#include "file_watch.h"
#include "loader.h"
#include "output.h"
#include "records.h"

/* An interface of the active policy, and the ifindex it had last. */
struct watched {
	char name[CG_IFNAME_MAX];
	unsigned ifindex; /* 0: not there */
};

struct run {
	const struct cg_env *env;
	const struct cg_run_opts *o;
	FILE *log;
	bool log_broken;	 /* a write failed; said so once */
	struct cg_snapshot base; /* counters at the previous summary */
	struct timespec base_at;
	unsigned long long n_events;
	/* Event lines not yet written (one write(2) per batch, see
	 * log_flush), and the syslog line of the current event. */
	struct cg_sbuf evbuf, brief;
	bool no_syslogd;	/* no /dev/log at the start of this batch */
	struct watched *ifaces; /* of the last policy applied */
	size_t n_ifaces;
	unsigned long long failed_sig; /* ifindexes of a re-guard that failed */
	struct cg_event_stream *es;    /* once streaming */
	struct cg_fanout *fan;	       /* events, capture: see fanout.h */
	unsigned char applied_sha[32]; /* of the last file applied (--watch) */
	unsigned char refused_sha[32]; /* of the last file refused (--watch) */
	struct file_watch *fw;	       /* --watch */
	struct cg_records *rec;	       /* connection records */
	struct cg_limits limits;       /* of the policy last parsed */
};

/* A record in run's log: rec_begin writes `{"type": "TYPE", "time": "..."`, the
 * caller its fields, rec_end the closing brace and the flush. */
void rec_begin(struct run *r, const char *type);
void rec_end(struct run *r);
/* Open (or reopen) --log; 0 or -errno, said on stderr and syslog. */
int open_log(struct run *r);
/* Write the batch of event lines and what stdio holds; see run_log.c. */
void log_flush(struct run *r);
/* The periodic summary (summary.c): counters since the last, as a
 * record in the log and a line in syslog. */
void run_summary(struct run *r);

#endif
