// SPDX-License-Identifier: GPL-2.0
/*
 * Loading one instance of the gate: the XDP program and its policy maps,
 * sized to the compiled policy and filled, with the state maps either
 * shared through pins or private. Follows the skeleton lifecycle of
 * libbpf-bootstrap: open -> configure -> load -> fill; every failure goes
 * to one cleanup label.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "gate.h"
#include "self.h"
#include "gate.skel.h"

struct cg_gate {
	struct gate_bpf *skel;
	bool shared; /* state maps pinned under a pin root */
	/* Interface slots this load assigned (ifindex, slot), recorded in
	 * iface_slots after the load and removed again if the apply fails. */
	struct {
		uint32_t ifindex, slot;
	} created[CG_IFACE_MAX];
	size_t n_created;
};

static bool libbpf_verbose;

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (!libbpf_verbose || level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static uint32_t at_least_one(size_t n)
{
	return n ? (uint32_t)n : 1;
}

/* The state maps that instances share through pins, by name. */
const char *const cg_state_maps[] = {
	"reason_stats", "event_stats",	"event_buckets",
	"events",	"conns",	"conns4",
	"macs",		"frags",	"state_stats",
	"progs",	"live",		"shadow_in",
	"shadow_stats", "shadow_flows", "shadow_event_stats",
	"event_sketch", "iface_stats",	"iface_slots",
};
const size_t cg_n_state_maps = sizeof(cg_state_maps) / sizeof(cg_state_maps[0]);

/*
 * Are the state maps pinned under `pin_root` of this version's shape
 * (type, key and value sizes, flags)? A gate left running by an older
 * version has a pinned table of another shape, which this program cannot
 * share: say which, and how to upgrade, before the load fails on it.
 * 0, or -EINVAL.
 */
static int pins_compatible(struct gate_bpf *skel, const char *pin_root)
{
	int bad = 0;
	size_t i;

	for (i = 0; pin_root && i < cg_n_state_maps; i++) {
		const struct bpf_map *m = bpf_object__find_map_by_name(
			skel->obj, cg_state_maps[i]);
		struct bpf_map_info info = {};
		uint32_t len = sizeof(info);
		char path[PATH_MAX];
		int fd;

		snprintf(path, sizeof(path), "%s/%s", pin_root,
			 cg_state_maps[i]);
		fd = bpf_obj_get(path);
		if (fd < 0 || !m)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
		    (info.type != bpf_map__type(m) ||
		     info.key_size != bpf_map__key_size(m) ||
		     info.value_size != bpf_map__value_size(m) ||
		     info.map_flags != bpf_map__map_flags(m))) {
			fprintf(stderr,
				"cranegate: error: the map '%s' pinned under "
				"%s "
				"is from another version of cranegate (key %u "
				"bytes, value %u; this version's: %u, %u)\n",
				cg_state_maps[i], pin_root, info.key_size,
				info.value_size, bpf_map__key_size(m),
				bpf_map__value_size(m));
			bad++;
		}
		close(fd);
	}
	if (!bad)
		return 0;
	fprintf(stderr,
		"cranegate: nothing changed: a gate running there keeps its "
		"policy. To upgrade it, `cranegate detach` and then apply "
		"again: in between the interfaces pass traffic unfiltered, "
		"and afterwards connections are picked up where a flow allows "
		"them (cranegate(8), \"Upgrading\")\n");
	return -EINVAL;
}

/*
 * Size a state map from the policy's limits, unless it already lives in a
 * pin: a live table keeps its size (and its entries) until `detach`.
 */
static void size_state_map(struct bpf_map *map, const char *pin, uint32_t want,
			   const char *limit)
{
	struct bpf_map_info info = {};
	uint32_t len = sizeof(info);
	int fd = pin ? bpf_obj_get(pin) : -1;

	if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len)) {
		if (info.max_entries != want)
			fprintf(stderr,
				"cranegate: note: limits.%s = %u takes effect "
				"after `cranegate detach`; "
				"the live table keeps its %u entries and its "
				"state\n",
				limit, want, info.max_entries);
		want = info.max_entries;
	}
	if (fd >= 0)
		close(fd);
	bpf_map__set_max_entries(map, want);
}

/*
 * The per-source sketch (maps/cranegate.h, event_sketch): CG_SKETCH_ROWS
 * rows of a power of two of slots, at least `sources`, then the seed. A
 * pinned sketch keeps its size, its buckets and its seed (so that a reload
 * keeps every source in the slots it had); a new one gets a seed from
 * getrandom(2). Sets the map's size and the program's mask and seed.
 */
