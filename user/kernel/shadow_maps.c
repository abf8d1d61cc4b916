// SPDX-License-Identifier: GPL-2.0
/*
 * The shadow's counters in the pinned state maps (shadow_maps.h): summed,
 * and zeroed when the live policy changes. The kernel layer's part of
 * shadow evaluation; starting, stopping and printing it are ops/shadow.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "gate.h"
#include "shadow_maps.h"

/* A per-CPU counter summed over CPUs: packets and bytes. */
int cg_counter_sum(int fd, const void *key, struct cg_counter *sum)
{
	int ncpu = libbpf_num_possible_cpus(), i;
	struct cg_counter *v;

	memset(sum, 0, sizeof(*sum));
	if (ncpu < 1)
		return -EINVAL;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, key, v)) {
		free(v);
		return -errno;
	}
	for (i = 0; i < ncpu; i++) {
		sum->packets += v[i].packets;
		sum->bytes += v[i].bytes;
	}
	free(v);
	return 0;
}

void cg_shadow_reset(const struct cg_env *env)
{
	int ncpu = libbpf_num_possible_cpus();
	int stats = cg_pin_fd(env, "shadow_stats");
	int flows = cg_pin_fd(env, "shadow_flows");
	int evs = cg_pin_fd(env, "shadow_event_stats");
	struct cg_shadow_key k;
	void *zero = calloc(ncpu > 0 ? ncpu : 1, sizeof(struct cg_counter));
	uint32_t i;

	for (i = 0; zero && stats >= 0 && i < CG_SHADOW_PAIRS; i++)
		bpf_map_update_elem(stats, &i, zero, BPF_ANY);
	/* cg_event_counter is as large as cg_counter: the same zeros. */
	i = 0;
	if (zero && evs >= 0)
		bpf_map_update_elem(evs, &i, zero, BPF_ANY);
	while (flows >= 0 && !bpf_map_get_next_key(flows, NULL, &k))
		if (bpf_map_delete_elem(flows, &k))
			break;
	free(zero);
	if (stats >= 0)
		close(stats);
	if (flows >= 0)
		close(flows);
	if (evs >= 0)
		close(evs);
}

int cg_shadow_matrix_read(const struct cg_env *env, struct cg_shadow_matrix *t)
{
	int fd = cg_pin_fd(env, "shadow_stats");
	uint32_t lr, sr, k;

	memset(t, 0, sizeof(*t));
	if (fd < 0)
		return -ENOENT;
	for (lr = 0; lr < CG_R_MAX; lr++)
		for (sr = 0; sr < CG_R_MAX; sr++) {
			struct cg_counter *c = &t->pair[lr][sr];

			k = lr * CG_R_MAX + sr;
			if (cg_counter_sum(fd, &k, c))
				continue;
			t->frames += c->packets;
			if (cg_reason_drops(lr) == cg_reason_drops(sr))
				continue;
			t->disagree += c->packets;
			if (cg_reason_drops(sr))
				t->pass_drop += c->packets;
			else
				t->drop_pass += c->packets;
		}
	close(fd);
	return 0;
}

int cg_shadow_totals_read(const struct cg_env *env, struct cg_shadow_totals *t)
{
	struct cg_shadow_matrix tt;
	struct cg_live l;
	int fd;

	memset(t, 0, sizeof(*t));
	fd = cg_gate_slot_prog(env, CG_SLOT_SHADOW, &l);
	t->active = fd >= 0 && l.shadow;
	if (fd >= 0)
		close(fd);
	if (cg_shadow_matrix_read(env, &tt))
		return -ENOENT;
	t->frames = tt.frames;
	t->disagree = tt.disagree;
	return 0;
}
