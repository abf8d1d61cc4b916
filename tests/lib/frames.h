/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A frame builder for tests: Ethernet with zero, one or two VLAN tags,
 * then ARP, IPv4 (options, fragment fields), IPv6 (a chain of extension
 * headers), TCP, UDP, ICMP, ICMPv6 or any other protocol, then payload.
 * Lengths and checksums come out right unless a test overwrites them
 * afterwards (cg_frame_build_layout tells where each header starts).
 *
 *	struct cg_frame_spec s;
 *	uint8_t buf[CG_FRAME_MAX];
 *	size_t len;
 *
 *	cg_frame_tcp(&s, "198.18.10.5", "198.18.20.7", 40000, 502, CG_TCP_SYN);
 *	s.n_tags = 1;
 *	s.tags[0].tci = 100;
 *	len = cg_frame_build(&s, buf, sizeof(buf));
 *
 * All multi-byte fields in the spec are in host byte order.
 */
#ifndef CG_TEST_FRAMES_H
#define CG_TEST_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CG_FRAME_MAX 9216   /* room for any frame the builder makes */
#define CG_FRAME_MAX_EXT 16 /* IPv6 extension headers in one spec */

#define CG_TCP_FIN 0x01
#define CG_TCP_SYN 0x02
#define CG_TCP_RST 0x04
#define CG_TCP_PSH 0x08
#define CG_TCP_ACK 0x10

enum cg_frame_kind {
	CG_FRAME_IP = 0, /* IPv4 or IPv6, by `family` */
	CG_FRAME_ARP,	 /* Ethernet/IPv4 ARP, sender src, target dst */
	CG_FRAME_RAW,	 /* `ethertype`, then `payload` as is */
};

struct cg_frame_tag {
	uint16_t tpid; /* 0 = 0x8100 */
	uint16_t tci;  /* PCP/DEI/VID as written; VID = tci & 0xfff */
};

/*
 * One IPv6 extension header. Types 0 (hop-by-hop), 60 (destination
 * options) and 43 (routing) are (len + 1) * 8 bytes, 51 (AH) is
 * (len + 2) * 4 bytes, 44 (fragment) 8 bytes (`len` is written into its
 * reserved byte). Other type numbers are written like hop-by-hop, so
 * that tests can build chains the parser must not take for headers.
 * Options are padded with PadN; AH's SPI and ICV are zero.
 */
struct cg_frame_ext {
	uint8_t type;
	uint8_t len;	      /* the header's own length field, byte 1 */
	uint8_t routing_type; /* routing: byte 2 */
	uint8_t segs_left;    /* routing: byte 3 */
	uint16_t frag_off;    /* fragment: offset in 8-byte units */
	bool frag_more;	      /* fragment: the M flag */
	uint32_t frag_id;     /* fragment: identification */
};

struct cg_frame_spec {
	/* Ethernet */
	uint8_t dst_mac[6];
	uint8_t src_mac[6];
	int n_tags; /* 0, 1 or 2 (outer first) */
	struct cg_frame_tag tags[2];
	enum cg_frame_kind kind;
	uint16_t ethertype; /* 0 = usual for kind; RAW: required */

	/* ARP (kind CG_FRAME_ARP): IPv4 sender = src, target = dst */
	uint16_t arp_op; /* 0 = 1 (request) */

	/* IP (kind CG_FRAME_IP) */
	int family;	 /* 4 or 6 */
	uint8_t src[16]; /* IPv4 in the first 4 bytes */
	uint8_t dst[16];
	uint8_t proto;	       /* transport: 6, 17, 1, 58, or any */
	uint8_t ttl;	       /* TTL / hop limit; 0 = 64 */
	uint8_t tos;	       /* TOS / traffic class */
	uint16_t ip_id;	       /* IPv4 identification */
	uint8_t ip4_opts_len;  /* IPv4 option bytes, multiple of 4, <= 40 */
	uint16_t ip4_frag_off; /* IPv4 fragment offset, 8-byte units */
	bool ip4_mf;	       /* IPv4 more fragments */
	bool ip4_df;	       /* IPv4 don't fragment */
	struct cg_frame_ext ext[CG_FRAME_MAX_EXT];
	size_t n_ext; /* IPv6 extension headers, in order */

