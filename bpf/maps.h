/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The maps: the policy maps private to an instance (sized by the loader),
 * the state maps every instance shares through the pin root, the hand-off
 * and shadow maps, and the per-CPU scratch of the stream rule.
 * Included by gate.bpf.c, in order: each header uses the ones before it.
 */
#ifndef CRANEGATE_BPF_MAPS_H
#define CRANEGATE_BPF_MAPS_H

/*
 * Policy maps: private to this instance, sized by the loader to the policy
 * (the max_entries below are placeholders).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct cg_zone_key);
	__type(value, struct cg_zone_val);
	__uint(max_entries, 1);
} zones SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct cg_host4_key);
	__type(value, struct cg_class_val);
	__uint(max_entries, 1);
} hosts4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct cg_host6_key);
	__type(value, struct cg_class_val);
	__uint(max_entries, 1);
} hosts6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct cg_lpm4_key);
	__type(value, struct cg_class_val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);
} classes4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct cg_lpm6_key);
	__type(value, struct cg_class_val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);
} classes6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct cg_zone_nets);
	__uint(max_entries, 1);
} zone_nets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, CG_PORT_CLASSES_ENTRIES);
} port_classes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct cg_flow_key);
	__type(value, struct cg_flow_val);
	__uint(max_entries, 1);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct cg_flow_info);
	__uint(max_entries, 1);
} flow_info SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct cg_ics_rule);
	__uint(max_entries, 1);
} ics_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct cg_flow_chain);
	__uint(max_entries, 1);
} flow_chains SEC(".maps");

/* Per-CPU: XDP runs in softirq on one CPU, so plain adds need no atomics. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct cg_counter);
	__uint(max_entries, 1);
} flow_stats SEC(".maps");

/* Per-CPU as well; entries appear as functions are seen. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__type(key, struct cg_ics_key);
	__type(value, struct cg_counter);
	__uint(max_entries, 4096);
} ics_stats SEC(".maps");

/* Read back by userspace only (see maps/cranegate.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct cg_policy_meta);
	__uint(max_entries, 1);
} meta SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct cg_name);
	__uint(max_entries, 1);
} names SEC(".maps");

/* Record mode only (replay, tests): the last frame's event. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct cg_event);
	__uint(max_entries, 1);
} last SEC(".maps");

/*
 * State maps: shared by every instance through pins under --pin-root (or
 * private to a replay/test instance), so they survive policy reloads.
 */

/* Per-CPU, like flow_stats: no atomics needed. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct cg_counter);
	__uint(max_entries, CG_R_MAX);
} reason_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct cg_event_counter);
	__uint(max_entries, CG_R_MAX);
} event_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct cg_event_bucket);
	__uint(max_entries, CG_R_MAX);
} event_buckets SEC(".maps");

/* The per-source count-min sketch (maps/cranegate.h): CG_SKETCH_ROWS rows
 * of cfg_sketch_mask + 1 slots, then the seed; sized by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct cg_event_bucket);
	__uint(max_entries, CG_SKETCH_ROWS * 8192 + 1);
} event_sketch SEC(".maps");

/* Per-CPU: no atomics needed. Indexed by slot (maps/cranegate.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct cg_iface_stats);
	__uint(max_entries, CG_IFACE_MAX);
} iface_stats SEC(".maps");

/* The loader's record of slots; the program never reads it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, CG_IFACE_MAX);
} iface_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct cg_conn_key);
	__type(value, struct cg_conn_val);
	__uint(max_entries, 65536);
} conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct cg_conn4_key);
	__type(value, struct cg_conn_val);
	__uint(max_entries, 65536);
} conns4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct cg_mac_key);
	__type(value, struct cg_mac_val);
	__uint(max_entries, 16384);
} macs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct cg_frag_key);
	__type(value, struct cg_frag_val);
	__uint(max_entries, 4096);
} frags SEC(".maps");

/* Per-CPU: no atomics needed. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, CG_S_MAX);
} state_stats SEC(".maps");

/* The hand-off between instances (see maps/cranegate.h). */
#include "handoff.h"

/* Shadow evaluation (see maps/cranegate.h). Per-CPU: no atomics needed. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct cg_shadow_in);
	__uint(max_entries, 1);
} shadow_in SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct cg_counter);
	__uint(max_entries, CG_SHADOW_PAIRS);
} shadow_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__type(key, struct cg_shadow_key);
	__type(value, struct cg_counter);
	__uint(max_entries, 1024);
} shadow_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct cg_event_counter);
	__uint(max_entries, 1);
} shadow_event_stats SEC(".maps");

/*
 * Scratch for the stream rule: the TCP segment of the frame being judged,
 * copied once for its checksum and the hashes of its data. Per-CPU: one
 * frame at a time per CPU (softirq). CG_STREAM_MAX bytes, plus room for
 * the zero padding of the checksum.
 */
struct cg_stream_buf {
	__u32 w_seq; /* the walk over passed data (rec_step) */
	__u32 w_poff;
	__u32 w_pos;
	__u32 w_stop;
	__u32 w_bad;
	__u32 hs_off; /* the hashes (stream_hash) */
	__u32 hs_end;
	__u32 hs_k1;
	__u32 hs_k2;
	__u32 hs_h1;
	__u32 hs_h2;
	__u32 cw_padded; /* the checksum (tcp_csum_ok) */
	__s64 cw_sum;
	__u8 ph[40];  /* its pseudo-header */
	__u8 opt[40]; /* TCP options (tcp_wscale) */
	/*
	 * What stream_judge leaves for step 12 and stream_commit. Kept here
	 * rather than in struct frame on the stack: the verifier does not
	 * track map memory, so the rule's many paths meet again before the
	 * ICS walk instead of each being walked through it on its own.
	 */
	__u32 next; /* the `next` the frame was judged against */
	__u32 len;  /* its data length */
	__u32 h1;   /* the hashes of its new data */
	__u32 h2;
	__u32 payload_off; /* where its new data starts */
	__u32 retrans;	   /* an exact copy of passed data */
	__u8 b[CG_STREAM_MAX + 8];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct cg_stream_buf);
	__uint(max_entries, 1);
} stream_buf SEC(".maps");

/* Scratch for a new connection's entry (conn_open), per-CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct cg_conn_val);
	__uint(max_entries, 1);
} conn_new SEC(".maps");

#endif /* CRANEGATE_BPF_MAPS_H */
