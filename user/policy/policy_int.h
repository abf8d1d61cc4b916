/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Inside the policy parser, shared by its files and by nothing else:
 * policy.c (diagnostics, the context and YAML node helpers, the top level,
 * the YAML input), policy_names.c (names, interfaces, addresses, zones,
 * hosts, name lookup), policy_flows.c (flows and their ICS rules) and
 * policy_check.c (the semantic checks that need the whole policy).
 */
#ifndef CRANEGATE_POLICY_INT_H
#define CRANEGATE_POLICY_INT_H

#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>

#include <yaml.h>

#include "policy.h"

/*
 * A node of the policy's YAML tree: the part of libyaml's yaml_node_t
 * that the walk reads, under the same names, in a third of its size (a
 * large policy has a million nodes). Lines and columns are 0-based, as
 * libyaml's marks are.
 */
typedef struct cg_node {
	yaml_node_type_t type;
	struct {
		uint32_t line, column;
	} start_mark;
	union {
		struct {
			yaml_char_t *value; /* NUL-terminated */
			uint32_t length;
			yaml_scalar_style_t style;
		} scalar;
		struct {
			struct {
				yaml_node_item_t *start, *top;
			} items;
		} sequence;
		struct {
			struct {
				yaml_node_pair_t *start, *top;
			} pairs;
		} mapping;
	} data;
} cg_node_t;

/* Flags per flow for the semantic pass: parts that already failed are
 * not checked again, so that one mistake gives one message. */
struct flow_aux {
	bool from_bad;
	bool to_bad;
	bool proto_bad;
};

/* A zone or host name, for resolving flow references. */
struct name_ent {
	const char *name;      /* the YAML scalar; lives as long as the doc */
	enum cg_ref_kind kind; /* CG_REF_ZONE or CG_REF_HOST */
	size_t index;
	struct cg_pos pos;
};

struct pctx {
	struct cg_diags *d;
	const char *buf;
	size_t len;
	yaml_document_t doc; /* libyaml's tree, when the policy has anchors */
	bool have_doc;
	cg_node_t *nodes; /* the tree walked, node ids 1..n_nodes */
	size_t n_nodes;
	struct arena_chunk *arena; /* scalars, items and pairs of `nodes` */
	struct cg_policy *p;
	struct flow_aux *aux;	/* p->n_flows entries */
	uint8_t *zone_flags;	/* p->n_zones entries of ZF_* */
	size_t n_suggest;	/* "did you mean" hints computed */
	struct name_ent *names; /* sorted by name */
	size_t n_names;
	bool oom;
};

/* What the semantic pass must know of a zone's mistakes, so that one
 * mistake gives one message. */
#define ZF_BAD_NETS 1u /* a network was bad (reported) */
#define ZF_VLANS 2u    /* `vlans` was written, even if no id in it was valid */

/* One key: value pair of a mapping. */
struct kv {
	cg_node_t *key;
	cg_node_t *val;
	const char *name;
	size_t seq;
};

/* A name and where it was written, for finding duplicates by sorting. */
struct name_pos {
	const char *name;
	struct cg_pos pos;
	size_t index;
};

/* Where each part of a flow was written, for the semantic pass. */
struct flow_pos {
	struct cg_pos name, from, to, ports;
};

/* Diagnostics (policy_diag.c), positions and the YAML node helpers
 * (policy_node.c). */
void diag_v(struct cg_diags *d, enum cg_severity sev, struct cg_pos pos,
	    const char *fmt, va_list ap);
void diags_sort(struct cg_diags *d, size_t from);
cg_node_t *node(struct pctx *c, int id);
struct cg_pos mpos(yaml_mark_t m);
size_t map_pairs(struct pctx *c, cg_node_t *map, struct kv **out);
unsigned int bidi_override(const char *s);
int pos_cmp(struct cg_pos a, struct cg_pos b);
struct cg_pos npos(const cg_node_t *n);
__attribute__((format(printf, 3, 4))) void
err_at(struct pctx *c, struct cg_pos pos, const char *fmt, ...);
__attribute__((format(printf, 3, 4))) void
warn_at(struct pctx *c, struct cg_pos pos, const char *fmt, ...);
void *xcalloc(struct pctx *c, size_t n, size_t size);
const char *sval(const cg_node_t *n);
bool is_plain(const cg_node_t *n);
bool is_null(const cg_node_t *n);
const char *describe(const cg_node_t *n, char *buf, size_t len);
void expected(struct pctx *c, const cg_node_t *n, const char *what);
const char *scalar(struct pctx *c, const cg_node_t *n, const char *what);
int parse_uint(const char *s, bool hex, unsigned long max, unsigned long *out);
bool get_int(struct pctx *c, const cg_node_t *n, const char *what,
	     unsigned long lo, unsigned long hi, bool hex, unsigned long *out);
bool get_bool(struct pctx *c, const cg_node_t *n, const char *what, bool *out);
long list_items(struct pctx *c, cg_node_t *n, const char *what,
		cg_node_t ***items);
long list_items_buf(struct pctx *c, cg_node_t *n, const char *what,
		    cg_node_t **buf, size_t nbuf, cg_node_t ***items);
void map_fields(struct pctx *c, cg_node_t *map, const char *const *keys,
		size_t nkeys, const char *where, cg_node_t **vals,
		struct cg_pos *kpos);

/* Names, zones and hosts (policy_names.c). */
bool looks_like_address(const char *s);
bool check_name(struct pctx *c, const cg_node_t *n, const char *s,
		const char *kind, char out[CG_NAME_MAX]);
bool parse_cidr(struct pctx *c, const cg_node_t *n, const char *s,
		struct cg_prefix *out);
int name_pos_cmp(const void *a, const void *b);
void parse_zone(struct pctx *c, struct cg_zone *z, const struct kv *e);
void parse_host(struct pctx *c, struct cg_host *h, const struct kv *e);
void build_names(struct pctx *c, struct kv *zones, size_t nz, struct kv *hosts,
		 size_t nh);
const struct name_ent *lookup(struct pctx *c, const char *s);
const char *suggest(struct pctx *c, const char *s);

/* Flows (policy_flows.c). */
const char *flow_label(const struct cg_flow *f, size_t i, char *buf,
		       size_t len);
void parse_flow(struct pctx *c, size_t idx, cg_node_t *n, struct flow_pos *fp);

/* The semantic checks (policy_check.c). */
void check_flows(struct pctx *c, const struct flow_pos *fps);
void check_claims(struct pctx *c);
void check_overlaps(struct pctx *c);

#endif
