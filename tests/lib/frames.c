// SPDX-License-Identifier: GPL-2.0
/* The test frame builder; see frames.h. */
#include <arpa/inet.h>
#include <string.h>

#include "frames.h"

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Ones' complement sum of `len` bytes, added to `sum`, not folded. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The pseudo-header sum for TCP, UDP and ICMPv6. */
static uint32_t pseudo_sum(const struct cg_frame_spec *s, uint8_t proto,
			   size_t l4_len)
{
	uint8_t ph[40];

	if (s->family == 4) {
		memcpy(ph, s->src, 4);
		memcpy(ph + 4, s->dst, 4);
		ph[8] = 0;
		ph[9] = proto;
		put16(ph + 10, (uint16_t)l4_len);
		return csum_add(0, ph, 12);
	}
	memcpy(ph, s->src, 16);
	memcpy(ph + 16, s->dst, 16);
	put32(ph + 32, (uint32_t)l4_len);
	ph[36] = ph[37] = ph[38] = 0;
	ph[39] = proto;
	return csum_add(0, ph, 40);
}

void cg_frame_init(struct cg_frame_spec *s)
{
	static const uint8_t dst[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
	static const uint8_t src[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};

	memset(s, 0, sizeof(*s));
	memcpy(s->dst_mac, dst, 6);
	memcpy(s->src_mac, src, 6);
	s->ttl = 64;
	s->tcp_win = 65535;
}

int cg_frame_parse_addr(const char *str, uint8_t out[16])
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, str, out) == 1)
		return 4;
	if (inet_pton(AF_INET6, str, out) == 1)
		return 6;
	return -1;
}

int cg_frame_addrs(struct cg_frame_spec *s, const char *src, const char *dst)
{
	int f1 = cg_frame_parse_addr(src, s->src);
	int f2 = cg_frame_parse_addr(dst, s->dst);

	if (f1 < 0 || f1 != f2)
		return -1;
	s->family = f1;
	return 0;
}

int cg_frame_tcp(struct cg_frame_spec *s, const char *src, const char *dst,
		 uint16_t sport, uint16_t dport, uint8_t flags)
{
	cg_frame_init(s);
	s->proto = 6;
	s->sport = sport;
	s->dport = dport;
	s->tcp_flags = flags;
	s->tcp_seq = 1000;
	/* Acknowledges a peer that started at the same 1000 and sent its SYN:
	 * the stream rule refuses ACKs of data never sent. */
	s->tcp_ack = (flags & CG_TCP_ACK) ? 1001 : 0;
	return cg_frame_addrs(s, src, dst);
}

int cg_frame_udp(struct cg_frame_spec *s, const char *src, const char *dst,
		 uint16_t sport, uint16_t dport)
{
	cg_frame_init(s);
	s->proto = 17;
	s->sport = sport;
	s->dport = dport;
	return cg_frame_addrs(s, src, dst);
}

int cg_frame_icmp(struct cg_frame_spec *s, const char *src, const char *dst,
		  uint8_t type, uint8_t code, uint16_t id)
{
	cg_frame_init(s);
	if (cg_frame_addrs(s, src, dst))
		return -1;
	s->proto = s->family == 4 ? 1 : 58;
	s->icmp_type = type;
	s->icmp_code = code;
	s->icmp_id = id;
	s->icmp_seq = 1;
	return 0;
}

int cg_frame_arp(struct cg_frame_spec *s, const char *sender,
		 const char *target)
{
	cg_frame_init(s);
	s->kind = CG_FRAME_ARP;
	memset(s->dst_mac, 0xff, 6);
	if (cg_frame_addrs(s, sender, target) || s->family != 4)
		return -1;
	return 0;
}

/* The transport header the spec asks for: its length, 0 for none. */
static size_t l4_hdr_len(const struct cg_frame_spec *s)
{
	if (s->kind != CG_FRAME_IP || s->no_l4)
		return 0;
	switch (s->proto) {
	case 6:
		return 20 + s->tcp_opts_len;
	case 17:
		return 8;
	case 1:
		return s->family == 4 ? 8 : 0;
	case 58:
		return s->family == 6 ? 8 : 0;
	default:
		return 0;
	}
}

static size_t ext_len(const struct cg_frame_ext *e)
{
	switch (e->type) {
	case 44:
		return 8;
	case 51:
		return ((size_t)e->len + 2) * 4;
	default:
		return ((size_t)e->len + 1) * 8;
	}
}

