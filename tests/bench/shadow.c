// SPDX-License-Identifier: GPL-2.0
/*
 * `cgbench shadow`: the cost of shadow evaluation on the live path.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_link.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench.h"
#include "bench.skel.h"
#include "cip.h"
#include "compile.h"
#include "empty.skel.h"
#include "frames.h"
#include "gate.h"
#include "loader.h"
#include "cgbench.h"

/* ------------------------------------------------------------ shadow */

/*
 * What shadow evaluation costs a frame: a live instance (slot A, with the
 * hand-off, state maps pinned under a private pin root) measured with
 * live.shadow off and on, the shadow being the same rule set under
 * another name (so another policy id: it judges every frame in full, as
 * a real candidate does), beside a private instance. The configurations
 * are measured in turn within each sample.
 */
int cmd_shadow(const struct opts *o)
{
	static const int cls[] = {C_ESTABLISHED, C_NO_RULE};
	static const char *const sys[] = {"private", "live", "live+shadow"};
	FILE *csv = csv_open(o->csv, "flows,class,system,median_ns,min_ns,"
				     "max_ns,method,reason_ok");
	struct bench_rules r = {.n = o->sizes[0],
				.proto = o->proto,
				.ifaces = {"bench0", "bench1"},
				.name = "bench-candidate"};
	struct cg_gate_opts go = {.verbose = o->verbose};
	struct cg_diags d = {.file = "candidate.yaml"};
	struct cg_policy *cp = NULL;
	struct cg_compiled *cc = NULL;
	struct cg_gate *live = NULL, *shadow = NULL;
	struct cg_env env = {};
	struct sized z = {};
	char root[64], why[256], path[128];
	char *yaml = NULL;
	size_t len = 0, i;
	uint32_t slot, zero = 0;
	int err = -1, lock = -1, progs = -1, live_fd = -1, fd, c;

	snprintf(root, sizeof(root), "/sys/fs/bpf/cgbench-shadow-%d",
		 (int)getpid());
	env.pin_root = root;
	if (cg_lock(&env, &lock))
		goto out;
	if (sized_make(o, o->sizes[0], true, &z, why, sizeof(why))) {
		fprintf(stderr, "cgbench: %s\n", why);
		goto out;
	}
	yaml = bench_policy_yaml(&r, &len);
	if (!yaml || cg_policy_parse("candidate.yaml", yaml, len, &cp, &d) ||
	    cg_compile(cp, &cc, &d))
		goto out;
	go.pin_root = root;
	go.slot = CG_SLOT_A;
	if (cg_gate_load(z.c, &go, &live))
		goto out;
	go.slot = CG_SLOT_SHADOW;
	if (cg_gate_load(cc, &go, &shadow))
		goto out;
	snprintf(path, sizeof(path), "%s/progs", root);
	progs = bpf_obj_get(path);
	snprintf(path, sizeof(path), "%s/live", root);
	live_fd = bpf_obj_get(path);
	slot = CG_SLOT_A;
	fd = cg_gate_prog_fd(live);
	if (progs < 0 || live_fd < 0 ||
	    bpf_map_update_elem(progs, &slot, &fd, BPF_ANY))
		goto out;
	slot = CG_SLOT_SHADOW;
	fd = cg_gate_prog_fd(shadow);
	if (bpf_map_update_elem(progs, &slot, &fd, BPF_ANY))
		goto out;

	for (c = 0; c < 2; c++) {
		const struct cls *cl = &classes[cls[c]];
		int ifi = ifindex[cl->iface];
		double v[3][MAX_SAMPLES];
		struct frame fr, fwd;
		unsigned smp, k;

		build(cls[c], o->sizes[0], 0, &fr, &fwd);
		/* Warm up; the first frame opens the connection. */
		run_once(cg_gate_prog_fd(z.g), ifi, fr.buf, fr.len, 1000, NULL);
		run_once(cg_gate_prog_fd(live), ifi, fr.buf, fr.len, 1000,
			 NULL);
		for (smp = 0; smp < o->samples; smp++)
			for (k = 0; k < 3; k++) {
				unsigned p = (smp + k) % 3;
				struct cg_live l = {.slot = CG_SLOT_A,
						    .shadow = p == 2};

				bpf_map_update_elem(live_fd, &zero, &l,
						    BPF_ANY);
				v[p][smp] = run_once(p ? cg_gate_prog_fd(live)
						       : cg_gate_prog_fd(z.g),
						     ifi, fr.buf, fr.len,
						     o->repeat, NULL);
			}
		for (k = 0; k < 3; k++) {
			struct stat3 st = stat3(v[k], o->samples);

			fprintf(stderr, "  %-12s %-12s %8.1f ns (%.1f..%.1f)\n",
				cl->name, sys[k], st.median, st.min, st.max);
			if (csv)
				fprintf(csv,
					"%u,%s,%s,%.1f,%.1f,%.1f,%ux%u,1\n",
					o->sizes[0], cl->name, sys[k],
					st.median, st.min, st.max, o->samples,
					o->repeat);
		}
	}
	err = 0;
out:
	if (err)
		fprintf(stderr, "cgbench: shadow: setting up failed\n");
	if (csv)
		fclose(csv);
	if (progs >= 0)
		close(progs);
	if (live_fd >= 0)
		close(live_fd);
	cg_gate_free(shadow);
	cg_gate_free(live);
	cg_compiled_free(cc);
	cg_policy_free(cp);
	cg_diags_free(&d);
	free(yaml);
	sized_free(&z);
	for (i = 0; i < cg_n_state_maps; i++) {
		snprintf(path, sizeof(path), "%s/%s", root, cg_state_maps[i]);
		unlink(path);
	}
	rmdir(root);
	cg_unlock(lock);
	return err ? 1 : 0;
}
