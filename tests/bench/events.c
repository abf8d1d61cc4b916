// SPDX-License-Identifier: GPL-2.0
/*
 * cgbench events: what events and per-interface counters cost the data
 * plane, in ns per frame through BPF_PROG_TEST_RUN, each figure beside the
 * same frame through a variant of the gate without the feature:
 *
 *   - the established fast path with and without per-interface counters,
 *     and with and without counting on the connection entry (records);
 *   - a dropped (no-rule) frame whose event is: off (events_per_second:
 *     0), suppressed by its source's limit, suppressed by the reason's
 *     ceiling (no per-source limit), emitted into a ring buffer that is
 *     drained between samples, or lost to a full ring buffer;
 *   - a dropped frame from a new source every time (an LRU insert), next
 *     to the same source every time, both as single runs.
 *
 * cgbench drive: frames into the pinned live program with test runs, as
 * if they arrived on IFACE, at a paced rate (0: as fast as it goes), for
 * the events pipeline benchmark (tests/bench/events.sh); prints the frames
 * run and the seconds taken.
 */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_link.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench.h"
#include "compile.h"
#include "empty.skel.h"
#include "frames.h"
#include "gate.h"

#define EV_FLOWS 1000
#define EV_MAX_SAMPLES 31
#define EV_DISTINCT 300 /* single runs per sample, new-source cases */

struct ev_frame {
	uint8_t buf[128];
	size_t len;
};

/* ns per run of `repeat` runs, or -1 (see cgbench.c on the method). */
static double ev_run(int fd, int ifi, const struct ev_frame *fr,
		     unsigned repeat)
{
	struct xdp_md ctx = {.data_end = fr->len, .ingress_ifindex = ifi};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = fr->buf,
		    .data_size_in = fr->len, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = repeat);

	if (bpf_prog_test_run_opts(fd, &o))
		return -1;
	return o.duration;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void ev_tcp(struct ev_frame *fr, const uint8_t src[4],
		   const uint8_t dst[4], uint16_t sport, uint16_t dport,
		   uint8_t flags)
{
	struct cg_frame_spec s;
	char a[16], b[16];

	bench_addr_str(src, a, sizeof(a));
	bench_addr_str(dst, b, sizeof(b));
	cg_frame_tcp(&s, a, b, sport, dport, flags);
	s.src_mac[0] = 0x02;
	memcpy(&s.src_mac[2], src, 4);
	fr->len = cg_frame_build(&s, fr->buf, sizeof(fr->buf));
}

/* The gate variants compared. */
enum {
	G_DEFAULT, /* default limits, interface counters */
	G_NO_IFACE,
	G_OFF, /* events_per_second: 0 */
	G_OFF_NO_IFACE,
	G_CEILING,  /* event_sources: 0: the per-reason ceiling only */
	G_HIGH,	    /* every event emitted */
	G_NO_COUNT, /* no counting on connection entries */
	G_SPENT,    /* a ceiling of 1 event/s: spent, every event suppressed */
	G_N
};

static const struct {
	const char *name;
	const char *limits;
	bool no_iface;
	bool no_count;
} variants[G_N] = {
	[G_DEFAULT] = {"default", "", false},
	[G_NO_IFACE] = {"no-iface-counters", "", true},
	[G_OFF] = {"events-off", "limits: {events_per_second: 0}\n", false},
	[G_OFF_NO_IFACE] = {"events-off-no-iface-counters",
			    "limits: {events_per_second: 0}\n", true},
	[G_CEILING] = {"ceiling-only", "limits: {event_sources: 0}\n", false},
	[G_HIGH] = {"events-unlimited",
		    "limits: {events_per_second: 1000000, events_burst: "
		    "1000000, source_events_per_second: 1000000, "
		    "source_events_burst: 1000000}\n",
		    false},
	[G_NO_COUNT] = {"no-conn-count", "", false, true},
	[G_SPENT] = {"ceiling-spent",
		     "limits: {events_per_second: 1, events_burst: 1}\n",
		     false},
};

struct variant {
	struct cg_policy *p;
	struct cg_compiled *c;
	struct cg_gate *g;
};

