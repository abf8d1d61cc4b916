// SPDX-License-Identifier: GPL-2.0
/*
 * The live gate read back (loader.h): the active instance through its
 * pinned program (cg_active_*), and the snapshot that status, metrics,
 * top and run's summary read.
 */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "gate.h"
#include "hex.h"
#include "loader.h"
#include "output.h"
#include "rxvlan.h"
#include "shadow_maps.h"

/* The active instance, read back through the pinned program. */
struct cg_active {
	int prog_fd;
	uint32_t prog_id;
	int meta_fd, names_fd, flow_stats_fd, ics_stats_fd, flow_info_fd;
	struct cg_policy_meta meta;
	struct cg_name *names; /* zones, then flows */
};

int cg_active_open(const struct cg_env *env, struct cg_active **out)
{
	return cg_instance_open(cg_enforcing_prog(env), out);
}

int cg_instance_open(int prog_fd, struct cg_active **out)
{
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info), ids[64], i, zero = 0;
	struct cg_active *a;

	*out = NULL;
	if (prog_fd < 0)
		return -ENOENT;
	a = calloc(1, sizeof(*a));
	if (!a) {
		close(prog_fd);
		return -ENOMEM;
	}
	a->meta_fd = a->names_fd = a->flow_stats_fd = a->ics_stats_fd = -1;
	a->flow_info_fd = -1;
	a->prog_fd = prog_fd;
	info.nr_map_ids = 64;
	info.map_ids = (uint64_t)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(a->prog_fd, &info, &len)) {
		cg_active_close(a);
		return -errno;
	}
	a->prog_id = info.id;
	for (i = 0; i < info.nr_map_ids && i < 64; i++) {
		struct bpf_map_info mi = {};
		uint32_t mlen = sizeof(mi);
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd < 0)
			continue;
		bpf_obj_get_info_by_fd(fd, &mi, &mlen);
		if (!strcmp(mi.name, "meta") && a->meta_fd < 0)
			a->meta_fd = fd;
		else if (!strcmp(mi.name, "names") && a->names_fd < 0)
			a->names_fd = fd;
		else if (!strcmp(mi.name, "flow_stats") && a->flow_stats_fd < 0)
			a->flow_stats_fd = fd;
		else if (!strcmp(mi.name, "ics_stats") && a->ics_stats_fd < 0)
			a->ics_stats_fd = fd;
		else if (!strcmp(mi.name, "flow_info") && a->flow_info_fd < 0)
			a->flow_info_fd = fd;
		else
			close(fd);
	}
	if (a->meta_fd < 0 ||
	    bpf_map_lookup_elem(a->meta_fd, &zero, &a->meta)) {
		cg_active_close(a);
		return -ENOENT;
	}
	a->names = calloc(a->meta.n_zones + a->meta.n_flows + 1,
			  sizeof(*a->names));
	if (a->names && a->names_fd >= 0)
		cg_array_read(a->names_fd, a->meta.n_zones + a->meta.n_flows,
			      sizeof(*a->names), a->names);
	*out = a;
	return 0;
}

void cg_active_close(struct cg_active *a)
{
	if (!a)
		return;
	if (a->prog_fd >= 0)
		close(a->prog_fd);
	if (a->meta_fd >= 0)
		close(a->meta_fd);
	if (a->names_fd >= 0)
		close(a->names_fd);
	if (a->flow_stats_fd >= 0)
		close(a->flow_stats_fd);
	if (a->ics_stats_fd >= 0)
		close(a->ics_stats_fd);
	if (a->flow_info_fd >= 0)
		close(a->flow_info_fd);
	free(a->names);
	free(a);
}

const char *cg_active_zone(const struct cg_active *a, unsigned id)
{
	if (!a || !a->names || id >= a->meta.n_zones)
		return NULL;
	return a->names[id].name;
}

const char *cg_active_flow(const struct cg_active *a, unsigned id)
{
	if (!a || !a->names || id >= a->meta.n_flows)
		return NULL;
	return a->names[a->meta.n_zones + id].name;
}

const struct cg_policy_meta *cg_active_meta(const struct cg_active *a)
{
	return &a->meta;
}

unsigned cg_active_prog_id(const struct cg_active *a)
{
	return a->prog_id;
}

unsigned long long cg_active_policy_id(const struct cg_active *a)
{
	unsigned long long id = 0;
	int i;

	for (i = 0; a && i < 8; i++)
		id = (id << 8) | a->meta.sha256[i];
	return id;
}

