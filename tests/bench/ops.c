// SPDX-License-Identifier: GPL-2.0
/*
 * `cgbench ops` and `cgbench phases`: the control plane: apply and reload
 * by policy size, and where their time goes.
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

#include <yaml.h>
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

/* ------------------------------------------------------------ ops */

static int fill_ops_maps(struct bench_bpf *skel, unsigned n,
			 const struct frame *fr)
{
	const uint8_t *ip = fr->buf + 14, *l4 = fr->buf + 34;
	uint32_t saddr, daddr, one = 1;
	uint16_t sport = (l4[0] << 8) | l4[1], dport = (l4[2] << 8) | l4[3];
	uint64_t val = 1;
	unsigned i;
	int err = 0;

	memcpy(&saddr, ip + 12, 4);
	memcpy(&daddr, ip + 16, 4);
	for (i = 0; i < n && !err; i++) {
		/* The frame's own key is entry 0; the others are neighbours. */
		uint32_t a = htonl(ntohl(saddr) + i);
		struct {
			uint32_t prefixlen;
			uint8_t addr[4];
		} lk = {32};
		/* Class ids are 16-bit in the frame's key, larger in others. */
		struct {
			uint32_t src, dst, port;
			uint8_t proto, pad[3];
		} fk = {i ? 0x10000 + i : saddr & 0xffff, daddr & 0xffff, dport,
			6};
		struct {
			uint8_t a[16], b[16];
			uint16_t aport, bport;
			uint8_t proto, family, pad[2];
		} ck = {.aport = sport,
			.bport = dport,
			.proto = 6,
			.family = 4};

		memcpy(lk.addr, &a, 4);
		memcpy(ck.a, &a, 4);
		memcpy(ck.b, &daddr, 4);
		err = bpf_map__update_elem(skel->maps.hash4, &a, 4, &val, 8,
					   0) ||
		      bpf_map__update_elem(skel->maps.lpm4, &lk, sizeof(lk),
					   &val, 8, 0) ||
		      bpf_map__update_elem(skel->maps.flowhash, &fk, sizeof(fk),
					   &one, 4, 0) ||
		      (i < bpf_map__max_entries(skel->maps.conn) &&
		       bpf_map__update_elem(skel->maps.conn, &ck, sizeof(ck),
					    &val, 8, 0));
	}
	i = dport;
	if (!err)
		err = bpf_map__update_elem(skel->maps.ports, &i, 4, &one, 4, 0);
	return err ? -errno : 0;
}

