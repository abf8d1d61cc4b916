// SPDX-License-Identifier: GPL-2.0
/*
 * The policy parser (policy.c has the overview): names, interface names,
 * addresses and CIDRs, zones, hosts, and looking names up with a "did you
 * mean" for typos.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "policy_int.h"

/* ------------------------------------------------------------------ */
/* Names, interfaces, addresses                                        */

/* Could `s` be meant as an address or CIDR rather than a name? */
bool looks_like_address(const char *s)
{
	bool dot = false;

	if (strchr(s, ':') || strchr(s, '/'))
		return true;
	for (; *s; s++) {
		if (*s == '.')
			dot = true;
		else if (*s < '0' || *s > '9')
			return false;
	}
	return dot;
}

/* A zone, host or flow name: 1..63 of [A-Za-z0-9._-], not an address. */
bool check_name(struct pctx *c, const cg_node_t *n, const char *s,
		const char *kind, char out[CG_NAME_MAX])
{
	size_t len = strlen(s), i;

	if (!len) {
		err_at(c, npos(n), "%s name is empty", kind);
		return false;
	}
	if (len >= CG_NAME_MAX) {
		err_at(c, npos(n),
		       "%s name '%.20s...' is %zu characters long; the limit "
		       "is %d",
		       kind, s, len, CG_NAME_MAX - 1);
		return false;
	}
	for (i = 0; i < len; i++) {
		if (bidi_override(s + i)) {
			err_at(c, npos(n),
			       "%s name has the bidirectional-override "
			       "character "
			       "U+%04X; names use letters, digits, '.', '_' "
			       "and "
			       "'-'",
			       kind, bidi_override(s + i));
			return false;
		}
	}
	for (i = 0; i < len; i++) {
		char ch = s[i];

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
		    ch == '-')
			continue;
		err_at(c, npos(n),
		       "%s name '%s' has the character '%c'; names use "
		       "letters, digits, '.', '_' and '-'",
		       kind, s, ch);
		return false;
	}
	if (looks_like_address(s)) {
		err_at(c, npos(n),
		       "%s name '%s' reads as an address; use a name with a "
		       "letter in it",
		       kind, s);
		return false;
	}
	memcpy(out, s, len + 1);
	return true;
}

/* A Linux interface name (the kernel's dev_valid_name()). */
static bool check_ifname(struct pctx *c, const cg_node_t *n, const char *s)
{
	size_t len = strlen(s), i;

	if (!len) {
		err_at(c, npos(n), "interface name is empty");
		return false;
	}
	if (len >= CG_IFNAME_MAX) {
		err_at(c, npos(n),
		       "interface name '%.40s' is %zu characters long; the "
		       "limit is %d",
		       s, len, CG_IFNAME_MAX - 1);
		return false;
	}
	if (!strcmp(s, ".") || !strcmp(s, "..")) {
		err_at(c, npos(n), "'%s' is not a valid interface name", s);
		return false;
	}
	for (i = 0; i < len; i++) {
		if (s[i] == '/' || s[i] == ':' || s[i] == ' ' ||
		    (s[i] >= '\t' && s[i] <= '\r')) {
			err_at(c, npos(n),
			       "interface name '%s' has the character '%c'; "
			       "interface names have no '/', ':' or white "
			       "space",
			       s, s[i]);
			return false;
		}
	}
	return true;
}

/*
 * An address or CIDR, with a message that says what is wrong with it.
 * A bare address is a /32 or /128; host bits beyond the prefix length are
 * an error.
 */
bool parse_cidr(struct pctx *c, const cg_node_t *n, const char *s,
		struct cg_prefix *out)
{
	char fixed[INET6_ADDRSTRLEN + 8], addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	struct cg_prefix p;
	int r = cg_prefix_parse(s, &p);

