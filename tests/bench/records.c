// SPDX-License-Identifier: GPL-2.0
/*
 * cgbench records: connection records per second through run's sweep
 * (user/ops/records.c, the code `run` calls once a second). A gate with
 * pinned state maps under a private pin root; N UDP connections opened by
 * test runs (one datagram each, distinct source ports); then
 *
 *   sweep 1: every entry new: tracked, no record (the table read);
 *   sweep 2: after the UDP timeout (1 s): N "idle" records written, as
 *            JSON lines to /dev/null, and with --ipfix also as IPFIX to a
 *            UDP socket on 127.0.0.1 that nobody reads;
 *   sweep 3: nothing left to report (the steady cost of a quiet table).
 *
 * Prints and writes (CSV) the seconds of each sweep and records/s.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include <bpf/bpf.h>

#include "bench.h"
#include "compile.h"
#include "frames.h"
#include "gate.h"
#include "loader.h"
#include "records.h"

static const char *rec_policy =
	"version: 1\nname: bench-records\n"
	"limits: {connections: 200000, udp_timeout: 1}\n"
	"zones:\n"
	"  business: {interfaces: [bench0], networks: [198.18.0.0/16]}\n"
	"  crane: {interfaces: [bench1], networks: [198.19.0.0/16]}\n"
	"flows:\n"
	"  - {name: udp, from: business, to: crane, proto: udp}\n";

static int one_run(struct cg_records *rec, FILE *devnull, double *secs)
{
	double t0 = bench_now();
	int n = cg_records_sweep(rec, devnull);

	*secs = bench_now() - t0;
	return n;
}

int bench_records(unsigned n_conns, const char *csv_path, bool verbose)
{
	static const char *const modes[] = {"json", "json+ipfix"};
	struct cg_diags d = {.file = "bench-records.yaml"};
	struct cg_policy *p = NULL;
	struct cg_compiled *c = NULL;
	struct cg_gate *g = NULL;
	char pin[64], path[128];
	FILE *devnull = fopen("/dev/null", "w"), *csv = NULL;
	int err, ifi = if_nametoindex("bench0"), m, sink = -1;
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	char ipfix[64];
	unsigned i;

	snprintf(pin, sizeof(pin), "/sys/fs/bpf/cgbench-rec-%d", (int)getpid());
	struct cg_env env = {.pin_root = pin};
	struct cg_gate_opts go = {.pin_root = pin, .verbose = verbose};

	/* The sandbox's own loopback, for the collector. */
	if (system("ip link set lo up"))
		return -ENETDOWN;
	/* A collector that never reads: the socket buffer takes what fits. */
	sink = socket(AF_INET, SOCK_DGRAM, 0);
	if (sink < 0 || bind(sink, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockname(sink, (struct sockaddr *)&sa, &sl))
		return -errno;
	snprintf(ipfix, sizeof(ipfix), "127.0.0.1:%u", ntohs(sa.sin_port));
	if (mkdir(pin, 0700) && errno != EEXIST)
		return -errno;
	err = cg_policy_parse("bench-records.yaml", rec_policy,
			      strlen(rec_policy), &p, &d);
	if (!err)
		err = cg_compile(p, &c, &d);
	if (!err)
		err = cg_gate_load(c, &go, &g);
	cg_diags_free(&d);
	if (err)
		goto out;
	if (csv_path)
		csv = fopen(csv_path, "w");
	if (csv)
		fprintf(csv, "mode,connections,sweep_new_s,sweep_records_s,"
			     "records,records_per_s,sweep_quiet_s\n");
	for (m = 0; m < 2; m++) {
		struct cg_records *rec = NULL;
		double s1, s2, s3;
		int n;

		/* N connections: 198.18.a.b:sport -> 198.19.0.1:9. */
		for (i = 0; i < n_conns; i++) {
			struct cg_frame_spec s;
			uint8_t buf[128];
			struct cg_event ev;
			char src[32];
			size_t len;
			int action;

			/* up to 32768 sources, one port each per mode */
			snprintf(src, sizeof(src), "198.18.%u.%u",
				 (i >> 7) & 255, 1 + (i & 127));
			cg_frame_udp(&s, src, "198.19.0.1", 1024 + m, 9);
			len = cg_frame_build(&s, buf, sizeof(buf));
			cg_frame_station_mac(buf, len);
			cg_gate_test_run(g, ifi, buf, len, &ev, &action);
		}
		if ((err = cg_records_open(&env, m ? ipfix : NULL, &rec)))
			goto out;
		cg_records_limits(rec, &p->limits);
		one_run(rec, devnull, &s1);
		sleep(2); /* past the UDP timeout (1 s) */
		n = one_run(rec, devnull, &s2);
		one_run(rec, devnull, &s3);
		cg_records_close(rec);
		printf("  records %-11s %7u connections: first sweep %.3f s, "
		       "%d records in %.3f s = %.0f records/s, quiet sweep "
		       "%.3f s\n",
		       modes[m], n_conns, s1, n, s2, n / s2, s3);
		if (csv)
			fprintf(csv, "%s,%u,%.6f,%.6f,%d,%.0f,%.6f\n", modes[m],
				n_conns, s1, s2, n, n / s2, s3);
	}
out:
	if (csv)
		fclose(csv);
	if (devnull)
		fclose(devnull);
	if (sink >= 0)
		close(sink);
	cg_gate_free(g);
	cg_compiled_free(c);
	cg_policy_free(p);
	for (i = 0; i < cg_n_state_maps; i++) {
		snprintf(path, sizeof(path), "%s/%s", pin, cg_state_maps[i]);
		unlink(path);
	}
	rmdir(pin);
	if (err)
		fprintf(stderr, "cgbench records: %s\n", strerror(-err));
	return err ? 1 : 0;
}
