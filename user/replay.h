/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CRANEGATE_REPLAY_H
#define CRANEGATE_REPLAY_H

#include <stdbool.h>

struct cg_replay_opts {
	const char *policy_path;
	const char *capture;
	const char *iface;	/* NULL with by_source */
	bool by_source;
	bool json;
	bool verbose;
};

/* Replay a capture through a private instance; 0 or a negative errno. */
int cg_replay(const struct cg_replay_opts *o);

#endif
