/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Random test input, reproducible from one seed: valid policies as YAML
 * text, and frames biased toward the cases where a firewall goes wrong
 * (prefix boundaries, port range edges, undeclared VLANs, fragments,
 * extension header chains, replies, truncation and lying length fields).
 *
 * Everything draws from a struct cg_rng (xorshift64*), so a failure is
 * reproduced by re-running with the seed it prints.
 */
#ifndef CG_TEST_GEN_H
#define CG_TEST_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frames.h"
#include "policy.h"

struct cg_rng {
	uint64_t s;
};

void cg_rng_seed(struct cg_rng *r, uint64_t seed); /* any seed, 0 too */
uint64_t cg_rng_next(struct cg_rng *r);
uint32_t cg_rng_below(struct cg_rng *r, uint32_t n); /* [0, n), n > 0 */
bool cg_rng_pct(struct cg_rng *r, unsigned int percent);

/*
 * Interface names the generated policies use: gw0..gw3, and GEN_IF_UNKNOWN
 * which no policy ever names (frames on it are unknown-zone). A test
 * sandbox needs all CG_GEN_N_IFNAMES of them.
 */
#define CG_GEN_N_IFNAMES 5
#define CG_GEN_IF_UNKNOWN "gw9"
extern const char *const cg_gen_ifnames[CG_GEN_N_IFNAMES];

/*
 * (a) A random valid policy as YAML (malloc'd, NUL-terminated): 2-6 zones
 * over 1-4 interfaces, some on VLANs; non-overlapping IPv4 and IPv6
 * networks from 198.18.0.0/15 and 2001:2::/48; hosts in and outside the
 * zones; 1-40 flows mixing zones, hosts and CIDRs (some wider than a zone
 * network) with every proto and port form; sometimes `mode: monitor`.
 */
char *cg_gen_policy(struct cg_rng *r);

/* One generated frame and the interface it arrives on. */
struct cg_gen_frame {
	const char *ifname; /* one of cg_gen_ifnames */
	size_t len;
	char what[96]; /* how it was made, for failure messages */
	uint8_t buf[CG_FRAME_MAX];
};

/*
 * (b)-(d) Frames for one parsed policy. The generator remembers recent
 * frames so that it can send their replies, reverse SYNs and repeats
 * (sequences), and mutates a share of what it makes (truncation, bit
 * flips, lying length fields).
 */
struct cg_gen_frames;

struct cg_gen_frames *cg_gen_frames_new(const struct cg_policy *p);
void cg_gen_frame(struct cg_gen_frames *g, struct cg_rng *r,
		  struct cg_gen_frame *out);
void cg_gen_frames_free(struct cg_gen_frames *g);

/*
 * Whether the frame just made passed (the reference's verdict, say).
 * The generator follows TCP streams on inspected flows with real
 * sequence numbers; what it believes of the receiver's stream moves
 * only with data that passed. Without a call, every frame counts as
 * passed.
 */
void cg_gen_feedback(struct cg_gen_frames *g, bool passed);

/*
 * (d) Mutate a frame in place: truncate it, flip bits, or make a length
 * field lie. `lay` (may be NULL) says where the headers are so that the
 * lies land on length fields. Appends what it did to `what`.
 */
void cg_gen_mutate(struct cg_rng *r, uint8_t *buf, size_t *len,
		   const struct cg_frame_layout *lay, char *what,
		   size_t what_size);

#endif