static int size_sketch(struct gate_bpf *skel, const char *pin, uint32_t sources,
		       uint64_t *seed)
{
	uint32_t width = 1, want;
	int ncpu = libbpf_num_possible_cpus();
	struct cg_event_bucket *v;
	int fd = pin ? bpf_obj_get(pin) : -1;

	while (width < sources)
		width <<= 1;
	want = CG_SKETCH_ROWS * width + 1;
	size_state_map(skel->maps.event_sketch, pin, want, "event_sources");
	want = bpf_map__max_entries(skel->maps.event_sketch);
	width = (want - 1) / CG_SKETCH_ROWS;
	if (ncpu <= 0 || !width || width & (width - 1) ||
	    want != CG_SKETCH_ROWS * width + 1) {
		if (fd >= 0)
			close(fd);
		fprintf(stderr,
			"cranegate: the pinned event_sketch (%u "
			"entries) is not a sketch; `cranegate detach` "
			"removes it\n",
			want);
		return -EINVAL;
	}
	skel->rodata->cfg_sketch_mask = width - 1;
	*seed = 0;
	v = calloc(ncpu, sizeof(*v));
	if (!v) {
		if (fd >= 0)
			close(fd);
		return -ENOMEM;
	}
	if (fd >= 0 && !bpf_map_lookup_elem(fd, &(uint32_t){want - 1}, v))
		*seed = v[0].tokens;
	free(v);
	if (fd >= 0)
		close(fd);
	while (!*seed)
		if (getrandom(seed, sizeof(*seed), 0) != sizeof(*seed))
			return -errno;
	skel->rodata->cfg_sketch_seed = *seed;
	return 0;
}

/* Write the seed into the sketch's last element, on every CPU. */
static int write_sketch_seed(struct gate_bpf *skel, uint64_t seed)
{
	uint32_t key = bpf_map__max_entries(skel->maps.event_sketch) - 1;
	int i, ncpu = libbpf_num_possible_cpus();
	struct cg_event_bucket *v = calloc(ncpu > 0 ? ncpu : 1, sizeof(*v));
	int err;

	if (!v)
		return -ENOMEM;
	for (i = 0; i < ncpu; i++)
		v[i].tokens = seed;
	err = bpf_map_update_elem(bpf_map__fd(skel->maps.event_sketch), &key, v,
				  BPF_ANY);
	err = err ? -errno : 0;
	free(v);
	if (err)
		fprintf(stderr,
			"cranegate: writing the sketch's seed failed: "
			"%s\n",
			strerror(-err));
	return err;
}

static int update(struct bpf_map *map, const void *key, const void *val,
		  const char *what)
{
	int err = bpf_map__update_elem(map, key, bpf_map__key_size(map), val,
				       bpf_map__value_size(map), BPF_ANY);

	if (err)
		fprintf(stderr, "cranegate: filling the %s map failed: %s\n",
			what, strerror(-err));
	return err;
}

/*
 * Fill an array, hash or trie map from parallel key and value arrays:
 * packed and handed over in batches of one syscall each, or one by one
 * where the kernel refuses batches for this map.
 */
static int fill(struct bpf_map *map, const void *keys, size_t key_stride,
		const void *vals, size_t val_stride, size_t n, const char *what)
{
	size_t ks = bpf_map__key_size(map), vs = bpf_map__value_size(map), i;
	char *kb = NULL, *vb = NULL;
	uint32_t count = n;
	int err;

	if (!n)
		return 0;
	kb = malloc(n * ks);
	vb = malloc(n * vs);
	if (kb && vb) {
		for (i = 0; i < n; i++) {
			memcpy(kb + i * ks, (const char *)keys + i * key_stride,
			       ks);
			memcpy(vb + i * vs, (const char *)vals + i * val_stride,
			       vs);
		}
		err = bpf_map_update_batch(bpf_map__fd(map), kb, vb, &count,
					   NULL);
		free(kb);
		free(vb);
		if (!err)
			return 0;
		err = -errno;
		if (err != -EINVAL && err != -EOPNOTSUPP &&
		    err != -524 /* the kernel's ENOTSUPP */) {
			fprintf(stderr,
				"cranegate: filling the %s map failed: %s\n",
				what, strerror(-err));
			return err;
		}
	} else {
		free(kb);
		free(vb);
	}
	for (i = 0; i < n; i++) {
		err = update(map, (const char *)keys + i * key_stride,
			     (const char *)vals + i * val_stride, what);
		if (err)
			return err;
	}
	return 0;
}

/* fill() for an array map: entries 0..n-1 from `vals`. */
static int fill_array(struct bpf_map *map, const void *vals, size_t stride,
		      size_t n, const char *what)
{
	uint32_t *keys = malloc((n ? n : 1) * sizeof(*keys));
	uint32_t k;
	int err;

	if (!keys)
		return -ENOMEM;
	for (k = 0; k < n; k++)
		keys[k] = k;
	err = fill(map, keys, sizeof(*keys), vals, stride, n, what);
	free(keys);
	return err;
}

