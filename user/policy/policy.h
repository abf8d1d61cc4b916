/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The parsed policy: what a YAML policy file says, with the position of
 * every item so that later stages (semantic checks, the compiler, lint)
 * can point at the line and column that caused a problem.
 *
 * The parser (policy.c) is the only code that reads YAML. The compiler
 * (compile.c) and the reference evaluator (reference.c) read this struct
 * and nothing else.
 */
#ifndef CRANEGATE_POLICY_H
#define CRANEGATE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CG_NAME_MAX 64	 /* zone, host and flow names, with the NUL */
#define CG_IFNAME_MAX 16 /* IFNAMSIZ */

/*
 * Bounds on the input, so that a hostile or mistaken file cannot make the
 * parser take unbounded memory or time. A policy of 16 MiB already holds
 * far more flows than the maps take (see compile.h).
 */
#define CG_POLICY_MAX_BYTES (16 << 20) /* file size */
#define CG_POLICY_MAX_DEPTH 32	       /* nested mappings and lists */
#define CG_POLICY_MAX_NODES (1 << 21)  /* YAML scalars, lists, mappings */
#define CG_POLICY_MAX_CLAIMS                                                   \
	(1 << 20) /* (interface, VLAN) pairs of all zones */

struct cg_pos {
	int line; /* 1-based, 0 = unknown */
	int col;  /* 1-based */
};

/* An IPv4 or IPv6 prefix. IPv4 addresses sit in addr[0..3]. */
struct cg_prefix {
	uint8_t family;	  /* 4 or 6 */
	uint8_t len;	  /* prefix length, 0..32 or 0..128 */
	uint8_t addr[16]; /* host bits beyond len are zero */
};

struct cg_net {
	struct cg_prefix prefix;
	struct cg_pos pos;
};

struct cg_iface {
	char name[CG_IFNAME_MAX];
	struct cg_pos pos;
};

struct cg_vlan {
	uint16_t id; /* 1..4094 */
	struct cg_pos pos;
};

struct cg_zone {
	char name[CG_NAME_MAX];
	struct cg_pos pos;
	struct cg_iface *ifaces;
	size_t n_ifaces;
	struct cg_vlan *vlans; /* none: the zone is the untagged one */
	size_t n_vlans;
	struct cg_net *nets;
	size_t n_nets;
};

struct cg_host {
	char name[CG_NAME_MAX];
	struct cg_pos pos;
	struct cg_prefix addr; /* a /32, /128 or a prefix */
	bool has_mac;
	uint8_t mac[6];
};

/* One item of a flow's `from` or `to`. */
enum cg_ref_kind {
	CG_REF_ZONE, /* `index` is into policy->zones */
	CG_REF_HOST, /* `index` is into policy->hosts */
	CG_REF_CIDR, /* `cidr` */
	/* `self`: the gateway's own addresses on the interfaces the policy
	 * names, learned at apply (README, "The gateway itself"). */
	CG_REF_SELF,
};

struct cg_ref {
	enum cg_ref_kind kind;
	size_t index;
	struct cg_prefix cidr;
	struct cg_pos pos;
};

enum cg_proto {
	CG_P_ANY = 0,
	CG_P_TCP,
	CG_P_UDP,
	CG_P_ICMP,
	CG_P_ICMPV6,
};

struct cg_port_range {
	uint16_t lo; /* inclusive */
	uint16_t hi; /* inclusive, >= lo */
	struct cg_pos pos;
};

/*
 * ICS function restrictions on a flow (`modbus:`, `s7comm:`). Parsed here;
 * enforced by the program where the compiler supports it.
 */
enum cg_ics_mode {
	CG_ICS_NONE = 0,  /* key absent: no inspection */
	CG_ICS_ANY,	  /* framing checked, every function allowed */
	CG_ICS_READ_ONLY, /* the contract's read-only class */
	CG_ICS_LIST,	  /* exactly the listed function codes */
	CG_ICS_ALLOW,	  /* `allow:` rules (modbus and enip, see below) */
};

/*
 * `modbus: {allow: [RULE, ...]}`: a request passes if one rule matches
 * all its fields. `enip: {allow: [...]}` uses the same struct: classes
 * holds enum cg_cip_class bits, named (and codes) the services named as
 * numbers, ranges the object classes (lo == hi); units and mei unused. A rule
 * names function classes and codes, optionally unit ids and address ranges. The
 * same shape (codes, an optional set of small ids, ranges of 16-bit numbers)
 * serves other protocols' rules. Limits: CG_ALLOW_RULES rules per key,
 * CG_ALLOW_RANGES ranges per rule (the data plane walks them in bounded loops).
 */
#define CG_ALLOW_RULES 16
#define CG_ALLOW_RANGES 8

/* Modbus function classes, in the order `functions:` names them. */
enum cg_mb_class {
	CG_MB_READ = 0,	   /* the contract's read-only set */
	CG_MB_WRITE,	   /* 5, 6, 15, 16, 21, 22, 23 */
	CG_MB_DIAGNOSTICS, /* 8 */
	CG_MB_PROGRAM,	   /* 9, 10, 13, 14, 41, 42, 90, 91, 125-127 */
	CG_MB_OTHER,	   /* every other code, and 43 with MEI type != 14 */
	CG_MB_CLASSES,
};

