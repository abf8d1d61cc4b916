/* SPDX-License-Identifier: GPL-2.0 */
/*
 * `cranegate capture`: dropped frames from the event ring buffer into a
 * pcap file (libpcap, DLT_EN10MB), for Wireshark and tcpdump. Each event
 * carries the frame's first CG_EVENT_DATA bytes; the record's original
 * length is the frame's length on the wire, so tools show it truncated.
 */
#ifndef CRANEGATE_CAPTURE_H
#define CRANEGATE_CAPTURE_H

#include <stdbool.h>

#include "loader.h"

struct cg_capture_opts {
	const char *path;   /* pcap file to write; "-" for stdout */
	const char *reason; /* only this reason (or would-be reason) */
	const char *flow;   /* only events naming this flow */
	const char *zone;   /* only frames from or to this zone */
	bool all;	    /* also logged passes (log: true flows) */
	long long count;    /* stop after this many frames; 0: no limit */
	int timeout_s;	    /* stop after this many seconds; 0: none */
};

/* Runs until signalled, `count` frames or `timeout_s`; 0 or -errno. */
int cg_capture_run(const struct cg_env *env, const struct cg_capture_opts *o);

#endif
