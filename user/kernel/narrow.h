/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A reload that narrows a flow's window cuts the flow's open connections.
 *
 * A connection keeps the window end (`until`, maps/cranegate.h) of the
 * flow that opened it, and the program forgets it at that time. A policy
 * applied later that gives the same traffic a window (or an earlier end)
 * must reach the connections already open, else a session started under
 * a permanent flow outlives the window the operator just set. After the
 * commit, apply walks the connection table and re-judges each connection
 * as its opener's next opening frame under the new policy, now:
 *
 *   allowed by a flow with `until`  the entry's until becomes the earlier
 *                                   of its own and the flow's (narrowed)
 *   allowed by a flow without one   unchanged (a reload never stretches a
 *                                   session opened in a window)
 *   allowed only by time-boxed flows whose window is closed now
 *                                   until is set in the past: cut now
 *   allowed by no flow at all       unchanged (as before this walk: a
 *                                   removed flow's connections keep their
 *                                   replies until idle)
 *
 * A policy without windows skips the walk.
 */
#ifndef CRANEGATE_NARROW_H
#define CRANEGATE_NARROW_H

#include "compile.h"

#define CG_NARROW_FRAME_MAX 128

struct cg_narrow_stats {
	unsigned long walked;	/* connections looked at */
	unsigned long narrowed; /* given an earlier until */
	unsigned long cut;	/* ended now */
};

/*
 * Walk the connection tables `conns_fd` (IPv6) and `conns4_fd` (IPv4; -1:
 * none) under compiled policy `c` (whose policy it borrows). Returns 0 or
 * a negative errno (a failed write); *st counts what it did either way.
 */
int cg_conns_narrow(int conns_fd, int conns4_fd, const struct cg_compiled *c,
		    struct cg_narrow_stats *st);

#endif
