/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The live gate: applying a policy to the interfaces it names (swapping
 * instances atomically), reading it back, detaching it. Everything lives
 * under one pin root:
 *
 *   PIN_ROOT/prog           the active instance's program (its policy
 *                           maps are reachable through it)
 *   PIN_ROOT/reason_stats   state maps shared by every instance
 *   PIN_ROOT/event_stats, event_buckets, event_sketch, events,
 *   PIN_ROOT/conns, macs, frags, state_stats, iface_stats, iface_slots
 *
 * The interfaces the gate is attached to are the ones whose XDP program
 * is PIN_ROOT/prog: the kernel is the record, so a loader that died
 * leaves nothing to reconcile.
 */
#ifndef CRANEGATE_LOADER_H
#define CRANEGATE_LOADER_H

#include <stdbool.h>
#include <time.h>
#include <stdint.h>
#include <stdio.h>

#include "cranegate.h"
#include "policy.h"
struct cg_compiled;

struct cg_env {
	const char *pin_root;  /* default /sys/fs/bpf/cranegate */
	const char *state_dir; /* default /var/lib/cranegate */
	bool verbose;
	bool json;
};

/* What an apply is, and what cg_change_begin learns for cg_change_end. */
struct cg_change {
	const char *action; /* "apply" (NULL), "rollback", "revert",
			     * "promote" */
	int confirm_s;	    /* apply --confirm: seconds, else 0 */
	char token[33];	    /* apply --confirm: ties pending to watchdog */
	int watchdog_pid;
	unsigned from_rev;    /* rollback: the revision restored */
	unsigned reverts_rev; /* revert: the revision taken back */
	bool expect_active;   /* revert: only if this is still active */
	uint8_t expect_sha[32];

	/* Filled in by cg_change_begin. */
	bool begun;
	bool had_old; /* a policy was active before */
	uint8_t old_sha[32];
	char old_name[CG_NAME_MAX];
	bool armed;	 /* pending.json written for this apply */
	const char *why; /* why begin refused, for the audit log */
	char whybuf[160];
	bool no_state; /* the state directory is not usable: no record */
	unsigned rev;  /* assigned by cg_change_begin, recorded before the
			* switch */
	void *audit_prep; /* the audit diff, worked out beside the load
			   * (change.c); cg_change_end takes it */

	/* Filled in by cg_change_end. */
	unsigned cancelled_rev; /* a pending confirmation this change ended */
	unsigned kept_rev;	/* ... or kept (the same bytes again) */
};

/*
 * apply with change control: cg_apply's work with `ch` describing the
 * change (NULL: a plain apply).
 */
int cg_apply_change(const struct cg_env *env, const char *policy_path,
		    struct cg_change *ch);

/*
 * Change control hooks in from the layer above (ops/change.c, history):
 * the transaction calls begin under the pin root's lock before anything
 * switches (non-zero: it stops, nothing changed) and end on every way out;
 * detaching before a detach (non-zero: no detach) and detached after;
 * rev_of_id names the revision of an event's policy id (0: none). Any may
 * be NULL. The command line (cli/main.c) wires them.
 */
struct cg_policy;
struct cg_active;
struct cg_change_hooks {
	/*
	 * Asked once the policy compiles, before anything changes (and
	 * before begin): 0 goes on; anything else refuses the change with
	 * that value as its status, ch->why saying why for the audit log.
	 * The CLI's apply over SSH (main.c) checks here, on the policy the
	 * apply itself parsed.
	 */
	int (*vet)(const struct cg_env *env, struct cg_change *ch,
		   const struct cg_policy *p, const struct cg_compiled *c,
		   const char *policy_path);
	/* Called first, before the policy is read: work that can start
	 * early (change.c: parsing the active policy's copy). end follows
	 * on every way out. */
	void (*prepare)(const struct cg_env *env, struct cg_change *ch);
	int (*begin)(const struct cg_env *env, struct cg_change *ch,
		     const struct cg_policy *p, const char *policy_path);
	void (*end)(const struct cg_env *env, struct cg_change *ch,
		    const struct cg_policy *p, const char *policy_path,
		    int err);
	int (*detaching)(const struct cg_env *env);
	void (*detached)(const struct cg_env *env, int err);
	unsigned (*rev_of_id)(const struct cg_env *env, unsigned long long id);
};
void cg_change_hooks_set(const struct cg_change_hooks *h);