/*
 * Resolve the zones' interfaces once, before the load, into `ifx` (0: no
 * such interface, which fill_policy reports), and set the program's
 * table of untagged ingress zones (cfg_iface_zone) from the same entries
 * that fill `zones`, so that the two agree.
 */
static void zones_plan(struct gate_bpf *skel, const struct cg_compiled *c,
		       uint32_t *ifx)
{
	size_t i;

	for (i = 0; i < c->n_zones; i++) {
		uint32_t z = c->zones[i].zone;

		ifx[i] = if_nametoindex(c->zones[i].ifname);
		if (!ifx[i] || ifx[i] >= CG_IFINDEX_SLOTS || c->zones[i].vlan)
			continue;
		skel->rodata->cfg_iface_zone[ifx[i]] =
			z + 1 < CG_IFZONE_HASH ? z + 1 : CG_IFZONE_HASH;
	}
}

static int fill_policy(struct gate_bpf *skel, const struct cg_compiled *c,
		       const uint32_t *ifx)
{
	const struct cg_policy *p = c->policy;
	struct cg_policy_meta meta = {};
	struct cg_zone_nets *nets;
	size_t i;
	uint32_t k;
	int err;

	for (i = 0; i < c->n_zones; i++) {
		struct cg_zone_key zk = {.vlan = c->zones[i].vlan};
		struct cg_zone_val zv = {.zone = c->zones[i].zone};

		zk.ifindex = ifx[i];
		if (!zk.ifindex) {
			fprintf(stderr,
				"cranegate: interface '%s' (zone '%s') does "
				"not exist here\n",
				c->zones[i].ifname,
				p->zones[c->zones[i].zone].name);
			return -ENODEV;
		}
		if ((err = update(skel->maps.zones, &zk, &zv, "zones")))
			return err;
	}
	for (i = 0; i < c->n_ifnames; i++) {
		struct cg_zone_key zk = {.vlan = CG_VLAN_IFACE};
		struct cg_zone_val zv = {.zone = CG_ZONE_NONE};

		zk.ifindex = if_nametoindex(c->ifnames[i]);
		if (!zk.ifindex)
			return -ENODEV;
		if ((err = update(skel->maps.zones, &zk, &zv, "zones")))
			return err;
	}
	if ((err = fill(skel->maps.hosts4, &c->hosts4[0].key,
			sizeof(c->hosts4[0]), &c->hosts4[0].val,
			sizeof(c->hosts4[0]), c->n_hosts4, "hosts4")) ||
	    (err = fill(skel->maps.hosts6, &c->hosts6[0].key,
			sizeof(c->hosts6[0]), &c->hosts6[0].val,
			sizeof(c->hosts6[0]), c->n_hosts6, "hosts6")))
		return err;
	if ((err = fill(skel->maps.classes4, &c->classes4[0].key,
			sizeof(c->classes4[0]), &c->classes4[0].val,
			sizeof(c->classes4[0]), c->n_classes4, "classes4")) ||
	    (err = fill(skel->maps.classes6, &c->classes6[0].key,
			sizeof(c->classes6[0]), &c->classes6[0].val,
			sizeof(c->classes6[0]), c->n_classes6, "classes6")))
		return err;

	/* The /16s of the zones, after the class maps it stands for. */
	nets = malloc(sizeof(*nets));
	if (!nets)
		return -ENOMEM;
	cg_zone_nets_of(c, nets);
	err = fill_array(skel->maps.zone_nets, nets, sizeof(*nets), 1,
			 "zone_nets");
	free(nets);
	if (err)
		return err;

	/* Arrays and the flow hash. */
	if ((err = fill_array(skel->maps.port_classes, c->port_classes,
			      sizeof(*c->port_classes), CG_PORT_CLASSES_ENTRIES,
			      "port_classes")) ||
	    (err = fill_array(skel->maps.flow_info, c->flow_info,
			      sizeof(*c->flow_info), p->n_flows,
			      "flow_info")) ||
	    (err = fill_array(skel->maps.ics_rules, c->ics_rules,
			      sizeof(*c->ics_rules), c->n_ics_rules,
			      "ics_rules")) ||
	    (err = fill_array(skel->maps.ics_allow, c->ics_allow,
			      sizeof(*c->ics_allow), c->n_ics_allow,
			      "ics_allow")) ||
	    (err = fill_array(skel->maps.flow_chains, c->chains,
			      sizeof(*c->chains), c->n_chains,
			      "flow_chains")) ||
	    (err = fill(skel->maps.flows, &c->flows[0].key, sizeof(c->flows[0]),
			&c->flows[0].val, sizeof(c->flows[0]), c->n_flow_keys,
			"flows")))
		return err;

	/* Metadata for status and events. */
	snprintf(meta.name, sizeof(meta.name), "%s", p->name);
	memcpy(meta.sha256, p->sha256, sizeof(meta.sha256));
	meta.applied_at = time(NULL);
	meta.n_zones = p->n_zones;
	meta.n_flows = p->n_flows;
	meta.mode = p->mode == CG_POLICY_MONITOR ? CG_MODE_MONITOR
						 : CG_MODE_ENFORCE;
	k = 0;
	if ((err = update(skel->maps.meta, &k, &meta, "meta")))
		return err;
	{
		size_t n = p->n_zones + p->n_flows;
		struct cg_name *nm = calloc(n ? n : 1, sizeof(*nm));

		if (!nm)
			return -ENOMEM;
		for (i = 0; i < n; i++) {
			snprintf(nm[i].name, sizeof(nm[i].name), "%s",
				 i < p->n_zones
					 ? p->zones[i].name
					 : p->flows[i - p->n_zones].name);
		}
		err = fill_array(skel->maps.names, nm, sizeof(*nm), n, "names");
		free(nm);
	}
	return err;
}

