// SPDX-License-Identifier: GPL-2.0
/* Random frames of a policy for the differential test (gen.h). */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gen.h"
#include "gen_int.h"
#include "cip.h"
#include "ics.h"

/*
 * Fragment ids: often one shared value, so that datagrams of different
 * flows between the same hosts collide in the fragment table.
 */
uint32_t frag_id(struct cg_rng *r)
{
	return cg_rng_pct(r, 40) ? 4242 : (uint32_t)cg_rng_next(r);
}

/* The station MAC the generator gives an address (see cg_gen_frame). */
static void station_mac(int family, const uint8_t *addr, uint8_t *mac)
{
	size_t n = family == 4 ? 4 : 16;

	mac[0] = 0x02;
	mac[1] = 0x01;
	memcpy(mac + 2, addr + n - 4, 4);
}

/* A bound host's address of `family` (random among them), or false. */
static bool bound_host(struct cg_rng *r, const struct cg_policy *p, int family,
		       uint8_t *addr)
{
	size_t i, n = 0, pick;

	for (i = 0; i < p->n_hosts; i++)
		if (p->hosts[i].has_mac && p->hosts[i].addr.family == family)
			n++;
	if (!n)
		return false;
	pick = cg_rng_below(r, (uint32_t)n);
	for (i = 0; i < p->n_hosts; i++)
		if (p->hosts[i].has_mac && p->hosts[i].addr.family == family &&
		    !pick--) {
			memcpy(addr, p->hosts[i].addr.addr, 16);
			return true;
		}
	return false;
}

/*
 * An ND message of type 133-137 (README step 5): on-link or not, its
 * fixed part (sometimes cut short), a target that is often a bound host,
 * and 0-3 options: link-layer options naming the source's station, the
 * target's, or another MAC; other options; sometimes a bad length.
 * Writes the body (after the 8-byte ICMPv6 header) into `payload`.
 */
static size_t nd_message(struct cg_gen_frames *g, struct cg_rng *r,
			 struct cg_frame_spec *s, uint8_t *payload)
{
	static const uint8_t fixed[] = {0, 8, 16, 16, 32}; /* after 8 */
	uint8_t t = s->icmp_type, tgt[16] = {0}, mac[6];
	size_t n, i, opts;

	/* On-link addresses, mostly. */
	if (cg_rng_pct(r, 40)) {
		memset(s->src, 0, 16);
		if (cg_rng_pct(r, 85)) {
			s->src[0] = 0xfe;
			s->src[1] = 0x80;
			s->src[15] = (uint8_t)cg_rng_below(r, 8);
		}
	} else if (cg_rng_pct(r, 30)) {
		bound_host(r, g->p, 6, s->src);
	}
	if (cg_rng_pct(r, 40)) {
		memset(s->dst, 0, 16);
		s->dst[0] = 0xff;
		s->dst[1] = cg_rng_pct(r, 85) ? 0x02 : 0x05;
		s->dst[15] = (uint8_t)cg_rng_below(r, 3);
	} else if (cg_rng_pct(r, 20)) {
		memset(s->dst, 0, 16);
		s->dst[0] = 0xfe;
		s->dst[1] = 0x80;
		s->dst[15] = 1;
	}
	s->ttl = cg_rng_pct(r, 90) ? 255 : 64;

	n = fixed[t - 133];
	memset(payload, 0, n);
	if (t >= 135) {
		if (!bound_host(r, g->p, 6, tgt) || cg_rng_pct(r, 30))
			memcpy(tgt, cg_rng_pct(r, 50) ? s->src : s->dst, 16);
		memcpy(payload, tgt, 16);
		if (t == 137)
			memcpy(payload + 16, tgt, 16);
	}
	if (cg_rng_pct(r, 5))
		n = cg_rng_below(r, (uint32_t)n + 1); /* cut short */
	opts = cg_rng_below(r, 4);
	for (i = 0; i < opts && n + 16 <= 200; i++) {
		uint8_t type = cg_rng_pct(r, 80) ? (uint8_t)rng_range(r, 1, 2)
						 : (uint8_t)rng_range(r, 3, 25);
		uint8_t len =
			cg_rng_pct(r, 90) ? 1 : (uint8_t)cg_rng_below(r, 3);
		uint32_t k = cg_rng_below(r, 100);

		if (k < 40)
			station_mac(6, s->src, mac);
		else if (k < 80)
			station_mac(6, tgt, mac);
		else
			for (k = 0; k < 6; k++)
				mac[k] = (uint8_t)cg_rng_next(r);
		memset(payload + n, 0, 16);
		payload[n] = type;
		payload[n + 1] = len;
		memcpy(payload + n + 2, mac, 6);
		n += len ? (size_t)len * 8 : 8;
	}
	if (n >= 8 && cg_rng_pct(r, 5))
		n -= cg_rng_below(r, 4); /* an option past the end */
	return n;
}

