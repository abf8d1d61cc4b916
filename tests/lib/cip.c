// SPDX-License-Identifier: GPL-2.0
/* EtherNet/IP payload builders; see cip.h. */
#include <string.h>

#include "cip.h"

static void le16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static int put(uint8_t *buf, size_t cap, size_t *off, const void *src, size_t n)
{
	if (*off > cap || n > cap - *off)
		return -1;
	if (n)
		memcpy(buf + *off, src, n);
	*off += n;
	return 0;
}

size_t cg_enip_encap(uint8_t *buf, size_t cap, uint16_t cmd, uint32_t session,
		     const uint8_t *data, size_t dlen)
{
	uint8_t h[24] = {0};
	size_t off = 0;

	if (dlen > 0xffff)
		return 0;
	le16(h, cmd);
	le16(h + 2, (uint32_t)dlen);
	le16(h + 4, session & 0xffff);
	le16(h + 6, session >> 16);
	memcpy(h + 12, "cgtest\0\0", 8); /* sender context */
	if (put(buf, cap, &off, h, sizeof(h)) ||
	    put(buf, cap, &off, data, dlen))
		return 0;
	return off;
}

/* The CPF of a send: interface handle 0, timeout, two items. */
static size_t cpf_send(uint8_t *buf, size_t cap, uint16_t cmd, uint16_t atype,
		       const uint8_t *addr, size_t alen, uint16_t dtype,
		       const uint8_t *pre, size_t plen, const uint8_t *cip,
		       size_t len)
{
	uint8_t d[4096], *p = d;

	if (len + 24 > sizeof(d))
		return 0;
	memset(p, 0, 6); /* interface handle, timeout */
	le16(p + 4, cmd == 0x6f ? 10 : 0);
	le16(p + 6, 2);
	p += 8;
	le16(p, atype);
	le16(p + 2, (uint32_t)alen);
	memcpy(p + 4, addr, alen);
	p += 4 + alen;
	le16(p, dtype);
	le16(p + 2, (uint32_t)(plen + len));
	memcpy(p + 4, pre, plen);
	memcpy(p + 4 + plen, cip, len);
	p += 4 + plen + len;
	return cg_enip_encap(buf, cap, cmd, 0x12345678, d, (size_t)(p - d));
}

size_t cg_enip_rr(uint8_t *buf, size_t cap, const uint8_t *cip, size_t len)
{
	return cpf_send(buf, cap, 0x6f, 0x0000, NULL, 0, 0x00b2, NULL, 0, cip,
			len);
}

size_t cg_enip_unit(uint8_t *buf, size_t cap, uint16_t seq, const uint8_t *cip,
		    size_t len)
{
	static const uint8_t conn[4] = {0x22, 0x40, 0x95, 0xff};
	uint8_t s[2];

	le16(s, seq);
	return cpf_send(buf, cap, 0x70, 0x00a1, conn, 4, 0x00b1, s, 2, cip,
			len);
}

size_t cg_cip_request(uint8_t *buf, size_t cap, uint8_t svc, int cls,
		      const uint8_t *data, size_t dlen)
{
	uint8_t h[8];
	size_t n = 2, off = 0;

	h[0] = svc;
	if (cls >= 256) {
		h[2] = 0x21;
		h[3] = 0;
		le16(h + 4, (uint32_t)cls);
		h[6] = 0x24;
		h[7] = 1;
		n = 8;
	} else if (cls >= 0) {
		h[2] = 0x20;
		h[3] = (uint8_t)cls;
		h[4] = 0x24;
		h[5] = 1;
		n = 6;
	}
	h[1] = (uint8_t)((n - 2) / 2);
	if (put(buf, cap, &off, h, n) || put(buf, cap, &off, data, dlen))
		return 0;
	return off;
}

size_t cg_cip_tag_request(uint8_t *buf, size_t cap, uint8_t svc,
			  const char *tag, const uint8_t *data, size_t dlen)
{
	uint8_t h[80] = {0};
	size_t tl = strlen(tag), n, off = 0;

	if (tl > 70)
		return 0;
	h[0] = svc;
	h[2] = 0x91;
	h[3] = (uint8_t)tl;
	memcpy(h + 4, tag, tl);
	n = 4 + tl + (tl & 1);
	h[1] = (uint8_t)((n - 2) / 2);
	if (put(buf, cap, &off, h, n) || put(buf, cap, &off, data, dlen))
		return 0;
	return off;
}

size_t cg_cip_unconnected_send(uint8_t *buf, size_t cap, const uint8_t *inner,
			       size_t ilen)
{
	uint8_t d[4096];
	size_t n = 0;

	if (ilen + 16 > sizeof(d))
		return 0;
	d[n++] = 0x0a; /* priority / time tick */
	d[n++] = 0x0e; /* timeout ticks */
	le16(d + n, (uint32_t)ilen);
	n += 2;
	memcpy(d + n, inner, ilen);
	n += ilen;
	if (ilen & 1)
		d[n++] = 0; /* pad */
	d[n++] = 1;	    /* route path size (words) */
	d[n++] = 0;	    /* reserved */
	d[n++] = 0x01;	    /* port 1 (backplane), */
	d[n++] = 0x00;	    /* slot 0 */
	return cg_cip_request(buf, cap, 0x52, 0x06, d, n);
}

size_t cg_cip_msp(uint8_t *buf, size_t cap, const uint8_t *const *reqs,
		  const size_t *lens, size_t n)
{
	uint8_t d[4096];
	size_t i, o = 2 + 2 * n;

	if (o > sizeof(d))
		return 0;
	le16(d, (uint32_t)n);
	for (i = 0; i < n; i++) {
		if (lens[i] > sizeof(d) - o)
			return 0;
		le16(d + 2 + 2 * i, (uint32_t)o);
		memcpy(d + o, reqs[i], lens[i]);
		o += lens[i];
	}
	return cg_cip_request(buf, cap, 0x0a, 0x02, d, o);
}
