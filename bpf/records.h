/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Counting on the connection entry, for the connection records that
 * `run` writes (cranegate(8), "Connection records and learning a policy";
 * struct cg_conn_count in maps/cranegate.h). Included by gate.bpf.c after its
 * maps.
 *
 * The entry is shared by every CPU that sees the connection. Each end's
 * frames and bytes are added without a lock by the CPU that owns the end,
 * and atomically by any other (struct cg_conn_count). The cost on the
 * established fast path is two plain adds on a cache line the frame
 * writes anyway (`last`); `make bench` measures it against a gate built
 * with cfg_conn_count = 0.
 */
#ifndef CRANEGATE_RECORDS_H
#define CRANEGATE_RECORDS_H

/* Non-zero: count frames, bytes and requests on connection entries. */
const volatile __u32 cfg_conn_count = 1;

/*
 * A frame that passed on its connection, from end `end` (0: a, 1: b): by
 * the end's owner with plain adds (no other CPU writes those words, and
 * frames on one CPU do not interleave, as for the per-CPU counters), by
 * any other CPU with atomic adds to the shared part. The first CPU to
 * count for an end claims it; the opener's end is claimed at the open.
 */
static __always_inline void conn_count(struct cg_conn_val *v, __u32 end,
				       __u32 len)
{
	__u64 me = bpf_get_smp_processor_id() + 1;
	__u64 *owner = &v->cnt.owner[end & 1];

	if (*owner != me &&
	    (*owner || __sync_val_compare_and_swap(owner, 0, me) != 0)) {
		__sync_fetch_and_add(&v->cnt.shared_packets[end & 1], 1);
		__sync_fetch_and_add(&v->cnt.shared_bytes[end & 1], len);
		return;
	}
	v->cnt.own_packets[end & 1]++;
	v->cnt.own_bytes[end & 1] += len;
}

/* The first frame of a new entry (built in scratch, not yet shared). */
static __always_inline void conn_count_first(struct cg_conn_val *nv, __u32 end,
					     __u32 len, __u64 now)
{
	nv->cnt.start = now;
	nv->cnt.owner[end & 1] = bpf_get_smp_processor_id() + 1;
	nv->cnt.own_packets[end & 1] = 1;
	nv->cnt.own_bytes[end & 1] = len;
}

/* The class of an inspected request's function (enum cg_fclass). */
static __always_inline __u32 fclass_of(__u32 proto, __u32 fn)
{
	if (fn == CG_FUNC_NONE)
		return CG_FC_OTHER;
	if (proto == CG_ICS_PROTO_MODBUS) {
		switch (fn) {
		case 1:
		case 2:
		case 3:
		case 4:
		case 7:
		case 11:
		case 12:
		case 17:
		case 20:
		case 24:
		case 43:
			return CG_FC_READ;
		case 5:
		case 6:
		case 15:
		case 16:
		case 21:
		case 22:
		case 23:
			return CG_FC_WRITE;
		case 8:
		case 90:
			return CG_FC_CONTROL;
		}
		return CG_FC_OTHER;
	}
	if (proto == CG_ICS_PROTO_ENIP) {
		/* The CIP service judged last (bpf/enip.h): what read-only
		 * admits, writes, start/stop/reset, the rest. */
		switch (fn) {
		case 0x01:
		case 0x03:
		case 0x0E:
		case 0x0A:
		case 0x4C:
		case 0x4E:
		case 0x52:
		case 0x54:
		case 0x55:
		case 0x5B:
			return CG_FC_READ;
		case 0x02:
		case 0x04:
		case 0x08:
		case 0x09:
		case 0x0D:
		case 0x10:
		case 0x4D:
		case 0x53:
			return CG_FC_WRITE;
		case 0x05:
		case 0x06:
		case 0x07:
			return CG_FC_CONTROL;
		}
		return CG_FC_OTHER;
	}
	if (fn == 0x04 || fn == 0xF0 || fn == 0x703 || fn == 0x704)
		return CG_FC_READ;
	if (fn == 0x05)
		return CG_FC_WRITE;
	if ((fn >= 0x1A && fn <= 0x1F) || fn == 0x28 || fn == 0x29)
		return CG_FC_CONTROL;
	return CG_FC_OTHER;
}

/*
 * An inspected request on a live connection: its class, whether it was
 * refused, and its function's bit. A global function: verified once, on
 * its own stack, whatever path of the main program reaches it.
 */
__noinline int cg_conn_request(struct cg_conn_val *v, __u32 proto, __u32 fn,
			       __u32 refused)
{
	__u32 cls = fclass_of(proto, fn), bit;
	__u64 mask;

	if (!v)
		return 0;
	v->cnt.ics_proto = proto;
	if (cls < CG_FC_MAX)
		__sync_fetch_and_add(&v->cnt.requests[cls], 1);
	if (refused)
		__sync_fetch_and_add(&v->cnt.refused, 1);
	if (fn == CG_FUNC_NONE)
		return 0;
	bit = fn >= 0x700 ? 0xF0 + (fn & 15) : fn & 0xFF;
	mask = 1ull << (bit & 63);
	if (!(v->cnt.functions[(bit >> 6) & 3] & mask))
		__sync_fetch_and_or(&v->cnt.functions[(bit >> 6) & 3], mask);
	return 0;
}

#endif
