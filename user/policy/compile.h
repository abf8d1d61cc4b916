/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The policy compiler: struct cg_policy -> images of the BPF policy maps
 * (see maps/cranegate.h for their layout and meaning). Pure computation,
 * no kernel calls, so `check` and `apply` share it (pfctl -n).
 */
#ifndef CRANEGATE_COMPILE_H
#define CRANEGATE_COMPILE_H

#include "policy.h"
#include "cranegate.h"

/* Hard limits, checked by the compiler with a clear error. */
#define CG_MAX_ZONES 4096	   /* zone ids are 16-bit, 0xffff = none */
#define CG_MAX_CLASSES4 (1u << 20) /* LPM entries per family */
#define CG_MAX_CLASSES6 (1u << 20)
#define CG_MAX_FLOW_KEYS (1u << 22) /* entries in the flows hash */
#define CG_MAX_FLOWS (1u << 20)
#define CG_MAX_ALLOW_RULES 65535 /* ics_allow entries: 16-bit index */

struct cg_zone_entry {
	char ifname[CG_IFNAME_MAX];
	uint16_t vlan; /* 0 = untagged, CG_VLAN_IFACE = interface marker */
	uint16_t zone;
};

struct cg_class4_entry {
	struct cg_lpm4_key key;
	struct cg_class_val val;
};

struct cg_class6_entry {
	struct cg_lpm6_key key;
	struct cg_class_val val;
};

struct cg_host4_entry {
	struct cg_host4_key key;
	struct cg_class_val val;
};

struct cg_host6_entry {
	struct cg_host6_key key;
	struct cg_class_val val;
};

struct cg_flow_entry {
	struct cg_flow_key key;
	struct cg_flow_val val;
};

struct cg_compiled {
	const struct cg_policy *policy; /* borrowed; must outlive this */
	struct cg_zone_entry *zones;
	size_t n_zones;
	struct cg_host4_entry *hosts4; /* /32 classes */
	size_t n_hosts4;
	struct cg_host6_entry *hosts6; /* /128 classes */
	size_t n_hosts6;
	struct cg_class4_entry *classes4; /* shorter prefixes */
	size_t n_classes4;
	struct cg_class6_entry *classes6;
	size_t n_classes6;
	uint32_t n_classes; /* distinct class ids */
	/* The class of the gateway's own addresses (`self`): n_classes, an
	 * id no prefix has. The self set itself is learned at apply. */
	uint32_t self_class;
	uint32_t *port_classes; /* CG_PORT_CLASSES_ENTRIES entries */
	uint32_t n_port_classes;
	struct cg_flow_entry *flows;
	size_t n_flow_keys;
	struct cg_flow_info *flow_info; /* policy->n_flows entries */
	struct cg_ics_rule *ics_rules;	/* flows with modbus:/s7comm: */
	size_t n_ics_rules;
	struct cg_ics_allow_rule *ics_allow; /* modbus: allow: rules */
	size_t n_ics_allow;
	struct cg_flow_chain *chains; /* keys whose first flow is timed */
	size_t n_chains;
	size_t n_timed;			/* flows with valid: */
	char (*ifnames)[CG_IFNAME_MAX]; /* every interface the policy names */
	size_t n_ifnames;
	uint32_t lookups;   /* CG_LOOKUP_* kinds the flows need */
	uint64_t policy_id; /* first 8 bytes of sha256, big-endian */
};

/*
 * Compile a validated policy. Returns 0, or -E2BIG when the result would
 * not fit the map limits (with an error in *d naming the limit and by how
 * much it is exceeded, or the flow that overflows a chain of time-boxed
 * flows), or -ENOMEM. Windows are stored in CLOCK_TAI with the TAI-UTC
 * offset the kernel has now.
 */
int cg_compile(const struct cg_policy *p, struct cg_compiled **out,
	       struct cg_diags *d);
void cg_compiled_free(struct cg_compiled *c);

/*
 * The zone_nets bits of a compiled policy (maps/cranegate.h): the /16s
 * that an address or network of a class in a zone overlaps.
 */
void cg_zone_nets_of(const struct cg_compiled *c, struct cg_zone_nets *zn);

/* The compiled sizes and the kernel memory they need, for `check`. */
void cg_compiled_summary(const struct cg_compiled *c, FILE *out);

#endif
