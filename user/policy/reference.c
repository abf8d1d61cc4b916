// SPDX-License-Identifier: GPL-2.0
/*
 * The reference evaluator (see reference.h): README's "How a frame is
 * judged", step by step, in the same order and with the step numbers in
 * the comments. Clarity beats speed here: every lookup is a linear scan
 * over the parsed policy, every header field is read with an explicit
 * bounds check, and nothing is shared with the compiler or the program.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/types.h>

#include "cranegate.h"
#include "enip.h"
#include "modbus_rules.h"
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

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static size_t addr_len(int family)
{
	return family == 4 ? 4 : 16;
}

/* Does prefix `p` hold address `addr` of `family`? */
static bool prefix_holds(const struct cg_prefix *p, int family,
			 const uint8_t *addr)
{
	unsigned int bits = p->len, i;

	if (p->family != family)
		return false;
	for (i = 0; i < bits / 8; i++)
		if (p->addr[i] != addr[i])
			return false;
	if (bits % 8) {
		uint8_t mask = (uint8_t)(0xff << (8 - bits % 8));

		if ((p->addr[i] & mask) != (addr[i] & mask))
			return false;
	}
	return true;
}

/*
 * The zone that holds an address: the zone of the most specific zone
 * network that holds it, CG_ZONE_NONE if none does. This is what the
 * README's "most specific address class" amounts to for zones: the class
 * that decides is either a zone network or lies inside the most specific
 * zone network holding the address, and carries that network's zone.
 */
static uint16_t zone_of_addr(const struct cg_policy *p, int family,
			     const uint8_t *addr)
{
	uint16_t zone = CG_ZONE_NONE;
	int best_len = -1;
	size_t z, n;

	for (z = 0; z < p->n_zones; z++) {
		const struct cg_zone *zn = &p->zones[z];

		for (n = 0; n < zn->n_nets; n++) {
			const struct cg_prefix *pf = &zn->nets[n].prefix;

			if (prefix_holds(pf, family, addr) &&
			    (int)pf->len > best_len) {
				best_len = pf->len;
				zone = (uint16_t)z;
			}
		}
	}
	return zone;
}

static bool zone_has_iface(const struct cg_zone *zn, const char *ifname)
{
	size_t i;

	for (i = 0; i < zn->n_ifaces; i++)
		if (strcmp(zn->ifaces[i].name, ifname) == 0)
			return true;
	return false;
}

static bool zone_has_vlan(const struct cg_zone *zn, uint16_t vid)
{
	size_t i;

	for (i = 0; i < zn->n_vlans; i++)
		if (zn->vlans[i].id == vid)
			return true;
	return false;
}

/* Step 2: (interface, VLAN id) -> zone; VLAN id 0 is untagged. */
static uint16_t ingress_zone(const struct cg_policy *p, const char *ifname,
			     uint16_t vid)
{
	size_t z;

	for (z = 0; z < p->n_zones; z++) {
		const struct cg_zone *zn = &p->zones[z];

		if (!zone_has_iface(zn, ifname))
			continue;
		if (vid == 0 ? zn->n_vlans == 0 : zone_has_vlan(zn, vid))
			return (uint16_t)z;
	}
	return CG_ZONE_NONE;
}

static bool policy_names_iface(const struct cg_policy *p, const char *ifname)
{
	size_t z;

	for (z = 0; z < p->n_zones; z++)
		if (zone_has_iface(&p->zones[z], ifname))
			return true;
	return false;
}

/* Is the address one of the gateway's own (`self`)? */
static bool is_self(const struct cg_refeval *r, int family, const uint8_t *addr)
{
	size_t i;

	for (i = 0; r->self && i < r->self->n; i++)
		if (r->self->v[i].family == family &&
		    !memcmp(r->self->v[i].addr, addr, family == 4 ? 4 : 16))
			return true;
	return false;
}

/*
 * Does one of a flow's from/to items hold the address? An address of the
 * gateway (`self`, is_self) is held by `self` alone: the zones, hosts and
 * CIDRs around it do not name it.
 */
static bool refs_hold(const struct cg_policy *p, const struct cg_ref *refs,
		      size_t n, int family, const uint8_t *addr, bool is_self)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		const struct cg_ref *rf = &refs[i];

		if (is_self || rf->kind == CG_REF_SELF) {
			if (is_self && rf->kind == CG_REF_SELF)
				return true;
			continue;
		}
		switch (rf->kind) {
		case CG_REF_SELF:
			break;
		case CG_REF_ZONE: {
			const struct cg_zone *zn = &p->zones[rf->index];

			for (k = 0; k < zn->n_nets; k++)
				if (prefix_holds(&zn->nets[k].prefix, family,
						 addr))
					return true;
			break;
		}
		case CG_REF_HOST:
			if (prefix_holds(&p->hosts[rf->index].addr, family,
					 addr))
				return true;
			break;
		case CG_REF_CIDR:
			if (prefix_holds(&rf->cidr, family, addr))
				return true;
			break;
		}
	}
	return false;
}

static bool proto_matches(enum cg_proto fp, uint8_t proto)
{
	switch (fp) {
	case CG_P_ANY:
		return true;
	case CG_P_TCP:
		return proto == IPPROTO_TCP;
	case CG_P_UDP:
		return proto == IPPROTO_UDP;
	case CG_P_ICMP:
		return proto == IPPROTO_ICMP;
	case CG_P_ICMPV6:
		return proto == IPPROTO_ICMPV6;
	}
	return false;
}

/*
 * A flow without `ports` takes every port and every protocol its `proto`
 * names; a flow with `ports` takes only TCP and UDP frames whose
 * destination port is in one of its ranges.
 */
static bool ports_match(const struct cg_flow *fl, const struct ref_packet *pk)
{
	size_t i;

	if (fl->n_ports == 0)
		return true;
	if (!pk->has_ports)
		return false;
	for (i = 0; i < fl->n_ports; i++)
		if (pk->dport >= fl->ports[i].lo &&
		    pk->dport <= fl->ports[i].hi)
			return true;
	return false;
}

static bool end_is(const uint8_t *addr, uint16_t port, const uint8_t *a,
		   uint16_t p, size_t alen)
{
	return port == p && memcmp(addr, a, alen) == 0;
}

/* The connection of a frame: its two ends, in either order. */
static struct ref_conn *conn_find(struct cg_refeval *r,
				  const struct ref_packet *pk)
{
	size_t i, alen = addr_len(pk->family);

	for (i = 0; i < r->n_conns; i++) {
		struct ref_conn *c = &r->conns[i];

		if (c->family != pk->family || c->proto != pk->proto)
			continue;
		/* Its opening flow's window has ended: it is gone. */
		if (c->until && r->now >= c->until)
			continue;
		if (end_is(c->opener, c->opener_port, pk->src, pk->sport,
			   alen) &&
		    end_is(c->other, c->other_port, pk->dst, pk->dport, alen))
			return c;
		if (end_is(c->opener, c->opener_port, pk->dst, pk->dport,
			   alen) &&
		    end_is(c->other, c->other_port, pk->src, pk->sport, alen))
			return c;
	}
	return NULL;
}

