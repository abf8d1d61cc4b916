/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Prometheus metrics: the gate's counters in the text exposition format
 * (version 0.0.4), printed once (`cranegate metrics`, for node_exporter's
 * textfile collector) or served on /metrics by libmicrohttpd
 * (`cranegate run --metrics ADDR:PORT`).
 */
#ifndef CRANEGATE_METRICS_H
#define CRANEGATE_METRICS_H

#include <stdio.h>
#include <sys/socket.h>

#include "loader.h"

#define CG_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * Limits of the /metrics server: connections in all (a GET must answer
 * within 1 s while 64 slow clients hold theirs), connections per client
 * address, and seconds a connection may stay silent before it is closed.
 */
#define CG_METRICS_MAX_CONNECTIONS 256
#define CG_METRICS_MAX_PER_ADDRESS 16
#define CG_METRICS_IDLE_S 5
/* Seconds a request has to arrive whole (slow clients are never idle). */
#define CG_METRICS_REQUEST_S 10

/* The exposition text of a snapshot: HELP and TYPE for every family. */
void cg_metrics_write(FILE *out, const struct cg_snapshot *s);

/* Read a snapshot of the gate under env and write its exposition text. */
int cg_metrics_print(const struct cg_env *env, FILE *out);

/*
 * Parse "ADDR:PORT" ("127.0.0.1:9123", "[::1]:9123"). The address is
 * required and must be numeric: the server binds to it and nothing else.
 * Returns 0 or -EINVAL.
 */
int cg_metrics_parse_addr(const char *spec, struct sockaddr_storage *ss,
			  socklen_t *len);

/* Produces the body of /metrics: 0 or a negative errno. */
typedef int (*cg_metrics_fn)(void *ctx, FILE *out);

struct cg_metrics_server;

/*
 * Serve GET /metrics on ADDR:PORT from libmicrohttpd's own thread, each
 * scrape calling fn. The caller must block the signals it wants to
 * receive before this call: the server thread inherits the mask.
 */
int cg_metrics_serve(const char *spec, cg_metrics_fn fn, void *ctx,
		     struct cg_metrics_server **out);
/*
 * The same in two steps, for `run`: bind and listen now (so that a bad
 * address fails before the gate changes, and a port below 1024 is bound
 * while the capability to do so is still there), start the server's
 * thread later, after capabilities were dropped: capabilities belong to
 * each thread, and a thread started before the drop would keep them.
 */
int cg_metrics_bind(const char *spec, cg_metrics_fn fn, void *ctx,
		    struct cg_metrics_server **out);
int cg_metrics_start(struct cg_metrics_server *m);
/* The port actually bound (useful with port 0). */
unsigned cg_metrics_port(const struct cg_metrics_server *m);
void cg_metrics_stop(struct cg_metrics_server *m);

/*
 * `cranegate top`: a live view of the busiest drop reasons and flows,
 * refreshed every second (the screen is cleared when stdout is a
 * terminal). Stops when signalled or after `refreshes` (0: never).
 */
int cg_top_run(const struct cg_env *env, long long refreshes);

#endif
