// SPDX-License-Identifier: GPL-2.0
/*
 * How the gate sees the outer VLAN tag on each interface: see rxvlan.h.
 *
 * Two kernel interfaces, spoken directly: the "netdev" generic netlink
 * family (does the driver report rx metadata, and which), and the ethtool
 * ioctl (ETHTOOL_GFEATURES / ETHTOOL_SFEATURES over the "features" string
 * set) to read and change rx VLAN offload.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/ethtool.h>
#include <linux/genetlink.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "front.skel.h"
#include "rxvlan.h"

#ifndef BPF_F_XDP_DEV_BOUND_ONLY
#define BPF_F_XDP_DEV_BOUND_ONLY (1U << 6)
#endif

/* From the kernel's uapi linux/netdev.h (not in older libc headers). */
#define NETDEV_FAMILY "netdev"
#define NETDEV_CMD_DEV_GET 1
#define NETDEV_A_DEV_IFINDEX 1
#define NETDEV_A_DEV_XDP_RX_METADATA_FEATURES 5
#define NETDEV_XDP_RX_METADATA_VLAN_TAG 4

/* The ethtool feature names of rx VLAN offload (C-tag and S-tag). */
static const char *const rx_vlan_features[] = {"rx-vlan-hw-parse",
					       "rx-vlan-stag-hw-parse"};
#define N_RX_VLAN 2

#define OFFLOAD_FILE "rx-vlan-offload"

const char *cg_rx_vlan_name(enum cg_rx_vlan how)
{
	switch (how) {
	case CG_RXV_METADATA:
		return "metadata";
	case CG_RXV_FRAME:
		return "frame";
	case CG_RXV_FRAME_BY_GATE:
		return "frame (offload off by cranegate)";
	case CG_RXV_BLIND:
		return "blind";
	default:
		return "unknown";
	}
}

/* ---- generic netlink: the netdev family */

struct nlreq {
	struct nlmsghdr nh;
	struct genlmsghdr gh;
	char attrs[64];
};

static void put_attr(struct nlreq *r, uint16_t type, const void *data,
		     uint16_t len)
{
	struct nlattr *a = (void *)((char *)r + NLMSG_ALIGN(r->nh.nlmsg_len));

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy((char *)a + NLA_HDRLEN, data, len);
	r->nh.nlmsg_len = NLMSG_ALIGN(r->nh.nlmsg_len) + NLA_ALIGN(a->nla_len);
}

/*
 * Send one request and find attribute `want` in the answer; copies at
 * most `len` bytes of it to `out`. 0, or a negative errno (-ENOENT: the
 * answer does not carry it).
 */
static int genl_ask(int fd, struct nlreq *r, uint16_t want, void *out,
		    size_t len)
{
	char buf[8192];
	struct nlmsghdr *nh;
	ssize_t n;

	r->nh.nlmsg_flags = NLM_F_REQUEST;
	r->nh.nlmsg_seq = 1;
	if (send(fd, r, r->nh.nlmsg_len, 0) < 0)
		return -errno;
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0)
		return -errno;
	for (nh = (void *)buf; NLMSG_OK(nh, n); nh = NLMSG_NEXT(nh, n)) {
		struct nlattr *a;
		int rest;

		if (nh->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *e = NLMSG_DATA(nh);

			return e->error ? e->error : -ENOENT;
		}
		a = (void *)((char *)NLMSG_DATA(nh) + GENL_HDRLEN);
		rest = nh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
		while (rest >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
		       a->nla_len <= rest) {
			if ((a->nla_type & NLA_TYPE_MASK) == want) {
				size_t got = a->nla_len - NLA_HDRLEN;

				memset(out, 0, len);
				memcpy(out, (char *)a + NLA_HDRLEN,
				       got < len ? got : len);
				return 0;
			}
			rest -= NLA_ALIGN(a->nla_len);
			a = (void *)((char *)a + NLA_ALIGN(a->nla_len));
		}
	}
	return -ENOENT;
}

/*
 * CRANEGATE_TEST_RX_VLAN, for the tests only (this machine has veth and
 * nothing else with rx VLAN offload): "no-metadata" makes every driver
 * look as if it did not report tags to XDP; "offload" does the same and
 * also treats a veth like a NIC, so that turning the offload off and back
 * on can be tested for real, although on a veth it does not show the tag.
 */
static const char *test_mode(void)
{
	const char *m = getenv("CRANEGATE_TEST_RX_VLAN");

	return m ? m : "";
}