/* Write one IPv6 extension header of `hlen` bytes at p. */
static void put_ext(uint8_t *p, const struct cg_frame_ext *e, size_t hlen,
		    uint8_t next)
{
	memset(p, 0, hlen);
	p[0] = next;
	p[1] = e->len;
	switch (e->type) {
	case 44:
		put16(p + 2,
		      (uint16_t)(e->frag_off << 3 | (e->frag_more ? 1 : 0)));
		put32(p + 4, e->frag_id);
		break;
	case 43:
		p[2] = e->routing_type;
		p[3] = e->segs_left;
		break;
	case 51:
		break;
	default:
		/* Options: one PadN covering the 6 bytes after the header. */
		p[2] = 1;
		p[3] = (uint8_t)(hlen - 4);
		break;
	}
}

static size_t build_ip(const struct cg_frame_spec *s, uint8_t *buf, size_t cap,
		       struct cg_frame_layout *lay)
{
	size_t off = lay->l3_off, iphl, exts = 0, l4h, l4_len, i, total;
	uint8_t *ip = buf + off, *l4;
	uint32_t sum;

	if (s->family == 4) {
		if (s->ip4_opts_len % 4 || s->ip4_opts_len > 40 || s->n_ext)
			return 0;
		iphl = 20 + s->ip4_opts_len;
	} else if (s->family == 6) {
		if (s->n_ext > CG_FRAME_MAX_EXT)
			return 0;
		iphl = 40;
		for (i = 0; i < s->n_ext; i++)
			exts += ext_len(&s->ext[i]);
	} else {
		return 0;
	}
	if (s->tcp_opts_len % 4 || s->tcp_opts_len > 40)
		return 0;
	l4h = l4_hdr_len(s);
	l4_len = l4h + s->payload_len;
	total = iphl + exts + l4_len;
	if (s->family == 4 && total > 0xffff)
		return 0;
	if (s->family == 6 && exts + l4_len > 0xffff)
		return 0;
	if (off + total > cap)
		return 0;

	memset(ip, 0, total);
	if (s->family == 4) {
		ip[0] = (uint8_t)(0x40 | iphl / 4);
		ip[1] = s->tos;
		put16(ip + 2, (uint16_t)total);
		put16(ip + 4, s->ip_id);
		put16(ip + 6, (uint16_t)((s->ip4_df ? 0x4000 : 0) |
					 (s->ip4_mf ? 0x2000 : 0) |
					 (s->ip4_frag_off & 0x1fff)));
		ip[8] = s->ttl;
		ip[9] = s->proto;
		memcpy(ip + 12, s->src, 4);
		memcpy(ip + 16, s->dst, 4);
		memset(ip + 20, 1, s->ip4_opts_len); /* NOP options */
		put16(ip + 10, csum_fold(csum_add(0, ip, iphl)));
	} else {
		uint8_t *p = ip + 40;

		ip[0] = (uint8_t)(0x60 | s->tos >> 4);
		ip[1] = (uint8_t)(s->tos << 4);
		put16(ip + 4, (uint16_t)(exts + l4_len));
		ip[6] = s->n_ext ? s->ext[0].type : s->proto;
		ip[7] = s->ttl;
		memcpy(ip + 8, s->src, 16);
		memcpy(ip + 24, s->dst, 16);
		for (i = 0; i < s->n_ext; i++) {
			size_t hlen = ext_len(&s->ext[i]);
			uint8_t next = i + 1 < s->n_ext ? s->ext[i + 1].type
							: s->proto;

			lay->ext_off[i] = (size_t)(p - buf);
			put_ext(p, &s->ext[i], hlen, next);
			p += hlen;
		}
	}

	lay->l4_off = off + iphl + exts;
	lay->payload_off = lay->l4_off + l4h;
	lay->ip_end = off + total;
	l4 = buf + lay->l4_off;
	if (s->payload_len)
		memcpy(buf + lay->payload_off, s->payload, s->payload_len);
	if (!l4h)
		return lay->ip_end;

	switch (s->proto) {
	case 6:
		put16(l4, s->sport);
		put16(l4 + 2, s->dport);
		put32(l4 + 4, s->tcp_seq);
		put32(l4 + 8, s->tcp_ack);
		l4[12] = (uint8_t)((l4h / 4) << 4);
		l4[13] = s->tcp_flags;
		put16(l4 + 14, s->tcp_win);
		if (s->tcp_opts)
			memcpy(l4 + 20, s->tcp_opts, s->tcp_opts_len);
		else
			memset(l4 + 20, 1, s->tcp_opts_len); /* NOP options */
		sum = pseudo_sum(s, 6, l4_len);
		put16(l4 + 16, csum_fold(csum_add(sum, l4, l4_len)));
		break;
	case 17: {
		uint16_t c;

		put16(l4, s->sport);
		put16(l4 + 2, s->dport);
		put16(l4 + 4, (uint16_t)l4_len);
		sum = pseudo_sum(s, 17, l4_len);
		c = csum_fold(csum_add(sum, l4, l4_len));
		put16(l4 + 6, c ? c : 0xffff);
		break;
	}
	default: /* ICMP (IPv4) or ICMPv6 */
		l4[0] = s->icmp_type;
		l4[1] = s->icmp_code;
		put16(l4 + 4, s->icmp_id);
		put16(l4 + 6, s->icmp_seq);
		sum = s->family == 6 ? pseudo_sum(s, 58, l4_len) : 0;
		put16(l4 + 2, csum_fold(csum_add(sum, l4, l4_len)));
		break;
	}
	return lay->ip_end;
}