static void add_pfx(struct cg_gen_frames *g, const struct cg_prefix *p)
{
	g->pfx = realloc(g->pfx, (g->n_pfx + 1) * sizeof(*g->pfx));
	if (!g->pfx)
		abort();
	g->pfx[g->n_pfx++] = *p;
}

static void add_port(struct cg_gen_frames *g, long port)
{
	if (port < 0 || port > 65535)
		return;
	g->ports = realloc(g->ports, (g->n_ports + 1) * sizeof(*g->ports));
	if (!g->ports)
		abort();
	g->ports[g->n_ports++] = (uint16_t)port;
}

struct cg_gen_frames *cg_gen_frames_new(const struct cg_policy *p)
{
	struct cg_gen_frames *g = calloc(1, sizeof(*g));
	size_t z, n, f, i;

	if (!g)
		return NULL;
	g->p = p;
	for (z = 0; z < p->n_zones; z++)
		for (n = 0; n < p->zones[z].n_nets; n++)
			add_pfx(g, &p->zones[z].nets[n].prefix);
	for (n = 0; n < p->n_hosts; n++)
		add_pfx(g, &p->hosts[n].addr);
	for (f = 0; f < p->n_flows; f++) {
		const struct cg_flow *fl = &p->flows[f];

		for (i = 0; i < fl->n_from; i++)
			if (fl->from[i].kind == CG_REF_CIDR)
				add_pfx(g, &fl->from[i].cidr);
		for (i = 0; i < fl->n_to; i++)
			if (fl->to[i].kind == CG_REF_CIDR)
				add_pfx(g, &fl->to[i].cidr);
		for (i = 0; i < fl->n_ports; i++) {
			add_port(g, fl->ports[i].lo - 1L);
			add_port(g, fl->ports[i].lo);
			add_port(g, fl->ports[i].hi);
			add_port(g, fl->ports[i].hi + 1L);
		}
	}
	add_port(g, 502);
	add_port(g, 102);
	add_port(g, 0);
	return g;
}

void cg_gen_frames_free(struct cg_gen_frames *g)
{
	if (!g)
		return;
	free(g->pfx);
	free(g->ports);
	free(g);
}

/* The zone holding an address (most specific network), -1 if none. */
int zone_of(const struct cg_policy *p, int family, const uint8_t *addr)
{
	int zone = -1, best = -1;
	size_t z, n;

	for (z = 0; z < p->n_zones; z++)
		for (n = 0; n < p->zones[z].n_nets; n++) {
			const struct cg_prefix *pf =
				&p->zones[z].nets[n].prefix;

			if (prefix_holds(pf, family, addr) && pf->len > best) {
				best = pf->len;
				zone = (int)z;
			}
		}
	return zone;
}

static int ifname_index(const char *name)
{
	int i;

	for (i = 0; i < CG_GEN_N_IFNAMES; i++)
		if (!strcmp(cg_gen_ifnames[i], name))
			return i;
	return CG_GEN_N_IFNAMES - 1;
}

/* Where a frame from zone z arrives: one of its interfaces and VLANs. */
void zone_ingress(struct cg_rng *r, const struct cg_zone *zn,
		  const char **ifname, uint16_t *vid)
{
	*ifname = cg_gen_ifnames[ifname_index(
		zn->ifaces[cg_rng_below(r, (uint32_t)zn->n_ifaces)].name)];
	*vid = zn->n_vlans
		       ? zn->vlans[cg_rng_below(r, (uint32_t)zn->n_vlans)].id
		       : 0;
}

/* Any ingress at all: an interface of the pool and a VLAN, maybe wrong. */
void random_ingress(struct cg_rng *r, const struct cg_policy *p,
		    const char **ifname, uint16_t *vid)
{
	static const uint16_t odd[] = {1, 10, 20, 99, 100, 4094, 4095};
	uint32_t k = cg_rng_below(r, 100);

	*ifname = cg_gen_ifnames[cg_rng_below(r, CG_GEN_N_IFNAMES)];
	if (k < 40) {
		*vid = 0;
	} else if (k < 80 && p->n_zones) {
		const struct cg_zone *zn =
			&p->zones[cg_rng_below(r, (uint32_t)p->n_zones)];

		*vid = zn->n_vlans
			       ? zn->vlans[cg_rng_below(r,
							(uint32_t)zn->n_vlans)]
					 .id
			       : PICK(r, odd);
	} else {
		*vid = PICK(r, odd);
	}
}

/* The prefixes one from/to item stands for, of `family` (0 = any). */
static size_t ref_prefixes(const struct cg_policy *p, const struct cg_ref *rf,
			   int family, const struct cg_prefix **out, size_t max)
{
	size_t n = 0, k;

	switch (rf->kind) {
	case CG_REF_ZONE:
		for (k = 0; k < p->zones[rf->index].n_nets && n < max; k++) {
			const struct cg_prefix *pf =
				&p->zones[rf->index].nets[k].prefix;

			if (!family || pf->family == family)
				out[n++] = pf;
		}
		break;
	case CG_REF_HOST:
		if (!family || p->hosts[rf->index].addr.family == family)
			out[n++] = &p->hosts[rf->index].addr;
		break;
	case CG_REF_CIDR:
		if (!family || rf->cidr.family == family)
			out[n++] = &rf->cidr;
		break;
	case CG_REF_SELF: /* no prefix: the test picks hosts as self */
		break;
	}
	return n;
}

