/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the parts of cgbench share: the synthetic rule set (one list of
 * flows, written out as a cranegate policy, as nftables rules and as
 * xdp-filter map entries, so that every system is given the same rules)
 * and the loader of xdp-filter's installed programs.
 */
#ifndef CG_BENCH_H
#define CG_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Flow i goes from business host (i % BENCH_HOSTS) in 198.18.0.0/16 to
 * crane host ((i / 3) % BENCH_HOSTS) in 198.19.0.0/17, on destination port
 * 1024 + (i % 40000). Up to 120,000 flows the (source, port) pairs are
 * all distinct, so no flow repeats another.
 */
#define BENCH_HOSTS 30000
#define BENCH_BIZ_NET "198.18.0.0/16"
#define BENCH_CRANE_NET "198.19.0.0/17"
/* The Modbus client and PLC of the one modbus: read-only flow. */
#define BENCH_MODBUS_SRC "198.18.250.1"
#define BENCH_MODBUS_DST "198.19.120.1"
/*
 * Their flow with 8 `modbus: allow:` rules (FC 16, unit 1, 8 ranges each,
 * rule r holding 1000 * r + 10 * j .. + 4 for j < 8), on this port; the
 * last range of the last rule starts at BENCH_MODBUS_RULES_LAST.
 */
#define BENCH_MODBUS_RULES_PORT 1502
/* The port of the bench's Modbus flow with `deny: reset` (read-only). */
#define BENCH_MODBUS_RESET_PORT 1503
#define BENCH_MODBUS_RULES_LAST 8070

struct bench_flow {
	uint8_t src[4];
	uint8_t dst[4];
	uint16_t port;
};

void bench_flow(unsigned i, struct bench_flow *f);
/* Dotted quad of a 4-byte address. */
void bench_addr_str(const uint8_t a[4], char *buf, size_t len);

enum bench_format {
	BENCH_YAML,	  /* a cranegate policy */
	BENCH_NFT_LINEAR, /* one nftables rule per flow */
	BENCH_NFT_SET,	  /* one rule and a concatenated set */
};

struct bench_rules {
	unsigned n;	       /* flows */
	const char *proto;     /* "tcp" or "udp" */
	const char *ifaces[2]; /* business, crane */
	const char *name;      /* policy name (YAML) or nft table name */
	bool timed; /* YAML: every flow time-boxed, its window open now */
};

/* Write the rule set; the nftables forms are complete `nft -f` files. */
int bench_rules_write(const struct bench_rules *r, enum bench_format fmt,
		      FILE *out);
/* The YAML policy in a malloc'd buffer (NULL on ENOMEM). */
char *bench_policy_yaml(const struct bench_rules *r, size_t *len);

/*
 * xdp-filter's installed programs (Debian's xdp-tools), loaded with
 * libbpf: no pins, maps resized to the entries and filled.
 *
 * xdp-filter matches single fields, not (source, destination, port)
 * tuples, so "the same rules" means the same number of entries:
 *   BENCH_XDPF_ALLOW  xdpfilt_dny_all.o (policy deny: default drop, an
 *                     entry lets a frame pass) with n source addresses
 *                     (host 0..n-1 of the flows' numbering, so flow
 *                     sources are listed) and the flows' destination ports;
 *   BENCH_XDPF_BLOCK  xdpfilt_alw_all.o (policy allow: default pass, an
 *                     entry drops) with n addresses that no benchmark
 *                     frame uses, so every frame is checked against every
 *                     map and passes.
 * IPv4 entries stop at 32,768 (198.19.128.0/17 for the block list,
 * 198.18.0.0/15 for the allow list); the rest go to the IPv6 map
 * (2001:2::/48), so that the entry count is always n.
 */
enum bench_xdpf_kind {
	BENCH_XDPF_ALLOW,
	BENCH_XDPF_BLOCK,
};

struct bench_xdpf;

/* The directory of xdpfilt_*.o, or NULL when xdp-tools is not installed. */
const char *bench_xdpf_dir(void);
/*
 * Load and fill. `l4` is the port flag for allow-list port entries
 * ("tcp" or "udp"). 0 or a negative errno (message on stderr).
 */
int bench_xdpf_load(enum bench_xdpf_kind kind, unsigned n, const char *l4,
		    struct bench_xdpf **out);
int bench_xdpf_prog_fd(const struct bench_xdpf *x);
const char *bench_xdpf_name(enum bench_xdpf_kind kind);
void bench_xdpf_free(struct bench_xdpf *x);

/* Silence libbpf unless verbose. */
void bench_libbpf_quiet(bool verbose);

double bench_now(void);

/* events.c: `cgbench events` (in the private namespace) and `drive`. */
int bench_events(unsigned repeat, unsigned samples, const char *csv_path,
		 bool verbose);
int bench_drive(const char *pin_root, const char *iface, const char *src,
		const char *dst, double secs, unsigned rate);
/* records.c: `cgbench records`: run's sweep, records per second. */
int bench_records(unsigned n_conns, const char *csv_path, bool verbose);

#endif
