/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Loading a compiled policy into the kernel as one *instance*: the XDP
 * program with its own, filled policy maps. An instance either shares the
 * state maps pinned under a pin root (the live gate) or has private ones
 * (replay, tests, benchmarks). Attaching instances to interfaces and
 * swapping them is in loader.c.
 */
#ifndef CRANEGATE_GATE_H
#define CRANEGATE_GATE_H

#include <stdbool.h>
#include "compile.h"

struct cg_gate;

/* Names of the state maps pinned under a pin root. */
extern const char *const cg_state_maps[];
extern const size_t cg_n_state_maps;

struct cg_gate_opts {
	/* Share the state maps pinned under this directory (creating and
	 * pinning them if absent). NULL: private state maps. */
	const char *pin_root;
	/* Write every frame's event to the `last` map (test runs only). */
	bool record;
	/* Print libbpf's own messages (else they are silenced). */
	bool verbose;
	/* enum cg_slot: the instance's slot in the pinned `progs` array;
	 * CG_SLOT_NONE (0) for private instances. */
	unsigned slot;
	/* No per-interface counters (benchmarks: to measure their cost). */
	bool no_iface_stats;
	/* No counting on connection entries (benchmarks: its cost). */
	bool no_conn_count;
	/* Fill self4/self6 with the addresses of the policy's interfaces
	 * (self.h) before the instance is used: apply and run. Private
	 * instances leave them empty (cg_gate_set_self fills them). */
	bool learn_self;
};

/*
 * Open the program, size the policy maps to the policy, load, and fill
 * the policy maps. Interface names resolve to ifindexes in the current
 * network namespace: a missing interface fails with -ENODEV and a message.
 * Returns 0 or a negative errno; nothing is attached.
 */
int cg_gate_load(const struct cg_compiled *c, const struct cg_gate_opts *o,
		 struct cg_gate **out);
void cg_gate_free(struct cg_gate *g);

/*
 * After an apply: `applied`, drop the per-interface counters of
 * interfaces that no longer exist (shared state only); otherwise remove
 * the counter entries this load created, so that a refused apply leaves
 * the state maps as they were.
 */
void cg_gate_iface_stats_settle(struct cg_gate *g, bool applied);

int cg_gate_prog_fd(const struct cg_gate *g);

/* Make the instance's self4/self6 hold exactly these addresses. */
struct cg_self_set;
int cg_gate_set_self(struct cg_gate *g, const struct cg_self_set *s);

/*
 * The kernel's HZ (measured once from /proc/timer_list) and its jiffies
 * now: the program's clock, for turning a counter's `last` into a time.
 */
unsigned cg_kernel_hz(void);
int cg_kernel_jiffies(unsigned long long *jiffies);

/*
 * Run one frame through the instance with BPF_PROG_TEST_RUN, as if it
 * arrived on `ifindex`. The instance must have been loaded with `record`;
 * *ev receives the frame's event (verdict, reason, flow, zones, ...) and
 * *action the XDP return code. Returns 0 or a negative errno.
 */
int cg_gate_test_run(struct cg_gate *g, int ifindex, const void *frame,
		     size_t len, struct cg_event *ev, int *action);
/* The same, with an XDP metadata area (e.g. a struct cg_rx_tag, as the
 * front program leaves it) in front of the frame; at most 32 bytes. */
int cg_gate_test_run_meta(struct cg_gate *g, int ifindex, const void *meta,
			  size_t meta_len, const void *frame, size_t len,
			  struct cg_event *ev, int *action);
/*
 * cg_gate_test_run_meta() that also returns the frame as the program left
 * it (an XDP_TX answer: deny: reset) in out[0, *out_len), out_cap bytes
 * of room.
 */
int cg_gate_test_run_out(struct cg_gate *g, int ifindex, const void *meta,
			 size_t meta_len, const void *frame, size_t len,
			 void *out, size_t out_cap, size_t *out_len,
			 struct cg_event *ev, int *action);

/*
 * The event the instance's last frame left in its `last` map (instances
 * loaded with `record`), e.g. a shadow's own decision on a frame that the
 * live instance handed it. 0 or a negative errno.
 */
int cg_gate_last_event(struct cg_gate *g, struct cg_event *ev);

/*
 * Entries 0..n-1 of the array map `fd` into `vals`, `size` bytes each
 * (value size x CPUs for a per-CPU array): in batches, or one by one
 * where the kernel has no batch for it; an entry that cannot be read is
 * zeroes. 0 or -ENOMEM.
 */
int cg_array_read(int fd, uint32_t n, size_t size, void *vals);

/*
 * Carry the per-flow counters of the instance whose program is `old_fd`
 * over to `g` (loaded from `p`), flow by flow name, so that counters
 * survive a reload of a policy that keeps the flow. Call before the swap;
 * frames the old instance counts after the copy are not carried. 0 or a
 * negative errno.
 */
int cg_gate_carry_flow_stats(struct cg_gate *g, const struct cg_policy *p,
			     int old_fd);

/*
 * Counters of an instance, summed over CPUs: per reason (state map) and
 * per flow (policy map). 0 or a negative errno.
 */
int cg_gate_reason_count(const struct cg_gate *g, unsigned reason,
			 struct cg_counter *out);
int cg_gate_flow_count(const struct cg_gate *g, unsigned flow,
		       struct cg_counter *out);
/* What happened to the events of a reason (state map), summed over CPUs. */
int cg_gate_event_count(const struct cg_gate *g, unsigned reason,
			struct cg_event_counter *out);
/* Frames of a reason on one interface (state map); -ENOENT if the
 * interface has no counters. */
int cg_gate_iface_count(const struct cg_gate *g, unsigned ifindex,
			unsigned reason, struct cg_iface_count *out);
/* A map of a loaded program by name: an fd the caller closes, or -1. */
int cg_prog_map_fd(int prog_fd, const char *name);

/* A map of the instance by name (tests, benchmarks), or -ENOENT. */
int cg_gate_map_fd(const struct cg_gate *g, const char *name);

/*
 * A private network namespace for test runs: unshare the calling
 * process's network namespace and create a veth pair for each interface
 * name (peer names "cgpN"), so that BPF_PROG_TEST_RUN sees real ifindexes
 * (the kernel refuses an unknown ingress_ifindex). Never touches the
 * namespace the process came from. Returns 0 or a negative errno.
 */
int cg_sandbox_enter(char (*ifnames)[CG_IFNAME_MAX], size_t n);

#endif