/* The hooks as set (every field may be NULL). */
const struct cg_change_hooks *cg_change_hooks(void);

/* The XDP program on an interface and its attach mode ("native", ...). */
int cg_xdp_query(int ifindex, uint32_t *prog_id, uint8_t *mode);
const char *cg_xdp_mode_name(uint8_t mode);
/* The enforcing instance's program (an fd), or -1. */
int cg_enforcing_prog(const struct cg_env *env);

/* PIN_ROOT/name, and the object pinned there (an fd, or -1). */
void cg_pin_path(const struct cg_env *env, const char *name, char *buf,
		 size_t len);
int cg_pin_fd(const struct cg_env *env, const char *name);

/* Lock the pin root (creating it, and mounting bpffs if needed). */
int cg_lock(const struct cg_env *env, int *lock_fd);
void cg_unlock(int lock_fd);

int cg_apply(const struct cg_env *env, const char *policy_path);
int cg_detach(const struct cg_env *env);
/* Stream events until signalled, `max` events (0: no limit) or `timeout_s`
 * seconds (0: none). */
int cg_events_run(const struct cg_env *env, long long max, int timeout_s);

/* The active instance, read back from the pins. */
struct cg_active;
int cg_active_open(const struct cg_env *env, struct cg_active **out);
void cg_active_close(struct cg_active *a);
/* Name of zone `id` / flow `id` in the active policy, or NULL. */
const char *cg_active_zone(const struct cg_active *a, unsigned id);
const char *cg_active_flow(const struct cg_active *a, unsigned id);
unsigned long long cg_active_policy_id(const struct cg_active *a);
/* Any instance, by its program (the fd is taken over, even on error). */
int cg_instance_open(int prog_fd, struct cg_active **out);
/* The instance's metadata (name, sha256, loaded at, sizes). */
const struct cg_policy_meta *cg_active_meta(const struct cg_active *a);
unsigned cg_active_prog_id(const struct cg_active *a);

/*
 * The hand-off maps (maps/cranegate.h): fds of the pinned `progs` and
 * `live` (-1 where absent) and live's value (zero if absent).
 */
void cg_live_open(const struct cg_env *env, int *progs_fd, int *live_fd,
		  struct cg_live *l);
/* The program in a slot of `progs`: an fd, or -1 when the slot is empty. */
int cg_slot_prog(int progs_fd, uint32_t slot);
/*
 * The same through the pins: the program in `slot` of this gate (for
 * CG_SLOT_NONE, the slot `live` names), or -1; *l (if not NULL) gets
 * live's value.
 */
int cg_gate_slot_prog(const struct cg_env *env, uint32_t slot,
		      struct cg_live *l);

/*
 * Events: the pinned ring buffer, read by `events`, `run` and `capture`.
 * A ring buffer has one consumer position: when several readers run at
 * once, each event goes to exactly one of them. The callback gets each
 * event with a namer bound to the policy that emitted it (the stream
 * follows reloads) and the offset that turns its CLOCK_MONOTONIC stamp
 * into wall time.
 */
struct cg_namer;
struct cg_event_stream;
typedef void (*cg_event_fn)(void *ctx, const struct cg_event *e,
			    const struct cg_namer *n,
			    long long realtime_off_ns);

/*
 * A reader of events: from run's fan-out while a run serves the gate
 * (looked for again every 0.2 s), else from the ring buffer itself.
 */
int cg_event_stream_open(const struct cg_env *env, cg_event_fn fn, void *ctx,
			 struct cg_event_stream **out);
/* The owner of the ring buffer (run): reads it, always. */
int cg_event_stream_open_owner(const struct cg_env *env, cg_event_fn fn,
			       void *ctx, struct cg_event_stream **out);