static size_t build_arp(const struct cg_frame_spec *s, uint8_t *buf, size_t cap,
			struct cg_frame_layout *lay)
{
	uint8_t *a = buf + lay->l3_off;

	if (lay->l3_off + 28 > cap)
		return 0;
	put16(a, 1);	      /* Ethernet */
	put16(a + 2, 0x0800); /* IPv4 */
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, s->arp_op ? s->arp_op : 1);
	memcpy(a + 8, s->src_mac, 6);
	memcpy(a + 14, s->src, 4);
	memset(a + 18, 0, 6);
	memcpy(a + 24, s->dst, 4);
	lay->l4_off = lay->payload_off = lay->ip_end = lay->l3_off + 28;
	return lay->ip_end;
}

size_t cg_frame_build_layout(const struct cg_frame_spec *s, uint8_t *buf,
			     size_t cap, struct cg_frame_layout *lay)
{
	size_t off = 12, end;
	uint16_t ethertype;
	int i;

	memset(lay, 0, sizeof(*lay));
	if (s->n_tags < 0 || s->n_tags > 2 || cap < 14 + 4 * (size_t)s->n_tags)
		return 0;
	memcpy(buf, s->dst_mac, 6);
	memcpy(buf + 6, s->src_mac, 6);
	for (i = 0; i < s->n_tags; i++) {
		put16(buf + off, s->tags[i].tpid ? s->tags[i].tpid : 0x8100);
		put16(buf + off + 2, s->tags[i].tci);
		off += 4;
	}
	switch (s->kind) {
	case CG_FRAME_IP:
		ethertype = s->family == 6 ? 0x86dd : 0x0800;
		break;
	case CG_FRAME_ARP:
		ethertype = 0x0806;
		break;
	default:
		ethertype = 0;
		break;
	}
	if (s->ethertype)
		ethertype = s->ethertype;
	put16(buf + off, ethertype);
	lay->l3_off = off + 2;

	switch (s->kind) {
	case CG_FRAME_IP:
		end = build_ip(s, buf, cap, lay);
		break;
	case CG_FRAME_ARP:
		end = build_arp(s, buf, cap, lay);
		break;
	default:
		if (lay->l3_off + s->payload_len > cap)
			return 0;
		if (s->payload_len)
			memcpy(buf + lay->l3_off, s->payload, s->payload_len);
		lay->l4_off = lay->payload_off = lay->l3_off;
		end = lay->ip_end = lay->l3_off + s->payload_len;
		break;
	}
	if (!end)
		return 0;
	if (s->pad_to > end) {
		if (s->pad_to > cap)
			return 0;
		memset(buf + end, 0, s->pad_to - end);
		end = s->pad_to;
	}
	lay->len = end;
	return end;
}

size_t cg_frame_build(const struct cg_frame_spec *s, uint8_t *buf, size_t cap)
{
	struct cg_frame_layout lay;

	return cg_frame_build_layout(s, buf, cap, &lay);
}

void cg_frame_hexdump(FILE *out, const char *prefix, const uint8_t *buf,
		      size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (i % 16 == 0)
			fprintf(out, "%s%04zx:", prefix, i);
		fprintf(out, " %02x", buf[i]);
		if (i % 16 == 15 || i + 1 == len)
			fprintf(out, "\n");
	}
}

void cg_frame_station_mac(uint8_t *f, size_t len)
{
	size_t l3 = 14;
	uint16_t type;
	const uint8_t *src = NULL;

	if (len < 14)
		return;
	type = (uint16_t)(f[12] << 8 | f[13]);
	if ((type == 0x8100 || type == 0x88a8) && len >= 18) {
		type = (uint16_t)(f[16] << 8 | f[17]);
		l3 = 18;
	}
	if (type == 0x0800 && len >= l3 + 16)
		src = f + l3 + 12;
	else if (type == 0x86dd && len >= l3 + 24)
		src = f + l3 + 20;
	else if (type == 0x0806 && len >= l3 + 18)
		src = f + l3 + 14;
	if (!src)
		return;
	f[6] = 0x02;
	f[7] = 0x00;
	memcpy(f + 8, src, 4);
}