bool cg_rxvlan_meta_supported(int ifindex)
{
	struct nlreq r;
	uint16_t family = 0;
	uint64_t features = 0;
	uint32_t idx = ifindex;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	bool yes = false;

	if (fd < 0)
		return false;
	if (*test_mode()) {
		close(fd);
		return false;
	}
	memset(&r, 0, sizeof(r));
	r.nh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	r.nh.nlmsg_type = GENL_ID_CTRL;
	r.gh.cmd = CTRL_CMD_GETFAMILY;
	r.gh.version = 1;
	put_attr(&r, CTRL_ATTR_FAMILY_NAME, NETDEV_FAMILY,
		 sizeof(NETDEV_FAMILY));
	if (genl_ask(fd, &r, CTRL_ATTR_FAMILY_ID, &family, sizeof(family)))
		goto out;

	memset(&r, 0, sizeof(r));
	r.nh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	r.nh.nlmsg_type = family;
	r.gh.cmd = NETDEV_CMD_DEV_GET;
	r.gh.version = 1;
	put_attr(&r, NETDEV_A_DEV_IFINDEX, &idx, sizeof(idx));
	if (!genl_ask(fd, &r, NETDEV_A_DEV_XDP_RX_METADATA_FEATURES, &features,
		      sizeof(features)))
		yes = features & NETDEV_XDP_RX_METADATA_VLAN_TAG;
out:
	close(fd);
	return yes;
}

/* ---- ethtool: rx VLAN offload */

/* The bits of the rx VLAN features in the "features" string set. */
struct rx_feat {
	int bit[N_RX_VLAN]; /* -1: the kernel does not know the name */
	bool on[N_RX_VLAN];
	bool fixed[N_RX_VLAN];
};

static int ethtool(int fd, const char *name, void *cmd)
{
	struct ifreq ifr = {};

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_data = cmd;
	return ioctl(fd, SIOCETHTOOL, &ifr) ? -errno : 0;
}

static int n_features(int fd, const char *name)
{
	struct {
		struct ethtool_sset_info hdr;
		uint32_t len;
	} s = {.hdr = {.cmd = ETHTOOL_GSSET_INFO,
		       .sset_mask = 1ULL << ETH_SS_FEATURES}};
	int err = ethtool(fd, name, &s);

	if (err)
		return err;
	return s.hdr.sset_mask ? (int)s.len : -EOPNOTSUPP;
}

static int read_features(int fd, const char *name, struct rx_feat *rf,
			 int *count)
{
	struct ethtool_gstrings *gs = NULL;
	struct ethtool_gfeatures *gf = NULL;
	int n, blocks, i, j, err;

	memset(rf, 0, sizeof(*rf));
	n = n_features(fd, name);
	if (n < 0)
		return n;
	blocks = (n + 31) / 32;
	gs = calloc(1, sizeof(*gs) + (size_t)n * ETH_GSTRING_LEN);
	gf = calloc(1, sizeof(*gf) + blocks * sizeof(gf->features[0]));
	if (!gs || !gf) {
		err = -ENOMEM;
		goto out;
	}
	gs->cmd = ETHTOOL_GSTRINGS;
	gs->string_set = ETH_SS_FEATURES;
	gs->len = n;
	gf->cmd = ETHTOOL_GFEATURES;
	gf->size = blocks;
	if ((err = ethtool(fd, name, gs)) || (err = ethtool(fd, name, gf)))
		goto out;
	for (j = 0; j < N_RX_VLAN; j++) {
		rf->bit[j] = -1;
		for (i = 0; i < n; i++) {
			const char *s = (char *)gs->data + i * ETH_GSTRING_LEN;
			uint32_t m = 1u << (i % 32);
			struct ethtool_get_features_block *b =
				&gf->features[i / 32];

			if (strncmp(s, rx_vlan_features[j], ETH_GSTRING_LEN))
				continue;
			rf->bit[j] = i;
			rf->on[j] = b->active & m;
			rf->fixed[j] =
				!(b->available & m) || (b->never_changed & m);
		}
	}
	*count = n;
out:
	free(gs);
	free(gf);
	return err;
}

/* Set rx VLAN feature j on or off. */
static int set_feature(int fd, const char *name, int count, int bit, bool on)
{
	int blocks = (count + 31) / 32;
	struct ethtool_sfeatures *sf =
		calloc(1, sizeof(*sf) + blocks * sizeof(sf->features[0]));
	int err;

	if (!sf)
		return -ENOMEM;
	sf->cmd = ETHTOOL_SFEATURES;
	sf->size = blocks;
	sf->features[bit / 32].valid = 1u << (bit % 32);
	sf->features[bit / 32].requested = on ? 1u << (bit % 32) : 0;
	err = ethtool(fd, name, sf);
	free(sf);
	return err;
}