	/*
	 * Transport. TCP for proto 6, UDP for 17, ICMP for 1 in IPv4,
	 * ICMPv6 for 58 in IPv6; any other protocol (or no_l4) gets no
	 * header of its own: the payload follows the IP headers.
	 */
	bool no_l4;
	uint16_t sport;
	uint16_t dport;
	uint8_t tcp_flags; /* CG_TCP_* */
	uint32_t tcp_seq;
	uint32_t tcp_ack;
	uint16_t tcp_win;	 /* 0 = 65535 */
	uint8_t tcp_opts_len;	 /* option bytes, multiple of 4, <= 40 */
	const uint8_t *tcp_opts; /* those bytes; NULL: all NOP (1) */
	uint8_t icmp_type;
	uint8_t icmp_code;
	uint16_t icmp_id;  /* bytes 4-5 (echo identifier) */
	uint16_t icmp_seq; /* bytes 6-7 */

	const uint8_t *payload; /* after the transport header */
	size_t payload_len;
	size_t pad_to; /* zero-pad the frame to this length */
};

/* Where the builder put things (offsets from the start of the frame). */
struct cg_frame_layout {
	size_t l3_off;			  /* IP / ARP / RAW payload */
	size_t ext_off[CG_FRAME_MAX_EXT]; /* each IPv6 extension header */
	size_t l4_off;			  /* transport header (or payload) */
	size_t payload_off;
	size_t ip_end; /* end of the IP packet (before padding) */
	size_t len;    /* the whole frame */
};

/* Zero the spec, then set MACs, TTL 64 and a window: a valid IP frame. */
void cg_frame_init(struct cg_frame_spec *s);

/* Parse an IPv4 or IPv6 address (no prefix) into 16 bytes; 4 or 6, or -1. */
int cg_frame_parse_addr(const char *str, uint8_t out[16]);

/* Set src, dst and family from text; both of one family. 0 or -1. */
int cg_frame_addrs(struct cg_frame_spec *s, const char *src, const char *dst);

/*
 * Ready-made specs (cg_frame_init + addresses + transport). They return
 * 0, or -1 when an address does not parse.
 */
int cg_frame_tcp(struct cg_frame_spec *s, const char *src, const char *dst,
		 uint16_t sport, uint16_t dport, uint8_t flags);
int cg_frame_udp(struct cg_frame_spec *s, const char *src, const char *dst,
		 uint16_t sport, uint16_t dport);
/* ICMP in IPv4, ICMPv6 in IPv6, by the addresses' family. */
int cg_frame_icmp(struct cg_frame_spec *s, const char *src, const char *dst,
		  uint8_t type, uint8_t code, uint16_t id);
int cg_frame_arp(struct cg_frame_spec *s, const char *sender,
		 const char *target);

/*
 * Write the frame into buf. Returns its length, or 0 if it does not fit
 * in `cap` or the spec is inconsistent (more than 2 tags, more than
 * CG_FRAME_MAX_EXT extension headers, bad option lengths, or a family
 * other than 4 or 6 for an IP frame). IP total length, payload length,
 * UDP length and every checksum are computed.
 */
size_t cg_frame_build(const struct cg_frame_spec *s, uint8_t *buf, size_t cap);
size_t cg_frame_build_layout(const struct cg_frame_spec *s, uint8_t *buf,
			     size_t cap, struct cg_frame_layout *lay);

/*
 * Give a built frame its station's MAC: 02:00 + the last four bytes of
 * its source address (the ARP sender address for ARP), so that every host
 * is one station, as on a real segment, and the MAC table sees no moves
 * that the test did not make. Frames without an address are left alone.
 */
void cg_frame_station_mac(uint8_t *frame, size_t len);

/* Hex dump, 16 bytes a line, each line starting with `prefix`. */
void cg_frame_hexdump(FILE *out, const char *prefix, const uint8_t *buf,
		      size_t len);

#endif