static int variant_load(int v, struct variant *out, bool verbose)
{
	struct bench_rules r = {.n = EV_FLOWS,
				.proto = "tcp",
				.ifaces = {"bench0", "bench1"},
				.name = "bench-events"};
	struct cg_diags d = {.file = "bench-events.yaml"};
	struct cg_gate_opts go = {.verbose = verbose,
				  .no_iface_stats = variants[v].no_iface,
				  .no_conn_count = variants[v].no_count};
	size_t len = 0, n;
	char *yaml = bench_policy_yaml(&r, &len), *text;
	int err;

	memset(out, 0, sizeof(*out));
	if (!yaml)
		return -ENOMEM;
	n = len + strlen(variants[v].limits) + 2;
	text = malloc(n);
	if (!text) {
		free(yaml);
		return -ENOMEM;
	}
	/* `limits:` is a top-level key: append it after the flows. */
	snprintf(text, n, "%s\n%s", yaml, variants[v].limits);
	free(yaml);
	err = cg_policy_parse("bench-events.yaml", text, strlen(text), &out->p,
			      &d);
	if (!err)
		err = cg_compile(out->p, &out->c, &d);
	if (!err)
		err = cg_gate_load(out->c, &go, &out->g);
	if (err && d.n)
		fprintf(stderr, "cgbench: %s: %s\n", variants[v].name,
			d.items[0].msg);
	cg_diags_free(&d);
	free(text);
	return err;
}

static void variant_free(struct variant *v)
{
	cg_gate_free(v->g);
	cg_compiled_free(v->c);
	cg_policy_free(v->p);
}

static int count_event(void *ctx, void *data, size_t size)
{
	(*(unsigned long long *)ctx)++;
	return 0;
}

struct ev_case {
	const char *name;
	int variant; /* -1: the empty program */
	int frame;   /* F_* */
	int drain;   /* 1: drain the ring buffer before each sample, 2: fill it
			first */
	int distinct; /* 1: a new source address and MAC every frame; 2: a new
			 source address, the same MAC */
	const char *what;
};

enum { F_ESTABLISHED, F_NO_RULE };

