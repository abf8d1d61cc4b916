// SPDX-License-Identifier: GPL-2.0
/*
 * The live gate read back (loader.h): the active instance through its
 * pinned program (cg_active_*), `cranegate status`, and the snapshot that
 * metrics, top and run's summary read.
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
	for (i = 0; a->names && a->names_fd >= 0 &&
		    i < a->meta.n_zones + a->meta.n_flows;
	     i++)
		bpf_map_lookup_elem(a->names_fd, &i, &a->names[i]);
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

static void print_sha(FILE *out, const uint8_t *sha)
{
	char hex[65];

	cg_hex(sha, 32, hex);
	fputs(hex, out);
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

int cg_status(const struct cg_env *env, FILE *out)
{
	struct cg_active *a = NULL;
	struct if_nameindex *ifs, *it;
	char path[PATH_MAX];
	int ncpu = libbpf_num_possible_cpus(), fd, first;
	uint64_t sums[4];
	uint32_t r, f;
	void *vals;
	bool json = env->json, timed;
	char wstate[16], wfrom[32], wuntil[32], hit_at[32];
	unsigned long long jnow = 0;
	time_t hit;

	vals = percpu_buf(ncpu);
	if (!vals)
		return -ENOMEM;
	cg_active_open(env, &a);

	/* Attached interfaces: the kernel is the record. */
	fprintf(out, json ? "{\"pin_root\": " : "gate at %s\n", env->pin_root);
	if (json) {
		cg_json_str(out, env->pin_root);
		fputs(", \"attached\": [", out);
	} else {
		fputs("attached:", out);
	}
	first = 1;
	ifs = if_nameindex();
	for (it = ifs; a && it && it->if_index; it++) {
		uint32_t cur;
		uint8_t mode;

		enum cg_rx_vlan how;

		cg_xdp_query(it->if_index, &cur, &mode);
		if (!cg_guarded(env, cur, a->prog_id))
			continue;
		how = cg_rxvlan_now(env, it->if_name, cur);
		if (json)
			fprintf(out,
				"%s{\"iface\": \"%s\", \"ifindex\": %u, "
				"\"mode\": \"%s\", \"vlan_tags\": \"%s\", "
				"\"rx_vlan_offload_off_by_gate\": %s}",
				first ? "" : ", ", it->if_name, it->if_index,
				cg_xdp_mode_name(mode),
				how == CG_RXV_FRAME_BY_GATE
					? "frame"
					: cg_rx_vlan_name(how),
				how == CG_RXV_FRAME_BY_GATE ? "true" : "false");
		else
			fprintf(out, " %s (%s, VLAN tags: %s)", it->if_name,
				cg_xdp_mode_name(mode), cg_rx_vlan_name(how));
		first = 0;
	}
	if (ifs)
		if_freenameindex(ifs);
	fputs(json ? "]" : (first ? " none\n" : "\n"), out);

	if (a) {
		char t[32];
		time_t at = a->meta.applied_at;
		struct tm tm;

		gmtime_r(&at, &tm);
		strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (json) {
			fputs(", \"policy\": {\"name\": ", out);
			cg_json_str(out, a->meta.name);
			fputs(", \"sha256\": \"", out);
			print_sha(out, a->meta.sha256);
			fprintf(out,
				"\", \"applied_at\": \"%s\", \"mode\": \"%s\", "
				"\"program_id\": %u}",
				t, a->meta.mode ? "monitor" : "enforce",
				a->prog_id);
		} else {
			fprintf(out, "policy:   %s (%s), sha256 ", a->meta.name,
				a->meta.mode ? "monitor" : "enforce");
			print_sha(out, a->meta.sha256);
			fprintf(out, "\n          applied %s, program %u\n", t,
				a->prog_id);
		}
	} else {
		fputs(json ? ", \"policy\": null" : "policy:   none\n", out);
	}
	if (cg_change_hooks()->shadow_status)
		cg_change_hooks()->shadow_status(env, out, json, a);

	/* Per-reason counters (state: they survive reloads). */
	cg_pin_path(env, "reason_stats", path, sizeof(path));
	fd = bpf_obj_get(path);
	fputs(json ? ", \"reasons\": {" : "reasons:\n", out);
	for (r = 0, first = 1; fd >= 0 && r < CG_R_MAX; r++) {
		if (percpu_sum(fd, r, vals, sizeof(struct cg_counter), ncpu,
			       sums, 3))
			continue;
		if (json)
			fprintf(out,
				"%s\"%s\": {\"packets\": %llu, \"bytes\": "
				"%llu}",
				first ? "" : ", ", cg_reason_name(r),
				(unsigned long long)sums[0],
				(unsigned long long)sums[1]);
		else if (sums[0])
			fprintf(out, "  %-15s %12llu packets %14llu bytes\n",
				cg_reason_name(r), (unsigned long long)sums[0],
				(unsigned long long)sums[1]);
		first = 0;
	}
	if (fd >= 0)
		close(fd);
	fputs(json ? "}" : "", out);

	/* Per-flow counters (of the active policy). */
	fputs(json ? ", \"flows\": [" : "flows:\n", out);
	if (cg_kernel_jiffies(&jnow))
		jnow = 0;
	for (f = 0, first = 1;
	     a && a->flow_stats_fd >= 0 && f < a->meta.n_flows; f++) {
		if (percpu_sum(a->flow_stats_fd, f, vals,
			       sizeof(struct cg_counter), ncpu, sums, 3))
			continue;
		timed = flow_window(a, f, wstate, sizeof(wstate), wfrom, wuntil,
				    sizeof(wfrom));
		hit = last_hit(vals, ncpu, jnow, cg_kernel_hz());
		hit_at[0] = 0;
		if (hit) {
			struct tm tm;

			gmtime_r(&hit, &tm);
			strftime(hit_at, sizeof(hit_at), "%Y-%m-%dT%H:%M:%SZ",
				 &tm);
		}
		if (json) {
			fputs(first ? "{\"name\": " : ", {\"name\": ", out);
			cg_json_str(out, cg_active_flow(a, f));
			fprintf(out, ", \"packets\": %llu, \"bytes\": %llu",
				(unsigned long long)sums[0],
				(unsigned long long)sums[1]);
			fprintf(out, ", \"last_hit\": %s%s%s", hit ? "\"" : "",
				hit ? hit_at : "null", hit ? "\"" : "");
			if (timed) {
				fprintf(out, ", \"window\": {\"state\": \"%s\"",
					wstate);
				fprintf(out, ", \"from\": %s%s%s",
					*wfrom ? "\"" : "",
					*wfrom ? wfrom : "null",
					*wfrom ? "\"" : "");
				fprintf(out, ", \"until\": %s%s%s}",
					*wuntil ? "\"" : "",
					*wuntil ? wuntil : "null",
					*wuntil ? "\"" : "");
			}
			fputs("}", out);
		} else {
			fprintf(out, "  %-24s %12llu packets %14llu bytes",
				cg_active_flow(a, f),
				(unsigned long long)sums[0],
				(unsigned long long)sums[1]);
			if (hit)
				fprintf(out, "  last hit %s", hit_at);
			if (timed && !strcmp(wstate, "not-yet"))
				fprintf(out, "  window not yet open (from %s)",
					wfrom);
			else if (timed && !strcmp(wstate, "ended"))
				fprintf(out, "  window ended %s", wuntil);
			else if (timed && *wuntil)
				fprintf(out, "  window open, until %s", wuntil);
			else if (timed)
				fprintf(out, "  window open (since %s)", wfrom);
			fputs("\n", out);
		}
		first = 0;
	}
	fputs(json ? "]" : "", out);

	/* Per interface and reason (state: they survive reloads). */
	{
		struct cg_snap_ifstat *is;
		size_t n = 0, i;

		read_ifstats(env, a ? a->prog_id : 0, ncpu, &is, &n);
		fputs(json ? ", \"interfaces\": [" : "interfaces:\n", out);
		for (i = 0; i < n; i++) {
			unsigned long long tp = 0, tb = 0;

			for (r = 0; r < CG_R_MAX; r++) {
				tp += is[i].reasons[r].packets;
				tb += is[i].reasons[r].bytes;
			}
			if (json) {
				fputs(i ? ", {\"iface\": " : "{\"iface\": ",
				      out);
				cg_json_str(out, is[i].name);
				fprintf(out,
					", \"ifindex\": %u, \"attached\": %s, "
					"\"packets\": %llu, \"bytes\": %llu, "
					"\"reasons\": {",
					is[i].ifindex,
					is[i].attached ? "true" : "false", tp,
					tb);
				for (r = 0, first = 1; r < CG_R_MAX; r++) {
					if (!is[i].reasons[r].packets)
						continue;
					fprintf(out,
						"%s\"%s\": {\"packets\": %llu, "
						"\"bytes\": %llu}",
						first ? "" : ", ",
						cg_reason_name(r),
						is[i].reasons[r].packets,
						is[i].reasons[r].bytes);
					first = 0;
				}
				fputs("}}", out);
				continue;
			}
			fprintf(out, "  %-15s %12llu packets %14llu bytes%s\n",
				is[i].name, tp, tb,
				is[i].attached ? "" : "  (not attached)");
			for (r = 0; r < CG_R_MAX; r++)
				if (is[i].reasons[r].packets)
					fprintf(out,
						"    %-13s %12llu packets "
						"%14llu bytes\n",
						cg_reason_name(r),
						is[i].reasons[r].packets,
						is[i].reasons[r].bytes);
		}
		fputs(json ? "]" : "", out);
		free(is);
	}

	/* The state tables: sizes, use and what happened in them. */
	{
		static const char *const stat_names[CG_S_MAX] = {
			[CG_S_CONN_OPENED] = "connections_opened",
			[CG_S_CONN_FAILED] = "connections_failed",
			[CG_S_CONN_EXPIRED] = "connections_expired",
			[CG_S_MAC_LEARNED] = "macs_learned",
			[CG_S_FRAG_TRACKED] = "fragments_tracked",
		};
		static const char *const tables[] = {"conns", "macs", "frags"};
		uint64_t *pc = calloc(ncpu, sizeof(uint64_t));

		fputs(json ? ", \"state\": {" : "state:\n", out);
		first = 1;
		for (r = 0; r < 3; r++) {
			struct bpf_map_info mi = {};
			uint32_t mlen = sizeof(mi), used = 0;
			char key[64], *kp = NULL;

			cg_pin_path(env, tables[r], path, sizeof(path));
			fd = bpf_obj_get(path);
			if (fd < 0 || bpf_obj_get_info_by_fd(fd, &mi, &mlen)) {
				if (fd >= 0)
					close(fd);
				continue;
			}
			while (mi.key_size <= sizeof(key) &&
			       !bpf_map_get_next_key(fd, kp, key)) {
				static char prev[64];

				memcpy(prev, key, mi.key_size);
				kp = prev;
				used++;
			}
			close(fd);
			if (json)
				fprintf(out,
					"%s\"%s\": {\"entries\": %u, \"max\": "
					"%u}",
					first ? "" : ", ", tables[r], used,
					mi.max_entries);
			else
				fprintf(out, "  %-8s %8u of %u entries\n",
					tables[r], used, mi.max_entries);
			first = 0;
		}
		cg_pin_path(env, "state_stats", path, sizeof(path));
		fd = bpf_obj_get(path);
		for (r = 0; fd >= 0 && pc && r < CG_S_MAX; r++) {
			uint64_t sum = 0;
			int cpu;

			if (bpf_map_lookup_elem(fd, &r, pc))
				continue;
			for (cpu = 0; cpu < ncpu; cpu++)
				sum += pc[cpu];
			if (json)
				fprintf(out, "%s\"%s\": %llu",
					first ? "" : ", ", stat_names[r],
					(unsigned long long)sum);
			else
				fprintf(out, "  %-20s %llu\n", stat_names[r],
					(unsigned long long)sum);
			first = 0;
		}
		if (fd >= 0)
			close(fd);
		free(pc);
		fputs(json ? "}" : "", out);
	}

	/* Inspected ICS requests, per flow, protocol, function and verdict. */
	fputs(json ? ", \"ics\": [" : "", out);
	if (a && a->ics_stats_fd >= 0) {
		struct cg_ics_key k, next;
		void *kp = NULL;

		first = 1;
		while (!bpf_map_get_next_key(a->ics_stats_fd, kp, &next)) {
			k = next;
			kp = &k;
			if (bpf_map_lookup_elem(a->ics_stats_fd, &k, vals))
				continue;
			sums[0] = sums[1] = 0;
			for (r = 0; r < (uint32_t)ncpu; r++) {
				sums[0] +=
					((struct cg_counter *)vals)[r].packets;
				sums[1] += ((struct cg_counter *)vals)[r].bytes;
			}
			if (json) {
				fputs(first ? "{\"flow\": " : ", {\"flow\": ",
				      out);
				cg_json_str(out, cg_active_flow(a, k.flow));
				fprintf(out,
					", \"protocol\": \"%s\", \"function\": "
					"%u, \"verdict\": \"%s\", \"packets\": "
					"%llu, \"bytes\": %llu}",
					cg_ics_proto_name(k.proto), k.function,
					cg_verdict_name(k.verdict),
					(unsigned long long)sums[0],
					(unsigned long long)sums[1]);
			} else {
				if (first)
					fputs("ics requests:\n", out);
				fprintf(out,
					"  %-24s %-7s function %-5u %-4s "
					"%12llu packets\n",
					cg_active_flow(a, k.flow),
					cg_ics_proto_name(k.proto), k.function,
					cg_verdict_name(k.verdict),
					(unsigned long long)sums[0]);
			}
			first = 0;
		}
	}
	fputs(json ? "]" : "", out);

	/* What happened to events. */
	cg_pin_path(env, "event_stats", path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		uint64_t tot[4] = {}, by[CG_R_MAX][4] = {};

		for (r = 0; r < CG_R_MAX; r++) {
			if (percpu_sum(fd, r, vals,
				       sizeof(struct cg_event_counter), ncpu,
				       by[r], 4))
				continue;
			tot[0] += by[r][0];
			tot[1] += by[r][1];
			tot[2] += by[r][2];
			tot[3] += by[r][3];
		}
		close(fd);
		if (json)
			fprintf(out,
				", \"events\": {\"emitted\": %llu, \"lost\": "
				"%llu, \"suppressed\": %llu, "
				"\"suppressed_by_source\": %llu, "
				"\"by_reason\": {",
				(unsigned long long)tot[0],
				(unsigned long long)tot[1],
				(unsigned long long)tot[2],
				(unsigned long long)tot[3]);
		else
			fprintf(out,
				"events:   %llu emitted, %llu lost (ring "
				"buffer full), %llu suppressed (rate limits; "
				"%llu of them by the per-source limit)\n",
				(unsigned long long)tot[0],
				(unsigned long long)tot[1],
				(unsigned long long)tot[2],
				(unsigned long long)tot[3]);
		/* Per reason (the reason a frame had, or would have had in
		 * monitor mode), where anything happened. */
		for (r = 0, first = 1; r < CG_R_MAX; r++) {
			if (!by[r][0] && !by[r][1] && !by[r][2])
				continue;
			if (json)
				fprintf(out,
					"%s\"%s\": {\"emitted\": %llu, "
					"\"lost\": %llu, \"suppressed\": %llu, "
					"\"suppressed_by_source\": %llu}",
					first ? "" : ", ", cg_reason_name(r),
					(unsigned long long)by[r][0],
					(unsigned long long)by[r][1],
					(unsigned long long)by[r][2],
					(unsigned long long)by[r][3]);
			else
				fprintf(out,
					"  %-15s %12llu emitted %8llu lost "
					"%8llu suppressed (%llu by source)\n",
					cg_reason_name(r),
					(unsigned long long)by[r][0],
					(unsigned long long)by[r][1],
					(unsigned long long)by[r][2],
					(unsigned long long)by[r][3]);
			first = 0;
		}
		fputs(json ? "}}" : "", out);
	}
	if (cg_change_hooks()->status)
		cg_change_hooks()->status(env, out, json);
	fputs(json ? "}\n" : "", out);
	cg_active_close(a);
	free(vals);
	return 0;
}

/* The snapshot: the same reads as status, into a struct. */
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
		if (a->flow_stats_fd < 0 ||
		    percpu_sum(a->flow_stats_fd, f, vals,
			       sizeof(struct cg_counter), ncpu, sums, 3))
			continue;
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
	}
	if (ifs)
		if_freenameindex(ifs);
out:
	cg_active_close(a);
	free(vals);
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
