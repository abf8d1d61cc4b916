// SPDX-License-Identifier: GPL-2.0
/* ICS payload builders; see ics.h. */
#include <string.h>

#include "ics.h"

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Append `n` bytes at buf + *off: 0, or -1 (writing nothing) if they do
 * not fit. */
static int put(uint8_t *buf, size_t cap, size_t *off, const void *src, size_t n)
{
	if (*off > cap || n > cap - *off)
		return -1;
	if (n)
		memcpy(buf + *off, src, n);
	*off += n;
	return 0;
}

size_t cg_modbus_adu(uint8_t *buf, size_t cap, uint16_t tid, uint8_t unit,
		     uint8_t fc, const uint8_t *data, size_t data_len)
{
	uint8_t mbap[8];
	size_t off = 0;

	if (data_len > 0xffff - 2)
		return 0;
	put16(mbap, tid);
	put16(mbap + 2, 0);
	put16(mbap + 4, (uint16_t)(2 + data_len));
	mbap[6] = unit;
	mbap[7] = fc;
	if (put(buf, cap, &off, mbap, sizeof(mbap)) ||
	    put(buf, cap, &off, data, data_len))
		return 0;
	return off;
}

size_t cg_modbus_request(uint8_t *buf, size_t cap, uint16_t tid, uint8_t unit,
			 uint8_t fc, uint8_t mei)
{
	uint8_t d[32];
	size_t n = 0;

	switch (fc) {
	case 1: /* read coils, discrete inputs, holding, input registers */
	case 2:
	case 3:
	case 4:
		put16(d, 0x0010); /* starting address */
		put16(d + 2, 2);  /* quantity */
		n = 4;
		break;
	case 5: /* write single coil: ON */
		put16(d, 0x0010);
		put16(d + 2, 0xff00);
		n = 4;
		break;
	case 6: /* write single register */
		put16(d, 0x0010);
		put16(d + 2, 0x1234);
		n = 4;
		break;
	case 8: /* diagnostics: return query data */
		put16(d, 0x0000);
		put16(d + 2, 0xa537);
		n = 4;
		break;
	case 15: /* write multiple coils: 8 coils in one byte */
		put16(d, 0x0010);
		put16(d + 2, 8);
		d[4] = 1;
		d[5] = 0xaa;
		n = 6;
		break;
	case 16: /* write multiple registers: 2 */
		put16(d, 0x0010);
		put16(d + 2, 2);
		d[4] = 4;
		put16(d + 5, 0x0102);
		put16(d + 7, 0x0304);
		n = 9;
		break;
	case 20: /* read file record: one sub-request */
		d[0] = 7;
		d[1] = 6;	 /* reference type */
		put16(d + 2, 4); /* file */
		put16(d + 4, 1); /* record */
		put16(d + 6, 2); /* record length */
		n = 8;
		break;
	case 21: /* write file record: one sub-request of one register */
		d[0] = 9;
		d[1] = 6;
		put16(d + 2, 4);
		put16(d + 4, 1);
		put16(d + 6, 1);
		put16(d + 8, 0x0bad);
		n = 10;
		break;
	case 22: /* mask write register */
		put16(d, 0x0010);
		put16(d + 2, 0x00f2);
		put16(d + 4, 0x0025);
		n = 6;
		break;
	case 23: /* read/write multiple registers */
		put16(d, 0x0010);
		put16(d + 2, 2);
		put16(d + 4, 0x0020);
		put16(d + 6, 1);
		d[8] = 2;
		put16(d + 9, 0x00ff);
		n = 11;
		break;
	case 24: /* read FIFO queue */
		put16(d, 0x04de);
		n = 2;
		break;
	case 43: /* encapsulated interface transport */
		d[0] = mei;
		if (mei == 14) {
			d[1] = 1; /* read device id code: basic */
			d[2] = 0; /* object id */
			n = 3;
		} else {
			put16(d + 1, 0x0001);
			n = 3;
		}
		break;
	case 7: /* read exception status, counters, event log, server id */
	case 11:
	case 12:
	case 17:
		n = 0;
		break;
	default: /* vendor codes (90: programming), codes >= 0x80 */
		put16(d, 0x0001);
		put16(d + 2, 0x0002);
		n = 4;
		break;
	}
	return cg_modbus_adu(buf, cap, tid, unit, fc, d, n);
}