/*
 * An address from one of a flow's items; false if none has `family`.
 * `inside`: well inside the item, never at or past its edges.
 */
static bool addr_from_refs(struct cg_rng *r, const struct cg_policy *p,
			   const struct cg_ref *refs, size_t n_refs,
			   bool inside, int *family, uint8_t *out)
{
	const struct cg_prefix *cand[32];
	size_t n = 0, i;

	for (i = 0; i < n_refs && n < 32; i++)
		n += ref_prefixes(p, &refs[i], *family, cand + n, 32 - n);
	if (!n)
		return false;
	const struct cg_prefix *pf = cand[cg_rng_below(r, (uint32_t)n)];

	*family = pf->family;
	if (inside) {
		memset(out, 0, 16);
		memcpy(out, pf->addr, alen(pf->family));
		random_host_bits(r, out, pf->family, pf->len);
	} else {
		addr_from_prefix(r, pf, out);
	}
	return true;
}

static void addr_anywhere(struct cg_rng *r, struct cg_gen_frames *g,
			  int *family, uint8_t *out)
{
	uint32_t k = cg_rng_below(r, 100);
	size_t tries;

	if (k < 85 && g->n_pfx) {
		for (tries = 0; tries < 16; tries++) {
			const struct cg_prefix *pf =
				&g->pfx[cg_rng_below(r, (uint32_t)g->n_pfx)];

			if (*family && pf->family != *family)
				continue;
			*family = pf->family;
			addr_from_prefix(r, pf, out);
			return;
		}
	}
	if (!*family)
		*family = cg_rng_pct(r, 60) ? 4 : 6;
	struct cg_prefix wide;

	memset(&wide, 0, sizeof(wide));
	wide.family = (uint8_t)*family;
	if (*family == 4) {
		cg_frame_parse_addr("198.18.0.0", wide.addr);
		wide.len = k < 95 ? 15 : 0;
	} else {
		cg_frame_parse_addr("2001:2::", wide.addr);
		wide.len = k < 95 ? 48 : 0;
	}
	memset(out, 0, 16);
	memcpy(out, wide.addr, 16);
	random_host_bits(r, out, *family, wide.len);
}

uint16_t pick_dport(struct cg_rng *r, struct cg_gen_frames *g,
		    const struct cg_flow *fl)
{
	static const uint16_t common[] = {22, 53, 80, 102, 443, 502, 8080};

	if (fl && fl->n_ports && cg_rng_pct(r, 70)) {
		const struct cg_port_range *pr =
			&fl->ports[cg_rng_below(r, (uint32_t)fl->n_ports)];

		return (uint16_t)rng_range(r, pr->lo, pr->hi);
	}
	if (g->n_ports && cg_rng_pct(r, 60))
		return g->ports[cg_rng_below(r, (uint32_t)g->n_ports)];
	if (cg_rng_pct(r, 50))
		return PICK(r, common);
	return (uint16_t)cg_rng_below(r, 65536);
}

static uint16_t pick_sport(struct cg_rng *r)
{
	static const uint16_t pool[] = {1024, 40000, 40001, 502, 80, 5353};

	if (cg_rng_pct(r, 50))
		return PICK(r, pool);
	return (uint16_t)rng_range(r, 1, 65535);
}

static uint8_t pick_tcp_flags(struct cg_rng *r)
{
	uint32_t k = cg_rng_below(r, 100);

	if (k < 40)
		return CG_TCP_SYN;
	if (k < 55)
		return CG_TCP_SYN | CG_TCP_ACK;
	if (k < 75)
		return CG_TCP_ACK;
	if (k < 85)
		return CG_TCP_PSH | CG_TCP_ACK;
	if (k < 90)
		return CG_TCP_RST;
	if (k < 95)
		return CG_TCP_FIN | CG_TCP_ACK;
	return (uint8_t)cg_rng_below(r, 256);
}

