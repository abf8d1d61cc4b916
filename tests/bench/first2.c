// SPDX-License-Identifier: GPL-2.0
/*
 * `cgbench first2`: first packets on both CPUs at once, against each CPU
 * alone.
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

/* ------------------------------------------------------------ first2 */

/*
 * First packets on both CPUs at once (issue 15: "each keeps >= 90 % of its
 * single-CPU rate"). One policy of n flows, one gate; a thread per CPU,
 * pinned, runs `first` first packets of distinct connections back to back
 * (single test runs, repeat = 1), first each CPU alone, then both
 * together, in `samples` rounds. Per CPU: first packets per second of
 * wall time (the syscall included) and the median of the program's own
 * time per packet, alone and together. Every connection is new: the
 * connection table gains one entry per frame, the insert whose lock the
 * CPUs may share.
 */
struct f2_thread {
	pthread_t t;
	int cpu, prog_fd, ifi;
	unsigned n_flows, k0, n;
	pthread_barrier_t *go;
	double rate, ns; /* out */
	int err;
};

static void *f2_run(void *arg)
{
	struct f2_thread *t = arg;
	static double d[2][65536];
	double *dd = d[t->cpu & 1];
	struct frame fr, fwd;
	cpu_set_t set;
	unsigned j;
	double t0;

	CPU_ZERO(&set);
	CPU_SET(t->cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set)) {
		t->err = -EINVAL;
		return NULL;
	}
	if (t->go)
		pthread_barrier_wait(t->go);
	t0 = bench_now();
	for (j = 0; j < t->n; j++) {
		build(C_FIRST, t->n_flows, t->k0 + j, &fr, &fwd);
		dd[j] = run_once(t->prog_fd, t->ifi, fr.buf, fr.len, 1, NULL);
		if (dd[j] < 0) {
			t->err = -errno;
			return NULL;
		}
	}
	t->rate = t->n / (bench_now() - t0);
	t->ns = median(dd, t->n);
	return NULL;
}

int cmd_first2(const struct opts *o)
{
	unsigned n = o->n_sizes ? o->sizes[0] : 1000, per = o->first, s, c, p;
	double alone_r[2][2][MAX_SAMPLES], both_r[2][2][MAX_SAMPLES];
	double alone_ns[2][2][MAX_SAMPLES], both_ns[2][2][MAX_SAMPLES];
	static const char *const names[2] = {"cranegate", "empty"};
	struct empty_bpf *empty = NULL;
	unsigned k = 0;
	pthread_barrier_t go;
	struct sized z;
	char why[256];
	int fds[2], err = 0;
	FILE *csv;

	if (per > 4096)
		per = 4096;
	/* Distinct source ports 10000 + k: every frame of every round. */
	if ((unsigned long)o->samples * 4 * per + 10000 > 65535) {
		fprintf(stderr, "cgbench: first2: samples x 4 x first must "
				"stay under 55,535\n");
		return 2;
	}
	if (get_nprocs() < 2) {
		fprintf(stderr, "SKIP first2: needs 2 CPUs\n");
		return 0;
	}
	if ((err = sized_make(o, n, true, &z, why, sizeof(why)))) {
		fprintf(stderr, "cgbench: %u flows: %s\n", n, why);
		return 1;
	}
	empty = empty_bpf__open_and_load();
	if (!empty) {
		sized_free(&z);
		return 1;
	}
	fds[0] = cg_gate_prog_fd(z.g);
	fds[1] = bpf_program__fd(empty->progs.empty_pass);
	pthread_barrier_init(&go, NULL, 2);
	/* The empty program on the same frames says what the machine itself
	 * (two vCPUs, the syscall, the hypervisor) loses when both CPUs run
	 * test runs at once. */
	for (s = 0; s < o->samples; s++) {
		for (p = 0; p < 2; p++) {
			struct f2_thread t[2];

			/* Each CPU alone, then both at once. */
			for (c = 0; c < 2; c++) {
				t[c] = (struct f2_thread){.cpu = c,
							  .prog_fd = fds[p],
							  .ifi = ifindex[0],
							  .n_flows = n,
							  .k0 = k,
							  .n = per};
				if (!p)
					k += per;
				pthread_create(&t[c].t, NULL, f2_run, &t[c]);
				pthread_join(t[c].t, NULL);
				if (t[c].err) {
					err = t[c].err;
					goto out;
				}
				alone_r[p][c][s] = t[c].rate;
				alone_ns[p][c][s] = t[c].ns;
			}
			for (c = 0; c < 2; c++) {
				t[c] = (struct f2_thread){.cpu = c,
							  .prog_fd = fds[p],
							  .ifi = ifindex[0],
							  .n_flows = n,
							  .k0 = k,
							  .n = per,
							  .go = &go};
				if (!p)
					k += per;
				pthread_create(&t[c].t, NULL, f2_run, &t[c]);
			}
			for (c = 0; c < 2; c++) {
				pthread_join(t[c].t, NULL);
				if (t[c].err)
					err = t[c].err;
				both_r[p][c][s] = t[c].rate;
				both_ns[p][c][s] = t[c].ns;
			}
			if (err)
				goto out;
		}
	}
	csv = csv_open(o->csv, "flows,system,cpu,alone_per_s,both_per_s,"
			       "ratio,alone_ns,both_ns,method");
	for (p = 0; p < 2; p++) {
		for (c = 0; c < 2; c++) {
			struct stat3 ar = stat3(alone_r[p][c], o->samples),
				     br = stat3(both_r[p][c], o->samples),
				     an = stat3(alone_ns[p][c], o->samples),
				     bn = stat3(both_ns[p][c], o->samples);

			fprintf(stderr,
				"  first packets, %-9s CPU %u: alone %.0f/s "
				"(%.0f..%.0f), both CPUs at once %.0f/s "
				"(%.0f..%.0f) = %.0f %%; program %.0f ns "
				"alone, %.0f ns at once\n",
				names[p], c, ar.median, ar.min, ar.max,
				br.median, br.min, br.max,
				100 * br.median / ar.median, an.median,
				bn.median);
			if (csv)
				fprintf(csv,
					"%u,%s,%u,%.0f,%.0f,%.3f,%.1f,%.1f,"
					"%ux%u\n",
					n, names[p], c, ar.median, br.median,
					br.median / ar.median, an.median,
					bn.median, o->samples, per);
		}
	}
	if (csv)
		fclose(csv);
out:
	pthread_barrier_destroy(&go);
	empty_bpf__destroy(empty);
	sized_free(&z);
	return err ? 1 : 0;
}