static const struct ev_case cases[] = {
	{"established", G_DEFAULT, F_ESTABLISHED, 0, false,
	 "fast path, with per-interface counters"},
	{"established", G_NO_IFACE, F_ESTABLISHED, 0, false,
	 "fast path, without per-interface counters"},
	{"established", G_NO_COUNT, F_ESTABLISHED, 0, false,
	 "fast path, without counting on the connection entry (records)"},
	{"established", -1, F_ESTABLISHED, 0, false, "empty XDP program"},
	{"drop", G_OFF_NO_IFACE, F_NO_RULE, 0, false,
	 "no-rule drop, events off, no per-interface counters"},
	{"drop", G_OFF, F_NO_RULE, 0, false,
	 "no-rule drop, events off (counted as suppressed)"},
	{"drop", G_DEFAULT, F_NO_RULE, 0, false,
	 "no-rule drop, event suppressed by its source's limit"},
	{"drop", G_CEILING, F_NO_RULE, 0, false,
	 "no-rule drop, event suppressed by the reason's ceiling"},
	{"drop", G_HIGH, F_NO_RULE, 1, false,
	 "no-rule drop, event emitted (ring buffer drained between samples)"},
	{"drop-ring-full", G_HIGH, F_NO_RULE, 2, false,
	 "no-rule drop, event lost (ring buffer full)"},
	{"drop-single", G_DEFAULT, F_NO_RULE, 0, false,
	 "no-rule drop, same source, single runs"},
	{"drop-single-new-source", G_DEFAULT, F_NO_RULE, 0, 1,
	 "no-rule drop, a new source (address and MAC: the MAC table learns "
	 "it) every frame, single runs"},
	{"drop-single", G_SPENT, F_NO_RULE, 0, 0,
	 "no-rule drop, same source, ceiling spent, single runs"},
	{"drop-single-new-source", G_SPENT, F_NO_RULE, 0, 2,
	 "no-rule drop, a new source address every frame (same MAC), its "
	 "event past the per-source limit and suppressed by the spent "
	 "ceiling, single runs"},
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

int bench_events(unsigned repeat, unsigned samples, const char *csv_path,
		 bool verbose)
{
	struct variant vs[G_N] = {};
	struct empty_bpf *empty = NULL;
	struct ev_frame est, syn, drop, d1;
	struct bench_flow f;
	unsigned i, s, j, drain_repeat;
	int ifi = if_nametoindex("bench0"), v, err = 0;
	double val[N_CASES][EV_MAX_SAMPLES];
	FILE *csv = NULL;

	if (samples > EV_MAX_SAMPLES)
		samples = EV_MAX_SAMPLES;
	/* An event is ~230 bytes in a 1 MiB ring buffer: keep a drained
	 * sample within what fits. */
	drain_repeat = repeat < 3000 ? repeat : 3000;
	for (v = 0; v < G_N; v++) {
		double t0 = bench_now();

		if ((err = variant_load(v, &vs[v], verbose))) {
			fprintf(stderr, "cgbench: loading %s failed: %s\n",
				variants[v].name, strerror(-err));
			goto out;
		}
		fprintf(stderr, "# %s loaded in %.2f s\n", variants[v].name,
			bench_now() - t0);
	}
	empty = empty_bpf__open_and_load();
	if (!empty) {
		err = -errno;
		goto out;
	}
	bench_flow(EV_FLOWS / 2, &f);
	ev_tcp(&syn, f.src, f.dst, 50000, f.port, CG_TCP_SYN);
	ev_tcp(&est, f.src, f.dst, 50000, f.port, CG_TCP_ACK);
	ev_tcp(&drop, f.src, f.dst, 50002, 9, CG_TCP_SYN);
	/* Open the connection, and use up the burst of the drop frame's
	 * source and reason, in every variant. */
	for (v = 0; v < G_N; v++) {
		int fd = cg_gate_prog_fd(vs[v].g);

		ev_run(fd, ifi, &syn, 1);
		ev_run(fd, ifi, &drop, 1000);
		ev_run(fd, ifi, &drop, 1); /* and the ceiling's (G_SPENT) */
	}

	/* The cases run in turn within each sample, in an order that
	 * rotates, so that none is always the first after a ring buffer
	 * drain or a program switch. */
	for (s = 0; s < samples; s++) {
		for (j = 0; j < N_CASES; j++) {
			const struct ev_case *c;

			i = (j + s) % N_CASES;
			c = &cases[i];
			const struct ev_frame *fr =
				c->frame == F_ESTABLISHED ? &est : &drop;
			int fd = c->variant < 0
					 ? bpf_program__fd(
						   empty->progs.empty_pass)
					 : cg_gate_prog_fd(vs[c->variant].g);
			unsigned long long n = 0;

			if (c->drain) {
				struct ring_buffer *rb = ring_buffer__new(
					cg_gate_map_fd(vs[c->variant].g,
						       "events"),
					count_event, &n, NULL);

				if (!rb) {
					err = -errno;
					goto out;
				}
				ring_buffer__consume(rb);
				ring_buffer__free(rb);
				if (c->drain == 2) /* fill it */
					ev_run(fd, ifi, fr, 10000);
			}
			if (!strncmp(c->name, "drop-single", 11)) {
				double d[EV_DISTINCT];
				unsigned m;

				for (m = 0; m < EV_DISTINCT; m++) {
					uint8_t src[4];

					memcpy(src, f.src, 4);
					if (c->distinct) {
						/* 198.18.x.y, fresh per
						 * sample and frame */
						unsigned k =
							s * EV_DISTINCT + m + 1;

						src[2] = 100 + (k >> 8) % 100;
						src[3] = k & 0xff;
					}
					ev_tcp(&d1, src, f.dst, 50002, 9,
					       CG_TCP_SYN);
					/* The station's MAC (bytes 6-11). */
					if (c->distinct == 2)
						memcpy(d1.buf + 6, drop.buf + 6,
						       6);
					d[m] = ev_run(fd, ifi, &d1, 1);
				}
				qsort(d, EV_DISTINCT, sizeof(d[0]), cmp_d);
				val[i][s] = d[EV_DISTINCT / 2];
				continue;
			}
			val[i][s] =
				ev_run(fd, ifi, fr,
				       c->drain == 1 ? drain_repeat : repeat);
			if (val[i][s] < 0) {
				err = -errno;
				goto out;
			}
		}
	}

	if (csv_path) {
		csv = fopen(csv_path, "w");
		if (!csv) {
			err = -errno;
			goto out;
		}
		fprintf(csv,
			"case,system,median_ns,min_ns,max_ns,method,what\n");
	}
	for (i = 0; i < N_CASES; i++) {
		const struct ev_case *c = &cases[i];
		double sorted[EV_MAX_SAMPLES];
		char method[64];

		memcpy(sorted, val[i], samples * sizeof(double));
		qsort(sorted, samples, sizeof(double), cmp_d);
		if (!strncmp(c->name, "drop-single", 11))
			snprintf(method, sizeof(method),
				 "%ux%u distinct (repeat 1)", samples,
				 EV_DISTINCT);
		else
			snprintf(method, sizeof(method), "%ux%u", samples,
				 c->drain == 1 ? drain_repeat : repeat);
		fprintf(stderr, "  %-12s %-30s %8.1f ns (%.1f..%.1f)  %s\n",
			c->name,
			c->variant < 0 ? "empty" : variants[c->variant].name,
			sorted[samples / 2], sorted[0], sorted[samples - 1],
			c->what);
		if (csv)
			fprintf(csv, "%s,%s,%.1f,%.1f,%.1f,%s,\"%s\"\n",
				c->name,
				c->variant < 0 ? "empty"
					       : variants[c->variant].name,
				sorted[samples / 2], sorted[0],
				sorted[samples - 1], method, c->what);
	}
	/* The events really were what the cases say. */
	{
		struct cg_event_counter ec;

		cg_gate_event_count(vs[G_HIGH].g, CG_R_NO_RULE, &ec);
		fprintf(stderr,
			"# events-unlimited: %llu emitted, %llu lost, %llu "
			"suppressed\n",
			(unsigned long long)ec.emitted,
			(unsigned long long)ec.lost,
			(unsigned long long)ec.suppressed);
		cg_gate_event_count(vs[G_DEFAULT].g, CG_R_NO_RULE, &ec);
		fprintf(stderr,
			"# default: %llu emitted, %llu suppressed (%llu by "
			"source)\n",
			(unsigned long long)ec.emitted,
			(unsigned long long)ec.suppressed,
			(unsigned long long)ec.suppressed_source);
	}
out:
	if (csv)
		fclose(csv);
	empty_bpf__destroy(empty);
	for (v = 0; v < G_N; v++)
		variant_free(&vs[v]);
	return err ? 1 : 0;
}

/*
 * Frames into the live program: `rate` frames per second in 1 ms steps
 * (0: test runs of EV_DRIVE_MAX back to back), for `secs` seconds. The
 * frame is a UDP datagram from src to dst port 9. Each test run of an
 * XDP program swaps it into the kernel's XDP dispatcher and out again
 * (text poke, a wait for RCU: milliseconds here, `perf record` on the
 * driver), so a test run carries up to EV_DRIVE_MAX frames: with 256 a
 * run, flat out reached ~10,000 frames/s, with 4,096 ~165,000.
 */
#define EV_DRIVE_MAX 65536
int bench_drive(const char *pin_root, const char *iface, const char *src,
		const char *dst, double secs, unsigned rate)
{
	char path[PATH_MAX];
	struct cg_frame_spec s;
	struct ev_frame fr;
	unsigned long long sent = 0;
	int fd, ifi = if_nametoindex(iface);
	double t0, now, end;

	snprintf(path, sizeof(path), "%s/prog", pin_root);
	fd = bpf_obj_get(path);
	if (fd < 0 || !ifi) {
		fprintf(stderr, "cgbench: no program at %s or no %s\n", path,
			iface);
		return 1;
	}
	cg_frame_udp(&s, src, dst, 40000, 9);
	s.src_mac[0] = 0x02;
	s.src_mac[5] = 0x01;
	fr.len = cg_frame_build(&s, fr.buf, sizeof(fr.buf));
	t0 = bench_now();
	end = t0 + secs;
	while ((now = bench_now()) < end) {
		unsigned n = EV_DRIVE_MAX;

		if (rate) {
			double due = (now - t0) * rate - sent;

			if (due < 1) {
				usleep(1000);
				continue;
			}
			n = due > EV_DRIVE_MAX ? EV_DRIVE_MAX : (unsigned)due;
		}
		if (ev_run(fd, ifi, &fr, n) < 0) {
			fprintf(stderr, "cgbench: test run failed: %s\n",
				strerror(errno));
			close(fd);
			return 1;
		}
		sent += n;
	}
	printf("%llu %.3f\n", sent, bench_now() - t0);
	close(fd);
	return 0;
}