static void pick_icmp(struct cg_rng *r, struct cg_frame_spec *s)
{
	static const uint8_t other4[] = {3, 5, 11, 13, 14};
	static const uint8_t other6[] = {1, 2, 3, 4, 130, 143};
	static const uint16_t ids[] = {1, 7, 0x1234};
	uint32_t k = cg_rng_below(r, 100);
	bool v6 = s->proto == 58;

	s->icmp_id = cg_rng_pct(r, 50) ? PICK(r, ids)
				       : (uint16_t)cg_rng_below(r, 65536);
	s->icmp_seq = (uint16_t)cg_rng_below(r, 100);
	if (k < 40) {
		s->icmp_type = v6 ? 128 : 8;
	} else if (k < 60) {
		s->icmp_type = v6 ? 129 : 0;
	} else if (v6 && k < 85) {
		s->icmp_type = (uint8_t)rng_range(r, 133, 137);
		s->ttl = cg_rng_pct(r, 75) ? 255
					   : (cg_rng_pct(r, 50) ? 254 : 64);
	} else {
		s->icmp_type = v6 ? PICK(r, other6) : PICK(r, other4);
		/* Multicast listener reports, as every IPv6 host sends. */
		if (v6 && (s->icmp_type == 130 || s->icmp_type == 143) &&
		    cg_rng_pct(r, 60)) {
			s->ttl = cg_rng_pct(r, 80) ? 1 : 2;
			memset(s->src, 0, 16);
			if (cg_rng_pct(r, 75)) {
				s->src[0] = 0xfe;
				s->src[1] = cg_rng_pct(r, 90) ? 0x80 : 0xc0;
				s->src[15] = (uint8_t)cg_rng_below(r, 256);
			}
		}
	}
	if (cg_rng_pct(r, 3))
		s->icmp_type = (uint8_t)cg_rng_below(r, 256);
}

/* 1-3 extension headers, sometimes 7-10; see the README's step 4. */
static void add_ext_chain(struct cg_rng *r, struct cg_frame_spec *s)
{
	static const uint8_t types[] = {0, 60, 43, 51, 44, 60, 0};
	static const uint8_t routing_types[] = {0, 2, 4};
	bool long_chain = cg_rng_pct(r, 15);
	size_t n = long_chain ? rng_range(r, 7, 10) : rng_range(r, 1, 3), i;

	for (i = 0; i < n && s->n_ext < CG_FRAME_MAX_EXT; i++) {
		struct cg_frame_ext *e = &s->ext[s->n_ext++];

		memset(e, 0, sizeof(*e));
		e->type = PICK(r, types);
		if (cg_rng_pct(r, 30))
			e->len = (uint8_t)cg_rng_below(r, 3);
		if (e->type == 51)
			e->len = (uint8_t)rng_range(r, 1, 4);
		if (e->type == 43) {
			e->routing_type = PICK(r, routing_types);
			if (cg_rng_pct(r, 35))
				e->segs_left = (uint8_t)rng_range(r, 1, 5);
		}
		if (e->type == 44) {
			if (cg_rng_pct(r, 45))
				e->frag_off = (uint16_t)rng_range(r, 1, 8191);
			e->frag_more = cg_rng_pct(r, 60);
			e->frag_id = (uint32_t)cg_rng_next(r);
		}
	}
}

static void shared_id_frame(struct cg_gen_frames *g, struct cg_rng *r,
			    struct cg_frame_spec *s, const char **ifname,
			    uint8_t *payload, char *what, size_t what_size)
{
	const struct hist_entry *h = &g->conv;
	int step = g->shared_step;

	*s = h->spec;
	memcpy(payload, h->payload, sizeof(h->payload));
	s->payload = payload;
	*ifname = h->ifname;
	s->n_ext = 0;
	s->ip4_mf = false;
	s->ip4_frag_off = 0;
	s->no_l4 = step == 3;
	s->tcp_flags = CG_TCP_PSH | CG_TCP_ACK;
	if (step == 1) {
		s->dport = pick_dport(r, g, NULL);
		s->payload_len = 8;
	}
	if (step == 3)
		s->payload_len = 16;
	if (s->family == 4) {
		s->ip_id = 4242;
		s->ip4_mf = step < 3;
		s->ip4_frag_off = step == 3 ? 3 : 0;
	} else {
		memset(&s->ext[0], 0, sizeof(s->ext[0]) * 2);
		s->n_ext = 1;
		s->ext[0].type = 44;
		s->ext[0].frag_id = 4242;
		s->ext[0].frag_more = step < 3;
		s->ext[0].frag_off = step == 3 ? 3 : 0;
		if (g->shared_dstopts) {
			s->n_ext = 2;
			s->ext[1].type = 60;
		}
	}
	snprintf(what, what_size, "shared id step %d%s", step,
		 g->shared_dstopts ? " (dstopts)" : "");
	g->shared_step = step == 3 ? 0 : step + 1;
}