/* Events run could not hand to this reader (it fell behind). */
unsigned long long cg_event_stream_lost(const struct cg_event_stream *s);
/* A descriptor that becomes readable when events are waiting (epoll). */
/*
 * Let go of the instances the stream names events by (they are opened
 * again by the next event): after an apply, so that a long-running
 * reader does not keep the previous policy's program and maps alive.
 */
void cg_event_stream_forget(struct cg_event_stream *s);
int cg_event_stream_fd(const struct cg_event_stream *s);
/* Deliver waiting events, waiting up to timeout_ms; events or -errno. */
int cg_event_stream_poll(struct cg_event_stream *s, int timeout_ms);
void cg_event_stream_close(struct cg_event_stream *s);

/*
 * A snapshot of everything the gate counts, read from the pins: the
 * active policy, the attached interfaces, and the counters summed over
 * CPUs. `metrics`, the periodic summary of `run` and `status` read it.
 */
struct cg_snap_count {
	unsigned long long packets, bytes;
};

struct cg_snap_events {
	unsigned long long emitted, lost, suppressed;
	unsigned long long suppressed_source; /* of suppressed */
};

/* An interface with counters: frames per reason that arrived on it. */
struct cg_snap_ifstat {
	char name[16]; /* "#IFINDEX" if the interface is gone */
	unsigned ifindex;
	bool attached;
	struct cg_snap_count reasons[CG_R_MAX];
};

/* Inspected ICS requests of the active policy. */
struct cg_snap_ics {
	char flow[CG_META_NAME_MAX];
	const char *protocol; /* "modbus", "s7comm" */
	unsigned function;
	const char *verdict; /* "pass", "drop" */
	struct cg_snap_count c;
};

struct cg_snap_iface {
	char name[16];
	unsigned ifindex;
	const char *mode; /* native, generic, offload */
	int rx_vlan;	  /* enum cg_rx_vlan: how VLAN tags reach the gate */
};

struct cg_snap_flow {
	char name[CG_META_NAME_MAX];
	struct cg_snap_count c;
	time_t last_hit; /* Unix time of its last frame; 0: never */
	bool counted;	 /* its counters were read */
	/* A time-boxed flow's window: its state at the kernel's CLOCK_TAI
	 * ("not-yet", "open", "ended") and its bounds in UTC ("": open). */
	bool timed;
	char window_state[16], window_from[32], window_until[32];
};

/* A state table: entries in use (walked: costs a syscall per entry). */
struct cg_snap_table {
	const char *name; /* conns, macs, frags */
	unsigned entries, max;
};

struct cg_snapshot {
	bool have_gate;	  /* the state maps are pinned */
	bool have_policy; /* an active program with its metadata */
	char policy_name[CG_META_NAME_MAX];
	unsigned char sha256[32];
	unsigned long long applied_at; /* Unix time, seconds */
	bool monitor;
	unsigned prog_id;
	struct cg_snap_iface *attached;
	size_t n_attached;
	struct cg_snap_count reasons[CG_R_MAX];
	bool have_events; /* the event counters are pinned */
	struct cg_snap_events events[CG_R_MAX]; /* by reason (would) */
	struct cg_snap_flow *flows;
	size_t n_flows;
	/* apply --shadow: a candidate compared, and its counts. */
	bool shadow_active;
	unsigned long long shadow_frames, shadow_disagree;
	struct cg_snap_ifstat *ifstats; /* by ifindex */
	size_t n_ifstats;
	struct cg_snap_ics *ics;
	size_t n_ics;
	/* Only after cg_snapshot_tables(): */
	struct cg_snap_table tables[4]; /* conns4, conns, macs, frags */
	size_t n_tables;
	bool have_state_stats;
	unsigned long long state[CG_S_MAX]; /* enum cg_state_stat */
};

int cg_snapshot_read(const struct cg_env *env, struct cg_snapshot *s);
/*
 * Add the state tables' use and what happened in them: a walk of every
 * table, so only `status` asks for it, not every scrape of /metrics.
 */
int cg_snapshot_tables(const struct cg_env *env, struct cg_snapshot *s);
void cg_snapshot_free(struct cg_snapshot *s);

#endif