/*
 * Open the frame's connection with its source as the opener, unless it is
 * open already: then it keeps its opener and opening flow.
 */
static struct ref_conn *conn_open(struct cg_refeval *r,
				  const struct ref_packet *pk, uint32_t flow)
{
	struct ref_conn *c = conn_find(r, pk);

	if (c)
		return c;
	if (r->n_conns == r->cap_conns) {
		size_t cap = r->cap_conns ? r->cap_conns * 2 : 64;
		struct ref_conn *n = realloc(r->conns, cap * sizeof(*n));

		if (!n)
			return NULL; /* out of memory: forget the connection */
		r->conns = n;
		r->cap_conns = cap;
	}
	c = &r->conns[r->n_conns++];
	memset(c, 0, sizeof(*c));
	c->family = (uint8_t)pk->family;
	c->proto = pk->proto;
	c->opener_port = pk->sport;
	c->other_port = pk->dport;
	memcpy(c->opener, pk->src, addr_len(pk->family));
	memcpy(c->other, pk->dst, addr_len(pk->family));
	c->flow = flow;
	/* Saturated: a window may end after 2262, where int64_t ns end. */
	if (r->policy->flows[flow].valid.has_until)
		c->until = r->policy->flows[flow].valid.until >
					   INT64_MAX / 1000000000LL
				   ? INT64_MAX
				   : r->policy->flows[flow].valid.until *
					     1000000000LL;
	return c;
}

/*
 * Step 4, IPv4: the header and the total length within the frame, total
 * length >= header length. Options are skipped; bytes after the total
 * length are padding. Returns false when malformed.
 */
static bool parse_ipv4(const uint8_t *ip, size_t room, struct ref_packet *pk)
{
	size_t ihl, tot;
	uint16_t frag, offset;

	if (room < 20)
		return false;
	if (ip[0] >> 4 != 4)
		return false;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	if (ihl < 20 || ihl > room)
		return false;
	tot = get16(ip + 2);
	if (tot > room || tot < ihl)
		return false;

	frag = get16(ip + 6);
	offset = frag & 0x1fff;
	pk->family = 4;
	pk->fragmented = (frag & 0x2000) || offset != 0;
	pk->non_first = offset != 0;
	pk->ip_id = get16(ip + 4);
	pk->ttl = ip[8];
	pk->proto = ip[9];
	pk->l3 = ip;
	pk->l3_hlen = ihl;
	pk->frag_proto = ip[9];
	memcpy(pk->src, ip + 12, 4);
	memcpy(pk->dst, ip + 16, 4);
	pk->l4 = ip + ihl;
	pk->l4_len = tot - ihl;
	return true;
}

static bool is_ext_header(uint8_t nh)
{
	return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING ||
	       nh == IPPROTO_FRAGMENT || nh == IPPROTO_DSTOPTS ||
	       nh == IPPROTO_AH;
}

/*
 * Step 4, IPv6: the fixed header and the payload within the frame, then
 * at most 8 extension headers, each within the payload. Lengths: AH
 * (hdr[1] + 2) * 4, fragment always 8 (its second byte is reserved),
 * the others (hdr[1] + 1) * 8. A routing header with segments left
 * (byte 3) != 0 is malformed. After a fragment header with offset != 0
 * the rest is fragment data, not headers: the walk stops there.
 */
static bool parse_ipv6(const uint8_t *ip, size_t room, struct ref_packet *pk)
{
	const uint8_t *cur;
	size_t left, hlen;
	uint8_t nh;
	int n_ext = 0;

	if (room < 40)
		return false;
	if (ip[0] >> 4 != 6)
		return false;
	left = get16(ip + 4);
	if (40 + left > room)
		return false;

	pk->family = 6;
	pk->hop_limit = ip[7];
	pk->ttl = ip[7];
	memcpy(pk->src, ip + 8, 16);
	memcpy(pk->dst, ip + 24, 16);
	nh = ip[6];
	cur = ip + 40;

	pk->l3 = ip;
	while (is_ext_header(nh) && !pk->non_first) {
		if (n_ext == MAX_EXT_HEADERS)
			return false;
		n_ext++;
		pk->ip6_ext = true;
		if (left < 8) /* every extension header has at least 8 */
			return false;
		if (nh == IPPROTO_FRAGMENT) {
			hlen = 8;
			pk->fragmented = true;
			pk->frag_proto = cur[0];
			pk->ip_id =
				(uint32_t)get16(cur + 4) << 16 | get16(cur + 6);
			if (get16(cur + 2) >> 3 != 0)
				pk->non_first = true;
		} else if (nh == IPPROTO_AH) {
			hlen = ((size_t)cur[1] + 2) * 4;
		} else {
			hlen = ((size_t)cur[1] + 1) * 8;
		}
		if (hlen > left)
			return false;
		if (nh == IPPROTO_ROUTING && cur[3] != 0)
			return false;
		nh = cur[0];
		cur += hlen;
		left -= hlen;
	}
	pk->proto = nh;
	pk->l4 = cur;
	pk->l4_len = left;
	return true;
}

/*
 * Step 8: the transport header must be there in full (in a first
 * fragment too). Fills the ports. Returns false when malformed.
 */
static bool parse_transport(struct ref_packet *pk)
{
	const uint8_t *h = pk->l4;
	size_t doff, ulen;

	switch (pk->proto) {
	case IPPROTO_TCP:
		if (pk->l4_len < 20)
			return false;
		doff = (size_t)(h[12] >> 4) * 4;
		if (doff < 20 || doff > pk->l4_len)
			return false;
		pk->has_ports = true;
		pk->sport = get16(h);
		pk->dport = get16(h + 2);
		pk->tcp_flags = h[13];
		pk->payload = h + doff;
		pk->payload_len = pk->l4_len - doff;
		return true;
	case IPPROTO_UDP:
		if (pk->l4_len < 8)
			return false;
		if (!pk->fragmented) {
			ulen = get16(h + 4);
			if (ulen < 8 || ulen > pk->l4_len)
				return false;
		}
		pk->has_ports = true;
		pk->sport = get16(h);
		pk->dport = get16(h + 2);
		return true;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		/* ICMP counts in IPv4 only, ICMPv6 in IPv6 only. */
		if ((pk->proto == IPPROTO_ICMP) != (pk->family == 4))
			return true;
		if (pk->l4_len < 8)
			return false;
		if ((pk->family == 4 && (h[0] == 8 || h[0] == 0)) ||
		    (pk->family == 6 && (h[0] == 128 || h[0] == 129))) {
			pk->sport = get16(h + 4);
			pk->dport = pk->sport;
			pk->echo_request = h[0] == 8 || h[0] == 128;
		}
		pk->icmp_error = (pk->family == 4 &&
				  (h[0] == 3 || h[0] == 11 || h[0] == 12)) ||
				 (pk->family == 6 && h[0] >= 1 && h[0] <= 4);
		return true;
	default:
		return true;
	}
}