/* A fresh frame, not related to earlier ones. */
static void fresh_frame(struct cg_gen_frames *g, struct cg_rng *r,
			struct cg_frame_spec *s, const char **ifname,
			uint8_t *payload, char *what, size_t what_size)
{
	static const uint16_t other_types[] = {0x88cc, 0x8847, 0x0842, 0x9100,
					       0x8035, 0x0600, 0x0100, 0x88e3};
	static const uint8_t other_protos[] = {47, 50, 132, 59,	 0, 43,
					       44, 60, 51,  255, 4, 41};
	const struct cg_policy *p = g->p;
	const struct cg_flow *fl = NULL;
	uint32_t kind = cg_rng_below(r, 100);
	int family = 0, zone;
	uint16_t vid = 0;
	size_t i;

	cg_frame_init(s);
	s->src_mac[5] = (uint8_t)cg_rng_below(r, 8); /* a small pool */
	s->src_mac[4] = 1;

	/*
	 * Addresses: along a flow (both ends), or anywhere interesting. Most
	 * frames along an ICS flow are a clean start of a conversation that
	 * later frames continue (see ics_sequel): inside the flow's ends, on
	 * the source's own ingress, from its own station.
	 */
	if (p->n_flows && cg_rng_pct(r, 50)) {
		fl = &p->flows[cg_rng_below(r, (uint32_t)p->n_flows)];
		g->ics_clean = gen_flow_has_ics(fl) && cg_rng_pct(r, 60);
		if (!addr_from_refs(r, p, fl->from, fl->n_from, g->ics_clean,
				    &family, s->src))
			addr_anywhere(r, g, &family, s->src);
		if (!addr_from_refs(r, p, fl->to, fl->n_to, g->ics_clean,
				    &family, s->dst))
			addr_anywhere(r, g, &family, s->dst);
	} else {
		addr_anywhere(r, g, &family, s->src);
		addr_anywhere(r, g, &family, s->dst);
	}
	s->family = family;

	/* Ingress: mostly the source's own zone. */
	zone = zone_of(p, family, s->src);
	if (zone >= 0 && (g->ics_clean || cg_rng_pct(r, 80)))
		zone_ingress(r, &p->zones[zone], ifname, &vid);
	else if (p->n_zones && cg_rng_pct(r, 60))
		zone_ingress(r,
			     &p->zones[cg_rng_below(r, (uint32_t)p->n_zones)],
			     ifname, &vid);
	else
		random_ingress(r, p, ifname, &vid);

	if (vid) {
		s->n_tags = 1;
		s->tags[0].tpid = cg_rng_pct(r, 85) ? 0x8100 : 0x88a8;
		s->tags[0].tci = (uint16_t)(vid | cg_rng_below(r, 16) << 12);
	} else if (cg_rng_pct(r, 8)) {
		s->n_tags = 1; /* priority tag */
		s->tags[0].tci = (uint16_t)(cg_rng_below(r, 8) << 13);
	}
	if (!g->ics_clean && cg_rng_pct(r, 3)) {
		s->tags[s->n_tags].tpid = cg_rng_pct(r, 50) ? 0x8100 : 0x88a8;
		s->tags[s->n_tags].tci = (uint16_t)cg_rng_below(r, 4096);
		s->n_tags++;
	}

	if (kind < 5) {
		s->kind = CG_FRAME_ARP;
		if (family != 4)
			cg_frame_parse_addr("198.18.0.1", s->src);
		s->family = 4;
		s->arp_op = (uint16_t)rng_range(r, 1, 2);
		/* Bound senders, hardware type 1 or 6 (both taken by Linux
		 * on Ethernet), a sender MAC that is not the frame's. */
		if (cg_rng_pct(r, 40)) {
			bound_host(r, p, 4, s->src);
			zone = zone_of(p, 4, s->src);
			if (zone >= 0) {
				vid = 0;
				zone_ingress(r, &p->zones[zone], ifname, &vid);
				s->n_tags = vid ? 1 : 0;
				s->tags[0].tpid = 0x8100;
				s->tags[0].tci = vid;
			}
		}
		g->arp_hrd = cg_rng_pct(r, 30) ? 6 : 1;
		g->arp_sha_other = cg_rng_pct(r, 10);
		snprintf(what, what_size, "arp hrd %u%s", g->arp_hrd,
			 g->arp_sha_other ? " sha other" : "");
		return;
	}
	if (kind < 8) {
		s->kind = CG_FRAME_RAW;
		s->ethertype = PICK(r, other_types);
		s->payload_len = cg_rng_below(r, 48);
		for (i = 0; i < s->payload_len; i++)
			payload[i] = (uint8_t)cg_rng_next(r);
		s->payload = payload;
		snprintf(what, what_size, "ethertype %#06x", s->ethertype);
		return;
	}

	/* Protocol. */
	if (fl && fl->proto != CG_P_ANY && cg_rng_pct(r, 85)) {
		static const uint8_t num[] = {[CG_P_TCP] = 6,
					      [CG_P_UDP] = 17,
					      [CG_P_ICMP] = 1,
					      [CG_P_ICMPV6] = 58};
		s->proto = num[fl->proto];
	} else {
		uint32_t k = cg_rng_below(r, 100);

		if (k < 40)
			s->proto = 6;
		else if (k < 65)
			s->proto = 17;
		else if (k < 85)
			s->proto = family == 4 ? 1 : 58;
		else if (k < 90)
			s->proto = family == 4 ? 58 : 1;
		else
			s->proto = PICK(r, other_protos);
	}
	s->sport = pick_sport(r);
	if (fl && gen_flow_has_ics(fl) && (g->ics_clean || cg_rng_pct(r, 75))) {
		ics_fresh(g, r, fl, s, payload, what, what_size);
		return;
	}
	s->dport = pick_dport(r, g, fl);
	s->tcp_flags = pick_tcp_flags(r);
	s->tcp_seq = (uint32_t)cg_rng_next(r);
	if (cg_rng_pct(r, 10))
		s->tcp_opts_len = (uint8_t)(4 * rng_range(r, 1, 10));
	if (s->proto == 1 || s->proto == 58)
		pick_icmp(r, s);
	if (cg_rng_pct(r, 5))
		s->ttl = (uint8_t)cg_rng_below(r, 256);

	/* IP options, extension headers, fragments. */
	if (family == 4 && cg_rng_pct(r, 6))
		s->ip4_opts_len = (uint8_t)(4 * rng_range(r, 1, 10));
	if (family == 6 && cg_rng_pct(r, 20))
		add_ext_chain(r, s);
	if (cg_rng_pct(r, 10)) {
		bool first = cg_rng_pct(r, 40);

		if (family == 4) {
			s->ip4_mf = first || cg_rng_pct(r, 50);
			s->ip4_frag_off =
				(uint16_t)(first ? 0 : rng_range(r, 1, 8191));
			s->ip_id = (uint16_t)frag_id(r);
		} else if (s->n_ext < CG_FRAME_MAX_EXT) {
			struct cg_frame_ext *e = &s->ext[s->n_ext++];

			memset(e, 0, sizeof(*e));
			e->type = 44;
			e->frag_off =
				(uint16_t)(first ? 0 : rng_range(r, 1, 8191));
			e->frag_more = first || cg_rng_pct(r, 50);
			e->frag_id = frag_id(r);
			/* Fragment, then destination options (RFC 8200). */
			if (first && s->n_ext < CG_FRAME_MAX_EXT &&
			    cg_rng_pct(r, 20)) {
				e = &s->ext[s->n_ext++];
				memset(e, 0, sizeof(*e));
				e->type = 60;
			}
		}
		if (!first && cg_rng_pct(r, 50))
			s->no_l4 = true;
	}

	s->payload_len =
		cg_rng_pct(r, 60) ? cg_rng_below(r, 17) : cg_rng_below(r, 64);
	for (i = 0; i < s->payload_len; i++)
		payload[i] = (uint8_t)cg_rng_next(r);
	s->payload = payload;
	if (s->proto == 58 && family == 6 && s->icmp_type >= 133 &&
	    s->icmp_type <= 137 && !s->no_l4 && cg_rng_pct(r, 85)) {
		s->payload_len = nd_message(g, r, s, payload);
		snprintf(what, what_size, "nd %u", s->icmp_type);
		return;
	}
	if (cg_rng_pct(r, 30))
		s->pad_to = 60;

	snprintf(what, what_size, "fresh%s proto %u", fl ? " along a flow" : "",
		 s->proto);
}