/*
 * Per-interface counters (maps/cranegate.h): before the load, give every
 * interface the policy names its slot in the program's read-only data,
 * the one it already has in the pinned record (a reload keeps counting
 * where it was) or the lowest free one. New slots are recorded after the
 * load (iface_slots_record); cg_gate_iface_stats_settle() removes them
 * again if the apply fails, so that a refused policy changes nothing.
 */
static int iface_slots_plan(struct cg_gate *g, const struct cg_compiled *c,
			    const char *pin_root)
{
	bool used[CG_IFACE_MAX] = {[0] = true};
	uint32_t key, next, *kp = NULL, slot, ifindex;
	char path[PATH_MAX];
	size_t i, j;
	int fd = -1;

	if (pin_root) {
		snprintf(path, sizeof(path), "%s/iface_slots", pin_root);
		fd = bpf_obj_get(path);
	}
	while (fd >= 0 && !bpf_map_get_next_key(fd, kp, &next)) {
		key = next;
		kp = &key;
		if (!bpf_map_lookup_elem(fd, &key, &slot) && slot &&
		    slot < CG_IFACE_MAX) {
			used[slot] = true;
			if (key < CG_IFINDEX_SLOTS)
				g->skel->rodata->cfg_iface_slot[key] = slot;
		}
	}
	if (fd >= 0)
		close(fd);
	for (i = 0; i < c->n_ifnames; i++) {
		ifindex = if_nametoindex(c->ifnames[i]);
		if (!ifindex)
			continue; /* fill_policy says so */
		if (ifindex >= CG_IFINDEX_SLOTS) {
			fprintf(stderr,
				"cranegate: warning: %s has ifindex %u; "
				"interfaces from %u on are not counted per "
				"interface\n",
				c->ifnames[i], ifindex, CG_IFINDEX_SLOTS);
			continue;
		}
		if (g->skel->rodata->cfg_iface_slot[ifindex])
			continue; /* has one already */
		for (j = 1; j < CG_IFACE_MAX && used[j]; j++)
			;
		if (j == CG_IFACE_MAX) {
			fprintf(stderr,
				"cranegate: cannot count %s: the gate counts "
				"at "
				"most %d interfaces (`cranegate detach` clears "
				"those of the past)\n",
				c->ifnames[i], CG_IFACE_MAX - 1);
			return -E2BIG;
		}
		used[j] = true;
		g->skel->rodata->cfg_iface_slot[ifindex] = j;
		g->created[g->n_created].ifindex = ifindex;
		g->created[g->n_created++].slot = j;
	}
	/* Only the policy's own interfaces count in this instance. */
	for (key = 0; key < CG_IFINDEX_SLOTS; key++) {
		bool mine = false;

		if (!g->skel->rodata->cfg_iface_slot[key])
			continue;
		for (i = 0; i < c->n_ifnames && !mine; i++)
			mine = if_nametoindex(c->ifnames[i]) == key;
		if (!mine)
			g->skel->rodata->cfg_iface_slot[key] = 0;
	}
	return 0;
}

/* After the load: record the new slots and start their counters at 0. */
static int iface_slots_record(struct cg_gate *g)
{
	int slots = bpf_map__fd(g->skel->maps.iface_slots);
	int stats = bpf_map__fd(g->skel->maps.iface_stats);
	int ncpu = libbpf_num_possible_cpus();
	void *zero;
	size_t i;
	int err = 0;

	if (ncpu < 1)
		return ncpu < 0 ? ncpu : -EINVAL;
	zero = calloc(ncpu, sizeof(struct cg_iface_stats));
	if (!zero)
		return -ENOMEM;
	for (i = 0; i < g->n_created && !err; i++) {
		if (bpf_map_update_elem(stats, &g->created[i].slot, zero,
					BPF_ANY) ||
		    bpf_map_update_elem(slots, &g->created[i].ifindex,
					&g->created[i].slot, BPF_ANY))
			err = -errno;
	}
	free(zero);
	if (err)
		fprintf(stderr,
			"cranegate: recording the interface counters failed: "
			"%s\n",
			strerror(-err));
	return err;
}