/* Sum a per-CPU counter over CPUs. */
static int percpu_sum(int fd, uint32_t key, void *vals, size_t val_size,
		      int ncpu, uint64_t *sums, size_t nsums)
{
	int cpu;
	size_t j;

	memset(sums, 0, nsums * sizeof(*sums));
	if (bpf_map_lookup_elem(fd, &key, vals))
		return -errno;
	for (cpu = 0; cpu < ncpu; cpu++) {
		const uint64_t *v =
			(const uint64_t *)((char *)vals + cpu * val_size);

		for (j = 0; j < nsums; j++)
			sums[j] += v[j];
	}
	return 0;
}

/*
 * When a per-CPU counter was last hit, as Unix time (0: never): the
 * newest `last` (jiffies) of any CPU, dated back from jiffies now.
 */
static time_t last_hit(const void *vals, int ncpu, unsigned long long jnow,
		       unsigned hz)
{
	const struct cg_counter *c = vals;
	unsigned long long last = 0;
	int cpu;

	for (cpu = 0; cpu < ncpu; cpu++)
		if (c[cpu].last > last)
			last = c[cpu].last;
	if (!last || !jnow || !hz || last > jnow)
		return last ? time(NULL) : 0;
	return time(NULL) - (time_t)((jnow - last) / hz);
}

/*
 * The window of a time-boxed flow as the kernel holds it: its state
 * ("not-yet", "open", "ended") at the kernel's CLOCK_TAI, and its bounds
 * in UTC ("" for an open end), turned back with the current TAI-UTC
 * offset. Returns false for a flow without a window.
 */