struct cg_addr_range {
	uint16_t lo; /* inclusive */
	uint16_t hi; /* inclusive, >= lo */
	struct cg_pos pos;
};

/*
 * Code 43 (encapsulated interface transport) belongs to class read with
 * MEI type 14 (read device identification), else to class other: a rule
 * that admits 43 through one of the two classes only says which.
 */
enum cg_mei43 {
	CG_MEI_ANY = 0, /* 43 named as a code, or both classes */
	CG_MEI_14,	/* through class read: MEI type 14 */
	CG_MEI_NOT_14,	/* through class other: no MEI type, or not 14 */
};

struct cg_ics_allow {
	struct cg_pos pos;
	uint8_t classes;   /* bit per enum cg_mb_class named */
	uint8_t named[32]; /* codes named as numbers (bit per code) */
	uint8_t codes[32]; /* every code the rule admits: classes + named */
	uint8_t mei;	   /* enum cg_mei43: what 43 needs, when admitted */
	bool has_units;	   /* units: given; else every unit */
	uint8_t units[32]; /* unit ids (bit per id), when has_units */
	size_t n_ranges;   /* 0: no addresses condition */
	struct cg_addr_range ranges[CG_ALLOW_RANGES]; /* as written */
	struct cg_pos functions_pos;
};

struct cg_ics {
	enum cg_ics_mode mode;
	uint8_t *codes; /* CG_ICS_LIST: function codes 0..255 */
	size_t n_codes;
	struct cg_pos pos;
	struct cg_ics_allow *allow; /* CG_ICS_ALLOW: the rules, in order */
	size_t n_allow;
};

/*
 * `valid: {from: TIME, until: TIME}`: the window in which a flow allows,
 * from inclusive, until exclusive, in Unix seconds (RFC 3339 in the file,
 * with an offset or Z; whole seconds). Outside it the flow is as if it
 * were not in the policy. At least one bound is set when `timed`.
 */
/*
 * The first time a window may not name: 2554-01-01T00:00:00Z. The gate
 * keeps windows in CLOCK_TAI nanoseconds in 64 bits, which end at
 * 2554-07-21T23:34:33 TAI; the margin leaves room for any TAI-UTC offset
 * the kernel may have (37 s in 2026).
 */
#define CG_TIME_LIMIT 18429292800LL

struct cg_window {
	bool timed;
	bool has_from;
	bool has_until;
	int64_t from;	   /* Unix seconds, when has_from */
	int64_t until;	   /* Unix seconds, when has_until; > from */
	struct cg_pos pos; /* the `valid` key */
	struct cg_pos until_pos;
};

struct cg_flow {
	char name[CG_NAME_MAX];
	struct cg_pos pos;
	struct cg_ref *from;
	size_t n_from;
	struct cg_ref *to;
	size_t n_to;
	enum cg_proto proto;
	struct cg_pos proto_pos;
	struct cg_port_range *ports; /* n_ports == 0: all ports */
	size_t n_ports;
	bool log;
	struct cg_ics modbus;
	struct cg_ics s7comm;
	struct cg_ics enip; /* any, read-only or allow: (no lists) */
	struct cg_window valid;
	/* `deny: reset` (default drop): a request refused on the flow's
	 * connections is answered with a TCP RST to the client. */
	bool deny_reset;
	struct cg_pos deny_pos; /* the `deny` key's value, when written */
};

enum cg_policy_mode {
	CG_POLICY_ENFORCE = 0,
	CG_POLICY_MONITOR = 1,
};

/* What the gate does with non-first fragments (`fragments:`). */
enum cg_frag_mode {
	CG_FRAG_TRACK = 0, /* pass those of a datagram whose first passed */
	CG_FRAG_PASS,	   /* pass them all, judged by nothing */
};

/*
 * `limits:` — sizes and timeouts of the gate's state, in entries and
 * seconds. Defaults in CG_LIMITS_DEFAULT.
 */
struct cg_limits {
	uint32_t connections;	      /* connection table entries */
	uint32_t tcp_timeout;	      /* idle TCP connection */
	uint32_t tcp_closing_timeout; /* after FIN or RST */
	uint32_t udp_timeout;
	uint32_t other_timeout; /* ICMP and other protocols */
	uint32_t macs;		/* MAC table entries */
	uint32_t mac_hold;	/* a MAC stays in its zone this long */
	uint32_t fragments;	/* tracked datagrams */
	uint32_t fragment_timeout;
	/* Events (README, "Events, rate limits"): a ceiling per reason and
	 * CPU, and a limit per (reason, source) under it. */
	uint32_t events_per_second; /* the ceiling; 0: no events */
	uint32_t events_burst;
	uint32_t source_events_per_second;
	uint32_t source_events_burst;
	uint32_t event_sources; /* tracked; 0: no per-source limit */
	/* Connection records: an interim record of a connection this
	 * long every this many seconds (`run`); 0: only when it ends. */
	uint32_t record_interval;
};

