// SPDX-License-Identifier: GPL-2.0
/*
 * The gateway's own addresses (see self.h and README "The gateway
 * itself").
 */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <bpf/bpf.h>

#include "cranegate.h"
#include "compile.h"
#include "self.h"

void cg_self_set_free(struct cg_self_set *s)
{
	if (!s)
		return;
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static bool named(char (*ifnames)[CG_IFNAME_MAX], size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strncmp(ifnames[i], name, CG_IFNAME_MAX))
			return true;
	return false;
}

int cg_self_learn(char (*ifnames)[CG_IFNAME_MAX], size_t n,
		  struct cg_self_set *out)
{
	struct ifaddrs *ifa, *i;
	size_t cap = 0;

	out->v = NULL;
	out->n = 0;
	if (getifaddrs(&ifa))
		return -errno;
	for (i = ifa; i; i = i->ifa_next) {
		struct cg_self_addr a = {};

		if (!i->ifa_addr || !i->ifa_name ||
		    !named(ifnames, n, i->ifa_name))
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			a.family = 4;
			memcpy(a.addr,
			       &((struct sockaddr_in *)i->ifa_addr)->sin_addr,
			       4);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			a.family = 6;
			memcpy(a.addr,
			       &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr,
			       16);
		} else {
			continue;
		}
		a.ifindex = if_nametoindex(i->ifa_name);
		if (out->n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct cg_self_addr *v =
				realloc(out->v, ncap * sizeof(*v));

			if (!v) {
				freeifaddrs(ifa);
				cg_self_set_free(out);
				return -ENOMEM;
			}
			out->v = v;
			cap = ncap;
		}
		out->v[out->n++] = a;
	}
	freeifaddrs(ifa);
	return 0;
}

static bool set_has(const struct cg_self_set *s, int family, const void *key)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].family == family &&
		    !memcmp(s->v[i].addr, key, family == 4 ? 4 : 16))
			return true;
	return false;
}

/* Remove the entries of one map that are not in `s`. */
static int prune(int fd, int family, const struct cg_self_set *s)
{
	uint8_t key[16], next[16], gone[CG_SELF_MAX][16];
	size_t n_gone = 0, i;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, next)) {
		if (!set_has(s, family, next) && n_gone < CG_SELF_MAX)
			memcpy(gone[n_gone++], next, 16);
		memcpy(key, next, 16);
		prev = key;
	}
	for (i = 0; i < n_gone; i++)
		if (bpf_map_delete_elem(fd, gone[i]) && errno != ENOENT)
			return -errno;
	return 0;
}

/* The filter's bit of an address of the set (see cg_self_filter_bit). */
static uint32_t filter_bit(const struct cg_self_addr *a)
{
	uint32_t w[4] = {0};

	memcpy(w, a->addr, a->family == 4 ? 4 : 16);
	return cg_self_filter_bit(w[0] ^ w[1] ^ w[2] ^ w[3], a->family);
}

int cg_self_fill(int fd4, int fd6, int fdf, const struct cg_self_set *s)
{
	static struct cg_self_filter nf, cur;
	uint32_t zero = 0;
	size_t i, j;
	int err;

	/* The filter: the new set's bits added before the maps change (it
	 * never misses an address they hold), made exact after. */
	memset(&nf, 0, sizeof(nf));
	for (i = 0; i < s->n; i++) {
		uint32_t bit = filter_bit(&s->v[i]);

		nf.w[bit / 64] |= 1ull << (bit % 64);
	}
	if (fdf >= 0) {
		if (bpf_map_lookup_elem(fdf, &zero, &cur))
			return -errno;
		for (j = 0; j < CG_SELF_FILTER_WORDS; j++)
			cur.w[j] |= nf.w[j];
		if (bpf_map_update_elem(fdf, &zero, &cur, BPF_ANY))
			return -errno;
	}
	for (i = 0; i < s->n; i++) {
		struct cg_self_val v = {.ifindex = s->v[i].ifindex};
		int fd = s->v[i].family == 4 ? fd4 : fd6;

		if (bpf_map_update_elem(fd, s->v[i].addr, &v, BPF_ANY))
			return errno == E2BIG ? -E2BIG : -errno;
	}
	if ((err = prune(fd4, 4, s)) || (err = prune(fd6, 6, s)))
		return err;
	if (fdf >= 0 && bpf_map_update_elem(fdf, &zero, &nf, BPF_ANY))
		return -errno;
	return 0;
}

