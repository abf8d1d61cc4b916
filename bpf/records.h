/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Counting on the connection entry, for the connection records that
 * `run` writes (cranegate(8), "Connection records and learning a policy";
 * struct cg_conn_count in maps/cranegate.h). Included by gate.bpf.c after its
 * maps.
 *
 * The entry is shared by every CPU that sees the connection, so counts
 * are atomic adds. The cost on the established fast path is two locked
 * adds on a cache line the frame writes anyway (`last`); `make bench`
 * measures it against a gate built with cfg_conn_count = 0.
 */
#ifndef CRANEGATE_RECORDS_H
#define CRANEGATE_RECORDS_H

/* Non-zero: count frames, bytes and requests on connection entries. */
const volatile __u32 cfg_conn_count = 1;

/* A frame that passed on its connection, from end `end` (0: a, 1: b). */
static __always_inline void conn_count(struct cg_conn_val *v, __u32 end,
				       __u32 len)
{
	__sync_fetch_and_add(&v->cnt.packets[end & 1], 1);
	__sync_fetch_and_add(&v->cnt.bytes[end & 1], len);
}

/* The first frame of a new entry (built in scratch, not yet shared). */
static __always_inline void conn_count_first(struct cg_conn_val *nv, __u32 end,
					     __u32 len, __u64 now)
{
	nv->cnt.start = now;
	nv->cnt.packets[end & 1] = 1;
	nv->cnt.bytes[end & 1] = len;
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
