/* SPDX-License-Identifier: GPL-2.0 */
/*
 * `cranegate learn ZONES (--pcap CAPTURE (--iface IF | --by-source) |
 * --log RUN_LOG)`: a policy whose flows admit the connections observed.
 */
#ifndef CRANEGATE_LEARN_H
#define CRANEGATE_LEARN_H

#include <stdbool.h>
#include <stdio.h>

struct cg_learn_opts {
	const char *zones; /* a policy file: its zones and hosts */
	const char *pcap;  /* a capture, or NULL */
	const char *log;   /* run's log (connection records, monitor events) */
	const char *iface; /* --iface (the capture's frames arrive there) */
	bool by_source;
};

/* Print the learned policy on `out`: 0, 2 (trouble), or -errno. */
int cg_learn(const struct cg_learn_opts *o, FILE *out);

#endif