/* A frame that follows an earlier one: its reply, a reverse SYN, or more. */
static void sequel_frame(struct cg_gen_frames *g, struct cg_rng *r,
			 const struct hist_entry *h, struct cg_frame_spec *s,
			 const char **ifname, uint8_t *payload, char *what,
			 size_t what_size)
{
	uint32_t k = cg_rng_below(r, 100);
	uint16_t vid = 0;
	int zone;

	*s = h->spec;
	memcpy(payload, h->payload, sizeof(h->payload));
	s->payload = payload;
	s->ip4_mf = false;
	s->ip4_frag_off = 0;
	s->no_l4 = false;
	if (cg_rng_pct(r, 80))
		s->n_ext = 0;

	if (k >= 8 && k < 14 && s->kind == CG_FRAME_IP && h->spec.n_tags < 2 &&
	    !h->spec.ip4_frag_off) {
		/*
		 * An ICMP error about that packet, back to its sender: from
		 * its destination (or a router by it), quoting its IP header
		 * and 8 bytes of what follows.
		 */
		static uint8_t quote[CG_FRAME_MAX];
		struct cg_frame_spec q = h->spec;
		struct cg_frame_layout lay;
		size_t n;
		int zone;

		q.payload = h->payload;
		n = cg_frame_build_layout(&q, quote, sizeof(quote), &lay);
		if (n > lay.l3_off && n - lay.l3_off >= 28) {
			size_t qlen = lay.l4_off - lay.l3_off + 8;

			if (qlen > n - lay.l3_off)
				qlen = n - lay.l3_off;
			if (cg_rng_pct(r, 20) && qlen > 20)
				qlen -= cg_rng_below(r, 8) + 1;
			cg_frame_init(s);
			s->family = h->spec.family;
			memcpy(s->src, h->spec.dst, 16);
			memcpy(s->dst, h->spec.src, 16);
			if (cg_rng_pct(r, 20))
				s->src[s->family == 4 ? 3 : 15] ^= 1;
			s->proto = s->family == 4 ? 1 : 58;
			s->icmp_type = s->family == 4
					       ? (cg_rng_pct(r, 70) ? 3 : 11)
					       : (uint8_t)rng_range(r, 1, 4);
			memcpy(payload, quote + lay.l3_off,
			       qlen < 64 ? qlen : 64);
			s->payload = payload;
			s->payload_len = qlen < 64 ? qlen : 64;
			zone = zone_of(g->p, s->family, s->src);
			vid = 0;
			if (zone >= 0)
				zone_ingress(r, &g->p->zones[zone], ifname,
					     &vid);
			else
				random_ingress(r, g->p, ifname, &vid);
			if (vid) {
				s->n_tags = 1;
				s->tags[0].tpid = 0x8100;
				s->tags[0].tci = vid;
			}
			snprintf(what, what_size, "icmp error about proto %u",
				 q.proto);
			return;
		}
	}
	if (k < 8 && s->kind == CG_FRAME_IP) {
		/* The next fragment of the same datagram (a train). */
		*ifname = h->ifname;
		if (s->family == 4) {
			s->ip4_frag_off = (uint16_t)rng_range(r, 1, 200);
			s->ip4_mf = cg_rng_pct(r, 50);
			s->ip_id = h->spec.ip_id;
		} else {
			uint32_t id = (uint32_t)cg_rng_next(r);
			size_t i;

			uint8_t after = 0;

			for (i = 0; i < h->spec.n_ext; i++)
				if (h->spec.ext[i].type == 44) {
					id = h->spec.ext[i].frag_id;
					if (i + 1 < h->spec.n_ext)
						after = h->spec.ext[i + 1].type;
				}
			memset(&s->ext[0], 0, sizeof(s->ext[0]) * 2);
			s->n_ext = 1;
			/* The fragment header names what its first did. */
			if (after && cg_rng_pct(r, 80)) {
				s->n_ext = 2;
				s->ext[1].type = after;
			}
			s->ext[0].type = 44;
			s->ext[0].frag_off = (uint16_t)rng_range(r, 1, 200);
			s->ext[0].frag_more = cg_rng_pct(r, 50);
			s->ext[0].frag_id = id;
		}
		s->no_l4 = true;
		snprintf(what, what_size, "next fragment proto %u", s->proto);
		return;
	}
	if (k < 25) {
		/* The same direction again: established traffic. */
		*ifname = h->ifname;
		if (s->proto == 6)
			s->tcp_flags = cg_rng_pct(r, 70)
					       ? CG_TCP_ACK
					       : CG_TCP_PSH | CG_TCP_ACK;
		snprintf(what, what_size, "repeat proto %u", s->proto);
		return;
	}

	/* The other direction: swap addresses, ports and MACs. */
	swap_ends(s);

	if (k < 80) {
		if (s->proto == 6)
			s->tcp_flags = h->spec.tcp_flags == CG_TCP_SYN
					       ? CG_TCP_SYN | CG_TCP_ACK
					       : CG_TCP_ACK;
		if (s->icmp_type == 8 || s->icmp_type == 128)
			s->icmp_type = s->icmp_type == 8 ? 0 : 129;
		snprintf(what, what_size, "reply proto %u", s->proto);
	} else {
		if (s->proto == 6)
			s->tcp_flags = CG_TCP_SYN;
		if (s->icmp_type == 0 || s->icmp_type == 129)
			s->icmp_type = s->icmp_type == 0 ? 8 : 128;
		snprintf(what, what_size, "reverse open proto %u", s->proto);
	}

	zone = zone_of(g->p, s->family, s->src);
	s->n_tags = 0;
	if (zone >= 0 && cg_rng_pct(r, 90))
		zone_ingress(r, &g->p->zones[zone], ifname, &vid);
	else
		random_ingress(r, g->p, ifname, &vid);
	if (vid) {
		s->n_tags = 1;
		s->tags[0].tpid = 0x8100;
		s->tags[0].tci = vid;
	}
}