void cg_gate_iface_stats_settle(struct cg_gate *g, bool applied)
{
	int fd = bpf_map__fd(g->skel->maps.iface_slots);
	uint32_t key, next, *kp = NULL;
	char name[IF_NAMESIZE];
	size_t i;

	if (!applied) {
		for (i = 0; i < g->n_created; i++)
			bpf_map_delete_elem(fd, &g->created[i].ifindex);
		g->n_created = 0;
		return;
	}
	/* Interfaces that no longer exist give their slots back: their
	 * ifindex may come again as another device. */
	while (g->shared && !bpf_map_get_next_key(fd, kp, &next)) {
		key = next;
		if (!if_indextoname(key, name) &&
		    !bpf_map_delete_elem(fd, &key)) {
			kp = NULL; /* start again: the order may change */
			continue;
		}
		kp = &key;
	}
	g->n_created = 0;
}

int cg_gate_load(const struct cg_compiled *c, const struct cg_gate_opts *o,
		 struct cg_gate **out)
{
	const struct cg_policy *p = c->policy;
	struct cg_gate *g;
	struct gate_bpf *skel;
	size_t i;
	uint64_t seed = 0;
	uint32_t *zone_ifx = NULL;
	int err, prog_fd;

	*out = NULL;
	libbpf_verbose = o->verbose;
	libbpf_set_print(libbpf_print);

	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	skel = gate_bpf__open();
	if (!skel) {
		err = -errno;
		fprintf(stderr,
			"cranegate: opening the BPF object failed: %s\n",
			strerror(-err));
		goto cleanup;
	}
	g->skel = skel;