static void offload_path(const struct cg_env *env, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", env->state_dir, OFFLOAD_FILE);
}

/* Did this gate turn feature `feat` off on `name` (and not yet back)? */
static bool recorded(const struct cg_env *env, const char *name,
		     const char *feat)
{
	char path[PATH_MAX], ifn[IF_NAMESIZE + 1], f[ETH_GSTRING_LEN + 1];
	FILE *in;
	bool yes = false;

	offload_path(env, path, sizeof(path));
	in = fopen(path, "r");
	if (!in)
		return false;
	while (!yes && fscanf(in, "%16s %32s", ifn, f) == 2)
		yes = !strcmp(ifn, name) && (!feat || !strcmp(f, feat));
	fclose(in);
	return yes;
}

static int record(const struct cg_env *env, const char *name, const char *feat)
{
	char path[PATH_MAX];
	FILE *out;
	int err = 0;

	if (recorded(env, name, feat))
		return 0;
	if (mkdir(env->state_dir, 0700) && errno != EEXIST)
		return -errno;
	offload_path(env, path, sizeof(path));
	out = fopen(path, "a");
	if (!out)
		return -errno;
	fprintf(out, "%s %s\n", name, feat);
	if (fflush(out) || fsync(fileno(out)))
		err = -errno;
	fclose(out);
	return err;
}

static bool is_veth(int fd, const char *name)
{
	struct ethtool_drvinfo di = {.cmd = ETHTOOL_GDRVINFO};

	return !ethtool(fd, name, &di) && !strcmp(di.driver, "veth") &&
	       strcmp(test_mode(), "offload");
}

int cg_rxvlan_frame(const struct cg_env *env, const char *name)
{
	struct rx_feat rf;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), count, j, err;

	if (fd < 0)
		return -errno;
	/*
	 * A veth hands the peer's skb over as it is: a tag the sender left in
	 * skb metadata (its tx VLAN offload) stays there whatever this end's
	 * rx offload says. Only the metadata kfunc sees it.
	 */
	if (is_veth(fd, name)) {
		fprintf(stderr,
			"cranegate: %s is a veth, and a VLAN tag that the "
			"sender keeps in skb metadata (tx-vlan-offload on the "
			"sending side) never enters the frame that XDP sees, "
			"whatever %s's rx offload says; this kernel does not "
			"report the tag to XDP (bpf_xdp_metadata_rx_vlan_tag "
			"on veth needs Linux >= 6.8). Refusing to attach to "
			"%s. Fix: run the gate on Linux >= 6.8, or leave %s "
			"out of the policy\n",
			name, name, name, name);
		close(fd);
		return -EOPNOTSUPP;
	}
	err = read_features(fd, name, &rf, &count);
	if (err) {
		fprintf(stderr,
			"cranegate: %s: cannot read its rx VLAN offload "
			"(ethtool features: %s), and its driver does not "
			"report stripped VLAN tags to XDP; refusing to attach "
			"a gate that could judge tagged frames as untagged\n",
			name, strerror(-err));
		close(fd);
		return -EOPNOTSUPP;
	}
	for (j = 0; j < N_RX_VLAN && !err; j++) {
		if (rf.bit[j] < 0 || !rf.on[j])
			continue;
		if (rf.fixed[j]) {
			err = -EOPNOTSUPP;
			break;
		}
		/* Record first: a loader killed after the change must still
		 * leave the way back to `detach`. */
		if ((err = record(env, name, rx_vlan_features[j])))
			break;
		err = set_feature(fd, name, count, rf.bit[j], false);
	}
	/* What counts is what the driver did, not what it accepted. */
	if (!err && !read_features(fd, name, &rf, &count))
		for (j = 0; j < N_RX_VLAN; j++)
			if (rf.bit[j] >= 0 && rf.on[j])
				err = -EOPNOTSUPP;
	close(fd);
	if (err) {
		fprintf(stderr,
			"cranegate: %s strips VLAN tags from received frames "
			"(%s on, and it could not be turned off: %s) and its "
			"driver does not report them to XDP, so the gate would "
			"judge tagged frames as untagged; refusing to attach "
			"to %s. Fix: turn the offload off (ethtool -K %s "
			"rxvlan off rx-vlan-stag-hw-parse off), use a driver "
			"that reports VLAN tags to XDP (Linux >= 6.8), or "
			"leave %s out of the policy\n",
			name, rx_vlan_features[j < N_RX_VLAN ? j : 0],
			strerror(-err), name, name, name);
		return -EOPNOTSUPP;
	}
	return 0;
}

