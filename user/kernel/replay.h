/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CRANEGATE_REPLAY_H
#define CRANEGATE_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pcap/pcap.h>

#include "gate.h"

struct cg_replay_opts {
	const char *policy_path;
	const char *capture;
	const char *iface; /* NULL with by_source */
	bool by_source;
	bool json;
	bool verbose;
};

/* The exit status for trouble, as diff(1)'s: the capture is unreadable. */
#define CG_EXIT_TROUBLE 2

/*
 * Replay a capture through a private instance: 0, CG_EXIT_TROUBLE when
 * the capture cannot be opened or read to its end (after printing what
 * was judged), or a negative errno.
 */
int cg_replay(const struct cg_replay_opts *o);

/*
 * Open a capture (pcap or pcapng) for replay: *out, or a negative errno
 * after saying on stderr what is wrong (unreadable, not a capture, not
 * Ethernet).
 */
int cg_capture_open(const char *path, pcap_t **out);

/*
 * After pcap_next_ex() returned `rc` with `frames` frames read: true when
 * the capture ended cleanly (PCAP_ERROR_BREAK). Otherwise say on stderr
 * which file and which frame reading stopped at, and why (a truncated
 * file, a read error, an interface that is not Ethernet), and return
 * false: the caller's verdict on the capture is incomplete.
 */
bool cg_capture_ended(const char *path, pcap_t *pc, int rc, uint64_t frames);

/* The kernel's test runs take at most a page minus head- and tailroom. */
#define CG_TEST_RUN_MAX 3500

/*
 * --by-source: the first interface of the zone that holds the frame's
 * source address (the sender address for ARP), or NULL when no zone holds
 * it or the frame carries no address.
 */
const char *cg_replay_source_iface(const struct cg_policy *p, const uint8_t *f,
				   size_t len);

/*
 * Judge one frame with a private instance loaded with `record` (see
 * gate.h), as if it arrived on `ifname`. Returns 0 with *ev and *action
 * filled, -EMSGSIZE when the frame is shorter than an Ethernet header or
 * longer than CG_TEST_RUN_MAX (nothing is judged), -ENODEV when there is
 * no such interface, or another negative errno from the test run.
 */
int cg_replay_frame(struct cg_gate *g, const char *ifname, const uint8_t *f,
		    size_t len, struct cg_event *ev, int *action);

#endif