/* The MAC a host with exactly this address is bound to, or NULL. */
static const uint8_t *bound_mac(const struct cg_policy *p, int family,
				const uint8_t *addr)
{
	size_t i, n = addr_len(family);

	for (i = 0; i < p->n_hosts; i++) {
		const struct cg_host *h = &p->hosts[i];

		if (h->has_mac && h->addr.family == family &&
		    h->addr.len == n * 8 && !memcmp(h->addr.addr, addr, n))
			return h->mac;
	}
	return NULL;
}

/*
 * Step 6's MAC rule: a unicast source MAC first seen in another zone makes
 * the frame multi-homed; otherwise the MAC is (or stays) in this zone.
 */
static bool mac_seen_elsewhere(struct cg_refeval *r, const uint8_t *mac,
			       uint16_t zone)
{
	struct ref_mac *m;
	size_t i;

	if (mac[0] & 1)
		return false;
	for (i = 0; i < r->n_macs; i++)
		if (!memcmp(r->macs[i].mac, mac, 6))
			return r->macs[i].zone != zone;
	m = realloc(r->macs, (r->n_macs + 1) * sizeof(*m));
	if (!m)
		return false;
	r->macs = m;
	memcpy(m[r->n_macs].mac, mac, 6);
	m[r->n_macs].zone = zone;
	r->n_macs++;
	return false;
}

static struct ref_frag *frag_find(struct cg_refeval *r,
				  const struct ref_packet *pk)
{
	size_t i, n = addr_len(pk->family);

	for (i = 0; i < r->n_frags; i++) {
		struct ref_frag *g = &r->frags[i];

		if (g->family == pk->family && g->proto == pk->frag_proto &&
		    g->id == pk->ip_id && !memcmp(g->src, pk->src, n) &&
		    !memcmp(g->dst, pk->dst, n))
			return g;
	}
	return NULL;
}

/* A first fragment passed: remember the decision for the rest. */
static void frag_remember(struct cg_refeval *r, const struct ref_packet *pk,
			  const struct cg_ref_result *res)
{
	struct ref_frag *g = frag_find(r, pk);

	if (!g) {
		g = realloc(r->frags, (r->n_frags + 1) * sizeof(*g));
		if (!g)
			return;
		r->frags = g;
		g = &r->frags[r->n_frags++];
		memset(g, 0, sizeof(*g));
		g->family = (uint8_t)pk->family;
		g->proto = pk->frag_proto;
		g->id = pk->ip_id;
		memcpy(g->src, pk->src, 16);
		memcpy(g->dst, pk->dst, 16);
	}
	g->reason = res->reason;
	g->flow = res->flow;
	g->zone_to = res->zone_to;
}

/* A first fragment on an inspected flow: nothing stays for its key. */
static void frag_forget(struct cg_refeval *r, const struct ref_packet *pk)
{
	struct ref_frag *g = frag_find(r, pk);

	if (g)
		*g = r->frags[--r->n_frags];
}

/*
 * An ICMP error quoting a packet of a live connection, sent by the
 * error's destination: the quoted IP header and 8 bytes of its transport
 * header must be there. Returns that connection or NULL.
 */
static struct ref_conn *quoted_conn(struct cg_refeval *r,
				    const struct ref_packet *pk)
{
	const uint8_t *q = pk->l4 + 8;
	size_t room = pk->l4_len - 8, hl, n = addr_len(pk->family);
	struct ref_packet in;
	const uint8_t *t;

	memset(&in, 0, sizeof(in));
	in.family = pk->family;
	if (pk->family == 4) {
		if (room < 20 || q[0] >> 4 != 4 || (q[0] & 15) < 5)
			return NULL;
		hl = (size_t)(q[0] & 15) * 4;
		in.proto = q[9];
		memcpy(in.src, q + 12, 4);
		memcpy(in.dst, q + 16, 4);
	} else {
		if (room < 40 || q[0] >> 4 != 6)
			return NULL;
		hl = 40;
		in.proto = q[6];
		memcpy(in.src, q + 8, 16);
		memcpy(in.dst, q + 24, 16);
	}
	if (hl + 8 > room || memcmp(in.src, pk->dst, n))
		return NULL;
	t = q + hl;
	if (in.proto == IPPROTO_TCP || in.proto == IPPROTO_UDP) {
		in.sport = get16(t);
		in.dport = get16(t + 2);
	} else if ((pk->family == 4 && in.proto == IPPROTO_ICMP &&
		    (t[0] == 0 || t[0] == 8)) ||
		   (pk->family == 6 && in.proto == IPPROTO_ICMPV6 &&
		    (t[0] == 128 || t[0] == 129))) {
		in.sport = get16(t + 4);
		in.dport = in.sport;
	}
	return conn_find(r, &in);
}

/*
 * Step 12, ICS functions. Each walker takes the TCP payload of a request
 * (the opener's direction, allowed by a flow with `modbus:` or `s7comm:`)
 * and says whether the flow's rule lets all of it through. *function gets
 * what an event carries: the function of the last ADU or TPKT walked (the
 * refused one, on a refusal), CG_FUNC_NONE when that one names none.
 */
static bool ics_listed(const struct cg_ics *rule, unsigned int code)
{
	size_t i;

	for (i = 0; i < rule->n_codes; i++)
		if (rule->codes[i] == code)
			return true;
	return false;
}

/*
 * Modbus `read-only`: the reads of the contract. `pdu` is the function
 * code and what follows it in the ADU (pdu_len >= 1 bytes); the MEI type
 * of function 43 is the byte after the code, and must be in the ADU.
 */
static bool modbus_read_only(const uint8_t *pdu, size_t pdu_len)
{
	switch (pdu[0]) {
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
		return true;
	case 43:
		return pdu_len >= 2 && pdu[1] == 14;
	default:
		return false;
	}
}

/*
 * What a Modbus request with addresses touches, read from its PDU (the
 * function code and its data, `n` bytes) as the Modbus application
 * protocol specification (v1.1b3, section 6) lays it out. Returns false
 * for a PDU that breaks the layout: a length other than the function's,
 * a quantity outside the specification's limits, a byte count that is
 * not what the quantity needs, or a range past address 65535. Sets
 * *n_ranges to 0 for functions without addresses (always well-formed
 * here).
 */
struct mb_touch {
	int n_ranges;
	uint32_t lo[2], hi[2];
};

static bool mb_range(struct mb_touch *t, uint32_t start, uint32_t qty,
		     uint32_t max)
{
	if (qty < 1 || qty > max || start + qty - 1 > 65535)
		return false;
	t->lo[t->n_ranges] = start;
	t->hi[t->n_ranges] = start + qty - 1;
	t->n_ranges++;
	return true;
}

