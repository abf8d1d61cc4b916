/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fragments: a datagram's later fragments follow its first one's
 * decision.
 * Included by gate.bpf.c, in order: each header uses the ones before it.
 */
#ifndef CRANEGATE_BPF_FRAG_H
#define CRANEGATE_BPF_FRAG_H

/* A non-first fragment: the decision of its datagram's first fragment. */
static __always_inline __u32 frag_follow(struct frame *f, __u64 now)
{
	struct cg_frag_key k = {};
	struct cg_frag_val *v;

	if (cfg_frag_pass)
		return CG_R_ALLOWED;
	__builtin_memcpy(k.src, f->src, 16);
	__builtin_memcpy(k.dst, f->dst, 16);
	k.id = f->ip_id;
	k.proto = f->frag_proto;
	k.family = f->family;
	v = bpf_map_lookup_elem(&frags, &k);
	if (!v || since(now, v->last) > cfg_frag_timeout)
		return CG_R_FRAGMENT;
	f->flow = v->flow;
	f->zone_to = v->zone_to;
	return v->reason;
}

/*
 * Is the frame's flow one whose requests are inspected? Then none of its
 * fragments pass: a payload split across fragments cannot be inspected
 * whole (see cg_frag_refused()).
 */
static __always_inline bool frag_inspected(const struct frame *f,
					   const struct cg_flow_info *fi)
{
	__u32 id = f->flow;

	if (f->flow == CG_FLOW_NONE)
		return false;
	if (!fi)
		fi = bpf_map_lookup_elem(&flow_info, &id);
	return fi && (fi->flags & CG_FLOW_ICS);
}

/*
 * A first fragment on an inspected flow (allowed by it, or a reply in its
 * connection, on the fast path or not) drops as `fragment`, and takes
 * with it whatever the table remembers for its key: a tail with the same
 * (addresses, IP id, protocol) cannot follow an older datagram's
 * decision. judge() refuses it at step 10 already (so that it opens no
 * connection and is not inspected); the one delete is here. Returns the
 * reason. A global function, checked once by the verifier: only
 * fragments come here.
 */
__noinline int cg_frag_refused(const struct frame *f, __u32 reason)
{
	struct cg_frag_key k = {};

	if (!f ||
	    (reason != CG_R_ALLOWED && reason != CG_R_REPLY &&
	     reason != CG_R_FRAGMENT) ||
	    !frag_inspected(f, NULL))
		return reason;
	if (!is_shadow()) {
		__builtin_memcpy(k.src, f->src, 16);
		__builtin_memcpy(k.dst, f->dst, 16);
		k.id = f->ip_id;
		k.proto = f->frag_proto;
		k.family = f->family;
		bpf_map_delete_elem(&frags, &k);
	}
	return CG_R_FRAGMENT;
}

/* A first fragment passed: its datagram's other fragments may follow. */
static __always_inline void frag_remember(const struct frame *f, __u32 reason,
					  __u64 now)
{
	struct cg_frag_key k = {};
	struct cg_frag_val v = {};

	__builtin_memcpy(k.src, f->src, 16);
	__builtin_memcpy(k.dst, f->dst, 16);
	k.id = f->ip_id;
	k.proto = f->frag_proto;
	k.family = f->family;
	v.last = now;
	v.flow = f->flow;
	v.zone_to = f->zone_to;
	v.reason = reason;
	bpf_map_update_elem(&frags, &k, &v, BPF_ANY);
	state_count(CG_S_FRAG_TRACKED);
}

#endif /* CRANEGATE_BPF_FRAG_H */