int cg_self_watch_open(void)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
			NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	sa.nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int cg_self_watch_drain(int fd)
{
	char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	int changed = 0;

	for (;;) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (len < 0) {
			if (errno == ENOBUFS) { /* lost some: refresh */
				changed = 1;
				continue;
			}
			return changed;
		}
		if (len == 0)
			return changed;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len);
		     h = NLMSG_NEXT(h, len))
			if (h->nlmsg_type == RTM_NEWADDR ||
			    h->nlmsg_type == RTM_DELADDR)
				changed = 1;
	}
}

bool cg_policy_reaches_self(const struct cg_policy *p)
{
	size_t i, j;

	for (i = 0; i < p->n_flows; i++)
		for (j = 0; j < p->flows[i].n_to; j++)
			if (p->flows[i].to[j].kind == CG_REF_SELF)
				return true;
	return false;
}

/* Does a flow's list hold the address (a zone's network, a host, a CIDR)? */
static bool refs_hold_addr(const struct cg_policy *p, const struct cg_ref *r,
			   size_t n, const struct cg_prefix *a)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		switch (r[i].kind) {
		case CG_REF_ZONE:
			for (k = 0; k < p->zones[r[i].index].n_nets; k++)
				if (cg_prefix_contains(&p->zones[r[i].index]
								.nets[k]
								.prefix,
						       a))
					return true;
			break;
		case CG_REF_HOST:
			if (cg_prefix_contains(&p->hosts[r[i].index].addr, a))
				return true;
			break;
		case CG_REF_CIDR:
			if (cg_prefix_contains(&r[i].cidr, a))
				return true;
			break;
		case CG_REF_SELF:
			break;
		}
	}
	return false;
}

static bool has_self(const struct cg_ref *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (r[i].kind == CG_REF_SELF)
			return true;
	return false;
}

static bool flow_port(const struct cg_flow *f, unsigned port)
{
	size_t i;

	if (!f->n_ports)
		return true;
	for (i = 0; i < f->n_ports; i++)
		if (f->ports[i].lo <= port && port <= f->ports[i].hi)
			return true;
	return false;
}

int cg_self_ssh_cut(const struct cg_policy *p, const struct cg_compiled *c,
		    const char *ssh_connection, char *why, size_t len)
{
	char client[64], server[64], zone[CG_NAME_MAX] = "";
	unsigned cport, sport;
	struct cg_prefix ca, sa;
	struct cg_self_set s;
	bool ours;
	size_t i, k;
	int err;

	if (!ssh_connection ||
	    sscanf(ssh_connection, "%63s %u %63s %u", client, &cport, server,
		   &sport) != 4 ||
	    sport > 65535 || cg_prefix_parse(client, &ca) ||
	    cg_prefix_parse(server, &sa))
		return 0; /* not a session we can read */
	if ((err = cg_self_learn(c->ifnames, c->n_ifnames, &s)))
		return err;
	ours = set_has(&s, sa.family, sa.addr);
	cg_self_set_free(&s);
	if (!ours)
		return 0; /* not over an interface of the gate */

	for (i = 0; i < p->n_flows; i++) {
		const struct cg_flow *f = &p->flows[i];

		if ((f->proto == CG_P_TCP || f->proto == CG_P_ANY) &&
		    !f->valid.timed && has_self(f->to, f->n_to) &&
		    refs_hold_addr(p, f->from, f->n_from, &ca) &&
		    flow_port(f, sport))
			return 0;
	}
	for (i = 0; i < p->n_zones && !zone[0]; i++)
		for (k = 0; k < p->zones[i].n_nets; k++)
			if (cg_prefix_contains(&p->zones[i].nets[k].prefix,
					       &ca)) {
				snprintf(zone, sizeof(zone), "%s",
					 p->zones[i].name);
				break;
			}
	snprintf(why, len,
		 "no flow allows tcp from %s%s%s%s to self port %u, which "
		 "carries this SSH session (%s -> %s); add one, e.g.\n"
		 "  - name: ssh-to-gateway\n"
		 "    from: %s\n"
		 "    to: self\n"
		 "    proto: tcp\n"
		 "    ports: [%u]\n",
		 client, zone[0] ? " (zone '" : "", zone, zone[0] ? "')" : "",
		 sport, client, server, zone[0] ? zone : client, sport);
	return 1;
}