	/* Configure: read-only data, then map sizes, then pins. */
	skel->rodata->cfg_mode = p->mode == CG_POLICY_MONITOR ? CG_MODE_MONITOR
							      : CG_MODE_ENFORCE;
	skel->rodata->cfg_policy_id = c->policy_id;
	skel->rodata->cfg_record = o->record;
	skel->rodata->cfg_slot = o->slot;
	skel->rodata->cfg_lookups = c->lookups;
	skel->rodata->cfg_timed = c->n_chains > 0;
	skel->rodata->cfg_self_class = c->self_class;
	skel->rodata->cfg_hz = cg_kernel_hz();
	{
		uint64_t hz = skel->rodata->cfg_hz;
		const struct cg_limits *l = &p->limits;

		skel->rodata->cfg_timeout_tcp = l->tcp_timeout * hz;
		skel->rodata->cfg_timeout_tcp_closing =
			l->tcp_closing_timeout * hz;
		skel->rodata->cfg_timeout_udp = l->udp_timeout * hz;
		skel->rodata->cfg_timeout_other = l->other_timeout * hz;
		skel->rodata->cfg_mac_hold = l->mac_hold * hz;
		skel->rodata->cfg_frag_timeout = l->fragment_timeout * hz;
		skel->rodata->cfg_frag_pass = p->fragments == CG_FRAG_PASS;
		skel->rodata->cfg_ev_rate = l->events_per_second;
		skel->rodata->cfg_ev_burst = l->events_burst;
		skel->rodata->cfg_ev_src_rate = l->source_events_per_second;
		skel->rodata->cfg_ev_src_burst = l->source_events_burst;
		skel->rodata->cfg_ev_src_limit = l->event_sources != 0;
		skel->rodata->cfg_iface_stats = !o->no_iface_stats;
		skel->rodata->cfg_conn_count = !o->no_conn_count;
	}
	bpf_map__set_max_entries(skel->maps.zones,
				 at_least_one(c->n_zones + c->n_ifnames));
	bpf_map__set_max_entries(skel->maps.hosts4, at_least_one(c->n_hosts4));
	bpf_map__set_max_entries(skel->maps.hosts6, at_least_one(c->n_hosts6));
	bpf_map__set_max_entries(skel->maps.classes4,
				 at_least_one(c->n_classes4));
	bpf_map__set_max_entries(skel->maps.classes6,
				 at_least_one(c->n_classes6));
	bpf_map__set_max_entries(skel->maps.flows,
				 at_least_one(c->n_flow_keys));
	bpf_map__set_max_entries(skel->maps.flow_info,
				 at_least_one(p->n_flows));
	bpf_map__set_max_entries(skel->maps.flow_chains,
				 at_least_one(c->n_chains));
	bpf_map__set_max_entries(skel->maps.ics_rules,
				 at_least_one(c->n_ics_rules));
	bpf_map__set_max_entries(skel->maps.ics_allow,
				 at_least_one(c->n_ics_allow));
	bpf_map__set_max_entries(skel->maps.flow_stats,
				 at_least_one(p->n_flows));
	bpf_map__set_max_entries(skel->maps.names,
				 at_least_one(p->n_zones + p->n_flows));
	{
		char conns[PATH_MAX], macs[PATH_MAX], frags[PATH_MAX];
		char sketch[PATH_MAX], conns4[PATH_MAX];

		snprintf(conns, sizeof(conns), "%s/conns", o->pin_root ?: "");
		snprintf(conns4, sizeof(conns4), "%s/conns4",
			 o->pin_root ?: "");
		snprintf(macs, sizeof(macs), "%s/macs", o->pin_root ?: "");
		snprintf(frags, sizeof(frags), "%s/frags", o->pin_root ?: "");
		snprintf(sketch, sizeof(sketch), "%s/event_sketch",
			 o->pin_root ?: "");
		/* event_sources: 0 switches the per-source limit off (rodata
		 * above); the sketch still exists, with one slot a row. */
		if ((err = size_sketch(skel, o->pin_root ? sketch : NULL,
				       p->limits.event_sources, &seed)))
			goto cleanup;
		/* Each family's table holds limits.connections. */
		size_state_map(skel->maps.conns, o->pin_root ? conns : NULL,
			       p->limits.connections, "connections");
		size_state_map(skel->maps.conns4, o->pin_root ? conns4 : NULL,
			       p->limits.connections, "connections");
		size_state_map(skel->maps.macs, o->pin_root ? macs : NULL,
			       p->limits.macs, "macs");
		size_state_map(skel->maps.frags, o->pin_root ? frags : NULL,
			       p->limits.fragments, "fragments");
	}
	for (i = 0; o->pin_root && i < cg_n_state_maps; i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(
			skel->obj, cg_state_maps[i]);
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/%s", o->pin_root,
			 cg_state_maps[i]);
		if (!m || (err = bpf_map__set_pin_path(m, path)))
			goto cleanup;
	}

	g->shared = o->pin_root != NULL;
	if ((err = iface_slots_plan(g, c, o->pin_root)))
		goto cleanup;
	zone_ifx = calloc(c->n_zones ? c->n_zones : 1, sizeof(*zone_ifx));
	if (!zone_ifx) {
		err = -ENOMEM;
		goto cleanup;
	}
	zones_plan(skel, c, zone_ifx);

	if ((err = pins_compatible(skel, o->pin_root)))
		goto cleanup;
	err = gate_bpf__load(skel);
	if (err) {
		fprintf(stderr,
			"cranegate: loading the XDP program failed: %s%s\n",
			strerror(-err),
			o->verbose ? ""
				   : " (run again with --verbose for the "
				     "kernel's log)");
		if (err == -EINVAL && o->pin_root)
			fprintf(stderr,
				"cranegate: the maps pinned under %s may be "
				"from another version; "
				"`cranegate detach` removes them\n",
				o->pin_root);
		goto cleanup;
	}

	if ((err = write_sketch_seed(skel, seed)) ||
	    (err = fill_policy(skel, c, zone_ifx)))
		goto cleanup;
	if (o->learn_self) {
		struct cg_self_set self;

		err = cg_self_learn(c->ifnames, c->n_ifnames, &self);
		if (!err) {
			err = cg_self_fill(bpf_map__fd(skel->maps.self4),
					   bpf_map__fd(skel->maps.self6),
					   bpf_map__fd(skel->maps.self_filter),
					   &self);
			cg_self_set_free(&self);
		}
		if (err) {
			fprintf(stderr,
				"cranegate: learning the gateway's own "
				"addresses failed: %s%s\n",
				strerror(-err),
				err == -E2BIG ? " (more than 1024 addresses "
						"of one family)"
					      : "");
			goto cleanup;
		}
	}
	if ((err = iface_slots_record(g)))
		goto cleanup;

	/* The program never reads meta and names; bind them so that they
	 * stay reachable through it. */
	prog_fd = bpf_program__fd(skel->progs.cranegate_xdp);
	if (bpf_prog_bind_map(prog_fd, bpf_map__fd(skel->maps.meta), NULL) ||
	    bpf_prog_bind_map(prog_fd, bpf_map__fd(skel->maps.names), NULL)) {
		err = -errno;
		fprintf(stderr, "cranegate: binding metadata maps failed: %s\n",
			strerror(-err));
		goto cleanup;
	}
	free(zone_ifx);
	*out = g;
	return 0;

cleanup:
	free(zone_ifx);
	if (g->skel && g->n_created && bpf_map__fd(skel->maps.iface_slots) >= 0)
		cg_gate_iface_stats_settle(g, false);
	cg_gate_free(g);
	return err;
}

void cg_gate_free(struct cg_gate *g)
{
	if (!g)
		return;
	gate_bpf__destroy(g->skel);
	free(g);
}

