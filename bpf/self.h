/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The gateway itself (`self`; README "The gateway itself"). Included by
 * gate.bpf.c after struct frame and the flow lookups.
 *
 * The gateway's own addresses on the interfaces the policy names are in
 * self4/self6 (maps/cranegate.h). A frame to one of them is judged like
 * traffic between zones: a `to: self` flow allows it, or it is a reply to
 * a connection the gateway opened along a `from: self` flow, or it drops
 * as no-rule. Both checks are global functions: verified once, off the
 * main program's budget, and only on the full judgement (not the fast
 * path of established connections).
 */
#ifndef CRANEGATE_SELF_H
#define CRANEGATE_SELF_H

#include <bpf/bpf_core_read.h>

#define CG_BPF_F_CURRENT_NETNS (-1L)
#define CG_SOCK_BINDPORT_LOCK 8 /* include/net/sock.h: SOCK_BINDPORT_LOCK */
#define CG_TCP_LISTEN 10

/* The class the compiler gave `self` (one past its prefix classes). */
const volatile __u32 cfg_self_class = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct cg_host4_key);
	__type(value, struct cg_self_val);
	__uint(max_entries, CG_SELF_MAX);
} self4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct cg_host6_key);
	__type(value, struct cg_self_val);
	__uint(max_entries, CG_SELF_MAX);
} self6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct cg_self_filter);
	__uint(max_entries, 1);
} self_filter SEC(".maps");

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

/*
 * Is the frame's destination (dst != 0) or source (dst == 0) an address
 * of the gateway? 1 or 0.
 */
__noinline int cg_self_addr(const struct frame *f, int dst)
{
	const struct cg_self_filter *sf;
	__u32 x, bit, zero = 0;
	const __u8 *a;
	void *v;

	if (!f)
		return 0;
	a = dst ? f->dst : f->src;
	/* The filter first: most frames are not the gateway's. */
	x = ((const __u32 *)a)[0];
	if (f->family != 4)
		x ^= ((const __u32 *)a)[1] ^ ((const __u32 *)a)[2] ^
		     ((const __u32 *)a)[3];
	bit = cg_self_filter_bit(x, f->family);
	sf = bpf_map_lookup_elem(&self_filter, &zero);
	if (sf && !(sf->w[(bit >> 6) & (CG_SELF_FILTER_WORDS - 1)] &
		    (1ull << (bit & 63))))
		return 0;
	/*
	 * Two call sites that stay two (the empty asm statements differ in
	 * their clobbers): clang would otherwise make one call of either map,
	 * which the verifier does not inline (an indirect call instead).
	 */
	if (f->family == 4) {
		v = bpf_map_lookup_elem(&self4, a);
		asm volatile("" : "+r"(v));
	} else {
		v = bpf_map_lookup_elem(&self6, a);
		asm volatile("" : "+r"(v) : : "memory");
	}
	return v != NULL;
}

/*
 * A TCP or UDP frame to the gateway that no flow allowed: is it a reply
 * to a connection the gateway opened, along a `from: self` flow? Returns
 * that flow's id, or CG_FLOW_NONE.
 *
 * XDP sees only what comes in, so the gateway's own SYN or first datagram
 * never passed the gate and left no connection behind. The kernel's
 * socket table knows instead: the frame is a reply when the socket it is
 * addressed to (bpf_sk_lookup_tcp/udp, in the namespace of the ingress
 * device) is not listening and holds a port the kernel picked for it (no
 * SOCK_BINDPORT_LOCK: connect() without bind(), an ephemeral port). A
 * service's socket is bound to its port, and so is every connection it
 * accepted (a child copies its listener's locks): those are reached only
 * through `to: self` flows, so that removing that flow cuts them too. A
 * bare SYN is never a reply. The direction is then checked against the
 * policy as if the gateway's first frame had crossed the gate: a `from:
 * self` flow must allow (self -> the frame's source, its source port).
 *
 * The socket is read through bpf_rdonly_cast (a read-only BTF pointer):
 * struct bpf_sock has no sk_userlocks. The conntrack kfuncs would need
 * nf_conntrack to be tracking in this namespace, which nothing here
 * guarantees; the socket table is always there.
 */
__noinline int cg_self_reply(struct xdp_md *ctx, struct frame *f)
{
	struct bpf_sock_tuple t = {};
	struct cg_flow_key k = {};
	struct bpf_sock *sk;
	const struct sock *s;
	__u32 size, flow = CG_FLOW_NONE, port;
	__u32 *pc;
	int ours = 0;

	if (!f || !ctx)
		return CG_FLOW_NONE;
	if ((f->proto != IPPROTO_TCP_ && f->proto != IPPROTO_UDP_) ||
	    !f->has_ports)
		return CG_FLOW_NONE;
	if (f->proto == IPPROTO_TCP_ &&
	    (f->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN)
		return CG_FLOW_NONE;
	if (f->family == 4) {
		__builtin_memcpy(&t.ipv4.saddr, f->src, 4);
		__builtin_memcpy(&t.ipv4.daddr, f->dst, 4);
		t.ipv4.sport = bpf_htons(f->sport);
		t.ipv4.dport = bpf_htons(f->dport);
		size = sizeof(t.ipv4);
	} else {
		__builtin_memcpy(t.ipv6.saddr, f->src, 16);
		__builtin_memcpy(t.ipv6.daddr, f->dst, 16);
		t.ipv6.sport = bpf_htons(f->sport);
		t.ipv6.dport = bpf_htons(f->dport);
		size = sizeof(t.ipv6);
	}
	if (f->proto == IPPROTO_TCP_)
		sk = bpf_sk_lookup_tcp(ctx, &t, size, CG_BPF_F_CURRENT_NETNS,
				       0);
	else
		sk = bpf_sk_lookup_udp(ctx, &t, size, CG_BPF_F_CURRENT_NETNS,
				       0);
	if (!sk)
		return CG_FLOW_NONE;
	if (sk->state != CG_TCP_LISTEN) {
		s = bpf_rdonly_cast(sk, bpf_core_type_id_kernel(struct sock));
		ours = !(s->sk_userlocks & CG_SOCK_BINDPORT_LOCK);
	}
	bpf_sk_release(sk);
	if (!ours)
		return CG_FLOW_NONE;

	/* The gateway's first frame: self -> this frame's source, to the
	 * port this frame comes from. */
	k.src_class = cfg_self_class;
	k.dst_class = f->src_class;
	k.proto = f->proto;
	port = f->sport;
	if (cfg_lookups & CG_LOOKUP_PORTS) {
		pc = bpf_map_lookup_elem(&port_classes, &port);
		if (pc) {
			k.port_class = *pc;
			flow = flow_min(f, &k, flow);
		}
	}
	k.port_class = CG_PCLASS_ALL;
	if (cfg_lookups & CG_LOOKUP_PROTO)
		flow = flow_min(f, &k, flow);
	if (cfg_lookups & CG_LOOKUP_ANY) {
		k.proto = CG_PROTO_ANY;
		flow = flow_min(f, &k, flow);
	}
	return flow;
}

#endif /* CRANEGATE_SELF_H */