int cmd_ops(const struct opts *o)
{
	struct bench_bpf *skel = NULL;
	struct empty_bpf *empty = NULL;
	FILE *csv = csv_open(o->csv, "op,entries,median_ns,min_ns,max_ns,"
				     "minus_parse_ns");
	unsigned n = o->n_sizes ? o->sizes[o->n_sizes - 1] : 100000, s, j, p;
	struct frame fr;
	struct bench_flow f;
	int err = 1;

	bench_flow(1, &f);
	tcp_frame(&fr, f.src, f.dst, 50000, f.port, CG_TCP_ACK);
	skel = bench_bpf__open();
	empty = empty_bpf__open_and_load();
	if (!skel || !empty)
		goto out;
	bpf_map__set_max_entries(skel->maps.hash4, n);
	bpf_map__set_max_entries(skel->maps.lpm4, n);
	bpf_map__set_max_entries(skel->maps.flowhash, n);
	bpf_map__set_max_entries(skel->maps.conn, n < 65536 ? n : 65536);
	if (bench_bpf__load(skel) || fill_ops_maps(skel, n, &fr)) {
		fprintf(stderr,
			"cgbench: cannot load or fill the ops programs\n");
		goto out;
	}
	{
		const struct {
			const char *name;
			int fd;
			unsigned entries;
		} ops[] = {
			{"empty XDP_PASS",
			 bpf_program__fd(empty->progs.empty_pass), 0},
			{"parse eth+ipv4+l4",
			 bpf_program__fd(skel->progs.bench_parse), 0},
			{"array lookup (port class)",
			 bpf_program__fd(skel->progs.bench_port_array), 65536},
			{"per-CPU counter add",
			 bpf_program__fd(skel->progs.bench_counter), 16},
			{"hash lookup, 4-byte key (host)",
			 bpf_program__fd(skel->progs.bench_hash4), n},
			{"hash lookup, 16-byte key (flow)",
			 bpf_program__fd(skel->progs.bench_flowhash), n},
			{"LRU hash lookup, 40-byte key (connection)",
			 bpf_program__fd(skel->progs.bench_conn),
			 n < 65536 ? n : 65536},
			{"LRU hash update of an entry (pop + link + free)",
			 bpf_program__fd(skel->progs.bench_conn_insert),
			 n < 65536 ? n : 65536},
			{"LPM trie lookup, /32 among n /32s",
			 bpf_program__fd(skel->progs.bench_lpm4), n},
			{"bpf_jiffies64()",
			 bpf_program__fd(skel->progs.bench_jiffies), 0},
			{"bpf_ktime_get_ns()",
			 bpf_program__fd(skel->progs.bench_ktime), 0},
			{"ring buffer reserve+discard",
			 bpf_program__fd(skel->progs.bench_ringbuf), 0},
		};
		unsigned n_ops = sizeof(ops) / sizeof(ops[0]);
		double v[16][MAX_SAMPLES];
		double parse;

		for (p = 0; p < n_ops; p++)
			run_once(ops[p].fd, ifindex[0], fr.buf, fr.len, 1000,
				 NULL);
		for (s = 0; s < o->samples; s++)
			for (j = 0; j < n_ops; j++) {
				p = (j + s) % n_ops;
				v[p][s] =
					run_once(ops[p].fd, ifindex[0], fr.buf,
						 fr.len, o->repeat, NULL);
			}
		parse = stat3(v[1], o->samples).median;
		for (p = 0; p < n_ops; p++) {
			struct stat3 st = stat3(v[p], o->samples);

			fprintf(stderr, "  %-44s %7.1f ns (%.1f..%.1f)\n",
				ops[p].name, st.median, st.min, st.max);
			if (csv)
				fprintf(csv, "\"%s\",%u,%.1f,%.1f,%.1f,%.1f\n",
					ops[p].name, ops[p].entries, st.median,
					st.min, st.max,
					p < 2 ? 0 : st.median - parse);
		}
	}
	{
		/*
		 * Single runs (repeat = 1) on distinct frames, as the first
		 * packets of `cost` are timed: the timer's own cost and cold
		 * caches are in every figure, and an insert of a new
		 * connection can be timed at all.
		 */
		const struct {
			const char *name;
			int fd;
		} ops[] = {
			{"single run: empty XDP_PASS",
			 bpf_program__fd(empty->progs.empty_pass)},
			{"single run: parse eth+ipv4+l4",
			 bpf_program__fd(skel->progs.bench_parse)},
			{"single run: LRU hash lookup, 40-byte key",
			 bpf_program__fd(skel->progs.bench_conn)},
			{"single run: LRU hash insert, new 40-byte key",
			 bpf_program__fd(skel->progs.bench_conn_insert)},
		};
		unsigned n_ops = sizeof(ops) / sizeof(ops[0]), k = 0;
		unsigned kk = o->first < MAX_FIRST ? o->first : MAX_FIRST;
		double v[4][MAX_SAMPLES], d[4][MAX_FIRST], parse;

		for (s = 0; s < o->samples; s++) {
			for (j = 0; j < kk; j++, k++) {
				tcp_frame(&fr, f.src, f.dst, 1024 + k, f.port,
					  CG_TCP_SYN);
				for (p = 0; p < n_ops; p++) {
					unsigned q = (p + j) % n_ops;

					d[q][j] = run_once(ops[q].fd,
							   ifindex[0], fr.buf,
							   fr.len, 1, NULL);
				}
			}
			for (p = 0; p < n_ops; p++)
				v[p][s] = median(d[p], kk);
		}
		parse = stat3(v[1], o->samples).median;
		for (p = 0; p < n_ops; p++) {
			struct stat3 st = stat3(v[p], o->samples);

			fprintf(stderr, "  %-44s %7.1f ns (%.1f..%.1f)\n",
				ops[p].name, st.median, st.min, st.max);
			if (csv)
				fprintf(csv, "\"%s\",%u,%.1f,%.1f,%.1f,%.1f\n",
					ops[p].name, p < 2 ? 0 : 65536,
					st.median, st.min, st.max,
					p < 2 ? 0 : st.median - parse);
		}
	}
	err = 0;
out:
	if (csv)
		fclose(csv);
	bench_bpf__destroy(skel);
	empty_bpf__destroy(empty);
	return err;
}