int cg_gate_set_self(struct cg_gate *g, const struct cg_self_set *s)
{
	return cg_self_fill(bpf_map__fd(g->skel->maps.self4),
			    bpf_map__fd(g->skel->maps.self6),
			    bpf_map__fd(g->skel->maps.self_filter), s);
}

int cg_gate_prog_fd(const struct cg_gate *g)
{
	return bpf_program__fd(g->skel->progs.cranegate_xdp);
}

int cg_gate_test_run(struct cg_gate *g, int ifindex, const void *frame,
		     size_t len, struct cg_event *ev, int *action)
{
	return cg_gate_test_run_meta(g, ifindex, NULL, 0, frame, len, ev,
				     action);
}

int cg_gate_test_run_meta(struct cg_gate *g, int ifindex, const void *meta,
			  size_t meta_len, const void *frame, size_t len,
			  struct cg_event *ev, int *action)
{
	return cg_gate_test_run_out(g, ifindex, meta, meta_len, frame, len,
				    NULL, 0, NULL, ev, action);
}

int cg_gate_test_run_out(struct cg_gate *g, int ifindex, const void *meta,
			 size_t meta_len, const void *frame, size_t len,
			 void *out, size_t out_cap, size_t *out_len,
			 struct cg_event *ev, int *action)
{
	/* The metadata area comes first in data_in; ctx.data is its size. */
	static uint8_t in[32 + 65536];
	struct xdp_md ctx = {
		.data = meta_len,
		.data_end = meta_len + len,
		.ingress_ifindex = ifindex,
	};
	/* XDP test runs need room for the frame; tiny frames are legal. */
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame,
		    .data_size_in = len, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);
	uint32_t zero = 0;
	int err;

	if (meta_len) {
		if (meta_len > 32 || len > sizeof(in) - 32)
			return -EINVAL;
		memcpy(in, meta, meta_len);
		memcpy(in + meta_len, frame, len);
		opts.data_in = in;
		opts.data_size_in = meta_len + len;
	}
	if (out) {
		opts.data_out = out;
		opts.data_size_out = out_cap;
	}
	memset(ev, 0, sizeof(*ev));
	err = bpf_prog_test_run_opts(cg_gate_prog_fd(g), &opts);
	if (err)
		return -errno;
	*action = opts.retval;
	if (out_len)
		*out_len = opts.data_size_out;
	if (bpf_map__lookup_elem(g->skel->maps.last, &zero, sizeof(zero), ev,
				 sizeof(*ev), 0))
		return -errno;
	return 0;
}

int cg_gate_last_event(struct cg_gate *g, struct cg_event *ev)
{
	uint32_t zero = 0;

	memset(ev, 0, sizeof(*ev));
	if (bpf_map__lookup_elem(g->skel->maps.last, &zero, sizeof(zero), ev,
				 sizeof(*ev), 0))
		return -errno;
	return 0;
}

static int percpu_counter(struct bpf_map *map, unsigned idx,
			  struct cg_counter *out)
{
	int ncpu = libbpf_num_possible_cpus(), i;
	struct cg_counter *v;

	memset(out, 0, sizeof(*out));
	if (ncpu < 0)
		return ncpu;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map__lookup_elem(map, &idx, sizeof(idx), v, ncpu * sizeof(*v),
				 0)) {
		free(v);
		return -errno;
	}
	for (i = 0; i < ncpu; i++) {
		out->packets += v[i].packets;
		out->bytes += v[i].bytes;
		if (v[i].last > out->last)
			out->last = v[i].last;
	}
	free(v);
	return 0;
}

int cg_gate_reason_count(const struct cg_gate *g, unsigned reason,
			 struct cg_counter *out)
{
	return percpu_counter(g->skel->maps.reason_stats, reason, out);
}

int cg_gate_flow_count(const struct cg_gate *g, unsigned flow,
		       struct cg_counter *out)
{
	return percpu_counter(g->skel->maps.flow_stats, flow, out);
}

int cg_gate_event_count(const struct cg_gate *g, unsigned reason,
			struct cg_event_counter *out)
{
	int ncpu = libbpf_num_possible_cpus(), i;
	struct cg_event_counter *v;

	memset(out, 0, sizeof(*out));
	if (ncpu < 0)
		return ncpu;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map__lookup_elem(g->skel->maps.event_stats, &reason,
				 sizeof(reason), v, ncpu * sizeof(*v), 0)) {
		free(v);
		return -errno;
	}
	for (i = 0; i < ncpu; i++) {
		out->emitted += v[i].emitted;
		out->lost += v[i].lost;
		out->suppressed += v[i].suppressed;
		out->suppressed_source += v[i].suppressed_source;
	}
	free(v);
	return 0;
}