#define CG_LIMITS_DEFAULT                                                      \
	((struct cg_limits){.connections = 65536,                              \
			    .tcp_timeout = 3600,                               \
			    .tcp_closing_timeout = 10,                         \
			    .udp_timeout = 120,                                \
			    .other_timeout = 60,                               \
			    .macs = 16384,                                     \
			    .mac_hold = 300,                                   \
			    .fragments = 4096,                                 \
			    .fragment_timeout = 10,                            \
			    .events_per_second = 1000,                         \
			    .events_burst = 200,                               \
			    .source_events_per_second = 10,                    \
			    .source_events_burst = 20,                         \
			    .event_sources = 8192,                             \
			    .record_interval = 300})

struct cg_policy {
	char *file; /* the path as given, for messages */
	char name[CG_NAME_MAX];
	enum cg_policy_mode mode;
	enum cg_frag_mode fragments;
	struct cg_limits limits;
	struct cg_zone *zones;
	size_t n_zones;
	struct cg_host *hosts;
	size_t n_hosts;
	struct cg_flow *flows;
	size_t n_flows;
	uint8_t sha256[32]; /* of the file's bytes */
};

/*
 * Diagnostics: every error and warning found in one run, in order.
 * Printed as "FILE:LINE:COL: error: MESSAGE".
 */
enum cg_severity {
	CG_ERROR,
	CG_WARNING,
};

struct cg_diag {
	enum cg_severity severity;
	struct cg_pos pos;
	char *msg;
};

struct cg_diags {
	const char *file;
	struct cg_diag *items;
	size_t n;
	size_t n_errors;
	size_t n_warnings;
};

void cg_diag_add(struct cg_diags *d, enum cg_severity sev, struct cg_pos pos,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void cg_diags_print(const struct cg_diags *d, FILE *out);
void cg_diags_free(struct cg_diags *d);

/*
 * Read, parse and validate a policy file. Returns 0 and sets *out on
 * success; on failure returns -EINVAL (or -errno for I/O) with every
 * problem in *d, and *out is NULL. Warnings may be present either way.
 */
int cg_policy_load(const char *path, struct cg_policy **out,
		   struct cg_diags *d);
/* Same, from a buffer in memory; `path` is only used in messages. */
int cg_policy_parse(const char *path, const char *buf, size_t len,
		    struct cg_policy **out, struct cg_diags *d);
void cg_policy_free(struct cg_policy *p);

/* Helpers shared with the compiler and the reference evaluator. */
/*
 * "ADDR/LEN" or a bare address (/32, /128). Returns 0; -EINVAL when `s` is
 * not an address or the length is out of range; -EDOM when bits beyond
 * the length are set, with *out holding the prefix with those bits
 * cleared (for "did you mean"). *out is untouched on -EINVAL.
 */
int cg_prefix_parse(const char *s, struct cg_prefix *out);
/*
 * An IPv6 prefix inside ::ffff:0:0/96 (IPv4-mapped addresses): no frame on
 * the wire carries one, so a policy may not name one.
 */
bool cg_prefix_v4mapped(const struct cg_prefix *p);
/* outer holds every address of inner (same family, outer->len <= inner's). */
bool cg_prefix_contains(const struct cg_prefix *outer,
			const struct cg_prefix *inner);
/* a and b share an address: one of them contains the other. */
bool cg_prefix_overlaps(const struct cg_prefix *a, const struct cg_prefix *b);
/* family: 4 or 6 (AF_INET and AF_INET6 are taken too); addr in network
 * byte order, 4 or 16 bytes. */
bool cg_prefix_has_addr(const struct cg_prefix *p, int family,
			const uint8_t *addr);
/* Always "ADDR/LEN", also for /32 and /128. */
void cg_prefix_format(const struct cg_prefix *p, char *buf, size_t len);
const char *cg_proto_name(enum cg_proto p);
/*
 * An RFC 3339 date-time with an offset or Z ("2026-12-01T08:00:00Z",
 * "2026-12-01T08:00:00+01:00"; no fractional seconds) -> Unix seconds.
 * Returns 0, or -EINVAL with a short reason in *why.
 */
int cg_time_parse(const char *s, int64_t *out, const char **why);
/* Unix seconds -> "2026-12-01T08:00:00Z" (UTC); buf of at least 21. */
void cg_time_format(int64_t t, char *buf, size_t len);
/* Is the flow's window open at Unix time `now_ns` (nanoseconds)? */
bool cg_window_open(const struct cg_window *w, int64_t now_ns);

/*
 * The gateway's own addresses, as the zone `self` holds them: learned by
 * kernel/self.c, read by the reference evaluator.
 */
struct cg_self_addr {
	uint8_t family; /* 4 or 6 */
	uint8_t addr[16];
	uint32_t ifindex;
};

struct cg_self_set {
	struct cg_self_addr *v;
	size_t n;
};

#endif /* CRANEGATE_POLICY_H */
