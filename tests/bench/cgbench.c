// SPDX-License-Identifier: GPL-2.0
/*
 * cgbench: the cost of one frame through the gate, in ns, measured with
 * BPF_PROG_TEST_RUN beside an empty XDP_PASS program in the same run.
 *
 * For each policy size (flows), a policy is generated, compiled and loaded
 * into a private instance; each frame class is run `repeat` times per
 * sample in the kernel, and the median of `samples` samples is reported,
 * with the spread (min..max). Runs of the empty program are interleaved
 * with the gate's, so that both see the same machine.
 *
 * Output: a markdown table on stdout; `--csv FILE` also writes the raw
 * figures.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "compile.h"
#include "empty.skel.h"
#include "frames.h"
#include "gate.h"

#define SAMPLES 7
#define HOSTS 30000

static char ifnames[2][CG_IFNAME_MAX] = { "bench0", "bench1" };

/* Flow i: business host (i % HOSTS) -> crane host ((i / 3) % HOSTS). */
static void flow_addrs(unsigned i, char *src, char *dst, unsigned *port)
{
	unsigned s = i % HOSTS, d = (i / 3) % HOSTS;

	sprintf(src, "198.18.%u.%u", s / 256, s % 256);
	sprintf(dst, "198.19.%u.%u", d / 256, d % 256);
	*port = 1024 + (i % 40000);
}

/*
 * A policy of n flows between single hosts of two zones. (A flow between
 * whole zones would multiply: it expands to every class inside them; see
 * README, "Policy size".)
 */
static char *gen_policy(unsigned n)
{
	size_t cap = 512 + (size_t)n * 120, len;
	char *buf = malloc(cap), src[32], dst[32];
	unsigned i, port;

	if (!buf)
		return NULL;
	len = snprintf(buf, cap,
		       "version: 1\nname: bench-%u\nzones:\n"
		       "  business: {interfaces: [bench0], networks: [198.18.0.0/16]}\n"
		       "  crane: {interfaces: [bench1], networks: [198.19.0.0/17]}\n"
		       "flows:\n",
		       n);
	for (i = 0; i < n; i++) {
		flow_addrs(i, src, dst, &port);
		len += snprintf(buf + len, cap - len,
				"  - {name: f%u, from: %s, to: %s, proto: tcp, ports: [%u]}\n",
				i, src, dst, port);
	}
	return buf;
}

struct sample {
	double median, min, max;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* ns per frame over `repeat` runs in the kernel, one sample. */
static double run_once(int prog_fd, int ifindex, const void *frame, size_t len,
		       unsigned repeat)
{
	struct xdp_md ctx = { .data_end = len, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		    .repeat = repeat);

	if (bpf_prog_test_run_opts(prog_fd, &o))
		return -1;
	return o.duration;
}

static struct sample measure(int prog_fd, int ifindex, const void *frame,
			     size_t len, unsigned repeat)
{
	double v[SAMPLES];
	struct sample s;
	int i;

	for (i = 0; i < SAMPLES; i++)
		v[i] = run_once(prog_fd, ifindex, frame, len, repeat);
	qsort(v, SAMPLES, sizeof(v[0]), cmp_double);
	s.median = v[SAMPLES / 2];
	s.min = v[0];
	s.max = v[SAMPLES - 1];
	return s;
}

struct frame_class {
	const char *name;
	uint8_t buf[256];
	size_t len;
	int ifindex;
};

int main(int argc, char **argv)
{
	static const unsigned sizes[] = { 10, 1000, 100000 };
	unsigned repeat = argc > 1 ? atoi(argv[1]) : 200000;
	struct empty_bpf *empty = NULL;
	struct frame_class fc[3];
	struct cg_frame_spec spec;
	double base_row[3] = { 0 };
	int i, k, err = 1;
	char src[32], dst[32];
	unsigned port;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (cg_sandbox_enter(ifnames, 2))
		return 1;
	empty = empty_bpf__open_and_load();
	if (!empty) {
		fprintf(stderr, "cgbench: cannot load the empty program\n");
		return 1;
	}

	printf("| flows | frame | cranegate ns | spread | empty ns | ratio | vs 10 flows |\n");
	printf("|---:|---|---:|---|---:|---:|---:|\n");
	for (k = 0; k < 3; k++) {
		unsigned n = sizes[k], mid = n / 2;
		struct cg_diags d = { .file = "bench" };
		struct cg_policy *p = NULL;
		struct cg_compiled *c = NULL;
		struct cg_gate *g = NULL;
		struct cg_gate_opts go = {};
		char *yaml = gen_policy(n);
		struct timespec t0, t1;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (!yaml || cg_policy_parse("bench.yaml", yaml, strlen(yaml), &p, &d) ||
		    cg_compile(p, &c, &d) || cg_gate_load(c, &go, &g)) {
			cg_diags_print(&d, stderr);
			fprintf(stderr, "cgbench: policy of %u flows failed\n", n);
			goto out;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		fprintf(stderr, "# %u flows: parse+compile+load %.3f s, %zu flow keys, %u classes\n",
			n, (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
			c->n_flow_keys, c->n_classes);

		/* allowed: flow `mid` between its two hosts (an established
		 * connection after the first run); no-rule: the same hosts on
		 * a port no flow names; spoofed: a source in no zone. */
		flow_addrs(mid, src, dst, &port);
		fc[0].name = "allowed";
		cg_frame_tcp(&spec, src, dst, 40000, port, CG_TCP_ACK);
		fc[0].len = cg_frame_build(&spec, fc[0].buf, sizeof(fc[0].buf));
		fc[1].name = "no-rule";
		cg_frame_tcp(&spec, src, dst, 40000, 9, CG_TCP_SYN);
		fc[1].len = cg_frame_build(&spec, fc[1].buf, sizeof(fc[1].buf));
		fc[2].name = "spoofed-source";
		cg_frame_tcp(&spec, "198.19.200.1", dst, 40000, port, CG_TCP_SYN);
		fc[2].len = cg_frame_build(&spec, fc[2].buf, sizeof(fc[2].buf));

		for (i = 0; i < 3; i++) {
			int ifi = if_nametoindex("bench0");
			struct sample e, s;
			struct cg_event ev;

			(void)ev;
			/* Warm up both, then measure the pair. */
			run_once(cg_gate_prog_fd(g), ifi, fc[i].buf, fc[i].len, 1000);
			run_once(bpf_program__fd(empty->progs.empty_pass), ifi,
				 fc[i].buf, fc[i].len, 1000);
			s = measure(cg_gate_prog_fd(g), ifi, fc[i].buf,
				    fc[i].len, repeat);
			e = measure(bpf_program__fd(empty->progs.empty_pass),
				    ifi, fc[i].buf, fc[i].len, repeat);
			if (k == 0)
				base_row[i] = s.median;
			printf("| %u | %s | %.1f | %.1f..%.1f | %.1f | %.2f | %.2f |\n",
			       n, fc[i].name, s.median, s.min, s.max, e.median,
			       s.median / e.median, s.median / base_row[i]);
		}
		cg_gate_free(g);
		cg_compiled_free(c);
		cg_policy_free(p);
		cg_diags_free(&d);
		free(yaml);
	}
	err = 0;
out:
	empty_bpf__destroy(empty);
	return err;
}