int cg_gate_iface_count(const struct cg_gate *g, unsigned ifindex,
			unsigned reason, struct cg_iface_count *out)
{
	int ncpu = libbpf_num_possible_cpus(), i;
	struct cg_iface_stats *v;
	uint32_t key;

	memset(out, 0, sizeof(*out));
	if (ncpu < 0)
		return ncpu;
	if (reason >= CG_R_MAX)
		return -EINVAL;
	if (ifindex >= CG_IFINDEX_SLOTS ||
	    !(key = g->skel->rodata->cfg_iface_slot[ifindex]))
		return -ENOENT;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map__lookup_elem(g->skel->maps.iface_stats, &key, sizeof(key),
				 v, ncpu * sizeof(*v), 0)) {
		free(v);
		return -errno;
	}
	for (i = 0; i < ncpu; i++) {
		out->packets += v[i].r[reason].packets;
		out->bytes += v[i].r[reason].bytes;
	}
	free(v);
	return 0;
}

int cg_gate_map_fd(const struct cg_gate *g, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(g->skel->obj, name);

	return m ? bpf_map__fd(m) : -ENOENT;
}

/* A map of a loaded program, by name; an fd the caller closes, or -1. */
int cg_prog_map_fd(int prog_fd, const char *name)
{
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info), ids[64], i;
	int found = -1;

	info.nr_map_ids = 64;
	info.map_ids = (uint64_t)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -1;
	for (i = 0; i < info.nr_map_ids && i < 64 && found < 0; i++) {
		struct bpf_map_info mi = {};
		uint32_t mlen = sizeof(mi);
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &mi, &mlen) &&
		    !strcmp(mi.name, name))
			found = fd;
		else
			close(fd);
	}
	return found;
}

struct named_flow {
	char name[CG_META_NAME_MAX];
	uint32_t id;
};

static int cmp_named_flow(const void *a, const void *b)
{
	return strncmp(((const struct named_flow *)a)->name,
		       ((const struct named_flow *)b)->name, CG_META_NAME_MAX);
}

int cg_gate_carry_flow_stats(struct cg_gate *g, const struct cg_policy *p,
			     int old_fd)
{
	int meta_fd = -1, names_fd = -1, stats_fd = -1, ncpu, err = 0;
	struct cg_policy_meta meta;
	struct cg_counter *vals = NULL, *v;
	struct named_flow *nf = NULL, key, *hit;
	uint32_t zero = 0, i, j;
	struct cg_name name;
	bool sorted = false;

	if (old_fd < 0)
		return 0;
	ncpu = libbpf_num_possible_cpus();
	meta_fd = cg_prog_map_fd(old_fd, "meta");
	names_fd = cg_prog_map_fd(old_fd, "names");
	stats_fd = cg_prog_map_fd(old_fd, "flow_stats");
	if (ncpu <= 0 || meta_fd < 0 || names_fd < 0 || stats_fd < 0 ||
	    bpf_map_lookup_elem(meta_fd, &zero, &meta)) {
		err = -ENOENT;
		goto out;
	}
	vals = calloc((size_t)(meta.n_flows ? meta.n_flows : 1) * ncpu,
		      sizeof(*vals));
	nf = calloc(p->n_flows + 1, sizeof(*nf));
	if (!nf || !vals) {
		err = -ENOMEM;
		goto out;
	}
	/* One batch: the idle flows (most of a large policy, all of them
	 * after a reboot) cost nothing more; only a flow that counted
	 * something is looked up by name. */
	if ((err = cg_array_read(stats_fd, meta.n_flows, ncpu * sizeof(*vals),
				 vals)))
		goto out;
	for (i = 0; i < meta.n_flows; i++) {
		uint32_t k = meta.n_zones + i;

		v = vals + (size_t)i * ncpu;
		for (j = 0; j < (uint32_t)ncpu && !v[j].packets; j++)
			;
		if (j == (uint32_t)ncpu)
			continue; /* an idle flow: nothing to carry */
		if (!sorted) {
			/* The new policy's flow names as its `names` map
			 * holds them, sorted, for a lookup by name. */
			for (j = 0; j < p->n_flows; j++) {
				nf[j].id = j;
				snprintf(nf[j].name, sizeof(nf[j].name), "%s",
					 p->flows[j].name);
			}
			qsort(nf, p->n_flows, sizeof(*nf), cmp_named_flow);
			sorted = true;
		}
		if (bpf_map_lookup_elem(names_fd, &k, &name))
			continue;
		memcpy(key.name, name.name, CG_META_NAME_MAX);
		hit = bsearch(&key, nf, p->n_flows, sizeof(*nf),
			      cmp_named_flow);
		if (hit)
			bpf_map__update_elem(g->skel->maps.flow_stats, &hit->id,
					     sizeof(hit->id), v,
					     ncpu * sizeof(*v), BPF_ANY);
	}
out:
	free(vals);
	free(nf);
	if (meta_fd >= 0)
		close(meta_fd);
	if (names_fd >= 0)
		close(names_fd);
	if (stats_fd >= 0)
		close(stats_fd);
	return err;
}