	if (r == 0 && cg_prefix_v4mapped(&p)) {
		struct cg_prefix v4 = {.family = 4, .len = p.len - 96};

		memcpy(v4.addr, p.addr + 12, 4);
		cg_prefix_format(&v4, fixed, sizeof(fixed));
		if (!slash)
			*strchr(fixed, '/') = '\0';
		err_at(c, npos(n),
		       "'%.60s' is an IPv4-mapped IPv6 address, which never "
		       "matches: the gate judges IPv4 frames by their IPv4 "
		       "addresses; write %s",
		       s, fixed);
		return false;
	}
	if (r == 0) {
		*out = p;
		return true;
	}
	if (r == -EDOM) {
		cg_prefix_format(&p, fixed, sizeof(fixed));
		err_at(c, npos(n), "%s has host bits set; did you mean %s?", s,
		       fixed);
		return false;
	}
	/* Tell a bad address from a bad length. */
	if (slash && (size_t)(slash - s) < sizeof(addr)) {
		memcpy(addr, s, slash - s);
		addr[slash - s] = '\0';
		if (cg_prefix_parse(addr, &p) == 0) {
			err_at(c, npos(n),
			       "invalid prefix length in '%.60s'; expected "
			       "0..%d for %s",
			       s, p.family == 4 ? 32 : 128,
			       p.family == 4 ? "IPv4" : "IPv6");
			return false;
		}
	}
	err_at(c, npos(n),
	       "'%.60s' is not an IPv4 or IPv6 address or CIDR (such as "
	       "198.18.10.0/24 or 2001:2:0:10::/64)",
	       s);
	return false;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static bool parse_mac(struct pctx *c, const cg_node_t *n, const char *s,
		      uint8_t mac[6])
{
	int i;

	if (strlen(s) != 17)
		goto bad;
	for (i = 0; i < 6; i++) {
		int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			goto bad;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	if (mac[0] & 1) {
		err_at(c, npos(n),
		       "mac %s is a multicast address; expected a host's "
		       "unicast mac",
		       s);
		return false;
	}
	if (!(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5])) {
		err_at(c, npos(n), "mac %s is all zeros; expected a host's mac",
		       s);
		return false;
	}
	return true;
bad:
	err_at(c, npos(n),
	       "invalid mac '%.40s'; expected six hex bytes such as "
	       "02:00:00:00:20:11",
	       s);
	return false;
}

int name_pos_cmp(const void *a, const void *b)
{
	const struct name_pos *x = a, *y = b;
	int r = strcmp(x->name, y->name);

	return r ? r : pos_cmp(x->pos, y->pos);
}

/* Report and drop interfaces listed twice in a zone. */
static void dedupe_ifaces(struct pctx *c, struct cg_zone *z)
{
	struct name_pos *v;
	bool *drop;
	size_t i, k;

	v = xcalloc(c, z->n_ifaces, sizeof(*v));
	drop = xcalloc(c, z->n_ifaces, sizeof(*drop));
	if (!v || !drop)
		goto out;
	for (i = 0; i < z->n_ifaces; i++)
		v[i] = (struct name_pos){z->ifaces[i].name, z->ifaces[i].pos,
					 i};
	qsort(v, z->n_ifaces, sizeof(*v), name_pos_cmp);
	for (i = 1, k = 0; i < z->n_ifaces; i++) {
		if (strcmp(v[i].name, v[k].name)) {
			k = i;
			continue;
		}
		err_at(c, v[i].pos,
		       "duplicate interface '%s' in zone '%s' (first at %d:%d)",
		       v[i].name, z->name, v[k].pos.line, v[k].pos.col);
		drop[v[i].index] = true;
	}
	for (i = 0, k = 0; i < z->n_ifaces; i++)
		if (!drop[i])
			z->ifaces[k++] = z->ifaces[i];
	z->n_ifaces = k;
out:
	free(v);
	free(drop);
}

/* ------------------------------------------------------------------ */
/* Zones                                                               */

enum { Z_IFACES, Z_VLANS, Z_NETS, Z_N };
static const char *const zone_keys[Z_N] = {"interfaces", "vlans", "networks"};

void parse_zone(struct pctx *c, struct cg_zone *z, const struct kv *e)
{
	cg_node_t *f[Z_N], **items;
	struct cg_pos kp[Z_N];
	uint8_t seen_vlan[4096 / 8] = {0};
	long n, i, j;

	z->pos = npos(e->key);
	/* A bad name is reported and kept, cut short, for later messages. */
	if (!check_name(c, e->key, e->name, "zone", z->name))
		snprintf(z->name, sizeof(z->name), "%s", e->name);
	if (e->val->type != YAML_MAPPING_NODE) {
		char b[64];

		err_at(c, npos(e->val),
		       "expected a mapping with interfaces and networks for "
		       "zone '%s', got %s",
		       e->name, describe(e->val, b, sizeof(b)));
		return;
	}
	map_fields(c, e->val, zone_keys, Z_N, "in zone", f, kp);

	/* interfaces: required, at least one, each once. */
	if (!f[Z_IFACES]) {
		err_at(c, z->pos,
		       "missing 'interfaces' in zone '%s'; expected a list of "
		       "interface names",
		       e->name);
	} else if ((n = list_items(c, f[Z_IFACES], "a list of interface names",
				   &items)) >= 0) {
		if (n == 0)
			err_at(c, npos(f[Z_IFACES]),
			       "zone '%s' has no interfaces; expected at least "
			       "one interface name",
			       e->name);
		z->ifaces = xcalloc(c, n, sizeof(*z->ifaces));
		for (i = 0; i < n && z->ifaces; i++) {
			const char *s =
				scalar(c, items[i], "an interface name");

			if (!s || !check_ifname(c, items[i], s))
				continue;
			memcpy(z->ifaces[z->n_ifaces].name, s, strlen(s) + 1);
			z->ifaces[z->n_ifaces++].pos = npos(items[i]);
		}
		free(items);
		dedupe_ifaces(c, z);
	}

	/* vlans: optional; when present, at least one, each once. */
	if (f[Z_VLANS])
		c->zone_flags[z - c->p->zones] |= ZF_VLANS;
	if (f[Z_VLANS] && (n = list_items(c, f[Z_VLANS], "a list of vlan ids",
					  &items)) >= 0) {
		if (n == 0)
			err_at(c, npos(f[Z_VLANS]),
			       "zone '%s' has an empty vlans list; omit vlans "
			       "to make it the untagged zone of its interfaces",
			       e->name);
		z->vlans = xcalloc(c, n, sizeof(*z->vlans));
		for (i = 0; i < n && z->vlans; i++) {
			unsigned long v;

			if (!get_int(c, items[i], "vlan id", 1, 4094, false,
				     &v))
				continue;
			if (seen_vlan[v / 8] & (1u << (v % 8))) {
				for (j = 0; z->vlans[j].id != v; j++)
					;
				err_at(c, npos(items[i]),
				       "duplicate vlan %lu in zone '%s' (first "
				       "at %d:%d)",
				       v, e->name, z->vlans[j].pos.line,
				       z->vlans[j].pos.col);
				continue;
			}
			seen_vlan[v / 8] |= 1u << (v % 8);
			z->vlans[z->n_vlans].id = (uint16_t)v;
			z->vlans[z->n_vlans++].pos = npos(items[i]);
		}
		free(items);
	}

	/* networks: optional; a zone without them holds no address. */
	if (!f[Z_NETS]) {
		n = 0;
	} else if ((n = list_items(c, f[Z_NETS], "a list of networks (CIDRs)",
				   &items)) > 0) {
		z->nets = xcalloc(c, n, sizeof(*z->nets));
		for (i = 0; i < n && z->nets; i++) {
			const char *s = scalar(c, items[i], "a network (CIDR)");

			if (!s || !parse_cidr(c, items[i], s,
					      &z->nets[z->n_nets].prefix)) {
				c->zone_flags[z - c->p->zones] |= ZF_BAD_NETS;
				continue;
			}
			z->nets[z->n_nets++].pos = npos(items[i]);
		}
		free(items);
	}
	if (n < 0)
		c->zone_flags[z - c->p->zones] |= ZF_BAD_NETS;
	if (n == 0)
		warn_at(c, z->pos,
			"zone '%s' has no networks: every frame from it is "
			"spoofed-source, and flows naming it match nothing",
			e->name);
}

/* ------------------------------------------------------------------ */
/* Hosts                                                               */

enum { H_ADDR, H_MAC, H_N };
static const char *const host_keys[H_N] = {"address", "mac"};

void parse_host(struct pctx *c, struct cg_host *h, const struct kv *e)
{
	cg_node_t *f[H_N], *addr;
	struct cg_pos kp[H_N];
	const char *s;

	h->pos = npos(e->key);
	if (!check_name(c, e->key, e->name, "host", h->name))
		snprintf(h->name, sizeof(h->name), "%s", e->name);
	h->addr.family = 0;
	if (e->val->type == YAML_SCALAR_NODE && !is_null(e->val)) {
		addr = e->val;
		f[H_MAC] = NULL;
	} else if (e->val->type == YAML_MAPPING_NODE) {
		map_fields(c, e->val, host_keys, H_N, "in host", f, kp);
		addr = f[H_ADDR];
		if (!addr)
			err_at(c, h->pos,
			       "missing 'address' in host '%s'; expected an "
			       "address or CIDR",
			       e->name);
	} else {
		char b[64];

		err_at(c, npos(e->val),
		       "expected an address or a mapping with address and mac "
		       "for host '%s', got %s",
		       e->name, describe(e->val, b, sizeof(b)));
		return;
	}
	if (addr && (s = scalar(c, addr, "an address or CIDR")))
		parse_cidr(c, addr, s, &h->addr);
	if (f[H_MAC] && (s = scalar(c, f[H_MAC], "a mac address")) &&
	    parse_mac(c, f[H_MAC], s, h->mac)) {
		h->has_mac = true;
		if (h->addr.family &&
		    h->addr.len != (h->addr.family == 4 ? 32 : 128))
			err_at(c, npos(f[H_MAC]),
			       "host '%s' has a mac but its address is a "
			       "prefix; a mac belongs to one address",
			       e->name);
	}
}

/* ------------------------------------------------------------------ */
/* Name lookup                                                         */

static int name_cmp(const void *a, const void *b)
{
	const struct name_ent *x = a, *y = b;
	int r = strcmp(x->name, y->name);

	if (r)
		return r;
	if (x->kind != y->kind)
		return x->kind == CG_REF_ZONE ? -1 : 1;
	return pos_cmp(x->pos, y->pos);
}

/*
 * Zones and hosts share one namespace: index both, sorted, and report a
 * host that takes a zone's name. Raw YAML names are indexed (even invalid
 * ones, which were reported) so that references to them do not add a
 * second message.
 */
void build_names(struct pctx *c, struct kv *zones, size_t nz, struct kv *hosts,
		 size_t nh)
{
	size_t i, k;

	c->names = xcalloc(c, nz + nh, sizeof(*c->names));
	if (!c->names)
		return;
	for (i = 0; i < nz && i < c->p->n_zones; i++)
		c->names[c->n_names++] = (struct name_ent){
			zones[i].name, CG_REF_ZONE, i, npos(zones[i].key)};
	for (i = 0; i < nh && i < c->p->n_hosts; i++)
		c->names[c->n_names++] = (struct name_ent){
			hosts[i].name, CG_REF_HOST, i, npos(hosts[i].key)};
	/* `self` names the gateway in flows: no zone or host may take it. */
	for (i = 0; i < c->n_names; i++)
		if (!strcmp(c->names[i].name, "self"))
			err_at(c, c->names[i].pos,
			       "'self' is reserved: in a flow it names the "
			       "gateway's own addresses; give this %s another "
			       "name",
			       c->names[i].kind == CG_REF_ZONE ? "zone"
							       : "host");
	qsort(c->names, c->n_names, sizeof(*c->names), name_cmp);
	for (i = 1, k = 0; i < c->n_names; i++) {
		if (strcmp(c->names[i].name, c->names[k].name)) {
			c->names[++k] = c->names[i];
			continue;
		}
		/* Same name: a zone sorts first, so this one is a host. */
		err_at(c, c->names[i].pos,
		       "host '%s' has the name of zone '%s' (%d:%d); zones and "
		       "hosts share one namespace",
		       c->names[i].name, c->names[k].name, c->names[k].pos.line,
		       c->names[k].pos.col);
	}
	if (c->n_names)
		c->n_names = k + 1;
}

static int name_key_cmp(const void *a, const void *b)
{
	return strcmp(((const struct name_ent *)a)->name,
		      ((const struct name_ent *)b)->name);
}

const struct name_ent *lookup(struct pctx *c, const char *s)
{
	struct name_ent key = {.name = s};

	if (!c->n_names)
		return NULL;
	return bsearch(&key, c->names, c->n_names, sizeof(key), name_key_cmp);
}

/* Levenshtein distance of two names, for "did you mean" hints. */
static int edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	int row[CG_NAME_MAX + 1];

	if (la >= CG_NAME_MAX || lb >= CG_NAME_MAX)
		return INT_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (i = 1; i <= la; i++) {
		int prev = row[0];

		row[0] = (int)i;
		for (j = 1; j <= lb; j++) {
			int t = row[j], best = prev + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = t;
		}
	}
	return row[lb];
}

/* The closest known name to `s`, if it is close enough to be a typo. */
const char *suggest(struct pctx *c, const char *s)
{
	const char *best = NULL;
	int best_d = INT_MAX, limit;
	size_t i, len = strlen(s);

	limit = len < 2 ? 0 : len < 4 ? 1 : len < 9 ? 2 : 3;
	/* Bounded work however many names and typos a file has. */
	if (c->n_names > 10000 || ++c->n_suggest > 100)
		return NULL;
	for (i = 0; i < c->n_names; i++) {
		int dist = edit_distance(s, c->names[i].name);

		if (dist < best_d) {
			best_d = dist;
			best = c->names[i].name;
		}
	}
	return best_d <= limit ? best : NULL;
}
