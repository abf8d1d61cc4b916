/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Inside the policy-space model (space.c), for the diff that walks it
 * (diff_lines.c, diff.c): the regions, the flows as the model sees them,
 * the cells of a pair of regions. Not for use outside user/policy/.
 */
#ifndef CRANEGATE_SPACE_INT_H
#define CRANEGATE_SPACE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diff.h"
#include "policy.h"
#include "u32vec.h"

#define NONE32 UINT32_MAX
#define NO_ZONE 0xffffu

/* Grid values besides flow indexes: the zone rules, and no rule at all. */
#define D_NORULE 0xffffff01u
#define D_INTRA 0xffffff02u
#define D_SPOOF 0xffffff03u

/* Bounds on the work of one analysis (pairs of regions, cells painted). */
#define MAX_PAIRS (64ull << 20)
#define MAX_CELL_WORK (2000ull << 20)

struct region {
	struct cg_prefix prefix;
	uint32_t parent; /* NONE32: none */
	bool empty;	 /* its children tile it */
	bool has_children;
	uint16_t zone[2]; /* per policy; NO_ZONE */
};

/* A flow, as the model sees it. */
struct sflow {
	struct u32vec from, to; /* regions, sorted */
	unsigned buckets;	/* 1 << enum cg_bucket */
	struct u32vec pcs; /* TCP/UDP port classes as lo,hi pairs; none: all */
};

struct spol {
	const struct cg_policy *p;
	struct sflow *flows;
	uint32_t *by_src_off; /* flows whose `from` holds region r: */
	uint32_t *by_src;     /* by_src[by_src_off[r] .. by_src_off[r + 1]) */
	struct u32vec *zone_regions; /* non-empty regions of each zone */
	uint32_t *peer; /* the flow of the same name in the other policy */
};

struct cg_space {
	struct spol pol[2];
	size_t n_pol;
	struct region *regions;
	size_t n_regions;
	uint32_t *bounds; /* first port of each port class */
	size_t n_pc;
	uint32_t *port_class; /* port -> port class, 65536 entries */
};

/*
 * The cells of one pair of regions, one per (protocol bucket, segment):
 * the port classes are cut further only where a flow covering the pair
 * starts or ends, so that a pair costs what its own flows cost, whatever
 * the size of the policies. Segment i holds the port classes
 * [cuts[i], cuts[i + 1]); cell[k] holds policy k's decisions.
 */
struct cells {
	struct u32vec cuts;
	size_t n_seg, n, cap;
	uint32_t *cell[2];
};

int cg_space_cmp_prefix(const struct cg_prefix *x, const struct cg_prefix *y);
bool cg_space_is_self(const struct cg_prefix *p);
uint32_t cg_space_pc_last_port(const struct cg_space *s, uint32_t pc);

/* Decisions: a grid value (flow index or D_*) as the caller sees it. */
bool cg_space_is_pass(uint32_t code);
void cg_space_code_decision(uint32_t code, struct cg_decision *d);

/* What decides a pair of regions in policy k: its zone rule, its flows. */
uint32_t cg_space_zone_rule(const struct cg_space *s, size_t k, uint32_t src,
			    uint32_t dst);
int cg_space_pair_flows(const struct cg_space *s, size_t k, uint32_t src,
			uint32_t dst, struct u32vec *out);

/* The cells of a pair: cut for both policies' flows, then evaluated. */
int cg_cells_cut(struct cells *c, const struct cg_space *s,
		 const struct u32vec *flows0, const struct u32vec *flows1);
void cg_cells_free(struct cells *c);
uint32_t cg_space_eval_pair(const struct cg_space *s, size_t k, uint32_t src,
			    uint32_t dst, const struct u32vec *flows,
			    const struct cells *c, unsigned long long *work);

#endif