static bool flow_window(const struct cg_active *a, uint32_t f, char *state,
			size_t slen, char *from, char *until, size_t tlen)
{
	struct cg_flow_info fi;
	struct timespec r, t;
	int64_t off, now;
	struct tm tm;
	time_t x;

	if (!a || a->flow_info_fd < 0 ||
	    bpf_map_lookup_elem(a->flow_info_fd, &f, &fi) ||
	    !(fi.flags & CG_FLOW_TIMED))
		return false;
	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_TAI, &t);
	off = (int64_t)t.tv_sec - r.tv_sec;
	now = (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
	from[0] = until[0] = 0;
	if (fi.valid_from) {
		x = (time_t)(fi.valid_from / 1000000000ull) - off;
		gmtime_r(&x, &tm);
		strftime(from, tlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	if (fi.valid_until) {
		x = (time_t)(fi.valid_until / 1000000000ull) - off;
		gmtime_r(&x, &tm);
		strftime(until, tlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	if (fi.valid_from && now < (int64_t)fi.valid_from)
		snprintf(state, slen, "not-yet");
	else if (fi.valid_until && now >= (int64_t)fi.valid_until)
		snprintf(state, slen, "ended");
	else
		snprintf(state, slen, "open");
	return true;
}

/*
 * A new zeroed element at the end of *arr (*n elements of `size` bytes),
 * or NULL when memory runs out (*arr is then unchanged).
 */
static void *append_zeroed(void **arr, size_t *n, size_t size)
{
	char *grown = realloc(*arr, (*n + 1) * size);

	if (!grown)
		return NULL;
	*arr = grown;
	memset(grown + *n * size, 0, size);
	return grown + (*n)++ * size;
}

/* Room for one per-CPU value of any state map, for every CPU. */
static void *percpu_buf(int ncpu)
{
	size_t sz = sizeof(struct cg_iface_stats);

	if (sz < sizeof(struct cg_counter))
		sz = sizeof(struct cg_counter);
	if (sz < sizeof(struct cg_event_counter))
		sz = sizeof(struct cg_event_counter);
	return ncpu > 0 ? calloc(ncpu, sz) : NULL;
}

static int cmp_ifstat(const void *a, const void *b)
{
	const struct cg_snap_ifstat *x = a, *y = b;

	return x->ifindex < y->ifindex ? -1 : x->ifindex > y->ifindex;
}

/*
 * The per-interface counters (state maps iface_slots, iface_stats), summed
 * over CPUs, sorted by ifindex. `prog_id` (0: none) marks the interfaces
 * the active program is attached to. 0 or a negative errno; no maps is no
 * entries.
 */
static int read_ifstats(const struct cg_env *env, uint32_t prog_id, int ncpu,
			struct cg_snap_ifstat **out, size_t *n)
{
	struct cg_iface_stats *v = NULL;
	struct cg_snap_ifstat *arr = NULL;
	uint32_t key, next, *kp = NULL, cur, slot;
	char path[PATH_MAX];
	uint8_t mode;
	int slots, stats, cpu, r, err = 0;

	*out = NULL;
	*n = 0;
	cg_pin_path(env, "iface_slots", path, sizeof(path));
	slots = bpf_obj_get(path);
	cg_pin_path(env, "iface_stats", path, sizeof(path));
	stats = bpf_obj_get(path);
	v = calloc(ncpu, sizeof(*v));
	if (slots < 0 || stats < 0 || !v)
		goto out;
	while (!bpf_map_get_next_key(slots, kp, &next)) {
		struct cg_snap_ifstat *si;

		key = next;
		kp = &key;
		if (bpf_map_lookup_elem(slots, &key, &slot) ||
		    bpf_map_lookup_elem(stats, &slot, v))
			continue;
		si = append_zeroed((void **)&arr, n, sizeof(*arr));
		if (!si) {
			err = -ENOMEM;
			break;
		}
		si->ifindex = key;
		if (!if_indextoname(key, si->name))
			snprintf(si->name, sizeof(si->name), "#%u", key);
		si->attached = prog_id && !cg_xdp_query(key, &cur, &mode) &&
			       cg_guarded(env, cur, prog_id);
		for (cpu = 0; cpu < ncpu; cpu++)
			for (r = 0; r < CG_R_MAX; r++) {
				si->reasons[r].packets += v[cpu].r[r].packets;
				si->reasons[r].bytes += v[cpu].r[r].bytes;
			}
	}
	if (arr)
		qsort(arr, *n, sizeof(*arr), cmp_ifstat);
out:
	if (slots >= 0)
		close(slots);
	if (stats >= 0)
		close(stats);
	free(v);
	if (!v && slots >= 0 && stats >= 0)
		err = -ENOMEM;
	*out = arr;
	return err;
}

/* Inspected ICS requests of the active instance, summed over CPUs. */
static int read_ics(const struct cg_active *a, int ncpu,
		    struct cg_snap_ics **out, size_t *n)
{
	struct cg_counter *v;
	struct cg_snap_ics *arr = NULL;
	struct cg_ics_key k, next;
	void *kp = NULL;
	int cpu, err = 0;

	*out = NULL;
	*n = 0;
	if (!a || a->ics_stats_fd < 0)
		return 0;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	while (!bpf_map_get_next_key(a->ics_stats_fd, kp, &next)) {
		struct cg_snap_ics *si;
		const char *flow;

		k = next;
		kp = &k;
		if (bpf_map_lookup_elem(a->ics_stats_fd, &k, v))
			continue;
		si = append_zeroed((void **)&arr, n, sizeof(*arr));
		if (!si) {
			err = -ENOMEM;
			break;
		}
		flow = cg_active_flow(a, k.flow);
		snprintf(si->flow, sizeof(si->flow), "%s", flow ? flow : "");
		si->protocol = cg_ics_proto_name(k.proto);
		si->function = k.function;
		si->verdict = cg_verdict_name(k.verdict);
		for (cpu = 0; cpu < ncpu; cpu++) {
			si->c.packets += v[cpu].packets;
			si->c.bytes += v[cpu].bytes;
		}
	}
	free(v);
	*out = arr;
	return err;
}

/* The snapshot: what the gate counts, into a struct (loader.h). */
int cg_snapshot_read(const struct cg_env *env, struct cg_snapshot *s)
{
	int ncpu = libbpf_num_possible_cpus(), fd;
	struct cg_active *a = NULL;
	struct if_nameindex *ifs, *it;
	char path[PATH_MAX];
	uint64_t sums[4];
	unsigned long long jnow = 0;
	uint32_t r, f;
	void *vals;

	memset(s, 0, sizeof(*s));
	if (ncpu < 1)
		return ncpu < 0 ? ncpu : -EINVAL;
	vals = percpu_buf(ncpu);
	if (!vals)
		return -ENOMEM;

	cg_pin_path(env, "reason_stats", path, sizeof(path));
	fd = bpf_obj_get(path);
	for (r = 0; fd >= 0 && r < CG_R_MAX; r++) {
		if (percpu_sum(fd, r, vals, sizeof(struct cg_counter), ncpu,
			       sums, 3))
			continue;
		s->reasons[r].packets = sums[0];
		s->reasons[r].bytes = sums[1];
	}
	if (fd >= 0) {
		s->have_gate = true;
		close(fd);
	}
	cg_pin_path(env, "event_stats", path, sizeof(path));
	fd = bpf_obj_get(path);
	s->have_events = fd >= 0;
	for (r = 0; fd >= 0 && r < CG_R_MAX; r++) {
		if (percpu_sum(fd, r, vals, sizeof(struct cg_event_counter),
			       ncpu, sums, 4))
			continue;
		s->events[r].emitted = sums[0];
		s->events[r].lost = sums[1];
		s->events[r].suppressed = sums[2];
		s->events[r].suppressed_source = sums[3];
	}
	if (fd >= 0)
		close(fd);
	{
		struct cg_shadow_totals st;

		if (!cg_shadow_totals_read(env, &st)) {
			s->shadow_active = st.active;
			s->shadow_frames = st.frames;
			s->shadow_disagree = st.disagree;
		}
	}

	if (cg_active_open(env, &a) || !a) {
		read_ifstats(env, 0, ncpu, &s->ifstats, &s->n_ifstats);
		goto out;
	}
	read_ifstats(env, a->prog_id, ncpu, &s->ifstats, &s->n_ifstats);
	read_ics(a, ncpu, &s->ics, &s->n_ics);
	s->have_policy = true;
	snprintf(s->policy_name, sizeof(s->policy_name), "%s", a->meta.name);
	memcpy(s->sha256, a->meta.sha256, sizeof(s->sha256));
	s->applied_at = a->meta.applied_at;
	s->monitor = a->meta.mode == CG_MODE_MONITOR;
	s->prog_id = a->prog_id;

	if (cg_kernel_jiffies(&jnow))
		jnow = 0;
	s->flows = calloc(a->meta.n_flows + 1, sizeof(*s->flows));
	for (f = 0; s->flows && f < a->meta.n_flows; f++) {
		struct cg_snap_flow *sf = &s->flows[s->n_flows++];
		const char *name = cg_active_flow(a, f);

		snprintf(sf->name, sizeof(sf->name), "%s", name ? name : "");
		sf->timed =
			flow_window(a, f, sf->window_state,
				    sizeof(sf->window_state), sf->window_from,
				    sf->window_until, sizeof(sf->window_from));
		if (a->flow_stats_fd < 0 ||
		    percpu_sum(a->flow_stats_fd, f, vals,
			       sizeof(struct cg_counter), ncpu, sums, 3))
			continue;
		sf->counted = true;
		sf->c.packets = sums[0];
		sf->c.bytes = sums[1];
		sf->last_hit = last_hit(vals, ncpu, jnow, cg_kernel_hz());
	}

	/* Attached interfaces: the kernel is the record. */
	ifs = if_nameindex();
	for (it = ifs; it && it->if_index; it++) {
		struct cg_snap_iface *si, *grown;
		uint32_t cur;
		uint8_t mode;

		cg_xdp_query(it->if_index, &cur, &mode);
		if (!cg_guarded(env, cur, a->prog_id))
			continue;
		grown = realloc(s->attached,
				(s->n_attached + 1) * sizeof(*s->attached));
		if (!grown)
			break;
		s->attached = grown;
		si = &s->attached[s->n_attached++];
		snprintf(si->name, sizeof(si->name), "%s", it->if_name);
		si->ifindex = it->if_index;
		si->mode = cg_xdp_mode_name(mode);
		si->rx_vlan = cg_rxvlan_now(env, it->if_name, cur);
	}
	if (ifs)
		if_freenameindex(ifs);
out:
	cg_active_close(a);
	free(vals);
	return 0;
}

int cg_snapshot_tables(const struct cg_env *env, struct cg_snapshot *s)
{
	/* conns4 holds the IPv4 connections, conns the IPv6 ones. */
	static const char *const tables[] = {"conns4", "conns", "macs",
					     "frags"};
	int ncpu = libbpf_num_possible_cpus(), fd;
	uint64_t *pc;
	uint32_t r;

	s->n_tables = 0;
	for (r = 0; r < sizeof(tables) / sizeof(tables[0]); r++) {
		struct bpf_map_info mi = {};
		uint32_t mlen = sizeof(mi), used = 0;
		char key[64], prev[64], *kp = NULL;
		struct cg_snap_table *t;

		fd = cg_pin_fd(env, tables[r]);
		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &mi, &mlen)) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		while (mi.key_size <= sizeof(key) &&
		       !bpf_map_get_next_key(fd, kp, key)) {
			memcpy(prev, key, mi.key_size);
			kp = prev;
			used++;
		}
		close(fd);
		t = &s->tables[s->n_tables++];
		t->name = tables[r];
		t->entries = used;
		t->max = mi.max_entries;
	}
	if (ncpu < 1)
		return ncpu < 0 ? ncpu : -EINVAL;
	pc = calloc(ncpu, sizeof(*pc));
	if (!pc)
		return -ENOMEM;
	fd = cg_pin_fd(env, "state_stats");
	s->have_state_stats = fd >= 0;
	for (r = 0; fd >= 0 && r < CG_S_MAX; r++) {
		int cpu;

		s->state[r] = 0;
		if (bpf_map_lookup_elem(fd, &r, pc))
			continue;
		for (cpu = 0; cpu < ncpu; cpu++)
			s->state[r] += pc[cpu];
	}
	if (fd >= 0)
		close(fd);
	free(pc);
	return 0;
}

void cg_snapshot_free(struct cg_snapshot *s)
{
	free(s->attached);
	free(s->flows);
	free(s->ifstats);
	free(s->ics);
	s->attached = NULL;
	s->flows = NULL;
	s->ifstats = NULL;
	s->ics = NULL;
	s->n_attached = s->n_flows = s->n_ifstats = s->n_ics = 0;
}
