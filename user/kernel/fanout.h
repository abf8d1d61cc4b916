/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Event fan-out: the ring buffer has one reading position, so an event
 * read by one reader is gone for every other. `run` is the one reader of
 * the ring buffer while it runs (its log is the record) and hands every
 * event on, over a unix stream socket in the state directory, to local
 * subscribers: `events` and `capture`. They read the ring buffer
 * themselves only when no `run` serves the gate.
 *
 * The socket is `STATE_DIR/events-XXXXXXXX.sock` (XXXXXXXX: a hash of the
 * pin root, so that gates sharing a state directory do not meet), mode
 * 0600, and both ends check that the other is root (or the same user). A
 * subscriber that falls behind loses its own events, never the log's:
 * `run` buffers up to CG_FANOUT_BUF bytes per subscriber and counts what
 * does not fit, and tells the subscriber how many it lost.
 *
 * On the wire: records of a header (type, payload length) and a payload;
 * first a hello (magic and the size of struct cg_event, so that binaries
 * of another build refuse each other), then events and loss counts.
 */
#ifndef CRANEGATE_FANOUT_H
#define CRANEGATE_FANOUT_H

#include <stddef.h>
#include <stdint.h>

#include "loader.h"

#define CG_FANOUT_MAGIC 0x63676576u /* "cgev" */
#define CG_FANOUT_BUF (1024 * 1024) /* per subscriber: the ring's slack */
#define CG_FANOUT_MAX_SUBSCRIBERS 16

enum cg_fanout_type {
	CG_FAN_HELLO = 1, /* u32 magic, u32 sizeof(struct cg_event) */
	CG_FAN_EVENT = 2, /* struct cg_event */
	CG_FAN_LOST = 3,  /* u64: events this subscriber lost since the last */
};

struct cg_fanout_hdr {
	uint32_t type;
	uint32_t len; /* payload bytes after this header */
};

/* The socket's path for this gate; -ENAMETOOLONG if it does not fit. */
int cg_fanout_path(const struct cg_env *env, char *buf, size_t len);

/* run's side. */
struct cg_fanout;
/*
 * Listen on the socket (a stale one, left by a run that was killed, is
 * replaced). -EADDRINUSE when another run already serves this gate.
 */
int cg_fanout_open(const struct cg_env *env, struct cg_fanout **out);
/* A descriptor that is readable when subscribers need service (epoll). */
int cg_fanout_fd(const struct cg_fanout *f);
/* Accept subscribers, write what they can take, drop those gone. */
void cg_fanout_service(struct cg_fanout *f);
/* Queue one event for every subscriber (never blocks). */
void cg_fanout_event(struct cg_fanout *f, const struct cg_event *e);
/* Write queued events now, as far as each subscriber takes them. */
void cg_fanout_flush(struct cg_fanout *f);
/* Close every subscriber and remove the socket; safe on NULL. */
void cg_fanout_close(struct cg_fanout *f);

/*
 * A subscriber's side: connect to this gate's run, check it and read its
 * hello. A connected socket, or a negative errno (-ENOENT, -ECONNREFUSED:
 * no run; -EPERM: the socket or its server is not root's; -EPROTO: a run
 * of another build).
 */
int cg_fanout_connect(const struct cg_env *env);

#endif