static void remember_in(struct hist_entry *h, const struct cg_gen_frames *g,
			const struct cg_frame_spec *s, const char *ifname)
{
	memmove(h->payload, s->payload,
		s->payload_len < sizeof(h->payload) ? s->payload_len
						    : sizeof(h->payload));
	h->spec = *s;
	if (h->spec.payload_len > sizeof(h->payload))
		h->spec.payload_len = sizeof(h->payload);
	h->spec.payload = h->payload;
	h->ifname = ifname;
	h->ics = g->ics;
	h->ics_response = g->ics_response;
}

static void remember(struct cg_gen_frames *g, const struct cg_frame_spec *s,
		     const char *ifname)
{
	remember_in(&g->hist[g->next_hist], g, s, ifname);
	if (g->ics != GEN_ICS_NONE && g->ics_clean) {
		remember_in(&g->conv, g, s, ifname);
		g->has_conv = true;
	}
	g->next_hist = (g->next_hist + 1) % HIST;
	if (g->n_hist < HIST)
		g->n_hist++;
}

void cg_gen_feedback(struct cg_gen_frames *g, bool passed)
{
	if (g->has_proposed && passed)
		g->stream = g->proposed;
	g->has_proposed = false;
}

void cg_gen_frame(struct cg_gen_frames *g, struct cg_rng *r,
		  struct cg_gen_frame *out)
{
	/* Room for a stream's overlaps: old bytes, then a new payload. */
	uint8_t payload[2 * GEN_PAYLOAD_MAX];
	struct cg_frame_spec s;
	struct cg_frame_layout lay;
	const struct hist_entry *h;
	int bad_csum = 0;
	bool streamed = false;