static bool modbus_touches(const uint8_t *pdu, size_t n, struct mb_touch *t)
{
	t->n_ranges = 0;
	switch (pdu[0]) {
	case 1: /* read coils */
	case 2: /* read discrete inputs */
		return n == 5 &&
		       mb_range(t, get16(pdu + 1), get16(pdu + 3), 2000);
	case 3: /* read holding registers */
	case 4: /* read input registers */
		return n == 5 &&
		       mb_range(t, get16(pdu + 1), get16(pdu + 3), 125);
	case 5: /* write single coil */
	case 6: /* write single register */
		return n == 5 && mb_range(t, get16(pdu + 1), 1, 1);
	case 22: /* mask write register */
		return n == 7 && mb_range(t, get16(pdu + 1), 1, 1);
	case 15: /* write multiple coils */
		return n >= 6 && pdu[5] == (get16(pdu + 3) + 7) / 8 &&
		       n == 6 + (size_t)pdu[5] &&
		       mb_range(t, get16(pdu + 1), get16(pdu + 3), 1968);
	case 16: /* write multiple registers */
		return n >= 6 && pdu[5] == 2 * get16(pdu + 3) &&
		       n == 6 + (size_t)pdu[5] &&
		       mb_range(t, get16(pdu + 1), get16(pdu + 3), 123);
	case 23: /* read/write multiple registers */
		return n >= 10 && pdu[9] == 2 * get16(pdu + 7) &&
		       n == 10 + (size_t)pdu[9] &&
		       mb_range(t, get16(pdu + 1), get16(pdu + 3), 125) &&
		       mb_range(t, get16(pdu + 5), get16(pdu + 7), 121);
	default:
		return true;
	}
}

/* Does every address from lo to hi lie in one of the rule's ranges? */
static bool rule_holds_addresses(const struct cg_ics_allow *a, uint32_t lo,
				 uint32_t hi)
{
	uint32_t x;
	size_t i;

	for (x = lo; x <= hi; x++) {
		for (i = 0; i < a->n_ranges; i++)
			if (a->ranges[i].lo <= x && x <= a->ranges[i].hi)
				break;
		if (i == a->n_ranges)
			return false;
	}
	return true;
}

/*
 * `modbus: allow:`: a well-formed request passes if one rule matches its
 * function (43: with its MEI type's class), its unit, and, when the rule
 * has addresses, every address it touches.
 */
static bool modbus_rules_allow(const struct cg_ics *rule, uint8_t unit,
			       const uint8_t *pdu, size_t n)
{
	int mei = pdu[0] == 43 && n >= 2 ? pdu[1] : -1;
	struct mb_touch t;
	size_t i;
	int k;

	if (!modbus_touches(pdu, n, &t))
		return false;
	for (i = 0; i < rule->n_allow; i++) {
		const struct cg_ics_allow *a = &rule->allow[i];
		bool ok = cg_bit(a->codes, pdu[0]);

		if (pdu[0] == 43 && a->mei == CG_MEI_14)
			ok = ok && mei == 14;
		if (pdu[0] == 43 && a->mei == CG_MEI_NOT_14)
			ok = ok && mei != 14;
		if (a->has_units)
			ok = ok && cg_bit(a->units, unit);
		if (a->n_ranges) {
			ok = ok && t.n_ranges > 0;
			for (k = 0; ok && k < t.n_ranges; k++)
				ok = rule_holds_addresses(a, t.lo[k], t.hi[k]);
		}
		if (ok)
			return true;
	}
	return false;
}

/*
 * Modbus/TCP: the payload is whole ADUs, at most MODBUS_MAX_ADUS, ending
 * exactly at its end. Each ADU is the MBAP header (transaction id,
 * protocol id 0, length, unit id) and a PDU; the MBAP length counts the
 * unit id and the PDU, so it is at least 2 (unit id and function code)
 * and the ADU is 6 + length bytes.
 */
static bool modbus_allows(const struct cg_ics *rule, const uint8_t *p,
			  size_t len, uint16_t *function)
{
	size_t off = 0, n = 0, room, mlen;
	const uint8_t *adu, *pdu;
	bool ok;

	while (off < len) {
		*function = CG_FUNC_NONE;
		if (n++ == MODBUS_MAX_ADUS)
			return false;
		adu = p + off;
		room = len - off;
		if (room < MODBUS_MBAP_LEN + 1 || get16(adu + 2) != 0)
			return false;
		mlen = get16(adu + 4);
		if (mlen < 2 || 6 + mlen > room)
			return false;
		pdu = adu + MODBUS_MBAP_LEN;
		*function = pdu[0];
		switch (rule->mode) {
		case CG_ICS_READ_ONLY:
			ok = modbus_read_only(pdu, mlen - 1);
			break;
		case CG_ICS_LIST:
			ok = ics_listed(rule, pdu[0]);
			break;
		case CG_ICS_ALLOW:
			ok = modbus_rules_allow(rule, adu[6], pdu, mlen - 1);
			break;
		default:
			ok = true;
			break;
		}
		if (!ok)
			return false;
		off += 6 + mlen;
	}
	return true;
}

/*
 * One S7 PDU (what a COTP data TPDU carries, `len` bytes up to the end of
 * its TPKT). S7comm (protocol id 0x32) has a 10-byte header: protocol id,
 * ROSCTR, redundancy id (2), PDU reference (2), parameter length (2),
 * data length (2); the parameters follow. (Acknowledgements, ROSCTR 2
 * and 3, carry 2 more header bytes; they are responses, and a request
 * that claims to be one is refused under anything but `any`.) A job's
 * function is its first parameter byte; a userdata PDU's parameters
 * start with an 8-byte header whose byte 5 holds the type (4: request)
 * in its high nibble and the function group in its low nibble.
 * S7comm-plus (0x72) has another layout: only its protocol id is read.
 */
static bool s7_pdu_allows(const struct cg_ics *rule, const uint8_t *s,
			  size_t len, uint16_t *function)
{
	size_t plen, dlen;
	const uint8_t *par;

	if (len < S7_HEADER_LEN)
		return false;
	if (s[0] == S7_PROTO_PLUS)
		return rule->mode == CG_ICS_ANY;
	if (s[0] != S7_PROTO)
		return false;
	plen = get16(s + 6);
	dlen = get16(s + 8);
	if (S7_HEADER_LEN + plen + dlen > len)
		return false;
	par = s + S7_HEADER_LEN;

	if (s[1] == S7_JOB && plen >= 1) {
		*function = par[0];
		if (rule->mode == CG_ICS_READ_ONLY)
			return par[0] == 0x04 || par[0] == 0xf0;
		if (rule->mode == CG_ICS_LIST)
			return ics_listed(rule, par[0]);
		return true;
	}
	if (s[1] == S7_USERDATA && plen >= S7_USERDATA_PARAM_LEN) {
		uint8_t type = par[5] >> 4, group = par[5] & 0x0f;

		*function = (uint16_t)(0x700 + group);
		if (rule->mode == CG_ICS_READ_ONLY)
			return type == 4 && (group == 3 || group == 4);
		return rule->mode == CG_ICS_ANY;
	}
	/* A job or userdata PDU too short to name its function, or another
	 * ROSCTR: only framing is asked of it, and only under `any`. */
	return rule->mode == CG_ICS_ANY;
}

/*
 * S7comm: the payload is whole TPKTs (RFC 1006: version 3, a reserved
 * byte 0, a length that counts the 4-byte TPKT header), at most
 * S7_MAX_TPKTS, each holding a COTP TPDU (ISO 8073): a length indicator
 * (the header's length after that byte) and the TPDU code in the high
 * nibble of the next byte. Connection request (0xE), confirm (0xD),
 * disconnect request (0x8) and confirm (0xC) pass; a data TPDU (0xF)
 * carries an S7 PDU after the COTP header; any other TPDU is refused.
 */