/* ------------------------------------------------------------ phases */

/*
 * libyaml's own event parse of a text, every event taken and deleted: the
 * floor under cg_policy_parse(), which is libyaml's events plus the tree
 * and the checks. Returns the seconds, or -1.
 */
static double libyaml_events(const char *yaml, size_t len)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	double t0 = bench_now();
	int done = 0, ok = 1;

	if (!yaml_parser_initialize(&parser))
		return -1;
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
	while (!done && ok) {
		ok = yaml_parser_parse(&parser, &ev);
		if (ok) {
			done = ev.type == YAML_STREAM_END_EVENT;
			yaml_event_delete(&ev);
		}
	}
	yaml_parser_delete(&parser);
	return ok ? bench_now() - t0 : -1;
}

int cmd_phases(const struct opts *o)
{
	FILE *csv = csv_open(o->csv, "flows,phase,median_s,min_s,max_s");
	unsigned i, s, ph;
	int err = 0;

	for (i = 0; i < o->n_sizes && !err; i++) {
		struct bench_rules r = {.n = o->sizes[i],
					.proto = o->proto,
					.ifaces = {"bench0", "bench1"},
					.name = "bench"};
		double t[5][MAX_SAMPLES];
		static const char *const names[5] = {"parse", "compile", "load",
						     "total", "libyaml"};

		for (s = 0; s < o->samples && !err; s++) {
			struct cg_diags d = {.file = "bench.yaml"};
			struct cg_gate_opts go = {.verbose = o->verbose};
			struct cg_policy *p = NULL;
			struct cg_compiled *c = NULL;
			struct cg_gate *g = NULL;
			size_t len;
			char *yaml = bench_policy_yaml(&r, &len);
			double t0, t1, t2, t3;

			t0 = bench_now();
			err = !yaml ||
			      cg_policy_parse("bench.yaml", yaml, len, &p, &d);
			t1 = bench_now();
			if (!err)
				err = cg_compile(p, &c, &d);
			t2 = bench_now();
			if (!err)
				err = cg_gate_load(c, &go, &g);
			t3 = bench_now();
			if (err) {
				cg_diags_print(&d, stderr);
				fprintf(stderr,
					"cgbench: policy of %u flows failed\n",
					r.n);
			}
			t[0][s] = t1 - t0;
			t[1][s] = t2 - t1;
			t[2][s] = t3 - t2;
			t[3][s] = t3 - t0;
			t[4][s] = yaml ? libyaml_events(yaml, len) : -1;
			cg_gate_free(g);
			cg_compiled_free(c);
			cg_policy_free(p);
			cg_diags_free(&d);
			free(yaml);
		}
		for (ph = 0; ph < 5 && !err; ph++) {
			struct stat3 st = stat3(t[ph], o->samples);

			fprintf(stderr,
				"  %6u flows %-8s %.3f s (%.3f..%.3f)\n", r.n,
				names[ph], st.median, st.min, st.max);
			if (csv)
				fprintf(csv, "%u,%s,%.4f,%.4f,%.4f\n", r.n,
					names[ph], st.median, st.min, st.max);
		}
	}
	if (csv)
		fclose(csv);
	return err ? 1 : 0;
}
