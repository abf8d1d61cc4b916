/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Inside the reference evaluator, shared by its files and by nothing else:
 * reference.c (the steps of a frame's judgement, connections, fragments),
 * reference_ics.c (step 12: Modbus and S7comm requests against a flow's
 * rule) and reference_stream.c (step 11a, the stream rule: a TCP
 * conversation's bytes in order, once).
 */
#ifndef CRANEGATE_REFERENCE_INT_H
#define CRANEGATE_REFERENCE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <linux/types.h>

#include "cranegate.h"
#include "reference.h"

#define ETH_HLEN 14
#define VLAN_HLEN 4
#define ETH_P_IP 0x0800
#define ETH_P_ARP 0x0806
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88a8
#define ETH_P_IPV6 0x86dd

#define IPPROTO_HOPOPTS 0
#define IPPROTO_ICMP 1
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define IPPROTO_ROUTING 43
#define IPPROTO_FRAGMENT 44
#define IPPROTO_AH 51
#define IPPROTO_ICMPV6 58
#define IPPROTO_DSTOPTS 60

#define MAX_EXT_HEADERS 8

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_OPT_EOL 0
#define TCP_OPT_NOP 1
#define TCP_OPT_WSCALE 3
#define TCP_MAX_WSCALE 14
#define TCP_SEGMENT_MAX 4096 /* the stream rule's longest segment */
/* An opener's ACK this far behind the responder's next byte is too old. */
#define STREAM_ACK_OLD (1u << 30)

#define S7_PORT 102
#define MODBUS_MAX_ADUS 8
#define MODBUS_MBAP_LEN 7
#define S7_MAX_TPKTS 4
#define S7_HEADER_LEN 10
#define S7_PROTO 0x32
#define S7_PROTO_PLUS 0x72
#define S7_JOB 1
#define S7_USERDATA 7
#define S7_USERDATA_PARAM_LEN 8

/*
 * The stream rule's view of the opener's byte stream (README step 11a),
 * on a connection a flow with `modbus:` or `s7comm:` opened. STREAM_NONE:
 * no state yet (what a connection picked up without its SYN starts
 * from, judged as UNSYNCED).
 */
enum ref_stream_state {
	STREAM_NONE = 0,
	STREAM_SYN,	 /* the opener's SYN seen: isn known */
	STREAM_SYNCED,	 /* next known */
	STREAM_UNSYNCED, /* picked up: next unknown until the responder ACKs */
	STREAM_CLOSED,	 /* the opener's stream ended (FIN, RST) */
};

#define STREAM_RECORDS 4

/* A run of new data that passed: where it starts, and its bytes. */
struct ref_record {
	uint32_t start;
	uint32_t len; /* 0: empty */
	uint8_t *bytes;
};

struct ref_stream {
	enum ref_stream_state state;
	uint32_t isn;
	uint32_t next;
	bool handshake;	 /* the opener's SYN seen: the shift is known */
	bool ws_offered; /* the opener's SYN carried window scale */
	uint8_t shift;	 /* the responder's window scale, or 0 */
	bool wnd_known;
	uint32_t wnd_end;
	bool rsp_known;	   /* the responder's next sequence number is known */
	uint32_t rsp_next; /* ...: after the last byte (SYN, FIN) it sent */
	struct ref_record rec[STREAM_RECORDS];
	unsigned int rec_next; /* the slot the next record goes to */
};

/*
 * One open connection: a protocol and two (address, port) ends, in no
 * particular order for lookups; the end whose allowed frame created it
 * is remembered as its opener.
 */
struct ref_conn {
	uint8_t family;
	uint8_t proto;
	uint16_t opener_port;
	uint16_t other_port;
	uint8_t opener[16];
	uint8_t other[16];
	uint32_t flow; /* the flow that opened it */
	int64_t until; /* Unix ns: the opening flow's window ends; 0: never */
	struct ref_stream stream; /* inspected connections only */
};

/* A source MAC and the zone it was first seen in (no time: no expiry). */
struct ref_mac {
	uint8_t mac[6];
	uint16_t zone;
};

/* A datagram whose first fragment passed, and what it got. */
struct ref_frag {
	uint8_t family;
	uint8_t proto;
	uint32_t id;
	uint8_t src[16];
	uint8_t dst[16];
	uint8_t reason;
	uint32_t flow;
	uint16_t zone_to;
};

struct cg_refeval {
	const struct cg_policy *policy;
	const struct cg_self_set *self; /* the gateway's addresses; borrowed */
	int64_t now;			/* Unix ns, for windows */
	struct ref_conn *conns;
	size_t n_conns;
	size_t cap_conns;
	struct ref_mac *macs;
	size_t n_macs;
	struct ref_frag *frags;
	size_t n_frags;
};

/* What the IP and transport headers say, once parsed and checked. */
struct ref_packet {
	int family;	 /* 4 or 6 */
	uint8_t src[16]; /* IPv4 in the first 4 bytes, rest zero */
	uint8_t dst[16];
	uint8_t proto;	   /* IPv4 protocol / last IPv6 next header */
	uint8_t hop_limit; /* IPv6 only */
	uint8_t ttl;	   /* IPv4 TTL / IPv6 hop limit */
	bool fragmented;   /* IPv4 MF or offset; IPv6 fragment header */
	bool non_first;	   /* fragment offset != 0 */
	const uint8_t *l4; /* transport header; l4_len bytes up to IP end */
	size_t l4_len;
	const uint8_t *payload; /* TCP only: the segment's data */
	size_t payload_len;
	bool has_ports; /* TCP or UDP: dport is a flow port */
	uint16_t sport; /* connection ports (TCP/UDP ports, echo id) */
	uint16_t dport;
	uint8_t tcp_flags;
	bool echo_request;  /* ICMP echo request (8) / ICMPv6 (128) */
	uint32_t ip_id;	    /* IPv4 identification / IPv6 fragment id */
	uint8_t frag_proto; /* fragments' key: IPv4 protocol, or the IPv6
			     * fragment header's next header */
	bool icmp_error;    /* unreachable, too big, time exceeded, param */
	const uint8_t *l3;  /* the IP header */
	size_t l3_hlen;	    /* IPv4: IHL * 4 */
	bool ip6_ext;	    /* IPv6: an extension header was walked */
};

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline size_t addr_len(int family)
{
	return family == 4 ? 4 : 16;
}

/* Step 12 (reference_ics.c). */
bool flow_has_ics(const struct cg_flow *fl);
bool ics_allows(const struct cg_flow *fl, const struct ref_packet *pk,
		uint16_t *function);

/* Step 11a, the stream rule (reference_stream.c). */
/*
 * What the stream rule decided for an opener's frame that passes it:
 * the changes to make once the frame has passed step 12 too, and what
 * step 12 inspects.
 */
struct stream_plan {
	bool applies; /* the rule judged the frame */
	bool inspect; /* step 12 runs, on data/len */
	const uint8_t *data;
	size_t len;
	bool set_syn;	   /* state := SYN at seq, records emptied */
	bool set_synced;   /* SYN -> SYNCED */
	bool set_unsynced; /* no state -> UNSYNCED (picked up) */
	bool record;	   /* data/len recorded at next, next += len */
	bool close;	   /* state := CLOSED */
	uint32_t seq;
	bool ws_offered;
};

void stream_records_empty(struct ref_stream *st);
enum cg_reason stream_judge(const struct ref_stream *st,
			    const struct ref_packet *pk,
			    struct stream_plan *plan);
void stream_commit(struct ref_stream *st, const struct stream_plan *p);
void stream_reply(struct ref_stream *st, const struct ref_packet *pk);

#endif