static bool s7comm_allows(const struct cg_ics *rule, const uint8_t *p,
			  size_t len, uint16_t *function)
{
	size_t off = 0, n = 0, room, tlen, li;
	const uint8_t *t;

	while (off < len) {
		*function = CG_FUNC_NONE;
		if (n++ == S7_MAX_TPKTS)
			return false;
		t = p + off;
		room = len - off;
		if (room < 4 || t[0] != 3 || t[1] != 0)
			return false;
		tlen = get16(t + 2);
		if (tlen < 7 || tlen > room)
			return false;
		li = t[4];
		if (li < 1 || 5 + li > tlen)
			return false;
		switch (t[5] >> 4) {
		case 0xe:
		case 0xd:
		case 0x8:
		case 0xc:
			break;
		case 0xf:
			if (!s7_pdu_allows(rule, t + 5 + li, tlen - 5 - li,
					   function))
				return false;
			break;
		default:
			return false;
		}
		off += tlen;
	}
	return true;
}

static bool flow_has_ics(const struct cg_flow *fl)
{
	return fl->modbus.mode != CG_ICS_NONE ||
	       fl->s7comm.mode != CG_ICS_NONE || fl->enip.mode != CG_ICS_NONE;
}

/*
 * Does the flow's ICS rule let this frame's payload through? Only TCP
 * payload is inspected. A flow with several keys reads EtherNet/IP on
 * destination port 44818, S7comm on 102 and Modbus elsewhere; a flow
 * with one key reads its protocol on every port.
 */
static bool ics_allows(const struct cg_flow *fl, const struct ref_packet *pk,
		       uint16_t *function)
{
	*function = CG_FUNC_NONE;
	if (pk->proto != IPPROTO_TCP || pk->payload_len == 0)
		return true;
	if (fl->enip.mode != CG_ICS_NONE && ((fl->modbus.mode == CG_ICS_NONE &&
					      fl->s7comm.mode == CG_ICS_NONE) ||
					     pk->dport == CG_ENIP_PORT))
		return cg_enip_allows(&fl->enip, pk->payload, pk->payload_len,
				      function);
	if (fl->s7comm.mode != CG_ICS_NONE &&
	    (fl->modbus.mode == CG_ICS_NONE || pk->dport == S7_PORT))
		return s7comm_allows(&fl->s7comm, pk->payload, pk->payload_len,
				     function);
	if (fl->modbus.mode != CG_ICS_NONE)
		return modbus_allows(&fl->modbus, pk->payload, pk->payload_len,
				     function);
	return true;
}

/*
 * Step 11a, the stream rule, for inspected connections: the opener's
 * byte stream passes only where the gate can prove what the receiver
 * will deliver. All sequence numbers compare modulo 2^32.
 */
static bool seq_after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