size_t cg_modbus_addr_request(uint8_t *buf, size_t cap, uint16_t tid,
			      uint8_t unit, uint8_t fc, uint16_t start,
			      uint16_t qty, uint16_t start2, uint16_t qty2,
			      uint8_t bc, size_t n_data)
{
	uint8_t d[600];
	size_t n = 0, i;

	if (n_data > 512)
		return 0;
	put16(d, start);
	switch (fc) {
	case 15:
	case 16:
		put16(d + 2, qty);
		d[4] = bc;
		n = 5;
		break;
	case 22:
		put16(d + 2, 0x00f2);
		put16(d + 4, 0x0025);
		n = 6;
		n_data = 0;
		break;
	case 23:
		put16(d + 2, qty);
		put16(d + 4, start2);
		put16(d + 6, qty2);
		d[8] = bc;
		n = 9;
		break;
	default:
		put16(d + 2, qty);
		n = 4;
		n_data = 0;
		break;
	}
	for (i = 0; i < n_data; i++)
		d[n++] = (uint8_t)(0x11 * (i + 1));
	return cg_modbus_adu(buf, cap, tid, unit, fc, d, n);
}

uint8_t cg_modbus_byte_count(uint8_t fc, uint16_t qty, uint16_t qty2)
{
	if (fc == 15)
		return (uint8_t)((qty + 7) / 8);
	if (fc == 16)
		return (uint8_t)(2 * qty);
	if (fc == 23)
		return (uint8_t)(2 * qty2);
	return 0;
}

size_t cg_modbus_response(uint8_t *buf, size_t cap, uint16_t tid, uint8_t unit,
			  uint8_t fc, int exception)
{
	uint8_t d[8];

	if (exception) {
		d[0] = 2; /* illegal data address */
		return cg_modbus_adu(buf, cap, tid, unit, (uint8_t)(fc | 0x80),
				     d, 1);
	}
	switch (fc) {
	case 1:
	case 2:
		d[0] = 1;
		d[1] = 0x03;
		return cg_modbus_adu(buf, cap, tid, unit, fc, d, 2);
	case 3:
	case 4:
		d[0] = 4;
		put16(d + 1, 0x0102);
		put16(d + 3, 0x0304);
		return cg_modbus_adu(buf, cap, tid, unit, fc, d, 5);
	default: /* writes echo address and value or quantity */
		put16(d, 0x0010);
		put16(d + 2, 0x0002);
		return cg_modbus_adu(buf, cap, tid, unit, fc, d, 4);
	}
}

/* TPKT header (version 3, reserved, length of everything) + COTP. */
static size_t tpkt(uint8_t *buf, size_t cap, const uint8_t *cotp,
		   size_t cotp_len, const uint8_t *rest, size_t rest_len)
{
	uint8_t h[4] = {3, 0, 0, 0};
	size_t off = 0, total = 4 + cotp_len + rest_len;

	if (total > 0xffff)
		return 0;
	put16(h + 2, (uint16_t)total);
	if (put(buf, cap, &off, h, 4) || put(buf, cap, &off, cotp, cotp_len) ||
	    put(buf, cap, &off, rest, rest_len))
		return 0;
	return off;
}