	/* No word on the previous frame: take it as passed. */
	cg_gen_feedback(g, true);
	g->ics = GEN_ICS_NONE;
	g->ics_response = false;
	g->ics_clean = false;
	g->ics_start = false;
	g->arp_hrd = 0;
	g->arp_sha_other = false;
	if (!g->shared_step && g->has_conv && g->conv.spec.proto == 6 &&
	    cg_rng_pct(r, 2)) {
		g->shared_step = 1;
		g->shared_dstopts = cg_rng_pct(r, 50);
	}
	if (g->shared_step) {
		shared_id_frame(g, r, &s, &out->ifname, payload, out->what,
				sizeof(out->what));
	} else if (g->stream.active && cg_rng_pct(r, 35)) {
		stream_frame(g, r, &s, &out->ifname, payload, out->what,
			     sizeof(out->what), &bad_csum);
		streamed = true;
	} else if (g->has_conv && cg_rng_pct(r, 20)) {
		ics_sequel(g, r, &g->conv, &s, &out->ifname, payload, out->what,
			   sizeof(out->what));
		g->ics_clean = true;
	} else if (g->n_hist && cg_rng_pct(r, 25)) {
		h = &g->hist[cg_rng_below(r, (uint32_t)g->n_hist)];
		if (h->ics != GEN_ICS_NONE && cg_rng_pct(r, 70))
			ics_sequel(g, r, h, &s, &out->ifname, payload,
				   out->what, sizeof(out->what));
		else
			sequel_frame(g, r, h, &s, &out->ifname, payload,
				     out->what, sizeof(out->what));
	} else
		fresh_frame(g, r, &s, &out->ifname, payload, out->what,
			    sizeof(out->what));

	/*
	 * Stations: most frames carry their host's own MAC (derived from the
	 * source address, so replies and repeats agree); some carry one of
	 * a small pool shared across zones, which the MAC table must catch.
	 */
	if ((s.kind == CG_FRAME_IP || s.kind == CG_FRAME_ARP) &&
	    (g->ics_clean || !cg_rng_pct(r, 6))) {
		size_t n = s.family == 4 ? 4 : 16;

		s.src_mac[0] = 0x02;
		s.src_mac[1] = 0x01;
		memcpy(s.src_mac + 2, s.src + n - 4, 4);
	}

	out->len = cg_frame_build_layout(&s, out->buf, sizeof(out->buf), &lay);
	if (!out->len) {
		/* Cannot happen with the specs above; keep going anyway. */
		memset(out->buf, 0, 60);
		out->len = 60;
		snprintf(out->what, sizeof(out->what), "zero frame");
		return;
	}
	if (s.kind == CG_FRAME_ARP && g->arp_hrd &&
	    out->len >= lay.l3_off + 28) {
		out->buf[lay.l3_off + 1] = g->arp_hrd;
		if (g->arp_sha_other)
			out->buf[lay.l3_off + 13] ^= 0x5a;
	}
	if (bad_csum == 1 && s.proto == 6 && lay.l4_off + 18 <= out->len)
		out->buf[lay.l4_off + 16 + cg_rng_below(r, 2)] ^=
			(uint8_t)rng_range(r, 1, 255);
	if (bad_csum == 2 && s.family == 4 && lay.l3_off + 12 <= out->len)
		out->buf[lay.l3_off + 10 + cg_rng_below(r, 2)] ^=
			(uint8_t)rng_range(r, 1, 255);
	/*
	 * A clean SYN along an inspected flow starts a stream (if it
	 * passes); a clean request, one picked up without its SYN.
	 */
	if (g->ics_start && g->ics_clean && s.proto == 6 && !s.ip4_mf &&
	    !s.n_ext && cg_rng_pct(r, 60)) {
		if (s.tcp_flags & CG_TCP_SYN) {
			stream_start(&g->proposed, r, g->p, &s, out->ifname,
				     g->ics);
			g->has_proposed = true;
		} else if (cg_rng_pct(r, 30)) {
			stream_start(&g->stream, r, g->p, &s, out->ifname,
				     g->ics);
		}
	}
	if (streamed)
		return; /* its sequels are the stream's own */
	if (s.kind == CG_FRAME_IP && s.n_tags < 2)
		remember(g, &s, out->ifname);
	if (cg_rng_pct(r, 8))
		cg_gen_mutate(r, out->buf, &out->len, &lay, out->what,
			      sizeof(out->what));
}