/* The TCP checksum over the pseudo-header and the segment: right? */
static bool tcp_checksum_ok(const struct ref_packet *pk)
{
	uint32_t sum = 0;
	size_t i, n = addr_len(pk->family);

	for (i = 0; i < n; i += 2)
		sum += get16(pk->src + i) + get16(pk->dst + i);
	sum += IPPROTO_TCP;
	sum += (uint32_t)(pk->l4_len >> 16) + (uint32_t)(pk->l4_len & 0xffff);
	for (i = 0; i + 1 < pk->l4_len; i += 2)
		sum += get16(pk->l4 + i);
	if (pk->l4_len & 1)
		sum += (uint32_t)pk->l4[pk->l4_len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/* The IPv4 header checksum over its `hlen` bytes: right? */
static bool ipv4_checksum_ok(const uint8_t *ip, size_t hlen)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < hlen; i += 2)
		sum += get16(ip + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/*
 * The window scale option (kind 3, length 3) among a TCP header's
 * options, read as Linux reads them: end of list (0) stops, no-op (1) is
 * one byte, every other option has a length byte >= 2 that must fit in
 * the options, else the walk stops; a later window scale option
 * overrides an earlier one. Returns whether one was found.
 */
static bool tcp_wscale(const struct ref_packet *pk, uint8_t *value)
{
	const uint8_t *h = pk->l4;
	size_t doff = (size_t)(h[12] >> 4) * 4, off = 20, olen;
	bool found = false;

	while (off < doff) {
		if (h[off] == TCP_OPT_EOL)
			break;
		if (h[off] == TCP_OPT_NOP) {
			off++;
			continue;
		}
		if (off + 2 > doff)
			break;
		olen = h[off + 1];
		if (olen < 2 || off + olen > doff)
			break;
		if (h[off] == TCP_OPT_WSCALE && olen == 3) {
			*value = h[off + 2];
			found = true;
		}
		off += olen;
	}
	return found;
}

static void stream_records_empty(struct ref_stream *st)
{
	unsigned int i;

	for (i = 0; i < STREAM_RECORDS; i++) {
		free(st->rec[i].bytes);
		st->rec[i].bytes = NULL;
		st->rec[i].len = 0;
	}
	st->rec_next = 0;
}

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

/*
 * The rule for a TCP frame from the opener of an inspected connection
 * (st: its stream, NULL when this frame opens the connection). Returns
 * CG_R_STREAM (or CG_R_FRAGMENT), or CG_R_ALLOWED with *plan filled.
 */
static enum cg_reason stream_judge(const struct ref_stream *st,
				   const struct ref_packet *pk,
				   struct stream_plan *plan)
{
	enum ref_stream_state state = st ? st->state : STREAM_NONE;
	const uint8_t *h = pk->l4;
	uint8_t flags = pk->tcp_flags, ws;
	uint32_t seq = (uint32_t)get16(h + 4) << 16 | get16(h + 6);
	uint32_t len = (uint32_t)pk->payload_len, next, end, upto, cur;
	unsigned int i, walked;

	memset(plan, 0, sizeof(*plan));
	plan->applies = true;
	plan->inspect = true;
	plan->data = pk->payload;
	plan->len = pk->payload_len;
	plan->seq = seq;

	/* Fragments never get here: their checksum cannot be verified. */
	if (pk->fragmented)
		return CG_R_FRAGMENT;
	/* 1. The gateway will not forward it. */
	if (pk->ttl <= 1)
		return CG_R_STREAM;
	/* 2. The receiver would discard it, or it is too long to judge. */
	if (!tcp_checksum_ok(pk) || pk->l4_len > TCP_SEGMENT_MAX)
		return CG_R_STREAM;
	/* 3. Urgent data may be taken out of the stream. */
	if (flags & TCP_URG)
		return CG_R_STREAM;
	/* 3a. IP headers the receiver may discard, or route by: a wrong
	 * IPv4 header checksum, IPv4 options, IPv6 extension headers. */
	if (pk->family == 4 &&
	    (pk->l3_hlen != 20 || !ipv4_checksum_ok(pk->l3, pk->l3_hlen)))
		return CG_R_STREAM;
	if (pk->family == 6 && pk->ip6_ext)
		return CG_R_STREAM;
	/* 3b. Linux discards a segment without ACK (but a SYN or RST), and
	 * one acknowledging what the responder never sent, or long ago. */
	if (!(flags & TCP_SYN)) {
		uint32_t ack = (uint32_t)get16(h + 8) << 16 | get16(h + 10);

		if (!(flags & (TCP_ACK | TCP_RST)))
			return CG_R_STREAM;
		if ((flags & TCP_ACK) && st && st->rsp_known &&
		    (seq_after(ack, st->rsp_next) ||
		     st->rsp_next - ack > STREAM_ACK_OLD))
			return CG_R_STREAM;
	}

	/* 4. SYNs. */
	if (flags & TCP_SYN) {
		if (flags & (TCP_ACK | TCP_FIN | TCP_RST) || len)
			return CG_R_STREAM;
		if (state == STREAM_NONE || state == STREAM_CLOSED) {
			plan->set_syn = true;
			plan->ws_offered = tcp_wscale(pk, &ws);
			return CG_R_ALLOWED;
		}
		if (state == STREAM_SYN && seq == st->isn)
			return CG_R_ALLOWED;
		return CG_R_STREAM;
	}

	/* 5. The states where next is not (yet) known. */
	switch (state) {
	case STREAM_SYN:
		if (seq != st->isn + 1)
			return CG_R_STREAM;
		plan->set_synced = true;
		next = st->isn + 1;
		break;
	case STREAM_NONE:
	case STREAM_UNSYNCED:
		if (len)
			return CG_R_STREAM;
		plan->set_unsynced = state == STREAM_NONE;
		return CG_R_ALLOWED;
	case STREAM_CLOSED:
		return len ? CG_R_STREAM : CG_R_ALLOWED;
	default:
		next = st->next;
		break;
	}

	/* 6. SYNCED. */
	end = seq + len;
	if (len == 0) {
		plan->close = (flags & (TCP_FIN | TCP_RST)) && seq == next;
		return CG_R_ALLOWED;
	}
	if (seq_after(seq, next))
		return CG_R_STREAM; /* a hole before it */
	if (st->wnd_known && seq_after(end, st->wnd_end))
		return CG_R_STREAM; /* beyond the receiver's window */
	/* What overlaps passed data must be exactly the runs passed. */
	upto = seq_after(end, next) ? next : end;
	cur = seq;
	for (walked = 0; cur != upto; walked++) {
		const struct ref_record *rc = NULL;

		if (walked == STREAM_RECORDS)
			return CG_R_STREAM;
		for (i = 0; i < STREAM_RECORDS; i++)
			if (st->rec[i].len && st->rec[i].start == cur)
				rc = &st->rec[i];
		if (!rc || rc->len > end - cur ||
		    seq_after(cur + rc->len, upto) ||
		    memcmp(rc->bytes, pk->payload + (cur - seq), rc->len))
			return CG_R_STREAM;
		cur += rc->len;
	}
	if (!seq_after(end, next)) {
		plan->inspect = false; /* a retransmission, inspected before */
		return CG_R_ALLOWED;
	}
	plan->data = pk->payload + (next - seq);
	plan->len = end - next;
	plan->record = true;
	plan->close = (flags & (TCP_FIN | TCP_RST)) != 0;
	return CG_R_ALLOWED;
}

/* The frame passed: make the plan's changes. */
static void stream_commit(struct ref_stream *st, const struct stream_plan *p)
{
	struct ref_record *rc;

	if (p->set_syn) {
		stream_records_empty(st);
		st->state = STREAM_SYN;
		st->isn = p->seq;
		st->next = p->seq + 1;
		st->handshake = true;
		st->ws_offered = p->ws_offered;
		st->shift = 0;
		st->wnd_known = false;
		st->rsp_known = false;
		return;
	}
	if (p->set_unsynced)
		st->state = STREAM_UNSYNCED;
	if (p->set_synced) {
		st->state = STREAM_SYNCED;
		st->next = st->isn + 1;
	}
	if (p->record) {
		rc = &st->rec[st->rec_next];
		st->rec_next = (st->rec_next + 1) % STREAM_RECORDS;
		free(rc->bytes);
		rc->bytes = malloc(p->len);
		if (rc->bytes) {
			memcpy(rc->bytes, p->data, p->len);
			rc->start = st->next;
			rc->len = (uint32_t)p->len;
		} else {
			rc->len = 0;
		}
		st->next += (uint32_t)p->len;
	}
	if (p->close)
		st->state = STREAM_CLOSED;
}

/*
 * A reply from the responder of an inspected connection: its window
 * scale (SYN-ACK), where the receiver's stream and window stand (ACK),
 * the end of the stream (RST). Replies never drop for this.
 */
static void stream_reply(struct ref_stream *st, const struct ref_packet *pk)
{
	const uint8_t *h = pk->l4;
	uint8_t flags = pk->tcp_flags, ws = 0;
	uint32_t ack, edge, end;

	if (st->state == STREAM_NONE)
		return;
	/* Where the responder's own sequence numbers stand. */
	end = ((uint32_t)get16(h + 4) << 16 | get16(h + 6)) +
	      (uint32_t)pk->payload_len + !!(flags & TCP_SYN) +
	      !!(flags & TCP_FIN);
	if (!st->rsp_known || seq_after(end, st->rsp_next)) {
		st->rsp_next = end;
		st->rsp_known = true;
	}
	if ((flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK)) {
		bool has = tcp_wscale(pk, &ws);

		st->shift =
			st->ws_offered && has
				? (ws > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : ws)
				: 0;
	} else if (flags & TCP_ACK && !(flags & TCP_SYN)) {
		ack = (uint32_t)get16(h + 8) << 16 | get16(h + 10);
		if (st->state == STREAM_UNSYNCED) {
			st->next = ack;
			st->state = STREAM_SYNCED;
			stream_records_empty(st);
			st->wnd_known = false;
		}
		if (st->handshake &&
		    (st->state == STREAM_SYN || st->state == STREAM_SYNCED)) {
			edge = ack + ((uint32_t)get16(h + 14) << st->shift);
			if (!st->wnd_known || seq_after(edge, st->wnd_end)) {
				st->wnd_end = edge;
				st->wnd_known = true;
			}
		}
	}
	if (flags & TCP_RST)
		st->state = STREAM_CLOSED;
}

/*
 * A frame that flow `fl` (id `flow`) allows, steps 11a and 12: on an
 * inspected connection, the stream rule for the opener's frames; then
 * ICS inspection (of the new data only, none for a retransmission);
 * then the connection opens, and the stream's state moves on. A drop
 * opens nothing and changes nothing.
 */
static enum cg_reason allowed_by(struct cg_refeval *r, const struct cg_flow *fl,
				 uint32_t flow, const struct ref_packet *pk,
				 struct cg_ref_result *out)
{
	struct stream_plan plan = {.inspect = true};
	struct ref_packet ipk = *pk;
	struct ref_conn *c;
	enum cg_reason why;

	if (pk->proto == IPPROTO_TCP && flow_has_ics(fl)) {
		c = conn_find(r, pk);
		if (!c || end_is(c->opener, c->opener_port, pk->src, pk->sport,
				 addr_len(pk->family))) {
			why = stream_judge(c ? &c->stream : NULL, pk, &plan);
			if (why != CG_R_ALLOWED)
				return why;
			ipk.payload = plan.data;
			ipk.payload_len = plan.len;
		}
	}
	/* 12. ICS functions, before anything opens. */
	if (plan.inspect && !ics_allows(fl, &ipk, &out->function))
		return CG_R_ICS_DENIED;
	c = conn_open(r, pk, flow);
	if (plan.applies && c)
		stream_commit(&c->stream, &plan);
	return CG_R_ALLOWED;
}

static bool link_local(const uint8_t *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/*
 * Step 5: ND or MLD stays on its link: from a link-local, the
 * unspecified or an ingress-zone address, to a link-local, ff02::/16 or
 * ingress-zone address.
 */
static bool nd_stays(const struct cg_policy *p, const struct ref_packet *pk,
		     uint16_t zone)
{
	static const uint8_t unspec[16];
	bool src_ok = link_local(pk->src) || !memcmp(pk->src, unspec, 16) ||
		      zone_of_addr(p, 6, pk->src) == zone;
	bool dst_ok = link_local(pk->dst) ||
		      (pk->dst[0] == 0xff && pk->dst[1] == 0x02) ||
		      zone_of_addr(p, 6, pk->dst) == zone;

	return src_ok && dst_ok;
}

#define ND_MAX_OPTS 32

/*
 * Step 5, bindings: a bound source address must come from its MAC and
 * name it in every source link-layer option (type 1); a bound target of
 * an NA must come from its MAC, and a bound target of an NA or redirect
 * must be named by every target link-layer option (type 2). An ND
 * message (133-137) needs its fixed part (RS 8, RA 16, NS/NA 24,
 * redirect 40 bytes) and options that tile the rest, each of length >= 1
 * (in 8-byte units), at most 32 of them; else malformed.
 */
static enum cg_reason nd_bindings(const struct cg_policy *p,
				  const struct ref_packet *pk,
				  const uint8_t *frame_src_mac)
{
	const uint8_t *m = pk->l4, *sb, *tb = NULL, *b;
	uint8_t t = m[0];
	size_t fixed, pos, n;

	sb = bound_mac(p, 6, pk->src);
	if (sb && memcmp(sb, frame_src_mac, 6))
		return CG_R_SPOOFED_SOURCE;
	if (t < 133 || t > 137)
		return CG_R_ND;
	fixed = t == 133 ? 8 : t == 134 ? 16 : t == 137 ? 40 : 24;
	if (pk->l4_len < fixed)
		return CG_R_MALFORMED;
	if (t == 136 || t == 137) {
		tb = bound_mac(p, 6, m + 8);
		if (tb && t == 136 && memcmp(tb, frame_src_mac, 6))
			return CG_R_SPOOFED_SOURCE;
	}
	pos = fixed;
	for (n = 0; n < ND_MAX_OPTS && pos < pk->l4_len; n++) {
		size_t olen;

		if (pk->l4_len - pos < 8 || m[pos + 1] == 0)
			return CG_R_MALFORMED;
		olen = (size_t)m[pos + 1] * 8;
		if (olen > pk->l4_len - pos)
			return CG_R_MALFORMED;
		b = m[pos] == 1 ? sb : m[pos] == 2 ? tb : NULL;
		if (b && memcmp(b, m + pos + 2, 6))
			return CG_R_SPOOFED_SOURCE;
		pos += olen;
	}
	return pos == pk->l4_len ? CG_R_ND : CG_R_MALFORMED;
}

/* Steps 1-12; returns the reason before monitor mode. */
static enum cg_reason judge(struct cg_refeval *r, const char *ifname,
			    const uint8_t *f, size_t len,
			    struct cg_ref_result *out, struct ref_packet *pkp)
{
	const struct cg_policy *p = r->policy;
	struct ref_packet pk;
	uint16_t ethertype, vid = 0, zone, src_zone, dst_zone;
	bool dst_self;
	size_t l3 = ETH_HLEN, i;
	const uint8_t *bound;

	memset(&pk, 0, sizeof(pk));
	memset(pkp, 0, sizeof(*pkp));

	/* 1. Ethernet and at most one tag. */
	if (len < ETH_HLEN)
		return CG_R_MALFORMED;
	ethertype = get16(f + 12);
	if (ethertype == ETH_P_8021Q || ethertype == ETH_P_8021AD) {
		if (len < ETH_HLEN + VLAN_HLEN)
			return CG_R_MALFORMED;
		vid = get16(f + 14) & 0x0fff;
		ethertype = get16(f + 16);
		l3 += VLAN_HLEN;
		if (ethertype == ETH_P_8021Q || ethertype == ETH_P_8021AD)
			return CG_R_VLAN_VIOLATION;
	}

	/* 2. Ingress zone. */
	zone = ingress_zone(p, ifname, vid);
	if (zone == CG_ZONE_NONE)
		return vid != 0 && policy_names_iface(p, ifname)
			       ? CG_R_VLAN_VIOLATION
			       : CG_R_UNKNOWN_ZONE;
	out->zone_from = zone;

	/*
	 * 3. ARP passes within its zone, unless an ARP packet of a shape
	 * Linux takes on Ethernet (hardware type 1 or 6, protocol IPv4,
	 * address lengths 6 and 4, 28 bytes) names a bound host as its
	 * sender with another sender MAC, or comes from another MAC; other
	 * non-IP ethertypes drop.
	 */
	if (ethertype == ETH_P_ARP) {
		const uint8_t *a = f + l3;

		if (len >= l3 + 28 && (get16(a) == 1 || get16(a) == 6) &&
		    get16(a + 2) == 0x0800 && a[4] == 6 && a[5] == 4 &&
		    (bound = bound_mac(p, 4, a + 14)) &&
		    (memcmp(bound, a + 8, 6) || memcmp(bound, f + 6, 6)))
			return CG_R_SPOOFED_SOURCE;
		return CG_R_ARP;
	}
	if (ethertype != ETH_P_IP && ethertype != ETH_P_IPV6)
		return CG_R_ETHERTYPE;

	/* 4. IP header. */
	if (ethertype == ETH_P_IP) {
		if (!parse_ipv4(f + l3, len - l3, &pk))
			return CG_R_MALFORMED;
	} else {
		if (!parse_ipv6(f + l3, len - l3, &pk))
			return CG_R_MALFORMED;
	}

	/*
	 * 5. Neighbour discovery, proven on-link by hop limit 255; and
	 * multicast listener messages, hop limit 1 from a link-local or
	 * unspecified source.
	 */
	if (pk.family == 6 && !pk.fragmented && pk.proto == IPPROTO_ICMPV6 &&
	    pk.l4_len >= 8) {
		uint8_t t = pk.l4[0];
		bool link_src =
			(pk.src[0] == 0xfe && (pk.src[1] & 0xc0) == 0x80);
		static const uint8_t unspec[16];

		if (!memcmp(pk.src, unspec, 16))
			link_src = true;
		if (((t >= 133 && t <= 137 && pk.hop_limit == 255) ||
		     ((t == 130 || t == 131 || t == 132 || t == 143) &&
		      pk.hop_limit == 1 && link_src)) &&
		    nd_stays(p, &pk, zone))
			return nd_bindings(p, &pk, f + 6);
	}

	/* 6. Source: not the gateway's own address (its frames never come
	 * in), zone, MAC binding, MAC seen elsewhere. */
	if (is_self(r, pk.family, pk.src))
		return CG_R_SPOOFED_SOURCE;
	src_zone = zone_of_addr(p, pk.family, pk.src);
	if (src_zone == CG_ZONE_NONE)
		return CG_R_SPOOFED_SOURCE;
	if (src_zone != zone)
		return CG_R_MULTI_HOMED;
	bound = bound_mac(p, pk.family, pk.src);
	if (bound && memcmp(bound, f + 6, 6))
		return CG_R_SPOOFED_SOURCE;
	if (mac_seen_elsewhere(r, f + 6, zone))
		return CG_R_MULTI_HOMED;
	*pkp = pk;

	/* 7. Fragments: the rest of a datagram whose first fragment passed. */
	if (pk.non_first) {
		const struct ref_frag *g;

		if (p->fragments == CG_FRAG_PASS)
			return CG_R_ALLOWED;
		g = frag_find(r, &pk);
		if (!g)
			return CG_R_FRAGMENT;
		out->flow = g->flow;
		out->zone_to = g->zone_to;
		return (enum cg_reason)g->reason;
	}

	/* 8. Transport header. */
	if (!parse_transport(&pk))
		return CG_R_MALFORMED;
	*pkp = pk;

	/* 9. Destination; the gateway's own addresses are the zone self. */
	dst_self = is_self(r, pk.family, pk.dst);
	dst_zone = dst_self ? CG_ZONE_SELF : zone_of_addr(p, pk.family, pk.dst);
	out->zone_to = dst_zone;
	if (dst_zone == src_zone)
		return CG_R_INTRA_ZONE;

	/* 10. Flows, first match in file order, among those in their window. */
	for (i = 0; i < p->n_flows; i++) {
		const struct cg_flow *fl = &p->flows[i];

		if (cg_window_open(&fl->valid, r->now) &&
		    refs_hold(p, fl->from, fl->n_from, pk.family, pk.src,
			      false) &&
		    refs_hold(p, fl->to, fl->n_to, pk.family, pk.dst,
			      dst_self) &&
		    proto_matches(fl->proto, pk.proto) &&
		    ports_match(fl, &pk)) {
			out->flow = (uint32_t)i;
			/* 7. Inspected flows pass no fragment. */
			if (pk.fragmented && flow_has_ics(fl))
				return CG_R_FRAGMENT;
			return allowed_by(r, fl, (uint32_t)i, &pk, out);
		}
	}

	/*
	 * 11. Replies: the frame's connection is open and the other end
	 * opened it; a TCP SYN without ACK, or an echo request, never counts
	 * as a reply. An ICMP error is a reply when the packet it quotes
	 * belongs to a live connection.
	 */
	if (pk.icmp_error) {
		struct ref_conn *c = quoted_conn(r, &pk);

		if (!c)
			return CG_R_NO_RULE;
		out->flow = c->flow;
		return CG_R_REPLY;
	}
	if (!(pk.proto == IPPROTO_TCP && (pk.tcp_flags & TCP_SYN) &&
	      !(pk.tcp_flags & TCP_ACK)) &&
	    !pk.echo_request) {
		struct ref_conn *c = conn_find(r, &pk);

		if (c && !end_is(c->opener, c->opener_port, pk.src, pk.sport,
				 addr_len(pk.family))) {
			out->flow = c->flow;
			/* 11a. What the responder says of the opener's stream.
			 */
			/* (A first fragment of an inspected flow drops at
			 * step 7 below: it tells nothing.) */
			if (pk.proto == IPPROTO_TCP && !pk.fragmented)
				stream_reply(&c->stream, &pk);
			return CG_R_REPLY;
		}
	}
	return CG_R_NO_RULE;
}

void cg_ref_eval(struct cg_refeval *r, const char *ifname, const uint8_t *frame,
		 size_t len, struct cg_ref_result *out)
{
	enum cg_reason reason;
	struct ref_packet pk;

	memset(out, 0, sizeof(*out));
	out->flow = CG_FLOW_NONE;
	out->zone_from = CG_ZONE_NONE;
	out->zone_to = CG_ZONE_NONE;
	out->function = CG_FUNC_NONE;

	reason = judge(r, ifname, frame, len, out, &pk);

	/*
	 * 7. A first fragment on an inspected flow (allowed by it, or a
	 * reply in its connection) drops, and leaves nothing behind for its
	 * key in the fragment table.
	 */
	if (pk.family && pk.fragmented && !pk.non_first &&
	    (reason == CG_R_ALLOWED || reason == CG_R_REPLY ||
	     reason == CG_R_FRAGMENT) &&
	    out->flow != CG_FLOW_NONE &&
	    flow_has_ics(&r->policy->flows[out->flow])) {
		frag_forget(r, &pk);
		reason = CG_R_FRAGMENT;
	}

	/* 13. Monitor mode passes every drop, remembering why. */
	out->would = (uint8_t)reason;
	if (reason < CG_R_FIRST_DROP) {
		out->verdict = CG_V_PASS;
		out->reason = (uint8_t)reason;
	} else if (r->policy->mode == CG_POLICY_MONITOR) {
		out->verdict = CG_V_PASS;
		out->reason = CG_R_MONITOR;
	} else {
		out->verdict = CG_V_DROP;
		out->reason = (uint8_t)reason;
	}
	/*
	 * 7. A first fragment that passed leaves its decision to the rest of
	 * its datagram (none names an inspected flow: see above).
	 */
	if (pk.family && pk.fragmented && !pk.non_first &&
	    out->verdict == CG_V_PASS && out->reason != CG_R_MONITOR)
		frag_remember(r, &pk, out);
}

struct cg_refeval *cg_ref_new(const struct cg_policy *p)
{
	struct cg_refeval *r = calloc(1, sizeof(*r));
	struct timespec ts;

	if (!r)
		return NULL;
	r->policy = p;
	if (!clock_gettime(CLOCK_REALTIME, &ts))
		r->now = ts.tv_sec * 1000000000LL + ts.tv_nsec;
	return r;
}

void cg_ref_set_self(struct cg_refeval *r, const struct cg_self_set *s)
{
	r->self = s;
}

void cg_ref_set_now(struct cg_refeval *r, int64_t unix_ns)
{
	r->now = unix_ns;
}

size_t cg_ref_n_conns(const struct cg_refeval *r)
{
	return r->n_conns;
}

void cg_ref_free(struct cg_refeval *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n_conns; i++)
		stream_records_empty(&r->conns[i].stream);
	free(r->conns);
	free(r->macs);
	free(r->frags);
	free(r);
}