void cg_rxvlan_restore(const struct cg_env *env)
{
	char path[PATH_MAX], ifn[IF_NAMESIZE + 1], f[ETH_GSTRING_LEN + 1];
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool kept = false;
	FILE *in;

	offload_path(env, path, sizeof(path));
	in = fopen(path, "r");
	if (!in || fd < 0) {
		if (in)
			fclose(in);
		if (fd >= 0)
			close(fd);
		return;
	}
	while (fscanf(in, "%16s %32s", ifn, f) == 2) {
		struct rx_feat rf;
		int count, j, err;

		if (!if_nametoindex(ifn))
			continue; /* gone: nothing to restore */
		err = read_features(fd, ifn, &rf, &count);
		for (j = 0; !err && j < N_RX_VLAN; j++)
			if (!strcmp(f, rx_vlan_features[j]) && rf.bit[j] >= 0)
				err = set_feature(fd, ifn, count, rf.bit[j],
						  true);
		if (err) {
			kept = true;
			fprintf(stderr,
				"cranegate: warning: could not turn %s back "
				"on for %s: %s\n",
				f, ifn, strerror(-err));
		} else {
			printf("turned %s back on for %s\n", f, ifn);
		}
	}
	fclose(in);
	close(fd);
	if (!kept)
		unlink(path);
}

/* ---- the front program */

/* The id of the pinned `progs` map, 0 if none. */
static uint32_t progs_map_id(const struct cg_env *env)
{
	struct bpf_map_info mi = {};
	uint32_t len = sizeof(mi);
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/progs", env->pin_root);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &mi, &len))
		mi.id = 0;
	close(fd);
	return mi.id;
}

bool cg_front_of(const struct cg_env *env, uint32_t prog_id)
{
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info), ids[8], want, i;
	bool yes = false;
	int fd;

	if (!prog_id || !(want = progs_map_id(env)))
		return false;
	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return false;
	info.nr_map_ids = 8;
	info.map_ids = (uint64_t)(unsigned long)ids;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
	    !strcmp(info.name, "cranegate_front"))
		for (i = 0; i < info.nr_map_ids && i < 8; i++)
			yes |= ids[i] == want;
	close(fd);
	return yes;
}

bool cg_guarded(const struct cg_env *env, uint32_t cur, uint32_t gate_id)
{
	return cur && (cur == gate_id || cg_front_of(env, cur));
}

int cg_front_load(const struct cg_env *env, int ifindex, const char *name,
		  int *fd)
{
	struct front_bpf *skel = NULL;
	char path[PATH_MAX];
	int progs = -1, live = -1, err;

	*fd = -1;
	snprintf(path, sizeof(path), "%s/progs", env->pin_root);
	progs = bpf_obj_get(path);
	snprintf(path, sizeof(path), "%s/live", env->pin_root);
	live = bpf_obj_get(path);
	if (progs < 0 || live < 0) {
		err = -ENOENT;
		goto out;
	}
	skel = front_bpf__open();
	if (!skel) {
		err = -errno;
		goto out;
	}
	bpf_program__set_ifindex(skel->progs.cranegate_front, ifindex);
	bpf_program__set_flags(skel->progs.cranegate_front,
			       bpf_program__flags(skel->progs.cranegate_front) |
				       BPF_F_XDP_DEV_BOUND_ONLY);
	if ((err = bpf_map__reuse_fd(skel->maps.progs, progs)) ||
	    (err = bpf_map__reuse_fd(skel->maps.live, live)) ||
	    (err = front_bpf__load(skel)))
		goto out;
	*fd = dup(bpf_program__fd(skel->progs.cranegate_front));
	if (*fd < 0)
		err = -errno;
out:
	if (err)
		fprintf(stderr,
			"cranegate: loading the VLAN-tag front for %s "
			"failed: %s\n",
			name, strerror(-err));
	front_bpf__destroy(skel);
	if (progs >= 0)
		close(progs);
	if (live >= 0)
		close(live);
	return err;
}

enum cg_rx_vlan cg_rxvlan_now(const struct cg_env *env, const char *name,
			      uint32_t cur)
{
	struct rx_feat rf;
	int fd, count, j, err;
	bool on = false;

	if (cg_front_of(env, cur))
		return CG_RXV_METADATA;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return CG_RXV_UNKNOWN;
	err = read_features(fd, name, &rf, &count);
	close(fd);
	if (err)
		return CG_RXV_UNKNOWN;
	for (j = 0; j < N_RX_VLAN; j++)
		on |= rf.bit[j] >= 0 && rf.on[j];
	if (on)
		return CG_RXV_BLIND;
	return recorded(env, name, NULL) ? CG_RXV_FRAME_BY_GATE : CG_RXV_FRAME;
}