size_t cg_cotp_tpdu(uint8_t *buf, size_t cap, uint8_t code)
{
	/* CR/CC: references, class 0, TPDU size 1024, TSAPs 0x0100/0x0102. */
	static const uint8_t connect[] = {0x11, 0xe0, 0x00, 0x00, 0x00, 0x01,
					  0x00, 0xc0, 0x01, 0x0a, 0xc1, 0x02,
					  0x01, 0x00, 0xc2, 0x02, 0x01, 0x02};
	static const uint8_t dr[] = {0x06, 0x80, 0x00, 0x01,
				     0x00, 0x01, 0x80}; /* normal */
	static const uint8_t dc[] = {0x05, 0xc0, 0x00, 0x01, 0x00, 0x01};
	uint8_t c[sizeof(connect)];

	switch (code) {
	case CG_COTP_CR:
	case CG_COTP_CC:
		memcpy(c, connect, sizeof(c));
		c[1] = code;
		if (code == CG_COTP_CC) {
			c[3] = 0x01; /* destination reference: the caller's */
			c[5] = 0x02;
		}
		return tpkt(buf, cap, c, sizeof(c), NULL, 0);
	case CG_COTP_DR:
		return tpkt(buf, cap, dr, sizeof(dr), NULL, 0);
	case CG_COTP_DC:
		return tpkt(buf, cap, dc, sizeof(dc), NULL, 0);
	default: /* any other code, with a one-byte header */
		c[0] = 1;
		c[1] = code;
		return tpkt(buf, cap, c, 2, NULL, 0);
	}
}

size_t cg_s7_pdu(uint8_t *buf, size_t cap, uint8_t proto, uint8_t rosctr,
		 uint16_t pdu_ref, const uint8_t *param, size_t plen,
		 const uint8_t *data, size_t dlen)
{
	static const uint8_t dt[] = {0x02, 0xf0, 0x80}; /* DT, last unit */
	uint8_t pdu[512];
	size_t hl = rosctr == CG_S7_ACK || rosctr == CG_S7_ACK_DATA ? 12 : 10;

	if (plen > 0xffff || dlen > 0xffff || hl + plen + dlen > sizeof(pdu))
		return 0;
	memset(pdu, 0, hl);
	pdu[0] = proto;
	pdu[1] = rosctr;
	put16(pdu + 4, pdu_ref);
	put16(pdu + 6, (uint16_t)plen);
	put16(pdu + 8, (uint16_t)dlen);
	if (plen)
		memcpy(pdu + hl, param, plen);
	if (dlen)
		memcpy(pdu + hl + plen, data, dlen);
	return tpkt(buf, cap, dt, sizeof(dt), pdu, hl + plen + dlen);
}

/* A block file name as the download and upload functions carry it. */
static size_t block_name(uint8_t *p, char type)
{
	static const char name[] = "_0A00001P";

	p[0] = 9;
	memcpy(p + 1, name, 9);
	p[9] = (uint8_t)type;
	return 10;
}

size_t cg_s7_job(uint8_t *buf, size_t cap, uint16_t pdu_ref, uint8_t func)
{
	/* One item: S7ANY, 2 bytes of DB 1 at byte 0. */
	static const uint8_t item[] = {0x12, 0x0a, 0x10, 0x02, 0x00, 0x02,
				       0x00, 0x01, 0x84, 0x00, 0x00, 0x00};
	static const uint8_t program[] = "P_PROGRAM";
	uint8_t p[64], d[16];
	size_t plen = 0, dlen = 0;

	memset(p, 0, sizeof(p));
	p[0] = func;
	switch (func) {
	case 0xf0: /* setup communication: AmQ 1/1, PDU 480 */
		put16(p + 2, 1);
		put16(p + 4, 1);
		put16(p + 6, 480);
		plen = 8;
		break;
	case 0x04: /* read variable */
	case 0x05: /* write variable */
		p[1] = 1;
		memcpy(p + 2, item, sizeof(item));
		plen = 2 + sizeof(item);
		if (func == 0x05) {
			d[0] = 0x00; /* return code: reserved */
			d[1] = 0x04; /* transport size: bits */
			put16(d + 2, 16);
			put16(d + 4, 0x1234);
			dlen = 6;
		}
		break;
	case 0x1a: /* request download, with the block's length strings */
		p[2] = 0x01;
		plen = 8 + block_name(p + 8, 'P');
		p[plen++] = 13;
		memcpy(p + plen, "1000020000000", 13);
		plen += 13;
		break;
	case 0x1b: /* download block */
	case 0x1c: /* download ended */
		p[2] = 0x01;
		plen = 8 + block_name(p + 8, 'P');
		break;
	case 0x1d: /* start upload */
		plen = 8 + block_name(p + 8, 'A');
		break;
	case 0x1e:	     /* upload */
	case 0x1f:	     /* end upload */
		p[7] = 0x01; /* upload id */
		plen = 8;
		break;
	case 0x28: /* PLC control: start the program */
		p[7] = 0xfd;
		put16(p + 8, 0); /* parameter block length */
		p[10] = 9;
		memcpy(p + 11, program, 9);
		plen = 20;
		break;
	case 0x29: /* PLC stop */
		p[6] = 9;
		memcpy(p + 7, program, 9);
		plen = 16;
		break;
	default:
		plen = 4;
		break;
	}
	return cg_s7_pdu(buf, cap, CG_S7_PROTO, CG_S7_JOB, pdu_ref, p, plen, d,
			 dlen);
}

