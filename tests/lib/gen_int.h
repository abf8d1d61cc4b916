/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Inside the generator (gen.h): what its files share. gen.c makes
 * policies, gen_frames.c frames, gen_ics.c ICS payloads and mutations,
 * gen_stream.c TCP streams on inspected flows.
 */
#ifndef CRANEGATE_GEN_INT_H
#define CRANEGATE_GEN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gen.h"

#define PICK(r, arr) ((arr)[cg_rng_below((r), sizeof(arr) / sizeof((arr)[0]))])

#define HIST 16
#define GEN_PAYLOAD_MAX 512 /* room for several ADUs or TPKTs */

/* What a TCP payload carries, for the ICS sequels of a frame. */
enum gen_ics {
	GEN_ICS_NONE = 0,
	GEN_ICS_MODBUS,
	GEN_ICS_S7,
	GEN_ICS_ENIP,
};

struct hist_entry {
	struct cg_frame_spec spec;
	const char *ifname;
	enum gen_ics ics;  /* the protocol of its conversation */
	bool ics_response; /* it went from the server to the client */
	uint8_t payload[GEN_PAYLOAD_MAX];
};

/*
 * A TCP stream on an inspected flow, followed with real sequence
 * numbers: the client's ISN and next, the last runs of data it sent in
 * order (which the gate passed, if it judged them as the generator
 * hopes), the server's side.
 */
#define GEN_RUNS 6
struct gen_stream {
	bool active;
	bool synced; /* started with a SYN, not picked up */
	bool closed; /* the client's FIN or RST, or the server's RST, sent */
	struct cg_frame_spec spec; /* client to server */
	const char *ifname, *srv_ifname;
	uint16_t srv_vid;
	enum gen_ics ics;
	uint32_t isn, next, srv_seq;
	uint32_t run_start[GEN_RUNS], run_len[GEN_RUNS];
	uint8_t run[GEN_RUNS][GEN_PAYLOAD_MAX];
	size_t n_runs, next_run;
};

struct cg_gen_frames {
	const struct cg_policy *p;
	struct cg_prefix *pfx; /* every prefix the policy mentions */
	size_t n_pfx;
	uint16_t *ports; /* every port range edge, and its neighbours */
	size_t n_ports;
	struct hist_entry hist[HIST];
	size_t n_hist, next_hist;
	/*
	 * The latest ICS conversation, continued often, so that requests
	 * inside established connections (the program's fast path) are
	 * common; `ics` and `ics_response` describe the frame being made.
	 */
	struct hist_entry conv;
	bool has_conv;
	enum gen_ics ics;
	bool ics_response;
	bool ics_clean; /* the frame starts or continues a clean conversation */
	bool ics_start; /* ics_fresh made it: it may start a stream */
	/*
	 * The stream followed, and what it becomes if the frame just made
	 * passes (see cg_gen_feedback): what the generator believes of the
	 * receiver's stream moves only with what the gate let through.
	 */
	struct gen_stream stream, proposed;
	bool has_proposed;
	/*
	 * A shared-id sequence in progress (1-3, 0: none): a first fragment
	 * between the ICS conversation's two hosts on another port, one on
	 * the conversation itself, then a tail, all with one IP id.
	 */
	int shared_step;
	bool shared_dstopts; /* IPv6: fragment -> destination options */
	uint8_t arp_hrd;     /* the frame is ARP: its hardware type, 1 or 6 */
	bool arp_sha_other;  /* ... and its sender MAC is not the frame's */
};

extern const uint16_t modbus_edges[40];

/* Policies (gen.c). */
void addr_from_prefix(struct cg_rng *r, const struct cg_prefix *p,
		      uint8_t *out);
size_t alen(int family);
bool prefix_holds(const struct cg_prefix *p, int family, const uint8_t *addr);
void random_host_bits(struct cg_rng *r, uint8_t *addr, int family,
		      unsigned int len);
uint32_t rng_range(struct cg_rng *r, uint32_t lo, uint32_t hi);

/* Frames (gen_frames.c). */
uint32_t frag_id(struct cg_rng *r);
uint16_t pick_dport(struct cg_rng *r, struct cg_gen_frames *g,
		    const struct cg_flow *fl);
void random_ingress(struct cg_rng *r, const struct cg_policy *p,
		    const char **ifname, uint16_t *vid);
void zone_ingress(struct cg_rng *r, const struct cg_zone *zn,
		  const char **ifname, uint16_t *vid);
int zone_of(const struct cg_policy *p, int family, const uint8_t *addr);

/* ICS payloads (gen_ics.c). */
bool gen_flow_has_ics(const struct cg_flow *fl);
size_t ics_payload(struct cg_rng *r, enum gen_ics kind, bool request,
		   uint8_t *buf, char *what, size_t what_size);

/* TCP streams on inspected flows (gen_stream.c). */
void ics_fresh(struct cg_gen_frames *g, struct cg_rng *r,
	       const struct cg_flow *fl, struct cg_frame_spec *s,
	       uint8_t *payload, char *what, size_t what_size);
void ics_sequel(struct cg_gen_frames *g, struct cg_rng *r,
		const struct hist_entry *h, struct cg_frame_spec *s,
		const char **ifname, uint8_t *payload, char *what,
		size_t what_size);
void stream_frame(struct cg_gen_frames *g, struct cg_rng *r,
		  struct cg_frame_spec *s, const char **ifname,
		  uint8_t *payload, char *what, size_t what_size,
		  int *bad_csum);
void stream_start(struct gen_stream *st, struct cg_rng *r,
		  const struct cg_policy *p, const struct cg_frame_spec *s,
		  const char *ifname, enum gen_ics ics);
void swap_ends(struct cg_frame_spec *s);

#endif
