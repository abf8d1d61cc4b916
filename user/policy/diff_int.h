/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Inside the diff: the groups of changed pairs that diff_lines.c builds
 * from the model's cells, and the lines it makes of them, for diff.c.
 * Not for use outside user/policy/.
 */
#ifndef CRANEGATE_DIFF_INT_H
#define CRANEGATE_DIFF_INT_H

#include "space_int.h"

/* A group of changed pairs that share kind, decisions, protocol, ports. */
struct group {
	char *key;
	enum cg_diff_kind kind;
	uint32_t old, new_;
	char proto[24];
	char *ports;
	unsigned buckets;
	struct cg_port_span *spans;
	size_t n_spans;
	struct u32vec pairs; /* src, dst, src, dst, ... in src order */
};

struct differ {
	struct cg_space *s;
	const struct cg_policy *old, *new_;
	struct group *groups;
	size_t n_groups, cap_groups;
	uint32_t *slots; /* hash of keys -> group index + 1 */
	size_t n_slots;
};

/* Walk every pair of regions and group the pairs whose decision changed. */
int cg_diff_walk_pairs(struct differ *df);
/* A group's lines (mark and stamp: scratch the caller keeps per region). */
int cg_diff_group_lines(struct cg_diff *d, struct group *g, uint32_t *mark,
			uint32_t *stamp);
/* Lines that differ only by their sources or destinations become one. */
int cg_diff_merge_lines(struct cg_diff *d);
void cg_diff_line_free(struct cg_diff_line *l);
const struct cg_host *cg_diff_find_host(const struct cg_policy *p,
					const char *name);
const struct cg_zone *cg_diff_find_zone(const struct cg_policy *p,
					const char *name, size_t *idx);

#endif