size_t cg_s7_userdata(uint8_t *buf, size_t cap, uint16_t pdu_ref, uint8_t type,
		      uint8_t group, uint8_t subfunc)
{
	uint8_t p[12] = {0x00, 0x01, 0x12}, d[16];
	size_t plen, dlen;

	p[5] = (uint8_t)(type << 4 | (group & 0x0f));
	p[6] = subfunc;
	if (type == CG_S7_UD_REQUEST || type == CG_S7_UD_PUSH) {
		p[3] = 4;
		p[4] = 0x11;
		plen = 8;
	} else {
		p[3] = 8;
		p[4] = 0x12;
		plen = 12;
	}
	if (group == 4 && subfunc == 1) {
		/* read SZL 0x0011 (module identification), index 0 */
		static const uint8_t szl[] = {0xff, 0x09, 0x00, 0x04,
					      0x00, 0x11, 0x00, 0x00};

		memcpy(d, szl, sizeof(szl));
		dlen = sizeof(szl);
	} else {
		static const uint8_t none[] = {0x0a, 0x00, 0x00, 0x00};

		memcpy(d, none, sizeof(none));
		dlen = sizeof(none);
	}
	return cg_s7_pdu(buf, cap, CG_S7_PROTO, CG_S7_USERDATA, pdu_ref, p,
			 plen, d, dlen);
}

size_t cg_s7_ack_data(uint8_t *buf, size_t cap, uint16_t pdu_ref, uint8_t func)
{
	uint8_t p[8] = {func, 1}, d[8] = {0xff, 0x04, 0x00, 0x10, 0x12, 0x34};
	size_t dlen = func == 0x04 ? 6 : func == 0x05 ? 1 : 0;

	if (func == 0xf0) {
		memset(p, 0, sizeof(p));
		p[0] = func;
		put16(p + 2, 1);
		put16(p + 4, 1);
		put16(p + 6, 240);
		return cg_s7_pdu(buf, cap, CG_S7_PROTO, CG_S7_ACK_DATA, pdu_ref,
				 p, 8, NULL, 0);
	}
	return cg_s7_pdu(buf, cap, CG_S7_PROTO, CG_S7_ACK_DATA, pdu_ref, p, 2,
			 d, dlen);
}

size_t cg_s7plus(uint8_t *buf, size_t cap, uint8_t opcode)
{
	static const uint8_t dt[] = {0x02, 0xf0, 0x80};
	/* Header (protocol id, version 2, data length), data, trailer. */
	uint8_t f[32] = {0x72, 0x02, 0x00, 0x00, opcode, 0x00,
			 0x00, 0x04, 0xca, 0x00, 0x00,	 0x00,
			 0x01, 0x00, 0x00, 0x01, 0x20,	 0x36};
	size_t data = 14;

	put16(f + 2, (uint16_t)data);
	f[4 + data] = 0x72;
	f[5 + data] = 0x02;
	return tpkt(buf, cap, dt, sizeof(dt), f, 4 + data + 4);
}
