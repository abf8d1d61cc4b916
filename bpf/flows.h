/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Flow lookup: windows, the (ingress zone, source class, destination
 * class, protocol, port class) keys, and the most specific match.
 * Included by gate.bpf.c, in order: each header uses the ones before it.
 */
#ifndef CRANEGATE_BPF_FLOWS_H
#define CRANEGATE_BPF_FLOWS_H

/* Is a flow's window open now? Flows without one always are. */
static __always_inline bool flow_open(struct frame *f,
				      const struct cg_flow_info *fi)
{
	__u64 t;

	if (!(fi->flags & CG_FLOW_TIMED))
		return true;
	t = frame_tai(f);
	return (!fi->valid_from || t >= fi->valid_from) &&
	       (!fi->valid_until || t < fi->valid_until);
}

/*
 * The flow a flows-map value stands for now: its flow id, or for a chain
 * (a key whose first flow is time-boxed) the first flow of the chain whose
 * window is open; CG_FLOW_NONE when none is.
 */
static __always_inline __u32 flow_pick(struct frame *f, __u32 v)
{
	struct cg_flow_chain *ch;
	__u32 idx, i;

	if (!cfg_timed || !(v & CG_FLOW_CHAIN))
		return v;
	idx = v & ~CG_FLOW_CHAIN;
	ch = bpf_map_lookup_elem(&flow_chains, &idx);
	if (!ch)
		return CG_FLOW_NONE;
	for (i = 0; i < CG_CHAIN_MAX; i++) {
		__u32 id = ch->flow[i];
		struct cg_flow_info *fi;

		if (id == CG_FLOW_NONE)
			break;
		fi = bpf_map_lookup_elem(&flow_info, &id);
		if (fi && flow_open(f, fi))
			return id;
	}
	return CG_FLOW_NONE;
}

/* The lower of `flow` and the flow the flows map gives for key *k now. */
static __always_inline __u32 flow_min(struct frame *f,
				      const struct cg_flow_key *k, __u32 flow)
{
	struct cg_flow_val *v = bpf_map_lookup_elem(&flows, k);
	__u32 id;

	if (!v)
		return flow;
	id = flow_pick(f, v->flow);
	return id < flow ? id : flow;
}

/*
 * The first matching flow: the lowest id of up to three lookups (see
 * maps/cranegate.h), each resolved to the flow whose window is open, or
 * CG_FLOW_NONE.
 */
static __always_inline __u32 flow_lookup(struct frame *f)
{
	struct cg_flow_key k = {};
	__u32 port = f->dport, flow = CG_FLOW_NONE;

	k.src_class = f->src_class;
	k.dst_class = f->dst_class;
	k.proto = f->proto;
	if (f->has_ports && (cfg_lookups & CG_LOOKUP_PORTS)) {
		__u32 *pc = bpf_map_lookup_elem(&port_classes, &port);

		/* NONE: no flow names the port (see maps/cranegate.h). */
		if (pc && *pc != CG_PCLASS_NONE) {
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

/*
 * Could the frame's source lie in a zone? False: surely not, and the frame
 * is spoofed-source (maps/cranegate.h, zone_nets): its /16 is clear, or
 * neither coarse nor with its /24 (IPv6: /48) in the filter.
 */
static __always_inline bool src_maybe_zoned(const struct frame *f)
{
	const struct cg_zone_nets *zn;
	__u32 zero = 0, bit = cg_zone_nets_bit(f->src), w;
	int v6 = f->family == 6;

	zn = bpf_map_lookup_elem(&zone_nets, &zero);
	if (!zn)
		return true;
	w = (bit >> 6) & (CG_ZONE_NETS_WORDS - 1);
	if (!((zn->w[v6][w] >> (bit & 63)) & 1))
		return false;
	if ((zn->coarse[v6][w] >> (bit & 63)) & 1)
		return true;
	bit = cg_zone_nets_sub_bit(f->src, v6);
	return (zn->sub[v6][(bit >> 6) & (CG_ZONE_NETS_WORDS - 1)] >>
		(bit & 63)) &
	       1;
}

/* The most specific class of an address: host hash first, then the trie. */
static __always_inline const struct cg_class_val *
class_lookup(const struct frame *f, const __u8 *addr)
{
	const struct cg_class_val *v;

	if (f->family == 4) {
		struct cg_lpm4_key k = {.prefixlen = 32};

		v = bpf_map_lookup_elem(&hosts4, addr);
		if (v)
			return v;
		__builtin_memcpy(k.addr, addr, 4);
		return bpf_map_lookup_elem(&classes4, &k);
	} else {
		struct cg_lpm6_key k = {.prefixlen = 128};

		v = bpf_map_lookup_elem(&hosts6, addr);
		if (v)
			return v;
		__builtin_memcpy(k.addr, addr, 16);
		v = bpf_map_lookup_elem(&classes6, &k);
		/* Keeps this call apart from classes4's (see cg_self_addr). */
		asm volatile("" : "+r"(v) : : "memory");
		return v;
	}
}

#endif /* CRANEGATE_BPF_FLOWS_H */
