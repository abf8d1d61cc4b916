// SPDX-License-Identifier: GPL-2.0
/*
 * Programs for the benchmark alone: a bare XDP_DROP (the floor of the
 * end-to-end runs), and one program per kind of operation that the gate
 * does per frame, each parsing the same headers and then doing that one
 * operation, so that the cost of an operation is its program's time less
 * bench_parse's. They explain where the gate's nanoseconds go; none of
 * them judges anything.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_P_IP 0x0800

/* The gate's key shapes (maps/cranegate.h), sized by the loader. */
struct lpm4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct flow_key {
	__u32 src_class;
	__u32 dst_class;
	__u32 port_class;
	__u8 proto;
	__u8 pad[3];
};

struct conn_key {
	__u8 a[16];
	__u8 b[16];
	__u16 aport;
	__u16 bport;
	__u8 proto;
	__u8 family;
	__u8 pad[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} hash4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct lpm4_key);
	__type(value, __u64);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);
} lpm4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct flow_key);
	__type(value, __u32);
	__uint(max_entries, 1);
} flowhash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct conn_key);
	__type(value, __u64);
	__uint(max_entries, 1);
} conn SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 65536);
} ports SEC(".maps");

/* Per-CPU: XDP runs in softirq on one CPU, so the add needs no atomics. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 16);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 16);
} ring SEC(".maps");

struct hdrs {
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
};

/*
 * Ethernet, IPv4 (no options) and TCP/UDP ports, bounds-checked; 0 when
 * the frame is not that. The same work in every program below.
 */
static __always_inline int parse(struct xdp_md *ctx, struct hdrs *h)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	__u16 *l4 = data + sizeof(*eth) + sizeof(*ip);

	if ((void *)(l4 + 2) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return 0;
	h->saddr = ip->saddr;
	h->daddr = ip->daddr;
	h->sport = bpf_ntohs(l4[0]);
	h->dport = bpf_ntohs(l4[1]);
	return 1;
}

SEC("xdp")
int bench_drop(struct xdp_md *ctx)
{
	return XDP_DROP;
}

SEC("xdp")
int bench_parse(struct xdp_md *ctx)
{
	struct hdrs h;

	if (!parse(ctx, &h))
		return XDP_ABORTED;
	return h.dport ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int bench_hash4(struct xdp_md *ctx)
{
	struct hdrs h;

	if (!parse(ctx, &h))
		return XDP_ABORTED;
	return bpf_map_lookup_elem(&hash4, &h.saddr) ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int bench_lpm4(struct xdp_md *ctx)
{
	struct lpm4_key k = {.prefixlen = 32};
	struct hdrs h;

	if (!parse(ctx, &h))
		return XDP_ABORTED;
	__builtin_memcpy(k.addr, &h.saddr, 4);
	return bpf_map_lookup_elem(&lpm4, &k) ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int bench_port_array(struct xdp_md *ctx)
{
	struct hdrs h;
	__u32 port, *pc;

	if (!parse(ctx, &h))
		return XDP_ABORTED;
	port = h.dport;
	pc = bpf_map_lookup_elem(&ports, &port);
	return pc && *pc ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int bench_flowhash(struct xdp_md *ctx)
{
	struct flow_key k = {};
	struct hdrs h;

	if (!parse(ctx, &h))
		return XDP_ABORTED;
	k.src_class = h.saddr & 0xffff;
	k.dst_class = h.daddr & 0xffff;
	k.port_class = h.dport;
	k.proto = 6;
	return bpf_map_lookup_elem(&flowhash, &k) ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int bench_conn(struct xdp_md *ctx)
{
	struct conn_key k = {};
	struct hdrs h;

	if (!parse(ctx, &h))
		return XDP_ABORTED;
	__builtin_memcpy(k.a, &h.saddr, 4);
	__builtin_memcpy(k.b, &h.daddr, 4);
	k.aport = h.sport;
	k.bport = h.dport;
	k.proto = 6;
	k.family = 4;
	return bpf_map_lookup_elem(&conn, &k) ? XDP_PASS : XDP_DROP;
}

/* A new connection: what the gate's first packet adds to its lookups. */
SEC("xdp")
int bench_conn_insert(struct xdp_md *ctx)
{
	struct conn_key k = {};
	__u64 v = 1;
	struct hdrs h;

	if (!parse(ctx, &h))
		return XDP_ABORTED;
	__builtin_memcpy(k.a, &h.saddr, 4);
	__builtin_memcpy(k.b, &h.daddr, 4);
	k.aport = h.sport;
	k.bport = h.dport;
	k.proto = 6;
	k.family = 4;
	return bpf_map_update_elem(&conn, &k, &v, BPF_ANY) ? XDP_DROP
							   : XDP_PASS;
}

SEC("xdp")
int bench_counter(struct xdp_md *ctx)
{
	struct hdrs h;
	__u32 idx;
	__u64 *c;

	if (!parse(ctx, &h))
		return XDP_ABORTED;
	idx = h.dport & 15;
	c = bpf_map_lookup_elem(&counters, &idx);
	if (!c)
		return XDP_ABORTED;
	*c += 1;
	return XDP_PASS;
}

SEC("xdp")
int bench_jiffies(struct xdp_md *ctx)
{
	struct hdrs h;

	if (!parse(ctx, &h))
		return XDP_ABORTED;
	return bpf_jiffies64() ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int bench_ktime(struct xdp_md *ctx)
{
	struct hdrs h;

	if (!parse(ctx, &h))
		return XDP_ABORTED;
	return bpf_ktime_get_ns() ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int bench_ringbuf(struct xdp_md *ctx)
{
	struct hdrs h;
	__u8 *e;

	if (!parse(ctx, &h))
		return XDP_ABORTED;
	e = bpf_ringbuf_reserve(&ring, 256, 0);
	if (!e)
		return XDP_DROP;
	e[0] = h.dport;
	bpf_ringbuf_discard(e, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
