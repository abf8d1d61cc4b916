// SPDX-License-Identifier: GPL-2.0
/*
 * A reload that narrows a flow's window cuts the flow's open connections
 * (issue 19.5). See narrow.h for the rule; this file is the walk.
 *
 * Each connection is re-judged as the gate would judge its opener's next
 * opening frame (a TCP SYN, a UDP datagram, an echo request) under the
 * new policy, now: the reference evaluator (reference.c) runs a frame
 * built from the entry (the opener's end, its ingress interface, VLAN id
 * and MAC) over the new policy. The walk does not wait for the opener to
 * send: a connection on which only the responder talks (a camera's
 * stream, a download, a server that pushes) is never re-judged by the
 * data plane, whose reply path does not look up flows.
 */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>

#include "narrow.h"
#include "reference.h"

#define ETH_P_IP_ 0x0800
#define ETH_P_IPV6_ 0x86dd
#define ETH_P_8021Q_ 0x8100

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* 16-bit one's complement sum, folded (RFC 1071). */
static uint16_t csum(const uint8_t *p, size_t n, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * The frame the opener of connection (k, v) would send to open it again:
 * Ethernet (its MAC, its VLAN tag), IP, and a TCP SYN, a UDP datagram, an
 * ICMP/ICMPv6 echo request (the connection's ports are the echo id), or
 * nothing for other protocols. Returns the length.
 */
static size_t opener_frame(const struct cg_conn_key *k,
			   const struct cg_conn_val *v, uint8_t *buf)
{
	const struct cg_conn_end *e = &v->end[v->opener & 1];
	const uint8_t *src = v->opener ? k->b : k->a;
	const uint8_t *dst = v->opener ? k->a : k->b;
	uint16_t sport = v->opener ? k->bport : k->aport;
	uint16_t dport = v->opener ? k->aport : k->bport;
	size_t off = 12, l4, l4_len = 0, alen = k->family == 4 ? 4 : 16;
	uint32_t pseudo = 0;
	size_t i;

	memset(buf, 0, CG_NARROW_FRAME_MAX);
	buf[0] = 0x02; /* the gateway: any unicast MAC will do */
	memcpy(buf + 6, e->src_mac, 6);
	if (e->vlan) {
		put16(buf + off, ETH_P_8021Q_);
		put16(buf + off + 2, e->vlan & 0x0fff);
		off += 4;
	}
	put16(buf + off, k->family == 4 ? ETH_P_IP_ : ETH_P_IPV6_);
	off += 2;
	l4 = off + (k->family == 4 ? 20 : 40);
	switch (k->proto) {
	case 6: /* TCP SYN */
		put16(buf + l4, sport);
		put16(buf + l4 + 2, dport);
		buf[l4 + 7] = 1;     /* seq */
		buf[l4 + 12] = 0x50; /* 20 bytes */
		buf[l4 + 13] = 0x02; /* SYN */
		put16(buf + l4 + 14, 65535);
		l4_len = 20;
		break;
	case 17: /* UDP */
		put16(buf + l4, sport);
		put16(buf + l4 + 2, dport);
		put16(buf + l4 + 4, 8);
		l4_len = 8;
		break;
	case 1:	 /* ICMP */
	case 58: /* ICMPv6 */
		buf[l4] = k->proto == 1 ? 8 : 128;
		put16(buf + l4 + 4, sport);
		l4_len = 8;
		break;
	}
	if (k->family == 4) {
		uint8_t *ip = buf + off;

		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(20 + l4_len));
		ip[8] = 64;
		ip[9] = k->proto;
		memcpy(ip + 12, src, 4);
		memcpy(ip + 16, dst, 4);
		put16(ip + 10, csum(ip, 20, 0));
	} else {
		uint8_t *ip = buf + off;

		ip[0] = 0x60;
		put16(ip + 4, (uint16_t)l4_len);
		ip[6] = k->proto;
		ip[7] = 64;
		memcpy(ip + 8, src, 16);
		memcpy(ip + 24, dst, 16);
	}
	/* Transport checksums, over the pseudo-header (ICMPv4: none). */
	if (l4_len && k->proto != 1) {
		for (i = 0; i < alen; i += 2) {
			pseudo += (uint32_t)src[i] << 8 | src[i + 1];
			pseudo += (uint32_t)dst[i] << 8 | dst[i + 1];
		}
		pseudo += k->proto + (uint32_t)l4_len;
	}
	if (l4_len) {
		size_t at = k->proto == 6 ? 16 : k->proto == 17 ? 6 : 2;

		put16(buf + l4 + at, csum(buf + l4, l4_len, pseudo));
	}
	return l4 + l4_len;
}

/* A copy of `p` whose flows all have their windows open. */
static struct cg_policy *windows_open(const struct cg_policy *p)
{
	struct cg_policy *q = malloc(sizeof(*q));
	size_t i;

	if (!q)
		return NULL;
	*q = *p;
	q->flows = malloc(p->n_flows * sizeof(*q->flows) + 1);
	if (!q->flows) {
		free(q);
		return NULL;
	}
	memcpy(q->flows, p->flows, p->n_flows * sizeof(*q->flows));
	for (i = 0; i < p->n_flows; i++)
		q->flows[i].valid.timed = false;
	return q;
}

/*
 * The window end (CLOCK_TAI ns) the new policy gives connection (k, v)
 * now: the allowing flow's, 0 when that flow has none, 1 (long past) when
 * only a time-boxed flow whose window is closed now would allow it, and
 * -1 when no flow of the new policy allows it at all (left alone).
 */
static int64_t new_until(const struct cg_compiled *c,
			 const struct cg_policy *all_open,
			 const struct cg_conn_key *k,
			 const struct cg_conn_val *v)
{
	uint8_t frame[CG_NARROW_FRAME_MAX];
	char ifname[IF_NAMESIZE];
	struct cg_ref_result res;
	struct cg_refeval *r;
	size_t len = opener_frame(k, v, frame);

	if (!if_indextoname(v->end[v->opener & 1].ifindex, ifname))
		return -1; /* its interface is gone: nothing arrives there */
	/* A fresh evaluator each time: no state of one connection (its MAC
	 * table, its connections) may colour another's judgement. */
	r = cg_ref_new(c->policy);
	if (!r)
		return -1;
	cg_ref_eval(r, ifname, frame, len, &res);
	cg_ref_free(r);
	if (res.reason == CG_R_ALLOWED && res.flow < c->policy->n_flows)
		return (c->flow_info[res.flow].flags & CG_FLOW_TIMED)
			       ? (int64_t)c->flow_info[res.flow].valid_until
			       : 0;
	if (!all_open)
		return -1;
	r = cg_ref_new(all_open);
	if (!r)
		return -1;
	cg_ref_eval(r, ifname, frame, len, &res);
	cg_ref_free(r);
	return res.reason == CG_R_ALLOWED ? 1 : -1;
}

/*
 * The keys first, then the entries, read bucket by bucket
 * (bpf_map_lookup_batch). A write to a hash map's entry puts a new element
 * at the head of its bucket, and a deleted key sends get_next_key back to
 * the start, so walking with get_next_key while the gate (or this walk)
 * writes meets keys twice; a batch walk visits each bucket once.
 */
#define KEYS_BATCH 1024

/*
 * The keys of a connection table, in the wide form (cg_conn_key): conns
 * holds them so, conns4 (v4) in struct cg_conn4_key.
 */
static int conn_keys(int fd, bool v4, struct cg_conn_key **out, size_t *n)
{
	size_t ks =
		v4 ? sizeof(struct cg_conn4_key) : sizeof(struct cg_conn_key);
	struct cg_conn_key *keys = NULL, *k;
	struct cg_conn_val *vals;
	unsigned char *raw, batch[sizeof(struct cg_conn_key)];
	bool first = true;
	int err;

	*out = NULL;
	*n = 0;
	vals = calloc(KEYS_BATCH, sizeof(*vals));
	raw = calloc(KEYS_BATCH, ks);
	if (!vals || !raw) {
		free(vals);
		free(raw);
		return -ENOMEM;
	}
	for (;;) {
		LIBBPF_OPTS(bpf_map_batch_opts, o);
		__u32 got = KEYS_BATCH, i;

		k = realloc(keys, (*n + KEYS_BATCH) * sizeof(*keys));
		if (!k) {
			err = -ENOMEM;
			break;
		}
		keys = k;
		err = bpf_map_lookup_batch(fd, first ? NULL : batch, batch, raw,
					   vals, &got, &o);
		err = err ? -errno : 0;
		for (i = 0; i < got; i++) {
			if (v4)
				cg_conn4_key_widen(
					(const struct cg_conn4_key *)(raw +
								      i * ks),
					&keys[*n + i]);
			else
				memcpy(&keys[*n + i], raw + i * ks, ks);
		}
		*n += got;
		first = false;
		if (err)
			break;
	}
	free(vals);
	free(raw);
	if (err != -ENOENT) { /* ENOENT: the walk is done */
		free(keys);
		return err;
	}
	*out = keys;
	return 0;
}

/* One table's walk (see cg_conns_narrow). */
static int narrow_table(int fd, bool v4, const struct cg_compiled *c,
			const struct cg_policy *all_open,
			struct cg_narrow_stats *st)
{
	struct cg_conn_key *keys, key;
	struct cg_conn4_key k4;
	const void *kp;
	size_t i, n;
	int err;

	err = conn_keys(fd, v4, &keys, &n);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		struct cg_conn_val v;
		int64_t u;

		key = keys[i];
		kp = &key;
		if (v4) {
			cg_conn4_key_narrow(&key, &k4);
			kp = &k4;
		}
		if (bpf_map_lookup_elem(fd, kp, &v))
			continue; /* gone meanwhile (LRU, expiry) */
		st->walked++;
		if (v.end[v.opener & 1].policy_id == 0)
			continue;
		u = new_until(c, all_open, &key, &v);
		if (u < 0 || u == 0 || (v.until && (uint64_t)u >= v.until))
			continue; /* unchanged, or it would widen */
		/*
		 * Read again just before the write: the program keeps
		 * updating the entry (last, closing, the ends' decisions),
		 * and this write replaces all of it. What it can still lose
		 * is the frames of these few microseconds.
		 */
		if (bpf_map_lookup_elem(fd, kp, &v))
			continue;
		if (v.until && (uint64_t)u >= v.until)
			continue;
		v.until = (uint64_t)u;
		if (bpf_map_update_elem(fd, kp, &v, BPF_EXIST)) {
			if (errno != ENOENT)
				err = -errno;
			continue;
		}
		if (u == 1)
			st->cut++;
		else
			st->narrowed++;
	}
	free(keys);
	return err;
}

int cg_conns_narrow(int conns_fd, int conns4_fd, const struct cg_compiled *c,
		    struct cg_narrow_stats *st)
{
	struct cg_policy *all_open = NULL;
	int err = 0, e4 = 0;

	memset(st, 0, sizeof(*st));
	/* Without windows nothing can narrow: no walk, no cost. */
	if (!c->n_timed)
		return 0;
	all_open = windows_open(c->policy);
	if (!all_open)
		return -ENOMEM;
	if (conns_fd >= 0)
		err = narrow_table(conns_fd, false, c, all_open, st);
	if (conns4_fd >= 0)
		e4 = narrow_table(conns4_fd, true, c, all_open, st);
	free(all_open->flows);
	free(all_open);
	return err ? err : e4;
}
